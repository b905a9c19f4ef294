"""Instances going away and coming back: a replica pod deleted, the MAIN's process killed, the MAIN pod deleted.
Each time the same pod stays MAIN, every replica is registered and ready again, and data written before and after
the fault is on every instance.
"""

import pytest
from harness import RoleSampler, Writer, bolt_query, missing_writes, replication_role, show_replicas, write_through

pytestmark = pytest.mark.controlplane

NAME = "mg"


def _ready_cluster(clusters, ns):
    # These tests are about the same MAIN coming back: the failover delay is longer than any restart here
    # (failover itself is tested in test_operator_failover.py).
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 2}, failover={"failoverDelaySec": 600})
    status = clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    return status["currentMain"]


def _all_have(control_plane, clusters, ns, label, values):
    for pod in clusters.pod_roles(ns, NAME):
        ip = control_plane.pod_ip(ns, pod)
        for v in values:
            clusters.wait_value_on(ip, label, v)


def _pod_uid(control_plane, ns, pod):
    return (control_plane.get_pod(ns, pod) or {}).get("metadata", {}).get("uid")


def test_replica_pod_deleted_is_reregistered(control_plane, namespace, clusters, operator):
    ns = namespace
    main = _ready_cluster(clusters, ns)
    write_through(clusters, ns, NAME, "Rec", 1)
    victim = next(p for p, r in clusters.pod_roles(ns, NAME).items() if r == "replica")
    old_uid = _pod_uid(control_plane, ns, victim)
    # Writes go on through the write Service while the replica is away: the MAIN is not affected by an ASYNC
    # replica, so every write is acknowledged, and all of them reach the returning replica.
    with Writer(clusters, ns, NAME, label="Load") as writer:
        writer.wait_acked(5)
        control_plane.kubectl("delete", "pod", victim, "-n", ns, "--wait=false")
        control_plane.wait_for(lambda: _pod_uid(control_plane, ns, victim) not in (None, old_uid), timeout=60,
                               message=f"{victim} recreated")
        rows = clusters.wait_replication(ns, NAME, expected_replicas=2)
        writer.wait_acked(5)
    assert writer.failed == [], writer.failed[:5]
    acked = writer.acked_ids()
    assert {ip for _, _, ip in writer.acked} == {control_plane.pod_ip(ns, main)}
    for pod in clusters.pod_roles(ns, NAME):
        ip = control_plane.pod_ip(ns, pod)
        control_plane.wait_for(lambda ip=ip: not missing_writes(ip, "Load", acked), timeout=30,
                               message=f"every acknowledged write on {pod}")
    assert clusters.main_pod(ns, NAME) == main
    assert all(r["sync_mode"] == "async" for r in rows.values()), rows
    # Data from before the deletion is on the new pod (its volume survived), and new writes reach it: the
    # registration really works again.
    write_through(clusters, ns, NAME, "Rec", 2)
    ip = control_plane.pod_ip(ns, victim)
    assert replication_role(ip) == "replica"
    clusters.wait_value_on(ip, "Rec", 1)
    clusters.wait_value_on(ip, "Rec", 2)
    status = clusters.wait_ready(ns, NAME)
    assert status["currentMain"] == main and status["registeredReplicas"] == 2


def _restart_count(control_plane, ns, pod):
    st = (control_plane.get_pod(ns, pod) or {}).get("status", {})
    return sum(c.get("restartCount", 0) for c in st.get("containerStatuses") or [])


def test_main_process_killed_same_main_comes_back(control_plane, namespace, clusters, operator):
    ns = namespace
    main = _ready_cluster(clusters, ns)
    write_through(clusters, ns, NAME, "Kill", 1)
    _all_have(control_plane, clusters, ns, "Kill", [1])
    restarts = _restart_count(control_plane, ns, main)
    with RoleSampler(clusters, ns, NAME) as roles:
        control_plane.kill_pod(ns, main, container="memgraph")
        control_plane.wait_for(lambda: _restart_count(control_plane, ns, main) > restarts, timeout=60,
                               message=f"{main} container restarted")
        rows = clusters.wait_replication(ns, NAME, expected_replicas=2, timeout=120)
    # The failover delay was not reached: no other instance was ever MAIN while it was away. It comes back
    # fenced (a REPLICA, docs/fencing.md) until the operator promotes it again, which the sampler may or may not
    # catch before it stops.
    assert len(roles.samples) > 3 and roles.mains_seen() <= {main} and roles.max_mains() <= 1, roles.samples[-3:]
    assert any(r[main] is None for _, r in roles.samples), "the sampler never saw the MAIN down"
    assert clusters.main_pod(ns, NAME) == main
    assert len(rows) == 2
    status = clusters.wait_ready(ns, NAME)
    assert status["currentMain"] == main
    # Nothing was lost on the MAIN (WAL), and a new write reaches both replicas.
    main_ip = write_through(clusters, ns, NAME, "Kill", 2)
    assert main_ip == control_plane.pod_ip(ns, main)
    assert bolt_query(main_ip, "MATCH (n:Kill) RETURN count(n) AS c")[0]["c"] == 2
    _all_have(control_plane, clusters, ns, "Kill", [1, 2])


def test_main_pod_deleted_same_main_comes_back(control_plane, namespace, clusters, operator):
    ns = namespace
    main = _ready_cluster(clusters, ns)
    write_through(clusters, ns, NAME, "Del", 1)
    _all_have(control_plane, clusters, ns, "Del", [1])
    old_uid = _pod_uid(control_plane, ns, main)
    control_plane.kubectl("delete", "pod", main, "-n", ns, "--wait=false")
    control_plane.wait_for(lambda: _pod_uid(control_plane, ns, main) not in (None, old_uid), timeout=60,
                           message=f"{main} recreated")
    clusters.wait_replication(ns, NAME, expected_replicas=2, timeout=120)
    assert clusters.main_pod(ns, NAME) == main
    status = clusters.wait_ready(ns, NAME)
    assert status["currentMain"] == main
    main_ip = write_through(clusters, ns, NAME, "Del", 2)
    assert main_ip == control_plane.pod_ip(ns, main)
    assert sorted(r["v"] for r in bolt_query(main_ip, "MATCH (n:Del) RETURN n.v AS v")) == [1, 2]
    _all_have(control_plane, clusters, ns, "Del", [1, 2])
    assert set(show_replicas(main_ip)) == {n.replace("-", "_") for n in clusters.pod_roles(ns, NAME) if n != main}
