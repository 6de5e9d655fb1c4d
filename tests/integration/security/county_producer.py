"""county_producer.py: a county system's third-party producer, as test_signatures.sh uses it:
confluent-kafka with the county's client certificate (the config file jiceng-access wrote),
fastavro, and the standard-library signer tests/interop/jiceng_sign.py (docs/signing.md).

  county_producer.py split EVENTS REJECTS_CSV COUNTY MINE REST
      the valid lines of a jiceng-gen workload (not in REJECTS_CSV) whose county is COUNTY
      (old codes mapped) to MINE, every other line to REST
  county_producer.py valid PREFIX CONF KEY_FILE EVENTS OUT_CSV
      publish every event of EVENTS (the county's own, valid) signed with KEY_FILE; each must be
      counted: expected status empty
  county_producer.py attacks PREFIX CONF CLOSED_KEY VALID_KEY OTHER_KEY_ID FRESH_A FRESH_B
                             COUNTED_A OUT_CSV
      publish, with the same certificate, what the aggregator must reject, each with its
      expected status and verdict (the reason's first word); FRESH_A and FRESH_B are valid
      events of the county and of another county B that no workload holds, COUNTED_A events
      of the county already counted, OTHER_KEY_ID the id of a valid key of county B:
        key-closed     the county's events signed with CLOSED_KEY after its end, and an
                       event already counted, re-sent with it (not silently a duplicate)
        wrong-county   county B's events signed with the county's valid key
        missing        the county's events without signature headers
        bad-signature  the county's valid key id with the MAC of other bytes; B's key id with a
                       MAC under a made-up secret
      and the order of checks (docs/signing.md), each message failing two checks where the
      first must decide: raw text, unsigned (JC_ERR_BAD_MAGIC: frame before signature); an
      unknown schema id, unsigned (JC_ERR_UNKNOWN_SCHEMA); a visit on the petitions topic,
      validly signed (JC_ERR_WRONG_TOPIC) and unsigned (missing: signature before topic); a
      validly signed event keyed by county B (JC_ERR_WRONG_KEY); a validly signed visit with
      a negative count (JC_ERR_NEGATIVE_COUNT), and the same for county B's event
      (wrong-county: the county check before validation); an event already counted with other
      content, validly signed (JC_ERR_CONFLICTING_DUPLICATE: dedup last).

OUT_CSV rows (appended): topic,partition,kafka_offset,timestamp_ms,key_id,status,verdict, from
the delivery reports (the timestamp is the broker's append time, LogAppendTime).
"""
import csv
import json
import os
import secrets
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "aggregate"))
import kafka_tool  # noqa: E402  (client_conf, Counties, avro_message, ...)
from kafka_tool import TOPIC, UNAUTHORIZED, jiceng_sign  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

SCHEMAS = os.path.join(kafka_tool.SRC, "schemas", "avro")
COUNT_FIELD = {"visit": "people_met", "petition": "people", "disaster_response": "responders",
               "training_completion": "hours"}


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def conf_from_file(path):
    """A jiceng config file's kafka.* entries as a confluent-kafka configuration."""
    conf = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("kafka."):
                name, _, value = line.partition("=")
                conf[name[len("kafka."):].strip()] = value.strip()
    return conf


def split(events, rejects, county, mine, rest):
    counties = kafka_tool.Counties()
    with open(rejects) as f:
        bad = {int(r["line"]) for r in csv.DictReader(f)}
    county, n = int(county), 0
    with open(events, encoding="utf-8") as src, open(mine, "w", encoding="utf-8") as m, \
            open(rest, "w", encoding="utf-8") as r:
        for no, line in enumerate(src, 1):
            obj = json.loads(line) if no not in bad else None
            if obj is not None and counties.resolve(obj["county_code"]) == county:
                m.write(line)
                n += 1
            else:
                r.write(line)
    print(f"county {county}: {n} valid lines")


