"""Root pytest fixtures: the real local Kubernetes control plane (test/cluster/, see test/cluster/README.md).

Interface (other test trees rely on it; keep it stable):

  control_plane   session fixture, lazy: only tests that request it start a control plane (test/cluster/up.sh,
                  ~6 s warm). If env MGO_CONTROL_PLANE_DIR names a running one (its apiserver answers /readyz), it
                  is reused and NOT stopped at the end. Tests requesting it are auto-marked `controlplane`.
                  Attributes:
                    state_dir, admin_kubeconfig, operator_kubeconfig, server (https://127.0.0.1:PORT), etcd_url,
                    ca_file (PEM of the cluster CA), env (dict of STATE_DIR/env: KUBECONFIG, MGO_OPERATOR_KUBECONFIG,
                    MGO_API_SERVER, MGO_CONTROL_PLANE_DIR, MGO_ETCD_URL; os.environ is NOT modified),
                    api (test/cluster/kubeapi.py KubeApi with the admin token),
                    timings (dict of STATE_DIR/timings.json: api_ready_s, total_s, ...),
                    pod_network ("netns": each pod in its own network namespace, Services are real ClusterIPs
                        through kube-proxy; "loopback": pods on 127.1.x.y, Service names in the hosts file only),
                    host_ip (where a pod reaches a host server bound to 127.0.0.1: 10.200.B.1 in netns mode,
                        NATed to the host's loopback; 127.0.0.1 in loopback mode; also works from the host)
                  Methods:
                    kubectl(*args, input=None, check=True, kubeconfig=None, timeout=60) -> CompletedProcess (text;
                        the kubectl of the k8s cache dir; admin kubeconfig unless given; check=True raises
                        KubectlError (a CalledProcessError whose str() includes stderr))
                    apply(yaml_text_or_dict, namespace=None) -> CompletedProcess      (kubectl apply -f -)
                    wait_for(predicate, timeout=30, interval=0.2, message="condition") -> the predicate's truthy
                        value; exceptions inside the predicate count as "not yet"; AssertionError on timeout
                    wait_crds_established(*crd_names, timeout=60): each CRD Established and discovered by kubectl
                    stop_apiserver(), start_apiserver(), restart_apiserver()   (same flags and port; start
                        returns when /readyz is 200. The controller manager's informers then reconnect with
                        client-go backoff: immediate after one restart, up to ~30 s after several in a row, so
                        wait for controller-made objects with generous timeouts)
                    compact_etcd() -> compacted revision (etcd v3 JSON gateway). A watch or list started (or
                        resumed) afterwards from an older resourceVersion gets 410 Gone (the apiserver watch cache
                        is off, see README); an established, caught-up watch keeps streaming (etcd semantics). To
                        force a watcher through 410: stop_apiserver(), compact_etcd(), start_apiserver().
                    create_namespace(name) -> name: creates it and makes sure its `default` ServiceAccount and `kube-root-ca.crt` exist
                        (waits up to 5 s for the serviceaccount controller, which may be in client-go backoff after
                        apiserver restarts, then creates the ServiceAccount itself), so pods are admitted at once
                    get_pod(ns, name) -> dict or None
                    pod_ip(ns, name), pod_pid(ns, name, container=None)   (container: default the first one)
                    kill_pod(ns, name, container=None)  SIGKILL     -> pid
                    freeze_pod(ns, name, container=None) SIGSTOP    -> pid
                    thaw_pod(ns, name, container=None)   SIGCONT    -> pid
                    pod_log(ns, name, container=None) -> str (stdout+stderr of every run of that container)
                    pod_exec(ns, name, argv, container=None, timeout=30, check=True) -> CompletedProcess (text):
                        runs argv on the host inside the container's mount+UTS namespaces (its volumes, its
                        /etc/hosts, its hostname) with the container's environment; a stand-in for kubectl exec
                    with_cluster_dns(argv) -> argv list that runs argv on the host with the pods' /etc/hosts
                        (test/cluster/with-cluster-dns.sh; same PID), e.g. for an operator resolving pod DNS names
                    partition_pod(ns, name, cut=("host", "pods"), allow=()), heal_pod(ns, name): drop a pod's packets
                        to and from the host and/or the other pods but `allow` (iptables in the pod's network
                        namespace; netns only)
                  Env read when it starts one: MGO_KUBELET_MAX_PROBE_PERIOD (cap probe periods, see README),
                  MGO_WATCH_CACHE, MEMGRAPH_BIN, MGO_OPERATOR_BIN (image table, see test/cluster/images.json).
  namespace       function fixture: a fresh namespace (its `default` ServiceAccount and `kube-root-ca.crt` exist, so pods are admitted and the contents are known);
                  deleted at teardown with --wait=false.
On a failing test that used the control plane, the tails of its logs are attached to the report.
"""

