"""Snapshots, WAL recovery, traps, signals and the command line (memgraph.md 8, 9, 10)."""
import os
import shutil
import signal
import socket
import subprocess

import pytest

from emu_testkit import BoltFailure, CLIENT_ERROR, EXECUTABLE, TRANSIENT_ERROR, RawBolt, free_port, wait_until


def count(e):
    return e.q("MATCH (n) RETURN count(n) AS c")[0]["c"]


def test_sigkill_recovers_committed_data_from_wal(emu):
    e = emu()
    for i in range(5):
        e.q("CREATE (:K {i: $i})", {"i": i})
    e.q("CREATE SNAPSHOT")
    e.q("MATCH (n:K {i: 0}) SET n.changed = true")
    e.q("CREATE (:K {i: 5})")
    e.kill()
    assert any(n.endswith("_current") for n in os.listdir(os.path.join(e.data_dir, "wal")))
    e.start()
    assert count(e) == 6
    assert e.q("MATCH (n:K {i: 0}) RETURN n.changed AS c") == [{"c": True}]


def test_without_wal_a_kill_loses_writes_since_the_snapshot(emu):
    e = emu(wal=False, extra=["--storage-snapshot-interval-sec=300"])
    e.q("CREATE (:Kept)")
    e.q("CREATE SNAPSHOT")
    e.q("CREATE (:Lost)")
    e.kill()
    e.start()
    assert e.q("MATCH (n) RETURN labels(n) AS l") == [{"l": ["Kept"]}]


def test_wiped_data_directory_gives_empty_instance(emu):
    e = emu()
    e.q("CREATE (:X)")
    e.stop()
    shutil.rmtree(e.data_dir)
    e.start()
    assert count(e) == 0
    assert e.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]


def test_recovery_off_with_durability_moves_files_to_backup(emu):
    e = emu()
    e.q("CREATE (:X)")
    e.q("CREATE SNAPSHOT")
    e.stop()
    e.extra.append("--data-recovery-on-startup=false")
    e.start()
    assert count(e) == 0
    assert os.path.isdir(os.path.join(e.data_dir, ".backup", "snapshots"))
    assert "Since Memgraph was not supposed to recover on startup and durability is enabled, your current " \
           "durability files will likely be overridden." in e.log()


def test_snapshot_on_exit_and_sigterm(emu):
    e = emu(wal=False, extra=["--storage-snapshot-interval-sec=300", "--storage-snapshot-on-exit=true"])
    e.q("CREATE (:Exit)")
    e.stop(signal.SIGTERM)
    assert e.proc is None
    snaps = os.listdir(os.path.join(e.data_dir, "snapshots"))
    assert len(snaps) == 1 and "_timestamp_" in snaps[0]
    e.start()
    assert count(e) == 1


def test_periodic_snapshots_and_retention(emu):
    e = emu(extra=["--storage-snapshot-interval-sec=1", "--storage-snapshot-retention-count=2"])
    snapdir = os.path.join(e.data_dir, "snapshots")
    for i in range(3):
        e.q("CREATE (:P {i: $i})", {"i": i})
        n = i + 1
        wait_until(lambda: os.path.isdir(snapdir) and
                   any(f.endswith("_timestamp_%d" % (2 * n - 1)) for f in os.listdir(snapdir)),
                   timeout=5, what="periodic snapshot %d" % n)
    assert len(os.listdir(snapdir)) == 2
    rows = e.q("SHOW SNAPSHOTS")
    assert [r["timestamp"] for r in rows] == [5, 3]
    assert all(r["path"].startswith(snapdir) and r["size"].endswith("B") for r in rows)


def test_create_snapshot_results_per_version(emu):
    e34 = emu("v34", version="3.4.0")
    c = e34.client()
    meta = c.run("CREATE SNAPSHOT")
    assert meta == {"fields": []}
    assert c.pull()[0] == []
    with pytest.raises(BoltFailure) as ei:
        c.query("CREATE SNAPSHOT")
    assert (ei.value.code, ei.value.message) == (TRANSIENT_ERROR, "Nothing has been written since the last snapshot.")
    rows = e34.q("SHOW SNAPSHOTS")
    assert rows[-1]["timestamp"] == 0 and rows[-1]["path"] == os.path.join(e34.data_dir, "snapshots")
    assert rows[-1]["size"] == "0.00B"
    e35 = emu("v35", version="3.5.0")
    rows = e35.q("CREATE SNAPSHOT")
    assert list(rows[0]) == ["path"] and os.path.exists(rows[0]["path"])
    e35.q("CREATE SNAPSHOT")  # forced again: no "nothing written" error from 3.5
    assert len(e35.q("SHOW SNAPSHOTS")) == 2
    nxt = e35.q("SHOW NEXT SNAPSHOT")
    assert len(nxt) == 1 and list(nxt[0]) == ["path", "creation_time"]
    e221 = emu("v221", version="2.21.0")
    with pytest.raises(BoltFailure) as ei:
        e221.q("SHOW SNAPSHOTS")
    assert ei.value.code == CLIENT_ERROR and ei.value.where == "RUN"
    assert e221.q("CREATE SNAPSHOT") == []


