"""The chaos checker: what must hold around any fault, failover, switchover or rolling update (issue 5).

A `Chaos` run puts a cluster under load and watches it while a scenario injects faults, then proves:

  (a) no acknowledged write is lost: with SYNC or STRICT_SYNC every id a client saw acknowledged is on the final
      MAIN and on every replica after catch-up; with ASYNC the ids missing on the final MAIN are counted and must
      not exceed what the operator itself estimated (the sum of status.lastFailover.behind over the run's failovers,
      or the delta of mgo_failover_estimated_lost_transactions_total, whichever is larger)
  (b) never two MAINs taking writes through the write Service: no API sample ever shows two (not terminating) pods
      labelled memgraph.io/role=main, and the sequence of pods that acknowledged writes never goes back to an
      earlier MAIN (A..A B..B, never A B A) unless a failover or switchover to that pod was recorded (the
      status.lastFailover values sampled during the run)
  (c) the cluster is Ready again (phase Running, Ready=True, observedGeneration current) within a deadline
  (d) no replica left unregistered or diverged: SHOW REPLICAS on the final MAIN lists every other pod, each ready
      with behind 0, and every replica holds every acknowledged write that the MAIN holds
  (e) no write acknowledged by an instance other than the chosen MAIN after the promotion, by any client: once a
      pod recorded as status.currentMain answered MAIN, no other pod acknowledges a write (kept connections and
      the per-pod prober included); and in ASYNC, a lost write was acknowledged before the last fault

Load and observation, all in background threads:
  ChaosWriter   harness.Writer with a client-side deadline per write (a frozen MAIN gives an error, not a hang)
  KeptWriter    a pooled client: one driver kept across writes, to the write Service's endpoint as resolved when it
                (re)connects; it reconnects only after a transport error (a refusal keeps the connection)
  NoTimeoutWriter the same without a receive timeout, in a child process (this one has a default socket
                timeout): a write to a frozen MAIN waits until its connection breaks
  PodProber     a client of every pod: a kept connection per pod, `CREATE (:Probe)` on each every 0.1 s; every
                acknowledgement is recorded with the pod (what a client that reaches pods by DNS would get)
  Reader        count(n) through the `<name>-read` Service in a loop (successes and errors)
  RoleSampler   (harness) SHOW REPLICATION ROLE on every pod: reported, not asserted (a fenced old MAIN may answer
                MAIN for a moment before the operator demotes it; the label decides where writes go)
  LabelSampler  pods (role label, readiness, IP, revision) and the cluster status, every ~0.1 s through the API

Faults: KeepDown (SIGKILL a container every time it restarts: a crash-looping process), and the control plane's
kill_pod / freeze_pod / thaw_pod. Helpers: wait_new_main, patch_cluster, pods_at_update_revision.

Client deadline: the neo4j driver sets no receive timeout after connecting, so a client of a frozen (SIGSTOPped)
MAIN would wait forever. Importing this module sets socket.setdefaulttimeout(CLIENT_TIMEOUT_S) for this test
process (kube clients here pass their own timeouts), which every driver socket inherits: a write or read that gets
no answer within that time fails, as it would for an application with a deadline.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import BackgroundLoop, RoleSampler, Writer, bolt_query, bolt_session

CLIENT_TIMEOUT_S = 2.0
socket.setdefaulttimeout(CLIENT_TIMEOUT_S)

ROLE_LABEL = "memgraph.io/role"
REVISION_LABEL = "controller-revision-hash"


# ---------------------------------------------------------------------------------------------------------------
# load


class ChaosWriter(Writer):
    """harness.Writer whose connection attempt is bounded by CLIENT_TIMEOUT_S (the answer is bounded by the module's
    default socket timeout). Same records: acked [(n, t, ip)], failed [(n, t, error)]."""

    def __init__(self, clusters, ns, name, label="W", interval=0.05, timeout=CLIENT_TIMEOUT_S):
        super().__init__(clusters, ns, name, label=label, interval=interval, timeout=timeout)


def _transport_error(e):
    """True for errors after which a driver drops its connection (the server did not answer); False for a
    server's refusal (a FAILURE: the connection is fine)."""
    from neo4j.exceptions import Neo4jError  # imported lazily like harness.bolt_session

    return not isinstance(e, Neo4jError)


def _driver(ip):
    from neo4j import GraphDatabase

    return GraphDatabase.driver(f"bolt://{ip}:7687", auth=None, connection_timeout=CLIENT_TIMEOUT_S,
                                max_connection_lifetime=3600, connection_acquisition_timeout=CLIENT_TIMEOUT_S)


class KeptWriter(BackgroundLoop):
    """A pooled client of the write Service: one driver kept across writes, connected to the Service's endpoint
    as resolved when it (re)connects, and reconnecting only after a transport error (a refused write keeps the
    connection, as drivers do). Same records as the Writer: acked [(n, t, ip)], failed [(n, t, error)]."""

    def __init__(self, clusters, ns, name, label="K", interval=0.05):
        super().__init__(name=f"kept-{ns}-{name}")
        self.clusters, self.ns, self.name, self.label, self.interval = clusters, ns, name, label, interval
        self.acked, self.failed, self.connects = [], [], 0
        self._next, self._drv, self._ip = 1, None, None

    def _close(self):
        if self._drv is not None:
            try:
                self._drv.close()
            except Exception:  # noqa: BLE001 - closing a broken driver
                pass
        self._drv = None

    def round(self):
        n = self._next
        self._next += 1
        try:
            if self._drv is None:
                self._ip = self.clusters.service_endpoint(self.ns, f"{self.name}-write")
                self._drv = _driver(self._ip)
                self.connects += 1
            with self._drv.session() as s:
                s.run(f"CREATE (:{self.label} {{id: $n}})", n=n).consume()
            self.acked.append((n, time.monotonic(), self._ip))
        except Exception as e:  # noqa: BLE001 - recorded
            self.failed.append((n, time.monotonic(), repr(e)[:200]))
            if _transport_error(e):
                self._close()

    def stop(self):
        super().stop()
        self._close()
        return self


