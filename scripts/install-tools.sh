#!/usr/bin/env bash
# Installs the toolchain pieces Wayfare's build needs, each only when missing:
# the wasm32 target and wasm-bindgen-cli (matching Cargo.lock); with
# --system, Debian's chromium, promtool (package `prometheus`) and
# schemathesis (PyPI, in its own venv, for scripts/schemathesis.sh); with
# --wasm-opt, wasm-opt for release builds; with --cargo-leptos,
# cargo-leptos for `cargo leptos watch` (the build itself does not need it:
# scripts/build-site.sh).
# Idempotent: a second run does nothing but check versions.
# --print-schemathesis prints schemathesis' venv directory and exits.
set -euo pipefail

WASM_BINDGEN_VERSION="0.2.130"
CARGO_LEPTOS_VERSION="0.3.11"
SCHEMATHESIS_VERSION="4.32.5"
# Outside the work tree so that a fresh clone (CI) on the same machine reuses
# it; the version in the name makes a bump install afresh.
SCHEMATHESIS_VENV="${SCHEMATHESIS_VENV:-$HOME/.local/share/wayfare/schemathesis-$SCHEMATHESIS_VERSION}"

log() { printf '\033[1m[install-tools]\033[0m %s\n' "$*"; }

# --system: also Debian's chromium (browser tests), schemathesis (API fuzzing),
# promtool (Debian's `prometheus`: server/tests/alert_rules.rs checks
# deploy/prometheus/ with it) and `ip` (iproute2: server/tests/processes_netns.rs
# cuts a process off in a network namespace, as root);
# --wasm-opt: wasm-opt for release builds (see below).
need_chromium=0
need_schemathesis=0
need_wasm_opt=0
need_cargo_leptos=0
for arg in "$@"; do
  case "$arg" in
    --print-schemathesis) echo "$SCHEMATHESIS_VENV"; exit 0 ;;
    --system) need_chromium=1; need_schemathesis=1 ;;
    --wasm-opt) need_wasm_opt=1 ;;
    --cargo-leptos) need_cargo_leptos=1 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes on 2 cores)"
  # Not --locked: its lock file names a crate version the registry here lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$need_cargo_leptos" = 1 ] && ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  # cargo-leptos 0.3.11's locked dependencies need a newer rustc than stable
  # 1.95; nightly builds it. Fall back to stable without --locked otherwise.
  if rustup toolchain list | grep -q '^nightly'; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION with nightly (about 14 minutes on 2 cores)"
    cargo +nightly install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  else
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION with stable"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  fi
fi

missing=()
if [ "$need_chromium" = 1 ] && ! command -v chromium >/dev/null; then missing+=(chromium); fi
if [ "$need_chromium" = 1 ] && ! command -v promtool >/dev/null; then missing+=(prometheus); fi
if [ "$need_chromium" = 1 ] && ! command -v ip >/dev/null; then missing+=(iproute2); fi
if [ "$need_schemathesis" = 1 ] && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# Release builds run wasm-opt. Debian's binaryen (108) corrupts what
# wasm-bindgen 0.2.130 emits (the page then fails to hydrate with
# "WebAssembly.Table.set(): Argument 1 is invalid"), so use the wasm-opt
# crate, which builds binaryen 116 from source (about 12 minutes, once).
if [ "$need_wasm_opt" = 1 ] && ! wasm-opt --version 2>/dev/null | grep -q "version 11[6-9]\|version 1[2-9][0-9]"; then
  log "installing wasm-opt 0.116.1 (binaryen 116) with cargo (about 12 minutes on 2 cores)"
  cargo install wasm-opt --version 0.116.1
fi
if [ "$need_schemathesis" = 1 ] &&
  ! "$SCHEMATHESIS_VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $SCHEMATHESIS_VENV (about a minute)"
  rm -rf "$SCHEMATHESIS_VENV"
  python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
log "tools ready"
