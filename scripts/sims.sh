#!/usr/bin/env bash
# sims.sh — the simulators of the bank's other systems, for `make run`.
#
#   sims.sh start BUILD DATA [WATCH_PID]   start all nine (stopping old ones first)
#   sims.sh stop DATA                      stop them
#   sims.sh status DATA                    show each one's admin stats
#
# Ports (loopback; SIM_PORT_BASE moves them, default 19100):
#   core 19100  idcheck 19101  face 19102  card 19103  social 19104  loan 19105
#   grid 19106  cis 19107  paperless 19108 (FTP)
#   admin port = service port + 100 (core admin 19200, ...)
#   core's journal files (对账文件, `zhanye reconcile`): FTP on 19150, served by
#   the core simulator itself (--ftp), system core_files, the paperless login
# State, logs and pid files live in DATA/sims/. On start, DATA/zhanye.conf
# gets an [egress.NAME] section for each simulator it has none for (one
# pointing elsewhere is left alone); the paperless platform's FTP login is
# user zhanye with the password in DATA/sims/paperless.password (0600, the
# simulator's fixed demo password, sims/sim.h). With WATCH_PID the simulators exit when
# that process does (run.sh passes its own pid, which `exec zhanye serve` keeps).
set -euo pipefail
MODES=(core idcheck face card social loan grid cis paperless)
base=${SIM_PORT_BASE:-19100}

port_of() { # MODE -> service port
  local i
  for i in "${!MODES[@]}"; do
    [ "${MODES[$i]}" = "$1" ] && { echo $((base + i)); return; }
  done
}

stop_all() {
  local dir=$1/sims m pid
  for m in "${MODES[@]}"; do
    [ -f "$dir/$m.pid" ] || continue
    pid=$(cat "$dir/$m.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/$m.pid"
  done
}

write_conf() {
  local conf=$1/zhanye.conf m scheme missing=()
  [ -f "$conf" ] || return 0
  for m in "${MODES[@]}"; do
    grep -q "^\[egress\.$m\]" "$conf" || missing+=("$m")
  done
  if ! grep -q '^\[egress\.core_files\]' "$conf"; then
    {
      echo
      echo "; the core simulator's journal files (scripts/sims.sh): zhanye reconcile"
      echo "[egress.core_files]"
      echo "address = ftp://127.0.0.1:$((base + 50))"
      echo "user = zhanye"
      echo "password_file = sims/paperless.password"
    } >>"$conf"
  fi
  [ ${#missing[@]} -gt 0 ] || return 0
  {
    echo
    echo "; the simulators started by scripts/sims.sh (make run); see docs/egress.md"
    for m in "${missing[@]}"; do
      scheme=http
      if [ "$m" = core ]; then scheme=tcp; fi
      if [ "$m" = paperless ]; then scheme=ftp; fi
      echo "[egress.$m]"
      echo "address = $scheme://127.0.0.1:$(port_of "$m")"
      if [ "$m" = core ]; then echo "required = true"; fi
      if [ "$m" = paperless ]; then
        echo "user = zhanye"
        echo "password_file = sims/paperless.password"
      fi
    done
  } >>"$conf"
}

start_all() {
  local build=$1 data=$2 watch=${3:-} bin=$1/sims/zhanye-sim dir=$2/sims m p extra
  [ -x "$bin" ] || { echo "sims.sh: $bin not built" >&2; exit 1; }
  mkdir -p "$dir"
  stop_all "$data"
  for m in "${MODES[@]}"; do
    p=$(port_of "$m")
    extra=()
    if [ "$m" = core ]; then extra=(--ftp "127.0.0.1:$((base + 50))"); fi
    "$bin" "$m" --listen "127.0.0.1:$p" --admin "127.0.0.1:$((p + 100))" --data "$dir" \
      ${watch:+--watch-pid "$watch"} "${extra[@]}" >"$dir/$m.log" 2>&1 &
    echo $! >"$dir/$m.pid"
  done
  for m in "${MODES[@]}"; do
    for _ in $(seq 100); do
      grep -q 'listening on' "$dir/$m.log" && break
      kill -0 "$(cat "$dir/$m.pid")" 2>/dev/null || break
      sleep 0.1
    done
    if ! grep -q 'listening on' "$dir/$m.log"; then
      echo "sims.sh: $m did not start:" >&2
      cat "$dir/$m.log" >&2
      stop_all "$data"
      exit 1
    fi
  done
  (umask 077 && printf 'paperless-demo\n' >"$dir/paperless.password")
  write_conf "$data"
  echo "  simulators: core tcp://127.0.0.1:$base, idcheck/face/card/social/loan http ports" \
    "$((base + 1))-$((base + 5)), paperless ftp://127.0.0.1:$((base + 8)), core's journal" \
    "files ftp://127.0.0.1:$((base + 50));" \
    "fault injection on port + 100 (POST /admin/fault)"
}

status_all() {
  local m
  for m in "${MODES[@]}"; do
    printf '%-8s ' "$m"
    curl -s "http://127.0.0.1:$(( $(port_of "$m") + 100 ))/admin/stats" || printf 'down'
    echo
  done
}

case "${1:-}" in
start) [ $# -ge 3 ] || { echo "usage: sims.sh start BUILD DATA [WATCH_PID]" >&2; exit 2; }
  start_all "$2" "$3" "${4:-}" ;;
stop) [ $# -ge 2 ] || { echo "usage: sims.sh stop DATA" >&2; exit 2; }
  stop_all "$2" ;;
status) status_all ;;
*) echo "usage: sims.sh start BUILD DATA [WATCH_PID] | stop DATA | status" >&2; exit 2 ;;
esac
