#!/usr/bin/env bash
# bench/join-pause.sh: the pause when a fourth instance joins a group of three (issue 12,
# item 7).
#
# usage: bench/join-pause.sh [EVENTS [PARTITIONS]]     (defaults 3000000 and 12 per topic)
#
# Needs the stack and a build (JC_BUILD, default build/ of the checkout; JICENG_STATE as for the
# tests); everything is made and removed as the integration tests do it (tests/integration/
# aggregate/lib.sh). A workload of EVENTS events is produced first (a steady backlog); three
# jiceng-aggregate instances (a, b, c) consume it; once the three hold every partition between
# them (their partitions_assigned / _revoked lines), jiceng.end_offsets knows every partition's
# end and every partition with messages has been flushed, the time T0 is taken from PostgreSQL, the partitions with a backlog then
# (end offset past the stored offset) are noted, and d is started. From then on the script
# polls jiceng.consumer_progress (every 0.1 s), until each partition d was given has been
# flushed by d (a stored offset written after d's partitions_assigned line) or has no backlog
# left. It prints (bench/join-pause.py), from T0 (the join): d's partitions_assigned; the
# stayers' revocations (each flushes its open batch first); d's last ledger_loaded; and the
# PAUSE, T0 -> the first flush by d of the last of its partitions (the partitions that stayed
# are consumed throughout, so this is the time until every partition is consumed again; +- the
# 0.1 s poll). If no moved partition had a backlog left, it says so: give more EVENTS.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$HERE
export JC_BUILD=${JC_BUILD:-$HERE/../build}
export JICENG_STATE=${JICENG_STATE:-$HERE/../.jiceng}
events=${1:-3000000} partitions=${2:-12}
# shellcheck source=../tests/integration/aggregate/lib.sh
source "$HERE/../tests/integration/aggregate/lib.sh"
it_init join-pause
it_topics "$partitions"
total=$((4 * partitions))
echo "workload: $events events, $total partitions; producing the backlog"
it_gen --events "$events" --seed 59
it_produce_workload
start() {
    "${AGGREGATE[@]}" --log-format json --log-level debug 2>"$W/$1.log" &
    eval "pid_$1=$!"
}
held_count_by() { "$PY" "$HERE/rebalance_log.py" held "$W/$1.log" | wc -l; }
progress() { # rows "topic partition epoch-of-updated_at" of partitions flushed after $1
    it_sql "select topic, partition, extract(epoch from updated_at) from jiceng.consumer_progress
            where group_id = '$GROUP' and updated_at > to_timestamp($1)" | tr '|' ' '
}
held() { # how many partitions a, b and c hold, added up (each holding some)
    local i n sum=0
    for i in a b c; do
        n=$(held_count_by "$i")
        ((n > 0)) || { echo 0; return; }
        sum=$((sum + n))
    done
    echo "$sum"
}
flushing() { # 1 once every partition that has messages has been flushed
    it_sql "select count(*) = (select count(*) from jiceng.end_offsets
                               where group_id = '$GROUP' and end_offset > 0)
            from jiceng.consumer_progress where group_id = '$GROUP'"
}
start a; start b; start c
deadline=$((SECONDS + 300))
until [[ $(held) == "$total" ]] &&
      [[ $(it_sql "select count(*) from jiceng.end_offsets where group_id = '$GROUP'") == "$total" ]] &&
      [[ $(flushing) == t ]]; do
    ((SECONDS < deadline)) || it_fail "a, b and c did not settle on the $total partitions in 300 s"
    sleep 0.2
done
t0=$(it_sql "select extract(epoch from clock_timestamp())")
it_sql "select e.topic, e.partition from jiceng.end_offsets e left join jiceng.consumer_progress p
        using (group_id, topic, partition)
        where e.group_id = '$GROUP' and e.end_offset > coalesce(p.next_offset, 0)" >"$W/backlog"
consumed=$(it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress where group_id = '$GROUP'")
echo "a, b, c hold the $total partitions; $consumed of $DELIVERED messages consumed;" \
     "$(wc -l <"$W/backlog") partitions have a backlog; d joins"
start d
: >"$W/seen"
deadline=$((SECONDS + 300))
while :; do
    progress "$t0" >>"$W/seen"
    it_sql "select e.topic, e.partition from jiceng.end_offsets e left join jiceng.consumer_progress p
            using (group_id, topic, partition)
            where e.group_id = '$GROUP' and e.end_offset > coalesce(p.next_offset, 0)" \
        | tr '|' ' ' >"$W/left"
    waiting=$("$PY" "$BENCH/join-pause.py" waiting "$t0" "$W")
    [[ $waiting == 0 ]] && break
    ((SECONDS < deadline)) || it_fail "d's partitions not all flushed 300 s after the join ($waiting waiting)"
    sleep 0.1
done
stop=$(it_sql "select extract(epoch from clock_timestamp())")
for i in a b c d; do pid=pid_$i; kill -TERM "${!pid}"; done
for i in a b c d; do pid=pid_$i; wait "${!pid}" || echo "note: instance $i exited $?"; done
"$PY" "$BENCH/join-pause.py" report "$t0" "$W" "$stop" || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
