#!/usr/bin/env bash
# test_failover.sh DIR — `zhanye db status|failover` on a real cluster
# (scripts/cluster.sh in DIR, wiped first, on free loopback ports): a stream
# of acknowledged tablet writes through HAProxy, the primary killed under
# it, writes answered `unavailable` and reads served meanwhile, failovers
# refused where the target lacks transactions (naming what), the failover
# to the standby, both nodes writing again without a restart, every
# acknowledged write on the new primary; then a switchover (the live
# primary fenced) under another stream of writes.
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
    echo "--- status"
    cluster status 2>&1
    for f in "$DIR"/node*/serve.out "$DIR"/node1/zhanye.log "$DIR"/mariadb/*/error.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f" | cut -c1-400; }
    done
  fi
  cluster down >/dev/null 2>&1
}
trap on_exit EXIT

cluster_up
PRIMARY=127.0.0.1:$((base + 10))
REPLICA=127.0.0.1:$((base + 11))
STANDBY=127.0.0.1:$((base + 12))

ADMIN=(--admin-user zhanye_admin --admin-password-file "$DIR/secrets/admin.password")
REPL=(--repl-password-file "$DIR/secrets/repl.password")
db() { "$BIN" db "$1" --data "$DATA1" "${@:2}" 2>&1; }

slave_field() { # SERVER FIELD
  mariadb --no-defaults --socket="$DIR/mariadb/$1/mysqld.sock" -uroot -e 'SHOW SLAVE STATUS\G' |
    sed -n "s/^ *$2: //p"
}
cseqs() { # SERVER PREFIX: the stored answers' cseqs, sorted
  sql "$1" "$(answers_sql "$2")" | sort
}


# ---- before: status, and the nodes' account is not enough ------------------------
r=$(db status)
eq "db status exits 0 with one primary" "$?" 0
has "db status names the primary" "$r" "^primary: $PRIMARY\$"
has "db status shows the standby read-only and its GTID positions" "$r" \
  "$STANDBY +read-only +read_only=1 gtid_current_pos=0-1-[0-9]+ gtid_slave_pos=0-1-[0-9]+"
r=$(db failover --to "$STANDBY" "${REPL[@]}")
rc=$?
eq "failover with the nodes' account is refused (exit 1)" "$rc" 1
has "... saying the account lacks the privileges" "$r" "privileges"
eq "... and the standby is still read-only" "$(sql standby 'SELECT @@read_only')" 1

# ---- a tablet through HAProxy ----------------------------------------------------
tablet_login

# The replica stops replicating: it lacks every write from here on.
sql replica "STOP SLAVE"
eq "the replica's replication is stopped" "$(slave_field replica Slave_SQL_Running)" No

# ---- a stream of writes; the primary killed under it ----------------------------------
# Each call with a cseq is a write whose answer is stored in the same
# transaction as the anti-replay record; an answer OK is an acknowledged write.
STREAM="$DIR/stream.log"
stream() { # PREFIX
  local i=0
  while [ ! -f "$DIR/stream.stop" ]; do
    i=$((i + 1))
    echo "$1-$i $(call "$BASE" "$1-$i")" >>"$STREAM"
  done
}
acked() { awk -v p="^$1-" '$1 ~ p && $2 == "OK" {print $1}' "$STREAM" | sort; }
lines() { wc -l <"$STREAM"; }
wait_lines() { # N: until the stream has N lines (at most 30 s)
  for _ in $(seq 300); do (($(lines) >= $1)) && return 0; sleep 0.1; done
  return 1
}

: >"$STREAM"
rm -f "$DIR/stream.stop"
stream w &
STREAM_PID=$!
check "the stream writes (20 answers)" wait_lines 20
node1_pid=$(pid_of node1)
node2_pid=$(pid_of node2)
kill -KILL "$(pid_of db-primary)"
killed_at=$(lines)
check "the stream goes on after the kill (4 more answers)" wait_lines $((killed_at + 4))
touch "$DIR/stream.stop"
wait "$STREAM_PID"
STREAM_PID=""
n_acked=$(acked w | wc -l)
check "the stream had acknowledged writes before the kill ($n_acked of $(lines))" test "$n_acked" -ge 20
after_kill=$(tail -n 3 "$STREAM" | awk '{print $2}' | sort -u | paste -sd, -)
eq "the stream's last writes are answered unavailable" "$after_kill" unavailable
ok "primary killed under the stream ($(elapsed))"

# ---- without a primary: writes fail cleanly, reads go on --------------------------
codes=""
for i in 1 2 3 4; do codes+=" $(call "$BASE" "x-$i")"; done
codes+=" $(call "$NODE1" x-5) $(call "$NODE2" x-6)"
eq "writes through HAProxy and each node are answered unavailable" "$codes" \
  " unavailable unavailable unavailable unavailable unavailable unavailable"
clean() { # CODES...: each a sealed ZY1 answer the tablet retries, or OK
  local c
  for c in "$@"; do case $c in OK | unavailable) ;; *) return 1 ;; esac; done
}
# A read (no cseq) is served from a replica. The first use of a pooled
# session still open to the dead server fails (a read then answers
# `unavailable`, sealed: store_last_error says the store was out of reach) and opens the session again: a read
# is OK within a few tries.
for server in "$NODE1" "$NODE2" "$BASE"; do
  seen="" code=""
  for _ in $(seq 10); do
    code=$(call "$server")
    seen+=" $code"
    [ "$code" = OK ] && break
  done
  eq "a read on $server answers OK (answers:$seen)" "$code" OK
  # shellcheck disable=SC2086
  check "... every answer before was a clean refusal" clean $seen
done
# Each pooled session still open to the dead server fails its first use
# once (the pool lends them in turn), then reads keep answering OK.
steady() { # SERVER: 3 OK in a row within 20 reads
  local n=0
  for _ in $(seq 20); do
    if [ "$(call "$1")" = OK ]; then
      n=$((n + 1))
      ((n >= 3)) && return 0
    else
      n=0
    fi
  done
  return 1
}
check "reads on node1 keep answering OK" steady "$NODE1"
check "reads on node2 keep answering OK" steady "$NODE2"
r=$("$BIN" bank add --data "$DATA1" --code BX1 --name 无主库 2>&1)
eq "the CLI's write fails with exit 1" "$?" 1
has "... saying why" "$r" "^zhanye bank: .*read-only"
eq "the nodes did not crash" "$(pid_of node1) $(pid_of node2)" "$node1_pid $node2_pid"
check "node1 still runs" kill -0 "$node1_pid"
check "node2 still runs" kill -0 "$node2_pid"
eq "no refused write landed on the standby" "$(cseqs standby x | wc -l)" 0
eq "no refused write landed on the replica" "$(cseqs replica x | wc -l)" 0
r=$(db status "${ADMIN[@]}")
eq "db status exits 1 without a primary" "$?" 1
has "... naming the dead primary DOWN" "$r" "$PRIMARY +DOWN"
has "... and saying there is no primary" "$r" "no server takes writes"

# ---- refusals -------------------------------------------------------------------------
r=$(db failover --to "$REPLICA" "${ADMIN[@]}" "${REPL[@]}")
eq "failover to the replica that lacks writes is refused (exit 1)" "$?" 1
has "... naming it, the standby and the GTIDs it lacks" "$r" \
  "refused: $REPLICA lacks transactions that $STANDBY holds \(0-1-[0-9]+\): domain 0: has 0-1-[0-9]+, lacks up to 0-1-[0-9]+"
has "... saying nothing changed and which server to fail over to" "$r" \
  "Nothing was changed. $STANDBY holds every transaction"
eq "... and the replica is still read-only" "$(sql replica 'SELECT @@read_only')" 1
eq "... and so is the standby" "$(sql standby 'SELECT @@read_only')" 1
r=$(db failover --to "$PRIMARY" "${ADMIN[@]}" "${REPL[@]}")
eq "failover to the dead primary is refused (exit 1)" "$?" 1
has "... it does not answer" "$r" "refused: $PRIMARY does not answer"
r=$(db failover --to 127.0.0.1:$((base + 13)) "${ADMIN[@]}" "${REPL[@]}")
eq "failover to a server not in [store] servers is refused (exit 1)" "$?" 1
has "... listing the configured servers" "$r" "is not one of the configured servers \($PRIMARY, $REPLICA, $STANDBY\)"
r=$(db failover --to standby "${ADMIN[@]}" "${REPL[@]}")
eq "a target that is not HOST:PORT is a usage error (exit 2)" "$?" 2
r=$(db failover --to "$STANDBY" "${ADMIN[@]}")
eq "failover without the replication password is a usage error (exit 2)" "$?" 2

# ---- the failover ----------------------------------------------------------------------
t=$SECONDS
r=$(db failover --to "$STANDBY" "${ADMIN[@]}" "${REPL[@]}")
rc=$?
printf '  | %s\n' "${r//$'\n'/$'\n'  | }"
eq "failover to the standby exits 0 ($((SECONDS - t)) s)" "$rc" 0
has "... it skipped the dead primary" "$r" "skip $PRIMARY: does not answer"
has "... checked the standby holds what the replica holds" "$r" "check: $STANDBY holds everything $REPLICA holds"
has "... repointed the replica" "$r" "repoint $REPLICA: replicating from $STANDBY"
has "... and reports the new primary" "$r" "done: $STANDBY is the primary"
eq "the standby is writable" "$(sql standby 'SELECT @@read_only')" 0
eq "the standby replicates from nobody" "$(slave_field standby Master_Host)" ""
eq "semi-sync master is on on the standby" \
  "$(sql standby "SHOW STATUS LIKE 'Rpl_semi_sync_master_status'" | awk '{print $2}')" ON
eq "the replica is read-only" "$(sql replica 'SELECT @@read_only')" 1
eq "the replica replicates from the standby" "$(slave_field replica Master_Port)" $((base + 12))
eq "... both threads running" "$(slave_field replica Slave_IO_Running)/$(slave_field replica Slave_SQL_Running)" Yes/Yes
r=$(db status "${ADMIN[@]}")
eq "db status exits 0 again" "$?" 0
has "db status names the standby the primary" "$r" "^primary: $STANDBY\$"

# ---- writes again, through both nodes, without a restart -----------------------------
codes=""
for i in 1 2 3; do codes+=" $(call "$NODE1" "y-$i")"; done
for i in 4 5 6; do codes+=" $(call "$NODE2" "y-$i")"; done
for i in 7 8; do codes+=" $(call "$BASE" "y-$i")"; done
eq "writes through node1, node2 and HAProxy succeed" "$codes" " OK OK OK OK OK OK OK OK"
eq "the nodes were not restarted" "$(pid_of node1) $(pid_of node2)" "$node1_pid $node2_pid"
r=$("$BIN" bank add --data "$DATA1" --code BX2 --name 新主库 2>&1)
eq "the CLI writes again (exit 0)" "$?" 0
eq "... on the standby" "$(sql standby "SELECT COUNT(*) FROM banks WHERE code = 'BX2'")" 1

# ---- every acknowledged write is on the new primary --------------------------------------
want=$(acked w)
got=$(cseqs standby w)
missing=$(comm -23 <(echo "$want") <(echo "$got") | paste -sd' ' -)
eq "every acknowledged write of the stream is on the new primary ($n_acked acknowledged, $(wc -l <<<"$got") stored)" "$missing" ""
eq "the 8 writes after the failover are on it" "$(cseqs standby y | wc -l)" 8
eq "no refused write is on it" "$(cseqs standby x | wc -l)" 0
gtid=$(sql standby 'SELECT @@gtid_binlog_pos')
eq "the replica catches up from the new primary" "$(sql replica "SELECT MASTER_GTID_WAIT('$gtid', 20)")" 0
eq "... and holds every acknowledged write" "$(comm -23 <(echo "$want") <(cseqs replica w) | wc -l)" 0
ok "failover checked ($(elapsed))"

# ---- a switchover: the live primary (the standby) fenced under a stream -----------------------
: >"$STREAM"
rm -f "$DIR/stream.stop"
stream s &
STREAM_PID=$!
check "a second stream writes (4 answers)" wait_lines 4
t=$SECONDS
r=$(db failover --to "$REPLICA" "${ADMIN[@]}" "${REPL[@]}")
rc=$?
n=$(lines)
check "the stream goes on after the switchover (4 more answers)" wait_lines $((n + 4))
# A write in flight while no server was writable yet is answered
# `unavailable` (nothing committed; the tablet seals it again): the stream
# must come back to OK, 3 in a row, within 30 s.
recovered() {
  for _ in $(seq 300); do
    [ "$(tail -n 3 "$STREAM" | awk '{print $2}' | sort -u | paste -sd, -)" = OK ] && return 0
    sleep 0.1
  done
  return 1
}
check "the stream's writes are OK again after the switchover" recovered
touch "$DIR/stream.stop"
wait "$STREAM_PID"
STREAM_PID=""
printf '  | %s\n' "${r//$'\n'/$'\n'  | }"
eq "switchover to the replica exits 0 ($((SECONDS - t)) s)" "$rc" 0
has "... it fenced the standby" "$r" "fence $STANDBY: it is writable: SET GLOBAL read_only = 1"
has "... killed the nodes' sessions there" "$r" "fence $STANDBY: killed [0-9]+ sessions? of account zhanye"
has "... and repointed it" "$r" "repoint $STANDBY: replicating from $REPLICA"
eq "the replica is writable" "$(sql replica 'SELECT @@read_only')" 0
eq "the standby is read-only" "$(sql standby 'SELECT @@read_only')" 1
eq "the standby replicates from the replica" "$(slave_field standby Master_Port)" $((base + 11))
want=$(acked s)
eq "every acknowledged write of the second stream is on the new primary ($(wc -l <<<"$want") acknowledged)" \
  "$(comm -23 <(echo "$want") <(cseqs replica s) | paste -sd' ' -)" ""
gtid=$(sql replica 'SELECT @@gtid_binlog_pos')
eq "the old primary catches up from the new one" "$(sql standby "SELECT MASTER_GTID_WAIT('$gtid', 20)")" 0
eq "... both threads running" "$(slave_field standby Slave_IO_Running)/$(slave_field standby Slave_SQL_Running)" Yes/Yes
eq "... and holds the same stored answers" "$(cseqs standby s | wc -l)" "$(cseqs replica s | wc -l)"
# The first write on each of a node's bank-shard connections after the
# switchover may be answered `unavailable` (nothing committed; the tablet
# seals it again): one retry.
call_again() { # SERVER CSEQ
  local code
  code=$(call "$1" "$2")
  [ "$code" = unavailable ] && code=$(call "$1" "$2")
  echo "$code"
}
codes="$(call_again "$NODE1" z-1) $(call_again "$NODE2" z-2)"
eq "both nodes write on the new primary" "$codes" "OK OK"

# Run again, the command changes nothing but checks and repoints: idempotent.
r=$(db failover --to "$REPLICA" "${ADMIN[@]}" "${REPL[@]}")
eq "failover to the current primary again exits 0" "$?" 0
has "... finding it writable already" "$r" "target $REPLICA answers \(writable already\)"
check "... fencing nothing" bash -c "! grep -q 'fence ' <<<\"\$1\"" _ "$r"
eq "... and it stays the primary" "$(sql replica 'SELECT @@read_only')/$(sql standby 'SELECT @@read_only')" 0/1
eq "... the standby still replicating from it" "$(slave_field standby Master_Port)/$(slave_field standby Slave_IO_Running)" "$((base + 11))/Yes"
eq "both nodes still write" "$(call_again "$NODE1" z-3) $(call_again "$NODE2" z-4)" "OK OK"
eq "the nodes were never restarted" "$(pid_of node1) $(pid_of node2)" "$node1_pid $node2_pid"

san=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$DIR"/node*/serve.out 2>/dev/null)
eq "no sanitizer report from the nodes" "$san" ""
ok "done in $(elapsed)"

echo "$fails failed"
((fails == 0))
