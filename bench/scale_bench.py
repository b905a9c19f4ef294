#!/usr/bin/env python3
"""Scale benchmark (issue 13): N MemgraphClusters of 1 instance each on one operator, on the real local control
plane (test/cluster) with emulator pods.

For every count N of --counts (ascending), with a fresh operator each time:
  ready    N clusters created at once (API POSTs, --per-ns clusters per namespace); seconds from the first
           create until every pod is Ready and until every MemgraphCluster is Ready (phase Running, Ready=True,
           observedGeneration current), polled every second with one LIST each.
  steady   after --settle s, over --window s: operator VmRSS (and VmHWM, the peak since start), threads, open
           file descriptors, established Bolt connections (its sockets to port 7687, from /proc/net/tcp), CPU
           seconds per minute (/proc/<pid>/stat), Kubernetes API requests per minute (mgo_kube_requests_total by
           verb and resource), reconcile passes per minute and their p99 duration (mgo_reconcile_duration_seconds),
           and the work queue's wait p99 (mgo_workqueue_wait_seconds: from the moment a key is due, or added,
           to the moment a worker takes it; absent from operators built before it existed).
  testbed  emulator processes and their mean VmRSS, the kubelets' VmRSS, MemAvailable, load average and the
           number of processes at the start and the end of the window (the machine is shared).

The test kubelet gives one /24 of pod IPs (254 pods) to each kubelet, so for N > 200 the benchmark starts
ceil(N / 100) - 1 more kubelets (nodes mgo-node-2, ...) on the same state dir; every kubelet binds any unbound pod
(the first bind wins). They share one hosts file, each writing only its own pods: harmless with 1-instance
clusters (no replica names to resolve; the operator dials pod IPs).

Results are merged into --json (one entry per --label and N, replaced when re-run) and the markdown report
(--out) and the SVG plot (--svg) are written from every entry of the JSON.

Usage (a control plane is started unless MGO_CONTROL_PLANE_DIR names a running one):
  .venv/bin/python bench/scale_bench.py [--counts 1,50,500] [--label baseline] [--window 120] [--settle 30]
The operator binary: MGO_OPERATOR_BIN, else $MGO_BUILD_DIR/src/cmd/memgraph-operator, else the newest build
(`bash bench/run-scale-bench.sh` builds the release operator first).
"""

import argparse
import datetime
import json
import math
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from operator_bench import (ROOT, OperatorProcess, Testbed, counter_by_labels, delete_namespace, log,  # noqa: E402
                            machine, rss_kib, version)

GROUP = "/apis/memgraph.io/v1alpha1"
KUBELET_CAPACITY = 100  # pods per test kubelet (one Python process each; binding is first come, not even)
BOLT_PORT = 7687
QUEUE_WAIT = "mgo_workqueue_wait_seconds"


# ---------------------------------------------------------------------------------------------- /proc readers
def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def kib(status, key):
    return int(status.get(key, "0 kB").split()[0])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def bolt_connections(pid):
    """Established TCP connections of pid to a remote port 7687 (its network namespace's /proc/net/tcp)."""
    mine, n = socket_inodes(pid), 0
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}", encoding="ascii") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                    if cols[3] == "01" and remote_port == BOLT_PORT and cols[9] in mine:
                        n += 1
        except FileNotFoundError:
            continue
    return n


def operator_sample(pid):
    st = proc_status(pid)
    return {"rss_kib": kib(st, "VmRSS"), "hwm_kib": kib(st, "VmHWM"), "threads": int(st.get("Threads", 0)),
            "fds": len(os.listdir(f"/proc/{pid}/fd")), "bolt_conns": bolt_connections(pid)}


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def testbed_sample(state_dir, kubelet_pids):
    emu = []
    for d in os.listdir(os.path.join(state_dir, "pods")):
        pdir = os.path.join(state_dir, "pods", d)
        for f in os.listdir(pdir):
            if not f.endswith(".pid"):
                continue
            try:
                with open(os.path.join(pdir, f), encoding="ascii") as fh:
                    pid = int(fh.read().strip())
                if "memgraph-emulator" in cmdline(pid):
                    emu.append(kib(proc_status(pid), "VmRSS"))
            except (OSError, ValueError):
                continue
    kubelets = 0
    for pid in kubelet_pids:
        try:
            kubelets += kib(proc_status(pid), "VmRSS")
        except OSError:
            pass
    with open("/proc/meminfo", encoding="ascii") as f:
        avail = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    with open("/proc/loadavg", encoding="ascii") as f:
        load = f.read().split()[:3]
    return {"emulators": len(emu), "emulator_rss_mean_kib": sum(emu) / len(emu) if emu else 0,
            "emulator_rss_total_kib": sum(emu), "kubelets_rss_kib": kubelets, "mem_available_kib": avail,
            "loadavg": " ".join(load), "processes": sum(1 for p in os.listdir("/proc") if p.isdigit())}


