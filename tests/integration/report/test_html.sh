#!/usr/bin/env bash
# test_html.sh: the HTML report as a reader's browser shows it. A jiceng-gen month goes through
# jiceng-produce and jiceng-aggregate into a scratch database; jiceng-report (as jiceng_report)
# writes the JSON report and the HTML page into the build tree. The page must be self-contained
# (no script, link, image, frame, external URL or CSS import). Headless Chromium (Debian's
# chromium, CJK glyphs from fonts-noto-cjk) takes a screenshot, $JC_BUILD/report.png, and dumps
# the rendered DOM; Chromium must log no console message (the page has no script, so any is a
# fault, e.g. a blocked resource), the PNG must be a 1280-pixel-wide image of real content, and
# check_report.py html requires every headline figure of the JSON on the page with its raw
# value and as a Chinese reader reads it (万/亿, percentages), the key figures, the ranking rows
# in order and the silent-county counts.
source "$(dirname "$0")/../aggregate/lib.sh"
CHECK="$(dirname "$0")/check_report.py"
MONTH=2025-07
PAGE="$JC_BUILD/report.html" SHOT="$JC_BUILD/report.png"
CHROME=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROME ]] || it_fail "chromium is not installed (deploy/local/stack deps installs it)"
it_init report-html
it_topics 4
it_gen --month "$MONTH" --events 30000 --seed 5
it_produce_workload
it_aggregate --until-caught-up 2>"$W/aggregate.log" || it_fail "jiceng-aggregate failed: $(tail -3 "$W/aggregate.log")"
it_report --month "$MONTH" --format json --output "$W/report.json" || it_fail "jiceng-report --format json failed"
it_report --month "$MONTH" --format html --output "$PAGE" || it_fail "jiceng-report --format html failed"

if grep -Eion '<script|<link|<img|<iframe|<object|src=|href=|url\(|@import|https?://' "$PAGE" >"$W/external.txt"; then
    it_fail "the page is not self-contained: $(head -3 "$W/external.txt")"
fi

chrome() { # chrome LOG ARGS...: headless Chromium on the page, its log (console included) to LOG
    local log=$1; shift
    timeout 180 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$W/chromium" --enable-logging=stderr --v=0 "$@" "file://$PAGE" 2>"$log"
}
rm -f "$SHOT"
chrome "$W/screenshot.log" --screenshot="$SHOT" --window-size=1280,4400 >/dev/null \
    || it_fail "chromium --screenshot failed: $(tail -5 "$W/screenshot.log")"
chrome "$W/dom.log" --dump-dom >"$W/dom.html" || it_fail "chromium --dump-dom failed: $(tail -5 "$W/dom.log")"
if grep -hE ':CONSOLE|Uncaught' "$W/screenshot.log" "$W/dom.log" >"$W/console.txt"; then
    it_fail "console messages while rendering the page: $(head -5 "$W/console.txt")"
fi
"$PY" - "$SHOT" <<'PY' || it_fail "the screenshot is not a real image of the page"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1280, 4400), f"{w}x{h}"
# a blank or failed page compresses to a few kB; the report's text and charts do not
assert len(data) > 150_000, f"only {len(data)} bytes"
print(f"  screenshot {sys.argv[1]}: {w}x{h}, {len(data)} bytes")
PY
"$PY" "$CHECK" html "$W/report.json" "$W/dom.html" || it_fail "the rendered page differs from the JSON report"
echo "PASS: $PAGE renders in Chromium without console messages; figures as in the JSON; screenshot $SHOT"
