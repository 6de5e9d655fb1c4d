"""bench/peers/workload.py: the workload and ground-truth steps of bench/peers/flink.sh.

  workload.py visits EVENTS OUT
      the visit lines of a jiceng-gen workload (EVENTS), unchanged, to OUT; prints how many
  workload.py json BOOTSTRAP_CONF TOPIC VISITS
      produce each visit of VISITS to TOPIC as JSON for the Flink peer: the Avro schema's
      fields (no "type"), occurred_at in epoch milliseconds, keyed by the current county code
      as jiceng-produce keys it; confluent-kafka with the identity in BOOTSTRAP_CONF (a stack
      clients/NAME.json), lz4, idempotent; prints how many were delivered
  workload.py nodedup GEN_DIR OUT
      the ground truth of visits_daily when every re-send counts again (what a job without
      dedup must arrive at): GEN_DIR/expected/visits_daily.csv plus each re-sent visit line
      (GEN_DIR/expected/duplicates.csv) folded in, as CSV with the same header; prints how
      many re-sent visits it folded in
  workload.py check CONNINFO SCHEMA TABLE TRUTH_CSV
      SCHEMA.TABLE (read with psql) against TRUTH_CSV: the columns both have, in the truth's
      order (the peer's tables have the base columns only); every truth column the table lacks
      must be 0 in every truth row (the corrections' sums: the workload has none), else the
      tables differ, but for "events" of a distinct table (the versions in force), where a
      truth row counts only while it is above 0. Prints "  TABLE: N rows equal the
      ground truth" or DIFF with the first differing rows; exit 1 on a difference

How it works: plain CSV and JSON; county codes are mapped with schemas/reference/
guizhou_code_changes.csv and days are Asia/Shanghai days (UTC+08:00, no daylight saving), as
the generator's truth has them. The truth of the generator is computed from its model, not
from the lines; only the no-dedup adjustment reads lines back (the re-sends, which the model
leaves out of the truth by design).
"""
import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHANGHAI = timezone(timedelta(hours=8))
SUMS = ("households_visited", "people_met", "deeds_done", "problems_solved")


def code_changes():
    with open(os.path.join(SRC, "schemas", "reference", "guizhou_code_changes.csv"), encoding="utf-8") as f:
        return {int(r["old_code"]): int(r["new_code"]) for r in csv.DictReader(f) if r["old_code"]}


def current(code, changes):
    for _ in range(8):
        if code not in changes:
            break
        code = changes[code]
    return code


def millis(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def visits(events, out):
    n = 0
    with open(events, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            if line.startswith('{"type":"visit"'):
                dst.write(line)
                n += 1
    print(n)


def produce_json(conf_path, topic, path):
    from confluent_kafka import Producer
    with open(conf_path) as f:
        conf = json.load(f)
    conf.update({"enable.idempotence": True, "acks": "all", "compression.codec": "lz4",
                 "linger.ms": 5, "partitioner": "murmur2_random"})
    p, changes, sent, failed = Producer(conf), code_changes(), 0, []

    def done(err, _msg):
        if err is not None:
            failed.append(err)
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            del rec["type"]
            rec["occurred_at"] = millis(rec["occurred_at"])
            key = str(current(rec["county_code"], changes)).encode()
            while True:
                try:
                    p.produce(topic, key=key, value=json.dumps(rec, ensure_ascii=False).encode(),
                              on_delivery=done)
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
            sent += 1
    if p.flush(60) != 0 or failed:
        sys.exit(f"workload.py json: {len(failed)} failed deliveries ({failed[:1]}), or undelivered after 60 s")
    print(sent)


def nodedup(gen, out):
    exp = os.path.join(gen, "expected")
    with open(os.path.join(exp, "visits_daily.csv"), encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = {(r["county_code"], r["day"], r["cadre_level"]): r for r in reader}
    with open(os.path.join(exp, "duplicates.csv"), encoding="utf-8") as f:
        dup_lines = {int(r["line"]) for r in csv.DictReader(f)}
    changes, folded = code_changes(), 0
    with open(os.path.join(gen, "events.ndjson"), encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if no not in dup_lines or not line.startswith('{"type":"visit"'):
                continue
            e = json.loads(line)
            day = datetime.fromisoformat(e["occurred_at"]).astimezone(SHANGHAI).date().isoformat()
            r = rows[(str(current(e["county_code"], changes)), day, e["cadre_level"])]
            r["visits"] = int(r["visits"]) + 1
            for k in SUMS + ("hours_on_site",):
                r[k] = int(r[k]) + e[k]
            r["overnight_stays"] = int(r["overnight_stays"]) + (1 if e["stayed_overnight"] else 0)
            folded += 1
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header, lineterminator="\n")
        w.writeheader()
        for r in rows.values():
            w.writerow(r)
    print(folded)


def check(conninfo, schema, table, truth):
    with open(truth, encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, want_rows = reader.fieldnames, list(reader)
    have = subprocess.run(
        ["psql", "-X", "-q", "-At", conninfo, "-c",
         "select column_name from information_schema.columns where table_schema = '%s' and table_name = '%s'"
         % (schema, table)], check=True, capture_output=True, text=True).stdout.split()
    cols = [c for c in header if c in have]
    lacking = [c for c in header if c not in have]
    if "events" in lacking:  # the distinct tables' versions in force: a row counts while > 0
        want_rows = [r for r in want_rows if int(r["events"]) > 0]
    bad = [c for c in lacking if c != "events" and any(r[c] not in ("0", "") for r in want_rows)]
    if bad or not cols:
        print(f"   {schema}.{table}: DIFF, the table lacks the truth's columns {bad or header}")
        return 1
    got = subprocess.run(["psql", "-X", "-q", conninfo, "-c",
                          f"\\copy (select {', '.join(cols)} from {schema}.{table}) to stdout csv"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    want = [",".join(r[c] for c in cols) for r in want_rows]
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if not missing and not extra and len(got) == len(want):
        print(f"   {schema}.{table}: {len(got)} rows equal the ground truth")
        return 0
    print(f"   {schema}.{table}: DIFF, {len(got)} rows against {len(want)}; "
          f"{len(missing)} truth rows missing, {len(extra)} rows not in the truth")
    for line in missing[:3]:
        print(f"     < {line}")
    for line in extra[:3]:
        print(f"     > {line}")
    return 1


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "visits" and len(args) == 2:
        visits(*args)
    elif cmd == "json" and len(args) == 3:
        produce_json(*args)
    elif cmd == "nodedup" and len(args) == 2:
        nodedup(*args)
    elif cmd == "check" and len(args) == 4:
        sys.exit(check(*args))
    else:
        sys.exit(__doc__)
