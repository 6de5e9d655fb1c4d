#!/usr/bin/env bash
# test_cooperative.sh: cooperative rebalancing keeps what stays (issue 12, item 7).
#
# Three instances (a, b, c) consume 4 topics x 8 partitions while events flow; d joins, then c
# leaves (SIGTERM). From the staying instances' debug lines (partitions_assigned / _revoked /
# _lost, which list every partition that changed), checks that:
#   - a and b never lose a partition: every partition revoked from them once d started moved to
#     the joiner d, and none is ever "lost";
#   - the ledger is loaded outside the rebalance callback: before c leaves, one of its partitions
#     gets a synthetic dedup ledger of 1,000,000 ids, whose reading is held back (a gate in
#     PostgreSQL, below) until whoever takes the partition over has committed batches of its
#     other partitions; that instance then logs ledger_loaded for it with the ids read and the
#     batches it committed meanwhile (more than 0);
# and the aggregates equal the ground truth.
source "$(dirname "$0")/lib.sh"
it_init cooperative
it_topics 8
it_gen --events 240000 --seed 43
LOGS=$W/logs
mkdir -p "$LOGS"
start() {
    "${AGGREGATE[@]}" --batch-events 2000 --batch-ms 50 --log-format json --log-level debug \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 2>"$LOGS/$1.log" &
    eval "pid_$1=$!"
}
# held_by NAME: the partitions NAME holds now, "topic partition" lines (rebalance_log.py)
held_by() {
    "$PY" "$HERE/rebalance_log.py" held "$LOGS/$1.log"
}
wait_assigned() { # wait_assigned NAME: until NAME holds partitions
    local deadline=$((SECONDS + 90))
    until [[ -n $(held_by "$1") ]]; do
        ((SECONDS < deadline)) || it_fail "instance $1 got no partition in 90 s: $(tail -2 "$LOGS/$1.log")"
        sleep 0.5
    done
}
wait_shared_out() { # wait_shared_out NAME...: until NAMEs together hold all 32 partitions, once each
    local deadline=$((SECONDS + 90)) all
    while :; do
        all=$(for i in "$@"; do held_by "$i"; done)
        [[ $(wc -l <<<"$all") == 32 && $(sort -u <<<"$all" | wc -l) == 32 ]] && return
        ((SECONDS < deadline)) || it_fail "$* do not hold the 32 partitions once each after 90 s"
        sleep 0.5
    done
}
produce_chunks() { # produce_chunks FILE...: one after the other, as county systems publish
    for f in "$@"; do it_produce "$f" 2>>"$W/produce.log" || true; sleep 0.5; done
}
# progress_of NAME: the stored offsets of NAME's partitions other than the big one, added up
progress_of() {
    local t p values=""
    while read -r t p; do
        [[ $t == "$big_topic" && $p == "$big_part" ]] && continue
        values+="${values:+,}('$t', $p)"
    done < <(held_by "$1")
    it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress
            where (topic, partition) in (values $values)"
}
split -l 10000 -d "$W/gen/events.ndjson" "$W/chunk."
chunks=("$W"/chunk.*)
half=$((${#chunks[@]} / 2))
start a; start b; start c
produce_chunks "${chunks[@]:0:half}" &
producer=$!
wait_assigned a; wait_assigned b; wait_assigned c
# the first members share the partitions out in more than one rebalance when one of them joins
# later (it got everything, then gives some up): the check below judges the stayers from d's
# start on (its first log line), so d starts only once that is over
wait_shared_out a b c
sleep 2
start d
wait_assigned d
sleep 1
# One of c's partitions gets a ledger of 1,000,000 ids behind a gate: a row-level security
# policy makes reading that partition's ledger rows wait for an advisory lock the test holds,
# so whoever takes the partition over when c leaves is loading its ledger until the test has
# seen that instance commit batches of its other partitions.
read -r big_topic big_part < <(held_by c | head -1)
[[ -n $big_topic ]] || it_fail "c holds nothing after d joined"
it_sql "insert into jiceng.dedup_ledger (topic, partition, first_offset, entries)
        select '$big_topic', $big_part, -1 - g,
               string_agg(substring(sha256(int8send(g * 100000 + i)) from 1 for 20), ''::bytea)
        from generate_series(0, 9) g, generate_series(1, 100000) i group by g" >/dev/null
it_migrate_sql "
create function jiceng.it_gate(t text, p integer) returns boolean language plpgsql as \$\$
begin
    if t = '$big_topic' and p = $big_part then
        perform pg_advisory_xact_lock_shared(4242);
    end if;
    return true;
end \$\$;
alter table jiceng.dedup_ledger enable row level security;
create policy it_gate on jiceng.dedup_ledger for select using (jiceng.it_gate(topic, partition));
create policy it_insert on jiceng.dedup_ledger for insert with check (true);
create policy it_delete on jiceng.dedup_ledger for delete using (true);" >/dev/null
mkfifo "$W/gate"
psql -X -q -At "$CONNINFO" <"$W/gate" >"$W/gate.out" 2>&1 &
gate_psql=$!
exec 7>"$W/gate"
echo "select 'locked' from pg_advisory_lock(4242);" >&7
until grep -q locked "$W/gate.out"; do
    kill -0 "$gate_psql" 2>/dev/null || it_fail "the gate's session ended: $(cat "$W/gate.out")"
    sleep 0.2
done
echo "  $big_topic [$big_part] (held by c) has a gated ledger of 1,000,000 ids; c leaves"
kill -TERM "$pid_c"
rc=0; wait "$pid_c" || rc=$?
[[ $rc == 0 ]] || it_fail "instance c exited $rc after SIGTERM: $(tail -2 "$LOGS/c.log")"
wait "$producer" || true
owner="" deadline=$((SECONDS + 90))
while [[ -z $owner ]]; do
    for i in a b d; do held_by "$i" | grep -qx "$big_topic $big_part" && owner=$i; done
    [[ -n $owner ]] || ((SECONDS < deadline)) || it_fail "nobody took $big_topic [$big_part] over"
    sleep 0.5
done
before=$(progress_of "$owner")
produce_chunks "${chunks[@]:half}" &
producer=$!
deadline=$((SECONDS + 120))
until (( $(progress_of "$owner") > before )); do
    ((SECONDS < deadline)) || it_fail "$owner committed nothing while $big_topic [$big_part]'s ledger loaded"
    sleep 0.5
done
echo "  $owner committed its other partitions (stored offsets $before -> $(progress_of "$owner")) while the ledger load waited; gate opened"
echo "select pg_advisory_unlock(4242);" >&7
exec 7>&-
wait "$gate_psql" || true
wait "$producer" || true
sent=$(grep -o 'delivered [0-9]*' "$W/produce.log" | awk '{s += $2} END {print s}')
[[ $sent == "$DELIVERED" ]] || it_fail "produced $sent of $DELIVERED: $(tail -1 "$W/produce.log")"
it_wait_consumed "$DELIVERED" 240
# the staying instances' logs up to here (stopping them revokes everything they hold)
for i in a b d; do cp "$LOGS/$i.log" "$LOGS/$i.before-stop.log"; done
for i in a b d; do
    pid=pid_$i
    kill -TERM "${!pid}"
    rc=0; wait "${!pid}" || rc=$?
    [[ $rc == 0 ]] || it_fail "instance $i exited $rc after SIGTERM: $(tail -2 "$LOGS/$i.log")"
done
"$PY" "$HERE/rebalance_log.py" check --joiner "$LOGS/d.before-stop.log" \
    --big "$big_topic" "$big_part" --stayers "$LOGS/a.before-stop.log" "$LOGS/b.before-stop.log" \
    --all "$LOGS/a.before-stop.log" "$LOGS/b.before-stop.log" "$LOGS/d.before-stop.log" \
    || it_fail "rebalancing took partitions from an instance that stayed, or loaded a ledger inside the callback"
it_expect_truth "$W/gen"
echo "PASS: cooperative rebalancing: staying instances kept their partitions; ledger loaded outside the callback; exact result"
