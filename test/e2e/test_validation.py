"""Live validation on the real control plane (docs/validation.md):

- the replication canary: one node under the reserved label `_MemgraphOperatorCanary` on the MAIN, read back on
  every replica: status.validation with per-replica lag, ReplicationLagAcceptable, the seed's metrics moving;
- connectivity conditions from the health pass (WriteConnectivity, ReadConnectivity with the seed's message);
- a canary a user deletes or edits is written anew, with an Event;
- a frozen replica fails the test (bounded by the read-back deadline, the pass goes on), ConnectivityLost and
  ReplicationTestFailed are raised, and ReplicationTestPassed when it recovers;
- the off switch: no canary node is written.
"""

import json
import os

import pytest
from harness import bolt_query, metric_sum

pytestmark = pytest.mark.controlplane

NAME = "mg"
CANARY = "_MemgraphOperatorCanary"
FAST = {"canary": {"intervalSec": 5, "lagIntervalSec": 5}}


def _reasons(control_plane, ns):
    out = control_plane.kubectl("get", "events.events.k8s.io", "-n", ns, "-o", "json").stdout
    return [e.get("reason") for e in json.loads(out)["items"]]


def _validation(clusters, ns):
    return clusters.cluster_status(ns, NAME).get("validation") or {}


def _condition(clusters, ns, ctype):
    return clusters.condition(clusters.cluster_status(ns, NAME), ctype) or {}


def _canary(ip):
    return bolt_query(ip, f"MATCH (c:{CANARY}) RETURN c.seq AS seq, keys(c) AS k")


def _start(control_plane, clusters, ns, validation=None):
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 1},
                          validation=validation if validation is not None else FAST)
    status = clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    return status["currentMain"]


def _wait_test_after(control_plane, clusters, ns, since, timeout=60, **want):
    """status.validation of a replication test newer than since whose fields equal want."""
    def ok():
        v = _validation(clusters, ns)
        return (v.get("lastReplicationTest", "") > since and all(v.get(k) == w for k, w in want.items())) and v
    return control_plane.wait_for(ok, timeout=timeout, message=f"a replication test after {since} with {want}; "
                                  f"validation: {_validation(clusters, ns)}")


def test_canary_measures_every_replica(control_plane, namespace, clusters, operator):
    ns = namespace
    main = _start(control_plane, clusters, ns)
    v = _wait_test_after(control_plane, clusters, ns, "", allReplicasHealthy=True)
    replicas = {r["name"]: r for r in v["replicas"]}
    assert set(replicas) == {f"{NAME}-{i}" for i in range(3)} - {main}, v
    for r in replicas.values():
        assert r["healthy"] is True and 0 <= r["lagMs"] < 5000, r
    assert v["replicationLagMs"] == max(r["lagMs"] for r in replicas.values())
    assert "skipped" not in v

    lag = _condition(clusters, ns, "ReplicationLagAcceptable")
    assert lag.get("status") == "True" and "within 1000 ms" in lag["message"], lag
    write = _condition(clusters, ns, "WriteConnectivity")
    assert write.get("status") == "True" and write["message"] == f"MAIN {main} responding", write
    read = _condition(clusters, ns, "ReadConnectivity")
    assert read.get("status") == "True" and read["message"] == "All 2 read instances responding", read

    # One node, only seq and ts, on the MAIN and on every replica.
    for pod in replicas.keys() | {main}:
        rows = control_plane.wait_for(lambda p=pod: _canary(control_plane.pod_ip(ns, p)) or None, timeout=30,
                                      message=f"the canary on {pod}")
        assert len(rows) == 1 and sorted(rows[0]["k"]) == ["seq", "ts"], (pod, rows)

    samples = operator.metrics()
    key = f"{ns}/{NAME}"
    assert metric_sum(samples, "memgraph_replication_test_total", cluster=key) >= 1
    assert metric_sum(samples, "memgraph_replication_test_failures_total", cluster=key) == 0
    for pod in replicas:
        assert metric_sum(samples, "memgraph_replication_lag_seconds_count", cluster=key, replica=pod) >= 1, pod


def test_deleted_or_edited_canary_is_recreated(control_plane, namespace, clusters, operator):
    ns = namespace
    main = _start(control_plane, clusters, ns)
    first = _wait_test_after(control_plane, clusters, ns, "", allReplicasHealthy=True)
    main_ip = control_plane.pod_ip(ns, main)

    bolt_query(main_ip, f"MATCH (c:{CANARY}) SET c.owner = 'someone'")
    control_plane.wait_for(lambda: "CanaryRecreated" in _reasons(control_plane, ns), timeout=60,
                           message="an Event for the edited canary")
    control_plane.wait_for(lambda: sorted(_canary(main_ip)[0]["k"]) == ["seq", "ts"], timeout=30,
                           message="the canary written anew without the user's property")

    second = _wait_test_after(control_plane, clusters, ns, first["lastReplicationTest"], allReplicasHealthy=True)
    bolt_query(main_ip, f"MATCH (c:{CANARY}) DETACH DELETE c")
    control_plane.wait_for(lambda: len(_canary(main_ip)) == 1, timeout=60, message="the deleted canary is back")
    _wait_test_after(control_plane, clusters, ns, second["lastReplicationTest"], allReplicasHealthy=True)
    # Nothing else was touched: the user's data has no node but the canary.
    assert bolt_query(main_ip, f"MATCH (n) WHERE NOT n:{CANARY} RETURN count(n) AS c")[0]["c"] == 0


