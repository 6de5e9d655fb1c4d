#!/usr/bin/env bash
# bench/replay.sh: prepare a backlog and run bench-replay on it, for each size given.
#
# usage: bench/replay.sh [N...]    (default: 1000000; e.g. bench/replay.sh 1000000 5000000)
#
# Everything runs on the secured stack, as tests/integration/aggregate/lib.sh does it: for each
# N, jiceng-gen --events N writes a workload and its ground truth; jiceng-topics creates the
# topics (12 partitions) under a fresh prefix as the Kafka administrator, and `stack
# grant-prefix` gives them the role ACLs; jiceng-produce sends the workload as the load
# generator, each record signed with its county's key (tests/support/signing-keys; its
# malformed lines are rejected there, as the ground truth expects); for each run a scratch
# database is made with `stack db-create`, migrated by the migration role and given the load
# generator's keys, all of them before the workload is produced (a key is only ever valid from
# a moment after it is registered, and a replay judges each record by its append time, so a
# database made after the records could not accept them); then bench-replay measures end to end (as the aggregator: TLS, its
# certificate, a jiceng-aggregate* group, every signature checked), the limit and the baseline
# and prints its figures; finally every aggregate table is compared with the ground truth
# (OK/DIFF), as lib.sh's it_expect_truth does. What else is running is printed before and after
# each size. Topics, their ACLs, database and work directory are removed at the end, whatever
# happens.
#
# environment: JC_BUILD (build directory, default build/ of the checkout), JICENG_STATE
# (default .jiceng/ of the checkout), JC_BENCH_WRAP (a command to run bench-replay under, e.g.
# "perf record -g -o /tmp/replay.perf.data --"), JC_BENCH_ARGS (more bench-replay options).
#
# Comparing two builds (before/after a change): JC_COMPARE=OTHER_BUILD_DIR JC_RUNS=3 runs, on
# one prepared backlog per size, JC_RUNS rounds of bench-replay alternating JC_BUILD and
# JC_COMPARE (each into a fresh database, each checked against the ground truth), then prints
# each build's end-to-end events/s: every run, the median and the spread (max-min)/median.
# JC_RUNS alone repeats JC_BUILD's run on the same backlog.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JC_BUILD=${JC_BUILD:-$SRC/build}
JICENG_STATE=${JICENG_STATE:-$SRC/.jiceng}
ENV_FILE=${JICENG_ENV_FILE:-$JICENG_STATE/stack.env}
[[ -r $ENV_FILE ]] || { echo "bench/replay.sh: no $ENV_FILE: start the stack (deploy/local/stack up)" >&2; exit 1; }
# exported: PGSSLMODE, PGSSLROOTCERT and PGPASSFILE for psql and libpq, the identity files
set -a
# shellcheck disable=SC1090
source "$ENV_FILE"
set +a
STACK=$SRC/deploy/local/stack
for p in producers/gen/jiceng-gen producers/jiceng-topics producers/jiceng-produce bench/bench-replay \
         consumers/jiceng-aggregate; do
    [[ -x $JC_BUILD/$p ]] || { echo "bench/replay.sh: $JC_BUILD/$p missing: build first" >&2; exit 1; }
done
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(1000000)

PREFIX="" W="" DBS=() NEXT_DB=0

# db_uri URI DB: URI (a stack.env conninfo) with database DB instead, its parameters kept
db_uri() {
    local base=${1%%\?*} query=""
    [[ $1 == *\?* ]] && query="?${1#*\?}"
    echo "${base%/*}/$2$query"
}

