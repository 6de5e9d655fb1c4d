#!/usr/bin/env bash
# test_restore.sh: a backup taken mid-run (deploy/ops/jiceng-backup, while jiceng-aggregate is
# consuming), the rest of the workload produced and consumed, the database destroyed (dropped,
# created empty as a new installation's would be) and restored (deploy/ops/jiceng-restore),
# migrated, and jiceng-aggregate resumed: every aggregate equals the ground truth. What makes
# that so is in the restored database alone: its stored offsets say where consuming resumes
# (the messages consumed after the backup are read again), and its dedup ledger recognises
# re-sends of events applied before the backup (the workload has 3% re-sends). Also checked:
# the restore brings back the catalog (owners, privileges, triggers) and every signing key row
# exactly, the signing-key table's triggers bind again afterwards, and a second restore into
# the now non-empty database is refused.
source "$(dirname "$0")/../aggregate/lib.sh"
BACKUP=$SRC/deploy/ops/jiceng-backup
RESTORE=$SRC/deploy/ops/jiceng-restore
CATALOG=$SRC/tests/integration/backup/catalog.sql
it_init restore
it_topics 6
it_gen --events 120000 --dup-rate 0.03 --seed 31
FIRST=80000                                    # lines produced before the backup
head -n "$FIRST" "$W/gen/events.ndjson" >"$W/part1.ndjson"
tail -n +"$((FIRST + 1))" "$W/gen/events.ndjson" >"$W/part2.ndjson"

progress() { it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress" 2>/dev/null || echo 0; }
catalog() { psql -X -q -v ON_ERROR_STOP=1 "$CONNINFO" -f "$CATALOG"; }

# produce_part FILE: produce FILE; prints "delivered rejected" (undelivered must be 0)
produce_part() {
    local log=$W/produce-$(basename "$1" .ndjson).log summary rc=0
    it_produce "$1" 2>"$log" || rc=$?
    ((rc <= 1)) || it_fail "jiceng-produce $1: exit $rc: $(tail -3 "$log")"
    summary=$(sed -nE 's/.*, delivered ([0-9]+), rejected ([0-9]+), undelivered 0.*/\1 \2/p' "$log" | tail -1)
    [[ -n $summary ]] || it_fail "jiceng-produce $1: summary $(tail -1 "$log")"
    echo "$summary"
}

read -r delivered1 rejected1 < <(produce_part "$W/part1.ndjson")
"${AGGREGATE[@]}" --batch-events 500 --batch-ms 20 2>>"$W/aggregate.log" &
pid=$!
# back up once a quarter of the first part is in, so that re-sends after the backup point find
# their originals in the backup's ledger (the check after the restore proves it was mid-run)
deadline=$((SECONDS + 120))
while (($(progress) < FIRST / 4 && SECONDS < deadline)); do sleep 0.1; done
"$BACKUP" --conninfo "$CONNINFO" "$W/backup.dump" 2>"$W/backup.log" || it_fail "jiceng-backup: $(cat "$W/backup.log")"
cat "$W/backup.log"
[[ $(stat -c %a "$W/backup.dump") == 600 ]] || it_fail "the backup (it holds the signing secrets) is not mode 0600"
read -r delivered2 rejected2 < <(produce_part "$W/part2.ndjson")
((delivered1 + delivered2 == DELIVERED && rejected1 + rejected2 == MALFORMED)) \
    || it_fail "produced $delivered1 + $delivered2 delivered, $rejected1 + $rejected2 rejected; expected $DELIVERED, $MALFORMED"
it_wait_consumed "$DELIVERED" 300
kill -TERM "$pid"
wait "$pid" || it_fail "jiceng-aggregate exit $? on SIGTERM: $(tail -3 "$W/aggregate.log")"
it_expect_truth "$W/gen"                       # the run itself was right
catalog >"$W/catalog-before.txt"

# destroy the database; a new, empty one set up by the infrastructure as for a new installation
"$STACK" db-drop "$DB" >/dev/null || it_fail "stack db-drop $DB failed"
"$STACK" db-create "$DB" >/dev/null || it_fail "stack db-create $DB failed"
"$RESTORE" --conninfo "$MIGRATE_CONNINFO" "$W/backup.dump" 2>"$W/restore.log" \
    || it_fail "jiceng-restore: $(cat "$W/restore.log")"
cat "$W/restore.log"
it_migrate
restored=$(progress)
echo "  backup taken at stored offsets $restored of $delivered1 produced before it, $DELIVERED in all"
((restored > 0 && restored < delivered1)) \
    || it_fail "the backup was not taken mid-run (offsets $restored of $delivered1): the test proves too little"

catalog >"$W/catalog-after.txt"
it_check_ok "the catalog and every signing key row restored exactly" \
    diff "$W/catalog-before.txt" "$W/catalog-after.txt"
it_check_refused "the key table's triggers bind again (a key valid from the past)" "valid_from" \
    it_migrate_sql "insert into jiceng.signing_keys (key_id, county_code, secret, valid_from)
                    values ('restore-test', 520102, '\\x$(printf '%064d' 0)', now() - interval '1 day')"
it_check_refused "the migration role cannot read the secrets again (sealed)" "permission denied" \
    it_migrate_sql "select count(secret) from jiceng.signing_keys"
it_check_refused "a restore into a database that is not empty" "not empty" \
    "$RESTORE" --conninfo "$MIGRATE_CONNINFO" "$W/backup.dump"
it_checks_done

it_aggregate --until-caught-up 2>>"$W/aggregate.log" || it_fail "resumed run failed: $(tail -3 "$W/aggregate.log")"
(($(progress) == DELIVERED)) || it_fail "stored offsets add up to $(progress), expected $DELIVERED"
it_expect_truth "$W/gen"
echo "PASS: backup at $restored of $DELIVERED messages, restored, resumed: exact result"
