"""The MemgraphCluster CRD against a real kube-apiserver: defaults, CEL rules and their messages,
immutable fields, the scale subresource and printer columns.

Uses the root fixtures `control_plane` and `namespace` (test/conftest.py). No operator runs here: these
are the API server's own guarantees, so invalid objects never reach the operator.
"""

import copy
import json
import os

import pytest
import yaml

pytestmark = pytest.mark.controlplane

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRD = os.path.join(ROOT, "config", "crd", "memgraph.io_memgraphclusters.yaml")
SAMPLES = os.path.join(ROOT, "config", "samples")


@pytest.fixture(scope="module")
def crd(control_plane):
    control_plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", CRD)
    control_plane.wait_crds_established("memgraphclusters.memgraph.io")
    return control_plane


def cluster(name="mg", **spec):
    return {"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphCluster", "metadata": {"name": name},
            "spec": spec}


def create(cp, ns, obj, dry_run=False, check=True):
    args = ["create", "-n", ns, "-f", "-"] + (["--dry-run=server"] if dry_run else [])
    return cp.kubectl(*args, input=json.dumps(obj), check=check)


def get(cp, ns, name):
    return json.loads(cp.kubectl("get", "mgc", name, "-n", ns, "-o", "json").stdout)


def merge_patch(cp, ns, name, patch, check=True, subresource=None):
    args = ["patch", "mgc", name, "-n", ns, "--type=merge", "-p", json.dumps(patch)]
    if subresource:
        args.append(f"--subresource={subresource}")
    return cp.kubectl(*args, check=check)


def test_defaults_filled_by_the_api_server(crd, namespace):
    with open(os.path.join(SAMPLES, "memgraphcluster-minimal.yaml"), encoding="utf-8") as f:
        crd.apply(f.read(), namespace=namespace)
    spec = get(crd, namespace, "mg")["spec"]
    expected = {
        ("instances",): 3,
        ("image",): "memgraph/memgraph:3.12.0",
        ("imagePullPolicy",): "IfNotPresent",
        ("storage", "size"): "10Gi",
        ("storage", "logSize"): "1Gi",
        ("memgraph", "logLevel"): "WARNING",
        ("memgraph", "walFlushEveryNTx"): 100000,
        ("memgraph", "snapshotIntervalSec"): 300,
        ("memgraph", "snapshotRetentionCount"): 3,
        ("memgraph", "snapshotOnExit"): True,
        ("memgraph", "propertiesOnEdges"): True,
        ("replication", "mode"): "ASYNC",
        ("replication", "syncReplicas"): 0,
        ("replication", "syncMode"): "SYNC",
        ("replication", "port"): 10000,
        ("replication", "healthCheckIntervalSec"): 5,
        ("failover", "enabled"): True,
        ("failover", "failoverDelaySec"): 15,
        ("failover", "allowAsyncPromotion"): False,
        ("failover", "maxAsyncLag"): 0,
        ("failover", "reseedPolicy"): "Automatic",
        ("updateStrategy", "type"): "ReplicasFirst",
        ("services", "write", "type"): "ClusterIP",
        ("services", "read", "type"): "ClusterIP",
        ("services", "read", "includeMain"): False,
        ("sysctlInitContainer", "enabled"): False,
        ("sysctlInitContainer", "maxMapCount"): 262144,
        ("podDisruptionBudget", "enabled"): True,
    }
    for path, want in expected.items():
        node = spec
        for key in path:
            node = node[key]
        assert node == want, f"spec.{'.'.join(path)} = {node!r}, want {want!r}"
    # Optional sections stay absent, so "unset" keeps its meaning (no storage class = cluster default).
    for absent in ("auth", "tls", "backup", "validation", "switchover", "scheduling"):
        assert absent not in spec
    assert "storageClassName" not in spec["storage"]


def test_full_sample_is_accepted(crd, namespace):
    with open(os.path.join(SAMPLES, "memgraphcluster-full.yaml"), encoding="utf-8") as f:
        obj = yaml.safe_load(f)
    create(crd, namespace, obj, dry_run=True)


S3 = {"bucket": "bkt", "secretName": "s"}

