#!/usr/bin/env python3
"""Writes test/file-durations.json (seconds per test file: setup + call + teardown of its tests) from a pytest
JUnit XML report, so test/conftest.py can hand the longest files to xdist workers first.
    .venv/bin/python -m pytest ... --junitxml=build/pytest-junit.xml test
    python3 scripts/test-durations.py build/pytest-junit.xml [test/file-durations.json]"""
import json
import os
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def file_of(classname):
    """"test.e2e.test_chaos" or "test.e2e.test_chaos.TestX" -> "test/e2e/test_chaos.py" (None if not found)."""
    parts = classname.split(".")
    for k in range(len(parts), 0, -1):
        path = "/".join(parts[:k]) + ".py"
        if os.path.isfile(os.path.join(ROOT, path)):
            return path
    return None


def main():
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "test", "file-durations.json")
    totals = {}
    for case in ET.parse(src).getroot().iter("testcase"):
        path = file_of(case.get("classname", ""))
        if path is not None:
            totals[path] = totals.get(path, 0.0) + float(case.get("time") or 0)
    if not totals:
        sys.exit("no test cases found in %s" % src)
    doc = {p: round(t, 1) for p, t in sorted(totals.items(), key=lambda kv: -kv[1])}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("%d files, %.0f s in all, longest %s (%.0f s)" % (len(doc), sum(doc.values()), *next(iter(doc.items()))))


if __name__ == "__main__":
    main()
