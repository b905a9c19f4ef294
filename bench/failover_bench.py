#!/usr/bin/env python3
"""Failover and switchover benchmarks (issue 5) on the real local control plane with emulator pods.

Every trial runs under write load through the `<name>-write` Service (test/e2e/chaos.py's ChaosWriter: a fresh
connection per write, the Service re-resolved per write, as a client with a deadline would) and measures, from
the fault, the first write acknowledged by a pod other than the old MAIN.

  kill      the MAIN's Memgraph process SIGKILLed and kept down (killed again every time the kubelet restarts it)
            until a write was acknowledged by the new MAIN; then it may come back (the operator demotes it and
            re-seeds it if it diverged). Why not a single SIGKILL: the test kubelet restarts a killed container after
            0.5 s and the emulator answers again within ~1 s, i.e. about when failoverDelaySec 1 expires, so a single
            kill measures a race between "same MAIN back" and "failover". Why not a pod deletion with grace 0: the
            StatefulSet controller recreates the same pod name within about a second, the same race. A process
            that keeps dying is the case failover exists for (a crashed node, a crash-looping Memgraph).
  freeze    the MAIN's process SIGSTOPped (alive, its kernel still accepts connections, nothing answers: the
            operator must decide on Bolt timeouts), thawed once the new MAIN acknowledged a write.
  switchover  spec.switchover.targetOrdinal set to a replica's ordinal (merge patch); write-unavailable time =
            first write acknowledged by the new MAIN minus the last one acknowledged by the old MAIN.

For each trial it also records the operator's own status.lastFailover (writeUnavailableMs, behind, reason) and
waits, before the next trial, until the cluster is Ready again and SHOW REPLICAS on the MAIN lists every other pod
ready with behind 0. Cluster: 3 instances, 1 SYNC + 1 ASYNC replica (syncMode SYNC), failoverDelaySec 1,
healthCheckIntervalSec 1. Writers: 2 threads, 0.02 s pause between writes, client deadline 0.5 s (connect and
answer), so a write stuck on the old MAIN delays the measurement by at most that.

Usage (a control plane is started unless MGO_CONTROL_PLANE_DIR names a running one):
  .venv/bin/python bench/failover_bench.py [--trials 30] [--out bench/results/failover.md] [kill freeze switchover]
The operator binary: MGO_OPERATOR_BIN, else $MGO_BUILD_DIR/src/cmd/memgraph-operator, else the newest build.
"""

import argparse
import datetime
import json
import logging
import os
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
sys.path.insert(0, HERE)

from operator_bench import Testbed, delete_namespace, machine, new_namespace, version  # noqa: E402

import chaos  # noqa: E402

CLIENT_DEADLINE_S = 0.5
socket.setdefaulttimeout(CLIENT_DEADLINE_S)  # chaos.py set 2 s; a shorter deadline sharpens the measurement
logging.getLogger("neo4j").setLevel(logging.CRITICAL)  # failed writes are counted, not logged
NAME = "mg"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Load:
    """Two ChaosWriters; acks merged in time order."""

    def __init__(self, c, ns):
        self.writers = [chaos.ChaosWriter(c, ns, NAME, label="B", interval=0.02, timeout=CLIENT_DEADLINE_S)
                        for _ in range(2)]
        for i, w in enumerate(self.writers):
            w._next = 1 + i * 10_000_000  # distinct ids per writer

    def start(self):
        for w in self.writers:
            w.start()
        return self

    def stop(self):
        for w in self.writers:
            w.stop()

    def acks(self):
        return sorted(((t, ip) for w in self.writers for _, t, ip in list(w.acked)), key=lambda a: a[0])

    def failed(self):
        return sum(len(w.failed) for w in self.writers)


def make_cluster(cp, c, ns):
    new_namespace(cp, ns)
    c.make_cluster(ns, NAME, 3, replication={"mode": "ASYNC", "syncReplicas": 1, "syncMode": "SYNC",
                                             "healthCheckIntervalSec": 1},
                   failover={"enabled": True, "failoverDelaySec": 1})
    c.wait_ready(ns, NAME, timeout=300)
    c.wait_replication(ns, NAME, expected_replicas=2, timeout=120)


def settled(cp, c, ns):
    """Ready, one labelled MAIN, every other pod registered ready with behind 0."""
    def ok():
        if not c.is_ready(ns, NAME):
            return False
        rows = c.replication_ok(ns, NAME, expected_replicas=2)
        return rows and all(((r.get("data_info") or {}).get("memgraph") or {}).get("behind") == 0
                            for r in rows.values())
    cp.wait_for(ok, timeout=180, interval=0.25, message=f"{ns}/{NAME} settled")


