#!/usr/bin/env python3
"""The Python signer (jiceng_sign.py) and libjiceng agree: sign_interop.py SIGN_INTEROP_BIN.

Seeded random records (null, empty and binary keys and values, long values, random secrets and
key ids) are signed in Python; the C program computes its own signature for each and verifies
the Python headers. Some Python headers are tampered with on purpose (a flipped hex digit, the
signature of the record with a null key or value swapped for an empty one, a wrong key id), and
C must refuse exactly those. The fixed vector of docs/signing.md is checked here as well.
"""
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jiceng_sign  # noqa: E402

CASES = 400
SEED = 20261010
TOPIC_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"


def doc_example():
    """docs/signing.md's example (also a vector in tests/unit/test_sign.c)."""
    secret = bytes(range(32))
    got = jiceng_sign.headers(secret, "520102-2026a", "jiceng.visits", b"520102", b"hello")
    want = [("jiceng.key-id", b"520102-2026a"),
            ("jiceng.sig", b"v1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9")]
    assert got == want, got


def maybe_bytes(rng, longest):
    """None (null), b"" (empty) or random bytes, each often enough to matter."""
    r = rng.random()
    if r < 0.15:
        return None
    if r < 0.30:
        return b""
    n = rng.randint(1, longest if rng.random() < 0.2 else 24)
    return bytes(rng.getrandbits(8) for _ in range(n))


def enc(data):
    if data is None:
        return "-"
    return data.hex() if data else "."


def make_cases(rng):
    cases = []
    for i in range(CASES):
        secret = bytes(rng.getrandbits(8) for _ in range(32))
        key_id = "k%d-%s" % (i, "".join(rng.choice(TOPIC_CHARS) for _ in range(rng.randint(0, 40))))
        topic = "".join(rng.choice(TOPIC_CHARS) for _ in range(rng.randint(0, 60)))
        key, value = maybe_bytes(rng, 64), maybe_bytes(rng, 3000)
        hdrs = dict(jiceng_sign.headers(secret, key_id, topic, key, value))
        sig, sent_id, expect = hdrs["jiceng.sig"].decode(), key_id, "ok"
        kind = rng.random()
        if kind < 0.08:  # one hex digit changed
            pos = rng.randrange(3, len(sig))
            sig = sig[:pos] + ("0" if sig[pos] != "0" else "1") + sig[pos + 1:]
            expect = "bad-signature"
        elif kind < 0.16 and (key in (None, b"") or value in (None, b"")):
            # signed with null and empty swapped: must not verify the record as sent
            swap = {None: b"", b"": None}
            k2 = swap.get(key, key) if key in swap else key
            v2 = value if key in swap else swap[value]
            sig = jiceng_sign.signature(secret, topic, k2, v2)
            expect = "bad-signature"
        elif kind < 0.20:
            sent_id, expect = "no-such-key-%d" % i, "unknown-key"
        elif kind < 0.22:
            sig, expect = sig.upper().replace("V1:", "v1:"), "malformed"
        cases.append((key_id, secret, topic, key, value, sent_id, sig, expect))
    return cases


def main():
    doc_example()
    rng = random.Random(SEED)
    cases = make_cases(rng)
    stdin = "".join(
        " ".join([key_id, secret.hex(), enc(topic.encode()), enc(key), enc(value), sent_id, sig])
        + "\n" for key_id, secret, topic, key, value, sent_id, sig, _ in cases)
    out = subprocess.run([sys.argv[1]], input=stdin, capture_output=True, text=True, check=True)
    rows = out.stdout.splitlines()
    assert rows[0].split() == [jiceng_sign.HEADER_KEY_ID, jiceng_sign.HEADER_SIG], rows[0]
    assert len(rows) == len(cases) + 1, (len(rows), out.stderr)
    failures, counts = [], {}
    for i, (row, c) in enumerate(zip(rows[1:], cases)):
        c_sig, verdict = row.split()
        key_id, secret, topic, key, value, sent_id, sig, expect = c
        py_sig = jiceng_sign.signature(secret, topic, key, value)
        if c_sig != py_sig:
            failures.append("case %d: C %s, Python %s (key %r, value %r)" % (i, c_sig, py_sig,
                                                                             key, value))
        if verdict != expect:
            failures.append("case %d: C verdict %s, expected %s" % (i, verdict, expect))
        counts[expect] = counts.get(expect, 0) + 1
    nulls = sum(1 for c in cases for f in (c[3], c[4]) if f is None)
    empties = sum(1 for c in cases for f in (c[3], c[4]) if f == b"")
    print("%d cases (%s); %d null and %d empty keys/values; %d failures"
          % (len(cases), ", ".join("%s %d" % kv for kv in sorted(counts.items())), nulls,
             empties, len(failures)))
    for f in failures[:20]:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
