#!/usr/bin/env bash
# bench.sh BUILD — prints benchmark figures, one "name value" per line.
#
# Micro: bench_flow (flow_admit_ns: one uncontended admit + done pair;
# flow_admit_addr_ns: the same under a per-address limit;
# flow_admit_cluster_ns: the same for a cluster-scope rule served from its
# lease, against a private redis-server on a unix socket in the bench's
# directory, "n/a" without redis-server) and
# bench_crypto (sm2_decrypt_us, open_seal_us) and bench_perf
# (perf_summary_us_10k / _1m: a client manager's PERF_SUMMARY over the
# counters of 10 thousand and of 1 million visits, in private SQLite
# databases in the bench's directory, and their ratio; the bank's daily
# report likewise, perf_summary_bank_*) and bench_voucher (voucher_txn_render_ms:
# the time a voucher step held the shard's write transaction when it rendered
# the PDF there, voucher_txn_store_ms: now that it only seals and inserts
# what was rendered before, voucher_render_ms: the rendering). End to end: a fresh data
# directory, `zhanye serve` from BUILD with flow limits far above the load,
# and zhanye-load in the closed loop: it makes its own devices, seals its
# whole pool ahead, then fires it for BENCH_SECONDS over BENCH_CONNECTIONS
# keep-alive connections. server_cpu_us_per_tx is the server process's CPU
# time (/proc/PID/stat) over the timed run divided by the transactions that
# answered OK (server_sys_us_per_tx: its system-time part); sm2_decrypt_us is measured right after, in the same run, and
# ratio_to_sm2_ceiling = sm2_decrypt_us / server_cpu_us_per_tx (1.0 would be
# a server doing nothing but SM2 decryption). sm2_decrypt_us_all_cores is
# one decryption's CPU time while every core runs them, as under the load
# (bench_crypto), and ratio_to_sm2_all_cores the same ratio against it.
#
# The console's analytics (bench_report): a second data directory with 80
# banks of 6 branches and a year of their performance counters, served by
# `zhanye serve`; report_province_year_ms is the median over BENCH_REPORT_RUNS
# (21) of GET /api/v1/admin/reports/performance?period=month as the province
# administrator (every bank, over HTTP on loopback: the endpoint itself,
# target < 100), report_province_day_ms the same for the day, report_today_ms
# the today board (GET /api/v1/admin/reports/today); report_rows and
# report_fill_s what the generator wrote.
# Video: video_call_setup_ms (bench/web_video.mjs), a remote video call from
# the tablet's request to its first decoded frame on loopback, the agent
# taking it at once (median of 5; n/a without Chromium or node).
# Web: tablet_shell_gzip_bytes (the tablet app's first load before any route
# chunk, gzip; below) against tablet_shell_budget_bytes (300 KiB).
#
# The end-to-end part runs BENCH_E2E_RUNS times (3), each in a fresh data
# directory with bench_crypto right after it; the figures printed are the
# run with the median ratio, ratio_to_sm2_ceiling_runs lists every run's.
#
# Environment: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_POOL (30000,
# the run also ends when it is used up), BENCH_MIX (zhanye-load --mix;
# default SESSION_INFO:90,SESSION_INFO+cseq:10), BENCH_DEVICES (16).
set -euo pipefail
build=${1:-build}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-32}
pool=${BENCH_POOL:-30000}
mix=${BENCH_MIX:-SESSION_INFO:90,SESSION_INFO+cseq:10}
devices=${BENCH_DEVICES:-16}

value() { # value NAME FILE
  awk -v k="$1" '$1 == k { print $2 }' "$2"
}

dir=$(mktemp -d /tmp/zhanye-bench-XXXXXX)
pid=
rpid=
cleanup() {
  for p in "$pid" "$rpid"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
}
trap cleanup EXIT

# The cluster-scope figure needs a Redis: a private one, no port, no disk.
redis_bin=${ZHANYE_REDIS_SERVER:-$(command -v redis-server || true)}
if [ -n "$redis_bin" ]; then
  "$redis_bin" --port 0 --unixsocket "$dir/redis.sock" --save '' --appendonly no \
    >"$dir/redis.log" 2>&1 &
  rpid=$!
  for _ in $(seq 1 100); do
    [ -S "$dir/redis.sock" ] && break
    sleep 0.05
  done
