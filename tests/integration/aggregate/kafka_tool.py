"""kafka_tool.py: what the aggregation and security tests do with a third-party Kafka client
(confluent-kafka), Avro implementation (fastavro) and record signer (tests/interop/
jiceng_sign.py), from the stack's venv.

Every client connects as one of the local stack's identities, $JICENG_CLIENTS/NAME.json (TLS
with a client certificate; deploy/local/stack, "The contract"): the administrator for topics
and for reading the dead-letter topic (no other principal may read it), the load generator (a
county principal, which may only write the event topics) for publishing.

  kafka_tool.py delete-prefix PREFIX
      delete every topic whose name starts with PREFIX
  kafka_tool.py poison PREFIX SCHEMA_DIR EVENTS_NDJSON REJECTS_CSV KEYRING OUT_CSV
      publish each malformed line of a jiceng-gen workload straight to Kafka, bypassing our
      producer's validation, as a careless third-party producer would: a line that fits the
      Avro schema is encoded with fastavro, keyed by its county and signed with that county's
      key from KEYRING (the load generator's key files), so that the consumer's validation
      must catch it; anything else goes as its raw text (not Avro at all). Also publishes a
      conflicting duplicate (an existing event_id with other content) and a message with an
      unknown schema id, and the hostile copies of counted events (hostile_copies below).
      Writes OUT_CSV: topic,partition,offset,expected_status for the messages the consumer
      must reject, and prints "expected duplicates: N" for the copies it must count as
      re-sends. The expected status follows the order of checks (docs/signing.md): a line
      whose county code is no county's fails the county check of the signature before
      validation, as JC_ERR_UNKNOWN_COUNTY whatever key signs it.
  kafka_tool.py dead-letters PREFIX
      print every dead-letter message as topic,partition,offset,status from its headers

The functions are also used by tests/integration/security/county_producer.py.
"""
import csv
import glob
import io
import json
import os
import struct
import sys
from datetime import datetime

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from fastavro import parse_schema, schemaless_writer

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
import jiceng_sign  # noqa: E402  (tests/interop: the standard-library signer)

TOPIC = {"visit": "jiceng.visits", "petition": "jiceng.petitions",
         "disaster_response": "jiceng.disaster-responses", "training_completion": "jiceng.trainings"}
UNAUTHORIZED = "JC_ERR_UNAUTHORIZED"


def client_conf(name, **extra):
    """The confluent-kafka configuration of the stack's identity name (admin, loadgen, ...)."""
    with open(os.path.join(os.environ["JICENG_CLIENTS"], name + ".json")) as f:
        conf = json.load(f)
    conf.update(extra)
    return conf


def delete_prefix(prefix):
    admin = AdminClient(client_conf("admin"))
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for f in admin.delete_topics(names, operation_timeout=30).values():
            f.result()


class Counties:
    """The reference counties and code changes: an old code mapped to the current one."""

    def __init__(self):
        ref = os.path.join(SRC, "schemas", "reference")
        with open(os.path.join(ref, "guizhou_counties.csv"), encoding="utf-8") as f:
            self.current = {int(r["code"]) for r in csv.DictReader(f)}
        with open(os.path.join(ref, "guizhou_code_changes.csv"), encoding="utf-8") as f:
            # (a row without an old code records a county that was created, not renamed)
            self.changes = {int(r["old_code"]): int(r["new_code"])
                            for r in csv.DictReader(f) if r["old_code"]}

    def resolve(self, code):
        """The current county code of code, or None if it maps to no county."""
        seen = set()
        while isinstance(code, int) and code not in self.current and code in self.changes \
                and code not in seen:
            seen.add(code)
            code = self.changes[code]
        return code if code in self.current else None


