#!/usr/bin/env bash
# test_pg_restart.sh: PostgreSQL restarted while jiceng-aggregate runs: the consumer backs off,
# reconnects and retries by itself, and the aggregates are exact.
source "$(dirname "$0")/lib.sh"
it_init pgrestart
it_topics 12
it_gen --events 150000 --seed 41
it_produce_workload
"${AGGREGATE[@]}" --batch-events 1000 --batch-ms 20 -X session.timeout.ms=3000 \
    -X heartbeat.interval.ms=500 2>"$W/aggregate.log" &
pid=$!
deadline=$((SECONDS + 60))
until (( $(it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress" 2>/dev/null || echo 0) > 0 )); do
    ((SECONDS < deadline)) || it_fail "no progress before the restart"
    sleep 0.1
done
runuser -u postgres -- "$JICENG_PG_BIN/pg_ctl" -D "$JICENG_STATE/pg/data" -l "$JICENG_STATE/pg/postgres.log" \
    -m fast -w restart >/dev/null
echo "  PostgreSQL restarted"
it_wait_consumed "$DELIVERED" 180
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[[ $rc == 0 ]] || it_fail "exit $rc after SIGTERM: $(tail -2 "$W/aggregate.log")"
retries=$(grep -o 'postgres retries [0-9]*' "$W/aggregate.log" | cut -d' ' -f3)
(( retries > 0 )) || it_fail "the consumer never had to retry: the restart did not hit it"
it_expect_truth "$W/gen"
echo "PASS: PostgreSQL restart, $retries retries, exact result"
