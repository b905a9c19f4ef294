#!/usr/bin/env python3
"""Scheduled backups: schedule tick → MemgraphBackup created → Completed, on the real local control plane with
emulator pods and a local versitygw (a real S3 server, loopback port), as test/e2e/test_backup.py sets them up.

Setup: a 3-instance MemgraphCluster with spec.backup.s3 on versitygw (bucket `backups`, the S3 credentials Secret
of test_backup.py) and no schedule; once it is Ready and replicating, a small dataset goes through the `<name>-write`
Service (default 1000 nodes, `UNWIND range(1, n) AS i CREATE (:Item {id: i})`) and the bench waits until every
replica holds it (the default target PreferReplica snapshots a replica). Then spec.backup.schedule is set to
"* * * * *" (every minute, UTC).

What the operator does (src/reconcile/backup_schedule.c, docs/backup.md): the next run is
cron_next(status.lastScheduledBackup, else the cluster's creationTimestamp); in the first pass at or after it, the
operator creates the MemgraphBackup `<cluster>-<YYYYMMDDHHMMSS>` of the latest due time (label
memgraph.io/scheduled=true), sets status.lastScheduledBackup to that time and status.nextScheduledBackup to the
next one, and asks for a pass (next - now) whole seconds later. The tick of a backup is therefore read from its
name (and checked against lastScheduledBackup). A schedule switched on later than the cluster's first minute
catches up at once with one backup for the minute already past: that one (tick before the patch) is listed but
not counted. The schedule is switched on only when at least 15 s remain before the next minute, so such a
catch-up backup has finished before the first counted tick.

Recorded for each scheduled MemgraphBackup: the tick, metadata.creationTimestamp, status.startedAt,
status.completedAt (all three written by the API server / operator with 1 s resolution, truncated), phase,
sizeBytes, the pod and role; in addition, with sub-second resolution, the operator's own log line "scheduled
backup created" (ts with ms) and when this bench's poll (every 0.25 s) first saw the object and saw it Completed.
The S3 object is checked on versitygw's posix root (its size equals sizeBytes).

Usage (a control plane is started unless MGO_CONTROL_PLANE_DIR names a running one):
  .venv/bin/python bench/backup_schedule_bench.py [--ticks 5] [--nodes 1000] [--out bench/results/backup-schedule.md]
The operator binary: MGO_OPERATOR_BIN, else $MGO_BUILD_DIR/src/cmd/memgraph-operator, else the newest build
(bash bench/run-backup-schedule-bench.sh builds the optimized one and exports it).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
sys.path.insert(0, HERE)

from operator_bench import Testbed, delete_namespace, machine, new_namespace, version  # noqa: E402

from harness import GROUP_PATH, bolt_query  # noqa: E402
import test_backup  # noqa: E402  (its S3 Secret and spec.backup helpers; it puts test/integration/s3 on the path)
from s3_itest_driver import ACCESS, SECRET, Gateway  # noqa: E402

NAME = "mg"
SCHEDULE = "* * * * *"
POLL_S = 0.25
LEAD_S = 15  # the schedule is switched on only with at least this much time before the next minute


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)


def parse_time(text):
    """RFC 3339 (…Z, optional fraction) → unix seconds (float), None for none."""
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def fmt_time(ts, frac=0):
    if ts is None:
        return "–"
    d = utc(ts)
    return d.strftime("%H:%M:%S") + (f".{int(round((ts % 1) * 10 ** frac)):0{frac}d}" if frac else "")


def tick_of(name):
    """The cron minute of a scheduled backup, from its name `<cluster>-<YYYYMMDDHHMMSS>` (backup_names.c)."""
    m = re.search(r"-(\d{14})$", name)
    if not m:
        return None
    return datetime.datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc).timestamp()


def make_bucket(gw, bucket):
    """CreateBucket (SigV4) with curl: the bench's build has no s3_itest driver (MGO_TESTS=OFF)."""
    r = subprocess.run(["curl", "-sS", "-f", "-X", "PUT", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user",
                        f"{ACCESS}:{SECRET}", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                        f"{gw.endpoint}/{bucket}"], capture_output=True, text=True,
                       check=False, timeout=30)
    assert r.returncode == 0, f"CreateBucket {bucket}: curl exited {r.returncode}: {r.stderr}"


def versitygw_version():
    """tools/versions.env's VERSITYGW (the binary itself reports only "git")."""
    with open(os.path.join(ROOT, "tools", "versions.env"), encoding="utf-8") as f:
        m = re.search(r"^VERSITYGW=(\S+)", f.read(), re.M)
    return m.group(1) if m else "?"