cleanup() {
    local db
    for db in "${DBS[@]}"; do "$STACK" db-drop "$db" >/dev/null 2>&1 || true; done
    if [[ -n $PREFIX ]]; then
        "$JICENG_VENV/bin/python" "$SRC/tests/integration/aggregate/kafka_tool.py" delete-prefix "$PREFIX" \
            >/dev/null 2>&1 || echo "bench/replay.sh: could not delete the topics $PREFIX*" >&2
        "$STACK" revoke-prefix "$PREFIX" >/dev/null 2>&1 || echo "bench/replay.sh: could not revoke the ACLs on $PREFIX*" >&2
    fi
    if [[ -n $W ]]; then rm -rf "$W"; fi
    PREFIX="" W="" DBS=() NEXT_DB=0
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM

# others WHEN: the load average and the processes using >= 1% CPU over one second (top's
# second sample: ps's %CPU is a lifetime average), with their resident memory
others() {
    echo "what else is running ($1): load average $(cut -d' ' -f1-3 /proc/loadavg)"
    top -b -n 2 -d 1 -c -w 200 | awk '/^top -/ { f++ } f == 2 && /^ *PID/ { p = 1; print; next }
                                      p && $9 + 0 >= 1.0' | head -10 | cut -c1-150 | sed 's/^/    /'
}

# expect_truth DIR: each aggregate table equals the ground truth (the tests' comparison)
expect_truth() {
    "$SRC/tests/integration/aggregate/expect-truth" "$CONNINFO" "$1" "$W"
}

prepare() {
    local n=$1 t0 rc=0
    local runs=${JC_RUNS:-1} r valid_from=0 v db
    [[ -z ${JC_COMPARE:-} ]] || runs=$((runs * 2))
    PREFIX="bench-replay-$$-$n."
    W=$(mktemp -d "/tmp/bench-replay-$n.XXXXXX")
    KEYRING=$("$SRC/tests/support/signing-keys" keyring) || return 1
    echo "== $n events: topics $PREFIX*, $runs databases bench_replay_$$_${n}_*, work dir $W"
    t0=$SECONDS
    "$JC_BUILD/producers/gen/jiceng-gen" --events "$n" --out "$W/gen" >/dev/null || return 1
    echo "  generated in $((SECONDS - t0)) s: $(wc -l <"$W/gen/events.ndjson") lines," \
         "$(du -h "$W/gen/events.ndjson" | cut -f1)"
    "$JC_BUILD/producers/jiceng-topics" --config "$JICENG_ADMIN_CONFIG" --topic-prefix "$PREFIX" \
        --partitions 12 create >/dev/null || return 1
    "$STACK" grant-prefix "$PREFIX" >/dev/null 2>&1 || return 1
    for ((r = 1; r <= runs; r++)); do
        db="bench_replay_$$_${n}_$r"
        DBS+=("$db")
        v=$(new_database "$db") || return 1
        ((v > valid_from)) && valid_from=$v
    done
    # the keys' registration makes them valid from a few seconds on
    while (($(date +%s) < valid_from)); do sleep 1; done
    t0=$SECONDS
    "$JC_BUILD/producers/jiceng-produce" --config "$JICENG_PRODUCE_CONFIG" --signing-keys "$KEYRING" \
        --topic-prefix "$PREFIX" --rejects "$W/produce-rejects.ndjson" \
        "$W/gen/events.ndjson" 2>"$W/produce.log" || rc=$?
    # exit 1 is expected: the workload's malformed lines are rejected by the producer
    grep -q "undelivered 0" "$W/produce.log" && ((rc <= 1)) \
        || { echo "jiceng-produce failed (exit $rc): $(tail -3 "$W/produce.log")" >&2; return 1; }
    echo "  produced in $((SECONDS - t0)) s: $(tail -1 "$W/produce.log")"
}

# new_database NAME: a scratch database, migrated by the migration role, with the load
# generator's signing keys; prints the epoch second from which they are valid
new_database() {
    "$STACK" db-create "$1" >/dev/null || return 1
    "$JC_BUILD/consumers/jiceng-aggregate" migrate --migrate-conninfo "$(db_uri "$JICENG_MIGRATE_CONNINFO" "$1")" \
        >/dev/null || return 1
    "$SRC/tests/support/signing-keys" register "$(db_uri "$JICENG_MIGRATE_CONNINFO" "$1")"
}

# one_run BUILD: bench-replay of BUILD into the next prepared database, then the truth check;
# the end-to-end rate is appended to $W/rates.<label>
one_run() {
    local build=$1 label=$2 rc=0
    CONNINFO=$(db_uri "$JICENG_PG_CONNINFO" "${DBS[NEXT_DB]}")
    MIGRATE_CONNINFO=$(db_uri "$JICENG_MIGRATE_CONNINFO" "${DBS[NEXT_DB]}")
    NEXT_DB=$((NEXT_DB + 1))
    echo "-- run of $label ($build) into ${DBS[NEXT_DB - 1]}"
    others "before"
    # shellcheck disable=SC2086
    ${JC_BENCH_WRAP:-} "$build/bench/bench-replay" --config "$JICENG_AGGREGATE_CONFIG" --topic-prefix "$PREFIX" \
        --conninfo "$CONNINFO" --baseline-conninfo "$MIGRATE_CONNINFO" \
        --group "jiceng-aggregate-bench-replay-$$-$RANDOM" ${JC_BENCH_ARGS:-} \
        | tee "$W/run.out" || rc=$?
    others "after"
    awk '/^1\. end to end/ { f = 1 } f && /events\/s$/ { print $(NF-1); exit }' "$W/run.out" >>"$W/rates.$label"
    echo "correctness: aggregate tables against the generator's ground truth"
    expect_truth "$W/gen" || rc=1
    return $rc
}

# summary LABEL: the runs, their median and spread
summary() {
    sort -n "$W/rates.$1" | awk -v l="$1" '{ v[NR] = $1; s = s " " $1 }
        END { if (NR == 0) exit; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
              printf "  %-10s runs:%s  median %.0f events/s  spread %.1f%%\n", l, s, m, 100 * (v[NR] - v[1]) / m }'
}

run_size() {
    local n=$1 rc=0 r
    prepare "$n" || { cleanup; return 1; }
    for ((r = 1; r <= ${JC_RUNS:-1}; r++)); do
        one_run "$JC_BUILD" A || rc=1
        if [[ -n ${JC_COMPARE:-} ]]; then one_run "$JC_COMPARE" B || rc=1; fi
    done
    echo "== $n events, end to end (A = $JC_BUILD${JC_COMPARE:+, B = $JC_COMPARE}):"
    summary A
    if [[ -n ${JC_COMPARE:-} ]]; then summary B; fi
    cleanup
    return $rc
}

status=0
for n in "${SIZES[@]}"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "bench/replay.sh: not a number: $n" >&2; exit 2; }
    run_size "$n" || status=1
done
exit $status
