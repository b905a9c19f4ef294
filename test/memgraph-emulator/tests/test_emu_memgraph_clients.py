"""Memgraph's own clients against the emulator: pymgclient 1.6.0 (mgclient, the C client, underneath) and
gqlalchemy 1.8.0 (Memgraph's OGM, which drives pymgclient with autocommit on). Each test runs on every emulated
version the other emulator tests use. pymgclient holds the GIL while it waits for the server, which is fine here:
the emulators are separate processes.

pymgclient proposes Bolt 4.4/4.3/4.1/1.0, so these sessions are Bolt 4. With autocommit = False it sends the
queries BEGIN, COMMIT and ROLLBACK (not Bolt's messages); after a FAILURE it sends RESET, which ends any open
transaction, and its connection is READY again."""
import datetime
import os

import pytest

mgclient = pytest.importorskip("mgclient")
gqlalchemy = pytest.importorskip("gqlalchemy")

from gqlalchemy import Memgraph, match  # noqa: E402
from gqlalchemy.exceptions import GQLAlchemyDatabaseError  # noqa: E402
from gqlalchemy.models import Node as GNode, Relationship as GRel, Path as GPath  # noqa: E402

from emu_testkit import free_port, wait_until  # noqa: E402

VERSIONS = ["2.21.0", "3.0.0", "3.4.0", "3.5.0", "3.12.0"]
per_version = pytest.mark.parametrize("version", VERSIONS)
# gqlalchemy warns that no model class is declared for the labels it maps; these tests use its generic models
pytestmark = pytest.mark.filterwarnings("ignore::gqlalchemy.exceptions.GQLAlchemySubclassNotFoundWarning")


def vt(version):
    return tuple(int(x) for x in version.split("."))


@pytest.fixture
def connect():
    """connect(emu, autocommit=True) -> a pymgclient connection, closed at teardown."""
    made = []

    def make(e, autocommit=True):
        c = mgclient.connect(host=e.host, port=e.port)
        c.autocommit = autocommit
        made.append(c)
        return c
    yield make
    for c in made:
        try:
            c.close()
        except Exception:
            pass


def rows(conn, query, params=None):
    cur = conn.cursor()
    cur.execute(query, params or {})
    return cur.fetchall()


def columns(conn, query, params=None):
    cur = conn.cursor()
    cur.execute(query, params or {})
    cur.fetchall()
    return [d.name for d in cur.description]


def count(conn, label):
    return rows(conn, "MATCH (n:%s) RETURN count(n) AS c" % label)[0][0]


def fails(conn, query, params=None):
    with pytest.raises(mgclient.DatabaseError) as ei:
        cur = conn.cursor()
        cur.execute(query, params or {})
        cur.fetchall()
    return str(ei.value)


MAX64, MIN64 = 2 ** 63 - 1, -2 ** 63
VALUES = {
    "null": None, "t": True, "f": False, "zero": 0, "small": -16, "i8": -128, "i16": 32767, "i32": -(2 ** 31),
    "max64": MAX64, "min64": MIN64, "fl": 1.5, "negzero": -0.0, "big": 1.7976931348623157e308, "empty": "",
    "uni": "ünïcödé 漢字 🚀", "list": [1, "a", [None, 2.5], []], "map": {"k": {"x": 1}, "l": [True], "": "e"},
    # temporal values travel as PackStream structures; the emulator has no temporal functions or properties
    # (its README), so they are checked as parameters that come back unchanged
    "date": datetime.date(2024, 2, 29), "ltime": datetime.time(23, 59, 58, 999999),
    "ldt": datetime.datetime(1970, 1, 1, 0, 0, 0, 1), "dur": datetime.timedelta(days=-1, seconds=5, microseconds=7),
}


# ---------------------------------------------------------------- pymgclient

