"""Chaos scenarios with network partitions (issue 11), under the same load and checker as test_chaos.py: (a) no
acknowledged write lost in SYNC, (b) never two MAINs behind the write Service, (c) Ready again, (d) every replica
caught up, (e) no write acknowledged by a pod other than the chosen MAIN once that MAIN answered.

Partitions are iptables rules in the pod's own network namespace (conftest ControlPlane.partition_pod): "host" cuts
the pod off from the operator, the API server, the kubelet's probes and every test client; "pods" from the other
pods. Needs the netns pod network; the loopback fallback has no per-pod interface to cut.
"""

import pytest
from chaos import NAME, Chaos, assert_failover, chaos_operator, ready_cluster, wait_new_main

MODES = ["SYNC", "ASYNC"]


@pytest.fixture
def operator(operator_factory):
    return chaos_operator(operator_factory)


@pytest.fixture(autouse=True)
def _needs_netns(control_plane):
    if control_plane.pod_network != "netns":
        pytest.skip("partitions need the netns pod network: the control plane runs the loopback one")


@pytest.mark.parametrize("mode", MODES)
def test_main_cut_off_from_the_host_fails_over(control_plane, namespace, clusters, operator, mode):
    """The MAIN's pod is cut off from the host (operator, API server, probes, clients) but not from its peers:
    the operator fails over to a replica and fences the old pod; the old MAIN's agent, reaching neither the API
    server nor a peer that still answers REPLICA once one is promoted, demotes it if it still runs. No client
    reaches it meanwhile, so nothing it could acknowledge is lost; after the heal it rejoins as a replica."""
    ns = namespace
    old = ready_cluster(clusters, ns, mode)
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        control_plane.partition_pod(ns, old, cut=("host",))
        run.mark("fault")
        try:
            new = wait_new_main(control_plane, clusters, ns, NAME, old, timeout=60)
            run.wait_acked_by(new, 5)
        finally:
            control_plane.heal_pod(ns, old)  # a no-op once the failover's fence replaced the pod
        run.mark("heal")
    rep = run.check(mode)
    assert_failover(rep, old, new)


def test_main_cut_off_from_its_peers_loses_nothing(control_plane, namespace, clusters, operator):
    """The SYNC MAIN's pod is cut off from its peers only (the operator and the clients still reach it). Its SYNC
    commits wait for the cut-off replica (Memgraph 3.1+ gives up after the 30 s RPC timeout, and so does the
    emulator) and are not acknowledged meanwhile. The operator's own canary write on the MAIN waits too and
    times out, so it may fail over to the in-sync SYNC replica (fencing the old pod), which loses nothing; if
    it does, only away from the cut-off MAIN. Either way, after the heal the checker's (a)-(e) hold."""
    ns = namespace
    old = ready_cluster(clusters, ns, "SYNC")
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        run.wait_acked(5)
        control_plane.partition_pod(ns, old, cut=("pods",))
        run.mark("fault")
        try:
            control_plane.wait_for(
                lambda: clusters.cluster_status(ns, NAME).get("phase") not in (None, "Running"), timeout=60,
                message="the cluster to report the cut-off replicas")
        finally:
            control_plane.heal_pod(ns, old)
        run.mark("heal")
        run.wait_acked(5)
    rep = run.check("SYNC")
    failovers = [f for f in rep["failovers"] if f.get("kind") == "failover"]
    assert all(f.get("from") == old for f in failovers), rep["failovers"]
    print(f"\npeers cut off from the SYNC MAIN {old}: final MAIN {rep['final_main']}, "
          f"failovers {[(f.get('from'), f.get('to'), f.get('reason')) for f in failovers]}")
