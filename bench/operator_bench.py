#!/usr/bin/env python3
"""Operator benchmarks on the real local control plane (test/cluster) with emulator pods.

  ready   CR-to-Ready time minus pod start time, N trials (3-instance clusters). Pod start time = from the create
          to the moment the last of the cluster's pods is Ready; CR Ready = status.phase Running and condition
          Ready=True. Both observed by polling the API every 0.1 s (resolution ~0.1 s).
  steady  with one Ready 3-instance cluster: Kubernetes API requests per minute (mgo_kube_requests_total, split
          by its labels; writes must be 0) and Bolt queries per instance per minute (mgo_bolt_queries_total) over a
          window (default 120 s), after a settle time.
  steady-noelect   the same with --leader-elect=false (the Lease renewals are the only writes otherwise)
  rss     operator VmRSS (/proc/<pid>/status) idle with 1 cluster and with M clusters (default 50 × 1 instance).

Usage (a control plane is started unless MGO_CONTROL_PLANE_DIR names a running one):
  .venv/bin/python bench/operator_bench.py [--trials 5] [--window 120] [--many 50] [--out bench/results/operator.md]
      [ready steady rss]
The operator binary: MGO_OPERATOR_BIN, else $MGO_BUILD_DIR/src/cmd/memgraph-operator, else the newest build.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))


def _load_root_conftest():
    """test/conftest.py (the ControlPlane wrapper) under its own module name: test/e2e has a conftest too."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("mgo_root_conftest", os.path.join(ROOT, "test", "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_root = _load_root_conftest()
ControlPlane, _running = _root.ControlPlane, _root._running

from harness import Clusters, OperatorProcess, operator_binary  # noqa: E402

WRITE_VERBS = {"post", "put", "patch", "delete", "create", "update", "apply", "deletecollection"}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def new_namespace(cp, name):
    cp.kubectl("create", "namespace", name)
    cp.wait_for(lambda: cp.api.request("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default")[0] == 200,
                timeout=30, message=f"ServiceAccount {name}/default")


def delete_namespace(cp, name, wait=False):
    cp.kubectl("delete", "namespace", name, f"--wait={'true' if wait else 'false'}", "--timeout=120s", check=False,
               timeout=180)


def pods_ready(c, ns, name, n):
    pods = [p for p in c.pods(ns, name) if not p["metadata"].get("deletionTimestamp")]
    return len(pods) == n and all(c.pod_ready(p) for p in pods)


def bench_ready(cp, c, trials, instances=3):
    rows = []
    for i in range(trials):
        ns = f"bench-ready-{i}-{os.getpid()}"
        new_namespace(cp, ns)
        t0 = time.monotonic()
        c.make_cluster(ns, "mg", instances)
        t_pods = t_ready = None
        deadline = t0 + 300
        while time.monotonic() < deadline and (t_pods is None or t_ready is None):
            now = time.monotonic()
            if t_pods is None and pods_ready(c, ns, "mg", instances):
                t_pods = now
            if t_ready is None and c.is_ready(ns, "mg"):
                t_ready = now
            time.sleep(0.1)
        assert t_pods is not None and t_ready is not None, f"trial {i}: not Ready within 300 s"
        rows.append({"pods_ready_s": t_pods - t0, "cr_ready_s": t_ready - t0, "overhead_s": t_ready - t_pods})
        log(f"ready trial {i}: pods {t_pods - t0:.2f}s, CR Ready {t_ready - t0:.2f}s, overhead {t_ready - t_pods:.2f}s")
        delete_namespace(cp, ns, wait=True)
    return rows


def counter_by_labels(op, name):
    return {json.dumps(ls, sort_keys=True): v for n, ls, v in op.metrics() if n == name}


def is_write(labels_json):
    ls = json.loads(labels_json)
    return any(str(v).lower() in WRITE_VERBS for k, v in ls.items() if k in ("verb", "method"))


