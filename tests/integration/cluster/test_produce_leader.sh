#!/usr/bin/env bash
# test_produce_leader.sh: the broker leading the most partitions of the event topics is killed
# with SIGKILL while jiceng-produce sends to them (acks=all, idempotent); the producer goes on
# writing to every partition with that broker gone (the next half of the workload is released
# after the kill, and each partition of the visits topic must grow), then the broker is started
# again. Every line is delivered
# exactly once (none undelivered, none written twice by a retry) and the aggregates equal the
# ground truth.
source "$(dirname "$0")/lib.sh"
it_init cluster-produce
it_topics 12
cl_topics_replicated
it_gen --events 120000 --seed 41
cl_feed 2000 0.4 2
it_produce_workload "$W/produce.log" &
producer=$!
cl_records_over $((DELIVERED / 5)) 120
victim=$(cl_tool leader "$PREFIX")
at_kill=$(cl_tool records "$PREFIX")
cl_stack kill-broker "$victim"
echo "  broker $victim (leading the most partitions) killed at $at_kill of $DELIVERED records"
(( at_kill < DELIVERED / 2 )) || it_fail "killed at $at_kill records: after the first half, the test proves too little"
cl_phase 1
cl_every_partition_grows "every visits partition written with broker $victim down" 180 cl_kafka_ends
cl_records_over $((DELIVERED / 2 + 2000)) 180
echo "  $(cl_tool records "$PREFIX") records with broker $victim down, every visits partition written"
cl_stack start-broker "$victim"
cl_release
wait "$producer" || it_fail "jiceng-produce: $(tail -2 "$W/produce.log")"
echo "  jiceng-produce: $(tail -1 "$W/produce.log")"
cl_exactly_once
it_aggregate --until-caught-up 2>"$W/aggregate.log" || it_fail "aggregate: $(tail -3 "$W/aggregate.log")"
it_expect_truth "$W/gen"
echo "PASS: leader $victim killed mid-send and restarted; every record delivered once, exact result"
