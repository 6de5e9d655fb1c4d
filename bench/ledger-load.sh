#!/usr/bin/env bash
# bench/ledger-load.sh: the time to load one partition's dedup ledger of N ids (issue 12,
# item 7).
#
# usage: bench/ledger-load.sh [IDS [ROUNDS [FORMAT]]]     (defaults 1000000, 5 and 2)
#
# Needs the stack and a build (JC_BUILD, default build/ of the checkout; JICENG_STATE as for the
# tests). Makes a scratch database as the integration tests do (tests/integration/aggregate/
# lib.sh: `stack db-create`, migrated by the migration role; removed at the end, whatever
# happens) and runs BUILD/bench/bench-ledger-load on it as the aggregator's role (TLS,
# verify-full): it writes a synthetic ledger of IDS ids for one partition (FORMAT 2: each id with
# a typical visit's record, as since migration 010; 1: the 20-byte entries of before) and prints
# the time of jc_sink_load_ledger and of the loader thread's round trip, each round and the
# median, and the set's bytes per id.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export JC_BUILD=${JC_BUILD:-$HERE/../build}
export JICENG_STATE=${JICENG_STATE:-$HERE/../.jiceng}
ids=${1:-1000000} rounds=${2:-5} format=${3:-2}
# shellcheck source=../tests/integration/aggregate/lib.sh
source "$HERE/../tests/integration/aggregate/lib.sh"
it_init ledger-bench >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# the sink names the ledger unqualified: generation 1's, schema jiceng (jiceng/generation.h)
PGOPTIONS="-c search_path=jiceng" "$JC_BUILD/bench/bench-ledger-load" "$CONNINFO" "$ids" "$rounds" "$format"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
