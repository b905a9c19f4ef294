"""Pod network of the test bed: every pod in its own network namespace, Services through a real kube-proxy.

Layout of one control plane ("block" B, 0..63, claimed atomically by creating the node namespace):

  root netns (the host: etcd, apiserver, operator, tests)
    mgoh<B>  10.200.B.1/30 ──veth── mgon<B> 10.200.B.2/30   in netns mgo-n<B> (the "node")
    routes: 10.(64+B).0.0/16 (pods) and 10.(128+B).0.0/16 (ClusterIPs) via 10.200.B.2
    nat: 10.200.B.1 → 127.0.0.1 (PREROUTING on mgoh<B> with route_localnet, and OUTPUT): a pod reaches any
         loopback server of the host (apiserver, S3, collector) at 10.200.B.1 — the node's address.
  netns mgo-n<B>: bridge br0 10.(64+B).0.1/16, ip_forward, bridge-nf-call-iptables, kube-proxy (its rules
         live here only, so control planes side by side never see each other's Services)
  netns mgo-n<B>-p<X>-<Y> (one per pod): eth0 10.(64+B).X.Y/16, default via 10.(64+B).0.1; its peer v<X>-<Y>
         is a hairpin port of br0 (a pod reaches itself through its own Service, like with a real CNI).

Command line (used by up.sh / down.sh):  podnet.py check | claim STATE_DIR | release B | release-stale
Library (used by kubelet.py): Block(b).pod_add(ip) / pod_del(ip) / pod_netns(ip) / pod_ips().
Every helper raises PodNetError with the failing command and its stderr.
"""

import os
import random
import shutil
import subprocess
import sys
import time

BLOCKS = 64
OWNER_DIR = "/tmp/mgo-podnet"  # <B>.owner: the state dir that claimed block B


class PodNetError(RuntimeError):
    pass


def run(argv, check=True):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if check and r.returncode != 0:
        raise PodNetError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def node_netns(b):
    return f"mgo-n{b}"


def host_ip(b):
    return f"10.200.{b}.1"


def node_ip(b):
    return f"10.200.{b}.2"


def pod_cidr(b):
    return f"10.{64 + b}.0.0/16"


def gateway_ip(b):
    return f"10.{64 + b}.0.1"


def service_cidr(b):
    return f"10.{128 + b}.0.0/16"


def check():
    """'' when pod network namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root (network namespaces need CAP_NET_ADMIN)"
    for tool in ("ip", "iptables", "nsenter"):
        if not shutil.which(tool):
            return f"{tool} not installed"
    probe = f"mgo-probe-{os.getpid()}"
    r = run(["ip", "netns", "add", probe], check=False)
    if r.returncode != 0:
        return f"ip netns add failed: {r.stderr.strip()}"
    try:
        r = run(["ip", "-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1"], check=False)
        if r.returncode != 0:
            return f"veth not available: {r.stderr.strip()}"
        r = run(["ip", "netns", "exec", probe, "iptables", "-t", "nat", "-L", "-n"], check=False)
        if r.returncode != 0:
            return f"iptables nat table not available: {r.stderr.strip()}"
    finally:
        run(["ip", "netns", "del", probe], check=False)
    return ""


def _nat_rules(b):
    tag = ["-m", "comment", "--comment", f"mgo-podnet-{b}"]
    to_lo = ["-j", "DNAT", "--to-destination", "127.0.0.1"]
    return [["PREROUTING", "-i", f"mgoh{b}", "-d", host_ip(b)] + tag + to_lo,
            ["OUTPUT", "-d", host_ip(b)] + tag + to_lo]


def _build_block(b):
    ns = node_netns(b)
    sh = [["ip", "link", "add", f"mgoh{b}", "type", "veth", "peer", "name", f"mgon{b}", "netns", ns],
          ["ip", "addr", "add", f"{host_ip(b)}/30", "dev", f"mgoh{b}"],
          ["sysctl", "-qw", f"net.ipv4.conf.mgoh{b}.route_localnet=1"],
          ["ip", "link", "set", f"mgoh{b}", "up"],
          ["ip", "-n", ns, "link", "set", "lo", "up"],
          ["ip", "-n", ns, "addr", "add", f"{node_ip(b)}/30", "dev", f"mgon{b}"],
          ["ip", "-n", ns, "link", "set", f"mgon{b}", "up"],
          ["ip", "-n", ns, "route", "add", "default", "via", host_ip(b)],
          ["ip", "-n", ns, "link", "add", "br0", "type", "bridge"],
          ["ip", "-n", ns, "addr", "add", f"{gateway_ip(b)}/16", "dev", "br0"],
          ["ip", "-n", ns, "link", "set", "br0", "up"],
          ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
          ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"],
          ["ip", "route", "add", pod_cidr(b), "via", node_ip(b)],
          ["ip", "route", "add", service_cidr(b), "via", node_ip(b)]]
    for argv in sh:
        run(argv)
    for rule in _nat_rules(b):
        run(["iptables", "-t", "nat", "-A"] + rule)


def claim(state_dir):
    """Claim a free block for state_dir and build its node; returns B."""
    os.makedirs(OWNER_DIR, exist_ok=True)
    release_stale()
    blocks = list(range(BLOCKS))
    random.shuffle(blocks)
    for b in blocks:
        if run(["ip", "netns", "add", node_netns(b)], check=False).returncode != 0:
            continue  # taken (the namespace's existence is the claim)
        with open(os.path.join(OWNER_DIR, f"{b}.owner"), "w", encoding="utf-8") as f:
            f.write(state_dir)
        try:
            _build_block(b)
        except PodNetError:
            release(b)
            raise
        return b
    raise PodNetError(f"no free pod network block (all {BLOCKS} claimed)")


def release(b):
    """Remove block B: its pod namespaces, the node namespace (its veths go with it), the host's NAT rules."""
    prefix = node_netns(b) + "-"
    for name in _netns_names():
        if name.startswith(prefix):
            run(["ip", "netns", "del", name], check=False)
    run(["ip", "netns", "del", node_netns(b)], check=False)
    run(["ip", "link", "del", f"mgoh{b}"], check=False)
    for rule in _nat_rules(b):
        while run(["iptables", "-t", "nat", "-D"] + rule, check=False).returncode == 0:
            pass
    try:
        os.unlink(os.path.join(OWNER_DIR, f"{b}.owner"))
    except FileNotFoundError:
        pass


