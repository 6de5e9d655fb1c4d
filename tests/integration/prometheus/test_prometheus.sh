#!/usr/bin/env bash
# test_prometheus.sh: the stack's real Prometheus (deploy/local/prometheus, started by `stack up`)
# scrapes a real jiceng-aggregate found through file-based service discovery, and what its HTTP
# API says agrees with the database.
#
# A workload (duplicates and malformed lines included) is produced to the test's topics; one
# aggregator runs with --metrics-listen 127.0.0.1:0, and is registered (`deploy/local/prometheus
# register`) once it has said where it listens. When its committed offsets cover every message,
# Prometheus is polled (bounded) until it has scraped the final figures, then:
#   - sum by (type) of jiceng_applied_events_total for this instance equals, for each event
#     type, the events in the aggregate tables (visits; petitions' received + resolved +
#     followed-up steps; responses; completions), which equal the generator's ground truth;
#   - its target carries the file_sd labels (instance, group) and is up;
#   - pg_up is 1 (the exporter reaches PostgreSQL over TLS as prometheus_monitor), and that role
#     reads statistics but has no attribute, no membership but pg_monitor, cannot reach the
#     application databases, cannot write, cannot connect without TLS;
#   - the rules of deploy/prometheus/rules are loaded;
#   - killed with SIGKILL while still registered, the aggregator shows as up == 0 and alert
#     JicengAggregatorDown becomes pending (or firing); unregistered, its target goes away.
# The stack must have Prometheus: no JICENG_PROMETHEUS_URL in stack.env fails the test.
source "$JC_SOURCE/tests/integration/aggregate/lib.sh"
[[ -n ${JICENG_PROMETHEUS_URL:-} && -n ${JICENG_PROMETHEUS_TARGETS:-} ]] \
    || it_fail "no JICENG_PROMETHEUS_URL or JICENG_PROMETHEUS_TARGETS in $ENV_FILE: the stack has no Prometheus (deploy/local/stack up starts it)"
PROM=$JC_SOURCE/deploy/local/prometheus
PROMQL=("$PY" "$(dirname "${BASH_SOURCE[0]}")/promql.py" "$JICENG_PROMETHEUS_URL")

it_init prom
NAME=it-prom-$$
it_on_cleanup "\"$PROM\" unregister $NAME"
it_topics 4
it_gen --events 4000 --seed 29
it_produce_workload

# poll SECONDS COMMAND...: until COMMAND succeeds (0), at most SECONDS (1)
poll() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

"${AGGREGATE[@]}" --metrics-listen 127.0.0.1:0 --log-format json 2>"$W/aggregate.log" &
agg=$!
listening() {
    kill -0 "$agg" 2>/dev/null || it_fail "jiceng-aggregate exited: $(tail -3 "$W/aggregate.log")"
    PORT=$(grep -m1 '"event":"metrics_listening"' "$W/aggregate.log" | grep -o 'http://127\.0\.0\.1:[0-9]*' | sed 's/.*://')
    [[ -n $PORT ]]
}
poll 60 listening || it_fail "no metrics_listening log line from jiceng-aggregate in 60 s"
"$PROM" register "$NAME" "127.0.0.1:$PORT" "$GROUP" || it_fail "register failed"
[[ -f $JICENG_PROMETHEUS_TARGETS/$NAME.json ]] || it_fail "register wrote no $JICENG_PROMETHEUS_TARGETS/$NAME.json"
echo "aggregator $NAME on 127.0.0.1:$PORT, registered in $JICENG_PROMETHEUS_TARGETS"
it_wait_consumed "$DELIVERED" 300
it_expect_truth "$W/gen"

# the events each type put in the aggregate tables
it_sql "select 'disaster_response', coalesce(sum(responses), 0) from jiceng.disaster_responses_daily
  union all select 'petition', coalesce(sum(received + resolved + followed_up), 0) from jiceng.petitions_daily
  union all select 'training_completion', coalesce(sum(completions), 0) from jiceng.trainings_daily
  union all select 'visit', coalesce(sum(visits), 0) from jiceng.visits_daily" | tr '|' ' ' | sort >"$W/db.txt"
echo "events in the aggregate tables: $(tr '\n' ' ' <"$W/db.txt")"
total=$(awk '{ n += $2 } END { print n }' "$W/db.txt")
((total > 0)) || it_fail "no events in the aggregate tables"

# what Prometheus has scraped (the last scrape may predate the last commit: poll until equal)
applied=(query "sum by (type) (jiceng_applied_events_total{job=\"jiceng-aggregate\",instance=\"$NAME\"})" type)
scraped_equal() {
    "${PROMQL[@]}" "${applied[@]}" >"$W/prom.txt" 2>"$W/promql.err" || return 1
    cmp -s "$W/db.txt" "$W/prom.txt"
}
if ! poll 60 scraped_equal; then
    echo "Prometheus says:"; cat "$W/prom.txt" "$W/promql.err"
    it_fail "sum(jiceng_applied_events_total) by type in Prometheus never equalled the aggregate tables"
fi
echo "ok    Prometheus's jiceng_applied_events_total by type equals the aggregate tables ($total events)"

