"""Failover, fencing, re-seeding, switchover, scale-down across the MAIN and rolling updates on the real control
plane (emulator pods), each under a writer that records every acknowledged write through the write Service.

What each test proves is in its docstring; the chaos suite (test_chaos.py) repeats faults at random moments.
"""

import json

import pytest
from harness import (RoleSampler, Writer, bolt_query, metric_sum, missing_writes, replication_role, role_or_none,
                     show_replicas, write_through)

pytestmark = pytest.mark.controlplane

NAME = "mg"
SYNC = {"healthCheckIntervalSec": 1, "syncReplicas": 1, "syncMode": "SYNC"}


@pytest.fixture
def fast_operator(operator_factory):
    """An operator whose Bolt deadline is 1 s, so a frozen MAIN is noticed within about a second."""
    return operator_factory(identity="op-failover", extra_args=("--bolt-timeout=1s",))


def _cluster(clusters, ns, replication=None, failover=None, **spec):
    clusters.make_cluster(ns, NAME, 3, replication=replication or SYNC,
                          failover=failover or {"failoverDelaySec": 1}, **spec)
    status = clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    return status["currentMain"]


def _patch(control_plane, ns, body):
    control_plane.kubectl("patch", "memgraphcluster", NAME, "-n", ns, "--type=merge", "-p", json.dumps(body))


def _main_changed(clusters, ns, old):
    st = clusters.cluster_status(ns, NAME)
    lf = st.get("lastFailover") or {}
    return st.get("currentMain") not in (None, old) and lf.get("from") == old and lf.get("to") == st["currentMain"]


def _wait_ready_everywhere(control_plane, clusters, ns, writer, timeout=180):
    """Ready again, every pod registered and in sync, every acknowledged write on every pod."""
    status = clusters.wait_ready(ns, NAME, timeout=timeout)
    clusters.wait_replication(ns, NAME, expected_replicas=2, timeout=timeout)
    acked = writer.acked_ids()
    for pod in clusters.pod_roles(ns, NAME):
        ip = control_plane.pod_ip(ns, pod)
        control_plane.wait_for(lambda ip=ip: not missing_writes(ip, writer.label, acked), timeout=60,
                               message=f"every acknowledged write on {pod}")
    return status


def _pod_uid(control_plane, ns, pod):
    return (control_plane.get_pod(ns, pod) or {}).get("metadata", {}).get("uid")


def _acking_ips_in_order(writer):
    """The MAINs that acknowledged writes, in the order they first did (each at most once if no MAIN came back)."""
    seq = []
    for _, _, ip in sorted(writer.acked, key=lambda a: a[1]):
        if not seq or seq[-1] != ip:
            seq.append(ip)
    return seq


def test_frozen_main_fails_over_without_losing_acknowledged_writes(control_plane, namespace, clusters,
                                                                  fast_operator):
    """A frozen MAIN (SIGSTOP: TCP still accepts, Bolt never answers) is replaced by the SYNC replica after
    failoverDelaySec; no acknowledged write is lost; the frozen process is fenced at the failover (its pod
    deleted with grace period 0, so it can never thaw into a writable MAIN); its new pod starts as a REPLICA, is
    registered again and catches up; the cluster is Ready and lastFailover tells the story."""
    ns = namespace
    old = _cluster(clusters, ns)
    old_ip = control_plane.pod_ip(ns, old)
    old_uid = _pod_uid(control_plane, ns, old)
    with RoleSampler(clusters, ns, NAME) as roles, Writer(clusters, ns, NAME, label="F") as writer:
        writer.wait_acked(10)
        control_plane.freeze_pod(ns, old, container="memgraph")
        try:
            control_plane.wait_for(lambda: _main_changed(clusters, ns, old), timeout=60,
                                   message="failover recorded")
            writer.wait_acked(10, timeout=60)  # writes flow again, through the new MAIN
            control_plane.wait_for(lambda: _pod_uid(control_plane, ns, old) not in (None, old_uid), timeout=60,
                                   message=f"{old} deleted at the failover and re-created")
        finally:
            control_plane.thaw_pod(ns, old, container="memgraph")
        control_plane.wait_for(lambda: role_or_none(control_plane.pod_ip(ns, old)) == "replica", timeout=60,
                               message=f"the old MAIN {old} back as a REPLICA")
        status = _wait_ready_everywhere(control_plane, clusters, ns, writer)
    new = status["currentMain"]
    lf = status["lastFailover"]
    assert new != old and lf["kind"] == "failover" and lf["from"] == old and lf["to"] == new
    assert lf["reason"] == "MainUnreachable" and lf["mode"] == "SYNC" and lf["behind"] == 0
    assert 1000 <= lf["writeUnavailableMs"] < 60000, lf
    assert status.get("fencedMain") == old
    # The writes were acknowledged by the old MAIN, then only by the new one, never by the old one again.
    assert roles.mains_seen() <= {old, new}
    seq = _acking_ips_in_order(writer)
    assert seq == [old_ip, control_plane.pod_ip(ns, new)], seq
    metrics = fast_operator.metrics()
    assert metric_sum(metrics, "mgo_failovers_total", kind="failover") == 1
    assert metric_sum(metrics, "mgo_failover_duration_seconds_count", kind="failover") == 1
    assert metric_sum(metrics, "mgo_failover_estimated_lost_transactions_total") == 0


