"""The agent sidecar's access to the API server (docs/fencing.md, docs/api.md): the operator gives each cluster a
Role `<name>-agent` (get on that one MemgraphCluster) bound to the cluster's ServiceAccount, and only the `agent`
container of each pod mounts a projected token at the in-cluster path. With that token the sidecar can read its
own MemgraphCluster and nothing else: not another cluster's, not the pods.

The token, CA and namespace files are read from what the test kubelet bind-mounts at the in-cluster path of the
agent container (its start plan names the host directory), and used from the host as the sidecar's in-cluster
client does.
"""

import json
import os

import pytest
from harness import GROUP_PATH
from kubeapi import KubeApi

pytestmark = pytest.mark.controlplane

NAME = "mg"
OTHER = "other"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def _mounts(control_plane, ns, pod, container):
    """{mount path: host source} of the container as the test kubelet bind-mounts it (its start plan)."""
    path = os.path.join(control_plane.state_dir, "pods", f"{ns}_{pod}", f"{container}.spec.json")
    with open(path, encoding="utf-8") as f:
        return {dst: src for src, dst, _ in json.load(f)["mounts"]}


def _agent_api(control_plane, ns, pod):
    """A client with the agent container's token and CA, as its in-cluster configuration reads them."""
    src = _mounts(control_plane, ns, pod, "agent")[SA_DIR]

    def read(rel):
        with open(os.path.join(src, rel), encoding="utf-8") as f:
            return f.read()

    token, ca = read("token").strip(), read("ca.crt")
    assert token and "BEGIN CERTIFICATE" in ca
    assert read("namespace") == ns
    return KubeApi(control_plane.server, token, ca, timeout=15)


def test_the_agent_token_reads_its_own_cluster_only(control_plane, namespace, clusters, operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 1)
    clusters.make_cluster(ns, OTHER, 1)
    clusters.wait_ready(ns, NAME, timeout=180)
    pod = f"{NAME}-0"
    control_plane.wait_for(lambda: os.path.exists(os.path.join(control_plane.state_dir, "pods", f"{ns}_{pod}",
                                                               "agent.spec.json")),
                           timeout=60, message=f"{pod}'s agent started")
    api = _agent_api(control_plane, ns, pod)

    status, obj = api.request("GET", f"{GROUP_PATH}/namespaces/{ns}/memgraphclusters/{NAME}")
    assert status == 200, (status, obj)
    assert obj["metadata"]["name"] == NAME
    status, obj = api.request("GET", f"{GROUP_PATH}/namespaces/{ns}/memgraphclusters/{OTHER}")
    assert clusters.get_cluster(ns, OTHER) is not None
    assert status == 403, (status, obj)
    status, obj = api.request("GET", f"{GROUP_PATH}/namespaces/{ns}/memgraphclusters")
    assert status == 403, (status, obj)
    status, obj = api.request("GET", f"/api/v1/namespaces/{ns}/pods")
    assert status == 403, (status, obj)
    status, obj = api.request("PATCH", f"{GROUP_PATH}/namespaces/{ns}/memgraphclusters/{NAME}", {"metadata": {}},
                              content_type="application/merge-patch+json")
    assert status == 403, (status, obj)

    # The token is the agent's alone: Memgraph's container and the pod as a whole mount none.
    assert SA_DIR not in _mounts(control_plane, ns, pod, "memgraph")
    assert SA_DIR not in _mounts(control_plane, ns, pod, "operator-agent")
    spec = control_plane.get_pod(ns, pod)["spec"]
    assert spec["automountServiceAccountToken"] is False

    # The Role and RoleBinding are the cluster's: owned by it, granting exactly that get.
    role = control_plane.api.call("GET", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/{NAME}-agent")
    assert role["rules"] == [{"apiGroups": ["memgraph.io"], "resources": ["memgraphclusters"],
                              "resourceNames": [NAME], "verbs": ["get"]}]
    assert role["metadata"]["ownerReferences"][0]["name"] == NAME
    binding = control_plane.api.call("GET",
                                     f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/{NAME}-agent")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": ns}]
