#!/usr/bin/env bash
# bench-cluster.sh BUILD — secure transactions per second through HAProxy
# with one node and with two, and their p99, measured in the same run.
#
# A fresh cluster (scripts/cluster.sh: MariaDB primary + replica, Redis +
# Sentinels, two zhanye nodes, HAProxy) in a temp directory; flow limits on
# both nodes far above the load (reloaded with SIGHUP); then zhanye-load in
# the closed loop against HAProxy, first with node2 stopped (HAProxy has
# marked it DOWN), then with node2 back (marked UP, past its slow start).
# Everything runs on this machine: on two cores the nodes, the databases and
# the load share the same CPUs, so a second node shows what HAProxy and the
# shared database cost more than what a second machine would add.
#
# Environment: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_POOL
# (20000), BENCH_MIX (SESSION_INFO:90,SESSION_INFO+cseq:10), BENCH_DEVICES
# (16), BENCH_PORT_BASE (a free-looking base in 28000..29999).
set -euo pipefail
build=${1:-build}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-32}
pool=${BENCH_POOL:-20000}
mix=${BENCH_MIX:-SESSION_INFO:90,SESSION_INFO+cseq:10}
devices=${BENCH_DEVICES:-16}
here=$(cd "$(dirname "$0")" && pwd)

dir=$(mktemp -d /tmp/zhanye-benchc-XXXXXX)
export CLUSTER_DIR="$dir/cluster" CLUSTER_STANDBY=0
export CLUSTER_PORT_BASE=${BENCH_PORT_BASE:-$((28000 + (RANDOM % 100) * 20))}
cleanup() {
  "$here/cluster.sh" down >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$here/cluster.sh" start "$build" >"$dir/start.out" 2>&1 || {
  tail -20 "$dir/start.out" >&2
  exit 1
}
line() { sed -n "s/^$1=//p" "$dir/start.out" | tail -1; }
base=$(line BASE)
data1=$(line DATA1)
stats="http://127.0.0.1:$((CLUSTER_PORT_BASE + 1))/;csv"

node_pid() { read -r pid _ <"$CLUSTER_DIR/run/node$1.pid" && echo "$pid"; }

for n in 1 2; do
  cat "$(dirname "$0")/bench-flow.conf" >>"$CLUSTER_DIR/node$n/zhanye.conf"
  kill -HUP "$(node_pid "$n")"
done

# What HAProxy's stats say of node2: UP, DOWN, MAINT, "UP 1/2" ...
node2_status() { curl -s "$stats" | awk -F, '$1 == "zhanye_nodes" && $2 == "node2" { print $18 }'; }
wait_status() { # WANT SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    case "$(node2_status)" in "$1"*) return 0 ;; esac
    sleep 0.1
  done
  echo "bench-cluster: node2 never became $1 in HAProxy ($(node2_status))" >&2
  exit 1
}

run_load() { # OUT
  "$build/bench/zhanye-load" --url "$base" --data "$data1" --zhanye "$build/zhanye" \
    --prefix "b$1" --closed --duration "$seconds" \
    --connections "$connections" --pool "$pool" --devices "$devices" --mix "$mix" \
    >"$dir/$1.out" 2>"$dir/$1.err" || {
    cat "$dir/$1.err" >&2
    exit 1
  }
}
value() { awk -v k="$1" '$1 == k { print $2 }' "$dir/$2.out"; }

kill -TERM "$(node_pid 2)"
wait_status DOWN 20
run_load one
"$here/cluster.sh" start "$build" >"$dir/restart.out" 2>&1 # brings node2 back
wait_status UP 30
sleep 11 # past slowstart: node2 takes its full share
run_load two

one=$(value e2e_tx_per_s one)
two=$(value e2e_tx_per_s two)
echo "cluster_1node_tx_per_s $one"
echo "cluster_1node_p99_ms $(value p99_ms one)"
echo "cluster_2nodes_tx_per_s $two"
echo "cluster_2nodes_p99_ms $(value p99_ms two)"
awk -v a="$one" -v b="$two" 'BEGIN { printf "cluster_2nodes_over_1node %.2f\n", b / a }'
for r in one two; do
  echo "cluster_${r}_requests $(value requests "$r") ok $(value ok "$r")"
  sed -n "s/^status_/cluster_${r}_status_/p" "$dir/$r.out"
done
echo "cluster_cores $(nproc)"
