"""`kubectl memgraph` (the kubectl-memgraph plugin, docs/kubectl-plugin.md) end to end: every command runs as
`kubectl memgraph ...` through kubectl's plugin discovery (the build dir holding kubectl-memgraph first on PATH)
against the real control plane, with the operator running and versitygw as S3. One 2-instance cluster (one SYNC
replica) for the module; the tests run in order: status, errors, switchover, backup, restore, logs, report, and
last the annotation commands (fence, hibernate, pause), then hibernate and resume taking effect (the operator's
side of the annotations is tested in test_day2.py)."""

import json
import os
import queue
import re
import secrets
import subprocess
import tarfile
import threading
import time

import pytest
import yaml
from harness import CANARY_NODES, Clusters, bolt_query, operator_binary
from s3_itest_driver import ACCESS, SECRET, S3, Gateway

HERE = os.path.dirname(os.path.abspath(__file__))

NAME = "kp"
BUCKET = "plugin-backups"
ROWS = 25
GROUP = "/apis/memgraph.io/v1alpha1"


def plugin_dir():
    """The directory holding kubectl-memgraph: MGO_PLUGIN_DIR, else $MGO_BUILD_DIR/src/cmd, else beside the
    operator binary (both are built in src/cmd)."""
    if os.environ.get("MGO_PLUGIN_DIR"):
        return os.environ["MGO_PLUGIN_DIR"]
    if os.environ.get("MGO_BUILD_DIR"):
        return os.path.join(os.environ["MGO_BUILD_DIR"], "src", "cmd")
    return os.path.dirname(operator_binary())


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, control_plane):
    gw = Gateway(str(tmp_path_factory.mktemp("vgw") / "root"), host_ip=control_plane.host_ip)
    gw.start()
    S3(gw, BUCKET).ok("mkbucket")
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def cluster(control_plane, module_namespace, module_operator, gateway):
    assert os.access(os.path.join(plugin_dir(), "kubectl-memgraph"), os.X_OK), f"kubectl-memgraph not in {plugin_dir()}"
    ns = module_namespace
    clusters = Clusters(control_plane)
    control_plane.apply(json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-creds"},
                                    "stringData": {"accessKeyId": ACCESS, "secretAccessKey": SECRET}}), namespace=ns)
    clusters.make_cluster(ns, NAME, instances=2, replication={"healthCheckIntervalSec": 1, "syncReplicas": 1},
                          failover={"failoverDelaySec": 2},
                          backup={"retention": {"count": 5},
                                  "s3": {"bucket": BUCKET, "endpoint": gateway.endpoint, "forcePathStyle": True,
                                         "prefix": "plugin", "secretName": "s3-creds"}})
    clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=1)
    clusters.wait_canary(ns, NAME)
    main_ip = control_plane.pod_ip(ns, clusters.main_pod(ns, NAME))
    bolt_query(main_ip, "UNWIND range(1, $n) AS i CREATE (:Item {id: i})", n=ROWS)
    return ns


def kubectl_memgraph(cp, *args, ns=None, kubeconfig=None, env_extra=None, check=True, timeout=240):
    """Runs `kubectl memgraph ARGS` (kubectl finds the plugin on PATH). Returns the CompletedProcess."""
    env = dict(os.environ)
    env["PATH"] = plugin_dir() + os.pathsep + env.get("PATH", "")
    env.update(env_extra or {})
    argv = [cp.kubectl_bin, "memgraph", *map(str, args)]
    if kubeconfig is not False:
        argv += ["--kubeconfig", kubeconfig or cp.admin_kubeconfig]
    if ns:
        argv += ["-n", ns]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if check and r.returncode != 0:
        raise AssertionError(f"{argv} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
    print(f"$ kubectl memgraph {' '.join(map(str, args))}\n{r.stdout}{r.stderr}")  # shown with -s (docs examples)
    return r


def one_error_line(r, code=1):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), r.stderr
    return lines[0]


def get_cluster(cp, ns, name=NAME):
    return Clusters(cp).get_cluster(ns, name)


