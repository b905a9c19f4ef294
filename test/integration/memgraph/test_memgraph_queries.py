"""The memgraph module (src/memgraph, through mg_probe) against emulator processes of 2.21, 3.4, 3.7 and 3.12:
role queries and changes, registration in every mode, SHOW REPLICAS after writes, drops, and every error class
produced by real answers (already main/replica, not main, name/endpoint exists, unreachable, diverged, write on
replica, commit-time SYNC/STRICT_SYNC failures), local refusals, reconnects, deadlines and authentication."""
import signal
import time

import pytest

from mgq_helpers import Emu, FakeBolt, Probe, free_port, make_pki, wait_until

OLD, MID, NEW = "2.21.0", "3.7.0", "3.12.0"
VERSIONS = [OLD, MID, NEW]
CLIENT_ERROR = "Memgraph.ClientError.MemgraphError.MemgraphError"


# Fixtures live here rather than in a conftest.py: a conftest in this directory would shadow the
# `from conftest import ...` of other test directories when pytest is given several paths.
@pytest.fixture
def emu(tmp_path):
    """Factory: emu(name, version=..., extra=[...], env={...}) -> started Emu; all SIGKILLed at teardown."""
    made = []

    def make(name="mg", start=True, **kw):
        e = Emu(str(tmp_path), name, **kw)
        made.append(e)
        if start:
            e.start()
        return e

    yield make
    for e in made:
        e.stop(signal.SIGKILL)


@pytest.fixture
def probe():
    """Factory: probe(emu_or_port, *args) -> Probe; each must exit 0 (sanitizers clean) at teardown."""
    made = []

    def make(target, *args):
        p = Probe(target if isinstance(target, int) else target.port, *args)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture
def fake_bolt():
    made = []

    def make(answers):
        f = FakeBolt(answers)
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


def at_least_35(version):
    return tuple(map(int, version.split("."))) >= (3, 5, 0)


def register_error(version, specific):
    """The class a failed REGISTER REPLICA gets: specific on 3.5+ (Error: N), one class for all before."""
    return specific if at_least_35(version) else "UNKNOWN_REGISTER_FAILURE"


def make_replica(emu, probe, name, version):
    """A started instance demoted to REPLICA on a free replication port: (emu, probe, address)."""
    e = emu(name, version=version)
    p = probe(e)
    rport = free_port()
    p.ok("demote", rport)
    assert p.ok("role")["role"] == "replica"
    return e, p, f"127.0.0.1:{rport}"


def wait_in_sync(main_probe, names, timeout=20.0):
    """Polls SHOW REPLICAS until every named replica is ready with behind == 0; returns the parsed rows."""
    def synced():
        reps = main_probe.replicas()
        rows = [reps.get(n) for n in names]
        if all(r and r["memgraph"] and r["memgraph"]["status"] == "ready" and r["memgraph"]["behind"] == 0
               for r in rows):
            return reps
        return None
    return wait_until(synced, timeout=timeout, interval=0.1, what=f"replicas {names} in sync")


@pytest.mark.parametrize("version", VERSIONS)
def test_version_role_and_data(emu, probe, version):
    m = emu("m", version=version)
    p = probe(m)
    v = p.ok("version")["version"]
    assert ("%d.%d.%d" % (v["major"], v["minor"], v["patch"]), v["raw"]) == (version, version)
    assert p.ok("role")["role"] == "main"
    assert p.ok("has_data")["data"] == "empty"
    st = p.ok("storage")["storage"]
    assert (st["vertex_count"], st["edge_count"], st["name"]) == (0, 0, "memgraph")
    assert st["n_keys"] >= 15 and st["storage_mode"] == "IN_MEMORY_TRANSACTIONAL"
    assert p.ok("exec", "CREATE (:A)-[:R]->(:B)")["rows"] == 0
    assert p.ok("exec", "MATCH (n) RETURN n")["rows"] == 2
    assert p.ok("has_data")["data"] == "present"
    st = p.ok("storage")["storage"]
    assert (st["vertex_count"], st["edge_count"]) == (2, 1)
    obs = p.ok("observe")["observed"]
    assert obs == {"reachable": True, "role": "main", "version": [v["major"], v["minor"], v["patch"]],
                   "data": "present", "replicas_known": True, "registrations": [], "last_error": ""}
    assert p.ok("connects")["connects"] == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_role_changes_and_their_errors(emu, probe, version):
    m = emu("m", version=version)
    p = probe(m)
    res = p.fails("ALREADY_MAIN", "promote")
    assert (res["code"], res["message"]) == (CLIENT_ERROR, "Couldn't set replication role to main!")
    rport = free_port()
    p.ok("demote", rport)
    assert p.ok("role")["role"] == "replica"
    res = p.fails("ALREADY_REPLICA", "demote", rport)
    assert res["message"] == "Couldn't set role to replica!"
    p.fails("NOT_MAIN", "replicas")
    p.fails("NOT_MAIN", "register", "r1", "ASYNC", f"127.0.0.1:{free_port()}")
    p.fails("NOT_MAIN", "drop", "r1")
    p.fails("WRITE_ON_REPLICA", "exec", "CREATE (n)")
    obs = p.cmd("observe")
    assert obs["rc"] == "OK", obs
    assert (obs["observed"]["role"], obs["observed"]["reachable"], obs["observed"]["replicas_known"]) == \
        ("replica", True, False)
    p.ok("promote")
    assert p.ok("role")["role"] == "main"
    assert p.replicas() == {}
    # the connection survived every FAILURE: the Bolt client RESET it each time
    assert p.ok("connects")["connects"] == 1


