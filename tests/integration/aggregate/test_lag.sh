#!/usr/bin/env bash
# test_lag.sh: lag that does not lie (issue 11, item 4). The lag figure in PostgreSQL comes from
# the end offsets every running consumer refreshes for all its group's partitions
# (jiceng.end_offsets, lib/aggregate/endoffsets.c), not from the watermark a consumer notes when
# it flushes, and says how old it is.
#   1. the views' arithmetic, on rows written by hand: lag per group = end - next, from the
#      start offset where the group has not consumed, never negative, the flush's watermark as
#      the fallback, the age of the oldest figure;
#   2. two consumers in one group, one frozen with SIGSTOP (its session timeout long enough to
#      keep its partitions) while events keep arriving: the group's lag in report_freshness
#      becomes exactly the messages not applied (end offsets - next offsets, > 0), within a
#      bounded wait; `jiceng-aggregate status` (as the report role) shows it per partition; once
#      thawed, the lag returns to 0 and the aggregates equal the ground truth;
#   3. the only consumer frozen: the report (as the report role, PostgreSQL only) shows the lag
#      figure's age growing; thawed, the figure is refreshed again (its age drops).
# `jiceng-aggregate status` (issue 12, item 4), as the report role, while b is frozen: the table
# with the age of each partition's last commit and its newest event; --format json agreeing with
# the table and the views; --stale 1 (2 s after the lag showed) exits 1 naming the frozen
# consumer's partitions, --stale 3600 exits 0; once caught up, --stale 1 exits 0 (no lag).
# Waits poll with a deadline; nothing asserts on speed.
source "$(dirname "$0")/lib.sh"
it_init lag
it_topics 4
it_gen --events 24000 --seed 53

# ---- 1. the views, on hand-written rows (another group and topic than the run's) ------------
it_sql "insert into jiceng.consumer_progress (group_id, topic, partition, next_offset, high_watermark, updated_at) values
          ('hand-a', 'hand.t', 0, 10, 12, now()), ('hand-a', 'hand.t', 2, 20, 25, now() - interval '30 s'),
          ('hand-a', 'hand.t', 3, 30, 29, now()), ('hand-b', 'hand.t', 0, 14, 14, now());
        insert into jiceng.end_offsets (group_id, topic, partition, start_offset, end_offset, observed_at) values
          ('hand-a', 'hand.t', 0, 0, 15, now() - interval '10 s'), ('hand-a', 'hand.t', 1, 3, 8, now()),
          ('hand-a', 'hand.t', 3, 0, 28, now() - interval '1 s'), ('hand-b', 'hand.t', 0, 0, 15, now())"
got=$(it_sql "select string_agg(format('%s/%s:%s-%s=%s', group_id, partition, coalesce(next_offset::text, 'none'),
                                       end_offset, lag), ' ' order by group_id, partition)
              from jiceng.report_consumer_lag where topic = 'hand.t'")
want="hand-a/0:10-15=5 hand-a/1:none-8=5 hand-a/2:20-25=5 hand-a/3:30-29=0 hand-b/0:14-15=1"
[[ $got == "$want" ]] || it_fail "report_consumer_lag: $got, expected $want"
got=$(it_sql "select format('%s %s %s %s', partitions, lag, lag_age_ms >= 30000, lag_observed_at = min_seen)
              from jiceng.report_freshness,
                   (select min(observed_at) as min_seen from jiceng.end_offsets where group_id = 'hand-a') m
              where group_id = 'hand-a'")
[[ $got == "4 15 t f" ]] || it_fail "report_freshness of hand-a: '$got', expected 4 partitions, lag 15, age of the 30 s old fallback"
it_sql "delete from jiceng.consumer_progress where topic = 'hand.t'; delete from jiceng.end_offsets where topic = 'hand.t'"
echo "  views: lag per group and partition, start offset, fallback, clamping, oldest age"

# ---- 2. two consumers, one frozen -------------------------------------------------------------
split -n l/3 -d "$W/gen/events.ndjson" "$W/chunk."
delivered=0
produce_chunk() { # produce_chunk FILE: add what it delivered to $delivered
    local rc=0 n
    it_produce "$1" 2>"$W/produce.log" || rc=$?
    n=$(sed -n 's/.*, delivered \([0-9]*\),.*/\1/p' "$W/produce.log" | tail -1)
    [[ -n $n && $n -gt 0 ]] || it_fail "producing $1 (exit $rc) delivered nothing: $(tail -2 "$W/produce.log")"
    delivered=$((delivered + n))
}
start() { # start NAME: a consumer of the group, in the background, its pid in pid_NAME
    "${AGGREGATE[@]}" --batch-events 2000 --batch-ms 50 -X session.timeout.ms=300000 \
        -X heartbeat.interval.ms=1000 -X debug=cgrp 2>"$W/aggregate-$1.log" &
    eval "pid_$1=$!"
}
# the group's lag and the messages it has not applied (delivered - next offsets), in one query
lag_and_waiting() {
    it_sql "select coalesce((select lag from jiceng.report_freshness where group_id = '$GROUP'), -1),
                   $delivered - coalesce((select sum(next_offset) from jiceng.consumer_progress
                                          where group_id = '$GROUP'), 0)" 2>/dev/null || echo "-2|-2"
}
wait_for() { # wait_for SECONDS WHAT CMD...: until CMD succeeds; WHAT is expanded on failure
    local seconds=$1 deadline=$((SECONDS + $1)) what=$2; shift 2
    until "$@"; do
        ((SECONDS < deadline)) || it_fail "after $seconds s: $(eval "echo \"$what\"")"
        sleep 0.5
    done
}

