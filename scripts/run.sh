#!/usr/bin/env bash
# Sets up what Wayfare needs (the wasm32 target and wasm-bindgen-cli,
# installed only when missing), builds the server and the browser bundle,
# and serves Wayfare on http://127.0.0.1:3000 with the demo catalog.
# `--release` builds both optimised (wasm-opt is not installed for it: on
# this bundle its output gzips larger than LLVM's, see build-site.sh).
# No cargo-leptos: `cargo leptos watch` works too, for
# development (scripts/install-tools.sh --cargo-leptos installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=()
site=()
bin=target/debug/wayfare
if [ "${1:-}" = "--release" ]; then
  profile=(--release)
  site=(--release)
  bin=target/release/wayfare
fi
bash scripts/install-tools.sh
echo "Building Wayfare; the first build takes several minutes on 2 cores."
cargo build --locked --bin wayfare "${profile[@]}"
bash scripts/build-site.sh "${site[@]}"
export WAYFARE_SITE_ROOT="${WAYFARE_SITE_ROOT:-target/site}"
exec "$bin" serve
