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
# certificate, a jiceng-aggregate* group, every signature checked), both limits and the baseline
# and prints its figures; finally every aggregate table is compared with the ground truth
# (OK/DIFF), as lib.sh's it_expect_truth does. What else is running is printed before and after
# each size. Topics, their ACLs, database and work directory are removed at the end, whatever
# happens.
#
# environment: JC_GEN_ARGS (more jiceng-gen options, e.g. "--correction-rate 0.01
# --withdrawal-rate 0.002": bench/corrections.sh), JC_BUILD (build directory, default build/ of the checkout), JICENG_STATE
# (default .jiceng/ of the checkout), JC_BENCH_WRAP (a command to run bench-replay under, e.g.
# "perf record -g -o /tmp/replay.perf.data --"), JC_BENCH_ARGS (more bench-replay options).
#
# Comparing two builds (before/after a change): JC_COMPARE=OTHER_BUILD_DIR JC_RUNS=3 runs, on
# one prepared backlog per size, JC_RUNS rounds of bench-replay alternating JC_BUILD and
# JC_COMPARE (each into a fresh database, each checked against the ground truth), then prints
# each build's end-to-end events/s: every run, the median and the spread (max-min)/median.
# JC_RUNS alone repeats JC_BUILD's run on the same backlog.
#
# The cost of TLS and signatures: JC_PLAIN_COMPARE=1 JC_RUNS=3 compares side A, the secured
# stack with bench-replay (TLS to Kafka and PostgreSQL, every signature checked), with side B,
# bench/plain-services (a PLAINTEXT broker and a PostgreSQL without TLS, started here and
# removed at the end, whatever happens) with bench-replay-unsigned (the same sources built
# without the signature and county checks). Each side gets the same workload (one jiceng-gen
# run): A's backlog produced signed by jiceng-produce, B's unsigned by
# bench-jiceng-produce-unsigned, and JC_RUNS databases each, all migrated and given the keys
# alike. Then JC_RUNS rounds alternate A and B, each run checked against the ground truth, and
# the summary gives each side's runs, median and spread, and the ratio of the medians. Both
# brokers and both PostgreSQL clusters run during every run of either side. bench-replay gets
# --baseline-events 0 (the baseline is the same on both sides and not what is compared) before
# JC_BENCH_ARGS.
#
# The cost of the metrics endpoint (issue 12's 3% acceptance): JC_METRICS_COMPARE=1 JC_RUNS=3
# replays the backlog with jiceng-aggregate itself (--until-caught-up, a fresh group and
# database each run, checked against the ground truth), alternating side A, with
# --metrics-listen 127.0.0.1:0 and /metrics scraped every second by curl for the whole run, and
# side B, without; a run's events/s = messages it consumed (its shutdown line) / the wall time of
# the process, start-up included on both sides. The summary gives each side's runs, median,
# spread and the ratio of the medians, and how many scrapes each A run answered.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/compare.sh
source "$SRC/bench/compare.sh"
BENCH_NAME=bench/replay.sh
# shellcheck source=bench/stack.sh
source "$SRC/bench/stack.sh"
PLAIN=$SRC/bench/plain-services
[[ -z ${JC_COMPARE:-} || -z ${JC_PLAIN_COMPARE:-} ]] \
    || { echo "bench/replay.sh: JC_COMPARE and JC_PLAIN_COMPARE exclude each other" >&2; exit 2; }
[[ -z ${JC_METRICS_COMPARE:-} || (-z ${JC_COMPARE:-} && -z ${JC_PLAIN_COMPARE:-}) ]] \
    || { echo "bench/replay.sh: JC_METRICS_COMPARE excludes JC_COMPARE and JC_PLAIN_COMPARE" >&2; exit 2; }
NEEDED=(producers/gen/jiceng-gen producers/jiceng-topics producers/jiceng-produce bench/bench-replay
        consumers/jiceng-aggregate)
[[ -z ${JC_PLAIN_COMPARE:-} ]] || NEEDED+=(bench/bench-replay-unsigned bench/bench-jiceng-produce-unsigned)
bench_need "${NEEDED[@]}"
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(1000000)

