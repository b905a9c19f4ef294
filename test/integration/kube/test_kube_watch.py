"""Watch and informer behaviour of the C client on the real control plane: resume across an apiserver restart
without losing events (resourceVersion continuity, no relist), and relist after 410 Gone (etcd compaction)."""

import json

import pytest

from k8s_itest_driver import Kube

pytestmark = pytest.mark.controlplane


def cm(name, data=None):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {}})


def keyed(events, kinds=("add", "update", "delete")):
    return [e for e in events if e.get("event") in kinds]


@pytest.fixture
def informer(kube, namespace):
    procs = []

    def start(**env):
        p = kube.spawn("informer", "-", "v1", "configmaps", namespace, env={k: str(v) for k, v in env.items()})
        procs.append(p)
        p.wait_for(lambda ev: [e for e in ev if e.get("event") == "stats" and e.get("synced")], timeout=30,
                   message="informer synced")
        return p

    yield start
    for p in procs:
        p.close()


def test_informer_add_update_delete(kube, namespace, informer):
    kube.ok("create", f"/api/v1/namespaces/{namespace}/configmaps", cm("before"))
    inf = informer()
    assert any(e["key"] == f"{namespace}/before" for e in inf.events("add"))  # from the initial list
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    kube.ok("create", path, cm("x"))
    kube.ok("patch", f"{path}/x", json.dumps({"data": {"a": "1"}}))
    kube.ok("delete", f"{path}/x")
    inf.wait_for(lambda ev: [e for e in ev if e.get("event") == "delete" and e["key"] == f"{namespace}/x"],
                 message="delete of x")
    seq = [e["event"] for e in keyed(inf.events()) if e["key"] == f"{namespace}/x"]
    assert seq == ["add", "update", "delete"]
    stats = inf.stats()
    assert stats["size"] == 2  # "before" and the namespace's kube-root-ca.crt
    assert stats["lists"] == 1


def test_watch_resumes_across_apiserver_restart(control_plane, kube, namespace, informer):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    inf = informer()
    created_rvs = {}
    for i in range(3):
        created_rvs[f"pre-{i}"] = kube.ok("create", path, cm(f"pre-{i}"))["metadata"]["resourceVersion"]
    inf.wait_for(lambda ev: len([e for e in ev if e.get("event") == "add" and "/pre-" in e["key"]]) == 3,
                 message="pre-* adds")

    control_plane.restart_apiserver()
    # written as soon as the API answers again: the informer is still reconnecting (backoff), so these can only
    # reach it through a watch resumed from its last resourceVersion
    for i in range(3):
        created_rvs[f"post-{i}"] = kube.ok("create", path, cm(f"post-{i}"))["metadata"]["resourceVersion"]
    patched_rv = kube.ok("patch", f"{path}/pre-0", json.dumps({"data": {"after": "restart"}}))["metadata"][
        "resourceVersion"]

    inf.wait_for(lambda ev: len([e for e in ev if e.get("event") == "add" and "/post-" in e["key"]]) == 3
                 and [e for e in ev if e.get("event") == "update" and e["key"].endswith("/pre-0")],
                 timeout=60, message="events written after the restart")
    stats = inf.stats()
    assert stats["watch_errors"] >= 1, stats  # the stream really broke
    assert stats["lists"] == 1, f"resumed by relisting instead of watching from the last RV: {stats}"
    assert stats["gone"] == 0
    seen = {e["key"].split("/")[1]: e["rv"] for e in inf.events("add")}
    for name, rv in created_rvs.items():
        assert seen.get(name) == rv, f"{name}: created at {rv}, informer saw {seen.get(name)}"
    updates = [e["rv"] for e in inf.events("update") if e["key"].endswith("/pre-0")]
    assert updates == [patched_rv]
    # the informer's resourceVersion moved on exactly through the writes, in order
    order = [int(e["rv"]) for e in keyed(inf.events()) if e["key"].split("/")[1] in created_rvs]
    assert order == sorted(order)


