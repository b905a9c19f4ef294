#!/usr/bin/env bash
# Start a real local Kubernetes control plane plus the test kubelet and kube-proxy:
#   test/cluster/up.sh [STATE_DIR]        (default: a fresh mktemp dir under /tmp)
# Pod network (env MGO_POD_NETWORK): netns = every pod in its own network namespace behind a bridge, Services
# through kube-proxy (podnet.py); loopback = pods on 127.1.x.y, Services only as hosts-file names; auto (default) =
# netns where it can be made here (root, ip, iptables), else loopback. The choice is printed and kept in cluster.env.
# Writes STATE_DIR/{admin.kubeconfig,operator.kubeconfig,env,timings.json,cluster.env}, logs in STATE_DIR/log/,
# PIDs in STATE_DIR/*.pid. Prints the timings, and the state dir as the LAST stdout line.
# Stop with test/cluster/down.sh STATE_DIR. See test/cluster/README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

D=${1:-$(mktemp -d /tmp/mgo-cp.XXXXXX)}
mkdir -p "$D"
D=$(cd "$D" && pwd)
for f in "$D"/*.pid; do
  if [ -f "$f" ] && pid_alive "$(cat "$f")"; then
    echo "up.sh: $D already has a running control plane ($f); use a new STATE_DIR or down.sh it first" >&2
    exit 1
  fi
done
mkdir -p "$D/log" "$D/pki" "$D/pods" "$D/pv" "$D/etcd-data"
T0=$(now_ms)

for b in "$ETCD_BIN" "$K8S_BIN_DIR/kube-apiserver" "$K8S_BIN_DIR/kube-controller-manager" "$KUBECTL" \
  "$K8S_BIN_DIR/kube-proxy"; do
  [ -x "$b" ] || { echo "missing binary $b (run scripts/bootstrap.sh)" >&2; exit 1; }
done

fail() {
  echo "up.sh: $*" >&2
  log_tail "$D" 40
  bash "$HERE/down.sh" "$D" >&2 || true
  exit 1
}

# ---- ports: four distinct free loopback ports from below the kernel's ephemeral range. A port the kernel
# hands out for bind(0) comes from that range, which outgoing connections also draw from, so one of them could
# take it in the seconds before kube-controller-manager binds (seen with 6 control planes starting at once).
read -r ETCD_PORT ETCD_PEER_PORT API_PORT KCM_PORT < <("$MGO_PYTHON" -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports, held = [], []
candidates = range(20000, max(low, 20100))
for port in random.sample(candidates, min(400, len(candidates))):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    held.append(s)
    ports.append(port)
    if len(ports) == 4:
        break
print(*ports)')

# ---- pod network: a block of addresses and a node namespace of our own (netns), or loopback addresses
POD_NETWORK=${MGO_POD_NETWORK:-auto}
NET_BLOCK="" HOST_IP=127.0.0.1 SERVICE_CIDR=10.96.0.0/16
if [ "$POD_NETWORK" = auto ]; then
  if why=$("$MGO_PYTHON" "$HERE/podnet.py" check 2>&1); then POD_NETWORK=netns; else
    POD_NETWORK=loopback
    echo "pod network: loopback, because network namespaces are not available here: $why"
  fi
fi
case $POD_NETWORK in
  netns)
    NET_BLOCK=$("$MGO_PYTHON" "$HERE/podnet.py" claim "$D") || fail "claiming a pod network block failed"
    HOST_IP=10.200.$NET_BLOCK.1 SERVICE_CIDR=10.$((128 + NET_BLOCK)).0.0/16
    echo "pod network: netns (pods 10.$((64 + NET_BLOCK)).0.0/16, Services $SERVICE_CIDR, host $HOST_IP)" ;;
  loopback) ;;
  *) fail "MGO_POD_NETWORK must be auto, netns or loopback (got '$POD_NETWORK')" ;;
esac
cat >"$D/cluster.env" <<ENV
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
API_PORT=$API_PORT
KCM_PORT=$KCM_PORT
POD_NETWORK=$POD_NETWORK
NET_BLOCK=$NET_BLOCK
HOST_IP=$HOST_IP
SERVICE_CIDR=$SERVICE_CIDR
ENV

# ---- PKI: our own CA, an apiserver serving cert (SANs 127.0.0.1, localhost), the service-account key, tokens
PKI_EXTRA_IPS=$([ "$POD_NETWORK" = netns ] && echo "$HOST_IP") bash "$HERE/pki.sh" "$D/pki" >"$D/log/pki.log" 2>&1 ||
  fail "PKI generation failed"
ADMIN_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
echo "$ADMIN_TOKEN,mgo-admin,mgo-admin-uid,system:masters" >"$D/pki/tokens.csv"
chmod 600 "$D/pki/tokens.csv"

# ---- etcd
ETCD_URL=http://127.0.0.1:$ETCD_PORT
setsid "$ETCD_BIN" --data-dir="$D/etcd-data" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="default=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --log-level=warn --quota-backend-bytes=2147483648 \
  </dev/null >"$D/log/etcd.log" 2>&1 &
echo $! >"$D/etcd.pid"
wait_until 30 "etcd /health" curl -sf --max-time 2 "$ETCD_URL/health" || fail "etcd did not become healthy"
T_ETCD=$(now_ms)

# ---- kube-apiserver (flags live in apiserver.sh so tests can restart it identically)
bash "$HERE/apiserver.sh" start "$D" || fail "kube-apiserver did not become ready"
T_API=$(now_ms)
SERVER=https://127.0.0.1:$API_PORT

write_kubeconfig() { # FILE USER TOKEN [SERVER]
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: mgo-local
  cluster:
    server: ${4:-$SERVER}
    certificate-authority-data: $(base64 -w0 "$D/pki/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: mgo-local
  context:
    cluster: mgo-local
    user: $2
current-context: mgo-local
KC
  chmod 600 "$1"
}
write_kubeconfig "$D/admin.kubeconfig" mgo-admin "$ADMIN_TOKEN"
K() { "$KUBECTL" --kubeconfig="$D/admin.kubeconfig" "$@"; }

# ---- kube-controller-manager (explicit controllers; no node-lifecycle, no pod-garbage-collector)
KCM_CONTROLLERS=statefulset-controller,garbage-collector-controller,serviceaccount-controller,namespace-controller
KCM_CONTROLLERS+=,persistentvolumeclaim-protection-controller,disruption-controller,endpoints-controller
KCM_CONTROLLERS+=,endpointslice-controller,root-ca-certificate-publisher-controller
setsid "$K8S_BIN_DIR/kube-controller-manager" --kubeconfig="$D/admin.kubeconfig" \
  --controllers="$KCM_CONTROLLERS" \
  --root-ca-file="$D/pki/ca.crt" \
  --leader-elect=false --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$D/pki/kcm" \
  --v="${MGO_KCM_V:-1}" \
  </dev/null >"$D/log/kube-controller-manager.log" 2>&1 &
echo $! >"$D/kube-controller-manager.pid"

# ---- the test kubelet (needs only the API; starts while the controller manager warms up)
MGO_REPO="$MGO_REPO" setsid "$MGO_PYTHON" "$HERE/kubelet.py" --kubeconfig "$D/admin.kubeconfig" --state-dir "$D" \
  </dev/null >>"$D/log/kubelet.log" 2>&1 &
echo $! >"$D/kubelet.pid"

# ---- kube-proxy, inside the node namespace: its iptables rules make ClusterIPs real for pods and the host alike
if [ "$POD_NETWORK" = netns ]; then
  write_kubeconfig "$D/kube-proxy.kubeconfig" mgo-admin "$ADMIN_TOKEN" "https://$HOST_IP:$API_PORT"
  setsid nsenter --net="/run/netns/mgo-n$NET_BLOCK" "$K8S_BIN_DIR/kube-proxy" \
    --kubeconfig="$D/kube-proxy.kubeconfig" --hostname-override="${MGO_NODE_NAME:-mgo-node}" \
    --proxy-mode=iptables --cluster-cidr="10.$((64 + NET_BLOCK)).0.0/16" --conntrack-max-per-core=0 \
    --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256 --v="${MGO_KUBE_PROXY_V:-1}" \
    </dev/null >"$D/log/kube-proxy.log" 2>&1 &
  echo $! >"$D/kube-proxy.pid"
fi

# ---- the operator's real ServiceAccount, least-privilege RBAC, and a long-lived token (TokenRequest API)
K apply -k "$MGO_REPO/config/rbac" >"$D/log/rbac.log" 2>&1 || fail "applying config/rbac failed"
OP_TOKEN=$(K create token memgraph-operator -n memgraph-operator-system --duration=8760h) ||
  fail "TokenRequest for memgraph-operator failed"
write_kubeconfig "$D/operator.kubeconfig" memgraph-operator "$OP_TOKEN"

wait_until 60 "kube-controller-manager /healthz" \
  curl -skf --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" || fail "kube-controller-manager not healthy"
# The serviceaccount controller is what lets pods be admitted: wait for it to create `default/default`.
wait_until 60 "ServiceAccount default/default" K get serviceaccount default -n default ||
  fail "serviceaccount controller did not create default/default"
T_KCM=$(now_ms)
node_ready() {
  [ "$(K get node "${MGO_NODE_NAME:-mgo-node}" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
wait_until 30 "test kubelet Node Ready" node_ready || fail "test kubelet did not register a Ready node"
proxy_synced() { nsenter --net="/run/netns/mgo-n$NET_BLOCK" curl -sf --max-time 2 http://127.0.0.1:10256/healthz; }
if [ "$POD_NETWORK" = netns ]; then
  wait_until 60 "kube-proxy /healthz" proxy_synced || fail "kube-proxy did not sync its rules"
fi
T_END=$(now_ms)

cat >"$D/env" <<ENV
export KUBECONFIG=$D/admin.kubeconfig
export MGO_OPERATOR_KUBECONFIG=$D/operator.kubeconfig
export MGO_API_SERVER=$SERVER
export MGO_CONTROL_PLANE_DIR=$D
export MGO_ETCD_URL=$ETCD_URL
export MGO_POD_NETWORK=$POD_NETWORK
export MGO_HOST_IP=$HOST_IP
ENV

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }
cat >"$D/timings.json" <<JSON
{"etcd_ready_s": $(secs "$T0" "$T_ETCD"), "api_ready_s": $(secs "$T0" "$T_API"), "apiserver_start_s": $(secs "$T_ETCD" "$T_API"), "controller_manager_ready_s": $(secs "$T0" "$T_KCM"), "total_s": $(secs "$T0" "$T_END")}
JSON
echo "timings: $(cat "$D/timings.json")"
echo "$D"