fi
if [ -n "$rpid" ] && [ -S "$dir/redis.sock" ]; then
  "$build/bench/bench_flow" "$dir/redis.sock" >"$dir/flow.out" 2>"$dir/flow.err" || {
    cat "$dir/flow.err" >&2
    exit 1
  }
  kill -TERM "$rpid"
  wait "$rpid" || true
  rpid=
else
  "$build/bench/bench_flow" >"$dir/flow.out"
fi

# One end-to-end run in its own data directory $dir/e2e$1: load.out, and
# bench_crypto's crypto.out right after it.
e2e_run() {
  local d="$dir/e2e$1" port=
  mkdir -p "$d"
  "$build/zhanye" init --data "$d" --demo-org --demo-password 'Demo@1234' >/dev/null
  cat "$(dirname "$0")/bench-flow.conf" >>"$d/zhanye.conf"
  "$build/zhanye" serve --data "$d" --listen 127.0.0.1:0 >"$d/serve.out" 2>"$d/serve.err" &
  pid=$!
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$d/serve.out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "bench.sh: zhanye serve did not start:" >&2
    cat "$d/serve.err" >&2
    exit 1
  fi
  "$build/bench/zhanye-load" --url "http://127.0.0.1:$port" --data "$d" \
    --zhanye "$build/zhanye" --server-pid "$pid" --closed --duration "$seconds" \
    --connections "$connections" --pool "$pool" --devices "$devices" --mix "$mix" \
    >"$d/load.out" 2>"$d/load.err" || {
    cat "$d/load.err" >&2
    exit 1
  }
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  "$build/bench/bench_crypto" >"$d/crypto.out"
  awk -v s="$(value sm2_decrypt_us "$d/crypto.out")" \
    -v c="$(value server_cpu_us_per_tx "$d/load.out")" 'BEGIN { printf "%.3f\n", s / c }' >"$d/ratio"
}
# BENCH_E2E_RUNS runs (3): their ratios, and the figures of the median one
# (one run varies by some 5 % on a shared machine).
runs=${BENCH_E2E_RUNS:-3}
for r in $(seq 1 "$runs"); do
  e2e_run "$r"
done
median_run=$(for r in $(seq 1 "$runs"); do echo "$(cat "$dir/e2e$r/ratio") $r"; done |
  sort -n | awk '{ v[NR] = $2 } END { print v[int((NR + 1) / 2)] }')
cp "$dir/e2e$median_run/load.out" "$dir/load.out"
cp "$dir/e2e$median_run/crypto.out" "$dir/crypto.out"
ratios=$(for r in $(seq 1 "$runs"); do cat "$dir/e2e$r/ratio"; done | paste -sd, -)
"$build/bench/bench_perf" "$dir" >"$dir/perf.out"
"$build/bench/bench_voucher" "$dir" >"$dir/voucher.out"

# ---- the console's analytics (bench_report) ----
rdir="$dir/report"
mkdir -p "$rdir"
"$build/zhanye" init --data "$rdir" --demo-org --demo-password 'Demo@1234' >/dev/null
"$build/bench/bench_report" "$rdir" >"$dir/report.out"
"$build/zhanye" serve --data "$rdir" --listen 127.0.0.1:0 >"$rdir/serve.out" 2>"$rdir/serve.err" &
pid=$!
rport=
for _ in $(seq 1 100); do
  rport=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$rdir/serve.out")
  [ -n "$rport" ] && break
  sleep 0.1
done
rurl="http://127.0.0.1:$rport/api/v1/admin"
curl -sf -c "$rdir/jar" -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$rport" \
  -d '{"teller":"prov01","password":"Demo@1234"}' "$rurl/login" >/dev/null
median_ms() { # median_ms PATH: the median of BENCH_REPORT_RUNS timed GETs, in ms
  for _ in $(seq 1 "${BENCH_REPORT_RUNS:-21}"); do
    curl -sf -b "$rdir/jar" -o /dev/null -w '%{time_total}\n' "$rurl$1"
  done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f\n", v[int((NR + 1) / 2)] * 1000 }'
}
curl -sf -b "$rdir/jar" -o /dev/null "$rurl/reports/performance?period=month" # warm
echo "report_province_year_ms $(median_ms '/reports/performance?period=month')" >>"$dir/report.out"
echo "report_province_day_ms $(median_ms '/reports/performance?period=day')" >>"$dir/report.out"
echo "report_today_ms $(median_ms '/reports/today')" >>"$dir/report.out"
kill -TERM "$pid"
wait "$pid" || true
pid=