MODE_CASES = [(OLD, "SYNC"), (MID, "SYNC"), (MID, "STRICT_SYNC"), (NEW, "SYNC"), (NEW, "STRICT_SYNC")]


@pytest.mark.parametrize("version,sync_mode", MODE_CASES)
def test_register_modes_lag_and_drop(emu, probe, version, sync_mode):
    m = emu("m", version=version)
    p = probe(m)
    _, p1, addr1 = make_replica(emu, probe, "r1", version)
    _, p2, addr2 = make_replica(emu, probe, "r2", version)
    p.ok("register", "r1", sync_mode, addr1)
    p.ok("register", "r2", "ASYNC", addr2)
    reps = p.replicas()
    assert sorted(reps) == ["r1", "r2"]
    assert (reps["r1"]["socket_address"], reps["r1"]["mode"]) == (addr1, sync_mode)
    assert (reps["r2"]["socket_address"], reps["r2"]["mode"]) == (addr2, "ASYNC")
    assert not reps["r1"]["has_system_info"]  # community: system_info is null
    for i in range(3):
        p.ok("exec", f"CREATE (:N {{i: {i}}})")
    reps = wait_in_sync(p, ["r1", "r2"])
    ts1 = reps["r1"]["memgraph"]["ts"]
    assert ts1 > 0 and reps["r2"]["memgraph"]["ts"] == ts1
    assert [d["db"] for d in reps["r1"]["dbs"]] == ["memgraph"]
    for i in range(3):
        p.ok("exec", f"CREATE (:N {{i: {i + 3}}})")
    reps = wait_until(lambda: (lambda r: r if all(r[n]["memgraph"]["ts"] > ts1 and r[n]["memgraph"]["behind"] == 0
                                                  and r[n]["memgraph"]["status"] == "ready" for n in r) else None)(
        p.replicas()), timeout=20, interval=0.1, what="ts to advance")
    assert reps["r1"]["memgraph"]["ts"] == reps["r2"]["memgraph"]["ts"]
    for rp in (p1, p2):
        wait_until(lambda rp=rp: rp.ok("storage")["storage"]["vertex_count"] == 6, timeout=20, what="replica data")
        assert rp.ok("has_data")["data"] == "present"
    regs = {g["name"]: g for g in p.ok("observe")["observed"]["registrations"]}
    assert (regs["r1"]["mode"], regs["r1"]["state"], regs["r1"]["behind"]) == (sync_mode, 1, 0)  # 1 = READY
    assert regs["r2"]["has_data_info"] and regs["r2"]["ts"] == reps["r2"]["memgraph"]["ts"]
    p.ok("drop", "r2")
    assert sorted(p.replicas()) == ["r1"]
    res = p.fails("REPLICA_NOT_FOUND", "drop", "r2")
    assert "r2" in res["message"]


