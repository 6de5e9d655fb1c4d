#!/usr/bin/env bash
# bench/peers/flink.sh: jiceng-aggregate against Flink SQL on the same visits, same broker, same
# PostgreSQL server (issue 14, item 5).
#
# usage: bench/peers/flink.sh [EVENTS...]     (default 1000000; e.g. 1000000 5000000)
#
# EVENTS is the number of visit records in the topics (about: the generator is asked for
# EVENTS / 0.7 lines of every kind, and its visit lines are kept; the exact count is printed).
# For each EVENTS, on the secured stack:
#
# 1. jiceng-gen writes a workload without malformed records (--malformed-rate 0), with its
#    re-sends and late events and its ground truth (and, by its defaults, no corrections or
#    withdrawals: the Flink job treats every record as a new event); workload.py keeps its visit lines and
#    computes the no-dedup truth (visits_daily with every re-send counted again);
# 2. our topics under a fresh prefix (12 partitions, jiceng-topics as the administrator, `stack
#    grant-prefix`), JC_RUNS scratch databases migrated and given the load generator's signing
#    keys; jiceng-produce sends the visits there, signed (Avro). Flink's topic is
#    PREFIX2jiceng.visits under a second prefix made alike: workload.py sends the same visits
#    there as JSON (the Avro fields, occurred_at in epoch ms; Flink's Avro format needs a schema
#    registry, which we do not run), as the load generator, lz4 as jiceng-produce;
# 3. JC_RUNS rounds, each running, one after the other (alternating):
#      ours       jiceng-aggregate --until-caught-up (exactly once, dedup, distinct cadres, every
#                 signature checked; as the aggregator: TLS, its certificate) into its database;
#                 events/s = messages consumed / the process's wall time (start-up included);
#      nodedup    the Flink job without dedup (visits_daily only),
#      dedup      with first-row dedup by event_id (visits_daily only),
#      same-work  with dedup and the distinct cadres table (visits_daily + visit_cadres);
#                 each a fresh JVM (flink/, FlinkPeer.java: a local mini-cluster, parallelism 2,
#                 -Xmx$JC_FLINK_HEAP) reading its topic from the start to the end (bounded) over
#                 TLS with the aggregator's certificate (the principal that may read the event
#                 topics; the broker maps no other service subject), upserting by JDBC over TLS
#                 as jiceng_aggregate (password from PGPASSFILE) into schema flink_peer of a
#                 fresh scratch database; events/s = records / the job's time from submitting
#                 the statements to the job's end (JVM start and planning excluded);
#    CPU seconds (ours: the process's user + system; Flink: the JVM's over the job's window,
#    and its whole process in the run's line) and peak RSS (ours: /usr/bin/time's maximum
#    resident set; Flink: VmHWM of the JVM) of each; after each run its tables are compared
#    with the ground truth (ours and both dedup variants with the generator's, nodedup with the
#    truth plus the re-sends): OK or DIFF;
# 4. prints each side's runs, median and spread (events/s, CPU s, peak RSS), and the ratios of
#    the medians with issue 14's targets (printed, not asserted): ours / Flink same-work >= 3,
#    ours / Flink nodedup >= 1, ours' peak RSS / Flink same-work's <= 0.1.
# Topics, ACLs, databases and the work directory are removed at the end, whatever happens.
#
# environment: JC_BUILD (default build/ of the checkout), JICENG_STATE (default .jiceng/),
# JC_RUNS (rounds, default 3), JC_FLINK_HEAP (the JVM's -Xmx, default 1g; the dedup state of
# 5M events may need 3g), JC_FLINK_VARIANTS (default "nodedup dedup same-work").
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_NAME=bench/peers/flink.sh
# shellcheck source=bench/stack.sh
source "$SRC/bench/stack.sh"
# the ACL tool of this build, unless the caller names one (else the stack builds its own)
[[ -n ${JICENG_ACCESS:-} || ! -x $JC_BUILD/tools/access/jiceng-access ]] \
    || export JICENG_ACCESS=$JC_BUILD/tools/access/jiceng-access
