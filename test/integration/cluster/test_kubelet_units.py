"""Pure functions of the test kubelet (no control plane needed): the image table and Kubernetes expansions."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "test", "cluster"))

import kubelet  # noqa: E402

IMAGES = kubelet.load_image_table()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for var in ("MEMGRAPH_BIN", "MGO_OPERATOR_BIN"):
        monkeypatch.delenv(var, raising=False)


def resolve(image, command=(), args=()):
    return kubelet.resolve_program(IMAGES, image, list(command), list(args), "127.1.9.7")


@pytest.mark.parametrize("image", ["memgraph/memgraph:3.12.0", "docker.io/memgraph/memgraph:3.12.0",
                                   "memgraph:3.12.0", "memgraph/memgraph-mage:3.12.0"])
def test_memgraph_images_run_the_emulator_on_the_pod_ip(image):
    argv, env = resolve(image, ["/usr/lib/memgraph/memgraph"], ["--data-directory=/var/lib/memgraph"])
    assert argv == [os.path.join(ROOT, "test/memgraph-emulator/memgraph-emulator"),
                    "--data-directory=/var/lib/memgraph", "--bolt-address=127.1.9.7"]
    assert env == {"MGO_EMULATE_VERSION": "3.12.0", "MGO_EMULATOR_PACKAGED_CONFIG": "1"}


def test_memgraph_wildcard_bolt_address_becomes_the_pod_ip_and_memgraph_bin_overrides(monkeypatch):
    monkeypatch.setenv("MEMGRAPH_BIN", "/opt/real/memgraph")
    argv, env = resolve("memgraph/memgraph:2.21.1", args=["--bolt-address=0.0.0.0", "--log-level=INFO"])
    assert argv == ["/opt/real/memgraph", "--bolt-address=127.1.9.7", "--log-level=INFO"]
    assert env["MGO_EMULATE_VERSION"] == "2.21.1"


def test_memgraph_explicit_bolt_address_is_kept():
    argv, _ = resolve("memgraph/memgraph:3.12.0", args=["--bolt-address=127.1.9.8"])
    assert argv[1:] == ["--bolt-address=127.1.9.8"]


def test_operator_image_maps_to_the_built_binary_before_the_memgraph_glob(monkeypatch):
    monkeypatch.delenv("MGO_BUILD_DIR", raising=False)
    argv, env = resolve("ghcr.io/example/memgraph-operator:dev", ["/memgraph-operator", "agent"], ["--fence"])
    assert argv == [os.path.join(ROOT, "build/debug/src/cmd/memgraph-operator"), "agent", "--fence"]
    assert env == {}
    monkeypatch.setenv("MGO_BUILD_DIR", "/b")
    assert resolve("memgraph-operator:1", args=["agent"])[0] == ["/b/src/cmd/memgraph-operator", "agent"]
    monkeypatch.setenv("MGO_OPERATOR_BIN", "/tmp/op")
    assert resolve("memgraph-operator:1", args=["run"])[0] == ["/tmp/op", "run"]


def test_sysctl_init_containers_are_no_ops_and_other_busybox_commands_run():
    assert resolve("busybox:1.36", ["sysctl", "-w", "vm.max_map_count=262144"]) is None
    assert resolve("busybox", ["sh", "-c", "sysctl -w vm.max_map_count=1"]) is None
    assert resolve("busybox:1.36", ["sh", "-c", "echo hi"]) == (["sh", "-c", "echo hi"], {})


def test_tcp_echo_and_unknown_images():
    argv, _ = resolve("mgo-test/tcp-echo:1", args=["--port", "1"])
    assert argv == [sys.executable, os.path.join(ROOT, "test/cluster/tcp_echo.py"), "--port", "1"]
    assert resolve("debian:12", ["sh", "-c"], ["true"]) == (["sh", "-c", "true"], {})
    argv, _ = resolve("nothing:1")
    assert argv[:2] == ["sh", "-c"] and "no local program for image nothing:1" in argv[-1]


def test_kubernetes_dollar_expansion():
    env = {"A": "x", "B": "y"}
    assert kubelet.k8s_expand("$(A)-$(B)-$(C)-$$(A)", env) == "x-y-$(C)-$(A)"


def test_image_tags_and_quantities():
    assert kubelet.image_tag("memgraph/memgraph:3.12.0") == "3.12.0"
    assert kubelet.image_tag("registry:5000/memgraph/memgraph") == "latest"
    assert kubelet.image_tag("memgraph/memgraph:3.1@sha256:abc") == "3.1"
    assert kubelet.parse_quantity("512Mi") == 512 * 2**20
    assert kubelet.parse_quantity("2G") == 2 * 10**9
    assert kubelet.parse_quantity("250m") == 0.25


def test_log_runs_are_split_on_the_kubelet_header_lines():
    data = (b"==== 2026-01-01T00:00:00Z start #0: ['a']\none\ntwo\n"
            b"==== 2026-01-01T00:00:05Z start #1: ['a']\nthree\n==== not a header\n")
    assert kubelet.select_log(data) == b"three\n==== not a header\n"
    assert kubelet.select_log(data, previous=True) == b"one\ntwo\n"
    assert kubelet.select_log(data, previous=True, tail_lines=1) == b"two\n"
    assert kubelet.select_log(data, limit_bytes=3) == b"thr"
    assert kubelet.select_log(data[:data.index(b"==== 2026-01-01T00:00:05Z")], previous=True) is None


def test_kubeconfig_fallback_parser_reads_up_sh_files(tmp_path):
    import kubeapi

    kc = tmp_path / "k"
    kc.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: mgo-local\n  cluster:\n"
                  "    server: https://127.0.0.1:6443\n    certificate-authority-data: QUJD\nusers:\n"
                  "- name: x\n  user:\n    token: t0k\ncontexts:\n- name: mgo-local\n  context:\n"
                  "    cluster: mgo-local\n    user: x\ncurrent-context: mgo-local\n")
    cfg = kubeapi._load_flat(kc.read_text())
    assert cfg["clusters"][0]["cluster"] == {"server": "https://127.0.0.1:6443", "certificate-authority-data": "QUJD"}
    assert cfg["users"][0]["user"]["token"] == "t0k"
    assert kubeapi.load_kubeconfig(str(kc)) == ("https://127.0.0.1:6443", "t0k", b"ABC")


def test_podinit_runs_python3_scripts_on_its_own_interpreter(tmp_path):
    """The emulator's `#!/usr/bin/env python3` is not looked up on PATH (a pyenv shim there costs ~0.1 s of CPU
    per pod start); binaries and other scripts run as they are."""
    import podinit

    emulator = os.path.join(ROOT, "test/memgraph-emulator/memgraph-emulator")
    assert podinit.exec_argv(emulator, [emulator, "--bolt-port=7687"]) == (
        sys.executable, [sys.executable, emulator, "--bolt-port=7687"])
    shell = tmp_path / "run.sh"
    shell.write_text("#!/bin/sh\necho hi\n")
    assert podinit.exec_argv(str(shell), [str(shell), "x"]) == (str(shell), [str(shell), "x"])
    assert podinit.exec_argv("/bin/true", ["/bin/true"]) == ("/bin/true", ["/bin/true"])
    assert podinit.exec_argv(str(tmp_path / "missing"), ["m"]) == (str(tmp_path / "missing"), ["m"])


def test_kubelets_of_one_control_plane_never_hand_out_the_same_pod_address(tmp_path, monkeypatch):
    """The scale benchmark runs several kubelets on one state dir: each address in use is claimed by a file, so
    two kubelets skip each other's; a released address is free again for the others."""
    class NoPods:
        def __init__(self, block):
            self.block = block

        def pod_ips(self):
            return []
    monkeypatch.setattr(kubelet.podnet, "Block", NoPods)
    a, b = kubelet.NetnsIpAllocator(30, str(tmp_path)), kubelet.NetnsIpAllocator(30, str(tmp_path))
    got_a = [a.allocate(f"a{i}") for i in range(300)]
    got_b = [b.allocate(f"b{i}") for i in range(300)]
    assert len(set(got_a) | set(got_b)) == 600
    assert got_a[0] == "10.94.0.2" and "10.94.1.0" not in got_a and "10.94.0.255" not in got_a
    assert a.allocate("a0") == got_a[0]  # stable per pod UID
    assert sorted(os.listdir(tmp_path / "pod-ips")) == sorted(got_a + got_b)
    a.release("a0")
    assert got_a[0] not in os.listdir(tmp_path / "pod-ips")
    c = kubelet.NetnsIpAllocator(30, str(tmp_path))
    assert c.allocate("c0") == got_a[0]  # the released address, and not one of the 599 still claimed
