#!/usr/bin/env bash
# The README's main command: bring up the local control plane (real etcd, kube-apiserver, kube-controller-manager
# and the test kubelet, whose memgraph pods run the Memgraph emulator), install the CRDs and the least-privilege
# RBAC, run `memgraph-operator run` with the operator's ServiceAccount credential, then tell the story of
# scripts/demo_story.py: a 3-instance MemgraphCluster with one SYNC replica and backups to versitygw (a real S3
# server), an application writing through the write Service, the MAIN crashing and failed over as it happens
# (status, Events, how long writes were unavailable), every write read back through the new MAIN, a backup
# restored into a second cluster. Then the operator's /api/v1/clusters view, a graceful stop of the operator, and
# everything torn down (also on failure or Ctrl-C).
#
# Environment: MGO_SKIP_BOOTSTRAP=1 skips scripts/bootstrap.sh (already bootstrapped machines; it is run anyway
# when the control plane binaries are missing); MGO_DEMO_BUILD=release|debug picks the build (default release);
# MGO_DEMO_HOLD=SECONDS keeps everything running that long after printing the status (default 0);
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
say() { printf '\n==== %s\n' "$*"; }

# shellcheck disable=SC1091
K8S_VERSION=$(. tools/versions.env && echo "$K8S")
KUBECTL=${MGO_CACHE:-$HOME/.cache/memgraph-operator}/k8s-$K8S_VERSION/kubectl
if [ "${MGO_SKIP_BOOTSTRAP:-0}" != 1 ] || [ ! -x "$KUBECTL" ]; then
  say "bootstrap (installs what is missing; seconds when warm)"
  bash scripts/bootstrap.sh
fi

if [ -n "${MGO_OPERATOR_BIN:-}" ]; then
  OPERATOR=$(cd "$(dirname "$MGO_OPERATOR_BIN")" && pwd)/$(basename "$MGO_OPERATOR_BIN")
  say "using memgraph-operator $OPERATOR (MGO_OPERATOR_BIN; not building)"
else
  BUILD=${MGO_DEMO_BUILD:-release}
  case "$BUILD" in
  release) BDIR=build/release CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF) ;;
  debug) BDIR=build/debug CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=Debug -DMGO_SANITIZE=ON) ;;
  *) echo "MGO_DEMO_BUILD must be release or debug" >&2; exit 2 ;;
  esac
  say "building memgraph-operator ($BUILD)"
  [ -f "$BDIR/CMakeCache.txt" ] || cmake -S . -B "$BDIR" "${CMAKE_ARGS[@]}" >/dev/null
  cmake --build "$BDIR" -j 2 --target memgraph-operator >/dev/null
  OPERATOR=$ROOT/$BDIR/src/cmd/memgraph-operator
fi
export MGO_OPERATOR_BIN=$OPERATOR # the test kubelet runs the pods' operator-agent init step with it
"$OPERATOR" version

