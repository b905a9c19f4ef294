"""Helpers for the S3 client's integration tests: a real S3 server (versitygw, built by
tools/versitygw/build.sh) on a free loopback port over a temporary directory, and `S3`, which runs
build/<type>/test/unit/s3/s3_itest (the sanitizer-built driver of src/s3, found through MGO_BUILD_DIR,
default build/debug) and returns its JSON result line. A non-zero exit of the driver (for example
LeakSanitizer's) fails the test."""

import json
import os
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ACCESS = "itestaccess"
SECRET = "itest-Secret-0123456789abcdefXYZ"


def build_dir():
    return os.environ.get("MGO_BUILD_DIR") or os.path.join(ROOT, "build", "debug")


def driver_path():
    path = os.path.join(build_dir(), "test", "unit", "s3", "s3_itest")
    assert os.path.exists(path), f"{path} is missing: build first (cmake --build <build dir>)"
    return path


def versitygw_path():
    if os.environ.get("VERSITYGW_BIN"):
        return os.environ["VERSITYGW_BIN"]
    out = subprocess.run([os.path.join(ROOT, "tools", "versitygw", "build.sh")], check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return os.path.join(out, "versitygw")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=30, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Gateway:
    """versitygw posix over root_dir; start() returns once its port accepts connections. It listens on 127.0.0.1;
    `endpoint` names host_ip (a control plane's `host_ip`, where its pods reach the host's loopback)."""

    def __init__(self, root_dir, port=None, host_ip="127.0.0.1"):
        self.root = root_dir
        self.host_ip = host_ip
        self.port = port or free_port()
        self.proc = None
        self.bin = versitygw_path()
        os.makedirs(root_dir, exist_ok=True)

    @property
    def endpoint(self):
        return f"http://{self.host_ip}:{self.port}"

    def start(self):
        log = open(os.path.join(os.path.dirname(self.root), f"versitygw-{self.port}.log"), "ab")
        self.proc = subprocess.Popen([self.bin, "--access", ACCESS, "--secret", SECRET, "--port",
                                      f"127.0.0.1:{self.port}", "posix", self.root],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(lambda: self.proc.poll() is not None or port_open(self.port), timeout=30,
                 message=f"versitygw on port {self.port}")
        assert self.proc.poll() is None, "versitygw exited at start"

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class S3:
    """Runs s3_itest commands against one gateway and bucket."""

    def __init__(self, gateway, bucket, secret=SECRET):
        self.bin = driver_path()
        self.env = dict(os.environ, S3_ENDPOINT=gateway.endpoint, S3_BUCKET=bucket, S3_ACCESS_KEY=ACCESS,
                        S3_SECRET_KEY=secret)

    def run(self, *args, timeout=300, env=None):
        r = subprocess.run([self.bin, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                           env=dict(self.env, **(env or {})), check=False)
        assert r.returncode == 0, f"s3_itest {args} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
        return r

    def __call__(self, *args, **kw):
        return json.loads(self.run(*args, **kw).stdout.strip().splitlines()[-1])

    def ok(self, *args, **kw):
        res = self(*args, **kw)
        assert res["rc"] == "OK", f"s3_itest {args}: {res}"
        return res

    def spawn(self, *args):
        return subprocess.Popen([self.bin, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env)
