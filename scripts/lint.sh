#!/usr/bin/env bash
# Static analysis, failing on any finding: clang-tidy (checks in .clang-tidy) over the compile database, in
# parallel (JOBS, default nproc), skipping files whose inputs passed before (scripts/tidy-cached.py), then
# cppcheck, then the project rules of scripts/check-code.py (banned calls, one clock, function length).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
[ -f build/debug/compile_commands.json ] || cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug -DMGO_SANITIZE=ON >/dev/null
python3 scripts/tidy-cached.py build/debug "$JOBS"
cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr --quiet \
  --suppress=missingIncludeSystem -I src/common src
python3 scripts/check-code.py
