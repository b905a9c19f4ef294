"""The real local control plane and the test kubelet (test/cluster/), exercised through the API."""

import ipaddress
import json
import os
import secrets
import socket
import subprocess
import time

import pytest
from kubeapi import ApiError  # test/cluster/kubeapi.py (on sys.path through test/conftest.py)

pytestmark = pytest.mark.controlplane

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ECHO_IMAGE = "mgo-test/tcp-echo:1"


def echo(ip, line, port=8080, timeout=5):
    with socket.create_connection((ip, port), timeout=timeout) as s:
        s.sendall(line.encode() + b"\n")
        return s.makefile(encoding="utf-8").readline().strip()


def ready(pod):
    conds = {c["type"]: c for c in (pod or {}).get("status", {}).get("conditions") or []}
    return conds.get("Ready", {}).get("status") == "True"


def proc_state(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def statefulset(name, replicas=3):
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
        "spec": {
            "serviceName": name, "replicas": replicas, "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "initContainers": [{"name": "sysctl", "image": "busybox:1.36",
                                        "command": ["sysctl", "-w", "vm.max_map_count=262144"]}],
                    "containers": [{
                        "name": "echo", "image": ECHO_IMAGE, "args": ["--port", "8080", "--data-dir", "/data"],
                        "ports": [{"name": "tcp", "containerPort": 8080}],
                        "readinessProbe": {"tcpSocket": {"port": "tcp"}, "periodSeconds": 1,
                                           "failureThreshold": 1},
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}


def headless_service(name):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"clusterIP": "None", "selector": {"app": name}, "ports": [{"port": 8080}]}}


@pytest.fixture(scope="module")
def echo_sts(control_plane):
    """A 3-replica StatefulSet of tcp-echo pods in its own namespace, Ready before the tests use it."""
    cp = control_plane
    ns = f"t-sts-{secrets.token_hex(3)}"
    cp.create_namespace(ns)
    cp.apply(headless_service("echo"), ns)
    cp.apply(statefulset("echo"), ns)
    cp.wait_for(lambda: cp.api.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/echo")
                .get("status", {}).get("readyReplicas") == 3, timeout=90, message="3 ready replicas")
    yield ns
    cp.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def wait_pod_ready(cp, ns, name, timeout=60, not_uid=None):
    def check():
        pod = cp.get_pod(ns, name)
        if pod and ready(pod) and pod["metadata"]["uid"] != not_uid and not pod["metadata"].get("deletionTimestamp"):
            return pod
        return None
    return cp.wait_for(check, timeout=timeout, message=f"pod {ns}/{name} Ready")


# ------------------------------------------------------------------------------------------------------ API
def test_api_answers_over_verified_tls_with_rbac(control_plane):
    cp = control_plane
    r = subprocess.run(["curl", "-sf", "--cacert", cp.ca_file, cp.server + "/version"], capture_output=True,
                       text=True, check=True)
    assert json.loads(r.stdout)["gitVersion"].startswith("v1.33.")
    # the admin token is a cluster admin
    assert cp.kubectl("auth", "can-i", "create", "pods/exec", "-A").stdout.strip() == "yes"
    nodes = cp.api.get("/api/v1/nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] == ["mgo-node"]
    # the operator's credential is its real ServiceAccount token
    who = cp.kubectl("auth", "whoami", "-o", "json", kubeconfig=cp.operator_kubeconfig).stdout
    assert json.loads(who)["status"]["userInfo"]["username"] == \
        "system:serviceaccount:memgraph-operator-system:memgraph-operator"


def test_operator_service_account_is_least_privileged(control_plane):
    cp = control_plane
    op = cp.operator_kubeconfig

    def can(verb, resource, group="", ns="", sub=""):
        """SelfSubjectAccessReview with the operator's own token (exact, no discovery involved)."""
        attrs = {"verb": verb, "resource": resource, "group": group, "namespace": ns, "subresource": sub}
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": attrs}}
        out = cp.kubectl("create", "--validate=false", "-o", "json", "-f", "-", input=json.dumps(review),
                         kubeconfig=op).stdout
        return json.loads(out)["status"]["allowed"]

    assert can("list", "pods")
    assert can("watch", "memgraphclusters", "memgraph.io")
    assert can("update", "memgraphclusters", "memgraph.io", "x", "status")
    assert can("patch", "statefulsets", "apps", "default")
    assert can("create", "leases", "coordination.k8s.io", "memgraph-operator-system")
    assert can("create", "events", "events.k8s.io", "default")
    assert not can("create", "pods", "", "default", "exec")
    assert not can("get", "pods", "", "default", "exec")
    assert not can("get", "nodes")
    assert not can("create", "leases", "coordination.k8s.io", "default")
    # Secrets: created once (the agent token), never changed or deleted; pods: created only as restore drills
    assert can("create", "secrets", "", "default") and can("create", "pods", "", "default")
    for verb in ("update", "patch", "delete"):
        assert not can(verb, "secrets", "", "default")
    assert not can("create", "pods", "", "default", "attach")
    # and the apiserver enforces it for real requests
    r = cp.kubectl("get", "nodes", kubeconfig=op, check=False)
    assert r.returncode != 0 and "forbidden" in r.stderr.lower()
    assert cp.kubectl("get", "pods", "-A", kubeconfig=op).returncode == 0
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": f"probe-{secrets.token_hex(3)}", "namespace": "memgraph-operator-system"},
             "spec": {"holderIdentity": "test", "leaseDurationSeconds": 15}}
    cp.kubectl("create", "-f", "-", input=json.dumps(lease), kubeconfig=op)
    cp.kubectl("delete", "lease", lease["metadata"]["name"], "-n", "memgraph-operator-system", kubeconfig=op)


