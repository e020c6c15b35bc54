#!/usr/bin/env bash
# test_cluster.sh DIR — scripts/cluster.sh end to end, on real servers: a
# cluster in DIR (wiped first) on free loopback ports; checks HAProxy, both
# nodes serving the same tablets, MariaDB replication, read-only replicas,
# semi-sync, Redis and Sentinel, idempotent start, down and a restart.
# Needs ZHANYE_BIN and ZHANYE_SRC (tests/meson.build). Exit 77: skipped.
set -uo pipefail

DIR=$1
# shellcheck source=cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

on_exit() {
  local rc=$?
  if ((fails)) || ((rc)); then
    echo "--- status"
    cluster status 2>&1
    for f in "$DIR"/node*/serve.out "$DIR"/mariadb/*/error.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
    done
  fi
  cluster down >/dev/null 2>&1
}
trap on_exit EXIT

[ -f "$DIR/cluster.env" ] && cluster down >/dev/null 2>&1
rm -rf "$DIR"
base=$(pick_base) || {
  echo "no free port range"
  exit 1
}
export CLUSTER_PORT_BASE=$base

# ---- start ---------------------------------------------------------------------
out=$(cluster start "$(dirname "$BIN")" 2>&1)
rc=$?
printf '  | %s\n' "${out//$'\n'/$'\n'  | }"
[ $rc = 0 ] || {
  bad "cluster.sh start exits 0 (got $rc)"
  exit 1
}
tail4=$(tail -n 4 <<<"$out")
eq "the last four lines" "$tail4" "BASE=http://127.0.0.1:$base
NODE1=http://127.0.0.1:$((base + 2))
NODE2=http://127.0.0.1:$((base + 3))
DATA1=$(cd "$DIR" && pwd)/node1"
BASE=$(sed -n 's/^BASE=//p' <<<"$tail4")
NODE1=$(sed -n 's/^NODE1=//p' <<<"$tail4")
NODE2=$(sed -n 's/^NODE2=//p' <<<"$tail4")
DATA1=$(sed -n 's/^DATA1=//p' <<<"$tail4")

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }

# ---- HAProxy and the nodes -----------------------------------------------------------
eq "GET BASE/readyz" "$(code "$BASE/readyz")" 200
check "BASE/readyz says ready" grep -q '"status":"ready"' <<<"$(curl -s "$BASE/readyz")"
eq "GET NODE1/readyz" "$(code "$NODE1/readyz")" 200
eq "GET NODE2/readyz" "$(code "$NODE2/readyz")" 200
eq "GET BASE/metrics is refused by HAProxy" "$(code "$BASE/metrics")" 403
k1=$(curl -s "$NODE1/api/v1/pubkey")
k2=$(curl -s "$NODE2/api/v1/pubkey")
check "node1 publishes a server key" grep -q '"k1"' <<<"$k1"
eq "node2 publishes node1's server keys" "$k2" "$k1"

# A tablet through HAProxy: roundrobin alternates the nodes, so activation,
# login and session reads are answered by both (the node id is in srvseq).
STATE="$DIR/tablet.json"
act=$("$BIN" activation issue --data "$DATA1" --teller demo01 2>/dev/null | tail -n 1)
nodes=""
tx() { # WHAT ARGS...
  local what=$1 r
  shift
  r=$("$BIN" call --state "$STATE" --server "$BASE" "$@" 2>&1)
  check "tablet $what through HAProxy answers OK" grep -q '"code":"OK"' <<<"$r"
  nodes+=" $(sed -n 's/.*"srvseq":"[0-9]\{8\}\([0-9][0-9]\).*/\1/p' <<<"$r")"
}
tx DEVICE_ACTIVATE --activate "$act" --teller demo01
tx LOGIN LOGIN --data "{\"teller\":\"demo01\",\"password\":\"$PW\"}"
tx SESSION_INFO SESSION_INFO
tx SESSION_INFO SESSION_INFO
tx CUSTOMER_CREATE CUSTOMER_CREATE --data '{"kind":"person","name":"集群客户","id_no":"11010519491231002X"}'
check "node1 answered a transaction (srvseq node ids:$nodes)" grep -qw 01 <<<"$nodes"
check "node2 answered a transaction (srvseq node ids:$nodes)" grep -qw 02 <<<"$nodes"
# The stats page (CSV): status (field 18) UP, last health check (37) passed.
checked_up() { # SERVER
  curl -s "http://127.0.0.1:$((base + 1))/;csv" |
    awk -F, -v s="$1" '$1 == "zhanye_nodes" && $2 == s && $18 ~ /^UP/ && $37 == "L7OK" {f = 1} END {exit !f}'
}
for n in node1 node2; do
  for _ in $(seq 100); do checked_up "$n" && break; sleep 0.1; done
  check "HAProxy's health check (GET /readyz) passes on $n" checked_up "$n"
