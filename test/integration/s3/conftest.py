"""Fixtures for the S3 client's integration tests (helpers live in s3_itest_driver.py)."""

import itertools

import pytest

from s3_itest_driver import S3, Gateway

_buckets = itertools.count(1)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    gw = Gateway(str(tmp_path_factory.mktemp("vgw") / "root"))
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def s3(gateway):
    """A client on a fresh bucket of the module's gateway."""
    client = S3(gateway, f"itest-{next(_buckets)}")
    client.ok("mkbucket")
    return client
