"""bench/peers/producer.py: a hand-written county producer, the peer of jiceng-produce in
bench/peers/producer.sh (issue 14, item 5): what a county IT team would write from
docs/signing.md and the Avro schemas, with confluent-kafka and fastavro, in one thread.

  producer.py send CLIENT_JSON KEY_DIR PREFIX FILE
      send every NDJSON event of FILE to PREFIX + its type's topic: the record encoded with its
      type's newest schema of schemas/avro/catalog.csv (fastavro, Confluent framing: byte 0,
      the schema id as 4 bytes big-endian, the Avro body), keyed by its current county code
      (ASCII), signed with that county's key (KEY_DIR/NNNNNN.key: key_id=, county=, secret=)
      as docs/signing.md says (HMAC-SHA256 over "jiceng-sig-v1" + length-prefixed topic, key
      and value; headers jiceng.key-id and jiceng.sig); the producer settings are
      jiceng-produce's reading a file (idempotent, acks all, lz4, linger.ms 50, murmur2_random), the identity
      CLIENT_JSON's (a stack clients/NAME.json). Waits for every delivery report; prints
      "producer.py: read N, delivered D, failed F"; exit 1 if any failed
  producer.py expect FILE
      "TOPIC COUNT" for each event type's topic: the lines of FILE per topic
  producer.py count CLIENT_JSON PREFIX
      "TOPIC COUNT" for each event type's topic under PREFIX: the messages it holds (high
      watermark minus low), as the identity of CLIENT_JSON

Nothing here comes from the jiceng library or its tests: the signing and framing are written
again from the specification, as a third party would.
"""
import csv
import hashlib
import hmac
import io
import json
import os
import struct
import sys
from datetime import datetime

from confluent_kafka import Consumer, Producer, TopicPartition
from fastavro import parse_schema, schemaless_writer

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOPICS = {"visit": "jiceng.visits", "petition": "jiceng.petitions",
          "disaster_response": "jiceng.disaster-responses", "training_completion": "jiceng.trainings"}
TIMESTAMPS = ("occurred_at", "received_at")


def newest_schemas():
    """{type: (schema id, parsed schema)}, the newest version of each type."""
    d = os.path.join(SRC, "schemas", "avro")
    best = {}
    with open(os.path.join(d, "catalog.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["type"] not in best or int(row["version"]) > best[row["type"]][0]:
                best[row["type"]] = (int(row["version"]), int(row["id"]), row["file"])
    out = {}
    for t, (_, sid, name) in best.items():
        with open(os.path.join(d, name), encoding="utf-8") as f:
            out[t] = (sid, parse_schema(json.load(f)))
    return out


def code_changes():
    path = os.path.join(SRC, "schemas", "reference", "guizhou_code_changes.csv")
    with open(path, encoding="utf-8") as f:
        return {int(r["old_code"]): int(r["new_code"]) for r in csv.DictReader(f) if r["old_code"]}


def read_keys(key_dir):
    """{county: (key id, secret)} from the key files."""
    keys = {}
    for name in os.listdir(key_dir):
        if not name.endswith(".key"):
            continue
        entries = {}
        with open(os.path.join(key_dir, name), encoding="ascii") as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, _, v = line.strip().partition("=")
                    entries[k] = v
        keys[int(entries["county"])] = (entries["key_id"], bytes.fromhex(entries["secret"]))
    return keys


def part(data):
    return struct.pack(">I", len(data)) + data


def sign_headers(key_id, secret, topic, key, value):
    mac = hmac.new(secret, b"jiceng-sig-v1" + part(topic.encode()) + part(key) + part(value),
                   hashlib.sha256).hexdigest()
    return [("jiceng.key-id", key_id.encode()), ("jiceng.sig", ("v1:" + mac).encode())]


def millis(v):
    if isinstance(v, str):
        return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1000)
    return v


def send(client_json, key_dir, prefix, path):
    with open(client_json, encoding="utf-8") as f:
        conf = json.load(f)
    conf.update({"enable.idempotence": True, "acks": "all", "compression.codec": "lz4",
                 "linger.ms": 50, "partitioner": "murmur2_random"})
    producer = Producer(conf)
    schemas, changes, keys = newest_schemas(), code_changes(), read_keys(key_dir)
    counts = {"read": 0, "delivered": 0, "failed": 0}

    def report(err, _msg):
        counts["failed" if err is not None else "delivered"] += 1

    with open(path, encoding="utf-8") as f:
        for line in f:
            counts["read"] += 1
            rec = json.loads(line)
            kind = rec.pop("type")
            for k in TIMESTAMPS:
                if rec.get(k) is not None:
                    rec[k] = millis(rec[k])
            county = rec["county_code"]
            while county in changes:
                county = changes[county]
            sid, schema = schemas[kind]
            buf = io.BytesIO()
            buf.write(struct.pack(">bI", 0, sid))
            schemaless_writer(buf, schema, rec)
            value, key, topic = buf.getvalue(), str(county).encode(), prefix + TOPICS[kind]
            key_id, secret = keys[county]
            headers = sign_headers(key_id, secret, topic, key, value)
            while True:
                try:
                    producer.produce(topic, value=value, key=key, headers=headers, on_delivery=report)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
    producer.flush()
    print(f"producer.py: read {counts['read']}, delivered {counts['delivered']}, failed {counts['failed']}")
    return 0 if counts["failed"] == 0 and counts["delivered"] == counts["read"] else 1


def expect(path):
    n = dict.fromkeys(TOPICS.values(), 0)
    with open(path, encoding="utf-8") as f:
        for line in f:
            n[TOPICS[json.loads(line)["type"]]] += 1
    for topic in sorted(n):
        print(topic, n[topic])


def count(client_json, prefix):
    with open(client_json, encoding="utf-8") as f:
        conf = json.load(f)
    conf.update({"group.id": "jiceng-aggregate-bench-peers-count", "enable.auto.commit": False})
    c = Consumer(conf)
    for topic in sorted(TOPICS.values()):
        meta = c.list_topics(prefix + topic, timeout=10).topics[prefix + topic]
        total = 0
        for p in meta.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(prefix + topic, p), timeout=10)
            total += hi - lo
        print(topic, total)
    c.close()


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "send" and len(args) == 4:
        sys.exit(send(*args))
    elif cmd == "expect" and len(args) == 1:
        expect(*args)
    elif cmd == "count" and len(args) == 2:
        count(*args)
    else:
        sys.exit(__doc__)
