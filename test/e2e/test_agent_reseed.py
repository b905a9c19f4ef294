"""Re-seed of a replica through the agent (docs/agent.md): op_reseed_request() (driven by reseed_driver, built
from test/e2e/reseed_driver.c) writes the request into the ConfigMap <cluster>-agent with the operator's
least-privilege credentials and deletes exactly that pod incarnation; the next incarnation's operator-agent init
container wipes the data directory once, Memgraph starts empty, and the operator registers it again so it gets a
full copy from the MAIN. Deleting the pod again with the request still in the ConfigMap wipes nothing.

The first test runs the agent binary alone on temporary directories (no control plane): exit codes and log lines.

Binaries: the operator as in harness.operator_binary(); the driver from MGO_RESEED_DRIVER, else next to the
operator binary's build directory (<build>/test/unit/cmd/reseed_driver). The test kubelet runs the pods'
operator-agent with its own MGO_OPERATOR_BIN / MGO_BUILD_DIR, read when the control plane starts.
"""

import json
import os
import subprocess

import pytest
from harness import bolt_query, operator_binary, replication_role

NAME = "mg"
DATA_DIR = "/var/lib/memgraph/mg_data"
MARKER = "/var/lib/memgraph/operator/reseed.done"
BOGUS_UID = "00000000-0000-0000-0000-000000000000"


def _driver():
    explicit = os.environ.get("MGO_RESEED_DRIVER")
    if explicit:
        return explicit
    build = os.path.dirname(os.path.dirname(os.path.dirname(operator_binary())))
    return os.path.join(build, "test", "unit", "cmd", "reseed_driver")


# ------------------------------------------------------------------------------------------ the agent alone


def _agent(tmp_path, pod="mg-1", extra_env=None):
    argv = [operator_binary(), "agent", f"--data-dir={tmp_path / 'data'}", f"--marker-dir={tmp_path / 'operator'}",
            f"--instructions-dir={tmp_path / 'instructions'}"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "POD_NAME": pod, **(extra_env or {})}
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=False)


def test_agent_binary_reseeds_once_and_refuses_bad_requests(tmp_path):
    binary = operator_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"memgraph-operator binary not found at {binary}")
    data = tmp_path / "data"
    (data / "wal").mkdir(parents=True)
    (data / "wal" / "0001_current").write_text("wal")
    (data / "replication").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("precious")
    (data / "link").symlink_to(outside)

    # no instructions volume at all, then an empty one (the ConfigMap does not exist): nothing to do
    r = _agent(tmp_path)
    assert r.returncode == 0 and "nothing to do" in r.stderr, r.stderr
    # every start writes the fence Memgraph runs as --init-file (docs/fencing.md)
    fence = tmp_path / "operator" / "fence.cypherl"
    assert fence.read_text() == "SET REPLICATION ROLE TO REPLICA WITH PORT 10000\n"
    fence.unlink()
    (tmp_path / "instructions").mkdir()
    r = _agent(tmp_path)
    assert r.returncode == 0 and "instructions=absent" in r.stderr, r.stderr
    assert (data / "wal" / "0001_current").exists()

    # an invalid token: the init step fails visibly and nothing is wiped
    (tmp_path / "instructions" / "mg-1").write_text("reseed=../etc\n")
    r = _agent(tmp_path)
    assert r.returncode == 1 and "level=error" in r.stderr and "reseed token" in r.stderr, r.stderr
    assert (data / "wal" / "0001_current").exists() and not (tmp_path / "operator" / "reseed.done").exists()
    assert fence.exists()  # written first, before the request is even looked at

    # a request for another pod is not ours
    (tmp_path / "instructions" / "mg-1").unlink()
    (tmp_path / "instructions" / "mg-2").write_text("reseed=uid-2\n")
    r = _agent(tmp_path)
    assert r.returncode == 0 and "nothing to do" in r.stderr, r.stderr

    # the request: everything inside the data directory goes (4 entries: wal, its file, replication, link), the link's target stays
    (tmp_path / "instructions" / "mg-1").write_text("future=1\nreseed=uid-1\n")
    r = _agent(tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "re-seed" in ln]
    assert len(lines) == 1 and "token=uid-1" in lines[0] and "removed=4" in lines[0], r.stderr
    assert "unknown instruction keys ignored" in r.stderr and "keys=future" in r.stderr
    assert data.is_dir() and list(data.iterdir()) == []
    assert (outside / "keep").read_text() == "precious"
    assert (tmp_path / "operator" / "reseed.done").read_text() == "uid-1\n"

    # the container starts again with the same request: nothing is wiped
    (data / "wal").mkdir()
    r = _agent(tmp_path)
    assert r.returncode == 0 and "already done" in r.stderr, r.stderr
    assert (data / "wal").is_dir()

    # a pod template without POD_NAME but with the volume: a visible failure, not a silent skip
    r = _agent(tmp_path, pod="")
    assert r.returncode == 1 and "not a valid pod name" in r.stderr, r.stderr


# ------------------------------------------------------------------------------------ on the control plane


def _uid(cp, ns, pod):
    return ((cp.get_pod(ns, pod) or {}).get("metadata") or {}).get("uid")


def _ready(cp, clusters, ns, pod, uid_not):
    p = cp.get_pod(ns, pod)
    return p is not None and p["metadata"]["uid"] != uid_not and clusters.pod_ready(p)


