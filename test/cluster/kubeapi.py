"""A small Kubernetes API client on the Python standard library (plus PyYAML for kubeconfig files).

Used by the test kubelet and by test/conftest.py. Token auth only (that is what up.sh issues).
Thread-safety: one KubeApi may be shared by threads; each thread gets its own keep-alive connection.
"""

import base64
import http.client
import json
import ssl
import tempfile
import threading
import urllib.parse


class ApiError(Exception):
    def __init__(self, status, body, method="", path=""):
        self.status = status
        self.body = body if isinstance(body, dict) else {"message": str(body)}
        self.reason = self.body.get("reason", "")
        super().__init__(f"{method} {path}: HTTP {status} {self.reason}: {self.body.get('message', '')}")


def _load_flat(text):
    """Fallback without PyYAML: the single-cluster, single-user files that up.sh writes."""
    import re

    def field(name):
        m = re.search(rf"^\s*{name}:\s*(\S+)\s*$", text, re.M)
        return m.group(1) if m else None

    cluster = {"server": field("server")}
    if field("certificate-authority-data"):
        cluster["certificate-authority-data"] = field("certificate-authority-data")
    else:
        cluster["certificate-authority"] = field("certificate-authority")
    return {"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": cluster}],
            "users": [{"name": "u", "user": {"token": field("token")}}]}


def load_kubeconfig(path):
    """Return (server, token, ca_pem_bytes) of the current context of a token-based kubeconfig."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml
    except ImportError:
        cfg = _load_flat(text)
    else:
        cfg = yaml.safe_load(text)
    ctx_name = cfg["current-context"]
    ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
    cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
    if "certificate-authority-data" in cluster:
        ca = base64.b64decode(cluster["certificate-authority-data"])
    else:
        with open(cluster["certificate-authority"], "rb") as f:
            ca = f.read()
    return cluster["server"], user["token"], ca


class KubeApi:
    def __init__(self, server, token, ca_pem, timeout=30.0):
        url = urllib.parse.urlsplit(server)
        self.host = url.hostname
        self.port = url.port or 443
        self.server = server
        self.token = token
        self.timeout = timeout
        self.ctx = ssl.create_default_context(cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem)
        self.local = threading.local()

    @classmethod
    def from_kubeconfig(cls, path, timeout=30.0):
        server, token, ca = load_kubeconfig(path)
        return cls(server, token, ca, timeout)

    def _connect(self, timeout):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def _headers(self, content_type=None):
        h = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if content_type:
            h["Content-Type"] = content_type
        return h

    def request(self, method, path, body=None, content_type="application/json", timeout=None):
        """Return (status, parsed JSON or text). Raises OSError/HTTPException on transport failure."""
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        for attempt in (0, 1):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = self._connect(timeout or self.timeout)
            conn.timeout = timeout or self.timeout  # this call's, on a kept connection too
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            try:
                conn.request(method, path, body=data, headers=self._headers(content_type if data else None))
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                # A kept-alive connection may have been closed by the server: retry once on a fresh one.
                if attempt == 1:
                    raise
        try:
            obj = json.loads(raw) if raw else {}
        except ValueError:
            obj = {"message": raw.decode(errors="replace")}
        return resp.status, obj

    def call(self, method, path, body=None, content_type="application/json", ok=()):
        """Like request() but raises ApiError on HTTP >= 400 unless the status is in ok."""
        status, obj = self.request(method, path, body, content_type)
        if status >= 400 and status not in ok:
            raise ApiError(status, obj, method, path)
        return obj

    def get(self, path):
        return self.call("GET", path)

    def merge_patch(self, path, patch):
        return self.call("PATCH", path, patch, "application/merge-patch+json")

    def watch(self, path, resource_version, timeout_seconds=290):
        """Yield watch events (dicts) from resource_version until the server ends the stream.

        Raises OSError/HTTPException on transport errors and ApiError on HTTP errors."""
        sep = "&" if "?" in path else "?"
        q = urllib.parse.urlencode({"watch": "1", "resourceVersion": resource_version,
                                    "allowWatchBookmarks": "true", "timeoutSeconds": str(timeout_seconds)})
        conn = self._connect(timeout_seconds + 30)
        try:
            conn.request("GET", f"{path}{sep}{q}", headers=self._headers())
            resp = conn.getresponse()
            if resp.status != 200:
                raw = resp.read()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"message": raw.decode(errors="replace")}
                raise ApiError(resp.status, body, "WATCH", path)
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()


def write_temp_ca(ca_pem):
    f = tempfile.NamedTemporaryFile(prefix="mgo-ca-", suffix=".crt", delete=False)
    f.write(ca_pem)
    f.close()
    return f.name
