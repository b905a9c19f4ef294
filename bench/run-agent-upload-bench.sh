#!/usr/bin/env bash
# A backup's upload through the pod agent (`memgraph-operator agent serve`, POST /v1/uploads, polled until the
# job ends) next to curl's own SigV4 single PUT of the same file to the same versitygw, in the same run; and the
# agent's peak RSS (VmHWM of a fresh agent process per file size: 64 MiB and 1 GiB).
#   bash bench/run-agent-upload-bench.sh [TRIALS]      (default 3) -> bench/results/agent-upload.md
# Per trial, in this order: curl (single PUT, UNSIGNED-PAYLOAD), the agent with partSize 16 MiB (multipart, the
# S3 client's default), the agent with the operator's request (partSize 5 GiB: one streamed PUT up to 5 GiB). Optimized build (BENCH_BUILD_DIR, default
# build/release, configured with tests so the s3_itest driver creates the bucket).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TRIALS=${1:-3}
B=${BENCH_BUILD_DIR:-build/release}
[ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=ON >/dev/null
cmake --build "$B" -j 2 --target memgraph-operator s3_itest >/dev/null
BIN=$ROOT/$B/src/cmd/memgraph-operator
DRIVER=$ROOT/$B/test/unit/s3/s3_itest
VGW_DIR=$(tools/versitygw/build.sh | tail -n 1)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  python3 - "$1" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("port did not open")
PY
}
mkdir -p "$work/root" "$work/data/snapshots"
GW_PORT=$(free_port)
AK=benchaccess SK=bench-secret-0123456789
"$VGW_DIR/versitygw" --access "$AK" --secret "$SK" --port "127.0.0.1:$GW_PORT" posix "$work/root" >"$work/vgw.log" 2>&1 &
pids+=($!)
wait_port "$GW_PORT"
export S3_ENDPOINT=http://127.0.0.1:$GW_PORT S3_BUCKET=bench S3_ACCESS_KEY=$AK S3_SECRET_KEY=$SK
"$DRIVER" mkbucket | grep -q '"rc":"OK"'
printf 'bench-token-0123456789abcdef' >"$work/token"
SNAP=20261202000000000000_timestamp_42
dd if=/dev/urandom of="$work/data/snapshots/$SNAP" bs=1M count=1024 status=none
dd if="$work/data/snapshots/$SNAP" of="$work/data/snapshots/small" bs=1M count=64 status=none
SHA=$(sha256sum "$work/data/snapshots/$SNAP" | cut -c1-64)

start_agent() { # fresh agent process: its VmHWM covers only what follows
  AG_PORT=$(free_port)
  "$BIN" agent serve --listen "127.0.0.1:$AG_PORT" --data-dir "$work/data" --token-file "$work/token" \
    --log-format logfmt >"$work/agent.log" 2>&1 &
  AG_PID=$!
  pids+=("$AG_PID")
  wait_port "$AG_PORT"
}
stop_agent() { kill "$AG_PID"; wait "$AG_PID" 2>/dev/null || true; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$AG_PID/status"; }

# agent_upload FILE KEY [PART_SIZE]: prints "wall_s sha256" once the job is completed.
agent_upload() {
  python3 - "$AG_PORT" "$1" "$2" "${3:-}" "$S3_ENDPOINT" "$AK" "$SK" <<'PY'
import json, sys, time, urllib.request
port, file, key, part, endpoint, ak, sk = sys.argv[1:8]
hdr = {"Authorization": "Bearer bench-token-0123456789abcdef", "Content-Type": "application/json"}
req = {"file": file, "s3": {"endpoint": endpoint, "region": "us-east-1", "bucket": "bench", "key": key,
                            "accessKey": ak, "secretKey": sk, "forcePathStyle": True}}
if part:
    req["partSize"] = int(part)
t0 = time.monotonic()
r = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/uploads", json.dumps(req).encode(),
                                                  hdr, method="POST"))
