"""Interoperability of our Avro codec with a third-party implementation (fastavro).

1. Messages our codec encodes (every schema in the catalog) decode with fastavro reading
   schemas/avro/*.avsc, and give the values our codec reports.
2. Messages fastavro encodes, Confluent-framed, decode with our codec to the same values.
3. Our catalog's fingerprints equal fastavro's CRC-64-AVRO of each schema's canonical form.
4. Schema evolution by Avro's own resolution rules: every message of an older schema, read by
   fastavro with the newest schema of its type as the reader's, gives the values our codec
   decodes it to (the newest schema's defaults for what the writer lacks: hours_on_site 0,
   revision 0, withdrawn false).
5. The corrections contract is in the newest schema of every type: revision (int, default 0)
   and withdrawn (boolean, default false), right after source.

usage: avro_interop.py INTEROP_CODEC JICENG_CATALOG SCHEMA_DIR
"""
import csv
import io
import json
import os
import random
import struct
import subprocess
import sys
from datetime import datetime, timezone

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

codec, catalog_tool, schema_dir = sys.argv[1:4]


def load_catalog():
    rows = {}
    with open(os.path.join(schema_dir, "catalog.csv")) as f:
        for row in csv.DictReader(f):
            with open(os.path.join(schema_dir, row["file"])) as s:
                raw = json.load(s)
            rows[int(row["id"])] = (raw, parse_schema(raw))
    return rows


def to_ms(v):
    if isinstance(v, datetime):
        return int((v - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1000 + 0.5) \
            if v.tzinfo else None
    return v


def plain(record):
    """fastavro's logical types back to what NDJSON carries: uuid text, epoch ms."""
    out = {}
    for k, v in record.items():
        if isinstance(v, datetime):
            v = to_ms(v)
        elif v is not None and type(v).__name__ == "UUID":
            v = str(v)
        out[k] = v
    return out


def from_ndjson(obj, raw_schema):
    """An event as our NDJSON prints it, in fastavro's record form."""
    rec = {}
    for f in raw_schema["fields"]:
        v = obj.get(f["name"])
        if isinstance(v, str) and f["name"] in ("occurred_at", "received_at"):
            v = to_ms(datetime.fromisoformat(v))
        rec[f["name"]] = v
    return rec


failures = []
catalog = load_catalog()

# 1. ours -> fastavro
out = subprocess.run([codec, "encode", "25"], check=True, capture_output=True, text=True).stdout
n1 = 0
for line in out.splitlines():
    sid, hexmsg, event = line.split(" ", 2)
    data = bytes.fromhex(hexmsg)
    magic, wire_id = struct.unpack(">bI", data[:5])
    raw, parsed = catalog[int(sid)]
    got = plain(schemaless_reader(io.BytesIO(data[5:]), parsed))
    want = from_ndjson(json.loads(event), raw)
    if magic != 0 or wire_id != int(sid) or got != want:
        failures.append(f"ours->fastavro schema {sid}: got {got} want {want}")
    n1 += 1

# 2. fastavro -> ours: take the records from step 1, vary them, encode with fastavro
rng = random.Random(7)
inputs, expected = [], []
for line in out.splitlines():
    sid, hexmsg, event = line.split(" ", 2)
    raw, parsed = catalog[int(sid)]
    rec = from_ndjson(json.loads(event), raw)
    for f in raw["fields"]:
        if f["type"] == "int" and f["name"] != "county_code":
            rec[f["name"]] = rng.randint(0, 100000)
        elif f["type"] == "boolean":
            rec[f["name"]] = rng.random() < 0.5
    buf = io.BytesIO()
    buf.write(struct.pack(">bI", 0, int(sid)))
    schemaless_writer(buf, parsed, rec)
    inputs.append(buf.getvalue().hex())
    expected.append(rec)
res = subprocess.run([codec, "decode"], input="\n".join(inputs) + "\n", check=True,
                     capture_output=True, text=True).stdout.splitlines()
if len(res) != len(inputs):
    failures.append(f"fastavro->ours: {len(res)} results for {len(inputs)} inputs")
for got_line, want in zip(res, expected):
    if got_line.startswith("ERROR"):
        failures.append(f"fastavro->ours: {got_line}")
        continue
    obj = json.loads(got_line)
    got = from_ndjson(obj, {"fields": [{"name": k} for k in want]})
    if got != want:
        failures.append(f"fastavro->ours: got {got} want {want}")

# 3. fingerprints
table = subprocess.run([catalog_tool, "--csv"], check=True, capture_output=True, text=True).stdout
for row in csv.DictReader(io.StringIO(table)):
    raw, _ = catalog[int(row["id"])]
    theirs = fingerprint(to_parsing_canonical_form(raw), "CRC-64-AVRO")  # little-endian hex
    ours = int(row["fingerprint"], 16).to_bytes(8, "little").hex()
    if theirs != ours:
        failures.append(f"fingerprint of schema {row['id']}: ours {ours} fastavro {theirs}")

# 4. older schemas read with the newest one, by fastavro's schema resolution
latest = {}
with open(os.path.join(schema_dir, "catalog.csv")) as f:
    for row in csv.DictReader(f):
        if row["type"] not in latest or int(row["version"]) > latest[row["type"]][0]:
            latest[row["type"]] = (int(row["version"]), int(row["id"]))
type_of = {}
with open(os.path.join(schema_dir, "catalog.csv")) as f:
    for row in csv.DictReader(f):
        type_of[int(row["id"])] = row["type"]
n4 = 0
for line in out.splitlines():
    sid, hexmsg, event = line.split(" ", 2)
    newest = latest[type_of[int(sid)]][1]
    if int(sid) == newest:
        continue
    raw_new, parsed_new = catalog[newest]
    data = bytes.fromhex(hexmsg)
    got = plain(schemaless_reader(io.BytesIO(data[5:]), catalog[int(sid)][1], parsed_new))
    want = from_ndjson(json.loads(event), raw_new)
    if got != want or got.get("revision") != 0 or got.get("withdrawn") is not False:
        failures.append(f"schema {sid} read as {newest}: got {got} want {want}")
    n4 += 1

# 5. revision and withdrawn in every newest schema
for t, (_, newest) in latest.items():
    fields = catalog[newest][0]["fields"]
    names = [f["name"] for f in fields]
    if "source" not in names or names[names.index("source") + 1:names.index("source") + 3] != ["revision", "withdrawn"]:
        failures.append(f"schema {newest} ({t}): revision and withdrawn do not follow source")
        continue
    rev, wd = fields[names.index("revision")], fields[names.index("withdrawn")]
    if (rev["type"], rev.get("default")) != ("int", 0) or (wd["type"], wd.get("default")) != ("boolean", False):
        failures.append(f"schema {newest} ({t}): revision {rev} withdrawn {wd}")

for f in failures[:20]:
    print("FAIL", f)
print(f"avro interop: {n1} messages ours->fastavro, {len(inputs)} fastavro->ours, "
      f"{len(catalog)} fingerprints, {n4} older messages read with the newest schema; "
      f"{len(failures)} failures")
sys.exit(1 if failures else 0)
