# bench/compare.sh: the summary of alternating benchmark runs, sourced by replay.sh and
# produce.sh. A side's figures are one number a line in a file; the summary is every run, the
# median and the spread (max - min) / median; the ratio is that of two sides' medians.

# bench_stats FILE: "MEDIAN SPREAD% RUN..." (nothing when FILE holds no run)
bench_stats() {
    sort -n "$1" 2>/dev/null | awk '{ v[NR] = $1; s = s " " $1 }
        END { if (NR == 0) exit; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.0f %.1f%s\n", m, 100 * (v[NR] - v[1]) / m, s }'
}

# bench_summary FILE LABEL: "LABEL  runs: R...  median M events/s  spread S%"
bench_summary() {
    local stats; stats=$(bench_stats "$1")
    [[ -n $stats ]] || { echo "$2: no run measured"; return; }
    read -r m spread runs <<<"$stats"
    echo "$2  runs: $runs  median $m events/s  spread $spread%"
}

# bench_ratio FILE_A FILE_B: "ratio of the medians A / B: R" when both sides have runs
bench_ratio() {
    local a b; a=$(bench_stats "$1") b=$(bench_stats "$2")
    [[ -n $a && -n $b ]] || return 0
    awk -v a="${a%% *}" -v b="${b%% *}" 'BEGIN { printf "ratio of the medians A / B: %.3f\n", a / b }'
}
