#!/usr/bin/env bash
# Stop a control plane started by up.sh, by recorded PID (SIGTERM, wait, SIGKILL):
#   test/cluster/down.sh STATE_DIR [--purge]
# Order: test kubelet, kube-proxy, every pod process it started, kube-controller-manager, kube-apiserver, etcd,
# then the pod network (netns mode).
# Pod processes are found through STATE_DIR/pods/*/*.pid and only signalled if their environment carries
# MGO_KUBELET_STATE_DIR=STATE_DIR (the kubelet sets it), so a recycled PID is never hit.
# --purge also removes STATE_DIR (logs included).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
D=$(cd "${1:?usage: down.sh STATE_DIR [--purge]}" && pwd) || exit 1

is_our_pod_process() {
  tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF "MGO_KUBELET_STATE_DIR=$D"
}

stop_pidfile "$D/kubelet.pid" 15
stop_pidfile "$D/kube-proxy.pid" 5
for f in "$D"/pods/*/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f" 2>/dev/null) || continue
  if [ -n "$pid" ] && is_our_pod_process "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || true # the container's process group (children included)
    stop_pid "$pid" 5
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
for name in kube-controller-manager apiserver etcd; do
  stop_pidfile "$D/$name.pid" 20
done
NET_BLOCK=$(sed -n 's/^NET_BLOCK=//p' "$D/cluster.env" 2>/dev/null)
if [ -n "$NET_BLOCK" ]; then
  "$MGO_PYTHON" "$HERE/podnet.py" release "$NET_BLOCK" || true # pod and node namespaces, the host's NAT rules
fi
if [ "${2:-}" = --purge ]; then
  rm -rf "$D"
fi
exit 0
