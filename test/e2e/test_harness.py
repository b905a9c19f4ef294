"""The e2e harness itself, without the operator: two emulator pods set up by hand as MAIN and REPLICA, labelled
as the operator would, behind write/read Services. Checks that Service resolution follows the labels, that the
Bolt helpers talk to the right instance and that the replication check sees a broken registration."""

import pytest
from harness import Clusters, bolt_query, registration_name, replication_role, show_replicas, write_through

pytestmark = pytest.mark.controlplane

NAME = "h"


def _pod(ns, i):
    name = f"{NAME}-{i}"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/instance": NAME}},
        "spec": {
            "hostname": name, "subdomain": f"{NAME}-hl", "enableServiceLinks": False,
            "containers": [{
                "name": "memgraph", "image": "memgraph/memgraph:3.12.0",
                "args": ["--data-directory=/var/lib/memgraph/mg_data", "--storage-wal-enabled=true",
                         "--storage-snapshot-interval-sec=300", "--also-log-to-stderr"],
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/memgraph"}],
                "readinessProbe": {"tcpSocket": {"port": 7687}, "periodSeconds": 1},
            }],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
    }


def _service(ns, name, selector, headless=False):
    spec = {"selector": selector, "ports": [{"name": "bolt", "port": 7687}]}
    if headless:
        spec.update(clusterIP="None", publishNotReadyAddresses=True)
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _label(cp, ns, pod, role):
    cp.kubectl("label", "pod", pod, "-n", ns, f"memgraph.io/role={role}", "--overwrite")


def test_harness_resolves_services_and_checks_replication(control_plane, namespace):
    ns, cp = namespace, control_plane
    c = Clusters(cp)
    inst = {"app.kubernetes.io/instance": NAME}
    for obj in (_service(ns, f"{NAME}-hl", inst, headless=True),
                _service(ns, f"{NAME}-write", {**inst, "memgraph.io/role": "main"}),
                _service(ns, f"{NAME}-read", {**inst, "memgraph.io/role": "replica"}),
                _pod(ns, 0), _pod(ns, 1)):
        cp.apply(obj)
    cp.wait_for(lambda: all(c.pod_ready(p) for p in c.pods(ns, NAME)) and len(c.pods(ns, NAME)) == 2, timeout=60,
                message="both pods Ready")
    ip0, ip1 = cp.pod_ip(ns, f"{NAME}-0"), cp.pod_ip(ns, f"{NAME}-1")
    assert c.service_endpoints(ns, f"{NAME}-write") == []
    assert c.pod_roles(ns, NAME) == {f"{NAME}-0": None, f"{NAME}-1": None}

    bolt_query(ip1, "SET REPLICATION ROLE TO REPLICA WITH PORT 10000")
    _label(cp, ns, f"{NAME}-0", "main")
    _label(cp, ns, f"{NAME}-1", "replica")
    # EndpointSlices follow labels asynchronously (the controller manager batches them): poll
    c.wait_write_endpoint(ns, NAME, f"{NAME}-0")
    cp.wait_for(lambda: c.service_endpoints(ns, f"{NAME}-read") == [ip1], message="the read Service at mg-1")
    assert c.service_endpoint(ns, f"{NAME}-write") == ip0
    assert replication_role(ip0) == "main" and replication_role(ip1) == "replica"
    # Labelled but not registered: the replication check must not pass.
    assert c.replication_ok(ns, NAME, expected_replicas=1) is None

    bolt_query(ip0, f'REGISTER REPLICA {registration_name(NAME + "-1")} ASYNC TO "{NAME}-1.{NAME}-hl.{ns}.svc:10000"')
    rows = c.wait_replication(ns, NAME, expected_replicas=1, timeout=30)
    assert list(rows) == ["h_1"] and rows["h_1"]["sync_mode"] == "async"
    assert write_through(c, ns, NAME, "Harness", 5) == ip0
    c.wait_value_on(c.service_endpoint(ns, f"{NAME}-read"), "Harness", 5)

    # The wrong pod labelled main: the check refuses it; two main labels: service_endpoint refuses to choose.
    _label(cp, ns, f"{NAME}-0", "replica")
    _label(cp, ns, f"{NAME}-1", "main")
    c.wait_write_endpoint(ns, NAME, f"{NAME}-1")
    assert c.service_endpoint(ns, f"{NAME}-write") == ip1
    assert c.replication_ok(ns, NAME) is None
    _label(cp, ns, f"{NAME}-0", "main")
    cp.wait_for(lambda: len(c.service_endpoints(ns, f"{NAME}-write")) == 2, message="both pods in the write Service")
    with pytest.raises(AssertionError, match="exactly one ready endpoint"):
        c.service_endpoint(ns, f"{NAME}-write")
    assert c.replication_ok(ns, NAME) is None
    _label(cp, ns, f"{NAME}-1", "replica")
    assert c.replication_ok(ns, NAME, expected_replicas=1)
    # A dropped registration is noticed.
    bolt_query(ip0, "DROP REPLICA h_1")
    assert show_replicas(ip0) == {}
    assert c.replication_ok(ns, NAME, expected_replicas=1) is None