_NO_TIMEOUT_CLIENT = r"""
import socket, sys, time
from neo4j import GraphDatabase
from neo4j.exceptions import Neo4jError
endpoint_file, label, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
assert socket.getdefaulttimeout() is None  # no receive timeout: a silent server is waited for
drv, ip, n = None, None, 0
while True:
    n += 1
    try:
        if drv is None:
            with open(endpoint_file) as f:
                ip = f.read().strip()
            if not ip:
                raise RuntimeError("no endpoint")
            drv = GraphDatabase.driver(f"bolt://{ip}:7687", auth=None, connection_timeout=2.0,
                                       max_connection_lifetime=3600)
        with drv.session() as s:
            s.run(f"CREATE (:{label} {{id: $n}})", n=n).consume()
        print(f"ack {n} {time.monotonic()} {ip}", flush=True)
    except Exception as e:
        print(f"fail {n} {time.monotonic()} {type(e).__name__}", flush=True)
        if not isinstance(e, Neo4jError) and drv is not None:
            try:
                drv.close()
            except Exception:
                pass
            drv = None
    time.sleep(interval)
"""


class NoTimeoutWriter(BackgroundLoop):
    """A pooled client without a receive timeout, in its own process (this process has a default socket
    timeout): one kept driver, reconnecting only after a transport error, to the write Service's endpoint as this
    loop publishes it every 0.1 s in a file (what a DNS name of the Service would give). A write to a frozen MAIN
    waits until the connection breaks. Same records as the Writer: acked [(n, t, ip)], failed [(n, t, error)]."""

    def __init__(self, clusters, ns, name, label="N", interval=0.05, workdir=None):
        super().__init__(name=f"notimeout-{ns}-{name}")
        self.clusters, self.ns, self.name, self.label, self.write_interval = clusters, ns, name, label, interval
        self.interval = 0.1
        self.acked, self.failed = [], []
        self._dir = workdir or tempfile.mkdtemp(prefix="mgo-notimeout-")
        self._file = os.path.join(self._dir, "endpoint")
        self._proc = self._reader = None

    def round(self):  # the resolver: the write Service's current endpoint, "" when it has none
        try:
            ip = self.clusters.service_endpoint(self.ns, f"{self.name}-write") or ""
        except Exception:  # noqa: BLE001 - no endpoint this round
            ip = ""
        tmp = self._file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(ip)
        os.replace(tmp, self._file)

    def _read(self):
        for line in self._proc.stdout:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "ack":
                self.acked.append((int(parts[1]), float(parts[2]), parts[3]))
            elif len(parts) == 4 and parts[0] == "fail":
                self.failed.append((int(parts[1]), float(parts[2]), parts[3]))

    def start(self):
        self.round()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
        self._proc = subprocess.Popen([sys.executable, "-c", _NO_TIMEOUT_CLIENT, self._file, self.label,
                                       str(self.write_interval)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True, env=env)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return super().start()

    def stop(self):
        super().stop()
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
            self._reader.join(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)
        return self


class PodProber(BackgroundLoop):
    """Writes `CREATE (:Probe {n})` to every pod of the cluster every `interval` seconds over a connection kept per
    pod (re-resolved through the API after a transport error, as a DNS name would be). acked [(pod, n, t, ip)]:
    every write some instance acknowledged — only the chosen MAIN may."""

    def __init__(self, clusters, ns, name, interval=0.1):
        super().__init__(name=f"probe-{ns}-{name}")
        self.clusters, self.ns, self.name, self.interval = clusters, ns, name, interval
        self.acked, self.refused, self.errors = [], 0, 0
        self._n, self._rounds, self._drivers = 0, 0, {}

    def _pods(self):
        try:
            return {p["metadata"]["name"]: p.get("status", {}).get("podIP")
                    for p in self.clusters.pods(self.ns, self.name)}
        except Exception:  # noqa: BLE001 - API hiccup: probe the pods known already
            return {p: ip for p, (_, ip) in self._drivers.items()}

    def _close(self, pod):
        drv = self._drivers.pop(pod, (None, None))[0]
        if drv is not None:
            try:
                drv.close()
            except Exception:  # noqa: BLE001 - closing a broken driver
                pass

    def round(self):
        self._rounds += 1
        pods = self._pods() if len(self._drivers) < 2 or self._rounds % 20 == 0 else {}
        for pod, ip in pods.items():
            if ip and (pod not in self._drivers or self._drivers[pod][1] != ip):
                self._close(pod)
                self._drivers[pod] = (_driver(ip), ip)
        for pod, (drv, ip) in list(self._drivers.items()):
            self._n += 1
            try:
                with drv.session() as s:
                    s.run("CREATE (:Probe {n: $n})", n=self._n).consume()
                self.acked.append((pod, self._n, time.monotonic(), ip))
            except Exception as e:  # noqa: BLE001 - a replica refuses; a dead pod errors
                if _transport_error(e):
                    self.errors += 1
                    self._close(pod)
                else:
                    self.refused += 1

    def stop(self):
        super().stop()
        for pod in list(self._drivers):
            self._close(pod)
        return self


RECORD_SAMPLE_LAG_S = 1.0  # the status sampler sees a new currentMain at most this long after it was written


def non_chosen_acks(acks, chosen, promoted):
    """(e) acks [(pod, t, what)]; chosen [(t, pod, since)]: status.currentMain as sampled, oldest first, `since`
    the start of the sampler's previous successful round (the record was written after it: a sampler that failed
    rounds while the API server was slow sees a record late); promoted [(t, pod)]: RoleSampler samples in which
    a pod answered MAIN. An ack by P at t is a violation when another pod Q was recorded as currentMain at
    t_q <= t and answered MAIN at some ts in [t_q, t], and P was not recorded again after t_q by a sample that
    may have been written by t (since <= t, or t_r <= t + RECORD_SAMPLE_LAG_S: the operator records a MAIN before
    it promotes it, and the sampler sees the record late). Returns the violations as text (at most 20)."""
    out = []
    for pod, t, what in acks:
        others = [(tq, q) for tq, q, _ in chosen if q != pod and tq <= t
                  and any(p == q and tq <= tp <= t for tp, p in promoted)]
        if not others:
            continue
        t_q, q = others[-1]
        if any(p == pod and t_q < tr and (since <= t or tr <= t + RECORD_SAMPLE_LAG_S) for tr, p, since in chosen):
            continue
        ts = next(tp for tp, p in promoted if p == q and t_q <= tp <= t)
        out.append(f"{what} write acknowledged by {pod} at +{t:.2f}s, after {q} was chosen (+{t_q:.2f}s) "
                   f"and answered MAIN (+{ts:.2f}s)")
        if len(out) >= 20:
            break
    return out


class Reader(BackgroundLoop):
    """Reads count(n:label) through the `<name>-read` Service (round robin over its ready endpoints).
    ok: [(t, ip, count)]; errors: [(t, error)] (including "no endpoint")."""

    def __init__(self, clusters, ns, name, label="W", interval=0.1):
        super().__init__()
        self.clusters, self.ns, self.name, self.label, self.interval = clusters, ns, name, label, interval
        self.ok, self.errors = [], []
        self._i = 0

    def round(self):
        try:
            ips = self.clusters.service_endpoints(self.ns, f"{self.name}-read")
            if not ips:
                raise RuntimeError("read Service has no ready endpoint")
            self._i += 1
            ip = ips[self._i % len(ips)]
            with bolt_session(ip, timeout=CLIENT_TIMEOUT_S) as s:
                c = s.run(f"MATCH (n:{self.label}) RETURN count(n) AS c").single()["c"]
            self.ok.append((time.monotonic(), ip, c))
        except Exception as e:  # noqa: BLE001 - recorded
            self.errors.append((time.monotonic(), repr(e)[:200]))


class LabelSampler(BackgroundLoop):
    """Samples the cluster's pods and the MemgraphCluster status through the API.

    pods:     [(t, {pod: {"role", "ready", "ip", "deleting", "uid", "rev"}})]   one LIST per sample
    statuses: [(t, status)]                                                 only when it changed
    status_since: [t] per statuses entry: the start of the previous successful round (the change came after it)
    ip_pod:   {ip: pod} for every IP ever seen (ack IPs map back to pods even after a pod was replaced)
    failovers(): the distinct status.lastFailover values seen, oldest first
    """

    def __init__(self, clusters, ns, name, interval=0.1):
        super().__init__()
        self.clusters, self.ns, self.name, self.interval = clusters, ns, name, interval
        self.pods, self.statuses, self.ip_pod = [], [], {}
        self.status_since, self.last_ok_start = [], 0.0
        self.errors = 0

    def round(self):
        start = time.monotonic()
        try:
            pods = self.clusters.pods(self.ns, self.name)
            status = self.clusters.cluster_status(self.ns, self.name)
        except Exception:  # noqa: BLE001 - API hiccup: count it, skip the round
            self.errors += 1
            return
        now = time.monotonic()
        snap = {}
        for p in pods:
            meta, st = p["metadata"], p.get("status") or {}
            ip = st.get("podIP")
            snap[meta["name"]] = {"role": (meta.get("labels") or {}).get(ROLE_LABEL),
                                  "ready": self.clusters.pod_ready(p), "ip": ip,
                                  "deleting": bool(meta.get("deletionTimestamp")), "uid": meta.get("uid"),
                                  "rev": (meta.get("labels") or {}).get(REVISION_LABEL)}
            if ip:
                self.ip_pod[ip] = meta["name"]
        self.pods.append((now, snap))
        if not self.statuses or self.statuses[-1][1] != status:
            self.statuses.append((now, status))
            self.status_since.append(self.last_ok_start)
        self.last_ok_start = start

    @staticmethod
    def labelled_mains(snap, include_deleting=False):
        return sorted(p for p, s in snap.items() if s["role"] == "main" and (include_deleting or not s["deleting"]))

    def max_labelled_mains(self, include_deleting=False):
        return max((len(self.labelled_mains(s, include_deleting)) for _, s in self.pods), default=0)

    def double_main_samples(self):
        return [(t, self.labelled_mains(s)) for t, s in self.pods if len(self.labelled_mains(s)) > 1]

    def failovers(self):
        """One status.lastFailover per MAIN change, the latest version of it: the operator records a change when
        it decides (writeUnavailableMs null) and completes the same record (same writesUnavailableSince) once the
        new MAIN is in the write Service."""
        out = []
        for _, st in self.statuses:
            lf = st.get("lastFailover")
            if not lf or (out and out[-1] == lf):
                continue
            if out and _same_change(out[-1], lf):
                out[-1] = lf
            else:
                out.append(lf)
        return out

    def latest(self):
        return self.pods[-1][1] if self.pods else {}


def _same_change(a, b):
    keys = ("kind", "from", "to", "writesUnavailableSince")
    return a.get("writeUnavailableMs") is None and all(a.get(k) == b.get(k) for k in keys)


class SyncSampler(BackgroundLoop):
    """SHOW REPLICAS on the pod labelled main (per the LabelSampler's latest sample), every ~0.1 s.
    samples: [(t, pod, number of SYNC/STRICT_SYNC replicas listed ready or replicating)].
    acks_without_sync(): acknowledged writes for which the acknowledging MAIN listed no SYNC/STRICT_SYNC replica
    ready (or replicating) both in the sample just before and in the one just after the acknowledgement: writes
    that existed on one instance only (reported; with SYNC/STRICT_SYNC they are the ones a second fault would lose)."""

    def __init__(self, labels, interval=0.1):
        super().__init__()
        self.labels, self.interval = labels, interval
        self.samples = []

    def round(self):
        snap = self.labels.latest()
        mains = LabelSampler.labelled_mains(snap)
        if len(mains) != 1 or not snap[mains[0]]["ip"]:
            return
        pod = mains[0]
        try:
            with bolt_session(snap[pod]["ip"], timeout=1) as s:
                rows = [r.data() for r in s.run("SHOW REPLICAS")]
        except Exception:  # noqa: BLE001 - a MAIN that does not answer tells nothing here
            return
        # "replicating" is a ready replica with a shipment in flight (under load most samples see it): a SYNC
        # commit fails at once only while its replica is in recovery, invalid or diverged (memgraph.md 5.1)
        n = sum(1 for r in rows if r.get("sync_mode") in ("sync", "strict_sync")
                and ((r.get("data_info") or {}).get("memgraph") or {}).get("status") in ("ready", "replicating"))
        self.samples.append((time.monotonic(), pod, n))

    def acks_without_sync(self, acked, ip_pod):
        out = []
        for n, t, ip in acked:
            pod = ip_pod.get(ip, ip)
            mine = [(ts, k) for ts, p, k in self.samples if p == pod]
            before = [k for ts, k in mine if ts <= t]
            after = [k for ts, k in mine if ts > t]
            if before and after and before[-1] == 0 and after[0] == 0:
                out.append((n, pod, t))
        return out

    def around(self, pod, t, width=2):
        """The samples of pod nearest to t (up to width on each side): [(t, sync replicas ready)]."""
        mine = [(ts, k) for ts, p, k in self.samples if p == pod]
        i = sum(1 for ts, _ in mine if ts <= t)
        return mine[max(0, i - width):i + width]


# ---------------------------------------------------------------------------------------------------------------
# faults and waits


class KeepDown(BackgroundLoop):
    """Keeps a container down: SIGKILLs it every time the kubelet restarts it (a crash loop), until stop().
    The kubelet's restart backoff (0.5 s doubling to 5 s) keeps running, so after stop() the container comes
    back within at most ~5 s."""

    def __init__(self, cp, ns, pod, container="memgraph", interval=0.02):
        super().__init__()
        self.cp, self.ns, self.pod, self.container, self.interval = cp, ns, pod, container, interval
        self.kills = []

    def round(self):
        try:
            pid = self.cp.pod_pid(self.ns, self.pod, self.container)
            if pid:
                self.cp.kill_pod(self.ns, self.pod, self.container)
                self.kills.append(time.monotonic())
        except (AssertionError, ProcessLookupError, OSError, ValueError):
            pass  # exited between the read of the pid file and the signal, or the pid file is being written

    def start(self):
        pid = self.cp.kill_pod(self.ns, self.pod, self.container)  # the first kill happens now, synchronously
        self.kills.append(time.monotonic())
        assert pid
        return super().start()


def wait_new_main(cp, clusters, ns, name, old_main, timeout=60):
    """Waits until status.currentMain is a pod other than old_main and exactly that pod carries role=main;
    returns it."""
    def moved():
        st = clusters.cluster_status(ns, name)
        cur = st.get("currentMain")
        if not cur or cur == old_main:
            return None
        mains = [p for p, r in clusters.pod_roles(ns, name).items() if r == "main"]
        return cur if mains == [cur] else None
    return cp.wait_for(moved, timeout=timeout, interval=0.1, message=f"{ns}/{name}: a MAIN other than {old_main}")


def patch_cluster(cp, ns, name, patch):
    cp.kubectl("patch", "mgc", name, "-n", ns, "--type=merge", "-p", json.dumps(patch))


def statefulset(cp, ns, name):
    status, obj = cp.api.request("GET", f"/apis/apps/v1/namespaces/{ns}/statefulsets/{name}")
    assert status == 200, f"GET sts {ns}/{name}: HTTP {status} {obj}"
    return obj


def pods_at_update_revision(cp, clusters, ns, name, instances):
    """True when the StatefulSet's status.updateRevision belongs to its current template (observedGeneration) and
    all `instances` pods exist, are Ready and carry it."""
    sts = statefulset(cp, ns, name)
    st = sts.get("status") or {}
    rev = st.get("updateRevision")
    if not rev or st.get("observedGeneration") != sts["metadata"]["generation"]:
        return False
    pods = [p for p in clusters.pods(ns, name) if not p["metadata"].get("deletionTimestamp")]
    return (len(pods) == instances and all(clusters.pod_ready(p) for p in pods)
            and all((p["metadata"].get("labels") or {}).get(REVISION_LABEL) == rev for p in pods))


def event_counts(cp, ns, name):
    """{reason: count} of the Events on the MemgraphCluster (aggregated Events counted `count` times)."""
    out = {}
    for reason, _ in cluster_events(cp, ns, name):
        out[reason] = out.get(reason, 0) + 1
    return out


def cluster_events(cp, ns, name):
    """Events on the MemgraphCluster: [(reason, message)], oldest first."""
    status, obj = cp.api.request("GET", f"/api/v1/namespaces/{ns}/events")
    if status != 200:
        return []
    items = [e for e in obj.get("items") or [] if (e.get("involvedObject") or {}).get("kind") == "MemgraphCluster"
             and (e.get("involvedObject") or {}).get("name") == name]
    items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [(e.get("reason"), e.get("message") or "") for e in items for _ in range(max(1, e.get("count") or 1))]


def status_write_times(log_path, ns, name):
    """Wall-clock times (epoch seconds) of the operator's "status written" lines for cluster ns/name: each is one
    status write it made (step_status logs every write it sends, none it skips)."""
    import datetime
    want = f"cluster={ns}/{name}"
    out = []
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if 'msg="status written"' not in line or want not in line.split():
                    continue
                ts = line.split(" ", 1)[0]
                if ts.startswith("ts="):
                    out.append(datetime.datetime.fromisoformat(ts[3:].replace("Z", "+00:00")).timestamp())
    except OSError:
        return None
    return out


def cluster_metric(samples, metric, ns, name, **labels):
    """Sum of `metric` samples for this cluster (label cluster = name or ns/name; namespace, if present, = ns)."""
    total = 0.0
    for n, ls, v in samples:
        if n != metric or ls.get("cluster") not in (name, f"{ns}/{name}"):
            continue
        if "namespace" in ls and ls["namespace"] != ns:
            continue
        if all(ls.get(k) == str(w) for k, w in labels.items()):
            total += v
    return total


def ack_return_violations(runs, failovers, t0=0.0):
    """(b) on the acknowledgement sequence: runs [(pod, first t, last t, count)] in time order; a run by a pod that
    acknowledged before, after another pod did, is a return and needs a recorded failover/switchover to that pod
    (failovers: lastFailover dicts with "to"). Returns the violations as text."""
    to_counts = {}
    for f in failovers:
        to_counts[f.get("to")] = to_counts.get(f.get("to"), 0) + 1
    returns, seen, violations = {}, [], []
    for pod, t1, _, _ in runs:
        if pod in seen and seen[-1] != pod:
            returns[pod] = returns.get(pod, 0) + 1
            if returns[pod] > to_counts.get(pod, 0):
                violations.append(f"writes acknowledged by {pod} again at +{t1 - t0:.2f}s after {seen[-1]} "
                                  f"acknowledged (recorded failovers to it: {to_counts.get(pod, 0)})")
        seen.append(pod)
    return violations


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    vals = sorted(values)
    k = max(0, min(len(vals) - 1, int(round(p / 100.0 * len(vals) + 0.5)) - 1))
    return vals[k]


# ---------------------------------------------------------------------------------------------------------------
# the run


class ChaosFailure(AssertionError):
    pass


class Chaos:
    """One observed run. Use as a context manager around the fault injection:

        with Chaos(control_plane, clusters, ns, NAME, operator) as run:
            ... inject faults, run.mark("fault") at each one, wait with polled conditions ...
        report = run.check(mode="SYNC")      # waits for Ready and catch-up, asserts (a)-(d), returns the report

    `operator` (an OperatorProcess, optional) is used for metric deltas when it ran for the whole run."""

    def __init__(self, cp, clusters, ns, name, operator=None, label="W", write_interval=0.05, read=True,
                 kept=True, probe=True):
        self.cp, self.clusters, self.ns, self.name, self.operator, self.label = cp, clusters, ns, name, operator, label
        self.writer = ChaosWriter(clusters, ns, name, label=label, interval=write_interval)
        self.kept = KeptWriter(clusters, ns, name, label=f"{label}Kept", interval=write_interval) if kept else None
        self.no_timeout = NoTimeoutWriter(clusters, ns, name, label=f"{label}NoTimeout") if kept else None
        self.prober = PodProber(clusters, ns, name) if probe else None
        self.reader = Reader(clusters, ns, name, label=label) if read else None
        self.roles = RoleSampler(clusters, ns, name, interval=0.25)
        self.labels = LabelSampler(clusters, ns, name)
        self.sync = SyncSampler(self.labels)
        self.marks = []
        self.wall_marks = []  # (what, time.time()) beside marks: the operator's log is in wall-clock time
        self.t0 = self.t_end = self.wall0 = None
        self.metrics_before = None
        self.operator_starts = None
        self.report = None

    # -- life cycle
    def _metrics(self):
        if self.operator is None or not self.operator.running():
            return None
        try:
            return self.operator.metrics()
        except AssertionError:
            return None

    def start(self):
        self.metrics_before = self._metrics()
        self.operator_starts = self.operator.starts if self.operator else None
        self.events_before = event_counts(self.cp, self.ns, self.name)
        self.status_before = self.clusters.cluster_status(self.ns, self.name)
        self.t0, self.wall0 = time.monotonic(), time.time()
        self.labels.start()
        self.sync.start()
        self.roles.start()
        if self.reader:
            self.reader.start()
        for extra in (self.kept, self.no_timeout, self.prober):
            if extra:
                extra.start()
        self.writer.start()
        self.wait_acked(3)
        return self

    def stop_load(self):
        if self.t_end is None:
            self.t_end = time.monotonic()
            self.writer.stop()
            for other in (self.reader, self.kept, self.no_timeout, self.prober):
                if other:
                    other.stop()

    def stop(self):
        self.stop_load()
        self.roles.stop()
        self.sync.stop()
        self.labels.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        # Load keeps running until check(): recovery happens under load. On an exception, stop everything.
        if exc[0] is not None:
            self.stop()

    # -- during the run
    def mark(self, what):
        self.marks.append((what, time.monotonic()))
        self.wall_marks.append((what, time.time()))

    def wait_acked(self, count, timeout=60):
        target = len(self.writer.acked) + count
        return self.cp.wait_for(lambda: len(self.writer.acked) >= target, timeout=timeout, interval=0.05,
                                message=f"{count} more acknowledged writes through {self.name}-write "
                                        f"(failures so far: {self.writer.failed[-3:]})")

    def wait_acked_by(self, pod, count=3, timeout=60):
        """Waits until `count` writes were acknowledged by `pod` after now."""
        start = len(self.writer.acked)

        def done():
            ip_pod = dict(self.labels.ip_pod)
            ip_pod.setdefault(self.cp.pod_ip(self.ns, pod), pod)
            return sum(1 for _, _, ip in self.writer.acked[start:] if ip_pod.get(ip) == pod) >= count
        return self.cp.wait_for(done, timeout=timeout, interval=0.05,
                                message=f"{count} writes acknowledged by {pod} (failures: {self.writer.failed[-3:]})")

    # -- the end
    def _final_state(self, ready_timeout, catchup_timeout):
        """(c) and (d): Ready, then (load stopped) one labelled MAIN with every other pod registered, ready, behind 0,
        and every acknowledged write on the MAIN also on every replica. Returns (main, rows, t_ready)."""
        t = time.monotonic()
        self.clusters.wait_ready(self.ns, self.name, timeout=ready_timeout)
        t_ready = time.monotonic() - t
        self.stop()
        last = {}

        def settled():
            rows = self.clusters.replication_ok(self.ns, self.name)
            last["rows"] = rows
            if not rows:
                return None
            info = {n: ((r.get("data_info") or {}).get("memgraph") or {}) for n, r in rows.items()}
            last["info"] = info
            if any(i.get("behind") != 0 or i.get("status") != "ready" for i in info.values()):
                return None
            return rows
        try:
            rows = self.cp.wait_for(settled, timeout=catchup_timeout, interval=0.5,
                                    message="SHOW REPLICAS: every other pod registered, ready, behind 0")
        except AssertionError as e:
            raise ChaosFailure(f"(d) replication not settled: {e}\nlast: {last}\nroles: "
                               f"{self.clusters.pod_roles(self.ns, self.name)}") from None
        main = self.clusters.main_pod(self.ns, self.name)
        return main, rows, t_ready

    def _ids_on(self, pod, label=None):
        ip = self.cp.pod_ip(self.ns, pod)
        return {r["id"] for r in bolt_query(ip, f"MATCH (n:{label or self.label}) RETURN n.id AS id")}

    def _probes_on(self, pod):
        return {r["n"] for r in bolt_query(self.cp.pod_ip(self.ns, pod), "MATCH (n:Probe) RETURN n.n AS n")}

    def _all_acks(self):
        """[(pod, t relative to t0, what)] of every acknowledgement by every client."""
        ip_pod = self.labels.ip_pod
        out = [(ip_pod.get(ip, ip), t - self.t0, "service") for _, t, ip in self.writer.acked]
        for w, what in ((self.kept, "kept-connection"), (self.no_timeout, "no-receive-timeout")):
            if w:
                out += [(ip_pod.get(ip, ip), t - self.t0, what) for _, t, ip in w.acked]
        if self.prober:
            out += [(pod, t - self.t0, "per-pod") for pod, _, t, _ in self.prober.acked]
        return sorted(out, key=lambda a: a[1])

    def non_chosen_acks(self):
        chosen = [(t - self.t0, st.get("currentMain"), since - self.t0)
                  for (t, st), since in zip(self.labels.statuses, self.labels.status_since) if st.get("currentMain")]
        promoted = [(t - self.t0, p) for t, roles in self.roles.samples for p, r in roles.items() if r == "main"]
        return non_chosen_acks(self._all_acks(), chosen, promoted)

    def _extra_clients(self, final_main, acked_mark_after):
        """Lost writes and first acks of the kept-connection writer and the prober."""
        out = {}
        for key, w in (("kept", self.kept), ("no_timeout", self.no_timeout)):
            if not w:
                continue
            ids = {n for n, _, _ in w.acked}
            lost = sorted(ids - self._ids_on(final_main, w.label))
            lost_at = [(n, round(t - self.t0, 2), self.labels.ip_pod.get(ip, ip))
                       for n, t, ip in w.acked if n in set(lost[:5])]
            out[key] = {"acked": len(ids), "failed": len(w.failed), "lost": len(lost), "lost_ids": lost[:20],
                        "lost_acked_at_by": lost_at, "first_ack_after": acked_mark_after(w.acked),
                        "lost_after_last_fault": self._acked_after_last_mark(w.acked, lost)}
            if key == "kept":
                out[key]["connects"] = w.connects
        if self.prober:
            by_pod = {}
            for pod, _, _, _ in self.prober.acked:
                by_pod[pod] = by_pod.get(pod, 0) + 1
            main_probes = {n for pod, n, _, _ in self.prober.acked}
            lost = sorted(main_probes - self._probes_on(final_main))
            out["probe"] = {"acked_by": by_pod, "refused": self.prober.refused, "errors": self.prober.errors,
                            "lost": len(lost), "lost_ids": lost[:20]}
        return out

    def _acked_after_last_mark(self, acked, lost):
        """The lost ids that were acknowledged after the last fault mark (ASYNC may lose only earlier ones)."""
        if not self.marks:
            return []
        last = self.marks[-1][1]
        lost = set(lost)
        return sorted(n for n, t, _ in acked if n in lost and t > last)[:20]

    def _ack_runs(self):
        """[(pod, first t, last t, count)] of consecutive acknowledgements by the same pod."""
        runs = []
        for _, t, ip in self.writer.acked:
            pod = self.labels.ip_pod.get(ip, ip)
            if runs and runs[-1][0] == pod:
                p, t1, _, c = runs[-1]
                runs[-1] = (p, t1, t, c + 1)
            else:
                runs.append((pod, t, t, 1))
        return runs

    def _status_writes(self):
        """Status writes of this cluster during the run, from the operator's log: before the first mark (load on a
        healthy cluster) and from it until now (the fault and the recovery). None without an operator log."""
        path = getattr(self.operator, "log_path", None)
        times = status_write_times(path, self.ns, self.name) if path else None
        if times is None:
            return None
        end = time.time()
        fault = self.wall_marks[0][1] if self.wall_marks else end
        return {"before_first_mark": sum(1 for t in times if self.wall0 <= t < fault),
                "load_before_first_mark_s": round(fault - self.wall0, 1),
                "from_first_mark": sum(1 for t in times if fault <= t <= end),
                "from_first_mark_s": round(end - fault, 1) if self.wall_marks else 0.0}

    def build_report(self, final_main, rows, t_ready, mode):
        acked = self.writer.acked
        acked_ids = {n for n, _, _ in acked}
        on_main = self._ids_on(final_main)
        lost = sorted(acked_ids - on_main)
        replicas = sorted(p for p in self.clusters.pod_roles(self.ns, self.name) if p != final_main)
        missing_on_replica = {}
        for pod in replicas:  # replication is asynchronous for ASYNC replicas: poll until caught up
            want = acked_ids & on_main
            try:
                self.cp.wait_for(lambda pod=pod: not (want - self._ids_on(pod)), timeout=30, interval=0.5,
                                 message=f"acknowledged writes on {pod}")
            except AssertionError:
                missing_on_replica[pod] = sorted(want - self._ids_on(pod))[:20]
        # failovers: sampled status history, plus Events and metrics
        failovers = self.labels.failovers()
        before = self.status_before.get("lastFailover")
        failovers = [f for f in failovers if f != before]
        reasons = {r: c - self.events_before.get(r, 0) for r, c in event_counts(self.cp, self.ns, self.name).items()
                   if c > self.events_before.get(r, 0)}
        metrics_after = self._metrics()
        metric_delta = {}
        if self.metrics_before is not None and metrics_after is not None and self.operator.starts == self.operator_starts:
            for key, metric, labels in (("failovers", "mgo_failovers_total", {"kind": "failover"}),
                                        ("switchovers", "mgo_failovers_total", {"kind": "switchover"}),
                                        ("estimated_lost", "mgo_failover_estimated_lost_transactions_total", {}),
                                        ("multiple_mains", "mgo_multiple_mains_observed_total", {})):
                metric_delta[key] = (cluster_metric(metrics_after, metric, self.ns, self.name, **labels)
                                     - cluster_metric(self.metrics_before, metric, self.ns, self.name, **labels))
        # (b) the pods that acknowledged writes, in order; returns need a recorded failover to that pod
        runs = self._ack_runs()
        violations = ack_return_violations(runs, failovers, self.t0)
        # unavailability: the longest gap between acknowledgements, and from each mark to the next ack
        times = [self.t0] + [t for _, t, _ in acked] + [self.t_end]
        max_gap = max((b - a for a, b in zip(times, times[1:])), default=0.0)
        def acked_mark_after(acks):
            out = {}
            for what, tm in self.marks:
                nxt = next((t for _, t, _ in acks if t >= tm), None)
                out[what] = None if nxt is None else round(nxt - tm, 3)
            return out
        after_marks = acked_mark_after(acked)
        extra = self._extra_clients(final_main, acked_mark_after)
        behind_sum = sum(abs(int(f.get("behind") or 0)) for f in failovers)
        lost_bound = max(behind_sum, int(metric_delta.get("estimated_lost") or 0))
        read_ok = len(self.reader.ok) if self.reader else None
        read_err = len(self.reader.errors) if self.reader else None
        no_sync = self.sync.acks_without_sync(acked, self.labels.ip_pod) if mode in ("SYNC", "STRICT_SYNC") else []
        self.report = {
            "mode": mode, "duration_s": round(self.t_end - self.t0, 2),
            "acked": len(acked), "failed": len(self.writer.failed), "lost": len(lost), "lost_ids": lost[:50],
            "lost_bound": lost_bound, "missing_on_replicas": missing_on_replica,
            "max_write_gap_s": round(max_gap, 3), "first_ack_after": after_marks,
            "reads_ok": read_ok, "reads_failed": read_err,
            "ack_runs": [(p, c) for p, _, _, c in runs], "ack_return_violations": violations,
            "max_labelled_mains": self.labels.max_labelled_mains(),
            "double_main_samples": self.labels.double_main_samples()[:5],
            "label_samples": len(self.labels.pods),
            "max_mains_answering": self.roles.max_mains(), "mains_answering": sorted(self.roles.mains_seen()),
            "failovers": failovers, "events": reasons, "metric_delta": metric_delta,
            "final_main": final_main, "replicas": {n: ((r.get("data_info") or {}).get("memgraph") or {})
                                                   for n, r in rows.items()},
            "ready_after_s": round(t_ready, 2),
            "acks_without_sync_replica": len(no_sync) if mode in ("SYNC", "STRICT_SYNC") else None,
            "acks_without_sync_detail": [
                (n, pod, round(t - self.t0, 2), [(round(ts - self.t0, 2), k) for ts, k in self.sync.around(pod, t)])
                for n, pod, t in no_sync[:5]],
            "lost_after_last_fault": self._acked_after_last_mark(acked, lost),
            "non_chosen_acks": self.non_chosen_acks(),
            "status_writes": self._status_writes(),
            **extra,
        }
        return self.report

    def check(self, mode, ready_timeout=120, catchup_timeout=60):
        """Waits for (c) and (d), builds the report, asserts (a)-(d). Returns the report (also printed)."""
        self.stop_load()
        try:
            final_main, rows, t_ready = self._final_state(ready_timeout, catchup_timeout)
        except AssertionError as e:
            self.stop()
            raise ChaosFailure(f"(c)/(d) {e}\n{self.summary(partial=True)}") from None
        rep = self.build_report(final_main, rows, t_ready, mode)
        print("\n" + self.summary())
        self._append_report_file(rep)
        problems = []
        lost_all = rep["lost"] + sum(rep.get(k, {}).get("lost", 0) for k in ("kept", "no_timeout", "probe"))
        if mode in ("SYNC", "STRICT_SYNC") and lost_all:
            problems.append(f"(a) {lost_all} acknowledged writes lost in {mode}: service {rep['lost_ids'][:20]}, "
                            f"kept {rep.get('kept', {}).get('lost_acked_at_by')}, no-timeout "
                            f"{rep.get('no_timeout', {}).get('lost_acked_at_by')}, probe {rep.get('probe', {}).get('lost_ids')}")
        if mode == "ASYNC" and lost_all > rep["lost_bound"]:
            problems.append(f"(a) ASYNC lost {lost_all} acknowledged writes, more than the operator estimated "
                            f"({rep['lost_bound']})")
        late = rep["lost_after_last_fault"] + [n for k in ("kept", "no_timeout")
                                               for n in rep.get(k, {}).get("lost_after_last_fault", [])]
        if late:
            problems.append(f"(a) writes acknowledged after the last fault were lost: {late}")
        if rep["non_chosen_acks"]:
            problems.append(f"(e) {rep['non_chosen_acks']}")
        if rep["missing_on_replicas"]:
            problems.append(f"(d) replicas miss writes the MAIN has: {rep['missing_on_replicas']}")
        if rep["max_labelled_mains"] > 1:
            problems.append(f"(b) two pods labelled role=main at once: {rep['double_main_samples']}")
        if rep["ack_return_violations"]:
            problems.append(f"(b) {rep['ack_return_violations']}")
        if problems:
            raise ChaosFailure("\n".join(problems) + "\n" + self.summary())
        return rep

    @staticmethod
    def _append_report_file(rep):
        """Env CHAOS_REPORT_FILE: one JSON line per checked run (scripts/soak.sh aggregates them)."""
        path = os.environ.get("CHAOS_REPORT_FILE")
        if path:
            line = dict(rep, test=os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0])
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line, default=str) + "\n")

    def summary(self, partial=False):
        if partial or self.report is None:
            return (f"chaos (partial): acked={len(self.writer.acked)} failed={len(self.writer.failed)} "
                    f"last failures={self.writer.failed[-3:]} ack runs={[(p, c) for p, _, _, c in self._ack_runs()]} "
                    f"max labelled mains={self.labels.max_labelled_mains()} failovers={self.labels.failovers()} "
                    f"roles now={self.clusters.pod_roles(self.ns, self.name)}")
        r = self.report
        lines = [f"chaos report [{r['mode']}] {r['duration_s']} s: acked={r['acked']} failed={r['failed']} "
                 f"lost={r['lost']} (bound {r['lost_bound']}) max write gap={r['max_write_gap_s']} s "
                 f"first ack after={r['first_ack_after']}",
                 f"  reads ok={r['reads_ok']} failed={r['reads_failed']}; ack runs={r['ack_runs']}; "
                 f"labelled mains max={r['max_labelled_mains']} over {r['label_samples']} samples; "
                 f"answering MAIN max={r['max_mains_answering']} {r['mains_answering']}",
                 f"  failovers={r['failovers']}", f"  events={r['events']} metrics delta={r['metric_delta']}",
                 f"  acks while the MAIN listed no SYNC/STRICT_SYNC replica ready: {r['acks_without_sync_replica']}"
                 f" (n, pod, at s, samples around it: {r['acks_without_sync_detail']})",
                 f"  kept-connection writer: {r.get('kept')}",
                 f"  no-receive-timeout writer: {r.get('no_timeout')}", f"  per-pod prober: {r.get('probe')}",
                 f"  acks by a non-chosen instance after the promotion: {r['non_chosen_acks']}",
                 f"  status writes (operator log): {r.get('status_writes')}",
                 f"  final main={r['final_main']} replicas={r['replicas']} ready after {r['ready_after_s']} s"]
        return "\n".join(lines)