def test_main_pod_deleted_loses_nothing_and_the_old_main_rejoins(control_plane, namespace, clusters, fast_operator):
    """The MAIN's pod deleted under write load. The new pod of the same name starts fenced (a REPLICA with its data,
    docs/fencing.md) about when failoverDelaySec 1 runs out, so either the failover happened first (the returning
    pod is then registered as a replica of the new MAIN) or the operator saw it back first and promoted it again.
    Either way: no acknowledged write is lost, no multiple-MAIN alarm, every pod follows one MAIN."""
    ns = namespace
    old = _cluster(clusters, ns)
    old_uid = control_plane.get_pod(ns, old)["metadata"]["uid"]
    with Writer(clusters, ns, NAME, label="D") as writer:
        writer.wait_acked(10)
        control_plane.kubectl("delete", "pod", old, "-n", ns, "--wait=false")
        control_plane.wait_for(lambda: (control_plane.get_pod(ns, old) or {}).get("metadata", {}).get("uid")
                               not in (None, old_uid), timeout=60, message=f"{old} re-created")
        before = len(writer.acked)
        control_plane.wait_for(lambda: len(writer.acked) >= before + 10, timeout=60,
                               message="writes acknowledged after the pod came back")
        status = _wait_ready_everywhere(control_plane, clusters, ns, writer)
    lf = status.get("lastFailover")
    if lf is not None:  # failed over first: the returning pod is a replica now
        assert lf["from"] == old and lf["reason"] in ("MainPodMissing", "MainUnreachable"), lf
        assert replication_role(control_plane.pod_ip(ns, old)) == "replica"
    else:  # back first: the same MAIN, promoted again
        assert status["currentMain"] == old
        assert replication_role(control_plane.pod_ip(ns, old)) == "main"
    cond = {c["type"]: c for c in status["conditions"]}
    assert cond["ReplicationHealthy"]["status"] == "True", cond
    assert not metric_sum(fast_operator.metrics(), "mgo_multiple_mains_observed_total")


def test_failover_blocked_without_an_in_sync_sync_replica(control_plane, namespace, clusters, fast_operator):
    """All-ASYNC replicas and allowAsyncPromotion false: the MAIN's loss is reported (FailoverBlocked), no replica
    is promoted; when the MAIN comes back it is still MAIN."""
    ns = namespace
    old = _cluster(clusters, ns, replication={"healthCheckIntervalSec": 1, "syncReplicas": 0})
    control_plane.freeze_pod(ns, old, container="memgraph")
    try:
        def blocked():
            c = clusters.condition(clusters.cluster_status(ns, NAME), "MainAvailable") or {}
            return c.get("reason") == "FailoverBlocked"
        control_plane.wait_for(blocked, timeout=60, message="MainAvailable=False/FailoverBlocked")
        assert clusters.cluster_status(ns, NAME)["currentMain"] == old
        for pod, role in clusters.pod_roles(ns, NAME).items():
            if pod != old:
                assert replication_role(control_plane.pod_ip(ns, pod)) == "replica"
    finally:
        control_plane.thaw_pod(ns, old, container="memgraph")
    status = clusters.wait_ready(ns, NAME, timeout=120)
    assert status["currentMain"] == old and "lastFailover" not in status


