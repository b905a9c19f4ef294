"""The netns pod network of the test bed (test/cluster/podnet.py): every pod in its own network namespace behind
the node's bridge, Services as real ClusterIPs through kube-proxy, partitions as rules on a pod's interface."""

import os
import secrets
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.controlplane

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "cluster"))
import podnet  # noqa: E402  test/cluster/podnet.py

ECHO_IMAGE = "mgo-test/tcp-echo:1"


@pytest.fixture(scope="module")
def netns_cp(control_plane):
    if control_plane.pod_network != "netns":
        why = podnet.check() or "MGO_POD_NETWORK=loopback was asked for"
        pytest.skip(f"the control plane runs the loopback pod network: {why}")
    return control_plane


def echo_pod(name, labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                "name": "echo", "image": ECHO_IMAGE, "args": ["--port", "8080", "--data-dir", "/tmp"],
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 1}}]}}


def service(name, selector):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}]}}


def ask(sock, line):
    sock.sendall(line.encode() + b"\n")
    return sock.makefile(encoding="utf-8").readline().strip()


def connect(addr, port, timeout=3):
    return socket.create_connection((addr, port), timeout=timeout)


def from_pod(cp, ns, pod, addr, port, line="WHOAMI", timeout=3):
    """Sends one line to addr:port from inside `pod`'s network namespace; its answer, or 'ERR <exception>'."""
    code = ("import socket, sys\n"
            "try:\n"
            f"    s = socket.create_connection(({addr!r}, {port}), timeout={timeout})\n"
            f"    s.sendall({(line + chr(10)).encode()!r})\n"
            "    print(s.makefile().readline().strip())\n"
            "except OSError as e:\n"
            "    print('ERR', type(e).__name__)\n")
    return cp.pod_exec(ns, pod, [sys.executable, "-c", code], timeout=timeout + 10).stdout.strip()


@pytest.fixture(scope="module")
def echoes(netns_cp):
    """Pods a-0, a-1 (app=a) behind Service `a`; pod b-0 (app=b) as a client; all Ready."""
    cp = netns_cp
    ns = cp.create_namespace(f"t-podnet-{secrets.token_hex(3)}")
    for name, app in (("a-0", "a"), ("a-1", "a"), ("b-0", "b")):
        cp.apply(echo_pod(name, {"app": app}), ns)
    cp.apply(service("a", {"app": "a"}), ns)
    for name in ("a-0", "a-1", "b-0"):
        cp.wait_for(lambda n=name: cp.api.get(f"/api/v1/namespaces/{ns}/pods/{n}")["status"].get("conditions")
                    and any(c["type"] == "Ready" and c["status"] == "True"
                            for c in cp.api.get(f"/api/v1/namespaces/{ns}/pods/{n}")["status"]["conditions"]),
                    timeout=60, message=f"pod {name} Ready")
    yield ns
    cp.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def cluster_ip(cp, ns, svc):
    return cp.api.get(f"/api/v1/namespaces/{ns}/services/{svc}")["spec"]["clusterIP"]


def slice_ips(cp, ns, svc):
    items = cp.api.get(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"
                       f"?labelSelector=kubernetes.io/service-name%3D{svc}")["items"]
    return sorted(a for sl in items for ep in sl.get("endpoints") or []
                  if (ep.get("conditions") or {}).get("ready") for a in ep["addresses"])


def test_pods_have_private_addresses_and_real_endpoint_slices(netns_cp, echoes):
    cp, ns = netns_cp, echoes
    ips = {n: cp.pod_ip(ns, n) for n in ("a-0", "a-1")}
    # the API server refuses loopback addresses in EndpointSlices; these are the pods' own, so the controller
    # manager publishes them
    cp.wait_for(lambda: slice_ips(cp, ns, "a") == sorted(ips.values()), timeout=30, message="2 ready endpoints")
    # each pod has its own namespace: it sees only its own eth0 and lo, and its hostname is the pod's
    pid = cp.pod_pid(ns, "a-0")
    links = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-o", "-4", "addr"], capture_output=True,
                           text=True, check=True).stdout
    assert sorted(line.split()[1] for line in links.splitlines()) == ["eth0", "lo"], links
    assert f"inet {ips['a-0']}/16" in links
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")