@pytest.mark.parametrize("version", VERSIONS)
def test_register_failures(emu, probe, version):
    m = emu("m", version=version)
    p = probe(m)
    _, _, addr1 = make_replica(emu, probe, "r1", version)
    _, _, addr2 = make_replica(emu, probe, "r2", version)
    p.ok("register", "r1", "ASYNC", addr1)
    res = p.fails(register_error(version, "NAME_EXISTS"), "register", "r1", "ASYNC", addr2)
    assert res["message"] == ("Couldn't register replica r1. Error: 1" if at_least_35(version)
                              else "Couldn't register replica r1.")
    p.fails(register_error(version, "ENDPOINT_EXISTS"), "register", "other", "ASYNC", addr1)
    # nothing listens there: the UUID swap fails, the name stays listed with data_info {} (memgraph.md 4.2)
    dead = f"127.0.0.1:{free_port()}"
    p.fails(register_error(version, "UNREACHABLE"), "register", "dead", "SYNC", dead)
    reps = p.replicas()
    assert sorted(reps) == ["dead", "r1"]
    assert (reps["dead"]["has_data_info"], reps["dead"]["memgraph"], reps["dead"]["socket_address"]) == \
        (False, None, dead)
    regs = {g["name"]: g for g in p.ok("observe")["observed"]["registrations"]}
    assert (regs["dead"]["has_data_info"], regs["dead"]["state"]) == (False, 0)
    p.fails(register_error(version, "NAME_EXISTS"), "register", "dead", "SYNC", dead)
    p.ok("drop", "dead")
    # refused locally, nothing sent
    p.fails("INVALID_ARG", "register", "a` DROP REPLICA r1", "ASYNC", addr2, rc="EINVAL")
    p.fails("INVALID_ARG", "register", "ok", "ASYNC", addr2 + '" DROP REPLICA r1 //', rc="EINVAL")
    p.fails("INVALID_ARG", "drop", "r1`", rc="EINVAL")
    if at_least_35(version):
        p.ok("register", "r2", "STRICT_SYNC", addr2)
        assert p.replicas()["r2"]["mode"] == "STRICT_SYNC"
    else:
        res = p.fails("UNSUPPORTED", "register", "r2", "STRICT_SYNC", addr2, rc="EUNSUPPORTED")
        assert "3.5" in res["detail"]
    assert sorted(p.replicas()) == (["r1", "r2"] if at_least_35(version) else ["r1"])


@pytest.mark.parametrize("version", VERSIONS)
def test_diverged_old_main(emu, probe, version):
    a = emu("a", version=version)
    pa = probe(a)
    _, pb, addr_b = make_replica(emu, probe, "b", version)
    pa.ok("register", "b", "ASYNC", addr_b)
    pa.ok("exec", "CREATE (:Before)")
    wait_in_sync(pa, ["b"])
    pb.ok("promote")  # failover: b is the new MAIN with a new epoch
    pb.ok("exec", "CREATE (:OnNewMain)")
    pa.ok("exec", "CREATE (:OnOldMain)")  # the old MAIN still accepts writes: unique history
    rport = free_port()
    pa.ok("demote", rport)  # fenced, but its data diverged
    res = pb.fails(register_error(version, "DIVERGED"), "register", "a", "ASYNC", f"127.0.0.1:{rport}")
    if at_least_35(version):
        assert res["message"] == "Couldn't register replica a. Error: 3"
    assert "a" not in pb.replicas()  # a diverged registration is rolled back


@pytest.mark.parametrize("version,mode,cls", [(OLD, "SYNC", "SYNC_REPLICA_FAILED"),
                                              (MID, "SYNC", "SYNC_REPLICA_FAILED"),
                                              (MID, "STRICT_SYNC", "STRICT_SYNC_ABORTED"),
                                              (NEW, "SYNC", "SYNC_REPLICA_FAILED"),
                                              (NEW, "STRICT_SYNC", "STRICT_SYNC_ABORTED")])
def test_commit_time_replication_errors(emu, probe, version, mode, cls):
    m = emu("m", version=version)
    p = probe(m)
    r, _, addr = make_replica(emu, probe, "r1", version)
    p.ok("register", "r1", mode, addr)
    p.ok("exec", "CREATE (:Ok)")
    wait_in_sync(p, ["r1"])
    r.kill()
    res = p.fails(cls, "exec", "CREATE (:AfterKill)")
    assert res["message"].startswith("Replication Exception: "), res
    if version == NEW:
        assert f"Failed to replicate to {mode} replica 'r1'" in res["message"]
    # SYNC: committed on MAIN anyway; STRICT_SYNC: aborted everywhere
    expected = 2 if mode == "SYNC" else 1
    assert p.ok("storage")["storage"]["vertex_count"] == expected


