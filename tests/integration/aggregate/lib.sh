# lib.sh: what the aggregation integration tests share (sourced, not run).
#
# Each test gets its own topics (a unique prefix, given the role ACLs with `stack grant-prefix`)
# and its own database (`stack db-create`, migrated by the migration role, the load generator's
# signing keys registered), so tests never see each other's data; everything is removed at exit,
# and a test that cannot reach the stack fails. Programs come from $JC_BUILD, the stack's
# addresses and identities from its env file (deploy/local/stack, "The contract"): every Kafka
# client connects with TLS and a client certificate, every PostgreSQL client with TLS
# (verify-full) as one of the application roles, its password from PGPASSFILE (never on a
# command line). Helpers:
#   it_init NAME          set up topics prefix, database, work dir; trap cleanup
#   it_on_cleanup CMD...  run CMD first when cleaning up (e.g. revoke what the test provisioned)
#   it_topics N           create the five topics with N partitions (as the administrator)
#   it_gen ARGS...        jiceng-gen into $W/gen; sets LINES, MALFORMED and DELIVERED (the
#                         lines a produce of the whole file must deliver)
#   it_produce FILE       jiceng-produce FILE to the test's topics, as the load generator
#                         (User:loadgen, signing with its keyring), once its keys are valid
#   it_produce_workload [LOG]  produce $W/gen/events.ndjson: exit 1 (the malformed lines),
#                         exactly DELIVERED delivered, MALFORMED rejected, none undelivered
#   it_aggregate ARGS...  jiceng-aggregate on the test's topics and database, as the aggregator
#                         (User:aggregator, role jiceng_aggregate, group $GROUP)
#                         ("${AGGREGATE[@]}" for the command itself, to run it in the background)
#   it_sql SQL            run SQL on the test's database as jiceng_aggregate, print tuples unaligned
#   it_migrate_sql SQL    the same as the migration role jiceng_migrate
#   it_report ARGS...     jiceng-report on the test's database as the read-only role jiceng_report
#                         ($REPORT_CONNINFO)
#   it_kafka_tool ARGS... tests/integration/aggregate/kafka_tool.py (confluent-kafka, fastavro)
#   it_expect_truth DIR   every aggregate table equals DIR/expected/*.csv
#   it_check_ok WHAT CMD...            a check: CMD succeeds
#   it_check_refused WHAT PATTERN CMD...  a check: CMD fails, its output matching PATTERN (ERE)
#   it_checks_done        exit 1 if a check failed (checks print ok/FAIL and go on)
#   it_fail MSG           print and exit 1
set -euo pipefail

: "${JC_BUILD:?JC_BUILD (the build directory) must be set}"
: "${JICENG_STATE:?JICENG_STATE must be set}"
ENV_FILE=${JICENG_ENV_FILE:-$JICENG_STATE/stack.env}
[[ -r $ENV_FILE ]] || { echo "FAIL: no stack env file $ENV_FILE: is the stack up?"; exit 1; }
# exported: PGSSLMODE, PGSSLROOTCERT and PGPASSFILE for psql and libpq, the identity files and
# JICENG_CLIENTS for the programs and kafka_tool.py
set -a
# shellcheck disable=SC1090
source "$ENV_FILE"
set +a
PY=$JICENG_VENV/bin/python
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
STACK=$SRC/deploy/local/stack
SIGNING_KEYS=$SRC/tests/support/signing-keys
PREFIX="" DB="" W="" CLEANUP_HOOKS=()

it_fail() { echo "FAIL: $*" >&2; exit 1; }

CHECKS_FAILED=0
it_check_pass() { printf 'ok    %s\n' "$1"; }
it_check_fail() { printf 'FAIL  %s\n' "$1"; CHECKS_FAILED=$((CHECKS_FAILED + 1)); }

it_check_ok() {
    local what=$1 out; shift
    if out=$("$@" 2>&1); then it_check_pass "$what"
    else it_check_fail "$what: $(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi
}

it_check_refused() {
    local what=$1 pat=$2 out rc=0; shift 2
    out=$("$@" 2>&1) || rc=$?
    if ((rc != 0)) && grep -Eq "$pat" <<<"$out"; then it_check_pass "$what"
    else it_check_fail "$what (exit $rc, expected a refusal matching '$pat'): $(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi
}

it_checks_done() {
    ((CHECKS_FAILED == 0)) || it_fail "$CHECKS_FAILED check(s) failed"
}

# it_db_uri URI DB: URI (a stack.env conninfo) with database DB instead, its parameters kept
it_db_uri() {
    local base=${1%%\?*} query=""
    [[ $1 == *\?* ]] && query="?${1#*\?}"
    echo "${base%/*}/$2$query"
}

it_on_cleanup() {
    CLEANUP_HOOKS+=("$*")
}

it_cleanup() {
    local rc=$? hook
    for pid in $(jobs -p); do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for hook in "${CLEANUP_HOOKS[@]}"; do eval "$hook" || true; done
    if [[ -n $DB ]]; then "$STACK" db-drop "$DB" >/dev/null 2>&1 || echo "note: could not drop database $DB" >&2; fi
    if [[ -n $PREFIX ]]; then
        it_kafka_tool delete-prefix "$PREFIX" >/dev/null 2>&1 || echo "note: could not delete the topics $PREFIX*" >&2
        "$STACK" revoke-prefix "$PREFIX" >/dev/null 2>&1 || echo "note: could not revoke the ACLs on $PREFIX*" >&2
    fi
    [[ $rc == 0 && -n $W ]] && rm -rf "$W"
    exit $rc
}

