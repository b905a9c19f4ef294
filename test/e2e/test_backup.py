"""Backups to S3 on the real control plane (docs/backup.md), with versitygw (a real S3 server that enforces
SigV4) on a loopback port: an on-demand MemgraphBackup is snapshotted on a replica, uploaded by that pod's agent
sidecar, and its object's SHA-256 matches the status; wrong credentials fail with S3's code and never show the
secret; a schedule creates backups and retention trims them (S3 object and MemgraphBackup); a new cluster
restored from a backup holds the same data. One cluster for the module; tests run in order."""

import json
import socket
import threading
import time

import pytest
from harness import CANARY_NODES, Clusters, bolt_query
from s3_itest_driver import ACCESS, SECRET, S3, Gateway

NAME = "bk"
BUCKET = "backups"
PREFIX = "e2e"
ROWS = 40


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, control_plane):
    gw = Gateway(str(tmp_path_factory.mktemp("vgw") / "root"), host_ip=control_plane.host_ip)
    gw.start()
    S3(gw, BUCKET).ok("mkbucket")
    yield gw
    gw.stop()


def _secret(cp, ns, name, access, secret):
    cp.apply(json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                         "stringData": {"accessKeyId": access, "secretAccessKey": secret}}), namespace=ns)


def _backup_spec(gateway, secret="s3-creds", **extra):
    return {"s3": {"bucket": BUCKET, "endpoint": gateway.endpoint, "forcePathStyle": True, "prefix": PREFIX,
                   "secretName": secret}, **extra}


@pytest.fixture(scope="module")
def cluster(control_plane, module_namespace, module_operator, gateway):
    ns = module_namespace
    clusters = Clusters(control_plane)
    _secret(control_plane, ns, "s3-creds", ACCESS, SECRET)
    _secret(control_plane, ns, "s3-wrong", ACCESS, "not-the-secret-9f8e7d")
    # one SYNC replica, so that a lost MAIN is failed over (ASYNC-only clusters wait for it by default)
    clusters.make_cluster(ns, NAME, instances=3, replication={"healthCheckIntervalSec": 1, "syncReplicas": 1},
                          failover={"failoverDelaySec": 2}, backup=_backup_spec(gateway))
    clusters.wait_ready(ns, NAME, timeout=180)
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    clusters.wait_canary(ns, NAME)
    main_ip = control_plane.pod_ip(ns, clusters.main_pod(ns, NAME))
    bolt_query(main_ip, "UNWIND range(1, $n) AS i CREATE (:Item {id: i})", n=ROWS)
    bolt_query(main_ip, "MATCH (a:Item {id: 1}), (b:Item {id: 2}) CREATE (a)-[:NEXT]->(b)")
    return ns


def _mgb(cp, ns, name, **spec):
    cp.apply(json.dumps({"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphBackup",
                         "metadata": {"name": name}, "spec": {"cluster": NAME, **spec}}), namespace=ns)


