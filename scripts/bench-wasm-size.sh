#!/usr/bin/env bash
# Compares the WebAssembly bundle's size (raw and gzip -9) under different
# post-processing flags, from the same cargo artifact, so that a change to
# scripts/build-site.sh's wasm-bindgen/wasm-opt flags is decided on figures.
# PRINTS a table; builds nothing unless asked, writes only to a temp dir.
#
#   scripts/bench-wasm-size.sh               the wasm-release artifact as built
#   BENCH_OPT_LEVELS="z s" scripts/bench-wasm-size.sh
#       also rebuilds the frontend at each opt-level (through
#       CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL, so Cargo.toml is untouched;
#       each level keeps its own artifacts in the target dir) and compares
#       them with the default flags. Several minutes per level on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
artifact="$target_dir/wasm32-unknown-unknown/wasm-release/wayfare_frontend.wasm"
work=$(mktemp -d "${TMPDIR:-/tmp}/wayfare-wasm-size-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Without wasm-opt >= 116 the wasm-opt rows are left out (and said so).
have_opt=1
if ! wasm-opt --version 2>/dev/null | grep -q "version 11[6-9]\|version 1[2-9][0-9]"; then
  echo "bench-wasm-size: no wasm-opt >= 116 on PATH: rows with wasm-opt are skipped" >&2
  have_opt=0
fi
# The features build-site.sh enables (rustc's wasm32 default target emits them).
features=(--enable-bulk-memory --enable-nontrapping-float-to-int)

size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -n -c <"$1" | wc -c | tr -d ' '; }  # -n: no name or time in the header
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1000 }'; }
row() { echo "| $1 | $(kb "$(size "$2")") | $(kb "$(gz "$2")") |"; }

# variant NAME INPUT "WASM-BINDGEN FLAGS" "WASM-OPT FLAGS" (empty: no wasm-opt)
variant() {
  local name=$1 input=$2 bg=$3 opt=$4 out="$work/$RANDOM"
  # shellcheck disable=SC2086 # the flags are word lists on purpose
  wasm-bindgen "$input" --target web --no-typescript --out-dir "$out" --out-name wayfare $bg
  if [ -n "$opt" ] && [ "$have_opt" = 0 ]; then
    return 0
  fi
  if [ -n "$opt" ]; then
    # shellcheck disable=SC2086
    wasm-opt $opt "${features[@]}" "$out/wayfare_bg.wasm" -o "$out/wayfare_bg.wasm"
  fi
  row "$name" "$out/wayfare_bg.wasm"
}

echo "| variant | wasm raw | wasm gzip -9 |"
echo "|---|---|---|"
if [ -z "${BENCH_OPT_LEVELS:-}" ]; then
  [ -f "$artifact" ] || { echo "bench-wasm-size: build it first: scripts/build-site.sh --release" >&2; exit 1; }
  row "cargo artifact (opt-level from Cargo.toml), before wasm-bindgen" "$artifact"
  variant "wasm-bindgen, no wasm-opt" "$artifact" "" ""
  variant "wasm-bindgen --remove-name-section --remove-producers-section, no wasm-opt" "$artifact" \
    "--remove-name-section --remove-producers-section" ""
  variant "wasm-bindgen + wasm-opt -Oz (build-site.sh before)" "$artifact" "" "-Oz"
  variant "wasm-bindgen --remove-name-section --remove-producers-section + wasm-opt -Oz" "$artifact" \
    "--remove-name-section --remove-producers-section" "-Oz"
  variant "… + wasm-opt -Oz --strip-debug --strip-producers" "$artifact" \
    "--remove-name-section --remove-producers-section" "-Oz --strip-debug --strip-producers"
  variant "… + wasm-opt -Oz -Oz (two passes)" "$artifact" \
    "--remove-name-section --remove-producers-section" "-Oz -Oz --strip-debug --strip-producers"
  variant "… + wasm-opt -Os" "$artifact" \
    "--remove-name-section --remove-producers-section" "-Os --strip-debug --strip-producers"
  variant "… + wasm-opt -O3 (speed, for reference)" "$artifact" \
    "--remove-name-section --remove-producers-section" "-O3 --strip-debug --strip-producers"
else
  for level in $BENCH_OPT_LEVELS; do
    CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL="$level" \
      cargo build --locked -p wayfare-frontend --lib --target wasm32-unknown-unknown --profile wasm-release >&2
    cp "$artifact" "$work/opt-$level.wasm"
    row "opt-level=\"$level\", cargo artifact" "$work/opt-$level.wasm"
    variant "opt-level=\"$level\" + wasm-bindgen (sections removed), no wasm-opt" "$work/opt-$level.wasm" \
      "--remove-name-section --remove-producers-section" ""
    variant "opt-level=\"$level\" + wasm-bindgen (sections removed) + wasm-opt -Oz" "$work/opt-$level.wasm" \
      "--remove-name-section --remove-producers-section" "-Oz"
  done
  # Put back the artifact of Cargo.toml's own settings (fresh, so quick),
  # which build-site.sh and the default mode of this script read.
  cargo build --locked -p wayfare-frontend --lib --target wasm32-unknown-unknown --profile wasm-release >&2
fi
