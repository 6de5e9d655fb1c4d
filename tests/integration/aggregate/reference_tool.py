"""reference_tool.py: what test_reference.sh publishes (issue 13, item 6): the events of some
counties under county codes the reference data does not know yet, as a third-party producer
of those county systems would send them after a re-coding the province has not recorded.

  reference_tool.py publish PREFIX SCHEMA_DIR EVENTS REJECTS_CSV KEYRING OTHERS OUT_CSV \
      COUNTY=NEWCODE...
      Each well-formed line of the jiceng-gen workload EVENTS (a line listed in REJECTS_CSV is
      malformed) whose county code resolves to a COUNTY is rewritten to carry NEWCODE, encoded
      with fastavro, keyed by NEWCODE (the code that county system believes is current) and
      signed with COUNTY's key from KEYRING (the load generator's key files), so that the
      record is authentic and only the reference data decides its fate. Every other line,
      malformed ones included, goes to OTHERS (NDJSON, for jiceng-produce). Writes OUT_CSV
      (topic,partition,kafka_offset,status: JC_ERR_UNKNOWN_COUNTY for every record published)
      and prints "NEWCODE N" per new code: how many records carry it.

The expected aggregates stay jiceng-gen's ground truth: once NEWCODE maps to COUNTY, each
rewritten event counts where the original did.
"""
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_tool import (TOPIC, Counties, Sender, avro_message, load_keyring,  # noqa: E402
                        load_schemas)


def publish(prefix, schema_dir, events, rejects, keyring, others, out, *mappings):
    renamed = {}
    for m in mappings:
        county, new = m.split("=")
        renamed[int(county)] = int(new)
    schemas, counties, keys = load_schemas(schema_dir), Counties(), load_keyring(keyring)
    with open(rejects) as f:
        malformed = {int(r["line"]) for r in csv.DictReader(f)}
    s, counts = Sender(), {new: 0 for new in renamed.values()}
    with open(events, encoding="utf-8") as f, open(others, "w", encoding="utf-8") as rest:
        for no, text in enumerate(f.read().split("\n"), 1):
            if not text:
                continue
            obj = None if no in malformed else json.loads(text)
            county = counties.resolve(obj["county_code"]) if obj is not None else None
            if county not in renamed:
                rest.write(text + "\n")
                continue
            new = renamed[county]
            obj["county_code"] = new
            s.send_signed(keys[county], prefix + TOPIC[obj["type"]], str(new).encode(),
                          avro_message(obj, schemas), "JC_ERR_UNKNOWN_COUNTY")
            counts[new] += 1
    s.flush()
    s.write_csv(out)
    for new, n in counts.items():
        print(new, n)


if __name__ == "__main__":
    if len(sys.argv) >= 10 and sys.argv[1] == "publish":
        publish(*sys.argv[2:])
    else:
        sys.exit(__doc__)