class CountyProducer:
    """The county system's producer; rows of what it delivered."""

    def __init__(self, prefix, conf_path):
        conf = conf_from_file(conf_path)
        conf.update({"partitioner": "murmur2_random", "enable.idempotence": True})
        self.p = Producer(conf)
        self.prefix = prefix
        self.schemas = kafka_tool.load_schemas(SCHEMAS)
        self.counties = kafka_tool.Counties()
        self.rows = []

    def value(self, obj):
        return kafka_tool.avro_message(obj, self.schemas)

    def send(self, topic, key, value, headers, status="", verdict=""):
        key_id = dict(headers).get(jiceng_sign.HEADER_KEY_ID, b"").decode()

        def done(err, msg):
            if err is not None:
                raise SystemExit(f"delivery failed: {err}")
            self.rows.append((msg.topic(), msg.partition(), msg.offset(), msg.timestamp()[1],
                              key_id, status, verdict))
        self.p.produce(self.prefix + topic, key=key, value=value, headers=headers,
                       on_delivery=done)

    def event(self, obj, signing_key=None, topic=None, key=None, status="", verdict="",
              sign_other_bytes=False):
        """Send an event on its type's topic (or topic), keyed by its current county code (or
        key), signed with signing_key (a jiceng_sign.KeyFile; None: unsigned)."""
        topic = topic or TOPIC[obj["type"]]
        key = key or str(self.counties.resolve(obj["county_code"])).encode()
        value = self.value(obj)
        headers = []
        if signing_key is not None:
            signed = value + b"x" if sign_other_bytes else value
            headers = jiceng_sign.headers(signing_key.secret, signing_key.key_id,
                                          self.prefix + topic, key, signed)
        self.send(topic, key, value, headers, status, verdict)

    def finish(self, out):
        if self.p.flush(30) != 0:
            raise SystemExit("messages still undelivered after 30 s")
        with open(out, "a", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            for row in sorted(self.rows):
                w.writerow(row)
        print(f"{len(self.rows)} messages delivered")


def valid(prefix, conf, key_file, events, out):
    cp = CountyProducer(prefix, conf)
    key = jiceng_sign.read_key(key_file)
    for obj in read_lines(events):
        cp.event(obj, key)
    cp.finish(out)


class Pool:
    """Events to take from, by type."""

    def __init__(self, path):
        self.events = read_lines(path)

    def take(self, n=1, type_=None):
        got = [e for e in self.events if type_ is None or e["type"] == type_][:n]
        if len(got) < n:
            raise SystemExit(f"not enough {type_ or ''} events left for the attacks")
        for e in got:
            self.events.remove(e)
        return got


def attacks(prefix, conf, closed_key, valid_key, other_key_id, fresh_a, fresh_b, counted_a, out):
    cp = CountyProducer(prefix, conf)
    closed, key = jiceng_sign.read_key(closed_key), jiceng_sign.read_key(valid_key)
    a, b, counted = Pool(fresh_a), Pool(fresh_b), Pool(counted_a)
    forged = jiceng_sign.KeyFile(other_key_id, 0, secrets.token_bytes(32))
    for e in a.take(5):
        cp.event(e, closed, status=UNAUTHORIZED, verdict="key-closed")
    cp.event(counted.take()[0], closed, status=UNAUTHORIZED, verdict="key-closed")
    for e in b.take(5):
        cp.event(e, key, status=UNAUTHORIZED, verdict="wrong-county")
    for e in a.take(5):
        cp.event(e, None, status=UNAUTHORIZED, verdict="missing")
    for e in a.take(5):
        cp.event(e, key, status=UNAUTHORIZED, verdict="bad-signature", sign_other_bytes=True)
    for e in b.take(5):
        cp.event(e, forged, status=UNAUTHORIZED, verdict="bad-signature")
    # the order of checks: the first failure decides
    county_b = str(cp.counties.resolve(b.events[0]["county_code"])).encode()
    cp.send("jiceng.visits", county_b, b"not avro at all", [], "JC_ERR_BAD_MAGIC")
    cp.send("jiceng.visits", county_b, b"\x00\x00\x00\x03\xe7" + b"\x02" * 40, [],
            "JC_ERR_UNKNOWN_SCHEMA")
    cp.event(a.take(1, "visit")[0], key, topic="jiceng.petitions", status="JC_ERR_WRONG_TOPIC")
    cp.event(a.take(1, "visit")[0], None, topic="jiceng.petitions", status=UNAUTHORIZED,
             verdict="missing")
    cp.event(a.take()[0], key, key=county_b, status="JC_ERR_WRONG_KEY")
    neg = a.take(1, "visit")[0]
    neg["people_met"] = -1
    cp.event(neg, key, status="JC_ERR_NEGATIVE_COUNT")
    neg = b.take(1, "visit")[0]
    neg["people_met"] = -1
    cp.event(neg, key, status=UNAUTHORIZED, verdict="wrong-county")
    dup = counted.take()[0]
    dup[COUNT_FIELD[dup["type"]]] += 1
    cp.event(dup, key, status="JC_ERR_CONFLICTING_DUPLICATE")
    cp.finish(out)


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "split" and len(args) == 5:
        split(*args)
    elif cmd == "valid" and len(args) == 5:
        valid(*args)
    elif cmd == "attacks" and len(args) == 9:
        attacks(*args)
    else:
        sys.exit(__doc__)