PY=$JICENG_VENV/bin/python
WORKLOAD=$SRC/bench/peers/workload.py
FLINK_SRC=$SRC/bench/peers/flink
FLINK_OUT=$JC_BUILD/bench/peers-flink
HEAP=${JC_FLINK_HEAP:-1g}
read -r -a VARIANTS <<<"${JC_FLINK_VARIANTS:-nodedup dedup same-work}"
RUNS=${JC_RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "flink.sh: JC_RUNS is not a positive number: $RUNS" >&2; exit 2; }
bench_need producers/gen/jiceng-gen producers/jiceng-topics producers/jiceng-produce consumers/jiceng-aggregate
for v in "${VARIANTS[@]}"; do
    [[ $v == nodedup || $v == dedup || $v == same-work ]] || { echo "flink.sh: unknown variant $v" >&2; exit 2; }
done
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(1000000)
for n in "${SIZES[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "flink.sh: not a number: $n" >&2; exit 2; }
done
# the JVM options Flink's own scripts pass on JDK 17 (config.yaml's env.java.opts.all)
JAVA_OPTS=("-Xmx$HEAP" -Djava.awt.headless=true
    --add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED)
for m in api file parser tree util; do JAVA_OPTS+=("--add-exports=jdk.compiler/com.sun.tools.javac.$m=ALL-UNNAMED"); done
for m in java.lang java.net java.io java.nio sun.nio.ch java.lang.reflect java.text java.time java.util \
         java.util.concurrent java.util.concurrent.atomic java.util.concurrent.locks; do
    JAVA_OPTS+=("--add-opens=java.base/$m=ALL-UNNAMED")
done

