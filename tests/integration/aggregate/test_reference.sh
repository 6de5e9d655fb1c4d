#!/usr/bin/env bash
# test_reference.sh: reference data changes without a restart (issue 13, item 6, and the
# acceptance's re-drive test). Two counties' events of a jiceng-gen workload are published under
# county codes the reference data does not know (reference_tool.py: keyed by the new code,
# signed with the county's own key, as that county system's third-party producer would after a
# re-coding the province has not recorded yet); the rest goes through jiceng-produce. Then:
#   - aggregator A (no version checks: --reference-check 0) rejects exactly those records, as
#     JC_ERR_UNKNOWN_COUNTY (the county check after the signature's);
#   - a migration-style change, run as the migration role: the first new code becomes an old
#     code of its county (jiceng.code_changes); A gets SIGHUP and logs reference_reloaded;
#   - `jiceng-aggregate redrive --status unknown_county`, twice while A is frozen (SIGSTOP): the
#     first re-publishes every such reject (both codes), the second nothing; A, let go, applies
#     the first code's copies and
#     rejects the second's again;
#   - A stops; aggregator B (--reference-check 1) starts, has read the reference data, then the
#     second code is mapped the same way, with no signal: B sees the new reference version and
#     reloads; redrive twice again: the second code's new rejects, then nothing;
#   - every reject is an unknown_county one and marked re-driven exactly once, and every
#     aggregate table equals the ground truth jiceng-gen computed (each rewritten event counted
#     once, where the original was).
source "$(dirname "$0")/lib.sh"

COUNTY_1=520102 NEW_1=520190 # 南明区 under a code the province has not recorded
COUNTY_2=520303 NEW_2=520390 # 汇川区

it_init reference
it_topics 4
it_gen --events 3000 --seed 47
it_wait_keys
"$PY" "$HERE/reference_tool.py" publish "$PREFIX" "$SRC/schemas/avro" "$W/gen/events.ndjson" \
    "$W/gen/expected/rejects.csv" "$KEYRING" "$W/others.ndjson" "$W/renamed.csv" \
    "$COUNTY_1=$NEW_1" "$COUNTY_2=$NEW_2" >"$W/renamed.txt" || it_fail "publishing the renamed events failed"
N1=$(awk -v c=$NEW_1 '$1 == c {print $2}' "$W/renamed.txt")
N2=$(awk -v c=$NEW_2 '$1 == c {print $2}' "$W/renamed.txt")
((N1 > 0 && N2 > 0)) || it_fail "no event of $COUNTY_1 or $COUNTY_2 in the workload ($(cat "$W/renamed.txt"))"
rc=0
it_produce "$W/others.ndjson" 2>"$W/produce.log" || rc=$?
OTHERS=$((DELIVERED - N1 - N2))
[[ $rc == 1 ]] && grep -q "delivered $OTHERS, rejected $MALFORMED, undelivered 0" "$W/produce.log" \
    || it_fail "produce (exit $rc): $(tail -1 "$W/produce.log"), expected $OTHERS delivered"
echo "  published: $N1 records as $NEW_1 ($COUNTY_1), $N2 as $NEW_2 ($COUNTY_2), $OTHERS others"

# wait_log LOG PATTERN WHAT: until LOG has a line matching PATTERN (ERE), or fail after 60 s
# (the text log has the messages of reference_loaded and reference_reloaded, aggregator.h)
wait_log() {
    local deadline=$((SECONDS + 60))
    until grep -Eq "$2" "$1" 2>/dev/null; do
        ((SECONDS < deadline)) || it_fail "$3: no line matching '$2' in $1 after 60 s: $(tail -3 "$1")"
        sleep 0.2
    done
}
# stop PID LOG: SIGTERM, and the exit status must be 0
stop() {
    kill -TERM "$1"
    local rc=0
    wait "$1" || rc=$?
    [[ $rc == 0 ]] || it_fail "the aggregator exited $rc: $(tail -3 "$2")"
}
REDRIVE=("$JC_BUILD/consumers/jiceng-aggregate" redrive --config "$JICENG_STEWARD_CONFIG"
         --conninfo "$CONNINFO" --status unknown_county)