def test_sync_failure_is_a_warning_after_3_12(emu, probe):
    """[main] (emulated as 3.13.0): the write succeeds and the summary carries SyncReplicationFailure."""
    m = emu("m", version="3.13.0")
    p = probe(m)
    r, _, addr = make_replica(emu, probe, "r1", "3.13.0")
    p.ok("register", "r1", "SYNC", addr)
    p.ok("exec", "CREATE (:Ok)")
    wait_in_sync(p, ["r1"])
    r.kill()
    res = p.ok("exec", "CREATE (:AfterKill)")
    assert res["cls"] == "SYNC_REPLICA_FAILED" and "r1" in res["message"], res


@pytest.mark.parametrize("version", [OLD, "3.4.0", NEW])
def test_snapshots(emu, probe, version):
    m = emu("m", version=version)
    p = probe(m)
    p.ok("exec", "CREATE (:S)")
    first = p.ok("snapshot")
    assert not first["nothing_new"]
    second = p.ok("snapshot")
    if version == OLD:
        assert first["path"] == "" and not second["nothing_new"]
        res = p.fails("UNSUPPORTED", "snapshots", rc="EUNSUPPORTED")
        assert "2.22" in res["detail"]
        return
    snaps = p.ok("snapshots")["snapshots"]
    real = [s for s in snaps if not s["next_scheduled"]]
    if version == "3.4.0":
        # 3.3-3.4: nothing changed since the last snapshot -> success, flagged; no path column before 3.5
        assert second["nothing_new"] and first["path"] == ""
        assert len(real) == 1 and "_timestamp_" in real[0]["path"]
        assert [s["timestamp"] for s in snaps if s["next_scheduled"]] == [0]
    else:
        assert not second["nothing_new"]
        assert first["path"] and second["path"] and first["path"] != second["path"]
        assert {s["path"] for s in real} == {first["path"], second["path"]}
        assert len(real) == len(snaps)
    assert all(s["timestamp"] > 0 for s in real)


def test_reconnect_timeout_and_unreachable(emu, probe):
    m = emu("m", version=NEW)
    p = probe(m, "--query-timeout-ms", 800, "--connect-timeout-ms", 800)
    assert p.ok("role")["role"] == "main"
    assert p.ok("connects")["connects"] == 1
    m.restart()
    # a read-only query finds the connection closed and retries once on a fresh one
    assert p.ok("role")["role"] == "main"
    assert p.ok("connects")["connects"] == 2
    m.restart()
    # a query that changes state is never re-sent: the caller learns about the broken connection ...
    res = p.cmd("exec", "CREATE (:X)")
    assert res["cls"] == "CONNECTION" and res["rc"] in ("ECLOSED", "EIO"), res
    assert res["detail"].startswith("CREATE (:X)")
    # ... and the next one reconnects
    p.ok("exec", "CREATE (:X)")
    assert p.ok("connects")["connects"] == 3
    # a frozen peer: a deadline, not a hang, and no retry that would double the wait
    m.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        p.fails("TIMEOUT", "role", rc="ETIMEDOUT")
        assert time.monotonic() - t0 < 3.0
    finally:
        m.send_signal(signal.SIGCONT)
    assert p.ok("role")["role"] == "main"
    m.stop()
    p.fails("CONNECTION", "role", rc="ECONNECT")
    obs = p.cmd("observe")
    assert obs["rc"] == "ECONNECT"
    assert obs["observed"]["reachable"] is False
    assert obs["observed"]["last_error"].startswith("SHOW REPLICATION ROLE: ECONNECT CONNECTION: ")


def test_authentication(emu, probe):
    m = emu("m", version=NEW, env={"MEMGRAPH_USER": "operator", "MEMGRAPH_PASSWORD": "s3cret"})
    bad = probe(m, "--user", "operator", "--password", "wrong")
    res = bad.fails("AUTH", "role", rc="EAUTH")
    assert res["message"] == "Authentication failure"
    good = probe(m, "--user", "operator", "--password", "s3cret")
    assert good.ok("role")["role"] == "main"


