"""Replication query texts per version and where they appear (memgraph.md 1, 2.1, 2.2, 4.2, 4.3, 6)."""
import pytest

from emu_testkit import BoltFailure, CLIENT_ERROR, free_port


def fail(inst, query):
    with pytest.raises(BoltFailure) as ei:
        inst.q(query)
    assert ei.value.code == CLIENT_ERROR, ei.value
    return ei.value


def test_role_changes_errors_and_notifications(emu):
    e = emu(wal=False)
    assert e.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]
    err = fail(e, "SET REPLICATION ROLE TO MAIN")
    assert (err.where, err.message) == ("PULL", "Couldn't set replication role to main!")
    c = e.client()
    port = free_port()
    meta = c.run("set replication role to replica with port %d" % port)
    assert meta == {"fields": []}
    records, summary = c.pull()
    assert records == [] and summary["type"] == "rw"
    assert summary["notifications"] == [{"code": "SetReplica", "description": "", "severity": "INFO",
                                         "title": "Replica role set to REPLICA."}]
    assert e.q("SHOW REPLICATION ROLE") == [{"replication role": "replica"}]
    err = fail(e, "SET REPLICATION ROLE TO REPLICA WITH PORT %d" % port)
    assert (err.where, err.message) == ("PULL", "Couldn't set role to replica!")
    _, _, summary = c.query("SET REPLICATION ROLE TO MAIN")
    assert summary["notifications"][0]["title"] == "Replica role set to MAIN."


def test_port_checks(emu):
    e = emu(wal=False)
    err = fail(e, "SET REPLICATION ROLE TO REPLICA")
    assert (err.where, err.message) == ("RUN", "Replica must set a port!")
    err = fail(e, "SET REPLICATION ROLE TO MAIN WITH PORT 10000")
    assert (err.where, err.message) == ("RUN", "Main can't set a port!")
    err = fail(e, "SET REPLICATION ROLE TO REPLICA WITH PORT '10000'")
    assert (err.where, err.message) == ("RUN", "Port must be an integer literal!")
    err = fail(e, "SET REPLICATION ROLE TO REPLICA WITH PORT 70000")
    assert (err.where, err.message) == ("PULL", "Port number invalid!")
    assert e.q("SHOW REPLICATION ROLE") == [{"replication role": "main"}]


def test_port_7687_warning_notification(emu):
    import random
    e = emu(wal=False, host="127.%d.%d.%d" % (random.randint(64, 250), random.randint(1, 250), random.randint(1, 250)))
    c = e.client()
    _, _, summary = c.query("SET REPLICATION ROLE TO REPLICA WITH PORT 7687")
    assert summary["notifications"][1] == {
        "code": "ReplicaPortWarning", "description": "", "severity": "WARNING",
        "title": "Be careful the replication port must be different from the memgraph port!"}