def test_relist_after_410_gone(control_plane, kube, namespace, informer):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    # short server-side watch lifetime: the informer re-watches from its (old) resourceVersion every few seconds
    inf = informer(MGO_ITEST_WATCH_S=2)
    old_rv = inf.stats()["rv"]
    # move etcd's revision forward elsewhere, then compact it: the informer's resourceVersion becomes too old
    other = kube.ok("create", "/api/v1/namespaces", json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"generateName": "t-compact-"}}))
    other_ns = other["metadata"]["name"]
    try:
        for i in range(3):
            kube.ok("create", f"/api/v1/namespaces/{other_ns}/configmaps", cm(f"noise-{i}"))
        control_plane.compact_etcd()

        direct = kube("watch", path, old_rv, env={"MGO_ITEST_WATCH_S": "3"})
        assert (direct["rc"], direct["code"]) == ("EGONE", 410), direct

        control_plane.wait_for(lambda: inf.stats()["gone"] >= 1, timeout=60, interval=0.5,
                               message="a 410 seen by the informer")
        kube.ok("create", path, cm("after-relist"))
        inf.wait_for(lambda ev: [e for e in ev if e.get("event") == "add" and e["key"].endswith("/after-relist")],
                     timeout=30, message="event after the relist")
        stats = inf.stats()
        assert stats["lists"] >= 2 and stats["gone"] >= 1, stats
        assert stats["size"] == 2  # the cache is consistent after the relist (after-relist + kube-root-ca.crt)
    finally:
        kube("delete", f"/api/v1/namespaces/{other_ns}")


def test_events_are_aggregated(control_plane, kube, namespace):
    obj = kube.ok("create", f"/api/v1/namespaces/{namespace}/configmaps", cm("involved"))
    involved = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]})
    # recorded with the operator's least-privilege ServiceAccount: its RBAC must be enough
    operator = Kube(control_plane.operator_kubeconfig)
    res = operator("events", involved, "Warning", "ReplicaLagging", "Check", "replica mg-1 is 12 transactions behind", 4)
    assert res["rc"] == "OK", res
    assert res["aggregated"] == [False, True, True, True]
    other = operator("events", involved, "Normal", "Promoted", "Promote", "mg-1 promoted to MAIN", 1)
    assert other["aggregated"] == [False]

    events = kube.ok("list", f"/apis/events.k8s.io/v1/namespaces/{namespace}/events")["items"]
    lagging = [e for e in events if e["reason"] == "ReplicaLagging"]
    assert len(lagging) == 1, lagging  # one object for four occurrences
    ev = lagging[0]
    assert ev["series"]["count"] == 4
    assert ev["regarding"]["uid"] == obj["metadata"]["uid"] and ev["regarding"]["kind"] == "ConfigMap"
    assert ev["type"] == "Warning" and ev["note"] == "replica mg-1 is 12 transactions behind"
    assert ev["reportingController"] == "memgraph.io/memgraph-operator"
    assert len([e for e in events if e["reason"] == "Promoted"]) == 1
    # the same Event seen through the core/v1 API carries the count too
    core = kube.ok("list", f"/api/v1/namespaces/{namespace}/events")["items"]
    assert any(e["reason"] == "ReplicaLagging" and (e.get("series") or {}).get("count") == 4 for e in core)


def test_informer_resync_and_many_pages(kube, namespace, informer):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    for i in range(12):
        kube.ok("create", path, cm(f"r-{i}"))
    # page size 5: the initial list takes several pages; resync every 500 ms re-delivers every cached object
    inf = informer(MGO_ITEST_PAGE=5, MGO_ITEST_RESYNC_MS=500)
    assert len([e for e in inf.events("add") if "/r-" in e["key"]]) == 12
    inf.wait_for(lambda ev: len({e["key"] for e in ev if e.get("event") == "resync" and "/r-" in e["key"]}) == 12,
                 timeout=15, message="a resync of every object")
    stats = inf.stats()
    assert stats["size"] == 13 and stats["lists"] == 1
    assert stats["list_requests"] == 3  # 13 objects in pages of 5