@per_version
def test_pymgclient_values_of_every_type(emu, connect, version):
    e = emu(version=version, wal=False)
    c = connect(e)
    names = sorted(VALUES)
    got = rows(c, "RETURN " + ", ".join("$%s AS v_%s" % (n, n) for n in names), VALUES)
    assert len(got) == 1
    for n, v in zip(names, got[0]):
        assert type(v) is type(VALUES[n]) and v == VALUES[n], n
    assert str(got[0][names.index("negzero")]) == "-0.0"
    # literals the server builds itself, including the 64-bit bounds
    assert rows(c, "RETURN 9223372036854775807 AS a, -9223372036854775807 - 1 AS b, 'ü' + 'ß' AS s, "
                   "[1, 2.0, 'x'] AS l, {b: 1, a: [null]} AS m, 7 / 2 AS d, 7.0 / 2 AS q") == [
        (MAX64, MIN64, "üß", [1, 2.0, "x"], {"a": [None], "b": 1}, 3, 3.5)]
    assert columns(c, "RETURN 1 AS `weird name`, 2 AS x") == ["weird name", "x"]
    # stored and read back as properties
    rows(c, "CREATE (:V {i: $i, j: $j, f: $f, s: $s, l: $l, b: $b})",
         {"i": MAX64, "j": MIN64, "f": -2.25, "s": VALUES["uni"], "l": [1, 2, 3], "b": False})
    assert rows(c, "MATCH (v:V) RETURN v.i, v.j, v.f, v.s, v.l, v.b, v.missing") == [
        (MAX64, MIN64, -2.25, VALUES["uni"], [1, 2, 3], False, None)]


@per_version
def test_pymgclient_nodes_relationships_paths(emu, connect, version):
    e = emu(version=version, wal=False)
    c = connect(e)
    (a, r, b, p), = rows(c, "CREATE p = (a:Person:Admin {name: $n})-[r:KNOWS {since: 2020}]->(b:Person {name: 'bob'}) "
                            "RETURN a, r, b, p", {"n": "alice"})
    assert isinstance(a, mgclient.Node) and a.labels == {"Person", "Admin"} and a.properties == {"name": "alice"}
    assert isinstance(r, mgclient.Relationship) and r.type == "KNOWS" and r.properties == {"since": 2020}
    assert (r.start_id, r.end_id) == (a.id, b.id) and a.id != b.id
    assert isinstance(p, mgclient.Path) and [n.id for n in p.nodes] == [a.id, b.id]
    assert [x.id for x in p.relationships] == [r.id] and p.relationships[0].type == "KNOWS"
    # a path walked against the relationship's direction
    (q,), = rows(c, "MATCH q = (x {name: 'bob'})<-[:KNOWS]-(y) RETURN q")
    assert [n.properties["name"] for n in q.nodes] == ["bob", "alice"]
    assert (q.relationships[0].start_id, q.relationships[0].end_id) == (a.id, b.id)
    assert rows(c, "MATCH (n:Person) RETURN n.name ORDER BY n.name DESC") == [("bob",), ("alice",)]
    assert rows(c, "MATCH (n) RETURN labels(n) AS l ORDER BY size(l)") == [(["Person"],), (["Person", "Admin"],)]


@per_version
def test_pymgclient_autocommit_off_commit_and_rollback(emu, connect, version):
    e = emu(version=version, wal=False)
    tx = connect(e, autocommit=False)   # pymgclient sends the query BEGIN before the first execute
    other = connect(e)
    rows(tx, "CREATE (:T {v: 1})")
    assert tx.status == mgclient.CONN_STATUS_IN_TRANSACTION
    assert count(tx, "T") == 1 and count(other, "T") == 0   # uncommitted: only its own transaction sees it
    tx.rollback()                        # the query ROLLBACK
    assert tx.status == mgclient.CONN_STATUS_READY
    assert count(other, "T") == 0
    rows(tx, "CREATE (:T {v: 2})")
    rows(tx, "CREATE (:T {v: 3})")
    tx.commit()                          # the query COMMIT
    assert rows(other, "MATCH (t:T) RETURN t.v ORDER BY t.v") == [(2,), (3,)]
    # a failure inside the transaction: pymgclient RESETs, Memgraph ends the transaction, the connection is READY
    rows(tx, "CREATE (:T {v: 4})")
    assert "Division by zero" in fails(tx, "RETURN 1 / 0 AS x")
    assert tx.status == mgclient.CONN_STATUS_READY
    assert rows(tx, "MATCH (t:T) RETURN t.v ORDER BY t.v") == [(2,), (3,)]
    tx.commit()
    assert count(other, "T") == 2


