#!/usr/bin/env python3
"""join-pause.py: bench/join-pause.sh's arithmetic.

  join-pause.py waiting T0 W        how many of d's partitions still wait for their first flush
                                    on d (-1 while d holds nothing)
  join-pause.py report T0 W STOP    the figures, from T0 (the join) to STOP

W is the work directory: the instances' JSON logs W/{a,b,c,d}.log; W/seen, the polled rows
"topic partition epoch" of jiceng.consumer_progress (updated_at after T0); W/left, the
partitions with a backlog at the last poll, "topic partition".
"""
import datetime
import json
import re
import sys

PARTS = re.compile(r"(\S+?)\[([\d,]+)\]")


def events(w, name, t0, stop):
    for line in open(f"{w}/{name}.log", encoding="utf-8"):
        if line.startswith("{"):
            o = json.loads(line)
            ts = datetime.datetime.fromisoformat(o["ts"].replace("Z", "+00:00")).timestamp()
            if t0 <= ts < stop:
                yield ts, o["event"], o["msg"]


def parts(msg):
    listed = msg.rsplit("; ", 1)[-1]
    return {(t, p) for t, ps in PARTS.findall(listed) for p in ps.split(",")}


def main():
    mode, t0, w = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    stop = float(sys.argv[4]) if len(sys.argv) > 4 else float("inf")
    d_at, d_parts = None, set()
    for ts, e, m in events(w, "d", t0, stop):
        if e == "partitions_assigned":
            d_at = d_at or ts
            d_parts |= parts(m)
    flushes = {}
    for line in open(f"{w}/seen"):
        t, p, e = line.split()
        if d_at is not None and float(e) >= d_at:
            flushes.setdefault((t, p), float(e))
    left = {tuple(line.split()) for line in open(f"{w}/left")}
    if mode == "waiting":
        print(-1 if d_at is None else sum(1 for p in d_parts if p not in flushes and p in left))
        return 0
    if d_at is None:
        print("d was assigned nothing")
        return 1
    loaded = [ts for ts, e, _ in events(w, "d", t0, stop) if e == "ledger_loaded"]
    revoked = [ts for n in "abc" for ts, e, _ in events(w, n, t0, stop) if e == "partitions_revoked"]
    print(f"join -> d assigned {len(d_parts)} partition(s): {d_at - t0:.2f} s")
    if revoked:
        print(f"join -> the stayers' revocations (each flushes first): {min(revoked) - t0:.2f} "
              f"to {max(revoked) - t0:.2f} s")
    if loaded:
        print(f"join -> d's last ledger loaded: {max(loaded) - t0:.2f} s ({len(loaded)} ledgers)")
    got = {p: f for p, f in flushes.items() if p in d_parts}
    if not got:
        print("PAUSE: not measured: none of d's partitions had a backlog left; give more EVENTS")
        return 1
    last = max(got, key=got.get)
    print(f"PAUSE: join -> every moved partition flushed by d: {got[last] - t0:.2f} s "
          f"(the last: {last[0]} [{last[1]}]; {len(got)} of {len(d_parts)} had a backlog)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