def _get_mgb(cp, ns, name):
    r = cp.kubectl("get", "mgb", name, "-n", ns, "-o", "json", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else None


def _wait_phase(cp, ns, name, phases, timeout=120):
    def done():
        b = _get_mgb(cp, ns, name)
        return b if b and b.get("status", {}).get("phase") in phases else None
    return cp.wait_for(done, timeout=timeout, message=f"MemgraphBackup {name} in {phases}")


def _events(cp, ns, name):
    out = json.loads(cp.kubectl("get", "events", "-n", ns, "-o", "json").stdout)["items"]
    return [e for e in out if e.get("involvedObject", {}).get("name") == name]


def test_on_demand_backup_uploads_a_snapshot_whose_sha256_matches(control_plane, cluster, gateway, tmp_path):
    ns = cluster
    _mgb(control_plane, ns, "manual-1")
    b = _wait_phase(control_plane, ns, "manual-1", ("Completed", "Failed"))
    st = b["status"]
    assert st["phase"] == "Completed", st
    clusters = Clusters(control_plane)
    # PreferReplica on Memgraph 3.12: the snapshot is taken on a replica, not on the MAIN
    assert st["role"] == "replica" and st["pod"] != clusters.main_pod(ns, NAME), st
    assert st["vertices"] == ROWS + CANARY_NODES and st["edges"] == 1, st
    assert st["s3"]["key"] == f"{PREFIX}/{ns}/{NAME}/manual-1/{st['snapshot']}", st
    assert len(st["sha256"]) == 64 and st["sizeBytes"] > 0, st
    # the object in S3: the SHA-256 stored with it and that of its bytes both match the status
    s3 = S3(gateway, BUCKET)
    assert s3.ok("head", st["s3"]["key"])["sha256"] == st["sha256"]
    got = s3.ok("get", st["s3"]["key"], str(tmp_path / "snap"), st["sizeBytes"], st["sha256"])
    assert got["sha256"] == st["sha256"]
    # the cluster's status and the Events say so
    status = control_plane.wait_for(
        lambda: (s := clusters.cluster_status(ns, NAME)).get("lastSuccessfulBackup") == "manual-1" and s,
        timeout=30, message="lastSuccessfulBackup")
    assert status["lastS3BackupTime"] == st["completedAt"] and status["firstRecoverabilityPoint"], status
    cond = clusters.condition(status, "LastBackupSucceeded")
    assert cond["status"] == "True", cond
    reasons = {e["reason"] for e in _events(control_plane, ns, "manual-1")}
    assert {"BackupStarted", "BackupCompleted"} <= reasons, reasons


def test_wrong_credentials_fail_with_the_s3_code_and_never_show_the_secret(control_plane, cluster, gateway,
                                                                         module_operator):
    ns = cluster
    clusters = Clusters(control_plane)
    control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p",
                          json.dumps({"spec": {"backup": {"s3": {"secretName": "s3-wrong"}}}}))
    try:
        _mgb(control_plane, ns, "wrong-creds")
        b = _wait_phase(control_plane, ns, "wrong-creds", ("Completed", "Failed"), timeout=180)
        st = b["status"]
        assert st["phase"] == "Failed" and st["attempts"] == 3, st
        assert st["error"]["source"] == "s3" and st["error"]["code"] == "SignatureDoesNotMatch", st
        # The backup's own status is written first; the cluster's status records it on its next pass.
        control_plane.wait_for(lambda: clusters.cluster_status(ns, NAME).get("lastFailedBackup") == "wrong-creds",
                               timeout=60, message="status.lastFailedBackup names the failed backup")
        status = clusters.cluster_status(ns, NAME)
        assert clusters.condition(status, "LastBackupSucceeded")["status"] == "False"
        everything = json.dumps([b, status, _events(control_plane, ns, "wrong-creds")]) + module_operator.logs() + \
            module_operator.http("/metrics")[1]
        for secret in (SECRET, "not-the-secret-9f8e7d"):
            assert secret not in everything
    finally:
        control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p",
                              json.dumps({"spec": {"backup": {"s3": {"secretName": "s3-creds"}}}}))


def test_a_backup_under_write_load_completes_with_the_data_written_before_it(control_plane, cluster, gateway,
                                                                            tmp_path):
    ns = cluster
    clusters = Clusters(control_plane)
    main_ip = control_plane.pod_ip(ns, clusters.main_pod(ns, NAME))
    stop = threading.Event()
    written = []

    def writer():
        i = 0
        while not stop.is_set():
            i += 1
            bolt_query(main_ip, "CREATE (:Load {id: $i})", i=i)
            written.append(i)
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        control_plane.wait_for(lambda: len(written) >= 20, timeout=30, message="writes under way")
        _mgb(control_plane, ns, "under-load")
        st = _wait_phase(control_plane, ns, "under-load", ("Completed", "Failed"))["status"]
    finally:
        stop.set()
        t.join(timeout=10)
    assert st["phase"] == "Completed", st
    assert st["vertices"] >= ROWS + 20, st  # everything written before the request is in the snapshot
    got = S3(gateway, BUCKET).ok("get", st["s3"]["key"], str(tmp_path / "snap"), st["sizeBytes"], st["sha256"])
    assert got["sha256"] == st["sha256"]
    bolt_query(main_ip, "MATCH (n:Load) DELETE n")


def test_a_missing_bucket_fails_with_no_such_bucket(control_plane, cluster):
    ns = cluster
    control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p",
                          json.dumps({"spec": {"backup": {"s3": {"bucket": "no-such-bucket"}}}}))
    try:
        _mgb(control_plane, ns, "no-bucket")
        st = _wait_phase(control_plane, ns, "no-bucket", ("Completed", "Failed"), timeout=180)["status"]
        assert st["phase"] == "Failed" and st["error"]["code"] == "NoSuchBucket", st
    finally:
        control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p",
                              json.dumps({"spec": {"backup": {"s3": {"bucket": BUCKET}}}}))