INVALID = [
    ("zero instances", {"instances": 0}, "spec.instances"),
    ("sync replicas not below instances", {"instances": 2, "replication": {"syncReplicas": 2}},
     "spec.replication.syncReplicas must be less than spec.instances"),
    ("SYNC mixed with STRICT_SYNC", {"replication": {"syncReplicas": 1, "syncMode": "SYNC", "mode": "STRICT_SYNC"}},
     "SYNC and STRICT_SYNC replicas cannot be mixed"),
    ("STRICT_SYNC mixed with SYNC", {"replication": {"syncReplicas": 1, "syncMode": "STRICT_SYNC", "mode": "SYNC"}},
     "SYNC and STRICT_SYNC replicas cannot be mixed"),
    ("empty image", {"image": ""}, "spec.image must be a non-empty image reference"),
    ("blank image", {"image": "  "}, "spec.image must be a non-empty image reference"),
    ("owned flag", {"memgraph": {"extraFlags": ["--data-directory=/tmp"]}},
     "spec.memgraph.extraFlags may not contain a flag the operator owns"),
    ("owned flag with underscores", {"memgraph": {"extraFlags": ["--storage_wal_enabled=false"]}},
     "spec.memgraph.extraFlags may not contain a flag the operator owns"),
    ("owned boolean flag, negated", {"memgraph": {"extraFlags": ["--nostorage-snapshot-on-exit"]}},
     "spec.memgraph.extraFlags may not contain a flag the operator owns"),
    ("management port", {"memgraph": {"extraFlags": ["--management-port=10000"]}},
     "spec.memgraph.extraFlags may not contain a flag the operator owns"),
    ("coordinator flag", {"memgraph": {"extraFlags": ["--coordinator-id=1"]}},
     "may not contain --coordinator-* flags"),
    ("flag without dashes", {"memgraph": {"extraFlags": ["log-level=TRACE"]}}, "spec.memgraph.extraFlags"),
    ("replication on the Bolt port", {"replication": {"port": 7687}},
     "spec.replication.port must differ from the Bolt port 7687"),
    ("switchover target beyond the cluster", {"instances": 3, "switchover": {"targetOrdinal": 3}},
     "spec.switchover.targetOrdinal must name an existing instance"),
    ("backup without a destination", {"backup": {"schedule": "0 3 * * *"}}, "spec.backup.s3: Required value"),
    ("cron with words", {"backup": {"schedule": "every day", "s3": S3}},
     "spec.backup.schedule must be 5 fields separated by spaces"),
    ("cron with 6 fields", {"backup": {"schedule": "0 0 3 * * *", "s3": S3}},
     "spec.backup.schedule must be 5 fields separated by spaces"),
    ("cron minute 60", {"backup": {"schedule": "60 3 * * *", "s3": S3}},
     "the minute (field 1) must be 0-59"),
    ("cron hour 24", {"backup": {"schedule": "0 24 * * *", "s3": S3}}, "the hour (field 2) must be 0-23 (UTC)"),
    ("cron day 32", {"backup": {"schedule": "0 3 32 * *", "s3": S3}}, "the day of month (field 3) must be 1-31"),
    ("cron month 13", {"backup": {"schedule": "0 3 1 13 *", "s3": S3}}, "the month (field 4) must be 1-12"),
    ("cron weekday 8", {"backup": {"schedule": "0 3 * * 8", "s3": S3}}, "the day of week (field 5) must be 0-7"),
    ("cron unknown macro", {"backup": {"schedule": "@often", "s3": S3}}, "spec.backup.schedule: unknown macro"),
    ("backup bucket with capitals", {"backup": {"s3": {"bucket": "Backups", "secretName": "s"}}},
     "spec.backup.s3.bucket"),
    ("restore from two sources", {"bootstrap": {"restore": {"backup": "b", "s3": {"bucket": "bkt", "key": "k",
                                                                                  "secretName": "s"}}}},
     "spec.bootstrap.restore needs exactly one of backup"),
    ("unknown mode", {"replication": {"mode": "sync"}}, "spec.replication.mode"),
]


@pytest.mark.parametrize("spec,message", [pytest.param(s, m, id=i) for i, s, m in INVALID])
def test_invalid_spec_rejected_with_a_clear_message(crd, namespace, spec, message):
    r = create(crd, namespace, cluster(**spec), dry_run=True, check=False)
    assert r.returncode != 0, f"accepted: {spec}"
    assert message in r.stderr, r.stderr


def test_long_name_rejected(crd, namespace):
    r = create(crd, namespace, cluster(name="m" * 51), dry_run=True, check=False)
    assert r.returncode != 0
    assert "metadata.name must be at most 50 characters" in r.stderr, r.stderr


