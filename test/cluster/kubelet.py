"""The project's test kubelet: runs the pods of a real local control plane as local processes.

Started by test/cluster/up.sh:  python kubelet.py --kubeconfig ADMIN.kubeconfig --state-dir STATE_DIR
Behaviour, layout and limits are documented in test/cluster/README.md. In short:
  * registers Node `mgo-node` (Ready, InternalIP 127.0.0.1) and binds every unscheduled pod to it;
  * pod network (--pod-network, from up.sh): `netns` = each pod in its own network namespace on the node's bridge
    (podnet.py), an address of the control plane's /16, Services through kube-proxy; `loopback` = each pod gets
    its own loopback IP from a /24 inside 127.1.0.0/16 (the /24 is claimed with flock, so several control planes
    on one host never collide). Either way stable per pod UID and never reused while the pod exists;
  * containers run as processes in private mount+UTS namespaces (podinit.py) with /etc/hosts and every volume
    bind-mounted; programs come from images.json;
  * probes (tcpSocket, exec, httpGet), restarts with capped backoff, graceful deletion confirmed with a UID
    precondition; PVCs are directories under STATE_DIR/pv/<ns>/<claim>/ that go away with the PVC;
  * level-triggered: list+watch pods, PVCs and Services, relist on 410 or any stream error.
Stdlib + PyYAML only.
"""

import argparse
import base64
import datetime
import fcntl
import fnmatch
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import ssl
import sys
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubeapi import ApiError, KubeApi  # noqa: E402
import podnet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("MGO_REPO") or os.path.dirname(os.path.dirname(HERE))
ENV_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYENV_ROOT", "PYENV_VERSION",
                   "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MEMGRAPH_BIN", "MGO_OPERATOR_BIN")
IPBLOCK_DIR = "/tmp/mgo-kubelet-ipblocks"
LIST_TIMEOUT_S = 120  # an informer's LIST (the other requests keep the client's timeout)
# Optional speed-up for slow probe specs (e.g. a startup probe with periodSeconds 10): cap every probe period and
# initial delay at this many seconds. Unset (default) = the pod spec's values, like a real kubelet.
MAX_PROBE_PERIOD = float(os.environ.get("MGO_KUBELET_MAX_PROBE_PERIOD") or "inf")
TICK = 0.1


def log(msg):
    ts = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    print(f"{ts} {msg}", flush=True)


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_key(pod):
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def pod_dir_name(pod):
    return f"{pod['metadata']['namespace']}_{pod['metadata']['name']}"


