#!/usr/bin/env bash
# test_crash.sh: jiceng-aggregate killed with SIGKILL at random moments, 5 times, during a run
# of 220,000 events, restarted each time: the final aggregates equal the ground truth exactly.
source "$(dirname "$0")/lib.sh"
it_init crash
it_topics 12
it_gen --events 220000 --seed 23
it_produce_workload
progress() { it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress" 2>/dev/null || echo 0; }
mid_run=0 last=0
for kill in 1 2 3 4 5; do
    "${AGGREGATE[@]}" --batch-events 1000 --batch-ms 20 -X session.timeout.ms=3000 \
        -X heartbeat.interval.ms=500 2>>"$W/aggregate.log" &
    pid=$!
    # wait for it to make some progress, then kill it at a random moment
    deadline=$((SECONDS + 60))
    while (( $(progress) <= last && SECONDS < deadline )); do sleep 0.1; done
    sleep "0.$((RANDOM % 6))"
    kill -KILL "$pid" 2>/dev/null || it_fail "consumer $kill exited before it was killed"
    wait "$pid" 2>/dev/null || true
    now=$(progress)
    echo "  kill $kill: stored offsets at $now of $DELIVERED"
    (( now > last && now < DELIVERED )) && mid_run=$((mid_run + 1))
    last=$now
done
(( mid_run >= 3 )) || it_fail "only $mid_run kills landed mid-run with progress; the test proves too little"
it_aggregate --until-caught-up -X session.timeout.ms=3000 2>>"$W/aggregate.log" || it_fail "final run failed: $(tail -3 "$W/aggregate.log")"
(( $(progress) == DELIVERED )) || it_fail "stored offsets add up to $(progress), expected $DELIVERED"
it_expect_truth "$W/gen"
echo "PASS: 5 kills ($mid_run mid-run), exact result"