# The sides, by label: what runs (bench-replay binary), against what (env file; empty: the
# stack's, already loaded), whose backlog it reads, the tool that makes its databases, the
# program that produces its backlog, and a description for the output.
declare -A BIN ENVF BACKLOG TOOL PRODUCE WHAT
SIDES=(A)
BIN[A]=$JC_BUILD/bench/bench-replay ENVF[A]="" BACKLOG[A]=A TOOL[A]=$STACK
PRODUCE[A]=$JC_BUILD/producers/jiceng-produce WHAT[A]="$JC_BUILD"
if [[ -n ${JC_COMPARE:-} ]]; then
    SIDES+=(B)
    BIN[B]=$JC_COMPARE/bench/bench-replay ENVF[B]="" BACKLOG[B]=A TOOL[B]=$STACK WHAT[B]=$JC_COMPARE
elif [[ -n ${JC_PLAIN_COMPARE:-} ]]; then
    SIDES+=(B)
    WHAT[A]="secured: TLS + client certificates, PostgreSQL hostssl, signatures checked ($JC_BUILD/bench/bench-replay)"
    BIN[B]=$JC_BUILD/bench/bench-replay-unsigned ENVF[B]=$JICENG_STATE/bench-plain/plain.env
    BACKLOG[B]=B TOOL[B]=$PLAIN PRODUCE[B]=$JC_BUILD/bench/bench-jiceng-produce-unsigned
    WHAT[B]="plaintext, unsigned: bench/plain-services, no signature or county check ($JC_BUILD/bench/bench-replay-unsigned)"
elif [[ -n ${JC_METRICS_COMPARE:-} ]]; then
    SIDES+=(B)
    WHAT[A]="jiceng-aggregate --until-caught-up --metrics-listen 127.0.0.1:0, /metrics scraped every second"
    BIN[B]=$JC_BUILD/consumers/jiceng-aggregate ENVF[B]="" BACKLOG[B]=A TOOL[B]=$STACK
    WHAT[B]="jiceng-aggregate --until-caught-up, no metrics endpoint"
fi

# rounds: JC_RUNS, by default 1 (3 when comparing with plaintext)
RUNS=${JC_RUNS:-1}
[[ -n ${JC_RUNS:-} || -z ${JC_PLAIN_COMPARE:-} ]] || RUNS=3
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench/replay.sh: JC_RUNS is not a positive number: $RUNS" >&2; exit 2; }

PREFIX="" W="" DBS=()

# in_side LABEL COMMAND...: COMMAND with LABEL's environment (its env file over the stack's)
in_side() {
    local label=$1; shift
    if [[ -z ${ENVF[$label]} ]]; then "$@"; return; fi
    (
        set -a
        # shellcheck disable=SC1090
        source "${ENVF[$label]}"
        set +a
        "$@"
    )
}

cleanup() {
    local entry
    for entry in "${DBS[@]}"; do
        "${TOOL[${entry%% *}]}" db-drop "${entry#* }" >/dev/null 2>&1 || true
    done
    if [[ -n $PREFIX ]]; then
        "$JICENG_VENV/bin/python" "$SRC/tests/integration/aggregate/kafka_tool.py" delete-prefix "$PREFIX" \
            >/dev/null 2>&1 || echo "bench/replay.sh: could not delete the topics $PREFIX*" >&2
        "$STACK" revoke-prefix "$PREFIX" >/dev/null 2>&1 || echo "bench/replay.sh: could not revoke the ACLs on $PREFIX*" >&2
    fi
    if [[ -n $W ]]; then rm -rf "$W"; fi
    PREFIX="" W="" DBS=()
}
# the plain services go with everything else (their topics with them)
finish() {
    cleanup
    if [[ -n ${JC_PLAIN_COMPARE:-} ]]; then "$PLAIN" down >/dev/null 2>&1 || echo "bench/replay.sh: bench/plain-services down failed" >&2; fi
}
trap 'rc=$?; finish; exit $rc' EXIT
trap 'exit 130' INT TERM

