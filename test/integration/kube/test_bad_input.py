"""Bad input at the client's boundary, with a local fake HTTPS server (no control plane needed): wrong CA,
refused port, a server that never answers, garbage / truncated / oversized bodies, malformed kubeconfigs.
Every case must produce a clear error from the sanitizer-built driver and the operator binary, never a crash
or a leak (the driver's exit code carries LeakSanitizer's verdict)."""

import base64
import json
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from k8s_itest_driver import Kube


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-subj", f"/CN={ca}", "-days", "1",
                cwd=d)
    openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "srv.crt", "-days", "1", "-extfile", "san.ext", cwd=d)
    openssl("req", *ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=operator/O=mgo", cwd=d)
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "client.crt", "-days", "1", cwd=d)
    return d


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, body, length=None):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/ok"):
            self.send(200, b'{"kind":"ConfigMap","metadata":{"name":"ok"}}')
        elif self.path.startswith("/garbage"):
            self.send(200, b"\x00\xff{{{ not json")
        elif self.path.startswith("/truncated"):
            self.send(200, b'{"kind":"ConfigMap","metadata":{"na')
        elif self.path.startswith("/cut"):
            self.send(200, b'{"kind":"Con', length=500)  # the connection ends early
        elif self.path.startswith("/huge"):
            self.send(200, b" " * (4 * 1024 * 1024))
        elif self.path.startswith("/forbidden"):
            self.send(403, json.dumps({"kind": "Status", "status": "Failure", "reason": "Forbidden", "code": 403,
                                       "message": "configmaps is forbidden: User cannot get"}).encode())
        elif self.path.startswith("/slow"):
            time.sleep(3)
            self.send(200, b"{}")
        else:
            self.send(404, b"404 page not found")


def serve_tls(pki, require_client_cert):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "srv.crt", pki / "srv.key")
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki / "ca.crt")
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    return httpd


