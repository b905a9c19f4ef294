"""Two- and three-instance replication over real TCP between emulator processes (memgraph.md 4-8)."""
import signal
import threading
import time

import pytest

from emu_testkit import BoltFailure, CLIENT_ERROR, free_port, replicas_by_name, wait_until


def make_replica(emu, name, version="3.12.0", **kw):
    r = emu(name, version=version, **kw)
    r.repl_port = free_port()
    r.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % r.repl_port)
    return r


def addr(r):
    return "%s:%d" % (r.host, r.repl_port)


def data_info(main, name):
    return replicas_by_name(main)[name]["data_info"]


def caught_up(main, name):
    info = data_info(main, name).get("memgraph")
    return info and info["behind"] == 0 and info["status"] == "ready" and info


def count(inst):
    return inst.q("MATCH (n) RETURN count(n) AS c")[0]["c"]


def test_register_write_read_and_show_replicas_shape(emu):
    main = emu("main")
    r1 = make_replica(emu, "r1")
    r2 = make_replica(emu, "r2")
    main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))
    main.q("REGISTER REPLICA `r-2` ASYNC TO '%s'" % addr(r2))
    rows = main.q("SHOW REPLICAS")
    assert [r["name"] for r in rows] == ["r1", "r-2"]
    assert rows[0]["socket_address"] == addr(r1)
    assert rows[0]["sync_mode"] == "sync" and rows[1]["sync_mode"] == "async"
    assert rows[0]["system_info"] is None
    assert rows[0]["data_info"] == {"memgraph": {"behind": 0, "status": "ready", "ts": 0}}
    main.q("CREATE (:Person {name: 'alice'})")
    assert r1.q("MATCH (n:Person) RETURN n.name AS name") == [{"name": "alice"}]
    wait_until(lambda: r2.q("MATCH (n:Person) RETURN n.name AS name") == [{"name": "alice"}], what="async data")
    info = wait_until(lambda: caught_up(main, "r-2"), what="r-2 caught up")
    # one write transaction takes two MVCC timestamps (start and commit); reads take one
    assert info["ts"] == 1
    main.q("MATCH (n) RETURN n")
    main.q("CREATE (:Person {name: 'bob'})")
    wait_until(lambda: caught_up(main, "r-2"), what="r-2 caught up again")
    assert data_info(main, "r1")["memgraph"]["ts"] == 4
    assert r1.q("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]


def test_killed_replica_catches_up_after_restart(emu):
    main = emu("main")
    r1 = make_replica(emu, "r1")
    main.q('REGISTER REPLICA r1 ASYNC TO "%s"' % addr(r1))
    main.q("CREATE (:A {i: 1})")
    wait_until(lambda: caught_up(main, "r1"))
    r1.kill()
    for i in range(2, 5):
        main.q("CREATE (:A {i: $i})", {"i": i})
    info = wait_until(lambda: data_info(main, "r1")["memgraph"]["status"] == "invalid" and
                      data_info(main, "r1")["memgraph"], what="replica invalid")
    # 3.1+: cached ts survives, behind goes negative
    assert info["ts"] == 1 and info["behind"] < 0
    r1.start()  # restores REPLICA role, port and the MAIN UUID it follows
    wait_until(lambda: caught_up(main, "r1"), timeout=15, what="catch-up after restart")
    assert r1.q("MATCH (n:A) RETURN n.i AS i ORDER BY i") == [{"i": i} for i in range(1, 5)]


def test_v221_live_show_replicas_of_killed_replica(emu):
    main = emu("main", version="2.21.0", extra=["--storage-snapshot-interval-sec=300"])
    r1 = make_replica(emu, "r1", version="2.21.0")
    main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))
    main.q("CREATE ()")
    r1.kill()
    assert data_info(main, "r1") == {"memgraph": {"ts": 0, "behind": 0, "status": "invalid"}}