def instance_rows(text):
    """{pod: [cells]} of the Instances table of `status`."""
    rows, inside = {}, False
    for line in text.splitlines():
        if line.strip().startswith("POD "):
            inside = True
            continue
        if inside and not line.strip():
            break
        if inside:
            cells = line.split()
            rows[cells[0]] = cells
    return rows


def header(text, key):
    m = re.search(rf"^{key}:\s+(.*)$", text, re.M)
    return m.group(1) if m else None


def service_account_kubeconfig(cp, ns, sa, path):
    """A kubeconfig for ServiceAccount ns/sa (a TokenRequest token), for the RBAC errors."""
    cp.kubectl("create", "serviceaccount", sa, "-n", ns)
    token = cp.kubectl("create", "token", sa, "-n", ns, "--duration=1h").stdout.strip()
    with open(cp.admin_kubeconfig, encoding="utf-8") as f:
        kc = yaml.safe_load(f)
    kc["users"] = [{"name": sa, "user": {"token": token}}]
    kc["contexts"][0]["context"]["user"] = sa
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(kc, f)
    return str(path)


# ------------------------------------------------------------------------------------------------- status


def test_kubectl_discovers_the_plugin(control_plane):
    env = dict(os.environ, PATH=plugin_dir() + os.pathsep + os.environ.get("PATH", ""))
    listed = subprocess.run([control_plane.kubectl_bin, "plugin", "list", "--name-only"], capture_output=True,
                            text=True, env=env, timeout=30)
    assert "kubectl-memgraph" in listed.stdout, (listed.stdout, listed.stderr)
    r = kubectl_memgraph(control_plane, "version", kubeconfig=False)
    assert re.match(r"^kubectl-memgraph \d+\.\d+\.\d+", r.stdout), r.stdout


def test_status_names_the_main_with_role_main_and_every_instance(control_plane, cluster):
    ns = cluster
    obj = get_cluster(control_plane, ns)
    st = obj["status"]
    main = st["currentMain"]
    out = kubectl_memgraph(control_plane, "status", NAME, ns=ns).stdout
    assert header(out, "Cluster") == f"{ns}/{NAME}", out
    assert header(out, "Health") == "OK", out
    assert header(out, "Phase").startswith("Running"), out
    assert header(out, "Main") == main, out
    assert header(out, "Image") == obj["spec"]["image"], out
    assert header(out, "Instances").startswith("2/2 ready, 1/1 replicas registered, 1 SYNC"), out
    rows = instance_rows(out)
    assert set(rows) == {f"{NAME}-0", f"{NAME}-1"}, out
    assert rows[main][1] == "main" and rows[main][5] == "true", out
    (replica,) = set(rows) - {main}
    assert rows[replica][1:3] == ["replica", "SYNC"] and rows[replica][3] in ("ready", "replicating"), out
    version = next(i["version"] for i in st["instanceStatuses"] if i["pod"] == main)
    assert rows[main][6] == version, out
    assert "Schedule:    none (on demand only)" in out and "Retention:   keep 5" in out, out
    assert re.search(r"^  Ready\s+True\s+", out, re.M), out


def test_status_prints_the_object_as_json_and_yaml(control_plane, cluster):
    ns = cluster
    as_json = json.loads(kubectl_memgraph(control_plane, "status", NAME, "-o", "json", ns=ns).stdout)
    as_yaml = yaml.safe_load(kubectl_memgraph(control_plane, "status", NAME, "-o", "yaml", ns=ns).stdout)
    for obj in (as_json, as_yaml):
        assert obj["kind"] == "MemgraphCluster" and obj["metadata"]["name"] == NAME
        assert "managedFields" not in obj["metadata"]
        assert obj["status"]["currentMain"] == get_cluster(control_plane, ns)["status"]["currentMain"]
    assert as_yaml["spec"] == as_json["spec"]