def test_compact_etcd_makes_old_resource_versions_gone(control_plane, namespace):
    cp = control_plane
    old_rv = cp.api.get(f"/api/v1/namespaces/{namespace}/configmaps")["metadata"]["resourceVersion"]
    for i in range(3):
        cp.kubectl("create", "configmap", f"cm{i}", "-n", namespace)
    cp.compact_etcd()
    status, body = cp.api.request(
        "GET", f"/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=2&resourceVersion={old_rv}")
    # the apiserver answers either a 410 status or a watch stream whose only event is ERROR 410
    if status == 200:
        assert body["type"] == "ERROR" and body["object"]["code"] == 410, body
    else:
        assert status == 410, body


# ------------------------------------------------------------------------------------------- StatefulSet
def in_pod_network(cp, ip):
    """The pod address range of this control plane's pod network mode (see test/cluster/README.md)."""
    if cp.pod_network == "netns":
        block = int(cp.host_ip.split(".")[2])
        return ipaddress.ip_address(ip) in ipaddress.ip_network(f"10.{64 + block}.0.0/16")
    return ip.startswith("127.1.")


def test_statefulset_pods_ready_with_distinct_reachable_ips(control_plane, echo_sts):
    cp, ns = control_plane, echo_sts
    ips = set()
    for i in range(3):
        pod = cp.get_pod(ns, f"echo-{i}")
        st = pod["status"]
        assert st["phase"] == "Running" and ready(pod)
        ip = st["podIP"]
        assert in_pod_network(cp, ip) and st["podIPs"] == [{"ip": ip}] and st["hostIP"] == "127.0.0.1"
        conds = {c["type"]: c for c in st["conditions"]}
        for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready"):
            assert conds[t]["status"] == "True" and conds[t]["lastTransitionTime"], t
        cs = st["containerStatuses"][0]
        assert cs["ready"] and cs["started"] and cs["restartCount"] == 0 and cs["state"]["running"]["startedAt"]
        assert st["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
        assert echo(ip, "PING") == "PONG"
        assert echo(ip, "WHOAMI") == f"echo-{i} {ip}"  # own UTS namespace hostname, POD_IP env
        ips.add(ip)
    assert len(ips) == 3
    pvcs = cp.api.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")["items"]
    assert sorted(p["metadata"]["name"] for p in pvcs) == ["data-echo-0", "data-echo-1", "data-echo-2"]
    assert all(p["status"]["phase"] == "Bound" for p in pvcs)
    for p in pvcs:
        assert os.path.isdir(os.path.join(cp.state_dir, "pv", ns, p["metadata"]["name"]))


def test_pod_dns_names_resolve_inside_pods(control_plane, echo_sts):
    cp, ns = control_plane, echo_sts
    ips = {i: cp.pod_ip(ns, f"echo-{i}") for i in range(3)}
    for asker in range(3):
        for target in range(3):
            for suffix in (".svc.cluster.local", ".svc", ""):
                assert echo(ips[asker], f"RESOLVE echo-{target}.echo.{ns}{suffix}") == ips[target]
    # the Service name resolves to a ready pod of its selector
    assert echo(ips[0], f"RESOLVE echo.{ns}.svc.cluster.local") in ips.values()
    # host processes can opt in to the same view (e.g. an operator that dials pod DNS names)
    r = subprocess.run(cp.with_cluster_dns(["getent", "hosts", f"echo-1.echo.{ns}.svc.cluster.local"]),
                       capture_output=True, text=True, check=True, timeout=30)
    assert r.stdout.split()[0] == ips[1]
    # the host itself is not affected: the hosts file is bind-mounted only inside the pods
    with open("/etc/hosts", encoding="utf-8") as f:
        assert f"echo.{ns}" not in f.read()


def test_killed_pod_process_is_restarted(control_plane, echo_sts):
    cp, ns = control_plane, echo_sts
    old_pid = cp.kill_pod(ns, "echo-1")

    def restarted():
        pod = cp.get_pod(ns, "echo-1")
        cs = pod["status"]["containerStatuses"][0]
        return cs if cs["restartCount"] == 1 and ready(pod) else None

    cs = cp.wait_for(restarted, timeout=30, message="echo-1 restarted and Ready")
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    new_pid = cp.pod_pid(ns, "echo-1")
    assert new_pid and new_pid != old_pid
    assert echo(cp.pod_ip(ns, "echo-1"), "PING") == "PONG"


def test_frozen_pod_goes_not_ready_and_recovers_after_thaw(control_plane, echo_sts):
    cp, ns = control_plane, echo_sts
    restarts = cp.get_pod(ns, "echo-2")["status"]["containerStatuses"][0]["restartCount"]
    pid = cp.freeze_pod(ns, "echo-2")
    try:
        cp.wait_for(lambda: not ready(cp.get_pod(ns, "echo-2")), timeout=20, message="echo-2 not Ready")
        assert proc_state(pid) in ("T", "t")  # alive, stopped, not mistaken for dead
        assert cp.pod_pid(ns, "echo-2") == pid
    finally:
        cp.thaw_pod(ns, "echo-2")
    pod = wait_pod_ready(cp, ns, "echo-2", timeout=20)
    assert pod["status"]["containerStatuses"][0]["restartCount"] == restarts
    assert cp.pod_pid(ns, "echo-2") == pid


def test_pvc_data_survives_pod_deletion(control_plane, echo_sts):
    cp, ns = control_plane, echo_sts
    old = cp.get_pod(ns, "echo-0")
    token = secrets.token_hex(8)
    assert echo(old["status"]["podIP"], f"WRITE marker {token}") == "OK"
    cp.kubectl("delete", "pod", "echo-0", "-n", ns, "--wait=false")
    new = wait_pod_ready(cp, ns, "echo-0", timeout=60, not_uid=old["metadata"]["uid"])
    assert echo(new["status"]["podIP"], "READ marker") == token
    assert new["status"]["containerStatuses"][0]["restartCount"] == 0


# ---------------------------------------------------------------------------------------------- plain pods
def pod(name, containers, restart="Always", init=None, volumes=None, grace=5):
    spec = {"restartPolicy": restart, "terminationGracePeriodSeconds": grace, "containers": containers}
    if init:
        spec["initContainers"] = init
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}}, "spec": spec}


