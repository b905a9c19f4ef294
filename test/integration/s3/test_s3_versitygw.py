"""src/s3 against a real S3 server (versitygw v1.8.0, posix backend) on loopback."""

import hashlib
import json
import os

from s3_itest_driver import S3, SECRET, Gateway, wait_for

MIB = 1 << 20


def make_file(path, size, seed=b"s3"):
    """Writes size pseudo-random bytes (deterministic, fast) and returns their SHA-256."""
    h = hashlib.sha256()
    block = hashlib.sha512(seed).digest() * 16384  # 1 MiB
    with open(path, "wb") as f:
        left = size
        n = 0
        while left > 0:
            chunk = (block[n % 64:] + block[:n % 64])[:min(left, len(block))]
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
            n += 1
    return h.hexdigest()


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def test_single_put_head_get(s3, tmp_path):
    src = tmp_path / "small.bin"
    digest = make_file(src, 3 * MIB + 17)
    res = s3.ok("put", "backups/small.bin", src)
    assert res["parts"] == 0 and res["size"] == 3 * MIB + 17 and res["sha256"] == digest
    head = s3.ok("head", "backups/small.bin")
    assert head["size"] == 3 * MIB + 17 and head["sha256"] == digest
    out = tmp_path / "out.bin"
    got = s3.ok("get", "backups/small.bin", out, 3 * MIB + 17, digest)
    assert got["sha256"] == digest and sha256_of(out) == digest
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    assert not os.path.exists(str(out) + ".part")


def test_empty_file(s3, tmp_path):
    src = tmp_path / "empty"
    src.write_bytes(b"")
    empty = hashlib.sha256(b"").hexdigest()
    assert s3.ok("put", "empty", src)["sha256"] == empty
    head = s3.ok("head", "empty")
    assert (head["size"], head["sha256"]) == (0, empty), head
    s3.ok("get", "empty", tmp_path / "back", 0, empty)
    assert (tmp_path / "back").read_bytes() == b""


def test_multipart_23mib_5mib_parts(s3, tmp_path):
    src = tmp_path / "big.bin"
    digest = make_file(src, 23 * MIB, b"multipart")
    r = s3.run("put", "big.bin", src, 5 * MIB)
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    res = lines[-1]
    assert res["rc"] == "OK", res
    assert res["parts"] == 5 and res["sha256"] == digest and res["etag"].endswith('-5"')
    progress = [e["done"] for e in lines if e.get("event") == "progress"]
    assert progress == [5 * MIB, 10 * MIB, 15 * MIB, 20 * MIB, 23 * MIB]
    head = s3.ok("head", "big.bin")
    assert head == dict(head, size=23 * MIB, sha256=digest)
    out = tmp_path / "out.bin"
    s3.ok("get", "big.bin", out, 23 * MIB, digest)
    assert sha256_of(out) == digest
    assert s3.ok("uploads", "")["count"] == 0


def test_get_with_wrong_hash_is_refused_and_leaves_no_file(s3, tmp_path):
    src = tmp_path / "f.bin"
    make_file(src, 100000)
    s3.ok("put", "f.bin", src)
    out = tmp_path / "out.bin"
    res = s3("get", "f.bin", out, "-", "0" * 64)
    assert res["rc"] == "ECONFLICT", res
    res = s3("get", "f.bin", out, 99999)
    assert res["rc"] == "ECONFLICT", res
    assert sorted(os.listdir(tmp_path)) == ["f.bin"]


def test_list_pagination(s3, tmp_path):
    src = tmp_path / "o"
    src.write_bytes(b"x" * 10)
    keys = [f"p/obj-{i:03d}" for i in range(23)]
    for k in keys:
        s3.ok("put", k, src)
    s3.ok("put", "q/outside", src)
    res = s3.ok("list", "p/", 5)  # five pages of five
    assert res["keys"] == keys and res["sizes"] == [10] * 23
    assert s3.ok("list", "p/obj-01")["keys"] == keys[10:20]
    assert len(s3.ok("list", "")["keys"]) == 24