def test_sync_replica_down_commits_but_errors(emu):
    for version, text in [
        ("3.9.0", "Replication Exception: At least one SYNC replica has not confirmed committing last transaction. "
                  "Check the status of the replicas using 'SHOW REPLICAS' query."),
        ("3.12.0", "Replication Exception: Failed to replicate to SYNC replica 'r1': replica is not reachable or not "
                   "in sync with the main. Replica will be recovered automatically. Transaction is still committed "
                   "on the main instance and other alive replicas. Check the status of the replicas using "
                   "'SHOW REPLICAS' query."),
    ]:
        main = emu("main" + version, version=version)
        r1 = make_replica(emu, "r1" + version, version=version)
        r2 = make_replica(emu, "r2" + version, version=version)
        main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))
        main.q('REGISTER REPLICA r2 SYNC TO "%s"' % addr(r2))
        r1.kill()
        wait_until(lambda: data_info(main, "r1")["memgraph"]["status"] == "invalid", what="heartbeat notices")
        with pytest.raises(BoltFailure) as ei:
            main.q("CREATE (:X)")
        assert ei.value.where == "PULL"
        assert ei.value.code == CLIENT_ERROR
        assert ei.value.message == text
        assert count(main) == 1
        assert count(r2) == 1
        main.stop()
        r2.stop()


def test_strict_sync_aborts_everywhere(emu):
    for version, text in [
        ("3.5.0", "Replication Exception: At least one STRICT_SYNC replica has not confirmed committing last "
                  "transaction. Transaction will be aborted on all instances. Check the status of the replicas "
                  "using 'SHOW REPLICAS' query."),
        ("3.12.0", "Replication Exception: Failed to replicate to STRICT_SYNC replica 'r1': replica is not reachable "
                   "or not in sync with the main. Replica will be recovered automatically. Transaction was aborted "
                   "on all instances. Check the status of the replicas using 'SHOW REPLICAS' query."),
    ]:
        main = emu("main" + version, version=version)
        r1 = make_replica(emu, "r1" + version, version=version)
        r2 = make_replica(emu, "r2" + version, version=version)
        main.q('REGISTER REPLICA r1 STRICT_SYNC TO "%s"' % addr(r1))
        main.q('REGISTER REPLICA r2 STRICT_SYNC TO "%s"' % addr(r2))
        main.q("CREATE (:Kept)")
        assert count(r1) == 1 and count(r2) == 1
        assert replicas_by_name(main)["r1"]["sync_mode"] == "strict_sync"
        r1.kill()
        wait_until(lambda: data_info(main, "r1")["memgraph"]["status"] == "invalid", what="heartbeat notices")
        with pytest.raises(BoltFailure) as ei:
            main.q("CREATE (:Lost)")
        assert ei.value.message == text and ei.value.where == "PULL"
        assert count(main) == 1
        assert count(r2) == 1
        main.stop()
        r2.stop()


def test_strict_sync_explicit_transaction_fails_on_commit(emu):
    main = emu("main", version="3.10.0")
    r1 = make_replica(emu, "r1", version="3.10.0")
    main.q('REGISTER REPLICA r1 STRICT_SYNC TO "%s"' % addr(r1))
    r1.kill()
    c = main.client()
    c.send(0x11, {})
    assert c.recv()[0] == 0x70
    c.run("CREATE (:T)")
    c.pull()
    c.send(0x12)
    tag, f = c.recv()
    assert tag == 0x7F
    assert f[0]["message"].startswith("Replication Exception: Failed to replicate to STRICT_SYNC replica 'r1'")
    c.reset()
    assert count(main) == 0


def test_async_lag_visible_with_injected_delay(emu):
    main = emu("main")
    r1 = make_replica(emu, "r1", env={"MGO_EMULATOR_REPLICATION_DELAY_MS": "1500"})
    main.q('REGISTER REPLICA r1 ASYNC TO "%s"' % addr(r1))
    main.q("CREATE (:Lag)")
    # ASYNC never waits: the commit returned while the replica (1.5 s per shipment) is still behind
    info = data_info(main, "r1")["memgraph"]
    assert info["behind"] < 0 and info["status"] in ("replicating", "recovery")
    assert count(r1) == 0
    wait_until(lambda: caught_up(main, "r1"), timeout=10, what="lagging replica catches up")
    assert count(r1) == 1


