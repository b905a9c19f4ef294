"""Replication transport between emulator processes: 4-byte big-endian length + JSON body over TCP.

This is the emulator's own protocol (real Memgraph uses its SLK RPCs); it only has to connect emulators.
"""
import asyncio
import json
import socket
import struct

MAX_FRAME = 512 * 1024 * 1024


class RpcError(Exception):
    pass


class RpcTimeout(RpcError):
    pass


async def read_frame(reader):
    hdr = await reader.readexactly(4)
    (n,) = struct.unpack(">I", hdr)
    if n > MAX_FRAME:
        raise RpcError("frame too large")
    body = await reader.readexactly(n)
    return json.loads(body.decode("utf-8"))


def encode_frame(msg):
    body = json.dumps(msg, separators=(",", ":")).encode("utf-8")
    return struct.pack(">I", len(body)) + body


def parse_endpoint(text):
    """memgraph.md section 1: split on ':', default port 10000, more than one ':' is invalid."""
    if text.count(":") > 1:
        return None
    if ":" in text:
        host, port_s = text.split(":")
        if not port_s.isdigit():
            return None
        port = int(port_s)
        if port > 65535:
            return None
    else:
        host, port = text, 10000
    if not host or any(c.isspace() for c in host):
        return None
    return host, port


class RpcClient:
    """One persistent connection to a replica's replication server; host resolved at every connect."""

    def __init__(self, host, port, connect_timeout=5.0):
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.reader = None
        self.writer = None
        self.lock = asyncio.Lock()

    async def _connect(self):
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM), self.connect_timeout)
        except (OSError, asyncio.TimeoutError) as e:
            raise RpcError("cannot resolve %s: %s" % (self.host, e))
        last = None
        for family, _, _, _, addr in infos:
            try:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_connection(addr[0], addr[1]), self.connect_timeout)
                return
            except (OSError, asyncio.TimeoutError) as e:
                last = e
        raise RpcError("cannot connect to %s:%d: %s" % (self.host, self.port, last))

    def close(self):
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:
                pass
        self.reader = self.writer = None

    async def call(self, msg, timeout=None):
        async with self.lock:
            try:
                if self.writer is None:
                    await self._connect()
                self.writer.write(encode_frame(msg))
                await self.writer.drain()
                if timeout is None:
                    resp = await read_frame(self.reader)
                else:
                    resp = await asyncio.wait_for(read_frame(self.reader), timeout)
            except asyncio.TimeoutError:
                self.close()
                raise RpcTimeout("timeout")
            except RpcError:
                self.close()
                raise
            except (OSError, asyncio.IncompleteReadError, ValueError, EOFError) as e:
                self.close()
                raise RpcError(str(e) or type(e).__name__)
            if not isinstance(resp, dict):
                self.close()
                raise RpcError("bad response")
            return resp


class ReplicationServer:
    """The replica's listener; handler(msg) -> response dict (a coroutine)."""

    def __init__(self, handler, log):
        self.handler = handler
        self.log = log
        self.server = None
        self.conns = set()

    async def start(self, host, port):
        self.server = await asyncio.start_server(self._serve, host, port, reuse_address=True)

    async def _serve(self, reader, writer):
        self.conns.add(writer)
        try:
            while True:
                msg = await read_frame(reader)
                try:
                    resp = await self.handler(msg)
                except (asyncio.CancelledError, ConnectionError):
                    raise
                except Exception as e:  # a bad request must not kill the listener
                    self.log.error("Replication request failed: %r" % e)
                    resp = {"ok": False, "error": str(e)}
                if resp is None:
                    break
                writer.write(encode_frame(resp))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, RpcError, OSError, asyncio.CancelledError):
            pass
        finally:
            self.conns.discard(writer)
            try:
                writer.close()
            except Exception:
                pass

    async def stop(self):
        if self.server is not None:
            self.server.close()
            for w in list(self.conns):
                try:
                    w.close()
                except Exception:
                    pass
            try:
                await asyncio.wait_for(self.server.wait_closed(), 2)
            except (asyncio.TimeoutError, Exception):
                pass
            self.server = None
