#!/usr/bin/env bash
# test_truth.sh: jiceng-gen events (duplicates, late events, malformed records) through
# jiceng-produce -- the whole file twice, so every event is also re-sent at another offset --
# and jiceng-aggregate: every aggregate row equals the generator's ground truth; the malformed
# records, published raw by a third-party client, and a conflicting duplicate are each in the
# rejects table and on the dead-letter topic with the expected reason; nothing else is. The
# third-party client (kafka_tool.py poison, signing correctly as the load generator) also sends
# hostile copies of counted events: a petition on the visits topic (JC_ERR_WRONG_TOPIC), a visit
# keyed by another county and one with a null key, each on a partition not its own
# (JC_ERR_WRONG_KEY), and a re-send with its event_id in upper case, which must be counted as a
# duplicate, not as a conflicting one. The malformed records include events in 1970
# (JC_ERR_TOO_EARLY: occurred_at in seconds).
source "$(dirname "$0")/lib.sh"
it_init truth
it_topics 12
it_gen --events 60000 --seed 11
for round in 1 2; do
    it_produce_workload "$W/produce-$round.log"
done
it_kafka_tool poison "$PREFIX" "$JC_SOURCE/schemas/avro" "$W/gen/events.ndjson" \
    "$W/gen/expected/rejects.csv" "$KEYRING" "$W/poison.csv" >"$W/poison.log"
hostile_dups=$(sed -n 's/^expected duplicates: //p' "$W/poison.log")
[[ -n $hostile_dups ]] || it_fail "kafka_tool poison did not say how many duplicates it sent"
for status in JC_ERR_WRONG_TOPIC JC_ERR_WRONG_KEY JC_ERR_TOO_EARLY; do
    grep -q ",$status\$" "$W/poison.csv" || it_fail "no $status message among the poison"
done
# small fetches (a few hundred records a partition): the loop empties its local queue many times
# before the end, so --until-caught-up must stop only once every partition has reached the end
# its fetches report (an early stop leaves events out of the ground truth)
it_aggregate --until-caught-up -X max.partition.fetch.bytes=4096 \
    2>"$W/aggregate.log" || it_fail "jiceng-aggregate failed: $(tail -3 "$W/aggregate.log")"
tail -1 "$W/aggregate.log"
it_expect_truth "$W/gen"
psql -X -q "$CONNINFO" -c "\\copy (select topic, partition, kafka_offset, status from jiceng.rejects order by 1, 2, 3) to stdout csv header" >"$W/rejects-got.csv"
diff "$W/poison.csv" "$W/rejects-got.csv" || it_fail "the rejects table is not exactly the poison messages"
echo "  rejects table: $(($(wc -l <"$W/poison.csv") - 1)) messages, each with its expected status"
it_kafka_tool dead-letters "$PREFIX" >"$W/dlq.csv"
diff "$W/poison.csv" "$W/dlq.csv" || it_fail "the dead-letter topic is not exactly the poison messages"
n=$(it_sql "select count(*) from jiceng.rejects where reason = '' or payload is null")
[[ $n == 0 ]] || it_fail "$n rejects without reason or payload"
dups=$(grep -o 'duplicates [0-9]*' "$W/aggregate.log" | tail -1 | cut -d' ' -f2)
expect_dups=$DELIVERED   # the second round re-sends every valid line
expect_dups=$((expect_dups + $(($(wc -l <"$W/gen/expected/duplicates.csv") - 1)) + hostile_dups))
[[ $dups == "$expect_dups" ]] || it_fail "consumer skipped $dups duplicates, expected $expect_dups"
echo "PASS: ground truth, $MALFORMED malformed + $(($(wc -l <"$W/poison.csv") - 1 - MALFORMED)) other poison messages rejected, $dups re-sends counted once"
