"""An isolated MAIN fences itself (issue 11; docs/fencing.md "An isolated MAIN fences itself"), on the real control
plane, with a client that keeps its connection to the MAIN's pod:

- cut off from everything (the operator stopped, both replicas' Memgraph frozen, the API server stopped): the
  MAIN's agent cannot confirm it is still status.currentMain, asks the peers, none answers, and it demotes the MAIN
  itself; the kept connection's next write is refused. Healed, the operator promotes the same MAIN back (no
  failover) and every acknowledged write is there.
- the API server down alone: the agent asks the peers, they answer as replicas, and the MAIN keeps taking writes
  on the kept connection.

These tests stop the API server: they run on the worker's own control plane like test_day2's.
"""

import time

import pytest
from harness import bolt_query, bolt_session, missing_writes, replication_role

pytestmark = pytest.mark.controlplane

NAME = "iso"
LABEL = "Iso"


def _agent_log(cp, ns, pod):
    return cp.pod_log(ns, pod, "agent")


def _wait_agent_says(cp, ns, pod, text, timeout=60):
    return cp.wait_for(lambda: text in _agent_log(cp, ns, pod), timeout=timeout,
                       message=f"the agent of {pod} to log {text!r}; log tail: {_agent_log(cp, ns, pod)[-600:]}")


class KeptWriter:
    """Writes `CREATE (:Iso {id: n})` one at a time on one kept driver session to one pod, as a pooled client
    does; acked holds the ids the instance acknowledged."""

    def __init__(self, session):
        self.s, self.acked, self.n = session, [], 0

    def write(self):
        self.n += 1
        self.s.run(f"CREATE (:{LABEL} {{id: $n}})", n=self.n).consume()
        self.acked.append(self.n)

    def refused(self):
        """None while writes are acknowledged; the error text of the first refused one."""
        try:
            self.write()
            return None
        except Exception as e:  # noqa: BLE001 - the refusal is the expected outcome
            return repr(e) or "error"


def _make(clusters, ns, delay_sec):
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 1},
                          failover={"failoverDelaySec": delay_sec})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    return main, sorted(p for p in clusters.pod_roles(ns, NAME) if p != main)


def test_an_isolated_main_fences_itself_and_is_promoted_back(control_plane, namespace, clusters, operator):
    ns = namespace
    main, replicas = _make(clusters, ns, 4)  # bound 2 s, a check every 0.5 s, peers asked within 0.5 s
    ip = control_plane.pod_ip(ns, main)
    _wait_agent_says(control_plane, ns, main, "verdict=Confirmed")
    with bolt_session(ip) as s:
        w = KeptWriter(s)
        w.write()
        operator.stop()  # cut off from the operator ...
        for p in replicas:  # ... from its peers ...
            control_plane.freeze_pod(ns, p, "memgraph")
        try:
            control_plane.stop_apiserver()  # ... and from the API server
            t0 = time.monotonic()
            try:
                err = control_plane.wait_for(w.refused, timeout=60, interval=0.1,
                                             message="the kept connection's writes to be refused")
                fenced_after = time.monotonic() - t0
                assert "replica" in err.lower(), err
                assert replication_role(ip) == "replica"
                log = _agent_log(control_plane, ns, main)
                assert "fenced the MAIN" in log and "verdict=Isolated" in log, log[-2000:]
                print(f"\nisolated MAIN fenced {fenced_after:.2f} s after the API server stopped "
                      f"({len(w.acked)} writes acknowledged before)")
            finally:
                control_plane.start_apiserver()
        finally:
            for p in replicas:
                control_plane.thaw_pod(ns, p, "memgraph")
    operator.start()
    control_plane.wait_for(lambda: replication_role(ip) == "main", timeout=90,
                           message=f"{main} promoted back by the operator")
    status = clusters.wait_ready(ns, NAME, timeout=120)
    assert status["currentMain"] == main, status
    assert not status.get("lastFailover"), status  # the same MAIN: nothing was failed over
    assert missing_writes(ip, LABEL, w.acked) == []
    bolt_query(ip, f"CREATE (:{LABEL} {{id: -1}})")  # writable again


def test_an_api_server_outage_alone_does_not_fence_the_main(control_plane, namespace, clusters, operator):
    ns = namespace
    main, _ = _make(clusters, ns, 6)  # bound 3 s; each peer gets 375 ms to answer
    ip = control_plane.pod_ip(ns, main)
    _wait_agent_says(control_plane, ns, main, "verdict=Confirmed")
    with bolt_session(ip) as s:
        w = KeptWriter(s)
        w.write()
        control_plane.stop_apiserver()
        try:
            _wait_agent_says(control_plane, ns, main, "verdict=PeersAnswer", timeout=30)
            before = len(w.acked)
            for _ in range(5):
                w.write()  # raises if the MAIN refused
            assert len(w.acked) == before + 5
            assert replication_role(ip) == "main"
            assert "fenced the MAIN" not in _agent_log(control_plane, ns, main)
        finally:
            control_plane.start_apiserver()
    clusters.wait_ready(ns, NAME, timeout=120)
    assert missing_writes(ip, LABEL, w.acked) == []