def test_no_wal_no_replication_trap(emu):
    main = emu("main", wal=False, version="3.5.0")
    r1 = make_replica(emu, "r1", version="3.5.0")
    assert "without write-ahead logs this instance is not replicating any data." in main.log()
    main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))
    main.q("CREATE (:Silent)")  # succeeds although the SYNC replica got nothing (a SYNC commit returns after it)
    assert count(r1) == 0
    assert count(main) == 1


def test_failover_promote_and_old_main_diverges(emu):
    a = emu("a")
    b = make_replica(emu, "b")
    c = make_replica(emu, "c")
    a.q('REGISTER REPLICA b SYNC TO "%s"' % addr(b))
    a.q('REGISTER REPLICA c ASYNC TO "%s"' % addr(c))
    a.q("CREATE (:V {i: 1})")
    wait_until(lambda: caught_up(a, "c"))
    # MAIN a is cut off: drop b's link by killing b? No: a goes away, b is promoted.
    a.kill()
    b.q("SET REPLICATION ROLE TO MAIN")
    assert b.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]
    assert b.q("SHOW REPLICAS") == []
    b.q('REGISTER REPLICA c ASYNC TO "%s"' % addr(c))
    b.q("CREATE (:V {i: 2})")
    wait_until(lambda: count(c) == 2, what="c follows the new MAIN")
    # old MAIN returns as MAIN with its replicas (restore-state), writes on its own: split brain
    a.start()
    assert a.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]
    assert {r["name"] for r in a.q("SHOW REPLICAS")} == {"b", "c"}
    with pytest.raises(BoltFailure):
        a.q("CREATE (:V {i: 99})")  # SYNC replica b no longer accepts a: committed locally, error
    assert count(a) == 2
    wait_until(lambda: data_info(a, "c")["memgraph"]["status"] == "invalid", what="c rejects the old MAIN UUID")
    assert count(c) == 2
    # fence: demote a, register on b -> diverged
    a.repl_port = free_port()
    a.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % a.repl_port)
    with pytest.raises(BoltFailure) as ei:
        b.q('REGISTER REPLICA a SYNC TO "%s"' % addr(a))
    assert ei.value.message == "Couldn't register replica a. Error: 3"
    assert ei.value.where == "PULL"
    assert "You cannot register Replica a to this Main because at one point Replica a acted as the Main " \
           "instance. Both the Main and Replica a now hold unique data." in b.log()
    assert "a" not in replicas_by_name(b)
    # re-seed: wipe the data directory, start, demote, register -> full copy
    a.stop()
    import shutil
    shutil.rmtree(a.data_dir)
    a.start()
    assert count(a) == 0
    a.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % a.repl_port)
    b.q('REGISTER REPLICA a SYNC TO "%s"' % addr(a))
    wait_until(lambda: caught_up(b, "a"), what="re-seeded replica caught up")
    assert a.q("MATCH (n:V) RETURN n.i AS i ORDER BY i") == [{"i": 1}, {"i": 2}]


def test_replica_that_was_behind_recovers_after_promotion(emu):
    a = emu("a")
    b = make_replica(emu, "b")
    c = make_replica(emu, "c", env={"MGO_EMULATOR_REPLICATION_DELAY_MS": "200"})
    a.q('REGISTER REPLICA b SYNC TO "%s"' % addr(b))
    a.q('REGISTER REPLICA c ASYNC TO "%s"' % addr(c))
    for i in range(3):
        a.q("CREATE (:W {i: $i})", {"i": i})
    wait_until(lambda: caught_up(a, "c"))
    a.kill()
    b.q("SET REPLICATION ROLE TO MAIN")
    b.q('REGISTER REPLICA c SYNC TO "%s"' % addr(c))
    info = wait_until(lambda: caught_up(b, "c"))
    assert info["ts"] == b.q("SHOW REPLICAS")[0]["data_info"]["memgraph"]["ts"]


