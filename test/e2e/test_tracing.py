"""OpenTelemetry traces (docs/tracing.md) against a real OpenTelemetry Collector (tools/otelcol: OTLP/HTTP receiver,
file exporter writing OTLP JSON lines): a failover's reconcile pass as one trace with its step, Bolt, Kubernetes and
failover spans correctly linked, the same trace id in that pass's log lines; and a collector that is down costs the
reconciles nothing while the operator counts what it could not export.
"""

import json
import os
import re
import socket
import subprocess

import pytest
from harness import free_port, metric_sum
from versions import cache_dir, read_versions

pytestmark = pytest.mark.controlplane

NAME = "mg"
SYNC = {"healthCheckIntervalSec": 1, "syncReplicas": 1, "syncMode": "SYNC"}


def _collector_binary():
    path = os.path.join(cache_dir(), f"otelcol-{read_versions()['OTELCOL']}", "otelcol")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no OpenTelemetry Collector at {path}: run tools/otelcol/build.sh (make bootstrap does)")
    return path


class Collector:
    """One otelcol process: OTLP/HTTP on 127.0.0.1:<port>, every received batch appended to a JSON-lines file."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.file = str(tmp_path / "traces.jsonl")
        self.log = str(tmp_path / "otelcol.log")
        self.config = str(tmp_path / "otelcol.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(f"""receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{self.port}
