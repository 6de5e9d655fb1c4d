"""cluster_tool.py: what the 3-broker fault tests ask of the cluster, through a third-party
client (confluent-kafka from the stack's venv) as the stack's administrator (kafka_tool.py's
client_conf: TLS with the admin's client certificate).

  cluster_tool.py leader PREFIX
      the id of the broker that leads the most partitions of PREFIX's four event topics (the
      lowest id on a tie): the one to kill while they are busy
  cluster_tool.py coordinator GROUP
      the id of the broker coordinating consumer group GROUP
  cluster_tool.py records PREFIX
      how many records PREFIX's four event topics hold (the sum of their end offsets)
  cluster_tool.py ends TOPIC
      each partition of TOPIC and its end offset, "PARTITION OFFSET" a line
  cluster_tool.py exactly-once PREFIX EVENTS_NDJSON REJECTS_CSV
      read every record of the four event topics and check that each line of EVENTS_NDJSON but
      the rejected ones (REJECTS_CSV: line,reason) is there exactly once: identical lines (the
      generator's exact re-sends) give identical records (the signed encoding is deterministic),
      so the record values, grouped by content, must have the same multiplicities as the lines
      grouped by content, and as many records as lines. A record lost, or written twice by a
      retry, changes one or the other. Prints a summary; exit 1 if they differ.
"""
import csv
import hashlib
import os
import sys
from collections import Counter

import time

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "aggregate"))
from kafka_tool import TOPIC, client_conf  # noqa: E402

TIMEOUT = 30
QUIET = {"log_level": 2}  # a killed broker's connection errors are expected here


def event_topics(prefix):
    return [prefix + t for t in TOPIC.values()]


def leader(prefix):
    md = AdminClient(client_conf("admin", **QUIET)).list_topics(timeout=TIMEOUT)
    led = Counter()
    for t in event_topics(prefix):
        for p in md.topics[t].partitions.values():
            led[p.leader] += 1
    return min(led, key=lambda b: (-led[b], b))


def coordinator(group):
    a = AdminClient(client_conf("admin", **QUIET))
    f = a.describe_consumer_groups([group], request_timeout=TIMEOUT)[group]
    return f.result(timeout=2 * TIMEOUT).coordinator.id


def consumer():
    return Consumer(client_conf("admin", **QUIET, **{"group.id": "jiceng-aggregate-cluster-reader",
                                                     "enable.auto.commit": False}))


def end_offsets(c, prefix):
    ends = {}
    for t in event_topics(prefix):
        for p in c.list_topics(t, timeout=TIMEOUT).topics[t].partitions:
            ends[(t, p)] = c.get_watermark_offsets(TopicPartition(t, p), timeout=TIMEOUT)[1]
    return ends


def retried(ask):
    """ask(consumer), asked again while a broker just killed fails requests (its partitions
    have no leader until the controller fences it: about ten seconds)."""
    for attempt in range(30):
        c = consumer()
        try:
            return ask(c)
        except KafkaException:
            if attempt == 29:
                raise
            time.sleep(1)
        finally:
            c.close()


def records(prefix):
    return retried(lambda c: sum(end_offsets(c, prefix).values()))


def topic_ends(topic):
    def ask(c):
        parts = c.list_topics(topic, timeout=TIMEOUT).topics[topic].partitions
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT)[1]
                for p in sorted(parts)}
    return retried(ask)


def record_digests(prefix):
    c = consumer()
    ends = end_offsets(c, prefix)
    c.assign([TopicPartition(t, p, 0) for (t, p), end in ends.items() if end > 0])
    got, want = Counter(), sum(ends.values())
    n = 0
    while n < want:
        m = c.poll(TIMEOUT)
        if m is None:
            break
        if m.error():
            continue
        got[hashlib.sha256(m.value() or b"").digest()] += 1
        n += 1
    c.close()
    return got, want


def line_digests(events, rejects):
    with open(rejects) as f:
        rejected = {int(r["line"]) for r in csv.DictReader(f)}
    lines = Counter()
    with open(events, "rb") as f:
        for i, line in enumerate(f, 1):
            if i not in rejected:
                lines[hashlib.sha256(line.rstrip(b"\n")).digest()] += 1
    return lines


def exactly_once(prefix, events, rejects):
    lines = line_digests(events, rejects)
    got, ends = record_digests(prefix)
    n_lines, n_got = sum(lines.values()), sum(got.values())
    ok = (n_got == n_lines == ends and len(got) == len(lines)
          and sorted(got.values()) == sorted(lines.values()))
    print(f"exactly once: {'OK' if ok else 'DIFF'}: {n_got} records read of {ends} in the "
          f"topics, {len(got)} distinct; {n_lines} lines to deliver, {len(lines)} distinct")
    return ok


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "leader" and len(args) == 1:
        print(leader(*args))
    elif cmd == "coordinator" and len(args) == 1:
        print(coordinator(*args))
    elif cmd == "records" and len(args) == 1:
        print(records(*args))
    elif cmd == "ends" and len(args) == 1:
        for p, end in topic_ends(*args).items():
            print(p, end)
    elif cmd == "exactly-once" and len(args) == 3:
        sys.exit(0 if exactly_once(*args) else 1)
    else:
        sys.exit(__doc__)
