"""Scaling through the scale subresource (`kubectl scale mgc`): 3 → 5 registers the new replicas, 5 → 2 drops
the registrations of the removed pods and never removes the MAIN."""

import json

import pytest
from harness import bolt_query, registration_name, show_replicas, write_through

pytestmark = pytest.mark.controlplane

NAME = "mg"


def test_scale_3_to_5_to_2(control_plane, namespace, clusters, operator):
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 2})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    write_through(clusters, ns, NAME, "Scale", 1)

    control_plane.kubectl("scale", "mgc", NAME, "-n", ns, "--replicas=5")
    rows = clusters.wait_replication(ns, NAME, expected_replicas=4, timeout=180)
    assert sorted(rows) == sorted(registration_name(f"{NAME}-{i}") for i in range(5) if f"{NAME}-{i}" != main)
    status = clusters.wait_ready(ns, NAME)
    assert status["currentMain"] == main and status["registeredReplicas"] == 4 and status["readyInstances"] == 5
    for i in (3, 4):  # the new replicas got the data written before they existed
        clusters.wait_value_on(control_plane.pod_ip(ns, f"{NAME}-{i}"), "Scale", 1)
    sts = json.loads(control_plane.kubectl("get", "statefulset", NAME, "-n", ns, "-o", "json").stdout)
    assert sts["spec"]["replicas"] == 5

    main_ordinal = int(main.rsplit("-", 1)[1])
    assert main_ordinal < 2, f"MAIN {main} would be removed by scaling to 2; this scenario expects the lowest ordinals"
    control_plane.kubectl("scale", "mgc", NAME, "-n", ns, "--replicas=2")
    control_plane.wait_for(lambda: sorted(clusters.pod_roles(ns, NAME)) == [f"{NAME}-0", f"{NAME}-1"],
                           timeout=120, message="pods 2..4 gone")
    rows = clusters.wait_replication(ns, NAME, expected_replicas=1, timeout=120)
    other = f"{NAME}-{1 - main_ordinal}"
    assert set(rows) == {registration_name(other)}
    # The status follows once the removed pods are gone.
    control_plane.wait_for(lambda: clusters.cluster_status(ns, NAME).get("instances") == 2, timeout=60,
                           message="status.instances == 2")
    status = clusters.wait_ready(ns, NAME)
    assert status["currentMain"] == main and status["registeredReplicas"] == 1 and status["readyInstances"] == 2
    main_ip = control_plane.pod_ip(ns, main)
    assert set(show_replicas(main_ip)) == {registration_name(other)}
    write_through(clusters, ns, NAME, "Scale", 2)
    clusters.wait_value_on(control_plane.pod_ip(ns, other), "Scale", 2)


def test_scale_down_across_the_main_switches_over_first(control_plane, namespace, clusters, operator):
    """The MAIN at the highest ordinal (moved there by hand while the operator was stopped; the operator adopts
    it): scaling below it first switches the MAIN over to a remaining, caught-up pod (lastFailover reason
    ScaleDown), then the StatefulSet shrinks; the data is all there."""
    ns = namespace
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 2})
    clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    assert clusters.main_pod(ns, NAME) == f"{NAME}-0"
    write_through(clusters, ns, NAME, "Blocked", 1)
    ips = {i: control_plane.pod_ip(ns, f"{NAME}-{i}") for i in range(3)}
    for i in (1, 2):
        clusters.wait_value_on(ips[i], "Blocked", 1)

    # Switch over by hand: mg-0 steps down, mg-2 (caught up) becomes MAIN with mg-0 and mg-1 as its replicas.
    operator.stop()
    bolt_query(ips[0], "DROP REPLICA mg_1")
    bolt_query(ips[0], "DROP REPLICA mg_2")
    bolt_query(ips[0], "SET REPLICATION ROLE TO REPLICA WITH PORT 10000")
    bolt_query(ips[2], "SET REPLICATION ROLE TO MAIN")
    for i in (0, 1):
        bolt_query(ips[2], f'REGISTER REPLICA mg_{i} ASYNC TO "{NAME}-{i}.{NAME}-hl.{ns}.svc:10000"')
    control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--subresource=status", "--type=merge",
                          "-p", json.dumps({"status": {"currentMain": f"{NAME}-2"}}))
    operator.start()
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    assert clusters.main_pod(ns, NAME) == f"{NAME}-2"
    assert clusters.wait_ready(ns, NAME)["currentMain"] == f"{NAME}-2"

    control_plane.kubectl("scale", "mgc", NAME, "-n", ns, "--replicas=2")
    control_plane.wait_for(lambda: clusters.cluster_status(ns, NAME).get("currentMain") in (f"{NAME}-0", f"{NAME}-1"),
                           timeout=120, message="the MAIN moved off mg-2")

    def shrunk():
        sts = json.loads(control_plane.kubectl("get", "statefulset", NAME, "-n", ns, "-o", "json").stdout)
        return sts["spec"]["replicas"] == 2 and set(clusters.pod_roles(ns, NAME)) == {f"{NAME}-0", f"{NAME}-1"}
    control_plane.wait_for(shrunk, timeout=120, message="StatefulSet shrunk to 2 pods")
    st = clusters.wait_ready(ns, NAME, timeout=120)
    assert st["lastFailover"]["kind"] == "switchover" and st["lastFailover"]["reason"] == "ScaleDown", st
    assert st["lastFailover"]["from"] == f"{NAME}-2" and st["registeredReplicas"] == 1
    main_ip = write_through(clusters, ns, NAME, "Blocked", 2)
    assert main_ip == control_plane.pod_ip(ns, st["currentMain"])
    for pod in clusters.pod_roles(ns, NAME):
        for v in (1, 2):
            clusters.wait_value_on(control_plane.pod_ip(ns, pod), "Blocked", v)