def test_snapshot_on_replica_per_version(emu):
    for version, allowed in [("3.7.1", False), ("3.7.2", True), ("3.8.0", True)]:
        e = emu("r" + version, version=version)
        e.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % free_port())
        if allowed:
            assert len(e.q("CREATE SNAPSHOT")) == 1
        else:
            with pytest.raises(BoltFailure) as ei:
                e.q("CREATE SNAPSHOT")
            assert ei.value.message == "Failed to create a snapshot. Replica instances are not allowed to create them."


def test_recover_snapshot(emu):
    e = emu(version="3.5.0")
    e.q("CREATE (:Snap)")
    path = e.q("CREATE SNAPSHOT")[0]["path"]
    e.q("CREATE (:Later)")
    with pytest.raises(BoltFailure) as ei:
        e.q('RECOVER SNAPSHOT "%s"' % path)
    assert ei.value.message == "Failed to recover a snapshot. Storage is not clean. Try using FORCE."
    e.q('RECOVER SNAPSHOT "%s" FORCE' % path)
    assert e.q("MATCH (n) RETURN labels(n) AS l") == [{"l": ["Snap"]}]


def test_frozen_process_survives_sigstop_sigcont(emu):
    e = emu()
    e.q("CREATE (:Before)")
    e.send_signal(signal.SIGSTOP)
    # the kernel still accepts the TCP connection, but nothing answers: a frozen server, not a dead one
    s = socket.create_connection((e.host, e.port), timeout=2)
    s.sendall(b"\x60\x60\xB0\x17" + bytes.fromhex("00000205") + b"\x00" * 12)
    s.settimeout(0.5)
    with pytest.raises(socket.timeout):
        s.recv(4)
    e.send_signal(signal.SIGCONT)
    s.settimeout(5)
    assert s.recv(4) == bytes.fromhex("00000205")  # the queued handshake is answered after SIGCONT
    s.close()
    assert count(e) == 1
    e.q("CREATE (:After)")
    assert count(e) == 2


def run_cli(args, env=None, timeout=5):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([EXECUTABLE] + args, capture_output=True, text=True, timeout=timeout, env=full_env)


def test_unknown_flag_exits_with_error(tmp_path):
    r = run_cli(["--data-directory=%s" % tmp_path, "--no-such-flag=1"])
    assert r.returncode == 1
    assert "ERROR: unknown command line flag 'no-such-flag'" in r.stderr


def test_wal_without_snapshot_interval_is_fatal_before_3_6(tmp_path):
    r = run_cli(["--data-directory=%s" % tmp_path, "--storage-wal-enabled", "--bolt-port=%d" % free_port()],
                env={"MGO_EMULATE_VERSION": "3.5.0"})
    assert r.returncode == 1
    assert "In order to use write-ahead-logging you must enable periodic snapshots by setting the snapshot " \
           "interval to a value larger than 0!" in r.stderr


def test_flag_forms_and_default_interval_3_6(emu):
    port = free_port()
    e = emu(wal=False, version="3.6.0",
            extra=["--storage-wal-enabled", "--bolt-server-name-for-init", "Neo4j/custom", "--nostorage-snapshot-on-exit",
                   "--memory-limit", "2048"])
    c = RawBolt(e.host, e.port)
    assert c.hello()["server"] == "Neo4j/custom"
    # WAL on with the 3.6 default interval (300 s): replication works
    r = emu("r", wal=False, version="3.6.0")
    r.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % port)
    e.q('REGISTER REPLICA r SYNC TO "127.0.0.1:%d"' % port)
    e.q("CREATE ()")
    assert count(r) == 1
    info = {x["storage info"]: x["value"] for x in e.q("SHOW STORAGE INFO")}
    assert info["allocation_limit"] == "2.00GiB"


def test_version_from_flag_overrides_env(emu):
    e = emu(wal=False, version="3.12.0", extra=["--emulate-version=2.21.0"])
    assert e.q("SHOW VERSION") == [{"version": "2.21.0"}]


def test_log_file(emu, tmp_path):
    log = tmp_path / "logs" / "memgraph.log"
    e = emu(wal=False, extra=["--log-file=%s" % log])
    e.q("RETURN 1")
    assert "Using non-secure Bolt connection (without SSL)." in log.read_text()


def test_starts_with_wal_on_an_empty_data_directory(emu):
    # How long a start takes is measured by bench/emu_startup.py, not asserted here.
    e = emu(start=False, wal=True)
    assert not os.path.exists(e.data_dir)
    e.start()
    assert e.q("RETURN 1 AS one") == [{"one": 1}]
    assert os.path.isdir(e.data_dir)