# expect_truth DIR: each aggregate table equals the ground truth (the tests' comparison)
expect_truth() {
    "$SRC/tests/integration/aggregate/expect-truth" "$CONNINFO" "$1" "$W"
}

# make_topics: the topics under $PREFIX, as the side's administrator
make_topics() {
    "$JC_BUILD/producers/jiceng-topics" --config "$JICENG_ADMIN_CONFIG" --topic-prefix "$PREFIX" \
        --partitions 12 create >/dev/null
}

# produce_backlog PROGRAM LOG: the workload to the topics under $PREFIX as the side's producer
# (exit 1 is expected: the workload's malformed lines are rejected by the producer)
produce_backlog() {
    local rc=0
    "$1" --config "$JICENG_PRODUCE_CONFIG" --signing-keys "$KEYRING" --topic-prefix "$PREFIX" \
        --rejects "$2.rejects" "$W/gen/events.ndjson" 2>"$2" || rc=$?
    grep -q "undelivered 0" "$2" && ((rc <= 1)) \
        || { echo "$1 failed (exit $rc): $(tail -3 "$2")" >&2; return 1; }
}

prepare() {
    local n=$1 t0 r valid_from=0 v db side
    PREFIX="bench-replay-$$-$n."
    W=$(mktemp -d "/tmp/bench-replay-$n.XXXXXX")
    KEYRING=$("$SRC/tests/support/signing-keys" keyring) || return 1
    echo "== $n events: topics $PREFIX*, $RUNS databases per side, bench_replay_$$_${n}_*, work dir $W"
    t0=$SECONDS
    # shellcheck disable=SC2086
    "$JC_BUILD/producers/gen/jiceng-gen" --events "$n" ${JC_GEN_ARGS:-} --out "$W/gen" >/dev/null || return 1
    echo "  generated in $((SECONDS - t0)) s: $(wc -l <"$W/gen/events.ndjson") lines," \
         "$(du -h "$W/gen/events.ndjson" | cut -f1)"
    for side in "${SIDES[@]}"; do
        [[ ${BACKLOG[$side]} != "$side" ]] || in_side "$side" make_topics || return 1
        for ((r = 1; r <= RUNS; r++)); do
            db=$(db_name "$n" "$side" "$r")
            DBS+=("$side $db")
            v=$(in_side "$side" new_database "$db" "${TOOL[$side]}") || return 1
            ((v > valid_from)) && valid_from=$v
        done
    done
    "$STACK" grant-prefix "$PREFIX" >/dev/null 2>&1 || return 1
    # the keys' registration makes them valid from a few seconds on
    while (($(date +%s) < valid_from)); do sleep 1; done
    for side in "${SIDES[@]}"; do
        [[ ${BACKLOG[$side]} == "$side" ]] || continue
        t0=$SECONDS
        in_side "$side" produce_backlog "${PRODUCE[$side]}" "$W/produce-$side.log" || return 1
        echo "  side $side: produced in $((SECONDS - t0)) s with ${PRODUCE[$side]##*/}: $(tail -1 "$W/produce-$side.log")"
    done
}

# scrape_every_second LOG PID: once the consumer logged its metrics address (metrics_listening),
# GET /metrics every second until PID exits; prints how many scrapes answered 200 and how many
# did not
scrape_every_second() {
    local port="" ok=0 bad=0
    while kill -0 "$2" 2>/dev/null; do
        [[ -n $port ]] || port=$(grep -Eo 'metrics on http://127\.0\.0\.1:[0-9]+' "$1" | head -1 | sed 's/.*://' || true)
        if [[ -n $port ]]; then
            if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/metrics") == 200 ]]
            then ok=$((ok + 1)); else bad=$((bad + 1)); fi
        fi
        sleep 1
    done
    echo "scrapes: $ok answered 200, $bad did not"
}

