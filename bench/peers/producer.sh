#!/usr/bin/env bash
# bench/peers/producer.sh: jiceng-produce against a hand-written Python producer on the same
# events (issue 14, item 5; target: jiceng-produce at least 5x).
#
# usage: bench/peers/producer.sh [EVENTS]     (default 1000000)
#
# jiceng-gen writes EVENTS lines of every kind without malformed records (--malformed-rate 0:
# both sides must send every line). Then JC_RUNS rounds (default 3) alternate:
#   A  jiceng-produce (parse, validate, encode, sign, produce, wait for every report);
#   B  bench/peers/producer.py send (json.loads, fastavro with the newest schema, Confluent
#      framing, HMAC signature headers written from docs/signing.md, confluent-kafka in one
#      thread with jiceng-produce's producer settings for a file, linger.ms 50 included
#      (lib/ingest.c), wait for every report);
# both as the load generator (TLS, its certificate) with its signing keys
# (tests/support/signing-keys keyring), each run into fresh topics under its own prefix (12
# partitions, jiceng-topics as the administrator, `stack grant-prefix`), deleted after the
# run. Events/s = lines / the process's wall time (start-up included on both sides); its CPU
# seconds (user + system) and peak RSS are printed too. After each run the topics must hold
# exactly the file's lines per topic (high minus low watermark), and jiceng-aggregate
# --until-caught-up, reading them into a fresh database (migrated, the keys registered before
# anything is produced), must reject nothing and arrive at the generator's ground truth
# (tests/integration/aggregate/expect-truth): so the hand-written producer's framing and
# signatures are checked by the aggregator itself. OK or DIFF. One untimed
# warm-up of 1,000 events per side goes first (a broker answers its first idempotent producer
# late). The summary gives each side's runs, median and spread, and the ratio of the medians
# A / B with the target.
#
# environment: JC_BUILD (default build/ of the checkout), JICENG_STATE (default .jiceng/),
# JC_RUNS (rounds, default 3)
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/compare.sh
source "$SRC/bench/compare.sh"
BENCH_NAME=bench/peers/producer.sh
# shellcheck source=bench/stack.sh
source "$SRC/bench/stack.sh"
[[ -n ${JICENG_ACCESS:-} || ! -x $JC_BUILD/tools/access/jiceng-access ]] \
    || export JICENG_ACCESS=$JC_BUILD/tools/access/jiceng-access