def test_frozen_replica_fails_the_test_and_recovers(control_plane, namespace, clusters, operator):
    ns = namespace
    main = _start(control_plane, clusters, ns)
    first = _wait_test_after(control_plane, clusters, ns, "", allReplicasHealthy=True)
    victim = sorted({f"{NAME}-{i}" for i in range(3)} - {main})[0]
    control_plane.freeze_pod(ns, victim, container="memgraph")
    try:
        failed = _wait_test_after(control_plane, clusters, ns, first["lastReplicationTest"],
                                  allReplicasHealthy=False)
        bad = {r["name"]: r for r in failed["replicas"]}[victim]
        assert bad["healthy"] is False and bad.get("message"), bad
        read = control_plane.wait_for(
            lambda: (lambda c: c if c.get("status") == "False" else None)(_condition(clusters, ns,
                                                                                     "ReadConnectivity")),
            timeout=60, message="ReadConnectivity False")
        assert read["message"] == f"1/2 read instances responding ({victim} not)", read
        reasons = _reasons(control_plane, ns)
        assert "ConnectivityLost" in reasons and "ReplicationTestFailed" in reasons, reasons
        assert _condition(clusters, ns, "ReplicationLagAcceptable").get("status") == "False"
        # The operator keeps reconciling: the MAIN still answers its health checks and stays MAIN.
        assert _condition(clusters, ns, "WriteConnectivity").get("status") == "True"
    finally:
        control_plane.thaw_pod(ns, victim, container="memgraph")
    _wait_test_after(control_plane, clusters, ns, failed["lastReplicationTest"], timeout=90,
                     allReplicasHealthy=True)
    assert "ReplicationTestPassed" in _reasons(control_plane, ns)
    assert _condition(clusters, ns, "ReplicationLagAcceptable").get("status") == "True"
    assert metric_sum(operator.metrics(), "memgraph_replication_test_failures_total", cluster=f"{ns}/{NAME}") >= 1


def test_off_switch_writes_nothing(control_plane, namespace, clusters, operator):
    ns = namespace
    main = _start(control_plane, clusters, ns, validation={"canary": {"enabled": False}})
    control_plane.wait_for(lambda: (_validation(clusters, ns).get("skipped") or {}).get("reason") == "Disabled",
                           timeout=60, message=f"validation skipped as Disabled: {_validation(clusters, ns)}")
    assert _canary(control_plane.pod_ip(ns, main)) == []
    assert _condition(clusters, ns, "WriteConnectivity").get("status") == "True"


def test_lag_above_the_threshold(control_plane, namespace, clusters, operator):
    """Replicas that apply each commit 1.3 s late (the emulator's --emulator_replication_delay_ms; real Memgraph
    has no such switch) are healthy but lag: ReplicationLagAcceptable False with the measured lag, and
    HighReplicationLag once."""
    if os.environ.get("MEMGRAPH_BIN"):
        pytest.skip("needs the emulator's artificial replication delay")
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 1},
                          memgraph={"extraFlags": ["--emulator_replication_delay_ms=1300"]},
                          validation={"maxLagMs": 1000, **FAST})
    clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    lag = control_plane.wait_for(
        lambda: (lambda c: c if c.get("status") == "False" else None)(_condition(clusters, ns,
                                                                                 "ReplicationLagAcceptable")),
        timeout=90, message=f"ReplicationLagAcceptable False; validation: {_validation(clusters, ns)}")
    assert lag["reason"] == "HighReplicationLag" and "above 1000 ms" in lag["message"], lag
    v = _validation(clusters, ns)
    assert v["allReplicasHealthy"] is True and 1300 <= v["replicationLagMs"] < 2000, v
    assert "HighReplicationLag" in _reasons(control_plane, ns)
    samples = operator.metrics()
    total = metric_sum(samples, "memgraph_replication_lag_seconds_sum", cluster=f"{ns}/{NAME}")
    count = metric_sum(samples, "memgraph_replication_lag_seconds_count", cluster=f"{ns}/{NAME}")
    assert count >= 2 and total / count >= 1.3, (total, count)  # every sample carries the delay