@per_version
def test_pymgclient_transaction_queries_and_their_errors(emu, connect, version):
    e = emu(version=version, wal=False)
    c = connect(e)        # autocommit: the client passes BEGIN/COMMIT/ROLLBACK through as plain queries
    other = connect(e)
    assert columns(c, "BEGIN") == []
    rows(c, "CREATE (:Q)")
    assert count(c, "Q") == 1 and count(other, "Q") == 0
    assert rows(c, "COMMIT") == []
    assert count(other, "Q") == 1
    rows(c, " begin\n")    # trimmed and case-insensitive, as Memgraph compares them
    rows(c, "CREATE (:Q)")
    rows(c, "rollback")
    assert count(other, "Q") == 1
    # Memgraph's ExplicitTransactionUsageException texts (src/query/interpreter.cpp)
    assert fails(c, "COMMIT") == "No current transaction to commit."
    assert fails(c, "ROLLBACK") == "No current transaction to rollback."
    rows(c, "BEGIN")
    rows(c, "CREATE (:Q)")
    assert fails(c, "BEGIN") == "Nested transactions are not supported."
    # the client's RESET after the failure ended the transaction: its write is gone and nothing is open
    assert count(c, "Q") == 1
    assert fails(c, "COMMIT") == "No current transaction to commit."
    # "BEGIN;" is not the word BEGIN: it goes to the Cypher parser and fails there
    assert "BEGIN" in fails(c, "BEGIN;")
    # mixing: a transaction opened by the query is seen by pymgclient's own COMMIT (autocommit off)
    tx = connect(e, autocommit=False)
    rows(tx, "CREATE (:Q)")
    assert fails(tx, "BEGIN") == "Nested transactions are not supported."   # pymgclient's BEGIN was first
    assert count(other, "Q") == 1


@per_version
def test_pymgclient_errors_then_recovery_on_the_same_connection(emu, connect, version):
    e = emu(version=version, wal=False)
    c = connect(e)
    msg = fails(c, "THIS IS NOT CYPHER")
    assert msg.startswith("line 1:0 mismatched input 'THIS'")
    assert rows(c, "RETURN 1 AS x") == [(1,)]
    assert fails(c, "RETURN $missing AS x") == "Parameter $missing not provided."
    assert rows(c, "RETURN $p AS x", {"p": 2}) == [(2,)]
    assert "Division by zero" in fails(c, "UNWIND [1, 0] AS d RETURN 1 / d")   # fails at PULL, mid-stream
    assert rows(c, "UNWIND range(1, 3) AS x RETURN x") == [(1,), (2,), (3,)]
    assert fails(c, "SET REPLICATION ROLE TO MAIN") == "Couldn't set replication role to main!"
    assert rows(c, "SHOW REPLICATION ROLE") == [("main",)]
    assert c.status == mgclient.CONN_STATUS_READY


@per_version
def test_pymgclient_conflicting_transactions(emu, connect, version):
    e = emu(version=version, wal=False)
    rows(connect(e), "CREATE (:Counter {v: 0})")
    a, b = connect(e, autocommit=False), connect(e, autocommit=False)
    rows(a, "MATCH (c:Counter) SET c.v = 1")
    msg = fails(b, "MATCH (c:Counter) SET c.v = 2")
    # TransactionSerializationException (src/query/exceptions.hpp), re-worded in 3.1
    assert msg == ("Cannot resolve conflicting transactions. Retry this transaction when the conflicting transaction "
                   "is finished. For more details, visit https://memgraph.com/docs" if vt(version) >= (3, 1) else
                   "Cannot resolve conflicting transactions. You can retry this transaction when the conflicting "
                   "transaction is finished")
    a.commit()
    rows(b, "MATCH (c:Counter) SET c.v = c.v + 10")   # the retry after the other transaction finished
    b.commit()
    assert rows(connect(e), "MATCH (c:Counter) RETURN c.v") == [(11,)]


def make_pair(emu, version):
    """A MAIN with WAL and one SYNC replica registered as `r-1`; returns (main, replica, replication port)."""
    main = emu("m", version=version)
    rep = emu("r", version=version)
    port = free_port()
    rep.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % port)
    main.q("REGISTER REPLICA `r-1` SYNC TO '127.0.0.1:%d'" % port)
    return main, rep, port


