"""Bolt as Memgraph speaks it (bolt.md 1.3, 2, 3, 5.3, 6.2) checked on the wire."""
import socket

import pytest

from emu_testkit import BoltFailure, CLIENT_ERROR, RawBolt
from mgemu import packstream
from mgemu.packstream import Structure

SERVER = "Neo4j/v5.11.0 compatible graph database server - Memgraph"


def handshake(e, slots):
    s = socket.create_connection((e.host, e.port), timeout=5)
    s.sendall(b"\x60\x60\xB0\x17" + slots)
    s.settimeout(3)
    try:
        data = s.recv(4)
    except ConnectionResetError:
        data = b""
    s.close()
    return data


C_CLIENT = bytes.fromhex("00000205" "00020404" "00000104" "00000001")
MGCLIENT = bytes.fromhex("00000404" "00000304" "00000104" "00000001")
JS_DRIVER = bytes.fromhex("00070705" "00020404" "00000104" "00000003")


def test_handshake_version_selection_per_release(emu):
    e311 = emu("v311", version="3.11.0", wal=False)
    e312 = emu("v312", version="3.12.0", wal=False)
    assert handshake(e311, C_CLIENT) == bytes.fromhex("00000205")
    assert handshake(e312, C_CLIENT) == bytes.fromhex("00000205")
    assert handshake(e311, MGCLIENT) == bytes.fromhex("00000304")
    assert handshake(e312, MGCLIENT) == bytes.fromhex("00000404")
    assert handshake(e311, JS_DRIVER) == bytes.fromhex("00000205")
    # range 4.4..4.2 on 3.11 lands on 4.3
    assert handshake(e311, bytes.fromhex("00020404") + b"\x00" * 12) == bytes.fromhex("00000304")
    # 5.0/5.1 only: no match, Memgraph closes without a reply
    assert handshake(e312, bytes.fromhex("00000005" "00000105") + b"\x00" * 8) == b""
    # an all-zero slot stops the scan even if a later slot would match
    assert handshake(e312, b"\x00" * 4 + bytes.fromhex("00000205") + b"\x00" * 8) == b""
    # manifest v1 is not understood: skipped, the next slot wins
    assert handshake(e312, bytes.fromhex("000001FF" "00000104") + b"\x00" * 8) == bytes.fromhex("00000104")
    # exact 1.0 and 4.0
    assert handshake(e312, bytes.fromhex("00000001") + b"\x00" * 12) == bytes.fromhex("00000001")
    assert handshake(e312, bytes.fromhex("00000004") + b"\x00" * 12) == bytes.fromhex("00000004")