def test_namespace_comes_from_the_context_and_the_kubeconfig_from_KUBECONFIG(control_plane, cluster, tmp_path):
    ns = cluster
    with open(control_plane.admin_kubeconfig, encoding="utf-8") as f:
        kc = yaml.safe_load(f)
    kc["contexts"].append({"name": "plugin-ns", "context": {**kc["contexts"][0]["context"], "namespace": ns}})
    path = tmp_path / "kubeconfig"
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(kc, f)
    r = kubectl_memgraph(control_plane, "status", NAME, "--context", "plugin-ns", kubeconfig=False,
                         env_extra={"KUBECONFIG": str(path)})
    assert header(r.stdout, "Cluster") == f"{ns}/{NAME}", r.stdout
    # without --context: the current context has no namespace, so "default", where there is no such cluster
    r = kubectl_memgraph(control_plane, "status", NAME, kubeconfig=False, env_extra={"KUBECONFIG": str(path)},
                         check=False)
    assert one_error_line(r) == f'error: memgraphcluster "{NAME}" not found in namespace "default"'


# ------------------------------------------------------------------------------------------------- errors


def test_errors_are_one_line_with_a_non_zero_exit(control_plane, cluster, tmp_path):
    ns = cluster
    r = kubectl_memgraph(control_plane, "status", "nope", ns=ns, check=False)
    assert one_error_line(r) == f'error: memgraphcluster "nope" not found in namespace "{ns}"'
    r = kubectl_memgraph(control_plane, "frobnicate", NAME, ns=ns, check=False)
    assert one_error_line(r, code=2) == 'error: unknown command "frobnicate" (see kubectl memgraph --help)'
    assert "Usage: kubectl memgraph COMMAND" in r.stderr
    r = kubectl_memgraph(control_plane, "fence", NAME, "2", ns=ns, check=False)
    assert one_error_line(r) == f'error: unknown instance "2": cluster {NAME} has 2 instances (ordinals 0..1)'
    r = kubectl_memgraph(control_plane, "switchover", NAME, "--to", "5", ns=ns, check=False)
    assert "unknown instance" in one_error_line(r)
    r = kubectl_memgraph(control_plane, "logs", NAME, "other-0", ns=ns, check=False)
    assert "unknown instance" in one_error_line(r)
    r = kubectl_memgraph(control_plane, "status", NAME, "--to", "1", ns=ns, check=False)
    assert "status does not take --to" in one_error_line(r, code=2)
    assert json.loads(control_plane.kubectl("get", "mgc", NAME, "-n", ns, "-o", "json").stdout)["metadata"].get(
        "annotations", {}).get("memgraph.io/fencedInstances") is None


def test_rbac_errors_name_the_verb_and_the_resource(control_plane, cluster, tmp_path):
    ns = cluster
    nobody = service_account_kubeconfig(control_plane, ns, "plugin-nobody", tmp_path / "nobody")
    r = kubectl_memgraph(control_plane, "status", NAME, ns=ns, kubeconfig=nobody, check=False)
    line = one_error_line(r)
    assert line.startswith(f'error: forbidden: you cannot get memgraphclusters in namespace "{ns}" (RBAC): '), line
    # a reader: status works (pods not shown, with a warning), pause is refused naming the verb
    reader = service_account_kubeconfig(control_plane, ns, "plugin-reader", tmp_path / "reader")
    control_plane.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                         "metadata": {"name": "mgc-reader"},
                         "rules": [{"apiGroups": ["memgraph.io"], "resources": ["memgraphclusters"],
                                    "verbs": ["get"]}]}, namespace=ns)
    control_plane.kubectl("create", "rolebinding", "mgc-reader", "-n", ns, "--role=mgc-reader",
                          f"--serviceaccount={ns}:plugin-reader")
    r = control_plane.wait_for(
        lambda: (x := kubectl_memgraph(control_plane, "status", NAME, ns=ns, kubeconfig=reader, check=False))
        .returncode == 0 and x, timeout=30, message="the reader's RoleBinding to take effect")
    assert header(r.stdout, "Main") == get_cluster(control_plane, ns)["status"]["currentMain"], r.stdout
    assert "warning: pods not shown: forbidden: you cannot list pods" in r.stderr, r.stderr
    r = kubectl_memgraph(control_plane, "pause", NAME, ns=ns, kubeconfig=reader, check=False)
    line = one_error_line(r)
    assert line.startswith(f'error: forbidden: you cannot patch memgraphclusters in namespace "{ns}" (RBAC): '), line
    assert "memgraph.io/reconcile" not in (get_cluster(control_plane, ns)["metadata"].get("annotations") or {})


