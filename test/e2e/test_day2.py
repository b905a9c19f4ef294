"""Day-2 switches set as MemgraphCluster annotations (docs/api.md#annotations), on the real control plane:

- `memgraph.io/reconcile=paused`: no action at all (a restarted MAIN stays a fenced REPLICA), phase Paused;
  resuming promotes it back.
- `memgraph.io/hibernation=on|off`: the pods go, the volumes and the recorded MAIN stay; off brings the same MAIN
  back with its data, its replicas registered, no failover.
- `memgraph.io/fencedInstances`: a fenced replica leaves the read Service; a fenced MAIN refuses writes, also on
  a connection a client kept open, and is not failed over; unfencing restores both.
- An annotation value the operator does not understand is refused like an invalid spec, naming the fix.
"""

import json

import pytest
from harness import (bolt_query, bolt_session, metric_sum, registration_name, replication_role, role_or_none,
                     write_through)

pytestmark = pytest.mark.controlplane

NAME = "mg"


def _annotate(control_plane, ns, key, value):
    arg = f"{key}-" if value is None else f"{key}={value}"
    control_plane.kubectl("annotate", "--overwrite", "-n", ns, f"memgraphcluster/{NAME}", arg)


def _reasons(control_plane, ns):
    out = control_plane.kubectl("get", "events.events.k8s.io", "-n", ns, "-o", "json").stdout
    return [e.get("reason") for e in json.loads(out)["items"]]


def _restart_count(control_plane, ns, pod):
    st = (control_plane.get_pod(ns, pod) or {}).get("status", {})
    return sum(c.get("restartCount", 0) for c in st.get("containerStatuses") or [])


def _passes(operator, ns):
    return metric_sum(operator.metrics(), "mgo_reconcile_total", cluster=f"{ns}/{NAME}") or 0


def _condition(clusters, ns, ctype):
    return clusters.condition(clusters.cluster_status(ns, NAME), ctype) or {}


def _wait_phase(clusters, ns, phase, timeout=60):
    clusters.cp.wait_for(lambda: clusters.cluster_status(ns, NAME).get("phase") == phase, timeout=timeout,
                         message=f"phase {phase}; status: {clusters.cluster_status(ns, NAME)}")


def test_pause_takes_no_action_until_resumed(control_plane, namespace, clusters, operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 2, replication={"healthCheckIntervalSec": 1}, failover={"failoverDelaySec": 1})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=1)
    write_through(clusters, ns, NAME, "Before", 1)
    ip = control_plane.pod_ip(ns, main)

    _annotate(control_plane, ns, "memgraph.io/reconcile", "paused")
    _wait_phase(clusters, ns, "Paused")
    paused = _condition(clusters, ns, "Paused")
    assert paused.get("status") == "True" and "remove the annotation" in paused["message"], paused
    assert "ReconcilePaused" in _reasons(control_plane, ns)

    # The MAIN's process restarts: it comes back fenced (a REPLICA). Paused, nobody promotes it or fails over,
    # through passes that ran after it answered.
    restarts = _restart_count(control_plane, ns, main)
    control_plane.kill_pod(ns, main, container="memgraph")
    control_plane.wait_for(lambda: _restart_count(control_plane, ns, main) > restarts, timeout=60,
                           message=f"{main}'s Memgraph restarted")
    control_plane.wait_for(lambda: role_or_none(ip) == "replica", timeout=60, message=f"{main} answers")
    seen = _passes(operator, ns)
    control_plane.wait_for(lambda: _passes(operator, ns) >= seen + 2, timeout=60,
                           message="two passes after the restarted MAIN answered")
    assert replication_role(ip) == "replica"
    status = clusters.cluster_status(ns, NAME)
    assert status["phase"] == "Paused" and status["currentMain"] == main, status
    assert "lastFailover" not in status

    _annotate(control_plane, ns, "memgraph.io/reconcile", None)
    status = clusters.wait_ready(ns, NAME, timeout=60)
    assert status["currentMain"] == main and "lastFailover" not in status
    assert clusters.condition(status, "Paused") is None
    assert replication_role(ip) == "main"
    assert "ReconcileResumed" in _reasons(control_plane, ns)
    assert write_through(clusters, ns, NAME, "After", 1) == ip