@pytest.fixture(scope="module")
def server(pki):
    httpd = serve_tls(pki, require_client_cert=False)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def mtls_server(pki):
    httpd = serve_tls(pki, require_client_cert=True)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def kubeconfig(tmp_path, server, cluster_extra, user=None):
    cluster = {"server": server, **cluster_extra}
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": cluster}],
           "users": [{"name": "u", "user": user if user is not None else {"token": "t0k"}}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return str(path)


def test_right_ca_as_file_and_as_data(tmp_path, pki, server):
    kube = Kube(kubeconfig(tmp_path, server, {"certificate-authority": str(pki / "ca.crt")}))
    assert kube.ok("get", "/ok")["metadata"]["name"] == "ok"
    data = base64.b64encode((pki / "ca.crt").read_bytes()).decode()
    kube = Kube(kubeconfig(tmp_path, server, {"certificate-authority-data": data}))
    assert kube.ok("get", "/ok")["metadata"]["name"] == "ok"


def test_client_certificate_as_files_and_as_data(tmp_path, pki, mtls_server):
    ca = {"certificate-authority": str(pki / "ca.crt")}
    files = {"client-certificate": str(pki / "client.crt"), "client-key": str(pki / "client.key")}
    assert Kube(kubeconfig(tmp_path, mtls_server, ca, files)).ok("get", "/ok")["metadata"]["name"] == "ok"
    data = {"client-certificate-data": base64.b64encode((pki / "client.crt").read_bytes()).decode(),
            "client-key-data": base64.b64encode((pki / "client.key").read_bytes()).decode()}
    assert Kube(kubeconfig(tmp_path, mtls_server, ca, data)).ok("get", "/ok")["metadata"]["name"] == "ok"
    # without a client certificate the handshake is refused: a TLS error (or a reset), never a crash
    res = Kube(kubeconfig(tmp_path, mtls_server, ca, {}))("get", "/ok")
    assert res["rc"] in ("ETLS", "EIO") and res["code"] == 0, res
    # a certificate with the wrong key
    wrong = dict(files, **{"client-key": str(pki / "srv.key")})
    res = Kube(kubeconfig(tmp_path, mtls_server, ca, wrong))("get", "/ok")
    assert res["rc"] == "ETLS", res


def test_wrong_ca_is_a_tls_error(tmp_path, pki, server):
    kube = Kube(kubeconfig(tmp_path, server, {"certificate-authority": str(pki / "other-ca.crt")}))
    res = kube("get", "/ok")
    assert res["rc"] == "ETLS" and res["code"] == 0, res
    assert "certificate" in res["message"].lower()
    # insecure-skip-tls-verify is honoured only when explicitly true
    kube = Kube(kubeconfig(tmp_path, server, {"insecure-skip-tls-verify": "true"}))
    assert kube.ok("get", "/ok")["metadata"]["name"] == "ok"
    kube = Kube(kubeconfig(tmp_path, server, {"insecure-skip-tls-verify": "false"}))
    assert kube("get", "/ok")["rc"] == "ETLS"


@pytest.mark.parametrize("path,rc,text", [
    ("/garbage", "EPARSE", "invalid JSON"),
    ("/truncated", "EPARSE", "invalid JSON"),
    ("/cut", "EIO", ""),
    ("/forbidden", "EFORBIDDEN", "configmaps is forbidden"),
    ("/nothing-here", "ENOTFOUND", "404 page not found"),
])
def test_bad_bodies(tmp_path, pki, server, path, rc, text):
    kube = Kube(kubeconfig(tmp_path, server, {"certificate-authority": str(pki / "ca.crt")}))
    res = kube("get", path)
    assert res["rc"] == rc and text in res["message"], res
    assert res["body"] is None


def test_oversized_body_and_timeout(tmp_path, pki, server):
    kube = Kube(kubeconfig(tmp_path, server, {"certificate-authority": str(pki / "ca.crt")}),
                {"MGO_ITEST_MAX_RESPONSE": "65536", "MGO_ITEST_TIMEOUT_MS": "700"})
    res = kube("get", "/huge")
    assert res["rc"] == "ETOOBIG" and "larger than 65536 bytes" in res["message"], res
    started = time.monotonic()
    res = kube("get", "/slow")
    assert res["rc"] == "ETIMEDOUT", res
    assert time.monotonic() - started < 2.5


def test_refused_port(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kube = Kube(kubeconfig(tmp_path, f"https://127.0.0.1:{port}", {}))
    res = kube("get", "/ok")
    assert res["rc"] == "ECONNECT" and res["code"] == 0, res
    assert res["message"]


MALFORMED = [
    ("empty", "", "EPARSE", "the file is empty"),
    ("bad-yaml", "clusters: [\n  - name: x\n", "EPARSE", "line"),
    ("no-context", "apiVersion: v1\nclusters: []\n", "ECONFIG", "no current-context"),
    ("missing-cluster", "current-context: a\ncontexts: [{name: a, context: {cluster: gone, user: u}}]\n",
     "ECONFIG", 'clusters entry "gone" not found'),
    ("bad-base64", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                   "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: '%%%'}}]\n",
     "ECONFIG", "not valid base64"),
    ("exec-plugin", "current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
                    "clusters: [{name: c, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {exec: {}}}]\n",
     "EUNSUPPORTED", "not supported"),
    ("binary", "\x00\x01\x02\xff", "EPARSE", "line"),
]


@pytest.mark.parametrize("name,text,rc,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_kubeconfig(tmp_path, name, text, rc, message):
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    res = Kube(str(path))("config", str(path))
    assert res["rc"] == rc and message in res["message"] and str(path) in res["message"], res


def test_operator_reports_bad_config_and_unreachable_server(tmp_path, operator_bin):
    bad = tmp_path / "bad"
    bad.write_text("current-context: nope\n")
    r = subprocess.run([operator_bin, "run", "--kubeconfig", str(bad), "--once", "--log-format", "json",
                        "--http-addr", "127.0.0.1", "--http-port", "0"],
                       capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode == 1
    err = [json.loads(line) for line in r.stderr.splitlines()]
    assert any(e["msg"] == "cannot load the Kubernetes configuration" and 'contexts entry "nope"' in e["detail"]
               for e in err), err

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    path = kubeconfig(tmp_path, f"https://127.0.0.1:{port}", {"insecure-skip-tls-verify": "true"})
    r = subprocess.run([operator_bin, "run", "--kubeconfig", path, "--once", "--log-format", "json",
                        "--http-addr", "127.0.0.1", "--http-port", "0"],
                       capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode == 1
    err = [json.loads(line) for line in r.stderr.splitlines()]
    assert any(e["msg"] == "cannot reach the API server" and e["error"] == "ECONNECT" for e in err), err

    r = subprocess.run([operator_bin, "run", "--no-such-flag"], capture_output=True, text=True, timeout=30,
                       check=False)
    assert r.returncode == 2 and "invalid option: --no-such-flag" in r.stderr
    r = subprocess.run([operator_bin, "version"], capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode == 0 and r.stdout.startswith("memgraph-operator ")
