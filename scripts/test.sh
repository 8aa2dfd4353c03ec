#!/usr/bin/env bash
# The whole test suite: formatting, lints, the Rust tests (store tests on
# SQLite and PostgreSQL), schemathesis against the API, the web build, and
# the Playwright browser tests.
# Installs what it needs when missing (see scripts/install-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
started=$SECONDS
timed() {
  local name=$1; shift
  local t0=$SECONDS
  stage "$name"
  "$@"
  printf '\033[1;34m<== %s took %ds\033[0m\n' "$name" $((SECONDS - t0))
}

# Runs a command; when it is still running after LIMIT seconds (a hung
# test), prints every thread's backtrace of the test processes (with gdb,
# when installed) and fails, instead of holding CI until its own limit.
with_watchdog() {
  local limit=$1; shift
  "$@" &
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= limit )); then
      echo "!!! '$*' still running after ${limit}s; the test processes' threads:" >&2
      for p in $(pgrep -f 'target/debug/deps/' || true); do
        echo "--- $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" >&2
        if command -v gdb >/dev/null; then
          gdb -p "$p" -batch -ex 'thread apply all bt 30' 2>&1 | grep -v '^\[' >&2 || true
        fi
      done
      pkill -f 'target/debug/deps/' || true
      kill "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
  wait "$pid"
}

# A fresh clone gains nothing from incremental compilation, and its
# caches are the larger part of target/ (CI once ran out of disk).
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
fi

timed "tools" bash scripts/install-tools.sh --system
timed "cargo fmt --check" cargo fmt --all --check
timed "cargo clippy" cargo clippy --all-targets --locked -- -D warnings
# About 3 minutes on 2 cores, compilation included.
timed "cargo test" with_watchdog 1200 cargo test --locked
# The REST API fuzzed from its OpenAPI document (bounded: under 2 minutes).
timed "schemathesis" bash -c 'cargo build --locked --bin wayfare && bash scripts/schemathesis.sh'
timed "web build" bash -c 'cargo build --locked --bin wayfare && bash scripts/build-site.sh' 
if [ ! -d end2end/node_modules ]; then
  timed "npm ci" npm --prefix end2end ci --no-audit --no-fund
fi
timed "playwright" bash -c 'cd end2end && npx playwright test'

printf '\n\033[1;32mAll tests passed in %ds.\033[0m\n' $((SECONDS - started))
