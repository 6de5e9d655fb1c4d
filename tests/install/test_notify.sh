#!/usr/bin/env bash
# test_notify.sh: jiceng-aggregate's systemd notifications (consumers/notify.h) against the real
# stack. No systemd runs as PID 1 here, so notify-listener.py stands in for it on NOTIFY_SOCKET,
# with WATCHDOG_USEC set as systemd sets it for WatchdogSec=. Checked, in the order received:
# STATUS=starting first; READY=1 exactly once, before any watchdog pat; WATCHDOG=1 again and
# again while it consumes (at least 3 after READY); a STATUS line with every partition assigned
# and the events applied; on SIGTERM exit 0 and STOPPING=1, the last datagram, sent once.
source "$JC_SOURCE/tests/integration/aggregate/lib.sh"
it_init notify
it_topics 2
it_gen --events 3000 --seed 5
it_produce_workload

sock=$W/notify.sock log=$W/notify.log
python3 "$(dirname "$0")/notify-listener.py" "$sock" "$log" &

# wait_until WHAT CMD...: until CMD succeeds; a guard against hanging, not a timed assertion
wait_until() {
    local what=$1 deadline=$((SECONDS + 180)); shift
    until "$@"; do
        ((SECONDS < deadline)) || it_fail "no $what after 180 s: $(tail -3 "$log" 2>/dev/null)"
        [[ -z ${agg:-} ]] || kill -0 "$agg" 2>/dev/null \
            || it_fail "jiceng-aggregate ended early: $(tail -3 "$W/aggregate.log")"
        sleep 0.2
    done
}
wait_until "listener" grep -qs '^listening$' "$log"

NOTIFY_SOCKET=$sock WATCHDOG_USEC=2000000 "${AGGREGATE[@]}" 2>"$W/aggregate.log" &
agg=$!

# the partitions (4 topics x 2) and at least one event applied, in a status line after READY
applied_status() { grep -Eq 'STATUS=partitions 8, consumed [0-9]+, applied [1-9]' "$log"; }
pats_after_ready() { (($(sed -n '/READY=1/,$p' "$log" | grep -c 'WATCHDOG=1') >= 3)); }
wait_until "READY=1" grep -q 'READY=1' "$log"
wait_until "status with applied events" applied_status
wait_until "3 watchdog pats after READY=1" pats_after_ready

kill -TERM "$agg"
rc=0; wait "$agg" || rc=$?
agg=""
[[ $rc == 0 ]] || it_fail "jiceng-aggregate exit $rc after SIGTERM, expected 0: $(tail -3 "$W/aggregate.log")"
wait_until "STOPPING=1" grep -q 'STOPPING=1' "$log"

echo "datagrams received (first 3, last 2):"; sed -n '2,4p' "$log"; tail -2 "$log"
it_check_ok "STATUS=starting is the first datagram" grep -q '^STATUS=starting' <(sed -n 2p "$log")
it_check_ok "READY=1 exactly once" test "$(grep -c 'READY=1' "$log")" = 1
it_check_ok "no WATCHDOG=1 before READY=1" test "$(sed '/READY=1/,$d' "$log" | grep -c 'WATCHDOG=1')" = 0
it_check_ok "STOPPING=1 exactly once" test "$(grep -c 'STOPPING=1' "$log")" = 1
it_check_ok "STOPPING=1 is the last datagram" grep -q 'STOPPING=1' <(tail -1 "$log")
it_checks_done
echo "PASS: READY=1, $(grep -c 'WATCHDOG=1' "$log") watchdog pats, STOPPING=1 on SIGTERM, exit 0"
