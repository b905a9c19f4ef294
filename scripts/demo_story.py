"""The story `make demo` tells once the control plane and the operator run (scripts/demo.sh starts this under
test/cluster/with-cluster-dns.sh, so Service and pod DNS names resolve as they would inside the cluster):

  1. an S3 server (versitygw, SigV4 enforced) with a bucket, and a 3-instance MemgraphCluster with one SYNC
     replica and backups to that bucket; wait until it is Ready
  2. an application writes 1000 nodes through the write Service and keeps its connection, as drivers do
  3. the MAIN's Memgraph process is killed: the failover is printed as it happens (status, Events), then how long
     writes were unavailable; the application reads all 1000 back and writes again through the new MAIN
  4. a backup (MemgraphBackup) is taken and restored into a second cluster, which holds the same 1000 nodes

Environment (set by demo.sh): KUBECTL, KUBECONFIG, MGO_DEMO_NS, MGO_DEMO_WORK (a scratch directory),
MGO_STATE_DIR (the control plane's state directory: pod pid files). Exits non-zero when a step does not do what it
says. Needs the neo4j driver (.venv) and curl.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

from neo4j import GraphDatabase

KUBECTL = os.environ["KUBECTL"]
NS = os.environ.get("MGO_DEMO_NS", "demo")
WORK = os.environ["MGO_DEMO_WORK"]
STATE_DIR = os.environ["MGO_STATE_DIR"]
NAME, RESTORED, BACKUP = "mg", "mg-restored", "mg-demo-1"
ACCESS, SECRET, BUCKET = "demoaccess", "demo-Secret-0123456789abcdef", "backups"
ROWS = 1000
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # of the empty CreateBucket body
T0 = time.monotonic()


def say(text):
    print(f"\n==== {text}", flush=True)


def note(text):
    print(f"  {time.monotonic() - T0:5.1f}s  {text}", flush=True)


def kubectl(*args, stdin=None, check=True):
    r = subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True, check=False, timeout=60)
    if check and r.returncode != 0:
        sys.exit(f"kubectl {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def get(kind, name):
    out = subprocess.run([KUBECTL, "get", kind, name, "-n", NS, "-o", "json"], capture_output=True, text=True,
                         check=False, timeout=60)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def condition(status, ctype):
    return next((c for c in status.get("conditions") or [] if c.get("type") == ctype), {})


def wait(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    sys.exit(f"timed out after {timeout}s waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- 1. S3 and the cluster -------------------------------------------------------------------------------

def start_s3():
    gw_bin = subprocess.run(["bash", "tools/versitygw/build.sh"], capture_output=True, text=True,
                            check=True).stdout.strip().splitlines()[-1] + "/versitygw"
    port = free_port()
    root = os.path.join(WORK, "s3")
    os.makedirs(root, exist_ok=True)
    log = open(os.path.join(WORK, "versitygw.log"), "ab")  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen([gw_bin, "--access", ACCESS, "--secret", SECRET, "--port", f"127.0.0.1:{port}",
                             "posix", root], stdout=log, stderr=subprocess.STDOUT)
    # Listening on the host's loopback; pods reach it at the control plane's host address (netns pod network:
    # NATed to 127.0.0.1, test/cluster/README.md), and so does this process.
    endpoint = f"http://{os.environ.get('MGO_HOST_IP') or '127.0.0.1'}:{port}"

    def bucket_made():
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4",
                            "aws:amz:us-east-1:s3", "--user", f"{ACCESS}:{SECRET}", "-H",
                            f"x-amz-content-sha256: {EMPTY_SHA256}", "-X", "PUT", f"{endpoint}/{BUCKET}"],
                           capture_output=True, text=True, check=False)
        return r.stdout == "200"
    try:
        wait(bucket_made, 30, "versitygw and its bucket", interval=0.2)
    except SystemExit:
        proc.kill()
        raise
    note(f"versitygw {endpoint}, bucket {BUCKET}")
    return proc, endpoint


def cluster_manifest(name, endpoint, **extra):
    return {"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphCluster", "metadata": {"name": name},
            "spec": {"replication": {"syncReplicas": 1, "healthCheckIntervalSec": 1},
                     "backup": {"s3": {"bucket": BUCKET, "endpoint": endpoint, "forcePathStyle": True,
                                       "prefix": "demo", "secretName": "s3-creds"}}, **extra}}


def wait_ready(name, timeout=120):
    last = None

    def ready():
        nonlocal last
        st = get("mgc", name).get("status") or {}
        line = (st.get("phase"), st.get("currentMain"), st.get("ready"), condition(st, "Ready").get("status"))
        if line != last:
            note("phase=%s main=%s ready=%s Ready=%s" % line)
            last = line
        return st if line[0] == "Running" and line[3] == "True" else None
    return wait(ready, timeout, f"{name} Ready", interval=0.2)


# ---- 2. the application ------------------------------------------------------------------------------------

def write_service(name):
    return f"bolt://{name}-write.{NS}.svc.cluster.local:7687"


def run(driver, query, **params):
    """As an application does: a managed transaction, which the driver retries on ServiceUnavailable and
    transient errors (for up to 30 s) - e.g. while the write Service has no endpoint during the failover."""
    with driver.session() as s:
        return s.execute_write(lambda tx: [r.data() for r in tx.run(query, **params)])


# ---- 3. the failover --------------------------------------------------------------------------------------

def kill_main(main):
    with open(os.path.join(STATE_DIR, "pods", f"{NS}_{main}", "memgraph.pid"), encoding="ascii") as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGKILL)
    note(f"SIGKILL to {main}'s memgraph (pid {pid})")


def event_uids():
    return {e["metadata"]["uid"] for e in json.loads(kubectl("get", "events", "-n", NS, "-o", "json"))["items"]}


def watch_failover(old_main, seen):
    last = None

    def done():
        nonlocal last
        st = get("mgc", NAME).get("status") or {}
        ma = condition(st, "MainAvailable")
        line = (st.get("phase"), st.get("currentMain"), ma.get("reason"))
        if line != last:
            note("phase=%s main=%s MainAvailable=%s" % line)
            last = line
        events = json.loads(kubectl("get", "events", "-n", NS, "-o", "json"))["items"]
        for e in sorted(events, key=lambda e: e.get("metadata", {}).get("creationTimestamp", "")):
            uid = e["metadata"]["uid"]
            if uid not in seen and e.get("involvedObject", {}).get("kind") == "MemgraphCluster":
                seen.add(uid)
                if e.get("reason") in ("FailoverStarted", "Promoted", "MainFenced", "ReplicaRegistered"):
                    note(f"Event {e['type']} {e['reason']}: {e.get('message', '')[:150]}")
        lf = st.get("lastFailover") or {}
        return st if st.get("currentMain") != old_main and lf.get("writeUnavailableMs") is not None else None
    return wait(done, 60, "the failover", interval=0.1)


# ---- 4. backup and restore ---------------------------------------------------------------------------------

def take_backup():
    kubectl("apply", "-n", NS, "-f", "-", stdin=json.dumps(
        {"apiVersion": "memgraph.io/v1alpha1", "kind": "MemgraphBackup", "metadata": {"name": BACKUP},
         "spec": {"cluster": NAME}}))
    b = wait(lambda: (b := get("mgb", BACKUP).get("status") or {}).get("phase") in ("Completed", "Failed") and b,
             60, "the backup", interval=0.2)
    if b["phase"] != "Completed":
        sys.exit(f"backup failed: {b}")
    note(f"MemgraphBackup {BACKUP}: Completed on {b['pod']} ({b['role']}), {b['vertices']} nodes, "
         f"{b['sizeBytes']} bytes, s3://{BUCKET}/{b['s3']['key']}, sha256 {b['sha256'][:16]}...")


def main():
    say("1. an S3 server and a MemgraphCluster with one SYNC replica and backups")
    proc, endpoint = start_s3()
    try:
        kubectl("create", "secret", "generic", "s3-creds", "-n", NS, f"--from-literal=accessKeyId={ACCESS}",
                f"--from-literal=secretAccessKey={SECRET}")
        kubectl("apply", "-n", NS, "-f", "-", stdin=json.dumps(cluster_manifest(NAME, endpoint, instances=3)))
        st = wait_ready(NAME)
        old_main = st["currentMain"]
        print(kubectl("get", "mgc", "-n", NS, "-o", "wide"), end="")
        print(kubectl("get", "pods", "-n", NS, "-L", "memgraph.io/role,memgraph.io/readable"), end="")

        say(f"2. an application writes {ROWS} nodes through {write_service(NAME)} and keeps its connection")
        app = GraphDatabase.driver(write_service(NAME), auth=None, connection_timeout=5)
        run(app, "UNWIND range(1, $n) AS i CREATE (:Order {id: i})", n=ROWS)
        note(f"{run(app, 'MATCH (o:Order) RETURN count(o) AS c')[0]['c']} nodes on the MAIN {old_main}")

        say(f"3. the MAIN {old_main} crashes")
        seen = event_uids()
        kill_main(old_main)
        st = watch_failover(old_main, seen)
        lf = st["lastFailover"]
        note(f"failover {lf['from']} -> {lf['to']} ({lf['reason']}, the promoted replica was {lf['mode']} "
             f"and {lf['behind']} behind): writes unavailable for {lf['writeUnavailableMs']} ms")
        count = wait(lambda: run(app, "MATCH (o:Order) RETURN count(o) AS c")[0]["c"], 30,
                     "the application's reconnect")
        run(app, "CREATE (:Order {id: $i})", i=ROWS + 1)
        note(f"the application reconnected by DNS to {st['currentMain']}: {count} nodes read back, and it writes "
             "again")
        if count != ROWS:
            sys.exit(f"expected {ROWS} nodes after the failover, read {count}")
        back = wait(lambda: (s := get("mgc", NAME).get("status") or {}).get("phase") == "Running" and s, 60,
                    f"{old_main} back as a replica")
        note(f"{old_main} restarted fenced and rejoined as a replica: phase {back['phase']}, ready {back['ready']} "
             "(its pod turns Ready at the next startup probe)")
        app.close()

        say(f"4. a backup, restored into a second cluster {RESTORED}")
        take_backup()
        restored = cluster_manifest(RESTORED, endpoint, instances=1, bootstrap={"restore": {"backup": BACKUP}})
        restored["spec"]["replication"] = {"healthCheckIntervalSec": 1}
        kubectl("apply", "-n", NS, "-f", "-", stdin=json.dumps(restored))
        wait_ready(RESTORED)
        with GraphDatabase.driver(write_service(RESTORED), auth=None, connection_timeout=5) as other:
            got = run(other, "MATCH (o:Order) RETURN count(o) AS c")[0]["c"]
        note(f"{RESTORED} holds all {got} nodes written to {NAME} (restoredFrom: "
             f"{(get('mgc', RESTORED).get('status') or {}).get('restoredFrom')})")
        if got != ROWS + 1:
            sys.exit(f"expected {ROWS + 1} nodes in {RESTORED}, read {got}")
        print(kubectl("get", "mgc,mgb", "-n", NS), end="")
        say(f"the story took {time.monotonic() - T0:.1f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
