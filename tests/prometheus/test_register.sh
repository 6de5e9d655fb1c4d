#!/usr/bin/env bash
# test_register.sh SOURCE-DIR: deploy/local/prometheus register / unregister (no service runs).
# In a scratch state directory: a registered aggregator's file_sd file is what Prometheus reads
# (promtool check config, which validates every file a file_sd glob matches, on a copy of
# deploy/prometheus/prometheus.yml next to it) with the target and labels given; the default
# group; re-registering replaces; unregister removes it (and twice is fine); bad names,
# addresses and groups are usage errors (exit 2) that write nothing.
set -euo pipefail
src=$1
prom=$src/deploy/local/prometheus
export JICENG_STATE; JICENG_STATE=$(mktemp -d /tmp/jiceng-prom-register.XXXXXX)
trap 'rm -rf "$JICENG_STATE"' EXIT
dir=$JICENG_STATE/prometheus/targets/aggregate
fail() { echo "FAIL: $*" >&2; exit 1; }

"$prom" register agg-1 127.0.0.1:9100 jiceng-aggregate-a
"$prom" register agg-2 127.0.0.1:9101
"$prom" register agg-2 127.0.0.1:9102            # replaces
cp "$src/deploy/prometheus/prometheus.yml" "$JICENG_STATE/prometheus/"
mkdir -p "$JICENG_STATE/prometheus/rules"
cp "$src"/deploy/prometheus/rules/*.yml "$JICENG_STATE/prometheus/rules/"
out=$(promtool check config "$JICENG_STATE/prometheus/prometheus.yml" 2>&1) || fail "promtool check config: $out"
grep -q 'targets/aggregate/\*.json.*does not exist' <<<"$out" && fail "promtool did not see the files: $out"
python3 - "$dir" <<'PY' || fail "the file_sd files are not as registered"
import json, sys
d = sys.argv[1]
want = {
    "agg-1.json": [{"targets": ["127.0.0.1:9100"], "labels": {"instance": "agg-1", "group": "jiceng-aggregate-a"}}],
    "agg-2.json": [{"targets": ["127.0.0.1:9102"], "labels": {"instance": "agg-2", "group": "jiceng-aggregate"}}],
}
import os
got = {f: json.load(open(os.path.join(d, f))) for f in os.listdir(d)}
if got != want:
    print(f"got {got}\nwant {want}", file=sys.stderr)
    sys.exit(1)
PY
echo "ok    register: two file_sd files promtool accepts, labels instance and group"

for bad in "a/b 127.0.0.1:1" "-x 127.0.0.1:1" 'a"b 127.0.0.1:1' "agg-3 127.0.0.1" "agg-3 127.0.0.1:1 bad/group" \
           "agg-3 127.0.0.1:1:2" "agg-3"; do
    rc=0; "$prom" register $bad 2>/dev/null || rc=$?
    [[ $rc == 2 ]] || fail "register $bad: exit $rc, expected 2"
done
[[ ! -e $dir/agg-3.json ]] || fail "a refused register wrote a file"
echo "ok    register: bad names, addresses and groups are usage errors"

"$prom" unregister agg-1
"$prom" unregister agg-1
[[ $(ls "$dir") == agg-2.json ]] || fail "unregister agg-1 left: $(ls "$dir")"
rc=0; "$prom" unregister ../x 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "unregister ../x: exit $rc, expected 2"
echo "ok    unregister removes the file; twice is fine; a bad name is refused"
echo "PASS"
