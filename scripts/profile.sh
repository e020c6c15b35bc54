#!/usr/bin/env bash
# profile.sh BUILD OUT — where the server's CPU goes under the bench load:
# `zhanye serve` (a fresh data directory, flow limits far above the load)
# started under `perf record -e task-clock -g` while zhanye-load runs the
# bench mix (90 % SESSION_INFO, 10 % with cseq) over 32 connections; the
# server is stopped with SIGINT once the load is done, which ends the
# recording. Then e.g.
#   perf report -i OUT --no-children --sort dso --stdio -g none   (by library)
#   perf report -i OUT --no-children --sort comm --stdio -g none  (by thread)
# PROFILE_CALLGRAPH=dwarf records DWARF call graphs (larger; for
# `--children --sort sym`, where time goes by function). On this VM,
# attaching to a running process (-p PID, cpu-clock) yields a handful of
# samples; a process perf starts itself samples normally. The recording
# includes the load's setup (its logins: Argon2id). Not part of `make test`.
set -euo pipefail
build=${1:-build}
out=${2:-perf.data}
dir=$(mktemp -d /tmp/zhanye-prof-XXXXXX)
perfpid=
spid=
cleanup() {
  [ -n "$spid" ] && kill -INT "$spid" 2>/dev/null
  [ -n "$perfpid" ] && wait "$perfpid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
case ${PROFILE_CALLGRAPH:-fp} in
dwarf) cg=(--call-graph "dwarf,32768" -F 250) ;;
*) cg=(-g -F 1000) ;;
esac
"$build/zhanye" init --data "$dir" --demo-org --demo-password 'Demo@1234' >/dev/null
cat "$(dirname "$0")/bench-flow.conf" >>"$dir/zhanye.conf"
perf record -e task-clock "${cg[@]}" -o "$out" -- \
  "$build/zhanye" serve --data "$dir" --listen 127.0.0.1:0 >"$dir/serve.out" 2>"$dir/serve.err" &
perfpid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$dir/serve.out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$dir/serve.err" >&2; exit 1; }
spid=$(pgrep -P "$perfpid" -f "zhanye serve" || true)
[ -n "$spid" ] || { echo "profile.sh: cannot find the server under perf" >&2; exit 1; }
"$build/bench/zhanye-load" --url "http://127.0.0.1:$port" --data "$dir" --zhanye "$build/zhanye" \
  --server-pid "$spid" --closed --duration 10 --connections 32 --pool 30000 --devices 16 \
  --mix SESSION_INFO:90,SESSION_INFO+cseq:10 >"$dir/load.out" 2>&1
kill -INT "$spid"
spid=
wait "$perfpid" || true
perfpid=
grep -E 'e2e_tx_per_s|server_cpu_us_per_tx' "$dir/load.out"