# ------------------------------------------------------------------------------------------------- switchover


def test_switchover_waits_for_the_new_main_and_prints_write_unavailability(control_plane, cluster):
    ns = cluster
    clusters = Clusters(control_plane)
    old = get_cluster(control_plane, ns)["status"]["currentMain"]
    target = 1 - int(old.rsplit("-", 1)[1])
    started = time.monotonic()
    r = kubectl_memgraph(control_plane, "switchover", NAME, "--to", target, "--timeout", "120s", ns=ns)
    took = time.monotonic() - started
    m = re.search(rf"^switchover completed: {old} -> {NAME}-{target}, writes unavailable (\d+) ms$", r.stdout, re.M)
    assert m, r.stdout
    st = get_cluster(control_plane, ns)["status"]
    lf = st["lastFailover"]
    assert st["currentMain"] == f"{NAME}-{target}"
    assert lf["kind"] == "switchover" and lf["to"] == f"{NAME}-{target}" and lf["from"] == old, lf
    assert int(m.group(1)) == lf["writeUnavailableMs"], (m.group(1), lf)
    print(f"switchover through the plugin: {took:.1f} s end to end, writes unavailable {lf['writeUnavailableMs']} ms")
    clusters.wait_ready(ns, NAME, timeout=120)
    out = kubectl_memgraph(control_plane, "status", NAME, ns=ns).stdout
    assert header(out, "Main") == f"{NAME}-{target}", out
    assert instance_rows(out)[f"{NAME}-{target}"][1] == "main", out
    assert re.search(rf"^  switchover {old} -> {NAME}-{target} \(Requested\) at .*writes unavailable "
                     rf"{lf['writeUnavailableMs']} ms$", out, re.M), out
    # asking for the MAIN it already is returns at once
    r = kubectl_memgraph(control_plane, "switchover", NAME, "--to", target, ns=ns)
    assert "is already the MAIN" in r.stdout, r.stdout


# ------------------------------------------------------------------------------------------------- backup, restore


def test_backup_wait_prints_the_completed_backup(control_plane, cluster):
    ns = cluster
    r = kubectl_memgraph(control_plane, "backup", NAME, "--name", "plugin-b1", "--wait", "--timeout", "180s", ns=ns)
    b = json.loads(control_plane.kubectl("get", "mgb", "plugin-b1", "-n", ns, "-o", "json").stdout)
    st = b["status"]
    assert b["spec"] == {"cluster": NAME}, b["spec"]
    assert st["phase"] == "Completed" and st["vertices"] == ROWS + CANARY_NODES, st
    assert f"backup plugin-b1 Completed: pod {st['pod']} ({st['role']})" in r.stdout, r.stdout
    assert f"s3://{BUCKET}/{st['s3']['key']} sha256 {st['sha256']}" in r.stdout, r.stdout
    out = control_plane.wait_for(
        lambda: (o := kubectl_memgraph(control_plane, "status", NAME, ns=ns).stdout) and
        "Succeeded:   plugin-b1" in o and o, timeout=30, message="status showing the backup")
    assert re.search(r"^  Last:        plugin-b1 Completed \(\d+s ago\), pod ", out, re.M), out
    # without --wait, with a generated name and -o json: the created object
    r = kubectl_memgraph(control_plane, "backup", NAME, "-o", "json", ns=ns)
    created = json.loads(r.stdout)
    assert created["kind"] == "MemgraphBackup" and created["spec"]["cluster"] == NAME
    assert re.match(rf"^{NAME}-\d{{14}}$", created["metadata"]["name"]), created["metadata"]
    # a cluster without spec.backup.s3
    r = kubectl_memgraph(control_plane, "backup", "nope", ns=ns, check=False)
    assert one_error_line(r) == f'error: memgraphcluster "nope" not found in namespace "{ns}"'