done

# ---- MariaDB -------------------------------------------------------------------
status_var() { sql "$1" "SHOW STATUS LIKE '$2'" | awk '{print $2}'; }
as_zhanye() { # PORT SQL: the nodes' account over TCP
  MYSQL_PWD=$(cat "$DATA1/keys/db.password") mariadb --no-defaults -h127.0.0.1 -P"$1" \
    -uzhanye -N -B -e "$2" zhanye 2>&1
}

before=$(sql primary 'SELECT COUNT(*) FROM banks')
check "the demo data is on the primary ($before banks)" test "${before:-0}" -gt 0
yes0=$(status_var primary Rpl_semi_sync_master_yes_tx)
check "zhanye bank add B77 (node1's data dir)" "$BIN" bank add --data "$DATA1" --code B77 --name 集群测试银行
eq "the primary holds the new bank" "$(sql primary 'SELECT COUNT(*) FROM banks')" $((before + 1))
check "the write was acknowledged by a replica (Rpl_semi_sync_master_yes_tx $yes0 -> $(status_var primary Rpl_semi_sync_master_yes_tx))" \
  test "$(status_var primary Rpl_semi_sync_master_yes_tx)" -gt "${yes0:-0}"
eq "semi-sync is on on the primary" "$(status_var primary Rpl_semi_sync_master_status)" ON
eq "the primary is writable" "$(sql primary 'SELECT @@read_only')" 0
gtid=$(sql primary 'SELECT @@gtid_binlog_pos')
replicas=$(cd "$DIR/mariadb" && ls -d replica standby 2>/dev/null)
check "a standby replica exists by default" grep -qw standby <<<"$replicas"
for r in $replicas; do
  if [ "$r" = standby ]; then port=$((base + 12)); else port=$((base + 11)); fi
  eq "$r caught up with the primary" "$(sql "$r" "SELECT MASTER_GTID_WAIT('$gtid', 20)")" 0
  eq "$r has the primary's banks" "$(sql "$r" 'SELECT COUNT(*) FROM banks')" $((before + 1))
  eq "$r has B77" "$(sql "$r" "SELECT name FROM banks WHERE code = 'B77'")" 集群测试银行
  eq "$r is read-only" "$(sql "$r" 'SELECT @@read_only')" 1
  out=$(as_zhanye "$port" "UPDATE banks SET name = name WHERE code = 'B77'" | tail -n 1)
  check "$r refuses the nodes' account a write ($out)" grep -q -- '--read-only' <<<"$out"
  eq "$r acknowledges semi-sync" "$(status_var "$r" Rpl_semi_sync_slave_status)" ON
done
out=$(as_zhanye $((base + 10)) "UPDATE banks SET name = name WHERE code = 'B77'; SELECT 'written'")
eq "the primary takes the same write from the nodes' account" "$out" written
eq "the primary counts both replicas" "$(status_var primary Rpl_semi_sync_master_clients)" 2

