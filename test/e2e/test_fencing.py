"""Every instance starts fenced: Memgraph runs the operator-agent's fence file (`--init-file`, one line `SET
REPLICATION ROLE TO REPLICA WITH PORT <port>`) after recovering its data and replication state and before its Bolt
server binds, so no process the operator did not promote can acknowledge a write — not a restarted MAIN, not a
new pod. The operator then promotes the MAIN it recorded (docs/fencing.md).

The operator is stopped while the MAIN restarts, so what the restarted process does on its own is observed
without racing the promotion.
"""

import json

import pytest
from harness import bolt_query, replication_role, role_or_none, show_replicas, write_through

pytestmark = pytest.mark.controlplane

NAME = "mg"


def _restart_count(control_plane, ns, pod):
    st = (control_plane.get_pod(ns, pod) or {}).get("status", {})
    return sum(c.get("restartCount", 0) for c in st.get("containerStatuses") or [])


def _write_refused(ip):
    try:
        bolt_query(ip, "CREATE (:Unfenced {v: 1})")
    except Exception as e:  # noqa: BLE001 - the refusal is what is checked
        return str(e)
    return None


def _events(control_plane, ns):
    out = control_plane.kubectl("get", "events.events.k8s.io", "-n", ns, "-o", "json").stdout
    return [e.get("reason") for e in json.loads(out)["items"]]


@pytest.mark.parametrize("instances", [3, 1])
def test_a_restarted_main_refuses_writes_until_the_operator_promotes_it(control_plane, namespace, clusters,
                                                                        operator, instances):
    ns = namespace
    clusters.make_cluster(ns, NAME, instances, replication={"healthCheckIntervalSec": 1},
                          failover={"failoverDelaySec": 600})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    if instances > 1:
        clusters.wait_replication(ns, NAME, expected_replicas=instances - 1)
    write_through(clusters, ns, NAME, "Before", 1)
    ip = control_plane.pod_ip(ns, main)
    restarts = _restart_count(control_plane, ns, main)
    operator.kill()
    control_plane.kill_pod(ns, main, container="memgraph")
    control_plane.wait_for(lambda: _restart_count(control_plane, ns, main) > restarts, timeout=60,
                           message=f"{main}'s Memgraph restarted")
    control_plane.wait_for(lambda: role_or_none(ip) is not None, timeout=60, message=f"{main} answers over Bolt")
    # Its very first answer: a REPLICA that refuses writes, its data kept, its replica list dropped.
    assert replication_role(ip) == "replica"
    refused = _write_refused(ip)
    assert refused is not None and "replica" in refused.lower(), refused
    assert bolt_query(ip, "MATCH (n:Before) RETURN count(n) AS c")[0]["c"] == 1
    assert bolt_query(ip, "MATCH (n:Unfenced) RETURN count(n) AS c")[0]["c"] == 0
    log = control_plane.pod_log(ns, main, container="memgraph")
    assert "--init-file=/var/lib/memgraph/operator/fence.cypherl" in log, log[-2000:]

    operator.start()
    # The status still says Ready from before the kill (nobody wrote it since): wait for the promotion itself.
    control_plane.wait_for(lambda: role_or_none(ip) == "main", timeout=120, message=f"{main} promoted back")
    status = clusters.wait_ready(ns, NAME, timeout=120)
    assert status["currentMain"] == main and "lastFailover" not in status
    if instances > 1:
        rows = clusters.wait_replication(ns, NAME, expected_replicas=instances - 1)
        assert len(rows) == instances - 1
    assert write_through(clusters, ns, NAME, "After", 1) == ip
    for pod in clusters.pod_roles(ns, NAME):
        for label in ("Before", "After"):
            clusters.wait_value_on(control_plane.pod_ip(ns, pod), label, 1)
    # The replicas kept their data and followed the re-promoted MAIN: nothing was re-seeded.
    reasons = _events(control_plane, ns)
    assert "ReplicaReseeded" not in reasons and "ReplicaDiverged" not in reasons, reasons


def test_a_new_pod_joins_as_a_replica_never_as_a_writable_main(control_plane, namespace, clusters, operator):
    """A pod added by a scale-up starts empty: without the fence it would be a writable MAIN until the operator
    demoted it. With the operator stopped it stays a REPLICA that refuses writes; the operator registers it."""
    ns = namespace
    clusters.make_cluster(ns, NAME, 2, replication={"healthCheckIntervalSec": 1})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=1)
    write_through(clusters, ns, NAME, "Before", 1)
    operator.kill()
    # The StatefulSet is the operator's; scaling it directly stands in for the pod a scale-up creates.
    control_plane.kubectl("scale", "statefulset", NAME, "-n", ns, "--replicas=3")
    new = f"{NAME}-2"
    control_plane.wait_for(lambda: control_plane.get_pod(ns, new) is not None
                           and role_or_none(control_plane.pod_ip(ns, new)) is not None, timeout=120,
                           message=f"{new} answers over Bolt")
    ip = control_plane.pod_ip(ns, new)
    assert replication_role(ip) == "replica"
    refused = _write_refused(ip)
    assert refused is not None and "replica" in refused.lower(), refused
    control_plane.kubectl("patch", "memgraphcluster", NAME, "-n", ns, "--type=merge",
                          "-p", json.dumps({"spec": {"instances": 3}}))
    operator.start()
    clusters.wait_ready(ns, NAME, timeout=120)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    assert clusters.main_pod(ns, NAME) == main
    assert "mg_2" in show_replicas(control_plane.pod_ip(ns, main))
    clusters.wait_value_on(ip, "Before", 1)
    assert bolt_query(ip, "MATCH (n:Unfenced) RETURN count(n) AS c")[0]["c"] == 0


def test_a_restarted_main_is_promoted_back_while_a_replica_is_down(control_plane, namespace, clusters, operator):
    """The fenced MAIN comes back as a REPLICA while a replica does not answer (frozen): that replica was last
    listed as a replica of the recorded MAIN, so it is no MAIN anyone else promoted, and the operator promotes the
    MAIN back without waiting for it. Writes work again; the thawed replica follows."""
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 1, "syncReplicas": 0},
                          failover={"failoverDelaySec": 600})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    write_through(clusters, ns, NAME, "Before", 1)
    silent = next(p for p in clusters.pod_roles(ns, NAME) if p != main)
    ip = control_plane.pod_ip(ns, main)
    restarts = _restart_count(control_plane, ns, main)
    operator.kill()
    control_plane.freeze_pod(ns, silent, container="memgraph")
    try:
        control_plane.kill_pod(ns, main, container="memgraph")
        control_plane.wait_for(lambda: _restart_count(control_plane, ns, main) > restarts, timeout=60,
                               message=f"{main}'s Memgraph restarted")
        control_plane.wait_for(lambda: role_or_none(ip) == "replica", timeout=60, message=f"{main} back, fenced")
        operator.start()
        control_plane.wait_for(lambda: role_or_none(ip) == "main", timeout=60, message=f"{main} promoted back")
        assert write_through(clusters, ns, NAME, "After", 1) == ip
        assert clusters.cluster_status(ns, NAME)["currentMain"] == main
    finally:
        control_plane.thaw_pod(ns, silent, container="memgraph")
    clusters.wait_ready(ns, NAME, timeout=120)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    clusters.wait_value_on(control_plane.pod_ip(ns, silent), "After", 1)
