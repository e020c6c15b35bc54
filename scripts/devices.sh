#!/usr/bin/env bash
# devices.sh — the back-clip peripherals for `make run`: the simulators of the
# ID-card reader, PIN pad, signature pad and fingerprint reader, each on a
# pseudo-terminal, and zhanye-bridge on them (docs/peripherals.md).
#
#   devices.sh start BUILD DATA PLATFORM_LISTEN [WATCH_PID]
#   devices.sh stop DATA
#
# Ports (loopback; DEV_PORT_BASE moves them, default 19300):
#   bridge 19300 (http://127.0.0.1:19300/v1/health)
#   ID-card simulator's control 19310 (POST /card, DELETE /card, POST /fault)
#   PIN pad 19311, signature pad 19312, fingerprint 19313 (POST /script,
#   POST /reset, GET /state)
#   bank card (when pcscd and vsmartcard-vpcd can run: root, as the tests):
#   a private pcscd with vpcd on 19320, the card simulator's control 19314
#   (lines: insert, remove, pan DIGITS, fault luhn, ...); otherwise the card
#   reader is skipped with a note, never a failure.
# The pty link, logs and pid files live in DATA/devices/; the pairing token
# in DATA/bridge.token (created 0600 on the first start). The bridge accepts
# the platform's origin, http://PLATFORM_LISTEN.
set -euo pipefail
base=${DEV_PORT_BASE:-19300}

