#!/usr/bin/env bash
# test_truth.sh: the report's figures are the ground truth's. A jiceng-gen month (with late
# events, re-sends and malformed records) goes through jiceng-produce and jiceng-aggregate into
# a scratch database; jiceng-report, connected as the read-only role jiceng_report, writes the
# JSON report for that month for the province, the prefecture and the county of the first
# disaster incident (so every section has data); check_report.py recomputes every figure from
# the generator's expected/*.csv and the reference CSVs, without the SQL views or the C library,
# and requires equality (headline, breakdowns, ranking with the previous month, silent counties,
# trend, freshness). The CSV report must carry the JSON's values and the text report's tables
# must be aligned by display width.
source "$(dirname "$0")/../aggregate/lib.sh"
CHECK="$(dirname "$0")/check_report.py"
MONTH=2025-06
it_init report-truth
it_topics 4
it_gen --month "$MONTH" --events 40000 --seed 23
it_produce_workload
it_aggregate --until-caught-up 2>"$W/aggregate.log" || it_fail "jiceng-aggregate failed: $(tail -3 "$W/aggregate.log")"
county=$(sed -n 2p "$W/gen/expected/disaster_incidents.csv" | cut -d, -f1)
prefecture=$(awk -F, -v c="$county" '$1 == c { print $5 }' "$JC_SOURCE/schemas/reference/guizhou_counties.csv")
[[ -n $county && -n $prefecture ]] || it_fail "no disaster incident in the workload"

check_region() { # check_region NAME REGION FLAGS...
    local name=$1 region=$2; shift 2
    for f in json csv text; do
        it_report --month "$MONTH" "$@" --format "$f" --output "$W/$name.$f" 2>"$W/report.log" \
            || it_fail "jiceng-report --format $f $*: $(cat "$W/report.log")"
    done
    "$PY" "$CHECK" truth "$W/gen" "$JC_SOURCE" "$W/$name.json" --month "$MONTH" --region "$region" \
        --group "$GROUP" || it_fail "the $name report differs from the ground truth"
    "$PY" "$CHECK" csv "$W/$name.json" "$W/$name.csv" || it_fail "the $name CSV differs from its JSON"
    "$PY" "$CHECK" text "$W/$name.text" || it_fail "the $name text report is not aligned"
}
check_region province province
check_region prefecture "prefecture:$prefecture" --prefecture "$prefecture"
check_region county "county:$county" --county "$county"
echo "PASS: province, prefecture $prefecture and county $county reports for $MONTH equal the ground truth"
