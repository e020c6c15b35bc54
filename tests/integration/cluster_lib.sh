# cluster_lib.sh — what the cluster tests (suite cluster) share; sourced.
# Needs DIR, ZHANYE_BIN and ZHANYE_SRC. Defines: ok/bad/check/eq/has (TAP-like
# lines, counting failures in $fails), elapsed, pick_base, cluster (scripts/
# cluster.sh on $DIR), cluster_up (a fresh cluster: BASE NODE1 NODE2 DATA1),
# sql SERVER SQL (as root over the server's socket), pid_of NAME, and the
# tablet: tablet_login, call SERVER [CSEQ] (prints the answer's code).
SRC=${ZHANYE_SRC:?}
BIN=${ZHANYE_BIN:?}
CLUSTER="$SRC/scripts/cluster.sh"
PW=Zhanye@2026
fails=0
T0=$SECONDS

for p in mariadbd mariadb-install-db mariadb redis-server redis-sentinel redis-cli haproxy curl; do
  command -v "$p" >/dev/null || {
    echo "SKIP: $p is not installed"
    exit 77
  }
done

ok() { echo "ok   - $*"; }
bad() {
  echo "FAIL - $*"
  fails=$((fails + 1))
}
check() { # DESCRIPTION CMD...
  local d=$1
  shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
eq() { # DESCRIPTION GOT WANT
  if [ "$2" = "$3" ]; then ok "$1 ($2)"; else bad "$1: got '$2', want '$3'"; fi
}
has() { # DESCRIPTION TEXT PATTERN (grep -E)
  if grep -qE -- "$3" <<<"$2"; then ok "$1"; else bad "$1: no /$3/ in:
$2"; fi
}
elapsed() { echo "$((SECONDS - T0)) s"; }

# A port base with the 30 ports above it free, below the ephemeral range.
pick_base() {
  local b p used
  used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for _ in $(seq 50); do
    b=$((20000 + (RANDOM % 120) * 100))
    for p in $(seq "$b" $((b + 29))); do
      grep -qx "$p" <<<"$used" && continue 2
    done
    echo "$b"
    return 0
  done
  return 1
}

export CLUSTER_DIR=$DIR
cluster() { "$CLUSTER" "$@"; }

# A fresh cluster in DIR on a free port base: sets base BASE NODE1 NODE2 DATA1.
cluster_up() {
  local out
  [ -f "$DIR/cluster.env" ] && cluster down >/dev/null 2>&1
  rm -rf "$DIR"
  base=$(pick_base) || {
    echo "no free port range"
    exit 1
  }
  export CLUSTER_PORT_BASE=$base
  out=$(cluster start "$(dirname "$BIN")" 2>&1) || {
    printf '  | %s\n' "${out//$'\n'/$'\n'  | }"
    bad "cluster.sh start"
    exit 1
  }
  BASE=$(sed -n 's/^BASE=//p' <<<"$out")
  NODE1=$(sed -n 's/^NODE1=//p' <<<"$out")
  NODE2=$(sed -n 's/^NODE2=//p' <<<"$out")
  DATA1=$(sed -n 's/^DATA1=//p' <<<"$out")
  ok "cluster started ($(elapsed))"
}

sql() { # SERVER SQL: as root over the server's socket
  mariadb --no-defaults --socket="$DIR/mariadb/$1/mysqld.sock" -uroot -N -B -e "$2" zhanye
}
# The stored answers' cseqs LIKE 'PREFIX-%' in every database of the
# cluster (the directory and the bank shards, scripts/cluster.sh).
answers_sql() { # PREFIX
  local q="" db
  for db in zhanye zhanye_s1 zhanye_s2; do
    q+="${q:+ UNION ALL }SELECT cseq FROM $db.tx_answers WHERE cseq LIKE '$1-%'"
  done
  echo "$q"
}
pid_of() { cut -d' ' -f1 "$DIR/run/$1.pid"; }

STATE="$DIR/tablet.json"
# demo01's tablet, activated and logged in through HAProxy.
tablet_login() {
  local act r
  act=$("$BIN" activation issue --data "$DATA1" --teller demo01 2>/dev/null | tail -n 1)
  r=$("$BIN" call --state "$STATE" --server "$BASE" --activate "$act" --teller demo01 2>&1)
  has "tablet activated through HAProxy" "$r" '"code":"OK"'
  r=$("$BIN" call --state "$STATE" --server "$BASE" LOGIN \
    --data "{\"teller\":\"demo01\",\"password\":\"$PW\"}" 2>&1)
  has "tablet logged in through HAProxy" "$r" '"code":"OK"'
}
# One tablet transaction: prints its answer code (or "none"). Without a
# CSEQ a read (SESSION_INFO); with one a write, whose answer is stored in the
# transaction that records its nonce: DEVICE_CHECKIN (a read-only TX's
# answer is stored later, by the journal).
CHECKIN='{"os":"Android 13","app_version":"1.0.0","security":{"rooted":false}}'
call() { # SERVER [CSEQ]
  local r
  if [ -n "${2:-}" ]; then
    r=$("$BIN" call --state "$STATE" --server "$1" DEVICE_CHECKIN --cseq "$2" --data "$CHECKIN" 2>&1)
  else
    r=$("$BIN" call --state "$STATE" --server "$1" SESSION_INFO 2>&1)
  fi
  r=$(grep -o '"code":"[^"]*"' <<<"$r" | head -n 1 | cut -d'"' -f4 || true)
  echo "${r:-none}"
}