import base64
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER = os.path.join(ROOT, "test", "cluster")
sys.path.insert(0, CLUSTER)

from kubeapi import KubeApi  # noqa: E402
from versions import cache_dir, read_versions  # noqa: E402


def _versions():
    return cache_dir(), read_versions()["K8S"]


class KubectlError(subprocess.CalledProcessError):
    def __str__(self):
        return f"{super().__str__()}\nstdout: {self.stdout}\nstderr: {self.stderr}"


def _read_env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^export ([A-Z0-9_]+)=(.*)$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
    return env


class ControlPlane:
    def __init__(self, state_dir, owned):
        self.state_dir = state_dir
        self.owned = owned
        self.env = _read_env_file(os.path.join(state_dir, "env"))
        self.admin_kubeconfig = self.env["KUBECONFIG"]
        self.operator_kubeconfig = self.env["MGO_OPERATOR_KUBECONFIG"]
        self.server = self.env["MGO_API_SERVER"]
        self.etcd_url = self.env["MGO_ETCD_URL"]
        # "netns" (pods in their own network namespaces, Services through kube-proxy) or "loopback"
        self.pod_network = self.env.get("MGO_POD_NETWORK", "loopback")
        # The address at which pods reach a server of the host listening on 127.0.0.1 (S3, a collector, ...)
        self.host_ip = self.env.get("MGO_HOST_IP", "127.0.0.1")
        self.ca_file = os.path.join(state_dir, "pki", "ca.crt")
        cache, k8s = _versions()
        self.kubectl_bin = os.environ.get("MGO_KUBECTL") or os.path.join(cache, f"k8s-{k8s}", "kubectl")
        self.api = KubeApi.from_kubeconfig(self.admin_kubeconfig, timeout=15)
        with open(os.path.join(state_dir, "timings.json"), encoding="utf-8") as f:
            self.timings = json.load(f)

    # -- kubectl
    def kubectl(self, *args, input=None, check=True, kubeconfig=None, timeout=60):
        cmd = [self.kubectl_bin, f"--kubeconfig={kubeconfig or self.admin_kubeconfig}", *map(str, args)]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
        if check and r.returncode != 0:
            raise KubectlError(r.returncode, cmd, r.stdout, r.stderr)
        return r

    def apply(self, yaml_text_or_dict, namespace=None):
        text = yaml_text_or_dict if isinstance(yaml_text_or_dict, str) else json.dumps(yaml_text_or_dict)
        args = ["apply", "-f", "-"] + (["-n", namespace] if namespace else [])
        return self.kubectl(*args, input=text)

    # -- polling
    @staticmethod
    def wait_for(predicate, timeout=30, interval=0.2, message="condition"):
        deadline = time.monotonic() + timeout
        last_exc = None
        while True:
            try:
                val = predicate()
                if val:
                    return val
            except Exception as e:  # noqa: BLE001 - "not yet"; reported on timeout
                last_exc = e
            if time.monotonic() >= deadline:
                extra = f" (last error: {last_exc!r})" if last_exc else ""
                raise AssertionError(f"timed out after {timeout}s waiting for {message}{extra}")
            time.sleep(interval)

    def wait_crds_established(self, *crds, timeout=60):
        """Polls until every named CRD (e.g. "memgraphclusters.memgraph.io") has Established=True, then until
        kubectl discovers its resource. (`kubectl wait --for=condition=Established` fails at once, instead of
        waiting, when it reads the CRD before the API server wrote any condition: seen on a loaded machine.)"""
        for crd in crds:
            def established(name=crd):
                r = self.kubectl("get", "crd", name, "-o",
                                 'jsonpath={.status.conditions[?(@.type=="Established")].status}', check=False)
                return r.returncode == 0 and r.stdout.strip() == "True"
            self.wait_for(established, timeout=timeout, message=f"CRD {crd} Established")
            plural = crd.split(".", 1)[0]
            self.wait_for(lambda p=plural: self.kubectl("get", p, "-A", check=False).returncode == 0,
                          timeout=30, message=f"kubectl to discover {plural}")

    # -- apiserver and etcd
    def _apiserver(self, action):
        subprocess.run(["bash", os.path.join(CLUSTER, "apiserver.sh"), action, self.state_dir], check=True,
                       timeout=150)

    def stop_apiserver(self):
        self._apiserver("stop")

    def start_apiserver(self):
        self._apiserver("start")

    def restart_apiserver(self):
        self._apiserver("restart")

    def _etcd(self, path, body):
        req = urllib.request.Request(self.etcd_url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def compact_etcd(self):
        rev = int(self._etcd("/v3/kv/range", {"key": base64.b64encode(b"/").decode()})["header"]["revision"])
        try:
            self._etcd("/v3/kv/compaction", {"revision": str(rev), "physical": True})
        except urllib.error.HTTPError as e:
            body = e.read().decode(errors="replace")
            if "compacted" not in body:  # already compacted up to rev (e.g. by the apiserver): same outcome
                raise AssertionError(f"etcd compaction at {rev} failed: HTTP {e.code} {body}") from e
        return rev

    # -- namespaces
    def delete_namespace(self, name):
        """Deletes a namespace without waiting for it to go (kubectl delete --wait=false); a namespace that is
        gone already, or an API server that does not answer, is not an error (teardown)."""
        try:
            self.api.request("DELETE", f"/api/v1/namespaces/{name}")
        except Exception:  # noqa: BLE001 - teardown: nothing to do about it
            pass

    def create_namespace(self, name):
        """Creates a namespace and returns it settled as a real cluster settles it: with its `default`
        ServiceAccount and its `kube-root-ca.crt` ConfigMap. The controller manager makes both; after
        apiserver restarts it can lag by ~30 s, so after 5 s we create the missing one ourselves with the
        same content (a 409 means the controller won the race)."""
        # through the API client, not kubectl: ~150 namespaces per run, and a kubectl call costs ~0.08 s of CPU
        self.api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": name}})
        with open(self.ca_file, encoding="ascii") as f:
            ca = f.read()
        self._ensure_object(f"/api/v1/namespaces/{name}/serviceaccounts", {
            "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}})
        self._ensure_object(f"/api/v1/namespaces/{name}/configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"},
            "data": {"ca.crt": ca}})
        return name

    def _ensure_object(self, collection, obj, wait=5):
        path = f"{collection}/{obj['metadata']['name']}"
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.api.request("GET", path)[0] == 200:
                return
            time.sleep(0.1)
        status, body = self.api.request("POST", collection, obj)
        assert status in (201, 409), f"creating {path}: HTTP {status} {body}"

    # -- pods
    def get_pod(self, ns, name):
        status, obj = self.api.request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
        if status == 404:
            return None
        assert status == 200, f"GET pod {ns}/{name}: HTTP {status} {obj}"
        return obj

    def pod_ip(self, ns, name):
        pod = self.get_pod(ns, name)
        return (pod or {}).get("status", {}).get("podIP")

    def _container(self, ns, name, container):
        if container:
            return container
        pod = self.get_pod(ns, name)
        assert pod is not None, f"pod {ns}/{name} does not exist"
        return pod["spec"]["containers"][0]["name"]

    def pod_pid(self, ns, name, container=None):
        """The container's process id; None when the pod or its process is gone."""
        if container is None and self.get_pod(ns, name) is None:
            return None
        path = os.path.join(self.state_dir, "pods", f"{ns}_{name}", f"{self._container(ns, name, container)}.pid")
        try:
            with open(path, encoding="ascii") as f:
                return int(f.read().strip())
        except FileNotFoundError:
            return None

    def _signal(self, ns, name, container, sig):
        pid = self.pod_pid(ns, name, container)
        assert pid, f"pod {ns}/{name} has no running process"
        os.kill(pid, sig)
        return pid

    def kill_pod(self, ns, name, container=None):
        return self._signal(ns, name, container, signal.SIGKILL)

    def freeze_pod(self, ns, name, container=None):
        return self._signal(ns, name, container, signal.SIGSTOP)

    def thaw_pod(self, ns, name, container=None):
        """SIGCONT to the container's process; None when no process runs there (any more): a failover fences a
        frozen MAIN by deleting its pod, so a thaw in a `finally` may find a new incarnation still starting."""
        pid = self.pod_pid(ns, name, container)
        if not pid:
            return None
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            return None
        return pid

    def pod_log(self, ns, name, container=None):
        path = os.path.join(self.state_dir, "pods", f"{ns}_{name}", f"{self._container(ns, name, container)}.log")
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def pod_exec(self, ns, name, argv, container=None, timeout=30, check=True):
        cname = self._container(ns, name, container)
        pid = self.pod_pid(ns, name, cname)
        assert pid, f"pod {ns}/{name} container {cname} has no running process"
        with open(os.path.join(self.state_dir, "pods", f"{ns}_{name}", f"{cname}.spec.json"), encoding="utf-8") as f:
            env = json.load(f)["env"]
        return subprocess.run(["nsenter", "-t", str(pid), "-m", "-u", "-n", "--", *argv], env=env, capture_output=True,
                              text=True, timeout=timeout, check=check)

    def with_cluster_dns(self, argv):
        return ["bash", os.path.join(CLUSTER, "with-cluster-dns.sh"), self.state_dir, *argv]

    # -- network partitions (netns pod network: rules on the pod's own interface)
    PARTITION_CHAIN = "MGO-PARTITION"

    def _pod_iptables(self, ns, name, *args, check=True, pid=None):
        pid = pid or self.pod_pid(ns, name)
        assert pid, f"pod {ns}/{name} has no running process"
        return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "iptables", "-w", *args], capture_output=True,
                              text=True, timeout=30, check=check)

    def partition_pod(self, ns, name, cut=("host", "pods"), allow=()):
        """Silently drops (like a cut cable) the pod's packets to and from each peer class in `cut`:
        "host" = every process of the host (the operator, the API server, test clients; they reach pods from
        host_ip, or from the bridge's gateway address once kube-proxy masquerades a ClusterIP connection),
        "pods" = every other pod. The pod still reaches itself and the addresses in `allow` (e.g. a client pod's
        IP: "cut off from everything but a client"). Needs pod_network == "netns"; heal_pod undoes it."""
        assert self.pod_network == "netns", "partitions need the netns pod network (see test/cluster/README.md)"
        block = int(self.host_ip.split(".")[2])
        gateway, pods = f"10.{64 + block}.0.1", f"10.{64 + block}.0.0/16"
        chain = self.PARTITION_CHAIN
        self.heal_pod(ns, name)
        self._pod_iptables(ns, name, "-N", chain)
        rules = [["-i", "lo", "-j", "RETURN"], ["-o", "lo", "-j", "RETURN"]]
        for addr in allow:
            rules += [["-s", addr, "-j", "RETURN"], ["-d", addr, "-j", "RETURN"]]
        if "host" in cut:
            for addr in (self.host_ip, gateway):
                rules += [["-s", addr, "-j", "DROP"], ["-d", addr, "-j", "DROP"]]
        else:
            rules += [["-s", gateway, "-j", "RETURN"], ["-d", gateway, "-j", "RETURN"]]
        if "pods" in cut:
            rules += [["-s", pods, "-j", "DROP"], ["-d", pods, "-j", "DROP"]]
        for rule in rules:
            self._pod_iptables(ns, name, "-A", chain, *rule)
        for hook in ("INPUT", "OUTPUT"):
            self._pod_iptables(ns, name, "-I", hook, "-j", chain)

    def heal_pod(self, ns, name):
        """Removes partition_pod's rules (nothing to do when there are none, or when the pod's process is gone:
        its namespace, rules included, goes with the pod, and a new incarnation gets a fresh one)."""
        pid = self.pod_pid(ns, name)
        if not pid:
            return
        chain = self.PARTITION_CHAIN
        for hook in ("INPUT", "OUTPUT"):  # a process gone meanwhile makes nsenter fail: the loops end
            while self._pod_iptables(ns, name, "-D", hook, "-j", chain, check=False, pid=pid).returncode == 0:
                pass
        self._pod_iptables(ns, name, "-F", chain, check=False, pid=pid)
        self._pod_iptables(ns, name, "-X", chain, check=False, pid=pid)

    def log_tails(self, lines=40):
        out = []
        logdir = os.path.join(self.state_dir, "log")
        for name in ("etcd.log", "apiserver.log", "kube-controller-manager.log", "kubelet.log"):
            if not os.path.exists(os.path.join(logdir, name)):
                continue
            with open(os.path.join(logdir, name), encoding="utf-8", errors="replace") as f:
                tail = f.readlines()[-lines:]
            out.append(f"---- {name} (last {len(tail)} lines)\n{''.join(tail)}")
        return "\n".join(out)


