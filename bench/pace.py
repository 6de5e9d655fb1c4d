#!/usr/bin/env python3
"""bench/pace.py RATE: copy standard input's lines to standard output at RATE lines a second.

A steady load for bench/freshness.sh: every 10 ms tick writes the lines due by then
(RATE x elapsed seconds, rounded down) and flushes, so the reader gets an even stream, not
bursts a second apart. If the reader falls behind, the lines due are written as soon as it
takes them (the rate reached is what the caller measures).
"""
import sys
import time


def main():
    rate = float(sys.argv[1])
    src, out = sys.stdin.buffer, sys.stdout.buffer
    start = time.monotonic()
    sent = 0
    while True:
        due = int(rate * (time.monotonic() - start)) - sent
        for _ in range(due):
            line = src.readline()
            if not line:
                out.flush()
                return
            out.write(line)
        sent += max(due, 0)
        out.flush()
        time.sleep(0.01)


if __name__ == "__main__":
    main()