def test_valid_variants_accepted(crd, namespace):
    for spec in ({"instances": 1}, {"replication": {"syncReplicas": 1}},
                 {"replication": {"mode": "STRICT_SYNC"}},
                 {"replication": {"syncReplicas": 2, "syncMode": "STRICT_SYNC", "mode": "STRICT_SYNC"}},
                 {"memgraph": {"extraFlags": ["--query-execution-timeout-sec=60", "--storage-gc-cycle-sec=30"]}},
                 {"backup": {"schedule": "@daily", "s3": S3}},
                 {"backup": {"schedule": "*/15 1-5,22 * JAN-mar mon-FRI", "retention": {"count": 3}, "s3": S3}},
                 {"backup": {"schedule": "0 3 1,15 * 0,7", "s3": S3}},
                 {"backup": {"s3": S3}},
                 {"bootstrap": {"restore": {"backup": "nightly-1"}}}):
        create(crd, namespace, cluster(**spec), dry_run=True)


IMMUTABLE = [
    ("storage size", {"storage": {"size": "20Gi"}}, "spec.storage.size is immutable"),
    ("storage class", {"storage": {"storageClassName": "slow"}}, "spec.storage.storageClassName is immutable"),
    ("storage class removed", {"storage": {"storageClassName": None}}, "spec.storage.storageClassName is immutable"),
    ("log size", {"storage": {"logSize": "5Gi"}}, "spec.storage.logSize is immutable"),
    ("replication port", {"replication": {"port": 10001}}, "spec.replication.port is immutable"),
    ("properties on edges", {"memgraph": {"propertiesOnEdges": False}},
     "spec.memgraph.propertiesOnEdges is immutable"),
]


@pytest.mark.parametrize("patch,message", [pytest.param(p, m, id=i) for i, p, m in IMMUTABLE])
def test_immutable_fields(crd, namespace, patch, message):
    create(crd, namespace, cluster(storage={"size": "10Gi", "storageClassName": "fast"}))
    r = merge_patch(crd, namespace, "mg", {"spec": patch}, check=False)
    assert r.returncode != 0, f"accepted: {patch}"
    assert message in r.stderr, r.stderr
    assert get(crd, namespace, "mg")["spec"]["storage"] == {"size": "10Gi", "logSize": "1Gi",
                                                            "storageClassName": "fast"}


def test_bootstrap_is_only_set_at_creation(crd, namespace):
    create(crd, namespace, cluster())
    r = merge_patch(crd, namespace, "mg", {"spec": {"bootstrap": {"restore": {"backup": "b"}}}}, check=False)
    assert r.returncode != 0 and "spec.bootstrap can only be set when the cluster is created" in r.stderr, r.stderr
    create(crd, namespace, cluster(name="rs", bootstrap={"restore": {"backup": "b"}}))
    r = merge_patch(crd, namespace, "rs", {"spec": {"bootstrap": {"restore": {"backup": "other"}}}}, check=False)
    assert r.returncode != 0 and "spec.bootstrap is immutable" in r.stderr, r.stderr


def test_storage_class_cannot_be_added_later(crd, namespace):
    create(crd, namespace, cluster())
    r = merge_patch(crd, namespace, "mg", {"spec": {"storage": {"storageClassName": "fast"}}}, check=False)
    assert r.returncode != 0
    assert "spec.storage.storageClassName is immutable" in r.stderr, r.stderr


def test_mutable_fields_change(crd, namespace):
    create(crd, namespace, cluster())
    merge_patch(crd, namespace, "mg", {"spec": {"instances": 5, "image": "memgraph/memgraph:3.11.0",
                                                "memgraph": {"logLevel": "INFO"},
                                                "replication": {"syncReplicas": 1}}})
    spec = get(crd, namespace, "mg")["spec"]
    assert (spec["instances"], spec["image"], spec["memgraph"]["logLevel"]) == (5, "memgraph/memgraph:3.11.0", "INFO")


def test_kubectl_scale_changes_instances(crd, namespace):
    create(crd, namespace, cluster())
    crd.kubectl("scale", "mgc/mg", "-n", namespace, "--replicas=5")
    assert get(crd, namespace, "mg")["spec"]["instances"] == 5
    scale = json.loads(crd.kubectl("get", "--raw",
                                   f"/apis/memgraph.io/v1alpha1/namespaces/{namespace}/memgraphclusters/mg/scale").stdout)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 5
    r = crd.kubectl("scale", "mgc/mg", "-n", namespace, "--replicas=0", check=False)
    assert r.returncode != 0, "scaling to 0 must be refused"