def _running(state_dir):
    env_file = os.path.join(state_dir, "env")
    if not os.path.exists(env_file):
        return False
    env = _read_env_file(env_file)
    ca = os.path.join(state_dir, "pki", "ca.crt")
    r = subprocess.run(["curl", "-sf", "--max-time", "3", "--cacert", ca, env["MGO_API_SERVER"] + "/readyz"],
                       capture_output=True, check=False)
    return r.returncode == 0


_ACTIVE = {}


@pytest.fixture(scope="session")
def control_plane(request):
    existing = os.environ.get("MGO_CONTROL_PLANE_DIR")
    if existing and _running(existing):
        cp = ControlPlane(os.path.abspath(existing), owned=False)
    else:
        r = subprocess.run(["bash", os.path.join(CLUSTER, "up.sh")], capture_output=True, text=True,
                           timeout=300, check=False)
        if r.returncode != 0:
            pytest.fail(f"test/cluster/up.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        lines = r.stdout.strip().splitlines()
        print(f"\ncontrol plane: {lines[-2] if len(lines) > 1 else ''} in {lines[-1]}")
        cp = ControlPlane(lines[-1], owned=True)
    _ACTIVE["cp"] = cp
    yield cp
    _ACTIVE.pop("cp", None)
    if cp.owned:
        purge = ["--purge"] if request.session.testsfailed == 0 else []
        subprocess.run(["bash", os.path.join(CLUSTER, "down.sh"), cp.state_dir, *purge], check=False, timeout=120)
        if purge == []:
            print(f"\ncontrol plane state kept for debugging: {cp.state_dir}")


@pytest.fixture
def namespace(control_plane, request):
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"t-{base}-{secrets.token_hex(3)}"
    control_plane.create_namespace(name)
    yield name
    control_plane.delete_namespace(name)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "control_plane" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.controlplane)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    cp = _ACTIVE.get("cp")
    if rep.failed and cp is not None and "control_plane" in getattr(item, "fixturenames", ()):
        rep.sections.append(("control plane logs", cp.log_tails()))