def test_frozen_main_is_fenced_at_the_failover_and_a_diverged_one_is_reseeded(control_plane, namespace, clusters,
                                                                             fast_operator):
    """A frozen MAIN is fenced at the failover: its pod is deleted with grace period 0 (Event MainFenced), so it
    can take no writes when it would thaw; its new pod starts fenced (a REPLICA). A rogue client then promotes it
    and writes to it while the operator is down, so it diverges; its agent demotes it (the record names another
    MAIN), which leaves it a REPLICA that rejects the MAIN's heartbeats (it lost the MAIN's UUID: invalid in
    SHOW REPLICAS, which Memgraph never heals by itself); the restarted operator registers it again after
    REC_STUCK_INVALID_MS (10 s), the registration is refused as diverged, and it is re-seeded through the agent
    (pod deleted, data wiped once, registered as a fresh replica), with an Event."""
    ns = namespace
    old = _cluster(clusters, ns, replication={"healthCheckIntervalSec": 1, "syncReplicas": 0},
                   failover={"failoverDelaySec": 1, "allowAsyncPromotion": True, "maxAsyncLag": 1000})
    write_through(clusters, ns, NAME, "Base", 1)
    for pod in clusters.pod_roles(ns, NAME):
        clusters.wait_value_on(control_plane.pod_ip(ns, pod), "Base", 1)
    old_uid = _pod_uid(control_plane, ns, old)
    control_plane.freeze_pod(ns, old, container="memgraph")
    try:
        control_plane.wait_for(lambda: _main_changed(clusters, ns, old), timeout=60, message="failover recorded")
        control_plane.wait_for(lambda: _pod_uid(control_plane, ns, old) not in (None, old_uid), timeout=60,
                               message=f"{old} deleted at the failover and re-created")
    finally:
        control_plane.thaw_pod(ns, old, container="memgraph")
    new = clusters.cluster_status(ns, NAME)["currentMain"]
    assert write_through(clusters, ns, NAME, "After", 1) == control_plane.pod_ip(ns, new)
    fenced_uid = _pod_uid(control_plane, ns, old)
    # the new pod's IP is reported once its network is made: read it inside the poll
    control_plane.wait_for(lambda: role_or_none(control_plane.pod_ip(ns, old)) is not None, timeout=60,
                           message=f"{old} answers again")
    ip = control_plane.pod_ip(ns, old)
    assert replication_role(ip) == "replica"  # came back fenced
    clusters.wait_value_on(ip, "After", 1)  # registered by the new MAIN and replicating
    fast_operator.kill()
    # A rogue client promotes it and writes: unique data, so it diverges from the new MAIN. Its agent may demote
    # it between the two queries (it checks every failoverDelaySec / 8): then the client tries again.
    def rogue_write():
        if replication_role(ip) == "replica":
            bolt_query(ip, "SET REPLICATION ROLE TO MAIN")
        bolt_query(ip, "CREATE (:Stale {v: 1})")
        return True
    control_plane.wait_for(rogue_write, timeout=30, message=f"a rogue write on {old} promoted by hand")
    control_plane.wait_for(lambda: replication_role(ip) == "replica", timeout=30,
                           message=f"{old}'s agent to demote it (status.currentMain names {new})")
    assert "verdict=RecordNamesAnother" in control_plane.pod_log(ns, old, container="agent")
    fast_operator.start()
    control_plane.wait_for(lambda: _pod_uid(control_plane, ns, old) not in (None, fenced_uid), timeout=120,
                           message=f"{old} re-created for the re-seed")
    status = clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    ip = control_plane.pod_ip(ns, old)
    clusters.wait_value_on(ip, "After", 1)
    assert bolt_query(ip, "MATCH (n:Stale) RETURN count(n) AS c")[0]["c"] == 0
    assert status["currentMain"] == new
    events = json.loads(control_plane.kubectl("get", "events.events.k8s.io", "-n", ns, "-o", "json").stdout)["items"]
    reasons = [e.get("reason") for e in events]
    assert any(e.get("reason") == "ReplicaReseeded" and old in (e.get("note") or "") for e in events), reasons
    assert any(e.get("reason") == "MainFenced" and old in (e.get("note") or "") for e in events), reasons
    # The re-seed is in status (the rate limit's memory), and an operator that restarts reads it back: without
    # that, its first passes would see no re-seed and write the fields away.
    def reseed_entry():
        entry = next(e for e in clusters.cluster_status(ns, NAME)["instanceStatuses"] if e["pod"] == old)
        return entry if entry.get("reseeds") == 1 and entry.get("lastReseed") else None
    recorded = control_plane.wait_for(reseed_entry, timeout=30, message=f"reseeds/lastReseed of {old} in status")
    fast_operator.kill()
    fast_operator.start()
    key = f"{ns}/{NAME}"
    control_plane.wait_for(lambda: (metric_sum(fast_operator.metrics(), "mgo_reconcile_total", cluster=key) or 0) >= 3,
                           timeout=60, message="three passes of the restarted operator")
    assert reseed_entry() is not None and reseed_entry()["lastReseed"] == recorded["lastReseed"], \
        clusters.cluster_status(ns, NAME)["instanceStatuses"]


