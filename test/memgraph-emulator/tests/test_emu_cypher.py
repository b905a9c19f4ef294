"""The property-graph subset and the info queries (memgraph.md 1.2, 2.3, 2.4)."""
import pytest

from emu_testkit import BoltFailure, CLIENT_ERROR


@pytest.fixture
def mg(emu):
    return emu(wal=False)


def test_create_match_where_return(mg):
    mg.q("CREATE (:Person {name: 'a', age: 30}), (:Person {name: 'b', age: 20}), (:Dog {name: 'c'})")
    assert mg.q("MATCH (p:Person) WHERE p.age > 25 RETURN p.name AS name") == [{"name": "a"}]
    assert mg.q("MATCH (p:Person) WHERE p.age >= 20 AND NOT p.name = 'a' OR p.name = 'zzz' RETURN p.name") == \
        [{"p.name": "b"}]
    assert mg.q("MATCH (n) RETURN count(n) AS c, count(*) AS s") == [{"c": 3, "s": 3}]
    assert mg.q("MATCH (p:Person) RETURN p.name AS n ORDER BY p.age DESC LIMIT 1") == [{"n": "a"}]
    assert mg.q("MATCH (n {name: $x}) RETURN labels(n) AS l, properties(n) AS p", {"x": "c"}) == \
        [{"l": ["Dog"], "p": {"name": "c"}}]
    assert mg.q("MATCH (n:Person) WHERE n.name IN ['a', 'q'] RETURN n.age AS age") == [{"age": 30}]
    assert mg.q("MATCH (n) WHERE n.age IS NULL RETURN n.name AS n") == [{"n": "c"}]
    assert mg.q("MATCH (n:Person) RETURN n.name STARTS WITH 'a' AS s ORDER BY s") == [{"s": False}, {"s": True}]


def test_literals_expressions_and_unwind(mg):
    assert mg.q("RETURN 1 AS x, 'two' AS y, 3.5 AS z, true AS t, null AS n, [1, 2] AS l, {k: 'v'} AS m") == [
        {"x": 1, "y": "two", "z": 3.5, "t": True, "n": None, "l": [1, 2], "m": {"k": "v"}}]
    assert mg.q("RETURN 7 / 2 AS a, 7 % 3 AS b, 2 + 3 * 4 AS c, -5 AS d, 'a' + 'b' AS e") == [
        {"a": 3, "b": 1, "c": 14, "d": -5, "e": "ab"}]
    assert mg.q("UNWIND range(1, 4) AS i WITH i WHERE i % 2 = 0 RETURN collect(i) AS evens, sum(i) AS s") == [
        {"evens": [2, 4], "s": 6}]
    assert mg.q("RETURN $p AS p", {"p": {"nested": [1, None, "x"]}}) == [{"p": {"nested": [1, None, "x"]}}]
    assert mg.q("RETURN 1 + 2") == [{"1 + 2": 3}]


def test_set_remove_delete_detach_merge(mg):
    mg.q("CREATE (a:N {id: 1})-[:REL]->(b:N {id: 2})")
    mg.q("MATCH (n:N {id: 1}) SET n.flag = true, n:Extra")
    assert mg.q("MATCH (n:Extra) RETURN n.flag AS f, labels(n) AS l") == [{"f": True, "l": ["N", "Extra"]}]
    mg.q("MATCH (n:N {id: 1}) REMOVE n.flag, n:Extra")
    assert mg.q("MATCH (n:N {id: 1}) RETURN keys(n) AS k, labels(n) AS l") == [{"k": ["id"], "l": ["N"]}]
    with pytest.raises(BoltFailure) as ei:
        mg.q("MATCH (n:N {id: 1}) DELETE n")
    assert ei.value.code == CLIENT_ERROR and ei.value.where == "PULL"
    assert "DETACH DELETE" in ei.value.message
    assert mg.q("MATCH (n:N) RETURN count(n) AS c") == [{"c": 2}]
    assert mg.q("MATCH ()-[r:REL]->() RETURN type(r) AS t, count(r) AS c") == [{"t": "REL", "c": 1}]
    mg.q("MATCH (n:N {id: 1}) DETACH DELETE n")
    assert mg.q("MATCH (n) RETURN count(n) AS c") == [{"c": 1}]
    assert mg.q("MATCH ()-[r]->() RETURN count(r) AS c") == [{"c": 0}]
    mg.q("MERGE (n:N {id: 2}) ON MATCH SET n.seen = 1")
    mg.q("MERGE (n:N {id: 3}) ON CREATE SET n.created = 1")
    assert mg.q("MATCH (n:N) RETURN n.id AS id, n.seen AS s, n.created AS c ORDER BY id") == [
        {"id": 2, "s": 1, "c": None}, {"id": 3, "s": None, "c": 1}]
    mg.q("MATCH (n:N {id: 2}) SET n += {x: 1}")
    mg.q("MATCH (n:N {id: 2}) SET n = {only: 'this'}")
    assert mg.q("MATCH (n:N) WHERE n.only = 'this' RETURN properties(n) AS p") == [{"p": {"only": "this"}}]
    mg.q("MATCH (n) DELETE n")
    assert mg.q("MATCH (n) RETURN count(n) AS c") == [{"c": 0}]


