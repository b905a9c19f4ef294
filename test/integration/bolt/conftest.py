"""Fixtures for the C Bolt client against real peers: Neo4j 5.26 (tools/neo4j) and the Memgraph emulator."""
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NEO4J_USER = "tester"
NEO4J_PASSWORD = "operator-test-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_pki(d: Path):
    """A CA and a server certificate for localhost / 127.0.0.1 (Neo4j wants private.key and public.crt)."""
    d.mkdir(parents=True, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=bolt-test-ca")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "private.key", "-out", "server.csr",
         "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "public.crt", "-days", "2", "-extfile", "ext.cnf")
    return d / "ca.pem"


class Neo4jPeer:
    def __init__(self, cache: Path, workdir: Path, auth: bool, tls_dir: Path | None):
        self.port = free_port()
        self.auth = auth
        workdir.mkdir(parents=True, exist_ok=True)
        args = ["java", "-Xmx512m", "-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", f"{cache}/lib/*:{cache}/classes", "BoltPeer", "--port", str(self.port),
                "--dir", str(workdir / "db")]
        if auth:
            args += ["--auth", NEO4J_USER, NEO4J_PASSWORD]
        if tls_dir:
            args += ["--tls-dir", str(tls_dir)]
        self.log = open(workdir / "neo4j.log", "w+")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=workdir)

    def wait_ready(self, deadline: float):
        while time.monotonic() < deadline:
            self.log.seek(0)
            if "BOLT-PEER READY" in self.log.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.log.seek(0)
        tail = self.log.read()[-3000:]
        raise RuntimeError(f"Neo4j on port {self.port} did not become ready (rc={self.proc.poll()}):\n{tail}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def neo4j_cache() -> Path:
    out = subprocess.run(["bash", str(ROOT / "tools" / "neo4j" / "build.sh")], check=True, capture_output=True,
                         text=True, timeout=1800)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def neo4j_peers(neo4j_cache, tmp_path_factory):
    """Two Neo4j 5.26 instances on loopback: auth on (user tester, TLS optional) and auth off."""
    base = tmp_path_factory.mktemp("neo4j")
    ca = make_pki(base / "pki")
    peers = {"auth": Neo4jPeer(neo4j_cache, base / "auth", True, base / "pki"),
             "noauth": Neo4jPeer(neo4j_cache, base / "noauth", False, None)}
    try:
        deadline = time.monotonic() + 240
        for p in peers.values():
            p.wait_ready(deadline)
        peers["ca"] = ca
        yield peers
    finally:
        for key in ("auth", "noauth"):
            peers[key].stop()