def test_replication_state_restored_and_not_restored(emu):
    main = emu("main")
    r1 = make_replica(emu, "r1")
    main.q('REGISTER REPLICA r1 ASYNC TO "%s"' % addr(r1))
    main.restart()
    assert [r["name"] for r in main.q("SHOW REPLICAS")] == ["r1"]
    wait_until(lambda: caught_up(main, "r1"), what="restored client healthy")
    r1.restart()
    assert r1.q("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]
    main.q("CREATE (:After)")
    wait_until(lambda: count(r1) == 1, what="replica restored with the same MAIN UUID")
    r1.stop()
    r1.extra.append("--replication-restore-state-on-startup=false")
    r1.start()
    assert r1.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]
    assert "Replication configuration will NOT be stored." in r1.log()


def test_failed_registration_stays_listed_with_empty_data_info(emu):
    main = emu("main")
    port = free_port()
    with pytest.raises(BoltFailure) as ei:
        main.q('REGISTER REPLICA ghost ASYNC TO "127.0.0.1:%d"' % port)
    assert ei.value.message == "Couldn't register replica ghost. Error: 5"
    assert ei.value.where == "PULL"
    rows = main.q("SHOW REPLICAS")
    assert rows == [{"name": "ghost", "socket_address": "127.0.0.1:%d" % port, "sync_mode": "async",
                     "system_info": None, "data_info": {}}]
    with pytest.raises(BoltFailure) as ei:
        main.q('REGISTER REPLICA ghost ASYNC TO "127.0.0.1:%d"' % port)
    assert ei.value.message == "Couldn't register replica ghost. Error: 1"
    main.q("DROP REPLICA ghost")
    assert main.q("SHOW REPLICAS") == []


def test_register_a_main_fails_in_every_mode(emu):
    main = emu("main", version="3.4.0")
    other = emu("other", version="3.4.0")  # a MAIN has no replication listener
    port = free_port()
    for i, mode in enumerate(["SYNC", "ASYNC"]):
        with pytest.raises(BoltFailure) as ei:
            main.q('REGISTER REPLICA n%d %s TO "127.0.0.1:%d"' % (i, mode, port + i))
        assert ei.value.message == "Couldn't register replica n%d." % i


def test_old_main_heartbeat_rejected_after_uuid_swap(emu):
    a = emu("a")
    b = emu("b")
    r = make_replica(emu, "r")
    a.q('REGISTER REPLICA r ASYNC TO "%s"' % addr(r))
    b.q('REGISTER REPLICA r ASYNC TO "%s"' % addr(r))  # r now follows b
    wait_until(lambda: data_info(a, "r")["memgraph"]["status"] == "invalid", what="a rejected")
    assert "!= current_main_uuid" in r.log()
    b.q("CREATE (:FromB)")
    wait_until(lambda: count(r) == 1)


def test_main_branch_sync_failure_is_a_warning(emu):
    main = emu("main", version="3.13.0")
    r1 = make_replica(emu, "r1", version="3.13.0")
    main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))
    r1.kill()
    wait_until(lambda: data_info(main, "r1")["memgraph"]["status"] == "invalid", what="heartbeat notices")
    c = main.client()
    _, _, summary = c.query("CREATE (:Warned)")
    note = summary["notifications"][0]
    assert note["code"] == "SyncReplicationFailure" and note["severity"] == "WARNING"
    assert note["title"].startswith("Replication Exception: Failed to replicate to SYNC replica 'r1'")
    assert count(main) == 1