def echo_container(**extra):
    c = {"name": "echo", "image": ECHO_IMAGE, "args": ["--port", "8080", "--data-dir", "/data"],
         "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}
    c.update(extra)
    return c


def test_init_containers_env_and_volumes(control_plane, namespace):
    cp, ns = control_plane, namespace
    cp.kubectl("create", "secret", "generic", "s1", "--from-literal=password=hunter2", "-n", ns)
    cp.kubectl("create", "configmap", "c1", "--from-literal=mode=fast", "-n", ns)
    init = [{"name": "sysctl", "image": "busybox", "command": ["sysctl", "-w", "vm.max_map_count=1"]},
            {"name": "seed", "image": "debian:12", "command": ["sh", "-c", "echo seeded-$(MY_NAME) > /data/seed"],
             "env": [{"name": "MY_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
             "volumeMounts": [{"name": "scratch", "mountPath": "/data"}]}]
    env = [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "password"}}},
           {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "mode"}}},
           {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
           {"name": "GREETING", "value": "hello-$(MODE)"}]
    mounts = [{"name": "scratch", "mountPath": "/data"}, {"name": "cfg", "mountPath": "/run/mgo-test/cfg"}]
    cp.apply(pod("p1", [echo_container(env=env, volumeMounts=mounts)], init=init,
                 volumes=[{"name": "scratch", "emptyDir": {}}, {"name": "cfg", "secret": {"secretName": "s1"}}]), ns)
    p = wait_pod_ready(cp, ns, "p1", timeout=60)
    ip = p["status"]["podIP"]
    assert echo(ip, "READ seed") == "seeded-p1"  # init container ran first, into the shared emptyDir
    assert echo(ip, "ENV PASSWORD") == "hunter2"
    assert echo(ip, "ENV MODE") == "fast"
    assert echo(ip, "ENV MY_IP") == ip == echo(ip, "ENV POD_IP")
    assert echo(ip, "ENV GREETING") == "hello-fast"
    inits = p["status"]["initContainerStatuses"]
    assert [s["state"]["terminated"]["exitCode"] for s in inits] == [0, 0]
    # the secret volume was materialized as files (readable only inside the pod's mount namespace)
    assert cp.pod_exec(ns, "p1", ["cat", "/run/mgo-test/cfg/password"]).stdout == "hunter2"
    assert cp.pod_exec(ns, "p1", ["sh", "-c", "hostname; echo $PASSWORD"]).stdout.split() == ["p1", "hunter2"]
    assert not os.path.exists("/run/mgo-test/cfg/password")  # the mount exists only in the pod's namespace