def test_restore_creates_a_cluster_with_the_source_spec_from_the_backup(control_plane, cluster):
    ns = cluster
    clusters = Clusters(control_plane)
    r = kubectl_memgraph(control_plane, "restore", "plugin-b1", "--into", "kp-restored", ns=ns)
    assert r.stdout.strip() == (f"memgraphcluster/kp-restored created with the spec of {NAME}, restoring from "
                                f"memgraphbackup/plugin-b1"), r.stdout
    new = get_cluster(control_plane, ns, "kp-restored")
    src = get_cluster(control_plane, ns)
    assert new["spec"]["bootstrap"] == {"restore": {"backup": "plugin-b1"}}, new["spec"]
    for key in ("instances", "image", "replication", "backup"):
        assert new["spec"][key] == src["spec"][key], key
    try:
        status = control_plane.wait_for(
            lambda: (s := clusters.cluster_status(ns, "kp-restored")).get("restoredFrom") and s, timeout=180,
            message="kp-restored: status.restoredFrom")
        assert status["restoredFrom"] == "plugin-b1"
        ip = control_plane.wait_for(lambda: control_plane.pod_ip(ns, "kp-restored-0"), timeout=60,
                                    message="kp-restored-0 IP")
        n = control_plane.wait_for(lambda: bolt_query(ip, "MATCH (n:Item) RETURN count(n) AS c")[0]["c"],
                                   timeout=60, message="restored rows")
        assert n == ROWS
    finally:
        control_plane.kubectl("delete", "mgc", "kp-restored", "-n", ns, "--wait=false", check=False)
    r = kubectl_memgraph(control_plane, "restore", "plugin-b1", "--into", NAME, ns=ns, check=False)
    assert one_error_line(r) == f'error: memgraphcluster "{NAME}" already exists in namespace "{ns}"'
    r = kubectl_memgraph(control_plane, "restore", "no-such-backup", "--into", "x", ns=ns, check=False)
    assert one_error_line(r) == f'error: memgraphbackup "no-such-backup" not found in namespace "{ns}"'


# ------------------------------------------------------------------------------------------------- logs


def test_logs_of_the_main_and_of_an_instance(control_plane, cluster):
    ns = cluster
    main = get_cluster(control_plane, ns)["status"]["currentMain"]
    other = f"{NAME}-{1 - int(main.rsplit('-', 1)[1])}"
    for args, pod in (((), main), (("0",), f"{NAME}-0"), ((other,), other)):
        r = kubectl_memgraph(control_plane, "logs", NAME, *args, "--tail", "20", ns=ns)
        assert r.stdout.strip(), f"empty log of {pod}"
        # what the kubelet recorded for the memgraph container's current run holds those lines
        recorded = control_plane.pod_log(ns, pod, "memgraph")
        for line in r.stdout.splitlines():
            assert line in recorded, (pod, line)
    r = kubectl_memgraph(control_plane, "logs", NAME, "-c", "nosuch", ns=ns, check=False)
    assert "error: " in one_error_line(r)


def test_logs_follow_streams_new_lines(control_plane, cluster):
    ns = cluster
    pod = f"{NAME}-0"
    env = dict(os.environ, PATH=plugin_dir() + os.pathsep + os.environ.get("PATH", ""))
    argv = [control_plane.kubectl_bin, "memgraph", "logs", NAME, "0", "--follow", "--tail", "1", "--kubeconfig",
            control_plane.admin_kubeconfig, "-n", ns]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=30).strip(), "no first line"
        # a line the container writes now (appended to the file the kubelet serves) arrives on the open stream
        marker = f"plugin-follow-{secrets.token_hex(6)}"
        with open(os.path.join(control_plane.state_dir, "pods", f"{ns}_{pod}", "memgraph.log"), "a",
                  encoding="utf-8") as f:
            f.write(marker + "\n")
        assert lines.get(timeout=30).strip() == marker
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ------------------------------------------------------------------------------------------------- preview


