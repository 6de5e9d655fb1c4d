#!/usr/bin/env bash
# bench/ledger-load.sh: the time to load one partition's dedup ledger of N ids (issue 12,
# item 7).
#
# usage: bench/ledger-load.sh [IDS [ROUNDS]]     (defaults 1000000 and 5)
#
# Needs the stack and a build (JC_BUILD, default build/ of the checkout; JICENG_STATE as for the
# tests). Makes a scratch database as the integration tests do (tests/integration/aggregate/
# lib.sh: `stack db-create`, migrated by the migration role; removed at the end, whatever
# happens) and runs BUILD/bench/bench-ledger-load on it as the aggregator's role (TLS,
# verify-full): it writes a synthetic ledger of IDS ids for one partition and prints the time
# of jc_sink_load_ledger and of the loader thread's round trip, each round and the median.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export JC_BUILD=${JC_BUILD:-$HERE/../build}
export JICENG_STATE=${JICENG_STATE:-$HERE/../.jiceng}
ids=${1:-1000000} rounds=${2:-5}
# shellcheck source=../tests/integration/aggregate/lib.sh
source "$HERE/../tests/integration/aggregate/lib.sh"
it_init ledger-bench >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$JC_BUILD/bench/bench-ledger-load" "$CONNINFO" "$ids" "$rounds"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
