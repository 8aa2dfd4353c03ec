#!/usr/bin/env bash
# Sets up what Wayfare needs (wasm32 target, wasm-bindgen-cli, cargo-leptos,
# installed only when missing) and serves it on http://127.0.0.1:3000 with
# the demo catalog. `--release` builds an optimised server and bundle (it
# needs Debian's binaryen for wasm-opt, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=()
if [ "${1:-}" = "--release" ]; then
  mode=(--release)
  bash scripts/install-tools.sh --wasm-opt
else
  bash scripts/install-tools.sh
fi
echo "Building Wayfare; the first build takes several minutes on 2 cores."
exec cargo leptos serve "${mode[@]}"