def scheduled_backups(cp, ns):
    sel = "memgraph.io/scheduled%3Dtrue,memgraph.io/cluster%3D" + NAME
    status, obj = cp.api.request("GET", f"{GROUP_PATH}/namespaces/{ns}/memgraphbackups?labelSelector={sel}")
    assert status == 200, f"list MemgraphBackups: HTTP {status} {obj}"
    return obj["items"]


OP_LOG_EVENTS = {"scheduled backup created": "created", "backup snapshot taken": "snapshot",
                 "backup completed": "completed"}


def operator_log_times(op):
    """{backup name: {"created"|"snapshot"|"completed": ts}} (unix s, ms resolution) from the operator's logfmt
    lines "scheduled backup created", "backup snapshot taken" and "backup completed" (the first of each)."""
    out = {}
    for line in op.logs().splitlines():
        m = re.search(r'\bmsg="([^"]*)"', line)
        if not m or m.group(1) not in OP_LOG_EVENTS:
            continue
        ts, name = re.search(r'\bts="?([^"\s]+)', line), re.search(r'\bbackup="?([a-z0-9.-]+)', line)
        if ts and name:
            out.setdefault(name.group(1), {}).setdefault(OP_LOG_EVENTS[m.group(1)], parse_time(ts.group(1)))
    return out


def load_dataset(cp, c, ns, nodes):
    ip = c.service_endpoint(ns, f"{NAME}-write")
    bolt_query(ip, "UNWIND range(1, $n) AS i CREATE (:Item {id: i})", n=nodes)
    q = "MATCH (n:Item) RETURN count(n) AS n"
    for pod in sorted(c.pod_roles(ns, NAME)):
        pip = cp.pod_ip(ns, pod)
        cp.wait_for(lambda pip=pip: bolt_query(pip, q)[0]["n"] == nodes, timeout=60, interval=0.25,
                    message=f"{nodes} nodes on {pod}")
    log(f"dataset: {nodes} nodes written through {NAME}-write ({ip}), on every instance")


def enable_schedule(cp, c, ns):
    """Sets spec.backup.schedule once at least LEAD_S seconds remain before the next minute; returns the time."""
    cp.wait_for(lambda: time.time() % 60 < 60 - LEAD_S, timeout=60, interval=0.1,
                message=f"at least {LEAD_S} s before the next minute")
    t = time.time()
    cp.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p",
               json.dumps({"spec": {"backup": {"schedule": SCHEDULE}}}))
    log(f"schedule {SCHEDULE!r} switched on at {fmt_time(t, 3)} UTC")
    return t


def collect(cp, c, ns, t_enable, ticks, timeout):
    """Polls the scheduled MemgraphBackups until `ticks` of them with a tick after t_enable are Completed or Failed.
    Returns {name: observation}."""
    seen = {}
    deadline = time.monotonic() + timeout
    while True:
        now = time.time()
        for b in scheduled_backups(cp, ns):
            name = b["metadata"]["name"]
            st = b.get("status") or {}
            o = seen.get(name)
            if o is None:
                o = seen[name] = {"name": name, "tick": tick_of(name), "seen": now, "obj": b}
                cs = c.cluster_status(ns, NAME)
                o["cluster_last"], o["cluster_next"] = cs.get("lastScheduledBackup"), cs.get("nextScheduledBackup")
                log(f"{name}: seen (tick {fmt_time(o['tick'])}, {now - o['tick']:.2f} s after it)")
            o["obj"] = b
            if st.get("phase") == "Running" and "running_seen" not in o:
                o["running_seen"] = now
            if st.get("phase") in ("Completed", "Failed") and "done_seen" not in o:
                o["done_seen"] = now
                log(f"{name}: {st['phase']} ({now - o['tick']:.2f} s after the tick), {st.get('sizeBytes')} bytes")
        counted = [o for o in seen.values() if o["tick"] is not None and o["tick"] >= t_enable]
        if len([o for o in counted if "done_seen" in o]) >= ticks:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(counted)} scheduled backups after the switch-on within {timeout} s: "
                                 f"{json.dumps([o['obj'] for o in seen.values()])[:3000]}")
        time.sleep(POLL_S)


def s3_object_size(gw_root, st):
    """Size of the object on versitygw's posix root (bucket directory / key), None when absent."""
    s3 = st.get("s3") or {}
    path = os.path.join(gw_root, s3.get("bucket", ""), s3.get("key", ""))
    return os.path.getsize(path) if s3.get("key") and os.path.isfile(path) else None


