#!/usr/bin/env python3
"""Tracing overhead (issue 12; docs/tracing.md) on the real local control plane with emulator pods, in one run:
reconcile pass duration p50/p99 with tracing off and on, and the operator's VmRSS in both.

C clusters of I instances (healthCheckIntervalSec 1, so each cluster is reconciled about once a second) are made
Ready once; then R rounds each run one operator with tracing off and one with tracing on (OTLP/HTTP to a real
OpenTelemetry Collector, tools/otelcol, writing to a file), alternating which goes first so drift of the machine
does not favour one mode. Each operator settles, then every pass of a W-second window is taken from its log
(`msg=reconciled … duration_ms=…`, the time from the pass's start to its last step, at --log-level debug in both
modes); VmRSS is read at the window's end. With tracing on, the spans the collector accepted and dropped are read
from /metrics. `--modes off,on,down` adds a third operator per round whose endpoint is a closed port: every span
is recorded and encoded as with "on", but no collector works on the same CPUs.

Usage (a control plane is started unless MGO_CONTROL_PLANE_DIR names a running one; use an optimized build):
  MGO_OPERATOR_BIN=build/release/src/cmd/memgraph-operator .venv/bin/python bench/trace_bench.py \
      [--rounds 2] [--window 90] [--settle 10] [--clusters 2] [--instances 3] [--modes off,on] [--out bench/results/tracing.md]
"""

import argparse
import datetime
import os
import pathlib
import re
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "cluster"))

from operator_bench import (Testbed, delete_namespace, log, machine, new_namespace, rss_kib,  # noqa: E402
                            version)

from harness import OperatorProcess, free_port, metric_sum  # noqa: E402
from test_tracing import Collector  # noqa: E402

PASS_RE = re.compile(r'msg=reconciled .*duration_ms=([0-9.]+)')


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_mode(tb, mode, collector, window, settle, rnd):
    env = {}
    if mode == "on":
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "1000"}
    elif mode == "down":  # every span recorded and encoded, the export refused at once: no collector work
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}", "OTEL_BSP_SCHEDULE_DELAY": "1000"}
    op = OperatorProcess(tb.cp, os.path.join(tb.logdir, f"operator-{mode}-{rnd}.log"), f"trace-{mode}-{rnd}",
                         binary=tb.binary, leader_elect=False, extra_args=("--log-level", "debug"), extra_env=env)
    op.start()
    tb.cp.wait_for(lambda: op.http("/readyz")[0] == 200, timeout=60, message="operator ready (/readyz)")
    time.sleep(settle)  # a benchmark's settle time, not a test's synchronisation
    start = len(op.logs())
    time.sleep(window)
    text = op.logs()[start:]
    rss = rss_kib(op.pid)
    m = op.metrics()
    spans = {"exported": metric_sum(m, "mgo_trace_spans_exported_total") or 0,
             "dropped": metric_sum(m, "mgo_trace_spans_dropped_total") or 0}
    op.stop()
    durations = [float(x) for x in PASS_RE.findall(text)]
    log(f"round {rnd} tracing {mode}: {len(durations)} passes, p50 {quantile(durations, 0.5):.2f} ms, "
        f"p99 {quantile(durations, 0.99):.2f} ms, VmRSS {rss / 1024:.1f} MiB")
    return {"durations": durations, "rss_kib": rss, "spans": spans}


def summary(rows):
    d = [x for r in rows for x in r["durations"]]
    return {"n": len(d), "p50": quantile(d, 0.5), "p99": quantile(d, 0.99), "mean": statistics.fmean(d),
            "rss_mib": max(r["rss_kib"] for r in rows) / 1024,
            "exported": sum(r["spans"]["exported"] for r in rows), "dropped": sum(r["spans"]["dropped"] for r in rows)}


