"""E2E fixtures on top of the root `control_plane` / `namespace` fixtures (test/conftest.py).

  crd_installed     session: applies config/crd once (server-side), waits Established and discovery; returns the
                    control plane
  operator          function: config/rbac applied, one `memgraph-operator run` started (harness.OperatorProcess)
                    with the operator's least-privilege kubeconfig, a free HTTP port on 127.0.0.1, logfmt log in
                    tmp_path; healthy before the test starts; always stopped at teardown
  operator_factory  function: factory(identity=..., **kw) -> started OperatorProcess; every one stopped at teardown
                    (two operators, restarts with another identity, …)
  clusters          function: harness.Clusters bound to the control plane (make_cluster, wait_ready,
                    cluster_status, pod_roles, service_endpoint(s), lease_holder, wait_replication, …)
  module_operator, module_namespace   module-scoped variants for modules whose tests share one cluster
On a failing test, the tail of every operator log started during it is attached to the report.
"""

import os
import re
import secrets
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# harness (this folder) and s3_itest_driver (versitygw and the S3 client's driver, test/integration/s3)
for _path in (HERE, os.path.join(os.path.dirname(HERE), "integration", "s3")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from harness import ROOT, Clusters, OperatorProcess, operator_binary  # noqa: E402

CRD = os.path.join(ROOT, "config", "crd", "memgraph.io_memgraphclusters.yaml")
BACKUP_CRD = os.path.join(ROOT, "config", "crd", "memgraph.io_memgraphbackups.yaml")
RBAC = os.path.join(ROOT, "config", "rbac")


@pytest.fixture(scope="session")
def crd_installed(control_plane):
    control_plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", CRD, "-f", BACKUP_CRD)
    control_plane.wait_crds_established("memgraphclusters.memgraph.io", "memgraphbackups.memgraph.io")
    return control_plane


@pytest.fixture(scope="session")
def rbac_applied(control_plane):
    control_plane.kubectl("apply", "-k", RBAC)
    return control_plane


@pytest.fixture
def clusters(control_plane):
    return Clusters(control_plane)


def _binary_or_fail():
    binary = operator_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"memgraph-operator binary not found at {binary} (build it, or set MGO_OPERATOR_BIN / "
                    f"MGO_BUILD_DIR)")
    return binary


@pytest.fixture
def operator_factory(crd_installed, rbac_applied, tmp_path, request):
    started = []

    def factory(identity=None, start=True, **kw):
        identity = identity or f"op-{secrets.token_hex(3)}"
        op = OperatorProcess(crd_installed, str(tmp_path / f"operator-{identity}.log"), identity,
                             binary=_binary_or_fail(), **kw)
        started.append(op)
        request.node.mgo_operators = started
        if start:
            op.start()
        return op

    yield factory
    for op in started:
        op.stop()


@pytest.fixture
def operator(operator_factory):
    return operator_factory(identity="op-main")


@pytest.fixture(scope="module")
def module_operator(crd_installed, rbac_applied, tmp_path_factory):
    """One operator for a whole module (scenarios that share one cluster); stopped after the module."""
    op = OperatorProcess(crd_installed, str(tmp_path_factory.mktemp("operator") / "operator.log"), "op-module",
                         binary=_binary_or_fail())
    op.start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def module_namespace(control_plane, request):
    """A namespace for a whole module; deleted (without waiting) after it."""
    base = re.sub(r"[^a-z0-9-]+", "-", request.module.__name__.lower()).strip("-")[-30:].strip("-")
    name = f"m-{base}-{secrets.token_hex(3)}"
    control_plane.kubectl("create", "namespace", name)
    control_plane.wait_for(
        lambda: control_plane.api.request("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default")[0] == 200,
        timeout=30, message=f"ServiceAccount {name}/default")
    yield name
    control_plane.delete_namespace(name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        ops = list(getattr(item, "mgo_operators", []))
        ops += [op for op in OperatorProcess.instances if op.running() and op not in ops]
        for op in ops:
            rep.sections.append((f"operator {op.identity} log ({op.log_path})", op.tail(80)))
