#!/usr/bin/env bash
# test_signatures.sh: a county publishes only its own county, and a signing-key rotation in the
# middle of a live run loses nothing (issue 10, "Acceptance"; docs/signing.md).
#
# County A (520102, which no other test provisions: revoking a principal at the end removes all
# of its ACLs) is provisioned with jiceng-access: its own certificate, its ACLs on the test's
# topics, its signing key K1; county B is 520103. A jiceng-gen workload goes in as the county
# systems would send it: county A's valid events through a third-party producer
# (county_producer.py: confluent-kafka with A's certificate, fastavro,
# tests/interop/jiceng_sign.py), everything else through jiceng-produce as the load generator;
# jiceng-aggregate runs all along. In the middle,
# A's key is rotated (jiceng-access rotate-key, the minimum grace of 60 s): A's events go on
# being signed with K1 while the new key K2 is being issued and after it is valid, then with
# K2. Once K1 has ended, A's certificate publishes what must be refused: events signed with K1
# (and an event already counted, re-sent with K1), events carrying county B's code signed with
# K2, events without a signature, with a forged signature (K2's id, the MAC of other bytes;
# B's key id, a made-up secret); and messages that fail two checks, where the order of checks
# says which decides (county_producer.py has the list). Then:
#   - every aggregate table equals the generator's ground truth: nothing signed with a key valid
#     at its record's time was lost, and nothing refused was counted;
#   - the rejects table and the dead-letter topic hold exactly the refused messages, each with
#     its expected status and, for `unauthorized`, its verdict (the reason's first word), and
#     each reject keeps the record's headers;
#   - the rotation really happened in the middle: some K1-signed records were appended after K2
#     became valid, some K2-signed ones were counted, every K1-signed attack was appended after
#     K1's end.
source "$(dirname "$0")/../aggregate/lib.sh"
SEC=$(cd "$(dirname "$0")" && pwd)
CP() { "$PY" "$SEC/county_producer.py" "$@"; }
A=520102 B=520103
it_init sec-signatures
it_topics 4
it_gen --events 20000 --seed 71
"$JC_BUILD/producers/gen/jiceng-gen" --out "$W/fresh" --events 8000 --seed 72 >/dev/null

access() { "$JC_BUILD/tools/access/jiceng-access" --topic-prefix "$PREFIX" --conninfo "$MIGRATE_CONNINFO" \
    --out "$W/access" "$@"; }
cleanup_county() { access revoke "$A" >/dev/null 2>&1 || echo "note: could not revoke county $A" >&2; }
mkdir -m 700 "$W/access"
it_on_cleanup cleanup_county
access add "$A" >"$W/access.log" 2>&1 || it_fail "jiceng-access add $A: $(tail -3 "$W/access.log")"
CONF=$W/access/county-$A/county-$A.conf
cp -p "$W/access/county-$A/signing.key" "$W/k1.key"
K1=$(sed -n 's/^key_id=//p' "$W/k1.key")
echo "  county $A provisioned by jiceng-access: certificate, ACLs, signing key $K1"

CP split "$W/gen/events.ndjson" "$W/gen/expected/rejects.csv" "$A" "$W/a.ndjson" "$W/rest.ndjson"
CP split "$W/fresh/events.ndjson" "$W/fresh/expected/rejects.csv" "$A" "$W/fresh-a.ndjson" /dev/null
CP split "$W/fresh/events.ndjson" "$W/fresh/expected/rejects.csv" "$B" "$W/fresh-b.ndjson" /dev/null
N_A=$(wc -l <"$W/a.ndjson")
split -n l/4 -d "$W/a.ndjson" "$W/a.part."
echo "topic,partition,kafka_offset,timestamp_ms,key_id,status,verdict" >"$W/county.csv"

"${AGGREGATE[@]}" --batch-ms 200 2>"$W/aggregate.log" &
aggregator=$!

# the other counties, through jiceng-produce as the load generator (malformed lines refused there)
rc=0; it_produce "$W/rest.ndjson" 2>"$W/produce.log" || rc=$?
[[ $rc == 1 ]] || it_fail "jiceng-produce exit $rc, expected 1: $(tail -2 "$W/produce.log")"
grep -q "delivered $((DELIVERED - N_A)), rejected $MALFORMED, undelivered 0" "$W/produce.log" \
    || it_fail "produce summary: $(tail -1 "$W/produce.log"), expected $((DELIVERED - N_A)) delivered"

