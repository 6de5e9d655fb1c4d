#!/usr/bin/env bash
# test_redrive.sh: re-driving rejects (issue 13, item 5; jiceng/redrive.h). A jiceng-gen workload
# is published signed with the load generator's keyring while the test database does not know
# those keys yet (it_init's registration is held back: it_signing_keys is replaced below), so
# the aggregator rejects every record as JC_ERR_UNAUTHORIZED. Then the keys are registered and
# `jiceng-aggregate redrive --status unauthorized` runs as the steward principal
# (JICENG_STEWARD_CONFIG, which may write the event topics) with the aggregator's database role:
# Five unsigned records of every shape (null and empty keys and values) are rejects too (cut or
# not Avro: JC_ERR_TRUNCATED, JC_ERR_BAD_MAGIC); their copies are rejected again, byte for byte
# the originals.
#   - a --dry-run first selects every reject and publishes nothing;
#   - run as the aggregator's principal (no WRITE on the event topics) with --limit 10, every
#     record fails: exit 1, none marked;
#   - the first real run selects and delivers every reject and marks each re-driven (its new
#     partition and offset), exit 0;
#   - the second selects and publishes nothing;
#   - a crash between publishing and marking is simulated (some marks undone): a third run
#     publishes exactly those records again;
#   - the aggregator, run again, applies the re-driven records: every aggregate equals the
#     ground truth (the workload's own duplicates and the records published again after the
#     "crash" counted once), no new reject.
source "$(dirname "$0")/lib.sh"

# the keyring only, not registered: lib.sh registers it in it_init, which this test must not
it_signing_keys() {
    KEYRING=$("$SIGNING_KEYS" keyring) || it_fail "no keyring"
    KEYS_VALID_FROM=0
}

it_init redrive
it_topics 4
it_gen --events 3000 --seed 31
it_produce_workload
# and unsigned records of every shape (null distinct from empty), from a third-party client
"$PY" "$HERE/deadletter_tool.py" publish "${PREFIX}jiceng.visits" "$W/raw.json" null/empty \
    empty/null null/null empty/empty 6/100 || it_fail "publishing the unsigned records failed"
RAW=5 ALL=$((DELIVERED + 5))
RAW_PLACES=$("$PY" -c 'import json,sys; print(",".join("(%d,%d)" % (r["partition"], r["offset"]) for r in json.load(open(sys.argv[1]))))' "$W/raw.json")
it_aggregate --until-caught-up 2>"$W/aggregate-1.log" \
    || it_fail "first aggregation failed: $(tail -3 "$W/aggregate-1.log")"
echo "  rejects by status: $(it_sql "select string_agg(status || ' ' || n, ', ') from (select status, count(*) n from jiceng.rejects group by 1) s")"
it_check_ok "first aggregation: all $ALL records rejected, the $DELIVERED signed ones as unauthorized" \
    test "$(it_sql "select count(*) filter (where status = 'JC_ERR_UNAUTHORIZED') || '/' || count(*)
                    from jiceng.rejects")" = "$DELIVERED/$ALL"
STATUSES=unauthorized,JC_ERR_TRUNCATED,bad_magic,unknown_county # the unsigned ones: cut or no Avro
it_check_ok "first aggregation: nothing applied" \
    test "$(it_sql "select count(*) from jiceng.visits_daily")" = 0

KEYS_VALID_FROM=$("$SIGNING_KEYS" register "$MIGRATE_CONNINFO") || it_fail "registering the signing keys failed"
it_wait_keys # a re-driven record is judged by its new append time: the keys must be valid by then

REDRIVE=("$JC_BUILD/consumers/jiceng-aggregate" redrive --config "$JICENG_STEWARD_CONFIG"
         --conninfo "$CONNINFO")
summary() { # summary LOG: the figures line of a run
    grep -E '^redrive( \(dry run\))?: selected' "$1" || echo "(no summary)"
}
rc=0
"${REDRIVE[@]}" --status "$STATUSES" --dry-run >"$W/redrive-0.log" 2>&1 || rc=$?
it_check_ok "dry run: exit 0, every reject selected, none published ($(summary "$W/redrive-0.log"))" \
    grep -qx "redrive (dry run): selected $ALL, delivered 0, failed 0" "$W/redrive-0.log"
it_check_ok "dry run: nothing marked" \
    test "$(it_sql "select count(*) from jiceng.rejects where redriven_at is not null")" = 0

