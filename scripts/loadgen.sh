#!/usr/bin/env bash
# The API benchmark of the orchestration issue: `wayfare-loadgen`
# (tools/loadgen) against a release `wayfare serve`, on SQLite and on
# PostgreSQL, with faults off and with 30% injected agent failures. Each run
# prints plans/s and, next to it, the server's CPU time per finished trip
# (from /proc/<pid>/stat) and its peak RSS. Loopback only; each run is
# bounded.
# The runs under faults send only requests the planner can deliver
# (`--plannable-only`), so that their ready share is the share of trips the
# faults did not cost; the runs without faults send the whole generated mix
# (about 2% of it cannot be planned: over budget).
#
#   scripts/loadgen.sh [CLIENTS] [DURATION]      (default: 100 20s)
#
# Builds both release binaries first (one cargo call, so the engine is
# built once); WAYFARE_BIN and WAYFARE_LOADGEN_BIN name other builds instead
# (e.g. an older server, for a before/after). The PostgreSQL runs need a
# server at $WAYFARE_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres); they are skipped without one.
set -euo pipefail

clients=${1:-100}
duration=${2:-20s}
root=$(cd "$(dirname "$0")/.." && pwd)
packages=()
[[ -n ${WAYFARE_BIN:-} ]] || packages+=(-p wayfare-server)
[[ -n ${WAYFARE_LOADGEN_BIN:-} ]] || packages+=(-p wayfare-loadgen)
if ((${#packages[@]})); then
    (cd "$root" && cargo build --release --bins "${packages[@]}")
fi
bin=$(realpath "${WAYFARE_BIN:-$root/target/release/wayfare}")
loadgen=$(realpath "${WAYFARE_LOADGEN_BIN:-$root/target/release/wayfare-loadgen}")
pg_admin=${WAYFARE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
port=3977
work=$(mktemp -d)
# Server logs are kept for a look afterwards.
logs=$root/target/loadgen
mkdir -p "$logs"
server_pid=

[[ -x $bin ]] || { echo "no server binary at $bin" >&2; exit 1; }
[[ -x $loadgen ]] || { echo "no load tool at $loadgen" >&2; exit 1; }

cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# run LABEL DB_URL ERROR_RATE [LOADGEN_ARGS...]
run() {
    local label=$1 db=$2 rate=$3
    shift 3
    (
        cd "$work"
        WAYFARE_DATABASE_URL=$db WAYFARE_LISTEN=127.0.0.1:$port WAYFARE_LOG=warn \
            WAYFARE_FAULTS__ALL__ERROR_RATE=$rate NO_COLOR=1 \
            exec "$bin" serve >"$logs/serve-$label.log" 2>&1
    ) &
    server_pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "== $label (faults error_rate=$rate)"
    "$loadgen" --url "http://127.0.0.1:$port" --clients "$clients" \
        --duration "$duration" --server-pid "$server_pid" "$@"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    echo
}

run sqlite-faults-off "sqlite://$work/a.db" 0
run sqlite-faults-30 "sqlite://$work/b.db" 0.3 --plannable-only

if psql "$pg_admin" -qc 'select 1' >/dev/null 2>&1; then
    for name in off 30; do
        db=wayfare_loadgen_$name
        psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
        psql "$pg_admin" -qc "CREATE DATABASE $db" >/dev/null
    done
    run postgres-faults-off "${pg_admin%/*}/wayfare_loadgen_off" 0
    run postgres-faults-30 "${pg_admin%/*}/wayfare_loadgen_30" 0.3 --plannable-only
    for name in off 30; do
        psql "$pg_admin" -qc "DROP DATABASE IF EXISTS wayfare_loadgen_$name WITH (FORCE)" >/dev/null
    done
else
    echo "!!! PostgreSQL at $pg_admin is not reachable: skipped its runs" >&2
fi
