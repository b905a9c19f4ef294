"""Chaos scenarios (issue 5): faults under write and read load, each checked by test/e2e/chaos.py's checker —
(a) no acknowledged write lost (SYNC, STRICT_SYNC; ASYNC within the operator's own estimate), (b) never two MAINs
behind the write Service, (c) Ready again within a deadline, (d) every replica registered, ready, behind 0.

Each scenario also asserts what it is about (the failover happened, from whom to whom; the replica fault caused
none; the rolling update restarted every pod, replicas first, MAIN last after a switchover; ...). Counts are small
so the file stays a few minutes on 2 cores; scripts/soak.sh repeats them (SOAK_TRIALS). Clusters use
failoverDelaySec 1 and healthCheckIntervalSec 1; the operator runs with --bolt-timeout=2s.
"""

import pytest
from chaos import (NAME, Chaos, KeepDown, LabelSampler, ack_return_violations, assert_failover, chaos_operator,
                   non_chosen_acks, ready_cluster, wait_new_main)
from harness import replication_role, show_replicas



# ---------------------------------------------------------------------------------------------------------------
# the checker itself (no control plane): it must flag what it exists to catch


def test_checker_flags_writes_returning_to_an_old_main():
    runs = [("mg-0", 0, 1, 5), ("mg-1", 2, 3, 5), ("mg-0", 4, 5, 2)]
    assert ack_return_violations(runs, [{"from": "mg-0", "to": "mg-1"}])  # A B A with only A→B recorded
    assert not ack_return_violations(runs, [{"from": "mg-0", "to": "mg-1"}, {"from": "mg-1", "to": "mg-0"}])
    assert not ack_return_violations([("mg-0", 0, 1, 5), ("mg-1", 2, 3, 5)], [])  # A..A B..B itself is not a return


def test_checker_counts_two_labelled_mains():
    s = LabelSampler.__new__(LabelSampler)
    pod = {"ready": True, "ip": "x", "deleting": False, "uid": "u", "rev": "r"}
    s.pods = [(0.0, {"mg-0": dict(pod, role="main"), "mg-1": dict(pod, role="replica")}),
              (0.1, {"mg-0": dict(pod, role="main"), "mg-1": dict(pod, role="main")}),
              (0.2, {"mg-0": dict(pod, role="main", deleting=True), "mg-1": dict(pod, role="main")})]
    assert s.max_labelled_mains() == 2 and [m for _, m in s.double_main_samples()] == [["mg-0", "mg-1"]]


def test_checker_flags_a_write_acknowledged_by_a_replaced_main():
    chosen = [(0.0, "mg-0", -0.1), (5.0, "mg-1", 4.9)]  # mg-1 recorded at +5 s (not yet in the round at +4.9 s)
    promoted = [(1.0, "mg-0"), (5.5, "mg-1")]  # and answering MAIN at +5.5 s
    ok = [("mg-0", 4.9, "kept-connection"), ("mg-0", 5.2, "per-pod"), ("mg-1", 6.0, "service")]
    assert non_chosen_acks(ok, chosen, promoted) == []  # before the promotion, mg-0 was still the MAIN
    bad = non_chosen_acks(ok + [("mg-0", 5.6, "kept-connection")], chosen, promoted)
    assert len(bad) == 1 and "mg-0" in bad[0] and "kept-connection" in bad[0], bad
    # chosen again later (a failover back to mg-0): its acks are fine again
    assert non_chosen_acks([("mg-0", 9.0, "per-pod")], chosen + [(8.0, "mg-0", 7.9)], promoted + [(8.5, "mg-0")]) == []
    # the new MAIN acknowledging before the status sampler saw it recorded is no violation
    assert non_chosen_acks([("mg-1", 5.3, "per-pod")], [(0.0, "mg-0", -0.1), (5.6, "mg-1", 5.5)], promoted) == []
    # a sampler that failed its rounds from +1.2 s to +9 s (a slow API server) may see the record 8 s late...
    assert non_chosen_acks([("mg-1", 1.5, "per-pod")], [(0.0, "mg-0", -0.1), (9.0, "mg-1", 1.2)], promoted) == []
    # ...but an ack before the last round that did not show the record stays a violation
    late = non_chosen_acks([("mg-1", 1.1, "per-pod")], [(0.0, "mg-0", -0.1), (9.0, "mg-1", 1.2)],
                           [(1.0, "mg-0"), (9.5, "mg-1")])
    assert len(late) == 1 and "mg-1" in late[0], late


# ---------------------------------------------------------------------------------------------------------------
# scenarios on the control plane


@pytest.fixture
def operator(operator_factory):
    return chaos_operator(operator_factory)


@pytest.mark.parametrize("mode", ["SYNC", "STRICT_SYNC"])
def test_main_killed_fails_over(control_plane, namespace, clusters, operator, mode):
    """The MAIN's process is SIGKILLed and kept down (killed again at every restart) until the operator promoted
    the SYNC replica; then it comes back and must be demoted and registered (re-seeded if it diverged)."""
    ns = namespace
    old = ready_cluster(clusters, ns, mode)
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        with KeepDown(control_plane, ns, old):
            run.mark("fault")
            new = wait_new_main(control_plane, clusters, ns, NAME, old, timeout=60)
            run.wait_acked_by(new, 5)
    rep = run.check(mode)
    assert_failover(rep, old, new)
    assert replication_role(control_plane.pod_ip(ns, old)) == "replica"


@pytest.mark.parametrize("mode", ["SYNC", "STRICT_SYNC", "ASYNC"])
def test_main_frozen_fails_over(control_plane, namespace, clusters, operator, mode):
    """The MAIN is frozen (SIGSTOP: alive, connections accepted, nothing answered); the operator must fail over
    on Bolt timeouts; after the thaw the old MAIN (which still believes it is MAIN) is fenced and registered."""
    ns = namespace
    old = ready_cluster(clusters, ns, mode)
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        control_plane.freeze_pod(ns, old, container="memgraph")
        run.mark("fault")
        try:
            new = wait_new_main(control_plane, clusters, ns, NAME, old, timeout=60)
            run.wait_acked_by(new, 5)
        finally:
            control_plane.thaw_pod(ns, old, container="memgraph")
        run.mark("thaw")
    rep = run.check(mode)
    assert_failover(rep, old, new)
    if mode == "ASYNC":
        print(f"ASYNC failover: {rep['lost']} acknowledged writes lost, operator estimate {rep['lost_bound']}")


def test_replica_killed_no_failover(control_plane, namespace, clusters, operator):
    """The SYNC replica's process is killed once: the MAIN stays MAIN (no failover), the replica comes back
    registered, and no acknowledged write is lost."""
    ns = namespace
    main = ready_cluster(clusters, ns, "SYNC")
    rows = show_replicas(control_plane.pod_ip(ns, main))
    victim = next(n for n, r in rows.items() if r["sync_mode"] == "sync").replace("_", "-")
    before = clusters.cluster_status(ns, NAME).get("lastFailover")
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        control_plane.kill_pod(ns, victim, container="memgraph")
        run.mark("fault")
        control_plane.wait_for(lambda: clusters.replication_ok(ns, NAME, expected_replicas=2), timeout=60,
                               message="replica back and registered")
        run.wait_acked(5)
    rep = run.check("SYNC")
    assert rep["final_main"] == main
    assert [p for p, _ in rep["ack_runs"]] == [main], rep["ack_runs"]
    assert rep["failovers"] == [] and clusters.cluster_status(ns, NAME).get("lastFailover") == before
    assert rep["metric_delta"].get("failovers", 0) == 0, rep["metric_delta"]