STATE_DIR=""
OP_PID=""
LOG=$(mktemp /tmp/mgo-demo-operator.XXXXXX)
cleanup() {
  local rc=$?
  if [ -n "$OP_PID" ] && kill -0 "$OP_PID" 2>/dev/null; then
    kill -TERM "$OP_PID" 2>/dev/null || true
    wait "$OP_PID" 2>/dev/null || true
  fi
  if [ -n "$STATE_DIR" ]; then
    say "tearing down the control plane"
    bash test/cluster/down.sh "$STATE_DIR" --purge || true
  fi
  rm -f "$LOG"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting the local control plane"
UP_OUT=$(bash test/cluster/up.sh)
printf '%s\n' "$UP_OUT"
STATE_DIR=$(printf '%s\n' "$UP_OUT" | tail -n 1)
[ -f "$STATE_DIR/env" ] || { echo "up.sh did not report a state directory" >&2; exit 1; }
# shellcheck disable=SC1091  # written by up.sh
. "$STATE_DIR/env"

say "installing the CRD and the operator's RBAC"
"$KUBECTL" apply --server-side --force-conflicts -f config/crd/memgraph.io_memgraphclusters.yaml \
  -f config/crd/memgraph.io_memgraphbackups.yaml
# Polled rather than `kubectl wait`, which fails at once when it reads a CRD that has no condition yet.
for crd in memgraphclusters.memgraph.io memgraphbackups.memgraph.io; do
  deadline=$((SECONDS + 60))
  until [ "$("$KUBECTL" get crd "$crd" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}')" = True ]; do
    [ $SECONDS -lt $deadline ] || { echo "CRD $crd not Established" >&2; exit 1; }
    sleep 0.2
  done
done
"$KUBECTL" apply -k config/rbac

HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
say "memgraph-operator run (ServiceAccount memgraph-operator-system/memgraph-operator, http 127.0.0.1:$HTTP_PORT)"
# with-cluster-dns.sh: the operator sees the same /etc/hosts as the pods (pod and Service DNS names).
bash test/cluster/with-cluster-dns.sh "$STATE_DIR" "$OPERATOR" run --kubeconfig "$MGO_OPERATOR_KUBECONFIG" \
  --http-addr 127.0.0.1 --http-port "$HTTP_PORT" --identity demo-operator >"$LOG" 2>&1 &
OP_PID=$!
deadline=$((SECONDS + 60))
until grep -q 'msg=leading' "$LOG"; do
  if ! kill -0 "$OP_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
    cat "$LOG" >&2
    echo "memgraph-operator did not reach leadership" >&2
    exit 1
  fi
  sleep 0.2
done
grep -E 'msg=(starting|connected|leading)' "$LOG" || true

NS=demo
"$KUBECTL" create namespace "$NS"
until "$KUBECTL" get serviceaccount default -n "$NS" >/dev/null 2>&1; do sleep 0.2; done
WORK=$(mktemp -d /tmp/mgo-demo-work.XXXXXX)
# The story (scripts/demo_story.py): a cluster with one SYNC replica and backups to versitygw, an application
# that writes through the write Service, a crashed MAIN failed over, a backup restored into a second cluster.
# It runs with the pods' DNS view, as an application in the cluster would.
KUBECTL="$KUBECTL" MGO_DEMO_NS="$NS" MGO_DEMO_WORK="$WORK" MGO_STATE_DIR="$STATE_DIR" \
  bash test/cluster/with-cluster-dns.sh "$STATE_DIR" "$ROOT/.venv/bin/python" scripts/demo_story.py || {
  rc=$?
  tail -n 40 "$LOG" >&2
  exit "$rc"
}
rm -rf "$WORK"
say "the operator's view: curl http://127.0.0.1:$HTTP_PORT/api/v1/clusters/$NS/mg (abridged)"
curl -sf "http://127.0.0.1:$HTTP_PORT/api/v1/clusters/$NS/mg" |
  python3 -c 'import json, sys; c = json.load(sys.stdin); print(json.dumps({k: c[k] for k in ("phase", "currentMain", "currentSyncReplicas", "syncReplicaHealthy")}, indent=1)); print(json.dumps(c["status"]["lastFailover"], indent=1))'

if [ "${MGO_DEMO_HOLD:-0}" != 0 ]; then
  say "holding for ${MGO_DEMO_HOLD}s (KUBECONFIG=$KUBECONFIG, http://127.0.0.1:$HTTP_PORT)"
  sleep "$MGO_DEMO_HOLD"
fi

say "stopping memgraph-operator (SIGTERM: graceful, releases the Lease)"
kill -TERM "$OP_PID"
OP_RC=0
wait "$OP_PID" || OP_RC=$?
OP_PID=""
[ "$OP_RC" -eq 0 ] || { tail -n 20 "$LOG" >&2; echo "memgraph-operator exited with $OP_RC" >&2; exit 1; }
say "demo finished: failover without losing a write, backup restored"
