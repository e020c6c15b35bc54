#!/usr/bin/env bash
# test.sh BUILD_DIR — builds with ASan+UBSan, runs every test, and prints
# "N passed, N failed" as the last line (exit 1 if any failed).
set -uo pipefail
build=${1:-build-test}
if ! ninja -C "$build" >/dev/null; then
  ninja -C "$build" 2>&1 | tail -40
  echo "0 passed, 1 failed"
  exit 1
fi
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" "${@:2}"
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = 0
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r != "SKIP":
            failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
