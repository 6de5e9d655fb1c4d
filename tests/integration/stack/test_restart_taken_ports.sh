#!/usr/bin/env bash
# test_restart_taken_ports.sh: the local stack survives its own restart when its ports were
# taken while it was stopped (issue 9: another checkout's stack took them, and the restarted
# Kafka died with NotControllerException). See "Ports across restarts" in deploy/local/stack.
#
# A scratch stack in its own state directory (never the one the other tests use; it borrows
# that one's resolved Kafka jars, read-only, when it has them) is brought up, given a topic and
# a table row, and stopped. A dummy listener then holds its recorded Kafka, controller and
# PostgreSQL ports, and `up` must: name each taken port and the process holding it; bring the
# stack back on other ports, written to stack.env; answer `status`; keep the topic and the row;
# run Kafka on a static quorum (kraft.version 0: the controller's address is configuration,
# which is what lets it move). Stopped and started again with the listener still there, it comes
# back on the ports it recorded. Last, storage formatted the old way (`format --standalone`, a
# dynamic quorum that keeps the controller's address in the metadata log) whose controller port
# is taken must be refused: exit 1, the port and its holder named, nothing started.
#
# environment: JC_SOURCE (the source tree), JICENG_STATE (the tests' stack, for its jars only),
#              JC_STACK (the stack script under test; default $JC_SOURCE/deploy/local/stack)
set -euo pipefail

: "${JC_SOURCE:?JC_SOURCE (the source tree) must be set}"
STACK=${JC_STACK:-$JC_SOURCE/deploy/local/stack}
MAIN_STATE=${JICENG_STATE:-}
STEP_TIMEOUT=200
HOLDERS=()
STATES=()
T0=$SECONDS

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf 'test: %s (%d s)\n' "$*" $((SECONDS - T0)); }

