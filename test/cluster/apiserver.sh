#!/usr/bin/env bash
# Stop or (re)start the kube-apiserver of a control plane made by up.sh, with the same flags and port.
#   test/cluster/apiserver.sh stop|start|restart STATE_DIR
# stop: SIGTERM, then SIGKILL after MGO_APISERVER_STOP_GRACE seconds (default 1: v1.33 can linger ~20 s in
# graceful shutdown with open watches, and tests only need it gone).
# start returns once GET /readyz answers 200 (TLS verified with the state dir's CA).
# Env: MGO_WATCH_CACHE=true re-enables the apiserver watch cache (off by default; see README.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
action=${1:?usage: apiserver.sh stop|start|restart STATE_DIR}
D=$(cd "${2:?usage: apiserver.sh stop|start|restart STATE_DIR}" && pwd)
source "$D/cluster.env"

api_ready() {
  curl -sf --max-time 2 --cacert "$D/pki/ca.crt" "https://127.0.0.1:$API_PORT/readyz" >/dev/null
}

start() {
  if [ -f "$D/apiserver.pid" ] && pid_alive "$(cat "$D/apiserver.pid")"; then
    echo "apiserver already running (pid $(cat "$D/apiserver.pid"))" >&2
    return 0
  fi
  setsid "$K8S_BIN_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --tls-cert-file="$D/pki/apiserver.crt" --tls-private-key-file="$D/pki/apiserver.key" \
    --cert-dir="$D/pki/apiserver-generated" \
    --token-auth-file="$D/pki/tokens.csv" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$D/pki/sa.key" --service-account-signing-key-file="$D/pki/sa.key" \
    --service-cluster-ip-range="${SERVICE_CIDR:-10.96.0.0/16}" --endpoint-reconciler-type=none \
    --allow-privileged=true --profiling="${MGO_APISERVER_PROFILING:-false}" \
    --kubelet-preferred-address-types=InternalIP --kubelet-certificate-authority="$D/pki/ca.crt" \
    --watch-cache="${MGO_WATCH_CACHE:-false}" \
    --v="${MGO_APISERVER_V:-1}" \
    </dev/null >>"$D/log/apiserver.log" 2>&1 &
  echo $! >"$D/apiserver.pid"
  if ! wait_until "${MGO_APISERVER_TIMEOUT:-90}" "kube-apiserver /readyz" api_ready; then
    tail -n 40 "$D/log/apiserver.log" >&2
    return 1
  fi
}

case $action in
  stop) stop_pidfile "$D/apiserver.pid" "${MGO_APISERVER_STOP_GRACE:-1}" ;;
  start) start ;;
  restart) stop_pidfile "$D/apiserver.pid" "${MGO_APISERVER_STOP_GRACE:-1}"; start ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
