#!/usr/bin/env bash
# test_deadletter.sh: the dead-letter copies of rejects (issue 11, items 7 and 14). Records that
# a third-party client (confluent-kafka, as the load generator, unsigned: every one is a reject)
# publishes on the visits topic go to jiceng.rejects whole, and to the dead-letter topic:
#   (a) a reject larger than the dead-letter topic's max.message.bytes (set to 64 KiB by the
#       administrator), and one larger than the producer's own message.max.bytes (1 MB),
#       arrive cut, as a prefix, with the whole's length and SHA-256 in their headers;
#   (c) a null key or value stays null and an empty one empty, in the table and on the topic;
#   (b) with the dead-letter topic deleted (as the administrator), every copy fails: the
#       consumer produces each again (twice) and then names it in its log as failed, counts
#       them, exits 3 (after SIGTERM), and jiceng.rejects still holds every reject;
#   14a: -X fetch.max.bytes (a consumer property) and -X message.timeout.ms (a producer one)
#       make neither client warn (CONFWARN).
source "$(dirname "$0")/lib.sh"
it_init deadletter
it_topics 3
TOOL=("$PY" "$HERE/deadletter_tool.py")
VISITS=${PREFIX}jiceng.visits DLQ=${PREFIX}jiceng.dead-letter
LIMIT=65536

# the rejects of $1 (a deadletter_tool.py publish file) as the table must hold them, and as it does
expected_rows() {
    "$PY" - "$1" <<'EOF'
import json, sys
def cells(f):
    return ["t", "-1", ""] if f is None else ["f", str(f["length"]), f["sha256"]]
for r in json.load(open(sys.argv[1])):
    print("|".join([str(r["partition"]), str(r["offset"])] + cells(r["key"]) + cells(r["value"])))
EOF
}
table_rows() {
    local offsets; offsets=$("$PY" -c 'import json,sys; print(",".join("(%d,%d)" % (r["partition"], r["offset"]) for r in json.load(open(sys.argv[1]))))' "$1")
    it_sql "select partition, kafka_offset,
                   msg_key is null, coalesce(length(msg_key), -1), coalesce(encode(sha256(msg_key), 'hex'), ''),
                   payload is null, coalesce(length(payload), -1), coalesce(encode(sha256(payload), 'hex'), '')
            from jiceng.rejects where topic = '$VISITS' and (partition, kafka_offset) in ($offsets)
            order by kafka_offset, partition" | sort -t'|' -k2,2n -k1,1n
}
no_confwarn() { ! grep -q CONFWARN "$1"; }

it_check_ok "the dead-letter topic takes at most $LIMIT bytes" "${TOOL[@]}" set-max-bytes "$DLQ" $LIMIT
"${TOOL[@]}" publish "$VISITS" "$W/first.json" 6/300000 6/1040000 null/empty empty/null null/null \
    empty/empty 6/100 || it_fail "publishing the first rejects failed"
rc=0
it_aggregate --until-caught-up -X fetch.max.bytes=8388608 -X message.timeout.ms=20000 \
    2>"$W/first.log" || rc=$?
it_check_ok "first run exits 0 (exit $rc: $(tail -1 "$W/first.log"))" test "$rc" = 0
it_check_ok "first run: every copy delivered, 2 of them cut, none failed" \
    grep -q 'dead letters 7 (2 cut, [0-9]* retries, 0 failed)' "$W/first.log"
it_check_ok "first run: no CONFWARN from either client" no_confwarn "$W/first.log"
it_check_ok "the table holds every reject whole, null distinct from empty" \
    diff <(expected_rows "$W/first.json" | sort -t'|' -k2,2n -k1,1n) <(table_rows "$W/first.json")
"${TOOL[@]}" check "$DLQ" "$W/first.json" $LIMIT || it_check_fail "the dead-letter copies (above)"

it_check_ok "the administrator deletes the dead-letter topic" "${TOOL[@]}" delete-topic "$DLQ"
"${TOOL[@]}" publish "$VISITS" "$W/second.json" 6/50 null/empty empty/null \
    || it_fail "publishing the second rejects failed"
# running (not at its end, where a failure is final): each copy times out, is produced again
# twice, then counted as failed; SIGTERM once all 3 have failed
"${AGGREGATE[@]}" -X fetch.max.bytes=8388608 -X message.timeout.ms=2000 2>"$W/second.log" &
pid=$!
deadline=$((SECONDS + 180))
until (($(grep -c "not delivered to $DLQ" "$W/second.log") >= 3)); do
    kill -0 "$pid" 2>/dev/null || it_fail "jiceng-aggregate exited early: $(tail -2 "$W/second.log")"
    ((SECONDS < deadline)) || it_fail "the copies have not all failed after 180 s: $(tail -2 "$W/second.log")"
    sleep 0.5
done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
it_check_ok "second run exits 3: copies failed (exit $rc: $(tail -1 "$W/second.log"))" test "$rc" = 3
it_check_ok "second run: 6 retries and 3 failures counted" \
    grep -q 'dead letters 0 (0 cut, 6 retries, 3 failed)' "$W/second.log"
it_check_ok "second run: the exit says why" \
    grep -q '3 reject(s) not copied to the dead-letter topic' "$W/second.log"
while IFS=, read -r part off; do
    it_check_ok "second run: [$part] @$off produced a third time" grep -Eq \
        "dead-letter copy of $VISITS \[$part\] @$off: .*; producing it again \(attempt 3 of 3\)" \
        "$W/second.log"
    it_check_ok "second run: the failure of [$part] @$off is logged" grep -Eq \
        "dead-letter copy of $VISITS \[$part\] @$off \(.*\) not delivered to $DLQ: .*kept in jiceng.rejects" \
        "$W/second.log"
done < <("$PY" -c 'import json,sys; [print("%d,%d" % (r["partition"], r["offset"])) for r in json.load(open(sys.argv[1]))]' "$W/second.json")
it_check_ok "second run: no CONFWARN from either client" no_confwarn "$W/second.log"
it_check_ok "the table still holds every reject" \
    diff <(expected_rows "$W/second.json" | sort -t'|' -k2,2n -k1,1n) <(table_rows "$W/second.json")
it_check_ok "the table holds 10 rejects of the visits topic in all" \
    test "$(it_sql "select count(*) from jiceng.rejects where topic = '$VISITS'")" = 10
it_checks_done
echo "PASS: dead-letter copies cut to fit, null kept distinct from empty, failures counted and in the exit status"