it_init() {
    local name=$1
    PREFIX="it-$name-$$-$RANDOM."
    DB="it_${name//-/_}_$$"
    W=$(mktemp -d "/tmp/jiceng-it-$name.XXXXXX")
    trap it_cleanup EXIT
    "$STACK" db-create "$DB" >/dev/null || it_fail "stack db-create $DB failed"
    "$STACK" grant-prefix "$PREFIX" >/dev/null 2>&1 || it_fail "stack grant-prefix $PREFIX failed"
    CONNINFO=$(it_db_uri "$JICENG_PG_CONNINFO" "$DB")
    MIGRATE_CONNINFO=$(it_db_uri "$JICENG_MIGRATE_CONNINFO" "$DB")
    REPORT_CONNINFO=$(it_db_uri "$JICENG_REPORT_CONNINFO" "$DB")
    GROUP="jiceng-aggregate-it-$name-$$"
    AGGREGATE=("$JC_BUILD/consumers/jiceng-aggregate" --config "$JICENG_AGGREGATE_CONFIG"
               --topic-prefix "$PREFIX" --conninfo "$CONNINFO" --group "$GROUP")
    it_migrate
    it_signing_keys
    echo "test $name: topics $PREFIX*, database $DB, work dir $W"
}

# it_migrate: the migrations, applied to the test's database by the migration role
it_migrate() {
    "$JC_BUILD/consumers/jiceng-aggregate" migrate --migrate-conninfo "$MIGRATE_CONNINFO" \
        >"$W/migrate.log" 2>&1 || it_fail "jiceng-aggregate migrate failed: $(tail -3 "$W/migrate.log")"
}

# it_signing_keys: the load generator's keyring (one key per county, made once per state
# directory) registered in the test's database; KEYRING is its directory, KEYS_VALID_FROM the
# epoch second from which its keys are valid
it_signing_keys() {
    KEYRING=$("$SIGNING_KEYS" keyring) || it_fail "no keyring"
    KEYS_VALID_FROM=$("$SIGNING_KEYS" register "$MIGRATE_CONNINFO") || it_fail "registering the signing keys failed"
}

# it_wait_keys: until the keyring's keys are valid (the broker's append time must be past
# KEYS_VALID_FROM, or every record is `not-yet-valid`)
it_wait_keys() {
    local now; now=$(date +%s)
    if ((now < KEYS_VALID_FROM)); then sleep $((KEYS_VALID_FROM - now)); fi
}

it_kafka_tool() {
    "$PY" "$HERE/kafka_tool.py" "$@"
}

it_topics() {
    "$JC_BUILD/producers/jiceng-topics" --config "$JICENG_ADMIN_CONFIG" --topic-prefix "$PREFIX" \
        --partitions "$1" create >/dev/null
}

it_gen() {
    "$JC_BUILD/producers/gen/jiceng-gen" --out "$W/gen" "$@" >/dev/null
    LINES=$(wc -l <"$W/gen/events.ndjson")
    MALFORMED=$(($(wc -l <"$W/gen/expected/rejects.csv") - 1))
    DELIVERED=$((LINES - MALFORMED))
}

it_produce() {
    it_wait_keys
    "$JC_BUILD/producers/jiceng-produce" --config "$JICENG_PRODUCE_CONFIG" --signing-keys "$KEYRING" \
        --topic-prefix "$PREFIX" --rejects "$W/produce-rejects.ndjson" "$@"
}

it_produce_workload() {
    local log=${1:-$W/produce.log} rc=0
    it_produce "$W/gen/events.ndjson" 2>"$log" || rc=$?
    [[ $rc == 1 ]] || it_fail "jiceng-produce exit $rc, expected 1 (malformed lines): $(tail -3 "$log")"
    grep -q "delivered $DELIVERED, rejected $MALFORMED, undelivered 0" "$log" \
        || it_fail "produce summary: $(tail -1 "$log"), expected $DELIVERED delivered, $MALFORMED rejected"
}

# it_aggregate ARGS...: run the consumer; "${AGGREGATE[@]}" ARGS... & to run it in the
# background (so that $! is the consumer itself, for kill -KILL)
it_aggregate() {
    "${AGGREGATE[@]}" "$@"
}

it_sql() {
    psql -X -q -v ON_ERROR_STOP=1 -At "$CONNINFO" -c "$1"
}

it_migrate_sql() {
    psql -X -q -v ON_ERROR_STOP=1 -At "$MIGRATE_CONNINFO" -c "$1"
}

it_report() {
    "$JC_BUILD/reports/jiceng-report" --conninfo "$REPORT_CONNINFO" "$@"
}

# it_expect_truth DIR: each aggregate table equals DIR/expected/*.csv (expect-truth)
it_expect_truth() {
    "$HERE/expect-truth" "$CONNINFO" "$1" "$W" || it_fail "aggregates differ from the ground truth"
}

# it_wait_consumed N SECONDS: wait until the group's stored offsets add up to N messages
it_wait_consumed() {
    local want=$1 deadline=$((SECONDS + $2)) got=0
    while ((SECONDS < deadline)); do
        got=$(it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress" 2>/dev/null || echo 0)
        [[ $got == "$want" ]] && return 0
        sleep 0.5
    done
    it_fail "stored offsets add up to $got messages after $2 s, expected $want"
}