@pytest.mark.parametrize("version", [OLD, NEW])
def test_plan_actions_through_mg_rec_execute(emu, probe, version):
    """The executor's path: a plan's PROMOTE/DEMOTE/REGISTER/DROP run with the typed queries (mg_rec.h)."""
    m = emu("m", version=version)
    p = probe(m)
    r = emu("r", version=version)
    pr = probe(r)
    rport = free_port()
    pr.ok("act", "demote", rport)
    assert pr.ok("role")["role"] == "replica"
    pr.fails("ALREADY_REPLICA", "act", "demote", rport)
    p.fails("ALREADY_MAIN", "act", "promote")
    p.ok("act", "register", "mg_1", "SYNC", f"127.0.0.1:{rport}")
    p.fails("INVALID_ARG", "act", "register", "mg-1", "SYNC", f"127.0.0.1:{rport}", rc="EINVAL")
    expect = ("UNSUPPORTED", "EUNSUPPORTED") if version == OLD else ("NAME_EXISTS", "EFAILURE")
    p.fails(expect[0], "act", "register", "mg_1", "STRICT_SYNC", f"127.0.0.1:{rport}", rc=expect[1])
    p.fails("INVALID_ARG", "act", "label", rc="EINVAL")
    regs = p.ok("rec_replicas", 8)["registrations"]
    assert [(g["name"], g["address"], g["mode"]) for g in regs] == [("mg_1", f"127.0.0.1:{rport}", "SYNC")]
    res = p.fails("BAD_RESULT", "rec_replicas", 0, rc="ETOOBIG")
    assert res["registrations"] == []
    assert p.ok("rec_has_data")["data"] == "empty"
    p.ok("exec", "CREATE (:D)")
    assert p.ok("rec_has_data")["data"] == "present"
    p.ok("act", "drop", "mg_1")
    assert p.ok("rec_replicas", 8)["registrations"] == []
    pr.ok("act", "promote")
    assert pr.ok("role")["role"] == "main"


def test_tls_options(emu, probe, tmp_path):
    """TLS settings reach the Bolt client: verified against the test CA, refused without it."""
    ca, crt, key = make_pki(tmp_path / "pki")
    m = emu("m", version=NEW, extra=[f"--bolt-cert-file={crt}", f"--bolt-key-file={key}"])
    good = probe(m, "--tls", "verify", "--ca", ca, "--server-name", "localhost")
    assert good.ok("role")["role"] == "main"
    assert good.ok("version")["version"]["raw"] == NEW
    other_ca, _, _ = make_pki(tmp_path / "other")
    bad = probe(m, "--tls", "verify", "--ca", other_ca, "--server-name", "localhost")
    res = bad.fails("CONNECTION", "role", rc="ETLS")
    assert res["detail"].startswith("connect")
    plain = probe(m)
    assert plain.cmd("role")["cls"] == "CONNECTION"


@pytest.mark.parametrize("version", VERSIONS)
def test_lagging_async_replica_shows_negative_behind(emu, probe, version):
    """A replica that applies shipments slowly: SHOW REPLICAS reports it behind (< 0), then caught up."""
    m = emu("m", version=version)
    p = probe(m)
    r = emu("r", version=version, env={"MGO_EMULATOR_REPLICATION_DELAY_MS": "1500"})
    pr = probe(r)
    rport = free_port()
    pr.ok("demote", rport)
    p.ok("register", "slow", "ASYNC", f"127.0.0.1:{rport}")
    wait_in_sync(p, ["slow"])
    for i in range(3):
        p.ok("exec", f"CREATE (:Lag {{i: {i}}})")
    lagging = wait_until(lambda: (lambda d: d if d["behind"] < 0 else None)(p.replicas()["slow"]["memgraph"]),
                         timeout=10, interval=0.05, what="a negative behind")
    assert lagging["status"] in ("replicating", "recovery", "invalid", "ready"), lagging
    reps = wait_in_sync(p, ["slow"], timeout=30)
    assert reps["slow"]["memgraph"]["ts"] > lagging["ts"]
    wait_until(lambda: pr.ok("storage")["storage"]["vertex_count"] == 3, timeout=20, what="replica data")


def test_observe_after_an_upgrade_restart(emu, probe):
    """The operator's observer (mgo_mg_observe) on a reused connection to an instance restarted with a new
    version: reconnects once and
    reports the new version (no stale cache), with role and data from the same pass."""
    m = emu("m", version=MID)
    p = probe(m)
    p.ok("exec", "CREATE (:Kept)")
    assert p.ok("observe")["observed"]["version"] == [3, 7, 0]
    m.version = NEW
    m.restart()
    obs = p.ok("observe")["observed"]
    assert (obs["version"], obs["role"], obs["data"], obs["reachable"]) == ([3, 12, 0], "main", "present", True)
    assert p.ok("connects")["connects"] == 2
    assert p.ok("observe")["observed"]["version"] == [3, 12, 0]
    assert p.ok("connects")["connects"] == 2


