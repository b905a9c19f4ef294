"""The operator's /metrics against a real cluster (issue 12, Metrics): `promtool check metrics` (Debian 12's
prometheus package, tools/promtool/build.sh) accepts a live scrape; every seed name is registered; the values
match the cluster (clusters and read replicas, connectivity tests, the failover histogram after one switchover);
Kubernetes requests carry a bounded `resource` label; and a deleted cluster's series go with it.
"""

import json
import os
import subprocess

import pytest
from harness import ROOT, metric_sum

NAME = "mx"

# The seed's names, except that its gauges memgraph_clusters_total and memgraph_read_replicas_total are
# memgraph_clusters and memgraph_read_replicas: promtool rejects "_total" on a non-counter (and these go down).
SEED_NAMES = [
    "memgraph_clusters", "memgraph_clusters_ready", "memgraph_read_replicas",
    "memgraph_read_replicas_ready", "memgraph_replication_lag_seconds", "memgraph_replication_errors_total",
    "memgraph_reconcile_total", "memgraph_reconcile_duration_seconds", "memgraph_reconcile_errors_total",
    "memgraph_validation_total", "memgraph_validation_failures_total", "memgraph_validation_duration_seconds",
    "memgraph_connectivity_test_total", "memgraph_connectivity_test_failures_total",
    "memgraph_replication_test_total", "memgraph_replication_test_failures_total",
    "memgraph_failover_duration_seconds", "memgraph_failover_behind_transactions",
    "memgraph_failover_estimated_lost_writes_total", "memgraph_multiple_mains", "memgraph_cluster_main",
]
# The fixed table of src/kube/k8s_client.c (k8s_request_resource_name).
RESOURCES = {"pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "events", "serviceaccounts",
             "statefulsets", "poddisruptionbudgets", "leases", "namespaces", "memgraphclusters", "memgraphbackups",
             "customresourcedefinitions", "jobs", "deployments", "other"}


@pytest.fixture(scope="module")
def promtool():
    r = subprocess.run(["bash", os.path.join(ROOT, "tools", "promtool", "build.sh")], capture_output=True,
                       text=True, timeout=600, check=False)
    assert r.returncode == 0, f"tools/promtool/build.sh failed:\n{r.stderr[-2000:]}"
    path = os.path.join(r.stdout.strip().splitlines()[-1], "promtool")
    assert os.access(path, os.X_OK), path
    return path


def scrape(operator):
    status, body = operator.http("/metrics")
    assert status == 200, f"GET /metrics: HTTP {status}: {body[:300]}"
    return body


def check_metrics(promtool, text):
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60,
                       check=False)
    return r.returncode, (r.stdout + r.stderr).strip()


def readable_replicas(clusters, ns):
    """Ready replica pods carrying memgraph.io/readable=true: what the read Service serves besides the MAIN."""
    n = 0
    for p in clusters.pods(ns, NAME):
        labels = p["metadata"].get("labels", {})
        if clusters.pod_ready(p) and labels.get("memgraph.io/role") == "replica" \
                and labels.get("memgraph.io/readable") == "true":
            n += 1
    return n