@per_version
def test_pymgclient_replication_queries_and_columns(emu, connect, version):
    main, rep, port = make_pair(emu, version)
    m, r = connect(main), connect(rep)
    assert columns(m, "SHOW REPLICATION ROLE") == ["replication role"]
    assert rows(m, "SHOW REPLICATION ROLE") == [("main",)] and rows(r, "SHOW REPLICATION ROLE") == [("replica",)]
    rows(m, "CREATE (:Fact {v: 42})")
    cur = m.cursor()
    cur.execute("SHOW REPLICAS")
    got = cur.fetchall()
    assert [d.name for d in cur.description] == ["name", "socket_address", "sync_mode", "system_info", "data_info"]
    (name, address, mode, system_info, data_info), = got
    assert (name, address, mode, system_info) == ("r-1", "127.0.0.1:%d" % port, "sync", None)
    wait_until(lambda: rows(m, "SHOW REPLICAS")[0][4]["memgraph"]["status"] == "ready", what="replica ready")
    info = rows(m, "SHOW REPLICAS")[0][4]["memgraph"]
    assert sorted(info) == ["behind", "status", "ts"] and info["behind"] == 0 and info["ts"] > 0
    assert rows(r, "MATCH (f:Fact) RETURN f.v") == [(42,)]
    assert fails(r, "CREATE (:Nope)").startswith("Write quer")
    assert rows(r, "RETURN 1") == [(1,)]
    # replication queries are refused inside an explicit transaction opened by the query BEGIN
    rows(m, "BEGIN")
    refusal = fails(m, "SHOW REPLICAS")
    assert refusal.startswith("Managing replication is not allowed in multicommand transactions." if
                              vt(version) >= (3, 1) else "Replication clause not allowed in multicommand transactions.")
    assert rows(m, "SHOW REPLICATION ROLE") == [("main",)]   # after the client's RESET, outside the transaction
    rows(m, "DROP REPLICA `r-1`")
    assert rows(m, "SHOW REPLICAS") == []


@per_version
def test_pymgclient_snapshots(emu, connect, version):
    v = vt(version)
    e = emu(version=version)
    c = connect(e)
    rows(c, "CREATE (:S {i: 1})")
    cur = c.cursor()
    cur.execute("CREATE SNAPSHOT")
    got = cur.fetchall()
    if v >= (3, 5):
        assert [d.name for d in cur.description] == ["path"] and len(got) == 1 and os.path.exists(got[0][0])
    else:
        assert got == [] and cur.description in (None, [])
    snapdir = os.path.join(e.data_dir, "snapshots")
    assert any("_timestamp_" in f for f in os.listdir(snapdir))
    if v >= (2, 22):
        cur.execute("SHOW SNAPSHOTS")
        listed = cur.fetchall()
        assert [d.name for d in cur.description] == ["path", "timestamp", "creation_time", "size"]
        files = [x for x in listed if x[1] != 0]   # 2.22-3.4 add a row for the next periodic snapshot
        assert len(files) == 1 and files[0][0].startswith(snapdir) and isinstance(files[0][1], int)
    else:
        assert fails(c, "SHOW SNAPSHOTS").startswith("line 1:")
    # refused inside an explicit transaction (CreateSnapshotInMulticommandTxException), at RUN
    tx = connect(e, autocommit=False)
    rows(tx, "CREATE (:S {i: 2})")
    refusal = fails(tx, "CREATE SNAPSHOT")
    if v >= (3, 1):
        assert refusal.startswith("Creating snapshots is not allowed in multicommand transactions.")
        assert refusal.endswith(" For more details, visit https://memgraph.com/docs")
    else:
        assert refusal == "Snapshot cannot be created in multicommand transactions."
    assert count(c, "S") == 1   # the failure ended that transaction


# ---------------------------------------------------------------- gqlalchemy

def gql(e):
    return Memgraph(host=e.host, port=e.port)


