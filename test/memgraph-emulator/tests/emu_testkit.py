"""Helpers for the emulator tests: a raw Bolt client and emulator processes on free loopback ports."""
import os
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EMU_DIR = os.path.dirname(HERE)
EXECUTABLE = os.path.join(EMU_DIR, "memgraph-emulator")
sys.path.insert(0, EMU_DIR)

from mgemu import packstream  # noqa: E402
from mgemu.packstream import Structure  # noqa: E402

CLIENT_ERROR = "Memgraph.ClientError.MemgraphError.MemgraphError"
TRANSIENT_ERROR = "Memgraph.TransientError.MemgraphError.MemgraphError"


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # keep polling through transient errors
            last = e
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class BoltFailure(Exception):
    def __init__(self, meta, where):
        super().__init__("%s on %s: %s" % (meta.get("code"), where, meta.get("message")))
        self.code = meta.get("code")
        self.message = meta.get("message")
        self.where = where


class RawBolt:
    """A deliberately small Bolt client for wire-level assertions."""

    def __init__(self, host, port, versions=((5, 2), (4, 4), (4, 3), (4, 1)), timeout=10.0, raw_slots=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if raw_slots is None:
            raw_slots = b"".join(bytes([0, 0, mi, ma]) for ma, mi in versions)
            raw_slots += b"\x00" * (16 - len(raw_slots))
        self.sock.sendall(b"\x60\x60\xB0\x17" + raw_slots)
        reply = self._recv_exact(4)
        self.version = (reply[3], reply[2]) if reply else None
        self.last_raw = b""

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                return buf
            buf += chunk
        return buf

    def send(self, tag, *fields):
        self.sock.sendall(packstream.chunk(packstream.encode(Structure(tag, list(fields)))))

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self):
        buf = b""
        while True:
            hdr = self._recv_exact(2)
            if len(hdr) < 2:
                raise ConnectionError("closed")
            (n,) = struct.unpack(">H", hdr)
            if n == 0:
                if buf:
                    break
                continue
            part = self._recv_exact(n)
            if len(part) < n:
                raise ConnectionError("closed")
            buf += part
        self.last_raw = buf
        msg = packstream.decode_message(buf)
        return msg.tag, msg.fields

    def closed(self, timeout=3.0):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
            return data == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def hello(self, auth=None, user_agent="test/1.0"):
        extra = {"user_agent": user_agent} if user_agent is not None else {}
        if self.version[0] < 5 and auth:
            extra.update(auth)
        self.send(0x01, extra)
        tag, f = self.recv()
        if tag != 0x70:
            raise BoltFailure(f[0], "HELLO")
        if self.version[0] >= 5:
            self.send(0x6A, auth or {"scheme": "none"})
            tag, f = self.recv()
            if tag != 0x70:
                raise BoltFailure(f[0], "LOGON")
        return f[0]

    def run(self, query, params=None, extra=None):
        self.send(0x10, query, params or {}, extra or {})
        tag, f = self.recv()
        if tag != 0x70:
            raise BoltFailure(f[0] if f else {}, "RUN")
        return f[0]

    def pull(self, n=-1, qid=None):
        meta = {"n": n}
        if qid is not None:
            meta["qid"] = qid
        self.send(0x3F, meta)
        records = []
        while True:
            tag, f = self.recv()
            if tag == 0x71:
                records.append(f[0])
            elif tag == 0x70:
                return records, f[0]
            elif tag == 0x7F:
                raise BoltFailure(f[0], "PULL")
            else:
                raise AssertionError("unexpected 0x%02X" % tag)

    def reset(self):
        self.send(0x0F)
        while True:
            tag, f = self.recv()
            if tag == 0x70:
                return f[0]
            if tag not in (0x7E, 0x7F, 0x71):
                raise AssertionError("unexpected 0x%02X after RESET" % tag)

    def query(self, q, params=None):
        """RUN+PULL; on failure RESET and re-raise."""
        try:
            meta = self.run(q, params)
            records, summary = self.pull()
        except BoltFailure:
            self.reset()
            raise
        return meta["fields"], records, summary

    def rows(self, q, params=None):
        fields, records, _ = self.query(q, params)
        return [dict(zip(fields, r)) for r in records]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Emu:
    def __init__(self, base_dir, name, version="3.12.0", wal=True, extra=(), env=None, host="127.0.0.1"):
        self.name = name
        self.version = version
        self.host = host
        self.port = free_port(host)
        self.data_dir = os.path.join(base_dir, name, "data")
        self.log_path = os.path.join(base_dir, name, "stderr.log")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.extra = list(extra)
        self.wal = wal
        self.env = dict(env or {})
        self.proc = None
        self.clients = []

    def args(self):
        a = [EXECUTABLE, "--bolt-port=%d" % self.port, "--bolt-address=%s" % self.host,
             "--data-directory=%s" % self.data_dir, "--also-log-to-stderr", "--log-level=INFO",
             "--replication-replica-check-frequency-sec=1", "--storage-properties-on-edges=true"]
        if self.wal:
            a += ["--storage-wal-enabled=true", "--storage-snapshot-interval-sec=300"]
        return a + self.extra

    def start(self, wait=True):
        env = dict(os.environ)
        env.pop("MEMGRAPH_USER", None)
        env.pop("MEMGRAPH_PASSWORD", None)
        env["MGO_EMULATE_VERSION"] = self.version
        env.update(self.env)
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args(), stdout=self.log_file, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        if wait:
            self.wait_listening()
        return self

    def wait_listening(self, timeout=10.0):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("emulator exited with %s: %s" % (self.proc.returncode, self.log()))
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return True
            except OSError:
                return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if up():
                return
            time.sleep(0.03)
        raise AssertionError("emulator %s not listening: %s" % (self.name, self.log()))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def client(self, auth=None, versions=((5, 2), (4, 4), (4, 3), (4, 1))):
        c = RawBolt(self.host, self.port, versions=versions)
        c.hello(auth)
        self.clients.append(c)
        return c

    def q(self, query, params=None):
        c = self.client()
        try:
            return c.rows(query, params)
        finally:
            c.close()

    def send_signal(self, sig):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        for c in self.clients:
            c.close()
        self.clients = []
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.send_signal(signal.SIGCONT)
            self.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.send_signal(signal.SIGKILL)
                self.proc.wait(5)
        self.log_file.close()
        self.proc = None

    def kill(self):
        self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()


def replicas_by_name(inst):
    return {r["name"]: r for r in inst.q("SHOW REPLICAS")}