exporters:
  file:
    path: {self.file}
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
""")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([_collector_binary(), "--config", self.config], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def accepting(self):
        assert self.proc.poll() is None, f"otelcol exited: {open(self.log, encoding='utf-8').read()[-2000:]}"
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def spans(self):
        """Every span received so far, each with its resource attributes under "_resource"."""
        out = []
        try:
            with open(self.file, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return out
        for line in lines:
            if not line.strip():
                continue
            for rs in json.loads(line).get("resourceSpans", []):
                res = _attrs(rs.get("resource", {}))
                for ss in rs.get("scopeSpans", []):
                    for sp in ss.get("spans", []):
                        sp["_resource"] = res
                        sp["_scope"] = ss.get("scope", {})
                        out.append(sp)
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _attrs(obj):
    """OTLP attributes → {key: python value}; intValue (a string in OTLP JSON) becomes an int."""
    out = {}
    for a in obj.get("attributes", []):
        v = a["value"]
        if "intValue" in v:
            out[a["key"]] = int(v["intValue"])
        elif "boolValue" in v:
            out[a["key"]] = v["boolValue"]
        else:
            out[a["key"]] = v.get("stringValue")
    return out


@pytest.fixture
def collector(control_plane, tmp_path):
    c = Collector(tmp_path)
    try:
        control_plane.wait_for(c.accepting, timeout=60, message="otelcol accepting OTLP/HTTP")
        yield c
    finally:
        c.stop()


def _main_changed(clusters, ns, old):
    st = clusters.cluster_status(ns, NAME)
    lf = st.get("lastFailover") or {}
    return st.get("currentMain") not in (None, old) and lf.get("from") == old and lf.get("to") == st["currentMain"]


def _failover_span(collector, cluster):
    for sp in collector.spans():
        if sp["name"] == "failover" and _attrs(sp).get("cluster") == cluster:
            return sp
    return None


def _ancestors(span, by_id):
    """The chain of parents of span up to its root (each must be in by_id, else the chain is broken: None)."""
    chain = []
    while span.get("parentSpanId"):
        span = by_id.get(span["parentSpanId"])
        if span is None:
            return None
        chain.append(span)
    return chain


def test_failover_pass_is_one_linked_trace_and_its_logs_carry_the_trace_id(control_plane, namespace, clusters,
                                                                          operator_factory, collector):
    """A frozen MAIN fails over. The pass that does it is one trace: a root span "reconcile" (cluster attribute),
    one child span per step with the pass's root as parent, a "failover" span under the "act" step with the decision
    (from, to, reason, behind, mode), Bolt spans (SHOW REPLICATION ROLE in observe, the PROMOTE under the failover)
    and Kubernetes spans (the MAIN record's status patch, the fence's DELETE under the failover) whose parentSpanId
    links lead to that root; the resource carries OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; and the operator's
    log lines of that pass carry the same trace_id."""
    ns = namespace
    cluster = f"{ns}/{NAME}"
    op = operator_factory(identity="op-trace", extra_args=("--bolt-timeout=1s",), extra_env={
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_SERVICE_NAME": "mgo-e2e",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=e2e%20test",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    })
    clusters.make_cluster(ns, NAME, 3, replication=SYNC, failover={"failoverDelaySec": 1})
    old = clusters.wait_ready(ns, NAME, timeout=180)["currentMain"]
    clusters.wait_replication(ns, NAME, expected_replicas=2)
    old_ip = control_plane.pod_ip(ns, old)  # the fence replaces the pod: its next incarnation may get another
    control_plane.freeze_pod(ns, old, container="memgraph")
    try:
        control_plane.wait_for(lambda: _main_changed(clusters, ns, old), timeout=90, message="failover recorded")
    finally:
        control_plane.thaw_pod(ns, old, container="memgraph")
    new = clusters.cluster_status(ns, NAME)["currentMain"]
    control_plane.wait_for(lambda: _failover_span(collector, cluster) is not None, timeout=60,
                           message="the failover span at the collector")
    fo = _failover_span(collector, cluster)
    trace_id = fo["traceId"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and trace_id != "0" * 32, trace_id

    def whole_trace():
        spans = [s for s in collector.spans() if s["traceId"] == trace_id]
        return spans if any(not s.get("parentSpanId") for s in spans) else None

    control_plane.wait_for(whole_trace, timeout=30, message="the failover pass's root span")
    spans = whole_trace()
    by_id = {s["spanId"]: s for s in spans}
    assert len(by_id) == len(spans), "span ids are unique"
    roots = [s for s in spans if not s.get("parentSpanId")]
    assert len(roots) == 1, roots
    root = roots[0]
    assert root["name"] == "reconcile" and _attrs(root)["cluster"] == cluster, root
    assert root["_resource"]["service.name"] == "mgo-e2e"
    assert root["_resource"]["deployment.environment"] == "e2e test"
    assert root["_scope"]["name"] == "memgraph-operator"

    # the decision on the failover span
    a = _attrs(fo)
    assert a["from"] == old and a["to"] == new and a["reason"] == "MainUnreachable", a
    assert a["behind"] == 0 and a["mode"] == "SYNC", a
    assert [v for v in fo["attributes"] if v["key"] == "behind"][0]["value"] == {"intValue": "0"}

    # the steps: children of the root, in table order; the failover under "act"
    steps = sorted((s for s in spans if s.get("parentSpanId") == root["spanId"]),
                   key=lambda s: int(s["startTimeUnixNano"]))
    names = [s["name"] for s in steps]
    for step in ("load", "objects", "observe", "decide", "act", "status"):
        assert step in names, names
    assert names.index("load") < names.index("observe") < names.index("decide") < names.index("act"), names
    assert all(_attrs(s)["step"] == s["name"] and _attrs(s)["cluster"] == cluster for s in steps)
    act = next(s for s in steps if s["name"] == "act")
    assert fo["parentSpanId"] == act["spanId"]
    for s in spans:
        assert int(s["startTimeUnixNano"]) <= int(s["endTimeUnixNano"]), s
        chain = _ancestors(s, by_id)
        assert chain is not None and (s is root or chain[-1] is root), f"broken parent link: {s['name']}"

    # Bolt and Kubernetes requests as client spans (kind 3 = CLIENT), each under the step that made it
    bolt = [s for s in spans if s["name"].startswith("bolt ")]
    kube = [s for s in spans if s["name"].startswith("kube ")]
    observe = next(s for s in steps if s["name"] == "observe")
    assert any(s["name"] == "bolt SHOW REPLICATION ROLE" and s["parentSpanId"] == observe["spanId"] for s in bolt)
    assert all(s["kind"] == 3 and _attrs(s)["db.system.name"] == "memgraph" for s in bolt)
    promote = [s for s in bolt if s["parentSpanId"] == fo["spanId"]]
    assert promote and all(_attrs(s)["db.operation.name"] == "SET REPLICATION ROLE" for s in promote), promote
    under_fo = {_attrs(s)["http.request.method"] for s in kube if s["parentSpanId"] == fo["spanId"]}
    assert {"PATCH", "DELETE"} <= under_fo, under_fo  # the MAIN record, the fence
    for s in kube:
        ka = _attrs(s)
        assert s["kind"] == 3 and ka["url.path"].startswith("/") and "?" not in ka["url.path"], ka
        assert 200 <= ka["http.response.status_code"] < 600, ka
    # the frozen MAIN's query failed with an error status (code 2) and the reason: in this pass's observe step, or
    # (when this pass held the silent pod without asking it again, for one deadline after a timeout) in an
    # earlier pass of this cluster
    failed = [s for s in bolt if s["parentSpanId"] == observe["spanId"] and s["status"].get("code") == 2]
    if not failed:
        assert not any(_attrs(s).get("server.address") == old_ip for s in bolt
                       if s["parentSpanId"] == observe["spanId"]), [s["status"] for s in bolt]
        failed = [s for s in collector.spans() if s["name"].startswith("bolt ") and s["traceId"] != trace_id
                  and _attrs(s).get("server.address") == old_ip and s["status"].get("code") == 2]
    assert failed and all(s["status"].get("message") for s in failed), [s["status"] for s in bolt]

    # the pass's log lines carry its trace id and the id of the span they were written in
    lines = [ln for ln in op.logs().splitlines() if f"trace_id={trace_id}" in ln]
    assert any('msg="MAIN recorded"' in ln for ln in lines), lines[:20]
    span_ids = set(by_id)
    for ln in lines:
        m = re.search(r"span_id=([0-9a-f]{16})", ln)
        assert m and m.group(1) in span_ids, ln


def test_collector_down_costs_nothing_and_is_counted(control_plane, namespace, clusters, operator_factory):
    """The endpoint is a closed port: reconciles still complete (the cluster gets Ready, passes keep being counted)
    and mgo_trace_spans_dropped_total{reason="export_failed"} and mgo_trace_export_failures_total grow."""
    ns = namespace
    closed = free_port()  # bound and released: nothing listens there
    op = operator_factory(identity="op-trace-down", extra_env={
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "500",
    })
    clusters.make_cluster(ns, NAME, 3, replication=SYNC)
    clusters.wait_ready(ns, NAME, timeout=180)

    def counted():
        m = op.metrics()
        failed = metric_sum(m, "mgo_trace_export_failures_total") or 0
        dropped = metric_sum(m, "mgo_trace_spans_dropped_total", reason="export_failed") or 0
        passes = metric_sum(m, "mgo_reconcile_total", cluster=f"{ns}/{NAME}") or 0
        return (failed, dropped, passes) if failed >= 1 and dropped >= 1 else None

    control_plane.wait_for(counted, timeout=60, message="failed exports counted")
    failed, dropped, passes = counted()
    control_plane.wait_for(lambda: (counted() or (0, 0, 0))[1] > dropped and counted()[2] > passes, timeout=60,
                           message="more passes, more spans dropped")
    assert metric_sum(op.metrics(), "mgo_trace_spans_exported_total") == 0
    assert "tracing on" in op.logs()