def test_preview_names_restarts_their_order_and_the_refusals_the_api_server_makes(control_plane, cluster, tmp_path):
    ns = cluster
    live = json.loads(control_plane.kubectl("get", "mgc", NAME, "-n", ns, "-o", "json").stdout)
    main = live["status"]["currentMain"]
    replica = f"{NAME}-{1 - int(main.rsplit('-', 1)[1])}"
    same = tmp_path / "same.yaml"
    same.write_text(control_plane.kubectl("get", "mgc", NAME, "-n", ns, "-o", "yaml").stdout)
    out = kubectl_memgraph(control_plane, "preview", NAME, "-f", same, ns=ns).stdout
    assert "Refused: nothing" in out and "Pod template: unchanged: no pod restarts" in out, out
    changed = json.loads(json.dumps(live))
    for key in ("resourceVersion", "managedFields"):
        changed["metadata"].pop(key, None)
    changed["spec"]["image"] = "memgraph/memgraph:3.11.0"
    path = tmp_path / "image.yaml"
    path.write_text(yaml.safe_dump(changed))
    out = kubectl_memgraph(control_plane, "preview", NAME, "-f", path, ns=ns).stdout
    assert 'spec.image: "memgraph/memgraph:3.12.0" -> "memgraph/memgraph:3.11.0"' in out, out
    assert "template.spec.containers[name=memgraph].image" in out, out
    order = [line.strip() for line in out.splitlines() if re.match(r"^  \d+\. ", line)]
    assert order[0].startswith(f"1. {replica} (replica) is deleted"), order
    assert order[1].startswith(f"2. switchover {main} -> {replica} (reason RollingUpdate"), order
    assert order[2].startswith(f"3. {main} (the old MAIN, now a replica) restarts"), order
    assert get_cluster(control_plane, ns)["metadata"]["generation"] == live["metadata"]["generation"]
    # an immutable field: the plugin and the API server (server-side dry run) refuse it with the same message
    changed["spec"]["storage"]["size"] = "20Gi"
    path.write_text(yaml.safe_dump(changed))
    r = kubectl_memgraph(control_plane, "preview", NAME, "-f", path, ns=ns, check=False)
    message = "spec.storage.size is immutable: volume claim templates cannot change (resizing is not supported yet)."
    assert one_error_line(r) == "error: the change would be refused (see Refused above)"
    assert f"spec.storage.size: 10Gi -> 20Gi (API server: {message})" in r.stdout, r.stdout
    server = control_plane.kubectl("apply", "--dry-run=server", "-f", path, check=False)
    assert server.returncode != 0 and message in server.stderr, server.stderr
    r = kubectl_memgraph(control_plane, "preview", "other", "-f", path, ns=ns, check=False)
    assert one_error_line(r) == f"error: {path} is not MemgraphCluster other"


# ------------------------------------------------------------------------------------------------- report