def test_delete(s3, tmp_path):
    src = tmp_path / "o"
    src.write_bytes(b"hello")
    s3.ok("put", "d/k", src)
    s3.ok("delete", "d/k")
    assert s3("head", "d/k")["rc"] == "ENOTFOUND"
    s3.ok("delete", "d/k")  # deleting a missing key is fine
    assert s3.ok("list", "d/")["keys"] == []


def test_keys_with_spaces_and_unicode_round_trip(s3, tmp_path):
    src = tmp_path / "o"
    digest = make_file(src, 4096)
    keys = ["dir with space/a b.bin", "unicodé/日本語 ü.bin", "plus+equals=tilde~.bin", "q?&#%.bin"]
    for k in keys:
        s3.ok("put", k, src)
        assert s3.ok("head", k)["sha256"] == digest
        out = tmp_path / "back"
        s3.ok("get", k, out, 4096, digest)
        os.unlink(out)
    assert sorted(s3.ok("list", "")["keys"]) == sorted(keys)


def test_wrong_secret_is_eauth_and_never_printed(gateway, s3, tmp_path):
    bad_secret = SECRET[:-4] + "oops"
    bad = S3(gateway, s3.env["S3_BUCKET"], secret=bad_secret)
    src = tmp_path / "o"
    src.write_bytes(b"x")
    for args in (("list", ""), ("put", "k", src), ("delete", "k")):
        r = bad.run(*args)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert res["rc"] == "EAUTH" and res["http"] == 403, res
        assert res["code"] == "SignatureDoesNotMatch", res
        assert bad_secret not in r.stdout + r.stderr and SECRET not in r.stdout + r.stderr


def test_missing_bucket(gateway, tmp_path):
    s3 = S3(gateway, "no-such-bucket")
    res = s3("list", "")
    assert res["rc"] == "ENOTFOUND" and res["code"] == "NoSuchBucket" and res["http"] == 404, res
    src = tmp_path / "o"
    src.write_bytes(b"x")
    res = s3("put", "k", src)
    assert res["rc"] == "ENOTFOUND" and res["code"] == "NoSuchBucket", res
    assert s3("head", "k")["rc"] == "ENOTFOUND"


def test_cancel_aborts_the_multipart_upload(s3, tmp_path):
    src = tmp_path / "big.bin"
    make_file(src, 30 * MIB)
    res = s3("put", "canceled.bin", src, 5 * MIB, 10 * MIB)  # cancel after the second part
    assert res["rc"] == "ECANCELED", res
    assert s3.ok("uploads", "")["count"] == 0
    assert s3("head", "canceled.bin")["rc"] == "ENOTFOUND"


def test_server_killed_mid_upload(tmp_path):
    """The server dies during a multipart upload: the client returns a transport error. Its abort cannot
    reach the dead server, which the client says in the message; after a restart the upload the client
    could not abort is still listed (S3 keeps it until aborted or expired by a lifecycle rule)."""
    gw = Gateway(str(tmp_path / "root"))
    gw.start()
    try:
        s3 = S3(gw, "killed")
        s3.ok("mkbucket")
        src = tmp_path / "big.bin"
        make_file(src, 200 * MIB, b"kill")
        proc = s3.spawn("put", "big.bin", src, 5 * MIB)
        first = proc.stdout.readline()  # the first part is stored: the upload exists on the server
        assert json.loads(first)["event"] == "progress", first
        gw.kill()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        res = json.loads(out.strip().splitlines()[-1])
        assert res["rc"] in ("ECONNECT", "EIO", "ETIMEDOUT"), res
        assert "AbortMultipartUpload failed too" in res["message"], res
        gw.start()
        uploads = wait_for(lambda: s3("uploads", ""), message="ListMultipartUploads after the restart")
        assert uploads["rc"] == "OK" and uploads["count"] == 1, uploads
        assert s3("head", "big.bin")["rc"] == "ENOTFOUND"
    finally:
        gw.stop()