def test_whole_query_deadline_with_a_dripping_peer(fake_bolt, probe):
    """Each row comes within the per-wait bound, the query as a whole does not: MG_ERR_TIMEOUT and a fresh
    connection for the next query."""
    header = ["name", "socket_address", "sync_mode", "system_info", "data_info"]
    row = ["r", "h:1", "sync", None, {"memgraph": {"behind": 0, "status": "ready", "ts": 1}}]
    f = fake_bolt({"SHOW REPLICAS": (header, [row] * 6, 0.2),
                   "SHOW REPLICATION ROLE": (["replication role"], [["main"]], 0.0)})
    p = probe(f.port, "--query-timeout-ms", 500)
    t0 = time.monotonic()
    res = p.fails("TIMEOUT", "replicas", rc="ETIMEDOUT")
    assert time.monotonic() - t0 < 3.0 and "deadline of 500 ms" in res["detail"], res
    assert p.ok("connects")["connected"] is False
    assert p.ok("role")["role"] == "main"
    assert p.ok("connects")["connects"] == 2


def test_odd_answers_end_to_end(fake_bolt, probe):
    """Answers no emulator gives: shuffled columns, odd value types, an unknown role, a licensed system_info."""
    f = fake_bolt({
        "SHOW REPLICAS": (["data_info", "extra", "sync_mode", "socket_address", "system_info", "name"], [
            [{"memgraph": {"behind": -4, "status": "recovery", "ts": 9}, "tenant": {"status": 3}}, 1, "strict_sync",
             "10.0.0.5:10000", {"ts": 3, "behind": None, "status": "ready"}, "a"],
            [{}, None, "future", "10.0.0.6:10000", "odd", "b"],
            [{"memgraph": "ready"}, None, "async", "10.0.0.7:10000", None, "c"]], 0.0),
        "SHOW REPLICATION ROLE": (["replication role"], [["coordinator"]], 0.0),
        "SHOW VERSION": (["version"], [["3.9.1+17~deadbeef-open-source"]], 0.0),
        "SHOW STORAGE INFO": (["value", "storage info"], [[5, "vertex_count"], ["x", "edge_count"]], 0.0),
    })
    p = probe(f.port)
    reps = p.replicas()
    assert (reps["a"]["mode"], reps["a"]["memgraph"]["behind"], reps["a"]["memgraph"]["status"]) == \
        ("STRICT_SYNC", -4, "recovery")
    assert reps["a"]["has_system_info"] and [d["db"] for d in reps["a"]["dbs"]] == ["memgraph", "tenant"]
    assert (reps["b"]["mode_known"], reps["b"]["mode"], reps["b"]["has_data_info"]) == (False, "future", False)
    assert (reps["c"]["has_data_info"], reps["c"]["memgraph"]) == (False, None)
    p.fails("BAD_RESULT", "role", rc="EPARSE")
    assert p.ok("version")["version"] == {"major": 3, "minor": 9, "patch": 1, "raw": "3.9.1+17~deadbeef-open-source"}
    res = p.fails("BAD_RESULT", "has_data", rc="EPARSE")
    assert res["data"] == "unknown"
    res = p.fails("OTHER", "exec", "MATCH (n) RETURN n")
    assert res["message"] == "unknown query"
    assert p.ok("connects")["connects"] == 1


def test_show_replicas_on_2_21_with_a_frozen_replica_is_bounded(emu, probe):
    """v2.21 asks every replica live, without an RPC timeout: a frozen replica blocks SHOW REPLICAS. The query
    deadline turns that into MG_ERR_TIMEOUT; once the replica thaws, the next call reconnects and answers."""
    m = emu("m", version=OLD)
    p = probe(m, "--query-timeout-ms", 1000)
    r, _, addr = make_replica(emu, probe, "r1", OLD)
    p.ok("register", "r1", "ASYNC", addr)
    wait_in_sync(p, ["r1"])
    r.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        p.fails("TIMEOUT", "replicas", rc="ETIMEDOUT")
        assert time.monotonic() - t0 < 5.0
    finally:
        r.send_signal(signal.SIGCONT)
    res = wait_until(lambda: (lambda r: r if r["rc"] == "OK" else None)(p.cmd("replicas")), timeout=20,
                     what="SHOW REPLICAS answering again")
    assert [x["name"] for x in res["replicas"]] == ["r1"]