def _reseed(cp, ns, pod, uid):
    """op_reseed_request() with the operator's own (least-privilege) credentials."""
    driver = _driver()
    if not os.access(driver, os.X_OK):
        pytest.fail(f"reseed_driver not found at {driver} (build the tests, or set MGO_RESEED_DRIVER)")
    cluster = cp.kubectl("get", "mgc", NAME, "-n", ns, "-o", "json").stdout
    env = {**os.environ, "KUBECONFIG": cp.operator_kubeconfig}
    r = subprocess.run([driver, pod, uid], input=cluster, capture_output=True, text=True, timeout=60, env=env,
                       check=False)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def _configmap(cp, ns):
    status, obj = cp.api.request("GET", f"/api/v1/namespaces/{ns}/configmaps/{NAME}-agent")
    return obj if status == 200 else None


def _exec(cp, ns, pod, script):
    return cp.pod_exec(ns, pod, ["sh", "-c", script], container="memgraph").stdout


def _count(ip, label):
    return bolt_query(ip, f"MATCH (n:{label}) RETURN count(n) AS c")[0]["c"]


def test_reseed_wipes_a_replica_once_and_it_rejoins(control_plane, namespace, clusters, operator):
    cp, ns = control_plane, namespace
    clusters.make_cluster(ns, NAME, 3, replication={"healthCheckIntervalSec": 2})
    main = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    for v in range(3):
        bolt_query(cp.pod_ip(ns, main), "CREATE (:Seed {v: $v})", v=v)
    victim, other = sorted(p for p, r in clusters.pod_roles(ns, NAME).items() if r == "replica")
    cp.wait_for(lambda: _count(cp.pod_ip(ns, victim), "Seed") == 3, message=f"Seed data on {victim}")
    agent_runs_before = cp.pod_log(ns, victim, container="operator-agent").count("msg=")
    # sentinels: one inside the data directory (must go), one next to it on the same volume (must stay)
    _exec(cp, ns, victim, f"echo s > {DATA_DIR}/sentinel && echo k > /var/lib/memgraph/keep-me")
    uid1 = _uid(cp, ns, victim)

    # 1. the request: the ConfigMap is created (server-side apply) with the request, the pod is deleted
    res = _reseed(cp, ns, victim, uid1)
    assert res["rc"] == "OK" and res["deleted"] is True, res
    cm = _configmap(cp, ns)
    assert cm["data"] == {victim: f"reseed={uid1}\n"}, cm["data"]
    owner = cm["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "MemgraphCluster" and owner["name"] == NAME and owner["controller"] is True
    assert cm["metadata"]["labels"]["app.kubernetes.io/instance"] == NAME
    assert [(f["manager"], f["operation"]) for f in cm["metadata"]["managedFields"]] == [
        ("memgraph-operator", "Apply")]
    cp.wait_for(lambda: _ready(cp, clusters, ns, victim, uid1), timeout=90, message=f"{victim} recreated, Ready")
    uid2 = _uid(cp, ns, victim)

    # 2. the new incarnation's agent wiped the data directory, once, and said so
    log = cp.pod_log(ns, victim, container="operator-agent")
    wiped = [ln for ln in log.splitlines() if "data directory wiped" in ln]
    assert len(wiped) == 1 and f"token={uid1}" in wiped[0] and f"pod={victim}" in wiped[0], log
    assert int(wiped[0].split("removed=")[1].split()[0]) >= 3, wiped  # sentinel, wal, replication, ...
    assert _exec(cp, ns, victim, f"cat {MARKER}") == f"{uid1}\n"
    assert _exec(cp, ns, victim, f"test -e {DATA_DIR}/sentinel && echo present || echo gone").strip() == "gone"
    assert _exec(cp, ns, victim, "cat /var/lib/memgraph/keep-me").strip() == "k"

    # 3. the operator registers the empty instance again; it receives a full copy from the MAIN
    clusters.wait_replication(ns, NAME, expected_replicas=2, timeout=120)
    assert clusters.main_pod(ns, NAME) == main
    ip = cp.pod_ip(ns, victim)
    assert replication_role(ip) == "replica"
    cp.wait_for(lambda: _count(ip, "Seed") == 3, timeout=60, message=f"full copy on {victim}")
    bolt_query(cp.pod_ip(ns, main), "CREATE (:Seed {v: 3})")
    cp.wait_for(lambda: _count(ip, "Seed") == 4, timeout=30, message=f"new writes reach {victim}")

    # 4. a request for a stale incarnation deletes nothing and is withdrawn; other pods' keys are kept
    uid_other = _uid(cp, ns, other)
    res = _reseed(cp, ns, other, BOGUS_UID)
    assert res["rc"] == "OK" and res["deleted"] is False, res
    assert _uid(cp, ns, other) == uid_other and clusters.pod_ready(cp.get_pod(ns, other))
    assert _configmap(cp, ns)["data"] == {victim: f"reseed={uid1}\n"}
    res = _reseed(cp, ns, victim, "not_a_uid")
    assert res["rc"] == "EINVAL" and res["deleted"] is False, res

    # 5. the pod goes again with the request still in the ConfigMap: the marker holds its token, nothing is wiped
    _exec(cp, ns, victim, f"echo s > {DATA_DIR}/sentinel")
    cp.kubectl("delete", "pod", victim, "-n", ns, "--wait=false")
    cp.wait_for(lambda: _ready(cp, clusters, ns, victim, uid2), timeout=90, message=f"{victim} recreated again")
    log = cp.pod_log(ns, victim, container="operator-agent")
    assert len([ln for ln in log.splitlines() if "data directory wiped" in ln]) == 1, log
    assert "re-seed already done" in log.splitlines()[-1], log.splitlines()[-3:]
    assert log.count("msg=") == agent_runs_before + 2, log
    assert _exec(cp, ns, victim, f"cat {DATA_DIR}/sentinel").strip() == "s"
    clusters.wait_replication(ns, NAME, expected_replicas=2, timeout=120)
    assert _count(cp.pod_ip(ns, victim), "Seed") == 4
