#!/usr/bin/env bash
# The server's instructions per finished trip under load, counted by
# valgrind's callgrind: a figure that does not move with the machine's
# other work (CPU time on a shared 2-core machine moves by ±8% between
# runs), for comparing two builds of the hot path.
#
# Starts `wayfare serve` under callgrind on a fresh SQLite database, warms
# it up with `wayfare-loadgen`, zeroes the counters, runs the load again,
# dumps the counters, and prints the instructions per trip that finished
# in the measured run. The dump (`callgrind_annotate --inclusive=yes
# --tree=caller FILE`) says where they went.
#
# Usage: scripts/callgrind-load.sh [OUT_DIR]
#   WAYFARE_BIN           release `wayfare` binary (default target/release/wayfare)
#   WAYFARE_LOADGEN_BIN   release `wayfare-loadgen` (default target/release/wayfare-loadgen)
#   CLIENTS (10), WARMUP (20s), DURATION (60s), PORT (3998)
# Under callgrind the server runs about 50 times slower: 10 clients keep it
# busy; its threads run one at a time, so the count is the same with more.
# Read the count with its bias: a `rep movsb` (glibc's memcpy of large
# blocks) counts once per step, so copies weigh far more here than in CPU
# time; confirm a gain with `wayfare-loadgen --server-pid` runs in turn.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${WAYFARE_BIN:-$here/target/release/wayfare}"
loadgen="${WAYFARE_LOADGEN_BIN:-$here/target/release/wayfare-loadgen}"
clients="${CLIENTS:-10}"
warmup="${WARMUP:-20s}"
duration="${DURATION:-60s}"
port="${PORT:-3998}"
out="${1:-$(mktemp -d /tmp/wayfare-callgrind.XXXX)}"

for tool in valgrind callgrind_control; do
  command -v "$tool" >/dev/null || { echo "callgrind-load: $tool is not installed (Debian: valgrind)" >&2; exit 2; }
done
for b in "$bin" "$loadgen"; do
  [[ -x "$b" ]] || { echo "callgrind-load: no executable $b (build it with --release)" >&2; exit 2; }
done

mkdir -p "$out"
url="http://127.0.0.1:$port"
# The consistency audit runs once a minute whatever the load: kept out of
# the measured window, which counts the work each trip costs.
WAYFARE_DATABASE_URL="sqlite://$out/wayfare.db" WAYFARE_LISTEN="127.0.0.1:$port" WAYFARE_LOG=warn \
  WAYFARE_ORCHESTRATOR__AUDIT_INTERVAL=1h \
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.%p.out" "$bin" serve \
  >"$out/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 300); do
  curl -sf "$url/healthz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$out/serve.log" >&2; exit 1; }
  sleep 1
done
curl -sf "$url/healthz" >/dev/null || { echo "callgrind-load: the server did not start" >&2; exit 1; }

"$loadgen" --url "$url" --clients "$clients" --duration "$warmup" --trip-timeout 120s >"$out/warmup.txt"
callgrind_control -z "$server" >/dev/null
"$loadgen" --url "$url" --clients "$clients" --duration "$duration" --trip-timeout 120s --json >"$out/load.json"
callgrind_control -d "$server" >/dev/null
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT

dump="$(ls "$out"/callgrind.*.out.1)"
python3 - "$out/load.json" "$dump" <<'EOF'
import json, sys
load = json.load(open(sys.argv[1]))
total = next(int(line.split()[1]) for line in open(sys.argv[2]) if line.startswith("summary:"))
finished = load["ready"] + load["failed"] + load["needs_input"] + load["cancelled"]
if finished == 0:
    sys.exit("callgrind-load: no trip finished in the measured run")
print(f"trips finished {finished} (ready {load['ready']}, errors {load['errors']})")
print(f"instructions {total:,}")
print(f"instructions per finished trip {total / finished:,.0f}")
print(f"dump {sys.argv[2]}")
EOF
