#!/usr/bin/env bash
# Static analysis, failing on any finding: clang-tidy (checks in .clang-tidy) over the compile database, in
# parallel (JOBS, default nproc), then cppcheck, then the project rules of scripts/check-code.py (banned
# calls, one clock, function length).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
[ -f build/debug/compile_commands.json ] || cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug -DMGO_SANITIZE=ON >/dev/null
mapfile -t srcs < <(git ls-files --cached --others --exclude-standard -- 'src/*.c')
# "N warnings generated." counts warnings of system headers that the checks then filter out: noise.
printf '%s\n' "${srcs[@]}" | xargs -P "$JOBS" -n 4 clang-tidy -p build/debug --quiet 2> >(grep -Ev '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' >&2)
cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr --quiet \
  --suppress=missingIncludeSystem -I src/common src
python3 scripts/check-code.py
