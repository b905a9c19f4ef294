#!/usr/bin/env bash
# Issue 2 measurement: warm start of the local control plane (test/cluster/up.sh), N times, from its own
# timings.json (time until etcd answers, until the API answers /readyz, until everything is ready), plus
# the warm bootstrap. Writes a markdown report (default bench/results/testbed.md).
#   bash bench/testbed_startup.sh [N] [OUT]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${1:-5}
OUT=${2:-bench/results/testbed.md}
t0=$(date +%s.%N)
bash scripts/bootstrap.sh >/dev/null
boot=$(python3 -c "import sys,time; print(f\"{time.time() - float(sys.argv[1]):.2f}\")" "$t0")
rows=""
D=""
trap '[ -z "$D" ] || bash test/cluster/down.sh "$D" --purge >/dev/null 2>&1' EXIT
for i in $(seq 1 "$N"); do
  D=$(bash test/cluster/up.sh 2>/dev/null | tail -1)
  rows+=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print("| %s | %.2f | %.2f | %.2f |" % (sys.argv[2], t["etcd_ready_s"], t["api_ready_s"], t["total_s"]))' "$D/timings.json" "$i")$'\n'
  bash test/cluster/down.sh "$D" --purge >/dev/null
  D=""
done
{
  echo "# Local control plane: warm start (issue 2)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: nproc $(nproc), $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "- command: \`bash bench/testbed_startup.sh $N\`"
  echo "- warm \`scripts/bootstrap.sh\` (everything cached): ${boot} s"
  echo
  echo "| run | etcd ready (s) | API answers /readyz (s) | all ready incl. controller manager and kubelet (s) |"
  echo "|---|---|---|---|"
  printf '%s' "$rows"
  echo
  echo "Cold set-up (not re-run here; measured once on this machine with empty Go and Maven caches at the start"
  echo "of the project): \`time bash tools/k8s-bins/build.sh\` 326 s (kube-apiserver, kube-controller-manager,"
  echo "kubectl v1.33.13, ~940 MB of modules), \`time bash tools/etcd-bin/build.sh\` 64 s (etcd v3.5.21),"
  echo "\`MAVEN_OPTS=-Dmaven.repo.local=<empty dir> OUT=<empty dir> bash tools/neo4j/build.sh\` 16 s (Neo4j 5.26.30)."
} > "$OUT"
cat "$OUT"
