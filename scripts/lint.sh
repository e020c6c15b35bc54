#!/usr/bin/env bash
# lint.sh format|cppcheck — the static checks `make test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || true)
[ -n "$files" ] || files=$(find src client tests bench sims -name '*.[ch]')
case "${1:-}" in
format)
  clang-format --dry-run --Werror $files
  ;;
cppcheck)
  cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
    --inline-suppr --suppress=missingIncludeSystem --suppress=varFuncNullUB --suppress=preprocessorErrorDirective -I src -I client -D__GNUC__ $files
  ;;
*) echo "usage: lint.sh format|cppcheck" >&2; exit 2 ;;
esac