@per_version
def test_gqlalchemy_values_and_graph_objects(emu, version):
    e = emu(version=version, wal=False)
    db = gql(e)
    got = list(db.execute_and_fetch("RETURN $i AS i, $j AS j, $f AS f, $s AS s, $n AS n, $l AS l, $m AS m, $d AS d",
                                    {"i": MAX64, "j": MIN64, "f": 0.1, "s": VALUES["uni"], "n": None,
                                     "l": VALUES["list"], "m": VALUES["map"], "d": VALUES["date"]}))
    assert got == [{"i": MAX64, "j": MIN64, "f": 0.1, "s": VALUES["uni"], "n": None, "l": VALUES["list"],
                    "m": VALUES["map"], "d": VALUES["date"]}]
    db.execute("CREATE (:City {name: 'Zagreb'})-[:ROAD {km: 300}]->(:City {name: 'Split'})")
    rec, = db.execute_and_fetch("MATCH p = (a:City)-[r:ROAD]->(b:City) RETURN a, r, b, p")
    a, r, b, p = rec["a"], rec["r"], rec["b"], rec["p"]
    assert isinstance(a, GNode) and a._labels == {"City"} and a.name == "Zagreb"
    assert isinstance(r, GRel) and r._type == "ROAD" and r.km == 300
    assert (r._start_node_id, r._end_node_id) == (a._id, b._id)
    assert isinstance(p, GPath) and [n.name for n in p._nodes] == ["Zagreb", "Split"]
    assert [x._type for x in p._relationships] == ["ROAD"]
    # the query builder
    names = [x["name"] for x in match(connection=db).node(labels="City", variable="c").return_({"c.name": "name"})
             .order_by("name").execute()]
    assert names == ["Split", "Zagreb"]


@per_version
def test_gqlalchemy_transaction_queries_errors_and_recovery(emu, version):
    e = emu(version=version, wal=False)
    db = gql(e)
    watcher = gql(e)
    watcher._get_cached_connection()
    count_q = "MATCH (n:G) RETURN count(n) AS c"
    # gqlalchemy keeps one cached connection with autocommit on, so the queries act on one Memgraph session
    db.execute("BEGIN")
    db.execute("CREATE (:G)")
    assert next(db.execute_and_fetch(count_q))["c"] == 1
    assert next(watcher.execute_and_fetch(count_q))["c"] == 0
    db.execute("COMMIT")
    assert next(watcher.execute_and_fetch(count_q))["c"] == 1
    db.execute("BEGIN")
    db.execute("CREATE (:G)")
    db.execute("ROLLBACK")
    assert next(watcher.execute_and_fetch(count_q))["c"] == 1
    with pytest.raises(GQLAlchemyDatabaseError) as ei:
        db.execute("COMMIT")
    assert "No current transaction to commit." in str(ei.value)
    with pytest.raises(GQLAlchemyDatabaseError) as ei:
        db.execute("ROLLBACK")
    assert "No current transaction to rollback." in str(ei.value)
    db.execute("BEGIN")
    with pytest.raises(GQLAlchemyDatabaseError) as ei:
        db.execute("BEGIN")
    assert "Nested transactions are not supported." in str(ei.value)
    # execute_and_fetch is a generator: gqlalchemy's error wrapper has returned before the failure arrives
    with pytest.raises(mgclient.DatabaseError) as ei:
        list(db.execute_and_fetch("MATCH (n) RETURN n.x +"))
    assert str(ei.value).startswith("line 1:")
    assert next(db.execute_and_fetch("RETURN 'fine' AS x"))["x"] == "fine"
    with pytest.raises(GQLAlchemyDatabaseError):
        db.execute("SET REPLICATION ROLE TO MAIN")
    assert next(db.execute_and_fetch(count_q))["c"] == 1


@per_version
def test_gqlalchemy_replication_and_snapshots(emu, version):
    main, rep, port = make_pair(emu, version)
    dbm, dbr = gql(main), gql(rep)
    assert list(dbm.execute_and_fetch("SHOW REPLICATION ROLE")) == [{"replication role": "main"}]
    assert list(dbr.execute_and_fetch("SHOW REPLICATION ROLE")) == [{"replication role": "replica"}]
    dbm.execute("CREATE (:Fact {v: 7})")
    (row,) = list(dbm.execute_and_fetch("SHOW REPLICAS"))
    assert list(row) == ["name", "socket_address", "sync_mode", "system_info", "data_info"]
    assert (row["name"], row["socket_address"], row["sync_mode"]) == ("r-1", "127.0.0.1:%d" % port, "sync")
    assert row["data_info"]["memgraph"]["behind"] == 0
    assert list(dbr.execute_and_fetch("MATCH (f:Fact) RETURN f.v AS v")) == [{"v": 7}]
    snap = list(dbm.execute_and_fetch("CREATE SNAPSHOT"))
    assert (list(snap[0]) == ["path"] and os.path.exists(snap[0]["path"])) if vt(version) >= (3, 5) else snap == []
    if vt(version) >= (2, 22):
        listed = [x for x in dbm.execute_and_fetch("SHOW SNAPSHOTS") if x["timestamp"] != 0]
        assert len(listed) == 1 and sorted(listed[0]) == ["creation_time", "path", "size", "timestamp"]