def test_restart_policy_never_and_on_failure_reach_terminal_phases(control_plane, namespace):
    cp, ns = control_plane, namespace
    cp.apply(pod("fails", [{"name": "main", "image": "debian:12", "command": ["sh", "-c", "exit 3"]}],
                 restart="Never"), ns)
    cp.apply(pod("succeeds", [{"name": "main", "image": "debian:12", "command": ["sh", "-c", "exit 0"]}],
                 restart="OnFailure"), ns)

    def phase(name, want):
        p = cp.get_pod(ns, name)
        return p if p and p["status"].get("phase") == want else None

    failed = cp.wait_for(lambda: phase("fails", "Failed"), timeout=30, message="pod Failed")
    assert failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
    assert failed["status"]["containerStatuses"][0]["restartCount"] == 0
    done = cp.wait_for(lambda: phase("succeeds", "Succeeded"), timeout=30, message="pod Succeeded")
    assert done["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def test_deletion_sends_sigterm_then_sigkill_after_grace(control_plane, namespace):
    cp, ns = control_plane, namespace
    stubborn = ["python3", "-c", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "print('sigterm' + '-ignored', flush=True)\ntime.sleep(3600)"]
    cp.apply(pod("stubborn", [{"name": "main", "image": "debian:12", "command": stubborn}], grace=2), ns)
    wait_pod_ready(cp, ns, "stubborn")
    # (the marker is built at run time so the logged argv cannot match it)
    cp.wait_for(lambda: "sigterm-ignored" in cp.pod_log(ns, "stubborn"), timeout=10, message="handler installed")
    pid = cp.pod_pid(ns, "stubborn")
    started = time.monotonic()
    cp.kubectl("delete", "pod", "stubborn", "-n", ns, "--wait=false")
    cp.wait_for(lambda: cp.get_pod(ns, "stubborn") is None, timeout=30, message="pod gone")
    elapsed = time.monotonic() - started
    assert elapsed >= 1.5, f"the kubelet did not wait the 2 s grace period ({elapsed:.2f}s)"
    assert not os.path.exists(f"/proc/{pid}") or proc_state(pid) == "Z"


def test_pvc_directory_outlives_pod_and_goes_with_pvc(control_plane, namespace):
    cp, ns = control_plane, namespace
    cp.apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "vol"},
              "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}, ns)
    cp.apply(pod("user", [echo_container(volumeMounts=[{"name": "v", "mountPath": "/data"}])],
                 volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "vol"}}]), ns)
    ip = wait_pod_ready(cp, ns, "user")["status"]["podIP"]
    assert echo(ip, "WRITE f kept") == "OK"
    path = os.path.join(cp.state_dir, "pv", ns, "vol")
    cp.kubectl("delete", "pod", "user", "-n", ns, "--wait=true", timeout=60)
    with open(os.path.join(path, "f"), encoding="utf-8") as f:
        assert f.read() == "kept"
    cp.kubectl("delete", "pvc", "vol", "-n", ns, "--wait=true", timeout=60)
    cp.wait_for(lambda: not os.path.exists(path), timeout=20, message="PVC directory removed")


