"""The memgraph-operator binary on the real control plane with its least-privilege ServiceAccount: connect and
report (--once), leader hand-over between two processes (graceful release, and expiry after SIGKILL)."""

import datetime
import json
import secrets
import signal
import subprocess
import threading
import time

import pytest

pytestmark = pytest.mark.controlplane

LEASE_NS = "memgraph-operator-system"
LOOPBACK_HTTP = ["--http-addr", "127.0.0.1", "--http-port", "0"]  # tests never listen beyond loopback


class Operator:
    """A `memgraph-operator run` process whose JSON log lines are collected."""

    def __init__(self, binary, kubeconfig, identity, lease, *extra):
        cmd = [binary, "run", "--kubeconfig", kubeconfig, "--identity", identity, "--lease-name", lease,
               "--lease-duration", "4", "--renew-deadline", "3", "--retry-period", "1", "--log-format", "json",
               *LOOPBACK_HTTP, *extra]
        self.identity = identity
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.lines.append({"msg": "unparsable", "text": line.rstrip()})

    def logged(self, msg):
        return [entry for entry in list(self.lines) if entry.get("msg") == msg]

    def wait_logged(self, msg, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.logged(msg):
                return self.logged(msg)[0]
            assert self.proc.poll() is None or self.logged(msg), f"{self.identity} exited early: {self.lines}"
            time.sleep(0.1)
        raise AssertionError(f"{self.identity} never logged {msg!r}: {self.lines}")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return rc


@pytest.fixture
def operators(control_plane, operator_bin):
    started = []

    def start(identity, lease, *extra):
        op = Operator(operator_bin, control_plane.operator_kubeconfig, identity, lease, *extra)
        started.append(op)
        return op

    yield start
    for op in started:
        if op.proc.poll() is None:
            op.stop(signal.SIGKILL)


def log_time(entry):
    return datetime.datetime.strptime(entry["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")


def lease_holder(control_plane, name):
    status, obj = control_plane.api.request("GET",
                                            f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NS}/leases/{name}")
    assert status == 200, obj
    return obj["spec"].get("holderIdentity", "")


def test_once_connects_and_reports(control_plane, operator_bin):
    r = subprocess.run([operator_bin, "run", "--kubeconfig", control_plane.operator_kubeconfig, "--once",
                        "--log-format", "json", *LOOPBACK_HTTP], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stderr.splitlines()]
    connected = [entry for entry in lines if entry["msg"] == "connected"]
    assert connected, lines
    assert connected[0]["server"] == control_plane.server
    assert connected[0]["server_version"].startswith("v1.")
    # the operator's ServiceAccount may not list namespaces; it falls back to its own Leases
    assert connected[0]["visible"] == "leases"


def test_leader_hand_over_on_graceful_stop(control_plane, operators):
    lease = f"itest-{secrets.token_hex(4)}"
    a = operators("op-a", lease)
    a.wait_logged("leading")
    assert lease_holder(control_plane, lease) == "op-a"
    b = operators("op-b", lease)
    b.wait_logged("waiting for leadership")
    # A keeps renewing (every retry period, 1 s): B must not take over. Six renewals seen after B started span
    # more than the lease duration (4 s), so B tried against a lease that would have expired without them.
    renewals = set()

    def renewed_six_times():
        status, obj = control_plane.api.request(
            "GET", f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NS}/leases/{lease}")
        assert status == 200, obj
        renewals.add(obj["spec"].get("renewTime"))
        return len(renewals) >= 7  # the first value may predate B

    control_plane.wait_for(renewed_six_times, timeout=30, interval=0.2, message="six renewals of the lease by A")
    assert not b.logged("leading"), b.lines
    assert lease_holder(control_plane, lease) == "op-a"

    assert a.stop() == 0
    released = a.logged("lease released")
    assert released, a.lines
    leading = b.wait_logged("leading", timeout=10)
    took = (log_time(leading) - log_time(released[0])).total_seconds()
    assert took < 3, f"B took {took:.1f}s after the release: a released Lease must be taken at once"
    assert lease_holder(control_plane, lease) == "op-b"
    assert b.stop() == 0
    assert lease_holder(control_plane, lease) == ""  # released on shutdown


def test_leader_expiry_after_crash(control_plane, operators):
    lease = f"itest-{secrets.token_hex(4)}"
    a = operators("op-crash", lease)
    a.wait_logged("leading")
    b = operators("op-next", lease)
    b.wait_logged("waiting for leadership")
    killed_at = time.monotonic()
    a.stop(signal.SIGKILL)  # no release: B must wait for the lease to expire
    b.wait_logged("leading", timeout=20)
    waited = time.monotonic() - killed_at
    assert waited >= 3, f"B took over after {waited:.1f}s, before the 4 s lease could have expired"
    assert lease_holder(control_plane, lease) == "op-next"
    spec_transitions = control_plane.api.request(
        "GET", f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NS}/leases/{lease}")[1]["spec"]["leaseTransitions"]
    assert spec_transitions == 1
    assert b.stop() == 0


def test_lease_namespace_forbidden_fails_fast(control_plane, operator_bin):
    # the operator's Role covers Leases only in its own namespace: elsewhere it must fail clearly, not hang
    r = subprocess.run([operator_bin, "run", "--kubeconfig", control_plane.operator_kubeconfig, "--identity",
                        "op-forbidden", "--lease-namespace", "default", "--log-format", "json", *LOOPBACK_HTTP],
                       capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode == 1, r.stderr
    lines = [json.loads(line) for line in r.stderr.splitlines()]
    failed = [e for e in lines if e.get("error") == "EFORBIDDEN"]
    assert failed and failed[0]["http"] == "403" and "forbidden" in failed[0]["detail"], lines
    assert not any(e["msg"] in ("connected", "leading") for e in lines)


def test_leader_steps_down_when_the_api_is_unreachable(control_plane, operators):
    lease = f"itest-{secrets.token_hex(4)}"
    a = operators("op-isolated", lease)
    a.wait_logged("leading")
    control_plane.stop_apiserver()
    stopped_at = time.monotonic()
    try:
        # renewals fail from now on: after the 3 s renew deadline the leader must stop acting and exit (the
        # Deployment restarts it), before the 4 s lease could be taken over by another replica
        rc = a.proc.wait(timeout=30)
        took = time.monotonic() - stopped_at
    finally:
        control_plane.start_apiserver()
    a._reader.join(timeout=5)
    assert rc == 1, a.lines
    lost = [e for e in a.lines if e.get("msg", "").startswith("leadership lost")]
    assert lost and lost[0]["level"] == "error", a.lines
    assert took < 10, f"the leader kept going for {took:.1f}s without its Lease"
