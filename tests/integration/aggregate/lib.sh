# lib.sh: what the aggregation integration tests share (sourced, not run).
#
# Each test gets its own topics (a unique prefix) and its own database (created through the
# stack's superuser socket, dropped at exit), so tests never see each other's data, and a test
# that cannot reach the stack fails. Programs come from $JC_BUILD, the stack's addresses from
# its env file. Helpers:
#   it_init NAME          set up topics prefix, database, work dir; trap cleanup
#   it_topics N           create the five topics with N partitions
#   it_gen ARGS...        jiceng-gen into $W/gen; sets LINES, MALFORMED and DELIVERED (the
#                         lines a produce of the whole file must deliver)
#   it_produce FILE       jiceng-produce FILE to the test's topics
#   it_produce_workload [LOG]  produce $W/gen/events.ndjson: exit 1 (the malformed lines),
#                         exactly DELIVERED delivered, MALFORMED rejected, none undelivered
#   it_aggregate ARGS...  jiceng-aggregate on the test's topics and database ("${AGGREGATE[@]}"
#                         for the command itself, to run it in the background)
#   it_sql SQL            run SQL on the test's database, print tuples unaligned
#   it_report ARGS...     jiceng-report on the test's database as the read-only role jiceng_report
#                         ($REPORT_CONNINFO)
#   it_expect_truth DIR   every aggregate table equals DIR/expected/*.csv
#   it_fail MSG           print and exit 1
set -euo pipefail

: "${JC_BUILD:?JC_BUILD (the build directory) must be set}"
: "${JICENG_STATE:?JICENG_STATE must be set}"
ENV_FILE=${JICENG_ENV_FILE:-$JICENG_STATE/stack.env}
[[ -r $ENV_FILE ]] || { echo "FAIL: no stack env file $ENV_FILE: is the stack up?"; exit 1; }
# shellcheck disable=SC1090
source "$ENV_FILE"
export JICENG_KAFKA_BOOTSTRAP JICENG_PG_CONNINFO
PY=$JICENG_VENV/bin/python
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

it_fail() { echo "FAIL: $*" >&2; exit 1; }

it_superuser() {
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$JICENG_PG_SUPERUSER_SOCKET" \
        -p "$JICENG_PG_PORT" -U postgres -d postgres "$@"
}

it_cleanup() {
    local rc=$?
    for pid in $(jobs -p); do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    it_superuser -c "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
    "$PY" "$HERE/kafka_tool.py" delete-prefix "$PREFIX" >/dev/null 2>&1 || true
    [[ $rc == 0 ]] && rm -rf "$W"
    exit $rc
}

it_init() {
    local name=$1
    PREFIX="it-$name-$$-$RANDOM."
    DB="it_${name//-/_}_$$"
    W=$(mktemp -d "/tmp/jiceng-it-$name.XXXXXX")
    trap it_cleanup EXIT
    it_superuser -c "create database $DB owner jiceng" >/dev/null
    CONNINFO="${JICENG_PG_CONNINFO%/*}/$DB"
    REPORT_CONNINFO="${JICENG_REPORT_CONNINFO:-}"
    REPORT_CONNINFO="${REPORT_CONNINFO%/*}/$DB"
    AGGREGATE=("$JC_BUILD/consumers/jiceng-aggregate" --topic-prefix "$PREFIX"
               --conninfo "$CONNINFO" --group "it-$$")
    echo "test $name: topics $PREFIX*, database $DB, work dir $W"
}

it_topics() {
    "$JC_BUILD/producers/jiceng-topics" --topic-prefix "$PREFIX" --partitions "$1" create >/dev/null
}

it_gen() {
    "$JC_BUILD/producers/gen/jiceng-gen" --out "$W/gen" "$@" >/dev/null
    LINES=$(wc -l <"$W/gen/events.ndjson")
    MALFORMED=$(($(wc -l <"$W/gen/expected/rejects.csv") - 1))
    DELIVERED=$((LINES - MALFORMED))
}

it_produce() {
    "$JC_BUILD/producers/jiceng-produce" --topic-prefix "$PREFIX" --rejects "$W/produce-rejects.ndjson" "$@"
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

it_report() {
    [[ -n ${JICENG_REPORT_CONNINFO:-} ]] \
        || it_fail "$ENV_FILE has no JICENG_REPORT_CONNINFO: run deploy/local/stack up"
    "$JC_BUILD/reports/jiceng-report" --conninfo "$REPORT_CONNINFO" "$@"
}

# it_expect_truth DIR: each aggregate table equals DIR/expected/*.csv (expect-truth)
it_expect_truth() {
    "$HERE/expect-truth" "$CONNINFO" "$1" "$W" || it_fail "aggregates differ from the ground truth"
}

# it_wait_applied N SECONDS: wait until the group's stored offsets add up to N messages
it_wait_consumed() {
    local want=$1 deadline=$((SECONDS + $2)) got=0
    while ((SECONDS < deadline)); do
        got=$(it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress" 2>/dev/null || echo 0)
        [[ $got == "$want" ]] && return 0
        sleep 0.5
    done
    it_fail "stored offsets add up to $got messages after $2 s, expected $want"
}
