#!/usr/bin/env bash
# Web benchmark: PRINTS the browser bundle's size and page/plan timings of
# a release build. It asserts nothing and is not part of any test suite
# (timings on a shared machine only make flaky tests).
#
#   scripts/bench-web.sh                 release server + release bundle, 7 runs
#   WAYFARE_BENCH_RUNS=15 scripts/bench-web.sh
#   BENCH_SKIP_BUILD=1 scripts/bench-web.sh   measure what is already built
#
# Env: CARGO_TARGET_DIR (honoured, like cargo and build-site.sh do),
# BENCH_SITE_ROOT (where the release bundle is written; default
# target/bench-site in this checkout, so a debug site in target/site used
# by the browser tests is left alone), BENCH_CACHE (default false: the
# server's caches are off so every run plans its trip for real instead of
# answering the same request from the request cache), WAYFARE_BENCH_RUNS,
# WAYFARE_BENCH_EXAMPLE (see end2end/bench/web.bench.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

target_dir="${CARGO_TARGET_DIR:-target}"
site="${BENCH_SITE_ROOT:-$root/target/bench-site}"
case "$site" in /*) ;; *) site="$root/$site" ;; esac
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
bin="$target_dir/release/wayfare"

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  # The two release builds the figures are about; both honour
  # CARGO_TARGET_DIR, and build-site.sh writes to WAYFARE_SITE_ROOT.
  cargo build --locked --release --bin wayfare
  if ! wasm-opt --version 2>/dev/null | grep -q "version 11[6-9]\|version 1[2-9][0-9]"; then
    echo "bench-web: no wasm-opt >= 116 on PATH: the bundle measured is not wasm-opt'ed" >&2
  fi
  WAYFARE_SITE_ROOT="$site" bash scripts/build-site.sh --release
fi
[ -x "$bin" ] || { echo "bench-web: no server binary at $bin" >&2; exit 1; }
[ -f "$site/pkg/wayfare_bg.wasm" ] || { echo "bench-web: no bundle in $site/pkg" >&2; exit 1; }

# Sizes as sent: gzip -9 stands in for the compression a CDN or reverse
# proxy would apply (the server itself may compress differently).
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -n -c <"$1" | wc -c | tr -d ' '; }  # -n: no name or time in the header
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1000 }'; }
wasm="$site/pkg/wayfare_bg.wasm"
js="$site/pkg/wayfare.js"
wasm_gz=$(gz "$wasm")
wasm_goal="NOT met"
[ "$wasm_gz" -lt 400000 ] && wasm_goal="met"
echo
echo "| bundle | raw | gzip -9 | goal | |"
echo "|---|---|---|---|---|"
echo "| wayfare_bg.wasm | $(kb "$(size "$wasm")") | $(kb "$wasm_gz") | < 400 KB gzip | $wasm_goal |"
echo "| wayfare.js (glue) | $(kb "$(size "$js")") | $(kb "$(gz "$js")") | – | |"
echo "| wayfare.css | $(kb "$(size "$site/pkg/wayfare.css")") | $(kb "$(gz "$site/pkg/wayfare.css")") | – | |"
echo

# A free port: bind port 0 and let the kernel choose (a tiny race with
# other processes is acceptable for a benchmark).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data_dir=$(mktemp -d "${TMPDIR:-/tmp}/wayfare-bench-XXXXXX")
server_pid=""
cleanup() {
  # Stop only the server this script started, then drop its database.
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT INT TERM

cache="${BENCH_CACHE:-false}"
WAYFARE_LISTEN="127.0.0.1:$port" \
  WAYFARE_DATA_DIR="$data_dir" \
  WAYFARE_DATABASE_URL="sqlite://$data_dir/bench.db" \
  WAYFARE_SITE_ROOT="$site" \
  WAYFARE_LOG=warn \
  WAYFARE_CACHE__ENABLED="$cache" \
  "$bin" serve >"$data_dir/server.log" 2>&1 &
server_pid=$!

# A fresh database loads the demo catalog first: wait until it answers.
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$data_dir/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "bench-web: the server did not start" >&2; exit 1; }

echo "bench-web: release server on 127.0.0.1:$port (caches enabled: $cache), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
cd end2end
WAYFARE_BENCH_URL="http://127.0.0.1:$port" npx playwright test -c bench/playwright.bench.config.ts
