"""Fixtures for the C Kubernetes client's integration tests (helpers live in k8s_itest_driver.py)."""

import pytest

from k8s_itest_driver import Kube, binary


@pytest.fixture
def kube(control_plane):
    return Kube(control_plane.admin_kubeconfig)


@pytest.fixture
def operator_bin():
    return binary("src", "cmd", "memgraph-operator")