def load_keyring(path):
    """{county: KeyFile} from a directory of key files (*.key), or from one key file."""
    files = sorted(glob.glob(os.path.join(path, "*.key"))) if os.path.isdir(path) else [path]
    keys = {}
    for f in files:
        k = jiceng_sign.read_key(f)
        keys[k.county] = k
    return keys


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
    """A confluent-kafka producer as identity (a county principal by default) that records, for
    each delivered message, (topic, partition, offset, expected status)."""

    def __init__(self, identity="loadgen"):
        self.p = Producer(client_conf(identity, **{"partitioner": "murmur2_random",
                                                   "enable.idempotence": True}))
        self.delivered = []
        self.counts = {}  # partitions by topic

    def send(self, topic, key, value, status, headers=None, partition=-1):
        """Send; status None: a message the consumer must not reject (not in the CSV). A
        partition of -1 leaves the choice to the partitioner."""
        expect = key_partition(key, self.partitions(topic)) if key and partition == -1 else None

        def done(err, msg):
            if err is not None:
                raise SystemExit(f"delivery failed: {err}")
            if expect is not None and msg.partition() != expect:
                raise SystemExit(f"murmur2 disagrees with the partitioner for key {key!r}")
            if status is not None:
                self.delivered.append((msg.topic(), msg.partition(), msg.offset(), status))
        self.p.produce(topic, value=value, key=key, headers=headers or [], on_delivery=done,
                       partition=partition)

    def send_signed(self, signing_key, topic, key, value, status, partition=-1):
        """Send with the two signature headers of signing_key (a jiceng_sign.KeyFile)."""
        hdrs = jiceng_sign.headers(signing_key.secret, signing_key.key_id, topic, key, value)
        self.send(topic, key, value, status, hdrs, partition)

    def partitions(self, topic):
        """The number of partitions of topic."""
        if topic not in self.counts:
            self.counts[topic] = len(self.p.list_topics(topic, timeout=10).topics[topic].partitions)
        return self.counts[topic]

    def flush(self):
        if self.p.flush(30) != 0:
            raise SystemExit("messages still undelivered after 30 s")

    def write_csv(self, out):
        with open(out, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["topic", "partition", "kafka_offset", "status"])
            for row in sorted(self.delivered):
                w.writerow(row)


def murmur2(data):
    """Kafka's murmur2 hash of bytes (the Java client's Utils.murmur2), as a 32-bit unsigned."""
    m, h = 0x5BD1E995, (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = (int.from_bytes(data[i:i + 4], "little") * m) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = data[whole:]
    for i in reversed(range(len(tail))):
        h ^= tail[i] << (8 * i)
    if tail:
        h = (h * m) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * m) & 0xFFFFFFFF
    return h ^ (h >> 15)