PY=$JICENG_VENV/bin/python
PEER=$SRC/bench/peers/producer.py
bench_need producers/gen/jiceng-gen producers/jiceng-topics producers/jiceng-produce consumers/jiceng-aggregate
EVENTS=${1:-1000000}
[[ $EVENTS =~ ^[1-9][0-9]*$ && $# -le 1 ]] || { echo "usage: bench/peers/producer.sh [EVENTS]" >&2; exit 2; }
RUNS=${JC_RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "producer.sh: JC_RUNS is not a positive number: $RUNS" >&2; exit 2; }

PREFIX="" W="" CMD=() DBS=()
drop_prefix() {
    [[ -n $PREFIX ]] || return 0
    "$PY" "$SRC/tests/integration/aggregate/kafka_tool.py" delete-prefix "$PREFIX" >/dev/null 2>&1 \
        || echo "producer.sh: could not delete the topics $PREFIX*" >&2
    "$STACK" revoke-prefix "$PREFIX" >/dev/null 2>&1 || echo "producer.sh: could not revoke the ACLs on $PREFIX*" >&2
    PREFIX=""
}
drop_databases() {
    local db
    for db in "${DBS[@]}"; do "$STACK" db-drop "$db" >/dev/null 2>&1 || true; done
    DBS=()
}
trap 'rc=$?; drop_prefix; drop_databases; [[ -z $W ]] || rm -rf "$W"; exit $rc' EXIT
trap 'exit 130' INT TERM

W=$(mktemp -d /tmp/bench-peers-producer.XXXXXX)
KEYRING=$("$SRC/tests/support/signing-keys" keyring)

# new_prefix: fresh topics with the role ACLs under $PREFIX
new_prefix() {
    PREFIX="bench-peers-produce-$$-$(date +%s%N)."
    "$JC_BUILD/producers/jiceng-topics" --config "$JICENG_ADMIN_CONFIG" --topic-prefix "$PREFIX" \
        --partitions 12 create >/dev/null || return 1
    "$STACK" grant-prefix "$PREFIX" >"$W/grant.log" 2>&1 || { cat "$W/grant.log" >&2; return 1; }
}

# verify DB: jiceng-aggregate reads the topics under $PREFIX into DB; nothing rejected, and
# every aggregate table equals the ground truth
verify() {
    local conninfo rc=0
    conninfo=$(db_uri "$JICENG_PG_CONNINFO" "$1")
    "$JC_BUILD/consumers/jiceng-aggregate" --config "$JICENG_AGGREGATE_CONFIG" --topic-prefix "$PREFIX" \
        --conninfo "$conninfo" --group "jiceng-aggregate-bench-peers-$$-$RANDOM" --until-caught-up \
        2>"$W/aggregate.log" || { echo "   jiceng-aggregate failed: $(tail -2 "$W/aggregate.log")"; return 1; }
    echo "   aggregated: $(grep -Eo 'consumed [0-9]+.*' "$W/aggregate.log" | tail -1)"
    "$SRC/tests/integration/aggregate/expect-truth" "$conninfo" "$W/gen" "$W" | sed 's/^/  /' || rc=1
    "$STACK" db-drop "$1" >/dev/null 2>&1 || true
    return $rc
}

# side LABEL FILE: sets CMD, the side's producer on FILE into the topics under $PREFIX
side() {
    if [[ $1 == A ]]; then
        CMD=("$JC_BUILD/producers/jiceng-produce" --config "$JICENG_PRODUCE_CONFIG" --signing-keys "$KEYRING"
             --topic-prefix "$PREFIX" --rejects "$W/rejects" "$2")
    else
        CMD=("$PY" "$PEER" send "$JICENG_CLIENTS/loadgen.json" "$KEYRING" "$PREFIX" "$2")
    fi
}

# one_run LABEL ROUND: a timed run on fresh topics, its figures kept, its topics counted and
# aggregated into the round's database
one_run() {
    local label=$1 rc=0 wall cpu rss rate
    new_prefix || return 1
    echo "-- run of $label ($(cut -d' ' -f1-3 /proc/loadavg) load average)"
    side "$label" "$W/gen/events.ndjson"
    /usr/bin/time -f '%e %U %S %M' -o "$W/time" "${CMD[@]}" >"$W/out" 2>&1 || rc=$?
    ((rc == 0)) || { echo "   failed (exit $rc): $(tail -3 "$W/out")"; drop_prefix; return 1; }
    read -r wall cpu rss <<<"$(awk '{ print $1, $2 + $3, $4 }' "$W/time")"
    rate=$(awk -v n="$LINES" -v t="$wall" 'BEGIN { printf "%.0f", n / t }')
    echo "   $(tail -1 "$W/out")"
    echo "   $LINES events in $wall s: $rate events/s; CPU $cpu s; peak RSS $((rss / 1024)) MiB"
    echo "$rate" >>"$W/rate.$label"
    echo "$cpu" >>"$W/cpu.$label"
    echo "$((rss / 1024))" >>"$W/rss.$label"
    "$PY" "$PEER" count "$JICENG_CLIENTS/admin.json" "$PREFIX" >"$W/count"
    if cmp -s "$W/expect" "$W/count"; then echo "   topics hold every event once: OK"
    else echo "   topics: DIFF (expected | held):"; paste "$W/expect" "$W/count" | sed 's/^/     /'; rc=1; fi
    verify "bench_peers_produce_$$_${label,,}$2" || rc=1
    drop_prefix
    return $rc
}

"$JC_BUILD/producers/gen/jiceng-gen" --events "$EVENTS" --malformed-rate 0 --out "$W/gen" >/dev/null
LINES=$(wc -l <"$W/gen/events.ndjson")
"$PY" "$PEER" expect "$W/gen/events.ndjson" >"$W/expect"
echo "== $LINES events ($(du -h "$W/gen/events.ndjson" | cut -f1) of NDJSON, every kind), $RUNS alternating rounds"
valid_from=0
for ((r = 1; r <= RUNS; r++)); do
    for label in a b; do
        DBS+=("bench_peers_produce_$$_$label$r")
        v=$(new_database "bench_peers_produce_$$_$label$r")
        ((v > valid_from)) && valid_from=$v
    done
done
while (($(date +%s) < valid_from)); do sleep 1; done
head -1000 "$W/gen/events.ndjson" >"$W/warm.ndjson"
for label in A B; do
    new_prefix && side "$label" "$W/warm.ndjson" && "${CMD[@]}" >"$W/warm.out" 2>&1 \
        || { echo "producer.sh: the warm-up of $label failed: $(tail -3 "$W/warm.out" 2>/dev/null)" >&2; exit 1; }
    drop_prefix
done
status=0
for ((r = 1; r <= RUNS; r++)); do
    one_run A "$r" || status=1
    one_run B "$r" || status=1
done
echo "== $LINES events, $RUNS alternating runs per side (events/s = events / the process's wall time):"
echo "  A = jiceng-produce (parse, validate, encode, sign, produce)"
echo "  B = bench/peers/producer.py (confluent-kafka + fastavro, one thread, hand-written signing)"
# median FILE DECIMALS: the median of a figure file
median() {
    sort -n "$1" 2>/dev/null | awk -v d="$2" '{ v[NR] = $1 }
        END { if (NR) { fmt = "%." d "f"; printf fmt, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}
for label in A B; do
    echo "  $(bench_summary "$W/rate.$label" "$label"); median CPU $(median "$W/cpu.$label" 2) s," \
         "peak RSS $(median "$W/rss.$label" 0) MiB"
done
r=$(bench_ratio "$W/rate.A" "$W/rate.B")
[[ -z $r ]] || echo "  $r   (target >= 5)"
exit $status
