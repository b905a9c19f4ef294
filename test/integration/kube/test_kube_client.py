"""The C Kubernetes client (src/kube) against the real local control plane: CRUD, server-side apply conflicts,
pagination, the status subresource of a custom resource, delete preconditions, watch resume across an
apiserver restart, relist after 410 Gone, and Events aggregation."""

import json
import time

import pytest

pytestmark = pytest.mark.controlplane


def cm(name, data=None, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}})


def cms(ns):
    return f"/api/v1/namespaces/{ns}/configmaps"


def test_crud_and_error_mapping(kube, namespace):
    created = kube.ok("create", cms(namespace), cm("a", {"k": "v1"}))
    assert created["metadata"]["namespace"] == namespace
    dup = kube("create", cms(namespace), cm("a"))
    assert (dup["rc"], dup["code"], dup["reason"]) == ("ECONFLICT", 409, "AlreadyExists")

    got = kube.ok("get", f"{cms(namespace)}/a")
    assert got["data"] == {"k": "v1"}
    # an update carrying the current resourceVersion succeeds; replaying the stale one is a conflict
    got["data"]["k"] = "v2"
    updated = kube.ok("update", f"{cms(namespace)}/a", json.dumps(got))
    assert updated["data"]["k"] == "v2"
    got["data"]["k"] = "v3"
    stale = kube("update", f"{cms(namespace)}/a", json.dumps(got))
    assert (stale["rc"], stale["code"], stale["reason"]) == ("ECONFLICT", 409, "Conflict")
    assert "the object has been modified" in stale["message"]

    patched = kube.ok("patch", f"{cms(namespace)}/a", json.dumps({"data": {"extra": "x", "k": None}}))
    assert patched["data"] == {"extra": "x"}

    kube.ok("delete", f"{cms(namespace)}/a")
    gone = kube("get", f"{cms(namespace)}/a")
    assert (gone["rc"], gone["code"], gone["reason"]) == ("ENOTFOUND", 404, "NotFound")
    assert gone["body"] is None

    invalid = kube("create", cms(namespace), cm("Not_A_Valid_Name"))
    assert (invalid["rc"], invalid["code"], invalid["reason"]) == ("EINVALIDOBJ", 422, "Invalid")


def test_server_side_apply_field_manager_conflict(kube, namespace):
    path = f"{cms(namespace)}/ssa"
    first = kube.ok("apply", path, cm("ssa", {"owned": "by-alpha"}), "alpha")
    assert first["data"] == {"owned": "by-alpha"}
    # the same manager re-applying is idempotent
    assert kube.ok("apply", path, cm("ssa", {"owned": "by-alpha"}), "alpha")["data"] == {"owned": "by-alpha"}

    conflict = kube("apply", path, cm("ssa", {"owned": "by-beta"}), "beta")
    assert (conflict["rc"], conflict["code"], conflict["reason"]) == ("ECONFLICT", 409, "Conflict")
    assert 'conflict with "alpha"' in conflict["message"] and ".data.owned" in conflict["message"]
    assert kube.ok("get", path)["data"] == {"owned": "by-alpha"}  # nothing changed

    forced = kube.ok("apply", path, cm("ssa", {"owned": "by-beta"}), "beta", "force")
    assert forced["data"] == {"owned": "by-beta"}
    managers = {m["manager"]: m for m in forced["metadata"]["managedFields"]}
    assert "f:owned" in json.dumps(managers["beta"]["fieldsV1"])
    assert "alpha" not in managers or "f:owned" not in json.dumps(managers["alpha"].get("fieldsV1", {}))


def test_list_pagination_and_selectors(kube, namespace):
    for i in range(7):
        kube.ok("create", cms(namespace), cm(f"page-{i}", labels={"set": "paged", "parity": str(i % 2)}))
    kube.ok("create", cms(namespace), cm("other", labels={"set": "other"}))

    first = kube.ok("list", cms(namespace), "limit=3", "label=set=paged")
    assert len(first["items"]) == 3
    assert first["metadata"].get("continue"), "a limited list must return a continue token"

    res = kube("list", cms(namespace), "limit=3", "label=set=paged", "all")
    assert res["rc"] == "OK"
    names = sorted(i["metadata"]["name"] for i in res["body"]["items"])
    assert names == [f"page-{i}" for i in range(7)]
    assert "continue" not in res["body"]["metadata"]
    assert res["requests"]["list"] == 3  # 3 + 3 + 1 items

    odd = kube.ok("list", cms(namespace), "label=set=paged,parity in (1)", "all")
    assert sorted(i["metadata"]["name"] for i in odd["items"]) == ["page-1", "page-3", "page-5"]
    by_field = kube.ok("list", cms(namespace), "field=metadata.name=other")
    assert [i["metadata"]["name"] for i in by_field["items"]] == ["other"]


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.itest.mgo.io"},
    "spec": {
        "group": "itest.mgo.io", "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
        "versions": [{
            "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                "status": {"type": "object", "properties": {"phase": {"type": "string"},
                                                            "observedGeneration": {"type": "integer"}}}}}},
        }],
    },
}


