#!/usr/bin/env python3
"""rebalance_log.py: reads jiceng-aggregate's JSON log lines (--log-format json --log-level debug)
for test_cooperative.sh.

The library logs one debug line per rebalance, its message ending with every partition that
changed: "...; N held; topic[0,3] other[1]" (events partitions_assigned, partitions_revoked,
partitions_lost), and one ledger_loaded line per partition whose dedup ledger the loader read:
"topic [p]: N id(s) of its dedup ledger read in T ms; B batch(es) committed meanwhile".

  held LOG      print the partitions the instance holds after its last line, "topic partition"
  check --joiner LOG --stayers LOG... --all LOG... --big TOPIC PARTITION
                exit 1 unless: no stayer lost a partition; every partition revoked from a
                stayer once the joiner had started (its log's first line; before that the
                first members were still sharing the partitions out) was assigned to the
                joiner and never came back to that stayer; and the latest ledger_loaded line
                (in any of --all) for TOPIC [PARTITION], the load of whoever took it over
                last, read at least 1,000,000 ids with at least one batch committed meanwhile.
"""
import argparse
import json
import re
import sys

REBALANCE = ("partitions_assigned", "partitions_revoked", "partitions_lost")
PARTS = re.compile(r"(\S+?)\[([\d,]+)\]")
LOADED = re.compile(r"^(\S+) \[(\d+)\]: (\d+) id\(s\) .* read in (\d+) ms; (\d+) batch\(es\) "
                    r"committed meanwhile")


def lines(path):
    with open(path, encoding="utf-8") as f:
        for raw in f:
            raw = raw.strip()
            if raw.startswith("{"):
                try:
                    yield json.loads(raw)
                except json.JSONDecodeError:
                    continue


def changes(path):
    """(event, set of (topic, partition), ts) for each rebalance line, in order."""
    for o in lines(path):
        if o.get("event") in REBALANCE:
            listed = o["msg"].rsplit("; ", 1)[-1]
            if listed.endswith("..."):
                sys.exit(f"{path}: a rebalance line was truncated: {o['msg']}")
            parts = {(t, int(p)) for t, ps in PARTS.findall(listed) for p in ps.split(",")}
            yield o["event"], parts, o["ts"]


def held(path):
    now = set()
    for event, parts, _ in changes(path):
        now = now | parts if event == "partitions_assigned" else now - parts
    return now


def check_stayer(path, joiner_got, since):
    """The stayer's rebalances from since (ISO 8601 UTC, as the log writes it) on."""
    problems = []
    revoked = set()
    for event, parts, ts in changes(path):
        if event == "partitions_lost":
            problems.append(f"{path}: lost {sorted(parts)}")
        elif ts < since:
            continue
        elif event == "partitions_revoked":
            moved = parts - joiner_got
            if moved:
                problems.append(f"{path}: revoked {sorted(moved)}, which the joiner never got")
            revoked |= parts
        elif parts & revoked:
            problems.append(f"{path}: got back {sorted(parts & revoked)} after they were revoked")
    print(f"  {path}: {len(revoked)} partition(s) moved to the joiner, {len(held(path))} held")
    return problems


def check_big(paths, topic, partition):
    loads = []  # (ts, path, match) of every load of the partition, whoever held it
    for path in paths:
        for o in lines(path):
            m = LOADED.match(o.get("msg", "")) if o.get("event") == "ledger_loaded" else None
            if m and m.group(1) == topic and int(m.group(2)) == partition:
                loads.append((o["ts"], path, m))
    if not loads:
        return [f"no ledger_loaded line for {topic} [{partition}]"]
    _, path, m = max(loads, key=lambda x: x[0])
    ids, ms, batches = int(m.group(3)), int(m.group(4)), int(m.group(5))
    print(f"  {path}: {topic} [{partition}]: {ids} ids loaded in {ms} ms, "
          f"{batches} batch(es) committed meanwhile (the last of {len(loads)} load(s))")
    if ids >= 1000000 and batches > 0:
        return []
    return [f"{path}: {topic} [{partition}]: {ids} ids, {batches} batches meanwhile"]


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("held")
    h.add_argument("log")
    c = sub.add_parser("check")
    c.add_argument("--joiner", required=True)
    c.add_argument("--stayers", nargs="+", required=True)
    c.add_argument("--all", nargs="+", required=True)
    c.add_argument("--big", nargs=2, required=True)
    a = ap.parse_args()
    if a.cmd == "held":
        for t, p in sorted(held(a.log)):
            print(t, p)
        return 0
    joiner_got = set()
    since = next(lines(a.joiner), {}).get("ts")
    if since is None:
        print(f"the joiner's log {a.joiner} has no JSON line", file=sys.stderr)
        return 1
    for event, parts, _ in changes(a.joiner):
        if event == "partitions_assigned":
            joiner_got |= parts
    if not joiner_got:
        print(f"the joiner {a.joiner} got no partition: nothing was tested", file=sys.stderr)
        return 1
    problems = [p for s in a.stayers for p in check_stayer(s, joiner_got, since)]
    problems += check_big(a.all, a.big[0], int(a.big[1]))
    for p in problems:
        print("FAIL " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