def test_live_metrics(control_plane, namespace, clusters, operator, promtool):
    ns = namespace
    cluster = f"{ns}/{NAME}"
    clusters.make_cluster(ns, NAME, instances=3)
    clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)

    def settled():
        samples = operator.metrics()
        want = {
            "memgraph_clusters": 1, "memgraph_clusters_ready": 1,
            "memgraph_read_replicas": 2,
            "memgraph_read_replicas_ready": readable_replicas(clusters, ns),
        }
        got = {k: metric_sum(samples, k, **({"cluster": cluster} if "read_replicas" in k else {})) for k in want}
        return samples if got == want and want["memgraph_read_replicas_ready"] == 2 else None

    samples = control_plane.wait_for(settled, timeout=60, interval=0.5, message="cluster gauges settled")
    text = scrape(operator)
    rc, out = check_metrics(promtool, text)
    assert rc == 0, f"promtool check metrics:\n{out}"
    for name in SEED_NAMES:
        assert f"# TYPE {name} " in text, f"{name} not registered"
    assert metric_sum(samples, "memgraph_multiple_mains", cluster=cluster) == 0
    # The health pass probes all three pods each pass: tests count up, none failed while every pod answers.
    assert metric_sum(samples, "memgraph_connectivity_test_total", cluster=cluster) >= 3
    assert metric_sum(samples, "memgraph_reconcile_total", cluster=cluster) >= 1
    # The canary ran (docs/validation.md): its runs counted, none failed, a lag sample per replica.
    clusters.wait_canary(ns, NAME)
    samples = operator.metrics()
    for name in ("memgraph_validation_total", "memgraph_replication_test_total"):
        assert metric_sum(samples, name, cluster=cluster) >= 1, name
    for name in ("memgraph_validation_failures_total", "memgraph_replication_test_failures_total"):
        assert metric_sum(samples, name, cluster=cluster) == 0, name
    assert metric_sum(samples, "memgraph_replication_lag_seconds_count", cluster=cluster) >= 2
    kube = [ls for n, ls, _ in samples if n == "mgo_kube_requests_total"]
    assert kube and all(set(ls) == {"verb", "resource"} and ls["resource"] in RESOURCES for ls in kube), kube
    assert {"memgraphclusters", "pods", "statefulsets"} <= {ls["resource"] for ls in kube}, kube

    old = clusters.main_pod(ns, NAME)
    target = next(p for p in sorted(clusters.pod_roles(ns, NAME)) if p != old)
    control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p",
                          json.dumps({"spec": {"switchover": {"targetOrdinal": int(target.rsplit("-", 1)[1])}}}))

    def switched():
        last = clusters.cluster_status(ns, NAME).get("lastFailover") or {}
        if last.get("to") != target or "writeUnavailableMs" not in last:
            return None
        s = operator.metrics()
        return (last, s) if metric_sum(s, "memgraph_failover_duration_seconds_count", cluster=cluster,
                                       kind="switchover") == 1 else None

    last, samples = control_plane.wait_for(switched, timeout=120, interval=0.5, message="switchover recorded")
    assert last["kind"] == "switchover"
    got = metric_sum(samples, "memgraph_failover_duration_seconds_sum", cluster=cluster, kind="switchover")
    assert got == pytest.approx(last["writeUnavailableMs"] / 1000.0, abs=0.002)
    assert metric_sum(samples, "memgraph_failover_behind_transactions_count", cluster=cluster,
                      kind="switchover") == 1
    assert metric_sum(samples, "memgraph_failover_duration_seconds_count", cluster=cluster, kind="failover") is None
    rc, out = check_metrics(promtool, scrape(operator))
    assert rc == 0, f"promtool check metrics after the switchover:\n{out}"
    # Bounded cardinality: a 3-instance cluster's series (every family, samples incl. histogram buckets).
    mine = [(n, ls) for n, ls, _ in samples if ls.get("cluster") == cluster]
    seed = [n for n, _ in mine if n.startswith("memgraph_")]
    print(f"series of {cluster}: {len(mine)} samples, {len(seed)} of them memgraph_*")
    assert len(mine) < 600, len(mine)
    assert all(set(ls) <= {"cluster", "pod", "replica", "kind", "result", "phase", "le", "reason"}
               for _, ls in mine), {tuple(sorted(ls)) for _, ls in mine}

    control_plane.kubectl("delete", "mgc", NAME, "-n", ns, "--wait=false")

    def gone():
        s = operator.metrics()
        left = [(n, ls) for n, ls, _ in s if ls.get("cluster") == cluster]
        return s if not left and metric_sum(s, "memgraph_clusters") == 0 else None

    samples = control_plane.wait_for(gone, timeout=120, interval=0.5, message="series of the deleted cluster gone")
    assert metric_sum(samples, "memgraph_clusters_ready") == 0
