#!/usr/bin/env bash
# One vs two `wayfare serve` on one PostgreSQL database, back to back: the
# load tool against one process (100 clients), then one per process (50
# clients each) on a fresh database. Loopback only, bounded. Uses the debug
# builds in target/debug (WAYFARE_BIN / WAYFARE_LOADGEN_BIN for others).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${WAYFARE_BIN:-$root/target/debug/wayfare}; lg=${WAYFARE_LOADGEN_BIN:-$root/target/debug/wayfare-loadgen}
admin=${WAYFARE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
start() { # port db -> pid
  (cd $work && WAYFARE_DATABASE_URL=$2 WAYFARE_LISTEN=127.0.0.1:$1 WAYFARE_LOG=warn NO_COLOR=1 exec $bin serve >$work/serve-$1.log 2>&1) &
  echo $!
}
wait_up() { for _ in $(seq 300); do curl -fs http://127.0.0.1:$1/healthz >/dev/null 2>&1 && return; sleep 0.1; done; echo "not up $1"; }
for round in one two; do
  db=wayfare_lg_procs_$round
  psql $admin -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; psql $admin -qc "CREATE DATABASE $db" >/dev/null
  url=${admin%/*}/$db
  if [ $round = one ]; then
    p1=$(start 3981 $url); wait_up 3981
    echo "== one process, 100 clients"
    timeout 120 $lg --url http://127.0.0.1:3981 --clients 100 --duration 15s --server-pid $p1 | grep -E "plans/s|errors|p50|cpu|rss|ready" 
    kill $p1; wait $p1 2>/dev/null
  else
    p1=$(start 3981 $url); p2=$(start 3982 $url); wait_up 3981; wait_up 3982
    echo "== two processes, 50 clients each"
    timeout 120 $lg --url http://127.0.0.1:3981 --clients 50 --duration 15s --server-pid $p1 > $work/lg1.txt &
    l1=$!
    timeout 120 $lg --url http://127.0.0.1:3982 --clients 50 --duration 15s --server-pid $p2 > $work/lg2.txt
    wait $l1
    echo "-- A"; grep -E "plans/s|errors|p50|cpu|rss|ready" $work/lg1.txt
    echo "-- B"; grep -E "plans/s|errors|p50|cpu|rss|ready" $work/lg2.txt
    curl -fs http://127.0.0.1:3982/metrics | grep -E "^wayfare_(notifications_received|events_relayed|task_fenced)_total"
    kill $p1 $p2; wait $p1 $p2 2>/dev/null
  fi
  psql $admin -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
done
rm -rf $work
