#!/usr/bin/env bash
# Bounded fuzzing of the Bolt decoders and the S3 XML extractor: scripts/fuzz.sh SECONDS (per target; default 20).
# Builds the libFuzzer targets with clang into build/fuzz, runs them JOBS at a time (default 2), each on a
# temporary copy of its committed corpus (test/fuzz/corpus/<target>/, so the run never modifies the
# repository), prints the executions per target and fails on any crash, leak or timeout. Reproducers land
# in build/fuzz/artifacts/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_TARGET=${1:-20}
JOBS=${JOBS:-2}
TARGETS=(fuzz_packstream fuzz_bolt_reader fuzz_bolt_client fuzz_s3_xml)

CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DMGO_FUZZ=ON -DMGO_TESTS=OFF >/dev/null
cmake --build build/fuzz -j "$JOBS" --target "${TARGETS[@]}" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p build/fuzz/artifacts
# The targets run JOBS at a time (each is one process, bounded by -max_total_time), then report in order.
run_target() {
  local t=$1
  mkdir -p "$work/$t"
  cp -r "test/fuzz/corpus/$t/." "$work/$t/"
  local rc=0
  "build/fuzz/test/fuzz/$t" "$work/$t" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="build/fuzz/artifacts/$t-" >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}
running=0
for t in "${TARGETS[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
status=0
for t in "${TARGETS[@]}"; do
  log="$work/$t.log"
  if [ "$(cat "$work/$t.rc" 2>/dev/null)" != 0 ]; then
    echo "fuzz: $t FAILED; last lines of its log:" >&2
    tail -n 40 "$log" >&2
    status=1
    continue
  fi
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  corpus=$(find "$work/$t" -type f | wc -l)
  echo "fuzz: $t ok: ${execs:-?} executions in ${SECONDS_PER_TARGET}s without a crash (corpus $corpus inputs)"
done
exit $status