# redrive_twice STEP WANT: the first run re-drives WANT rejects, the second none
redrive_twice() {
    local run rc
    for run in 1 2; do
        rc=0
        "${REDRIVE[@]}" >"$W/redrive-$1-$run.log" 2>&1 || rc=$?
        [[ $rc == 0 ]] || it_fail "redrive $1/$run exit $rc: $(tail -2 "$W/redrive-$1-$run.log")"
    done
    it_check_ok "$1: redrive 1 re-publishes the $2 unknown_county rejects" \
        grep -qx "redrive: selected $2, delivered $2, failed 0" "$W/redrive-$1-1.log"
    it_check_ok "$1: redrive 2 publishes nothing" \
        grep -qx "redrive: selected 0, delivered 0, failed 0" "$W/redrive-$1-2.log"
}
unknown() { # unknown [WHERE]: the unknown_county rejects (that are not re-driven yet)
    it_sql "select count(*) from jiceng.rejects where status = 'JC_ERR_UNKNOWN_COUNTY' ${1:-}"
}
# add_change NEW COUNTY: NEW becomes an old code of COUNTY, as a migration would (migration role)
add_change() {
    it_migrate_sql "insert into jiceng.code_changes (old_code, new_code, year, change)
                    values ($1, $2, 2026, 'test_reference.sh: an unrecorded re-coding')"
}

# -- aggregator A: only SIGHUP reloads
"${AGGREGATE[@]}" --reference-check 0 2>"$W/aggregate-a.log" &
AGG=$!
it_wait_consumed "$DELIVERED" 120
it_check_ok "A: the $((N1 + N2)) renamed records are the only rejects, all unknown_county" \
    test "$(unknown)/$(it_sql "select count(*) from jiceng.rejects")" = "$((N1 + N2))/$((N1 + N2))"
it_check_ok "A: their places are the ones published" \
    test "$(it_sql "select count(*) from jiceng.rejects where (topic, partition, kafka_offset) in
                    ($(tail -n +2 "$W/renamed.csv" | awk -F, -v q="'" '{printf "%s(%s%s%s,%d,%d)", (NR > 1 ? "," : ""), q, $1, q, $2, $3}'))")" \
         = "$((N1 + N2))"
add_change "$NEW_1" "$COUNTY_1"
kill -HUP "$AGG"
wait_log "$W/aggregate-a.log" "reference data reloaded \(asked\).*installed, 1 code" "A after SIGHUP"
# A is frozen while the two re-drives run: it would otherwise reject the second code's copies
# again between them, and the second run would rightly re-drive those new rejects
kill -STOP "$AGG"
redrive_twice A $((N1 + N2))
kill -CONT "$AGG"
it_wait_consumed $((DELIVERED + N1 + N2)) 120
it_check_ok "A: the $N1 copies of $NEW_1 applied, the $N2 of $NEW_2 rejected again" \
    test "$(unknown "and redriven_at is null")" = "$N2"
stop "$AGG" "$W/aggregate-a.log"

# -- aggregator B: the version check
"${AGGREGATE[@]}" --reference-check 1 2>"$W/aggregate-b.log" &
AGG=$!
wait_log "$W/aggregate-b.log" "reference data from PostgreSQL" "B at start"
add_change "$NEW_2" "$COUNTY_2"
wait_log "$W/aggregate-b.log" "reference data reloaded \(version [0-9]+ -> [0-9]+\).*installed, 1 code" \
    "B at the new version"
redrive_twice B "$N2"
it_wait_consumed $((DELIVERED + N1 + 2 * N2)) 120
stop "$AGG" "$W/aggregate-b.log"

it_check_ok "every reject is an unknown_county one: $((N1 + 2 * N2))" \
    test "$(unknown)/$(it_sql "select count(*) from jiceng.rejects")" = "$((N1 + 2 * N2))/$((N1 + 2 * N2))"
it_check_ok "each marked re-driven once, none left" \
    test "$(unknown "and redriven_at is not null")/$(unknown "and redriven_at is null")" = "$((N1 + 2 * N2))/0"
it_check_refused "the aggregator's role may not change the reference data" "permission denied" \
    it_sql "insert into jiceng.code_changes (old_code, new_code) values (520191, 520102)"
it_checks_done
it_expect_truth "$W/gen"
echo "PASS: $N1 + $N2 records of unknown county codes counted once after a code change each (SIGHUP, then the version check) and a re-drive run twice"
