#!/usr/bin/env bash
# test_report_monthly.sh: what jiceng-report.service runs, as installed by `cmake --install` into a
# scratch prefix: jiceng-report-monthly, against the real stack (a scratch database, migrated, as
# the read-only report role), writes jiceng-report-YYYY-MM.{html,csv,json} into the directory
# for the last full month in Asia/Shanghai (computed here independently, with Python's zoneinfo),
# and the JSON report covers exactly that month.
source "$JC_SOURCE/tests/integration/aggregate/lib.sh"
it_init report-monthly
prefix=$W/prefix reports=$W/reports
cmake --install "$JC_BUILD" --prefix "$prefix" >/dev/null || it_fail "cmake --install failed"
mkdir -p "$reports"
month=$(python3 -c '
from datetime import datetime
from zoneinfo import ZoneInfo
d = datetime.now(ZoneInfo("Asia/Shanghai"))
y, m = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
print(f"{y:04d}-{m:02d}")')
STATE_DIRECTORY=$reports JICENG_REPORT_CONNINFO=$REPORT_CONNINFO \
    "$prefix/libexec/jiceng/jiceng-report-monthly" >"$W/monthly.log" 2>&1 \
    || it_fail "jiceng-report-monthly failed: $(tail -3 "$W/monthly.log")"
cat "$W/monthly.log"
for f in html csv json; do
    it_check_ok "jiceng-report-$month.$f written" test -s "$reports/jiceng-report-$month.$f"
done
it_check_ok "nothing else written" test "$(find "$reports" -type f | wc -l)" = 3
it_check_ok "the HTML is a page" grep -q '<html' "$reports/jiceng-report-$month.html"
covers_month() {
    python3 - "$reports/jiceng-report-$month.json" "$month" <<'PY'
import calendar, json, sys
period = json.load(open(sys.argv[1]))["period"]
y, m = map(int, sys.argv[2].split("-"))
want = (f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}")
got = (period["from"], period["to"])
sys.exit(0 if got == want else f"period {got}, expected {want}")
PY
}
it_check_ok "the JSON report covers $month" covers_month
it_checks_done
echo "PASS: the monthly job wrote $month's report as HTML, CSV and JSON"