sm2=$(value sm2_decrypt_us "$dir/crypto.out")
cpu=$(value server_cpu_us_per_tx "$dir/load.out")
for k in e2e_tx_per_s p50_ms p90_ms p99_ms max_ms server_cpu_us_per_tx server_sys_us_per_tx; do
  echo "$k $(value "$k" "$dir/load.out")"
done
echo "sm2_decrypt_us $sm2"
echo "open_seal_us $(value open_seal_us "$dir/crypto.out")"
awk -v s="$sm2" -v c="$cpu" 'BEGIN { printf "ratio_to_sm2_ceiling %.3f\n", s / c }'
echo "ratio_to_sm2_ceiling_runs $ratios"
sm2all=$(value sm2_decrypt_us_all_cores "$dir/crypto.out")
echo "sm2_decrypt_us_all_cores $sm2all"
awk -v s="$sm2all" -v c="$cpu" 'BEGIN { printf "ratio_to_sm2_all_cores %.3f\n", s / c }'
echo "flow_admit_ns $(value flow_admit_ns "$dir/flow.out")"
echo "flow_admit_addr_ns $(value flow_admit_addr_ns "$dir/flow.out")"
cluster_ns=$(value flow_admit_cluster_ns "$dir/flow.out")
echo "flow_admit_cluster_ns ${cluster_ns:-n/a}"
for k in duration_s connections requests ok load_cpu_pct; do
  echo "e2e_$k $(value "$k" "$dir/load.out")"
done
for k in perf_summary_us_10k perf_summary_us_1m perf_summary_ratio perf_summary_bank_us_10k \
  perf_summary_bank_us_1m perf_summary_bank_ratio perf_rows_1m perf_fill_s_1m; do
  echo "$k $(value "$k" "$dir/perf.out")"
done
for k in voucher_txn_render_ms voucher_txn_store_ms voucher_render_ms; do
  echo "$k $(value "$k" "$dir/voucher.out")"
done
for k in report_province_year_ms report_province_day_ms report_today_ms report_rows report_fill_s; do
  echo "$k $(value "$k" "$dir/report.out")"
done
sed -n 's/^status_/e2e_status_/p' "$dir/load.out" # anything but 200, if any

# --- web: SM2 in the browser (bench/web_sm2.mjs; docs/tablet.md "ZY1 in the browser") ---
web_root=$(cd "$(dirname "$0")/.." && pwd)
if command -v node >/dev/null && [ -d "$web_root/web/node_modules/playwright-core" ] && [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  node "$web_root/bench/web_sm2.mjs" || echo "web_sm2_encrypt_ms n/a"
else
  echo "web_sm2_encrypt_ms_sm_crypto n/a"
  echo "web_sm2_encrypt_ms_sm_crypto_v2 n/a"
fi
# --- video: call setup, request to first frame (bench/web_video.mjs) ---
if command -v node >/dev/null && [ -d "$web_root/web/node_modules/playwright-core" ] && [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && [ -d "$web_root/web/dist/tablet" ]; then
  ZHANYE_BIN="$(cd "$build" && pwd)/zhanye" node "$web_root/bench/web_video.mjs" 2>/dev/null | grep '^video_call_setup_ms' || echo "video_call_setup_ms n/a"
else
  echo "video_call_setup_ms n/a"
fi
# The tablet app's shell (web/dist/tablet, written by make build): index.html
# and the scripts, module preloads and style sheets it names, i.e. what the
# first load downloads before any route's chunk, in gzip bytes (the .gz the
# build wrote, else gzip -9); the issue's budget is 300 KiB.
shell=n/a
tablet="$(dirname "$0")/../web/dist/tablet"
if [ -f "$tablet/index.html" ]; then
  shell=0
  for f in /index.html $(grep -oE '(src|href)="/[^"]+\.(js|css)"' "$tablet/index.html" | sed -E 's/^[a-z]+="//; s/"$//' | sort -u); do
    if [ -f "$tablet$f.gz" ]; then
      n=$(stat -c %s "$tablet$f.gz")
    else
      n=$(gzip -9 -c "$tablet$f" | wc -c)
    fi
    shell=$((shell + n))
  done
fi
echo "tablet_shell_gzip_bytes $shell"
echo "tablet_shell_budget_bytes 307200"