def test_snapshot_holds_only_committed_data(emu):
    e = emu(version="3.5.0")
    e.q("CREATE (:Committed)")
    c = e.client()
    c.send(0x11, {})
    c.recv()
    c.run("CREATE (:Open)")
    c.pull()
    e.q("CREATE SNAPSHOT")
    e.kill()
    e.start()
    assert e.q("MATCH (n) RETURN labels(n) AS l") == [{"l": ["Committed"]}]


def test_service_link_style_env_crashes_like_stoi(tmp_path):
    r = run_cli(["--data-directory=%s" % tmp_path, "--bolt-address=127.0.0.1"],
                env={"MEMGRAPH_MANAGEMENT_PORT": "tcp://10.0.0.1:10000"})
    assert r.returncode == 134
    assert "std::invalid_argument" in r.stderr


def test_management_port_from_env_makes_instance_ha_managed(emu):
    e = emu(wal=False, env={"MEMGRAPH_MANAGEMENT_PORT": str(free_port())})
    with pytest.raises(BoltFailure) as ei:
        e.q("DROP REPLICA x")
    assert ei.value.message == "Can't drop replica manually on instance with coordinator server port."


def test_bolt_port_env_wins(emu):
    port = free_port()
    e = emu(wal=False, start=False, env={"MEMGRAPH_BOLT_PORT": str(port)})
    e.port_flag = e.port
    e.port = port
    e.start()
    assert e.q("RETURN 1 AS x") == [{"x": 1}]


def test_lock_data_directory_pauses_retention(emu):
    e = emu(version="3.5.0", extra=["--storage-snapshot-retention-count=1"])
    first = e.q("CREATE SNAPSHOT")[0]["path"]
    e.q("LOCK DATA DIRECTORY")
    assert e.q("DATA DIRECTORY LOCK STATUS") == [{"data_directory_lock_status": "locked"}]
    second = e.q("CREATE SNAPSHOT")[0]["path"]
    assert os.path.exists(first) and os.path.exists(second)
    e.q("UNLOCK DATA DIRECTORY")
    assert not os.path.exists(first) and os.path.exists(second)


def test_config_files_and_packaged_defaults(emu, tmp_path):
    conf = tmp_path / "memgraph.conf"
    conf.write_text("# comment\n--storage-properties-on-edges=false\n--bolt-server-name-for-init=Neo4j/fromfile\n")
    e = emu("conf", wal=False, env={"MEMGRAPH_CONFIG": str(conf)})
    c = RawBolt(e.host, e.port)
    assert c.hello()["server"] == "Neo4j/fromfile"
    # the command line wins over the config file (the fixture passes --storage-properties-on-edges=true)
    e.q("CREATE (:A)-[:R {w: 1}]->(:B)")
    # the official image's packaged config: WAL on, interval 300, properties on edges, snapshot on exit
    p = emu("packaged", wal=False, start=False, version="3.5.0", env={"MGO_EMULATOR_PACKAGED_CONFIG": "1"})
    p.extra = ["--log-file="]
    p.start()
    assert "without write-ahead logs" not in p.log()
    p.q("CREATE (:Exit)")
    p.stop()
    assert os.listdir(os.path.join(p.data_dir, "snapshots"))


def test_invalid_flag_values_exit(tmp_path):
    r = run_cli(["--data-directory=%s" % tmp_path, "--log-level=LOUD"])
    assert r.returncode == 1 and "failed validation of new value 'LOUD' for flag 'log_level'" in r.stderr
    r = run_cli(["--data-directory=%s" % tmp_path, "--storage-wal-enabled=maybe"])
    assert r.returncode == 1 and "illegal value 'maybe' specified for bool flag" in r.stderr
    r = run_cli(["--data-directory=%s" % tmp_path, "--bolt-port=abc"])
    assert r.returncode == 1 and "illegal value 'abc' specified for int32 flag" in r.stderr


def test_wal_files_of_killed_runs_are_finalized_and_retained(emu):
    e = emu(extra=["--storage-snapshot-retention-count=1"])
    for round_ in range(3):
        e.q("CREATE (:R {r: $r})", {"r": round_})
        e.kill()
        e.start()
    wal = os.path.join(e.data_dir, "wal")
    assert not any(n.endswith("_current") for n in os.listdir(wal))
    assert count(e) == 3
    e.q("CREATE SNAPSHOT")
    assert os.listdir(wal) == []  # every WAL file is older than the only retained snapshot
    e.kill()
    e.start()
    assert count(e) == 3


def test_sigterm_with_open_sessions_exits_cleanly(emu):
    e = emu(wal=False)
    c = e.client()
    c.query("RETURN 1 AS x")
    proc = e.proc
    e.send_signal(signal.SIGTERM)
    assert proc.wait(5) == 0
    assert "Traceback" not in e.log()
