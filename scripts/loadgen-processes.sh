#!/usr/bin/env bash
# One vs two `wayfare serve` on one PostgreSQL database, back to back: the
# load tool against one process (100 clients), then one per process (50
# clients each) on a fresh database, then the scaled-out topology — A the
# web tier alone (`serve --agents none`), B a server with every agent type
# but transport and accommodation, and a `wayfare worker` running those
# two — with 50 clients on each server. Loopback only, bounded. Uses the
# debug builds in target/debug (WAYFARE_BIN / WAYFARE_LOADGEN_BIN for
# others). `ROUNDS="three"` runs only the scaled-out round.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${WAYFARE_BIN:-$root/target/debug/wayfare}; lg=${WAYFARE_LOADGEN_BIN:-$root/target/debug/wayfare-loadgen}
admin=${WAYFARE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
start() { # port db [serve args…] -> pid
  local port=$1 url=$2; shift 2
  (cd $work && WAYFARE_DATABASE_URL=$url WAYFARE_LISTEN=127.0.0.1:$port WAYFARE_LOG=warn NO_COLOR=1 exec $bin serve "$@" >$work/serve-$port.log 2>&1) &
  echo $!
}
start_worker() { # port db agents -> pid
  (cd $work && WAYFARE_DATABASE_URL=$2 WAYFARE_LOG=warn NO_COLOR=1 exec $bin worker --agents $3 --listen 127.0.0.1:$1 >$work/worker-$1.log 2>&1) &
  echo $!
}
cluster() { # port… : what crossed processes, per process
  for port in "$@"; do
    echo "-- :$port $(curl -fs http://127.0.0.1:$port/metrics | grep -E "^wayfare_(notifications_received|events_relayed|task_fenced)_total" | tr '\n' ' ')"
  done
}
# The lines of the load tool's report that the rounds compare.
summary='plans/s|errors|p50|cpu|rss|ready'
load_both() { # pid-A pid-B label-A : 50 clients on :3981 (A) and :3982 (B) at once, then each one's summary
  timeout 120 $lg --url http://127.0.0.1:3981 --clients 50 --duration 15s --server-pid $1 > $work/lg1.txt &
  local l1=$!
  timeout 120 $lg --url http://127.0.0.1:3982 --clients 50 --duration 15s --server-pid $2 > $work/lg2.txt
  wait $l1
  echo "-- $3"; grep -E "$summary" $work/lg1.txt
  echo "-- B"; grep -E "$summary" $work/lg2.txt
}
wait_up() { for _ in $(seq 300); do curl -fs http://127.0.0.1:$1/healthz >/dev/null 2>&1 && return; sleep 0.1; done; echo "not up $1"; }
for round in ${ROUNDS:-one two three}; do
  db=wayfare_lg_procs_$round
  psql $admin -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; psql $admin -qc "CREATE DATABASE $db" >/dev/null
  url=${admin%/*}/$db
  if [ $round = one ]; then
    p1=$(start 3981 $url); wait_up 3981
    echo "== one process, 100 clients"
    timeout 120 $lg --url http://127.0.0.1:3981 --clients 100 --duration 15s --server-pid $p1 | grep -E "$summary"
    kill $p1; wait $p1 2>/dev/null
  elif [ $round = three ]; then
    p1=$(start 3981 $url --agents none); wait_up 3981
    p2=$(start 3982 $url --agents location,planning,dining,activity,tips,budget,verifier); wait_up 3982
    p3=$(start_worker 3983 $url transport,accommodation); wait_up 3983
    echo "== serve --agents none + serve (all but transport, accommodation) + worker (transport, accommodation), 50 clients on each server"
    load_both $p1 $p2 "A (web tier)"
    echo "-- worker rss: $(ps -o rss= -p $p3) KB"
    cluster 3981 3982 3983
    kill $p1 $p2 $p3; wait $p1 $p2 $p3 2>/dev/null
  else
    p1=$(start 3981 $url); p2=$(start 3982 $url); wait_up 3981; wait_up 3982
    echo "== two processes, 50 clients each"
    load_both $p1 $p2 A
    cluster 3981 3982
    kill $p1 $p2; wait $p1 $p2 2>/dev/null
  fi
  psql $admin -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
done
rm -rf $work