def bench_steady(cp, c, op, window, settle):
    ns = f"bench-steady-{os.getpid()}"
    new_namespace(cp, ns)
    c.make_cluster(ns, "mg", 3)
    c.wait_ready(ns, "mg", timeout=300)
    log(f"steady: cluster Ready, settling {settle}s")
    time.sleep(settle)
    k0, b0, t0 = counter_by_labels(op, "mgo_kube_requests_total"), counter_by_labels(op, "mgo_bolt_queries_total"), \
        time.monotonic()
    rv0 = c.get_cluster(ns, "mg")["metadata"]["resourceVersion"]
    log(f"steady: measuring {window}s")
    time.sleep(window)
    k1, b1, t1 = counter_by_labels(op, "mgo_kube_requests_total"), counter_by_labels(op, "mgo_bolt_queries_total"), \
        time.monotonic()
    rv1 = c.get_cluster(ns, "mg")["metadata"]["resourceVersion"]
    minutes = (t1 - t0) / 60
    kube = {k: (v - k0.get(k, 0)) / minutes for k, v in k1.items() if v - k0.get(k, 0) > 0}
    bolt = {k: (v - b0.get(k, 0)) / minutes for k, v in b1.items() if v - b0.get(k, 0) > 0}
    res = {"window_s": t1 - t0, "kube_per_min": kube, "kube_total_per_min": sum(kube.values()),
           "kube_writes_per_min": sum(v for k, v in kube.items() if is_write(k)),
           "bolt_per_min": bolt, "bolt_total_per_min": sum(bolt.values()),
           "bolt_per_instance_per_min": sum(bolt.values()) / 3, "mgc_rewritten": rv0 != rv1,
           "kube_series_seen": sorted(k1)}
    log(f"steady: {res['kube_total_per_min']:.1f} API req/min ({res['kube_writes_per_min']:.1f} writes), "
        f"{res['bolt_per_instance_per_min']:.1f} Bolt queries/instance/min")
    delete_namespace(cp, ns, wait=True)
    return res


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def bench_rss(cp, c, op, many, settle):
    res = {}
    ns1 = f"bench-rss1-{os.getpid()}"
    new_namespace(cp, ns1)
    c.make_cluster(ns1, "mg", 1)
    c.wait_ready(ns1, "mg", timeout=300)
    time.sleep(settle)
    res["rss_1_kib"] = rss_kib(op.pid)
    log(f"rss: 1 cluster {res['rss_1_kib']} KiB")
    delete_namespace(cp, ns1, wait=True)
    nsm = f"bench-rssm-{os.getpid()}"
    new_namespace(cp, nsm)
    for i in range(many):
        c.make_cluster(nsm, f"mg{i}", 1)
    t0 = time.monotonic()
    cp.wait_for(lambda: all(c.is_ready(nsm, f"mg{i}") for i in range(many)), timeout=900, interval=2,
                message=f"{many} clusters Ready")
    res["many_ready_s"] = time.monotonic() - t0
    time.sleep(settle)
    res["many"] = many
    res["rss_many_kib"] = rss_kib(op.pid)
    log(f"rss: {many} clusters {res['rss_many_kib']} KiB (all Ready after {res['many_ready_s']:.1f}s)")
    delete_namespace(cp, nsm, wait=True)
    return res


def machine():
    mem_kib = 0
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"nproc {os.cpu_count()}, memory {mem_kib / 1048576:.1f} GiB, {cpu}, {platform.platform()}"


def steady_section(title, steady):
    out = [title, "",
           f"- Kubernetes API requests: **{steady['kube_total_per_min']:.1f} / min**, of which writes "
           f"**{steady['kube_writes_per_min']:.1f} / min**; MemgraphCluster rewritten: "
           f"{'yes' if steady['mgc_rewritten'] else 'no'}",
           f"- Bolt queries: **{steady['bolt_per_instance_per_min']:.1f} / instance / min** "
           f"({steady['bolt_total_per_min']:.1f} / min in all)", "", "mgo_kube_requests_total rates (per min):", ""]
    out += [f"- `{k}`: {v:.1f}" for k, v in sorted(steady["kube_per_min"].items())] or ["- (none)"]
    out += ["", "mgo_bolt_queries_total rates (per min):", ""]
    out += [f"- `{k}`: {v:.1f}" for k, v in sorted(steady["bolt_per_min"].items())] or ["- (none)"]
    return out + [""]


def report(args, binary, ready, steady, rss, noelect=None):
    out = ["# memgraph-operator benchmarks (issue 4)", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
           f"- machine: {machine()}",
           f"- command: `{' '.join(['.venv/bin/python', 'bench/operator_bench.py', *sys.argv[1:]])}` "
           "(or `bash bench/run-operator-bench.sh`)",
           f"- operator binary: `{os.path.relpath(binary, ROOT)}` (`{version(binary)}`)",
           "- control plane: test/cluster (real etcd, kube-apiserver, kube-controller-manager; test kubelet running "
           "each pod as a local process; memgraph pods are the Memgraph emulator)", ""]
    if ready:
        ov = [r["overhead_s"] for r in ready]
        out += ["## CR-to-Ready time minus pod start time (3 instances)", "",
                "Pod start = create → last pod Ready; CR Ready = phase Running and Ready=True. Polled every 0.1 s.",
                "", "| trial | pods Ready (s) | CR Ready (s) | overhead (s) |", "|---|---|---|---|"]
        out += [f"| {i + 1} | {r['pods_ready_s']:.2f} | {r['cr_ready_s']:.2f} | {r['overhead_s']:.2f} |"
                for i, r in enumerate(ready)]
        out += ["", f"overhead: median {statistics.median(ov):.2f} s, min {min(ov):.2f} s, max {max(ov):.2f} s "
                f"(N={len(ov)})", ""]
    if steady:
        out += steady_section(f"## Steady state (one Ready 3-instance cluster, default health interval 5 s, "
                              f"{steady['window_s']:.0f} s window)", steady)
    if noelect:
        out += steady_section(f"## Steady state without leader election (`--leader-elect=false`, "
                              f"{noelect['window_s']:.0f} s window)", noelect)
    if rss:
        out += ["## Operator RSS, idle", "", "| clusters | VmRSS |", "|---|---|",
                f"| 1 × 1 instance | {rss['rss_1_kib'] / 1024:.1f} MiB |",
                f"| {rss['many']} × 1 instance | {rss['rss_many_kib'] / 1024:.1f} MiB |", "",
                f"({rss['many']} clusters all Ready {rss['many_ready_s']:.1f} s after the last create.)", ""]
    text = "\n".join(out)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