def test_bad_magic_closes_silently(emu):
    e = emu(wal=False)
    s = socket.create_connection((e.host, e.port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(3)
    assert s.recv(4) == b""
    s.close()


def test_hello_without_user_agent_closes(emu):
    e = emu(wal=False)
    for versions in [((5, 2),), ((4, 3),)]:
        c = RawBolt(e.host, e.port, versions=versions)
        c.send(0x01, {"scheme": "none"})
        assert c.closed()


def test_hello_logon_metadata_and_5x_requires_logon(emu):
    e = emu(wal=False)
    c = RawBolt(e.host, e.port, versions=((5, 2),))
    assert c.version == (5, 2)
    c.send(0x01, {"user_agent": "t/1", "scheme": "basic", "principal": "x", "credentials": "y"})
    tag, f = c.recv()
    assert tag == 0x70 and f[0] == {"connection_id": "bolt-1", "server": SERVER}
    # exact bytes: keys sorted, connection_id first
    assert c.last_raw == packstream.encode(Structure(0x70, [{"connection_id": "bolt-1", "server": SERVER}]))
    c.send(0x10, "RETURN 1", {}, {})  # still in Init: closes
    assert c.closed()
    c = RawBolt(e.host, e.port, versions=((5, 2),))
    c.hello()
    assert c.query("RETURN 1 AS x")[1] == [[1]]


def test_4x_hello_carries_auth(emu):
    e = emu(wal=False, env={"MEMGRAPH_USER": "op", "MEMGRAPH_PASSWORD": "pw"})
    c = RawBolt(e.host, e.port, versions=((4, 3),))
    meta = c.hello({"scheme": "basic", "principal": "op", "credentials": "pw"})
    assert meta == {"connection_id": "bolt-1", "server": SERVER}
    c = RawBolt(e.host, e.port, versions=((4, 3),))
    with pytest.raises(BoltFailure) as ei:
        c.hello({"scheme": "basic", "principal": "op", "credentials": "bad"})
    assert ei.value.code == "Memgraph.ClientError.Security.Unauthenticated"
    assert ei.value.message == "Authentication failure"
    assert c.closed()


def test_logon_failure_closes_and_none_scheme_rejected_with_users(emu):
    e = emu(wal=False, env={"MEMGRAPH_USER": "op", "MEMGRAPH_PASSWORD": "pw"})
    for auth in [{"scheme": "none"}, {"scheme": "basic", "principal": "op", "credentials": "no"}]:
        c = RawBolt(e.host, e.port, versions=((5, 2),))
        with pytest.raises(BoltFailure) as ei:
            c.hello(auth)
        assert ei.value.where == "LOGON" and ei.value.message == "Authentication failure"
        assert c.closed()
    c = RawBolt(e.host, e.port, versions=((5, 2),))
    c.hello({"scheme": "basic", "principal": "op", "credentials": "pw"})
    assert c.query("RETURN 2 AS y")[1] == [[2]]


def test_no_users_accept_any_credentials(emu):
    e = emu(wal=False)
    c = RawBolt(e.host, e.port)
    c.hello({"scheme": "basic", "principal": "who", "credentials": "ever"})
    assert c.query("RETURN 1 AS x")[1] == [[1]]


def test_out_of_state_messages_close(emu):
    e = emu(wal=False)
    c = e.client()
    c.send(0x3F, {"n": -1})  # PULL in Idle
    assert c.closed()
    c = e.client()
    c.run("RETURN 1")
    c.send(0x10, "RETURN 2", {}, {})  # RUN in Result
    assert c.closed()
    c = e.client()
    c.send(0x10, "RETURN 1", {})  # RUN with 2 fields on 5.x
    assert c.closed()
    c = e.client()
    c.send(0x54, 1)  # TELEMETRY: unknown to Memgraph
    assert c.closed()


def test_failure_then_ignored_then_reset_in_order(emu):
    e = emu(wal=False)
    c = e.client()
    c.send(0x10, "THIS IS NOT CYPHER", {}, {})
    c.send(0x3F, {"n": -1})
    c.send(0x10, "RETURN 1", {}, {})
    c.send(0x0F)
    c.send(0x10, "RETURN 5 AS five", {}, {})
    c.send(0x3F, {"n": -1})
    tag, f = c.recv()
    assert tag == 0x7F and f[0]["code"] == CLIENT_ERROR and set(f[0]) == {"code", "message"}
    assert c.recv() == (0x7E, [])
    assert c.recv() == (0x7E, [])
    assert c.recv() == (0x70, [{}])
    assert c.recv() == (0x70, [{"fields": ["five"]}])
    assert c.recv()[0] == 0x71
    assert c.recv()[0] == 0x70


def test_run_and_final_pull_metadata(emu):
    e = emu(wal=False)
    c = e.client()
    meta = c.run("CREATE (n:L {a: 1}) RETURN n.a AS a")
    assert meta == {"fields": ["a"]}
    records, summary = c.pull()
    assert records == [[1]]
    assert set(summary) == {"has_more", "type", "db", "parsing_time", "planning_time", "plan_execution_time",
                            "cost_estimate", "number_of_hops", "stats"}
    assert summary["has_more"] is False and summary["type"] == "w" and summary["db"] == "memgraph"
    for k in ("parsing_time", "planning_time", "plan_execution_time", "cost_estimate"):
        assert isinstance(summary[k], float)
    assert isinstance(summary["number_of_hops"], int)
    assert summary["stats"] == {"nodes-created": 1, "nodes-deleted": 0, "relationships-created": 0,
                                "relationships-deleted": 0, "properties-set": 1, "labels-added": 1,
                                "labels-removed": 0, "indexes-added": 0, "indexes-removed": 0,
                                "constraints-added": 0, "constraints-removed": 0}
    c.run("MATCH (n:Nothing) DELETE n")
    assert "stats" not in c.pull()[1]
    keys = list(packstream.Decoder(c.last_raw[2:]).value().keys())
    assert keys == sorted(keys)
    c.run("MATCH (n) RETURN n")
    assert c.pull()[1]["type"] == "r"
    c.run("MATCH (n) SET n.b = 2")
    assert c.pull()[1]["type"] == "rw"
    c.run("SHOW VERSION")
    s = c.pull()[1]
    assert s["type"] == "rw" and "plan_execution_time" not in s and "number_of_hops" not in s
    assert "bookmark" not in s and "t_last" not in s


def test_pull_n_has_more_and_discard(emu):
    e = emu(wal=False)
    c = e.client()
    c.run("UNWIND range(1, 5) AS i RETURN i")
    c.send(0x3F, {"n": 2})
    assert c.recv() == (0x71, [[1]])
    assert c.recv() == (0x71, [[2]])
    assert c.recv() == (0x70, [{"has_more": True}])
    records, summary = c.pull(2)
    assert records == [[3], [4]] and summary == {"has_more": True}
    c.send(0x2F, {"n": -1})
    tag, f = c.recv()
    assert tag == 0x70 and f[0]["has_more"] is False
    assert f[0]["type"] == "rw"  # no scan, no write: Memgraph's NONE type is reported as "rw"
    assert c.query("RETURN 1 AS one")[1] == [[1]]


def test_explicit_transaction_qid_commit_rollback(emu):
    e = emu(wal=False)
    c = e.client()
    c.send(0x11, {})
    assert c.recv() == (0x70, [{}])
    assert c.run("CREATE (:T {v: 1})") == {"fields": [], "qid": 0}
    c.pull()
    assert c.run("MATCH (n:T) RETURN count(n) AS c") == {"fields": ["c"], "qid": 1}
    assert c.pull(qid=1)[0] == [[1]]
    c.send(0x13)
    assert c.recv() == (0x70, [{}])
    assert c.query("MATCH (n:T) RETURN count(n) AS c")[1] == [[0]]
    c.send(0x11, {})
    c.recv()
    c.run("CREATE (:T {v: 2})")
    c.pull()
    c.send(0x12)
    assert c.recv() == (0x70, [{}])
    assert c.query("MATCH (n:T) RETURN n.v AS v")[1] == [[2]]
    c.send(0x12)  # COMMIT without a transaction
    tag, f = c.recv()
    assert tag == 0x7F and f[0]["message"] == "No current transaction to commit."
    c.reset()


def test_route_fails_on_standalone(emu):
    e = emu(wal=False)
    c = e.client()
    c.send(0x66, {"address": "x"}, [], {})
    tag, f = c.recv()
    assert tag == 0x7F
    assert f[0] == {"code": CLIENT_ERROR,
                    "message": "You cannot fetch routing table from an instance which is not part of a cluster."}
    assert c.reset() == {}


def test_node_relationship_path_shapes_4x_vs_5x(emu):
    e = emu(wal=False)
    e.q("CREATE (:A {x: 1})-[:R {w: 2}]->(:B)")
    c5 = e.client(versions=((5, 2),))
    _, rec, _ = c5.query("MATCH p = (a:A)-[r:R]->(b) RETURN a, r, p")
    a, r, p = rec[0]
    assert a == Structure(0x4E, [0, ["A"], {"x": 1}, "0"])
    assert r == Structure(0x52, [0, 0, 1, "R", {"w": 2}, "0", "0", "1"])
    assert p.tag == 0x50 and p.fields[2] == [1, 1]
    assert p.fields[1] == [Structure(0x72, [0, "R", {"w": 2}, "0"])]
    c4 = e.client(versions=((4, 3),))
    _, rec, _ = c4.query("MATCH (a:A)-[r:R]->(b) RETURN a, r")
    assert rec[0][0] == Structure(0x4E, [0, ["A"], {"x": 1}])
    assert rec[0][1] == Structure(0x52, [0, 0, 1, "R", {"w": 2}])
    _, rec, _ = c5.query("MATCH (b:B)<-[r]-(a) RETURN b")
    assert rec[0][0].fields[1] == ["B"]
    _, rec, _ = c5.query("MATCH p = (b:B)<-[r]-(a) RETURN p")
    assert rec[0][0].fields[2] == [-1, 1]


def test_bolt_v1_init_and_pull_all(emu):
    e = emu(wal=False)
    c = RawBolt(e.host, e.port, versions=((1, 0),))
    assert c.version == (1, 0)
    c.send(0x01, "legacy/1", {"scheme": "none"})
    assert c.recv()[0] == 0x70
    c.send(0x10, "RETURN 7 AS s", {})
    c.send(0x3F)
    assert c.recv() == (0x70, [{"fields": ["s"]}])
    assert c.recv() == (0x71, [[7]])
    assert c.recv()[0] == 0x70
    c.send(0x10, "NOPE", {})
    assert c.recv()[0] == 0x7F
    c.send(0x0E)  # ACK_FAILURE
    assert c.recv() == (0x70, [{}])


def test_large_message_chunked_both_ways(emu):
    e = emu(wal=False)
    c = e.client()
    big = "x" * 200000
    _, rec, _ = c.query("RETURN $s AS s", {"s": big})
    assert rec == [[big]]


def test_tls_on_the_whole_port(emu, tmp_path):
    import ssl
    import subprocess
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    e = emu(wal=False, extra=["--bolt-cert-file=%s" % cert, "--bolt-key-file=%s" % key])
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    raw = socket.create_connection((e.host, e.port), timeout=5)
    s = ctx.wrap_socket(raw)
    s.sendall(b"\x60\x60\xB0\x17" + C_CLIENT)
    assert s.recv(4) == bytes.fromhex("00000205")
    s.close()
    assert "Using non-secure Bolt connection" not in e.log()


def test_error_state_ignores_everything_but_reset(emu):
    e = emu(wal=False)
    c = e.client()
    c.send(0x10, "BROKEN QUERY", {}, {})
    assert c.recv()[0] == 0x7F
    for tag, fields in [(0x11, [{}]), (0x12, []), (0x13, []), (0x6B, []), (0x3F, [{"n": -1}])]:
        c.send(tag, *fields)
        assert c.recv() == (0x7E, [])
    assert c.reset() == {}
    assert c.query("RETURN 1 AS x")[1] == [[1]]


def test_temporal_parameters_round_trip_and_bytes_rejected(emu):
    e = emu(wal=False)
    c = e.client()
    date = Structure(0x44, [19000])
    dt = Structure(0x49, [1700000000, 5, 3600])
    dur = Structure(0x45, [0, 1, 2, 3000])
    _, rec, _ = c.query("RETURN $d AS d, $t AS t, $u AS u", {"d": date, "t": dt, "u": dur})
    assert rec == [[date, dt, dur]]
    c.send_raw(packstream.chunk(b"\xB3\x10\x85RETURN\xA1\x81b\xCC\x01\x00\xA0"))  # bytes parameter
    assert c.closed()


def test_version_tag_with_suffix(emu):
    e = emu(wal=False, version="3.12.0-relwithdebinfo")
    assert e.q("SHOW VERSION") == [{"version": "3.12.0"}]
