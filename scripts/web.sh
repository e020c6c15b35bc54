#!/usr/bin/env bash
# web.sh — builds each web app under web/ (a directory with a vite.config.js)
# into web/dist/<app> when its sources, web/build/ or the lock file are newer
# than its last build (the stamp web/dist/.<app>.stamp). Runs `npm ci` first
# when web/node_modules is missing. `make build` runs it after ninja, so
# `make run` and `make test` serve and test a current build.
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ]; then
  echo "web: npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
mkdir -p dist
for config in */vite.config.js; do
  [ -e "$config" ] || continue
  app=${config%%/*}
  stamp="dist/.$app.stamp"
  if [ -f "$stamp" ] && [ -d "dist/$app" ] &&
    [ -z "$(find "$app" build shared package.json package-lock.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    continue
  fi
  echo "web: building $app"
  if ! out=$(npx vite build "$app" --logLevel warn 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  touch "$stamp"
done
