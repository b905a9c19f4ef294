"""config/default renders with `kubectl kustomize` and every object passes the real API server's validation
(`--dry-run=server`); the operator's Deployment is wired to the least-privilege ServiceAccount and the HTTP
endpoints the binary serves."""

import json
import os
import re

import pytest
import yaml
from harness import ROOT

pytestmark = pytest.mark.controlplane


def _project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        return re.search(r"project\(memgraph-operator VERSION (\S+)", f.read()).group(1)


@pytest.fixture(scope="module")
def rendered(control_plane):
    r = control_plane.kubectl("kustomize", os.path.join(ROOT, "config", "default"))
    return r.stdout, [d for d in yaml.safe_load_all(r.stdout) if d]


def test_default_renders_crd_rbac_and_manager(rendered):
    _, docs = rendered
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    assert kinds == sorted([
        ("Namespace", "memgraph-operator-system"),
        ("CustomResourceDefinition", "memgraphclusters.memgraph.io"),
        ("CustomResourceDefinition", "memgraphbackups.memgraph.io"),
        ("ServiceAccount", "memgraph-operator"),
        ("ClusterRole", "memgraph-operator"),
        ("ClusterRoleBinding", "memgraph-operator"),
        ("Role", "memgraph-operator-leader-election"),
        ("RoleBinding", "memgraph-operator-leader-election"),
        ("Deployment", "memgraph-operator"),
    ])
    dep = next(d for d in docs if d["kind"] == "Deployment")
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")
    binding = next(d for d in docs if d["kind"] == "ClusterRoleBinding")
    assert dep["metadata"]["namespace"] == sa["metadata"]["namespace"] == "memgraph-operator-system"
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == sa["metadata"]["name"]
    assert {"kind": "ServiceAccount", "name": sa["metadata"]["name"],
            "namespace": sa["metadata"]["namespace"]} in binding["subjects"]
    (c,) = pod["containers"]
    assert c["image"] == f"memgraph-operator:{_project_version()}"
    assert c["args"][0] == "run"
    assert "--leader-elect=true" in c["args"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0


def test_default_applies_with_server_dry_run(control_plane, rendered):
    text, docs = rendered
    r = control_plane.kubectl("apply", "--server-side", "--force-conflicts", "--dry-run=server",
                              "--field-manager=mgo-manifest-test", "-f", "-", input=text)
    out = r.stdout
    for d in docs:
        kind = d["kind"].lower()
        assert re.search(rf"^{re.escape(kind)}[./][^ ]*\b{re.escape(d['metadata']['name'])}\b.*\(server dry run\)",
                         out, re.M), f"{d['kind']} {d['metadata']['name']} not in:\n{out}"


def test_rbac_has_no_exec_and_no_cluster_wide_writes_beyond_need(rendered):
    _, docs = rendered
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert not resources & {"pods/exec", "pods/attach", "nodes", "clusterroles", "clusterrolebindings", "*"}
    secret_verbs = {v for rule in role["rules"] if "secrets" in rule["resources"] for v in rule["verbs"]}
    # create only: the per-cluster agent token Secret; never update, patch or delete someone's Secret
    assert secret_verbs <= {"get", "list", "watch", "create"}


def test_manager_pod_template_runs_the_operator_in_cluster(control_plane, crd_installed, rendered, namespace,
                                                           clusters):
    """The Deployment's pod template, run as a pod (the control plane has no Deployment controller): the operator
    starts with in-cluster configuration and the least-privilege ServiceAccount token, passes its probes, takes
    its Lease under the pod's name and brings a cluster to Ready. Scoped to the test namespace and its own Lease."""
    _, docs = rendered
    dep = next(d for d in docs if d["kind"] == "Deployment")
    pod_name = f"memgraph-operator-{namespace[-6:]}"
    lease = f"mgo-incluster-{namespace[-6:]}"
    tmpl = dep["spec"]["template"]
    spec = json.loads(json.dumps(tmpl["spec"]))
    spec["containers"][0]["args"] += [f"--namespace={namespace}", f"--lease-name={lease}"]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": pod_name, "namespace": dep["metadata"]["namespace"],
                        "labels": tmpl["metadata"]["labels"]},
           "spec": spec}
    control_plane.apply(pod)
    try:
        control_plane.wait_for(lambda: clusters.pod_ready(control_plane.get_pod(dep["metadata"]["namespace"],
                                                                                pod_name)),
                               timeout=90, message="the operator pod Ready (/readyz probe)")
        control_plane.wait_for(lambda: clusters.lease_holder(lease=lease) == pod_name, timeout=60,
                               message=f"Lease {lease} held by {pod_name}")
        clusters.make_cluster(namespace, "mg", 2)
        status = clusters.wait_ready(namespace, "mg", timeout=180)
        assert status["currentMain"] and status["registeredReplicas"] == 1
    finally:
        control_plane.kubectl("delete", "pod", pod_name, "-n", dep["metadata"]["namespace"], "--wait=true",
                              "--timeout=60s", check=False, timeout=90)
