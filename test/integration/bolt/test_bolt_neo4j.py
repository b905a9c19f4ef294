"""The C Bolt client (through bolt_probe) against a real Neo4j 5.26 LTS started from tools/neo4j."""
import os
import signal
import struct
import uuid

import pytest

from bolt_probe import Probe
from conftest import NEO4J_PASSWORD, NEO4J_USER

pytestmark = pytest.mark.neo4j

VERSIONS = ["5.2", "4.4"]


def norm(v):
    """Probe/vector JSON notation → comparable Python values (floats compared bit for bit)."""
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$float":
                return ("float", struct.pack(">d", float(x)))
            if k == "$int":
                return int(x)
            if k == "$bytes":
                return ("bytes", x.upper())
            if k == "$struct":
                return ("struct", int(x["tag"], 16), norm(x["fields"]))
        return {k: norm(x) for k, x in v.items()}
    return v


def f(x):
    return {"$float": x}


def st(tag, *fields):
    return {"$struct": {"tag": tag, "fields": list(fields)}}


COMMON_VALUES = {
    "null": None, "true": True, "false": False,
    "ints": [0, 1, -1, -16, -17, 127, 128, -128, -129, 32767, 32768, -32768, -32769, 2147483647, 2147483648,
             -2147483648, -2147483649, {"$int": "9223372036854775807"}, {"$int": "-9223372036854775808"}],
    "floats": [f("1.23"), f("-0.0"), f("0.0"), f("inf"), f("-inf"), f("1e308"), f("5e-324")],
    "nan": f("nan"),
    "empty string": "", "unicode": "Größenmaßstäbe ✓ 𝄞",
    "string 70000 (several chunks)": "A" * 70000,
    "bytes": [{"$bytes": ""}, {"$bytes": "010203"}, {"$bytes": "".join(f"{i:02X}" for i in range(256))}],
    "bytes 70000": {"$bytes": "AB" * 70000},
    "list nested": [[], [1, [2, [3]]], [1, f("2.0"), "three", None, True]],
    "list 20000": list(range(20000)),
    "map": {"a": [1], "b": {"c": None}, "d": {"e": {"f": "g"}}},
    "map 26": {chr(97 + i): i for i in range(26)},
    "Date": st("0x44", 7905),
    "Time": st("0x54", 3723000000004, 3600),
    "LocalTime": st("0x74", 3723000000004),
    "LocalDateTime": st("0x64", 1539344261, 474716862),
    "Duration": st("0x45", 1, 2, 3, 4),
    "Point2D cartesian": st("0x58", 7203, f("1.0"), f("3.1")),
    "Point2D WGS-84": st("0x58", 4326, f("1.0"), f("3.1")),
    "Point3D cartesian": st("0x59", 9157, f("1.0"), f("-2.0"), f("3.1")),
    "Point3D WGS-84": st("0x59", 4979, f("1.0"), f("-2.0"), f("3.1")),
}
ZONED_VALUES = {
    "5.2": {"DateTime": st("0x49", 1539340661, 474716862, 3600),
            "DateTimeZoneId": st("0x69", 1539337061, 474716862, "Europe/Stockholm")},
    "4.4": {"DateTime (legacy F)": st("0x46", 1539344261, 474716862, 3600),
            "DateTimeZoneId (legacy f)": st("0x66", 1539344261, 474716862, "Europe/Stockholm")},
}


@pytest.fixture(scope="module")
def noauth(neo4j_peers):
    return neo4j_peers["noauth"].port


@pytest.fixture(scope="module")
def auth(neo4j_peers):
    return neo4j_peers["auth"].port


def ok(res):
    assert res["rc"] == "OK", res
    return res


@pytest.mark.parametrize("version", VERSIONS)
def test_handshake_negotiates_the_requested_version(noauth, version):
    with Probe(noauth, "--versions", version) as p:
        ok(p.connected)
        assert p.connected["version"] == version
        assert p.connected["server"]["server"].startswith("Neo4j/5.26")
    with Probe(noauth) as p:  # default offer: 5.2 first
        assert ok(p.connected)["version"] == "5.2"


@pytest.mark.parametrize("version", VERSIONS)
def test_auth_on_with_the_right_password(auth, version):
    with Probe(auth, "--versions", version, "--user", NEO4J_USER, "--password", NEO4J_PASSWORD) as p:
        ok(p.connected)
        assert ok(p.run("RETURN 1 AS x"))["rows"] == [[1]]


