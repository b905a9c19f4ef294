"""The operator as a process: SIGKILL mid-reconcile and restart converges; of two operator processes exactly one
(the Lease holder) acts; invalid specs never reach it (the API server refuses them, kubectl shows why)."""

import json
import time

import pytest
from harness import metric_sum, write_through

pytestmark = pytest.mark.controlplane

NAME = "mg"


def _reconciles(op):
    """Every reconcile counted by this process (all clusters); 0 when it has none."""
    return metric_sum(op.metrics(), "mgo_reconcile_total") or 0


def _sts_exists(cp, ns):
    return cp.api.request("GET", f"/apis/apps/v1/namespaces/{ns}/statefulsets/{NAME}")[0] == 200


def test_operator_killed_mid_reconcile_converges(control_plane, namespace, clusters, operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 2})
    # Kill it as soon as it has started acting (the StatefulSet exists) and before the cluster is set up.
    control_plane.wait_for(lambda: _sts_exists(control_plane, ns), timeout=60, interval=0.05,
                           message="the operator to create the StatefulSet")
    operator.kill()
    status = clusters.cluster_status(ns, NAME)
    assert (status.get("registeredReplicas") or 0) < 2 and not clusters.is_ready(ns, NAME), \
        f"the kill came too late to be mid-reconcile: {status}"
    operator.start()
    clusters.wait_ready(ns, NAME, timeout=180)
    rows = clusters.wait_replication(ns, NAME, expected_replicas=2)
    assert len(rows) == 2
    # Killed again at steady state and restarted: still one MAIN, same one, nothing re-done wrongly.
    main = clusters.main_pod(ns, NAME)
    operator.kill()
    operator.start()
    control_plane.wait_for(lambda: _reconciles(operator) > 0, timeout=60, message="the restarted operator to act")
    assert clusters.wait_ready(ns, NAME)["currentMain"] == main
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    ip = write_through(clusters, ns, NAME, "Op", 1)
    for r in clusters.service_endpoints(ns, f"{NAME}-read"):
        assert r != ip
        clusters.wait_value_on(r, "Op", 1)


def test_two_operators_exactly_one_acts(control_plane, namespace, clusters, operator_factory):
    ns = namespace
    a = operator_factory(identity="op-a")
    b = operator_factory(identity="op-b")
    holder = control_plane.wait_for(lambda: clusters.lease_holder() in ("op-a", "op-b") and clusters.lease_holder(),
                                    timeout=60, message="one of the two operators to hold the Lease")
    leader, standby = (a, b) if holder == "op-a" else (b, a)
    # Both are ready once their caches synced (a standby must not be restarted by its readiness probe); the
    # leadership state is in /api/v1/status.
    for op in (leader, standby):
        control_plane.wait_for(lambda op=op: op.http("/readyz")[0] == 200, timeout=30,
                               message=f"{op.identity} /readyz 200")
    control_plane.wait_for(lambda: leader.json("/api/v1/status")["leadership"] == "leading", timeout=30,
                           message="the Lease holder to report leading")
    assert standby.json("/api/v1/status")["leadership"] == "standby"
    assert leader.http("/readyz") == (200, "ok: leading\n")
    assert standby.http("/readyz") == (200, "ok: standby\n")

    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 2})
    clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    assert _reconciles(leader) > 0
    assert _reconciles(standby) == 0
    assert standby.json("/api/v1/status")["clusters"] == []
    writes = {v for n, ls, v in standby.metrics() if n == "mgo_kube_requests_total"
              and ls.get("verb") in ("create", "update", "patch", "apply", "delete")}
    assert writes <= {0}, f"the standby wrote to the API: {standby.metrics()}"
    assert clusters.lease_holder() == leader.identity

    # The leader dies without releasing the Lease: the standby takes over once it expires, and acts.
    leader.kill()
    control_plane.wait_for(lambda: clusters.lease_holder() == standby.identity, timeout=90,
                           message=f"{standby.identity} to take the Lease over")
    control_plane.wait_for(lambda: standby.json("/api/v1/status")["leadership"] == "leading", timeout=30,
                           message="the new leader to report leading")
    control_plane.wait_for(lambda: _reconciles(standby) > 0, timeout=60, message="the new leader to reconcile")
    clusters.wait_ready(ns, NAME)


INVALID = [
    ({"instances": 3, "replication": {"syncReplicas": 3}},
     "spec.replication.syncReplicas must be less than spec.instances"),
    ({"instances": 3, "memgraph": {"extraFlags": ["--management-port=10011"]}},
     "spec.memgraph.extraFlags may not contain a flag the operator owns"),
]


@pytest.mark.parametrize("spec,message", INVALID, ids=["sync-replicas", "owned-flag"])
def test_invalid_spec_rejected_by_kubectl_apply(control_plane, namespace, clusters, operator, spec, message):
    obj = {"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphCluster", "metadata": {"name": NAME},
           "spec": spec}
    r = control_plane.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(obj), check=False)
    assert r.returncode != 0
    assert "is invalid" in r.stderr and message in r.stderr, r.stderr
    assert clusters.get_cluster(namespace, NAME) is None
    assert not _sts_exists(control_plane, namespace)


def test_scale_to_zero_refused(control_plane, namespace, clusters, operator):
    clusters.make_cluster(namespace, NAME, 1)
    r = control_plane.kubectl("scale", "mgc", NAME, "-n", namespace, "--replicas=0", check=False)
    assert r.returncode != 0 and "spec.instances" in r.stderr, r.stderr
    assert clusters.get_cluster(namespace, NAME)["spec"]["instances"] == 1
    status = clusters.wait_ready(namespace, NAME, timeout=120)
    assert status["currentMain"] == f"{NAME}-0" and status.get("registeredReplicas", 0) == 0


def test_namespace_deletion_is_not_fought(control_plane, clusters, operator):
    """Deleting the namespace deletes the cluster with it: the operator must not try to re-create the objects
    the namespace controller removes (the API server refuses them with 403 "being terminated")."""
    ns = control_plane.create_namespace(f"t-nsdel-{int(time.time() * 1000) % 100000}")
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 1})
    clusters.wait_ready(ns, NAME, timeout=180)
    control_plane.kubectl("delete", "namespace", ns, "--wait=false")
    control_plane.wait_for(lambda: control_plane.api.request("GET", f"/api/v1/namespaces/{ns}")[0] == 404,
                           timeout=120, message=f"namespace {ns} gone")
    refused = [line for line in operator.logs().splitlines()
               if f"cluster={ns}/{NAME}" in line and "apply failed" in line]
    assert refused == [], "the operator fought the namespace deletion:\n" + "\n".join(refused[:5])
