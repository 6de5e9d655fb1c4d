#!/usr/bin/env bash
# test_rolling_restart.sh: a rolling restart of the three brokers (each stopped gracefully and
# started again, the next one only when every partition is back in sync: `stack
# restart-broker`) while jiceng-produce sends and jiceng-aggregate consumes. Nothing is
# undelivered, every line is in Kafka exactly once, the aggregator stops cleanly on SIGTERM and
# the aggregates equal the ground truth.
source "$(dirname "$0")/lib.sh"
it_init cluster-rolling
it_topics 12
cl_topics_replicated
it_gen --events 120000 --seed 47
cl_feed 1000 0.5 4
it_produce_workload "$W/produce.log" &
producer=$!
"${AGGREGATE[@]}" --batch-events 2000 --batch-ms 50 -X session.timeout.ms=6000 \
    -X heartbeat.interval.ms=500 2>"$W/aggregate.log" &
aggregator=$!
cl_progress_over 0 120
for node in 1 2 3; do
    records=$(cl_tool records "$PREFIX") consumed=$(cl_progress)
    cl_phase "$node" # the next run of the workload goes out while broker $node restarts
    cl_stack restart-broker "$node"
    kill -0 "$aggregator" 2>/dev/null || it_fail "jiceng-aggregate exited: $(tail -3 "$W/aggregate.log")"
    kill -0 "$producer" 2>/dev/null || it_fail "jiceng-produce exited during the restarts: $(tail -2 "$W/produce.log")"
    records_after=$(cl_tool records "$PREFIX") consumed_after=$(cl_progress)
    echo "  broker $node restarted; meanwhile records $records -> $records_after, consumed $consumed -> $consumed_after of $DELIVERED"
    ((records_after > records && consumed_after > consumed)) \
        || it_fail "no load while broker $node restarted: the test proves too little"
done
cl_finish_running
echo "PASS: rolling restart of brokers 1, 2, 3 under load; exact result"
