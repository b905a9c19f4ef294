#!/usr/bin/env bash
# The project's kubectl (same version as the control plane, from the k8s cache dir).
#   test/cluster/kubectl.sh [--state-dir DIR] ARGS...
# Kubeconfig: DIR/admin.kubeconfig if --state-dir is given, else $KUBECONFIG,
# else $MGO_CONTROL_PLANE_DIR/admin.kubeconfig.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if [ "${1:-}" = --state-dir ]; then
  export KUBECONFIG=$2/admin.kubeconfig
  shift 2
elif [ -z "${KUBECONFIG:-}" ] && [ -n "${MGO_CONTROL_PLANE_DIR:-}" ]; then
  export KUBECONFIG=$MGO_CONTROL_PLANE_DIR/admin.kubeconfig
fi
exec "$KUBECTL" "$@"