def test_memgraph_image_runs_the_emulator_on_the_pod_ip(control_plane, namespace):
    cp, ns = control_plane, namespace
    c = {"name": "memgraph", "image": "memgraph/memgraph:3.12.0",
         "args": ["--data-directory=/var/lib/memgraph", "--log-level=INFO", "--also-log-to-stderr=true"],
         "ports": [{"name": "bolt", "containerPort": 7687}],
         "readinessProbe": {"tcpSocket": {"port": "bolt"}, "periodSeconds": 1},
         "volumeMounts": [{"name": "data", "mountPath": "/var/lib/memgraph"}]}
    cp.apply(pod("mg", [c], volumes=[{"name": "data", "emptyDir": {}}]), ns)
    p = wait_pod_ready(cp, ns, "mg", timeout=60)
    ip = p["status"]["podIP"]
    with socket.create_connection((ip, 7687), timeout=5) as s:  # Bolt handshake: magic + 4 versions
        s.sendall(bytes.fromhex("6060b017") + bytes.fromhex("00000505" "00000404" "00000000" "00000000"))
        assert len(s.recv(4)) == 4
    spec = json.load(open(os.path.join(cp.state_dir, "pods", f"{ns}_mg", "memgraph.spec.json"), encoding="utf-8"))
    assert spec["argv"][0].endswith("memgraph-emulator") or spec["argv"][0] == os.environ.get("MEMGRAPH_BIN")
    if cp.pod_network == "netns":  # its own network namespace: Memgraph's default 0.0.0.0 is the pod's alone
        assert not any(a.startswith("--bolt-address") for a in spec["argv"]), spec["argv"]
    else:  # loopback: the wildcard would be the host's, so the kubelet pins the pod IP
        assert f"--bolt-address={ip}" in spec["argv"]
    assert spec["env"]["MGO_EMULATE_VERSION"] == "3.12.0"


def test_liveness_failure_restarts_and_exec_readiness_gates_ready(control_plane, namespace):
    cp, ns = control_plane, namespace
    c = echo_container(
        volumeMounts=[{"name": "scratch", "mountPath": "/data"}],
        readinessProbe={"exec": {"command": ["test", "-e", "/data/ready"]}, "periodSeconds": 1},
        livenessProbe={"exec": {"command": ["test", "!", "-e", "/data/sick"]}, "periodSeconds": 1,
                       "failureThreshold": 2})
    cp.apply(pod("probed", [c], volumes=[{"name": "scratch", "emptyDir": {}}]), ns)
    ip = cp.wait_for(lambda: cp.pod_ip(ns, "probed"), timeout=30, message="pod IP")
    cp.wait_for(lambda: echo(ip, "PING") == "PONG", timeout=30, message="echo answering")
    assert not ready(cp.get_pod(ns, "probed"))  # the exec readiness probe does not pass yet
    assert echo(ip, "WRITE ready 1") == "OK"   # /data/ready exists inside the pod's mount namespace only
    wait_pod_ready(cp, ns, "probed", timeout=20)
    assert echo(ip, "WRITE sick 1") == "OK"

    def restarted():
        cs = cp.get_pod(ns, "probed")["status"]["containerStatuses"][0]
        return cs["restartCount"] >= 1

    cp.wait_for(restarted, timeout=30, message="liveness restart")