# aggregate_run LABEL: jiceng-aggregate --until-caught-up on the backlog into $CONNINFO (side A
# with the metrics endpoint, scraped every second); prints "1. end to end: ... events/s"
aggregate_run() {
    local label=$1 log=$W/aggregate-$1.log t0 t1 pid scraper="" rc=0 n
    local args=(--config "$JICENG_AGGREGATE_CONFIG" --topic-prefix "$PREFIX" --conninfo "$CONNINFO"
                --group "jiceng-aggregate-bench-metrics-$$-$RANDOM" --until-caught-up)
    [[ $label != A ]] || args+=(--metrics-listen 127.0.0.1:0)
    t0=$(date +%s.%N)
    "$JC_BUILD/consumers/jiceng-aggregate" "${args[@]}" 2>"$log" &
    pid=$!
    if [[ $label == A ]]; then
        scrape_every_second "$log" "$pid" >"$W/scrapes" &
        scraper=$!
    fi
    wait "$pid" || rc=$?
    t1=$(date +%s.%N)
    [[ -z $scraper ]] || { wait "$scraper" || true; cat "$W/scrapes"; }
    ((rc == 0)) || { echo "jiceng-aggregate failed (exit $rc): $(tail -3 "$log")" >&2; return 1; }
    n=$(grep -Eo 'consumed [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    awk -v n="$n" -v t0="$t0" -v t1="$t1" \
        'BEGIN { printf "1. end to end: %d messages in %.2f s: %.0f events/s\n", n, t1 - t0, n / (t1 - t0) }'
}

# db_name N LABEL ROUND: the database of side LABEL's run ROUND on the backlog of N events
db_name() { echo "bench_replay_$$_$1_${2,,}$3"; }

# replay LABEL N ROUND: bench-replay of side LABEL into its database for ROUND, then the truth check
replay() {
    local label=$1 rc=0 db extra=""
    db=$(db_name "$2" "$1" "$3")
    CONNINFO=$(db_uri "$JICENG_PG_CONNINFO" "$db")
    [[ -z ${JC_PLAIN_COMPARE:-} ]] || extra="--baseline-events 0"
    echo "-- run of $label (${WHAT[$label]}) into $db"
    others "before"
    if [[ -n ${JC_METRICS_COMPARE:-} ]]; then
        aggregate_run "$label" | tee "$W/run.out" || rc=$?
    else
        # shellcheck disable=SC2086
        ${JC_BENCH_WRAP:-} "${BIN[$label]}" --config "$JICENG_AGGREGATE_CONFIG" --topic-prefix "$PREFIX" \
            --conninfo "$CONNINFO" --baseline-conninfo "$(db_uri "$JICENG_MIGRATE_CONNINFO" "$db")" \
            --group "jiceng-aggregate-bench-replay-$$-$RANDOM" $extra ${JC_BENCH_ARGS:-} \
            | tee "$W/run.out" || rc=$?
    fi
    others "after"
    awk '/^1\. end to end/ { f = 1 } f && /events\/s$/ { print $(NF-1); exit }' "$W/run.out" >>"$W/rates.$label"
    echo "correctness: aggregate tables against the generator's ground truth"
    expect_truth "$W/gen" || rc=1
    return $rc
}

run_size() {
    local n=$1 rc=0 r side
    prepare "$n" || { cleanup; return 1; }
    for ((r = 1; r <= RUNS; r++)); do
        for side in "${SIDES[@]}"; do in_side "$side" replay "$side" "$n" "$r" || rc=1; done
    done
    echo "== $n events, end to end:"
    for side in "${SIDES[@]}"; do echo "  $side = ${WHAT[$side]}"; done
    [[ -z ${JC_PLAIN_COMPARE:-} ]] \
        || echo "  (both brokers and both PostgreSQL clusters ran during every run of either side)"
    for side in "${SIDES[@]}"; do echo "  $(bench_summary "$W/rates.$side" "$side")"; done
    if ((${#SIDES[@]} == 2)); then bench_ratio "$W/rates.A" "$W/rates.B" | sed 's/^/  /'; fi
    cleanup
    return $rc
}

status=0
for n in "${SIZES[@]}"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "bench/replay.sh: not a number: $n" >&2; exit 2; }
done
[[ -z ${JC_PLAIN_COMPARE:-} ]] || "$PLAIN" up >/dev/null || exit 1
for n in "${SIZES[@]}"; do
    run_size "$n" || status=1
done
exit $status