def test_syntax_and_semantic_errors_on_run(mg):
    for q in ["FOO BAR", "MATCH (n RETURN n", "CREATE CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE", "CALL mg.procedures() YIELD *",
              "RETURN", "SHOW NONSENSE"]:
        with pytest.raises(BoltFailure) as ei:
            mg.q(q)
        assert ei.value.code == CLIENT_ERROR, q
        assert ei.value.where == "RUN", q
    with pytest.raises(BoltFailure) as ei:
        mg.q("RETURN x")
    assert ei.value.message == "Unbound variable: x."
    with pytest.raises(BoltFailure) as ei:
        mg.q("MATCH (n)")
    assert ei.value.where == "RUN"


def test_runtime_error_rolls_back_autocommit(mg):
    with pytest.raises(BoltFailure) as ei:
        mg.q("CREATE (:Tmp) WITH 1 AS one RETURN 1 / 0 AS boom")
    assert ei.value.where == "PULL" and ei.value.message == "Division by zero."
    assert mg.q("MATCH (n:Tmp) RETURN count(n) AS c") == [{"c": 0}]


def test_show_version_build_and_storage_info(emu):
    for version in ["2.21.0", "3.12.0"]:
        e = emu("v" + version, version=version, wal=False, extra=["--memory-limit=1024"])
        assert e.q("SHOW VERSION") == [{"version": version}]
        assert e.q("SHOW BUILD INFO") == [{"build info": "build_type", "value": "Release"}]
        e.q("CREATE (:A)-[:R]->(:B)")
        rows = e.q("SHOW STORAGE INFO")
        keys = [r["storage info"] for r in rows]
        assert keys == ["name", "vertex_count", "edge_count", "average_degree", "vm_max_map_count", "memory_res",
                        "peak_memory_res", "unreleased_delta_objects", "disk_usage", "memory_tracked",
                        "allocation_limit", "global_isolation_level", "session_isolation_level",
                        "next_session_isolation_level", "storage_mode"]
        info = {r["storage info"]: r["value"] for r in rows}
        assert info["vertex_count"] == 2 and info["edge_count"] == 1 and info["average_degree"] == 1.0
        assert info["allocation_limit"] == "1.00GiB"
        assert info["storage_mode"] == "IN_MEMORY_TRANSACTIONAL"


def test_mvcc_counter_bumped_by_reads(emu):
    from emu_testkit import free_port
    main = emu("m")
    r = emu("r")
    port = free_port()
    r.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % port)
    main.q('REGISTER REPLICA r SYNC TO "127.0.0.1:%d"' % port)
    main.q("CREATE ()")            # start 0, commit 1
    for _ in range(3):
        main.q("MATCH (n) RETURN n")  # 2, 3, 4
    main.q("CREATE ()")            # start 5, commit 6
    assert main.q("SHOW REPLICAS")[0]["data_info"] == {"memgraph": {"behind": 0, "status": "ready", "ts": 6}}


def test_properties_on_edges_disabled_by_default(emu):
    e = emu(wal=False, extra=["--storage-properties-on-edges=false"])
    with pytest.raises(BoltFailure) as ei:
        e.q("CREATE (:A)-[:R {w: 1}]->(:B)")
    assert ei.value.message == "Can't set property because properties on edges are disabled."
    assert ei.value.where == "PULL"
    e.q("CREATE (:A)-[:R]->(:B)")
    assert e.q("MATCH ()-[r]->() RETURN count(r) AS c") == [{"c": 1}]
    assert e.q("MATCH (n) RETURN count(n) AS c") == [{"c": 2}]


