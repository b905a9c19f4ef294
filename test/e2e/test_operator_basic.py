"""The operator's main path on the real control plane with emulator pods: a 3-instance cluster reaches Ready with
one MAIN and every other pod registered; writes through the write Service reach the replicas behind the read
Service; the HTTP status API and metrics describe it; at steady state nothing is written to Kubernetes.

One operator and one cluster are shared by the tests of this module (they only observe, in this order).
"""

import json
import time

import pytest
from harness import (Clusters, bolt_query, metric_sum, registration_name, replica_state, replication_role,
                     show_replicas, write_through)

pytestmark = pytest.mark.controlplane

NAME = "mg"
HEALTH_S = 2


@pytest.fixture(scope="module")
def cluster(control_plane, module_namespace, module_operator):
    c = Clusters(control_plane)
    c.make_cluster(module_namespace, NAME, 3, replication={"healthCheckIntervalSec": HEALTH_S})
    c.wait_ready(module_namespace, NAME, timeout=180)
    return module_namespace


def test_ready_with_one_main_and_registered_replicas(control_plane, cluster, clusters):
    ns = cluster
    status = clusters.cluster_status(ns, NAME)
    roles = clusters.pod_roles(ns, NAME)
    assert sorted(roles) == [f"{NAME}-0", f"{NAME}-1", f"{NAME}-2"]
    mains = [p for p, r in roles.items() if r == "main"]
    assert len(mains) == 1, roles
    main = mains[0]
    assert all(r == "replica" for p, r in roles.items() if p != main), roles
    assert status["currentMain"] == main
    assert status["readyInstances"] == 3 and status["registeredReplicas"] == 2, status
    for ctype in ("Ready", "MainAvailable", "ReplicasReady", "ReplicationHealthy"):
        cond = clusters.condition(status, ctype)
        assert cond and cond["status"] == "True" and cond.get("reason") and cond.get("lastTransitionTime"), \
            (ctype, cond)

    # Memgraph's live state agrees with the labels: one MAIN, the others REPLICA and registered ASYNC, ready.
    ips = {p: control_plane.pod_ip(ns, p) for p in roles}
    assert replication_role(ips[main]) == "main"
    for p in roles:
        if p != main:
            assert replication_role(ips[p]) == "replica", p
    rows = show_replicas(ips[main])
    others = sorted(p for p in roles if p != main)
    assert sorted(rows) == sorted(registration_name(p) for p in others)
    for p in others:
        row = rows[registration_name(p)]
        assert row["sync_mode"] == "async", row
        assert row["socket_address"] == f"{p}.{NAME}-hl.{ns}.svc:10000", row
        assert replica_state(row) == "ready", row

    # status.instanceStatuses mirrors the same picture.
    per_pod = {i["pod"]: i for i in status["instanceStatuses"]}
    assert sorted(per_pod) == sorted(roles)
    assert per_pod[main]["role"] == "main"
    for p in others:
        assert per_pod[p]["role"] == "replica" and per_pod[p]["ready"] is True, per_pod[p]


def _cluster_events(cp, ns):
    evs = []
    for path in (f"/api/v1/namespaces/{ns}/events", f"/apis/events.k8s.io/v1/namespaces/{ns}/events"):
        status, obj = cp.api.request("GET", path)
        if status == 200:
            for e in obj.get("items", []):
                ref = e.get("involvedObject") or e.get("regarding") or {}
                if ref.get("kind") == "MemgraphCluster" and ref.get("name") == NAME:
                    evs.append(e)
    return evs


def test_events_recorded_for_roles_and_registrations(control_plane, cluster):
    """The MAIN choice and each replica registration are announced as Events on the MemgraphCluster."""
    evs = control_plane.wait_for(lambda: _cluster_events(control_plane, cluster), timeout=30,
                                 message="Events on the MemgraphCluster")
    text = " ".join(f"{e.get('reason', '')} {e.get('message') or e.get('note') or ''}" for e in evs)
    main = Clusters(control_plane).main_pod(cluster, NAME)
    assert main in text, text
    for p in (f"{NAME}-0", f"{NAME}-1", f"{NAME}-2"):
        if p != main:
            assert p in text or registration_name(p) in text, (p, text)


