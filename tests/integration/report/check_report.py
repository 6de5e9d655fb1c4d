"""check_report.py: what the report tests compare jiceng-report's output with, computed here
from the generator's ground truth and the reference CSVs, independently of the SQL views and of
the C library (pure standard library).

  check_report.py truth GEN_DIR SOURCE_DIR REPORT_JSON --month YYYY-MM --region R --group G
      every figure of REPORT_JSON (region R: province, prefecture:CODE or county:CODE) equals
      the value computed from GEN_DIR/expected/*.csv: headline figures, breakdowns, the ranking
      (order, ranks, current and previous month), silent counties, the 12-month trend, the
      period and region, and freshness (lag 0, newest event = the newest valid event of
      GEN_DIR/events.ndjson); only generated_at and the consumer's topic/partition counts and
      update time are not compared. A section's counts are the sums of its ground-truth file's
      columns (all but the key: county_code, day and the schemas' enum fields), so a column the
      generator's truth adds is expected in the report without a change here
  check_report.py csv REPORT_JSON REPORT_CSV
      every row of the CSV report carries the JSON report's value
  check_report.py text REPORT_TXT
      the text report's tables are aligned: in each table every line has the same display width
      (East Asian wide characters counted as two columns, by unicodedata)
  check_report.py html REPORT_JSON DOM_HTML
      the page (as Chromium's --dump-dom wrote it) shows every headline figure of the JSON with
      its raw value and formatted as a Chinese reader reads it (万/亿, percentages), the key
      figures in the header, the ranking rows in the JSON's order, and each silent-county count
Exit status 0 when everything matches; otherwise each difference is printed and the status is 1.
"""
import csv
import datetime
import json
import os
import sys
import unicodedata
from html.parser import HTMLParser

SECTIONS = ["visits", "petitions", "disaster_responses", "trainings"]
METRICS = ["cadres", "visits", "people_met", "petitions_received", "petitions_resolved",
           "disaster_responses", "training_completions"]
DETAIL = {"resolution_seconds", "resolved_within_1d", "resolved_within_7d", "resolved_within_30d"}
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))

