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
                stayer was assigned to the joiner and never came back to that stayer; and a
                ledger_loaded line (in one of --all) for TOPIC [PARTITION] read at least
                1,000,000 ids with at least one batch committed meanwhile.
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
    """(event, set of (topic, partition)) for each rebalance line, in order."""
    for o in lines(path):
        if o.get("event") in REBALANCE:
            listed = o["msg"].rsplit("; ", 1)[-1]
            if listed.endswith("..."):
                sys.exit(f"{path}: a rebalance line was truncated: {o['msg']}")
            parts = {(t, int(p)) for t, ps in PARTS.findall(listed) for p in ps.split(",")}
            yield o["event"], parts


def held(path):
    now = set()
    for event, parts in changes(path):
        now = now | parts if event == "partitions_assigned" else now - parts
    return now


def check_stayer(path, joiner_got):
    problems = []
    revoked = set()
    for event, parts in changes(path):
        if event == "partitions_lost":
            problems.append(f"{path}: lost {sorted(parts)}")
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
    for path in paths:
        for o in lines(path):
            m = LOADED.match(o.get("msg", "")) if o.get("event") == "ledger_loaded" else None
            if m and m.group(1) == topic and int(m.group(2)) == partition:
                ids, ms, batches = int(m.group(3)), int(m.group(4)), int(m.group(5))
                print(f"  {path}: {topic} [{partition}]: {ids} ids loaded in {ms} ms, "
                      f"{batches} batch(es) committed meanwhile")
                if ids >= 1000000 and batches > 0:
                    return []
                return [f"{path}: {topic} [{partition}]: {ids} ids, {batches} batches meanwhile"]
    return [f"no ledger_loaded line for {topic} [{partition}]"]


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
    for event, parts in changes(a.joiner):
        if event == "partitions_assigned":
            joiner_got |= parts
    if not joiner_got:
        print(f"the joiner {a.joiner} got no partition: nothing was tested", file=sys.stderr)
        return 1
    problems = [p for s in a.stayers for p in check_stayer(s, joiner_got)]
    problems += check_big(a.all, a.big[0], int(a.big[1]))
    for p in problems:
        print("FAIL " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