PREFIX="" JPREFIX="" W="" DBS=()
cleanup() {
    local db p
    for db in "${DBS[@]}"; do "$STACK" db-drop "$db" >/dev/null 2>&1 || true; done
    for p in "$PREFIX" "$JPREFIX"; do
        [[ -n $p ]] || continue
        "$PY" "$SRC/tests/integration/aggregate/kafka_tool.py" delete-prefix "$p" >/dev/null 2>&1 \
            || echo "flink.sh: could not delete the topics $p*" >&2
        "$STACK" revoke-prefix "$p" >/dev/null 2>&1 || echo "flink.sh: could not revoke the ACLs on $p*" >&2
    done
    if [[ -n $W ]]; then rm -rf "$W"; fi
    PREFIX="" JPREFIX="" W="" DBS=()
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM

# build_flink: the job's jar and its classpath into $FLINK_OUT (mvn, Maven Central)
build_flink() {
    mkdir -p "$FLINK_OUT"
    mvn -B -Dstyle.color=never -f "$FLINK_SRC/pom.xml" -Dpeer.build.dir="$FLINK_OUT" package \
        dependency:build-classpath -Dmdep.outputFile="$FLINK_OUT/classpath.txt" >"$FLINK_OUT/mvn.log" 2>&1 \
        || { tail -20 "$FLINK_OUT/mvn.log" >&2; echo "flink.sh: mvn failed: see $FLINK_OUT/mvn.log" >&2; return 1; }
}

# topics P: the pipeline's topics under prefix P, 12 partitions, with the role ACLs
topics() {
    "$JC_BUILD/producers/jiceng-topics" --config "$JICENG_ADMIN_CONFIG" --topic-prefix "$1" \
        --partitions 12 create >/dev/null || return 1
    "$STACK" grant-prefix "$1" >"$W/grant.log" 2>&1 || { cat "$W/grant.log" >&2; return 1; }
}

# flink_database NAME: schema flink_peer with the base shape of visits_daily and visit_cadres,
# made by the migration role, written by jiceng_aggregate
flink_database() {
    "$STACK" db-create "$1" >/dev/null || return 1
    DBS+=("$1")
    psql -X -q -v ON_ERROR_STOP=1 "$(db_uri "$JICENG_MIGRATE_CONNINFO" "$1")" >/dev/null <<'EOF'
create schema flink_peer;
create table flink_peer.visits_daily (
    county_code integer not null, day date not null, cadre_level text not null,
    visits bigint not null, households_visited bigint not null, people_met bigint not null,
    deeds_done bigint not null, problems_solved bigint not null, overnight_stays bigint not null,
    hours_on_site bigint not null, primary key (county_code, day, cadre_level));
create table flink_peer.visit_cadres (
    county_code integer not null, day date not null, cadre_id text not null,
    primary key (county_code, day, cadre_id));
grant usage on schema flink_peer to jiceng_aggregate;
grant select, insert, update on all tables in schema flink_peer to jiceng_aggregate;
EOF
}

# drop_database NAME: after its check (the run's figures are taken)
drop_database() {
    "$STACK" db-drop "$1" >/dev/null 2>&1 || true
    local keep=() db
    for db in "${DBS[@]}"; do [[ $db == "$1" ]] || keep+=("$db"); done
    DBS=("${keep[@]}")
}

prepare() {
    local n=$1 lines keyring valid_from=0 v r t0 rc=0 resent
    PREFIX="bench-peers-$$-$n." JPREFIX="bench-peers-json-$$-$n."
    W=$(mktemp -d "/tmp/bench-peers-$n.XXXXXX")
    lines=$(((n * 10 + 6) / 7))
    echo "== $n visits: our topics $PREFIX*, Flink's ${JPREFIX}jiceng.visits, work dir $W"
    t0=$SECONDS
    "$JC_BUILD/producers/gen/jiceng-gen" --events "$lines" --malformed-rate 0 --out "$W/gen" >/dev/null || return 1
    VISITS=$("$PY" "$WORKLOAD" visits "$W/gen/events.ndjson" "$W/visits.ndjson") || return 1
    resent=$("$PY" "$WORKLOAD" nodedup "$W/gen" "$W/nodedup-visits_daily.csv") || return 1
    echo "  generated in $((SECONDS - t0)) s: $VISITS visit records ($(du -h "$W/visits.ndjson" | cut -f1)" \
         "of NDJSON; $resent of them re-sends) out of $lines lines of every kind"
    topics "$PREFIX" && topics "$JPREFIX" || return 1
    keyring=$("$SRC/tests/support/signing-keys" keyring) || return 1
    for ((r = 1; r <= RUNS; r++)); do
        DBS+=("bench_peers_$$_${n}_ours$r") # here, not in the $(...) subshell below
        v=$(new_database "bench_peers_$$_${n}_ours$r") || return 1
        ((v > valid_from)) && valid_from=$v
    done
    while (($(date +%s) < valid_from)); do sleep 1; done
    t0=$SECONDS
    "$JC_BUILD/producers/jiceng-produce" --config "$JICENG_PRODUCE_CONFIG" --signing-keys "$keyring" \
        --topic-prefix "$PREFIX" --rejects "$W/produce.rejects" "$W/visits.ndjson" 2>"$W/produce.log" || rc=$?
    grep -q "undelivered 0" "$W/produce.log" && ((rc == 0)) \
        || { echo "jiceng-produce failed (exit $rc): $(tail -3 "$W/produce.log")" >&2; return 1; }
    echo "  ours: produced signed Avro in $((SECONDS - t0)) s: $(tail -1 "$W/produce.log")"
    t0=$SECONDS
    v=$("$PY" "$WORKLOAD" json "$JICENG_CLIENTS/loadgen.json" "${JPREFIX}jiceng.visits" "$W/visits.ndjson") || return 1
    echo "  Flink's: produced $v JSON records in $((SECONDS - t0)) s"
}

# record SIDE RATE CPU RSS_KIB: one run's figures
record() {
    echo "$2" >>"$W/rate.$1"
    echo "$3" >>"$W/cpu.$1"
    awk -v k="$4" 'BEGIN { printf "%.0f\n", k / 1024 }' >>"$W/rss.$1"
}

load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

run_ours() {
    local n=$1 r=$2 db conninfo rc=0 consumed wall cpu rss rate
    db="bench_peers_$$_${n}_ours$r"
    conninfo=$(db_uri "$JICENG_PG_CONNINFO" "$db")
    echo "-- round $r: ours, jiceng-aggregate --until-caught-up into $db ($(load))"
    /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$JC_BUILD/consumers/jiceng-aggregate" \
        --config "$JICENG_AGGREGATE_CONFIG" --topic-prefix "$PREFIX" --conninfo "$conninfo" \
        --group "jiceng-aggregate-bench-peers-$$-$RANDOM" --until-caught-up 2>"$W/ours.log" || rc=$?
    ((rc == 0)) || { echo "   jiceng-aggregate failed (exit $rc): $(tail -3 "$W/ours.log")"; return 1; }
    consumed=$(grep -Eo 'consumed [0-9]+' "$W/ours.log" | tail -1 | cut -d' ' -f2)
    read -r wall cpu rss <<<"$(awk '{ print $1, $2 + $3, $4 }' "$W/time")"
    rate=$(awk -v n="$consumed" -v t="$wall" 'BEGIN { printf "%.0f", n / t }')
    echo "   $consumed messages in $wall s: $rate events/s; CPU $cpu s; peak RSS $((rss / 1024)) MiB ($(load))"
    record ours "$rate" "$cpu" "$rss"
    "$PY" "$WORKLOAD" check "$conninfo" jiceng visits_daily "$W/gen/expected/visits_daily.csv" || rc=1
    "$PY" "$WORKLOAD" check "$conninfo" jiceng visit_cadres "$W/gen/expected/visit_cadres.csv" || rc=1
    [[ $rc == 0 ]] && echo "   ground truth: OK" || echo "   ground truth: DIFF"
    drop_database "$db"
    return $rc
}

run_flink() {
    local v=$1 n=$2 r=$3 db url conninfo rc=0 job cpu pcpu rss rate daily
    db="bench_peers_$$_${n}_${v//-/}$r"
    flink_database "$db" || return 1
    conninfo=$(db_uri "$JICENG_PG_CONNINFO" "$db")
    url="jdbc:postgresql://127.0.0.1:$JICENG_PG_PORT/$db?user=jiceng_aggregate&sslmode=verify-full"
    url+="&sslrootcert=$PGSSLROOTCERT&reWriteBatchedInserts=true"
    echo "-- round $r: Flink $v into $db ($(load))"
    java "${JAVA_OPTS[@]}" -cp "$FLINK_OUT/flink-peer-1.jar:$(cat "$FLINK_OUT/classpath.txt")" jiceng.peers.FlinkPeer \
        "$v" "$JICENG_KAFKA_BOOTSTRAP" "${JPREFIX}jiceng.visits" "jiceng-aggregate-bench-peers-flink-$$-$RANDOM" \
        "$JICENG_PKI/private/aggregator.pem" "$JICENG_PKI/ca.crt" "$url" flink_peer \
        "$SRC/schemas/reference/guizhou_code_changes.csv" >"$W/flink.out" 2>"$W/flink-$v-$r.log" || rc=$?
    ((rc == 0)) && grep -q '^flink-peer ' "$W/flink.out" \
        || { echo "   Flink failed (exit $rc): $(grep -m3 -E 'Exception|ERROR' "$W/flink-$v-$r.log")"; return 1; }
    read -r job cpu pcpu rss <<<"$(sed -E 's/.*job ([0-9.]+) s, job cpu ([0-9.]+) s, process cpu ([0-9.]+) s, peak rss ([0-9]+) KiB/\1 \2 \3 \4/' "$W/flink.out")"
    rate=$(awk -v n="$VISITS" -v t="$job" 'BEGIN { printf "%.0f", n / t }')
    echo "   $VISITS records in $job s (job): $rate events/s; CPU $cpu s (job; $pcpu s the whole JVM);" \
         "peak RSS $((rss / 1024)) MiB ($(load))"
    record "$v" "$rate" "$cpu" "$rss"
    daily=$W/gen/expected/visits_daily.csv
    [[ $v != nodedup ]] || daily=$W/nodedup-visits_daily.csv
    "$PY" "$WORKLOAD" check "$conninfo" flink_peer visits_daily "$daily" || rc=1
    [[ $v != same-work ]] || "$PY" "$WORKLOAD" check "$conninfo" flink_peer visit_cadres "$W/gen/expected/visit_cadres.csv" || rc=1
    [[ $rc == 0 ]] && echo "   ground truth: OK" || echo "   ground truth: DIFF"
    drop_database "$db"
    return $rc
}

# stats FILE DECIMALS: "MEDIAN SPREAD% RUN..." of a figure file (bench/compare.sh's bench_stats, with decimals)
stats() {
    sort -n "$1" 2>/dev/null | awk -v d="$2" '{ v[NR] = $1; s = s " " $1 }
        END { if (NR == 0) exit; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              fmt = "%." d "f %.1f%s\n"; spread = m > 0 ? 100 * (v[NR] - v[1]) / m : 0
              printf fmt, m, spread, s }'
}

# line FILE LABEL UNIT DECIMALS: "LABEL runs: R... median M UNIT spread S%"
line() {
    local st m spread runs
    st=$(stats "$1" "$4")
    [[ -n $st ]] || { printf '    %-10s no run measured\n' "$2"; return; }
    read -r m spread runs <<<"$st"
    printf '    %-10s runs: %-30s median %s %s, spread %s%%\n' "$2" "$runs" "$m" "$3" "$spread"
}

# ratio A B WHAT TARGET: the ratio of the medians of two figure files, with the target
ratio() {
    local a b; a=$(stats "$1" 3) b=$(stats "$2" 3)
    [[ -n $a && -n $b ]] || return 0
    awk -v a="${a%% *}" -v b="${b%% *}" -v w="$3" -v t="$4" \
        'BEGIN { if (b > 0) printf "    %-48s %.3f   (target %s)\n", w, a / b, t }'
}

summary() {
    local n=$1 side fig
    echo "== $n visits, $RUNS alternating rounds (ours = jiceng-aggregate, process wall time;" \
         "Flink = job time, JVM start excluded; -Xmx$HEAP):"
    local what=(rate "events/s" 0 cpu "CPU s" 2 rss "MiB peak RSS" 0) i
    for ((i = 0; i < ${#what[@]}; i += 3)); do
        echo "  ${what[i + 1]}:"
        for side in ours "${VARIANTS[@]}"; do line "$W/${what[i]}.$side" "$side" "${what[i + 1]}" "${what[i + 2]}"; done
    done
    echo "  ratios of the medians:"
    ratio "$W/rate.ours" "$W/rate.same-work" "events/s ours / Flink same-work" ">= 3"
    ratio "$W/rate.ours" "$W/rate.dedup" "events/s ours / Flink dedup" "-"
    ratio "$W/rate.ours" "$W/rate.nodedup" "events/s ours / Flink nodedup" ">= 1"
    ratio "$W/cpu.same-work" "$W/cpu.ours" "CPU s Flink same-work / ours" "-"
    ratio "$W/rss.ours" "$W/rss.same-work" "peak RSS ours / Flink same-work" "<= 0.1"
    ratio "$W/rss.ours" "$W/rss.nodedup" "peak RSS ours / Flink nodedup" "-"
}

run_size() {
    local n=$1 rc=0 r v
    prepare "$n" || { cleanup; return 1; }
    for ((r = 1; r <= RUNS; r++)); do
        run_ours "$n" "$r" || rc=1
        for v in "${VARIANTS[@]}"; do run_flink "$v" "$n" "$r" || rc=1; done
    done
    summary "$n"
    cleanup
    return $rc
}

build_flink || exit 1
status=0
for n in "${SIZES[@]}"; do run_size "$n" || status=1; done
exit $status
