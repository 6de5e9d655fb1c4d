"""kafka_tool.py: what the aggregation tests do with a third-party Kafka client
(confluent-kafka) and Avro implementation (fastavro), from the stack's venv.

  kafka_tool.py delete-prefix PREFIX
      delete every topic whose name starts with PREFIX
  kafka_tool.py poison PREFIX SCHEMA_DIR EVENTS_NDJSON REJECTS_CSV OUT_CSV
      publish each malformed line of a jiceng-gen workload straight to Kafka, bypassing our
      producer's validation, as a careless third-party producer would: a line that fits the
      Avro schema is encoded with fastavro (so our consumer's validation must catch it);
      anything else goes as its raw text (not Avro at all). Also publishes a conflicting
      duplicate (an existing event_id with other content) and a message with an unknown
      schema id. Writes OUT_CSV: topic,partition,offset,expected_status for the messages
      the consumer must reject.
  kafka_tool.py dead-letters PREFIX
      print every dead-letter message as topic,partition,offset,status from its headers
"""
import csv
import io
import json
import os
import struct
import sys
from datetime import datetime

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from fastavro import parse_schema, schemaless_writer

BOOT = os.environ["JICENG_KAFKA_BOOTSTRAP"]
TOPIC = {"visit": "jiceng.visits", "petition": "jiceng.petitions",
         "disaster_response": "jiceng.disaster-responses", "training_completion": "jiceng.trainings"}


def delete_prefix(prefix):
    admin = AdminClient({"bootstrap.servers": BOOT})
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for f in admin.delete_topics(names, operation_timeout=30).values():
            f.result()


def load_schemas(schema_dir):
    latest = {}
    with open(os.path.join(schema_dir, "catalog.csv")) as f:
        for row in csv.DictReader(f):
            if row["type"] not in latest or int(row["version"]) > latest[row["type"]][1]:
                with open(os.path.join(schema_dir, row["file"])) as s:
                    latest[row["type"]] = (int(row["id"]), int(row["version"]), parse_schema(json.load(s)))
    return latest


def to_ms(v):
    if isinstance(v, str):
        return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1000)
    return v


def avro_message(obj, schemas):
    """The Confluent-framed Avro of a parsed NDJSON object, or None if it does not fit."""
    sid, _, schema = schemas[obj["type"]]
    rec = {k: v for k, v in obj.items() if k != "type"}
    for k in ("occurred_at", "received_at"):
        if rec.get(k) is not None:
            rec[k] = to_ms(rec[k])
    buf = io.BytesIO()
    buf.write(struct.pack(">bI", 0, sid))
    schemaless_writer(buf, schema, rec, strict=True)
    return buf.getvalue()


class Sender:
    def __init__(self):
        self.p = Producer({"bootstrap.servers": BOOT, "partitioner": "murmur2_random",
                           "enable.idempotence": True})
        self.delivered = []

    def send(self, topic, key, value, status):
        def done(err, msg):
            if err is not None:
                raise SystemExit(f"delivery failed: {err}")
            self.delivered.append((msg.topic(), msg.partition(), msg.offset(), status))
        self.p.produce(topic, value=value, key=key, on_delivery=done)

    def flush(self):
        self.p.flush(30)


def poison(prefix, schema_dir, events, rejects, out):
    schemas = load_schemas(schema_dir)
    with open(events, encoding="utf-8") as f:
        lines = f.read().split("\n")
    s = Sender()
    first_valid = None
    with open(rejects) as f:
        bad = {int(r["line"]): r["reason"] for r in csv.DictReader(f)}
    for no, reason in sorted(bad.items()):
        text = lines[no - 1]
        value, topic, status = None, prefix + "jiceng.visits", "JC_ERR_BAD_MAGIC"
        try:
            obj = json.loads(text)
            if obj.get("type") in TOPIC:
                topic = prefix + TOPIC[obj["type"]]
                value = avro_message(obj, schemas)
                status = reason
        except Exception:
            value = None
        if value is None:
            value, status = text.encode("utf-8"), "JC_ERR_BAD_MAGIC"
        s.send(topic, b"520102", value, status)
    for no, text in enumerate(lines, 1):
        if text and no not in bad:
            first_valid = json.loads(text)
            break
    # a conflicting duplicate: the first valid event's id, other content
    dup = dict(first_valid)
    count_field = {"visit": "people_met", "petition": "people", "disaster_response": "responders",
                   "training_completion": "hours"}[dup["type"]]
    dup[count_field] = dup[count_field] + 1
    s.send(prefix + TOPIC[dup["type"]], str(dup["county_code"]).encode(), avro_message(dup, schemas),
           "JC_ERR_CONFLICTING_DUPLICATE")
    # unknown schema id
    s.send(prefix + "jiceng.visits", b"520102", b"\x00\x00\x00\x03\xe7" + b"\x02" * 40,
           "JC_ERR_UNKNOWN_SCHEMA")
    s.flush()
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["topic", "partition", "kafka_offset", "status"])
        for row in sorted(s.delivered):
            w.writerow(row)


def dead_letters(prefix):
    c = Consumer({"bootstrap.servers": BOOT, "group.id": "dlq-reader", "enable.auto.commit": False})
    topic = prefix + "jiceng.dead-letter"
    md = c.list_topics(topic, timeout=10).topics[topic]
    parts = [TopicPartition(topic, p, 0) for p in md.partitions]
    ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in md.partitions}
    c.assign(parts)
    want = sum(ends.values())
    rows = []
    while len(rows) < want:
        m = c.poll(10)
        if m is None:
            break
        if m.error():
            continue
        h = {k: v.decode() for k, v in (m.headers() or [])}
        rows.append((h["jiceng.source.topic"], int(h["jiceng.source.partition"]),
                     int(h["jiceng.source.offset"]), h["jiceng.status"]))
    c.close()
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["topic", "partition", "kafka_offset", "status"])
    for r in sorted(rows):
        w.writerow(r)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "delete-prefix":
        delete_prefix(sys.argv[2])
    elif cmd == "poison":
        poison(*sys.argv[2:7])
    elif cmd == "dead-letters":
        dead_letters(sys.argv[2])
    else:
        sys.exit(__doc__)
