# lib.sh: what the 3-broker fault tests share (sourced, not run).
#
# The tests run against the cluster that `deploy/local/stack up --brokers 3` keeps in its own
# state directory, named by $JICENG_CLUSTER_STATE: without it (or with a stack of one broker
# there) a test FAILS rather than skips, since it was asked to run. Everything else is
# tests/integration/aggregate/lib.sh over that state directory (it_init, it_gen,
# it_produce_workload, it_aggregate, it_expect_truth, ...), plus:
#   cl_tool ARGS...       cluster_tool.py (the broker leading a prefix's partitions, a group's
#                         coordinator, records in the topics, the exactly-once check)
#   cl_stack CMD N        deploy/local/stack kill-broker|start-broker|restart-broker N (and
#                         start-broker N when the test ends, should it fail before)
#   cl_feed CHUNK PACE [PHASES]
#                         turn $W/gen/events.ndjson into a FIFO that a background feeder fills
#                         CHUNK lines at a time, PACE seconds apart. The chunks are cut into
#                         PHASES (default 1) equal runs: run 0 is fed at once, run N from
#                         `cl_phase N` on, and each run's last chunk waits for the next phase
#                         (the last run's for cl_release). So a producer reading it
#                         (it_produce_workload) sends in each phase and cannot finish before the
#                         faults are over (a fault that lands after the run would prove nothing).
#   cl_phase N            let the feeder start phase N's run
#   cl_release            let the feeder finish (and stop pacing)
#   cl_wait WHAT SECS CMD...   poll CMD until it succeeds; fail naming WHAT after SECS
#   cl_records_over N SECS     wait until the event topics hold more than N records
#   cl_exactly_once       every line the producer had to deliver is in Kafka exactly once
#   cl_finish_running     the ending of a test with jiceng-aggregate running beside the producer
#                         ($producer, $aggregator): release the feeder, wait for both to finish
#                         (the aggregator stopped by SIGTERM, exit 0), exactly once, exact truth
#   cl_every_partition_grows WHAT SECS CMD...
#                         CMD prints "PARTITION OFFSET" lines (cl_kafka_ends: the end offsets of
#                         the test's visits topic, the busiest; cl_stored_offsets: the group's
#                         stored offsets there): wait until every partition is past the offset
#                         it had when called, or fail naming WHAT after SECS
[[ -n ${JICENG_CLUSTER_STATE:-} ]] || {
    echo "FAIL: JICENG_CLUSTER_STATE is not set: it names the state directory of a 3-broker stack" \
         "(JICENG_STATE=DIR deploy/local/stack up --brokers 3)"; exit 1; }
export JICENG_STATE=$JICENG_CLUSTER_STATE JICENG_ENV_FILE=$JICENG_CLUSTER_STATE/stack.env
# shellcheck source=../aggregate/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../aggregate/lib.sh"
CL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ ${JICENG_KAFKA_BROKERS:-1} == 3 ]] \
    || it_fail "the stack in $JICENG_STATE has ${JICENG_KAFKA_BROKERS:-1} broker(s), not 3 (up --brokers 3)"
"$STACK" status >/dev/null 2>&1 || it_fail "the cluster in $JICENG_STATE is not whole: $("$STACK" status 2>&1 | tr '\n' ' ')"

cl_tool() { "$PY" "$CL_HERE/cluster_tool.py" "$@"; }

cl_stack() {
    # whatever happens next, the cluster is left whole for the next test
    it_on_cleanup "\"$STACK\" start-broker $2 >/dev/null 2>&1"
    "$STACK" "$1" "$2" 2>&1 | sed 's/^/  /' >&2
    [[ ${PIPESTATUS[0]} == 0 ]] || it_fail "stack $1 $2 failed"
}

