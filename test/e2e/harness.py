"""E2E harness for the memgraph-operator on the local control plane (used by test/e2e and reusable by the chaos
suite of issue 5).

Pieces:
  operator_binary()           the memgraph-operator binary under test (env MGO_OPERATOR_BIN, else
                              $MGO_BUILD_DIR/src/cmd/memgraph-operator, else the newest of build/{debug,op,release})
  OperatorProcess             one `memgraph-operator run` as a local process with the operator's least-privilege
                              kubeconfig, a free HTTP port on 127.0.0.1 and a log file; http(), json(), metrics(),
                              logs(), kill() (SIGKILL), stop() (SIGTERM, then SIGKILL), start(), restart()
  Clusters                    helpers bound to a control plane: make_cluster, wait_ready, cluster_status, get_cluster,
                              pod_roles, service_endpoints / service_endpoint, lease_holder
  bolt_session(ip)            context manager: a neo4j driver session on bolt://ip:7687 without auth
  bolt_query(ip, q, **params) list of record dicts (one auto-commit transaction)
  show_replicas(ip)           {name: row} of SHOW REPLICAS on that instance
  parse_metrics(text)         Prometheus text → list of (name, {labels}, value)

Service resolution: service_endpoints() reads the Service's EndpointSlices. In the netns pod network (the
default where namespaces can be made, test/cluster/README.md) they are the controller manager's, and
service_address() is the Service's ClusterIP, which kube-proxy forwards: write_through() goes through it like any
client. In the loopback fallback the slices stay empty (the API server refuses loopback addresses), so
service_endpoints() computes the set the EndpointSlice controller would publish (selector, Ready, not terminating,
an IP) and service_address() is the single endpoint. Writer and the chaos writers dial the endpoint they resolve
(a client-side resolver), so every acknowledgement is attributed to the pod that gave it.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUP_PATH = "/apis/memgraph.io/v1alpha1"
BOLT_PORT = 7687


# ---------------------------------------------------------------------------------------------------------------
# the operator process


def operator_binary():
    explicit = os.environ.get("MGO_OPERATOR_BIN")
    if explicit:
        return explicit
    build_dir = os.environ.get("MGO_BUILD_DIR")
    if build_dir:
        return os.path.join(build_dir, "src", "cmd", "memgraph-operator")
    candidates = [p for p in (os.path.join(ROOT, "build", d, "src", "cmd", "memgraph-operator")
                              for d in ("debug", "op", "release")) if os.path.exists(p)]
    if not candidates:
        return os.path.join(ROOT, "build", "debug", "src", "cmd", "memgraph-operator")
    return max(candidates, key=os.path.getmtime)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_metrics(text):
    """Prometheus text format → [(name, {label: value}, float)]. Comments and blank lines are skipped."""
    out = []
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in label_re.findall(m.group(3) or "")}
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        out.append((m.group(1), labels, value))
    return out


def metric_sum(samples, name, **labels):
    """Sum of every sample called `name` whose labels include the given ones (None when there is none)."""
    vals = [v for n, ls, v in samples if n == name and all(ls.get(k) == str(w) for k, w in labels.items())]
    return sum(vals) if vals else None


class OperatorProcess:
    """One `memgraph-operator run`. Not started by the constructor: call start()."""

    instances = []  # every OperatorProcess ever created in this interpreter (log tails on failure, cleanup)

    def __init__(self, cp, log_path, identity, binary=None, namespace=None, leader_elect=True, extra_args=(),
                 extra_env=None, port=None):
        self.cp = cp
        self.binary = binary or operator_binary()
        self.log_path = log_path
        self.identity = identity
        self.namespace = namespace
        self.leader_elect = leader_elect
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.port = port or free_port()
        self.proc = None
        self.starts = 0
        OperatorProcess.instances.append(self)

    # -- life cycle
    def argv(self):
        argv = [self.binary, "run", "--kubeconfig", self.cp.operator_kubeconfig, "--http-addr", "127.0.0.1",
                "--http-port", str(self.port), "--identity", self.identity, "--log-format", "logfmt",
                "--log-level", "info", f"--leader-elect={'true' if self.leader_elect else 'false'}"]
        if self.namespace:
            argv += ["--namespace", self.namespace]
        return argv + self.extra_args

    def start(self, wait_healthy=True, timeout=60):
        assert not self.running(), f"operator {self.identity} is already running"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MGO_") or k in ("MGO_CACHE",)}
        env.update(self.extra_env)
        self.starts += 1
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        log.write(f"==== start #{self.starts}: {' '.join(self.argv())}\n".encode())
        log.flush()
        try:
            argv = self.argv()
            if hasattr(self.cp, "with_cluster_dns"):  # the pods' /etc/hosts, so pod and Service names resolve
                argv = self.cp.with_cluster_dns(argv)
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, start_new_session=True, cwd=ROOT)
        finally:
            log.close()
        if wait_healthy:
            self.wait_healthy(timeout)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def wait_healthy(self, timeout=60):
        def healthy():
            assert self.running(), f"operator {self.identity} exited with {self.proc.returncode}:\n{self.tail()}"
            return self.http("/healthz")[0] == 200
        self.cp.wait_for(healthy, timeout=timeout, message=f"operator {self.identity} /healthz")

    def kill(self):
        """SIGKILL: no graceful shutdown, the Lease is not released."""
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        return self.proc.returncode if self.proc else None

    def stop(self, timeout=30):
        """SIGTERM (graceful: releases the Lease), SIGKILL after `timeout`. Returns the exit status."""
        if self.running():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        return self.proc.returncode if self.proc else None

    def restart(self, graceful=True, wait_healthy=True):
        self.stop() if graceful else self.kill()
        return self.start(wait_healthy=wait_healthy)

    # -- observation
    def http(self, path, timeout=10):
        """(status, body text); (0, error text) when nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except (OSError, urllib.error.URLError) as e:
            return 0, str(e)

    def json(self, path):
        status, body = self.http(path)
        assert status == 200, f"GET {path}: HTTP {status}: {body[:500]}"
        return json.loads(body)

    def metrics(self):
        status, body = self.http("/metrics")
        assert status == 200, f"GET /metrics: HTTP {status}: {body[:500]}"
        return parse_metrics(body)

    def logs(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def tail(self, lines=60):
        return "".join(self.logs().splitlines(keepends=True)[-lines:])


# ---------------------------------------------------------------------------------------------------------------
# Bolt


@contextlib.contextmanager
def bolt_session(ip, port=BOLT_PORT, timeout=10):
    """A neo4j driver session on bolt://ip:port, no auth. The driver is closed on exit."""
    from neo4j import GraphDatabase  # imported lazily: only e2e tests need it

    driver = GraphDatabase.driver(f"bolt://{ip}:{port}", auth=None, connection_timeout=timeout,
                                  max_connection_lifetime=60, connection_acquisition_timeout=timeout)
    try:
        with driver.session() as s:
            yield s
    finally:
        driver.close()


def bolt_query(ip, query, **params):
    with bolt_session(ip) as s:
        return [r.data() for r in s.run(query, **params)]


def show_replicas(ip):
    return {r["name"]: r for r in bolt_query(ip, "SHOW REPLICAS")}


def replication_role(ip):
    return bolt_query(ip, "SHOW REPLICATION ROLE")[0]["replication role"]


def role_or_none(ip):
    """replication_role(ip), or None while nothing answers there (starting, restarting)."""
    try:
        return replication_role(ip)
    except Exception:  # noqa: BLE001 - not listening yet
        return None


def replica_state(row):
    """The default database's replica status of a SHOW REPLICAS row ("ready", "replicating", …) or None."""
    info = (row.get("data_info") or {}).get("memgraph") or {}
    return info.get("status")


def registration_name(pod):
    """docs/api.md: every character outside [A-Za-z0-9_] becomes `_`, a leading digit gets a `_` prefix."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", pod)
    return "_" + name if name[:1].isdigit() else name


# ---------------------------------------------------------------------------------------------------------------
# clusters


class Clusters:
    """MemgraphCluster helpers bound to a control plane (test/conftest.py ControlPlane)."""

    def __init__(self, cp):
        self.cp = cp

    # -- objects
    @staticmethod
    def manifest(name, instances=3, **spec):
        return {"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphCluster", "metadata": {"name": name},
                "spec": {"instances": instances, **spec}}

    def make_cluster(self, ns, name, instances=3, **spec):
        obj = self.manifest(name, instances, **spec)
        self.cp.api.call("POST", f"{GROUP_PATH}/namespaces/{ns}/memgraphclusters", obj)
        return obj

    def get_cluster(self, ns, name):
        status, obj = self.cp.api.request("GET", f"{GROUP_PATH}/namespaces/{ns}/memgraphclusters/{name}")
        if status == 404:
            return None
        assert status == 200, f"GET mgc {ns}/{name}: HTTP {status} {obj}"
        return obj

    def cluster_status(self, ns, name):
        return (self.get_cluster(ns, name) or {}).get("status") or {}

    @staticmethod
    def condition(status, ctype):
        return next((c for c in status.get("conditions") or [] if c.get("type") == ctype), None)

    def is_ready(self, ns, name):
        obj = self.get_cluster(ns, name)
        if not obj:
            return False
        st = obj.get("status") or {}
        ready = self.condition(st, "Ready")
        return (st.get("phase") == "Running" and ready is not None and ready.get("status") == "True"
                and st.get("observedGeneration") == obj["metadata"]["generation"])

    def wait_ready(self, ns, name, timeout=120):
        """Waits for phase Running, Ready=True and observedGeneration == generation; returns the status."""
        def ready():
            return self.cluster_status(ns, name) if self.is_ready(ns, name) else None
        try:
            return self.cp.wait_for(ready, timeout=timeout, interval=0.5, message=f"MemgraphCluster {ns}/{name} Ready")
        except AssertionError as e:
            raise AssertionError(f"{e}\nlast status: {json.dumps(self.cluster_status(ns, name), indent=1)}") from None

    def pods(self, ns, name):
        status, obj = self.cp.api.request(
            "GET", f"/api/v1/namespaces/{ns}/pods?labelSelector=app.kubernetes.io/instance%3D{name}")
        assert status == 200, f"list pods: HTTP {status} {obj}"
        return sorted(obj["items"], key=lambda p: p["metadata"]["name"])

    def pod_roles(self, ns, name):
        """{pod name: memgraph.io/role label or None} for the cluster's pods that are not being deleted."""
        return {p["metadata"]["name"]: p["metadata"].get("labels", {}).get("memgraph.io/role")
                for p in self.pods(ns, name) if not p["metadata"].get("deletionTimestamp")}

    @staticmethod
    def pod_ready(pod):
        return (not pod["metadata"].get("deletionTimestamp") and bool(pod.get("status", {}).get("podIP"))
                and any(c["type"] == "Ready" and c["status"] == "True"
                        for c in pod.get("status", {}).get("conditions") or []))

    def main_pod(self, ns, name):
        mains = [p for p, r in self.pod_roles(ns, name).items() if r == "main"]
        assert len(mains) == 1, f"expected exactly one role=main pod, got {mains}"
        return mains[0]

    # -- Services (no kube-proxy: resolve to pod IPs)
    def service_endpoints(self, ns, svc):
        """Ready endpoint IPs of a Service: from its EndpointSlices, else computed from its selector (see top)."""
        status, slices = self.cp.api.request(
            "GET", f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"
                   f"?labelSelector=kubernetes.io/service-name%3D{svc}")
        ips = []
        if status == 200:
            for sl in slices.get("items", []):
                for ep in sl.get("endpoints") or []:
                    cond = ep.get("conditions") or {}
                    if cond.get("ready", True) and not cond.get("terminating", False):
                        ips += ep.get("addresses", [])
        if ips:
            return sorted(set(ips))
        status, service = self.cp.api.request("GET", f"/api/v1/namespaces/{ns}/services/{svc}")
        assert status == 200, f"GET service {ns}/{svc}: HTTP {status} {service}"
        selector = service["spec"].get("selector") or {}
        assert selector, f"service {ns}/{svc} has no selector"
        sel = ",".join(f"{k}%3D{v}" for k, v in sorted(selector.items()))
        status, pods = self.cp.api.request("GET", f"/api/v1/namespaces/{ns}/pods?labelSelector={sel}")
        assert status == 200, f"list pods for {svc}: HTTP {status} {pods}"
        return sorted(p["status"]["podIP"] for p in pods["items"] if self.pod_ready(p))

    def service_address(self, ns, svc):
        """Where a client dials the Service: its ClusterIP in the netns pod network (kube-proxy forwards it to a
        ready endpoint), else (loopback: no ClusterIP traffic) its single ready endpoint."""
        if self.cp.pod_network == "netns":
            status, service = self.cp.api.request("GET", f"/api/v1/namespaces/{ns}/services/{svc}")
            assert status == 200, f"GET service {ns}/{svc}: HTTP {status} {service}"
            ip = service["spec"].get("clusterIP")
            if ip and ip != "None":
                return ip
        return self.service_endpoint(ns, svc)

    def service_endpoint(self, ns, svc):
        """The single ready endpoint IP of a Service (e.g. `<name>-write`); AssertionError unless exactly one."""
        ips = self.service_endpoints(ns, svc)
        assert len(ips) == 1, f"service {ns}/{svc}: expected exactly one ready endpoint, got {ips}"
        return ips[0]

    def wait_write_endpoint(self, ns, name, pod, timeout=30):
        """Polls until the write Service's only ready endpoint is `pod` (labels and EndpointSlices follow a MAIN
        change asynchronously); returns its IP."""
        ip = self.cp.pod_ip(ns, pod)
        self.cp.wait_for(lambda: self.service_endpoints(ns, f"{name}-write") == [ip], timeout=timeout,
                         message=f"{ns}/{name}-write pointing at {pod} ({ip}) only")
        return ip

    def ip_to_pod(self, ns, name):
        return {p["status"]["podIP"]: p["metadata"]["name"] for p in self.pods(ns, name)
                if p.get("status", {}).get("podIP")}

    # -- leader election
    def lease(self, ns="memgraph-operator-system", lease="memgraph-operator"):
        status, obj = self.cp.api.request("GET", f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{lease}")
        return obj if status == 200 else None

    def lease_holder(self, ns="memgraph-operator-system", lease="memgraph-operator"):
        obj = self.lease(ns, lease)
        return ((obj or {}).get("spec") or {}).get("holderIdentity") or None

    # -- replication checks shared by the scenarios
    def replication_ok(self, ns, name, expected_replicas=None):
        """True when exactly one pod is labelled main, that pod answers MAIN, and SHOW REPLICAS on it lists
        exactly every other existing pod, each in state ready. Returns {registration name: row}."""
        roles = self.pod_roles(ns, name)
        mains = [p for p, r in roles.items() if r == "main"]
        if len(mains) != 1:
            return None
        main = mains[0]
        others = sorted(p for p in roles if p != main)
        if expected_replicas is not None and len(others) != expected_replicas:
            return None
        if any(roles[p] != "replica" for p in others):
            return None
        ip = self.cp.pod_ip(ns, main)
        if replication_role(ip) != "main":
            return None
        rows = show_replicas(ip)
        if set(rows) != {registration_name(p) for p in others}:
            return None
        if any(replica_state(r) != "ready" for r in rows.values()):
            return None
        return rows

    def wait_replication(self, ns, name, expected_replicas=None, timeout=90):
        last = {}

        def ok():
            last["roles"] = self.pod_roles(ns, name)
            return self.replication_ok(ns, name, expected_replicas)
        try:
            return self.cp.wait_for(ok, timeout=timeout, interval=0.5,
                                    message=f"{ns}/{name}: one MAIN with every other pod registered and ready")
        except AssertionError as e:
            extra = ""
            try:
                extra = f"\nSHOW REPLICAS on the main: {show_replicas(self.cp.pod_ip(ns, self.main_pod(ns, name)))}"
            except Exception as inner:  # noqa: BLE001 - diagnostics only
                extra = f"\n({inner!r})"
            raise AssertionError(f"{e}\nroles: {last.get('roles')}{extra}\nstatus: "
                                 f"{json.dumps(self.cluster_status(ns, name), indent=1)}") from None

    def wait_canary(self, ns, name, timeout=60):
        """Waits for the first replication test (docs/validation.md): from then on every instance holds the one
        canary node (CANARY_NODES), which snapshots, backups and vertex counts include."""
        return self.cp.wait_for(
            lambda: (self.cluster_status(ns, name).get("validation") or {}).get("lastReplicationTest"),
            timeout=timeout, message=f"{ns}/{name}: the first replication test")

    def wait_value_on(self, ip, label, value, timeout=30):
        """Polls until (:label {v: value}) is visible on the instance at ip (replication is asynchronous)."""
        q = f"MATCH (n:{label} {{v: $v}}) RETURN count(n) AS c"
        return self.cp.wait_for(lambda: bolt_query(ip, q, v=value)[0]["c"] == 1, timeout=timeout,
                                message=f"{label} v={value} visible on {ip}")


CANARY_NODES = 1  # the validation canary (label _MemgraphOperatorCanary), on by default


def write_through(clusters, ns, name, label, value, timeout=30):
    """Writes (:label {v: value}) through the write Service (its ClusterIP in the netns pod network) and returns
    the IP of the MAIN that holds it. Polls (up to timeout) until the Service has exactly one ready endpoint and a
    write is acknowledged: labels, readiness, EndpointSlices and kube-proxy's rules follow a MAIN change a moment
    apart, and a client retries a refused write, as any client does."""
    svc = f"{name}-write"
    clusters.cp.wait_for(lambda: len(clusters.service_endpoints(ns, svc)) == 1, timeout=timeout, interval=0.2,
                         message=f"{ns}/{svc} with exactly one ready endpoint")

    def write():
        bolt_query(clusters.service_address(ns, svc), f"CREATE (:{label} {{v: $v}})", v=value)
        return True
    clusters.cp.wait_for(write, timeout=timeout, interval=0.2, message=f"a write through {ns}/{svc}")
    ip = clusters.service_endpoint(ns, svc)
    found = bolt_query(ip, f"MATCH (n:{label} {{v: $v}}) RETURN count(n) AS c", v=value)[0]["c"]
    assert found >= 1, f"the write through {svc} is not on its endpoint {ip}"
    return ip


# ---------------------------------------------------------------------------------------------------------------
# load during faults (reused by the chaos suite)


class BackgroundLoop:
    """Calls self.round() every `interval` seconds in a daemon thread until stop(). Use as a context manager, or
    start()/stop()."""

    interval = 0.1

    def __init__(self, name=None):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name or type(self).__name__, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.round()
            self._stop.wait(self.interval)

    def round(self):
        raise NotImplementedError

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=30)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Writer(BackgroundLoop):
    """A background writer through the write Service, as a client would: each write resolves the Service again,
    opens a connection (within `timeout` seconds), `CREATE (:<label> {id: n})` and records n only when the MAIN
    acknowledged it.

    acked:   [(n, monotonic time, ip that acknowledged)]
    failed:  [(n, monotonic time, error text)]   (not acknowledged: may or may not be there)
    Thread-safe enough for one writer thread and readers of lists.
    """

    def __init__(self, clusters, ns, name, label="W", interval=0.05, timeout=3):
        super().__init__(name=f"writer-{ns}-{name}")
        self.clusters, self.ns, self.name, self.label, self.interval = clusters, ns, name, label, interval
        self.timeout = timeout
        self.acked, self.failed = [], []
        self._next = 1

    def round(self):
        n = self._next
        self._next += 1
        try:
            ip = self.clusters.service_endpoint(self.ns, f"{self.name}-write")
            with bolt_session(ip, timeout=self.timeout) as s:
                s.run(f"CREATE (:{self.label} {{id: $n}})", n=n).consume()
            self.acked.append((n, time.monotonic(), ip))
        except Exception as e:  # noqa: BLE001 - every failure is recorded, never fatal
            self.failed.append((n, time.monotonic(), repr(e)[:200]))

    def acked_ids(self):
        return {n for n, _, _ in self.acked}

    def wait_acked(self, count, timeout=60):
        """Waits until at least `count` more writes were acknowledged than now (progress under load)."""
        target = len(self.acked) + count
        return self.clusters.cp.wait_for(lambda: len(self.acked) >= target, timeout=timeout,
                                         message=f"{count} more acknowledged writes")


def missing_writes(ip, label, ids):
    """The acknowledged ids that are not on the instance at ip."""
    present = {r["id"] for r in bolt_query(ip, f"MATCH (n:{label}) RETURN n.id AS id")}
    return sorted(set(ids) - present)


class RoleSampler(BackgroundLoop):
    """Samples SHOW REPLICATION ROLE on every pod of a cluster in the background (one short connection per pod per
    round). samples: [(monotonic time, {pod: "main" | "replica" | None (no answer)})].
    max_mains() is the largest number of instances that answered MAIN in one round (a two-MAIN check)."""

    def __init__(self, clusters, ns, name, interval=0.2):
        super().__init__(name=f"roles-{ns}-{name}")
        self.clusters, self.ns, self.name, self.interval = clusters, ns, name, interval
        self.samples = []

    def _role(self, ip):
        try:
            with bolt_session(ip, timeout=1) as s:
                return s.run("SHOW REPLICATION ROLE").single()["replication role"]
        except Exception:  # noqa: BLE001 - an instance that does not answer has no role this round
            return None

    def round(self):
        try:
            ips = {p["metadata"]["name"]: p.get("status", {}).get("podIP")
                   for p in self.clusters.pods(self.ns, self.name)}
        except Exception:  # noqa: BLE001 - API hiccup: skip the round
            ips = {}
        if ips:
            self.samples.append((time.monotonic(), {p: self._role(ip) if ip else None for p, ip in ips.items()}))

    def max_mains(self):
        return max((sum(1 for r in roles.values() if r == "main") for _, roles in self.samples), default=0)

    def mains_seen(self):
        return {p for _, roles in self.samples for p, r in roles.items() if r == "main"}