def test_scale_reports_status_and_selector(crd, namespace):
    create(crd, namespace, cluster())
    selector = "app.kubernetes.io/name=memgraph,app.kubernetes.io/instance=mg"
    merge_patch(crd, namespace, "mg", {"status": {"instances": 2, "selector": selector}}, subresource="status")
    scale = json.loads(crd.kubectl("get", "--raw",
                                   f"/apis/memgraph.io/v1alpha1/namespaces/{namespace}/memgraphclusters/mg/scale").stdout)
    assert scale["status"]["replicas"] == 2
    assert scale["status"]["selector"] == selector


def test_printer_columns(crd, namespace):
    create(crd, namespace, cluster())
    status = {"phase": "Running", "currentMain": "mg-0", "ready": "3/3", "replicationMode": "1 SYNC + 1 ASYNC",
              "maxLag": 0, "observedGeneration": 1}
    merge_patch(crd, namespace, "mg", {"status": status}, subresource="status")
    out = crd.kubectl("get", "mgc", "-n", namespace).stdout.splitlines()
    header = out[0].split()
    assert header[:8] == ["NAME", "PHASE", "MAIN", "READY", "MODE", "MAX", "LAG", "AGE"], out[0]
    row = out[1]
    for value in ("mg", "Running", "mg-0", "3/3", "1 SYNC + 1 ASYNC"):
        assert value in row, row


def test_status_rejects_unknown_phase(crd, namespace):
    create(crd, namespace, cluster())
    r = merge_patch(crd, namespace, "mg", {"status": {"phase": "Happy"}}, check=False, subresource="status")
    assert r.returncode != 0
    assert "status.phase" in r.stderr, r.stderr


def test_spec_changes_are_not_possible_through_status(crd, namespace):
    create(crd, namespace, cluster())
    before = copy.deepcopy(get(crd, namespace, "mg")["spec"])
    merge_patch(crd, namespace, "mg", {"spec": {"instances": 7}, "status": {"phase": "Pending"}},
                subresource="status")
    assert get(crd, namespace, "mg")["spec"] == before


def _golden(*parts):
    with open(os.path.join(ROOT, "test", "unit", *parts), encoding="utf-8") as f:
        return json.load(f)


def test_status_built_by_the_operator_fits_the_schema(crd, namespace):
    """The status the C status builder produces (its golden file) is accepted by the status subresource."""
    create(crd, namespace, cluster())
    status = _golden("decide", "golden", "status_degraded.json")
    merge_patch(crd, namespace, "mg", {"status": status}, subresource="status")
    got = get(crd, namespace, "mg")["status"]
    assert got["conditions"] == status["conditions"]
    assert got["instanceStatuses"] == status["instanceStatuses"]


@pytest.mark.parametrize("sample", ["minimal", "full"])
def test_built_objects_accepted_by_the_api_server(crd, namespace, sample):
    """Every object the C builders produce (their golden files) passes the API server's validation."""
    objects = _golden("cluster", "golden", f"{sample}.json")
    for key, obj in sorted(objects.items()):
        if obj is None:
            continue
        obj = copy.deepcopy(obj)
        obj["metadata"]["namespace"] = namespace
        r = crd.kubectl("create", "--dry-run=server", "-o", "json", "-f", "-", input=json.dumps(obj), check=False)
        assert r.returncode == 0, f"{key}: {r.stderr}"


BACKUP_CRD = os.path.join(ROOT, "config", "crd", "memgraph.io_memgraphbackups.yaml")


def test_memgraph_backup_needs_a_cluster_and_its_spec_is_immutable(crd, namespace):
    crd.kubectl("apply", "--server-side", "--force-conflicts", "-f", BACKUP_CRD)
    crd.wait_crds_established("memgraphbackups.memgraph.io")

    def backup(name, **spec):
        return {"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphBackup", "metadata": {"name": name},
                "spec": spec}
    r = create(crd, namespace, backup("b0"), check=False)
    assert r.returncode != 0 and "spec.cluster: Required value" in r.stderr, r.stderr
    r = create(crd, namespace, backup("b1", cluster="mg", target="Anywhere"), check=False)
    assert r.returncode != 0 and "spec.target" in r.stderr, r.stderr
    create(crd, namespace, backup("b2", cluster="mg"))
    r = crd.kubectl("patch", "mgb", "b2", "-n", namespace, "--type=merge", "-p",
                    json.dumps({"spec": {"cluster": "other"}}), check=False)
    assert r.returncode != 0 and "spec of a MemgraphBackup is immutable" in r.stderr, r.stderr
    out = crd.kubectl("get", "mgb", "b2", "-n", namespace).stdout
    for column in ("CLUSTER", "PHASE", "POD", "SIZE", "COMPLETED", "AGE"):
        assert column in out, out