exec 3>&1 4>&2 # the test's own output: a trap can run while a step's output goes to a log
cleanup() {
    local rc=$? s pid
    exec 1>&3 2>&4
    [[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null || true
    for s in "${STATES[@]}"; do
        JICENG_STATE=$s timeout 120 "$STACK" destroy >/dev/null 2>&1 || rc=1
    done
    for pid in "${HOLDERS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -n ${ROOT:-} ]] && rm -rf "$ROOT"
    note "done, exit $rc"
    exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# the scratch states live where the postgres user can reach them (the stack runs initdb as it)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/jiceng-stack-restart.XXXXXX")
chmod 755 "$ROOT"

# a deadline of our own, so that cleanup runs inside CTest's 600 s even when the deadline falls
# just as a step (at most $STEP_TIMEOUT s) begins: a subshell that waits on a FIFO nobody writes
# (read -t, a builtin: no child process left behind)
mkfifo "$ROOT/watchdog"
( read -rt "${JC_TEST_DEADLINE:-380}" <>"$ROOT/watchdog" || true
  echo "FAIL: deadline of ${JC_TEST_DEADLINE:-380} s reached" >&2; kill -TERM $$ ) &
WATCHDOG=$!

# new_state NAME: sets NEW to a fresh state directory, the tests' stack's complete Kafka jars
# and its Python venv linked in (not in a subshell: cleanup destroys every state in STATES)
new_state() {
    local s=$ROOT/$1 d
    mkdir -p "$s/kafka/dist"
    if [[ -n $MAIN_STATE ]]; then
        for d in "$MAIN_STATE"/kafka/dist/*/; do
            [[ -f $d/.complete ]] && ln -s "${d%/}" "$s/kafka/dist/$(basename "$d")"
        done
        [[ -f $MAIN_STATE/venv/.installed ]] && ln -s "$MAIN_STATE/venv" "$s/venv"
    fi
    STATES+=("$s")
    NEW=$s
}

stack() { # stack STATE ARGS...: the stack script on STATE, bounded in time
    local s=$1; shift
    JICENG_STATE=$s JICENG_STACK_KAFKA_PORT=29092 JICENG_STACK_PG_PORT=25432 \
        JICENG_START_TIMEOUT=120 timeout "$STEP_TIMEOUT" "$STACK" "$@"
}

state_key() { sed -n "s/^$2=//p" "$1/$3" | tail -n 1; } # state_key STATE KEY FILE

listening() { ss -Hltn "sport = :$1" | grep -q .; }

# hold PORT...: a dummy listener on 127.0.0.1 holding each PORT; sets HOLDER to its pid
hold() {
    local out=$ROOT/holder.$#.$RANDOM p i
    : >"$out"
    python3 -c '
import socket, sys, time
socks = []
for p in sys.argv[1:]:
    s = socket.socket()
    # as the servers do: a port the stopped stack left in TIME_WAIT may be bound again
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p)))
    s.listen(5)
    socks.append(s)
print("holding", flush=True)
time.sleep(3600)' "$@" >"$out" 2>&1 &
    HOLDER=$!
    HOLDERS+=("$HOLDER")
    for ((i = 0; i < 100; i++)); do
        grep -q holding "$out" && break
        kill -0 "$HOLDER" 2>/dev/null || fail "the dummy listener could not hold $*: $(cat "$out")"
        sleep 0.1
    done
    for p in "$@"; do listening "$p" || fail "the dummy listener does not hold port $p"; done
}

# kafka_tool STATE CLASS ARGS...: a Kafka tool from STATE's jars against its stack's broker, as
# its administrator (TLS with the admin's client certificate)
kafka_tool() {
    local s=$1 cls=$2; shift 2
    local version; version=$(state_key "$s" JICENG_KAFKA_VERSION stack.env)
    timeout 120 java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        "-Dlog4j2.configurationFile=$s/kafka/tools-log4j2.properties" "-Dkafka.logs.dir=$ROOT" \
        -cp "$s/kafka/dist/$version/lib/*" "$cls" \
        --bootstrap-server "$(state_key "$s" JICENG_KAFKA_BOOTSTRAP stack.env)" \
        --command-config "$(state_key "$s" JICENG_KAFKA_ADMIN_PROPERTIES stack.env)" "$@" 2>/dev/null
}

pg_sql() { # pg_sql STATE SQL: as the migration role, over TCP with TLS, through stack.env
    PGPASSFILE=$(state_key "$1" PGPASSFILE stack.env) PGSSLROOTCERT=$(state_key "$1" PGSSLROOTCERT stack.env) \
        psql -X -q -v ON_ERROR_STOP=1 -At "$(state_key "$1" JICENG_MIGRATE_CONNINFO stack.env)" -c "$2"
}

# expect_taken LOG PORT: the stack's output names PORT as taken by the dummy listener
expect_taken() {
    grep -Eq "port $2 is taken by python3 \(pid $HOLDER\)" "$1" \
        || { cat "$1" >&2; fail "up did not say that port $2 is taken by the dummy listener (pid $HOLDER)"; }
}

# ---------------------------------------------------------------------------------------------
# a scratch stack, with a topic and a row, stopped with its state kept

new_state moving; S=$NEW
stack "$S" up >"$ROOT/up1.log" 2>&1 || { cat "$ROOT/up1.log" >&2; fail "the scratch stack did not come up"; }
kport=$(state_key "$S" KAFKA_PORT ports)
cport=$(state_key "$S" KAFKA_CONTROLLER_PORT ports)
pport=$(state_key "$S" PG_PORT ports)
[[ -n $kport && -n $cport && -n $pport ]] || fail "no ports recorded in $S/ports: $(cat "$S/ports")"
kafka_tool "$S" org.apache.kafka.tools.TopicCommand --create --topic restart-survives \
    --partitions 1 --replication-factor 1 >/dev/null || fail "creating a topic failed"
pg_sql "$S" "create table jiceng.restart_survives(x int); insert into jiceng.restart_survives values (42)"
stack "$S" stop >/dev/null 2>&1 || fail "stop failed"
note "scratch stack up on Kafka $kport (controller $cport), PostgreSQL $pport; stopped"

# ---------------------------------------------------------------------------------------------
# its ports taken: up names each and moves

hold "$kport" "$cport" "$pport"
if ! stack "$S" up >"$ROOT/up2.log" 2>&1; then
    cat "$ROOT/up2.log" >&2; fail "up failed with the recorded ports taken"
fi
expect_taken "$ROOT/up2.log" "$kport"
expect_taken "$ROOT/up2.log" "$cport"
expect_taken "$ROOT/up2.log" "$pport"
kport2=$(state_key "$S" KAFKA_PORT ports)
cport2=$(state_key "$S" KAFKA_CONTROLLER_PORT ports)
pport2=$(state_key "$S" PG_PORT ports)
[[ $(state_key "$S" JICENG_KAFKA_BOOTSTRAP stack.env) == "127.0.0.1:$kport2" && $kport2 != "$kport" ]] \
    || fail "stack.env does not name Kafka's new port: $(cat "$S/stack.env")"
[[ $(state_key "$S" JICENG_PG_PORT stack.env) == "$pport2" && $pport2 != "$pport" ]] \
    || fail "stack.env does not name PostgreSQL's new port: $(cat "$S/stack.env")"
stack "$S" status >"$ROOT/status.log" 2>&1 || { cat "$ROOT/status.log" >&2; fail "status after the move"; }
kafka_tool "$S" org.apache.kafka.tools.TopicCommand --list | grep -qx restart-survives \
    || fail "the topic did not survive the move"
[[ $(pg_sql "$S" "select x from jiceng.restart_survives") == 42 ]] || fail "the row did not survive the move"
kafka_tool "$S" org.apache.kafka.tools.FeatureCommand describe \
    | grep -Eq '^Feature: kraft.version.*FinalizedVersionLevel: 0\b' \
    || fail "Kafka does not run a static quorum (kraft.version 0): its controller's address is in its log"
kill -0 "$HOLDER" 2>/dev/null || fail "the dummy listener died"
note "moved to Kafka $kport2 (controller $cport2), PostgreSQL $pport2; topic and row kept"

# ---------------------------------------------------------------------------------------------
# restarted again: back on the ports it recorded

stack "$S" stop >/dev/null 2>&1 || fail "stop failed"
stack "$S" up >"$ROOT/up3.log" 2>&1 || { cat "$ROOT/up3.log" >&2; fail "the second restart failed"; }
[[ $(state_key "$S" KAFKA_PORT ports) == "$kport2" && $(state_key "$S" KAFKA_CONTROLLER_PORT ports) == "$cport2" &&
   $(state_key "$S" PG_PORT ports) == "$pport2" ]] || fail "not back on its recorded ports: $(cat "$S/ports")"
stack "$S" status >/dev/null 2>&1 || fail "status after the second restart"
note "restarted on its recorded ports"

# ---------------------------------------------------------------------------------------------
# old (dynamic-quorum) storage whose controller port is taken: refused, nothing started

new_state legacy; L=$NEW
version=$(state_key "$S" JICENG_KAFKA_VERSION stack.env)
[[ -e $L/kafka/dist/$version ]] || ln -s "$S/kafka/dist/$version" "$L/kafka/dist/$version"
lport=$kport; until ! listening "$lport" && ! listening $((lport + 1)); do lport=$((lport + 2)); done
lcport=$((lport + 1))
mkdir -p "$L/kafka/data"
cat >"$ROOT/legacy.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$lcport
listeners=PLAINTEXT://127.0.0.1:$lport,CONTROLLER://127.0.0.1:$lcport
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$L/kafka/data
EOF
jars="$L/kafka/dist/$version/lib/*"
id=$(java -Xmx256m -cp "$jars" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
java -Xmx256m -cp "$jars" kafka.tools.StorageTool format --standalone -t "$id" \
    -c "$ROOT/legacy.properties" >"$ROOT/legacy-format.log" 2>&1 \
    || { cat "$ROOT/legacy-format.log" >&2; fail "formatting the old-style storage failed"; }
printf 'KAFKA_PORT=%s\nKAFKA_CONTROLLER_PORT=%s\n' "$lport" "$lcport" >"$L/ports"
hold "$lcport"
rc=0; stack "$L" up >"$ROOT/up-legacy.log" 2>&1 || rc=$?
[[ $rc == 1 ]] || { cat "$ROOT/up-legacy.log" >&2; fail "up on old storage with its controller port taken: exit $rc, not 1"; }
grep -q "controller port $lcport .* is taken by python3 (pid $HOLDER)" "$ROOT/up-legacy.log" \
    && grep -q "dynamic KRaft quorum" "$ROOT/up-legacy.log" \
    || { cat "$ROOT/up-legacy.log" >&2; fail "the refusal does not name port $lcport, its holder and why"; }
[[ ! -e $L/pg/data/PG_VERSION ]] && ! listening "$lport" \
    || fail "a refused up started something"
note "old-style storage refused with its controller port named"
