#!/usr/bin/env bash
# Failover benchmarks of issue 5 on the real local control plane: builds the optimized operator (never the
# sanitizer build: ASan inflates times), then runs bench/failover_bench.py, which starts its own control plane (or
# reuses MGO_CONTROL_PLANE_DIR; start that one with the same MGO_OPERATOR_BIN exported, the pods' init step runs it)
# and writes bench/results/failover.md.
#   bash bench/run-failover-bench.sh [failover_bench.py args…]   e.g. --trials 30 kill freeze switchover
# Env BENCH_BUILD_DIR (default build/release) picks the build directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "${MGO_OPERATOR_BIN:-}" ]; then
  B=${BENCH_BUILD_DIR:-build/release}
  [ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF >/dev/null
  cmake --build "$B" -j 2 --target memgraph-operator >/dev/null
  export MGO_OPERATOR_BIN=$ROOT/$B/src/cmd/memgraph-operator
fi
exec "$ROOT/.venv/bin/python" bench/failover_bench.py "$@"