def versions(cp, clusters, ns, name):
    """{pod: SHOW VERSION} of every pod."""
    out = {}
    for pod in clusters.pod_roles(ns, name):
        rows = bolt_query(cp.pod_ip(ns, pod), "SHOW VERSION")
        out[pod] = next(iter(rows[0].values())) if rows else None
    return out


# ---- shared by the chaos files ----------------------------------------------------------------------------------

NAME = "mg"


def chaos_operator(operator_factory):
    """The operator with a 2 s Bolt deadline instead of 5 s: a frozen MAIN is noticed after ~2 s instead of ~5 s,
    which keeps the chaos files short. bench/failover_bench.py measures the default."""
    return operator_factory(identity="op-chaos", extra_args=["--bolt-timeout=2s"])


def chaos_replication(mode):
    if mode == "ASYNC":
        return {"mode": "ASYNC", "syncReplicas": 0, "healthCheckIntervalSec": 1}
    return {"mode": "ASYNC", "syncReplicas": 1, "syncMode": mode, "healthCheckIntervalSec": 1}


def ready_cluster(clusters, ns, mode, instances=3, failover_delay=1, image="memgraph/memgraph:3.12.0", **spec):
    """The chaos files' cluster (failoverDelaySec 1, healthCheckIntervalSec 1), Ready and replicating; its MAIN."""
    failover = {"enabled": True, "failoverDelaySec": failover_delay}
    if mode == "ASYNC":
        failover.update(allowAsyncPromotion=True, maxAsyncLag=1000000)
    clusters.make_cluster(ns, NAME, instances, image=image, replication=chaos_replication(mode), failover=failover,
                          **spec)
    status = clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=instances - 1)
    return status["currentMain"]


def pod_uids(clusters, ns):
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in clusters.pods(ns, NAME)
            if not p["metadata"].get("deletionTimestamp")}


def assert_failover(rep, old, new):
    """What a chaos report must show after a failover from old to new."""
    assert rep["final_main"] == new != old, rep
    # The new MAIN joins the write Service only once its SYNC/STRICT_SYNC replica (the third pod, up all along) is
    # registered: no write may be acknowledged by a MAIN that listed no sync replica ready (SYNC/STRICT_SYNC only).
    assert rep["acks_without_sync_replica"] in (None, 0), rep["acks_without_sync_replica"]
    last = rep["failovers"][-1] if rep["failovers"] else {}
    assert last.get("from") == old and last.get("to") == new, f"status.lastFailover: {rep['failovers']}"
    assert last.get("kind") == "failover" and last.get("reason"), last
    assert rep["events"].get("FailoverCompleted", 0) >= 1, rep["events"]
    if "failovers" in rep["metric_delta"]:
        assert rep["metric_delta"]["failovers"] >= 1, rep["metric_delta"]
    # the old MAIN is back as a registered replica (check() saw it ready with behind 0)
    assert old in {n.replace("_", "-") for n in rep["replicas"]}, rep["replicas"]
