"""The Helm chart charts/memgraph-operator (docs/helm.md).

Without a control plane: the chart's crds/ are config/crd (symlinks, packaged byte for byte), `helm lint --strict`
with every ci/*-values.yaml, yamllint on the plain YAML and on the rendered manifests, the schema refuses typos,
the rendered RBAC and Deployment equal config/rbac and config/manager, values reach the manifests, and the
monitoring objects use only metrics the operator exports; every alert passes its `promtool test rules` unit tests
(charts/memgraph-operator/tests/*_test.yaml, firing and not firing, with their `for:`), and the Grafana dashboard is
checked (unique ids and uid, `${datasource}` everywhere, every query accepted by `promtool check rules`).

On the real control plane: `helm template | kubectl apply --dry-run=server` for every ci file (the prometheus-
operator CRDs are applied first, so ServiceMonitor, PodMonitor and PrometheusRule are validated by their real
schemas), then one release's life: `helm install --wait` runs the operator from the chart's Deployment (image
memgraph-operator:*, which the test kubelet runs as the built binary) and brings
config/samples/memgraphcluster-minimal.yaml to Ready; every metric family the alerts and the dashboard use is in
the live operator's /metrics;
`helm upgrade` (log level) rolls every operator pod while the cluster stays Ready with the same MAIN; `helm
uninstall` leaves no object of the release behind (CRDs and MemgraphClusters stay, by design).

The control plane of test/cluster runs no Deployment or ReplicaSet controller, so the module starts a second
kube-controller-manager with just those two (the `deployment_controllers` fixture), stopped after the module.
"""

import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request

import pytest
import yaml
from harness import ROOT, free_port, parse_metrics
from versions import read_versions

CHART = os.path.join(ROOT, "charts", "memgraph-operator")
CI_FILES = sorted(glob.glob(os.path.join(CHART, "ci", "*-values.yaml")))
CONFIG = os.path.join(ROOT, "config")
SAMPLE = os.path.join(CONFIG, "samples", "memgraphcluster-minimal.yaml")
ALERT_TESTS = sorted(glob.glob(os.path.join(CHART, "tests", "*_test.yaml")))
DASHBOARD = os.path.join(CHART, "files", "dashboard.json")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _tool_dir(name):
    """The cache directory a tools/<name>/build.sh prints (it builds or fetches only what is missing)."""
    r = subprocess.run(["bash", os.path.join(ROOT, "tools", name, "build.sh")], capture_output=True, text=True,
                       timeout=900, check=False)
    assert r.returncode == 0, f"tools/{name}/build.sh failed:\n{r.stderr[-3000:]}"
    return r.stdout.strip().splitlines()[-1]