def rows_of(seen, t_enable, op_log, gw_root):
    rows = []
    for o in sorted(seen.values(), key=lambda o: (o["tick"] or 0, o["name"])):
        b, st = o["obj"], o["obj"].get("status") or {}
        created = parse_time(b["metadata"].get("creationTimestamp"))
        r = {"name": o["name"], "tick": o["tick"], "counted": o["tick"] is not None and o["tick"] >= t_enable,
             "created": created, "op_created": op_log.get(o["name"], {}).get("created"),
             "op_completed": op_log.get(o["name"], {}).get("completed"), "seen": o["seen"],
             "started": parse_time(st.get("startedAt")), "completed": parse_time(st.get("completedAt")),
             "done_seen": o.get("done_seen"), "phase": st.get("phase"), "size": st.get("sizeBytes"),
             "vertices": st.get("vertices"), "pod": st.get("pod"), "role": st.get("role"),
             "attempts": st.get("attempts"), "s3_size": s3_object_size(gw_root, st),
             "cluster_last": o.get("cluster_last"), "cluster_next": o.get("cluster_next")}

        def d(a, b_):
            return r[b_] - r[a] if r[a] is not None and r[b_] is not None else None
        r.update(tick_created=d("tick", "created"), tick_completed=d("tick", "completed"),
                 started_completed=d("started", "completed"), tick_op_created=d("tick", "op_created"),
                 tick_op_completed=d("tick", "op_completed"),
                 op_created_completed=d("op_created", "op_completed"),
                 tick_seen=d("tick", "seen"), tick_done_seen=d("tick", "done_seen"))
        rows.append(r)
    return rows


