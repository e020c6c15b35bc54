#!/usr/bin/env bash
# profile.sh BUILD OUT — where the server's CPU goes under the bench load:
# `perf record -e cpu-clock -g` on `zhanye serve` (a fresh data directory,
# flow limits far above the load) from 1 s after it starts for PROFILE_SECONDS
# (30: the load's sealing of its pool, during which the server idles, takes a
# varying time, so the recording covers all of it) while zhanye-load runs the
# bench mix (90 % SESSION_INFO, 10 % with cseq) over 32 connections; then
# `perf report -i OUT --no-children --sort dso --stdio` gives the split by
# library. Needs perf (Debian's linux-perf) with working sampling: on a VM
# whose cpu-clock events yield a handful of samples, use callgrind instead
# (`valgrind --tool=callgrind` on `zhanye serve` under a smaller load).
# Not part of `make test`.
set -euo pipefail
build=${1:-build}
out=${2:-perf.data}
dir=$(mktemp -d /tmp/zhanye-prof-XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
"$build/zhanye" init --data "$dir" --demo-org --demo-password 'Demo@1234' >/dev/null
cat "$(dirname "$0")/bench-flow.conf" >>"$dir/zhanye.conf"
"$build/zhanye" serve --data "$dir" --listen 127.0.0.1:0 >"$dir/serve.out" 2>"$dir/serve.err" &
pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$dir/serve.out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/serve.err" >&2; exit 1; }
# The load seals its pool first (several seconds), then fires: record after that.
(sleep 1; perf record -F 1000 -g -e cpu-clock -p "$pid" -o "$out" -- sleep ${PROFILE_SECONDS:-30} >/dev/null 2>&1) &
perfpid=$!
"$build/bench/zhanye-load" --url "http://127.0.0.1:$port" --data "$dir" --zhanye "$build/zhanye" \
  --server-pid "$pid" --closed --duration 10 --connections 32 --pool 30000 --devices 16 \
  --mix SESSION_INFO:90,SESSION_INFO+cseq:10 >"$dir/load.out" 2>&1
wait "$perfpid"
grep -E 'e2e_tx_per_s|server_cpu_us_per_tx' "$dir/load.out"
