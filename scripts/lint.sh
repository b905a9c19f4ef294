#!/usr/bin/env bash
# Static analysis: clang-tidy (checks in .clang-tidy) over the compile database, then cppcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/debug/compile_commands.json ] || cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug -DMGO_SANITIZE=ON >/dev/null
mapfile -t srcs < <(git ls-files --cached --others --exclude-standard -- 'src/*.c')
clang-tidy -p build/debug --quiet "${srcs[@]}"
cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr --quiet \
  --suppress=missingIncludeSystem -I src/common src
