#!/usr/bin/env bash
# The README's main command: bring up the local control plane (real etcd, kube-apiserver, kube-controller-manager
# and the test kubelet, whose memgraph pods run the Memgraph emulator), install the CRD and the least-privilege
# RBAC, run `memgraph-operator run` with the operator's ServiceAccount credential, create a 3-instance
# MemgraphCluster (config/samples/memgraphcluster-minimal.yaml), wait until it is Ready (printing progress), show
# `kubectl get mgc -o wide`, the pods with their role labels and the operator's /api/v1/clusters/<ns>/<name>, then
# stop the operator gracefully and tear everything down (also on failure or Ctrl-C).
#
# Environment: MGO_SKIP_BOOTSTRAP=1 skips scripts/bootstrap.sh (already bootstrapped machines; it is run anyway
# when the control plane binaries are missing); MGO_DEMO_BUILD=release|debug picks the build (default release);
# MGO_DEMO_HOLD=SECONDS keeps everything running that long after printing the status (default 0);
# MGO_DEMO_TIMEOUT=SECONDS how long to wait for Ready (default 180).
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
"$KUBECTL" wait --for=condition=Established --timeout=60s crd/memgraphclusters.memgraph.io
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
NAME=$(awk '/^  name:/ {print $2; exit}' config/samples/memgraphcluster-minimal.yaml)
say "creating MemgraphCluster $NS/$NAME (config/samples/memgraphcluster-minimal.yaml)"
"$KUBECTL" create namespace "$NS"
until "$KUBECTL" get serviceaccount default -n "$NS" >/dev/null 2>&1; do sleep 0.2; done
"$KUBECTL" apply -n "$NS" -f config/samples/memgraphcluster-minimal.yaml

say "waiting for $NS/$NAME to be Ready"
deadline=$((SECONDS + ${MGO_DEMO_TIMEOUT:-180}))
last=""
while :; do
  line=$("$KUBECTL" get mgc "$NAME" -n "$NS" --no-headers \
    -o 'custom-columns=PHASE:.status.phase,MAIN:.status.currentMain,READY:.status.ready,REG:.status.registeredReplicas,R:.status.conditions[?(@.type=="Ready")].status' \
    2>/dev/null || true)
  if [ "$line" != "$last" ]; then
    # shellcheck disable=SC2086  # the columns are split into the fields on purpose
    printf '  %3ds  phase=%s main=%s ready=%s registered=%s Ready=%s\n' "$SECONDS" $line
    last=$line
  fi
  if [ "$("$KUBECTL" get mgc "$NAME" -n "$NS" -o 'jsonpath={.status.phase}/{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = "Running/True" ]; then
    break
  fi
  if ! kill -0 "$OP_PID" 2>/dev/null; then
    tail -n 40 "$LOG" >&2
    echo "memgraph-operator exited" >&2
    exit 1
  fi
  if [ $SECONDS -ge $deadline ]; then
    tail -n 40 "$LOG" >&2
    "$KUBECTL" get mgc "$NAME" -n "$NS" -o yaml >&2 || true
    echo "$NS/$NAME did not become Ready" >&2
    exit 1
  fi
  sleep 0.5
done

say "kubectl get mgc -n $NS -o wide"
"$KUBECTL" get mgc -n "$NS" -o wide
say "kubectl get pods -n $NS -L memgraph.io/role -o wide"
"$KUBECTL" get pods -n "$NS" -L memgraph.io/role -o wide
say "curl http://127.0.0.1:$HTTP_PORT/api/v1/clusters/$NS/$NAME"
curl -sf "http://127.0.0.1:$HTTP_PORT/api/v1/clusters/$NS/$NAME" | python3 -m json.tool

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
say "demo finished: $NS/$NAME reached Ready"