# status_checks: while b is frozen (lag > 0): --format json against the views, --stale
status_checks() {
    local rc=0
    "${AGGREGATE[@]}" status --conninfo "$REPORT_CONNINFO" --format json >"$W/status.json" 2>"$W/status-json.err" \
        || it_fail "status --format json failed: $(cat "$W/status-json.err")"
    it_sql "select topic, partition, coalesce(next_offset, -1), end_offset, lag, newest_event_at is not null,
                   updated_at is not null from jiceng.report_consumer_lag where group_id = '$GROUP'
            order by 1, 2" >"$W/status-view.txt"
    "$PY" - "$W/status.json" "$W/status-view.txt" "$GROUP" <<'PYEOF' || it_fail "status --format json disagrees with the views"
import json, sys
doc = json.load(open(sys.argv[1]))
group = sys.argv[3]
parts = [p for p in doc["partitions"] if p["group"] == group]
rows = [l.split("|") for l in open(sys.argv[2]).read().splitlines()]
assert len(parts) == len(rows) > 0, (len(parts), len(rows))
for p, r in zip(parts, rows):
    want = [r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4])]
    got = [p["topic"], p["partition"], -1 if p["next_offset"] is None else p["next_offset"], p["end_offset"], p["lag"]]
    assert got == want, (got, want)
    assert (p["newest_event_at"] is not None) == (r[5] == "t"), p
    assert (p["last_commit_age_ms"] is not None) == (r[6] == "t"), p
    assert isinstance(p["end_offset_age_ms"], int) and p["end_offset_observed_at"].endswith("Z"), p
    assert "stale" not in p
g = [g for g in doc["groups"] if g["group"] == group][0]
assert g["lag"] == sum(p["lag"] for p in parts) > 0, g
assert g["partitions"] == len(parts), g
print("  status --format json: %d partitions of %s, lag %d, as the views say" % (len(parts), group, g["lag"]))
PYEOF
    sleep 2 # every partition with lag has not committed for more than 1 s
    "${AGGREGATE[@]}" status --conninfo "$REPORT_CONNINFO" --stale 1 >/dev/null 2>"$W/stale.err" || rc=$?
    ((rc == 1)) || it_fail "status --stale 1 exited $rc while b is frozen with lag: $(cat "$W/stale.err")"
    grep -Eq "^jiceng-aggregate: [1-9][0-9]* stale partition\(s\)" "$W/stale.err" \
        && grep -Eq "^$GROUP ${PREFIX//./\\.}jiceng\.[a-z-]+ \[[0-9]+\]: lag [1-9][0-9]*, (last commit .* ago|never committed) \(over 1 s\)$" "$W/stale.err" \
        || it_fail "status --stale 1 does not say which partitions are stale: $(head -3 "$W/stale.err")"
    local named=$(($(wc -l <"$W/stale.err") - 1)) first; first=$(sed -n 2p "$W/stale.err")
    "${AGGREGATE[@]}" status --conninfo "$REPORT_CONNINFO" --stale 1 --format json >"$W/stale.json" 2>/dev/null || true
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["stale_seconds"] == 1 and any(p["stale"] for p in d["partitions"]), d' \
        "$W/stale.json" || it_fail "status --stale 1 --format json marks no partition stale"
    rc=0
    "${AGGREGATE[@]}" status --conninfo "$REPORT_CONNINFO" --stale 3600 >/dev/null 2>"$W/stale.err" || rc=$?
    ((rc == 0)) || it_fail "status --stale 3600 exited $rc although every partition committed within the hour: $(cat "$W/stale.err")"
    echo "  status --stale 1: exit 1, naming $named stale partition(s) (first: $first); --stale 3600: exit 0"
}