@pytest.mark.parametrize("version", VERSIONS)
def test_wrong_password_is_eauth_with_neo4js_message(auth, version):
    with Probe(auth, "--versions", version, "--user", NEO4J_USER, "--password", "wrong-password") as p:
        res = p.connected
        assert res["rc"] == "EAUTH", res
        assert res["error"]["code"] == "Neo.ClientError.Security.Unauthorized"
        assert "authentication failure" in res["error"]["message"]
        assert res["error"]["class"] == "client"
        assert res["state"] == "DEFUNCT"


def test_no_credentials_against_auth_on_is_eauth(auth):
    with Probe(auth) as p:
        assert p.connected["rc"] == "EAUTH", p.connected


@pytest.mark.parametrize("version", VERSIONS)
def test_auth_off_with_scheme_none(noauth, version):
    with Probe(noauth, "--versions", version) as p:
        ok(p.connected)
        assert ok(p.run("RETURN 'x' AS s"))["rows"] == [["x"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_value_type_round_trips_through_parameters(noauth, version):
    values = dict(COMMON_VALUES, **ZONED_VALUES[version])
    with Probe(noauth, "--versions", version) as p:
        ok(p.connected)
        for name, value in values.items():
            res = p.run("RETURN $v AS v", {"v": value})
            assert res["rc"] == "OK", (name, res)
            assert res["fields"] == ["v"]
            assert norm(res["rows"][0][0]) == norm(value), name


@pytest.mark.parametrize("version", VERSIONS)
def test_graph_values_come_back_in_the_versions_shape(noauth, version):
    label = "T" + uuid.uuid4().hex[:8]
    with Probe(noauth, "--versions", version) as p:
        ok(p.connected)
        res = ok(p.run(f"CREATE p = (a:{label} {{name: 'Alice'}})-[r:KNOWS {{since: 2020}}]->(b:{label} "
                       "{name: 'Bob'}) RETURN a, r, b, p"))
        a, r, b, path = res["rows"][0]
        five = version == "5.2"
        assert a["$struct"]["tag"] == "0x4E" and len(a["$struct"]["fields"]) == (4 if five else 3)
        assert a["$struct"]["fields"][1:3] == [[label], {"name": "Alice"}]
        rel = r["$struct"]
        assert rel["tag"] == "0x52" and len(rel["fields"]) == (8 if five else 5)
        assert rel["fields"][1] == a["$struct"]["fields"][0] and rel["fields"][2] == b["$struct"]["fields"][0]
        assert rel["fields"][3:5] == ["KNOWS", {"since": 2020}]
        if five:
            assert isinstance(a["$struct"]["fields"][3], str)
            assert rel["fields"][6] == a["$struct"]["fields"][3] and rel["fields"][7] == b["$struct"]["fields"][3]
        nodes, rels, indices = path["$struct"]["fields"]
        assert path["$struct"]["tag"] == "0x50" and len(nodes) == 2 and indices == [1, 1]
        assert rels[0]["$struct"]["tag"] == "0x72" and len(rels[0]["$struct"]["fields"]) == (4 if five else 3)
        ok(p.run(f"MATCH (n:{label}) DETACH DELETE n"))


@pytest.mark.parametrize("version", VERSIONS)
def test_failure_then_reset_then_a_working_query(noauth, version):
    with Probe(noauth, "--versions", version) as p:
        ok(p.connected)
        res = p.run("RETURN nonsense")
        assert res["rc"] == "EFAILURE" and res["state"] == "READY", res
        assert res["error"]["code"] == "Neo.ClientError.Statement.SyntaxError"
        assert res["error"]["class"] == "client" and "nonsense" in res["error"]["message"]
        assert ok(p.run("RETURN 2 AS x"))["rows"] == [[2]]
        # A runtime failure arrives on PULL, after the RUN succeeded.
        res = p.run("UNWIND [1, 0] AS d RETURN 10 / d AS q")
        assert res["rc"] == "EFAILURE" and res["state"] == "READY", res
        assert "by zero" in res["error"]["message"]
        assert ok(p.run("RETURN 3 AS x"))["rows"] == [[3]]


def test_long_result_pulled_in_batches(noauth):
    with Probe(noauth, "--fetch-size", 100) as p:
        ok(p.connected)
        res = ok(p.run("UNWIND range(1, 5000) AS i RETURN i"))
        assert [row[0] for row in res["rows"]] == list(range(1, 5001))
        assert res["pulls"] in (50, 51), res["pulls"]
        assert res["summary"]["type"] == "r"
        # Stop after 150 rows: the rest is DISCARDed and the connection stays usable.
        res = ok(p.run("UNWIND range(1, 5000) AS i RETURN i", max_rows=150))
        assert len(res["rows"]) == 150 and res["pulls"] == 2 and res["state"] == "READY"
        assert ok(p.run("RETURN 1 AS x"))["rows"] == [[1]]


@pytest.mark.parametrize("version", VERSIONS)
def test_explicit_transactions_commit_and_rollback(noauth, version):
    label = "Tx" + uuid.uuid4().hex[:8]
    with Probe(noauth, "--versions", version, "--fetch-size", 2) as p:
        ok(p.connected)
        ok(p.cmd("begin"))
        ok(p.run(f"CREATE (:{label} {{id: 1}})"))
        res = ok(p.run("UNWIND range(1, 5) AS i RETURN i"))  # several batches inside the transaction
        assert len(res["rows"]) == 5 and res["state"] == "TX_READY"
        ok(p.cmd("commit"))
        ok(p.cmd("begin"))
        ok(p.run(f"CREATE (:{label} {{id: 2}})"))
        ok(p.cmd("rollback"))
        assert ok(p.run(f"MATCH (n:{label}) RETURN n.id AS id"))["rows"] == [[1]]
        # A failure inside a transaction: the client RESETs, the transaction is gone.
        ok(p.cmd("begin"))
        ok(p.run(f"CREATE (:{label} {{id: 3}})"))
        assert p.run("RETURN nonsense")["rc"] == "EFAILURE"
        assert p.cmd("commit")["rc"] == "ESTATE"
        assert ok(p.run(f"MATCH (n:{label}) RETURN n.id AS id"))["rows"] == [[1]]
        ok(p.run(f"MATCH (n:{label}) DELETE n"))


def test_state_machine_misuse_is_estate(noauth):
    with Probe(noauth) as p:
        ok(p.connected)
        for cmd in ("commit", "rollback"):
            res = p.cmd(cmd)
            assert res["rc"] == "ESTATE" and res["state"] == "READY", res
        ok(p.cmd("begin"))
        assert p.cmd("begin")["rc"] == "ESTATE"
        ok(p.cmd("rollback"))


def test_tls_with_ca_verification_and_server_name(neo4j_peers):
    port, ca = neo4j_peers["auth"].port, neo4j_peers["ca"]
    creds = ["--user", NEO4J_USER, "--password", NEO4J_PASSWORD]
    for name in ("localhost", "127.0.0.1"):
        with Probe(port, "--tls", "verify", "--ca", ca, "--server-name", name, *creds) as p:
            ok(p.connected)
            assert ok(p.run("RETURN 1 AS x"))["rows"] == [[1]]
    with Probe(port, "--tls", "verify", "--ca", ca, "--server-name", "wrong.example", *creds) as p:
        assert p.connected["rc"] == "ETLS" and "verif" in p.connected["error"]["detail"], p.connected
    with Probe(port, "--tls", "verify", *creds) as p:  # the system CAs do not know the test CA
        assert p.connected["rc"] == "ETLS", p.connected
    with Probe(port, "--tls", "insecure", *creds) as p:
        ok(p.connected)


def test_deadline_fires_against_a_frozen_server(neo4j_peers):
    peer = neo4j_peers["noauth"]
    with Probe(peer.port, "--query-timeout-ms", 1500, "--connect-timeout-ms", 1500) as p:
        ok(p.connected)
        os.kill(peer.proc.pid, signal.SIGSTOP)
        try:
            res = p.run("RETURN 1 AS x", timeout=20)
            assert res["rc"] == "ETIMEDOUT" and res["state"] == "DEFUNCT", res
            assert 1400 <= res["elapsed_ms"] <= 3000, res
            with Probe(peer.port, "--connect-timeout-ms", 1500, timeout=20) as q:
                assert q.connected["rc"] == "ETIMEDOUT", q.connected
                assert 1400 <= q.connected["elapsed_ms"] <= 3000, q.connected
        finally:
            os.kill(peer.proc.pid, signal.SIGCONT)
    with Probe(peer.port) as p:  # the peer works again after SIGCONT
        assert ok(p.run("RETURN 1 AS x"))["rows"] == [[1]]