def p50_max(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    return f"p50 {statistics.median(vals):.2f} / max {max(vals):.2f} / min {min(vals):.2f}"


def num(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def git(*args):
    r = subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=False)
    return r.stdout.strip()


def tree_state():
    """(short HEAD, files that differ from it among those the run uses: operator sources, CRDs, emulator)."""
    dirty = [line.split(None, 1)[1] for line in
             git("status", "--porcelain", "--", "src", "config", "test/memgraph-emulator", "test/cluster",
                 "CMakeLists.txt").splitlines() if line.strip()]
    return git("rev-parse", "--short", "HEAD"), dirty


def report(args, tb, tree, t_enable, rows, nodes_on_main):
    counted = [r for r in rows if r["counted"]]
    commit, dirty = tree
    binary = tb.binary
    built = utc(os.path.getmtime(binary)).strftime("%H:%M UTC") if os.path.exists(binary) else "?"
    out = ["# Scheduled backups: schedule tick → MemgraphBackup Completed", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
           f"- machine: {machine()}",
           f"- commit: {commit}"
           + (f" with uncommitted changes (at the start) in {', '.join(dirty)}: the operator was built, the CRDs "
              "applied and the emulator run from the working tree" if dirty else ""),
           (f"- command: `{' '.join(['bash', 'bench/run-backup-schedule-bench.sh', *sys.argv[1:]])}` (release "
            f"build, then `.venv/bin/python bench/backup_schedule_bench.py {' '.join(sys.argv[1:])}`; "
            if os.environ.get("BENCH_RUNNER") else
            f"- command: `{' '.join(['.venv/bin/python', 'bench/backup_schedule_bench.py', *sys.argv[1:]])}` ("
            "MGO_OPERATOR_BIN as below; ")
           + ("control plane MGO_CONTROL_PLANE_DIR)" if not tb.owned else "its own control plane)"),
           f"- operator binary: `{os.path.relpath(binary, ROOT)}` (`{version(binary)}`, built {built})",
           f"- S3: versitygw {versitygw_version()} (posix backend) on 127.0.0.1, path-style, bucket "
           f"`{test_backup.BUCKET}`, prefix `{test_backup.PREFIX}`",
           f"- cluster: {NAME}, 3 instances, defaults otherwise (healthCheckIntervalSec 5, target PreferReplica); "
           f"`spec.backup.schedule: \"{SCHEDULE}\"` switched on at {fmt_time(t_enable, 3)} UTC after the dataset",
           f"- dataset: {args.nodes} nodes (`UNWIND range(1, n) AS i CREATE (:Item {{id: i}})` through "
           f"`{NAME}-write`; {nodes_on_main} on the MAIN at the end)",
           "- control plane: test/cluster (real etcd, kube-apiserver, kube-controller-manager; test kubelet running "
           "each pod as a local process; memgraph pods are the Memgraph emulator)",
           "- what is measured: see the docstring of `bench/backup_schedule_bench.py`", "",
           f"## Summary ({len(counted)} ticks)", "",
           "Seconds. From the objects (1 s resolution: creationTimestamp, startedAt and completedAt are truncated "
           "to the second):", "",
           "| interval | seconds |", "|---|---|",
           f"| tick → created (metadata.creationTimestamp) | {p50_max([r['tick_created'] for r in counted])} |",
           f"| tick → Completed (status.completedAt) | {p50_max([r['tick_completed'] for r in counted])} |",
           f"| started → Completed (startedAt → completedAt) | "
           f"{p50_max([r['started_completed'] for r in counted])} |",
           "", "Sub-second cross-checks (the operator's log line, this bench's 0.25 s poll):", "",
           "| interval | seconds |", "|---|---|",
           f"| tick → operator logged \"scheduled backup created\" | "
           f"{p50_max([r['tick_op_created'] for r in counted])} |",
           f"| tick → operator logged \"backup completed\" | "
           f"{p50_max([r['tick_op_completed'] for r in counted])} |",
           f"| operator log: created → completed | {p50_max([r['op_created_completed'] for r in counted])} |",
           f"| tick → object seen by the poll | {p50_max([r['tick_seen'] for r in counted])} |",
           f"| tick → Completed seen by the poll | {p50_max([r['tick_done_seen'] for r in counted])} |", "",
           "## Every scheduled MemgraphBackup", "",
           "Times UTC. `counted`: tick after the schedule was switched on (a catch-up run for an earlier minute is "
           "listed, not counted).", "",
           "| backup | counted | tick | created | op log | startedAt | completedAt | phase | sizeBytes | S3 object "
           "| vertices | pod (role) | tick→created | tick→op log | tick→Completed | started→Completed |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['name']} | {'yes' if r['counted'] else 'no'} | {fmt_time(r['tick'])} | "
                   f"{fmt_time(r['created'])} | {fmt_time(r['op_created'], 3)} | {fmt_time(r['started'])} | "
                   f"{fmt_time(r['completed'])} | {r['phase']} | {r['size']} | {r['s3_size']} | {r['vertices']} | "
                   f"{r['pod']} ({r['role']}) | {num(r['tick_created'], 0)} | {num(r['tick_op_created'], 3)} | "
                   f"{num(r['tick_completed'], 0)} | {num(r['started_completed'], 0)} |")
    out += ["", "How the operator wakes up for a tick (src/reconcile/backup_schedule.c, src/controller/controller.c): "
            "every pass computes the next run and asks for a pass `(next - now)` seconds later with `now` the wall "
            "clock truncated to whole seconds, and the queue keeps the earlier of that and the health-interval "
            "requeue (5 s). The pass that creates a backup thus runs at the tick plus the sub-second part of the "
            "previous pass's start (0-1 s), plus the pass's own work before the schedule step. The new "
            "MemgraphBackup's informer event starts it in the next pass (snapshot, then the agent's upload); the "
            "upload is then polled every 2 s (OP_BACKUP_POLL_MS), so started → Completed is about one poll "
            "interval for a small snapshot.", ""]
    out += ["status.lastScheduledBackup / nextScheduledBackup as read when each backup was first seen:", ""]
    out += [f"- {r['name']}: last {r['cluster_last']}, next {r['cluster_next']}" for r in rows]
    out.append("")
    text = "\n".join(out)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # run the finally blocks: namespace and versitygw go


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=5, help="scheduled runs to measure (one a minute)")
    ap.add_argument("--nodes", type=int, default=1000, help="nodes written before the schedule is switched on")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "backup-schedule.md"))
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _sigterm)
    tree = tree_state()  # the runner built the operator just before

    work = tempfile.mkdtemp(prefix="mgo-bsbench-s3-")
    gw = Gateway(os.path.join(work, "vgw", "root"))
    try:
        gw.start()
        make_bucket(gw, test_backup.BUCKET)
        log(f"versitygw on {gw.endpoint}, bucket {test_backup.BUCKET}")
        with Testbed("bsbench") as tb:
            cp, c = tb.cp, tb.clusters
            ns = f"bench-bksched-{os.getpid()}"
            new_namespace(cp, ns)
            try:
                test_backup._secret(cp, ns, "s3-creds", ACCESS, SECRET)
                c.make_cluster(ns, NAME, 3, backup=test_backup._backup_spec(gw))
                c.wait_ready(ns, NAME, timeout=300)
                c.wait_replication(ns, NAME, expected_replicas=2, timeout=120)
                load_dataset(cp, c, ns, args.nodes)
                t_enable = enable_schedule(cp, c, ns)
                seen = collect(cp, c, ns, t_enable, args.ticks, timeout=(args.ticks + 3) * 60)
                main_ip = cp.pod_ip(ns, c.main_pod(ns, NAME))
                nodes_on_main = bolt_query(main_ip, "MATCH (n:Item) RETURN count(n) AS n")[0]["n"]
                rows = rows_of(seen, t_enable, operator_log_times(tb.op), gw.root)
                report(args, tb, tree, t_enable, rows, nodes_on_main)
            except BaseException:
                print(f"operator log: {tb.op.log_path}\n{tb.op.tail(60)}", file=sys.stderr)
                raise
            finally:
                # suspend first: no new backup is created while the namespace goes
                cp.kubectl("patch", "mgc", NAME, "-n", ns, "--type=merge", "-p",
                           json.dumps({"spec": {"backup": {"suspend": True}}}), check=False)
                delete_namespace(cp, ns, wait=True)
    finally:
        gw.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
