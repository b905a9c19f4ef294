#!/usr/bin/env bash
# Scale benchmark of issue 13 on the real local control plane: builds the release operator (benchmarks never use
# the sanitizer build: ASan inflates RSS and time), then runs bench/scale_bench.py under nice, which starts its
# own control plane (or reuses MGO_CONTROL_PLANE_DIR) and merges its figures into bench/results/scale.json, then
# writes bench/results/scale.md and scale.svg from all of them.
#   bash bench/run-scale-bench.sh [scale_bench.py args…]   e.g. --counts 1,50,500 --label baseline
# MGO_OPERATOR_BIN=… skips the build (e.g. to compare a kept binary of an older commit).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "${MGO_OPERATOR_BIN:-}" ]; then
  BUILD=${MGO_BENCH_BUILD_DIR:-build/release}
  [ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF >/dev/null
  nice cmake --build "$BUILD" -j 2 --target memgraph-operator >/dev/null
  export MGO_OPERATOR_BIN=$ROOT/$BUILD/src/cmd/memgraph-operator
fi
# The API server's watch cache, off in the test suite (watch semantics tests need 410 Gone), is on here as on
# any production API server: without it every LIST is read from etcd, and at ~300 pods the kubelets' and the
# benchmark's LISTs of 500 objects timed out (HTTP 504) and pods stopped starting (2026-12-03).
export MGO_WATCH_CACHE=${MGO_WATCH_CACHE:-true}
exec nice "$ROOT/.venv/bin/python" bench/scale_bench.py "$@"