@pytest.fixture
def widget_crd(control_plane, kube):
    path = kube.ok("path", "apiextensions.k8s.io", "v1", "customresourcedefinitions", "0", "-", "-", "-")
    res = kube("create", path, json.dumps(CRD))
    assert res["rc"] in ("OK", "ECONFLICT"), res

    def established():
        crd = kube.ok("get", f"{path}/widgets.itest.mgo.io")
        conds = crd.get("status", {}).get("conditions", [])
        return any(c["type"] == "Established" and c["status"] == "True" for c in conds)

    control_plane.wait_for(established, timeout=30, message="CRD established")
    # discovery of a fresh CRD can lag behind Established for a moment
    control_plane.wait_for(lambda: kube("list", "/apis/itest.mgo.io/v1/widgets")["rc"] == "OK", timeout=30,
                           message="widgets served")
    return "itest.mgo.io"


def test_custom_resource_status_subresource(kube, namespace, widget_crd):
    coll = kube.ok("path", "itest.mgo.io", "v1", "widgets", "1", namespace, "-", "-")
    assert coll == f"/apis/itest.mgo.io/v1/namespaces/{namespace}/widgets"
    obj = {"apiVersion": "itest.mgo.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}}
    kube.ok("create", coll, json.dumps(obj))
    status_path = kube.ok("path", "itest.mgo.io", "v1", "widgets", "1", namespace, "w", "status")
    assert status_path == f"{coll}/w/status"

    # a status write through the main resource is ignored...
    kube.ok("patch", f"{coll}/w", json.dumps({"status": {"phase": "Ignored"}}))
    assert "status" not in kube.ok("get", f"{coll}/w")
    # ...and a spec write through /status is ignored
    after = kube.ok("patch", status_path, json.dumps({"status": {"phase": "Ready"}, "spec": {"size": 99}}))
    assert after["status"]["phase"] == "Ready" and after["spec"]["size"] == 3

    current = kube.ok("get", status_path)
    current["status"] = {"phase": "Updated", "observedGeneration": current["metadata"]["generation"]}
    updated = kube.ok("update", status_path, json.dumps(current))
    assert updated["status"]["phase"] == "Updated"
    stale = kube("update", status_path, json.dumps(current))
    assert stale["rc"] == "ECONFLICT"

    applied = kube.ok("apply", status_path, json.dumps(
        {"apiVersion": "itest.mgo.io/v1", "kind": "Widget", "metadata": {"name": "w"},
         "status": {"phase": "Applied"}}), "itest-status", "force")
    assert applied["status"]["phase"] == "Applied"
    assert kube.ok("get", f"{coll}/w")["metadata"]["generation"] == 1  # status writes never bump generation


def test_delete_preconditions_and_propagation(kube, namespace):
    obj = kube.ok("create", cms(namespace), cm("pre"))
    uid, rv = obj["metadata"]["uid"], obj["metadata"]["resourceVersion"]
    wrong_uid = kube("delete", f"{cms(namespace)}/pre", "uid=00000000-0000-0000-0000-000000000000")
    assert (wrong_uid["rc"], wrong_uid["code"]) == ("ECONFLICT", 409)
    assert "precondition" in wrong_uid["message"].lower() and "uid" in wrong_uid["message"].lower()
    kube.ok("patch", f"{cms(namespace)}/pre", json.dumps({"data": {"bump": "1"}}))
    stale_rv = kube("delete", f"{cms(namespace)}/pre", f"rv={rv}")
    assert (stale_rv["rc"], stale_rv["code"]) == ("ECONFLICT", 409)
    assert kube("get", f"{cms(namespace)}/pre")["rc"] == "OK"  # still there
    kube.ok("delete", f"{cms(namespace)}/pre", f"uid={uid}", "propagation=Foreground")
    # Foreground: the API server keeps the object, marked for deletion with the foregroundDeletion finalizer,
    # until the garbage collector (controller manager) has handled its dependents; then it is gone.
    marked = kube("get", f"{cms(namespace)}/pre")
    if marked["rc"] == "OK":
        meta = marked["body"]["metadata"]
        assert meta.get("deletionTimestamp") and "foregroundDeletion" in meta.get("finalizers", []), meta
    deadline = time.monotonic() + 90
    while kube("get", f"{cms(namespace)}/pre")["rc"] != "ENOTFOUND":
        assert time.monotonic() < deadline, "the Foreground delete never completed (garbage collector)"
        time.sleep(0.2)
    bad_policy = kube("delete", f"{cms(namespace)}/missing", "propagation=Sideways")
    assert bad_policy["rc"] in ("EINVALIDOBJ", "ENOTFOUND")
