#!/usr/bin/env bash
# test_scaleout.sh: three jiceng-aggregate instances in one group over 12 partitions per topic;
# a fourth joins mid-run and one is killed with SIGKILL: the aggregates are exact, and the
# survivors stop cleanly (exit 0) on SIGTERM.
source "$(dirname "$0")/lib.sh"
it_init scaleout
it_topics 12
it_gen --events 300000 --seed 37
start() {
    "${AGGREGATE[@]}" --batch-events 2000 --batch-ms 50 -X session.timeout.ms=6000 \
        -X heartbeat.interval.ms=500 2>"$W/aggregate-$1.log" &
    eval "pid_$1=$!"
}
start a; start b; start c
# events arrive while the group works: the county systems keep publishing
split -l 20000 -d "$W/gen/events.ndjson" "$W/chunk."
( for f in "$W"/chunk.*; do it_produce "$f" 2>>"$W/produce.log" || true; sleep 0.2; done ) &
producer=$!
sleep 1
start d
sleep 1
kill -KILL "$pid_b"
echo "  instance b killed; a, c, d carry on"
wait "$producer" || true
sent=$(grep -o 'delivered [0-9]*' "$W/produce.log" | awk '{s += $2} END {print s}')
[[ $sent == "$DELIVERED" ]] || it_fail "produced $sent of $DELIVERED: $(tail -1 "$W/produce.log")"
it_wait_consumed "$DELIVERED" 240
for i in a c d; do
    pid=pid_$i
    kill -TERM "${!pid}"
    rc=0; wait "${!pid}" || rc=$?
    [[ $rc == 0 ]] || it_fail "instance $i exited $rc after SIGTERM: $(tail -2 "$W/aggregate-$i.log")"
done
for i in a c d; do
    n=$(grep -o 'consumed [0-9]*' "$W/aggregate-$i.log" | tail -1 | cut -d' ' -f2)
    echo "  instance $i consumed $n messages"
    (( n > 0 )) || it_fail "instance $i did no work: the test did not exercise its scale-out"
done
it_expect_truth "$W/gen"
echo "PASS: scale-out 3 -> 4 -> 3 instances, exact result"