def test_a_cluster_ip_reaches_the_ready_endpoints_from_the_host_and_from_pods(netns_cp, echoes):
    cp, ns = netns_cp, echoes
    vip = cluster_ip(cp, ns, "a")
    assert vip.startswith("10.") and vip not in (cp.pod_ip(ns, "a-0"), cp.pod_ip(ns, "a-1"))
    seen = set()

    def both_answered():  # kube-proxy balances new connections at random over the endpoints it has synced
        with connect(vip, 80) as s:
            seen.add(ask(s, "WHOAMI").split()[0])
        return seen == {"a-0", "a-1"}
    cp.wait_for(both_answered, timeout=30, interval=0.05, message=f"both endpoints answering on {vip}")
    # a pod reaches it by its Service name (the pods' hosts file maps it to the ClusterIP), and a pod reaches its
    # own Service (the bridge port is in hairpin mode, kube-proxy masquerades the hairpin connection)
    assert from_pod(cp, ns, "b-0", f"a.{ns}.svc.cluster.local", 80).split()[0] in ("a-0", "a-1")
    for _ in range(20):
        if from_pod(cp, ns, "a-0", vip, 80).startswith("a-0 "):
            break
    else:
        pytest.fail("a-0 never reached itself through its Service")


def test_an_unready_pod_leaves_the_service_but_a_kept_connection_still_reaches_it(netns_cp, echoes):
    """The hazard the fencing work must survive: conntrack keeps an established connection on its endpoint after
    the endpoint leaves the Service; only new connections follow the EndpointSlice."""
    cp, ns = netns_cp, echoes
    vip = cluster_ip(cp, ns, "a")
    kept = None
    for _ in range(40):
        s = connect(vip, 80)
        if ask(s, "WHOAMI").startswith("a-1 "):
            kept = s
            break
        s.close()
    assert kept is not None, "no connection through the ClusterIP landed on a-1"
    try:
        cp.kubectl("label", "pod", "a-1", "-n", ns, "app=gone", "--overwrite")
        cp.wait_for(lambda: slice_ips(cp, ns, "a") == [cp.pod_ip(ns, "a-0")], timeout=30,
                    message="a-1 out of the EndpointSlice")
        def new_connections_reach_a0_only():  # once kube-proxy has synced the slice
            for _ in range(10):
                with connect(vip, 80) as s:
                    if not ask(s, "WHOAMI").startswith("a-0 "):
                        return False
            return True
        cp.wait_for(new_connections_reach_a0_only, timeout=30, message="new connections on a-0 only")
        assert ask(kept, "WHOAMI").startswith("a-1 ")  # the kept one: still on the pod that left
    finally:
        kept.close()
        cp.kubectl("label", "pod", "a-1", "-n", ns, "app=a", "--overwrite")
    cp.wait_for(lambda: len(slice_ips(cp, ns, "a")) == 2, timeout=30, message="a-1 back in the Service")


def test_a_partition_cuts_the_host_or_the_pods_and_heals(netns_cp, echoes):
    cp, ns = netns_cp, echoes
    ip = cp.pod_ip(ns, "a-1")
    with connect(ip, 8080) as s:
        assert ask(s, "PING") == "PONG"
    try:
        cp.partition_pod(ns, "a-1", cut=("host",))
        with pytest.raises(OSError):  # dropped, not refused: the connect times out
            connect(ip, 8080, timeout=1).close()
        assert from_pod(cp, ns, "b-0", ip, 8080, "PING") == "PONG"  # other pods still reach it
        assert from_pod(cp, ns, "a-1", ip, 8080, "PING") == "PONG"  # and so does the pod itself
        cp.partition_pod(ns, "a-1", cut=("host", "pods"))
        assert from_pod(cp, ns, "b-0", ip, 8080, "PING", timeout=1) == "ERR TimeoutError"
        # the kubelet's probes come from the host too: the pod turns un-Ready and leaves its Service
        cp.wait_for(lambda: slice_ips(cp, ns, "a") == [cp.pod_ip(ns, "a-0")], timeout=30,
                    message="partitioned a-1 out of the Service")
    finally:
        cp.heal_pod(ns, "a-1")
    with connect(ip, 8080) as s:
        assert ask(s, "PING") == "PONG"
    assert from_pod(cp, ns, "b-0", ip, 8080, "PING") == "PONG"
    cp.wait_for(lambda: len(slice_ips(cp, ns, "a")) == 2, timeout=30, message="healed a-1 back in the Service")
    rules = cp.pod_exec(ns, "a-1", ["iptables", "-w", "-S"]).stdout
    assert cp.PARTITION_CHAIN not in rules
