#!/usr/bin/env bash
# test_access.sh: jiceng-access against the real stack (Kafka with client certificates and ACLs,
# PostgreSQL as the migration role), on scratch topics and a scratch database
# (tests/integration/aggregate/lib.sh), for two county systems, 522730 and 522731 (counties no
# other test provisions).
#
#   add        certificate, ACLs, signing key and files, mode 0600 in 0700 directories; the
#              key is in the table and open; run again, nothing changes (output, files, table)
#   produce    jiceng-produce with the county's own config file: its records are delivered,
#              signed with its key (checked in Python, tests/interop/jiceng_sign.py, against
#              the key file) and stamped by the broker (LogAppendTime); another county's
#              records are rejected ("no signing key for county N"); its certificate may not
#              write the dead-letter topic
#   rotate-key the file holds a new key; the old one closes after the grace period
#   rotate-cert a new certificate (another serial) that the broker accepts
#   revoke     ACLs removed and keys closed; producing then fails; revoking again changes
#              nothing; add brings the county back with a new key. County A also holds its role
#              on a second prefix (grant-role): revoking the first keeps IDEMPOTENT_WRITE, which
#              goes with the last prefix (revoke-role)
#   stack      `stack grant-prefix` and `revoke-prefix` of a scratch prefix (jiceng-access
#              grant-role / revoke-role for the stack's principals) leave the ACLs on the real
#              topics, the cluster and the groups as they were
#   secrets    no command line of openssl (each recorded by a shim on PATH) or of any process
#              sampled from /proc every 20 ms while `add` runs (openssl's children are too short
#              to be caught reliably that way: the shim catches them) holds the CA's passphrase
#              or a signing secret, and no output of jiceng-access shows one
set -euo pipefail
# shellcheck source=../aggregate/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../aggregate/lib.sh"

A=522730 B=522731
access_cleanup() {
    local rc=$?
    [[ -n ${ACCESS[*]:-} ]] && "${ACCESS[@]}" revoke $A $B >/dev/null 2>&1
    [[ -n ${ACCESS2[*]:-} ]] && "${ACCESS2[@]}" revoke-role county=User:county-$A >/dev/null 2>&1
    (exit $rc)
    it_cleanup
}
it_init access
trap access_cleanup EXIT
it_topics 4
OUT=$W/clients
ACCESS=("$JC_BUILD/tools/access/jiceng-access" --topic-prefix "$PREFIX" --conninfo "$MIGRATE_CONNINFO"
        --out "$OUT")
CONF_A=$OUT/county-$A/county-$A.conf CONF_B=$OUT/county-$B/county-$B.conf
P2=${PREFIX}p2.  # a second prefix county A holds its role on (no topics needed for ACLs)
ACCESS2=("$JC_BUILD/tools/access/jiceng-access" --topic-prefix "$P2")

# openssl through a shim that records its command lines
mkdir -m 700 "$W/bin"
cat >"$W/bin/openssl" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >> "$W/openssl-argv.log"
exec $(command -v openssl) "\$@"
EOF
chmod 700 "$W/bin/openssl"
export PATH=$W/bin:$PATH

# sample_cmdlines FILE: every process's command line, every 20 ms, until killed
sample_cmdlines() {
    while :; do
        for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' 2>/dev/null <"$f" && echo; done >>"$1"
        sleep 0.02
    done
}

# key_id FILE: the key id in a signing key file
key_id() { sed -n 's/^key_id=//p' "$1"; }

