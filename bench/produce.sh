#!/usr/bin/env bash
# bench/produce.sh: bench-produce on the secured local stack.
#
# usage: bench/produce.sh [bench-produce options] [FILE]     (e.g. --events 1000000)
#
# bench-produce makes its scratch topics as the administrator and produces as the load
# generator, a county principal, which may write only topics that have the role ACLs: this
# script picks the prefix, gives it those ACLs (`stack grant-prefix`), runs bench-produce with
# the stack's identities ($JICENG_PRODUCE_CONFIG, $JICENG_ADMIN_CONFIG) and the load generator's
# signing keys (tests/support/signing-keys keyring: the jiceng run signs every record, as
# jiceng-produce does), and removes the ACLs at the end, whatever happens.
#
# environment: JC_BUILD (build directory, default build/ of the checkout), JICENG_STATE
# (default .jiceng/ of the checkout)
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JC_BUILD=${JC_BUILD:-$SRC/build}
export JICENG_STATE=${JICENG_STATE:-$SRC/.jiceng}
ENV_FILE=${JICENG_ENV_FILE:-$JICENG_STATE/stack.env}
[[ -r $ENV_FILE ]] || { echo "bench/produce.sh: no $ENV_FILE: start the stack (deploy/local/stack up)" >&2; exit 1; }
[[ -x $JC_BUILD/bench/bench-produce ]] || { echo "bench/produce.sh: $JC_BUILD/bench/bench-produce missing: build first" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$ENV_FILE"
set +a
PREFIX="bench-produce-$$-$(date +%s)."
trap '"$SRC/deploy/local/stack" revoke-prefix "$PREFIX" >/dev/null 2>&1 || echo "bench/produce.sh: could not revoke the ACLs on $PREFIX*" >&2' EXIT
"$SRC/deploy/local/stack" grant-prefix "$PREFIX" >/dev/null 2>&1
"$JC_BUILD/bench/bench-produce" --config "$JICENG_PRODUCE_CONFIG" --admin-config "$JICENG_ADMIN_CONFIG" \
    --signing-keys "$("$SRC/tests/support/signing-keys" keyring)" --topic-prefix "$PREFIX" "$@"
