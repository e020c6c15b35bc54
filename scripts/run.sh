#!/usr/bin/env bash
# run.sh BUILD DATA LISTEN — creates the data directory with demo data if it
# has no database, then runs the platform in the foreground.
set -euo pipefail
build=$1 data=$2 listen=$3
bin="$build/zhanye"
pw=${ZHANYE_DEMO_PASSWORD:-Zhanye@2026}
if [ ! -f "$data/zhanye.db" ]; then
  "$bin" init --data "$data" --demo --demo-password "$pw"
fi
cat <<EOT

  zhanye is starting on http://$listen
    health:   http://$listen/healthz
    metrics:  http://$listen/metrics
  demo logins (password $pw): client managers demo01..demo04, bank admin admin01
  stop with Ctrl-C

EOT
exec "$bin" serve --data "$data" --listen "$listen"