stop_all() {
  local dir=$1/devices n pid
  for n in bridge idcard pin sig finger card pcscd; do
    [ -f "$dir/$n.pid" ] || continue
    pid=$(cat "$dir/$n.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/$n.pid"
  done
}

wait_line() { # LOG NEEDLE PIDFILE
  for _ in $(seq 100); do
    grep -qs "$2" "$1" && return 0 # -s: the log may not exist yet
    kill -0 "$(cat "$3")" 2>/dev/null || break
    sleep 0.1
  done
  echo "devices.sh: did not start:" >&2
  cat "$1" >&2
  return 1
}

# A private pcscd (own mount namespace, /run/pcscd bound to DIR/pcsc/run)
# with the vpcd driver, and the card simulator under its control port, as
# tests/integration/test_card_reader.c does. Sets card_args to the bridge's
# option, or leaves it empty (and prints why) when the rig cannot run.
card_args=()
start_card() { # SIM DIR
  local sim=$1 dir=$2 drv=/usr/lib/pcsc/drivers/serial/libifdvpcd.so vport=$((base + 20))
  if [ "$(id -u)" != 0 ] || ! command -v pcscd >/dev/null || ! command -v unshare >/dev/null ||
    [ ! -r "$drv" ]; then
    echo "  bank card reader: skipped (needs root, pcscd and vsmartcard-vpcd)"
    return 0
  fi
  dir=$(cd "$dir" && pwd) # pcscd needs absolute paths (it refuses a relative --config)
  rm -rf "$dir/pcsc"
  mkdir -p "$dir/pcsc/reader.conf.d" "$dir/pcsc/run"
  printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:%d\nLIBPATH %s\nCHANNELID %d\n' \
    "$vport" "$drv" "$vport" >"$dir/pcsc/reader.conf.d/vpcd"
  unshare --mount --propagation private sh -c \
    'mkdir -p /run/pcscd && mount --bind "$0" /run/pcscd && exec pcscd --foreground --info --config "$1"' \
    "$dir/pcsc/run" "$dir/pcsc/reader.conf.d" >"$dir/pcscd.log" 2>&1 &
  echo $! >"$dir/pcscd.pid"
  local ok=
  for _ in $(seq 100); do
    grep -q 'daemon ready' "$dir/pcscd.log" && { ok=1; break; }
    kill -0 "$(cat "$dir/pcscd.pid")" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    echo "  bank card reader: skipped (pcscd did not start, see $dir/pcscd.log)"
    kill -TERM "$(cat "$dir/pcscd.pid")" 2>/dev/null || true
    rm -f "$dir/pcscd.pid"
    return 0
  fi
  export PCSCLITE_CSOCK_NAME=$dir/pcsc/run/pcscd.comm
  "$sim" card --vpcd "127.0.0.1:$vport" --control "127.0.0.1:$((base + 14))" \
    >"$dir/card.log" 2>&1 &
  echo $! >"$dir/card.pid"
  card_args=(--card-reader "Virtual PCD 00 00")
}

start_all() {
  local build=$1 data=$2 listen=$3 watch=${4:-} dir=$2/devices
  local sim=$build/sims/dev/zhanye-devsim bridge=$build/client/bridge/zhanye-bridge
  [ -x "$sim" ] && [ -x "$bridge" ] || { echo "devices.sh: $sim or $bridge not built" >&2; exit 1; }
  mkdir -p "$dir"
  stop_all "$data"
  "$sim" idcard --pty-link "$dir/idcard.tty" --control "127.0.0.1:$((base + 10))" \
    ${watch:+--watch-pid "$watch"} >"$dir/idcard.log" 2>&1 &
  echo $! >"$dir/idcard.pid"
  wait_line "$dir/idcard.log" 'control http' "$dir/idcard.pid" || { stop_all "$data"; exit 1; }
  local i=1 n
  for n in pin sig finger; do
    "$sim" "$n" --pty-link "$dir/$n.tty" --control "127.0.0.1:$((base + 10 + i))" \
      ${watch:+--watch-pid "$watch"} >"$dir/$n.log" 2>&1 &
    echo $! >"$dir/$n.pid"
    wait_line "$dir/$n.log" 'control' "$dir/$n.pid" || { stop_all "$data"; exit 1; }
    i=$((i + 1))
  done
  start_card "$sim" "$dir"
  "$bridge" --listen "127.0.0.1:$base" --idcard-port "$dir/idcard.tty" \
    --pin-port "$dir/pin.tty" --sig-port "$dir/sig.tty" --finger-port "$dir/finger.tty" \
    --token-file "$data/bridge.token" --origin "http://$listen" "${card_args[@]}" \
    ${watch:+--watch-pid "$watch"} >"$dir/bridge.log" 2>&1 &
  echo $! >"$dir/bridge.pid"
  wait_line "$dir/bridge.log" 'listening on' "$dir/bridge.pid" || { stop_all "$data"; exit 1; }
  echo "  peripherals bridge: http://127.0.0.1:$base (token in $data/bridge.token," \
    "header Authorization: Bearer TOKEN; origin http://$listen)"
  echo "  ID-card reader simulator on $dir/idcard.tty; place the demo card:" \
    "curl -X POST http://127.0.0.1:$((base + 10))/card -d '{}'"
  echo "  PIN pad, signature pad, fingerprint simulators: control ports" \
    "$((base + 11)), $((base + 12)), $((base + 13)) (POST /script, docs/peripherals.md)"
  # The card simulator and pcscd cannot watch a pid themselves: a watcher
  # stops them when the platform goes.
  if [ ${#card_args[@]} -gt 0 ] && [ -n "$watch" ]; then
    (
      while kill -0 "$watch" 2>/dev/null; do sleep 1; done
      for n in card pcscd; do
        [ -f "$dir/$n.pid" ] && kill -TERM "$(cat "$dir/$n.pid")" 2>/dev/null
        rm -f "$dir/$n.pid"
      done
    ) </dev/null >/dev/null 2>&1 &
  fi
  if [ ${#card_args[@]} -gt 0 ]; then
    echo "  bank card simulator in pcscd reader 'Virtual PCD 00 00' (GET /v1/bankcard);" \
      "insert the demo card: bash -c 'exec 3<>/dev/tcp/127.0.0.1/$((base + 14)); echo insert >&3; head -1 <&3'"
  fi
}

case "${1:-}" in
start) [ $# -ge 4 ] || { echo "usage: devices.sh start BUILD DATA PLATFORM_LISTEN [WATCH_PID]" >&2; exit 2; }
  start_all "$2" "$3" "$4" "${5:-}" ;;
stop) [ $# -ge 2 ] || { echo "usage: devices.sh stop DATA" >&2; exit 2; }
  stop_all "$2" ;;
*) echo "usage: devices.sh start BUILD DATA PLATFORM_LISTEN [WATCH_PID] | stop DATA" >&2; exit 2 ;;
esac
