"""Runs the C client's driver program (bolt_probe, built by CMake) and talks to it line by line."""
import json
import os
import select
import subprocess
import time
from pathlib import Path


def probe_binary() -> Path:
    build = os.environ.get("MGO_BUILD_DIR", str(Path(__file__).resolve().parents[3] / "build" / "debug"))
    path = Path(build) / "test" / "unit" / "bolt" / "bolt_probe"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: build the project first (cmake --build build/debug)")
    return path


class Probe:
    """One C client connection. `connected` is the JSON line describing bolt_connect's outcome."""

    def __init__(self, port, *args, timeout=30.0):
        cmd = [str(probe_binary()), "--host", "127.0.0.1", "--port", str(port), *map(str, args)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.connected = self._read(timeout)

    def _read(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("bolt_probe did not answer in time")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    err = self.proc.stderr.read()
                    raise RuntimeError(f"bolt_probe exited (rc={self.proc.poll()}): {err}")
                return json.loads(line)

    def cmd(self, *fields, timeout=30.0):
        self.proc.stdin.write("\t".join(str(f) for f in fields) + "\n")
        self.proc.stdin.flush()
        return self._read(timeout)

    def run(self, query, params=None, max_rows=None, timeout=30.0):
        fields = ["run", json.dumps(params or {}), query]
        if max_rows is not None:
            fields.append(max_rows)
        return self.cmd(*fields, timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
