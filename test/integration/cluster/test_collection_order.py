"""The order test/conftest.py collects files in (longest first, from test/file-durations.json), which
scripts/test.sh keeps for xdist."""
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_DIR = os.path.dirname(os.path.dirname(HERE))
ROOT = os.path.dirname(TEST_DIR)


def root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest_for_order", os.path.join(TEST_DIR, "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Item:
    def __init__(self, nodeid):
        self.nodeid = nodeid


def test_longest_files_first_keeps_each_files_own_order():
    order = root_conftest().longest_files_first
    items = [Item(n) for n in ("a.py::t1", "a.py::t2", "b.py::t1", "c.py::t1", "b.py::t2", "d.py::t1")]
    got = [i.nodeid for i in order(items, {"a.py": 5.0, "b.py": 100.0, "c.py": 1.0})]
    # d.py is unknown: taken as UNKNOWN_FILE_S (60 s), between b and a
    assert got == ["b.py::t1", "b.py::t2", "d.py::t1", "a.py::t1", "a.py::t2", "c.py::t1"]


def test_every_recorded_file_exists_and_durations_parse(tmp_path):
    conf = root_conftest()
    durations = conf.file_durations()
    assert durations, "test/file-durations.json is missing or empty"
    missing = [p for p in durations if not os.path.isfile(os.path.join(ROOT, p))]
    assert not missing, f"stale entries (refresh with scripts/test-durations.py): {missing}"


def test_durations_script_sums_a_junit_report(tmp_path):
    xml = tmp_path / "junit.xml"
    xml.write_text('<testsuites><testsuite name="pytest">'
                   '<testcase classname="test.e2e.test_chaos" name="a" time="10.5"/>'
                   '<testcase classname="test.e2e.test_chaos" name="b" time="2"/>'
                   '<testcase classname="test.conftest" name="c" time="1"/>'
                   '<testcase classname="no.such.file" name="d" time="9"/>'
                   '</testsuite></testsuites>')
    out = tmp_path / "durations.json"
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "test-durations.py"), str(xml), str(out)],
                   check=True, capture_output=True)
    assert json.loads(out.read_text()) == {"test/e2e/test_chaos.py": 12.5, "test/conftest.py": 1.0}