def test_switchover_moves_the_main_without_losing_writes(control_plane, namespace, clusters, fast_operator):
    """spec.switchover.targetOrdinal to an ASYNC replica: it is registered SYNC, catches up, the MAIN is demoted
    and the target promoted; every acknowledged write is on the new MAIN; writes were unavailable only briefly."""
    ns = namespace
    old = _cluster(clusters, ns)
    rows = show_replicas(control_plane.pod_ip(ns, old))
    async_pod = next(p for p in clusters.pod_roles(ns, NAME)
                     if p != old and rows[p.replace("-", "_")]["sync_mode"] == "async")
    target = int(async_pod.rsplit("-", 1)[1])
    with RoleSampler(clusters, ns, NAME) as roles, Writer(clusters, ns, NAME, label="S") as writer:
        writer.wait_acked(10)
        _patch(control_plane, ns, {"spec": {"switchover": {"targetOrdinal": target}}})
        control_plane.wait_for(lambda: _main_changed(clusters, ns, old), timeout=90,
                               message="switchover recorded")
        writer.wait_acked(10, timeout=60)
        status = _wait_ready_everywhere(control_plane, clusters, ns, writer)
    assert status["currentMain"] == async_pod
    lf = status["lastFailover"]
    assert lf["kind"] == "switchover" and lf["reason"] == "Requested" and lf["behind"] == 0
    assert lf["writeUnavailableMs"] < 10000, lf
    assert roles.max_mains() == 1
    assert _acking_ips_in_order(writer) == [control_plane.pod_ip(ns, old), control_plane.pod_ip(ns, async_pod)]


def _revisions(control_plane, ns):
    sts = json.loads(control_plane.kubectl("get", "statefulset", NAME, "-n", ns, "-o", "json").stdout)
    pods = json.loads(control_plane.kubectl("get", "pods", "-n", ns, "-l", f"app.kubernetes.io/instance={NAME}",
                                            "-o", "json").stdout)["items"]
    return sts["status"].get("updateRevision"), {p["metadata"]["name"]: p["metadata"]["labels"].get(
        "controller-revision-hash") for p in pods}


@pytest.mark.parametrize("strategy", ["ReplicasFirst", "Supervised"])
def test_rolling_update_replicas_first_then_switchover(control_plane, namespace, clusters, fast_operator,
                                                       strategy):
    """A pod-template change (log level): replicas restart one at a time, then the MAIN moves by switchover, then
    the old MAIN restarts; Supervised waits for the approval annotation before the switchover. No acknowledged
    write is lost and the cluster ends Ready with every pod on the new revision."""
    ns = namespace
    old = _cluster(clusters, ns, updateStrategy={"type": strategy})
    with Writer(clusters, ns, NAME, label="RU") as writer:
        writer.wait_acked(10)
        before, _ = _revisions(control_plane, ns)
        _patch(control_plane, ns, {"spec": {"memgraph": {"logLevel": "DEBUG"}}})
        if strategy == "Supervised":
            def awaiting():
                c = clusters.condition(clusters.cluster_status(ns, NAME), "ReplicasReady") or {}
                return c.get("reason") == "AwaitingMainUpdateApproval"
            control_plane.wait_for(awaiting, timeout=180, message="waiting for approval")
            rev, pods = _revisions(control_plane, ns)
            assert pods[old] != rev and all(r == rev for p, r in pods.items() if p != old), pods
            assert clusters.cluster_status(ns, NAME)["currentMain"] == old
            control_plane.kubectl("annotate", "memgraphcluster", NAME, "-n", ns,
                                  f"memgraph.io/approve-main-update={rev}")

        def all_updated():
            # The StatefulSet's updateRevision names the new template only once the operator applied it and
            # the controller manager saw it: until then every pod matches the old one.
            rev, pods = _revisions(control_plane, ns)
            return rev not in (None, before) and len(pods) == 3 and all(r == rev for r in pods.values())
        control_plane.wait_for(all_updated, timeout=240, message="every pod on the update revision")
        status = _wait_ready_everywhere(control_plane, clusters, ns, writer, timeout=240)
    assert status["currentMain"] != old
    assert status["lastFailover"]["kind"] == "switchover" and status["lastFailover"]["reason"] == "RollingUpdate"
    assert len(_acking_ips_in_order(writer)) == 2