job = json.loads(r.read())["id"]
while True:  # the operator polls every 2 s; 20 ms here so the wall time is the upload's
    st = json.loads(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/uploads/{job}",
                                                                  headers=hdr)).read())
    if st["state"] != "running":
        break
    time.sleep(0.02)
if st["state"] != "completed":
    sys.exit(f"upload {st['state']}: {st.get('error')}")
print(f"{time.monotonic() - t0:.3f} {st['sha256']}")
PY
}

: >"$work/rows"
start_agent
for t in $(seq "$TRIALS"); do
  sync
  s=$(date +%s.%N)
  curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" -T "$work/data/snapshots/$SNAP" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$S3_ENDPOINT/bench/curl.bin" >/dev/null
  e=$(date +%s.%N)
  echo "$t curl $(python3 -c "print(f'{$e-$s:.3f}')")" >>"$work/rows"
  sync
  read -r wall sha < <(agent_upload "$SNAP" agent-multipart.bin 16777216)
  [ "$sha" = "$SHA" ] || { echo "agent sha mismatch" >&2; exit 1; }
  echo "$t agent-multipart $wall" >>"$work/rows"
  sync
  read -r wall sha < <(agent_upload "$SNAP" agent-single.bin 5368709120)
  [ "$sha" = "$SHA" ] || { echo "agent sha mismatch" >&2; exit 1; }
  echo "$t agent-operator $wall" >>"$work/rows"
  echo "trial $t done" >&2
done
HWM_1G=$(hwm_kib)
stop_agent
start_agent
read -r _ _ < <(agent_upload small agent-small.bin)
HWM_64M=$(hwm_kib)
stop_agent

out=bench/results/agent-upload.md
python3 - "$work/rows" "$HWM_64M" "$HWM_1G" "$TRIALS" "$(git rev-parse --short HEAD)" >"$out" <<'PY'
import statistics, sys, datetime, platform
rows, hwm64, hwm1g, trials, commit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
data = {}
lines = []
for line in open(rows):
    t, name, wall = line.split()
    mib_s = 1024 / float(wall)
    data.setdefault(name, []).append(mib_s)
    lines.append(f"| {t} | {name} | {float(wall):.2f} | {mib_s:.0f} |")
med = {k: statistics.median(v) for k, v in data.items()}
print("# Backup upload through the pod agent vs curl --aws-sigv4, 1 GiB, versitygw v1.8.0 on loopback\n")
print(f"- command: `bash bench/run-agent-upload-bench.sh {trials}` (optimized build)")
print(f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}, commit {commit}")
print(f"- machine: {platform.machine()}, 2 CPUs, Linux {platform.release()}; agent, curl and versitygw on one host")
print("- agent: `memgraph-operator agent serve`; POST /v1/uploads with partSize 16 MiB (agent-multipart: 64 parts) "
      "and as the operator sends it (agent-operator: partSize 5 GiB, one streamed PUT, the SHA-256 then set as the "
      "object's tag); the job polled every 20 ms; SHA-256 of each agent upload checked against sha256sum")
print("- curl: `curl -sS -f --aws-sigv4 \"aws:amz:us-east-1:s3\" --user K:S -T FILE -H \"x-amz-content-sha256: "
      "UNSIGNED-PAYLOAD\" URL`\n")
print("| trial | client | wall s | MiB/s |\n|---|---|---|---|")
print("\n".join(lines))
print("\n| client | median MiB/s | ratio to curl |\n|---|---|---|")
for k in ("curl", "agent-multipart", "agent-operator"):
    print(f"| {k} | {med[k]:.0f} | {med[k] / med['curl']:.2f} |")
print(f"\nAgent peak RSS (VmHWM of a fresh process): {hwm64 / 1024:.1f} MiB after a 64 MiB upload, "
      f"{hwm1g / 1024:.1f} MiB after {trials}×2 uploads of 1 GiB.")
PY
cat "$out"
