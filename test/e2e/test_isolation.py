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
