#!/usr/bin/env python3
"""Start-up time of the Memgraph emulator (process start -> Bolt port accepting), N times with WAL on, from an
empty data directory and from one holding N_NODES nodes (WAL replay). Writes a markdown report.
    .venv/bin/python bench/emu_startup.py [--trials N] [--nodes N_NODES] [--out bench/results/emu-startup.md]
The e2e suite starts ~600 emulator pods per run, so this is part of what `make test` costs."""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "memgraph-emulator", "tests"))
from emu_testkit import Emu  # noqa: E402


def one_start(base, name, nodes):
    e = Emu(base, name, wal=True)
    if nodes:
        e.start()
        e.q("UNWIND range(1, %d) AS i CREATE (:N {i: i})" % nodes)
        e.stop()
    t0 = time.monotonic()
    e.start()
    dt = time.monotonic() - t0
    if nodes:
        assert e.q("MATCH (n:N) RETURN count(n) AS c") == [{"c": nodes}]  # the replay really happened
    e.stop()
    return dt


def summary(xs):
    xs = sorted(xs)
    return "%.3f | %.3f | %.3f" % (statistics.median(xs), xs[int(0.9 * (len(xs) - 1))], xs[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "emu-startup.md"))
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as base:
        for nodes in (0, a.nodes):
            rows.append((nodes, [one_start(base, "e%d-%d" % (nodes, i), nodes) for i in range(a.trials)]))
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    lines = ["# Memgraph emulator start-up", "",
             "- date: %s; machine: %s, nproc %d; HEAD %s; Python %s" % (
                 time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), platform.machine(), os.cpu_count(), rev,
                 platform.python_version()),
             "- command: `.venv/bin/python bench/emu_startup.py --trials %d --nodes %d`" % (a.trials, a.nodes),
             "- measured: process start until the Bolt port accepts a connection (WAL enabled)", "",
             "| data directory | trials | p50 (s) | p90 (s) | max (s) |", "|---|---|---|---|---|"]
    for nodes, xs in rows:
        lines.append("| %s | %d | %s |" % ("empty" if not nodes else "%d nodes in the WAL" % nodes, len(xs),
                                          summary(xs)))
    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
