"""The emulator's PackStream codec, handshake and a full session against test/data/bolt-vectors.json."""
import json
import math
import os
import socket

import pytest

from mgemu import packstream
from mgemu.bolt import choose_version
from mgemu.packstream import Structure, DecodeError
from mgemu.texts import Texts

# test/data/bolt-vectors.json of this repository, found from this file (test/memgraph-emulator/tests/)
VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "bolt-vectors.json")
with open(VECTORS) as f:
    DATA = json.load(f)


class HasBytes(Exception):
    pass


def from_json(v):
    if isinstance(v, list):
        return [from_json(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$int":
                return int(x)
            if k == "$float":
                return float(x)
            if k in ("$bytes", "$bytes_repeat"):
                raise HasBytes()
            if k == "$struct":
                return Structure(int(x["tag"], 16), [from_json(y) for y in x["fields"]])
            if k == "$str_repeat":
                return x["unit"] * x["count"]
            if k == "$list_repeat":
                return [from_json(x["item"])] * x["count"]
        return {k: from_json(x) for k, x in v.items()}
    return v


def sorted_maps(v):
    if isinstance(v, dict):
        return list(v) == sorted(v, key=lambda s: s.encode()) and all(sorted_maps(x) for x in v.values())
    if isinstance(v, list):
        return all(sorted_maps(x) for x in v)
    if isinstance(v, Structure):
        return all(sorted_maps(x) for x in v.fields)
    return True


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Structure) and isinstance(b, Structure):
        return a.tag == b.tag and same(a.fields, b.fields)
    return type(a) is type(b) and a == b


def value_vectors():
    out = []
    for v in DATA["vectors"]:
        if v["kind"] in ("packstream", "message"):
            out.append((v["name"], v, bytes.fromhex(v["hex"])))
    for v in DATA["large_vectors"]:
        if v["kind"] == "chunked":
            continue
        parts = b"".join(bytes.fromhex(p) if isinstance(p, str) else bytes.fromhex(p["repeat"]) * p["count"]
                         for p in v["hex_parts"])
        out.append((v["name"], v, parts))
    return out


@pytest.mark.parametrize("name,vec,raw", value_vectors(), ids=[x[0] for x in value_vectors()])
def test_value_vector(name, vec, raw):
    try:
        value = from_json(vec["value"])
    except HasBytes:
        # Memgraph neither sends nor accepts bytes: the decoder must reject them
        with pytest.raises(DecodeError):
            packstream.Decoder(raw).value()
        return
    if isinstance(value, Structure) and value.tag == 0x54:
        with pytest.raises(DecodeError):  # Memgraph has no Time type
            packstream.Decoder(raw).value()
        return
    d = packstream.Decoder(raw)
    decoded = d.value()
    assert d.pos == len(raw)
    assert same(decoded, value)
    if not vec.get("decode_only") and sorted_maps(value):
        assert packstream.encode(value) == raw
    if "frame_hex" in vec and not vec.get("decode_only") and sorted_maps(value):
        assert packstream.chunk(raw) == bytes.fromhex(vec["frame_hex"])


@pytest.mark.parametrize("vec", DATA["invalid_packstream"], ids=[v["name"] for v in DATA["invalid_packstream"]])
def test_invalid_packstream_rejected(vec):
    with pytest.raises(DecodeError):
        d = packstream.Decoder(bytes.fromhex(vec["hex"]))
        d.value()
        if d.pos != len(d.data):
            raise DecodeError("trailing")


@pytest.mark.parametrize("vec", [v for v in DATA["vectors"] if v["kind"] == "handshake"],
                         ids=[v["name"] for v in DATA["vectors"] if v["kind"] == "handshake"])
def test_handshake_vectors(vec):
    raw = bytes.fromhex(vec["hex"])
    for rng, version in [("2.21-3.11", "3.11.0"), ("3.12+", "3.12.0")]:
        want = vec["memgraph_reply_hex"][rng]
        got = choose_version(raw, Texts(version).bolt_versions())
        assert (None if got is None else bytes([0, 0, got[1], got[0]]).hex().upper()) == want


def test_transcript_against_a_running_emulator(emu):
    e = emu(wal=False)
    s = socket.create_connection((e.host, e.port), timeout=5)
    steps = DATA["transcript"]
    for step in steps:
        raw = bytes.fromhex(step["hex"])
        if step["direction"] == "c2s":
            s.sendall(raw)
            continue
        got = b""
        if "trimmed" in step["meaning"]:
            # read one full message and compare the decoded map (real Memgraph sends more keys)
            while not got.endswith(b"\x00\x00") or len(got) < 4:
                got += s.recv(65536)
            msg = packstream.decode_message(got[2:-2])
            assert msg.tag == 0x70 and msg.fields[0]["has_more"] is False
            assert set(msg.fields[0]) == {"has_more", "cost_estimate", "db", "number_of_hops", "parsing_time",
                                          "plan_execution_time", "planning_time", "type"}
            continue
        while len(got) < len(raw):
            chunk = s.recv(len(raw) - len(got))
            assert chunk, "server closed early"
            got += chunk
        assert got.hex().upper() == step["hex"], step["meaning"]
    s.settimeout(3)
    assert s.recv(1) == b""  # GOODBYE: closed without an answer
    s.close()


def chunked_vectors():
    out = []
    for v in DATA["vectors"] + DATA["large_vectors"]:
        if v["kind"] != "chunked":
            continue
        if "hex" in v:
            raw = bytes.fromhex(v["hex"])
        else:
            raw = b"".join(bytes.fromhex(p) if isinstance(p, str) else bytes.fromhex(p["repeat"]) * p["count"]
                           for p in v["hex_parts"])
        msgs = []
        for m in v["value"]["messages"]:
            if m is None:
                msgs.append(None)
            elif "$bytes" in m:
                msgs.append(bytes.fromhex(m["$bytes"]))
            else:
                msgs.append(bytes.fromhex(m["$bytes_repeat"]["unit_hex"]) * m["$bytes_repeat"]["count"])
        out.append((v["name"], v, raw, msgs))
    return out


def read_messages(raw):
    """The emulator's reader rules: NOOPs between messages are skipped."""
    out, pos, buf = [], 0, b""
    while pos < len(raw):
        n = int.from_bytes(raw[pos:pos + 2], "big")
        pos += 2
        if n == 0:
            if buf:
                out.append(buf)
                buf = b""
            else:
                out.append(None)
            continue
        buf += raw[pos:pos + n]
        pos += n
    return out


@pytest.mark.parametrize("name,vec,raw,msgs", chunked_vectors(), ids=[x[0] for x in chunked_vectors()])
def test_chunked_vector(name, vec, raw, msgs):
    assert read_messages(raw) == msgs
    if not vec.get("decode_only") and None not in msgs:
        assert b"".join(packstream.chunk(m) for m in msgs) == raw
