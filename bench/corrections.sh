#!/usr/bin/env bash
# bench/corrections.sh: the replay's rate with corrections against without (issue 13's
# acceptance: at least 85% of the rate without corrections, medians of at least three
# alternating runs).
#
# usage: bench/corrections.sh [N]    (events; default 1000000)
#
# JC_RUNS rounds (default 3), each two runs of bench/replay.sh N one after the other: side A a
# workload without corrections (jiceng-gen's defaults), side B the same size with 1%
# corrections and 0.2% withdrawals (JC_CORRECTIONS_ARGS, default "--correction-rate 0.01
# --withdrawal-rate 0.002"). Every run generates and produces its own backlog, replays it
# end to end into a fresh database and checks every aggregate table against its ground truth
# (replay.sh exits non-zero on a difference, and so does this). Then each side's end-to-end
# events/s: every run, the median and the spread, and the ratio B / A. Other environment as
# for bench/replay.sh (JC_BUILD, JICENG_STATE, JC_BENCH_ARGS).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/compare.sh
source "$SRC/bench/compare.sh"
N=${1:-1000000}
RUNS=${JC_RUNS:-3}
B_ARGS=${JC_CORRECTIONS_ARGS:---correction-rate 0.01 --withdrawal-rate 0.002}
[[ $N =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/corrections.sh [N] (JC_RUNS >= 1)" >&2; exit 2; }
W=$(mktemp -d /tmp/bench-corrections.XXXXXX)
trap 'rm -rf "$W"' EXIT

# run SIDE GEN_ARGS: one replay; its end-to-end events/s appended to $W/rates.SIDE
run() {
    local out=$W/run-$1.out
    echo "-- side $1: jiceng-gen ${2:-(defaults)}"
    JC_GEN_ARGS=$2 JC_RUNS=1 "$SRC/bench/replay.sh" "$N" >"$out" 2>&1 \
        || { echo "bench/replay.sh failed (side $1):" >&2; tail -20 "$out" >&2; return 1; }
    grep -E "^ *(end to end [0-9]|ground truth|consumed [0-9]+ \(topics)" "$out" | sed 's/^ */   /'
    awk '/^1\. end to end/ { f = 1 } f && /events\/s$/ { print $(NF-1); exit }' "$out" >>"$W/rates.$1"
}

for ((r = 1; r <= RUNS; r++)); do
    echo "== round $r of $RUNS, $N events"
    run A ""
    run B "$B_ARGS"
done
echo "== end to end, $N events:"
echo "  A = no corrections; B = $B_ARGS"
bench_summary "$W/rates.A" A | sed 's/^/  /'
bench_summary "$W/rates.B" B | sed 's/^/  /'
bench_ratio "$W/rates.B" "$W/rates.A" | sed 's/A \/ B/B \/ A/; s/^/  /'