# ---- add ----
sample_cmdlines "$W/cmdlines.log" &
sampler=$!
"${ACCESS[@]}" add $A $B >"$W/add1.log" 2>&1 || it_fail "add failed: $(cat "$W/add1.log")"
kill "$sampler"; wait "$sampler" 2>/dev/null || true
cat "$W/add1.log"
for c in $A $B; do
    it_check_ok "add $c: certificate issued" grep -q "county-$c: certificate issued" "$W/add1.log"
    it_check_ok "add $c: 9 ACLs granted" grep -q "county-$c: ACLs granted (9 new)" "$W/add1.log"
    it_check_ok "add $c: signing key issued" grep -Eq "county-$c: signing key $c-[0-9]{14} issued" "$W/add1.log"
    it_check_ok "add $c: config written" grep -q "county-$c: config written" "$W/add1.log"
    dir=$OUT/county-$c
    it_check_ok "add $c: directory 0700" test "$(stat -c %a "$dir")" = 700
    it_check_ok "add $c: files 0600" test "$(stat -c %a "$dir"/* | sort -u)" = 600
    it_check_ok "add $c: no leftover files" test "$(ls "$dir" | sort | tr '\n' ' ')" = "ca.crt county-$c.conf signing.key tls.crt tls.key "
    id=$(key_id "$dir/signing.key")
    it_check_ok "add $c: its key is in the table, open" \
        test "$(it_migrate_sql "select count(*) from jiceng.signing_keys where key_id = '$id' and county_code = $c and valid_until is null and valid_from <= now()")" = 1
done
"${ACCESS[@]}" list >"$W/list1.log" 2>&1 || it_fail "list failed: $(cat "$W/list1.log")"
it_check_ok "list: the county's WRITE ACL on the scratch topic" \
    grep -Eq "User:county-$A +ALLOW WRITE +TOPIC ${PREFIX//./\\.}jiceng\.visits" "$W/list1.log"
it_check_ok "list: IDEMPOTENT_WRITE on the cluster" \
    grep -Eq "User:county-$A +ALLOW IDEMPOTENT_WRITE +CLUSTER kafka-cluster" "$W/list1.log"
it_check_ok "list: the county's key" grep -q "$(key_id "$OUT/county-$A/signing.key")" "$W/list1.log"

