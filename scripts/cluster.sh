#!/usr/bin/env bash
# cluster.sh — a whole province on loopback, for development and the
# cluster test: MariaDB (primary, replica, standby; GTID + semi-sync),
# Redis (primary, replica, three Sentinels), two zhanye nodes, HAProxy.
#
#   cluster.sh start [BUILD]   create what is missing, start what is stopped
#                              (BUILD: the build directory, default build)
#   cluster.sh down            stop everything; the data stays
#   cluster.sh status          what runs, each server's role
#
# Environment:
#   CLUSTER_DIR        where everything lives (default ./var-cluster)
#   CLUSTER_PORT_BASE  first port (default 27000); fixed when the cluster is
#                      created (recorded in CLUSTER_DIR/cluster.env)
#   CLUSTER_STANDBY    1 (default): a second MariaDB replica, the standby;
#                      0: primary and one replica only
#
# Ports (base B): HAProxy B, its stats page B+1, zhanye node1 B+2, node2 B+3,
# MariaDB primary B+10, replica B+11, standby B+12, Redis primary B+20,
# replica B+21, Sentinels B+26..B+28. Everything binds 127.0.0.1.
#
# `start` prints as its last lines BASE= (HAProxy), NODE1=, NODE2= and
# DATA1= (node1's data directory, for `zhanye ... --data`). To start over:
# `cluster.sh down && rm -rf var-cluster`. docs/deploy.md describes the
# production layout this mirrors.
set -euo pipefail
umask 077

SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${CLUSTER_DIR:-./var-cluster}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
RUN="$DIR/run" # pid files: NAME.pid holds "PID EXE"
DEMO_PASSWORD=${ZHANYE_DEMO_PASSWORD:-Zhanye@2026}
DB_NAME=zhanye
WAIT_S=${CLUSTER_WAIT_S:-30} # how long one server may take to become ready
# The operator's account for `zhanye db status|failover` (docs/deploy.md).
ADMIN_GRANTS="READ_ONLY ADMIN, CONNECTION ADMIN, PROCESS, RELOAD, REPLICATION SLAVE ADMIN, \
REPLICATION MASTER ADMIN, SLAVE MONITOR"
ME=$(id -un)

say() { printf 'cluster: %s\n' "$*"; }
die() {
  printf 'cluster: %s\n' "$*" >&2
  exit 1
}

# ---- settings fixed at creation ---------------------------------------------

load_env() {
  if [ -f "$DIR/cluster.env" ]; then
    # shellcheck disable=SC1091
    . "$DIR/cluster.env"
    if [ -n "${CLUSTER_PORT_BASE:-}" ] && [ "$CLUSTER_PORT_BASE" != "$BASE_PORT" ]; then
      die "$DIR was created with CLUSTER_PORT_BASE=$BASE_PORT; use that, or run down and rm -rf $DIR"
    fi
  else
    BASE_PORT=${CLUSTER_PORT_BASE:-27000}
    STANDBY=${CLUSTER_STANDBY:-1}
    if ! [[ $BASE_PORT =~ ^[0-9]+$ ]] || ((BASE_PORT < 1024 || BASE_PORT > 65000)); then
      die "CLUSTER_PORT_BASE must be a number in 1024..65000"
    fi
    [[ $STANDBY =~ ^[01]$ ]] || die "CLUSTER_STANDBY must be 0 or 1"
    printf 'BASE_PORT=%s\nSTANDBY=%s\n' "$BASE_PORT" "$STANDBY" >"$DIR/cluster.env"
  fi
  P_HAPROXY=$BASE_PORT
  P_STATS=$((BASE_PORT + 1))
  P_NODE1=$((BASE_PORT + 2))
  P_NODE2=$((BASE_PORT + 3))
  P_DB_PRIMARY=$((BASE_PORT + 10))
  P_DB_REPLICA=$((BASE_PORT + 11))
  P_DB_STANDBY=$((BASE_PORT + 12))
  P_REDIS_PRIMARY=$((BASE_PORT + 20))
  P_REDIS_REPLICA=$((BASE_PORT + 21))
  P_SENTINEL=$((BASE_PORT + 26)) # and +27, +28
  DBS=(primary replica)
  ((STANDBY)) && DBS+=(standby)
  return 0
}