# ---- bank shards ---------------------------------------------------------------
# B01's customers are in its shard zhanye_s1, on the primary and the replica.
eq "B01's customer is in shard s1 on the primary" \
  "$(sql primary 'SELECT COUNT(*) FROM zhanye_s1.customers')" 1
eq "and none in the directory" "$(sql primary 'SELECT COUNT(*) FROM zhanye.customers')" 0
for _ in $(seq 50); do
  [ "$(sql replica 'SELECT COUNT(*) FROM zhanye_s1.customers' 2>/dev/null)" = 1 ] && break
  sleep 0.1
done
eq "and on the replica" "$(sql replica 'SELECT COUNT(*) FROM zhanye_s1.customers')" 1
out=$("$BIN" shard move --data "$DATA1" --bank B01 --to s2 2>&1)
check "zhanye shard move B01 to s2 on the cluster ($out)" grep -q verified <<<"$out"
eq "s2 holds it now" "$(sql primary 'SELECT COUNT(*) FROM zhanye_s2.customers')" 1
eq "s1 none" "$(sql primary 'SELECT COUNT(*) FROM zhanye_s1.customers')" 0
r=$("$BIN" call --state "$STATE" --server "$BASE" CUSTOMER_SEARCH --data '{"name":"集群"}' 2>&1)
check "both nodes follow: the customer is found through HAProxy ($r)" grep -q '"name":"集群客户"' <<<"$r"
r=$("$BIN" call --state "$STATE" --server "$BASE" CUSTOMER_SEARCH --data '{"name":"集群"}' 2>&1)
check "twice ($r)" grep -q '"name":"集群客户"' <<<"$r"

# ---- Redis ---------------------------------------------------------------------
eq "Redis primary answers" "$(redis-cli -p $((base + 20)) ping)" PONG
check "Redis replica replicates the primary" grep -q '^role:slave' <<<"$(redis-cli -p $((base + 21)) info replication)"
for i in 0 1 2; do
  eq "Sentinel $((i + 1)) monitors the primary" \
    "$(redis-cli -p $((base + 26 + i)) sentinel get-master-addr-by-name zhanye | paste -sd: -)" \
    "127.0.0.1:$((base + 20))"
done

# ---- idempotent start, down, restart ---------------------------------------------
out=$(cluster start "$(dirname "$BIN")" 2>&1)
check "a second start says it runs already" grep -q 'already running' <<<"$out"
eq "a second start prints the same lines" "$(tail -n 4 <<<"$out")" "$tail4"

pids=$(cut -d' ' -f1 "$DIR"/run/*.pid | tr '\n' ' ')
check "cluster.sh down" cluster down >/dev/null
alive=""
for p in $pids; do
  st=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null) && [ "$st" != Z ] && alive+=" $p"
done
eq "no process left after down" "$alive" ""
eq "nothing answers on BASE after down" "$(code "$BASE/readyz")" 000
check "status after down shows nothing running" bash -c "! '$CLUSTER' status | grep -q ' running '"

out=$(cluster start "$(dirname "$BIN")" 2>&1)
check "start again after down (data kept)" test $? = 0
eq "GET BASE/readyz after the restart" "$(code "$BASE/readyz")" 200
eq "the restarted primary still holds B77" "$(sql primary "SELECT COUNT(*) FROM banks WHERE code = 'B77'")" 1
eq "semi-sync is on again after the restart" "$(status_var primary Rpl_semi_sync_master_status)" ON
r=$("$BIN" call --state "$STATE" --server "$BASE" SESSION_INFO 2>&1)
check "the tablet's session survived the restart" grep -q '"code":"OK"' <<<"$r"
check "cluster.sh down again" cluster down >/dev/null

# The nodes ran the test build: no sanitizer report in their output.
san=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$DIR"/node*/serve.out 2>/dev/null)
eq "no sanitizer report from the nodes" "$san" ""

echo "$fails failed"
((fails == 0))