def test_s3_down_is_retried_and_nothing_is_completed_meanwhile(control_plane, cluster, gateway):
    ns = cluster
    gateway.stop()
    try:
        _mgb(control_plane, ns, "s3-down")

        def retrying():
            st = (_get_mgb(control_plane, ns, "s3-down") or {}).get("status", {})
            return st if st.get("attempts", 0) >= 2 else None
        st = control_plane.wait_for(retrying, timeout=90, message="a failed attempt while S3 is down")
        assert st["phase"] == "Running" and st.get("nextAttemptAt"), st
        assert st["error"]["source"] == "s3" and st["error"]["message"], st
        assert "completedAt" not in st and "sha256" not in st, st
    finally:
        gateway.start()
    st = _wait_phase(control_plane, ns, "s3-down", ("Completed", "Failed"), timeout=120)["status"]
    assert st["phase"] == "Completed" and st["attempts"] >= 2, st


class BlackHole:
    """A TCP server on loopback that accepts connections and reads them without ever answering: an S3 endpoint
    that hangs mid-upload (the client's low-speed timeout ends it after 30 s)."""

    def __init__(self, host_ip):
        self.host_ip = host_ip  # where pods reach it (the control plane's host_ip)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.accepted = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def endpoint(self):
        return f"http://{self.host_ip}:{self.port}"

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    @staticmethod
    def _drain(conn):
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def _endpoint(cp, ns, endpoint):
    """Points the cluster's backups at endpoint, and waits until the operator has seen that spec (its status
    says observedGeneration): a backup created sooner may still go to the old endpoint (CI, under load)."""
    out = cp.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-o", "json", "-p",
                     json.dumps({"spec": {"backup": {"s3": {"endpoint": endpoint}}}})).stdout
    generation = json.loads(out)["metadata"]["generation"]

    def observed():
        obj = json.loads(cp.kubectl("get", "mgc", NAME, "-n", ns, "-o", "json").stdout)
        return (obj.get("status") or {}).get("observedGeneration", 0) >= generation
    cp.wait_for(observed, timeout=60, interval=0.3, message=f"the operator to observe generation {generation}")


def _uploading(cp, ns, name):
    def started():
        st = (_get_mgb(cp, ns, name) or {}).get("status", {})
        return st if st.get("uploadId") else None
    return cp.wait_for(started, timeout=60, message=f"{name} to start uploading")


def test_an_agent_killed_mid_upload_loses_the_job_and_the_backup_is_retried(control_plane, cluster, gateway):
    ns = cluster
    hole = BlackHole(control_plane.host_ip)
    _endpoint(control_plane, ns, hole.endpoint)
    try:
        _mgb(control_plane, ns, "agent-killed")
        st = _uploading(control_plane, ns, "agent-killed")
        assert hole.accepted.wait(30), "the agent never reached the S3 endpoint"
        control_plane.kill_pod(ns, st["pod"], container="agent")

        # the next poll finds the agent restarting (ECONNECT) or restarted without the job (UploadLost); a poll
        # in flight when the agent died fails while receiving its answer (EIO, seen in CI)
        def lost():
            s = (_get_mgb(control_plane, ns, "agent-killed") or {}).get("status", {})
            return s if s.get("error", {}).get("source") == "agent" else None
        st = control_plane.wait_for(lost, timeout=60, message="the lost upload to count as a failed attempt")
        assert st["error"]["code"] in ("UploadLost", "ECONNECT", "EIO"), st
        assert st["phase"] == "Running" and "completedAt" not in st and "sha256" not in st, st
    finally:
        _endpoint(control_plane, ns, gateway.endpoint)
        hole.close()
    st = _wait_phase(control_plane, ns, "agent-killed", ("Completed", "Failed"), timeout=120)["status"]
    assert st["phase"] == "Completed" and st["attempts"] >= 2, st


def test_a_failover_during_a_backup_on_the_main_retries_it_on_the_new_main(control_plane, cluster, gateway):
    ns = cluster
    clusters = Clusters(control_plane)
    old_main = clusters.main_pod(ns, NAME)
    hole = BlackHole(control_plane.host_ip)
    _endpoint(control_plane, ns, hole.endpoint)
    try:
        _mgb(control_plane, ns, "during-failover", target="Main")
        st = _uploading(control_plane, ns, "during-failover")
        assert st["pod"] == old_main and st["role"] == "main", st
        control_plane.freeze_pod(ns, old_main)  # memgraph stops answering: the operator fails over
        try:
            control_plane.wait_for(lambda: clusters.main_pod(ns, NAME) not in (None, old_main), timeout=120,
                                   message="the failover")
        finally:
            control_plane.thaw_pod(ns, old_main)
    finally:
        _endpoint(control_plane, ns, gateway.endpoint)
        hole.close()
    st = _wait_phase(control_plane, ns, "during-failover", ("Completed", "Failed"), timeout=180)["status"]
    assert st["phase"] == "Completed" and st["attempts"] >= 2, st
    assert st["pod"] == clusters.main_pod(ns, NAME) and st["role"] == "main", st
    clusters.wait_replication(ns, NAME, expected_replicas=2)