# ---------------------------------------------------------------- the same queries on the wire (RawBolt)

def test_transaction_queries_on_the_wire(emu):
    """What the clients above rely on, byte-level: RUN answers fields [] (qid only inside a transaction), the
    handler runs at PULL, whose summary is only has_more (Interpreter::Prepare returns before filling it), and
    the query BEGIN keeps execution slot 0, so the next query is qid 1 (Bolt's BEGIN message: 0)."""
    from emu_testkit import BoltFailure
    e = emu(wal=False)
    c = e.client()
    assert c.run("BEGIN") == {"fields": []}
    assert c.pull() == ([], {"has_more": False})
    assert c.run("CREATE (:W)")["qid"] == 1
    c.pull()
    assert c.run("COMMIT") == {"fields": [], "qid": 2}
    assert c.pull() == ([], {"has_more": False})
    assert e.q("MATCH (w:W) RETURN count(w) AS c") == [{"c": 1}]
    c.send(0x11, {})   # Bolt BEGIN
    assert c.recv() == (0x70, [{}])
    assert c.run("RETURN 1 AS x")["qid"] == 0
    c.pull()
    assert c.run("BEGIN") == {"fields": [], "qid": 0}   # the interpreter is reset for BEGIN
    with pytest.raises(BoltFailure) as ei:
        c.pull()
    assert (ei.value.code, ei.value.message) == ("Memgraph.ClientError.MemgraphError.MemgraphError",
                                                 "Nested transactions are not supported.")
    c.reset()
    with pytest.raises(BoltFailure) as ei:
        c.query("ROLLBACK")
    assert (ei.value.where, ei.value.message) == ("PULL", "No current transaction to rollback.")


def test_bolt1_ack_failure_keeps_the_transaction_marked_for_rollback(emu):
    """Bolt 1 has no BEGIN message, so mgclient-era clients use the query. ACK_FAILURE leaves the Error state
    without Abort() (src/communication/bolt/v1/states/error.hpp): the transaction survives, and after a failed
    query in it (AbortCommand sets expect_rollback_) COMMIT is refused with Memgraph's text."""
    from emu_testkit import RawBolt
    e = emu(version="2.21.0", wal=False)
    c = RawBolt(e.host, e.port, versions=((1, 0),))
    assert c.version == (1, 0)
    c.send(0x01, "test/1.0", {})
    assert c.recv()[0] == 0x70

    def q(text):
        c.send(0x10, text, {})
        c.send(0x3F)
        run = c.recv()
        if run[0] == 0x7F:
            assert c.recv()[0] == 0x7E   # PULL_ALL ignored
            c.send(0x0E)                 # ACK_FAILURE
            assert c.recv()[0] == 0x70
            return run[1][0]["message"]
        records = []
        while True:
            tag, f = c.recv()
            if tag == 0x71:
                records.append(f[0])
                continue
            if tag == 0x7F:
                c.send(0x0E)
                assert c.recv()[0] == 0x70
                return f[0]["message"]
            return records
    assert q("BEGIN") == []
    assert q("CREATE (:K)") == []
    assert q("BEGIN") == "Nested transactions are not supported."   # leaves the transaction as it was
    assert q("MATCH (k:K) RETURN count(k)") == [[1]]
    assert q("RETURN 1 / 0").startswith("Division by zero")
    assert q("COMMIT") == ("Transaction can't be committed because there was a previous error. Please invoke a "
                           "rollback instead.")
    assert q("ROLLBACK") == []
    assert q("MATCH (k:K) RETURN count(k)") == [[0]]
    assert q("COMMIT") == "No current transaction to commit."
    c.close()