def test_managed_objects_exist(control_plane, cluster):
    ns = cluster
    sts = json.loads(control_plane.kubectl("get", "statefulset", NAME, "-n", ns, "-o", "json").stdout)
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["updateStrategy"]["type"] == "OnDelete"
    assert sts["metadata"]["ownerReferences"][0]["kind"] == "MemgraphCluster"
    svcs = {s["metadata"]["name"]: s for s in json.loads(
        control_plane.kubectl("get", "services", "-n", ns, "-o", "json").stdout)["items"]}
    assert svcs[f"{NAME}-hl"]["spec"]["clusterIP"] == "None"
    assert svcs[f"{NAME}-write"]["spec"]["selector"].get("memgraph.io/role") == "main"
    assert svcs[f"{NAME}-read"]["spec"]["selector"].get("memgraph.io/role") == "replica"
    control_plane.kubectl("get", "poddisruptionbudget", NAME, "-n", ns)
    control_plane.kubectl("get", "serviceaccount", NAME, "-n", ns)


def test_write_through_write_service_is_read_through_read_service(control_plane, cluster, clusters):
    ns = cluster
    main_ip = write_through(clusters, ns, NAME, "Basic", 42)
    assert clusters.ip_to_pod(ns, NAME)[main_ip] == clusters.main_pod(ns, NAME)
    # A replica joins the read Service once it is caught up and labelled readable; the EndpointSlice follows.
    readers = control_plane.wait_for(
        lambda: r if len(r := clusters.service_endpoints(ns, f"{NAME}-read")) == 2 else None, timeout=30,
        message="both replicas behind the read Service")
    assert main_ip not in readers, readers
    for ip in readers:
        clusters.wait_value_on(ip, "Basic", 42)
    # Replicas refuse writes: the read Service really routes to replicas.
    with pytest.raises(Exception, match="(?i)replica"):
        bolt_query(readers[0], "CREATE (:Basic {v: 0})")


def test_status_api_and_metrics_show_the_cluster(control_plane, cluster, clusters, module_operator):
    ns = cluster
    key = f"{ns}/{NAME}"
    main = clusters.main_pod(ns, NAME)

    def both_views():
        """/api/v1/status and /api/v1/clusters/<ns>/<name>, once the latest pass of each saw no shipment in
        flight: the previous test's writes may have been observed "replicating", a healthy state that the next
        pass (every HEALTH_S) reports as "ready"."""
        doc = module_operator.json("/api/v1/status")
        one = module_operator.json(f"/api/v1/clusters/{ns}/{NAME}")
        views = [c for c in doc["clusters"] if c["namespace"] == ns and c["name"] == NAME] + [one]
        states = [r.get("state") for v in views for i in v.get("instances", []) for r in i.get("replicas") or []]
        return (doc, views) if states and all(s == "ready" for s in states) else None

    doc, views = control_plane.wait_for(both_views, timeout=10 * HEALTH_S, interval=0.2,
                                        message="both replicas observed ready by the status API")
    assert doc["leadership"] == "leading" and doc["identity"] == module_operator.identity, doc
    assert len(views) == 2, doc  # exactly one entry of the cluster in /api/v1/status
    for entry in views:
        assert entry["phase"] == "Running" and entry["currentMain"] == main, entry
        pods = {i["pod"]: i for i in entry["instances"]}
        assert sorted(pods) == [f"{NAME}-0", f"{NAME}-1", f"{NAME}-2"]
        assert all(i["ready"] and i["reachable"] and i["lastError"] is None for i in pods.values()), pods
        assert pods[main]["role"] == "main"
        replicas = {r["name"]: r for r in pods[main]["replicas"]}
        others = [p for p in pods if p != main]
        assert sorted(replicas) == sorted(registration_name(p) for p in others)
        for p in others:
            assert pods[p]["role"] == "replica"
            r = replicas[registration_name(p)]
            assert r["mode"] == "ASYNC" and r["state"] == "ready" and r["behind"] == 0, r
    assert module_operator.http(f"/api/v1/clusters/{ns}/does-not-exist")[0] == 404

    m = module_operator.metrics()
    assert metric_sum(m, "mgo_cluster_phase", cluster=key, phase="Running") == 1
    assert metric_sum(m, "mgo_cluster_phase", cluster=key) == 1  # exactly one phase is set
    assert metric_sum(m, "mgo_cluster_instances_ready", cluster=key) == 3
    assert metric_sum(m, "mgo_cluster_replicas_registered", cluster=key) == 2
    lags = {ls["replica"]: v for n, ls, v in m if n == "mgo_replica_lag_behind" and ls.get("cluster") == key}
    assert lags == {registration_name(p): 0 for p in clusters.pod_roles(ns, NAME) if p != main}, lags
    assert metric_sum(m, "mgo_reconcile_total", cluster=key) > 0
    assert metric_sum(m, "mgo_kube_requests_total") > 0
    for p in (f"{NAME}-0", f"{NAME}-1", f"{NAME}-2"):
        assert metric_sum(m, "mgo_bolt_queries_total", cluster=key, pod=p) > 0, p