_POD_CLIENT = r"""
import sys, time
from neo4j import GraphDatabase
from neo4j.exceptions import Neo4jError
target, label = sys.argv[1], sys.argv[2]
drv, n = None, 0
while True:
    n += 1
    try:
        if drv is None:
            drv = GraphDatabase.driver(f"bolt://{target}:7687", auth=None, connection_timeout=2,
                                       max_connection_lifetime=3600, connection_acquisition_timeout=3)
        with drv.session() as s:
            s.run(f"CREATE (:{label} {{id: $n}})", n=n).consume()
        print(f"ack {n}", flush=True)
    except Exception as e:
        print(f"fail {n} {type(e).__name__} {str(e)[:80]!r}", flush=True)
        if not isinstance(e, Neo4jError) and drv is not None:
            drv.close()
            drv = None
    time.sleep(0.05)
"""


def _client_pod(name, target):
    """A pod that writes to `target` (a pod DNS name) on one kept driver connection, as an in-cluster application
    does; it prints `ack <n>` for every acknowledged write (the kubelet runs unknown images' commands as-is)."""
    import sys

    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                "name": "client", "image": "mgo-test/python-client:1",
                "command": [sys.executable, "-c", _POD_CLIENT, target, LABEL]}]}}


def _client_acks(cp, ns, pod):
    return [int(line.split()[1]) for line in cp.pod_log(ns, pod, "client").splitlines() if line.startswith("ack ")]


def test_a_main_partitioned_from_all_but_a_client_fences_itself_and_loses_nothing(control_plane, namespace, clusters,
                                                                                 operator):
    """A network partition (netns pod network): the MAIN's pod is cut off from the host (operator, API server,
    kubelet probes) and from its peers, but not from a client pod that keeps writing to it by its pod DNS name.
    With a SYNC replica it can acknowledge nothing it cannot replicate; its agent cannot confirm it and fences it
    (verdict Isolated); the operator fails over to the in-sync SYNC replica. Every write the client had
    acknowledged is on the new MAIN and on the old one after it rejoins."""
    if control_plane.pod_network != "netns":
        pytest.skip("partitions need the netns pod network: the control plane runs the loopback one")
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 1, "syncReplicas": 1,
                                                    "syncMode": "SYNC"},
                          failover={"failoverDelaySec": 4})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    _wait_agent_says(control_plane, ns, main, "verdict=Confirmed")
    control_plane.apply(_client_pod("client", f"{main}.{NAME}-hl.{ns}.svc.cluster.local"), ns)
    control_plane.wait_for(lambda: len(_client_acks(control_plane, ns, "client")) >= 10, timeout=60,
                           message="the client pod's first acknowledged writes")
    client_ip = control_plane.pod_ip(ns, "client")
    control_plane.partition_pod(ns, main, cut=("host", "pods"), allow=(client_ip,))
    acked_at_cut = len(_client_acks(control_plane, ns, "client"))
    try:
        _wait_agent_says(control_plane, ns, main, "verdict=Isolated", timeout=60)
        control_plane.wait_for(lambda: clusters.cluster_status(ns, NAME).get("currentMain") not in (None, main),
                               timeout=90, message="a failover away from the partitioned MAIN")
    finally:
        control_plane.heal_pod(ns, main)  # a no-op when the failover's fence replaced the pod (a new namespace)
    new = clusters.cluster_status(ns, NAME)["currentMain"]
    acked = _client_acks(control_plane, ns, "client")
    log = _agent_log(control_plane, ns, main)
    assert "verdict=Isolated" in log, log[-2000:]
    # The agent demotes at once unless a commit holds Memgraph's replication-state lock: here the client's SYNC
    # commit waits for the cut-off replica (up to the 30 s RPC timeout), so the demotion is refused ("Couldn't
    # set role to replica!") and tried again; meanwhile nothing is acknowledged, and the failover's own fence
    # (the pod deleted with grace period 0) may get there first.
    agent_fenced = "fenced the MAIN" in log
    assert agent_fenced or ("fence failed" in log and "Couldn't set role to replica!" in log), log[-2000:]
    print(f"\npartitioned MAIN: {acked_at_cut} client writes acknowledged before the cut, {len(acked)} in all; "
          f"fenced by {'its agent' if agent_fenced else 'the failover (pod deleted)'}")
    control_plane.kubectl("delete", "pod", "client", "-n", ns, "--wait=false")
    clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2, timeout=180)
    for pod in (new, main):
        ip = control_plane.pod_ip(ns, pod)
        control_plane.wait_for(lambda ip=ip: not missing_writes(ip, LABEL, acked), timeout=60,
                               message=f"every write the client acknowledged on {pod}")
