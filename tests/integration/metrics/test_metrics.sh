#!/usr/bin/env bash
# test_metrics.sh: jiceng-aggregate's metrics and health endpoints (--metrics-listen; issue 12,
# items 1 and 2) on a real workload: a jiceng-gen month through jiceng-produce plus the
# third-party poison (kafka_tool.py: malformed, conflicting, wrong topic and key, re-sends).
# While the consumer runs, scraped over HTTP on a port it picked itself:
#   - consumed messages (sum over topics) = the messages produced = the offsets in PostgreSQL;
#   - applied events (sum over types, and per type) = the events in the aggregate day tables;
#   - duplicates = the re-sends the workload and the poison hold;
#   - rejects by topic and reason = the rejects table grouped the same way;
#   - each partition's lag is 0 once caught up, /healthz and /readyz answer 200.
# Then a second instance of the group reaching PostgreSQL through a TCP forwarder serves the
# endpoints over TLS with basic authentication (401 without it); the forwarder is killed, and
# /readyz turns 503 saying PostgreSQL is unreachable while /healthz stays 200. A password file
# others may read is refused (exit 2).
source "$(dirname "$0")/../aggregate/lib.sh"
it_init metrics
it_topics 4
it_gen --events 20000 --seed 23
it_produce_workload
it_kafka_tool poison "$PREFIX" "$JC_SOURCE/schemas/avro" "$W/gen/events.ndjson" \
    "$W/gen/expected/rejects.csv" "$KEYRING" "$W/poison.csv" >"$W/poison.log"
hostile_dups=$(sed -n 's/^expected duplicates: //p' "$W/poison.log")
poisoned=$(($(wc -l <"$W/poison.csv") - 1))
produced=$((DELIVERED + poisoned + hostile_dups))
gen_dups=$(($(wc -l <"$W/gen/expected/duplicates.csv") - 1))
echo "  produced $produced messages ($DELIVERED by jiceng-produce, $poisoned poison to reject, $hostile_dups hostile re-sends)"

# listening URL_PATTERN LOG PID: the port the consumer logged (event metrics_listening: "metrics
# on http://127.0.0.1:PORT/metrics")
listening() {
    local deadline=$((SECONDS + 60)) port=""
    until [[ -n $port ]]; do
        kill -0 "$3" 2>/dev/null || it_fail "jiceng-aggregate exited: $(tail -3 "$2")"
        ((SECONDS < deadline)) || it_fail "no metrics_listening log line in 60 s: $(tail -3 "$2")"
        port=$(grep -Eo "metrics on $1:[0-9]+" "$2" | head -1 | sed 's/.*://' || true)
        [[ -n $port ]] || sleep 0.2
    done
    echo "$port"
}