def version(binary):
    r = subprocess.run([binary, "version"], capture_output=True, text=True, check=False)
    return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else "?"


class Testbed:
    """What every benchmark runs on: the control plane named by MGO_CONTROL_PLANE_DIR when it runs, else a new one
    (removed at the end), with the CRD and RBAC applied and a leading operator from operator_binary()."""

    def __init__(self, prefix):
        self.prefix, self.owned, self.state_dir, self.op = prefix, False, None, None

    def __enter__(self):
        existing = os.environ.get("MGO_CONTROL_PLANE_DIR")
        self.owned = not (existing and _running(existing))
        if self.owned:
            r = subprocess.run(["bash", os.path.join(ROOT, "test", "cluster", "up.sh")], capture_output=True,
                               text=True, check=True)
            self.state_dir = r.stdout.strip().splitlines()[-1]
        else:
            self.state_dir = existing
        self.cp = ControlPlane(self.state_dir, self.owned)
        self.clusters = Clusters(self.cp)
        self.binary = operator_binary()
        self.logdir = tempfile.mkdtemp(prefix=f"mgo-{self.prefix}-")
        self.op = OperatorProcess(self.cp, os.path.join(self.logdir, "operator.log"), f"{self.prefix}-{os.getpid()}",
                                  binary=self.binary)
        try:
            self.cp.kubectl("apply", "--server-side", "--force-conflicts", "-f",
                            os.path.join(ROOT, "config", "crd", "memgraph.io_memgraphclusters.yaml"),
                            "-f", os.path.join(ROOT, "config", "crd", "memgraph.io_memgraphbackups.yaml"))
            self.cp.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                            "crd/memgraphclusters.memgraph.io", "crd/memgraphbackups.memgraph.io")
            self.cp.kubectl("apply", "-k", os.path.join(ROOT, "config", "rbac"))
            self.op.start()
            self.cp.wait_for(lambda: self.op.http("/readyz")[0] == 200, timeout=60,
                             message="operator leading (/readyz)")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.op is not None:
            self.op.stop()
        if self.owned:
            subprocess.run(["bash", os.path.join(ROOT, "test", "cluster", "down.sh"), self.state_dir, "--purge"],
                           check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="*", default=["ready", "steady", "rss", "steady-noelect"],
                    help="ready, steady, rss, steady-noelect (default: all)")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--window", type=int, default=120)
    ap.add_argument("--settle", type=int, default=15)
    ap.add_argument("--many", type=int, default=50)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "operator.md"))
    args = ap.parse_args()

    with Testbed("bench") as tb:
        cp, c, binary = tb.cp, tb.clusters, tb.binary
        try:
            ready = bench_ready(cp, c, args.trials) if "ready" in args.what else None
            steady = bench_steady(cp, c, tb.op, args.window, args.settle) if "steady" in args.what else None
            rss = bench_rss(cp, c, tb.op, args.many, args.settle) if "rss" in args.what else None
            noelect = None
            if "steady-noelect" in args.what:
                # The same steady state without leader election: separates the Lease renewals from the rest.
                tb.op.stop()
                tb.op = OperatorProcess(cp, os.path.join(tb.logdir, "operator-noelect.log"),
                                        f"bench-ne-{os.getpid()}", binary=binary, leader_elect=False)
                tb.op.start()
                cp.wait_for(lambda: tb.op.http("/readyz")[0] == 200, timeout=60, message="operator ready (/readyz)")
                noelect = bench_steady(cp, c, tb.op, args.window, args.settle)
            report(args, binary, ready, steady, rss, noelect)
        except BaseException:
            print(f"operator log: {tb.op.log_path}\n{tb.op.tail(40)}", file=sys.stderr)
            raise


if __name__ == "__main__":
    main()
