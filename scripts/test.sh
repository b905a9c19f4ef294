#!/usr/bin/env bash
# The project's whole test run (what `make test` and CI execute):
#   0. the repository-only check (no tracked file reads outside the repository but the build caches)
#   1. bootstrap (installs/builds what is missing; seconds when warm)
#   2. debug build with AddressSanitizer + UndefinedBehaviorSanitizer, release build, and the format check
#   3. lint (scripts/lint.sh: clang-tidy, cppcheck, scripts/check-code.py); any finding fails the run
#   4. C unit tests (ctest), then bounded fuzzing of the decoders
#   5. pytest: emulator conformance, C clients against real peers, the real control plane, end to end; on
#      PYTEST_WORKERS (default 6) pytest-xdist workers, one test file at a time per worker (modules share
#      clusters and run their tests in order), each worker with its own control plane. PYTEST_WORKERS=0 runs
#      everything in this process, one after another.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. "$ROOT/tools/versions.env"
JOBS=${JOBS:-$(nproc)}
step() { printf '\n==== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

step "repository-only check"
bash scripts/check-repo-only.sh

step bootstrap
bash scripts/bootstrap.sh

# Compiles go through ccache (cache in $MGO_CACHE/ccache, outside the repository; paths taken relative to
# the checkout, so a fresh clone elsewhere hits too). CMake reads the launcher from the environment on a
# build directory's first configure.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CCACHE_DIR="$MGO_CACHE/ccache" CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
fi

step "debug build (ASan+UBSan)"
cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug -DMGO_SANITIZE=ON >/dev/null
cmake --build build/debug -j "$JOBS"

step "release build (-O2: some warnings only appear with optimization)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF >/dev/null
cmake --build build/release -j "$JOBS"

step "format check"
bash scripts/format.sh --check

step "lint (clang-tidy, cppcheck, check-code)"
JOBS="$JOBS" bash scripts/lint.sh

step "C unit tests"
ctest --test-dir build/debug --output-on-failure -j "$JOBS" -L unit

if [ -x scripts/fuzz.sh ]; then
  step "bounded fuzzing"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
fi

step "pytest"
export MGO_BUILD_DIR="$ROOT/build/debug"
WORKERS=${PYTEST_WORKERS:-6}
XDIST=()
[ "$WORKERS" = 0 ] || XDIST=(-n "$WORKERS" --dist loadfile)
# shellcheck disable=SC2086  # PYTEST_ARGS is a word list on purpose (e.g. "-k emulator -x")
exec "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider "${XDIST[@]}" --durations=15 ${PYTEST_ARGS:-} test