# code URL [CURL ARGS...]: the HTTP status of GET URL
code() {
    local url=$1; shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# until_code WANT URL [CURL ARGS...]: poll until GET URL answers WANT (at most 90 s)
until_code() {
    local want=$1 deadline=$((SECONDS + 90)); shift
    until [[ $(code "$@") == "$want" ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# msum NAME FILE: the sum of NAME's samples in the exposition FILE
msum() {
    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%d\n", s }' "$2"
}

# ---- the consumer on the workload, scraped over HTTP -----------------------------------------
"${AGGREGATE[@]}" --metrics-listen 127.0.0.1:0 2>"$W/aggregate.log" &
agg=$!
PORT=$(listening 'http://127\.0\.0\.1' "$W/aggregate.log" "$agg")
URL=http://127.0.0.1:$PORT
echo "  metrics on $URL"
until_code 200 "$URL/readyz" || it_fail "/readyz never answered 200: $(curl -s "$URL/readyz")"
it_wait_consumed "$produced" 300
deadline=$((SECONDS + 60))
while :; do   # the snapshot follows the commit within a stats interval
    curl -sS --max-time 5 "$URL/metrics" >"$W/metrics.txt" || it_fail "scraping /metrics failed"
    [[ $(msum jiceng_consumed_messages_total "$W/metrics.txt") == "$produced" ]] && break
    ((SECONDS < deadline)) || break
    sleep 0.5
done

consumed=$(msum jiceng_consumed_messages_total "$W/metrics.txt")
stored=$(it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress")
it_check_ok "consumed ($consumed) = produced ($produced)" test "$consumed" = "$produced"
it_check_ok "consumed ($consumed) = offsets in PostgreSQL ($stored)" test "$consumed" = "$stored"

declare -A in_db=(
    [visit]="select coalesce(sum(visits), 0) from jiceng.visits_daily"
    [petition]="select coalesce(sum(received + resolved + followed_up), 0) from jiceng.petitions_daily"
    [disaster_response]="select coalesce(sum(responses), 0) from jiceng.disaster_responses_daily"
    [training_completion]="select coalesce(sum(completions), 0) from jiceng.trainings_daily"
)
total_db=0
for type in "${!in_db[@]}"; do
    db=$(it_sql "${in_db[$type]}")
    got=$(msum "jiceng_applied_events_total{type=\"$type\"}" "$W/metrics.txt")
    it_check_ok "applied $type: metrics $got = day tables $db" test "$got" = "$db"
    total_db=$((total_db + db))
done
applied=$(msum jiceng_applied_events_total "$W/metrics.txt")
it_check_ok "applied events: metrics $applied = day tables $total_db (> 0)" \
    test "$applied" = "$total_db" -a "$applied" -gt 0
dups=$(msum jiceng_duplicate_events_total "$W/metrics.txt")
it_check_ok "duplicates: metrics $dups = $gen_dups in the workload + $hostile_dups hostile" \
    test "$dups" = $((gen_dups + hostile_dups))

sed -n 's/^jiceng_rejected_messages_total{topic="\([^"]*\)",reason="\([^"]*\)"} \([0-9]*\)$/\1,\2,\3/p' \
    "$W/metrics.txt" | sort >"$W/rejects-metrics.csv"
it_sql "select topic || ',' || status || ',' || count(*) from jiceng.rejects group by topic, status" \
    | sort >"$W/rejects-db.csv"
it_check_ok "rejects by topic and reason: metrics = rejects table ($poisoned, $(wc -l <"$W/rejects-db.csv") kinds)" \
    diff "$W/rejects-metrics.csv" "$W/rejects-db.csv"
it_check_ok "rejects: $poisoned in the table" test "$(it_sql "select count(*) from jiceng.rejects")" = "$poisoned"

lags=$(grep -c '^jiceng_partition_lag_messages{' "$W/metrics.txt" || true)
it_check_ok "a lag series per assigned partition ($lags of 16)" test "$lags" = 16
it_check_ok "lag 0 everywhere once caught up" test "$(msum jiceng_partition_lag_messages "$W/metrics.txt")" = 0
for m in jiceng_build_info jiceng_batch_flush_duration_seconds_count jiceng_batch_events_count \
         jiceng_assigned_partitions jiceng_newest_applied_event_age_seconds \
         jiceng_last_commit_age_seconds jiceng_dedup_ids jiceng_county_newest_event_age_seconds \
         jiceng_client_certificate_expiry_seconds process_resident_memory_bytes \
         process_cpu_seconds_total process_start_time_seconds; do
    it_check_ok "$m has a sample" grep -q "^$m[{ ]" "$W/metrics.txt"
done
it_check_ok "/healthz 200" test "$(code "$URL/healthz")" = 200
it_check_ok "/readyz 200 {\"status\":\"ok\"}" test "$(curl -s --max-time 5 "$URL/readyz")" = '{"status":"ok"}'
it_check_ok "/nowhere 404" test "$(code "$URL/nowhere")" = 404
kill -TERM "$agg"
rc=0
wait "$agg" || rc=$?
it_check_ok "SIGTERM: exit 0 (exit $rc)" test "$rc" = 0

# ---- TLS, basic authentication, and PostgreSQL going away ---------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$W/metrics.key" -out "$W/metrics.crt" 2>/dev/null || it_fail "openssl req failed"
chmod 600 "$W/metrics.key"
(umask 077; printf 'prom-secret\n' >"$W/metrics.password")
SECURE=(--metrics-tls-cert "$W/metrics.crt" --metrics-tls-key "$W/metrics.key" --metrics-user prometheus)
cp "$W/metrics.password" "$W/open.password" && chmod 644 "$W/open.password"
rc=0
JICENG_METRICS_PASSWORD_FILE=$W/open.password it_aggregate --metrics-listen 127.0.0.1:0 "${SECURE[@]}" \
    >"$W/open.log" 2>&1 || rc=$?
it_check_ok "a password file others may read: exit 2 (exit $rc)" test "$rc" = 2
it_check_ok "... naming the file" grep -q "open.password" "$W/open.log"
rc=0
it_aggregate --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$W/metrics.crt" >"$W/half.log" 2>&1 || rc=$?
it_check_ok "a TLS certificate without its key: exit 2 (exit $rc)" test "$rc" = 2

FWD=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AWAY=${CONNINFO/:$JICENG_PG_PORT\//:$FWD/}
[[ $AWAY != "$CONNINFO" ]] || it_fail "could not move the conninfo to port $FWD: $CONNINFO"
"$PY" "$HERE/tcp_forward.py" "$FWD" "$JICENG_PG_PORT" >"$W/forward.log" 2>&1 &
fwd=$!
JICENG_METRICS_PASSWORD_FILE=$W/metrics.password \
    "${AGGREGATE[@]}" --conninfo "$AWAY" --metrics-listen 127.0.0.1:0 "${SECURE[@]}" 2>"$W/secure.log" &
agg=$!
PORT=$(listening 'https://127\.0\.0\.1' "$W/secure.log" "$agg")
URL=https://127.0.0.1:$PORT
AUTH=(--cacert "$W/metrics.crt" -u prometheus:prom-secret)
until_code 200 "$URL/readyz" "${AUTH[@]}" || it_fail "/readyz over TLS never answered 200: $(curl -s "${AUTH[@]}" "$URL/readyz")"
it_check_ok "TLS + basic auth: /metrics 200" test "$(code "$URL/metrics" "${AUTH[@]}")" = 200
it_check_ok "no credentials: 401" test "$(code "$URL/metrics" --cacert "$W/metrics.crt")" = 401
it_check_ok "a wrong password: 401" test "$(code "$URL/metrics" --cacert "$W/metrics.crt" -u prometheus:guess)" = 401
it_check_ok "plain HTTP on the TLS port: no answer" test "$(code "http://127.0.0.1:$PORT/metrics")" != 200
kill -KILL "$fwd"
wait "$fwd" 2>/dev/null || true
if until_code 503 "$URL/readyz" "${AUTH[@]}"; then it_check_pass "PostgreSQL gone: /readyz 503"
else it_check_fail "PostgreSQL gone: /readyz still $(code "$URL/readyz" "${AUTH[@]}")"; fi
it_check_ok "... saying why" grep -q '"reason":"PostgreSQL is unreachable"' \
    <(curl -s --max-time 5 "${AUTH[@]}" "$URL/readyz")
it_check_ok "... while /healthz stays 200 (the loop is alive)" test "$(code "$URL/healthz" "${AUTH[@]}")" = 200
kill -TERM "$agg"
wait "$agg" 2>/dev/null || true
it_checks_done
echo "PASS: metrics agree with PostgreSQL ($consumed consumed, $applied applied, $dups duplicates, $poisoned rejects); health, readiness, TLS and basic auth"
