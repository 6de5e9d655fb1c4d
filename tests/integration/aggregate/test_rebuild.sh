#!/usr/bin/env bash
# test_rebuild.sh: generations (issue 13, item 4, and the issue's rebuild acceptance test).
#
# A jiceng-gen month (with 1% corrections and 0.2% withdrawals) is aggregated into generation 1
# (equal to the truth). Then, with the
# aggregators stopped, the migration role does what a migration adding a measure leaves behind
# (visits_daily.hours_on_site dropped and added back with default 0: the live figures of the
# measure are 0, as after a real `add column ... default 0` on a table built before it), and
# `jiceng-aggregate migrate` re-creates the report views. `rebuild` then fills generation 2 from
# offset 0 in small batches; it is paused (SIGSTOP) once it has made some progress and before it
# has finished, so that, deterministically, the checks below run against a half-built
# generation:
#   - the JSON report (figures and provenance, everything but generated_at) is taken before the
#     rebuild, while it runs, while it is paused half way, and after it has finished: every one
#     equals the first (reports never see the generation being built);
#   - `promote 2` is refused while generation 2 lags, naming the partitions;
#   - `drop 1` is refused while generation 1 is current.
# After the rebuild has caught up, `promote 2` succeeds; the report then says generation 2 in its
# provenance, shows the measure, and every figure equals the truth (check_report.py, and every
# report view row equals the ground truth's rows); jiceng.report_runs recorded each report with
# its generation, and `migrate` leaves it so (the views stay over generation 2). Finally `drop 1` succeeds, `drop 2` (current) and `promote 1` (dropped) are
# refused, and the report is unchanged by the drop.
source "$(dirname "$0")/lib.sh"
CHECK="$SRC/tests/integration/report/check_report.py"
MONTH=2025-06 TABLE=visits_daily MEASURE=hours_on_site
it_init rebuild
it_topics 4
it_gen --month "$MONTH" --events 30000 --seed 31 --correction-rate 0.01 --withdrawal-rate 0.002
it_produce_workload
it_aggregate --until-caught-up 2>"$W/aggregate.log" || it_fail "jiceng-aggregate failed: $(tail -3 "$W/aggregate.log")"
it_expect_truth "$W/gen" >/dev/null

# what a migration adding the measure leaves behind on a generation built before it
it_migrate_sql "set client_min_messages = warning; alter table jiceng.$TABLE drop column $MEASURE cascade;
                alter table jiceng.$TABLE add column $MEASURE bigint not null default 0"
it_migrate
col=$(head -1 "$W/gen/expected/$TABLE.csv" | tr ',' '\n' | grep -nx "$MEASURE" | cut -d: -f1)
truth_sum=$(awk -F, -v c="$col" 'NR > 1 { s += $c } END { print s + 0 }' "$W/gen/expected/$TABLE.csv")
live_sum=$(it_sql "select coalesce(sum($MEASURE), 0) from jiceng.$TABLE")
((truth_sum > 0 && live_sum == 0)) || it_fail "set-up: $MEASURE sums to $live_sum live, $truth_sum in the truth"
echo "  generation 1: $MEASURE is 0 everywhere (the truth sums to $truth_sum)"

# the report's figures, freshness and provenance: all but the clock's (when it was generated,
# the age of the lag figure), one key a line
figures() {
    it_report --month "$MONTH" --format json --output "$W/report.json" 2>>"$W/report.log" \
        || it_fail "jiceng-report failed: $(tail -3 "$W/report.log")"
    "$PY" -c 'import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("generated_at", "lag_age_ms")}
    return [strip(x) for x in v] if isinstance(v, list) else v
print(json.dumps(strip(json.load(open(sys.argv[1]))), sort_keys=True, indent=0))' "$W/report.json"
}
before=$(figures)
samples=0 mid=0
same_report() { # same_report WHEN: the report equals the one taken before the rebuild
    local now; now=$(figures)
    [[ $now == "$before" ]] || it_fail "the live report changed $1: $(diff <(echo "$before") <(echo "$now") | head -6)"
    samples=$((samples + 1))
}
gen_progress() { it_sql "select coalesce(sum(next_offset), 0) from jiceng_gen_2.consumer_progress" 2>/dev/null || echo 0; }

"${AGGREGATE[@]}" rebuild --migrate-conninfo "$MIGRATE_CONNINFO" --batch-events 100 --batch-ms 10 \
    >"$W/rebuild.out" 2>"$W/rebuild.log" &
pid=$!
deadline=$((SECONDS + 120))
while (($(gen_progress) == 0)); do
    ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null || it_fail "the rebuild made no progress: $(tail -3 "$W/rebuild.log")"
    sleep 0.05
done
kill -STOP "$pid"
grep -q '^generation 2 (schema jiceng_gen_2): building' "$W/rebuild.out" || it_fail "rebuild did not make generation 2: $(cat "$W/rebuild.out")"
paused=$(gen_progress)
((paused > 0 && paused < DELIVERED)) || it_fail "the rebuild was paused at $paused of $DELIVERED: the test proves too little"
echo "  rebuild paused half way: generation 2 at $paused of $DELIVERED messages"
same_report "while the rebuild was paused half way"
mid=1
it_check_refused "promote refuses generation 2 while it lags" "has not caught up: [0-9]+ partition" \
    "${AGGREGATE[@]}" promote 2 --migrate-conninfo "$MIGRATE_CONNINFO"
