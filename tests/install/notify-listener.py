#!/usr/bin/env python3
"""notify-listener.py SOCKET OUT: stand in for systemd's end of sd_notify(3).

Binds a Unix datagram socket at SOCKET (what NOTIFY_SOCKET names for a service) and appends
every datagram it receives to OUT as one line: the datagram's newline-separated assignments
joined by ' | ' (e.g. "READY=1 | WATCHDOG=1 | STATUS=partitions 2, ..."), flushed at once so
that a test can follow the file. Runs until SIGTERM; removes the socket on exit.
"""
import os
import signal
import socket
import sys


def main() -> int:
    path, out = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with open(out, "a", encoding="utf-8") as f:
            print("listening", file=f, flush=True)
            while True:
                data = sock.recv(4096).decode("utf-8", "replace")
                f.write(" | ".join(data.strip("\n").split("\n")) + "\n")
                f.flush()
    finally:
        sock.close()
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