# the aggregator's principal may not write the event topics: every record fails, none is marked
rc=0
"${REDRIVE[@]}" --config "$JICENG_AGGREGATE_CONFIG" --status "$STATUSES" --limit 10 \
    -X message.timeout.ms=10000 >"$W/redrive-denied.log" 2>&1 || rc=$?
it_check_ok "as the aggregator (no WRITE): exit 1, 10 selected, 10 failed ($(summary "$W/redrive-denied.log"))" \
    grep -qx "redrive: selected 10, delivered 0, failed 10" "$W/redrive-denied.log"
it_check_ok "as the aggregator: exit 1 (exit $rc)" test "$rc" = 1
it_check_ok "as the aggregator: each failure named in the log" \
    test "$(grep -c 'redrive_failed\|not re-driven' "$W/redrive-denied.log")" = 10
it_check_ok "as the aggregator: nothing marked" \
    test "$(it_sql "select count(*) from jiceng.rejects where redriven_at is not null")" = 0

for run in 1 2; do
    rc=0
    "${REDRIVE[@]}" --status "$STATUSES" >"$W/redrive-$run.log" 2>&1 || rc=$?
    it_check_ok "redrive $run exits 0 (exit $rc: $(tail -1 "$W/redrive-$run.log"))" test "$rc" = 0
done
it_check_ok "redrive 1: every reject delivered ($(summary "$W/redrive-1.log"))" \
    grep -qx "redrive: selected $ALL, delivered $ALL, failed 0" "$W/redrive-1.log"
it_check_ok "redrive 1: per status" \
    grep -qx "JC_ERR_UNAUTHORIZED: selected $DELIVERED, delivered $DELIVERED, failed 0" "$W/redrive-1.log"
it_check_ok "redrive 2: nothing selected again ($(summary "$W/redrive-2.log"))" \
    grep -qx "redrive: selected 0, delivered 0, failed 0" "$W/redrive-2.log"
it_check_ok "every reject is marked re-driven with its new record's place" \
    test "$(it_sql "select count(*) from jiceng.rejects where redriven_at is not null
                    and redriven_partition >= 0 and redriven_offset >= 0")" = "$ALL"
it_check_ok "the new records' places are distinct" \
    test "$(it_sql "select count(distinct (topic, redriven_partition, redriven_offset))
                    from jiceng.rejects")" = "$ALL"

# a crash between publishing and marking, simulated: the marks of CRASHED rows are lost, so a
# later run publishes those records once more; the aggregator's dedup must count them once
CRASHED=$(it_sql "with u as (update jiceng.rejects set redriven_at = null, redriven_partition = null,
                  redriven_offset = null where kafka_offset % 7 = 3
                  and (partition, kafka_offset) not in ($RAW_PLACES) returning 1) select count(*) from u")
((CRASHED > 0)) || it_fail "no row to un-mark"
rc=0
"${REDRIVE[@]}" --status unauthorized >"$W/redrive-3.log" 2>&1 || rc=$?
it_check_ok "after the simulated crash: the $CRASHED unmarked rejects re-driven again, exit $rc ($(summary "$W/redrive-3.log"))" \
    grep -qx "redrive: selected $CRASHED, delivered $CRASHED, failed 0" "$W/redrive-3.log"

it_aggregate --until-caught-up 2>"$W/aggregate-2.log" \
    || it_fail "second aggregation failed: $(tail -3 "$W/aggregate-2.log")"
it_check_ok "second aggregation: the topics hold each record twice, $CRASHED of them thrice" \
    test "$(it_sql "select sum(next_offset) from jiceng.consumer_progress")" = $((2 * ALL + CRASHED))
it_check_ok "second aggregation: no new reject but the $RAW unsigned records' copies" \
    test "$(it_sql "select count(*) from jiceng.rejects")" = $((ALL + RAW))
# each unsigned record's copy, rejected again, has exactly its bytes: key, value and headers,
# null still null and empty still empty
it_check_ok "the unsigned records' copies are byte for byte the originals" \
    test "$(it_sql "select count(*) from jiceng.rejects o join jiceng.rejects n
                      on n.topic = o.topic and n.partition = o.redriven_partition
                     and n.kafka_offset = o.redriven_offset
                    where (o.partition, o.kafka_offset) in ($RAW_PLACES)
                      and n.msg_key is not distinct from o.msg_key
                      and n.payload is not distinct from o.payload
                      and n.headers is not distinct from o.headers and n.headers = '{}'")" = "$RAW"
it_checks_done
it_expect_truth "$W/gen"
echo "PASS: $DELIVERED unauthorized rejects re-driven (a second run published nothing, $CRASHED published again after a simulated crash), ground truth"