def test_async_replica_marked_behind_while_a_shipment_is_in_flight(emu):
    main = emu("main")
    r1 = make_replica(emu, "r1", env={"MGO_EMULATOR_REPLICATION_DELAY_MS": "2000"})
    main.q('REGISTER REPLICA r1 ASYNC TO "%s"' % addr(r1))
    main.q("CREATE (:One)")
    assert data_info(main, "r1")["memgraph"]["status"] == "replicating"
    main.q("CREATE (:Two)")
    info = data_info(main, "r1")["memgraph"]
    assert info["status"] == "invalid" and info["behind"] < 0
    wait_until(lambda: data_info(main, "r1")["memgraph"]["status"] == "recovery", timeout=5, interval=0.02)
    wait_until(lambda: caught_up(main, "r1"), timeout=10)
    assert count(r1) == 2


def test_main_restart_does_not_resend_everything(emu):
    main = emu("main", extra=["--storage-snapshot-retention-count=1"])
    r1 = make_replica(emu, "r1")
    main.q('REGISTER REPLICA r1 ASYNC TO "%s"' % addr(r1))
    main.q("CREATE (:S)")
    main.q("CREATE SNAPSHOT")
    main.q("CREATE (:T)")
    wait_until(lambda: caught_up(main, "r1"))
    main.restart()
    wait_until(lambda: caught_up(main, "r1"))
    assert "recovered from a snapshot sent by MAIN" not in r1.log()
    assert count(r1) == 2


def test_sync_replica_in_recovery_fails_commits_until_ready(emu):
    main = emu("main", version="3.12.0")
    for i in range(3):
        main.q("CREATE (:Old {i: $i})", {"i": i})
    r1 = make_replica(emu, "r1", env={"MGO_EMULATOR_REPLICATION_DELAY_MS": "2000"})
    main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))  # returns before catch-up
    assert data_info(main, "r1")["memgraph"]["status"] == "recovery"
    with pytest.raises(BoltFailure) as ei:
        main.q("CREATE (:During)")
    # a replica in recovery fails the SYNC commit (memgraph.md 5.1); MAIN keeps it
    assert ei.value.message.startswith("Replication Exception: Failed to replicate to SYNC replica 'r1': replica is "
                                       "not reachable or not in sync with the main.")
    assert count(main) == 4  # committed on MAIN anyway
    wait_until(lambda: caught_up(main, "r1"), timeout=15)
    main.q("CREATE (:After)")
    assert count(r1) == 5


def test_demotion_deletes_the_replica_list(emu):
    main = emu("main")
    r1 = make_replica(emu, "r1")
    main.q('REGISTER REPLICA r1 ASYNC TO "%s"' % addr(r1))
    main.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % free_port())
    main.q("SET REPLICATION ROLE TO MAIN")
    assert main.q("SHOW REPLICAS") == []
    main.restart()
    assert main.q("SHOW REPLICAS") == []


@pytest.mark.parametrize("version,register_text,drop_text", [
    ("3.1.0", "Couldn't register replica r2.",
     "Failed to unregister replica due to lack of unique access over the cluster state. Please try again later on."),
    ("3.12.0", "Couldn't register replica r2. Error: 6",
     "Failed to unregister replica due to lack of unique access over the cluster state. Please try again later on."),
])
def test_a_commit_in_flight_holds_the_replication_state_lock(emu, version, register_text, drop_text):
    """3.0+: Interpreter::Commit holds the replication-state lock while it replicates; a demotion, REGISTER and
    DROP only try that lock, so they fail meanwhile (the MAIN stays MAIN) and succeed once the commit is done."""
    main = emu("main", version=version)
    r1 = make_replica(emu, "r1", version=version)
    r2 = make_replica(emu, "r2", version=version)
    main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))
    done = []
    writer = threading.Thread(target=lambda: done.append(main.q("CREATE (:InFlight) RETURN 1 AS one")))
    r1.send_signal(signal.SIGSTOP)
    try:
        writer.start()
        wait_until(lambda: data_info(main, "r1")["memgraph"]["status"] == "replicating",
                   what="the commit waits for the frozen SYNC replica")
        for query, text in [("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % free_port(), "Couldn't set role to replica!"),
                            ('REGISTER REPLICA r2 ASYNC TO "%s"' % addr(r2), register_text),
                            ("DROP REPLICA r1", drop_text)]:
            with pytest.raises(BoltFailure) as ei:
                main.q(query)
            assert ei.value.message == text, query
        assert main.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]
        assert [r["name"] for r in main.q("SHOW REPLICAS")] == ["r1"]
    finally:
        r1.send_signal(signal.SIGCONT)
    writer.join(timeout=30)
    assert done == [[{"one": 1}]]
    main.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % free_port())
    assert main.q("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]


def test_a_write_transaction_open_across_a_demotion_is_refused_at_commit(emu):
    """3.0+: the role is checked again at COMMIT under the replication-state lock: a write transaction that began
    on the MAIN and commits after its demotion is refused and rolled back."""
    main = emu("main")
    c = main.client()
    c.send(0x11, {})
    assert c.recv()[0] == 0x70
    c.run("CREATE (:Open)")
    c.pull()
    main.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % free_port())
    c.send(0x12)
    tag, f = c.recv()
    assert tag == 0x7F
    assert f[0]["message"] == "Cannot commit because instance is not main anymore."
    c.reset()
    assert count(main) == 0


