#!/usr/bin/env bash
# test_role.sh: the role jiceng_report reads the report views and nothing else. On a freshly
# migrated scratch database, as that role: every report view answers; every base table (the
# aggregates, the reference tables, consumer progress, the dedup ledger, rejects, the
# migrations' bookkeeping, the signing keys) refuses a select with "permission denied for
# table"; insert, update, delete and truncate of base tables, and creating a table in the
# schema, are refused with the permission error; the catalogue grants it SELECT on exactly the
# report views and no write privilege on any relation but inserting report runs (migration 011) (views included: PostgreSQL reports a
# write to a join view as "not automatically updatable" before it checks privileges, so the
# catalogue is the proof there). jiceng-report itself runs as the role against the empty
# database.
source "$(dirname "$0")/../aggregate/lib.sh"
it_init report-role
VIEWS="report_consumer_lag report_counties report_disaster_incidents report_disaster_responses_daily
report_disaster_responses_prefecture_daily report_disaster_responses_province_daily report_freshness
report_petitions_daily report_petitions_prefecture_daily report_petitions_province_daily
report_training_trainees report_trainings_daily report_trainings_prefecture_daily
report_trainings_province_daily report_visit_cadres report_visits_daily report_visits_prefecture_daily
report_visits_province_daily report_generation"
TABLES="visits_daily visit_cadres petitions_daily disaster_responses_daily disaster_incidents
trainings_daily training_trainees consumer_progress dedup_ledger rejects counties prefectures
schema_migrations signing_keys end_offsets"

as_report() { psql -X -q -v ON_ERROR_STOP=1 -At "$REPORT_CONNINFO" -c "$1" 2>&1; }

expect_denied() { # expect_denied SQL MESSAGE
    local out
    if out=$(as_report "$1"); then it_fail "jiceng_report may run: $1"; fi
    grep -q "$2" <<<"$out" || it_fail "'$1' failed otherwise than with '$2': $out"
}

[[ $(as_report "select current_user") == jiceng_report ]] || it_fail "not connected as jiceng_report"
for v in $VIEWS; do
    as_report "select count(*) from jiceng.$v" >/dev/null || it_fail "jiceng_report cannot read jiceng.$v"
done
[[ $(as_report "select count(*) from jiceng.report_counties") == 88 ]] || it_fail "report_counties is not the 88 counties"
for t in $TABLES; do
    expect_denied "select * from jiceng.$t limit 1" "permission denied for table $t"
done
expect_denied "insert into jiceng.visits_daily values (520102, '2025-01-01', 'COUNTY', 1, 1, 1, 1, 1, 1, 1)" \
    "permission denied for table visits_daily"
expect_denied "update jiceng.counties set name_zh = 'x'" "permission denied for table counties"
expect_denied "delete from jiceng.consumer_progress" "permission denied for table consumer_progress"
expect_denied "truncate jiceng.rejects" "permission denied for table rejects"
expect_denied "create table jiceng.mine (i int)" "permission denied for schema jiceng"
readable=$(it_sql "select string_agg(c.relname, ' ' order by c.relname) from pg_class c
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'jiceng'
    and has_table_privilege('jiceng_report', c.oid, 'SELECT')")
[[ $readable == "$(tr '\n' ' ' <<<"$VIEWS" | xargs -n1 | sort | xargs)" ]] \
    || it_fail "jiceng_report can select from: $readable"
writable=$(it_sql "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'jiceng' and (has_table_privilege('jiceng_report', c.oid, 'INSERT')
    or has_table_privilege('jiceng_report', c.oid, 'UPDATE') or has_table_privilege('jiceng_report', c.oid, 'DELETE')
    or has_table_privilege('jiceng_report', c.oid, 'TRUNCATE'))
    and not (c.relname = 'report_runs' and not has_table_privilege('jiceng_report', c.oid, 'UPDATE, DELETE, TRUNCATE'))")
[[ $writable == 0 ]] || it_fail "jiceng_report may write to $writable relations" # but insert report runs (011)
it_report --format json --output "$W/empty.json" || it_fail "jiceng-report failed on the empty database"
grep -q '"format": "jiceng-report"' "$W/empty.json" || it_fail "no report written"
echo "PASS: jiceng_report reads the $(wc -w <<<"$VIEWS") report views and nothing else; no write is allowed"
