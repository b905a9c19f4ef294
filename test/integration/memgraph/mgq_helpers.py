"""Helpers for the memgraph-module integration tests: the mg_probe driver (C, built by CMake) and emulator
processes started with the emulator's own test kit (test/memgraph-emulator/tests/emu_testkit.py)."""
import json
import struct
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "test" / "memgraph-emulator" / "tests"))

# The emulator's own test kit: Emu starts an emulator process on a free loopback port (its README).
from emu_testkit import Emu, wait_until  # noqa: E402,F401


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def probe_binary() -> Path:
    """$MGO_BUILD_DIR (the test runner sets build/debug); without it build/mg (development), then build/debug."""
    if os.environ.get("MGO_BUILD_DIR"):
        candidates = [Path(os.environ["MGO_BUILD_DIR"])]
    else:
        candidates = [ROOT / "build" / "mg", ROOT / "build" / "debug"]
    for build in candidates:
        path = build / "test" / "unit" / "memgraph" / "mg_probe"
        if path.is_file():
            return path
    raise RuntimeError(f"mg_probe is missing under {[str(c) for c in candidates]}: build the project first")


class Probe:
    """One struct mg_conn in a child process; each command answers one JSON object."""

    def __init__(self, port, *args, host="127.0.0.1", timeout=30.0):
        cmd = [str(probe_binary()), "--host", host, "--port", str(port), *map(str, args)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        ready = self._read(timeout)
        assert ready == {"ready": True}, ready

    def _read(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("mg_probe did not answer in time")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"mg_probe exited (rc={self.proc.wait()}): {self.proc.stderr.read()}")
                return json.loads(line)

    def cmd(self, *fields, timeout=60.0):
        self.proc.stdin.write("\t".join(str(f) for f in fields) + "\n")
        self.proc.stdin.flush()
        return self._read(timeout)

    def ok(self, *fields, **kw):
        res = self.cmd(*fields, **kw)
        assert res["rc"] == "OK", res
        return res

    def fails(self, cls, *fields, rc="EFAILURE", **kw):
        res = self.cmd(*fields, **kw)
        assert (res["rc"], res["cls"]) == (rc, cls), res
        return res

    def replicas(self):
        return {r["name"]: r for r in self.ok("replicas")["replicas"]}

    def close(self, check=True):
        """Ends the driver; a non-zero exit (LeakSanitizer, ASan) is a failure."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert not check or self.proc.returncode == 0, f"mg_probe exited with {self.proc.returncode}: {err}"

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close(check=exc_type is None)


def make_pki(d: Path):
    """A CA and a server certificate for localhost / 127.0.0.1: returns (ca.pem, server.crt, server.key)."""
    d.mkdir(parents=True, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d, timeout=60)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=mg-test-ca")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    return d / "ca.pem", d / "server.crt", d / "server.key"


class FakeBolt:
    """A scripted Bolt 5.2 peer on loopback whose answers the test chooses: answers maps a query text to
    (fields, rows, delay_s before each row) or to ("FAILURE", code, message). Any client bytes are accepted,
    so the test does not depend on how the C client encodes its requests."""

    def __init__(self, answers):
        import threading

        from mgemu import packstream
        from mgemu.packstream import Structure
        self.ps, self.Structure = packstream, Structure
        self.answers = answers
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.1)  # so stop() is noticed
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            try:
                self._session(conn)
            except (OSError, ConnectionError):
                pass
            finally:
                conn.close()

    def _recv_exact(self, conn, n):
        buf = b""
        while len(buf) < n:
            part = conn.recv(n - len(buf))
            if not part:
                raise ConnectionError("closed")
            buf += part
        return buf

    def _recv_msg(self, conn):
        buf = b""
        while True:
            (n,) = struct.unpack(">H", self._recv_exact(conn, 2))
            if n == 0 and buf:
                return self.ps.decode_message(buf)
            buf += self._recv_exact(conn, n)

    def _send(self, conn, tag, *fields):
        conn.sendall(self.ps.chunk(self.ps.encode(self.Structure(tag, list(fields)))))

    def _session(self, conn):
        self._recv_exact(conn, 20)
        conn.sendall(b"\x00\x00\x02\x05")
        pending = None
        while True:
            msg = self._recv_msg(conn)
            if msg.tag in (0x01, 0x6A, 0x0F):  # HELLO, LOGON, RESET
                self._send(conn, 0x70, {"server": "Neo4j/v5.11.0 compatible graph database server - Memgraph",
                                        "connection_id": "fake"} if msg.tag == 0x01 else {})
            elif msg.tag == 0x02:  # GOODBYE
                return
            elif msg.tag == 0x10:  # RUN
                pending = self.answers.get(msg.fields[0], ("FAILURE", "Memgraph.ClientError.MemgraphError."
                                                           "MemgraphError", "unknown query"))
                if pending[0] == "FAILURE":
                    self._send(conn, 0x7F, {"code": pending[1], "message": pending[2]})
                    self._recv_msg(conn)  # the pipelined PULL
                    self._send(conn, 0x7E)
                    continue
                self._send(conn, 0x70, {"fields": pending[0], "t_first": 0})
            elif msg.tag in (0x3F, 0x2F):  # PULL, DISCARD
                fields, rows, delay = pending
                for row in rows if msg.tag == 0x3F else []:
                    time.sleep(delay)
                    self._send(conn, 0x71, row)
                self._send(conn, 0x70, {"type": "r", "t_last": 0, "has_more": False})

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()
