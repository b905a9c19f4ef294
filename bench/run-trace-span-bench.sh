#!/usr/bin/env bash
# The in-process CPU cost of tracing (bench/trace_span_bench.c) against the optimized mgo_trace library: builds
# build/release's libraries if needed, compiles the driver with them and runs it TRIALS times (default 3).
#   bash bench/run-trace-span-bench.sh [TRIALS] [PASSES] [SPANS_PER_PASS-1]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=${MGO_RELEASE_DIR:-build/release}
[ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF >/dev/null
cmake --build "$B" -j 2 --target mgo_trace >/dev/null
out=$(mktemp -d)
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc/trace -Isrc/common bench/trace_span_bench.c "$B/src/trace/libmgo_trace.a" \
  "$B/src/libmgo_common.a" $(pkg-config --libs libcurl) -lpthread -o "$out/trace_span_bench"
echo "| workload | record (us / span) | record + encode (us / span) | per pass (us) |"
echo "|---|---|---|---|"
for _ in $(seq "${1:-3}"); do "$out/trace_span_bench" "${2:-100000}" "${3:-17}"; done
rm -rf "$out"