def test_report_holds_the_cluster_and_the_operator_but_no_secret(control_plane, cluster, module_operator, tmp_path):
    ns = cluster
    canary = f"plugin-canary-{secrets.token_hex(8)}"
    control_plane.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{NAME}-extra"},
                         "stringData": {"password": canary}}, namespace=ns)
    path = tmp_path / "report.tar"
    r = kubectl_memgraph(control_plane, "report", NAME, "--file", path, "--operator-url",
                         f"http://127.0.0.1:{module_operator.port}", ns=ns)
    assert re.match(rf"^wrote {re.escape(str(path))} \(\d+ bytes, \d+ files\)$", r.stdout.strip()), r.stdout
    data = path.read_bytes()
    print(f"report: {len(data)} bytes")
    for secret in (canary, SECRET):
        assert secret.encode() not in data
    with tarfile.open(path) as tar:
        names = tar.getnames()
        files = {n.split("/", 1)[1] if "/" in n else n: tar.extractfile(n).read().decode() for n in names}
    base = f"memgraph-report-{ns}-{NAME}"
    assert all(n.startswith(base + "/") for n in names), names
    for want in ("memgraphcluster.yaml", "status.txt", "pods.yaml", "statefulset.yaml", "services.yaml",
                 "memgraphbackups.yaml", "events.yaml", "operator/metrics.txt", "operator/status.json",
                 f"logs/{NAME}-0-memgraph.log", f"logs/{NAME}-1-memgraph.log", "README.txt"):
        assert want in files, (want, sorted(files))
    mgc = yaml.safe_load(files["memgraphcluster.yaml"])
    assert mgc["status"]["currentMain"] == get_cluster(control_plane, ns)["status"]["currentMain"]
    assert {p["metadata"]["name"] for p in yaml.safe_load(files["pods.yaml"])["items"]} >= {f"{NAME}-0", f"{NAME}-1"}
    assert "plugin-b1" in {b["metadata"]["name"] for b in yaml.safe_load(files["memgraphbackups.yaml"])["items"]}
    reasons = {e["reason"] for e in yaml.safe_load(files["events.yaml"])["items"]}
    assert "BackupCompleted" in reasons, reasons
    assert "mgo_" in files["operator/metrics.txt"]
    json.loads(files["operator/status.json"])
    assert header(files["status.txt"], "Cluster") == f"{ns}/{NAME}"
    assert "Secrets are never collected" in files["README.txt"]
    # -o json, and an operator that does not answer
    r = kubectl_memgraph(control_plane, "report", NAME, "--file", tmp_path / "r.tar", "-o", "json", ns=ns)
    with tarfile.open(tmp_path / "r.tar") as tar:
        assert json.load(tar.extractfile(f"{base}/memgraphcluster.json"))["metadata"]["name"] == NAME
    r = kubectl_memgraph(control_plane, "report", NAME, "--file", tmp_path / "x.tar", "--operator-url",
                         "http://127.0.0.1:1", ns=ns, check=False)
    assert one_error_line(r).startswith("error: operator not reachable at http://127.0.0.1:1/metrics"), r.stderr
    assert not (tmp_path / "x.tar").exists()


# ------------------------------------------------------------------------------------------------- annotations


def annotations(cp, ns):
    return get_cluster(cp, ns)["metadata"].get("annotations") or {}


def test_fence_and_unfence_edit_the_fenced_instances_annotation(control_plane, cluster):
    ns = cluster
    key = "memgraph.io/fencedInstances"
    steps = [(("fence", NAME, "1"), ["kp-1"]),
             (("fence", NAME, f"{NAME}-0"), ["kp-0", "kp-1"]),
             (("unfence", NAME, "1"), ["kp-0"]),
             (("fence", NAME, "*"), ["*"]),
             (("unfence", NAME, "0"), ["kp-1"]),
             (("unfence", NAME), None)]
    for args, want in steps:
        r = kubectl_memgraph(control_plane, *args, ns=ns)
        got = annotations(control_plane, ns).get(key)
        assert (json.loads(got) if got is not None else None) == want, (args, got, r.stdout)
    r = kubectl_memgraph(control_plane, "unfence", NAME, "1", ns=ns)
    assert "unchanged" in r.stdout and key not in annotations(control_plane, ns), r.stdout
    # a switchover to a fenced instance is refused up front (the operator never hands the MAIN to one)
    main = get_cluster(control_plane, ns)["status"]["currentMain"]
    other = 1 - int(main.rsplit("-", 1)[1])
    kubectl_memgraph(control_plane, "fence", NAME, other, ns=ns)
    r = kubectl_memgraph(control_plane, "switchover", NAME, "--to", other, ns=ns, check=False)
    assert one_error_line(r) == (f"error: {NAME}-{other} is fenced (memgraph.io/fencedInstances): the operator never "
                                 f"hands the MAIN to a fenced instance; unfence it first")
    assert get_cluster(control_plane, ns)["spec"].get("switchover", {}).get("targetOrdinal") != other
    kubectl_memgraph(control_plane, "unfence", NAME, ns=ns)