def _netns_names():
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def _owner_alive(state_dir, claimed_at):
    """A claim is live while its apiserver runs, or for 5 minutes after the claim while up.sh starts it."""
    if not os.path.isdir(state_dir):
        return False
    try:
        with open(os.path.join(state_dir, "apiserver.pid"), encoding="ascii") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return time.time() - claimed_at < 300
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def release_stale():
    """Release blocks whose control plane is gone (a run that died before down.sh)."""
    for b in range(BLOCKS):
        if node_netns(b) not in _netns_names():
            continue
        path = os.path.join(OWNER_DIR, f"{b}.owner")
        try:
            with open(path, encoding="utf-8") as f:
                owner = f.read().strip()
            claimed_at = os.stat(path).st_mtime
        except FileNotFoundError:
            continue  # being claimed right now, or not ours
        if not _owner_alive(owner, claimed_at):
            release(b)


class Block:
    """One claimed block, as the kubelet sees it."""

    def __init__(self, b):
        self.b = b
        self.node = node_netns(b)

    @staticmethod
    def _octets(ip):
        parts = ip.split(".")
        return parts[2], parts[3]

    def pod_netns(self, ip):
        x, y = self._octets(ip)
        return f"{self.node}-p{x}-{y}"

    def netns_path(self, ip):
        return f"/run/netns/{self.pod_netns(ip)}"

    def port(self, ip):
        x, y = self._octets(ip)
        return f"v{x}-{y}"

    def pod_ips(self):
        """Pod addresses in use (a namespace exists for each), so a restarted kubelet never hands them out."""
        prefix = self.node + "-p"
        out = []
        for name in _netns_names():
            if name.startswith(prefix):
                x, _, y = name[len(prefix):].partition("-")
                out.append(f"10.{64 + self.b}.{x}.{y}")
        return out

    def pod_add(self, ip):
        """The pod's namespace with eth0 = ip on the node's bridge (an old one of the same name is replaced)."""
        ns, port = self.pod_netns(ip), self.port(ip)
        run(["ip", "netns", "del", ns], check=False)
        run(["ip", "-n", self.node, "link", "del", port], check=False)
        run(["ip", "netns", "add", ns])
        for argv in (["ip", "-n", self.node, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns],
                     ["ip", "-n", self.node, "link", "set", port, "master", "br0"],
                     ["ip", "-n", self.node, "link", "set", port, "type", "bridge_slave", "hairpin", "on"],
                     ["ip", "-n", self.node, "link", "set", port, "up"],
                     ["ip", "-n", ns, "link", "set", "lo", "up"],
                     ["ip", "-n", ns, "addr", "add", f"{ip}/16", "dev", "eth0"],
                     ["ip", "-n", ns, "link", "set", "eth0", "up"],
                     ["ip", "-n", ns, "route", "add", "default", "via", gateway_ip(self.b)]):
            run(argv)

    def pod_del(self, ip):
        run(["ip", "-n", self.node, "link", "del", self.port(ip)], check=False)
        run(["ip", "netns", "del", self.pod_netns(ip)], check=False)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    try:
        if cmd == "check":
            why = check()
            print(why or "ok")
            return 0 if not why else 1
        if cmd == "claim" and len(argv) == 3:
            print(claim(os.path.abspath(argv[2])))
            return 0
        if cmd == "release" and len(argv) == 3:
            release(int(argv[2]))
            return 0
        if cmd == "release-stale":
            release_stale()
            return 0
    except PodNetError as e:
        print(f"podnet: {e}", file=sys.stderr)
        return 1
    print(__doc__.split("Command line")[1].split("\n")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
