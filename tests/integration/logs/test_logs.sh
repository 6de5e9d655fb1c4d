#!/usr/bin/env bash
# test_logs.sh: jiceng-aggregate's structured log (issue 12, item 3) on a real run. A small
# jiceng-gen workload is produced, then poison messages published raw by a third-party client
# (kafka_tool.py poison: malformed, wrongly keyed, on the wrong topic, a conflicting duplicate),
# and one consumer runs to the end with --log-format json --log-level debug, its PostgreSQL
# conninfo carrying the aggregator's password (from the environment, where a secret may be
# given). Every stderr line must be one JSON object with exactly ts (RFC 3339 UTC, ms), level,
# program, event and msg; the events start, config, partitions_assigned, rejects and shutdown
# must be there; the "rejects" lines must add up to the poison messages, reason by reason (the
# statuses jiceng.rejects holds), and there must be one "reject" line per poison message; the
# shutdown line's counters must say as much; and no password of the stack's pgpass file may
# appear anywhere in the output, while the config line shows the conninfo masked.
source "$(dirname "$0")/../aggregate/lib.sh"
it_init logs
it_topics 4
it_gen --events 3000 --seed 29
it_produce_workload
it_kafka_tool poison "$PREFIX" "$JC_SOURCE/schemas/avro" "$W/gen/events.ndjson" \
    "$W/gen/expected/rejects.csv" "$KEYRING" "$W/poison.csv" >"$W/poison.log"
poison=$(($(wc -l <"$W/poison.csv") - 1))
((poison > 0)) || it_fail "kafka_tool poison published nothing"

# the aggregator's password, into a conninfo given through the environment (never a flag)
password=$(awk -F: '$4 == "jiceng_aggregate" {print $5; exit}' "$PGPASSFILE")
[[ -n $password ]] || it_fail "no password for jiceng_aggregate in $PGPASSFILE"
secret_conninfo=${CONNINFO/jiceng_aggregate@/jiceng_aggregate:$password@}
[[ $secret_conninfo == *":$password@"* ]] || it_fail "could not put the password into $CONNINFO"
rc=0
JICENG_PG_CONNINFO=$secret_conninfo "$JC_BUILD/consumers/jiceng-aggregate" \
    --config "$JICENG_AGGREGATE_CONFIG" --topic-prefix "$PREFIX" --group "$GROUP" \
    --until-caught-up --log-format json --log-level debug 2>"$W/aggregate.log" || rc=$?
((rc == 0)) || it_fail "jiceng-aggregate exited $rc: $(tail -3 "$W/aggregate.log")"
echo "  $(wc -l <"$W/aggregate.log") log lines, $poison poison messages"

"$PY" - "$W/aggregate.log" "$W/poison.csv" "$PGPASSFILE" <<'PYEOF' || it_fail "the JSON log is not what it should be (above)"
import collections, csv, json, re, sys

log_path, poison_path, pgpass_path = sys.argv[1:4]
raw = open(log_path, encoding="utf-8").read()
failures = []
def check(ok, what):
    if not ok:
        failures.append(what)

# no password of the pgpass file anywhere (nor in what this check prints)
passwords = [f[4] for f in (l.rstrip("\n").split(":") for l in open(pgpass_path)) if len(f) == 5 and f[4]]
check(passwords, "no password in the pgpass file")
for p in passwords:
    check(p not in raw, "a password from the pgpass file appears in the log")

events = collections.defaultdict(list)
ts_shape = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
for n, line in enumerate(raw.splitlines(), 1):
    try:
        obj = json.loads(line)
    except ValueError as e:
        failures.append("line %d is not JSON (%s): %.200s" % (n, e, line))
        continue
    if not isinstance(obj, dict) or set(obj) != {"ts", "level", "program", "event", "msg"}:
        failures.append("line %d has keys %s" % (n, sorted(obj) if isinstance(obj, dict) else obj))
        continue
    check(ts_shape.match(obj["ts"]) is not None, "line %d: ts %r" % (n, obj["ts"]))
    check(obj["level"] in ("debug", "info", "warn", "error"), "line %d: level %r" % (n, obj["level"]))
    check(obj["program"] == "jiceng-aggregate", "line %d: program %r" % (n, obj["program"]))
    events[obj["event"]].append(obj)

for e in ("start", "config", "partitions_assigned", "rejects", "reject", "shutdown"):
    check(len(events[e]) > 0, "no %s line" % e)
for e, level in (("start", "info"), ("config", "info"), ("partitions_assigned", "info"),
                 ("rejects", "warn"), ("reject", "debug"), ("shutdown", "info")):
    check(all(o["level"] == level for o in events[e]), "%s lines not all at %s" % (e, level))

start = events["start"][0]["msg"] if events["start"] else ""
check(re.search(r"jiceng-aggregate \d+\.\d+\.\d+, pid \d+, group \S+, topics \S+jiceng\.visits", start),
      "start line: %r" % start)
config = events["config"][0]["msg"] if events["config"] else ""
check("pg.conninfo=postgresql://jiceng_aggregate:***@" in config, "config line: conninfo not shown masked: %r" % config)
check("group.id=" in config and "log.format=json" in config, "config line: %r" % config)

# the rejects: per reason, as the poison file expects them
want = collections.Counter(r["status"] for r in csv.DictReader(open(poison_path)))
got = collections.Counter()
total = 0
for o in events["rejects"]:
    m = re.match(r"^(\d+) reject\(s\) in batch: (\S+); first: \S+ \[\d+\] @\d+ \(JC_ERR_\w+\)", o["msg"])
    if not m:
        failures.append("rejects line: %r" % o["msg"])
        continue
    total += int(m.group(1))
    for pair in m.group(2).split(","):
        status, count = pair.split("=")
        got[status] += int(count)
n_poison = sum(want.values())
check(total == n_poison, "rejects lines add up to %d, %d poison messages" % (total, n_poison))
check(got == want, "rejects by reason %s, expected %s" % (dict(got), dict(want)))
check(len(events["reject"]) == n_poison, "%d reject lines, %d poison messages" % (len(events["reject"]), n_poison))
shutdown = events["shutdown"][-1]["msg"] if events["shutdown"] else ""
check(re.search(r"\brejected %d\b" % n_poison, shutdown), "shutdown line: %r" % shutdown)

for f in failures:
    for p in passwords:
        f = f.replace(p, "<the password>")
    print("  " + f)
if failures:
    sys.exit(1)
print("  every line JSON with ts, level, program, event, msg; start, config, assignment, "
      "%d rejects by reason in %d batch line(s), %d reject lines, shutdown; no password"
      % (n_poison, len(events["rejects"]), len(events["reject"])))
PYEOF
echo "PASS: structured JSON log of a real run, rejects counted, no secret"