def test_readers_do_not_see_open_transactions(mg):
    writer = mg.client()
    writer.send(0x11, {})
    writer.recv()
    writer.run("CREATE (:Pending)")
    writer.pull()
    assert writer.query("MATCH (n:Pending) RETURN count(n) AS c")[1] == [[1]]  # its own write
    assert mg.q("MATCH (n:Pending) RETURN count(n) AS c") == [{"c": 0}]
    writer.send(0x12)
    assert writer.recv()[0] == 0x70
    assert mg.q("MATCH (n:Pending) RETURN count(n) AS c") == [{"c": 1}]


def test_more_functions(mg):
    mg.q("CREATE (:F {s: ' a,b ', n: 2.5})")
    assert mg.q("MATCH (f:F) RETURN exists(f.s) AS e, exists(f.zz) AS z, split(trim(f.s), ',') AS parts, "
                "round(f.n) AS r, floor(f.n) AS fl, toBoolean('TRUE') AS b, substring('hello', 1, 3) AS sub, "
                "replace('aXa', 'X', 'b') AS rep, reverse([1, 2]) AS rev, toUpper('x') AS up") == [
        {"e": True, "z": False, "parts": ["a", "b"], "r": 3.0, "fl": 2.0, "b": True, "sub": "ell", "rep": "aba",
         "rev": [2, 1], "up": "X"}]
    assert mg.q("UNWIND $rows AS row CREATE (w:W) SET w = row RETURN count(w) AS c",
                {"rows": [{"id": 1}, {"id": 2}]}) == [{"c": 2}]
    assert mg.q("MATCH (w:W) RETURN max(w.id) AS m, min(w.id) AS lo, avg(w.id) AS a") == [{"m": 2, "lo": 1, "a": 1.5}]


def test_index_queries_notifications_and_replica_refusal(emu):
    from emu_testkit import free_port
    e = emu(wal=False)
    c = e.client()
    assert c.query("CREATE INDEX ON :Person(id)")[2]["notifications"] == [
        {"code": "CreateIndex", "description": "", "severity": "INFO",
         "title": "Created index on label Person on properties id."}]
    assert c.query("CREATE INDEX ON :Person(id)")[2]["notifications"][0]["title"] == "Index already exists."
    assert c.query("CREATE INDEX ON :Person")[2]["notifications"][0]["title"] == \
        "Created index on label Person on properties ."
    assert c.query("DROP INDEX ON :Person(id)")[2]["notifications"][0]["code"] == "DropIndex"
    assert c.query("DROP INDEX ON :Person(id)")[2]["notifications"][0]["title"] == "Index doesn't exist."
    e.q("SET REPLICATION ROLE TO REPLICA WITH PORT %d" % free_port())
    with pytest.raises(BoltFailure) as ei:
        e.q("CREATE INDEX ON :Person(id)")
    assert (ei.value.where, ei.value.message) == ("RUN", "Query forbidden on the replica!")


def test_show_config_reports_current_flags(emu):
    e = emu(wal=True, version="3.5.0")
    rows = {r["name"]: r for r in e.q("SHOW CONFIG")}
    assert rows["storage_wal_enabled"]["current_value"] == "true"
    assert rows["storage_wal_enabled"]["default_value"] == "false"
    assert rows["storage_snapshot_interval_sec"]["default_value"] == "0"
    assert rows["storage_snapshot_interval_sec"]["current_value"] == "300"
    assert "emulate_version" not in rows


def test_write_write_conflict_is_a_transient_serialization_error(mg):
    from emu_testkit import TRANSIENT_ERROR
    mg.q("CREATE (:Counter {v: 0})")
    a = mg.client()
    a.send(0x11, {})
    a.recv()
    a.run("MATCH (c:Counter) SET c.v = 1")
    a.pull()
    with pytest.raises(BoltFailure) as ei:
        mg.q("MATCH (c:Counter) SET c.v = 2")
    assert ei.value.code == TRANSIENT_ERROR and ei.value.where == "PULL"
    # 3.1+ wording (TransactionSerializationException, src/query/exceptions.hpp); before 3.1: "You can retry this
    # transaction when the conflicting transaction is finished", without a final period
    assert ei.value.message == ("Cannot resolve conflicting transactions. Retry this transaction when the "
                                "conflicting transaction is finished. For more details, visit "
                                "https://memgraph.com/docs")
    a.send(0x13)  # ROLLBACK
    assert a.recv()[0] == 0x70
    mg.q("MATCH (c:Counter) SET c.v = 3")
    assert mg.q("MATCH (c:Counter) RETURN c.v AS v") == [{"v": 3}]
