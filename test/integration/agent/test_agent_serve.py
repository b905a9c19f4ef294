"""The real `memgraph-operator agent serve` (the sidecar) on 127.0.0.1 with a temporary data directory and token
file: authentication, request validation, GET /v1/snapshots, and an upload job that fails cleanly when nothing
listens on the S3 endpoint (uploads that succeed are in test/e2e/test_backup.py, against versitygw).

Also the init step (`memgraph-operator agent`): its one-line termination message for a normal start, and a
restore that fails (nothing listening) without leaving a snapshot file behind.

The binary comes from MGO_BUILD_DIR (default build/debug), like test/integration/kube/."""

import json
import os
import queue
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TOKEN = "itest-token-0123456789"


def operator_bin():
    path = os.path.join(os.environ.get("MGO_BUILD_DIR") or os.path.join(ROOT, "build", "debug"),
                        "src", "cmd", "memgraph-operator")
    assert os.path.exists(path), f"{path} is missing: build first (cmake --build build/debug)"
    return path


class Agent:
    def __init__(self, tmp_path):
        self.data = tmp_path / "mg_data"
        (self.data / "snapshots").mkdir(parents=True)
        self.token_file = tmp_path / "token"
        self.token_file.write_text(TOKEN + "\n")
        self.proc = subprocess.Popen(
            [operator_bin(), "agent", "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data),
             "--token-file", str(self.token_file)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = None
        deadline = time.time() + 20
        while self.port is None and time.time() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, f"agent serve exited: {self.log}"
                continue
            if "agent serve: listening" in line:
                self.port = int(line.split("port=")[1].split()[0])
        assert self.port, f"agent serve did not report its port: {self.log}"

    def _read(self):
        for line in self.proc.stdout:
            self.log.append(line)
            self.lines.put(line)

    def request(self, method, path, body=None, token=TOKEN, raw=None, headers=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def json(self, method, path, body=None, **kw):
        status, text = self.request(method, path, body, **kw)
        return status, json.loads(text) if text.strip().startswith(("{", "[")) else text

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        return rc


@pytest.fixture
def agent(tmp_path):
    a = Agent(tmp_path)
    yield a
    a.stop()


def upload_body(file, **extra):
    body = {"file": file, "s3": {"endpoint": "http://127.0.0.1:9", "region": "us-east-1", "bucket": "backups",
                                 "key": f"itest/{file}", "accessKey": "AKIDITEST",
                                 "secretKey": "SECRETITEST", "sessionToken": "SESSIONITEST",
                                 "forcePathStyle": True}}
    body.update(extra)
    return body


def test_healthz_and_auth(agent):
    assert agent.request("GET", "/healthz", token=None) == (200, "ok\n")
    for token in (None, "wrong", TOKEN + "x", ""):
        status, body = agent.json("GET", "/v1/snapshots", token=token)
        assert status == 401, token
        assert TOKEN not in json.dumps(body)
    assert agent.json("POST", "/v1/uploads", upload_body("x"), token="wrong")[0] == 401
    assert agent.json("GET", "/v1/snapshots")[0] == 200
    # rotation: the Secret volume swaps the file
    new = agent.token_file.with_name("token.new")
    new.write_text("rotated-token\n")
    os.replace(new, agent.token_file)
    assert agent.json("GET", "/v1/snapshots")[0] == 401
    assert agent.json("GET", "/v1/snapshots", token="rotated-token")[0] == 200


def test_snapshots_listed_newest_first(agent):
    snaps = agent.data / "snapshots"
    (snaps / "20240101_old").write_bytes(b"a" * 10)
    (snaps / "20240102_new").write_bytes(b"b" * 20)
    os.utime(snaps / "20240101_old", (1700000000, 1700000000))
    os.utime(snaps / "20240102_new", (1700000500, 1700000500))
    os.symlink("/etc/passwd", snaps / "link")
    status, body = agent.json("GET", "/v1/snapshots")
    assert status == 200
    assert body == {"snapshots": [{"name": "20240102_new", "size": 20, "mtime": "2023-11-14T22:21:40Z"},
                                  {"name": "20240101_old", "size": 10, "mtime": "2023-11-14T22:13:20Z"}]}


def test_upload_validation(agent, tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("not a snapshot")
    os.symlink(outside, agent.data / "snapshots" / "link")
    for name in ("../x", "a/b", "", "x" * 300, ".", "..", "link"):
        status, body = agent.json("POST", "/v1/uploads", upload_body(name))
        assert status == 400, name
        assert "error" in body
    assert agent.json("POST", "/v1/uploads", upload_body("missing"))[0] == 404
    assert agent.json("POST", "/v1/uploads", raw=b"{not json")[0] == 400
    assert agent.json("POST", "/v1/uploads", {"file": "x"})[0] == 400
    big = json.dumps(upload_body("snap", pad="x" * (70 * 1024))).encode()
    assert agent.request("POST", "/v1/uploads", raw=big)[0] == 413
    assert agent.json("GET", "/v1/uploads/0123456789abcdef0123456789abcdef")[0] == 404
    assert agent.json("PUT", "/v1/snapshots")[0] == 405
    assert agent.json("GET", "/v1/nothing")[0] == 404


def test_upload_fails_cleanly_without_s3(agent):
    (agent.data / "snapshots" / "snap_1").write_bytes(b"snapshot bytes")
    status, body = agent.json("POST", "/v1/uploads", upload_body("snap_1"))
    assert status == 202, body
    job_id = body["id"]
    deadline = time.time() + 60
    while True:
        status, job = agent.json("GET", f"/v1/uploads/{job_id}")
        assert status == 200
        if job["state"] != "running" or time.time() > deadline:
            break
        time.sleep(0.1)
    assert job["state"] == "failed", job
    assert job["file"] == "snap_1" and job["key"] == "itest/snap_1"
    assert job["size"] == len(b"snapshot bytes")
    assert job["sha256"] is None and job["startedAt"] and job["finishedAt"]
    assert job["error"]["agentError"] != "OK" and job["error"]["message"]
    text = json.dumps(job)
    for secret in ("AKIDITEST", "SECRETITEST", "SESSIONITEST", TOKEN):
        assert secret not in text
        assert secret not in "".join(agent.log)
    # the real S3 client: nothing listens on 127.0.0.1:9
    assert job["error"]["agentError"] in ("ECONNECT", "EIO", "ETIMEDOUT"), job
    # the agent is free again for the next upload
    assert agent.json("POST", "/v1/uploads", upload_body("snap_1"))[0] == 202


def test_sigterm_stops_cleanly(agent):
    assert agent.stop() == 0
    assert any("agent serve: stopping" in line for line in agent.log)


def run_init(tmp_path, instructions, env=None):
    instr = tmp_path / "instructions"
    instr.mkdir(exist_ok=True)
    (instr / "mg-0").write_text(instructions)
    term = tmp_path / "termination-log"
    term.write_text("")  # the kubelet creates it; the agent never does
    r = subprocess.run([operator_bin(), "agent", "--data-dir", str(tmp_path / "mg_data"), "--marker-dir",
                        str(tmp_path / "operator"), "--instructions-dir", str(instr), "--pod-name", "mg-0",
                        "--termination-log", str(term)],
                       capture_output=True, text=True, timeout=60, env=dict(os.environ, **(env or {})))
    return r, term.read_text()


def test_init_reports_recovered_snapshot(tmp_path):
    r, msg = run_init(tmp_path, "")
    assert r.returncode == 0, r.stderr
    assert msg == "recovering from snapshot none\n"
    snaps = tmp_path / "mg_data" / "snapshots"
    snaps.mkdir(parents=True)
    (snaps / "20240101_a").write_text("a")
    (snaps / "20240102_b").write_text("b")
    os.utime(snaps / "20240101_a", (1700000000, 1700000000))
    r, msg = run_init(tmp_path, "")
    assert msg == "recovering from snapshot 20240102_b\n"


def test_init_restore_failure_leaves_nothing(tmp_path):
    sha = "ab" * 32
    text = ("restore=tok-1\nrestore.endpoint=http://127.0.0.1:9\nrestore.region=us-east-1\nrestore.bucket=b\n"
            f"restore.key=k/snap_1\nrestore.file=snap_1\nrestore.size=14\nrestore.sha256={sha}\n")
    r, msg = run_init(tmp_path, text, env={"MGO_RESTORE_ACCESS_KEY_ID": "AKIDITEST",
                                           "MGO_RESTORE_SECRET_ACCESS_KEY": "SECRETITEST"})
    assert r.returncode == 1
    assert msg.startswith("restore failed: ")
    assert "SECRETITEST" not in msg + r.stderr and "AKIDITEST" not in msg + r.stderr
    assert list((tmp_path / "mg_data" / "snapshots").iterdir()) == []
    assert not (tmp_path / "operator" / "restore.done").exists()
    # reseed and restore together: refused before anything is touched
    r, msg = run_init(tmp_path, text + "reseed=uid-1\n")
    assert r.returncode == 1 and "both" in msg