# ------------------------------------------------------------------------------------------------- metrics
def histogram_quantile(before, after, name, q):
    """The q-quantile (linear inside the bucket, like PromQL's histogram_quantile) of the observations between
    two scrapes, summed over every series; None without observations."""
    def buckets(samples):
        out = {}
        for n, ls, v in samples:
            if n == f"{name}_bucket":
                le = float("inf") if ls.get("le") == "+Inf" else float(ls["le"])
                out[le] = out.get(le, 0.0) + v
        return out
    b0, b1 = buckets(before), buckets(after)
    delta = sorted((le, b1[le] - b0.get(le, 0.0)) for le in b1)
    if not delta or delta[-1][1] <= 0:
        return None
    rank, prev_le, prev_n = q * delta[-1][1], 0.0, 0.0
    for le, n in delta:
        if n >= rank:
            if math.isinf(le):
                return prev_le  # beyond the last finite bucket: its bound is all we know
            return prev_le + (le - prev_le) * ((rank - prev_n) / (n - prev_n) if n > prev_n else 1.0)
        prev_le, prev_n = le, n
    return prev_le


def series_total(samples, name):
    return sum(v for n, _, v in samples if n == name)


def rates_per_min(before, after, minutes):
    return {k: (v - before.get(k, 0)) / minutes for k, v in after.items() if v - before.get(k, 0) > 0}


# --------------------------------------------------------------------------------------------- the testbed
def start_kubelets(tb, extra):
    """`extra` more test kubelets on the control plane's state dir (nodes mgo-node-2...): (pid, Popen) list."""
    procs = []
    for i in range(2, extra + 2):
        logf = open(os.path.join(tb.state_dir, "log", f"kubelet-{i}.log"), "ab")  # noqa: SIM115 - the child's
        env = dict(os.environ, MGO_REPO=ROOT)
        p = subprocess.Popen(["nice", os.path.join(ROOT, ".venv", "bin", "python"),
                              os.path.join(ROOT, "test", "cluster", "kubelet.py"), "--kubeconfig",
                              tb.cp.admin_kubeconfig, "--state-dir", tb.state_dir, "--node-name", f"mgo-node-{i}"],
                             stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                             start_new_session=True)
        logf.close()
        procs.append(p)
    for i in range(2, extra + 2):
        tb.cp.wait_for(lambda i=i: node_ready(tb.cp, f"mgo-node-{i}"), timeout=60, message=f"node mgo-node-{i} Ready")
    return procs


def node_ready(cp, name):
    status, node = cp.api.request("GET", f"/api/v1/nodes/{name}")
    return status == 200 and any(c["type"] == "Ready" and c["status"] == "True"
                                 for c in node.get("status", {}).get("conditions") or [])


def stop_kubelets(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:  # their pods' processes are in the state dir: down.sh stops those either way
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=30)


def kubelet_pids(tb, extra_procs):
    pids = [p.pid for p in extra_procs]
    try:
        with open(os.path.join(tb.state_dir, "kubelet.pid"), encoding="ascii") as f:
            pids.append(int(f.read().strip()))
    except (OSError, ValueError):
        pass
    return pids


