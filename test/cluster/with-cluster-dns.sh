#!/usr/bin/env bash
# Run a host command with the cluster's DNS view: STATE_DIR/hosts bind-mounted at /etc/hosts inside a private
# mount namespace (the same file the test kubelet gives every pod, updated in place). Needs root (unshare).
#   test/cluster/with-cluster-dns.sh STATE_DIR COMMAND [ARGS...]
# The command's PID is this script's PID (exec all the way), so callers can signal it directly.
set -euo pipefail
D=$(cd "${1:?usage: with-cluster-dns.sh STATE_DIR COMMAND [ARGS...]}" && pwd)
shift
[ $# -gt 0 ] || { echo "usage: with-cluster-dns.sh STATE_DIR COMMAND [ARGS...]" >&2; exit 2; }
exec unshare --mount --propagation private -- sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$D/hosts" "$@"
