#!/usr/bin/env bash
# test_node_kill.sh DIR — a node killed (-9) under a stream of tablet writes
# through HAProxy: HAProxy routes around it, the stream is answered OK again
# by the other node, every write that was acknowledged is in the database
# (none lost with the node), nothing but a clean refusal or a lost
# connection is ever answered; the node, started again, takes traffic again.
# Needs ZHANYE_BIN and ZHANYE_SRC (tests/meson.build). Exit 77: skipped.
set -uo pipefail
DIR=$1
# shellcheck source=cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

STREAM_PID=""
on_exit() {
  local rc=$?
  [ -n "$STREAM_PID" ] && kill "$STREAM_PID" 2>/dev/null
  if ((fails)) || ((rc)); then
    cluster status 2>&1
    for f in "$DIR"/node*/serve.out "$DIR"/haproxy/*.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f" | cut -c1-400; }
    done
  fi
  cluster down >/dev/null 2>&1
}
trap on_exit EXIT

cluster_up
tablet_login

# Each call with a cseq is a write whose answer is stored in the transaction
# that records its nonce: an answer OK is an acknowledged write.
STREAM="$DIR/stream.log"
stream() {
  local i=0
  while [ ! -f "$DIR/stream.stop" ]; do
    i=$((i + 1))
    echo "k-$i $(call "$BASE" "k-$i")" >>"$STREAM"
  done
}
lines() { wc -l <"$STREAM"; }
wait_lines() { # N: until the stream has N lines (at most 60 s)
  for _ in $(seq 600); do (($(lines) >= $1)) && return 0; sleep 0.1; done
  return 1
}
: >"$STREAM"
rm -f "$DIR/stream.stop"
stream &
STREAM_PID=$!
check "the stream writes (20 answers)" wait_lines 20
kill -KILL "$(pid_of node1)"
killed_at=$(lines)
ok "node1 killed at answer $killed_at ($(elapsed))"
# HAProxy takes node1 out after 3 failed checks; a connection refused
# meanwhile is retried on node2 (retries 2, option redispatch).
check "the stream goes on (40 more answers)" wait_lines $((killed_at + 40))
touch "$DIR/stream.stop"
wait "$STREAM_PID"
STREAM_PID=""

after=$(awk -v k="$killed_at" 'NR > k {print $2}' "$STREAM")
n_ok_after=$(grep -cx OK <<<"$after")
check "after the kill, writes are answered OK by node2 ($n_ok_after of $(wc -l <<<"$after"))" \
  test "$n_ok_after" -ge 30
eq "the last 10 answers are OK" "$(tail -n 10 "$STREAM" | awk '{print $2}' | sort -u)" OK
odd=$(awk '{print $2}' "$STREAM" | grep -vxE 'OK|unavailable|none' | sort -u | paste -sd, -)
eq "no answer but OK, unavailable or a lost connection" "$odd" ""

# Every acknowledged write is on the primary (and so on its replicas).
acked=$(awk '$2 == "OK" {print $1}' "$STREAM" | sort)
stored=$(sql primary "$(answers_sql k)" | sort)
missing=$(comm -23 <(echo "$acked") <(echo "$stored") | paste -sd, -)
eq "every acknowledged write is in the database ($(wc -l <<<"$acked") acknowledged)" "$missing" ""

# node1 comes back: cluster.sh start restarts what died; HAProxy checks it
# UP again and sends it requests (the node id is in each answer's srvseq).
cluster start "$(dirname "$BIN")" >/dev/null 2>&1
up() {
  curl -s "http://127.0.0.1:$((base + 1))/;csv" |
    awk -F, '$1 == "zhanye_nodes" && $2 == "node1" && $18 ~ /^UP/ {f = 1} END {exit !f}'
}
for _ in $(seq 300); do up && break; sleep 0.1; done
check "HAProxy has node1 UP again" up
sleep 11 # past its slow start
nodes=""
for _ in $(seq 8); do
  r=$("$BIN" call --state "$STATE" --server "$BASE" SESSION_INFO 2>&1)
  nodes+=" $(sed -n 's/.*"srvseq":"[0-9]\{8\}\([0-9][0-9]\).*/\1/p' <<<"$r")"
done
check "node1 answers again through HAProxy (node ids:$nodes)" grep -qw 01 <<<"$nodes"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed ($(elapsed))"
exit $((fails > 0))