def test_readiness_honours_initial_delay_and_success_threshold(control_plane, namespace):
    import datetime

    cp, ns = control_plane, namespace
    c = echo_container(readinessProbe={"tcpSocket": {"port": 8080}, "initialDelaySeconds": 2, "periodSeconds": 1,
                                       "successThreshold": 2})
    cp.apply(pod("slow", [c]), ns)
    p = wait_pod_ready(cp, ns, "slow", timeout=60)

    def ts(text):
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")

    started = ts(p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"])
    ready_at = ts(next(c for c in p["status"]["conditions"] if c["type"] == "Ready")["lastTransitionTime"])
    # first probe at +2 s, second success at +3 s; timestamps have 1 s resolution
    assert (ready_at - started).total_seconds() >= 2


def test_kubectl_logs_current_previous_and_tail(control_plane, namespace):
    """kubectl logs goes apiserver -> the kubelet's TLS log endpoint (verified with the cluster CA)."""
    cp, ns = control_plane, namespace
    script = "echo run-$(cat /proc/self/stat | cut -d' ' -f1); echo second; echo third; sleep 3600"
    cp.apply(pod("talk", [{"name": "main", "image": "debian:12", "command": ["sh", "-c", script]}]), ns)
    wait_pod_ready(cp, ns, "talk")
    cp.wait_for(lambda: cp.kubectl("logs", "talk", "-n", ns).stdout.endswith("third\n"), timeout=20,
                message="three lines logged")
    first = cp.kubectl("logs", "talk", "-n", ns).stdout.splitlines()
    assert first[0].startswith("run-") and first[1:] == ["second", "third"]  # no kubelet header lines
    assert cp.kubectl("logs", "talk", "-n", ns, "--tail=1").stdout == "third\n"
    r = cp.kubectl("logs", "talk", "-n", ns, "--previous", check=False)
    assert r.returncode != 0  # no previous run yet
    cp.kill_pod(ns, "talk")
    cp.wait_for(lambda: cp.get_pod(ns, "talk")["status"]["containerStatuses"][0]["restartCount"] == 1,
                timeout=30, message="restart")
    cp.wait_for(lambda: cp.kubectl("logs", "talk", "-n", ns).stdout.endswith("third\n"), timeout=20,
                message="second run logged")
    second = cp.kubectl("logs", "talk", "-n", ns).stdout.splitlines()
    assert cp.kubectl("logs", "talk", "-n", ns, "--previous").stdout.splitlines() == first
    assert second[0] != first[0]  # another process


def test_frozen_container_with_liveness_probe_is_restarted(control_plane, namespace):
    cp, ns = control_plane, namespace
    c = echo_container(livenessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 2})
    cp.apply(pod("hung", [c]), ns)
    wait_pod_ready(cp, ns, "hung")
    pid = cp.freeze_pod(ns, "hung")
    cp.wait_for(lambda: cp.get_pod(ns, "hung")["status"]["containerStatuses"][0]["restartCount"] == 1,
                timeout=30, message="liveness restart of the frozen container")
    assert not os.path.exists(f"/proc/{pid}") or proc_state(pid) == "Z"
    p = wait_pod_ready(cp, ns, "hung")
    assert echo(p["status"]["podIP"], "PING") == "PONG"


def test_pods_get_working_in_cluster_credentials(control_plane, namespace):
    """ServiceAccount token, CA and namespace are mounted where in-cluster clients look for them, and
    KUBERNETES_SERVICE_HOST/PORT point at the apiserver, whose certificate is valid for kubernetes.default.svc."""
    cp, ns = control_plane, namespace
    script = r"""
set -eu
d=/var/run/secrets/kubernetes.io/serviceaccount
echo "namespace=$(cat $d/namespace)"
curl -sS --cacert $d/ca.crt -H "Authorization: Bearer $(cat $d/token)" -H 'Content-Type: application/json' \
  -X POST -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
  "https://kubernetes.default.svc:$KUBERNETES_SERVICE_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews"
"""
    cp.apply(pod("incluster", [{"name": "main", "image": "debian:12", "command": ["bash", "-c", script]}],
                 restart="Never"), ns)
    cp.wait_for(lambda: (cp.get_pod(ns, "incluster") or {}).get("status", {}).get("phase") == "Succeeded",
                timeout=30, message="pod Succeeded")
    out = cp.pod_log(ns, "incluster")
    assert f"namespace={ns}" in out
    assert f'"username":"system:serviceaccount:{ns}:default"' in out.replace(" ", "")