up=$("${PROMQL[@]}" query "up{job=\"jiceng-aggregate\",instance=\"$NAME\",group=\"$GROUP\"}") || it_fail "query up"
[[ $up == "- 1" ]] || it_fail "up for $NAME with its group label: '$up', expected 1"
echo "ok    the target has its file_sd labels (instance $NAME, group $GROUP) and is up"
# the exporter's current address, from its file_sd file (after a restart on other ports the old
# target's last samples stay visible for a few minutes)
exporter=$(grep -o '127\.0\.0\.1:[0-9]*' "$JICENG_STATE/prometheus/targets/postgres/exporter.json") \
    || it_fail "no exporter target in $JICENG_STATE/prometheus/targets/postgres/exporter.json"
pg_is_up() { [[ $("${PROMQL[@]}" query "pg_up{instance=\"$exporter\"}" 2>/dev/null) == "- 1" ]]; }
poll 30 pg_is_up || it_fail "pg_up from the exporter at $exporter: '$("${PROMQL[@]}" query "pg_up{instance=\"$exporter\"}")', expected 1"
echo "ok    pg_up 1 (prometheus-postgres-exporter as prometheus_monitor over TLS)"
# the exporter's role: pg_monitor, database postgres only, nothing more
monitor() {
    PGPASSFILE=$JICENG_STATE/prometheus/pgpass psql -X -q -v ON_ERROR_STOP=1 -At \
        "postgresql://prometheus_monitor@127.0.0.1:$JICENG_PG_PORT/$1?sslmode=verify-full" -c "$2"
}
seen=$(monitor postgres "select count(*) from pg_stat_activity where datname = '$DB'
    and usename = 'jiceng_aggregate' and query <> '<insufficient privilege>'") || seen=0
((seen > 0)) && it_check_pass "prometheus_monitor sees the aggregator's session and query in the test's database (pg_monitor)" \
    || it_check_fail "prometheus_monitor sees no session of the aggregator with its query"
[[ $(monitor postgres "select rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls
    from pg_roles where rolname = 'prometheus_monitor'") == f ]] \
    && it_check_pass "prometheus_monitor has no role attribute" || it_check_fail "prometheus_monitor has a role attribute"
[[ $(monitor postgres "select string_agg(r.rolname, ',') from pg_auth_members a join pg_roles r on r.oid = a.roleid
    join pg_roles u on u.oid = a.member where u.rolname = 'prometheus_monitor'") == pg_monitor ]] \
    && it_check_pass "prometheus_monitor is a member of pg_monitor only" || it_check_fail "prometheus_monitor's memberships"
it_check_refused "prometheus_monitor cannot connect to the test's database" 'no pg_hba.conf entry|permission denied for database' \
    monitor "$DB" 'select 1'
it_check_refused "prometheus_monitor cannot connect to database jiceng" 'no pg_hba.conf entry|permission denied for database' \
    monitor jiceng 'select 1'
it_check_refused "prometheus_monitor cannot write" 'permission denied|read-only' \
    monitor postgres 'create table public.x (i int)'
it_check_refused "plaintext is refused for prometheus_monitor" 'no pg_hba.conf entry|rejects connection' \
    env PGSSLMODE=disable PGPASSFILE="$JICENG_STATE/prometheus/pgpass" psql -X -At \
    "postgresql://prometheus_monitor@127.0.0.1:$JICENG_PG_PORT/postgres?sslmode=disable" -c 'select 1'
it_checks_done

rules=$("${PROMQL[@]}" rules) || it_fail "/api/v1/rules"
for alert in $(sed -n 's/^ *- alert: //p' "$JC_SOURCE/deploy/prometheus/rules/jiceng.rules.yml"); do
    grep -qx "$alert" <<<"$rules" || it_fail "alert $alert is not loaded in Prometheus"
done
echo "ok    every alert of deploy/prometheus/rules/jiceng.rules.yml is loaded"

# killed while registered: up 0, then the alert is pending
kill -KILL "$agg"; wait "$agg" 2>/dev/null || true
is_down() { [[ $("${PROMQL[@]}" query "up{instance=\"$NAME\"}" 2>/dev/null) == "- 0" ]]; }
poll 60 is_down || it_fail "up{instance=\"$NAME\"} is not 0 within 60 s of SIGKILL"
alerting() { "${PROMQL[@]}" alerts 2>/dev/null | grep -Eq "^JicengAggregatorDown $NAME (pending|firing)$"; }
poll 90 alerting || it_fail "no alert JicengAggregatorDown for $NAME within 90 s"
echo "ok    killed: up 0 and JicengAggregatorDown $("${PROMQL[@]}" alerts | awk -v n="$NAME" '$2 == n { print $3 }')"
"$PROM" unregister "$NAME"
gone() { [[ -z $("${PROMQL[@]}" query "up{instance=\"$NAME\"}" 2>/dev/null) ]]; }
poll 60 gone || it_fail "$NAME's target still there 60 s after unregister"
echo "ok    unregistered: the target is gone"
echo "PASS: Prometheus scraped the aggregator through file_sd; applied events equal the database; pg_up 1; the down alert works"