def namespaces_for(prefix, n, per_ns):
    return [f"{prefix}-{k}" for k in range((n + per_ns - 1) // per_ns)]


def cluster_manifest(name):
    return {"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphCluster", "metadata": {"name": name},
            "spec": {"instances": 1}}


def create_clusters(cp, namespaces, n, per_ns):
    names = []
    for i in range(n):
        ns, name = namespaces[i // per_ns], f"mg{i}"
        status, body = cp.api.request("POST", f"{GROUP}/namespaces/{ns}/memgraphclusters", cluster_manifest(name))
        assert status == 201, f"create {ns}/{name}: HTTP {status} {body}"
        names.append((ns, name))
    return names


class NotYet(Exception):
    """The API server answered a LIST with a retryable status (504 when it took more than 60 s, 429, 503)."""


def checked_list(cp, path):
    status, body = cp.api.request("GET", path, timeout=120)  # slow under load
    if status in (429, 500, 503, 504):
        raise NotYet(f"list {path}: HTTP {status}")
    assert status == 200, f"list {path}: HTTP {status}"
    return body


def ready_clusters(cp, namespaces):
    body = checked_list(cp, f"{GROUP}/memgraphclusters")
    n = 0
    for obj in body["items"]:
        if obj["metadata"]["namespace"] not in namespaces:
            continue
        st = obj.get("status") or {}
        ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
        if (st.get("phase") == "Running" and ready is not None and ready.get("status") == "True"
                and st.get("observedGeneration") == obj["metadata"]["generation"]):
            n += 1
    return n


def ready_pods(cp, namespaces):
    body = checked_list(cp, "/api/v1/pods")
    return sum(1 for p in body["items"] if p["metadata"]["namespace"] in namespaces
               and not p["metadata"].get("deletionTimestamp")
               and any(c["type"] == "Ready" and c["status"] == "True"
                       for c in p.get("status", {}).get("conditions") or []))


def wait_all_ready(cp, namespaces, n, t0, timeout):
    t_pods = t_ready = None
    last_log = 0.0
    while time.monotonic() - t0 < timeout:
        now = time.monotonic()
        try:
            pods = ready_pods(cp, namespaces) if t_pods is None else n
            if t_pods is None and pods >= n:
                t_pods = now - t0
            crs = ready_clusters(cp, namespaces)
        except (OSError, TimeoutError, NotYet) as e:  # an API server saturated by the ramp: not yet
            log(f"ready: poll failed ({e!r}), retrying")
            time.sleep(5)
            continue
        if crs >= n:
            t_ready = now - t0
            break
        if now - last_log > 30:
            log(f"ready: {pods}/{n} pods, {crs}/{n} clusters after {now - t0:.0f}s")
            last_log = now
        time.sleep(1)
    assert t_ready is not None, f"not all {n} clusters Ready within {timeout}s"
    return t_pods if t_pods is not None else t_ready, t_ready


# --------------------------------------------------------------------------------------------- one count
def run_count(tb, n, args, cleanup=True):
    prefix = f"scale{n}-{os.getpid()}"
    namespaces = namespaces_for(prefix, n, args.per_ns)
    for ns in namespaces:
        tb.cp.create_namespace(ns)
    op = OperatorProcess(tb.cp, os.path.join(tb.logdir, f"operator-{n}.log"), f"scale-{n}-{os.getpid()}",
                         binary=tb.binary, extra_args=args.operator_arg)
    op.start()
    tb.cp.wait_for(lambda: op.http("/readyz")[0] == 200, timeout=60, message="operator leading (/readyz)")
    try:
        idle = operator_sample(op.pid)
        log(f"count {n}: operator idle (no cluster) VmRSS {idle['rss_kib']} KiB; creating {n} clusters")
        t0 = time.monotonic()
        create_clusters(tb.cp, namespaces, n, args.per_ns)
        create_s = time.monotonic() - t0
        pods_s, ready_s = wait_all_ready(tb.cp, set(namespaces), n, t0, args.timeout)
        log(f"count {n}: created in {create_s:.1f}s, pods Ready {pods_s:.1f}s, clusters Ready {ready_s:.1f}s; "
            f"settling {args.settle}s")
        time.sleep(args.settle)
        res = measure_window(tb, op, n, args, set(namespaces))
        res.update({"count": n, "label": args.label, "create_s": create_s, "pods_ready_s": pods_s,
                    "ready_s": ready_s, "idle_rss_kib": idle["rss_kib"]})
        return res
    except BaseException:
        print(f"operator log: {op.log_path}\n{op.tail(40)}", file=sys.stderr)
        raise
    finally:
        op.stop()
        if cleanup:  # not after the last count on our own control plane: down.sh removes everything at once
            for ns in namespaces:
                delete_namespace(tb.cp, ns, wait=False)
            for ns in namespaces:
                delete_namespace(tb.cp, ns, wait=True)


def measure_window(tb, op, n, args, namespaces):
    m0, c0, t0 = op.metrics(), cpu_seconds(op.pid), time.monotonic()
    bed0 = testbed_sample(tb.state_dir, kubelet_pids(tb, tb.extra_kubelets))
    samples = []
    log(f"count {n}: measuring {args.window}s")
    while time.monotonic() - t0 < args.window:
        samples.append(operator_sample(op.pid))
        time.sleep(5)
    m1, c1, t1 = op.metrics(), cpu_seconds(op.pid), time.monotonic()
    bed1 = testbed_sample(tb.state_dir, kubelet_pids(tb, tb.extra_kubelets))
    last = operator_sample(op.pid)
    still_ready = ready_clusters(tb.cp, namespaces)
    minutes = (t1 - t0) / 60
    kube = rates_per_min(counter_by_labels_of(m0, "mgo_kube_requests_total"),
                         counter_by_labels_of(m1, "mgo_kube_requests_total"), minutes)
    passes = (series_total(m1, "mgo_reconcile_duration_seconds_count") -
              series_total(m0, "mgo_reconcile_duration_seconds_count")) / minutes
    res = {"window_s": t1 - t0, "rss_kib": last["rss_kib"], "rss_max_kib": max(s["rss_kib"] for s in samples),
           "hwm_kib": last["hwm_kib"], "threads": last["threads"], "fds": last["fds"],
           "fds_max": max(s["fds"] for s in samples), "bolt_conns": last["bolt_conns"],
           "cpu_s_per_min": (c1 - c0) / minutes, "kube_per_min": kube,
           "kube_total_per_min": sum(kube.values()), "passes_per_min": passes,
           "reconcile_p99_s": histogram_quantile(m0, m1, "mgo_reconcile_duration_seconds", 0.99),
           "queue_wait_p99_s": histogram_quantile(m0, m1, QUEUE_WAIT, 0.99),
           "queue_wait_p50_s": histogram_quantile(m0, m1, QUEUE_WAIT, 0.50),
           "queue_metric": any(name.startswith(QUEUE_WAIT) for name, _, _ in m1),
           "ready_at_end": still_ready, "testbed_start": bed0, "testbed_end": bed1}
    log(f"count {n}: RSS {res['rss_kib'] / 1024:.1f} MiB, fds {res['fds']}, bolt {res['bolt_conns']}, "
        f"threads {res['threads']}, CPU {res['cpu_s_per_min']:.2f} s/min, API {res['kube_total_per_min']:.1f}/min, "
        f"passes {passes:.0f}/min, queue p99 {res['queue_wait_p99_s']}, ready at end {still_ready}/{n}")
    return res


def counter_by_labels_of(samples, name):
    class _Scraped:  # counter_by_labels() reads op.metrics(); hand it a scrape taken earlier
        def metrics(self):
            return samples
    return counter_by_labels(_Scraped(), name)


# --------------------------------------------------------------------------------------------- the report
def load_runs(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["runs"]
    except FileNotFoundError:
        return []


def save_runs(path, runs):
    runs.sort(key=lambda r: (r["label"], r["count"]))
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"runs": runs}, f, indent=1, sort_keys=True)
        f.write("\n")


def mib(k):
    return f"{k / 1024:.1f}"


def opt(v, fmt="{:.3f}"):
    return "—" if v is None else fmt.format(v)


COLUMNS = [  # (header, formatter)
    ("clusters", lambda r: str(r["count"])),
    ("all pods Ready (s)", lambda r: f"{r['pods_ready_s']:.1f}"),
    ("all clusters Ready (s)", lambda r: f"{r['ready_s']:.1f}"),
    ("RSS idle, no cluster (MiB)", lambda r: mib(r["idle_rss_kib"])),
    ("RSS steady (MiB)", lambda r: mib(r["rss_kib"])),
    ("RSS peak VmHWM (MiB)", lambda r: mib(r["hwm_kib"])),
    ("threads", lambda r: str(r["threads"])),
    ("open fds", lambda r: str(r["fds"])),
    ("Bolt conns", lambda r: str(r["bolt_conns"])),
    ("CPU (s/min)", lambda r: f"{r['cpu_s_per_min']:.2f}"),
    ("API req/min", lambda r: f"{r['kube_total_per_min']:.1f}"),
    ("passes/min", lambda r: f"{r['passes_per_min']:.0f}"),
    ("pass p99 (s)", lambda r: opt(r["reconcile_p99_s"])),
    ("queue wait p50 (s)", lambda r: opt(r["queue_wait_p50_s"])),
    ("queue wait p99 (s)", lambda r: opt(r["queue_wait_p99_s"])),
]


def table(runs):
    out = ["| " + " | ".join(h for h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += ["| " + " | ".join(f(r) for _, f in COLUMNS) + " |" for r in runs]
    return out


def testbed_table(runs):
    out = ["| clusters | emulators | emulator VmRSS mean (MiB) | emulators total (GiB) | kubelets VmRSS (MiB) | "
           "MemAvailable (GiB) | load avg start → end | processes |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        a, b = r["testbed_start"], r["testbed_end"]
        out.append(f"| {r['count']} | {b['emulators']} | {mib(b['emulator_rss_mean_kib'])} | "
                   f"{b['emulator_rss_total_kib'] / 1048576:.2f} | {mib(b['kubelets_rss_kib'])} | "
                   f"{b['mem_available_kib'] / 1048576:.1f} | {a['loadavg']} → {b['loadavg']} | {b['processes']} |")
    return out


def api_lines(runs):
    out = []
    for r in runs:
        parts = ", ".join(f"{json.loads(k).get('verb')} {json.loads(k).get('resource', '')}: {v:.1f}"
                          for k, v in sorted(r["kube_per_min"].items()))
        out.append(f"- {r['label']}, {r['count']} clusters: {parts or '(none)'}")
    return out


def report(path, runs, header_lines):
    labels = sorted({r["label"] for r in runs}, key=lambda lb: min(r["started"] for r in runs if r["label"] == lb))
    out = ["# Scale benchmark: N MemgraphClusters × 1 instance on one operator (issue 13)", ""] + header_lines + [""]
    for lb in labels:
        mine = sorted((r for r in runs if r["label"] == lb), key=lambda r: r["count"])
        first = mine[0]
        out += [f"## {lb}", "", f"- operator: `{first['binary']}` ({first['version']}), commit {first['commit']}",
                f"- command: `{first['command']}`", f"- runs: " + ", ".join(
                    f"{r['count']} at {r['started']}" for r in mine), ""]
        out += table(mine) + ["", "Test bed during the window (the machine is shared with other sessions):", ""]
        out += testbed_table(mine) + ["", "Kubernetes API requests per minute at steady state, by verb and resource:",
                                      ""]
        out += api_lines(mine) + [""]
    out += ["![each figure against the number of clusters, baseline and fixed](scale.svg)", ""]
    notes = os.path.join(os.path.dirname(path), "scale-notes.md")  # the reading, written by hand
    if os.path.exists(notes):
        with open(notes, encoding="utf-8") as f:
            out += [f.read()]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


PLOTS = [("all clusters Ready (s)", "ready_s", 1), ("RSS steady (MiB)", "rss_kib", 1 / 1024),
         ("open fds", "fds", 1), ("Bolt connections", "bolt_conns", 1), ("CPU (s/min)", "cpu_s_per_min", 1),
         ("API requests / min", "kube_total_per_min", 1), ("queue wait p99 (s)", "queue_wait_p99_s", 1),
         ("threads", "threads", 1)]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def svg(path, runs):
    """Small multiples, one panel per figure: x = clusters (log scale), one line per label. Plain SVG."""
    labels = sorted({r["label"] for r in runs}, key=lambda lb: min(r["started"] for r in runs if r["label"] == lb))
    counts = sorted({r["count"] for r in runs})
    pw, ph, cols, mx, my = 230, 150, 4, 45, 30
    rows = (len(PLOTS) + cols - 1) // cols
    width, height = cols * (pw + mx) + 20, rows * (ph + my * 2) + 40
    xmin, xmax = math.log10(max(1, counts[0])), math.log10(max(counts[-1], 2))
    el = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
          f'font-size="10">', f'<rect width="{width}" height="{height}" fill="white"/>']
    for li, lb in enumerate(labels):
        el.append(f'<text x="{20 + li * 200}" y="16" fill="{COLOURS[li % len(COLOURS)]}" font-size="12">'
                  f'■ {lb}</text>')
    for pi, (title, key, scale) in enumerate(PLOTS):
        ox, oy = 20 + mx + (pi % cols) * (pw + mx), 40 + my + (pi // cols) * (ph + 2 * my)
        vals = [r[key] * scale for r in runs if r.get(key) is not None]
        ymax = max(vals) * 1.1 if vals and max(vals) > 0 else 1
        el.append(f'<text x="{ox}" y="{oy - 8}" font-size="11" font-weight="bold">{title}</text>')
        el.append(f'<rect x="{ox}" y="{oy}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
        for frac in (0, 0.5, 1):
            y = oy + ph - frac * ph
            el.append(f'<text x="{ox - 4}" y="{y + 3:.1f}" text-anchor="end">{ymax * frac / 1.1:.3g}</text>')
        for c in counts:
            x = ox + (math.log10(max(c, 1)) - xmin) / ((xmax - xmin) or 1) * pw
            el.append(f'<text x="{x:.1f}" y="{oy + ph + 12}" text-anchor="middle">{c}</text>')
        for li, lb in enumerate(labels):
            pts = [(ox + (math.log10(max(r["count"], 1)) - xmin) / ((xmax - xmin) or 1) * pw,
                    oy + ph - (r[key] * scale) / ymax * ph)
                   for r in sorted(runs, key=lambda r: r["count"]) if r["label"] == lb and r.get(key) is not None]
            colour = COLOURS[li % len(COLOURS)]
            if len(pts) > 1:
                el.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="'
                          + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
            el += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in pts]
    el.append(f'<text x="{width / 2}" y="{height - 6}" text-anchor="middle">clusters (log scale)</text>')
    el.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(el) + "\n")


def write_reports(args, runs):
    report(args.out, runs, [f"- machine: {machine()}",
                            "- control plane: test/cluster (real etcd, kube-apiserver, kube-controller-manager; test "
                            "kubelets running each pod as a local process; every pod is the Python Memgraph emulator)",
                            f"- raw data: `{os.path.relpath(args.json, os.path.dirname(args.out))}`"])
    svg(args.svg, runs)


def commit():
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                       check=False)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src"], capture_output=True, text=True,
                           check=False).stdout.strip()
    return r.stdout.strip() + (" (src/ modified in the working tree)" if dirty else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="1,50,500", help="comma-separated cluster counts, run in this order")
    ap.add_argument("--label", default="baseline", help="names this operator build in the report")
    ap.add_argument("--per-ns", type=int, default=50, help="clusters per namespace")
    ap.add_argument("--per-kubelet", type=int, default=KUBELET_CAPACITY,
                    help="pods per test kubelet: more kubelets are started for larger counts")
    ap.add_argument("--window", type=int, default=120)
    ap.add_argument("--settle", type=int, default=30)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds allowed until all are Ready")
    ap.add_argument("--built-from", help="the commit the operator binary was built from (default: HEAD of the "
                    "working tree, noting local changes under src/)")
    ap.add_argument("--operator-arg", action="append", default=[], help="extra operator flag (repeatable)")
    ap.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "scale.json"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "scale.md"))
    ap.add_argument("--svg", default=os.path.join(ROOT, "bench", "results", "scale.svg"))
    ap.add_argument("--report-only", action="store_true", help="rewrite --out and --svg from --json, run nothing")
    args = ap.parse_args()
    if args.report_only:
        write_reports(args, load_runs(args.json))
        return
    counts = [int(c) for c in args.counts.split(",")]
    command = shlex.join([".venv/bin/python", "bench/scale_bench.py", *sys.argv[1:]])

    with Testbed("scale") as tb:
        tb.op.stop()  # each count gets a fresh operator: RSS and fds are its own
        extra = max(0, math.ceil(max(counts) / args.per_kubelet) - 1)
        tb.extra_kubelets = start_kubelets(tb, extra) if extra else []
        try:
            for i, n in enumerate(counts):
                res = run_count(tb, n, args, cleanup=not (tb.owned and i == len(counts) - 1))
                res.update({"started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                            "binary": os.path.relpath(tb.binary, ROOT), "version": version(tb.binary),
                            "commit": args.built_from or commit(), "command": command, "kubelets": 1 + extra})
                runs = [r for r in load_runs(args.json) if (r["label"], r["count"]) != (args.label, n)] + [res]
                save_runs(args.json, runs)
                write_reports(args, runs)
        finally:
            stop_kubelets(tb.extra_kubelets)


if __name__ == "__main__":
    main()
