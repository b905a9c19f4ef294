#!/usr/bin/env bash
# Upload throughput of src/s3 against versitygw v1.8.0 on loopback, next to curl's own SigV4 single PUT.
#   bash bench/run-s3-bench.sh [TRIALS]        (default 3) -> bench/results/s3-upload.md
# One 1 GiB file of /dev/urandom bytes is written once into a temporary directory; the same versitygw (posix
# backend over that temporary directory) receives, per trial, in this order:
#   curl       curl --aws-sigv4 "aws:amz:us-east-1:s3" --user K:S -T FILE -H "x-amz-content-sha256: UNSIGNED-PAYLOAD"
#   multipart  s3_itest put KEY FILE            (s3_put_file: 64 parts of 16 MiB, SHA-256 while streaming, tag)
#   single     s3_itest put KEY FILE 2147483648 (s3_put_file: one PUT; hashes the file first, then streams)
# Each run goes under /usr/bin/time -v (wall time, peak RSS). Builds the optimized driver (never the sanitizer
# build: ASan inflates RSS and times). Env BENCH_BUILD_DIR (default build/release) picks the build directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TRIALS=${1:-3}
B=${BENCH_BUILD_DIR:-build/release}
[ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=ON >/dev/null
cmake --build "$B" -j 2 --target s3_itest >/dev/null
DRIVER=$ROOT/$B/test/unit/s3/s3_itest
VGW_DIR=$(tools/versitygw/build.sh | tail -n 1)
. tools/versions.env

work=$(mktemp -d)
gw_pid=
cleanup() { [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AK=benchaccess SK=bench-secret-0123456789
"$VGW_DIR/versitygw" --access "$AK" --secret "$SK" --port "127.0.0.1:$PORT" posix "$work/root" >"$work/vgw.log" 2>&1 &
gw_pid=$!
python3 - "$PORT" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("versitygw did not open its port")
PY
export S3_ENDPOINT=http://127.0.0.1:$PORT S3_BUCKET=bench S3_ACCESS_KEY=$AK S3_SECRET_KEY=$SK
"$DRIVER" mkbucket | grep -q '"rc":"OK"'
SIZE=$((1024 * 1024 * 1024))
dd if=/dev/urandom of="$work/file.bin" bs=1M count=1024 status=none
SHA=$(sha256sum "$work/file.bin" | cut -c1-64)

# run NAME CMD...: one timed trial; appends "name wall_s rss_kib" to $work/rows.
run() {
  local name=$1
  shift
  sync # the previous trial's dirty pages are not flushed during this one
  /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  echo "$name $wall $rss" >>"$work/rows"
}
check_driver() { tail -n 1 "$work/out.txt" | grep -q "\"rc\":\"OK\"" || { cat "$work/out.txt" >&2; exit 1; }; }
: >"$work/rows"
for t in $(seq "$TRIALS"); do
  run curl curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" -T "$work/file.bin" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/bench/curl.bin"
  run multipart "$DRIVER" put multipart.bin "$work/file.bin"
  check_driver
  tail -n 1 "$work/out.txt" | grep -q "\"sha256\":\"$SHA\"" || { echo "hash mismatch" >&2; exit 1; }
  run single "$DRIVER" put single.bin "$work/file.bin" 2147483648
  check_driver
  echo "trial $t done" >&2
done
# Where the multipart time goes: the moment the last part is acknowledged (its progress line) vs the end
# (CompleteMultipartUpload, in which versitygw concatenates the parts into the object, then the tag).
sync
"$DRIVER" put multipart.bin "$work/file.bin" | python3 -c '
import json, sys, time
t0 = time.monotonic(); parts = None
for line in sys.stdin:
    e = json.loads(line)
    if e.get("event") == "progress" and e["done"] == e["total"]:
        parts = time.monotonic() - t0
print(f"{parts:.2f} {time.monotonic() - t0:.2f}")' >"$work/phases"
read -r PARTS_S TOTAL_S <"$work/phases"
"$DRIVER" head multipart.bin | grep -q "\"sha256\":\"$SHA\"" || { echo "stored hash mismatch" >&2; exit 1; }

out=bench/results/s3-upload.md
mkdir -p bench/results
{
  echo "# S3 upload: src/s3 vs curl (single PUT), 1 GiB, versitygw $VERSITYGW on loopback"
  echo
  echo "- command: \`BENCH_BUILD_DIR=$B bash bench/run-s3-bench.sh $TRIALS\` (optimized driver \`$B/test/unit/s3/s3_itest\`)"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src/s3 || echo ' + uncommitted src/s3')"
  echo "- machine: $(nproc) CPUs, $(uname -sr), $(curl --version | head -n 1 | cut -d' ' -f1-2), server and client on the same host, file and bucket on the same disk (shared with other work)"
  echo "- file: 1 GiB from /dev/urandom, written once; SHA-256 of the driver's uploads checked against sha256sum"
  echo "- curl: \`curl -sS -f --aws-sigv4 \"aws:amz:us-east-1:s3\" --user K:S -T FILE -H \"x-amz-content-sha256: UNSIGNED-PAYLOAD\" URL\`"
  echo "- multipart: \`s3_itest put KEY FILE\` (64 parts of 16 MiB, sequential, SHA-256 while streaming, PutObjectTagging)"
  echo "- single: \`s3_itest put KEY FILE 2147483648\` (one PUT; the file is read twice: hash first for x-amz-meta-sha256, then streamed)"
  echo "- wall time and peak RSS from \`/usr/bin/time -v\` of the whole process"
  echo
  echo "| trial | client | wall s | MiB/s | peak RSS MiB |"
  echo "|---|---|---|---|---|"
  awk -v size="$SIZE" '{n[$1]++; printf "| %d | %s | %.2f | %.0f | %.1f |\n", n[$1], $1, $2, size/1048576/$2, $3/1024}' "$work/rows"
  echo
  echo "One more multipart upload, timed from its progress lines: all 64 parts acknowledged after ${PARTS_S} s"
  echo "(~$((1024 * 100 / ${PARTS_S/./} )) MiB/s streaming), the whole call returned after ${TOTAL_S} s; the rest is"
  echo "CompleteMultipartUpload (versitygw copies the parts into the final file) and PutObjectTagging."
  echo
  echo "| client | median MiB/s | max peak RSS MiB |"
  echo "|---|---|---|"
  python3 - "$work/rows" "$SIZE" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for c in ("curl", "multipart", "single"):
    mine = [r for r in rows if r[0] == c]
    speed = statistics.median(int(sys.argv[2]) / 1048576 / float(r[1]) for r in mine)
    print(f"| {c} | {speed:.0f} | {max(int(r[2]) for r in mine) / 1024:.1f} |")
PY
} >"$out"
cat "$out"
