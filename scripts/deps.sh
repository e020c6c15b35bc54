#!/usr/bin/env bash
# Installs the Debian packages zhanye needs (chromium: the browser tests; janus, janus-tools: the
# recording of video calls, started by zhanye itself, never as a system service), only those missing, and the web
# app's npm packages from the committed lock file. Quiet when all is present.
set -euo pipefail

PKGS=(
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  cppcheck clang-format sqlite3 curl ca-certificates
  libpcsclite-dev pcscd vsmartcard-vpcd
  libssl-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libinih-dev
  libargon2-dev libcurl4-openssl-dev libhiredis-dev libmariadb-dev libcmocka-dev
  libcairo2-dev libpango1.0-dev fonts-noto-cjk
  libxlsxwriter-dev
  mariadb-server-core mariadb-client-core redis-server redis-sentinel haproxy
  coturn
  nodejs npm chromium
  janus janus-tools
)

missing=()
for p in "${PKGS[@]}"; do
  # nodejs/npm may come from elsewhere (nvm, NodeSource): a working command is enough.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's janus package enables a system service with its sample config (known secrets);
  # zhanye runs its own Janus (scripts/janus-run.sh), so that one stays off.
  if [[ " ${missing[*]} " == *" janus "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now janus >/dev/null 2>&1 || true
  fi
fi

# Node packages for the interop tests and the web app, from the lock files.
for dir in tests/interop web; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    echo "deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