start a
produce_chunk "$W/chunk.00"
it_wait_consumed "$delivered" 240
start b
holds_partitions() { grep -Eq 'partition\(s\) assigned .*; [1-9][0-9]* held(;|$)' "$W/aggregate-b.log"; }
wait_for 120 "consumer b was never assigned partitions" holds_partitions
kill -STOP "$pid_b"
echo "  consumer b holds partitions and is frozen (SIGSTOP); events keep arriving"
produce_chunk "$W/chunk.01"
lag_is_waiting() {
    IFS='|' read -r lag waiting <<<"$(lag_and_waiting)"
    ((waiting > 0 && lag == waiting))
}
wait_for 120 'the lag in PostgreSQL never showed the messages waiting for the frozen consumer: lag|waiting = $(lag_and_waiting)' lag_is_waiting
echo "  lag $lag = the $waiting messages not applied, while b is frozen"
"${AGGREGATE[@]}" status --conninfo "$REPORT_CONNINFO" >"$W/status.txt" 2>&1 \
    || it_fail "jiceng-aggregate status as the report role failed: $(tail -2 "$W/status.txt")"
status_lag=$(awk -v g="$GROUP" '$1 == g && $2 == "(total)" {print $4}' "$W/status.txt")
((status_lag > 0)) || it_fail "status shows no lag for $GROUP: $(cat "$W/status.txt")"
grep -Eq "^$GROUP +${PREFIX//./\\.}jiceng\.visits +0 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ (ms|s|min)" "$W/status.txt" \
    || it_fail "status has no line per partition with next, end, lag and age: $(head -5 "$W/status.txt")"
grep -Eq "^$GROUP +${PREFIX//./\\.}jiceng\.visits +0 .* [0-9]+ (ms|s|min)( [0-9]+ (s|ms))? +20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+08:00$" "$W/status.txt" \
    || it_fail "status has no last commit age and newest event per partition: $(head -3 "$W/status.txt")"
status_checks
kill -CONT "$pid_b"
produce_chunk "$W/chunk.02"
caught_up() {
    IFS='|' read -r lag waiting <<<"$(lag_and_waiting)"
    ((waiting == 0 && lag == 0))
}
wait_for 240 'the lag did not return to 0 once b was thawed: lag|waiting = $(lag_and_waiting)' caught_up
echo "  b thawed: lag 0, every message applied"
rc=0
"${AGGREGATE[@]}" status --conninfo "$REPORT_CONNINFO" --stale 1 >"$W/status-after.txt" 2>"$W/status-after.err" || rc=$?
((rc == 0)) || it_fail "status --stale 1 exited $rc once caught up: $(cat "$W/status-after.err")"
echo "  status --stale 1 exits 0 once caught up (no lag)"
it_expect_truth "$W/gen"

# ---- 3. the only consumer frozen: the report shows the figure ageing -------------------------
kill -TERM "$pid_a"
rc=0; wait "$pid_a" || rc=$?
((rc == 0)) || it_fail "consumer a exited $rc after SIGTERM: $(tail -2 "$W/aggregate-a.log")"
kill -STOP "$pid_b"
report_age() { # report_age FILE: the lag figure's age (ms) in a JSON report
    it_report --format json --output "$1" >/dev/null 2>&1 || it_fail "jiceng-report failed"
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["freshness"]["lag_age_ms"])' "$1"
}
age1=$(report_age "$W/report-1.json")
[[ $age1 =~ ^[0-9]+$ ]] || it_fail "the report gives no age for the lag figure: '$age1'"
age_grew() { age2=$(report_age "$W/report-2.json"); ((age2 > age1)); }
wait_for 60 'the age of the lag figure did not grow with the only consumer frozen ($age1 ms, then $age2 ms)' age_grew
it_report --format text --output "$W/report.txt" >/dev/null 2>&1 || it_fail "jiceng-report (text) failed"
grep -Eq '积压 consumer lag [0-9]+ 条 messages \(观测于 .* 前 observed .* ago\)' "$W/report.txt" \
    || it_fail "the text report does not say how old the lag figure is: $(grep -m1 '积压' "$W/report.txt")"
echo "  only consumer frozen: the report's lag figure aged from $age1 ms to $age2 ms"
kill -CONT "$pid_b"
age_dropped() { age3=$(report_age "$W/report-3.json"); ((age3 < age2)); }
wait_for 60 'the lag figure was not refreshed once the consumer was thawed ($age2 ms, then $age3 ms)' age_dropped
kill -TERM "$pid_b"
rc=0; wait "$pid_b" || rc=$?
((rc == 0)) || it_fail "consumer b exited $rc after SIGTERM: $(tail -2 "$W/aggregate-b.log")"
echo "PASS: lag from refreshed end offsets, per group; non-zero while a consumer is frozen; its age visible"
