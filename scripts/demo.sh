#!/usr/bin/env bash
# The README's "run the main job": bring up the local control plane (real etcd, kube-apiserver,
# kube-controller-manager and the test kubelet), run `memgraph-operator run` against it with the operator's
# least-privilege ServiceAccount, show it connected and leading, stop it gracefully (it releases its Lease),
# and tear everything down again (also on failure or Ctrl-C).
#
# Environment: MGO_SKIP_BOOTSTRAP=1 skips scripts/bootstrap.sh (already bootstrapped machines);
# MGO_DEMO_BUILD=release|debug picks the build (default release); MGO_DEMO_HOLD=SECONDS keeps the operator
# running that long after it leads (default 3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
say() { printf '\n==== %s\n' "$*"; }

if [ "${MGO_SKIP_BOOTSTRAP:-0}" != 1 ]; then
  say "bootstrap (installs what is missing; seconds when warm)"
  bash scripts/bootstrap.sh
fi

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

say "memgraph-operator run (ServiceAccount memgraph-operator-system/memgraph-operator)"
"$OPERATOR" run --kubeconfig "$MGO_OPERATOR_KUBECONFIG" >"$LOG" 2>&1 &
OP_PID=$!
tail -n +1 -f "$LOG" --pid "$OP_PID" &
TAIL_PID=$!
deadline=$((SECONDS + 60))
until grep -q 'msg=leading' "$LOG"; do
  if ! kill -0 "$OP_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
    kill "$TAIL_PID" 2>/dev/null || true
    echo "memgraph-operator did not reach leadership" >&2
    exit 1
  fi
  sleep 0.2
done
grep -q 'msg=connected' "$LOG"
sleep "${MGO_DEMO_HOLD:-3}"

say "stopping memgraph-operator (SIGTERM: graceful, releases the Lease)"
kill -TERM "$OP_PID"
OP_RC=0
wait "$OP_PID" || OP_RC=$?
OP_PID=""
wait "$TAIL_PID" 2>/dev/null || true
[ "$OP_RC" -eq 0 ] || { echo "memgraph-operator exited with $OP_RC" >&2; exit 1; }
grep -q 'msg="lease released"' "$LOG" || { echo "the Lease was not released" >&2; exit 1; }
say "demo finished: connected, led, released the Lease"