def test_a_schedule_creates_backups_and_retention_trims_them(control_plane, cluster, gateway):
    ns = cluster
    s3 = S3(gateway, BUCKET)
    manual = _get_mgb(control_plane, ns, "manual-1")["status"]["s3"]["key"]
    control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p", json.dumps(
        {"spec": {"backup": {"schedule": "* * * * *", "retention": {"count": 1}}}}))

    def scheduled_completed():
        items = json.loads(control_plane.kubectl("get", "mgb", "-n", ns, "-l", "memgraph.io/scheduled=true", "-o",
                                                 "json").stdout)["items"]
        done = [b for b in items if b.get("status", {}).get("phase") == "Completed"]
        return done if done else None
    done = control_plane.wait_for(scheduled_completed, timeout=150, message="a scheduled backup Completed")
    newest = done[-1]
    assert newest["metadata"]["ownerReferences"][0]["name"] == NAME
    # count 1: the older Completed backups go, their objects first; the Failed one is kept (recent failure)
    control_plane.wait_for(lambda: _get_mgb(control_plane, ns, "manual-1") is None, timeout=60,
                           message="retention to delete manual-1")
    keys = s3.ok("list", f"{PREFIX}/{ns}/{NAME}/")["keys"]
    assert manual not in keys, keys
    assert newest["status"]["s3"]["key"] in keys or _get_mgb(control_plane, ns, newest["metadata"]["name"]) is None
    status = Clusters(control_plane).cluster_status(ns, NAME)
    assert status.get("nextScheduledBackup") and status.get("lastScheduledBackup"), status
    reasons = {e["reason"] for e in _events(control_plane, ns, NAME)}
    assert "RetentionDeleted" in reasons, reasons
    # the module's cluster goes on without the schedule and the retention count (later tests keep two backups)
    control_plane.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p", json.dumps(
        {"spec": {"backup": {"suspend": True, "retention": None}}}))


def test_a_new_cluster_restored_from_a_backup_has_the_same_data(control_plane, cluster, gateway):
    ns = cluster
    clusters = Clusters(control_plane)
    _mgb(control_plane, ns, "for-restore")
    src = _wait_phase(control_plane, ns, "for-restore", ("Completed", "Failed"))["status"]
    assert src["phase"] == "Completed", src
    clusters.make_cluster(ns, "rs", instances=2, replication={"healthCheckIntervalSec": 1},
                          bootstrap={"restore": {"backup": "for-restore"}})
    clusters.wait_ready(ns, "rs", timeout=180)
    clusters.wait_replication(ns, "rs", expected_replicas=1)
    main = clusters.main_pod(ns, "rs")
    assert main == "rs-0", main  # the restored instance is the first MAIN
    for pod in ("rs-0", "rs-1"):
        ip = control_plane.pod_ip(ns, pod)
        ids = control_plane.wait_for(
            lambda ip=ip: (r := bolt_query(ip, "MATCH (n:Item) RETURN collect(n.id) AS ids")) and
            len(r[0]["ids"]) == ROWS and r, timeout=60, message=f"the restored rows on {pod}")
        assert sorted(ids[0]["ids"]) == list(range(1, ROWS + 1))
        edges = bolt_query(ip, "MATCH ()-[r:NEXT]->() RETURN count(r) AS n")
        assert edges[0]["n"] == 1
    status = control_plane.wait_for(lambda: (s := clusters.cluster_status(ns, "rs")).get("restoredFrom") and s,
                                    timeout=60, message="status.restoredFrom")
    assert status["restoredFrom"] == "for-restore"
    cond = clusters.condition(status, "Restored")
    assert cond["status"] == "True" and cond["reason"] == "RestoreCompleted", cond
    reasons = {e["reason"] for e in _events(control_plane, ns, "rs")}
    assert "RestoreCompleted" in reasons, reasons