cl_feed() {
    local chunk=$1 pace=$2 src=$W/gen/events.src fifo=$W/gen/events.ndjson
    CL_PHASES=${3:-1}
    mv "$fifo" "$src"
    split -l "$chunk" -d -a 4 "$src" "$W/gen/chunk."
    mkfifo "$fifo"
    touch "$W/go-0"
    (
        exec >"$fifo"
        chunks=("$W"/gen/chunk.*)
        n=${#chunks[@]}
        for ((i = 0; i < n; i++)); do
            # chunk i is in phase i * PHASES / n; the last of a phase waits for the next one
            g=$((i * CL_PHASES / n))
            (((i + 1) * CL_PHASES / n != g || i == n - 1)) && g=$((g + 1))
            w=0
            while [[ ! -e $W/go-$g ]] && ((w++ < 1200)); do sleep 0.5; done
            cat "${chunks[i]}"
            [[ -e $W/go-$CL_PHASES ]] || sleep "$pace"
        done
    ) &
}

cl_phase() { touch "$W/go-$1"; }
cl_release() { touch "$W/go-$CL_PHASES"; }

cl_wait() {
    local what=$1 secs=$2 deadline=$((SECONDS + $2)); shift 2
    until "$@"; do
        ((SECONDS < deadline)) || it_fail "$what: not within $secs s"
        sleep 0.5
    done
}

cl_more_records() { local n; n=$(cl_tool records "$PREFIX") && ((n > $1)); }
cl_records_over() { cl_wait "more than $1 records in the topics" "$2" cl_more_records "$1"; }

cl_progress() { it_sql "select coalesce(sum(next_offset), 0) from jiceng.consumer_progress" 2>/dev/null || echo 0; }
cl_more_progress() { local n; n=$(cl_progress) && ((n > $1)); }
cl_progress_over() { cl_wait "stored offsets past $1" "$2" cl_more_progress "$1"; }

cl_kafka_ends() { cl_tool ends "${PREFIX}jiceng.visits"; }
cl_stored_offsets() {
    it_sql "select partition || ' ' || next_offset from jiceng.consumer_progress
            where topic = '${PREFIX}jiceng.visits' order by partition"
}

cl_grown() { # cl_grown BEFORE CMD...: each partition listed in file BEFORE is past its offset
    local before=$1; shift
    "$@" | awk 'NR == FNR { was[$1] = $2; next } ($1 in was) && $2 > was[$1] { n++ }
                END { exit !(n > 0 && n == length(was)) }' "$before" -
}

cl_every_partition_grows() {
    local what=$1 secs=$2; shift 2
    "$@" >"$W/partitions-before" || it_fail "$what: cannot read the offsets"
    [[ -s $W/partitions-before ]] || it_fail "$what: no partitions listed"
    cl_wait "$what" "$secs" cl_grown "$W/partitions-before" "$@"
}

cl_exactly_once() {
    cl_tool exactly-once "$PREFIX" "$W/gen/events.src" "$W/gen/expected/rejects.csv" \
        || it_fail "the records in Kafka are not the lines delivered exactly once"
}

cl_finish_running() {
    cl_release
    wait "$producer" || it_fail "jiceng-produce: $(tail -2 "$W/produce.log")"
    it_wait_consumed "$DELIVERED" 180
    kill -TERM "$aggregator"
    local rc=0
    wait "$aggregator" || rc=$?
    [[ $rc == 0 ]] || it_fail "jiceng-aggregate exited $rc after SIGTERM: $(tail -3 "$W/aggregate.log")"
    cl_exactly_once
    it_expect_truth "$W/gen"
}

# cl_topics_replicated: the test's five topics have 3 replicas and min.insync.replicas 2
cl_topics_replicated() {
    local out
    out=$("$JC_BUILD/producers/jiceng-topics" --config "$JICENG_ADMIN_CONFIG" --topic-prefix "$PREFIX" list)
    (($(grep -c 'replication factor 3, min.insync.replicas 2,' <<<"$out") == 5)) \
        || it_fail "topics not created with 3 replicas and min.insync.replicas 2: $out"
}