# county A, signing with K1; the rotation starts, A goes on with K1 meanwhile
CP valid "$PREFIX" "$CONF" "$W/k1.key" "$W/a.part.00" "$W/county.csv"
access --grace-ms 60000 rotate-key "$A" >"$W/rotate.log" 2>&1 &
rotation=$!
CP valid "$PREFIX" "$CONF" "$W/k1.key" "$W/a.part.01" "$W/county.csv"
wait "$rotation" || it_fail "jiceng-access rotate-key: $(tail -3 "$W/rotate.log")"
K2=$(sed -n 's/^key_id=//p' "$W/access/county-$A/signing.key")
[[ -n $K2 && $K2 != "$K1" ]] || it_fail "rotate-key left the signing key $K2 (was $K1)"
keys() { it_migrate_sql "select key_id, (extract(epoch from valid_from) * 1000)::bigint,
    coalesce((extract(epoch from valid_until) * 1000)::bigint, 0) from jiceng.signing_keys where key_id in ('$K1', '$K2')"; }
K2_FROM=$(keys | awk -F'|' -v k="$K2" '$1 == k { print $2 }')
K1_UNTIL=$(keys | awk -F'|' -v k="$K1" '$1 == k { print $3 }')
((K1_UNTIL > 0)) || it_fail "K1 ($K1) was not closed by the rotation"
echo "  rotated: $K2 valid from $(date -d "@$((K2_FROM / 1000))" +%T), $K1 ends at $(date -d "@$((K1_UNTIL / 1000))" +%T)"
# K2 is valid now (jiceng-access waited for it), K1 still in its grace period
CP valid "$PREFIX" "$CONF" "$W/k1.key" "$W/a.part.02" "$W/county.csv"
# after K1's end (by the database's clock): A signs with K2; K1 and the others are refused
until (( $(it_migrate_sql "select (extract(epoch from clock_timestamp()) * 1000)::bigint") > K1_UNTIL + 1000 )); do
    sleep 1
done
CP valid "$PREFIX" "$CONF" "$W/access/county-$A/signing.key" "$W/a.part.03" "$W/county.csv"
B_KEY=$(sed -n 's/^key_id=//p' "$KEYRING/$B.key")
CP attacks "$PREFIX" "$CONF" "$W/k1.key" "$W/access/county-$A/signing.key" "$B_KEY" "$W/fresh-a.ndjson" \
    "$W/fresh-b.ndjson" "$W/a.ndjson" "$W/county.csv"

total=$((DELIVERED - N_A + $(tail -n +2 "$W/county.csv" | wc -l)))
it_wait_consumed "$total" 120
kill -TERM "$aggregator"
rc=0; wait "$aggregator" || rc=$?
[[ $rc == 0 ]] || it_fail "jiceng-aggregate exited $rc after SIGTERM: $(tail -3 "$W/aggregate.log")"
tail -1 "$W/aggregate.log"

# the rotation happened in the middle of the run
"$PY" - "$W/county.csv" "$K1" "$K2" "$K2_FROM" "$K1_UNTIL" <<'PY' || it_fail "the rotation did not happen as planned"
import csv, sys
rows, k1, k2, k2_from, k1_until = list(csv.DictReader(open(sys.argv[1]))), *sys.argv[2:4], *map(int, sys.argv[4:6])
ok = [r for r in rows if r["status"] == ""]
k1_overlap = [r for r in ok if r["key_id"] == k1 and k2_from <= int(r["timestamp_ms"]) < k1_until]
k2_counted = [r for r in ok if r["key_id"] == k2]
k1_late = [r for r in ok if r["key_id"] == k1 and int(r["timestamp_ms"]) >= k1_until]
closed = [r for r in rows if r["verdict"] == "key-closed"]
print(f"  county A: {len(ok)} valid records, {len(k1_overlap)} signed with K1 after K2 became valid, "
      f"{len(k2_counted)} with K2; {len(rows) - len(ok)} refused")
assert k1_overlap and k2_counted and not k1_late, (len(k1_overlap), len(k2_counted), len(k1_late))
assert closed and all(int(r["timestamp_ms"]) >= k1_until for r in closed)
PY

it_expect_truth "$W/gen"
{ echo "topic,partition,kafka_offset,status,verdict"
  tail -n +2 "$W/county.csv" | awk -F, -v OFS=, '$6 != "" { print $1, $2, $3, $6, $7 }' \
      | LC_ALL=C sort -t, -k1,1 -k2,2n -k3,3n; } >"$W/rejects-want.csv"
psql -X -q "$CONNINFO" -c "\\copy (select topic, partition, kafka_offset, status,
    case when status = 'JC_ERR_UNAUTHORIZED' then split_part(reason, ':', 1) end as verdict
    from jiceng.rejects order by 1, 2, 3) to stdout csv header" >"$W/rejects-got.csv"
diff "$W/rejects-want.csv" "$W/rejects-got.csv" || it_fail "the rejects table is not exactly the refused messages"
n=$(($(wc -l <"$W/rejects-want.csv") - 1))
echo "  rejects table: the $n refused messages, each with its status and verdict; nothing else"
it_kafka_tool dead-letters "$PREFIX" >"$W/dlq.csv"
diff <(cut -d, -f1-4 "$W/rejects-want.csv") "$W/dlq.csv" || it_fail "the dead-letter topic is not exactly the refused messages"
headers=$(it_sql "select count(*) from jiceng.rejects r where cardinality(r.headers) <>
    case when r.reason like 'missing%' or r.status in ('JC_ERR_BAD_MAGIC', 'JC_ERR_UNKNOWN_SCHEMA') then 0 else 2 end")
[[ $headers == 0 ]] || it_fail "$headers rejects do not keep the record's headers"
echo "PASS: county $A's own records counted across the rotation $K1 -> $K2; other counties' codes, unsigned," \
     "forged and closed-key records refused as unauthorized; the aggregates equal the ground truth"