def test_hibernate_resume_pause_unpause_edit_their_annotations(control_plane, cluster):
    ns = cluster
    for args, key, want in ((("hibernate", NAME), "memgraph.io/hibernation", "on"),
                            (("resume", NAME), "memgraph.io/hibernation", "off"),
                            (("pause", NAME), "memgraph.io/reconcile", "paused"),
                            (("unpause", NAME), "memgraph.io/reconcile", None)):
        r = kubectl_memgraph(control_plane, *args, ns=ns)
        assert annotations(control_plane, ns).get(key) == want, (args, r.stdout)
        assert r.stdout.startswith(f"memgraphcluster/{NAME}: "), r.stdout
    r = kubectl_memgraph(control_plane, "pause", NAME, ns=ns)
    out = kubectl_memgraph(control_plane, "status", NAME, ns=ns).stdout
    assert "(reconcile paused)" in header(out, "Health") and header(out, "Reconcile") == "paused", out
    r = kubectl_memgraph(control_plane, "switchover", NAME, "--to", "0", ns=ns, check=False)
    assert one_error_line(r) == (f"error: reconciliation of {NAME} is paused (memgraph.io/reconcile=paused): the "
                                 f"operator would not switch over; unpause it first")
    kubectl_memgraph(control_plane, "unpause", NAME, ns=ns)
    r = kubectl_memgraph(control_plane, "hibernate", "nope", ns=ns, check=False)
    assert one_error_line(r) == f'error: memgraphcluster "nope" not found in namespace "{ns}"'


def test_hibernate_and_resume_take_effect(control_plane, cluster):
    """The operator acts on what the plugin set (docs/api.md#annotations): no pods while hibernated, then the
    same MAIN back, as `kubectl memgraph status` shows."""
    ns = cluster
    main = control_plane.wait_for(lambda: (s := get_cluster(control_plane, ns).get("status", {})).get("phase")
                                  == "Running" and s["currentMain"], timeout=120, message="Running after unpause")
    kubectl_memgraph(control_plane, "hibernate", NAME, ns=ns)
    control_plane.wait_for(lambda: get_cluster(control_plane, ns).get("status", {}).get("phase") == "Hibernated"
                           and json.loads(control_plane.kubectl("get", "pods", "-n", ns, "-l",
                                                                f"app.kubernetes.io/instance={NAME}",
                                                                "-o", "json").stdout)["items"] == [],
                           timeout=90, message="Hibernated with no pods")
    kubectl_memgraph(control_plane, "resume", NAME, ns=ns)
    control_plane.wait_for(lambda: get_cluster(control_plane, ns).get("status", {}).get("phase") == "Running",
                           timeout=120, message="Running after resume")
    out = kubectl_memgraph(control_plane, "status", NAME, ns=ns).stdout
    assert header(out, "Main") == main, out


# ------------------------------------------------------------------------------------------------- krew


def test_krew_manifest_passes_krews_own_validation(tmp_path):
    root = os.path.dirname(os.path.dirname(HERE))
    out = subprocess.run(["bash", os.path.join(root, "tools", "krew", "build.sh")], capture_output=True, text=True,
                         timeout=600, check=True).stdout.strip().splitlines()[-1]
    validate = os.path.join(out, "validate-krew-manifest")
    manifest = os.path.join(root, "plugins", "memgraph.yaml")
    r = subprocess.run([validate, "-manifest", manifest, "-skip-install"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "structural validation OK" in r.stderr, r.stderr
    with open(manifest, encoding="utf-8") as f:
        spec = yaml.safe_load(f)["spec"]
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        version = re.search(r"project\(memgraph-operator VERSION (\S+)", f.read()).group(1)
    assert spec["version"] == f"v{version}", (spec["version"], version)
    assert {p["bin"] for p in spec["platforms"]} == {"kubectl-memgraph"}
    # the validator does refuse a broken manifest (here: a version that is not semver)
    broken = tmp_path / "memgraph.yaml"
    with open(manifest, encoding="utf-8") as f:
        broken.write_text(f.read().replace(f"version: v{version}", "version: latest"))
    r = subprocess.run([validate, "-manifest", str(broken), "-skip-install"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "version" in r.stderr, r.stderr
