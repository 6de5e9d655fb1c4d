# bench/stack.sh: what every benchmark script needs from the local stack, sourced (after SRC is
# set to the checkout): JC_BUILD (default build/ of the checkout), JICENG_STATE (default
# .jiceng/) exported, the stack's env file loaded and exported (the identities' configuration
# files, the conninfos, PGSSLMODE/PGSSLROOTCERT/PGPASSFILE for psql and libpq, JICENG_VENV),
# STACK (deploy/local/stack), and the functions below. A script names itself in BENCH_NAME
# (default: its file name) for its error messages.

BENCH_NAME=${BENCH_NAME:-${0##*/}}
JC_BUILD=${JC_BUILD:-$SRC/build}
JICENG_STATE=${JICENG_STATE:-$SRC/.jiceng}
export JICENG_STATE
ENV_FILE=${JICENG_ENV_FILE:-$JICENG_STATE/stack.env}
[[ -r $ENV_FILE ]] || { echo "$BENCH_NAME: no $ENV_FILE: start the stack (deploy/local/stack up)" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$ENV_FILE"
set +a
STACK=$SRC/deploy/local/stack

# bench_need PROGRAM...: each (a path under JC_BUILD) is built, else exit 1 naming it
bench_need() {
    local p
    for p in "$@"; do
        [[ -x $JC_BUILD/$p ]] || { echo "$BENCH_NAME: $JC_BUILD/$p missing: build first" >&2; exit 1; }
    done
}

# db_uri URI DB: URI (a stack.env conninfo) with database DB instead, its parameters kept
db_uri() {
    local base=${1%%\?*} query=""
    [[ $1 == *\?* ]] && query="?${1#*\?}"
    echo "${base%/*}/$2$query"
}

# new_database NAME [TOOL]: a scratch database (made by TOOL db-create, default the stack),
# migrated by the migration role, with the load generator's signing keys registered; prints
# the epoch second from which the keys are valid (records must be timestamped after it)
new_database() {
    "${2:-$STACK}" db-create "$1" >/dev/null || return 1
    "$JC_BUILD/consumers/jiceng-aggregate" migrate --migrate-conninfo "$(db_uri "$JICENG_MIGRATE_CONNINFO" "$1")" \
        >/dev/null || return 1
    "$SRC/tests/support/signing-keys" register "$(db_uri "$JICENG_MIGRATE_CONNINFO" "$1")"
}

# others WHEN: the load average and the processes using >= 1% CPU over one second (top's
# second sample: ps's %CPU is a lifetime average), with their resident memory
others() {
    echo "what else is running ($1): load average $(cut -d' ' -f1-3 /proc/loadavg)"
    top -b -n 2 -d 1 -c -w 200 | awk '/^top -/ { f++ } f == 2 && /^ *PID/ { p = 1; print; next }
                                      p && $9 + 0 >= 1.0' | head -10 | cut -c1-150 | sed 's/^/    /'
}
