#!/usr/bin/env bash
# Scheduled backups on the real local control plane: builds the optimized operator (never the sanitizer build:
# ASan inflates times), then runs bench/backup_schedule_bench.py, which starts versitygw and its own control plane
# (or reuses MGO_CONTROL_PLANE_DIR; start that one with the same MGO_OPERATOR_BIN exported, the pods' init step and
# agent sidecar run it) and writes bench/results/backup-schedule.md. About (ticks + 2) minutes.
#   bash bench/run-backup-schedule-bench.sh [backup_schedule_bench.py args…]   e.g. --ticks 5 --nodes 1000
# Env BENCH_BUILD_DIR (default build/release) picks the build directory; BENCH_JOBS (default 1) the build's -j
# (the build runs under nice).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "${MGO_OPERATOR_BIN:-}" ]; then
  B=${BENCH_BUILD_DIR:-build/release}
  [ -f "$B/CMakeCache.txt" ] || nice cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF >/dev/null
  nice cmake --build "$B" -j "${BENCH_JOBS:-1}" --target memgraph-operator >/dev/null
  export MGO_OPERATOR_BIN=$ROOT/$B/src/cmd/memgraph-operator
fi
export BENCH_RUNNER=1 # the report names this script as the command
exec "$ROOT/.venv/bin/python" bench/backup_schedule_bench.py "$@"
