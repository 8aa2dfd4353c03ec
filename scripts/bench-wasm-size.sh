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
#   BENCH_TOP=40 scripts/bench-wasm-size.sh
#       also says where the bytes are: the cargo artifact's 40 largest
#       functions and the code per crate (serde's impls grouped apart), read
#       from its name section (python3; no other tool needed).
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
  if [ -n "${BENCH_TOP:-}" ]; then
    echo
    python3 - "$artifact" "$BENCH_TOP" <<'PY'
import sys, re, collections
def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, i
data = open(sys.argv[1], 'rb').read()
top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
i = 8; nimp = 0; bodies = []; names = {}; sections = collections.Counter()
while i < len(data):
    sid = data[i]; i += 1
    size, i = leb(data, i); end = i + size
    if sid == 2:
        n, j = leb(data, i)
        for _ in range(n):
            l, j = leb(data, j); j += l
            l, j = leb(data, j); j += l
            kind = data[j]; j += 1
            if kind == 0: _, j = leb(data, j); nimp += 1
            elif kind in (1, 2):
                if kind == 1: j += 1
                f, j = leb(data, j); _, j = leb(data, j)
                if f & 1: _, j = leb(data, j)
            elif kind == 3: j += 2
    if sid == 10:
        n, j = leb(data, i)
        for k in range(n):
            l, j2 = leb(data, j); bodies.append(j2 - j + l); j = j2 + l
    if sid == 0:
        l, j = leb(data, i); name = data[j:j+l].decode(); j += l
        sections['custom:' + name] += size
        if name == 'name':
            while j < end:
                sub = data[j]; j += 1
                sl, j = leb(data, j); se = j + sl
                if sub == 1:
                    n, j = leb(data, j)
                    for _ in range(n):
                        idx, j = leb(data, j); l, j = leb(data, j)
                        names[idx] = data[j:j+l].decode('utf-8', 'replace'); j += l
                j = se
    else:
        sections[sid] += size
    i = end

def demangle(n):
    if n.startswith('_ZN'):
        i = 3; parts = []
        while i < len(n) and n[i] != 'E':
            j = i
            while n[j].isdigit(): j += 1
            l = int(n[i:j]); parts.append(n[j:j+l]); i = j + l
        if parts and re.fullmatch(r'h[0-9a-f]{16}', parts[-1]): parts.pop()
        out = '::'.join(parts)
        for a, b in [('$LT$','<'),('$GT$','>'),('$RF$','&'),('$BP$','*'),('$u20$',' '),('$u27$',"'"),('$u5b$','['),('$u5d$',']'),('$u7b$','{'),('$u7d$','}'),('$C$',','),('$u3b$',';'),('$u21$','!'),('$u2b$','+'),('$LP$','('),('$RP$',')'),('..','::'),('$SP$','@')]:
            out = out.replace(a, b)
        return re.sub(r'^_+', '', out) if out.startswith('_<') or out.startswith('_$') else out
    if n.startswith('_R'):
        crates = re.findall(r'C[sS]?[0-9A-Za-z]*_(\d+)([a-z_][a-z0-9_]*)', n)
        idents = re.findall(r'(\d+)([A-Za-z_][A-Za-z0-9_]*)', n)
        names = []
        for l, w in idents:
            l = int(l); names.append(w[:l])
        return (crates[0][1] if crates else '?') + '::' + '::'.join(names[1:])
    return n

total = sum(bodies)
print(f"code section: {total} bytes in {len(bodies)} functions; sections: " +
      ", ".join(f"{k}={v}" for k, v in sections.most_common()))
fns = [(s, demangle(names.get(nimp + k, f"func[{nimp+k}]"))) for k, s in enumerate(bodies)]
fns.sort(reverse=True)
print(f"\ntop {top} functions (bytes, % of code):")
for s, n in fns[:top]:
    print(f"{s:8d} {100*s/total:5.1f}%  {n[:170]}")
def group(n):
    if re.search(r'serde::de::|Deserialize|__Visitor|__FieldVisitor|visit_map|visit_seq|deserialize', n) or 'serde_json::de' in n:
        return 'serde (deserialize)'
    if re.search(r'Serialize|serde::ser|serde_json::ser', n): return 'serde (serialize)'
    m = re.match(r'^<*&?(?:mut )?(?:dyn )?([a-z_][a-z0-9_]*)::', n)
    if m: return m.group(1)
    m = re.match(r'^([a-z_][a-z0-9_]*)', n)
    return m.group(1) if m else '?'
g = collections.Counter(); c = collections.Counter()
for s, n in fns: g[group(n)] += s; c[group(n)] += 1
print("\nby crate (first path segment; serde impls grouped):")
for k, v in g.most_common(25):
    print(f"{v:8d} {100*v/total:5.1f}%  {c[k]:5d} fns  {k}")
app = collections.Counter()
for s, n in fns:
    m = re.search(r'wayfare_(?:app|domain)::[a-z_:]+', n)
    if m: app[m.group(0)] += s
print("\nfunctions naming wayfare_app/wayfare_domain paths, by path (overlaps serde):")
for k, v in app.most_common(30): print(f"{v:8d} {100*v/total:5.1f}%  {k}")
PY
  fi
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