def test_pod_waits_for_missing_secret_and_pvc_then_starts(control_plane, namespace):
    cp, ns = control_plane, namespace
    c = echo_container(env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "late", "key": "t"}}}],
                       volumeMounts=[{"name": "v", "mountPath": "/data"}])
    cp.apply(pod("waiter", [c], volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "late-pvc"}}]), ns)
    cp.wait_for(lambda: "late-pvc" in (cp.get_pod(ns, "waiter") or {}).get("status", {}).get("message", ""),
                timeout=30, message="pod reports the missing PVC")
    assert cp.pod_pid(ns, "waiter") is None
    cp.apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "late-pvc"},
              "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}, ns)

    def config_error():
        cs = (cp.get_pod(ns, "waiter") or {}).get("status", {}).get("containerStatuses") or [{}]
        return cs[0].get("state", {}).get("waiting", {}).get("reason") == "CreateContainerConfigError"

    cp.wait_for(config_error, timeout=30, message="CreateContainerConfigError for the missing Secret")
    assert not ready(cp.get_pod(ns, "waiter"))
    cp.kubectl("create", "secret", "generic", "late", "--from-literal=t=s3cret", "-n", ns)
    p = wait_pod_ready(cp, ns, "waiter", timeout=30)
    assert echo(p["status"]["podIP"], "ENV TOKEN") == "s3cret"


