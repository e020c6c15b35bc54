#!/usr/bin/env bash
# test_redis_failover.sh DIR — the Redis primary killed (-9) under a running
# cluster: the Sentinels promote the replica, the nodes follow it by
# themselves (no restart), transactions through HAProxy and on each node are
# answered OK again, and meanwhile nothing but OK or `unavailable` was
# answered (the shared anti-replay records are never skipped).
# Needs ZHANYE_BIN and ZHANYE_SRC (tests/meson.build). Exit 77: skipped.
set -uo pipefail
DIR=$1
# shellcheck source=cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

on_exit() {
  local rc=$?
  if ((fails)) || ((rc)); then
    cluster status 2>&1
    for f in "$DIR"/node*/serve.out "$DIR"/node1/zhanye.log "$DIR"/redis/*/*.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 12 "$f" | cut -c1-300; }
    done
  fi
  cluster down >/dev/null 2>&1
}
trap on_exit EXIT

cluster_up
tablet_login
eq "a transaction through HAProxy before" "$(call "$BASE")" OK
sentinel_master() {
  redis-cli -p $((base + 26)) sentinel get-master-addr-by-name zhanye 2>/dev/null | tail -n 1
}
eq "the Sentinels name the primary" "$(sentinel_master)" $((base + 20))
n1=$(pid_of node1)
n2=$(pid_of node2)

kill -KILL "$(pid_of redis-primary)"
ok "Redis primary killed ($(elapsed))"
seen="" code=""
for _ in $(seq 120); do
  code=$(call "$BASE")
  seen+=" $code"
  [ "$code" = OK ] && break
  sleep 0.5
done
eq "transactions through HAProxy are answered OK again" "$code" OK
odd=$(tr ' ' '\n' <<<"$seen" | grep -vxE 'OK|unavailable|none|' | sort -u | paste -sd, -)
eq "meanwhile only OK, unavailable or no answer (HAProxy had no ready node)" "$odd" ""
# Sentinels learn of the promotion one after another: wait for the one asked.
for _ in $(seq 100); do [ "$(sentinel_master)" = $((base + 21)) ] && break; sleep 0.1; done
eq "the Sentinels promoted the replica" "$(sentinel_master)" $((base + 21))
for node in "$NODE1" "$NODE2"; do
  code=""
  for _ in $(seq 20); do
    code=$(call "$node")
    [ "$code" = OK ] && break
    sleep 0.5
  done
  eq "a transaction on $node is answered OK" "$code" OK
done
eq "the nodes were not restarted" "$(pid_of node1) $(pid_of node2)" "$n1 $n2"
ok "followed the Sentinel failover ($(elapsed); answers:$seen)"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed ($(elapsed))"
exit $((fails > 0))