# ---- add again: nothing changes ----
sums() { sha256sum "$OUT"/county-*/* ; it_migrate_sql "select key_id, valid_from, valid_until from jiceng.signing_keys where county_code in ($A, $B) order by 1"; }
sums >"$W/sums1"
"${ACCESS[@]}" add $A $B >"$W/add2.log" 2>&1 || it_fail "add again failed: $(cat "$W/add2.log")"
sums >"$W/sums2"
it_check_ok "add twice: nothing issued, granted or written" \
    test "$(grep -Ec 'issued|granted|written' "$W/add2.log")" = 0
it_check_ok "add twice: 8 lines saying unchanged" test "$(grep -c unchanged "$W/add2.log")" = 8
it_check_ok "add twice: files and key table unchanged" cmp -s "$W/sums1" "$W/sums2"

# ---- produce as county A: own county delivered and signed, county B's rejected ----
it_gen --events 3000 --malformed-rate 0 --dup-rate 0 --late-rate 0
read -r NA NB < <("$PY" - "$W/gen/events.ndjson" "$W/mixed.ndjson" $A $B <<'EOF'
import json, sys
src, dst, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
n = {a: 0, b: 0}
with open(src) as f, open(dst, "w") as out:
    for line in f:
        c = json.loads(line).get("county_code")
        if c in n:
            out.write(line)
            n[c] += 1
print(n[a], n[b])
EOF
)
((NA > 0 && NB > 0)) || it_fail "the workload has no events of $A or $B ($NA, $NB)"
produce_as() { # produce_as CONF FILE REJECTS
    "$JC_BUILD/producers/jiceng-produce" --config "$1" --topic-prefix "$PREFIX" --rejects "$3" \
        -X message.timeout.ms=10000 "$2"
}
rc=0; produce_as "$CONF_A" "$W/mixed.ndjson" "$W/rejects-a.ndjson" 2>"$W/produce-a.log" || rc=$?
it_check_ok "produce as $A: exit 1 (the other county's records)" test "$rc" = 1
it_check_ok "produce as $A: $NA delivered, $NB rejected" \
    grep -q "delivered $NA, rejected $NB, undelivered 0" "$W/produce-a.log"
it_check_ok "produce as $A: rejects say no signing key for $B" \
    test "$(grep -c "\"status\":\"JC_ERR_UNAUTHORIZED\",\"reason\":\"no signing key for county $B\"" "$W/rejects-a.ndjson")" = "$NB"

# check_signed KEYFILE COUNT: COUNT records on the scratch event topics carry KEYFILE's key id,
# verify under its secret and were stamped by the broker
check_signed() {
    "$PY" - "$PREFIX" "$1" "$2" "$SRC/tests/interop" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[4])
import jiceng_sign
from confluent_kafka import Consumer, TopicPartition, TIMESTAMP_LOG_APPEND_TIME
import json
prefix, keyfile, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
key = jiceng_sign.read_key(keyfile)
conf = json.load(open(os.path.join(os.environ["JICENG_CLIENTS"], "admin.json")))
conf.update({"group.id": "access-check", "enable.auto.commit": False})
c = Consumer(conf)
parts = []
for t in ["jiceng.visits", "jiceng.petitions", "jiceng.disaster-responses", "jiceng.trainings"]:
    md = c.list_topics(prefix + t, timeout=10).topics[prefix + t]
    parts += [TopicPartition(prefix + t, p, 0) for p in md.partitions]
end = {(tp.topic, tp.partition): c.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}
c.assign(parts)
seen = good = 0
while sum(end.values()) > 0:
    m = c.poll(5)
    if m is None:
        break
    if m.error():
        continue
    end[(m.topic(), m.partition())] -= 1
    h = dict(m.headers() or [])
    if h.get("jiceng.key-id", b"").decode() != key.key_id:
        continue
    seen += 1
    sig = jiceng_sign.signature(key.secret, m.topic(), m.key(), m.value())
    if h.get("jiceng.sig", b"").decode() == sig and m.key() == str(key.county).encode() \
            and m.timestamp()[0] == TIMESTAMP_LOG_APPEND_TIME:
        good += 1
c.close()
print(f"{good} of {seen} records with key {key.key_id} verify (want {want})")
sys.exit(0 if good == seen == want else 1)
EOF
}
it_check_ok "records of $A signed with its key, verified in Python, LogAppendTime" \
    check_signed "$OUT/county-$A/signing.key" "$NA"
refused_deadletter_as() { # COUNTY: its certificate is refused writing the dead-letter topic
    "$PY" - "$PREFIX" "$OUT/county-$1" <<'EOF'
import sys
from confluent_kafka import Producer
prefix, d = sys.argv[1], sys.argv[2]
p = Producer({"bootstrap.servers": [l.split("=", 1)[1].strip() for l in open(d + "/" + d.rsplit("/", 1)[1] + ".conf") if l.startswith("kafka.bootstrap.servers=")][0],
              "security.protocol": "ssl", "ssl.ca.location": d + "/ca.crt",
              "ssl.certificate.location": d + "/tls.crt", "ssl.key.location": d + "/tls.key",
              "message.timeout.ms": 10000})
errors = []
p.produce(prefix + "jiceng.dead-letter", b"x", on_delivery=lambda e, m: errors.append(e))
p.flush(15)
print(errors[0] if errors and errors[0] else "delivered")
sys.exit(0 if errors and errors[0] is not None and "AUTHORIZATION" in str(errors[0]).upper() else 1)
EOF
}
it_check_ok "the county's certificate cannot write the dead-letter topic" refused_deadletter_as $A

# ---- rotate-key ----
OLD=$(key_id "$OUT/county-$A/signing.key")
"${ACCESS[@]}" rotate-key $A >"$W/rotate-key.log" 2>&1 || it_fail "rotate-key failed: $(cat "$W/rotate-key.log")"
cat "$W/rotate-key.log"
NEW=$(key_id "$OUT/county-$A/signing.key")
it_check_ok "rotate-key: a new key in the file" test "$NEW" != "$OLD"
it_check_ok "rotate-key: the old key closes after the grace period (10 min)" \
    test "$(it_migrate_sql "select valid_until between now() + interval '9 minutes' and now() + interval '10 minutes 30 seconds' from jiceng.signing_keys where key_id = '$OLD'")" = t
it_check_ok "rotate-key: the new key is valid and open" \
    test "$(it_migrate_sql "select valid_from <= now() and valid_until is null from jiceng.signing_keys where key_id = '$NEW'")" = t
grep -m 50 "\"county_code\":$A" "$W/mixed.ndjson" >"$W/a50.ndjson"
N50=$(wc -l <"$W/a50.ndjson")
it_check_ok "rotate-key: a restarted producer delivers" produce_as "$CONF_A" "$W/a50.ndjson" "$W/rejects-a2.ndjson"
it_check_ok "rotate-key: signing with the new key" check_signed "$OUT/county-$A/signing.key" "$N50"

# ---- rotate-cert ----
SERIAL_B=$(openssl x509 -in "$OUT/county-$B/tls.crt" -noout -serial)
"${ACCESS[@]}" rotate-cert $B >"$W/rotate-cert.log" 2>&1 || it_fail "rotate-cert failed: $(cat "$W/rotate-cert.log")"
it_check_ok "rotate-cert: another serial" test "$(openssl x509 -in "$OUT/county-$B/tls.crt" -noout -serial)" != "$SERIAL_B"
grep -m 20 "\"county_code\":$B" "$W/mixed.ndjson" >"$W/b20.ndjson"
it_check_ok "rotate-cert: the broker takes the new certificate" produce_as "$CONF_B" "$W/b20.ndjson" "$W/rejects-b.ndjson"

# ---- revoke ----
"${ACCESS2[@]}" grant-role county=User:county-$A >"$W/grant-p2.log" 2>&1 || it_fail "grant-role failed: $(cat "$W/grant-p2.log")"
it_check_ok "grant-role on a second prefix: 8 new (the cluster's is there)" \
    grep -q "User:county-$A: ACLs granted (8 new): role county" "$W/grant-p2.log"
# acl_lines PRINCIPAL: the principal's ACLs as `acls` lists them
acl_lines() { "${ACCESS[@]}" acls | grep -E "^ +$1 " || true; }
"${ACCESS[@]}" revoke $A >"$W/revoke1.log" 2>&1 || it_fail "revoke failed: $(cat "$W/revoke1.log")"
cat "$W/revoke1.log"
it_check_ok "revoke: 8 ACLs removed (IDEMPOTENT_WRITE kept: the second prefix needs it)" \
    grep -q "county-$A: 8 ACLs removed" "$W/revoke1.log"
acl_lines "User:county-$A" >"$W/acls-a1.txt"
it_check_ok "revoke: IDEMPOTENT_WRITE and the second prefix's 8 ACLs remain, nothing else" \
    test "$(grep -Ec "IDEMPOTENT_WRITE +CLUSTER kafka-cluster" "$W/acls-a1.txt") $(grep -Ec " TOPIC ${P2//./\\.}jiceng\." "$W/acls-a1.txt") $(wc -l <"$W/acls-a1.txt")" = "1 8 9"
"${ACCESS2[@]}" revoke-role county=User:county-$A >"$W/revoke-p2.log" 2>&1 || it_fail "revoke-role failed: $(cat "$W/revoke-p2.log")"
it_check_ok "revoke-role of the last prefix: 9 ACLs removed, IDEMPOTENT_WRITE with them" \
    grep -q "User:county-$A: 9 ACLs removed (role county)" "$W/revoke-p2.log"
it_check_ok "revoke-role: the county holds no ACL" test -z "$(acl_lines "User:county-$A")"
it_check_ok "revoke: keys closed" grep -Eq "county-$A: [0-9]+ signing keys close at" "$W/revoke1.log"
it_check_ok "revoke: no key of the county stays open" \
    test "$(it_migrate_sql "select count(*) from jiceng.signing_keys where county_code = $A and (valid_until is null or valid_until > now() + interval '1 minute')")" = 0
rc=0; produce_as "$CONF_A" "$W/a50.ndjson" "$W/rejects-a3.ndjson" 2>"$W/produce-a3.log" || rc=$?
tail -2 "$W/produce-a3.log"
it_check_ok "revoke: the county can no longer write (exit 1)" test "$rc" = 1
it_check_ok "revoke: nothing delivered" grep -q "delivered 0, rejected 0, undelivered $N50" "$W/produce-a3.log"
it_check_ok "revoke: refused by authorization" grep -qi "authoriz" "$W/rejects-a3.ndjson" "$W/produce-a3.log"
"${ACCESS[@]}" revoke $A >"$W/revoke2.log" 2>&1 || it_fail "revoke again failed: $(cat "$W/revoke2.log")"
it_check_ok "revoke twice: no ACL removed" grep -q "county-$A: 0 ACLs removed" "$W/revoke2.log"
it_check_ok "revoke twice: no key closed" grep -q "county-$A: no signing key left to close" "$W/revoke2.log"
"${ACCESS[@]}" add $A >"$W/add3.log" 2>&1 || it_fail "add after revoke failed: $(cat "$W/add3.log")"
it_check_ok "add after revoke: ACLs again" grep -q "ACLs granted (9 new)" "$W/add3.log"
it_check_ok "add after revoke: a new key" grep -q "is closed: issuing a new one" "$W/add3.log"

# ---- the stack's scratch prefixes leave the real topics' ACLs alone ----
# real_acls: the stack principals' ACLs on names without a scratch prefix
real_acls() { "${ACCESS[@]}" acls | grep -E "User:(aggregator|steward|health|loadgen) " | grep -E " (jiceng[.-]|kafka-cluster)" || true; }
real_acls >"$W/real1.txt"
P3=${PREFIX}p3.
"$STACK" grant-prefix "$P3" >"$W/stack-grant.log" 2>&1 || it_fail "stack grant-prefix failed: $(cat "$W/stack-grant.log")"
it_check_ok "stack grant-prefix: the steward may read the prefix's dead-letter topic" \
    grep -Eq "User:steward +ALLOW READ +TOPIC ${P3//./\\.}jiceng\.dead-letter" <("${ACCESS[@]}" acls)
"$STACK" revoke-prefix "$P3" >"$W/stack-revoke.log" 2>&1 || it_fail "stack revoke-prefix failed: $(cat "$W/stack-revoke.log")"
it_check_ok "stack revoke-prefix: nothing left on the prefix" \
    test -z "$("${ACCESS[@]}" acls | grep -F " $P3" || true)"
real_acls >"$W/real2.txt"
it_check_ok "stack revoke-prefix: the real topics', cluster and group ACLs unchanged ($(wc -l <"$W/real1.txt") of them)" \
    cmp -s "$W/real1.txt" "$W/real2.txt"
it_check_ok "the real topics: loadgen keeps IDEMPOTENT_WRITE" grep -Eq "User:loadgen +ALLOW IDEMPOTENT_WRITE" "$W/real2.txt"

# ---- secrets ----
"${ACCESS[@]}" list >"$W/list2.log" 2>&1 || it_fail "list failed"
PASS=$(cat "$JICENG_PKI/private/ca.pass")
leaks=0
for f in "$W/openssl-argv.log" "$W/cmdlines.log" "$W/list2.log" "$W"/*.log; do
    grep -qF -- "$PASS" "$f" && { echo "the CA passphrase is in $f"; leaks=1; }
    for k in "$OUT"/county-*/signing.key; do
        s=$(sed -n 's/^secret=//p' "$k")
        grep -qiF -- "$s" "$f" && { echo "a signing secret is in $f"; leaks=1; }
    done
done
it_check_ok "no secret on any command line, in any output" test $leaks = 0
it_check_ok "openssl read the CA passphrase from its file" grep -q -- "-passin file:$JICENG_PKI/private/ca.pass" "$W/openssl-argv.log"
it_check_ok "openssl ran (its command lines were recorded)" grep -q "^x509 -req" "$W/openssl-argv.log"
it_check_ok "the sampler saw jiceng-access run" grep -q "jiceng-access .*add $A $B" "$W/cmdlines.log"
it_checks_done