def test_a_new_cluster_restored_from_an_s3_key_uses_the_stored_sha256(control_plane, cluster, gateway):
    ns = cluster
    clusters = Clusters(control_plane)
    src = _get_mgb(control_plane, ns, "for-restore")["status"]
    clusters.make_cluster(ns, "rk", instances=1, bootstrap={"restore": {"s3": {
        "bucket": BUCKET, "key": src["s3"]["key"], "endpoint": gateway.endpoint, "forcePathStyle": True,
        "secretName": "s3-creds"}}})
    clusters.wait_ready(ns, "rk", timeout=180)
    ip = control_plane.pod_ip(ns, "rk-0")
    ids = bolt_query(ip, "MATCH (n:Item) RETURN collect(n.id) AS ids")[0]["ids"]
    assert sorted(ids) == list(range(1, ROWS + 1))
    status = control_plane.wait_for(lambda: (s := clusters.cluster_status(ns, "rk")).get("restoredFrom") and s,
                                    timeout=60, message="status.restoredFrom")
    assert status["restoredFrom"] == src["s3"]["key"]


def test_a_backup_requested_while_no_main_answers_waits_then_runs(control_plane, cluster, gateway):
    ns = cluster
    clusters = Clusters(control_plane)
    clusters.make_cluster(ns, "nr", instances=1, replication={"healthCheckIntervalSec": 1},
                          backup=_backup_spec(gateway))
    clusters.wait_ready(ns, "nr", timeout=180)
    control_plane.freeze_pod(ns, "nr-0")  # the only instance stops answering: nothing may take a snapshot
    try:
        # requested once the operator knows no MAIN answers (before that, a backup starts and retries instead)
        control_plane.wait_for(
            lambda: (Clusters.condition(clusters.cluster_status(ns, "nr"), "WriteConnectivity") or {})
            .get("status") == "False", timeout=60, message="WriteConnectivity False on the frozen MAIN")
        control_plane.apply(json.dumps({"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphBackup",
                                        "metadata": {"name": "not-ready"}, "spec": {"cluster": "nr"}}), namespace=ns)
        st = _wait_phase(control_plane, ns, "not-ready", ("Pending",), timeout=60)["status"]
        assert "no MAIN to snapshot" in st["message"], st
    finally:
        control_plane.thaw_pod(ns, "nr-0")
    st = _wait_phase(control_plane, ns, "not-ready", ("Completed", "Failed"), timeout=120)["status"]
    assert st["phase"] == "Completed" and st["pod"] == "nr-0", st
    control_plane.kubectl("delete", "mgc", "nr", "-n", ns, "--wait=false")


def test_backups_requested_at_once_run_one_after_the_other(control_plane, cluster):
    ns = cluster
    for name in ("twin-a", "twin-b"):
        _mgb(control_plane, ns, name)
    a = _wait_phase(control_plane, ns, "twin-a", ("Completed", "Failed"))["status"]
    b = _wait_phase(control_plane, ns, "twin-b", ("Completed", "Failed"))["status"]
    assert a["phase"] == b["phase"] == "Completed", (a, b)
    # serialized: the second snapshot was requested only after the first upload had completed
    assert b["startedAt"] >= a["completedAt"], (a, b)
    assert a["snapshot"] != b["snapshot"]


def test_a_backup_of_a_cluster_without_s3_waits_with_the_reason(control_plane, cluster):
    ns = cluster  # "rs" (restored above) has no spec.backup
    control_plane.apply(json.dumps({"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphBackup",
                                    "metadata": {"name": "no-s3"}, "spec": {"cluster": "rs"}}), namespace=ns)
    b = _wait_phase(control_plane, ns, "no-s3", ("Pending",), timeout=60)
    assert "spec.backup.s3" in b["status"]["message"], b["status"]


def _drill(cp, ns, token, timeout=120):
    cp.kubectl("annotate", "mgc", NAME, "-n", ns, f"memgraph.io/restore-drill={token}", "--overwrite")

    def done():
        d = Clusters(cp).cluster_status(ns, NAME).get("lastRestoreDrill") or {}
        return d if d.get("request") == token else None
    d = cp.wait_for(done, timeout=timeout, message=f"restore drill {token}")
    cp.wait_for(lambda: cp.kubectl("get", "pod", f"{NAME}-drill", "-n", ns, check=False).returncode != 0,
                timeout=60, message="the drill pod to be removed")
    return d