def process_state(pid):
    """One-letter state from /proc/PID/stat ('R', 'S', 'T' stopped, 'Z' zombie ...) or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------- informers
class Informer(threading.Thread):
    """list+watch of one collection; keeps cache {uid: obj}; calls on_change() after every change."""

    def __init__(self, api, path, on_change, stop):
        super().__init__(name=f"informer {path}", daemon=True)
        self.api, self.path, self.on_change, self.stop = api, path, on_change, stop
        self.lock = threading.Lock()
        self.cache = {}
        self.synced = threading.Event()

    def snapshot(self):
        with self.lock:
            return list(self.cache.values())

    def run(self):
        backoff = 0.2
        while not self.stop.is_set():
            try:
                rv = self._list()
                backoff = 0.2
                self._watch(rv)
            except ApiError as e:
                log(f"{self.path}: {e}; relisting")
            except (OSError, http.client.HTTPException, ValueError) as e:
                log(f"{self.path}: stream error {e!r}; relisting in {backoff:.1f}s")
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            except Exception:  # noqa: BLE001 - an informer thread must never die
                log(f"{self.path}: unexpected error, relisting:\n{traceback.format_exc()}")
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)

    def _list(self):
        # A LIST of every pod is read from etcd (no watch cache): 500 pods (9.9 MB) took 10.8 s on a loaded
        # machine, and with the client's 15 s the kubelets of the scale benchmark relisted for ever.
        status, lst = self.api.request("GET", self.path, timeout=LIST_TIMEOUT_S)
        if status >= 400:
            raise ApiError(status, lst, "GET", self.path)
        fresh = {o["metadata"]["uid"]: o for o in lst.get("items") or []}
        with self.lock:
            self.cache = fresh
        self.synced.set()
        self.on_change()
        return lst["metadata"]["resourceVersion"]

    def _watch(self, rv):
        for ev in self.api.watch(self.path, rv):
            if self.stop.is_set():
                return
            kind, obj = ev.get("type"), ev.get("object") or {}
            if kind == "ERROR":
                log(f"{self.path}: watch ERROR {obj.get('code')} {obj.get('reason')}; relisting")
                return
            if kind == "BOOKMARK":
                continue
            uid = obj["metadata"]["uid"]
            with self.lock:
                if kind == "DELETED":
                    self.cache.pop(uid, None)
                else:
                    self.cache[uid] = obj
            self.on_change()


# ------------------------------------------------------------------------------------------- IP allocation
class RoundRobinAllocator:
    """Pod addresses address(i) for i in first..last, handed out round robin (a freed address comes back as late
    as possible), stable per pod UID; address(i) may be None for an index that is no address."""

    def __init__(self, first, last, address, taken=()):
        self.first, self.last, self.address = first, last, address
        self.lock = threading.Lock()
        self.by_uid = {}
        self.taken = set(taken)
        self.next = first

    def allocate(self, uid):
        with self.lock:
            if uid in self.by_uid:
                return self.by_uid[uid]
            used = set(self.by_uid.values()) | self.taken
            for _ in range(self.last - self.first + 1):
                ip = self.address(self.next)
                self.next = self.first if self.next >= self.last else self.next + 1
                if ip is not None and ip not in used and self.claim(ip, uid):
                    self.by_uid[uid] = ip
                    return ip
            raise RuntimeError("pod IP block exhausted")

    def release(self, uid):
        with self.lock:
            ip = self.by_uid.pop(uid, None)
            if ip is not None:
                self.unclaim(ip)

    def claim(self, ip, uid):  # noqa: ARG002 - one allocator per address range: nothing to share
        return True

    def unclaim(self, ip):
        pass


class IpAllocator(RoundRobinAllocator):
    """Loopback pod network: claims one /24 of 127.1.0.0/16 for this kubelet (flock held for the kubelet's life)."""

    def __init__(self):
        os.makedirs(IPBLOCK_DIR, exist_ok=True)
        blocks = list(range(256))
        random.shuffle(blocks)
        for b in blocks:
            fd = os.open(f"{IPBLOCK_DIR}/{b}.lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fd, self.block = fd, b
            break
        else:
            raise RuntimeError("no free /24 in 127.1.0.0/16")
        super().__init__(1, 254, lambda i: f"127.1.{self.block}.{i}")


class NetnsIpAllocator(RoundRobinAllocator):
    """Netns pod network: the block's pod /16 from 10.(64+B).0.2 (x.y.0 and x.y.255 skipped). Addresses whose
    namespace still exists (a kubelet that ran before) are never handed out: the namespace is replaced. The whole
    /16 keeps an address from coming back for ~65000 pods (a /24 each let addresses return within a test run,
    and failover tests failed in CI). Kubelets of one control plane (the scale benchmark's extra ones) share the
    /16: each address in use is claimed by a file STATE_DIR/pod-ips/<ip> made with O_EXCL (holding the pod
    UID), so no two kubelets hand out the same one; the claim goes when the pod's address is released."""

    def __init__(self, block, state_dir):
        net = podnet.Block(block)
        self.claims = os.path.join(state_dir, "pod-ips")
        os.makedirs(self.claims, exist_ok=True)

        def address(i):
            return None if (i & 255) in (0, 255) else f"10.{64 + block}.{i >> 8}.{i & 255}"
        super().__init__(2, 65533, address, taken=net.pod_ips())

    def claim(self, ip, uid):
        try:
            fd = os.open(os.path.join(self.claims, ip), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(uid)
        return True

    def unclaim(self, ip):
        try:
            os.unlink(os.path.join(self.claims, ip))
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------------------------- image table
def expand_vars(text, extra):
    def repl(m):
        name, default = m.group(1), m.group(3)
        val = extra.get(name, os.environ.get(name))
        if val:
            return val
        return expand_vars(default, extra) if default is not None else ""

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-((?:[^{}]|\{[^{}]*\})*))?\}", repl, text)


def load_image_table():
    with open(os.path.join(HERE, "images.json"), encoding="utf-8") as f:
        return json.load(f)["images"]


def image_candidates(image):
    names = [image]
    for prefix in ("docker.io/library/", "docker.io/"):
        if image.startswith(prefix):
            names.append(image[len(prefix):])
    return names


def image_tag(image):
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def resolve_program(images, image, command, args, pod_ip, own_netns=False):
    """Map a container to a local program with the images.json table.

    Returns (argv, extra_env), or None when the container is a no-op (sysctl init containers)."""
    entry = next((e for e in images
                  if any(fnmatch.fnmatchcase(n, g) for n in image_candidates(image) for g in e["match"])), {})
    word = entry.get("noop_if_command_contains")
    if word and any(word in a for a in command + args):
        return None
    extra_env = {}
    if entry.get("program"):
        extra = {"MGO_REPO": REPO, "PYTHON": sys.executable,
                 "MGO_BUILD": os.environ.get("MGO_BUILD_DIR") or os.path.join(REPO, "build", "debug")}
        argv = [expand_vars(p, extra) for p in entry["program"]] + command[1:] + args
    else:
        argv = command + args
    if not argv:
        msg = f"mgo test kubelet: no local program for image {image} (see test/cluster/images.json)"
        argv = ["sh", "-c", 'echo "$0" >&2; exit 127', msg]
    if entry.get("memgraph") and not own_netns:
        # A pod's wildcard address means "my own network namespace": without one that is the pod's loopback IP.
        argv = [f"--bolt-address={pod_ip}" if a in ("--bolt-address=0.0.0.0", "--bolt-address=::") else a
                for a in argv]
        if not any(a.startswith("--bolt-address") for a in argv):
            argv.append(f"--bolt-address={pod_ip}")
    if entry.get("memgraph"):
        extra_env["MGO_EMULATE_VERSION"] = image_tag(image)
        # The official image starts memgraph with its packaged /etc/memgraph/memgraph.conf (memgraph.md §9);
        # the emulator reproduces that file only when asked.
        extra_env["MGO_EMULATOR_PACKAGED_CONFIG"] = "1"
    return argv, extra_env


def k8s_expand(text, env):
    """Kubernetes $(VAR) expansion; $$ escapes; unknown references stay as written."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), text)


# ------------------------------------------------------------------------------------------------ helpers
def parse_quantity(q):
    q = str(q)
    suffixes = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9,
                "T": 10**12, "m": 0.001}
    for s, mult in suffixes.items():
        if q.endswith(s):
            return float(q[: -len(s)]) * mult
    return float(q)


def write_file(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


class NotReadyYet(Exception):
    """A dependency of the pod (PVC, secret, configMap) does not exist yet: retry later."""


# ------------------------------------------------------------------------------------------------ container
class Container:
    def __init__(self, spec, init):
        self.spec, self.init, self.name = spec, init, spec["name"]
        self.proc = None
        self.restart_count = 0
        self.started_at = None          # RFC3339 of the current run
        self.started_mono = 0.0
        self.terminated = None          # state.terminated of the last finished run (current state when not running)
        self.last_terminated = None     # lastState.terminated
        self.next_start = 0.0
        self.ready = False
        self.started = False            # startup probe passed (or none)
        self.probe = {}                 # kind -> dict(successes, failures, next_run)
        self.waiting_reason = "ContainerCreating"
        self.env = {}

    @property
    def running(self):
        return self.proc is not None


# ---------------------------------------------------------------------------------------------- pod worker
class PodWorker(threading.Thread):
    def __init__(self, kubelet, pod):
        super().__init__(name=f"pod {pod_key(pod)}", daemon=True)
        self.k = kubelet
        self.pod = pod
        self.uid = pod["metadata"]["uid"]
        self.ns, self.name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.lock = threading.Lock()
        self.vanished = False
        self.ip = None
        self.netns = None  # the pod's network namespace (netns pod network), None = the host's
        self.dir = os.path.join(kubelet.state_dir, "pods", pod_dir_name(pod))
        self.vol_root = os.path.join(self.dir, "volumes", self.uid)
        self.containers = [Container(c, False) for c in pod["spec"]["containers"]]
        self.inits = [Container(c, True) for c in pod["spec"].get("initContainers") or []]
        self.init_done = not self.inits
        self.init_index = 0
        self.volumes = None
        self.phase = "Pending"
        self.start_time = now_rfc3339()
        self.cond_times = {}
        self.last_status = None
        self.finished = False
        self.volume_error = ""
        self.last_patch = 0.0
        self.last_error_log = 0.0

    # -- inputs from the kubelet loop
    def update(self, pod):
        with self.lock:
            self.pod = pod

    def gone(self):
        self.vanished = True

    def current(self):
        with self.lock:
            return self.pod

    # -- lifecycle
    def run(self):
        try:
            self.ip = self.k.ips.allocate(self.uid)
            if self.k.net is not None:
                self.k.net.pod_add(self.ip)
                self.netns = self.k.net.netns_path(self.ip)
            os.makedirs(self.dir, exist_ok=True)
            with open(os.path.join(self.dir, "uid"), "w", encoding="ascii") as f:
                f.write(self.uid)
            log(f"pod {self.ns}/{self.name} uid={self.uid} ip={self.ip}: starting")
            self.k.wake()
            self.loop()
        except Exception:  # noqa: BLE001 - a worker must never take the kubelet down
            log(f"pod {self.ns}/{self.name}: worker crashed:\n{traceback.format_exc()}")
            self.kill_all(0)
        finally:
            self.cleanup()

    def loop(self):
        while True:
            if self.vanished or self.k.stop.is_set():
                self.kill_all(0 if self.vanished else 2)
                return
            pod = self.current()
            if pod["metadata"].get("deletionTimestamp"):
                self.terminate(pod)
                return
            if self.volumes is None:
                self.prepare_volumes(pod)
            elif self.phase not in ("Succeeded", "Failed"):
                if not self.init_done:
                    self.step_init(pod)
                else:
                    self.step_containers(pod)
            self.report_status(pod)
            self.k.stop.wait(TICK)

    def prepare_volumes(self, pod):
        try:
            self.volumes = self.k.build_volumes(pod, self.vol_root)
            self.volume_error = ""
        except NotReadyYet as e:
            self.volume_error = str(e)
        except (ApiError, OSError) as e:
            self.volume_error = str(e)
            log(f"pod {self.ns}/{self.name}: volumes: {e}")

    def step_init(self, pod):
        c = self.inits[self.init_index]
        if c.running:
            rc = c.proc.poll()
            if rc is None:
                return
            self.on_exit(c, rc)
            if rc == 0:
                self.init_index += 1
                self.init_done = self.init_index == len(self.inits)
                return
            if pod["spec"].get("restartPolicy", "Always") == "Never":
                self.phase = "Failed"
                return
            c.next_start = time.monotonic() + self.backoff(c)
            c.waiting_reason = "CrashLoopBackOff"
        elif time.monotonic() >= c.next_start:
            self.start_container(c, pod)

    def step_containers(self, pod):
        policy = pod["spec"].get("restartPolicy", "Always")
        for c in self.containers:
            if c.running:
                rc = c.proc.poll()
                if rc is not None:
                    self.on_exit(c, rc)
                    if policy == "Always" or (policy == "OnFailure" and rc != 0):
                        c.next_start = time.monotonic() + self.backoff(c)
                        c.waiting_reason = "CrashLoopBackOff"
            elif c.terminated is None or (policy == "Always" or (policy == "OnFailure" and
                                                                   c.terminated["exitCode"] != 0)):
                if time.monotonic() >= c.next_start:
                    self.start_container(c, pod)
            if c.running:
                self.run_probes(c, pod)
        if policy != "Always" and all(not c.running and c.terminated is not None and
                                      (policy == "Never" or c.terminated["exitCode"] == 0)
                                      for c in self.containers):
            self.phase = "Succeeded" if all(c.terminated["exitCode"] == 0 for c in self.containers) else "Failed"
        elif any(c.running or c.terminated for c in self.containers):
            self.phase = "Running"

    def backoff(self, c):
        """Delay before restarting c, which just exited (restart_count = restarts so far)."""
        ran = time.monotonic() - c.started_mono
        if ran > 10:
            return 0.5
        return min(0.5 * 2 ** c.restart_count, 5.0)

    # -- processes
    def start_container(self, c, pod):
        c.ready = False
        c.probe = {}
        try:
            plan = self.k.plan_process(pod, c.spec, self.ip, self.volumes)
        except (NotReadyYet, ApiError, OSError, http.client.HTTPException) as e:
            # e.g. an env secretKeyRef whose Secret does not exist yet: retry, like CreateContainerConfigError
            c.waiting_reason = "CreateContainerConfigError"
            c.next_start = time.monotonic() + 1.0
            self.volume_error = f"container {c.name}: {e}"
            return
        self.volume_error = ""
        if c.terminated is not None:  # like the real kubelet: restartCount counts restarts that happened
            c.restart_count += 1
        c.started_at = now_rfc3339()
        c.started_mono = time.monotonic()
        c.env = plan["env"] if plan else {}
        if plan is None:  # no-op container (sysctl init)
            c.proc = _DoneProcess(0)
            log(f"pod {self.ns}/{self.name}: container {c.name}: sysctl no-op, exits 0")
            return
        # Like the real kubelet: a fresh file per start, mounted at terminationMessagePath; on_exit reads it.
        term_log = os.path.join(self.dir, f"{c.name}.termination-log")
        open(term_log, "w", encoding="utf-8").close()
        plan["mounts"].append([term_log, c.spec.get("terminationMessagePath") or "/dev/termination-log", False])
        spec_path = os.path.join(self.dir, f"{c.name}.spec.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(plan, f)
        logf = open(os.path.join(self.dir, f"{c.name}.log"), "ab")
        try:
            logf.write(f"==== {c.started_at} start #{c.restart_count}: {plan['argv']}\n".encode())
            logf.flush()
            enter_net = ["nsenter", f"--net={self.netns}", "--"] if self.netns else []
            c.proc = subprocess.Popen(
                enter_net + ["unshare", "--mount", "--uts", "--propagation", "private", "--",
                             sys.executable, os.path.join(HERE, "podinit.py"), spec_path],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            logf.close()
        with open(os.path.join(self.dir, f"{c.name}.pid"), "w", encoding="ascii") as f:
            f.write(str(c.proc.pid))
        log(f"pod {self.ns}/{self.name}: container {c.name} started pid={c.proc.pid} argv={plan['argv']}")

    def on_exit(self, c, rc):
        finished = now_rfc3339()
        term = {"exitCode": rc if rc >= 0 else 128 - rc, "reason": "Completed" if rc == 0 else "Error",
                "startedAt": c.started_at, "finishedAt": finished,
                "containerID": f"mgo://{self.uid}/{c.name}/{c.restart_count}"}
        if rc < 0:
            term["signal"] = -rc
        message = self.termination_message(c)
        if message:
            term["message"] = message
        c.terminated = c.last_terminated = term
        c.proc = None
        c.ready = False
        c.started = False
        try:
            os.unlink(os.path.join(self.dir, f"{c.name}.pid"))
        except FileNotFoundError:
            pass
        log(f"pod {self.ns}/{self.name}: container {c.name} exited rc={rc}")

    def termination_message(self, c):
        """What the container wrote to its terminationMessagePath (at most 4096 bytes, as the kubelet keeps)."""
        try:
            with open(os.path.join(self.dir, f"{c.name}.termination-log"), "rb") as f:
                return f.read(4096).decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def signal_all(self, sig):
        """Signal every running container's process group (each container is its own session)."""
        for c in self.inits + self.containers:
            if c.running and c.proc.pid > 0:
                try:
                    os.killpg(c.proc.pid, sig)
                except ProcessLookupError:
                    try:
                        os.kill(c.proc.pid, sig)
                    except ProcessLookupError:
                        pass

    def reap_all(self):
        for c in self.inits + self.containers:
            if c.running:
                rc = c.proc.poll()
                if rc is not None:
                    self.on_exit(c, rc)

    def kill_all(self, grace):
        self.signal_all(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while True:
            self.reap_all()
            if not any(c.running for c in self.inits + self.containers):
                return
            if time.monotonic() >= deadline:
                self.signal_all(signal.SIGKILL)
                for c in self.inits + self.containers:
                    if c.running:
                        c.proc.wait()
                        self.on_exit(c, c.proc.returncode)
                return
            time.sleep(0.05)

    def terminate(self, pod):
        started = time.monotonic()
        self.signal_all(signal.SIGTERM)
        while True:
            self.reap_all()
            if not any(c.running for c in self.inits + self.containers) or self.vanished:
                break
            pod = self.current()
            grace = pod["metadata"].get("deletionGracePeriodSeconds")
            if grace is None:
                grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
            if time.monotonic() - started >= grace:
                break
            time.sleep(0.05)
        self.kill_all(0)
        if not self.vanished:
            self.k.confirm_delete(pod)
        log(f"pod {self.ns}/{self.name} uid={self.uid}: terminated")

    def cleanup(self):
        self.kill_all(0)
        if self.netns is not None:
            self.k.net.pod_del(self.ip)  # its processes are gone: the kernel resets nothing that is still open
        self.finished = True
        self.k.ips.release(self.uid)
        shutil.rmtree(self.vol_root, ignore_errors=True)
        self.k.wake()

    # -- probes
    def run_probes(self, c, pod):
        now = time.monotonic()
        spec = c.spec
        if not c.started:
            if "startupProbe" not in spec:
                c.started = True
            elif self.probe_due(c, "startup", spec["startupProbe"], now):
                ok, done = self.probe_step(c, "startup", spec["startupProbe"], pod)
                if ok:
                    c.started = True
                elif done:
                    self.restart_container(c, pod, "startup probe failed")
                return
            if not c.started:
                return
        if "livenessProbe" in spec and self.probe_due(c, "liveness", spec["livenessProbe"], now):
            ok, done = self.probe_step(c, "liveness", spec["livenessProbe"], pod)
            if done and not ok:
                self.restart_container(c, pod, "liveness probe failed")
                return
        if "readinessProbe" not in spec:
            c.ready = True
        elif self.probe_due(c, "readiness", spec["readinessProbe"], now):
            ok, done = self.probe_step(c, "readiness", spec["readinessProbe"], pod)
            if done:
                c.ready = ok

    def probe_due(self, c, kind, probe, now):
        delay = min(probe.get("initialDelaySeconds", 0), MAX_PROBE_PERIOD)
        st = c.probe.setdefault(kind, {"successes": 0, "failures": 0, "next": c.started_mono + delay})
        if now < st["next"]:
            return False
        st["next"] = now + min(max(1, probe.get("periodSeconds", 10)), max(1.0, MAX_PROBE_PERIOD))
        return True

    def probe_step(self, c, kind, probe, pod):
        """Run the probe once; return (last_result_ok, threshold_reached)."""
        st = c.probe[kind]
        ok = self.k.probe(probe, c, self.ip, pod)
        if ok:
            st["successes"] += 1
            st["failures"] = 0
            need = probe.get("successThreshold", 1)
            return True, st["successes"] >= need
        st["failures"] += 1
        st["successes"] = 0
        return False, st["failures"] >= probe.get("failureThreshold", 3)

    def restart_container(self, c, pod, why):
        log(f"pod {self.ns}/{self.name}: container {c.name}: {why}; restarting")
        try:
            os.kill(c.proc.pid, signal.SIGTERM)
            os.kill(c.proc.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        try:
            c.proc.wait(timeout=min(pod["spec"].get("terminationGracePeriodSeconds", 30), 10))
        except subprocess.TimeoutExpired:
            c.proc.kill()
            c.proc.wait()
        self.on_exit(c, c.proc.returncode)
        if pod["spec"].get("restartPolicy", "Always") != "Never":
            c.next_start = time.monotonic() + self.backoff(c)

    # -- status
    def container_status(self, c, image):
        st = {"name": c.name, "image": image, "imageID": "", "ready": c.ready, "started": c.started,
              "restartCount": c.restart_count, "lastState": {}}
        if c.running:
            st["state"] = {"running": {"startedAt": c.started_at}}
            st["containerID"] = f"mgo://{self.uid}/{c.name}/{c.restart_count}"
        elif c.terminated is not None and c.next_start <= time.monotonic() and (
                c.init or self.phase in ("Succeeded", "Failed")):
            st["state"] = {"terminated": c.terminated}
            st["containerID"] = c.terminated["containerID"]
        else:
            st["state"] = {"waiting": {"reason": c.waiting_reason}}
        if c.last_terminated is not None and (c.restart_count > 0 or "waiting" in st["state"]):
            st["lastState"] = {"terminated": c.last_terminated}
        return st

    def condition(self, ctype, ok, existing):
        status = "True" if ok else "False"
        prev = self.cond_times.get(ctype)
        if prev is None:
            old = existing.get(ctype)
            prev = (old["status"], old.get("lastTransitionTime") or now_rfc3339()) if old else (None, None)
        if prev[0] != status:
            prev = (status, now_rfc3339())
        self.cond_times[ctype] = prev
        return {"type": ctype, "status": status, "lastTransitionTime": prev[1]}

    def report_status(self, pod):
        existing = {c["type"]: c for c in pod.get("status", {}).get("conditions") or []}
        images = {c["name"]: c["image"] for c in pod["spec"]["containers"] + (pod["spec"].get("initContainers") or [])}
        cstatuses = [self.container_status(c, images[c.name]) for c in self.containers]
        istatuses = [self.container_status(c, images[c.name]) for c in self.inits]
        containers_ready = self.init_done and all(c.ready for c in self.containers)
        gates_ok = all(existing.get(g["conditionType"], {}).get("status") == "True"
                       for g in pod["spec"].get("readinessGates") or [])
        conds = [self.condition("PodScheduled", True, existing),
                 self.condition("PodReadyToStartContainers", self.volumes is not None, existing),
                 self.condition("Initialized", self.init_done, existing),
                 self.condition("ContainersReady", containers_ready and self.phase == "Running", existing),
                 self.condition("Ready", containers_ready and gates_ok and self.phase == "Running", existing)]
        for g in pod["spec"].get("readinessGates") or []:
            if g["conditionType"] in existing:
                conds.append(existing[g["conditionType"]])
        status = {"phase": self.phase, "hostIP": "127.0.0.1", "hostIPs": [{"ip": "127.0.0.1"}],
                  "podIP": self.ip, "podIPs": [{"ip": self.ip}], "startTime": self.start_time,
                  "conditions": conds, "containerStatuses": cstatuses}
        if istatuses:
            status["initContainerStatuses"] = istatuses
        if self.volume_error:
            status["message"] = self.volume_error
        observed = pod.get("status", {})
        drift = observed.get("podIP") != self.ip or observed.get("phase") != self.phase
        # Re-send an unchanged status only when the object drifted and our last write is old enough to have
        # come back through the watch (covers writes lost to an apiserver restart).
        if status == self.last_status and not (drift and time.monotonic() - self.last_patch > 2.0):
            return
        try:
            self.k.api.merge_patch(
                f"/api/v1/namespaces/{self.ns}/pods/{self.name}/status",
                {"metadata": {"uid": self.uid}, "status": status})
            self.last_status = status
            self.last_patch = time.monotonic()
        except ApiError as e:
            if e.status == 404:
                self.vanished = True
            elif e.status != 409:
                log(f"pod {self.ns}/{self.name}: status patch failed: {e}")
        except (OSError, http.client.HTTPException) as e:
            if time.monotonic() - self.last_error_log > 5:  # the apiserver may be restarting: do not flood
                self.last_error_log = time.monotonic()
                log(f"pod {self.ns}/{self.name}: status patch failed: {e!r}")


class _DoneProcess:
    """Stands in for a Popen of a container that is not run (sysctl no-op): already exited."""

    def __init__(self, rc):
        self.returncode = rc
        self.pid = -1

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        return self.returncode

    def kill(self):
        pass


# ------------------------------------------------------------------------------------ log endpoint (HTTPS)
RUN_HEADER = re.compile(rb"^==== \S+ start #\d+: .*$", re.M)


def split_runs(data):
    """Split a container log file into the output of each run (the kubelet writes a header line per start)."""
    starts = [m.end() + 1 for m in RUN_HEADER.finditer(data)]
    ends = [m.start() for m in RUN_HEADER.finditer(data)][1:] + [len(data)]
    return [data[a:b] for a, b in zip(starts, ends)]


def select_log(data, previous=False, tail_lines=None, limit_bytes=None):
    runs = split_runs(data)
    want = -2 if previous else -1
    if len(runs) < -want:
        return None
    out = runs[want]
    if tail_lines is not None:
        lines = out.splitlines(keepends=True)
        out = b"".join(lines[-tail_lines:]) if tail_lines > 0 else b""
    if limit_bytes is not None:
        out = out[:limit_bytes]
    return out


class LogServer(http.server.ThreadingHTTPServer):
    """The part of the kubelet API the apiserver proxies for `kubectl logs`: GET /containerLogs/<ns>/<pod>/<c>
    (previous, tailLines, limitBytes, follow) and /healthz. TLS with pki/kubelet.crt (verified by the apiserver)."""

    daemon_threads = True

    def __init__(self, state_dir):
        super().__init__(("127.0.0.1", 0), LogHandler)
        self.state_dir = state_dir
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        pki = os.path.join(state_dir, "pki")
        ctx.load_cert_chain(os.path.join(pki, "kubelet.crt"), os.path.join(pki, "kubelet.key"))
        self.socket = ctx.wrap_socket(self.socket, server_side=True)


class LogHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        parts = [urllib.parse.unquote(x) for x in url.path.split("/") if x]
        if parts == ["healthz"]:
            return self.reply(200, b"ok")
        if len(parts) != 4 or parts[0] != "containerLogs" or any("/" in x or x.startswith(".") for x in parts[1:]):
            return self.reply(404, b"not found")
        path = os.path.join(self.server.state_dir, "pods", f"{parts[1]}_{parts[2]}", f"{parts[3]}.log")
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return self.reply(404, f"no log for container {parts[3]} of pod {parts[1]}/{parts[2]}".encode())
        tail = int(q["tailLines"]) if q.get("tailLines", "").isdigit() else None
        limit = int(q["limitBytes"]) if q.get("limitBytes", "").isdigit() else None
        out = select_log(data, q.get("previous") == "true", tail, limit)
        if out is None:
            return self.reply(400, b"previous terminated container not found")
        if q.get("follow") != "true":
            return self.reply(200, out)
        self.follow(path, out, len(data))

    def follow(self, path, first, offset):
        """Stream the current run until a new run starts, the file goes away or the client disconnects."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        try:
            self.wfile.write(first)
            self.wfile.flush()
            while True:
                time.sleep(0.2)
                with open(path, "rb") as f:
                    f.seek(offset)
                    more = f.read()
                if not more:
                    continue
                m = RUN_HEADER.search(more)
                self.wfile.write(more[: m.start()] if m else more)
                self.wfile.flush()
                if m:
                    return
                offset += len(more)
        except (OSError, ValueError):
            return


# --------------------------------------------------------------------------------------------- the kubelet
class Kubelet:
    def __init__(self, api, state_dir, node_name, net_block=None, host_ip="127.0.0.1"):
        self.api, self.state_dir, self.node = api, state_dir, node_name
        self.stop = threading.Event()
        self.changed = threading.Event()
        self.net = podnet.Block(net_block) if net_block is not None else None
        self.host_ip = host_ip  # where pods reach the host's loopback servers (the apiserver among them)
        self.ips = NetnsIpAllocator(net_block, state_dir) if net_block is not None else IpAllocator()
        self.images = load_image_table()
        self.workers = {}
        self.done_uids = set()
        self.bind_attempts = {}
        self.bound_pvcs = set()
        self.pv_lock = threading.Lock()
        self.hosts_path = os.path.join(state_dir, "hosts")
        self.hosts_content = None
        with open(self.hosts_path, "a", encoding="utf-8"):
            pass
        self.api_port = api.port
        self.pods = Informer(api, "/api/v1/pods", self.wake, self.stop)
        self.pvcs = Informer(api, "/api/v1/persistentvolumeclaims", self.wake, self.stop)
        self.services = Informer(api, "/api/v1/services", self.wake, self.stop)
        self.last_node_sync = 0.0
        pod_ips = podnet.pod_cidr(net_block) + " (netns)" if self.net else f"127.1.{self.ips.block}.0/24 (loopback)"
        log(f"kubelet: node {node_name}, pod IPs {pod_ips}, state {state_dir}")

    def wake(self):
        self.changed.set()

    # -- node
    def sync_node(self):
        labels = {"kubernetes.io/hostname": self.node, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
        self.api.call("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                                "metadata": {"name": self.node, "labels": labels}}, ok=(409,))
        self.api.merge_patch(f"/api/v1/nodes/{self.node}", {"spec": {"taints": None}})
        t = now_rfc3339()
        cap = {"cpu": str(os.cpu_count() or 2), "memory": "16Gi", "pods": "250", "ephemeral-storage": "100Gi"}
        conds = [{"type": ty, "status": st, "reason": r, "message": r, "lastHeartbeatTime": t,
                  "lastTransitionTime": self.node_started}
                 for ty, st, r in (("Ready", "True", "KubeletReady"), ("MemoryPressure", "False", "Ok"),
                                   ("DiskPressure", "False", "Ok"), ("PIDPressure", "False", "Ok"))]
        self.api.merge_patch(f"/api/v1/nodes/{self.node}/status", {"status": {
            "conditions": conds, "capacity": cap, "allocatable": cap,
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": self.node}],
            "nodeInfo": {"kubeletVersion": "v1.33.13-mgo-test", "kubeProxyVersion": "", "operatingSystem": "linux",
                         "architecture": "amd64", "containerRuntimeVersion": "mgo-process://1",
                         "kernelVersion": os.uname().release, "osImage": "local processes", "machineID": "",
                         "systemUUID": "", "bootID": ""},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.log_port}}}})

    # -- main loop
    def run(self):
        self.node_started = now_rfc3339()
        self.log_port = 0
        try:
            srv = LogServer(self.state_dir)
            self.log_port = srv.server_address[1]
            threading.Thread(target=srv.serve_forever, name="log server", daemon=True).start()
            log(f"kubelet: log endpoint https://127.0.0.1:{self.log_port}/containerLogs/...")
        except (OSError, ssl.SSLError) as e:  # e.g. a state dir made before the kubelet cert existed
            log(f"kubelet: no log endpoint ({e}); kubectl logs will not work")
        for inf in (self.pods, self.pvcs, self.services):
            inf.start()
        while not self.stop.is_set():
            self.changed.wait(1.0)
            self.changed.clear()
            try:
                self.reconcile()
            except (ApiError, OSError, http.client.HTTPException) as e:
                log(f"kubelet: reconcile: {e!r}")
            except Exception:  # noqa: BLE001
                log(f"kubelet: reconcile crashed:\n{traceback.format_exc()}")
        self.shutdown()

    def reconcile(self):
        if time.monotonic() - self.last_node_sync > 30:
            self.sync_node()
            self.last_node_sync = time.monotonic()
        if not self.pods.synced.is_set():
            return
        pods = {p["metadata"]["uid"]: p for p in self.pods.snapshot()}
        for uid, pod in pods.items():
            spec, meta = pod["spec"], pod["metadata"]
            if not spec.get("nodeName"):
                if not meta.get("deletionTimestamp"):
                    self.bind(pod)
                continue
            if spec["nodeName"] != self.node:
                continue
            w = self.workers.get(uid)
            if w is None and uid in self.done_uids and meta.get("deletionTimestamp"):
                self.retry_confirm_delete(pod)  # an earlier confirmation may have hit a down apiserver
                continue
            if w is None:
                if uid in self.done_uids or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                    continue
                w = self.workers[uid] = PodWorker(self, pod)
                w.start()
            else:
                w.update(pod)
        for uid, w in list(self.workers.items()):
            if uid not in pods:
                w.gone()
            if w.finished:
                del self.workers[uid]
                self.done_uids.add(uid)
        self.done_uids &= set(pods)
        for uid in [u for u in self.bind_attempts if u not in pods]:
            del self.bind_attempts[uid]
        self.sync_pvcs()
        self.write_hosts(pods)

    def bind(self, pod):
        uid = pod["metadata"]["uid"]
        if time.monotonic() - self.bind_attempts.get(uid, 0) < 1.0:
            return
        self.bind_attempts[uid] = time.monotonic()
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "uid": uid},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node}}
        try:
            self.api.call("POST", f"/api/v1/namespaces/{ns}/pods/{name}/binding", body, ok=(404, 409))
            log(f"bound {ns}/{name} uid={uid} to {self.node}")
        except ApiError as e:
            log(f"bind {ns}/{name}: {e}")

    def retry_confirm_delete(self, pod):
        uid = pod["metadata"]["uid"]
        if time.monotonic() - self.bind_attempts.get(uid, 0) < 2.0:
            return
        self.bind_attempts[uid] = time.monotonic()
        threading.Thread(target=self.confirm_delete, args=(pod,), daemon=True).start()

    def confirm_delete(self, pod):
        m = pod["metadata"]
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                "preconditions": {"uid": m["uid"]}}
        for _ in range(100):  # the apiserver may be restarting: retry for ~20 s
            try:
                self.api.call("DELETE", f"/api/v1/namespaces/{m['namespace']}/pods/{m['name']}", body,
                              ok=(404, 409))
                return
            except (OSError, http.client.HTTPException, ApiError) as e:
                log(f"confirm delete {m['namespace']}/{m['name']}: {e!r}")
                if self.stop.wait(0.2):
                    return

    # -- PVCs: directories under STATE_DIR/pv/<ns>/<name>, marked with the PVC UID in <name>.uid
    def pvc_dir(self, ns, name):
        return os.path.join(self.state_dir, "pv", ns, name)

    def sync_pvcs(self):
        if not self.pvcs.synced.is_set():
            return
        for pvc in self.pvcs.snapshot():
            m = pvc["metadata"]
            if pvc.get("status", {}).get("phase") != "Bound" and m["uid"] not in self.bound_pvcs \
                    and not m.get("deletionTimestamp"):
                self.mark_bound(pvc)
        root = os.path.join(self.state_dir, "pv")
        # Under pv_lock, markers are read BEFORE the cache snapshot: a marker is only written (by pvc_path, under
        # the same lock) for a PVC already in the cache, so a fresh claim can never look "gone" here.
        with self.pv_lock:
            markers = []
            for ns in os.listdir(root) if os.path.isdir(root) else []:
                for entry in os.listdir(os.path.join(root, ns)):
                    if entry.endswith(".uid"):
                        with open(os.path.join(root, ns, entry), encoding="ascii") as f:
                            markers.append((ns, entry[:-4], f.read().strip()))
            live = {(p["metadata"]["namespace"], p["metadata"]["name"]): p["metadata"]["uid"]
                    for p in self.pvcs.snapshot()}
            for ns, name, uid in markers:
                if live.get((ns, name)) != uid and not self.pvc_exists(ns, name, uid):
                    log(f"PVC {ns}/{name} uid={uid} is gone: removing its directory")
                    shutil.rmtree(self.pvc_dir(ns, name), ignore_errors=True)
                    os.unlink(self.pvc_dir(ns, name) + ".uid")

    def pvc_exists(self, ns, name, uid):
        """Asks the API server before a directory is removed: kubelets that share a state directory (the scale
        benchmark runs five) each see PVCs through their own cache, and one that had not seen a claim yet removed
        the directory another had just made for it (a pod then crash-looped on its missing log volume). True
        also when the API server does not answer: keep it, the next round decides."""
        try:
            status, obj = self.api.request("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}")
        except (OSError, http.client.HTTPException):
            return True
        if status == 404:
            return False
        return status != 200 or obj.get("metadata", {}).get("uid") == uid

    def mark_bound(self, pvc):
        m = pvc["metadata"]
        storage = (pvc["spec"].get("resources", {}).get("requests") or {}).get("storage", "1Gi")
        try:
            self.api.merge_patch(f"/api/v1/namespaces/{m['namespace']}/persistentvolumeclaims/{m['name']}/status",
                                 {"metadata": {"uid": m["uid"]}, "status": {
                                     "phase": "Bound", "accessModes": pvc["spec"].get("accessModes") or [],
                                     "capacity": {"storage": storage}}})
            self.bound_pvcs.add(m["uid"])
        except ApiError as e:
            log(f"PVC {m['namespace']}/{m['name']}: marking Bound failed: {e}")

    def pvc_path(self, ns, claim):
        with self.pv_lock:
            return self._pvc_path_locked(ns, claim)

    def _pvc_path_locked(self, ns, claim):
        for pvc in self.pvcs.snapshot():
            m = pvc["metadata"]
            if m["namespace"] == ns and m["name"] == claim and not m.get("deletionTimestamp"):
                path = self.pvc_dir(ns, claim)
                os.makedirs(path, exist_ok=True)
                with open(path + ".uid", "w", encoding="ascii") as f:
                    f.write(m["uid"])
                return path
        raise NotReadyYet(f"waiting for PersistentVolumeClaim {ns}/{claim}")

    # -- /etc/hosts of every pod
    def write_hosts(self, pods):
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                 f"{self.host_ip}\tkubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local"]
        ready_by_ns = {}
        for uid, w in sorted(self.workers.items(), key=lambda kv: pod_key(kv[1].current())):
            pod = pods.get(uid)
            if pod is None or w.ip is None or w.finished:
                continue
            ns, spec = pod["metadata"]["namespace"], pod["spec"]
            host, sub = spec.get("hostname") or pod["metadata"]["name"], spec.get("subdomain")
            if sub:
                fq = f"{host}.{sub}.{ns}"
                lines.append(f"{w.ip}\t{fq}.svc.cluster.local {fq}.svc {fq}")
            conds = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions") or []}
            if conds.get("Ready") == "True" and not pod["metadata"].get("deletionTimestamp"):
                ready_by_ns.setdefault(ns, []).append((pod, w.ip))
        for svc in sorted(self.services.snapshot(), key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
            ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
            sel = svc["spec"].get("selector")
            cluster_ip = svc["spec"].get("clusterIP")
            if self.net is not None and cluster_ip and cluster_ip != "None":
                # A real Service: kube-proxy forwards its ClusterIP to the ready endpoints (EndpointSlices).
                lines.append(f"{cluster_ip}\t{name}.{ns}.svc.cluster.local {name}.{ns}.svc {name}.{ns}")
                continue
            if not sel:
                continue
            for pod, ip in ready_by_ns.get(ns, []):
                labels = pod["metadata"].get("labels") or {}
                if all(labels.get(k) == v for k, v in sel.items()):
                    lines.append(f"{ip}\t{name}.{ns}.svc.cluster.local {name}.{ns}.svc {name}.{ns}")
                    break
        content = "\n".join(lines) + "\n"
        if content == self.hosts_content:
            return
        # In place (never rename): every pod has this inode bind-mounted at /etc/hosts.
        with open(self.hosts_path, "r+", encoding="utf-8") as f:
            f.write(content)
            f.truncate()
        self.hosts_content = content

    # -- volumes
    def build_volumes(self, pod, root):
        """Return {volume name: host path} for the pod, materializing secret/configMap/projected content."""
        ns = pod["metadata"]["namespace"]
        out = {}
        for v in pod["spec"].get("volumes") or []:
            name = v["name"]
            path = os.path.join(root, name)
            if "persistentVolumeClaim" in v:
                out[name] = self.pvc_path(ns, v["persistentVolumeClaim"]["claimName"])
            elif "hostPath" in v:
                out[name] = v["hostPath"]["path"]
                if v["hostPath"].get("type") == "DirectoryOrCreate":
                    os.makedirs(out[name], exist_ok=True)
            elif "secret" in v:
                self.materialize(path, self.source_files(ns, "secret", v["secret"], pod), v["secret"])
                out[name] = path
            elif "configMap" in v:
                self.materialize(path, self.source_files(ns, "configMap", v["configMap"], pod), v["configMap"])
                out[name] = path
            elif "downwardAPI" in v:
                self.materialize(path, self.downward_files(v["downwardAPI"], pod), v["downwardAPI"])
                out[name] = path
            elif "projected" in v:
                files = {}
                for src in v["projected"].get("sources") or []:
                    files.update(self.projected_files(ns, src, pod))
                self.materialize(path, files, v["projected"])
                out[name] = path
            else:  # emptyDir and anything unknown: a per-pod directory removed with the pod
                os.makedirs(path, exist_ok=True)
                out[name] = path
        return out

    @staticmethod
    def materialize(path, files, vol):
        os.makedirs(path, exist_ok=True)
        mode = vol.get("defaultMode", 0o644)
        for rel, (data, fmode) in files.items():
            write_file(os.path.join(path, rel), data, fmode if fmode is not None else mode)

    def fetch(self, ns, kind, name, optional):
        plural = "secrets" if kind == "secret" else "configmaps"
        status, obj = self.api.request("GET", f"/api/v1/namespaces/{ns}/{plural}/{name}")
        if status == 404:
            if optional:
                return {}
            raise NotReadyYet(f"waiting for {kind} {ns}/{name}")
        if status >= 400:
            raise ApiError(status, obj, "GET", name)
        if kind == "secret":
            return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        data = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data

    def source_files(self, ns, kind, src, pod):
        name = src.get("secretName") or src.get("name")
        data = self.fetch(ns, kind, name, src.get("optional", False))
        items = src.get("items")
        if not items:
            return {k: (v, None) for k, v in data.items()}
        return {i["path"]: (data[i["key"]], i.get("mode")) for i in items if i["key"] in data}

    def downward_files(self, src, pod):
        files = {}
        for item in src.get("items") or []:
            if "fieldRef" in item:
                files[item["path"]] = (self.field_value(item["fieldRef"]["fieldPath"], pod, "").encode(),
                                       item.get("mode"))
        return files

    def projected_files(self, ns, src, pod):
        if "serviceAccountToken" in src:
            sat = src["serviceAccountToken"]
            sa = pod["spec"].get("serviceAccountName") or "default"
            req = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {
                "audiences": [sat["audience"]] if sat.get("audience") else None,
                "expirationSeconds": max(sat.get("expirationSeconds", 3607), 3600),
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"],
                                   "uid": pod["metadata"]["uid"]}}}
            if req["spec"]["audiences"] is None:
                del req["spec"]["audiences"]
            out = self.api.call("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token", req)
            return {sat["path"]: (out["status"]["token"].encode(), None)}
        for kind in ("configMap", "secret"):
            if kind in src:
                return self.source_files(ns, kind, src[kind], pod)
        if "downwardAPI" in src:
            return self.downward_files(src["downwardAPI"], pod)
        return {}

    # -- env and argv
    @staticmethod
    def field_value(path, pod, ip):
        m = pod["metadata"]
        if path.startswith("metadata.labels["):
            return (m.get("labels") or {}).get(path[len("metadata.labels['"):-2], "")
        if path.startswith("metadata.annotations["):
            return (m.get("annotations") or {}).get(path[len("metadata.annotations['"):-2], "")
        if path == "metadata.labels":
            return "\n".join(f'{k}="{v}"' for k, v in sorted((m.get("labels") or {}).items()))
        if path == "metadata.annotations":
            return "\n".join(f'{k}="{v}"' for k, v in sorted((m.get("annotations") or {}).items()))
        return {"metadata.name": m["name"], "metadata.namespace": m["namespace"], "metadata.uid": m["uid"],
                "status.podIP": ip, "status.podIPs": ip, "status.hostIP": "127.0.0.1",
                "status.hostIPs": "127.0.0.1", "spec.nodeName": pod["spec"].get("nodeName", ""),
                "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "")}.get(path, "")

    def container_env(self, pod, cspec, ip):
        ns = pod["metadata"]["namespace"]
        env = {k: os.environ[k] for k in ENV_PASSTHROUGH if k in os.environ}
        env.update({"HOSTNAME": pod["spec"].get("hostname") or pod["metadata"]["name"], "POD_IP": ip,
                    "KUBERNETES_SERVICE_HOST": self.host_ip, "KUBERNETES_SERVICE_PORT": str(self.api_port),
                    "KUBERNETES_SERVICE_PORT_HTTPS": str(self.api_port)})
        for ef in cspec.get("envFrom") or []:
            kind = "secret" if "secretRef" in ef else "configMap"
            ref = ef.get("secretRef") or ef.get("configMapRef")
            for k, v in self.fetch(ns, kind, ref["name"], ref.get("optional", False)).items():
                env[ef.get("prefix", "") + k] = v.decode(errors="replace")
        for e in cspec.get("env") or []:
            env[e["name"]] = self.env_value(e, pod, cspec, ip, env)
        return env

    def env_value(self, e, pod, cspec, ip, env):
        if "valueFrom" not in e:
            return k8s_expand(e.get("value", ""), env)
        vf, ns = e["valueFrom"], pod["metadata"]["namespace"]
        if "fieldRef" in vf:
            return self.field_value(vf["fieldRef"]["fieldPath"], pod, ip)
        for key, kind in (("secretKeyRef", "secret"), ("configMapKeyRef", "configMap")):
            if key in vf:
                ref = vf[key]
                data = self.fetch(ns, kind, ref["name"], ref.get("optional", False))
                if ref["key"] not in data and not ref.get("optional", False):
                    raise NotReadyYet(f"waiting for key {ref['key']} in {kind} {ns}/{ref['name']}")
                return data.get(ref["key"], b"").decode(errors="replace")
        if "resourceFieldRef" in vf:
            rf = vf["resourceFieldRef"]
            section, _, res = rf["resource"].partition(".")
            val = ((cspec.get("resources") or {}).get(section) or {}).get(res)
            if val is None:
                return str(os.cpu_count() or 2) if res == "cpu" else str(16 * 2**30)
            divisor = parse_quantity(rf.get("divisor", "1"))
            return str(int(-(-parse_quantity(val) // divisor)))
        return ""

    def plan_process(self, pod, cspec, ip, volumes):
        """Return the podinit spec (argv, env, mounts, cwd, hostname), or None for a no-op container."""
        env = self.container_env(pod, cspec, ip)
        command = [k8s_expand(a, env) for a in cspec.get("command") or []]
        args = [k8s_expand(a, env) for a in cspec.get("args") or []]
        resolved = resolve_program(self.images, cspec.get("image", ""), command, args, ip, self.net is not None)
        if resolved is None:
            return None
        argv, extra_env = resolved
        env.update(extra_env)
        env["MGO_KUBELET_STATE_DIR"] = self.state_dir
        env["MGO_POD_UID"] = pod["metadata"]["uid"]
        mounts = [[self.hosts_path, "/etc/hosts", False]]
        for vm in sorted(cspec.get("volumeMounts") or [], key=lambda m: m["mountPath"].count("/")):
            src = volumes.get(vm["name"])
            if src is None:
                continue
            if vm.get("subPath"):
                src = os.path.join(src, vm["subPath"])
                if not os.path.exists(src):
                    os.makedirs(src, exist_ok=True)
            mounts.append([src, vm["mountPath"], bool(vm.get("readOnly"))])
        return {"argv": argv, "env": env, "mounts": mounts, "cwd": cspec.get("workingDir") or "/",
                "hostname": pod["spec"].get("hostname") or pod["metadata"]["name"]}

    # -- probes
    def probe(self, probe, c, ip, pod):
        pid = c.proc.pid if c.proc else -1
        if pid <= 0 or process_state(pid) in (None, "T", "t", "Z"):
            return False  # a frozen (SIGSTOP) process never passes a probe: it models a hung container
        timeout = max(1, probe.get("timeoutSeconds", 1))
        try:
            if "tcpSocket" in probe:
                port = self.resolve_port(probe["tcpSocket"]["port"], c.spec)
                with socket.create_connection((probe["tcpSocket"].get("host") or ip, port), timeout=timeout):
                    return True
            if "httpGet" in probe:
                hg = probe["httpGet"]
                conn = http.client.HTTPConnection(hg.get("host") or ip, self.resolve_port(hg["port"], c.spec),
                                                  timeout=timeout)
                try:
                    conn.request("GET", hg.get("path", "/"))
                    return 200 <= conn.getresponse().status < 400
                finally:
                    conn.close()
            if "exec" in probe:
                env = c.env
                r = subprocess.run(["nsenter", "-t", str(pid), "-m", "-u", "-n", "--"] + probe["exec"]["command"],
                                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=timeout, check=False)
                return r.returncode == 0
            if "grpc" in probe:
                with socket.create_connection((ip, probe["grpc"]["port"]), timeout=timeout):
                    return True
        except (OSError, subprocess.TimeoutExpired, http.client.HTTPException, NotReadyYet, ApiError):
            return False
        return False

    @staticmethod
    def resolve_port(port, cspec):
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for p in cspec.get("ports") or []:
            if p.get("name") == port:
                return p["containerPort"]
        raise OSError(f"unknown named port {port}")

    def shutdown(self):
        log("kubelet: stopping; terminating pod processes")
        for w in list(self.workers.values()):
            if w.ident is not None:
                w.join(timeout=10)


def read_cluster_env(state_dir):
    """STATE_DIR/cluster.env (KEY=VALUE lines written by up.sh); {} when absent."""
    try:
        with open(os.path.join(state_dir, "cluster.env"), encoding="utf-8") as f:
            return dict(line.strip().split("=", 1) for line in f if "=" in line)
    except FileNotFoundError:
        return {}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--node-name", default=os.environ.get("MGO_NODE_NAME", "mgo-node"))
    args = ap.parse_args()
    api = KubeApi.from_kubeconfig(args.kubeconfig, timeout=15)
    net = read_cluster_env(args.state_dir)
    block = int(net["NET_BLOCK"]) if net.get("POD_NETWORK") == "netns" else None
    k = Kubelet(api, os.path.abspath(args.state_dir), args.node_name, block, net.get("HOST_IP") or "127.0.0.1")
    signal.signal(signal.SIGTERM, lambda *_: (k.stop.set(), k.wake()))
    signal.signal(signal.SIGINT, lambda *_: (k.stop.set(), k.wake()))
    k.run()


if __name__ == "__main__":
    main()