def test_init_file_demotes_a_restarting_main_before_bolt_opens(emu, tmp_path):
    """--init-file runs after data and replication recovery and before the Bolt server binds (src/memgraph.cpp:
    InitFromCypherlFile at "Running init file...", the Bolt ServerT constructed afterwards): a MAIN restarted
    with `SET REPLICATION ROLE TO REPLICA WITH PORT p` in it is a REPLICA for its very first client, with its
    data, its registrations dropped (persisted: the next restart does not bring them back). On an instance
    that is already a REPLICA the line fails ("Couldn't set role to replica!"): logged, the rest of the file
    runs and the instance starts as usual."""
    fence = tmp_path / "fence.cypherl"
    port = free_port()
    fence.write_text("SET REPLICATION ROLE TO REPLICA WITH PORT %d;\n\nCREATE (:AfterTheFailedLine);\n" % port)
    main = emu("main")
    r1 = make_replica(emu, "r1")
    main.q('REGISTER REPLICA r1 SYNC TO "%s"' % addr(r1))
    main.q("CREATE (:Before)")
    main.stop()
    main.extra.append("--init-file=%s" % fence)
    main.start()
    first = main.client()
    assert first.rows("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]
    with pytest.raises(BoltFailure) as err:
        first.query("CREATE (:Refused)")
    assert err.value.code == CLIENT_ERROR and "replica" in err.value.message.lower()
    assert main.q("MATCH (n:Before) RETURN count(n) AS c") == [{"c": 1}]
    # The demoting line succeeded, so the next line ran as a write on a REPLICA and was refused: logged only.
    assert "Exception occurred while executing one line. The rest of the init-file will be run." in main.log()
    assert count(main) == 1
    main.restart()  # already a REPLICA: the line fails, the instance starts all the same, still a REPLICA
    assert main.q("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]
    assert "Couldn't set role to replica!" in main.log()
    main.stop()
    main.extra = [f for f in main.extra if not f.startswith("--init-file")]
    main.start()
    assert main.q("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]  # the demotion was persisted


def test_init_file_demotes_a_fresh_instance_and_a_missing_file_is_ignored(emu, tmp_path):
    """A new (empty) instance would start as a writable MAIN: with the fence line it starts as a REPLICA. A
    missing init file is not an error (Memgraph only traces "Could not find init file")."""
    fence = tmp_path / "fence.cypherl"
    fence.write_text("SET REPLICATION ROLE TO REPLICA WITH PORT %d;\n" % free_port())
    fresh = emu("fresh", extra=["--init-file=%s" % fence])
    assert fresh.q("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]
    other = emu("other", extra=["--init-file=%s" % (tmp_path / "missing.cypherl")])
    assert other.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]
