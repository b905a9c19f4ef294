"""Helpers for the C Kubernetes client's integration tests (imported by conftest.py and the tests).

`kube` runs build/<type>/test/unit/kube/k8s_itest (the sanitizer-built driver of src/kube) with a kubeconfig
and returns its JSON result line; `operator_bin` is the memgraph-operator binary. Both come from
MGO_BUILD_DIR (default build/debug). A non-zero exit of the driver (for example LeakSanitizer's) fails the test.
"""

import json
import os
import subprocess
import threading
import queue
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def build_dir():
    return os.environ.get("MGO_BUILD_DIR") or os.path.join(ROOT, "build", "debug")


def binary(*parts):
    path = os.path.join(build_dir(), *parts)
    assert os.path.exists(path), f"{path} is missing: build first (cmake --build build/debug)"
    return path


class Kube:
    """Runs k8s_itest commands against one kubeconfig."""

    def __init__(self, kubeconfig, extra_env=None):
        self.bin = binary("test", "unit", "kube", "k8s_itest")
        self.env = dict(os.environ, KUBECONFIG=kubeconfig, **(extra_env or {}))

    def __call__(self, *args, timeout=60, env=None):
        r = subprocess.run([self.bin, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                           env=dict(self.env, **(env or {})), check=False)
        assert r.returncode == 0, f"k8s_itest {args} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
        return json.loads(r.stdout.strip().splitlines()[-1])

    def ok(self, *args, **kw):
        res = self(*args, **kw)
        assert res["rc"] == "OK", f"k8s_itest {args}: {res}"
        return res["body"]

    def spawn(self, *args, env=None):
        return LineProcess([self.bin, *map(str, args)], env=dict(self.env, **(env or {})))


class LineProcess:
    """A child process whose stdout lines (JSON) are collected by a thread; stdin stays open until close()."""

    def __init__(self, cmd, env):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.lines = []
        self.new = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = {"event": "unparsable", "text": line}
            with self._lock:
                self.lines.append(obj)

    def events(self, kind=None):
        with self._lock:
            return [e for e in self.lines if kind is None or e.get("event") == kind]

    def wait_for(self, predicate, timeout=30, message="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            val = predicate(self.events())
            if val:
                return val
            assert self.proc.poll() is None, f"process exited {self.proc.returncode}: {self.proc.stderr.read()}"
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {message}; lines: {self.events()[-20:]}")

    def send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stats(self, timeout=10):
        before = len(self.events("stats"))
        self.send("stats")
        return self.wait_for(lambda ev: [e for e in ev if e.get("event") == "stats"][before:] or None,
                             timeout=timeout, message="stats")[0]

    def close(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("driver did not stop within its deadline after stdin closed")
        self._reader.join(timeout=5)
        err = self.proc.stderr.read()
        assert self.proc.returncode == 0, f"driver exited {self.proc.returncode}: {err}"