def key_partition(key, partitions):
    """The partition murmur2_random (the Java clients' default) gives a non-null key; every
    keyed message Sender sends is checked against it."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def hostile_copies(s, prefix, valid, schemas, counties, keys):
    """Copies of events already counted, as a careless or hostile third-party producer sends
    them, each correctly signed with the event's county's key (issue 11, items 1-3):
      - a petition's Avro bytes on the visits topic: JC_ERR_WRONG_TOPIC;
      - a visit keyed by another county, on a partition that is not the visit's own (so that
        only the key check stands between it and a second count): JC_ERR_WRONG_KEY;
      - the same visit with a null key, sent to a partition that is not its own: JC_ERR_WRONG_KEY;
      - a training completion re-sent with its event_id in upper case, correctly keyed: the
        same event (ids compare in canonical form), so a duplicate, neither counted nor
        rejected.
    Returns the number of duplicates the consumer must count for them."""
    def first(kind):
        return next(o for o in valid if o["type"] == kind)

    def send(obj, topic_type, key, status, partition=-1):
        county = counties.resolve(obj["county_code"])
        s.send_signed(keys[county], prefix + TOPIC[topic_type], key, avro_message(obj, schemas),
                      status, partition)

    petition = first("petition")
    send(petition, "visit", str(counties.resolve(petition["county_code"])).encode(),
         "JC_ERR_WRONG_TOPIC")
    visit = first("visit")
    own = str(counties.resolve(visit["county_code"])).encode()
    n = s.partitions(prefix + TOPIC["visit"])
    other = next(str(c).encode() for c in sorted(counties.current)
                 if key_partition(str(c).encode(), n) != key_partition(own, n))
    send(visit, "visit", other, "JC_ERR_WRONG_KEY")
    send(visit, "visit", None, "JC_ERR_WRONG_KEY", (key_partition(own, n) + 1) % n)
    resend = dict(first("training_completion"))
    assert resend["event_id"] != resend["event_id"].upper()
    resend["event_id"] = resend["event_id"].upper()
    send(resend, "training_completion", str(counties.resolve(resend["county_code"])).encode(), None)
    return 1


def poison(prefix, schema_dir, events, rejects, keyring, out):
    schemas = load_schemas(schema_dir)
    counties = Counties()
    keys = load_keyring(keyring)
    with open(events, encoding="utf-8") as f:
        lines = f.read().split("\n")
    s = Sender()
    with open(rejects) as f:
        bad = {int(r["line"]): r["reason"] for r in csv.DictReader(f)}
    for no, reason in sorted(bad.items()):
        text = lines[no - 1]
        value, topic, status, county = None, prefix + "jiceng.visits", "JC_ERR_BAD_MAGIC", 520102
        try:
            obj = json.loads(text)
            if obj.get("type") in TOPIC:
                topic = prefix + TOPIC[obj["type"]]
                value = avro_message(obj, schemas)
                county = counties.resolve(obj.get("county_code"))
                # a code that maps to no county: the county check (after the signature's)
                # refuses it as unknown, re-drivable once the reference data knows it
                status = reason if county is not None else "JC_ERR_UNKNOWN_COUNTY"
                county = county or 520102
        except Exception:
            value = None
        if value is None:
            value, status, county = text.encode("utf-8"), "JC_ERR_BAD_MAGIC", 520102
        s.send_signed(keys[county], topic, str(county).encode(), value, status)
    valid = [json.loads(text) for no, text in enumerate(lines, 1) if text and no not in bad]
    first_valid = valid[0]
    # a conflicting duplicate: the first valid event's id, other content
    dup = dict(first_valid)
    count_field = {"visit": "people_met", "petition": "people", "disaster_response": "responders",
                   "training_completion": "hours"}[dup["type"]]
    dup[count_field] = dup[count_field] + 1
    county = counties.resolve(dup["county_code"])
    s.send_signed(keys[county], prefix + TOPIC[dup["type"]], str(county).encode(),
                  avro_message(dup, schemas), "JC_ERR_CONFLICTING_DUPLICATE")
    # unknown schema id
    s.send_signed(keys[520102], prefix + "jiceng.visits", b"520102", b"\x00\x00\x00\x03\xe7" + b"\x02" * 40,
                  "JC_ERR_UNKNOWN_SCHEMA")
    duplicates = hostile_copies(s, prefix, valid, schemas, counties, keys)
    s.flush()
    s.write_csv(out)
    print(f"expected duplicates: {duplicates}")


def dead_letters(prefix):
    """The dead-letter topic's messages as (source topic, partition, offset, status) rows. Read
    as the administrator: no other principal may read the dead-letter topic."""
    c = Consumer(client_conf("admin", **{"group.id": "jiceng-aggregate-dlq-reader",
                                         "enable.auto.commit": False}))
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
        # (a header's value may be null: the dead-letter copy of a null key says so)
        h = {k: v.decode() if v is not None else None for k, v in (m.headers() or [])}
        rows.append((h["jiceng.source.topic"], int(h["jiceng.source.partition"]),
                     int(h["jiceng.source.offset"]), h["jiceng.status"]))
    c.close()
    return rows


def print_dead_letters(prefix):
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["topic", "partition", "kafka_offset", "status"])
    for r in sorted(dead_letters(prefix)):
        w.writerow(r)


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "delete-prefix" and len(sys.argv) == 3:
        delete_prefix(sys.argv[2])
    elif cmd == "poison" and len(sys.argv) == 8:
        poison(*sys.argv[2:8])
    elif cmd == "dead-letters" and len(sys.argv) == 3:
        print_dead_letters(sys.argv[2])
    else:
        sys.exit(__doc__)