def test_an_annotation_value_the_operator_does_not_know_is_refused(control_plane, namespace, clusters, operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 1)
    clusters.wait_ready(ns, NAME, timeout=120)
    _annotate(control_plane, ns, "memgraph.io/fencedInstances", "mg-0")
    _wait_phase(clusters, ns, "Failed")
    message = clusters.cluster_status(ns, NAME)["message"]
    assert "metadata.annotations[memgraph.io/fencedInstances]" in message and '["*"]' in message, message
    _annotate(control_plane, ns, "memgraph.io/fencedInstances", None)
    clusters.wait_ready(ns, NAME, timeout=60)


def test_hibernation_keeps_volumes_and_main_and_resumes_with_the_data(control_plane, namespace, clusters,
                                                                      operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"syncReplicas": 1, "healthCheckIntervalSec": 1})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    for i in range(20):
        write_through(clusters, ns, NAME, "Kept", i)
    pvcs = json.loads(control_plane.kubectl("get", "pvc", "-n", ns, "-o", "json").stdout)["items"]
    pvc_uids = sorted(p["metadata"]["uid"] for p in pvcs)
    assert len(pvc_uids) >= 3  # data (and log) claims of every pod

    _annotate(control_plane, ns, "memgraph.io/hibernation", "on")
    control_plane.wait_for(lambda: clusters.pods(ns, NAME) == [], timeout=90, message="every pod deleted")
    _wait_phase(clusters, ns, "Hibernated")
    status = clusters.cluster_status(ns, NAME)
    assert status["currentMain"] == main, status
    assert clusters.condition(status, "Hibernated")["status"] == "True"
    pvcs = json.loads(control_plane.kubectl("get", "pvc", "-n", ns, "-o", "json").stdout)["items"]
    assert sorted(p["metadata"]["uid"] for p in pvcs) == pvc_uids

    _annotate(control_plane, ns, "memgraph.io/hibernation", "off")
    status = clusters.wait_ready(ns, NAME, timeout=180)
    assert status["currentMain"] == main and "lastFailover" not in status, status
    assert clusters.condition(status, "Hibernated") is None or \
        clusters.condition(status, "Hibernated")["reason"] == "Resumed"
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    for pod in clusters.pod_roles(ns, NAME):
        ip = control_plane.pod_ip(ns, pod)
        assert bolt_query(ip, "MATCH (n:Kept) RETURN count(n) AS c")[0]["c"] == 20, pod
    reasons = _reasons(control_plane, ns)
    assert "Hibernated" in reasons and "Resumed" in reasons, reasons
    assert "ReplicaReseeded" not in reasons and "FailoverStarted" not in reasons, reasons