# ---- reading the ground truth ------------------------------------------------------------------


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_header(gen, table):
    with open(os.path.join(gen, "expected", table + ".csv"), newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def enum_fields(source):
    """The names of every enum field of every schema: the aggregate tables' dimension columns."""
    names = set()
    avro = os.path.join(source, "schemas", "avro")
    for name in os.listdir(avro):
        if name.endswith(".avsc"):
            with open(os.path.join(avro, name), encoding="utf-8") as f:
                names |= {fl["name"] for fl in json.load(f)["fields"]
                          if isinstance(fl["type"], dict) and fl["type"].get("type") == "enum"}
    return names


def enum_symbols(source, schema, field):
    with open(os.path.join(source, "schemas", "avro", schema), encoding="utf-8") as f:
        for fl in json.load(f)["fields"]:
            if fl["name"] == field:
                return fl["type"]["symbols"]
    raise SystemExit(f"no enum {field} in {schema}")


class Truth:
    def __init__(self, gen, source):
        self.gen = gen
        e = os.path.join(gen, "expected")
        self.tables = {t: read_csv(os.path.join(e, t + ".csv")) for t in
                       ["visits_daily", "visit_cadres", "petitions_daily", "disaster_responses_daily",
                        "disaster_incidents", "trainings_daily", "training_trainees"]}
        ref = os.path.join(source, "schemas", "reference")
        self.counties = {int(r["code"]): r for r in read_csv(os.path.join(ref, "guizhou_counties.csv"))}
        self.prefectures = {int(r["code"]): r for r in read_csv(os.path.join(ref, "guizhou_prefectures.csv"))}
        self.hazards = enum_symbols(source, "disaster_response.v1.avsc", "hazard")
        self.roles = enum_symbols(source, "training_completion.v1.avsc", "trainee_role")
        self.bases = enum_symbols(source, "training_completion.v1.avsc", "training_base")
        self.keys = {"county_code", "day"} | enum_fields(source)

    def measures(self, table):
        """The summed columns of a table: the ground truth's columns other than its key."""
        return [c for c in read_header(self.gen, table) if c not in self.keys]

    def rows(self, table, counties, first, last):
        for r in self.tables[table]:
            if int(r["county_code"]) in counties and first <= r["day"] <= last:
                yield r

    def sums(self, table, cols, counties, first, last, where=lambda r: True):
        out = dict.fromkeys(cols, 0)
        for r in self.rows(table, counties, first, last):
            if where(r):
                for c in cols:
                    out[c] += int(r[c])
        return out

    def distinct(self, table, col, counties, first, last, where=lambda r: True):
        return len({r[col] for r in self.rows(table, counties, first, last) if where(r)})


# ---- the expected report -----------------------------------------------------------------------


def ratio(num, den):
    return None if den == 0 else num / den


def month_bounds(year, month):
    first = datetime.date(year, month, 1)
    nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - datetime.timedelta(days=1)


def add_months(year, month, n):
    i = year * 12 + month - 1 + n
    return i // 12, i % 12 + 1


def period(year, month):
    first, last = month_bounds(year, month)
    return {"kind": "month", "from": first.isoformat(), "to": last.isoformat(),
            "days": (last - first).days + 1, "label": f"{year}年{month}月"}


def visits(t, c, a, b):
    s = t.sums("visits_daily", t.measures("visits_daily"), c, a, b)
    return {"cadres": t.distinct("visit_cadres", "cadre_id", c, a, b), **s}


def petitions(t, c, a, b):
    s = t.sums("petitions_daily", t.measures("petitions_daily"), c, a, b)
    days = None if s["resolved"] == 0 else s["resolution_seconds"] / s["resolved"] / 86400.0
    return {**s, "resolution_rate": ratio(s["resolved"], s["received"]), "mean_resolution_days": days,
            "resolved_within_1d_share": ratio(s["resolved_within_1d"], s["resolved"]),
            "resolved_within_7d_share": ratio(s["resolved_within_7d"], s["resolved"]),
            "resolved_within_30d_share": ratio(s["resolved_within_30d"], s["resolved"]),
            "satisfaction_rate": ratio(s["satisfied"], s["followups_answered"])}


def disasters(t, c, a, b):
    cols = t.measures("disaster_responses_daily")

    def one(where):
        return {"incidents": t.distinct("disaster_incidents", "incident_id", c, a, b, where),
                **t.sums("disaster_responses_daily", cols, c, a, b, where)}
    out = one(lambda r: True)
    out["by_hazard"] = {h: one(lambda r, h=h: r["hazard"] == h) for h in t.hazards}
    return out


def trainings(t, c, a, b):
    cols = t.measures("trainings_daily")
    s = t.sums("trainings_daily", cols, c, a, b)
    out = {**s, "trainees": t.distinct("training_trainees", "trainee_id", c, a, b),
           "pass_rate": ratio(s["passed"], s["completions"]),
           "poor_village_share": ratio(s["from_poor_village"], s["completions"])}
    out["by_role"] = {x: t.sums("trainings_daily", cols, c, a, b, lambda r, x=x: r["trainee_role"] == x)
                      for x in t.roles}
    out["by_base"] = {x: t.sums("trainings_daily", cols, c, a, b, lambda r, x=x: r["training_base"] == x)
                      for x in t.bases}
    return out


def metrics(t, c, a, b):
    v = visits(t, c, a, b)
    p = t.sums("petitions_daily", ["received", "resolved"], c, a, b)
    return {"cadres": v["cadres"], "visits": v["visits"], "people_met": v["people_met"],
            "petitions_received": p["received"], "petitions_resolved": p["resolved"],
            "disaster_responses": t.sums("disaster_responses_daily", ["responses"], c, a, b)["responses"],
            "training_completions": t.sums("trainings_daily", ["completions"], c, a, b)["completions"]}


def region_counties(t, region):
    level, _, code = region.partition(":")
    if level == "province":
        return "province", 520000, set(t.counties)
    code = int(code)
    if level == "prefecture":
        return level, code, {k for k, r in t.counties.items() if int(r["prefecture_code"]) == code}
    return level, code, {code}


def ranking(t, level, counties, cur, prev):
    if level == "province":
        groups = {p: {k for k in counties if int(t.counties[k]["prefecture_code"]) == p} for p in t.prefectures}
        names = {p: t.prefectures[p] for p in groups}
    else:
        groups = {k: {k} for k in counties}
        names = {k: t.counties[k] for k in groups}
    rows = [{"code": g, "name_zh": names[g]["name_zh"], "name_pinyin": names[g]["name_pinyin"],
             "current": metrics(t, members, *cur), "previous": metrics(t, members, *prev)}
            for g, members in groups.items()]
    rows.sort(key=lambda r: (-r["current"]["cadres"], r["code"]))
    for i, r in enumerate(rows):
        same = i > 0 and r["current"]["cadres"] == rows[i - 1]["current"]["cadres"]
        r["rank"] = rows[i - 1]["rank"] if same else i + 1
    return {"level": "prefecture" if level == "province" else "county", "ranked_by": "cadres", "rows": rows}


def silent(t, counties, a, b):
    tables = {"visits": "visits_daily", "petitions": "petitions_daily",
              "disaster_responses": "disaster_responses_daily", "trainings": "trainings_daily"}
    out = {}
    for s, table in tables.items():
        seen = {int(r["county_code"]) for r in t.rows(table, counties, a, b)}
        out[s] = [{"code": k, "name_zh": t.counties[k]["name_zh"], "name_pinyin": t.counties[k]["name_pinyin"]}
                  for k in sorted(counties - seen)]
    return out


def newest_event(gen):
    rejected = {int(r["line"]) for r in read_csv(os.path.join(gen, "expected", "rejects.csv"))}
    newest = None
    with open(os.path.join(gen, "events.ndjson"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if n in rejected:
                continue
            at = datetime.datetime.fromisoformat(json.loads(line)["occurred_at"])
            newest = at if newest is None or at > newest else newest
    local = newest.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}+08:00"


def expected_report(gen, source, month, region, group):
    t = Truth(gen, source)
    year, mon = map(int, month.split("-"))
    level, code, counties = region_counties(t, region)
    cur = period(year, mon)
    prev = period(*add_months(year, mon, -1))
    span = (cur["from"], cur["to"])
    if level == "province":
        place = {"code": 520000, "name_zh": "贵州省", "name_pinyin": "Guizhou"}
    else:
        row = (t.prefectures if level == "prefecture" else t.counties)[code]
        place = {"code": code, "name_zh": row["name_zh"], "name_pinyin": row["name_pinyin"]}
    trend = []
    for i in range(-11, 1):
        y, m = add_months(year, mon, i)
        a, b = month_bounds(y, m)
        trend.append({**metrics(t, counties, a.isoformat(), b.isoformat()), "month": f"{y:04d}-{m:02d}"})
    newest = newest_event(gen)
    return {
        "format": "jiceng-report", "format_version": 1,
        "region": {**place, "level": level, "counties": len(counties)},
        "period": cur, "previous_period": prev,
        "headline": {"visits": visits(t, counties, *span), "petitions": petitions(t, counties, *span),
                     "disaster_responses": disasters(t, counties, *span),
                     "trainings": trainings(t, counties, *span)},
        "ranking": ranking(t, level, counties, span, (prev["from"], prev["to"])),
        "silent_counties": silent(t, counties, *span),
        "trend": trend,
        "freshness": {"newest_event_at": newest, "lag": 0,
                      "groups": [{"group_id": group, "newest_event_at": newest, "lag": 0}]},
    }


# ---- comparing -------------------------------------------------------------------------------

# provenance (issue 13, item 3) is checked by tests/integration/aggregate/test_rebuild.sh
IGNORED = {"generated_at", "topics", "partitions", "updated_at", "lag_observed_at", "lag_age_ms", "provenance"}


def compare(want, got, path, diffs, counter):
    if isinstance(want, dict):
        if not isinstance(got, dict):
            diffs.append(f"{path}: expected an object, got {got!r}")
            return
        keys = set(want) | (set(got) - IGNORED)
        for k in sorted(keys):
            if k not in got:
                diffs.append(f"{path}.{k}: missing")
            elif k not in want:
                diffs.append(f"{path}.{k}: unexpected key ({got[k]!r})")
            else:
                compare(want[k], got[k], f"{path}.{k}", diffs, counter)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            diffs.append(f"{path}: expected {len(want)} items, got {got!r:.200}")
            return
        for i, (w, g) in enumerate(zip(want, got)):
            compare(w, g, f"{path}[{i}]", diffs, counter)
    else:
        counter[0] += 1
        same = (want == got and type(want) is type(got)) if not isinstance(want, float) else \
            isinstance(got, float) and abs(want - got) <= 1e-12 * max(1.0, abs(want))
        if not same:
            diffs.append(f"{path}: expected {want!r}, got {got!r}")


def finish(diffs, what):
    for d in diffs[:40]:
        print("  " + d)
    if diffs:
        print(f"FAIL: {len(diffs)} differences in {what}")
        sys.exit(1)


def cmd_truth(args):
    gen, source, report = args[:3]
    opts = dict(zip(args[3::2], args[4::2]))
    want = expected_report(gen, source, opts["--month"], opts["--region"], opts["--group"])
    with open(report, encoding="utf-8") as f:
        got = json.load(f)
    diffs, counter = [], [0]
    compare(want, got, "$", diffs, counter)
    finish(diffs, report)
    print(f"  {opts['--region']}: {counter[0]} values equal the ground truth")


# ---- CSV against JSON ----------------------------------------------------------------------------


def csv_expected(rep, row):
    s, subject, metric = row["section"], row["subject"], row["metric"]
    if s in SECTIONS:
        return rep["headline"][s][metric], None
    if "." in s:
        sec, bd = s.split(".")
        return rep["headline"][sec][bd][subject][metric], None
    if s == "ranking":
        r = next(x for x in rep["ranking"]["rows"] if x["code"] == int(row["code"]))
        return r["current"][metric], r["previous"][metric]
    if s == "trend":
        return next(m for m in rep["trend"] if m["month"] == subject)[metric], None
    return None, None


def cmd_csv(args):
    with open(args[0], encoding="utf-8") as f:
        rep = json.load(f)
    with open(args[1], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    diffs, checked = [], 0
    for n, row in enumerate(rows, 2):
        want, prev = csv_expected(rep, row)
        if want is None and row["section"] in ("report", "silent_counties", "freshness"):
            continue
        checked += 1
        shown = "" if want is None else str(want) if isinstance(want, int) else repr(float(row["value"]))
        if isinstance(want, float) and abs(float(row["value"]) - want) > 1e-12 * max(1.0, abs(want)):
            diffs.append(f"line {n}: {row} != {want}")
        elif not isinstance(want, float) and row["value"] != shown:
            diffs.append(f"line {n}: value {row['value']!r}, JSON has {want!r}")
        if prev is not None and row["previous"] != str(prev):
            diffs.append(f"line {n}: previous {row['previous']!r}, JSON has {prev!r}")
    silent_rows = sum(r["section"] == "silent_counties" for r in rows)
    if silent_rows != sum(len(v) for v in rep["silent_counties"].values()):
        diffs.append(f"{silent_rows} silent-county rows, JSON lists "
                     f"{sum(len(v) for v in rep['silent_counties'].values())}")
    finish(diffs, args[1])
    print(f"  CSV: {checked} values and {silent_rows} silent counties equal the JSON report")


# ---- text alignment ------------------------------------------------------------------------------


def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in s)


def cells(row):
    """(start, end) display columns of each cell of a table row (cells are 2+ spaces apart)."""
    out, i = [], 0
    while i < len(row):
        if row[i] == " ":
            i += 1
            continue
        j = i
        while j < len(row) and not (row[j] == " " and (j + 1 >= len(row) or row[j + 1] == " ")):
            j += 1
        out.append((width(row[:i]), width(row[:j])))
        i = j
    return out


def cmd_text(args):
    with open(args[0], encoding="utf-8") as f:
        lines = f.read().split("\n")
    diffs, tables, rows = [], 0, 0
    for i, line in enumerate(lines):
        if not (line.startswith("  排名") or line.startswith("  月份")):
            continue
        block = []
        for row in lines[i:]:
            if not row.strip():
                break
            block.append(row)
        tables += 1
        rows += len(block) - 2
        left = {1} if line.startswith("  排名") else {0}  # text columns; the rest right-aligned
        layout = [cells(r) for r in block]
        if len(block) < 3 or any(len(c) != len(layout[0]) for c in layout):
            diffs.append(f"table at line {i + 1}: rows have {sorted({len(c) for c in layout})} cells")
            continue
        for k in range(len(layout[0])):
            edge = {c[k][0] if k in left else c[k][1] for c in layout}
            if len(edge) != 1:
                diffs.append(f"table at line {i + 1}, column {k + 1}: not aligned ({sorted(edge)})")
    if tables != 2:
        diffs.append(f"found {tables} tables (ranking and trend expected)")
    finish(diffs, args[0])
    print(f"  text: {tables} tables, {rows} rows, every column aligned by display width")


# ---- HTML DOM --------------------------------------------------------------------------------


def fmt_cn(v):
    """jc_format_cn's rule, written again: plain below 10^4, else 3 significant digits of 万/亿."""
    if abs(v) < 10000:
        return str(v)
    sign, a = ("-" if v < 0 else ""), abs(v)

    def digits(m):
        text = "%.*f" % (2 if m < 10 else 1 if m < 100 else 0, m)
        return float(text), (text.rstrip("0").rstrip(".") if "." in text else text)
    shown, text = digits(a / 1e4)
    unit = "万"
    if a >= 1e8 or shown >= 1e4:
        unit = "亿"
        text = digits(a / 1e8)[1]
    return sign + text + unit


def fmt_figure(key, v):
    if v is None:
        return "—"
    if isinstance(v, int):
        return fmt_cn(v)
    if key.endswith("_days"):
        return "%.1f 天" % v
    return "%.1f%%" % (v * 100)


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cards, self.kpis, self.rows, self.silent = {}, {}, [], {}
        self.stack, self.current = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append(tag)
        if "data-key" in a:
            self.current = ("card", a["data-key"], a.get("data-value"))
            self.cards[a["data-key"]] = [a.get("data-value"), ""]
        elif "data-kpi" in a:
            self.current = ("kpi", a["data-kpi"], None)
            self.kpis[a["data-kpi"]] = ""
        elif tag == "tr" and "data-code" in a:
            self.rows.append(int(a["data-code"]))
        elif "data-silent" in a:
            self.silent[a["data-silent"]] = int(a["data-count"])
        if tag == "div" and a.get("class") == "v" and self.current:
            self.current = self.current + ("v", len(self.stack))

    def handle_endtag(self, tag):
        if self.current and len(self.current) == 5 and len(self.stack) == self.current[4]:
            self.current = None
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.current and len(self.current) == 5:
            kind, key = self.current[0], self.current[1]
            if kind == "card":
                self.cards[key][1] += data
            else:
                self.kpis[key] += data


def cmd_html(args):
    with open(args[0], encoding="utf-8") as f:
        rep = json.load(f)
    dom = Dom()
    with open(args[1], encoding="utf-8") as f:
        dom.feed(f.read())
    diffs, checked = [], 0
    for s in SECTIONS:
        for key, v in rep["headline"][s].items():
            if isinstance(v, dict) or key in DETAIL:
                continue
            checked += 1
            card = dom.cards.get(f"{s}.{key}")
            if card is None:
                diffs.append(f"no card for {s}.{key}")
                continue
            raw = "" if v is None else str(v) if isinstance(v, int) else card[0]
            if isinstance(v, float) and abs(float(card[0]) - v) > 1e-12:
                diffs.append(f"{s}.{key}: data-value {card[0]}, JSON {v}")
            elif card[0] != raw:
                diffs.append(f"{s}.{key}: data-value {card[0]!r}, JSON {v!r}")
            if card[1].strip() != fmt_figure(key, v):
                diffs.append(f"{s}.{key}: shows {card[1].strip()!r}, expected {fmt_figure(key, v)!r}")
    for key, shown in dom.kpis.items():
        s, k = key.split(".")
        if shown.strip() != fmt_figure(k, rep["headline"][s][k]).replace(" 天", ""):
            diffs.append(f"key figure {key}: shows {shown.strip()!r}")
    if len(dom.kpis) != 6:
        diffs.append(f"{len(dom.kpis)} key figures in the header, expected 6")
    want_rows = [r["code"] for r in rep["ranking"]["rows"]]
    if dom.rows != want_rows:
        diffs.append(f"ranking rows {dom.rows}, JSON {want_rows}")
    for s, lst in rep["silent_counties"].items():
        if dom.silent.get(s) != len(lst):
            diffs.append(f"silent {s}: page says {dom.silent.get(s)}, JSON lists {len(lst)}")
    finish(diffs, args[1])
    print(f"  HTML: {checked} headline figures, 6 key figures, {len(want_rows)} ranking rows and "
          f"{len(dom.silent)} silence counts as the JSON report has them")


if __name__ == "__main__":
    commands = {"truth": cmd_truth, "csv": cmd_csv, "text": cmd_text, "html": cmd_html}
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])