def first_ack_by_other(load, ip_of_old, since, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t, ip in load.acks():
            if t >= since and ip != ip_of_old:
                return t, ip
        time.sleep(0.01)
    return None, None


def wait_last_failover(c, ns, before, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lf = c.cluster_status(ns, NAME).get("lastFailover")
        if lf and lf != before:
            return lf
        time.sleep(0.2)
    return None


def trial(cp, c, ns, kind, i):
    old = c.cluster_status(ns, NAME)["currentMain"]
    old_ip = cp.pod_ip(ns, old)
    before = c.cluster_status(ns, NAME).get("lastFailover")
    load = Load(c, ns).start()
    down = None
    try:
        # a few acknowledged writes on the old MAIN first
        cp.wait_for(lambda: sum(1 for _, ip in load.acks() if ip == old_ip) >= 5, timeout=30, interval=0.02,
                    message="writes on the MAIN before the fault")
        target = None
        if kind == "kill":
            t_fault = time.monotonic()
            down = chaos.KeepDown(cp, ns, old).start()
        elif kind == "freeze":
            t_fault = time.monotonic()
            cp.freeze_pod(ns, old, container="memgraph")
        else:
            ordinals = sorted(int(p.rsplit("-", 1)[1]) for p in c.pod_roles(ns, NAME))
            cur = int(old.rsplit("-", 1)[1])
            target = ordinals[(ordinals.index(cur) + 1) % len(ordinals)]
            t_fault = time.monotonic()
            chaos.patch_cluster(cp, ns, NAME, {"spec": {"switchover": {"targetOrdinal": target}}})
        t_ack, new_ip = first_ack_by_other(load, old_ip, t_fault, timeout=120)
    finally:
        if down is not None:
            down.stop()
        if kind == "freeze":
            cp.thaw_pod(ns, old, container="memgraph")
    acks = load.acks()
    load.stop()
    if t_ack is None:
        raise AssertionError(f"{kind} trial {i}: no write acknowledged by another pod within 120 s "
                             f"(status {json.dumps(c.cluster_status(ns, NAME))[:1500]})")
    last_old = max((t for t, ip in acks if ip == old_ip and t < t_ack), default=t_fault)
    lf = wait_last_failover(c, ns, before)
    settled(cp, c, ns)
    new = c.cluster_status(ns, NAME)["currentMain"]
    row = {"trial": i + 1, "from": old, "to": new, "fault_to_ack_s": t_ack - t_fault,
           "gap_s": t_ack - last_old, "failed_writes": load.failed(),
           "op_write_unavailable_ms": (lf or {}).get("writeUnavailableMs"), "op_behind": (lf or {}).get("behind"),
           "op_reason": (lf or {}).get("reason"), "kills": len(down.kills) if down else None}
    log(f"{kind} {i + 1}: {old} -> {new}: fault->ack {row['fault_to_ack_s']:.3f}s, gap {row['gap_s']:.3f}s, "
        f"operator {row['op_write_unavailable_ms']} ms ({row['op_reason']})")
    return row


def run_kind(cp, c, kind, trials, results, save):
    """Runs the trials of one kind into results[kind]; save() after each trial (a killed run keeps its numbers)."""
    ns = f"bench-fo-{kind}-{os.getpid()}"
    make_cluster(cp, c, ns)
    rows = results.setdefault(kind, [])
    try:
        for i in range(trials):
            rows.append(trial(cp, c, ns, kind, i))
            save()
    finally:
        delete_namespace(cp, ns)
    return rows


def stats(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    return (f"p50 {chaos.percentile(vals, 50):.2f} / p99 {chaos.percentile(vals, 99):.2f} / min {min(vals):.2f} / "
            f"max {max(vals):.2f} / mean {statistics.mean(vals):.2f}")


TITLES = {"kill": "MAIN killed (SIGKILL, kept down until failover)", "freeze": "MAIN frozen (SIGSTOP)",
          "switchover": "Switchover (spec.switchover.targetOrdinal)"}


def report(args, binary, results, quiet=False):
    out = ["# Failover and switchover benchmarks (issue 5)", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
           f"- machine: {machine()}",
           f"- command: `{' '.join(['.venv/bin/python', 'bench/failover_bench.py', *sys.argv[1:]])}` "
           "(or `bash bench/run-failover-bench.sh`)",
           f"- operator binary: `{os.path.relpath(binary, ROOT)}` (`{version(binary)}`)",
           "- cluster: 3 instances, 1 SYNC + 1 ASYNC replica, `failoverDelaySec: 1`, `healthCheckIntervalSec: 1`; "
           "load: 2 writers through the write Service (new connection per write, 0.02 s pause, 0.5 s client "
           "deadline)",
           "- what is measured: see the docstring of `bench/failover_bench.py` (why a kept-down kill)", "",
           "| fault | trials | fault → first ack by the new MAIN (s) | last ack old → first ack new (s) | "
           "operator writeUnavailableMs (ms) |", "|---|---|---|---|---|"]
    for kind, rows in results.items():
        out.append(f"| {TITLES[kind]} | {len(rows)} | {stats([r['fault_to_ack_s'] for r in rows])} | "
                   f"{stats([r['gap_s'] for r in rows])} | {stats([r['op_write_unavailable_ms'] for r in rows])} |")
    out.append("")
    for kind, rows in results.items():
        out += [f"## {TITLES[kind]}", "",
                "| trial | from → to | fault → ack (s) | gap (s) | failed writes | operator ms | behind | reason |",
                "|---|---|---|---|---|---|---|---|"]
        out += [f"| {r['trial']} | {r['from']} → {r['to']} | {r['fault_to_ack_s']:.3f} | {r['gap_s']:.3f} | "
                f"{r['failed_writes']} | {r['op_write_unavailable_ms']} | {r['op_behind']} | {r['op_reason']} |"
                for r in rows]
        out.append("")
    text = "\n".join(out)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    with open(args.out + ".json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    if not quiet:
        print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="*", default=["kill", "freeze", "switchover"])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "failover.md"))
    args = ap.parse_args()

    results = {}
    with Testbed("fobench") as tb:
        cp, c, binary = tb.cp, tb.clusters, tb.binary
        try:
            for kind in args.what:
                run_kind(cp, c, kind, args.trials, results, lambda: report(args, binary, results, quiet=True))
            report(args, binary, results)
        except BaseException:
            print(f"operator log: {tb.op.log_path}\n{tb.op.tail(60)}", file=sys.stderr)
            if results:
                report(args, binary, results)
            raise


if __name__ == "__main__":
    main()
