"""Chaos scenarios of rollouts under load (issue 5), checked by test/e2e/chaos.py's checker like test_chaos.py's
faults: a rolling update of the image (replicas first, switchover, old MAIN last), CHAOS_ROLLING_RESTARTS (default
2) pod-template changes in a row, and a switchover in ASYNC without loss. A file of its own so that pytest-xdist
runs it beside test_chaos.py's faults. Clusters use failoverDelaySec 1 and healthCheckIntervalSec 1; the operator
runs with --bolt-timeout=2s.
"""

import os

import pytest
from chaos import (NAME, Chaos, chaos_operator, patch_cluster, pod_uids, pods_at_update_revision, ready_cluster,
                   statefulset, versions, wait_new_main)

ROLLING_RESTARTS = int(os.environ.get("CHAOS_ROLLING_RESTARTS", "2"))
IMAGE_TO = "memgraph/memgraph:3.11.0"  # ready_cluster starts on 3.12.0


@pytest.fixture
def operator(operator_factory):
    return chaos_operator(operator_factory)


def _rollout(control_plane, clusters, ns, patch, before_rev, timeout=240):
    patch_cluster(control_plane, ns, NAME, patch)

    def done():
        rev = statefulset(control_plane, ns, NAME).get("status", {}).get("updateRevision")
        return rev != before_rev and pods_at_update_revision(control_plane, clusters, ns, NAME, 3) and rev
    rev = control_plane.wait_for(done, timeout=timeout, interval=0.5, message="every pod at the new revision")
    clusters.wait_ready(ns, NAME, timeout=120)
    return rev


def _restart_order(run, uids_before):
    """{pod: monotonic time its pod UID first changed} from the label samples."""
    out = {}
    for t, snap in run.labels.pods:
        for pod, s in snap.items():
            if pod not in out and s["uid"] and s["uid"] != uids_before.get(pod):
                out[pod] = t
    return out


def test_rolling_update_under_load(control_plane, namespace, clusters, operator):
    """The image tag changes 3.12.0 → 3.11.0 under load (SYNC): replicas restart one at a time, then a switchover,
    then the old MAIN; every pod ends at the new revision running 3.11.0, nothing acknowledged lost."""
    ns = namespace
    old = ready_cluster(clusters, ns, "SYNC")
    rev0 = statefulset(control_plane, ns, NAME)["status"]["updateRevision"]
    uids0 = pod_uids(clusters, ns)
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        run.mark("patch image")
        _rollout(control_plane, clusters, ns, {"spec": {"image": IMAGE_TO}}, rev0)
        run.wait_acked(5)
    rep = run.check("SYNC")
    uids1 = pod_uids(clusters, ns)
    assert all(uids1[p] != uids0[p] for p in uids0), "every pod was replaced"
    assert set(versions(control_plane, clusters, ns, NAME).values()) == {"3.11.0"}
    order = _restart_order(run, uids0)
    assert max(order, key=order.get) == old, f"the old MAIN is restarted last: {order}"
    sw = [f for f in rep["failovers"] if f.get("kind") == "switchover"]
    assert sw and sw[-1].get("from") == old and rep["final_main"] != old, rep["failovers"]
    # one pod at a time: never two pods of the cluster unavailable in the same sample
    worst = max(sum(1 for s in snap.values() if s["deleting"] or not s["ready"]) + (3 - len(snap))
                for _, snap in run.labels.pods)
    assert worst <= 1, f"{worst} pods unavailable at once during the rolling update"


def test_rolling_restarts_in_a_row(control_plane, namespace, clusters, operator):
    """ROLLING_RESTARTS pod-template changes in a row (spec.memgraph.logLevel toggled), under load (STRICT_SYNC):
    each one replaces every pod and moves the MAIN by switchover; no acknowledged write lost over all of them."""
    ns = namespace
    ready_cluster(clusters, ns, "STRICT_SYNC")
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        for i in range(ROLLING_RESTARTS):
            rev = statefulset(control_plane, ns, NAME)["status"]["updateRevision"]
            uids = pod_uids(clusters, ns)
            run.mark(f"restart {i + 1}")
            _rollout(control_plane, clusters, ns, {"spec": {"memgraph": {"logLevel": "DEBUG" if i % 2 == 0 else "INFO"}}},
                     rev)
            now = pod_uids(clusters, ns)
            assert all(now[p] != uids[p] for p in uids), f"restart {i + 1}: not every pod replaced"
            run.wait_acked(3)
    rep = run.check("STRICT_SYNC")
    switchovers = [f for f in rep["failovers"] if f.get("kind") == "switchover"]
    assert len(switchovers) >= ROLLING_RESTARTS, rep["failovers"]


def test_switchover_under_load_async_loses_nothing(control_plane, namespace, clusters, operator):
    """spec.switchover.targetOrdinal moves the MAIN to that pod with no loss even in ASYNC."""
    ns = namespace
    old = ready_cluster(clusters, ns, "ASYNC")
    target = next(p for p in sorted(clusters.pod_roles(ns, NAME)) if p != old)
    with Chaos(control_plane, clusters, ns, NAME, operator) as run:
        patch_cluster(control_plane, ns, NAME, {"spec": {"switchover": {"targetOrdinal": int(target.rsplit("-", 1)[1])}}})
        run.mark("switchover")
        wait_new_main(control_plane, clusters, ns, NAME, old, timeout=60)
        run.wait_acked_by(target, 5)
    rep = run.check("ASYNC")
    assert rep["lost"] == 0, rep["lost_ids"]
    assert rep["final_main"] == target
    last = rep["failovers"][-1]
    assert (last.get("from"), last.get("to"), last.get("kind"), last.get("reason")) == (old, target, "switchover",
                                                                                   "Requested"), last
