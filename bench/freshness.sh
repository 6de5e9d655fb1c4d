#!/usr/bin/env bash
# bench/freshness.sh: how soon an event is visible in PostgreSQL under steady load (issue 14,
# item 3).
#
# usage: bench/freshness.sh [RATE...]    (events/s; default: 1000 5000 20000)
#
# On the secured stack, as bench/replay.sh does it: jiceng-gen writes a workload (its malformed
# lines, a fraction of a percent, are rejected by the producer, as in a replay), jiceng-topics makes the topics (12 partitions) under a fresh prefix, `stack
# grant-prefix` gives them the role ACLs, and a scratch database is made, migrated and given
# the load generator's signing keys. Then, for each RATE in turn, one phase:
#   1. jiceng-aggregate starts (the stack's aggregator identity, the scratch database, one
#      group for the whole run) and the phase waits for its partitions_assigned line;
#   2. bench/pace.py feeds the next RATE x JC_SECONDS (default 60) events to jiceng-produce's
#      standard input at RATE events per second, spread evenly over 10 ms ticks, so the records'
#      timestamps (set by the producer when it sends each one) follow the steady load;
#   3. once the producer has every delivery report, the phase waits until the database's
#      stored offsets reach the topics' end, then stops the aggregator with SIGTERM; its
#      "freshness" line gives, over every message it committed, the time from the record's
#      timestamp to the commit that made it visible (the aggregator keeps that histogram per
#      batch: jiceng/aggregator.h, jc_latency_t): p50, p95, p99 and max.
# The phase prints those with the produce rate reached, the messages committed and the
# batches; what else is running is printed before each phase. The targets (issue 14): p99
# under 100 ms at 1,000 and 5,000 events/s, under 200 ms at 20,000; printed, not asserted.
# Topics, ACLs, database and work directory are removed at the end, whatever happens.
#
# environment: JC_BUILD (default build/ of the checkout), JICENG_STATE (default .jiceng/),
# JC_SECONDS (seconds per rate, default 60).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=bench/freshness.sh
# shellcheck source=bench/stack.sh
source "$SRC/bench/stack.sh"
SECS=${JC_SECONDS:-60}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "bench/freshness.sh: JC_SECONDS is not a positive number" >&2; exit 2; }
RATES=("$@")
((${#RATES[@]})) || RATES=(1000 5000 20000)
for r in "${RATES[@]}"; do
    [[ $r =~ ^[1-9][0-9]*$ ]] || { echo "bench/freshness.sh: not a rate: $r" >&2; exit 2; }
done
bench_need producers/gen/jiceng-gen producers/jiceng-topics producers/jiceng-produce consumers/jiceng-aggregate

PREFIX="bench-fresh-$$." DB="bench_fresh_$$" W=$(mktemp -d /tmp/bench-fresh.XXXXXX) AGG_PID=""
cleanup() {
    [[ -z $AGG_PID ]] || kill "$AGG_PID" 2>/dev/null || true
    "$STACK" db-drop "$DB" >/dev/null 2>&1 || true
    "$JICENG_VENV/bin/python" "$SRC/tests/integration/aggregate/kafka_tool.py" delete-prefix "$PREFIX" \
        >/dev/null 2>&1 || echo "bench/freshness.sh: could not delete the topics $PREFIX*" >&2
    "$STACK" revoke-prefix "$PREFIX" >/dev/null 2>&1 || true
    [[ -n ${JC_KEEP:-} ]] || rm -rf "$W"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM


# the workload: enough events for every phase
total=0
for r in "${RATES[@]}"; do total=$((total + r * SECS)); done
"$JC_BUILD/producers/gen/jiceng-gen" --events "$total" --out "$W/gen" >/dev/null
have=$(wc -l <"$W/gen/events.ndjson")
((have >= total)) || { echo "bench/freshness.sh: only $have events for $total" >&2; exit 1; }
KEYRING=$("$SRC/tests/support/signing-keys" keyring)
"$JC_BUILD/producers/jiceng-topics" --config "$JICENG_ADMIN_CONFIG" --topic-prefix "$PREFIX" \
    --partitions 12 create >/dev/null
"$STACK" grant-prefix "$PREFIX" >/dev/null
valid_from=$(new_database "$DB")
while (($(date +%s) < valid_from)); do sleep 1; done # keys judge records by their timestamps
CONNINFO=$(db_uri "$JICENG_PG_CONNINFO" "$DB")
GROUP="jiceng-aggregate-bench-fresh-$$"
echo "== freshness: rates ${RATES[*]} events/s, $SECS s each; topics $PREFIX*, database $DB, build $JC_BUILD"

# stored: the offsets the database holds, summed over every partition
stored() {
    psql "$(db_uri "$JICENG_MIGRATE_CONNINFO" "$DB")" -Atq \
        -c "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress where group_id = '$GROUP'"
}

sent=0 from=1
for r in "${RATES[@]}"; do
    n=$((r * SECS))
    others "before the $r events/s phase" | sed 's/^/  /'
    log=$W/aggregate-$r.log
    "$JC_BUILD/consumers/jiceng-aggregate" --config "$JICENG_AGGREGATE_CONFIG" --topic-prefix "$PREFIX" \
        --conninfo "$CONNINFO" --group "$GROUP" 2>"$log" &
    AGG_PID=$!
    for _ in $(seq 600); do
        grep -q "partition(s) assigned" "$log" && break
        kill -0 "$AGG_PID" 2>/dev/null || { echo "jiceng-aggregate failed: $(tail -3 "$log")" >&2; exit 1; }
        sleep 0.1
    done
    grep -q "partition(s) assigned" "$log" || { echo "no assignment in 60 s" >&2; exit 1; }
    sleep 2 # the ledgers loaded, the fetchers started
    t0=$(date +%s.%N)
    rc=0
    sed -n "${from},$((from + n - 1))p;$((from + n - 1))q" "$W/gen/events.ndjson" | python3 "$SRC/bench/pace.py" "$r" \
        | "$JC_BUILD/producers/jiceng-produce" --config "$JICENG_PRODUCE_CONFIG" --signing-keys "$KEYRING" \
            --topic-prefix "$PREFIX" --rejects "$W/produce-$r.rejects" - 2>"$W/produce-$r.log" || rc=$?
    t1=$(date +%s.%N)
    # exit 1 is expected: the workload's malformed lines are rejected by the producer
    grep -q "undelivered 0" "$W/produce-$r.log" && ((rc <= 1)) \
        || { echo "jiceng-produce failed (exit $rc): $(tail -3 "$W/produce-$r.log")" >&2; exit 1; }
    delivered=$(grep -oE -m1 ', delivered [0-9]+' "$W/produce-$r.log" | grep -oE '[0-9]+')
    from=$((from + n)) sent=$((sent + delivered))
    for _ in $(seq 600); do
        (($(stored) >= sent)) && break
        sleep 0.1
    done
    kill -TERM "$AGG_PID"
    wait "$AGG_PID" || { echo "jiceng-aggregate exit $?: $(tail -3 "$log")" >&2; exit 1; }
    AGG_PID=""
    line=$(grep -m1 "freshness of" "$log" || true)
    shut=$(grep -m1 'consumed [0-9]*, applied' "$log" || true)
    printf '  %6d events/s asked, %s reached (%d events in %.1f s); %s\n' "$r" \
        "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')" "$n" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
        "$(sed -E 's/.*(freshness of [^"]*).*/\1/' <<<"$line")"
    echo "         $(sed -E 's/.*(consumed [0-9]+, applied [0-9]+, duplicates [0-9]+, rejected [0-9]+, batches [0-9]+).*/\1/' <<<"$shut")"
done