def test_a_crashed_main_is_failed_over_at_once_at_the_defaults(control_plane, namespace, clusters, operator):
    """The MAIN's Memgraph process killed once, with the shipped failover settings (failoverDelaySec 15,
    healthCheckIntervalSec 5). The pod status says the container ended, which is no slow or partitioned MAIN:
    with the SYNC replica in sync the operator fails over on that event (reason MainCrashed) instead of waiting
    15 s, by which time the process would long be back. The restarted process comes back fenced (a REPLICA) and
    joins the new MAIN; no acknowledged write is lost, nothing is re-seeded."""
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"syncReplicas": 1, "syncMode": "SYNC"}, failover={})
    old = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    spec = clusters.get_cluster(ns, NAME)["spec"]
    assert spec["failover"]["failoverDelaySec"] == 15 and spec["replication"]["healthCheckIntervalSec"] == 5, spec
    with Writer(clusters, ns, NAME, label="C") as writer:
        writer.wait_acked(10)
        control_plane.kill_pod(ns, old, container="memgraph")
        control_plane.wait_for(lambda: _main_changed(clusters, ns, old), timeout=60, message="failover recorded")
        writer.wait_acked(10, timeout=60)
        status = _wait_ready_everywhere(control_plane, clusters, ns, writer)
    print(f"lastFailover: {status['lastFailover']}")  # writeUnavailableMs, for the record (-s)
    assert status["lastFailover"]["reason"] == "MainCrashed", status["lastFailover"]
    assert status["lastFailover"]["from"] == old
    assert replication_role(control_plane.pod_ip(ns, old)) == "replica"
    events = json.loads(control_plane.kubectl("get", "events.events.k8s.io", "-n", ns, "-o", "json").stdout)["items"]
    reasons = [e.get("reason") for e in events]
    assert "ReplicaReseeded" not in reasons, reasons


def _cluster_ip(control_plane, ns, svc):
    return control_plane.api.get(f"/api/v1/namespaces/{ns}/services/{svc}")["spec"]["clusterIP"]


def test_a_kept_connection_through_the_write_cluster_ip_is_cut_at_the_failover(control_plane, namespace, clusters,
                                                                              fast_operator):
    """A pooled client of the write Service's ClusterIP (kube-proxy, netns pod network): conntrack keeps its
    connection on the MAIN it first reached even after that pod leaves the Service — the hazard of a real cluster.
    When the frozen MAIN is replaced, the fence (pod deleted with grace 0) resets that connection, and the
    client's reconnect through the same ClusterIP reaches the new MAIN; every write it had acknowledged is
    there."""
    if control_plane.pod_network != "netns":
        pytest.skip("needs real ClusterIP Services: the control plane runs the loopback pod network")
    from neo4j import GraphDatabase

    ns = namespace
    old = _cluster(clusters, ns)
    vip = _cluster_ip(control_plane, ns, f"{NAME}-write")
    assert vip not in [control_plane.pod_ip(ns, p) for p in clusters.pod_roles(ns, NAME)]
    drv = GraphDatabase.driver(f"bolt://{vip}:7687", auth=None, connection_timeout=2,
                               max_connection_lifetime=3600, connection_acquisition_timeout=2)
    acked, errors = [], []

    def write(n):
        try:
            with drv.session() as s:
                s.run("CREATE (:Vip {id: $n})", n=n).consume()
            acked.append(n)
            return True
        except Exception as e:  # noqa: BLE001 - recorded; the driver reconnects after a transport error
            errors.append(repr(e)[:120])
            return False

    try:
        # kube-proxy programs the ClusterIP once the MAIN's EndpointSlice entry exists: until then it rejects
        control_plane.wait_for(lambda: write(0), timeout=30, message="a first write through the write ClusterIP")
        errors.clear()  # only the failures after the freeze count below
        old_ip = control_plane.pod_ip(ns, old)
        assert missing_writes(old_ip, "Vip", [0]) == []  # the kept connection is on the MAIN
        control_plane.freeze_pod(ns, old, container="memgraph")
        try:
            control_plane.wait_for(lambda: _main_changed(clusters, ns, old), timeout=60, message="failover recorded")
            new = clusters.cluster_status(ns, NAME)["currentMain"]
            n = iter(range(1, 10_000))
            control_plane.wait_for(lambda: write(next(n)), timeout=30, interval=0.1,
                                   message="a write through the ClusterIP acknowledged after the failover")
        finally:
            control_plane.thaw_pod(ns, old, container="memgraph")
        new_ip = control_plane.pod_ip(ns, new)
        # The kept connection was on the old MAIN (checked above); the write acknowledged after the failover is on
        # the new one: the fence reset the old connection and the driver reconnected through the same ClusterIP
        # (with no error to see when the reset arrived before the next write, else after one failed write).
        assert missing_writes(new_ip, "Vip", acked) == [], (acked, errors)
        assert len(acked) >= 2, (acked, errors)
    finally:
        drv.close()
