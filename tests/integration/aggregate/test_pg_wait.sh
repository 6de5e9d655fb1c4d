#!/usr/bin/env bash
# test_pg_wait.sh: jiceng-aggregate started while PostgreSQL is not there (issue 11, item 8)
# waits, retrying with backoff and saying so in its log, and consumes everything exactly once
# PostgreSQL appears; with --pg-wait it gives up after that long with a clear error (exit 1).
# PostgreSQL "appears" as a TCP forwarder (tcp_forward.py) in front of the stack's, started on a
# port where nothing listened before: the stack itself is never stopped.
source "$(dirname "$0")/lib.sh"
it_init pgwait
it_topics 2
it_gen --events 3000 --seed 7
it_produce_workload
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AWAY=${CONNINFO/:$JICENG_PG_PORT\//:$PORT/}
[[ $AWAY != "$CONNINFO" ]] || it_fail "could not move the conninfo to port $PORT: $CONNINFO"

# bounded: gives up after --pg-wait seconds, saying so
rc=0
it_aggregate --conninfo "$AWAY" --pg-wait 2 --until-caught-up 2>"$W/bounded.log" || rc=$?
it_check_ok "--pg-wait 2: exit 1 (exit $rc)" test "$rc" = 1
it_check_ok "--pg-wait 2: each retry at start is logged" \
    grep -q "at start: postgres: connect: .*; retrying in [0-9]* ms" "$W/bounded.log"
it_check_ok "--pg-wait 2: the error says it gave up waiting" grep -Eq \
    "PostgreSQL still unavailable after [0-9]+ s of waiting at start: .*\(JC_ERR_PG\)" "$W/bounded.log"

# unbounded: waits until PostgreSQL is there, then does its work
"${AGGREGATE[@]}" --conninfo "$AWAY" --until-caught-up 2>"$W/wait.log" &
pid=$!
deadline=$((SECONDS + 120))
until (($(grep -c "at start: postgres: connect:" "$W/wait.log") >= 2)); do
    kill -0 "$pid" 2>/dev/null || it_fail "jiceng-aggregate exited while PostgreSQL was away: $(tail -2 "$W/wait.log")"
    ((SECONDS < deadline)) || it_fail "no retry logged in 120 s"
    sleep 0.2
done
"$PY" "$HERE/tcp_forward.py" "$PORT" "$JICENG_PG_PORT" >"$W/forward.log" 2>&1 &
rc=0
wait "$pid" || rc=$?
it_check_ok "once PostgreSQL is there: exit 0 (exit $rc: $(tail -1 "$W/wait.log"))" test "$rc" = 0
it_check_ok "it says PostgreSQL answered" \
    grep -q "PostgreSQL answered at start after [0-9]* attempt" "$W/wait.log"
it_checks_done
it_expect_truth "$W/gen"
echo "PASS: jiceng-aggregate waits for PostgreSQL at start (and gives up after --pg-wait)"
