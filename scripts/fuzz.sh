#!/usr/bin/env bash
# fuzz.sh BUILD_DIR SECONDS — runs every libFuzzer target in BUILD_DIR/tests/fuzz
# for SECONDS each, on a scratch copy of its seed corpus (tests/fuzz/corpus/<name>,
# so the seeds in the tree never change). Fails if any target crashes; the
# crashing input is kept and its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
seconds=${2:?usage: fuzz.sh BUILD_DIR SECONDS}
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets in $build/tests/fuzz (configure with -Dfuzz=true, CC=clang)" >&2
  exit 2
fi
# Undefined behaviour is a finding like a crash (UBSan only prints by default).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
work=$(mktemp -d "${TMPDIR:-/tmp}/zhanye-fuzz.XXXXXX")
failed=0
for exe in "${targets[@]}"; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  name=$(basename "$exe")
  corpus="$work/$name/corpus"
  artifacts="$work/$name/artifacts"
  mkdir -p "$corpus" "$artifacts"
  seeds="tests/fuzz/corpus/${name#fuzz_}"
  [ -d "$seeds" ] && cp -R "$seeds"/. "$corpus"/
  echo "== $name: ${seconds}s"
  if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts/" "$corpus" >"$work/$name/log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
      "$work/$name/log" || true
    grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$name/log" | tail -n 1 || true
  else
    failed=1
    tail -n 40 "$work/$name/log"
    echo "fuzz.sh: $name FAILED; inputs: $artifacts; log: $work/$name/log" >&2
  fi
done
if [ $failed -ne 0 ]; then
  exit 1
fi
rm -rf "$work"
echo "fuzz.sh: all targets ran ${seconds}s without a crash"
