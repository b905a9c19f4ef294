"""The official neo4j Python driver (5.28) as a real client of the emulator."""
import pytest
from neo4j import GraphDatabase, basic_auth
from neo4j.exceptions import ClientError, TransientError
from neo4j.graph import Node, Relationship, Path


@pytest.fixture
def driver_for():
    made = []

    def make(e, auth=None):
        d = GraphDatabase.driver("bolt://%s:%d" % (e.host, e.port), auth=auth, connection_timeout=5,
                                 max_transaction_retry_time=2)
        made.append(d)
        return d
    yield make
    for d in made:
        d.close()


def test_driver_session_run_params_and_value_types(emu, driver_for):
    e = emu(wal=False)
    d = driver_for(e)
    d.verify_connectivity()
    info = d.get_server_info()
    assert info.agent == "Neo4j/v5.11.0 compatible graph database server - Memgraph"
    assert info.protocol_version == (5, 2)
    with d.session() as s:
        rec = s.run("RETURN $i AS i, $f AS f, $s AS s, $b AS b, $n AS n, $l AS l, $m AS m",
                    i=-(2 ** 40), f=1.5, s="ünïcode", b=False, n=None, l=[1, "a", [2]], m={"k": {"x": 1}}).single()
        assert rec.data() == {"i": -(2 ** 40), "f": 1.5, "s": "ünïcode", "b": False, "n": None,
                              "l": [1, "a", [2]], "m": {"k": {"x": 1}}}
        result = s.run("CREATE p = (a:Person {name: $n})-[r:KNOWS {since: 2020}]->(b:Person {name: 'bob'}) "
                       "RETURN a, r, b, p", n="alice")
        rec = result.single()
        summary = result.consume()
        assert isinstance(rec["a"], Node) and rec["a"]["name"] == "alice" and rec["a"].labels == {"Person"}
        assert isinstance(rec["r"], Relationship) and rec["r"].type == "KNOWS" and rec["r"]["since"] == 2020
        assert rec["r"].start_node.element_id == rec["a"].element_id
        assert isinstance(rec["p"], Path) and len(rec["p"]) == 1
        assert summary.counters.nodes_created == 2 and summary.counters.relationships_created == 1
        assert summary.query_type == "w"
        names = [r["name"] for r in s.run("MATCH (p:Person) RETURN p.name AS name ORDER BY name")]
        assert names == ["alice", "bob"]


def test_driver_transactions(emu, driver_for):
    e = emu(wal=False)
    d = driver_for(e)
    with d.session() as s:
        with s.begin_transaction() as tx:
            tx.run("CREATE (:T {v: 1})")
            assert tx.run("MATCH (n:T) RETURN count(n) AS c").single()["c"] == 1
            tx.rollback()
        assert s.run("MATCH (n:T) RETURN count(n) AS c").single()["c"] == 0

        def work(tx, v):
            tx.run("CREATE (:T {v: $v})", v=v)
            return tx.run("MATCH (n:T) RETURN sum(n.v) AS s").single()["s"]
        assert s.execute_write(work, 5) == 5
        assert s.execute_read(lambda tx: tx.run("MATCH (n:T) RETURN n.v AS v").single()["v"]) == 5
        records, summary, keys = d.execute_query("UNWIND range(1, 3) AS x RETURN x")
        assert keys == ["x"] and [r["x"] for r in records] == [1, 2, 3]


def test_driver_failure_surfaces_memgraph_code(emu, driver_for):
    e = emu(wal=False)
    d = driver_for(e)
    with d.session() as s:
        with pytest.raises(ClientError) as ei:
            s.run("THIS IS NOT CYPHER").consume()
        assert ei.value.code == "Memgraph.ClientError.MemgraphError.MemgraphError"
        assert s.run("RETURN 1 AS x").single()["x"] == 1  # the driver RESETs and goes on
        with pytest.raises(ClientError) as ei:
            s.run("SET REPLICATION ROLE TO MAIN").consume()
        assert ei.value.message == "Couldn't set replication role to main!"


def test_driver_auth_on(emu, driver_for):
    e = emu(wal=False, env={"MEMGRAPH_USER": "operator", "MEMGRAPH_PASSWORD": "s3cret"})
    good = driver_for(e, basic_auth("operator", "s3cret"))
    with good.session() as s:
        assert s.run("RETURN 'in' AS x").single()["x"] == "in"
    bad = driver_for(e, basic_auth("operator", "wrong"))
    # Memgraph's code is not Neo4j's, so the driver raises a plain ClientError (as with real Memgraph)
    with pytest.raises(ClientError) as ei:
        bad.verify_connectivity()
    assert ei.value.code == "Memgraph.ClientError.Security.Unauthenticated"
    assert ei.value.message == "Authentication failure"
    anon = driver_for(e)
    with pytest.raises(ClientError) as ei:
        anon.verify_connectivity()
    assert ei.value.message == "Authentication failure"


def test_driver_replication_queries(emu, driver_for):
    from emu_testkit import free_port
    main = emu("m")
    rep = emu("r")
    port = free_port()
    with driver_for(rep).session() as s:
        s.run("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % port).consume()
    d = driver_for(main)
    with d.session() as s:
        summary = s.run("REGISTER REPLICA `r-1` SYNC TO '127.0.0.1:%d'" % port).consume()
        assert summary.notifications[0]["title"] == "Replica r-1 is registered."
        s.run("CREATE (:Fact {v: 42})").consume()
        row = s.run("SHOW REPLICAS").single()
        assert row["data_info"]["memgraph"]["behind"] == 0 and row["system_info"] is None
    with driver_for(rep).session() as s:
        assert s.run("MATCH (f:Fact) RETURN f.v AS v").single()["v"] == 42
        with pytest.raises(ClientError) as ei:
            s.run("CREATE (:Nope)").consume()
        assert ei.value.message.startswith("Write queries are forbidden on the replica instance.")


def test_driver_snapshot_error_is_transient(emu, driver_for):
    from emu_testkit import free_port
    e = emu(version="3.4.0", wal=True)
    port = free_port()
    d = driver_for(e)
    with d.session() as s:
        s.run("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % port).consume()
        with pytest.raises(TransientError) as ei:
            s.run("CREATE SNAPSHOT").consume()
        assert ei.value.message == "Failed to create a snapshot. Replica instances are not allowed to create them."


def test_driver_over_tls(emu, tmp_path):
    import subprocess
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    e = emu(wal=False, extra=["--bolt-cert-file=%s" % cert, "--bolt-key-file=%s" % key])
    d = GraphDatabase.driver("bolt+ssc://%s:%d" % (e.host, e.port), auth=None, connection_timeout=5)
    try:
        with d.session() as s:
            assert s.run("RETURN 'tls' AS t").single()["t"] == "tls"
    finally:
        d.close()
    plain = GraphDatabase.driver("bolt://%s:%d" % (e.host, e.port), auth=None, connection_timeout=2)
    try:
        with pytest.raises(Exception):
            plain.verify_connectivity()
    finally:
        plain.close()
