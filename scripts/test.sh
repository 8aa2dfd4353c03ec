#!/usr/bin/env bash
# The whole test suite: formatting, lints, the Rust tests (store tests on
# SQLite and PostgreSQL), the web build, and the Playwright browser tests.
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

timed "tools" bash scripts/install-tools.sh --system
timed "cargo fmt --check" cargo fmt --all --check
timed "cargo clippy" cargo clippy --all-targets --locked -- -D warnings
timed "cargo test" cargo test --locked
timed "cargo leptos build" cargo leptos build
if [ ! -d end2end/node_modules ]; then
  timed "npm ci" npm --prefix end2end ci --no-audit --no-fund
fi
timed "playwright" bash -c 'cd end2end && npx playwright test'

printf '\n\033[1;32mAll tests passed in %ds.\033[0m\n' $((SECONDS - started))