def test_a_restore_drill_of_a_good_backup_passes(control_plane, cluster):
    ns = cluster
    d = _drill(control_plane, ns, "good-1")
    assert d["result"] == "Passed", d
    assert d["vertices"] == ROWS + CANARY_NODES and d["edges"] == 1, d
    b = _get_mgb(control_plane, ns, d["backup"])["status"]
    assert (b["vertices"], b["edges"]) == (d["vertices"], d["edges"])
    reasons = {e["reason"] for e in _events(control_plane, ns, NAME)}
    assert "RestoreDrillPassed" in reasons, reasons


def test_a_tampered_object_is_refused_at_restore_and_the_pod_never_starts(control_plane, cluster, gateway,
                                                                          tmp_path):
    ns = cluster
    _mgb(control_plane, ns, "to-tamper")
    st = _wait_phase(control_plane, ns, "to-tamper", ("Completed", "Failed"))["status"]
    assert st["phase"] == "Completed", st
    bad = tmp_path / "bad"
    bad.write_bytes(b"not a snapshot" * 100)
    S3(gateway, BUCKET).ok("put", st["s3"]["key"], str(bad))  # same key, other bytes (and another stored hash)
    clusters = Clusters(control_plane)
    clusters.make_cluster(ns, "tp", instances=1, bootstrap={"restore": {"backup": "to-tamper"}})

    def refused():
        evs = [e for e in _events(control_plane, ns, "tp") if e["reason"] == "RestoreFailed"]
        return evs if evs else None
    evs = control_plane.wait_for(refused, timeout=120, message="a RestoreFailed Event")
    assert "restore failed" in (evs[0].get("message") or evs[0].get("note") or ""), evs
    pod = json.loads(control_plane.kubectl("get", "pod", "tp-0", "-n", ns, "-o", "json").stdout)
    assert not any(c.get("state", {}).get("running") for c in pod["status"].get("containerStatuses", [])), pod
    assert not clusters.is_ready(ns, "tp")
    cond = control_plane.wait_for(lambda: clusters.condition(clusters.cluster_status(ns, "tp"), "Restored"),
                                  timeout=30, message="the Restored condition")
    assert cond["status"] == "False" and cond["reason"] == "RestoreFailed" and "restore failed" in cond["message"]


def test_a_restore_drill_of_the_tampered_backup_fails(control_plane, cluster):
    ns = cluster  # the newest Completed backup is now "to-tamper", whose object was replaced
    d = _drill(control_plane, ns, "tampered-1")
    assert d["result"] == "Failed" and d["backup"] == "to-tamper", d
    assert "refused" in d["message"], d
    reasons = {e["reason"] for e in _events(control_plane, ns, NAME)}
    assert "RestoreDrillFailed" in reasons, reasons


def test_a_gracefully_deleted_main_snapshots_on_exit_and_recovers_from_that_snapshot(control_plane, cluster):
    """memgraph.snapshotOnExit (default true): the deleted MAIN writes a snapshot as it stops; its next
    incarnation recovers from exactly that file (instanceStatuses[].recoveredFrom, from the agent's init step)
    and holds the data."""
    ns = cluster
    clusters = Clusters(control_plane)
    main = clusters.main_pod(ns, NAME)
    old_uid = json.loads(control_plane.kubectl("get", "pod", main, "-n", ns, "-o", "json").stdout)["metadata"]["uid"]
    deleted_at = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() - 1))
    control_plane.kubectl("delete", "pod", main, "-n", ns, "--wait=false")

    def recovered():
        pod = json.loads(control_plane.kubectl("get", "pod", main, "-n", ns, "-o", "json", check=False).stdout or "{}")
        if pod.get("metadata", {}).get("uid") in (None, old_uid):
            return None
        entry = next((i for i in clusters.cluster_status(ns, NAME).get("instanceStatuses", [])
                      if i["pod"] == main), {})
        # the old incarnation's entry ("none": it started empty) stays until the status is rewritten
        return entry.get("recoveredFrom") if entry.get("recoveredFrom") not in (None, "", "none") else None
    snapshot = control_plane.wait_for(recovered, timeout=120, message=f"recoveredFrom of the new {main}")
    # Memgraph names snapshots <YYYYmmddHHMMSSffffff>_timestamp_<ts>: this one was written at the deletion
    assert snapshot[:14] >= deleted_at, (snapshot, deleted_at)
    clusters.wait_ready(ns, NAME, timeout=120)
    ip = control_plane.pod_ip(ns, main)
    rows = control_plane.wait_for(lambda: bolt_query(ip, "MATCH (n:Item) RETURN count(n) AS n")[0]["n"] >= ROWS,
                                  timeout=60, message=f"the rows on the restarted {main}")
    assert rows