db_port() {
  case $1 in
  primary) echo "$P_DB_PRIMARY" ;;
  replica) echo "$P_DB_REPLICA" ;;
  standby) echo "$P_DB_STANDBY" ;;
  esac
}

db_server_id() {
  case $1 in
  primary) echo 1 ;;
  replica) echo 2 ;;
  standby) echo 3 ;;
  esac
}

# ---- processes ---------------------------------------------------------------

# The pid of NAME if it runs (and is still the program started), else fails.
running_pid() {
  local f="$RUN/$1.pid" pid exe
  [ -f "$f" ] || return 1
  read -r pid exe <"$f" || return 1
  [ -n "$pid" ] && proc_alive "$pid" || return 1
  # A program rebuilt since it started shows as "PATH (deleted)": still it.
  local now
  now=$(readlink "/proc/$pid/exe" 2>/dev/null)
  [ "${now% (deleted)}" = "$exe" ] || return 1
  echo "$pid"
}

# PID exists and is not a zombie (what this script started is reparented to
# init when it exits; a zombie waits there until init reaps it).
proc_alive() { # PID
  local st
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]
}

pid_alive() { # NAME
  local pid _
  [ -f "$RUN/$1.pid" ] && read -r pid _ <"$RUN/$1.pid" && proc_alive "$pid"
}

# Records NAME's PID and the program it runs (PROG: a command or a path), so
# a pid reused by another program is never taken for NAME.
record_pid() { # NAME PID PROG
  local exe
  exe=$(readlink -f "$(command -v "$3")") || die "$3: not found"
  echo "$2 $exe" >"$RUN/$1.pid"
}

# Waits for a pid file a daemon writes itself, then records it.
record_pidfile() { # NAME FILE LOG PROG
  local i pid
  for ((i = 0; i < WAIT_S * 10; i++)); do
    if [ -s "$2" ] && read -r pid <"$2" && proc_alive "$pid"; then
      record_pid "$1" "$pid" "$4"
      return 0
    fi
    sleep 0.1
  done
  fail_log "$1 wrote no pid file $2" "$3"
}

fail_log() { # MESSAGE LOG
  {
    printf 'cluster: %s\n' "$1"
    if [ -f "$2" ]; then
      printf 'cluster: last lines of %s:\n' "$2"
      tail -n 20 "$2" | sed 's/^/    /'
    fi
    printf 'cluster: what did start still runs: scripts/cluster.sh down stops it\n'
  } >&2
  exit 1
}