class Helm:
    """The helm binary of tools/helm/build.sh with its own cache/config/data homes (nothing under $HOME)."""

    def __init__(self, binary, home):
        self.binary = binary
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                    "HELM_CACHE_HOME": os.path.join(home, "cache"), "HELM_CONFIG_HOME": os.path.join(home, "config"),
                    "HELM_DATA_HOME": os.path.join(home, "data"), "KUBECONFIG": os.path.join(home, "no-kubeconfig")}

    def run(self, *args, kubeconfig=None, check=True, timeout=300, input=None):
        env = dict(self.env)
        if kubeconfig:
            env["KUBECONFIG"] = kubeconfig
        r = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, env=env, input=input,
                           timeout=timeout, check=False)
        if check and r.returncode != 0:
            raise AssertionError(f"helm {' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def template(self, *args, release="mgo", namespace="mgo-system"):
        r = self.run("template", release, CHART, "--namespace", namespace, *args)
        return r.stdout, [d for d in yaml.safe_load_all(r.stdout) if d]


@pytest.fixture(scope="module")
def helm(tmp_path_factory):
    binary = os.path.join(_tool_dir("helm"), "helm")
    h = Helm(binary, str(tmp_path_factory.mktemp("helm-home")))
    assert h.run("version", "--short").stdout.strip().startswith(read_versions()["HELM"])
    return h


def _by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def _one(docs, kind):
    found = _by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {[d['metadata']['name'] for d in found]}"
    return found[0]


# ---------------------------------------------------------------------------------------------------------------
# the chart's files


def test_crds_are_config_crd_and_packaged_byte_for_byte(helm, tmp_path):
    """One source of truth: crds/ holds a symlink to each CRD that config/crd/kustomization.yaml lists, and nothing
    else; `helm package` puts their content (not links) into the chart archive, identical to config/crd."""
    listed = sorted(_load(os.path.join(CONFIG, "crd", "kustomization.yaml"))["resources"])
    crds_dir = os.path.join(CHART, "crds")
    assert sorted(os.listdir(crds_dir)) == listed
    for name in listed:
        link = os.path.join(crds_dir, name)
        assert os.path.islink(link), f"{link} must be a symlink to config/crd/{name}"
        assert os.path.realpath(link) == os.path.realpath(os.path.join(CONFIG, "crd", name))
    helm.run("package", CHART, "--destination", tmp_path)
    (archive,) = glob.glob(str(tmp_path / "memgraph-operator-*.tgz"))
    with tarfile.open(archive) as tar:
        packaged = {os.path.basename(m.name): tar.extractfile(m).read() for m in tar.getmembers()
                    if m.isfile() and m.name.startswith("memgraph-operator/crds/")}
        names = tar.getnames()
    assert sorted(packaged) == listed
    for name in listed:
        with open(os.path.join(CONFIG, "crd", name), "rb") as f:
            assert packaged[name] == f.read(), f"packaged crds/{name} differs from config/crd/{name}"
    assert not [n for n in names if "/ci/" in n], "ci/ value files must not be packaged (.helmignore)"
    assert not [n for n in names if "/tests/" in n], "the promtool unit tests must not be packaged (.helmignore)"
    assert "memgraph-operator/values.schema.json" in names


def test_chart_app_version_is_the_project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        version = re.search(r"project\(memgraph-operator VERSION (\S+)", f.read()).group(1)
    chart = _load(os.path.join(CHART, "Chart.yaml"))
    assert chart["appVersion"] == version
    assert {"name": "memgraph-operator", "newTag": version} in _load(os.path.join(CONFIG, "default",
                                                                                 "kustomization.yaml"))["images"]


def test_ci_value_files_exist():
    names = {os.path.basename(p) for p in CI_FILES}
    assert {"default-values.yaml", "all-enabled-values.yaml"} <= names


@pytest.mark.parametrize("values", CI_FILES, ids=os.path.basename)
def test_helm_lint_strict(helm, values):
    r = helm.run("lint", "--strict", CHART, "-f", values, check=False)
    assert r.returncode == 0 and "0 chart(s) failed" in r.stdout, f"{r.stdout}\n{r.stderr}"
    assert "[WARNING]" not in r.stdout and "[ERROR]" not in r.stdout, r.stdout


def _yamllint(*args, input=None):
    return subprocess.run([sys.executable, "-m", "yamllint", "-f", "parsable", *args], capture_output=True,
                          text=True, input=input, timeout=60, check=False)


def test_yamllint_plain_yaml():
    """Chart.yaml, values.yaml and ci/*.yaml are plain YAML: strict yamllint with the chart's .yamllint; so are
    tests/*_test.yaml (long lines allowed)."""
    files = [os.path.join(CHART, "Chart.yaml"), os.path.join(CHART, "values.yaml"), *CI_FILES]
    r = _yamllint("-s", "-c", os.path.join(CHART, ".yamllint"), *files)
    assert r.returncode == 0, r.stdout + r.stderr
    # the promtool unit tests too, but for their long lines (the expected annotations, word for word)
    r = _yamllint("-s", "-d", "{extends: default, rules: {line-length: disable, document-start: disable, "
                  "comments: {min-spaces-from-content: 1}, indentation: {spaces: 2, indent-sequences: whatever}}}",
                  *ALERT_TESTS)
    assert ALERT_TESTS and r.returncode == 0, r.stdout + r.stderr
    # the linter really runs with that config: a duplicated key is an error
    bad = _yamllint("-s", "-c", os.path.join(CHART, ".yamllint"), "-", input="a: 1\na: 2\n")
    assert bad.returncode != 0 and "key-duplicates" in bad.stdout


@pytest.mark.parametrize("values", CI_FILES, ids=os.path.basename)
def test_yamllint_rendered_manifests(helm, values):
    """The templates render to clean YAML (indentation, no duplicate keys, no trailing spaces); long lines are
    allowed there (PromQL, the dashboard JSON)."""
    text, docs = helm.template("-f", values, "--include-crds")
    assert docs
    config = ("{extends: default, rules: {line-length: disable, document-start: disable, "
              "comments: {min-spaces-from-content: 1}, indentation: {spaces: 2, indent-sequences: whatever}}}")
    r = _yamllint("-s", "-d", config, "-", input=text)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("args, message", [
    (["--set", "replicaCont=3"], "additional properties 'replicaCont' not allowed"),
    (["--set", "metrics.serviceMonitor.enable=true"], "additional properties 'enable' not allowed"),
    (["--set", "image.pullpolicy=Always"], "additional properties 'pullpolicy' not allowed"),
    (["--set", "resources.limit.cpu=1"], "additional properties 'limit' not allowed"),
    (["--set", "logLevel=verbose"], "/logLevel"),
    (["--set", "replicaCount=0"], "/replicaCount"),
    (["--set", "extraArgs[0]=workers=8"], "/extraArgs/0"),
    (["--set", "watchNamespace=Not_A_Namespace"], "/watchNamespace"),
], ids=["top-level", "nested", "image", "resources", "enum", "minimum", "flag", "namespace"])
def test_schema_refuses_bad_values(helm, args, message):
    r = helm.run("template", "mgo", CHART, *args, check=False)
    assert r.returncode != 0, f"helm accepted {args}:\n{r.stdout[:500]}"
    assert "values don't meet the specifications of the schema" in r.stderr and message in r.stderr, r.stderr


def test_several_replicas_need_leader_election(helm):
    r = helm.run("template", "mgo", CHART, "--set", "leaderElection.enabled=false", check=False)
    assert r.returncode != 0 and "needs leaderElection.enabled" in r.stderr, r.stderr
    _, docs = helm.template("--set", "leaderElection.enabled=false", "--set", "replicaCount=1")
    (c,) = _one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert "--leader-elect=false" in c["args"]


def _manager():
    return _load(os.path.join(CONFIG, "manager", "manager.yaml"))


def _strip_lease_args(args):
    return [a for a in args if not a.startswith(("--lease-namespace=", "--lease-name=", "--operator-image="))]


def test_default_render_equals_config_rbac_and_manager(helm):
    _, docs = helm.template(release="mgo", namespace="ops")
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    assert kinds == sorted([
        ("ServiceAccount", "mgo-memgraph-operator"), ("ClusterRole", "mgo-memgraph-operator"),
        ("ClusterRoleBinding", "mgo-memgraph-operator"), ("Role", "mgo-memgraph-operator-leader-election"),
        ("RoleBinding", "mgo-memgraph-operator-leader-election"), ("Deployment", "mgo-memgraph-operator"),
        ("Service", "mgo-memgraph-operator-metrics")]), "monitoring objects must be off by default"
    for d in docs:
        labels = d["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "mgo" and labels["app.kubernetes.io/managed-by"] == "Helm"
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] == "ops"

    # RBAC: the same rules as config/rbac, bound to the chart's ServiceAccount; no exec, no RBAC, no secret writes
    assert _one(docs, "ClusterRole")["rules"] == _load(os.path.join(CONFIG, "rbac", "cluster_role.yaml"))["rules"]
    assert (_one(docs, "Role")["rules"]
            == _load(os.path.join(CONFIG, "rbac", "leader_election_role.yaml"))["rules"])
    resources = {r for rule in _one(docs, "ClusterRole")["rules"] for r in rule["resources"]}
    assert not resources & {"pods/exec", "pods/attach", "nodes", "clusterroles", "clusterrolebindings", "*"}
    sa = {"kind": "ServiceAccount", "name": "mgo-memgraph-operator", "namespace": "ops"}
    assert _one(docs, "ClusterRoleBinding")["subjects"] == [sa]
    assert _one(docs, "RoleBinding")["subjects"] == [sa]
    assert _one(docs, "ClusterRoleBinding")["roleRef"]["name"] == "mgo-memgraph-operator"

    # Deployment: config/manager/manager.yaml with the release's names
    dep, ref = _one(docs, "Deployment"), _manager()
    assert dep["spec"]["replicas"] == ref["spec"]["replicas"] == 2
    assert dep["spec"]["strategy"] == ref["spec"]["strategy"]
    pod, ref_pod = dep["spec"]["template"]["spec"], ref["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "mgo-memgraph-operator"
    for key in ("securityContext", "automountServiceAccountToken", "enableServiceLinks",
                "terminationGracePeriodSeconds"):
        assert pod[key] == ref_pod[key], key
    (c,), (rc,) = pod["containers"], ref_pod["containers"]
    for key in ("livenessProbe", "readinessProbe", "resources", "securityContext", "ports", "imagePullPolicy",
                "env", "volumeMounts"):
        assert c[key] == rc[key], key
    assert pod["volumes"] == ref_pod["volumes"]
    # a writable $TMPDIR, the only writable path under the read-only root (spec.tls CA files go there)
    assert {"name": "TMPDIR", "value": "/tmp/memgraph-operator"} in c["env"]
    assert c["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp/memgraph-operator"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True and pod["securityContext"]["runAsUser"] == 65532
    assert c["image"] == rc["image"] == "memgraph-operator:0.1.0"
    assert _strip_lease_args(c["args"]) == _strip_lease_args(rc["args"])
    assert {"--lease-namespace=ops", "--lease-name=mgo-memgraph-operator",
            "--operator-image=memgraph-operator:0.1.0"} <= set(c["args"])
    assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()

    svc = _one(docs, "Service")
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    assert svc["spec"]["ports"] == [{"name": "http-metrics", "port": 8080, "targetPort": "http", "protocol": "TCP"}]


def test_all_enabled_values_reach_the_manifests(helm):
    _, docs = helm.template("-f", os.path.join(CHART, "ci", "all-enabled-values.yaml"), release="r", namespace="ops")
    dep = _one(docs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert dep["spec"]["replicas"] == 3
    assert c["image"] == "registry.example.com/memgraph/memgraph-operator:0.1.0" and c["imagePullPolicy"] == "Always"
    for arg in ("--log-level=debug", "--log-format=logfmt", "--namespace=memgraph", "--workers=8",
                "--lease-name=memgraph-operator-lease", "--lease-namespace=ops",
                "--operator-image=registry.example.com/memgraph/memgraph-operator:0.1.0"):
        assert arg in c["args"], arg
    assert {"name": "TZ", "value": "UTC"} in c["env"]
    assert pod["serviceAccountName"] == "memgraph-operator-sa" == _one(docs, "ServiceAccount")["metadata"]["name"]
    assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"} and pod["tolerations"][0]["key"] == "dedicated"
    assert pod["affinity"]["podAntiAffinity"] and pod["topologySpreadConstraints"][0]["maxSkew"] == 1
    assert dep["spec"]["template"]["metadata"]["labels"]["example.com/team"] == "platform"
    # watchNamespace: the rules bound in that namespace only, no ClusterRoleBinding
    assert not _by_kind(docs, "ClusterRoleBinding")
    bindings = {b["metadata"]["name"]: b for b in _by_kind(docs, "RoleBinding")}
    assert bindings["r-memgraph-operator"]["metadata"]["namespace"] == "memgraph"
    assert bindings["r-memgraph-operator"]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                                          "kind": "ClusterRole", "name": "r-memgraph-operator"}
    # ServiceMonitor selects exactly the metrics Service, on a port it has
    svc, sm = _one(docs, "Service"), _one(docs, "ServiceMonitor")
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["ops"]}
    (ep,) = sm["spec"]["endpoints"]
    assert ep["port"] in {p["name"] for p in svc["spec"]["ports"]} and ep["path"] == "/metrics"
    assert ep["interval"] == "15s" and sm["metadata"]["labels"]["release"] == "prometheus"
    # PodMonitor selects exactly the operator's pods, on the container's port, in the release namespace
    pm = _one(docs, "PodMonitor")
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    assert pm["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    assert pm["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pm["metadata"]["namespace"] == "ops" and pm["spec"]["namespaceSelector"] == {"matchNames": ["ops"]}
    (pep,) = pm["spec"]["podMetricsEndpoints"]
    assert pep["port"] in {p["name"] for p in c["ports"]} and pep["path"] == "/metrics"
    assert pep["interval"] == "20s" and pep["scrapeTimeout"] == "5s" and pep["relabelings"][0]["targetLabel"] == "node"
    assert pm["metadata"]["labels"]["release"] == "prometheus"
    # PrometheusRule: the thresholds and runbook base from values, the extra rule appended
    rules = {r.get("alert"): r for g in _one(docs, "PrometheusRule")["spec"]["groups"] for r in g["rules"]}
    assert rules["MemgraphReplicaLagging"]["expr"].endswith("> 500")
    assert "[172800s])) > 86400" in rules["MemgraphBackupTooOld"]["expr"]
    # operator down: the job of the ServiceMonitor (the Service's name) or of the PodMonitor (<namespace>/<name>)
    up = 'up{job=~"r-memgraph-operator-metrics|ops/r-memgraph-operator", namespace="ops"}'
    assert up in rules["MemgraphOperatorDown"]["expr"] and up in rules["MemgraphOperatorScrapeFailing"]["expr"]
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert f'{pm["metadata"]["namespace"]}/{pm["metadata"]["name"]}' == "ops/r-memgraph-operator"
    assert svc["metadata"]["name"] == "r-memgraph-operator-metrics"
    extra = rules.pop("MemgraphClusterNoReadyInstance")
    assert extra["expr"].startswith("min by (cluster)")
    for name, r in rules.items():
        assert r["expr"].strip() and r["labels"]["severity"] in ("warning", "critical") and r["annotations"]["summary"]
        assert r["annotations"]["description"]
        assert r["annotations"]["runbook_url"] == f"https://docs.example.com/memgraph-operator/helm.md#{name.lower()}"
        if "by (cluster" in r["expr"]:  # Prometheus' own templating passes through Helm's untouched
            assert "{{ $labels.cluster }}" in r["annotations"]["summary"], r
    # another scrape config: the up{} selector is the user's
    _, custom = helm.template("--set", "metrics.prometheusRule.enabled=true", "--set-string",
                              'metrics.prometheusRule.operatorUpSelector=job="kubernetes-pods"\\, app="mgo"')
    rules = {r.get("alert"): r for g in _one(custom, "PrometheusRule")["spec"]["groups"] for r in g["rules"]}
    assert rules["MemgraphOperatorDown"]["expr"] == 'absent(up{job="kubernetes-pods", app="mgo"} == 1)'
    # the Grafana dashboard: valid JSON with queries, under the sidecar's label
    cm = _one(docs, "ConfigMap")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"]["grafana_folder"] == "Memgraph"
    dash = json.loads(cm["data"]["memgraph-operator.json"])
    assert dash["uid"] == "memgraph-operator" and len(dash["panels"]) >= 5
    assert all(t["expr"] for p in _panels(dash) for t in p["targets"])


def _exported_metric_names():
    """The families the operator registers: op_metric_names (metrics.c) and op_seed_metric_names (metrics_seed.c)."""
    names = set()
    for source, table in (("metrics.c", "op_metric_names"), ("metrics_seed.c", "op_seed_metric_names")):
        with open(os.path.join(ROOT, "src", "reconcile", source), encoding="utf-8") as f:
            text = f.read()
        block = re.search(rf"{table}\[\]\s*=\s*\{{(.*?)NULL\}}", text, re.S).group(1)
        names |= set(re.findall(r'"([a-z_0-9]+)"', block))
    return names


def _selectors(node):
    """Metric names of every vector selector in a parsed PromQL expression (promql_parser's AST)."""
    import promql_parser

    if isinstance(node, promql_parser.VectorSelector):
        return [node.name]
    out = []
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (int, float, str)):
            out += _selectors(child)
    for arg in getattr(node, "args", None) or []:
        out += _selectors(arg)
    return out


def _grafana_to_promql(expr):
    """A dashboard query as Prometheus gets it: Grafana's variables replaced ($cluster by a match-all)."""
    return expr.replace("$cluster", ".*").replace("$__range", "6h").replace("$__rate_interval", "1m")


def _parse_promql(expr):
    """Parses one PromQL expression (Grafana's $variables replaced); ValueError when invalid."""
    import promql_parser

    return promql_parser.parse(_grafana_to_promql(expr))


def _referenced_metric_names(exprs):
    """The metric families the expressions select, histogram series (_bucket/_sum/_count) by their family."""
    names = set()
    for e in exprs:
        for n in _selectors(_parse_promql(e)):
            names.add(re.sub(r"_(bucket|sum|count)$", "", n) if n.startswith(("mgo_", "memgraph_")) else n)
    return names


def test_monitoring_uses_only_exported_metrics(helm):
    """Every alert expression and dashboard query is valid PromQL (promql-parser, the Rust parser of GreptimeDB),
    every metric it selects is one the operator registers (src/reconcile/metrics.c), histograms through their
    _bucket series; and the rules cover the cluster health families."""
    exported = _exported_metric_names()
    assert len(exported) >= 40 and {"mgo_cluster_phase", "memgraph_multiple_mains"} <= exported
    _, docs = helm.template("-f", os.path.join(CHART, "ci", "all-enabled-values.yaml"))
    rule_exprs = [r["expr"] for g in _one(docs, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    dash = json.loads(_one(docs, "ConfigMap")["data"]["memgraph-operator.json"])
    dash_exprs = [t["expr"] for p in _panels(dash) for t in p["targets"]]
    # Grafana's variable queries are label_values(<selector>, <label>), not PromQL: the selector is
    variables = [re.fullmatch(r"label_values\((.+),\s*[a-z_]+\)", v["definition"]).group(1)
                 for v in dash["templating"]["list"] if v.get("definition")]
    assert variables
    dash_exprs += variables
    for e in rule_exprs + dash_exprs:
        try:
            _parse_promql(e)
        except ValueError as err:
            raise AssertionError(f"invalid PromQL {e!r}: {err}") from None
    # the parser really refuses broken PromQL
    with pytest.raises(ValueError):
        _parse_promql("max by (cluster (mgo_cluster_phase)")
    for where, exprs in (("PrometheusRule", rule_exprs), ("dashboard", dash_exprs)):
        used = _referenced_metric_names(exprs) - {"up"}  # up: Prometheus' own per-target series
        assert used and not used - exported, f"{where} uses metrics the operator does not export: {used - exported}"
    assert {"mgo_cluster_phase", "mgo_replica_lag_behind", "mgo_multiple_mains_observed_total",
            "memgraph_multiple_mains", "memgraph_reconcile_errors_total", "memgraph_replication_lag_seconds",
            "memgraph_validation_failures_total", "memgraph_replication_test_failures_total",
            "memgraph_connectivity_test_failures_total", "memgraph_backup_last_success_timestamp_seconds",
            "memgraph_s3_upload_errors_total", "memgraph_restore_drills_total"} <= _referenced_metric_names(rule_exprs)
    # histogram families are only queried through their _bucket, _sum and _count series
    histograms = {"mgo_reconcile_duration_seconds", "mgo_failover_duration_seconds",
                  "memgraph_snapshot_duration_seconds", "memgraph_replication_lag_seconds",
                  "memgraph_reconcile_duration_seconds", "memgraph_validation_duration_seconds",
                  "memgraph_failover_duration_seconds", "memgraph_failover_behind_transactions"}
    for e in rule_exprs + dash_exprs:
        for h in histograms:
            assert not re.search(rf"\b{h}\b(?!_)", e), e


@pytest.fixture(scope="module")
def promtool():
    path = os.path.join(_tool_dir("promtool"), "promtool")
    assert os.access(path, os.X_OK), path
    return path


def _promtool(promtool, *args, cwd=None):
    r = subprocess.run([promtool, *args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False)
    return r.returncode, (r.stdout + r.stderr).strip()


def _chart_alerts(helm):
    """The chart's own alert rules, rendered with the default values (what the unit tests are written against)."""
    _, docs = helm.template("--set", "metrics.prometheusRule.enabled=true", release="mgo", namespace="ops")
    groups = _one(docs, "PrometheusRule")["spec"]["groups"]
    assert [g["name"] for g in groups] == ["memgraph-operator"]
    return groups


def _promtool_test_rules(promtool, d, groups):
    """`promtool test rules` of every tests/*_test.yaml against `groups` written as d/rules.yaml; (rc, output)."""
    with open(os.path.join(d, "rules.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": groups}, f, sort_keys=False, width=1000)
    for t in ALERT_TESTS:
        shutil.copy(t, d)
    return _promtool(promtool, "test", "rules", *map(os.path.basename, ALERT_TESTS), cwd=d)


def _failed_alerts(output):
    return set(re.findall(r"alertname: (\w+), time:", output))


def _duration_s(text):
    return sum(int(n) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in re.findall(r"(\d+)([smhd])", text))


def test_alerts_pass_promtool_unit_tests(helm, promtool, tmp_path):
    """Every alert of the chart's PrometheusRule is covered by charts/memgraph-operator/tests/*_test.yaml: a case
    where it fires (with its labels and rendered annotations) and one where it must not, and for an alert with a
    `for:` a pending check before it fires; `promtool check rules` accepts the rendered group and `promtool test
    rules` passes. The tests really pin the expressions: with every expression replaced by one that never fires,
    or every `for:` removed, the run fails and names each alert concerned."""
    groups = _chart_alerts(helm)
    alerts = {r["alert"]: r for r in groups[0]["rules"]}
    assert len(alerts) >= 15 and all("alert" in r for r in groups[0]["rules"])
    for name in ("MemgraphOperatorDown", "MemgraphClusterNotReady", "MemgraphNoMain", "MemgraphReplicationLagHigh",
                 "MemgraphBackupFailing", "MemgraphBackupTooOld", "MemgraphMultipleMains",
                 "MemgraphValidationFailing"):
        assert name in alerts, name
    # coverage, from the test files themselves
    cases = {}  # alert -> [(test name, eval seconds, fires)]
    for path in ALERT_TESTS:
        spec = _load(path)
        assert spec["rule_files"] == ["rules.yaml"], path
        for t in spec["tests"]:
            for c in t.get("alert_rule_test", []):
                cases.setdefault(c["alertname"], []).append((t["name"], _duration_s(c["eval_time"]),
                                                             bool(c.get("exp_alerts"))))
    assert set(cases) == set(alerts), f"untested: {set(alerts) - set(cases)}; unknown: {set(cases) - set(alerts)}"
    for name, cs in cases.items():
        assert any(f for _, _, f in cs) and any(not f for _, _, f in cs), f"{name}: needs firing and quiet cases"
        if "for" in alerts[name]:
            assert any(fires and any(t2 == t and not f2 and s2 < s for t2, s2, f2 in cs) for t, s, fires in cs), \
                f"{name}: needs a pending check (quiet) before it fires in the same test"

    d = str(tmp_path)
    rc, out = _promtool_test_rules(promtool, d, groups)
    assert rc == 0, out
    assert out.count("SUCCESS") == len(ALERT_TESTS), out
    rc, out = _promtool(promtool, "check", "rules", os.path.join(d, "rules.yaml"))
    assert rc == 0 and f"SUCCESS: {len(alerts)} rules found" in out, out
    # every value set renders rules promtool accepts (thresholds, runbook base, additionalRules)
    for values in CI_FILES:
        _, docs = helm.template("-f", values, "--set", "metrics.prometheusRule.enabled=true")
        path = os.path.join(d, "ci-rules.yaml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump({"groups": _one(docs, "PrometheusRule")["spec"]["groups"]}, f, sort_keys=False)
        rc, out = _promtool(promtool, "check", "rules", path)
        assert rc == 0, f"{os.path.basename(values)}: {out}"

    never = json.loads(json.dumps(groups))
    for r in never[0]["rules"]:
        r["expr"] = "absent(vector(1))"
    rc, out = _promtool_test_rules(promtool, d, never)
    assert rc != 0 and _failed_alerts(out) == set(alerts), f"not caught: {set(alerts) - _failed_alerts(out)}"
    at_once = json.loads(json.dumps(groups))
    for r in at_once[0]["rules"]:
        r.pop("for", None)
    with_for = {n for n, r in alerts.items() if "for" in r}
    rc, out = _promtool_test_rules(promtool, d, at_once)
    assert rc != 0 and _failed_alerts(out) == with_for, f"not caught: {with_for - _failed_alerts(out)}"


def test_alerts_have_a_runbook_section():
    """docs/helm.md has a section per alert (the runbook_url anchors: the alert's name in lower case)."""
    with open(os.path.join(ROOT, "docs", "helm.md"), encoding="utf-8") as f:
        headings = set(re.findall(r"^### (Memgraph\w+)$", f.read(), re.M))
    with open(os.path.join(CHART, "templates", "prometheusrule.yaml"), encoding="utf-8") as f:
        text = f.read()
    names = re.findall(r"- alert: (\w+)", text)
    anchors = re.findall(r'"([a-z]+)" \| quote', text)
    assert names and headings == set(names), f"missing: {set(names) - headings}, extra: {headings - set(names)}"
    assert anchors == [n.lower() for n in names]


def _panels(dash):
    return [p for p in dash["panels"] if p["type"] != "row"]


def _datasources(node):
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "datasource"] + [d for v in node.values() for d in _datasources(v)]
    if isinstance(node, list):
        return [d for v in node for d in _datasources(v)]
    return []


def test_grafana_dashboard(helm, promtool, tmp_path):
    """files/dashboard.json: valid JSON carried unchanged by the ConfigMap; a uid; unique panel ids; every
    datasource is the ${datasource} variable; every query is accepted by `promtool check rules` (each as a
    recording rule, Grafana's variables replaced); the panels cover clusters and phases, the MAIN, lag, failovers
    with their RTO, backups and live validation."""
    with open(DASHBOARD, encoding="utf-8") as f:
        dash = json.load(f)
    _, docs = helm.template("--set", "grafanaDashboard.enabled=true")
    assert json.loads(_one(docs, "ConfigMap")["data"]["memgraph-operator.json"]) == dash
    assert dash["uid"] == "memgraph-operator" and dash["title"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    sources = _datasources(dash)
    assert sources and all(s == DATASOURCE for s in sources), [s for s in sources if s != DATASOURCE]
    panels = _panels(dash)
    assert len(panels) >= 25
    rules = []
    for p in panels:
        assert p["datasource"] == DATASOURCE and p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == DATASOURCE and t["expr"].strip(), p["title"]
            rules.append({"record": f"dashboard:panel{p['id']}_{t['refId']}", "expr": _grafana_to_promql(t["expr"])})
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, sort_keys=False))
    rc, out = _promtool(promtool, "check", "rules", str(path))
    assert rc == 0 and f"SUCCESS: {len(rules)} rules found" in out, out
    # promtool really refuses a broken query
    rules[0]["expr"] = "sum by (cluster (mgo_cluster_phase)"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, sort_keys=False))
    assert _promtool(promtool, "check", "rules", str(path))[0] != 0
    # what the panels must show (issue 12): metric families per topic
    used = _referenced_metric_names([t["expr"] for p in panels for t in p["targets"]])
    topics = {
        "clusters and phases": {"memgraph_clusters", "memgraph_clusters_ready", "mgo_cluster_phase",
                                "mgo_cluster_instances_ready", "memgraph_read_replicas_ready"},
        "MAIN per cluster": {"mgo_cluster_replicas_registered", "memgraph_multiple_mains"},
        "lag": {"mgo_replica_lag_behind", "memgraph_replication_lag_seconds"},
        "failovers and RTO": {"mgo_failovers_total", "memgraph_failover_duration_seconds",
                              "memgraph_failover_behind_transactions", "memgraph_failover_estimated_lost_writes_total"},
        "backups": {"memgraph_backup_last_success_timestamp_seconds", "memgraph_backup_size_bytes",
                    "memgraph_snapshots_total", "memgraph_s3_upload_errors_total", "memgraph_restore_drills_total"},
        "validation": {"memgraph_validation_total", "memgraph_validation_failures_total",
                       "memgraph_connectivity_test_failures_total", "memgraph_replication_test_failures_total"},
    }
    for topic, families in topics.items():
        assert families <= used, f"{topic}: no panel shows {families - used}"
    rows = [p["title"] for p in dash["panels"] if p["type"] == "row"]
    assert rows == ["Clusters and phases", "MAIN per cluster", "Replication lag", "Failovers and RTO", "Backups",
                    "Live validation", "Operator"]
    # the RTO panels read the seed's histogram by kind (failover, switchover)
    rto = [t["expr"] for p in panels for t in p["targets"] if "memgraph_failover_duration_seconds" in t["expr"]]
    assert rto and all("kind" in e for e in rto)


# ---------------------------------------------------------------------------------------------------------------
# against the real API server


@pytest.fixture(scope="module")
def prometheus_crds(control_plane):
    d = _tool_dir("prometheus-crds")
    files = sorted(glob.glob(os.path.join(d, "*.yaml")))
    assert [os.path.basename(f) for f in files] == ["monitoring.coreos.com_podmonitors.yaml",
                                                    "monitoring.coreos.com_prometheusrules.yaml",
                                                    "monitoring.coreos.com_servicemonitors.yaml"]
    args = ["apply", "--server-side", "--force-conflicts"]
    for f in files:
        args += ["-f", f]
    control_plane.kubectl(*args)
    control_plane.wait_crds_established("servicemonitors.monitoring.coreos.com", "podmonitors.monitoring.coreos.com",
                                        "prometheusrules.monitoring.coreos.com")
    return files


def _dry_run(cp, text):
    return cp.kubectl("apply", "--server-side", "--force-conflicts", "--dry-run=server",
                      "--field-manager=mgo-helm-test", "-f", "-", input=text, check=False)


@pytest.mark.parametrize("values", CI_FILES, ids=os.path.basename)
def test_rendered_chart_passes_server_dry_run(control_plane, prometheus_crds, helm, namespace, values):
    text, docs = helm.template("-f", values, "--set", f"watchNamespace={namespace}", "--include-crds",
                               namespace=namespace)
    r = _dry_run(control_plane, text)
    assert r.returncode == 0, r.stderr
    for d in docs:
        kind = d["kind"].lower()
        assert re.search(rf"^{re.escape(kind)}[./][^ ]*\b{re.escape(d['metadata']['name'])}\b.*\(server dry run\)",
                         r.stdout, re.M), f"{d['kind']} {d['metadata']['name']} not in:\n{r.stdout}"
    if values.endswith("all-enabled-values.yaml"):
        assert {"ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"} <= {d["kind"] for d in docs}
        # the dry run really validates the monitoring objects: a malformed interval is refused by the CRD schema
        for kind, endpoints in (("ServiceMonitor", "endpoints"), ("PodMonitor", "podMetricsEndpoints")):
            broken = [json.loads(json.dumps(d)) for d in docs if d["kind"] == kind]
            broken[0]["spec"][endpoints][0]["interval"] = "every minute"
            bad = _dry_run(control_plane, json.dumps({"apiVersion": "v1", "kind": "List", "items": broken}))
            assert bad.returncode != 0 and f"spec.{endpoints}[0].interval" in bad.stderr, bad.stdout + bad.stderr


@pytest.fixture(scope="module")
def deployment_controllers(control_plane, tmp_path_factory):
    """A second kube-controller-manager running only the Deployment and ReplicaSet controllers (test/cluster's
    runs neither), against the same apiserver; stopped (by its PID) after the module."""
    d = tmp_path_factory.mktemp("kcm-deploy")
    cache = os.environ.get("MGO_CACHE") or os.path.expanduser("~/.cache/memgraph-operator")
    binary = os.path.join(cache, f"k8s-{read_versions()['K8S']}", "kube-controller-manager")
    port = free_port()
    log = open(d / "kcm.log", "wb")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([binary, f"--kubeconfig={control_plane.admin_kubeconfig}",
                             "--controllers=deployment-controller,replicaset-controller", "--leader-elect=false",
                             "--bind-address=127.0.0.1", f"--secure-port={port}", f"--cert-dir={d / 'pki'}", "--v=1"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()

    def healthy():
        assert proc.poll() is None, f"kube-controller-manager exited {proc.returncode}"
        return subprocess.run(["curl", "-skf", "--max-time", "2", f"https://127.0.0.1:{port}/healthz"],
                              capture_output=True, check=False).returncode == 0
    control_plane.wait_for(healthy, timeout=60, message="deployment kube-controller-manager /healthz")
    yield proc
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _list(cp, path, selector):
    status, body = cp.api.request("GET", f"{path}?labelSelector={selector}")
    assert status == 200, f"GET {path}: HTTP {status} {body}"
    return body["items"]


def _operator_pods(cp, ns, release):
    return [p for p in _list(cp, f"/api/v1/namespaces/{ns}/pods", f"app.kubernetes.io/instance%3D{release}")
            if not p["metadata"].get("deletionTimestamp")]


def _deployment(cp, ns, name):
    status, body = cp.api.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    assert status == 200, f"GET deployment {ns}/{name}: HTTP {status} {body}"
    return body


def _rolled_out(cp, ns, name, replicas):
    d = _deployment(cp, ns, name)
    st = d.get("status") or {}
    return (st.get("observedGeneration") == d["metadata"]["generation"] and st.get("updatedReplicas") == replicas
            and st.get("readyReplicas") == replicas and st.get("replicas") == replicas) and d


def _scrape_text(ip, port=8080):
    with urllib.request.urlopen(f"http://{ip}:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def _scrape(ip, port=8080):
    return parse_metrics(_scrape_text(ip, port))


def _sample(samples, name, **labels):
    return [v for n, ls, v in samples if n == name and all(ls.get(k) == w for k, w in labels.items())]


@pytest.fixture(scope="module")
def release(control_plane, deployment_controllers, helm, tmp_path_factory):
    """One release of the chart, installed by test_install_*; the state the later tests share. Whatever is left
    is uninstalled and its namespaces deleted after the module."""
    tag = secrets.token_hex(3)
    rel = {"name": f"mgo-{tag}", "ns": control_plane.create_namespace(f"h-operator-{tag}"),
           "cluster_ns": control_plane.create_namespace(f"h-clusters-{tag}"), "installed": False,
           "archive_dir": str(tmp_path_factory.mktemp("chart"))}
    rel["fullname"] = f"{rel['name']}-memgraph-operator"
    yield rel
    if rel["installed"]:
        helm.run("uninstall", rel["name"], "-n", rel["ns"], "--wait", "--timeout", "120s",
                 kubeconfig=control_plane.admin_kubeconfig, check=False, timeout=180)
    for ns in (rel["cluster_ns"], rel["ns"]):
        control_plane.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_install_runs_the_operator_and_a_cluster_gets_ready(control_plane, helm, release, clusters):
    cp, ns, name = control_plane, release["ns"], release["fullname"]
    helm.run("package", CHART, "--destination", release["archive_dir"])
    (archive,) = glob.glob(os.path.join(release["archive_dir"], "memgraph-operator-*.tgz"))
    release["archive"] = archive
    crd_before = cp.api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                                       "memgraphclusters.memgraph.io")[0]
    t0 = time.monotonic()
    r = helm.run("install", release["name"], archive, "-n", ns, "--wait", "--timeout", "180s",
                 kubeconfig=cp.admin_kubeconfig, timeout=240)
    release["installed"] = True
    t_installed = time.monotonic()
    assert "STATUS: deployed" in r.stdout, r.stdout
    # NOTES.txt, rendered with the release's names
    assert f"kubectl -n {ns} rollout status deployment/{name}" in r.stdout, r.stdout
    assert "It watches MemgraphClusters in every namespace." in r.stdout, r.stdout
    # helm's --wait accepts replicas - maxUnavailable ready pods: wait for the whole rollout
    cp.wait_for(lambda: _rolled_out(cp, ns, name, 2), timeout=120, message=f"deployment {ns}/{name} rolled out")
    t_rolled = time.monotonic()
    pods = _operator_pods(cp, ns, release["name"])
    assert len(pods) == 2 and all(clusters.pod_ready(p) for p in pods)
    for p in pods:
        (c,) = p["spec"]["containers"]
        assert p["spec"]["serviceAccountName"] == name and c["image"] == "memgraph-operator:0.1.0"
        assert f"--lease-namespace={ns}" in c["args"] and "--log-level=info" in c["args"]
        # the test kubelet runs the image as the built operator binary (test/cluster/images.json)
        spec_path = os.path.join(cp.state_dir, "pods", f"{ns}_{p['metadata']['name']}", "operator.spec.json")
        with open(spec_path, encoding="utf-8") as f:
            argv = json.load(f)["argv"]
        assert os.path.basename(argv[0]) == "memgraph-operator" and argv[1] == "run", argv
        # $TMPDIR is the pod's writable emptyDir
        out = cp.pod_exec(ns, p["metadata"]["name"], ["sh", "-c", 'touch "$TMPDIR/probe" && echo "$TMPDIR"']).stdout
        assert out.strip() == "/tmp/memgraph-operator"
    names = {p["metadata"]["name"] for p in pods}
    holder = cp.wait_for(lambda: clusters.lease_holder(ns=ns, lease=name) in names and
                         clusters.lease_holder(ns=ns, lease=name), timeout=60,
                         message=f"Lease {ns}/{name} held by one of {names}")
    if crd_before == 404:  # helm created the CRDs from crds/ (config/crd)
        for crd in ("memgraphclusters.memgraph.io", "memgraphbackups.memgraph.io"):
            got = cp.api.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")[1]
            assert any(c["type"] == "Established" and c["status"] == "True" for c in got["status"]["conditions"])
    cp.wait_for(lambda: cp.kubectl("get", "mgc", "-A", check=False).returncode == 0, timeout=30,
                message="kubectl to discover mgc")

    # a MemgraphCluster from the minimal sample reaches Ready under the chart's operator
    cns = release["cluster_ns"]
    t1 = time.monotonic()
    cp.kubectl("apply", "-n", cns, "-f", SAMPLE)
    status = clusters.wait_ready(cns, "mg", timeout=300)
    t_ready = time.monotonic()
    instances = _load(SAMPLE)["spec"]["instances"]
    assert status["currentMain"] and status["registeredReplicas"] == instances - 1
    release["main"] = status["currentMain"]
    # the leader's /metrics, through the pod's http port, shows the families the alert rules use
    leader_ip = next(p["status"]["podIP"] for p in pods if p["metadata"]["name"] == holder)
    samples = cp.wait_for(lambda: (s := _scrape(leader_ip)) and
                          _sample(s, "mgo_cluster_phase", cluster=f"{cns}/mg", phase="Running") == [1.0] and s,
                          timeout=30, message="mgo_cluster_phase Running on the leader's /metrics")
    assert _sample(samples, "mgo_cluster_instances_ready", cluster=f"{cns}/mg") == [float(instances)]
    assert _sample(samples, "mgo_cluster_replicas_registered", cluster=f"{cns}/mg") == [float(instances - 1)]
    assert len(_sample(samples, "mgo_replica_lag_behind", cluster=f"{cns}/mg")) == instances - 1
    release["pod_ips"] = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods}
    release["leader"] = holder
    print(f"\nhelm install --wait: {t_installed - t0:.1f} s; both operator pods ready: "
          f"{t_rolled - t0:.1f} s after install started; MemgraphCluster ({instances} instances) "
          f"created → Ready: {t_ready - t1:.1f} s; install start → cluster Ready: {t_ready - t0:.1f} s")


def test_monitoring_metrics_are_in_the_live_metrics(helm, release):
    """Every metric family an alert or a dashboard panel selects is registered (# TYPE) in the /metrics of the
    chart's running operator, on the leader and on the standby (both are scraped; families exist before their
    first sample), and the cluster series the alerts aggregate are there on the leader."""
    assert release.get("pod_ips"), "the install test did not bring the cluster to Ready"
    _, docs = helm.template("-f", os.path.join(CHART, "ci", "all-enabled-values.yaml"))
    exprs = [r["expr"] for g in _one(docs, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    exprs += [t["expr"] for p in _panels(json.loads(_one(docs, "ConfigMap")["data"]["memgraph-operator.json"]))
              for t in p["targets"]]
    used = _referenced_metric_names(exprs) - {"up"}
    assert len(used) >= 35
    for pod, ip in release["pod_ips"].items():
        text = _scrape_text(ip)
        registered = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        assert not used - registered, f"{pod}: not in the live /metrics: {sorted(used - registered)}"
    samples = _scrape(release["pod_ips"][release["leader"]])
    cluster = f"{release['cluster_ns']}/mg"
    for family in ("mgo_cluster_phase", "mgo_cluster_replicas_registered", "memgraph_read_replicas",
                   "memgraph_multiple_mains", "memgraph_reconcile_errors_total", "memgraph_validation_failures_total",
                   "memgraph_replication_test_failures_total", "memgraph_connectivity_test_failures_total"):
        assert _sample(samples, family, cluster=cluster), f"no {family} series of {cluster} on the leader"
    (watched,) = _sample(samples, "memgraph_clusters")  # every namespace: other modules' clusters count too
    assert watched >= 1
    # a standby watches the same clusters but reconciles none (MemgraphOperatorNotReconciling relies on both)
    for pod, ip in release["pod_ips"].items():
        if pod != release["leader"]:
            standby = _scrape(ip)
            assert _sample(standby, "memgraph_clusters")[0] >= 1, pod
            assert not _sample(standby, "memgraph_reconcile_total"), pod


def _metric_types(text):
    return dict(re.findall(r"^# TYPE (\S+) (\S+)", text, re.M))


def _sample_type(types, name):
    return types.get(name) or types.get(re.sub(r"_(bucket|sum|count|total)$", "", name))


def _promtool_series(name, labels):
    def quoted(v):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name + "{" + ", ".join(f"{k}={quoted(v)}" for k, v in sorted(labels.items())) + "}"


def _live_input_series(before, after, seconds, instance, keep, minutes):
    """promtool input series from two scrapes `seconds` apart: counters and histograms go on at the rate seen
    between them (per minute), gauges stay at their last value."""
    types = _metric_types(after)
    first = {(n, tuple(sorted(ls.items()))): v for n, ls, v in parse_metrics(before)}
    out = []
    for name, labels, value in parse_metrics(after):
        if not keep(labels):
            continue
        kind = _sample_type(types, name)
        start = first.get((name, tuple(sorted(labels.items()))), value)
        labels = dict(labels, instance=instance)
        if kind in ("counter", "histogram") and value >= start:
            values = f"{value:.6f}+{(value - start) * 60 / seconds:.6f}x{minutes}"
        else:
            values = f"{value:.6f}x{minutes}"
        out.append({"series": _promtool_series(name, labels), "values": values})
    return out


def test_no_alert_fires_on_a_ready_cluster(control_plane, helm, promtool, release, tmp_path):
    """No false alarm: the chart's rules, rendered for this release, evaluated by `promtool test rules` over 40
    minutes of series built from the live operator's /metrics (two scrapes of the leader and the standby, the
    counters going on at the rate seen between them) while the cluster is Ready, fire no alert. The same series
    without the operator's `up` do fire MemgraphOperatorDown, so the input really reaches the rules."""
    assert release.get("pod_ips"), "the install test did not bring the cluster to Ready"
    _, docs = helm.template("--set", "metrics.prometheusRule.enabled=true", release=release["name"],
                            namespace=release["ns"])
    groups = _one(docs, "PrometheusRule")["spec"]["groups"]
    alerts = {r["alert"]: r for r in groups[0]["rules"]}
    cluster = f"{release['cluster_ns']}/mg"
    leader_ip = release["pod_ips"][release["leader"]]

    def passes(text):
        return sum(v for n, ls, v in parse_metrics(text) if n == "memgraph_reconcile_total" and
                   ls.get("cluster") == cluster)

    before = {pod: _scrape_text(ip) for pod, ip in release["pod_ips"].items()}
    t0 = time.monotonic()
    control_plane.wait_for(lambda: passes(_scrape_text(leader_ip)) > passes(before[release["leader"]]), timeout=90,
                           interval=1, message="a reconcile pass of the leader between the two scrapes")
    after = {pod: _scrape_text(ip) for pod, ip in release["pod_ips"].items()}
    seconds = time.monotonic() - t0
    minutes = 45
    series, up = [], []
    for pod, ip in release["pod_ips"].items():
        instance = f"{ip}:8080"
        series += _live_input_series(before[pod], after[pod], seconds, instance,
                                     lambda ls: ls.get("cluster") in (None, cluster), minutes)
        up.append({"series": _promtool_series("up", {"job": f"{release['fullname']}-metrics",
                                                     "namespace": release["ns"], "instance": instance}),
                   "values": f"1x{minutes}"})
    assert any(s["series"].startswith("mgo_cluster_phase{") and 'phase="Running"' in s["series"] and
               s["values"].startswith("1.0") for s in series), "the leader's series say Running"
    down = alerts["MemgraphOperatorDown"]
    spec = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [
        {"name": "live, Ready", "interval": "1m", "input_series": series + up,
         "alert_rule_test": [{"alertname": a, "eval_time": "40m", "exp_alerts": []} for a in alerts]},
        {"name": "live, not scraped", "interval": "1m", "input_series": series,
         "alert_rule_test": [{"alertname": "MemgraphOperatorDown", "eval_time": "40m", "exp_alerts": [
             {"exp_labels": down["labels"], "exp_annotations": down["annotations"]}]}]},
    ]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000))
    (tmp_path / "live_test.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, width=1000))
    rc, out = _promtool(promtool, "test", "rules", "live_test.yaml", cwd=str(tmp_path))
    assert rc == 0, f"{len(series)} live series:\n{out[-4000:]}"
    print(f"\n{len(series)} live series of {len(release['pod_ips'])} operator pods, "
          f"{seconds:.1f} s apart: no alert fires")


class ReadySampler(threading.Thread):
    """Samples (is Ready, currentMain) of one MemgraphCluster every 0.2 s until stopped."""

    def __init__(self, clusters, ns, name):
        super().__init__(daemon=True)
        self.clusters, self.ns, self.name = clusters, ns, name
        self.samples, self.stop_event = [], threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            try:
                obj = self.clusters.get_cluster(self.ns, self.name)
                self.samples.append((self.clusters.is_ready(self.ns, self.name),
                                     ((obj or {}).get("status") or {}).get("currentMain")))
            except Exception as e:  # noqa: BLE001 - an API hiccup is recorded, not fatal
                self.samples.append((None, repr(e)))
            self.stop_event.wait(0.2)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)


def test_upgrade_rolls_the_operator_and_the_cluster_stays_ready(control_plane, helm, release, clusters):
    assert release.get("main"), "the install test did not bring the cluster to Ready"
    cp, ns, name, cns = control_plane, release["ns"], release["fullname"], release["cluster_ns"]
    old_pods = {p["metadata"]["name"] for p in _operator_pods(cp, ns, release["name"])}
    generation = _deployment(cp, ns, name)["metadata"]["generation"]
    sampler = ReadySampler(clusters, cns, "mg")
    sampler.start()
    try:
        t0 = time.monotonic()
        r = helm.run("upgrade", release["name"], release["archive"], "-n", ns, "--reuse-values", "--set",
                     "logLevel=debug", "--wait", "--timeout", "180s", kubeconfig=cp.admin_kubeconfig, timeout=240)
        assert "STATUS: deployed" in r.stdout and "REVISION: 2" in r.stdout, r.stdout
        dep = cp.wait_for(lambda: _rolled_out(cp, ns, name, 2), timeout=180, message="upgrade rolled out")

        def only_new_pods():
            pods = _operator_pods(cp, ns, release["name"])
            names = {p["metadata"]["name"] for p in pods}
            return (len(pods) == 2 and not names & old_pods and all(clusters.pod_ready(p) for p in pods)
                    and not {p["metadata"]["name"] for p in _list(cp, f"/api/v1/namespaces/{ns}/pods",
                                                                   f"app.kubernetes.io/instance%3D{release['name']}")}
                    & old_pods) and pods
        pods = cp.wait_for(only_new_pods, timeout=180, message="every operator pod replaced and the old ones gone")
        t_rolled = time.monotonic()
        new_names = {p["metadata"]["name"] for p in pods}
        holder = cp.wait_for(lambda: (h := clusters.lease_holder(ns=ns, lease=name)) in new_names and h,
                             timeout=90, message="the Lease held by a new pod")
        leader_ip = next(p["status"]["podIP"] for p in pods if p["metadata"]["name"] == holder)
        # the new leader reconciles the cluster (its own gauges), and it still is Ready with the same MAIN
        cp.wait_for(lambda: _sample(_scrape(leader_ip), "mgo_cluster_phase", cluster=f"{cns}/mg",
                                    phase="Running") == [1.0], timeout=60,
                    message="the new leader reports the cluster Running")
        status = clusters.wait_ready(cns, "mg", timeout=30)
    finally:
        sampler.stop()
    assert dep["metadata"]["generation"] == generation + 1
    for p in pods:
        (c,) = p["spec"]["containers"]
        assert "--log-level=debug" in c["args"] and "--log-level=info" not in c["args"]
    # the level really applies: the new pods log debug lines (JSON), which the info-level pods never did
    cp.wait_for(lambda: re.search(r'"level":\s*"debug"', cp.pod_log(ns, holder)), timeout=60,
                message=f"debug lines in {holder}'s log")
    assert status["currentMain"] == release["main"]
    assert sampler.samples, "the sampler took no sample"
    not_ready = [s for s in sampler.samples if s[0] is not True or s[1] != release["main"]]
    assert not not_ready, f"{len(not_ready)} of {len(sampler.samples)} samples not Ready on {release['main']}: " \
                          f"{not_ready[:5]}"
    print(f"\nhelm upgrade (log level) → every operator pod replaced: {t_rolled - t0:.1f} s; "
          f"{len(sampler.samples)} samples, all Ready with MAIN {release['main']}")


NAMESPACED = [("/apis/apps/v1", "deployments"), ("/apis/apps/v1", "replicasets"), ("/api/v1", "pods"),
              ("/api/v1", "services"), ("/api/v1", "serviceaccounts"), ("/api/v1", "configmaps"),
              ("/apis/rbac.authorization.k8s.io/v1", "roles"), ("/apis/rbac.authorization.k8s.io/v1", "rolebindings")]
CLUSTER_WIDE = [("/apis/rbac.authorization.k8s.io/v1", "clusterroles"),
                ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings")]


def _leftovers(cp, ns, release_name, manifest_objects):
    sel = f"app.kubernetes.io/instance%3D{release_name}"
    left = [f"{res}/{o['metadata']['name']}" for base, res in NAMESPACED
            for o in _list(cp, f"{base}/namespaces/{ns}/{res}", sel)]
    left += [f"{res}/{o['metadata']['name']}" for base, res in CLUSTER_WIDE for o in _list(cp, f"{base}/{res}", sel)]
    # helm's own release records
    left += [f"secrets/{o['metadata']['name']}"
             for o in _list(cp, f"/api/v1/namespaces/{ns}/secrets", f"owner%3Dhelm,name%3D{release_name}")]
    for base, res, obj_ns, obj_name in manifest_objects:
        path = f"{base}/namespaces/{obj_ns}/{res}/{obj_name}" if obj_ns else f"{base}/{res}/{obj_name}"
        if cp.api.request("GET", path)[0] != 404:
            left.append(path)
    return left


def test_uninstall_leaves_nothing_of_the_chart(control_plane, helm, release, clusters):
    assert release["installed"], "the install test did not install the release"
    cp, ns = control_plane, release["ns"]
    manifest = [d for d in yaml.safe_load_all(helm.run("get", "manifest", release["name"], "-n", ns,
                                                       kubeconfig=cp.admin_kubeconfig).stdout) if d]
    assert {d["kind"] for d in manifest} == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
                                            "RoleBinding", "Deployment", "Service"}
    paths = {"ServiceAccount": ("/api/v1", "serviceaccounts"), "Service": ("/api/v1", "services"),
             "Deployment": ("/apis/apps/v1", "deployments"),
             "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles"),
             "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings"),
             "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles"),
             "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings")}
    objects = [(*paths[d["kind"]], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in manifest]
    before = _leftovers(cp, ns, release["name"], objects)
    assert len(before) >= len(objects) + 2, f"the release's objects must exist before the uninstall: {before}"
    t0 = time.monotonic()
    r = helm.run("uninstall", release["name"], "-n", ns, "--wait", "--timeout", "120s",
                 kubeconfig=cp.admin_kubeconfig, timeout=180)
    release["installed"] = False
    assert f"release \"{release['name']}\" uninstalled" in r.stdout, r.stdout
    # ReplicaSets and pods go through the garbage collector and the kubelet's graceful deletion: poll
    cp.wait_for(lambda: not _leftovers(cp, ns, release["name"], objects), timeout=120,
                message=f"nothing of release {release['name']} left "
                        f"(last: {_leftovers(cp, ns, release['name'], objects)})")
    t_gone = time.monotonic()
    assert helm.run("status", release["name"], "-n", ns, kubeconfig=cp.admin_kubeconfig, check=False).returncode != 0
    # what stays, by design (docs/helm.md): the CRDs of crds/, and the MemgraphClusters with their workloads
    for crd in ("memgraphclusters.memgraph.io", "memgraphbackups.memgraph.io"):
        assert cp.api.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")[0] == 200
    assert clusters.get_cluster(release["cluster_ns"], "mg") is not None
    # the operator's Lease is the operator's object, not the chart's: it stays (and goes with the namespace). Its
    # holder may still be set: helm deletes the RBAC in the same pass as the Deployment, so the last leader's
    # release at shutdown can be refused; a new install then waits out leaseDurationSeconds (docs/helm.md)
    assert clusters.lease(ns=ns, lease=release["fullname"]) is not None
    print(f"\nhelm uninstall --wait → nothing of the release left: {t_gone - t0:.1f} s")
