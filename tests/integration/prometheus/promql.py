"""promql.py: one instant query, or the alerts, from a Prometheus HTTP API (standard library).

  promql.py URL query EXPR [LABEL]   one line per series of the result vector: the value of
                                     LABEL (or "-") and the sample value, sorted
  promql.py URL alerts               one line per active alert: alertname, instance label, state
  promql.py URL rules                the names of the loaded alerting and recording rules

How it works: GET URL/api/v1/query?query=EXPR (or /api/v1/alerts, /api/v1/rules), the JSON
answer checked for status "success"; exit 1 with the error on stderr otherwise, so that a test
polling it tells "not yet" from "broken" by the output, not by an exception.
"""
import json
import sys
import urllib.parse
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{url}: {body.get('errorType')}: {body.get('error')}")
    return body["data"]


def main(argv):
    if len(argv) < 3 or argv[2] not in ("query", "alerts", "rules"):
        print(__doc__, file=sys.stderr)
        return 2
    base = argv[1].rstrip("/")
    try:
        if argv[2] == "query":
            label = argv[4] if len(argv) > 4 else None
            data = get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": argv[3]}))
            lines = [f"{s['metric'].get(label, '-') if label else '-'} {s['value'][1]}"
                     for s in data["result"]]
        elif argv[2] == "alerts":
            lines = [f"{a['labels'].get('alertname')} {a['labels'].get('instance', '-')} {a['state']}"
                     for a in get(f"{base}/api/v1/alerts")["alerts"]]
        else:
            lines = [r["name"] for g in get(f"{base}/api/v1/rules")["groups"] for r in g["rules"]]
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        print(f"promql.py: {e}", file=sys.stderr)
        return 1
    for line in sorted(lines):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