def reconcile_count(op, ns, name):
    """mgo_reconcile_total of one cluster, every result (None before the first reconcile)."""
    return metric_sum(op.metrics(), "mgo_reconcile_total", cluster=f"{ns}/{name}")


def test_status_not_rewritten_at_steady_state(control_plane, cluster, clusters, module_operator):
    ns = cluster
    clusters.wait_ready(ns, NAME)

    def versions():
        objs = {"mgc": clusters.get_cluster(ns, NAME)}
        for kind, path in (("sts", f"/apis/apps/v1/namespaces/{ns}/statefulsets/{NAME}"),
                           ("write", f"/api/v1/namespaces/{ns}/services/{NAME}-write"),
                           ("read", f"/api/v1/namespaces/{ns}/services/{NAME}-read"),
                           ("hl", f"/api/v1/namespaces/{ns}/services/{NAME}-hl")):
            objs[kind] = control_plane.api.request("GET", path)[1]
        return {k: o["metadata"]["resourceVersion"] for k, o in objs.items()}

    before = versions()
    start = reconcile_count(module_operator, ns, NAME)
    assert start is not None, "no reconcile counter for the cluster in /metrics"
    t0 = time.monotonic()
    # Several health resyncs (every HEALTH_S seconds) must happen, observed in the metrics, not by sleeping.
    control_plane.wait_for(lambda: reconcile_count(module_operator, ns, NAME) >= start + 4, timeout=60,
                           interval=0.5, message="4 more reconciles of the cluster")
    assert versions() == before, f"objects rewritten at steady state (after {time.monotonic() - t0:.1f}s)"
    assert clusters.is_ready(ns, NAME)


def test_sync_replica(control_plane, namespace, clusters, module_operator):
    """replication.syncReplicas=1: exactly one registration is SYNC, the rest ASYNC."""
    clusters.make_cluster(namespace, "sy", 3, replication={"syncReplicas": 1})
    status = clusters.wait_ready(namespace, "sy", timeout=180)
    rows = clusters.wait_replication(namespace, "sy", expected_replicas=2)
    modes = sorted(r["sync_mode"] for r in rows.values())
    assert modes == ["async", "sync"], rows
    assert status.get("replicationMode") == "1 SYNC + 1 ASYNC", status
    # A write acknowledged by the MAIN is already on the SYNC replica when the write returns.
    main_ip = write_through(clusters, namespace, "sy", "Sync", 7)
    sync_name = next(n for n, r in rows.items() if r["sync_mode"] == "sync")
    sync_pod = next(p for p in clusters.pod_roles(namespace, "sy") if registration_name(p) == sync_name)
    sync_ip = control_plane.pod_ip(namespace, sync_pod)
    assert sync_ip != main_ip
    assert bolt_query(sync_ip, "MATCH (n:Sync {v: 7}) RETURN count(n) AS c")[0]["c"] == 1
