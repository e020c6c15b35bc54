#!/usr/bin/env bash
# run.sh BUILD DATA LISTEN — creates the data directory with demo data if it
# has no database, starts the simulators of the bank's other systems and the
# peripherals bridge on the device simulators (and,
# the first time, syncs the grid platform's visit tasks), Janus for the
# recorded calls when it is installed, then runs the
# platform in the foreground, serving the web apps of web/dist (Ctrl-C stops
# everything).
set -euo pipefail
build=$1 data=$2 listen=$3
bin="$build/zhanye"
pw=${ZHANYE_DEMO_PASSWORD:-Zhanye@2026}
fresh=0
if [ ! -f "$data/zhanye.db" ]; then
  "$bin" init --data "$data" --demo --demo-password "$pw"
  fresh=1
fi
# The egress mappings and routes ship in the source tree's conf/.
[ -e "$data/conf" ] || ln -s "$(cd "$(dirname "$0")/.." && pwd)/conf" "$data/conf"
scripts/sims.sh start "$build" "$data" $$
# The back-clip peripherals: the simulators of the ID-card reader and the
# pads, and the bridge on them.
scripts/devices.sh start "$build" "$data" "$listen" $$
# The demo's visit tasks come from the grid platform, as every night's sync.
if [ "$fresh" = 1 ]; then
  "$bin" grid sync --data "$data" >/dev/null ||
    echo "run.sh: zhanye grid sync failed; visit tasks come with the next one" >&2
fi
# Janus for recorded calls (双录), with its own config in DATA/janus (scripts/janus-run.sh), on
# loopback port JANUS_PORT (8188); its API secret in DATA/keys/janus.secret; stopped with us.
janus_note="not installed (scripts/deps.sh installs Debian's janus): recorded calls are off"
if command -v janus >/dev/null 2>&1; then
  jport=${JANUS_PORT:-8188}
  if [ ! -f "$data/keys/janus.secret" ]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data/keys/janus.secret")
  fi
  jsecret=$(cat "$data/keys/janus.secret")
  if ! grep -q '^janus_url *=' "$data/zhanye.conf"; then
    printf '\n[video]\njanus_url = http://127.0.0.1:%s/janus\njanus_api_secret = %s\n' "$jport" "$jsecret" >>"$data/zhanye.conf"
  fi
  scripts/janus-run.sh "$data/janus" "$jport" "$jsecret" >/dev/null &
  jpid=$!
  (while kill -0 $$ 2>/dev/null; do sleep 1; done; kill "$jpid" 2>/dev/null) &
  janus_note="http://127.0.0.1:$jport/janus (log: $data/janus/janus.log)"
fi
web="$(cd "$(dirname "$0")/.." && pwd)/web/dist"
cat <<EOT

  zhanye is starting on http://$listen
    the tablet app: http://$listen/    (built into $web by make build)
    the console:    http://$listen/console/    (branch managers, bank admins, the province admin)
    health:   http://$listen/healthz    ready: http://$listen/readyz
    metrics:  http://$listen/metrics
    Janus (recorded calls): $janus_note
  demo logins (password $pw):
    client managers demo01 demo02 (bank B01), demo03 demo04 (bank B02)
    branch managers mgr01 (B01 branch 01), mgr02 (B02 branch 01)
    bank admins admin01 (B01), admin02 (B02); province admin prov01
    remote video agents agent01 (B01), agent02 (B02): the console's 远程协助 desk
  a command-line tablet:
    $bin activation issue --data $data --teller demo01
    $bin call --state /tmp/tablet.json --server http://$listen --activate CODE --teller demo01
    $bin call --state /tmp/tablet.json LOGIN --data '{"teller":"demo01","password":"$pw"}'
  stop with Ctrl-C

EOT
exec "$bin" serve --data "$data" --listen "$listen" --web "$web"