def test_memgraph_pods_replicate_to_each_other_by_pod_dns_name(control_plane, namespace):
    """The contract the operator relies on: emulator pods on their own IPs, a MAIN registering a REPLICA by its
    StatefulSet DNS name (resolved inside the MAIN's pod), data flowing, WAL on the PVC directory."""
    from neo4j import GraphDatabase

    cp, ns = control_plane, namespace
    sts = statefulset("mg", replicas=2)
    tmpl = sts["spec"]["template"]["spec"]
    del tmpl["initContainers"]
    tmpl["containers"] = [{
        "name": "memgraph", "image": "memgraph/memgraph:3.12.0",
        "args": ["--data-directory=/var/lib/memgraph", "--storage-wal-enabled=true",
                 "--storage-snapshot-interval-sec=300"],
        "ports": [{"name": "bolt", "containerPort": 7687}],
        "readinessProbe": {"tcpSocket": {"port": "bolt"}, "periodSeconds": 1},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/memgraph"}]}]
    cp.apply(headless_service("mg"), ns)
    cp.apply(sts, ns)
    cp.wait_for(lambda: cp.api.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/mg")
                .get("status", {}).get("readyReplicas") == 2, timeout=90, message="2 ready memgraph pods")
    ips = [cp.pod_ip(ns, f"mg-{i}") for i in range(2)]

    def q(ip, cypher):
        with GraphDatabase.driver(f"bolt://{ip}:7687", auth=None) as d, d.session() as s:
            return [r.data() for r in s.run(cypher)]

    q(ips[1], "SET REPLICATION ROLE TO REPLICA WITH PORT 10000")
    q(ips[0], f'REGISTER REPLICA r1 SYNC TO "mg-1.mg.{ns}.svc.cluster.local:10000"')
    replicas = q(ips[0], "SHOW REPLICAS")
    assert replicas[0]["socket_address"] == f"mg-1.mg.{ns}.svc.cluster.local:10000"
    assert replicas[0]["data_info"]["memgraph"]["status"] == "ready"
    q(ips[0], "CREATE (:Probe {v: 42})")
    cp.wait_for(lambda: q(ips[1], "MATCH (n:Probe) RETURN n.v AS v") == [{"v": 42}], timeout=20,
                message="the write replicated to mg-1")
    assert os.listdir(os.path.join(cp.state_dir, "pv", ns, "data-mg-0", "wal"))


# ---------------------------------------------------------------------- disruptive: apiserver restarts, last
def test_kubelet_survives_apiserver_restart(control_plane, namespace):
    cp, ns = control_plane, namespace
    cp.restart_apiserver()
    cp.apply(pod("after-restart", [echo_container()]), ns)
    p = wait_pod_ready(cp, ns, "after-restart", timeout=60)
    assert echo(p["status"]["podIP"], "PING") == "PONG"


def test_kubelet_recovers_when_its_resource_versions_were_compacted(control_plane, namespace):
    """apiserver down, etcd compacted past every resourceVersion the kubelet holds, apiserver back: the kubelet
    must not resume from a stale resourceVersion forever (410 Gone) but relist and keep running new pods."""
    cp, ns = control_plane, namespace
    for i in range(3):  # make history to compact away
        cp.kubectl("create", "configmap", f"churn{i}", "-n", ns)
    cp.stop_apiserver()
    try:
        cp.compact_etcd()
    finally:
        cp.start_apiserver()
    cp.apply(pod("after-compaction", [echo_container()]), ns)
    p = wait_pod_ready(cp, ns, "after-compaction", timeout=60)
    assert echo(p["status"]["podIP"], "PING") == "PONG"


def test_up_and_down_scripts_start_and_stop_everything(tmp_path):
    """A second, private control plane: up.sh writes its files; down.sh stops every process, pods included.
    It runs with MGO_KUBELET_MAX_PROBE_PERIOD=1, so a 20 s initial probe delay costs ~1 s."""
    state = tmp_path / "cp"
    r = subprocess.run(["bash", os.path.join(ROOT, "test", "cluster", "up.sh"), str(state)], capture_output=True,
                       text=True, timeout=300, check=False, env={**os.environ, "MGO_KUBELET_MAX_PROBE_PERIOD": "1"})
    try:
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().splitlines()[-1] == str(state)
        timings = json.loads((state / "timings.json").read_text())
        assert 0 < timings["api_ready_s"] <= timings["total_s"]
        env = dict(line[len("export "):].split("=", 1) for line in (state / "env").read_text().splitlines())
        assert set(env) == {"KUBECONFIG", "MGO_OPERATOR_KUBECONFIG", "MGO_API_SERVER", "MGO_CONTROL_PLANE_DIR",
                            "MGO_ETCD_URL", "MGO_POD_NETWORK", "MGO_HOST_IP"}
        kubectl = os.path.join(os.path.expanduser(os.environ.get("MGO_CACHE", "~/.cache/memgraph-operator")),
                               "k8s-v1.33.13", "kubectl")
        slow_probe = {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 20, "periodSeconds": 10}
        p = pod("lonely", [echo_container(readinessProbe=slow_probe)])
        k = [kubectl, f"--kubeconfig={env['KUBECONFIG']}", "-n", "default"]
        subprocess.run(k + ["apply", "-f", "-"], input=json.dumps(p), text=True, check=True, capture_output=True)
        subprocess.run(k + ["wait", "--for=condition=Ready", "pod/lonely", "--timeout=12s"], check=True,
                       capture_output=True, timeout=30)
        pidfile = state / "pods" / "default_lonely" / "echo.pid"
        daemons = ["etcd.pid", "apiserver.pid", "kube-controller-manager.pid", "kubelet.pid"]
        netns = None
        if env["MGO_POD_NETWORK"] == "netns":
            daemons.append("kube-proxy.pid")
            block = (state / "cluster.env").read_text().split("NET_BLOCK=")[1].split()[0]
            netns = f"mgo-n{block}"
            assert os.path.exists(f"/run/netns/{netns}")
        pids = [int((state / f).read_text()) for f in daemons]
        pids.append(int(pidfile.read_text()))
    finally:
        subprocess.run(["bash", os.path.join(ROOT, "test", "cluster", "down.sh"), str(state)], check=False,
                       timeout=120)
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or proc_state(pid) == "Z", f"pid {pid} survived down.sh"
    if netns:  # the node's and the pod's namespaces went with it
        assert not [n for n in os.listdir("/run/netns") if n == netns or n.startswith(netns + "-")]


def test_resuming_a_watch_after_restart_and_compaction_gets_410(control_plane, namespace):
    """The documented recipe to push a watcher through 410 Gone really does it."""
    cp, ns = control_plane, namespace
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = cp.api.get(path)["metadata"]["resourceVersion"]
    cp.kubectl("create", "configmap", "before", "-n", ns)
    seen = None
    for ev in cp.api.watch(path, rv, timeout_seconds=5):
        seen = ev
        break
    assert seen["type"] == "ADDED" and seen["object"]["metadata"]["name"] == "before"
    last_rv = seen["object"]["metadata"]["resourceVersion"]
    cp.stop_apiserver()
    try:
        cp.compact_etcd()
    finally:
        cp.start_apiserver()
    cp.kubectl("create", "configmap", "after", "-n", ns)
    cp.compact_etcd()
    first = None
    try:
        for first in cp.api.watch(path, last_rv, timeout_seconds=10):
            break
    except ApiError as e:  # the apiserver may also refuse the watch outright with HTTP 410
        assert e.status == 410, e
    else:
        assert first is not None, f"no event within 10 s for a watch from compacted resourceVersion {last_rv}"
        assert first["type"] == "ERROR" and first["object"]["code"] == 410, first