def test_fencing_a_replica_and_the_main(control_plane, namespace, clusters, operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"syncReplicas": 1, "healthCheckIntervalSec": 1},
                          failover={"failoverDelaySec": 1})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    replica = sorted(p for p in clusters.pod_roles(ns, NAME) if p != main)[0]
    replica_ip, main_ip = control_plane.pod_ip(ns, replica), control_plane.pod_ip(ns, main)

    # A fenced replica leaves the read Service and keeps replicating.
    _annotate(control_plane, ns, "memgraph.io/fencedInstances", json.dumps([replica]))
    control_plane.wait_for(lambda: replica_ip not in clusters.service_endpoints(ns, f"{NAME}-read"), timeout=30,
                           message=f"{replica} off the read Service")
    # the labels change in the act step, the status in the status step of the same pass
    fenced = control_plane.wait_for(lambda: _condition(clusters, ns, "Fenced") or None, timeout=30,
                                    message="condition Fenced")
    assert fenced.get("status") == "True" and replica in fenced["message"], fenced
    write_through(clusters, ns, NAME, "WhileReplicaFenced", 1)
    clusters.wait_value_on(replica_ip, "WhileReplicaFenced", 1)

    # A fenced MAIN refuses writes on the connection a client kept, and nobody else becomes MAIN.
    with bolt_session(main_ip) as kept:
        kept.run("CREATE (:BeforeFence {v: 1})").consume()
        _annotate(control_plane, ns, "memgraph.io/fencedInstances", json.dumps([main]))
        control_plane.wait_for(lambda: role_or_none(main_ip) == "replica", timeout=30,
                               message=f"{main} demoted")
        with pytest.raises(Exception) as refused:
            kept.run("CREATE (:AfterFence {v: 1})").consume()
        assert "replica" in str(refused.value).lower(), refused.value
    control_plane.wait_for(lambda: clusters.service_endpoints(ns, f"{NAME}-write") == [], timeout=30,
                           message="the write Service empty")
    seen = _passes(operator, ns)
    control_plane.wait_for(lambda: _passes(operator, ns) >= seen + 3, timeout=60,
                           message="three passes while the MAIN is fenced")
    status = clusters.cluster_status(ns, NAME)
    assert status["currentMain"] == main and "lastFailover" not in status, status
    assert clusters.condition(status, "MainAvailable")["reason"] == "MainFenced"
    assert all(role_or_none(control_plane.pod_ip(ns, p)) == "replica" for p in clusters.pod_roles(ns, NAME))

    _annotate(control_plane, ns, "memgraph.io/fencedInstances", None)
    status = clusters.wait_ready(ns, NAME, timeout=60)
    assert status["currentMain"] == main and "lastFailover" not in status
    assert clusters.condition(status, "Fenced") is None
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    assert write_through(clusters, ns, NAME, "AfterUnfence", 1) == main_ip
    for pod in clusters.pod_roles(ns, NAME):
        ip = control_plane.pod_ip(ns, pod)
        clusters.wait_value_on(ip, "AfterUnfence", 1)
        assert bolt_query(ip, "MATCH (n:AfterFence) RETURN count(n) AS c")[0]["c"] == 0
        assert bolt_query(ip, "MATCH (n:BeforeFence) RETURN count(n) AS c")[0]["c"] == 1
    reasons = _reasons(control_plane, ns)
    assert "InstancesFenced" in reasons and "InstancesUnfenced" in reasons, reasons
    assert "ReplicaReseeded" not in reasons and "FailoverStarted" not in reasons, reasons


def _cluster_api(operator, ns):
    return next(c for c in operator.json("/api/v1/status")["clusters"]
                if c["namespace"] == ns and c["name"] == NAME)


def test_status_api_names_the_sync_replica_also_while_the_api_server_is_down(control_plane, namespace, clusters,
                                                                            operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"syncReplicas": 1, "healthCheckIntervalSec": 1})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    rows = clusters.wait_replication(ns, NAME, expected_replicas=2)
    sync_pods = sorted(p for p in clusters.pod_roles(ns, NAME)
                       if p != main and rows[registration_name(p)]["sync_mode"].lower() == "sync")
    assert len(sync_pods) == 1, rows

    def answers():
        c = _cluster_api(operator, ns)
        return c if c.get("currentSyncReplicas") == sync_pods and c.get("syncReplicaHealthy") is True else None

    c = control_plane.wait_for(answers, timeout=30, message="currentSyncReplicas and syncReplicaHealthy")
    flags = {i["pod"]: i["isSyncReplica"] for i in c["instances"]}
    assert flags == {p: p in sync_pods for p in clusters.pod_roles(ns, NAME)}, flags

    control_plane.stop_apiserver()
    try:
        seen = _passes(operator, ns)
        control_plane.wait_for(lambda: _passes(operator, ns) > seen, timeout=30,
                               message="a pass while the API server is down")
        c = _cluster_api(operator, ns)
        assert c["currentSyncReplicas"] == sync_pods and c["syncReplicaHealthy"] is True, c
    finally:
        control_plane.start_apiserver()
