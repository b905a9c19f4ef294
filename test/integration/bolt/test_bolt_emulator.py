"""The C Bolt client (through bolt_probe) against the project's Memgraph emulator, as the operator uses it."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bolt_probe import Probe
from conftest import free_port, make_pki

EMULATOR = Path(__file__).resolve().parents[2] / "memgraph-emulator" / "memgraph-emulator"
CLIENT_ERROR = "Memgraph.ClientError.MemgraphError.MemgraphError"


class Emulator:
    def __init__(self, tmp_path: Path, version: str, user=None, password=None, tls_dir=None):
        self.port = free_port()
        env = dict(os.environ, MGO_EMULATE_VERSION=version)
        if user:
            env.update(MEMGRAPH_USER=user, MEMGRAPH_PASSWORD=password)
        self.log = open(tmp_path / f"emulator-{self.port}.log", "w+")
        self.proc = subprocess.Popen(
            [str(EMULATOR), "--bolt-address=127.0.0.1", f"--bolt-port={self.port}",
             f"--data-directory={tmp_path / f'data-{self.port}'}", "--storage-wal-enabled=true",
             "--storage-snapshot-interval-sec=300", "--also-log-to-stderr", "--log-level=WARNING",
             *([f"--bolt-cert-file={tls_dir / 'public.crt'}", f"--bolt-key-file={tls_dir / 'private.key'}"]
               if tls_dir else [])],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.log.seek(0)
        tail = self.log.read()[-2000:]
        self.stop()
        raise RuntimeError(f"the emulator did not listen on {self.port}:\n{tail}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@pytest.fixture
def emulator(tmp_path):
    started = []

    def start(version="3.12.0", **kw):
        e = Emulator(tmp_path, version, **kw)
        started.append(e)
        return e

    yield start
    for e in started:
        e.stop()


def ok(res):
    assert res["rc"] == "OK", res
    return res


@pytest.mark.parametrize("mg_version,four_x", [("3.11.0", "4.3"), ("3.12.0", "4.4"), ("2.21.0", "4.3")])
def test_handshake_5_2_and_4_x(emulator, mg_version, four_x):
    e = emulator(mg_version)
    with Probe(e.port) as p:
        assert ok(p.connected)["version"] == "5.2"
        assert "Memgraph" in p.connected["server"]["server"]
    with Probe(e.port, "--versions", "4.4,4.3,4.2,4.1") as p:
        assert ok(p.connected)["version"] == four_x
        assert ok(p.run("RETURN 1 AS x"))["rows"] == [[1]]
    with Probe(e.port, "--versions", "4.1") as p:
        assert ok(p.connected)["version"] == "4.1"


@pytest.mark.parametrize("version", ["5.2", "4.4"])
def test_logon_basic_and_wrong_password(emulator, version):
    e = emulator("3.12.0", user="admin", password="s3cret")
    with Probe(e.port, "--versions", version, "--user", "admin", "--password", "s3cret") as p:
        ok(p.connected)
        assert ok(p.run("RETURN 1 AS x"))["rows"] == [[1]]
    with Probe(e.port, "--versions", version, "--user", "admin", "--password", "wrong") as p:
        res = p.connected
        assert res["rc"] == "EAUTH", res
        assert res["error"]["code"] == "Memgraph.ClientError.Security.Unauthenticated"
        assert res["error"]["message"] == "Authentication failure"


@pytest.mark.parametrize("version", ["5.2", "4.4", "4.1"])
def test_show_replication_role(emulator, version):
    e = emulator("3.12.0")
    with Probe(e.port, "--versions", version) as p:
        ok(p.connected)
        res = ok(p.run("SHOW REPLICATION ROLE"))
        assert res["fields"] == ["replication role"]
        assert res["rows"] == [["main"]]
        assert res["summary"]["type"] == "rw" and res["summary"]["has_more"] is False


@pytest.mark.parametrize("version", ["5.2", "4.4"])
def test_syntax_error_then_reset_then_query(emulator, version):
    e = emulator("3.12.0")
    with Probe(e.port, "--versions", version) as p:
        ok(p.connected)
        res = p.run("SHOW NONSENSE ROLE")
        assert res["rc"] == "EFAILURE" and res["state"] == "READY", res
        assert res["error"]["code"] == CLIENT_ERROR and res["error"]["class"] == "client"
        assert res["error"]["message"]
        assert ok(p.run("SHOW REPLICATION ROLE"))["rows"] == [["main"]]


def test_replication_error_arrives_on_pull_and_is_recovered(emulator):
    e = emulator("3.12.0")
    with Probe(e.port) as p:
        ok(p.connected)
        ok(p.run("SET REPLICATION ROLE TO REPLICA WITH PORT 10000"))
        res = p.run("REGISTER REPLICA r1 SYNC TO '127.0.0.1:10001'")
        assert res["rc"] == "EFAILURE" and res["state"] == "READY", res
        assert res["error"]["code"] == CLIENT_ERROR
        assert ok(p.run("SHOW REPLICATION ROLE"))["rows"] == [["replica"]]


@pytest.mark.parametrize("version", ["5.2", "4.4"])
def test_graph_values_batches_and_transactions(emulator, version):
    e = emulator("3.12.0")
    with Probe(e.port, "--versions", version, "--fetch-size", 3) as p:
        ok(p.connected)
        ok(p.cmd("begin"))
        res = ok(p.run("CREATE (n:Person {name: 'Alice'}) RETURN n"))
        node = res["rows"][0][0]["$struct"]
        assert node["tag"] == "0x4E" and len(node["fields"]) == (4 if version == "5.2" else 3)
        ok(p.cmd("commit"))
        ok(p.cmd("begin"))
        ok(p.run("CREATE (:Person {name: 'Bob'})"))
        ok(p.cmd("rollback"))
        assert ok(p.run("MATCH (n:Person) RETURN n.name AS name"))["rows"] == [["Alice"]]
        res = ok(p.run("UNWIND range(1, 10) AS i RETURN i"))
        assert [r[0] for r in res["rows"]] == list(range(1, 11)) and res["pulls"] == 4
        params = {"d": {"$struct": {"tag": "0x44", "fields": [7905]}}, "l": [1, "two", None]}
        assert ok(p.run("RETURN $d AS d, $l AS l", params))["rows"] == [[params["d"], params["l"]]]


def test_deadline_against_a_frozen_emulator(emulator):
    e = emulator("3.12.0")
    with Probe(e.port, "--query-timeout-ms", 800) as p:
        ok(p.connected)
        os.killpg(e.proc.pid, signal.SIGSTOP)
        try:
            res = p.run("SHOW REPLICATION ROLE", timeout=20)
            assert res["rc"] == "ETIMEDOUT" and 750 <= res["elapsed_ms"] <= 2500, res
        finally:
            os.killpg(e.proc.pid, signal.SIGCONT)


def test_tls_with_ca_verification(emulator, tmp_path):
    ca = make_pki(tmp_path / "pki")
    e = emulator("3.12.0", tls_dir=tmp_path / "pki")
    with Probe(e.port, "--tls", "verify", "--ca", ca, "--server-name", "localhost") as p:
        ok(p.connected)
        assert ok(p.run("SHOW REPLICATION ROLE"))["rows"] == [["main"]]
    with Probe(e.port, "--tls", "verify", "--ca", ca, "--server-name", "mg-0.example") as p:
        assert p.connected["rc"] == "ETLS", p.connected
    with Probe(e.port, "--connect-timeout-ms", 2000) as p:  # plain Bolt to a TLS port fails cleanly
        assert p.connected["rc"] == "ENOVERSION", p.connected
