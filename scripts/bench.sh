#!/usr/bin/env bash
# bench.sh BUILD — prints benchmark figures, one "name value" per line.
set -euo pipefail
build=${1:-build}
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] && "$b"
done