def report(args, binary, res, rounds):
    off, on = summary(res["off"]), summary(res["on"])
    down = summary(res["down"]) if res.get("down") else None

    def pct(a, b):
        return 100.0 * (b - a) / a

    out = ["# Tracing overhead (issue 12)", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
           f"- machine: {machine()} (shared with other builds and tests while this ran)",
           f"- command: `MGO_OPERATOR_BIN={os.path.relpath(binary, ROOT)} .venv/bin/python bench/trace_bench.py "
           f"{' '.join(sys.argv[1:])}`",
           f"- operator binary: `{os.path.relpath(binary, ROOT)}` (`{version(binary)}`), --log-level debug in both modes",
           f"- {args.clusters} clusters × {args.instances} instances, healthCheckIntervalSec 1; {args.rounds} rounds, "
           f"each one operator with tracing off and one with tracing on (alternating order), settle {args.settle} s, "
           f"window {args.window} s",
           "- tracing on: OTLP/HTTP JSON to a real OpenTelemetry Collector (tools/otelcol, file exporter) on "
           "loopback, OTEL_BSP_SCHEDULE_DELAY=1000, sampler parentbased_always_on (every pass traced)",
           "- pass duration: `duration_ms` of the operator's `reconciled` log lines (pass start → last step, "
           "including every step, Bolt and Kubernetes span)", "",
           "| tracing | passes | p50 (ms) | p99 (ms) | mean (ms) | VmRSS (MiB, max) | spans exported | spans dropped |",
           "|---|---|---|---|---|---|---|---|",
           f"| off | {off['n']} | {off['p50']:.2f} | {off['p99']:.2f} | {off['mean']:.2f} | {off['rss_mib']:.1f} | – | – |",
           f"| on | {on['n']} | {on['p50']:.2f} | {on['p99']:.2f} | {on['mean']:.2f} | {on['rss_mib']:.1f} | "
           f"{on['exported']:.0f} | {on['dropped']:.0f} |"]
    if down:
        out += [f"| on, collector down | {down['n']} | {down['p50']:.2f} | {down['p99']:.2f} | {down['mean']:.2f} | "
                f"{down['rss_mib']:.1f} | {down['exported']:.0f} | {down['dropped']:.0f} |"]
    out += ["",
           f"Overhead of tracing: p50 {pct(off['p50'], on['p50']):+.1f} %, p99 {pct(off['p99'], on['p99']):+.1f} %, "
           f"mean {pct(off['mean'], on['mean']):+.1f} % (target ≤ 5 %); VmRSS "
           f"{on['rss_mib'] - off['rss_mib']:+.1f} MiB."]
    if down:
        out += ["", f"With the collector down (spans recorded, encoded and refused at once, no collector process "
                f"working): p50 {pct(off['p50'], down['p50']):+.1f} %, p99 {pct(off['p99'], down['p99']):+.1f} %."]
    out += ["", "Per round:", "",
           "| round | tracing | passes | p50 (ms) | p99 (ms) | VmRSS (MiB) |", "|---|---|---|---|---|---|"]
    for rnd, mode, r in rounds:
        d = r["durations"]
        out.append(f"| {rnd + 1} | {mode} | {len(d)} | {quantile(d, 0.5):.2f} | {quantile(d, 0.99):.2f} | "
                   f"{r['rss_kib'] / 1024:.1f} |")
    text = "\n".join(out) + "\n"
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--window", type=int, default=90)
    ap.add_argument("--settle", type=int, default=10)
    ap.add_argument("--clusters", type=int, default=2)
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--modes", default="off,on",
                    help="comma-separated: off, on (to the collector), down (to a closed port); default off,on")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "tracing.md"))
    args = ap.parse_args()

    collector = Collector(pathlib.Path(tempfile.mkdtemp(prefix="mgo-trace-bench-")))
    try:
        with Testbed("trace-bench") as tb:
            ns = f"bench-trace-{os.getpid()}"
            new_namespace(tb.cp, ns)
            for i in range(args.clusters):
                tb.clusters.make_cluster(ns, f"mg{i}", args.instances,
                                         replication={"healthCheckIntervalSec": 1, "syncReplicas": 1})
            for i in range(args.clusters):
                tb.clusters.wait_ready(ns, f"mg{i}", timeout=300)
            tb.cp.wait_for(collector.accepting, timeout=60, message="otelcol accepting")
            tb.op.stop()  # the testbed's own operator: each mode runs its own below
            modes = args.modes.split(",")
            res, rounds = {m: [] for m in modes}, []
            for rnd in range(args.rounds):
                for mode in (modes if rnd % 2 == 0 else modes[::-1]):
                    r = run_mode(tb, mode, collector, args.window, args.settle, rnd)
                    res[mode].append(r)
                    rounds.append((rnd, mode, r))
            delete_namespace(tb.cp, ns)
            report(args, tb.binary, res, rounds)
    finally:
        collector.stop()


if __name__ == "__main__":
    main()
