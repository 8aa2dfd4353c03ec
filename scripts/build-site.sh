#!/usr/bin/env bash
# Builds what the browser loads into target/site (or $WAYFARE_SITE_ROOT),
# without cargo-leptos: the hydrate bundle with cargo and wasm-bindgen, the
# stylesheet and the static assets. The server binary is an ordinary
# `cargo build --bin wayfare`; it serves this folder (see README).
#
#   scripts/build-site.sh            debug bundle (fast to build)
#   scripts/build-site.sh --release  size-optimised bundle (profile
#                                    wasm-release, then wasm-opt -Oz when a
#                                    wasm-opt >= 116 is on PATH and its
#                                    output gzips smaller)
#
# `cargo leptos build|watch|serve` still work and write the same layout
# (their bundle is named wayfare.wasm, ours wayfare_bg.wasm: the server's
# hydration script asks for whichever its build was made for).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=dev
out=debug
if [ "${1:-}" = "--release" ]; then
  profile=wasm-release
  out=wasm-release
fi
site="${WAYFARE_SITE_ROOT:-target/site}"
target_dir="${CARGO_TARGET_DIR:-target}"

# A release bundle drops the name section (function names, for readable
# panic stack traces: 924 -> 571 KB gzip without wasm-opt, see
# docs/bench-web.md) and the producers section; the debug one keeps them.
strip_sections=()
if [ "$profile" = wasm-release ]; then
  strip_sections=(--remove-name-section --remove-producers-section)
fi

cargo build --locked -p wayfare-frontend --lib --target wasm32-unknown-unknown --profile "$profile"
mkdir -p "$site/pkg"
wasm-bindgen "$target_dir/wasm32-unknown-unknown/$out/wayfare_frontend.wasm" \
  --target web --no-typescript --out-dir "$site/pkg" --out-name wayfare "${strip_sections[@]}"
# wasm-opt makes the file smaller but, on this bundle, its gzip larger
# (binaryen 132 -Oz, 2026-11-29: 2030 -> 1720 KiB raw, 620 -> 672 KiB
# gzipped; -Os and -O2 alike): LLVM's opt-level z with LTO already did the
# work, and what wasm-opt rewrites compresses worse. The browser downloads
# the gzipped file, so wasm-opt's output is kept only when it gzips smaller.
if [ "$profile" = wasm-release ]; then
  if wasm-opt --version 2>/dev/null | grep -q "version 11[6-9]\|version 1[2-9][0-9]"; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$site/pkg/wayfare_bg.wasm" -o "$site/pkg/wayfare_bg.opt.wasm"
    before=$(gzip -9 -n -c "$site/pkg/wayfare_bg.wasm" | wc -c)
    after=$(gzip -9 -n -c "$site/pkg/wayfare_bg.opt.wasm" | wc -c)
    if (( after < before )); then
      mv "$site/pkg/wayfare_bg.opt.wasm" "$site/pkg/wayfare_bg.wasm"
    else
      rm "$site/pkg/wayfare_bg.opt.wasm"
      echo "build-site: wasm-opt's output gzips larger ($after > $before bytes); kept LLVM's" >&2
    fi
  else
    echo "build-site: no wasm-opt >= 116 on PATH; the bundle is not wasm-opt'ed" >&2
  fi
fi
cp style/main.css "$site/pkg/wayfare.css"
cp -R public/. "$site/"
# Precompressed copies: the server's static handler sends `name.gz` to a
# browser that accepts gzip (tower-http ServeDir, precompressed_gzip), so
# the bundle travels compressed at no cost per request.
for f in "$site/pkg/wayfare_bg.wasm" "$site/pkg/wayfare.js" "$site/pkg/wayfare.css"; do
  gzip -9 -n -k -f "$f"
done
echo "build-site: $site ready ($(du -k "$site/pkg/wayfare_bg.wasm" | cut -f1) KiB of WebAssembly, $(du -k "$site/pkg/wayfare_bg.wasm.gz" | cut -f1) KiB gzipped)"
