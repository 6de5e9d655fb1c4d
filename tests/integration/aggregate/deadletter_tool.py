"""deadletter_tool.py: what test_deadletter.sh does with a third-party Kafka client
(confluent-kafka, from the stack's venv), as the stack's identities (kafka_tool.client_conf):
the load generator publishes, the administrator configures and deletes the dead-letter topic
and reads it (no other principal may).

  deadletter_tool.py publish TOPIC OUT_JSON SPEC...
      publish one unsigned record per SPEC to TOPIC (so that each is a reject) and write what
      was published, in order, to OUT_JSON: a list of {partition, offset, key, value}, where
      key and value are null or {length, sha256, head (the first 64 bytes, hex)}. A SPEC is
      KEY/VALUE, each one of
        null         a null key or value
        empty        an empty one (zero bytes, not null)
        N            N bytes: a key of N digits; a value of N seeded random bytes whose first
                     byte is not the wire format's magic byte 0
  deadletter_tool.py set-max-bytes TOPIC BYTES
      set the topic's max.message.bytes (the broker refuses a larger record batch)
  deadletter_tool.py delete-topic TOPIC
  deadletter_tool.py check DLQ_TOPIC PUBLISHED_JSON CUT_BELOW
      read the dead-letter topic and check, for each published record, that exactly one copy
      names it (jiceng.source.partition and .offset) and that the copy keeps its key and value:
      null stays null and empty stays empty (also in the jiceng.key/value.length and .sha256
      headers, null for null); a record no longer than CUT_BELOW bytes arrives whole; a longer
      one arrives cut to fewer than CUT_BELOW bytes, a prefix of the original, its length and
      SHA-256 headers those of the whole. Prints ok/FAIL lines; exit 1 if any check failed.
"""
import hashlib
import json
import os
import random
import sys

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_tool import client_conf  # noqa: E402  (the stack's identities)


def field(spec, is_key, rng):
    """The bytes a SPEC half stands for (None for null)."""
    if spec == "null":
        return None
    if spec == "empty":
        return b""
    n = int(spec)
    if is_key:
        return (b"5201020000" * (n // 10 + 1))[:n]
    return b"\x7f" + rng.randbytes(n - 1)


def describe(b):
    """null, or the length, SHA-256 and first 64 bytes (hex) of b."""
    if b is None:
        return None
    return {"length": len(b), "sha256": hashlib.sha256(b).hexdigest(), "head": b[:64].hex()}


def publish(topic, out, specs):
    rng = random.Random(20261101)
    p = Producer(client_conf("loadgen", **{"message.max.bytes": 2000000}))
    sent = []

    def done(err, msg):
        if err is not None:
            raise SystemExit(f"delivery failed: {err}")
        sent.append((msg.partition(), msg.offset()))

    records = []
    for spec in specs:
        k, v = spec.split("/")
        key, value = field(k, True, rng), field(v, False, rng)
        records.append((key, value))
        p.produce(topic, key=key, value=value, on_delivery=done)
        if p.flush(30) != 0:  # one at a time: the offsets come back in order
            raise SystemExit("a record was still undelivered after 30 s")
    rows = [{"partition": part, "offset": off, "key": describe(k), "value": describe(v)}
            for (part, off), (k, v) in zip(sent, records)]
    with open(out, "w") as f:
        json.dump(rows, f, indent=1)


def set_max_bytes(topic, n):
    admin = AdminClient(client_conf("admin"))
    res = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"max.message.bytes": n})
    for f in admin.alter_configs([res]).values():
        f.result()


def delete_topic(topic):
    admin = AdminClient(client_conf("admin"))
    for f in admin.delete_topics([topic], operation_timeout=30).values():
        f.result()


def read_topic(topic):
    """Every message of topic, read as the administrator."""
    c = Consumer(client_conf("admin", **{"group.id": "jiceng-aggregate-dlq-check",
                                         "enable.auto.commit": False}))
    md = c.list_topics(topic, timeout=10).topics[topic]
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in md.partitions}
    c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
    want, msgs = sum(ends.values()), []
    while len(msgs) < want:
        m = c.poll(10)
        if m is None:
            break
        if not m.error():
            msgs.append(m)
    c.close()
    return msgs


def last_headers(m):
    """The message's headers as {name: value}, the last of each name winning."""
    h = {}
    for k, v in m.headers() or []:
        h[k] = v
    return h


class Checks:
    def __init__(self):
        self.failed = 0

    def check(self, what, ok):
        print(("ok    " if ok else "FAIL  ") + what)
        self.failed += 0 if ok else 1


def check_field(ck, where, name, want, got, headers, cut_below):
    """One copy's key or value (got) against the published one (want: null or length, sha)."""
    length = headers.get(f"jiceng.{name}.length")
    sha = headers.get(f"jiceng.{name}.sha256")
    if want is None:
        ck.check(f"{where}: null {name} stays null", got is None)
        ck.check(f"{where}: its {name} headers are null", length is None and sha is None
                 and f"jiceng.{name}.length" in headers)
        return
    ck.check(f"{where}: {name} of {want['length']} bytes is not null", got is not None)
    ck.check(f"{where}: {name} length header {length!r} is the whole's",
             length == str(want["length"]).encode())
    ck.check(f"{where}: {name} sha256 header is the whole's", sha == want["sha256"].encode())
    got = got if got is not None else b""
    if want["length"] <= cut_below:
        ck.check(f"{where}: {name} arrives whole ({len(got)} bytes)",
                 describe(got) == want)
    else:
        ck.check(f"{where}: {name} arrives cut below {cut_below} bytes ({len(got)})",
                 0 < len(got) < cut_below)
        head = bytes.fromhex(want["head"])
        ck.check(f"{where}: the cut {name} is a prefix of the whole", got[:len(head)] == head)


def check(dlq_topic, published, cut_below):
    with open(published) as f:
        rows = json.load(f)
    copies = {}
    for m in read_topic(dlq_topic):
        h = last_headers(m)
        at = (int(h["jiceng.source.partition"]), int(h["jiceng.source.offset"]))
        copies.setdefault(at, []).append((m, h))
    ck = Checks()
    for r in rows:
        where = f"[{r['partition']}] @{r['offset']}"
        found = copies.get((r["partition"], r["offset"]), [])
        ck.check(f"{where}: exactly one dead-letter copy ({len(found)})", len(found) == 1)
        if len(found) != 1:
            continue
        m, h = found[0]
        check_field(ck, where, "key", r["key"], m.key(), h, cut_below)
        check_field(ck, where, "value", r["value"], m.value(), h, cut_below)
    sys.exit(1 if ck.failed else 0)


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "publish" and len(args) >= 3:
        publish(args[0], args[1], args[2:])
    elif cmd == "set-max-bytes" and len(args) == 2:
        set_max_bytes(args[0], args[1])
    elif cmd == "delete-topic" and len(args) == 1:
        delete_topic(args[0])
    elif cmd == "check" and len(args) == 3:
        check(args[0], args[1], int(args[2]))
    else:
        sys.exit(__doc__)
