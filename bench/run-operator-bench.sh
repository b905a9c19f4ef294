#!/usr/bin/env bash
# Operator benchmarks of issue 4 on the real local control plane: builds the release operator (benchmarks never
# use the sanitizer build: ASan inflates RSS and time), then runs bench/operator_bench.py, which starts its own
# control plane (or reuses MGO_CONTROL_PLANE_DIR), and writes bench/results/operator.md.
#   bash bench/run-operator-bench.sh [operator_bench.py args…]   e.g. --trials 5 --window 120 --many 50
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "${MGO_OPERATOR_BIN:-}" ]; then
  [ -f build/release/CMakeCache.txt ] || cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF >/dev/null
  cmake --build build/release -j 2 --target memgraph-operator >/dev/null
  export MGO_OPERATOR_BIN=$ROOT/build/release/src/cmd/memgraph-operator
fi
exec "$ROOT/.venv/bin/python" bench/operator_bench.py "$@"