@pytest.mark.parametrize("version", ["2.21.0", "3.0.0", "3.4.0", "3.5.0", "3.12.0"])
def test_texts_per_version(emu, version):
    v = tuple(int(x) for x in version.split("."))
    old = v < (3, 1)
    new_reg = v >= (3, 5)
    e = emu("m", version=version, wal=False)
    r = emu("r", version=version, wal=False)
    rport = free_port()
    r.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % rport)
    # on the replica
    assert fail(r, 'REGISTER REPLICA x SYNC TO "127.0.0.1:1"').message == "Replica can't register another replica!"
    err = fail(r, "SHOW REPLICAS")
    assert err.where == "PULL"
    assert err.message == ("Replica can't show registered replicas (it shouldn't have any)!" if old else
                           "Show replicas query should only be run on the main instance.")
    err = fail(r, "DROP REPLICA x")
    assert err.message == ("Replica can't unregister a replica!" if old else
                           "Replica can't unregister a replica! Please rerun the query on main in order to "
                           "unregister a replica from the cluster.")
    err = fail(r, "CREATE (n)")
    assert err.where == "RUN"
    assert err.message == ("Write query forbidden on the replica!" if old else
                           "Write queries are forbidden on the replica instance. Replica instances accept only read "
                           "queries, while the main instance accepts read and write queries. Please retry your query "
                           "on the main instance.")
    assert r.q("MATCH (n) RETURN count(n) AS c") == [{"c": 0}]
    # on the main
    err = fail(e, "DROP REPLICA nobody")
    assert err.where == "PULL"
    assert err.message == ("Couldn't unregister the replica nobody." if old else
                           "Failed to unregister the replica nobody.")
    err = fail(e, 'REGISTER REPLICA bad SYNC TO "a:b:c"')
    assert err.where == "PULL"
    assert err.message == ("Invalid socket address!" if old else
                           "Invalid socket address. The socket address must be a string defining the address and "
                           "port, delimited by a single colon. The address must be valid and the port must be an "
                           "integer.")
    e.q('REGISTER REPLICA `my-rep` SYNC TO "127.0.0.1:%d"' % rport)
    suffix = lambda n: (" Error: %d" % n) if new_reg else ""
    err = fail(e, 'REGISTER REPLICA `my-rep` ASYNC TO "127.0.0.1:1"')
    assert err.message == "Couldn't register replica my-rep." + suffix(1)
    err = fail(e, 'REGISTER REPLICA other ASYNC TO "127.0.0.1:%d"' % rport)
    assert err.message == "Couldn't register replica other." + suffix(2)
    # endpoints compare as unresolved strings: localhost is a different endpoint from 127.0.0.1
    e.q('REGISTER REPLICA third ASYNC TO "localhost:%d"' % rport)
    assert [(x["name"], x["socket_address"]) for x in e.q("SHOW REPLICAS")] == [
        ("my-rep", "127.0.0.1:%d" % rport), ("third", "localhost:%d" % rport)]
    c = e.client()
    c.send(0x11, {})
    c.recv()
    with pytest.raises(BoltFailure) as ei:
        c.run("SHOW REPLICAS")
    msg = ei.value.message
    if old:
        assert msg == "Replication clause not allowed in multicommand transactions."
    else:
        assert msg.startswith("Managing replication is not allowed in multicommand transactions.")
    c.reset()
    if new_reg:
        assert e.q("SHOW REPLICAS")[0]["sync_mode"] == "sync"
    else:
        err = fail(e, 'REGISTER REPLICA s STRICT_SYNC TO "127.0.0.1:1"')
        assert err.where == "RUN" and "STRICT_SYNC" in err.message


def test_register_run_pull_placement_and_notification(emu):
    e = emu(wal=False)
    c = e.client()
    meta = c.run('REGISTER REPLICA r1 SYNC TO "127.0.0.1:%d"' % free_port())
    assert meta == {"fields": []}
    c.send(0x3F, {"n": -1})
    tag, f = c.recv()
    assert tag == 0x7F and f[0] == {"code": CLIENT_ERROR, "message": "Couldn't register replica r1. Error: 5"}
    c.reset()
    err = fail(e, "REGISTER REPLICA r2 SYNC TO $addr")
    assert err.where == "RUN"
    err = fail(e, "REGISTER REPLICA r2 SYNC TO 12")
    assert (err.where, err.message) == ("RUN", "Socket address should be a string literal!")
    err = fail(e, "REGISTER REPLICA r2 TO '127.0.0.1:1'")
    assert err.where == "RUN"


def test_default_port_and_address_as_typed(emu):
    e = emu(wal=False)
    with pytest.raises(BoltFailure):
        e.q('REGISTER REPLICA r SYNC TO "demo-1.demo-hl.default.svc.cluster.local"')
    rows = e.q("SHOW REPLICAS")
    assert rows[0]["socket_address"] == "demo-1.demo-hl.default.svc.cluster.local:10000"


def test_management_port_refusals_on_run(emu):
    e = emu(wal=False, extra=["--management-port=%d" % free_port()])
    for q, text in [
        ('REGISTER REPLICA r SYNC TO "127.0.0.1:1"',
         "Can't register replica manually on instance with coordinator server port."),
        ("DROP REPLICA r", "Can't drop replica manually on instance with coordinator server port."),
        ("SET REPLICATION ROLE TO REPLICA WITH PORT 10000",
         "Can't set role manually on instance with coordinator server port."),
    ]:
        err = fail(e, q)
        assert (err.where, err.message) == ("RUN", text)
    c = e.client()
    c.send(0x66, {}, [], {})
    assert c.recv()[1][0]["message"] == "Cannot fetch routing table from a data instance!"


def test_keywords_and_backticks_as_names(emu):
    e = emu(wal=False)
    with pytest.raises(BoltFailure):
        e.q('REGISTER REPLICA replica ASYNC TO "127.0.0.1:1"')
    with pytest.raises(BoltFailure):
        e.q('REGISTER REPLICA `we``ird` ASYNC TO "127.0.0.1:2"')
    assert [r["name"] for r in e.q("SHOW REPLICAS")] == ["replica", "we`ird"]
    e.q("DROP REPLICA `we``ird`")
    e.q("drop replica replica")
    assert e.q("SHOW REPLICAS") == []
