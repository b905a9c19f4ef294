"""Test program behind the image `mgo-test/tcp-echo*` (see images.json). Stdlib only.

Listens on $POD_IP (or --host) : --port (default $PORT or 8080). Line protocol, one reply line per request:
  PING                 -> PONG
  WHOAMI               -> "<hostname> <POD_IP>"
  WRITE <name> <text>  -> OK   (writes <text> to <data-dir>/<name>; data dir from --data-dir, default /data)
  READ <name>          -> the file's text, or ERR not-found
  RESOLVE <hostname>   -> the IPv4 address this process resolves <hostname> to (via /etc/hosts), or ERR ...
  ENV <name>           -> the value of environment variable <name>, or ERR unset
Exits 0 on SIGTERM.
"""

import argparse
import os
import signal
import socket
import socketserver
import sys


def handle_line(line, data_dir):
    parts = line.split(" ", 2)
    cmd = parts[0].upper()
    if cmd == "PING":
        return "PONG"
    if cmd == "WHOAMI":
        return f"{socket.gethostname()} {os.environ.get('POD_IP', '')}"
    if cmd == "WRITE" and len(parts) == 3 and "/" not in parts[1]:
        path = os.path.join(data_dir, parts[1])
        with open(path, "w", encoding="utf-8") as f:
            f.write(parts[2])
            f.flush()
            os.fsync(f.fileno())
        return "OK"
    if cmd == "READ" and len(parts) >= 2 and "/" not in parts[1]:
        try:
            with open(os.path.join(data_dir, parts[1]), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return "ERR not-found"
    if cmd == "RESOLVE" and len(parts) >= 2:
        try:
            return socket.gethostbyname(parts[1])
        except OSError as e:
            return f"ERR {e}"
    if cmd == "ENV" and len(parts) >= 2:
        val = os.environ.get(parts[1])
        return "ERR unset" if val is None else val
    return "ERR unknown-command"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default=os.environ.get("POD_IP", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    ap.add_argument("--data-dir", default=os.environ.get("DATA_DIR", "/data"))
    args = ap.parse_args()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for raw in self.rfile:
                reply = handle_line(raw.decode(errors="replace").strip(), args.data_dir)
                self.wfile.write(reply.encode() + b"\n")
                self.wfile.flush()

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Server((args.host, args.port), Handler) as srv:
        print(f"tcp-echo listening on {args.host}:{args.port}, data dir {args.data_dir}", flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    main()
