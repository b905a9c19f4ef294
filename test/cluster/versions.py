"""tools/versions.env for Python test code: the one reader of the versions every component of the test bed is
built at, and of the cache directory they are built into (the same variables test/cluster/lib.sh sources)."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_versions():
    """{NAME: value} of every NAME=value line of tools/versions.env (MGO_CACHE's line is a shell default: use
    cache_dir())."""
    vals = {}
    with open(os.path.join(ROOT, "tools", "versions.env"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Z0-9_]+)=(.*)$", line.strip())
            if m:
                vals[m.group(1)] = m.group(2)
    return vals


def cache_dir():
    return os.environ.get("MGO_CACHE") or os.path.expanduser("~/.cache/memgraph-operator")