# Retries CMD... every 0.1 s until it succeeds, for WAIT_S seconds; on
# timeout, or when the process NAME has exited, fails with LOG's tail.
wait_for() { # NAME LOG WHAT CMD...
  local name=$1 log=$2 what=$3 i
  shift 3
  for ((i = 0; i < WAIT_S * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    # (pid_alive: a process just started may not have exec'd its program yet)
    pid_alive "$name" || fail_log "$name exited while waiting for $what" "$log"
    sleep 0.1
  done
  fail_log "$name: no $what after ${WAIT_S}s" "$log"
}

stop_one() { # NAME
  local pid i
  pid=$(running_pid "$1") || {
    rm -f "$RUN/$1.pid"
    return 0
  }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    proc_alive "$pid" || break
    sleep 0.1
  done
  if proc_alive "$pid"; then
    say "$1 (pid $pid) ignored SIGTERM for 30 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$1.pid"
  say "stopped $1 (pid $pid)"
}

random_secret() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

# ---- MariaDB -------------------------------------------------------------------

db_dir() { echo "$DIR/mariadb/$1"; }
db_sock() { echo "$DIR/mariadb/$1/mysqld.sock"; }

# SQL as the server's root account (unix socket, this OS user).
db_root() { # NAME SQL
  mariadb --no-defaults --socket="$(db_sock "$1")" -uroot -N -B -e "$2"
}

db_start() { # NAME
  local name=$1 d port id pid
  d=$(db_dir "$name")
  port=$(db_port "$name")
  id=$(db_server_id "$name")
  running_pid "db-$name" >/dev/null && return 0
  # Each server its own tmpdir: a starting server deletes the temporary
  # tables it finds in its tmpdir, another server's included.
  mkdir -p "$d/tmp"
  if [ ! -d "$d/data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$d/data" --tmpdir="$d/tmp" --user="$ME" \
      --auth-root-authentication-method=socket --auth-root-socket-user="$ME" \
      --skip-test-db --skip-name-resolve >"$d/install.log" 2>&1 ||
      fail_log "mariadb-install-db failed for $name" "$d/install.log"
  fi
  local args=(
    --no-defaults --user="$ME" --datadir="$d/data" --tmpdir="$d/tmp" --socket="$d/mysqld.sock"
    --pid-file="$d/mysqld.pid" --log-error="$d/error.log"
    --bind-address=127.0.0.1 --port="$port" --skip-name-resolve
    --server-id="$id" --log-bin="$d/data/binlog" --relay-log="$d/data/relay"
    --binlog-format=ROW --gtid-strict-mode=1 --log-slave-updates=1
    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin
    # small buffers: this is one machine running three servers
    --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --innodb-log-buffer-size=4M
    --key-buffer-size=1M --aria-pagecache-buffer-size=4M --query-cache-size=0
    --performance-schema=OFF --max-connections=200 --table-open-cache=256
    --innodb-use-native-aio=0
    # semi-sync: every server acknowledges as a replica; the primary waits
    # for one acknowledgement before a commit returns
    --rpl-semi-sync-slave-enabled=ON
  )
  if [ "$name" = primary ]; then
    args+=(--rpl-semi-sync-master-enabled=ON)
  else
    args+=(--read-only=1)
  fi
  # setsid: a Ctrl-C or hang-up of the terminal that started it does not reach it
  setsid mariadbd "${args[@]}" >>"$d/error.log" 2>&1 </dev/null &
  pid=$!
  record_pid "db-$name" "$pid" mariadbd
}

db_ready() { # NAME
  wait_for "db-$1" "$(db_dir "$1")/error.log" "answer on $(db_sock "$1")" \
    mariadb --no-defaults --socket="$(db_sock "$1")" -uroot -e "SELECT 1"
}

# First start only: the accounts (replicated to the replicas from the binlog).
db_setup_primary() {
  local d mark zpw rpw apw
  d=$(db_dir primary)
  mark="$d/setup.done"
  [ -f "$mark" ] && return 0
  zpw=$(cat "$DIR/secrets/db.password")
  rpw=$(cat "$DIR/secrets/repl.password")
  apw=$(cat "$DIR/secrets/admin.password")
  # No replica is connected yet: the account changes must not wait for an
  # acknowledgement (rpl_semi_sync_master_timeout) before going async.
  db_root primary "SET GLOBAL rpl_semi_sync_master_enabled = OFF;
    CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY '$rpw';
    GRANT REPLICATION SLAVE, REPLICATION SLAVE ADMIN ON *.* TO 'repl'@'127.0.0.1';
    CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    CREATE DATABASE IF NOT EXISTS \`${DB_NAME}_s1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    CREATE DATABASE IF NOT EXISTS \`${DB_NAME}_s2\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    CREATE USER IF NOT EXISTS 'zhanye'@'127.0.0.1' IDENTIFIED BY '$zpw';
    GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO 'zhanye'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON \`${DB_NAME}\\_%\`.* TO 'zhanye'@'127.0.0.1';
    CREATE USER IF NOT EXISTS 'zhanye_admin'@'127.0.0.1' IDENTIFIED BY '$apw';
    GRANT $ADMIN_GRANTS ON *.* TO 'zhanye_admin'@'127.0.0.1';
    SET GLOBAL rpl_semi_sync_master_enabled = ON;" ||
    fail_log "creating the accounts on the primary failed" "$d/error.log"
  touch "$mark"
}

# First start only: GTID replication from the primary.
db_setup_replica() { # NAME
  local name=$1 d mark rpw
  d=$(db_dir "$name")
  mark="$d/setup.done"
  [ -f "$mark" ] && return 0
  rpw=$(cat "$DIR/secrets/repl.password")
  db_root "$name" "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $P_DB_PRIMARY,
      MASTER_USER = 'repl', MASTER_PASSWORD = '$rpw', MASTER_USE_GTID = slave_pos,
      MASTER_CONNECT_RETRY = 1;
    START SLAVE;" || fail_log "CHANGE MASTER on $name failed" "$d/error.log"
  touch "$mark"
}

db_replicating() { # NAME: both replication threads run
  local st
  st=$(mariadb --no-defaults --socket="$(db_sock "$1")" -uroot -e 'SHOW SLAVE STATUS\G') || return 1
  grep -q 'Slave_IO_Running: Yes' <<<"$st" && grep -q 'Slave_SQL_Running: Yes' <<<"$st"
}

semi_sync_on() { # the primary waits for acknowledgements from every replica
  local st clients
  st=$(db_root primary "SHOW STATUS LIKE 'Rpl_semi_sync_master_status'") || return 1
  clients=$(db_root primary "SHOW STATUS LIKE 'Rpl_semi_sync_master_clients'") || return 1
  [ "${st##*[[:space:]]}" = ON ] && [ "${clients##*[[:space:]]}" -ge $((${#DBS[@]} - 1)) ]
}

start_mariadb() {
  local n
  mkdir -p "$DIR/secrets"
  [ -s "$DIR/secrets/db.password" ] || random_secret >"$DIR/secrets/db.password"
  [ -s "$DIR/secrets/repl.password" ] || random_secret >"$DIR/secrets/repl.password"
  [ -s "$DIR/secrets/admin.password" ] || random_secret >"$DIR/secrets/admin.password"
  for n in "${DBS[@]}"; do db_start "$n" & done # mariadb-install-db runs in parallel
  wait_all "MariaDB"
  for n in "${DBS[@]}"; do db_ready "$n"; done
  db_setup_primary
  for n in "${DBS[@]:1}"; do
    db_setup_replica "$n"
    wait_for "db-$n" "$(db_dir "$n")/error.log" "replication from the primary" db_replicating "$n"
  done
  wait_for db-primary "$(db_dir primary)/error.log" "semi-sync acknowledgements" semi_sync_on
}

# Waits for the background jobs of this shell; fails if one did.
wait_all() { # WHAT
  local j ok=1
  for j in $(jobs -p); do wait "$j" || ok=0; done
  ((ok)) || die "starting $1 failed"
}

# ---- Redis ---------------------------------------------------------------------

redis_start() { # NAME PORT [PRIMARY_PORT]
  local name=$1 port=$2 d="$DIR/redis/$1"
  running_pid "redis-$name" >/dev/null && return 0
  mkdir -p "$d"
  # Written once: Sentinel rewrites replicaof after a failover.
  if [ ! -f "$d/redis.conf" ]; then
    cat >"$d/redis.conf" <<EOF
# generated by scripts/cluster.sh
bind 127.0.0.1
port $port
daemonize yes
pidfile $d/redis.pid
logfile $d/redis.log
dir $d
appendonly yes
appendfsync everysec
save ""
maxmemory 64mb
maxmemory-policy noeviction
EOF
    [ -n "${3:-}" ] && echo "replicaof 127.0.0.1 $3" >>"$d/redis.conf"
  fi
  rm -f "$d/redis.pid"
  redis-server "$d/redis.conf" </dev/null >/dev/null 2>&1 || fail_log "redis-server $name did not start" "$d/redis.log"
  record_pidfile "redis-$name" "$d/redis.pid" "$d/redis.log" redis-server
}

sentinel_start() { # I (1..3)
  local i=$1 port=$((P_SENTINEL + $1 - 1)) d="$DIR/redis/sentinel$1"
  running_pid "sentinel$i" >/dev/null && return 0
  mkdir -p "$d"
  if [ ! -f "$d/sentinel.conf" ]; then # Sentinel rewrites its own file
    cat >"$d/sentinel.conf" <<EOF
# generated by scripts/cluster.sh
bind 127.0.0.1
port $port
daemonize yes
pidfile $d/sentinel.pid
logfile $d/sentinel.log
dir $d
sentinel monitor zhanye 127.0.0.1 $P_REDIS_PRIMARY 2
sentinel down-after-milliseconds zhanye 5000
sentinel failover-timeout zhanye 60000
sentinel parallel-syncs zhanye 1
EOF
  fi
  rm -f "$d/sentinel.pid"
  redis-sentinel "$d/sentinel.conf" </dev/null >/dev/null 2>&1 || fail_log "redis-sentinel $i did not start" "$d/sentinel.log"
  record_pidfile "sentinel$i" "$d/sentinel.pid" "$d/sentinel.log" redis-sentinel
}

start_redis() {
  redis_start primary "$P_REDIS_PRIMARY"
  redis_start replica "$P_REDIS_REPLICA" "$P_REDIS_PRIMARY"
  for i in 1 2 3; do sentinel_start "$i"; done
  wait_for redis-primary "$DIR/redis/primary/redis.log" "PONG" redis-cli -p "$P_REDIS_PRIMARY" ping
  wait_for redis-replica "$DIR/redis/replica/redis.log" "PONG" redis-cli -p "$P_REDIS_REPLICA" ping
  for i in 1 2 3; do
    wait_for "sentinel$i" "$DIR/redis/sentinel$i/sentinel.log" "the monitored primary" \
      redis-cli -p $((P_SENTINEL + i - 1)) sentinel get-master-addr-by-name zhanye
  done
}

# ---- zhanye --------------------------------------------------------------------

node_dir() { echo "$DIR/node$1"; }
node_port() { if [ "$1" = 1 ]; then echo "$P_NODE1"; else echo "$P_NODE2"; fi; }

write_node_conf() { # N
  local n=$1 d servers="" s
  d=$(node_dir "$n")
  for s in "${DBS[@]}"; do servers+="${servers:+,}127.0.0.1:$(db_port "$s")"; done
  mkdir -p "$d/keys"
  cat >"$d/zhanye.conf" <<EOF
; zhanye.conf of node $n, generated by scripts/cluster.sh (docs/configuration.md)
[server]
listen = 127.0.0.1:$(node_port "$n")
node_id = $n
trusted_proxies = 127.0.0.1

[store]
backend = mariadb
; the primary first: a node connects to the first writable server
servers = $servers
database = $DB_NAME
user = zhanye
password_file = keys/db.password

; bank shards (分库): each demo bank's business data in a database of its own,
; on the same servers (docs/deploy.md; move one with zhanye shard move)
[shard.s1]
database = ${DB_NAME}_s1
banks = B01

[shard.s2]
database = ${DB_NAME}_s2
banks = B02

[redis]
; anti-replay records shared by the nodes; the primary as the Sentinels name it
sentinels = 127.0.0.1:$P_SENTINEL,127.0.0.1:$((P_SENTINEL + 1)),127.0.0.1:$((P_SENTINEL + 2))
master_name = zhanye
EOF
  install -m 0600 "$DIR/secrets/db.password" "$d/keys/db.password"
}

setup_nodes() {
  local d1 d2
  d1=$(node_dir 1)
  d2=$(node_dir 2)
  if [ ! -f "$d1/init.done" ]; then
    write_node_conf 1
    "$BIN" init --data "$d1" --demo-org --demo-password "$DEMO_PASSWORD" >"$d1/init.log" 2>&1 ||
      fail_log "zhanye init on node1 failed" "$d1/init.log"
    touch "$d1/init.done"
  fi
  if [ ! -f "$d2/init.done" ]; then
    write_node_conf 2
    # The same server keys, KEK and audit keys: both nodes serve the same tablets.
    cp -p "$d1"/keys/* "$d2/keys/"
    cp -p "$d1/audit-checkpoints.jsonl" "$d2/"
    touch "$d2/init.done"
  fi
}

node_ready() { # PORT
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/readyz")" = 200 ]
}

node_start() { # N
  local n=$1 d pid
  d=$(node_dir "$n")
  running_pid "node$n" >/dev/null && return 0
  setsid "$BIN" serve --data "$d" --listen "127.0.0.1:$(node_port "$n")" >>"$d/serve.out" 2>&1 </dev/null &
  pid=$!
  record_pid "node$n" "$pid" "$BIN"
}

start_nodes() {
  setup_nodes
  node_start 1
  node_start 2
  wait_for node1 "$(node_dir 1)/serve.out" "200 from /readyz" node_ready "$P_NODE1"
  wait_for node2 "$(node_dir 2)/serve.out" "200 from /readyz" node_ready "$P_NODE2"
}

# ---- HAProxy -------------------------------------------------------------------

start_haproxy() {
  local d="$DIR/haproxy"
  mkdir -p "$d"
  running_pid haproxy >/dev/null || {
    # deploy/haproxy.cfg is the production example; ZHANYE_DEV and the
    # variables below turn it into this loopback cluster's.
    export ZHANYE_DEV=1 ZHANYE_BIND="127.0.0.1:$P_HAPROXY" ZHANYE_STATS_BIND="127.0.0.1:$P_STATS"
    export ZHANYE_NODE1="127.0.0.1:$P_NODE1" ZHANYE_NODE2="127.0.0.1:$P_NODE2"
    cp "$SRC/deploy/haproxy.cfg" "$d/haproxy.cfg"
    haproxy -c -q -f "$d/haproxy.cfg" >"$d/haproxy.log" 2>&1 || fail_log "deploy/haproxy.cfg does not check" "$d/haproxy.log"
    rm -f "$d/haproxy.pid"
    haproxy -D -p "$d/haproxy.pid" -f "$d/haproxy.cfg" </dev/null >>"$d/haproxy.log" 2>&1 ||
      fail_log "haproxy did not start" "$d/haproxy.log"
    record_pidfile haproxy "$d/haproxy.pid" "$d/haproxy.log" haproxy
  }
  wait_for haproxy "$d/haproxy.log" "200 from /readyz through it" node_ready "$P_HAPROXY"
}

# ---- commands ------------------------------------------------------------------

print_lines() {
  echo "BASE=http://127.0.0.1:$P_HAPROXY"
  echo "NODE1=http://127.0.0.1:$P_NODE1"
  echo "NODE2=http://127.0.0.1:$P_NODE2"
  echo "DATA1=$(node_dir 1)"
}

ALL_NAMES=() # in start order
names() {
  local n
  ALL_NAMES=()
  for n in "${DBS[@]}"; do ALL_NAMES+=("db-$n"); done
  ALL_NAMES+=(redis-primary redis-replica sentinel1 sentinel2 sentinel3 node1 node2 haproxy)
}

cmd_start() {
  local build=${1:-build} t0=$SECONDS n all=1
  BIN=$(cd "$build" 2>/dev/null && pwd)/zhanye
  [ -x "$BIN" ] || die "$build/zhanye is not built (make build)"
  for n in mariadb-install-db mariadbd mariadb redis-server redis-sentinel redis-cli haproxy curl; do
    command -v "$n" >/dev/null || die "$n is missing (scripts/deps.sh installs it)"
  done
  [ -f "$DIR/cluster.env" ] || say "creating a cluster in $DIR"
  load_env
  mkdir -p "$RUN"
  names
  for n in "${ALL_NAMES[@]}"; do running_pid "$n" >/dev/null || all=0; done
  if ((all)); then
    say "already running in $DIR (scripts/cluster.sh status shows it)"
  else
    start_mariadb
    start_redis
    start_nodes
    start_haproxy
    say "started in $((SECONDS - t0)) s; Redis runs for the layout only (zhanye does not use it yet)"
  fi
  print_lines
}

cmd_down() {
  local i n
  [ -f "$DIR/cluster.env" ] || {
    say "no cluster in $DIR"
    return 0
  }
  load_env
  names
  # In reverse start order: HAProxy first, the MariaDB primary last.
  for ((i = ${#ALL_NAMES[@]} - 1; i >= 0; i--)); do
    n=${ALL_NAMES[$i]}
    case $n in
    node* | db-*) stop_one "$n" & ;; # SIGTERM drains; both nodes together
    *) stop_one "$n" ;;
    esac
    # the nodes must be gone before the databases go
    [ "$n" = node1 ] && wait
    [ "$n" = db-replica ] && wait
  done
  wait
  say "down; the data stays in $DIR (rm -rf it to start over)"
}

show() { printf '  %-14s %-7s %-6s %s\n' "$@"; }

cmd_status() {
  local n pid port extra
  [ -f "$DIR/cluster.env" ] || {
    say "no cluster in $DIR"
    return 1
  }
  load_env
  names
  say "$DIR"
  show NAME PORT PID STATE
  for n in "${ALL_NAMES[@]}"; do
    extra=""
    case $n in
    db-*)
      port=$(db_port "${n#db-}")
      if pid=$(running_pid "$n"); then
        extra="read_only=$(db_root "${n#db-}" 'SELECT @@read_only' 2>/dev/null || echo '?')"
        if [ "$n" = db-primary ]; then
          extra+=" semi-sync $(db_root primary "SHOW STATUS LIKE 'Rpl_semi_sync_master_status'" 2>/dev/null | awk '{print $2}')"
          extra+=", $(db_root primary "SHOW STATUS LIKE 'Rpl_semi_sync_master_clients'" 2>/dev/null | awk '{print $2}') replicas acknowledging"
        else
          extra+=" $(db_replicating "${n#db-}" && echo replicating || echo NOT replicating)"
        fi
      fi
      ;;
    redis-*)
      [ "$n" = redis-primary ] && port=$P_REDIS_PRIMARY || port=$P_REDIS_REPLICA
      pid=$(running_pid "$n") &&
        extra="$(redis-cli -p "$port" info replication 2>/dev/null | tr -d '\r' | grep '^role:')"
      ;;
    sentinel*)
      port=$((P_SENTINEL + ${n#sentinel} - 1))
      pid=$(running_pid "$n") &&
        extra="primary at $(redis-cli -p "$port" sentinel get-master-addr-by-name zhanye 2>/dev/null | paste -sd: -)"
      ;;
    node*)
      port=$(node_port "${n#node}")
      pid=$(running_pid "$n") && extra="readyz $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz")"
      ;;
    haproxy)
      port=$P_HAPROXY
      pid=$(running_pid "$n") && extra="stats http://127.0.0.1:$P_STATS/"
      ;;
    esac
    if pid=$(running_pid "$n"); then
      show "$n" "$port" "$pid" "running $extra"
    else
      show "$n" "$port" - stopped
    fi
  done
  say "Redis (a primary, a replica, three Sentinels) holds the nodes' shared anti-replay records ([redis] sentinels)"
}

case ${1:-} in
start) cmd_start "${2:-build}" ;;
down | stop) cmd_down ;;
status) cmd_status ;;
*)
  echo "usage: scripts/cluster.sh start [BUILD] | down | status" >&2
  exit 2
  ;;
esac
