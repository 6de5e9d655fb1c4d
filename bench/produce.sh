#!/usr/bin/env bash
# bench/produce.sh: bench-produce on the secured local stack.
#
# usage: bench/produce.sh [bench-produce options] [FILE]     (e.g. --events 1000000)
#
# bench-produce makes its scratch topics as the administrator and produces as the load
# generator, a county principal, which may write only topics that have the role ACLs: this
# script picks the prefix, gives it those ACLs (`stack grant-prefix`), runs bench-produce with
# the stack's identities ($JICENG_PRODUCE_CONFIG, $JICENG_ADMIN_CONFIG) and the load generator's
# signing keys (tests/support/signing-keys keyring: the jiceng run signs every record, as
# jiceng-produce does), and removes the ACLs at the end, whatever happens.
#
# The cost of TLS and signatures: with JC_PLAIN_COMPARE=1 (JC_RUNS rounds, default 3), each
# round runs side A, bench-produce as above (TLS with the load generator's certificate, every
# record signed), then side B, bench-produce-unsigned (the same sources built to sign nothing)
# on bench/plain-services (a PLAINTEXT broker, no ACLs; started here and removed at the end,
# whatever happens), each with the same options and so the same workload (--events N sample
# events, or FILE), on a fresh prefix per run. It prints every run, and for each side and
# each of bench-produce's two figures (the jiceng-produce path, and bare librdkafka on
# pre-encoded payloads, unsigned on both sides: the cost of TLS alone) the runs, median and
# spread (max-min)/median, and the ratios of the medians A / B. Both brokers run during every
# run of either side; one small untimed run per side warms them up first.
#
# environment: JC_BUILD (build directory, default build/ of the checkout), JICENG_STATE
# (default .jiceng/ of the checkout), JC_PLAIN_COMPARE, JC_RUNS
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/compare.sh
source "$SRC/bench/compare.sh"
BENCH_NAME=bench/produce.sh
# shellcheck source=bench/stack.sh
source "$SRC/bench/stack.sh"
PLAIN=$SRC/bench/plain-services
bench_need bench/bench-produce ${JC_PLAIN_COMPARE:+bench/bench-produce-unsigned}
PREFIX=""
# revoke_prefix: the ACLs of the current run's prefix, if any
revoke_prefix() {
    [[ -n $PREFIX ]] || return 0
    "$SRC/deploy/local/stack" revoke-prefix "$PREFIX" >/dev/null 2>&1 \
        || echo "bench/produce.sh: could not revoke the ACLs on $PREFIX*" >&2
    PREFIX=""
}
finish() {
    revoke_prefix
    if [[ -n ${JC_PLAIN_COMPARE:-} ]]; then "$PLAIN" down >/dev/null 2>&1 || echo "bench/produce.sh: bench/plain-services down failed" >&2; fi
}
trap 'rc=$?; finish; exit $rc' EXIT
trap 'exit 130' INT TERM

# secured ARGS...: one bench-produce run on the stack, signed, on a fresh prefix
secured() {
    PREFIX="bench-produce-$$-$(date +%s%N)."
    "$SRC/deploy/local/stack" grant-prefix "$PREFIX" >/dev/null 2>&1
    "$JC_BUILD/bench/bench-produce" --config "$JICENG_PRODUCE_CONFIG" --admin-config "$JICENG_ADMIN_CONFIG" \
        --signing-keys "$("$SRC/tests/support/signing-keys" keyring)" --topic-prefix "$PREFIX" "$@"
    revoke_prefix
}

# plain ARGS...: one bench-produce-unsigned run on the plain services, on a fresh prefix
plain() {
    (
        set -a
        # shellcheck disable=SC1090
        source "$JICENG_STATE/bench-plain/plain.env"
        set +a
        "$JC_BUILD/bench/bench-produce-unsigned" --config "$JICENG_PRODUCE_CONFIG" \
            --admin-config "$JICENG_ADMIN_CONFIG" --topic-prefix "bench-produce-$$-$(date +%s%N)." "$@"
    )
}

if [[ -z ${JC_PLAIN_COMPARE:-} ]]; then
    secured "$@"
    exit
fi

RUNS=${JC_RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench/produce.sh: JC_RUNS is not a positive number: $RUNS" >&2; exit 2; }
W=$(mktemp -d /tmp/bench-produce-compare.XXXXXX)
trap 'rc=$?; finish; rm -rf "$W"; exit $rc' EXIT
"$PLAIN" up >/dev/null

# one_run LABEL COMMAND ARGS...: the run, its output shown and its two rates kept
one_run() {
    local label=$1; shift
    echo "-- run of $label; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "$@" | tee "$W/out"
    awk '/jiceng-produce path/ { print $(NF-3) }' "$W/out" >>"$W/jiceng.$label"
    awk '/plain librdkafka/ { print $(NF-3) }' "$W/out" >>"$W/librdkafka.$label"
    echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# a freshly started broker answers its first idempotent producer late ("coordinator load in
# progress"): one small untimed run per side first
echo "-- warm-up (not counted): --events 1000 on each side"
secured --events 1000 >/dev/null && plain --events 1000 >/dev/null
status=0
for ((r = 1; r <= RUNS; r++)); do
    one_run A secured "$@" || status=1
    one_run B plain "$@" || status=1
done
echo "== bench-produce, $RUNS alternating runs per side ($*):"
echo "  A = secured: TLS with the load generator's certificate, every record signed (bench-produce)"
echo "  B = plaintext, unsigned: bench/plain-services, bench-produce-unsigned"
echo "  (both brokers ran during every run of either side)"
for fig in jiceng librdkafka; do
    [[ $fig == jiceng ]] && echo "  jiceng-produce path (parse+validate+encode+sign+produce):" \
                         || echo "  bare librdkafka, pre-encoded payloads, unsigned on both sides (TLS alone):"
    for side in A B; do echo "    $(bench_summary "$W/$fig.$side" "$side")"; done
    bench_ratio "$W/$fig.A" "$W/$fig.B" | sed 's/^/    /'
done
exit $status
