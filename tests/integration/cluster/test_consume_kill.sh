#!/usr/bin/env bash
# test_consume_kill.sh: while jiceng-aggregate consumes (the county systems still publishing),
# the broker coordinating its consumer group is killed with SIGKILL; the aggregator goes on
# with that broker gone (the coordinator and the partition leaders move: the next half of the
# workload is released after the kill, and the group's stored offset of every partition of the
# visits topic must grow), and the broker is started again later. The aggregator stops cleanly on SIGTERM, every line is in Kafka exactly
# once, and the aggregates equal the ground truth.
source "$(dirname "$0")/lib.sh"
it_init cluster-consume
it_topics 12
cl_topics_replicated
it_gen --events 120000 --seed 43
cl_feed 2000 0.2 2
it_produce_workload "$W/produce.log" &
producer=$!
"${AGGREGATE[@]}" --batch-events 2000 --batch-ms 50 -X session.timeout.ms=6000 \
    -X heartbeat.interval.ms=500 2>"$W/aggregate.log" &
aggregator=$!
cl_progress_over $((DELIVERED / 5)) 120
victim=$(cl_tool coordinator "$GROUP")
at_kill=$(cl_progress)
cl_stack kill-broker "$victim"
echo "  broker $victim (the group's coordinator) killed at $at_kill of $DELIVERED consumed"
cl_phase 1
cl_every_partition_grows "every visits partition consumed with broker $victim down" 180 cl_stored_offsets
cl_progress_over $((DELIVERED / 2 + 2000)) 180
echo "  $(cl_progress) consumed with broker $victim down, every visits partition"
kill -0 "$aggregator" 2>/dev/null || it_fail "jiceng-aggregate exited: $(tail -3 "$W/aggregate.log")"
cl_stack start-broker "$victim"
cl_finish_running
echo "PASS: coordinator $victim killed while consuming and restarted; exact result"