it_check_refused "drop refuses the current generation 1" "generation 1 is current" \
    "${AGGREGATE[@]}" drop 1 --migrate-conninfo "$MIGRATE_CONNINFO"
kill -CONT "$pid"
while kill -0 "$pid" 2>/dev/null; do
    same_report "while the rebuild ran"
done
wait "$pid" || it_fail "rebuild failed: $(tail -3 "$W/rebuild.log")"
same_report "after the rebuild finished, before promote"
grep -q 'generation 2 has caught up' "$W/rebuild.out" || it_fail "rebuild did not say it caught up: $(cat "$W/rebuild.out")"
(($(gen_progress) == DELIVERED)) || it_fail "generation 2 consumed $(gen_progress) of $DELIVERED messages"
echo "  the live report was the same all $samples times it was taken during and after the rebuild"

it_check_ok "promote 2 once it has caught up" "${AGGREGATE[@]}" promote 2 --migrate-conninfo "$MIGRATE_CONNINFO"
it_checks_done
after=$(figures)
[[ $after != "$before" ]] || it_fail "the report did not change with the promotion"
"$PY" -c 'import json, sys
p = json.load(open(sys.argv[1])).get("provenance") or sys.exit("the report has no provenance")
assert p["generation"] == 2, p
assert sum(p["offsets"].values()) == int(sys.argv[2]), p' "$W/report.json" "$DELIVERED" \
    || it_fail "the report's provenance is not generation 2 at $DELIVERED messages"
"$PY" "$CHECK" truth "$W/gen" "$SRC" "$W/report.json" --month "$MONTH" --region province \
    --group "$GROUP-gen2" || it_fail "after promote, the report differs from the ground truth"

# every report view over generation 2 holds the ground truth's rows (the report role reads them)
for f in "$W"/gen/expected/*.csv; do
    t=$(basename "$f" .csv)
    [[ $(head -1 "$f") == county_code,day* ]] || continue
    have=$(psql -X -q "$REPORT_CONNINFO" -c "\\copy (select * from jiceng.report_$t limit 0) to stdout csv header")
    cols=$("$PY" -c 'import sys; have = sys.argv[2].split(","); print(",".join(c for c in sys.argv[1].split(",") if c in have))' "$(head -1 "$f")" "$have")
    "$PY" -c 'import csv, sys
rows = csv.DictReader(open(sys.argv[1])); cols = sys.argv[2].split(",")
print(sys.argv[2]); [print(",".join(r[c] for c in cols)) for r in rows]' "$f" "$cols" | sort >"$W/want-$t.csv"
    psql -X -q "$REPORT_CONNINFO" -c "\\copy (select $cols from jiceng.report_$t) to stdout csv header" | sort >"$W/got-$t.csv"
    diff -q "$W/want-$t.csv" "$W/got-$t.csv" >/dev/null || it_fail "report_$t differs from the ground truth: $(diff "$W/want-$t.csv" "$W/got-$t.csv" | head -4)"
    echo "  report_$t: $(($(wc -l <"$W/got-$t.csv") - 1)) rows equal the ground truth"
done
it_report --month "$MONTH" --format text --output "$W/report.txt" 2>>"$W/report.log" || it_fail "text report failed"
grep -q "Provenance: generation 2, $DELIVERED messages applied over [0-9]* partitions" "$W/report.txt" \
    || it_fail "the text report's footer does not name generation 2 at $DELIVERED messages: $(tail -2 "$W/report.txt")"
# the migrator re-creates the views over the current generation, not generation 1
it_migrate
[[ $(figures) == "$after" ]] || it_fail "migrate after the promotion changed the report"
runs=$(it_migrate_sql "select string_agg(distinct generation::text, ',' order by generation::text) from jiceng.report_runs")
[[ $runs == 1,2 ]] || it_fail "jiceng.report_runs records generations '$runs', expected 1,2"

it_check_ok "drop the retired generation 1" "${AGGREGATE[@]}" drop 1 --migrate-conninfo "$MIGRATE_CONNINFO"
it_check_refused "drop refuses the current generation 2" "generation 2 is current" \
    "${AGGREGATE[@]}" drop 2 --migrate-conninfo "$MIGRATE_CONNINFO"
it_check_refused "promote refuses the dropped generation 1" "generation 1 is dropped" \
    "${AGGREGATE[@]}" promote 1 --migrate-conninfo "$MIGRATE_CONNINFO"
it_checks_done
[[ $(figures) == "$after" ]] || it_fail "dropping generation 1 changed the report"
"${AGGREGATE[@]}" generations --migrate-conninfo "$MIGRATE_CONNINFO" | sed 's/^/  /'
echo "PASS: rebuild into generation 2 ($samples reports, $mid paused half way, all unchanged), promote refused while it lagged, then the report equals the truth with $MEASURE; drop refused for the current generation"
