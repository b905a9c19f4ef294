"""Bolt server session reproducing Memgraph's state machine (bolt.md sections 1, 2, 5, 6.2)."""
import asyncio
import struct

from . import packstream
from .packstream import Structure, DecodeError
from .cypher import WNode, WRel, WPath
from .instance import QueryError, TxUsageError
from .queries import prepare
from .texts import CLIENT_ERROR, UNAUTHENTICATED, DATABASE_ERROR

MAGIC = b"\x60\x60\xB0\x17"
MAX_MESSAGE = 64 * 1024 * 1024

HELLO, GOODBYE, LOGON, LOGOFF = 0x01, 0x02, 0x6A, 0x6B
RESET, ACK_FAILURE, RUN, DISCARD, PULL = 0x0F, 0x0E, 0x10, 0x2F, 0x3F
BEGIN, COMMIT, ROLLBACK, ROUTE = 0x11, 0x12, 0x13, 0x66
SUCCESS, RECORD, IGNORED, FAILURE = 0x70, 0x71, 0x7E, 0x7F


class Close(Exception):
    pass


def choose_version(data, supported):
    """Memgraph's per-slot selection (bolt.md 1.3)."""
    for i in range(4):
        slot = data[4 + 4 * i: 8 + 4 * i]
        rr, mm, major = slot[1], slot[2], slot[3]
        if major != 0 and mm != 0:
            for k in range(0, min(rr, mm) + 1):
                if (major, mm - k) in supported:
                    return (major, mm - k)
            continue
        if mm == 0 and major == 0:
            return None
        if (major, mm) in supported:
            return (major, mm)
    return None


def to_wire(v, major):
    if isinstance(v, WNode):
        f = [v.id, list(v.labels), to_wire(v.props, major)]
        if major >= 5:
            f.append(str(v.id))
        return Structure(0x4E, f)
    if isinstance(v, WRel):
        f = [v.id, v.src, v.dst, v.type, to_wire(v.props, major)]
        if major >= 5:
            f += [str(v.id), str(v.src), str(v.dst)]
        return Structure(0x52, f)
    if isinstance(v, WPath):
        nodes, node_idx = [], {}
        for n in v.nodes:
            if n.id not in node_idx:
                node_idx[n.id] = len(nodes)
                nodes.append(n)
        rels, rel_idx = [], {}
        for r in v.rels:
            if r.id not in rel_idx:
                rel_idx[r.id] = len(rels)
                rels.append(r)
        indices = []
        for i, r in enumerate(v.rels):
            prev = v.nodes[i]
            ri = rel_idx[r.id] + 1
            indices.append(ri if r.src == prev.id else -ri)
            indices.append(node_idx[v.nodes[i + 1].id])
        ub = []
        for r in rels:
            f = [r.id, r.type, to_wire(r.props, major)]
            if major >= 5:
                f.append(str(r.id))
            ub.append(Structure(0x72, f))
        return Structure(0x50, [[to_wire(n, major) for n in nodes], ub, indices])
    if isinstance(v, list):
        return [to_wire(x, major) for x in v]
    if isinstance(v, dict):
        return {k: to_wire(x, major) for k, x in v.items()}
    return v


class OpenResult:
    def __init__(self, prepared, qid):
        self.p = prepared
        self.qid = qid
        self.rows = None
        self.pos = 0


class BoltSession:
    def __init__(self, server, reader, writer):
        self.server = server
        self.inst = server.inst
        self.log = server.log
        self.reader = reader
        self.writer = writer
        self.version = None
        self.state = "init"
        self.hello_done = False
        self.txn = None
        # Memgraph's expect_rollback_: a query failed inside the explicit transaction, so COMMIT is refused
        self.expect_rollback = False
        self.qid = -1
        self.result = None
        self.user = None

    # ---- I/O
    async def read_message(self):
        buf = bytearray()
        while True:
            hdr = await self.reader.readexactly(2)
            (n,) = struct.unpack(">H", hdr)
            if n == 0:
                if not buf:
                    if self.version and self.version >= (4, 1):
                        continue  # NOOP
                    raise Close("NOOP not allowed")
                return bytes(buf)
            buf += await self.reader.readexactly(n)
            if len(buf) > MAX_MESSAGE:
                raise Close("message too large")

    def send(self, tag, *fields):
        self.writer.write(packstream.chunk(packstream.encode(Structure(tag, list(fields)))))

    def success(self, meta):
        self.send(SUCCESS, meta)

    def failure(self, code, message, keep_tx=False):
        """FAILURE and the Error state. An auto-commit query's transaction ends here; an explicit transaction stays
        open until RESET (Bolt 1: ACK_FAILURE keeps it) and, unless keep_tx (ExplicitTransactionUsageException),
        can only be rolled back: Interpreter::AbortCommand sets expect_rollback_ (src/query/interpreter.cpp)."""
        self.send(FAILURE, {"code": code, "message": message})
        self.state = "error"
        if self.result is not None and self.result.p.txn is not None:
            self.result.p.txn.rollback()
        self.result = None
        if self.txn is not None and not keep_tx:
            self.expect_rollback = True

    def abort_tx(self):
        if self.txn is not None:
            self.txn.rollback()
            self.txn = None
        self.expect_rollback = False
        if self.result is not None and self.result.p.txn is not None:
            self.result.p.txn.rollback()
        self.result = None

    # ---- explicit transactions, shared by Bolt's BEGIN/COMMIT/ROLLBACK messages and the queries of the same names
    # (Interpreter::PrepareTransactionQuery in src/query/interpreter.cpp: one handler for both paths, same texts)
    def begin_explicit(self):
        if self.txn is not None:
            raise TxUsageError("Nested transactions are not supported.")
        self.txn = self.inst.begin()
        self.expect_rollback = False

    async def commit_explicit(self):
        """Returns the commit's notifications ([main]: a SYNC failure's warning)."""
        if self.txn is None:
            raise TxUsageError("No current transaction to commit.")
        if self.expect_rollback:
            raise TxUsageError("Transaction can't be committed because there was a previous error. Please invoke a "
                               "rollback instead.")
        txn = self.txn
        try:
            await self.inst.commit(txn)
        except QueryError:
            # Memgraph: AbortCommand while still in the explicit transaction; RESET (or ROLLBACK) ends it
            self.expect_rollback = True
            raise
        self.txn = None
        return list(txn.warnings)

    def rollback_explicit(self):
        if self.txn is None:
            raise TxUsageError("No current transaction to rollback.")
        self.txn.rollback()
        self.txn = None
        self.expect_rollback = False

    # ---- main loop
    async def serve(self):
        try:
            data = await self.reader.readexactly(20)
            if data[:4] != MAGIC:
                return
            v = choose_version(data, self.inst.texts.bolt_versions())
            if v is None:
                return
            self.version = v
            self.writer.write(bytes([0, 0, v[1], v[0]]))
            await self.writer.drain()
            while True:
                raw = await self.read_message()
                try:
                    msg = packstream.decode_message(raw)
                except DecodeError as e:
                    raise Close("decode error: %s" % e)
                await self.dispatch(msg)
                await self.writer.drain()
        except (Close, asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            if isinstance(e, Close):
                self.log.debug("Closing Bolt session: %s" % e)
        finally:
            self.abort_tx()
            try:
                self.writer.close()
            except Exception:
                pass

    def _fields(self, msg, n):
        if len(msg.fields) != n:
            raise Close("wrong field count for 0x%02X" % msg.tag)

    async def dispatch(self, msg):
        tag = msg.tag
        major = self.version[0]
        if tag == GOODBYE and major >= 3:
            raise Close("GOODBYE")
        if self.state == "init":
            return self.on_init(msg)
        if self.state == "error":
            if tag == RESET:
                self.abort_tx()
                self.state = "idle"
                self.success({})
                return
            if tag == ACK_FAILURE and major == 1:
                # back to Idle without Abort(): an explicit transaction (query BEGIN) survives, marked for rollback
                # (src/communication/bolt/v1/states/error.hpp)
                self.state = "idle"
                self.success({})
                return
            # Memgraph decodes and drops everything else, answering IGNORED
            self.send(IGNORED)
            return
        if tag == RESET:
            self._fields(msg, 0)
            self.abort_tx()
            self.state = "idle"
            self.success({})
            return
        if self.state == "result":
            if tag in (PULL, DISCARD):
                return await self.on_pull(msg, tag == DISCARD)
            raise Close("Unexpected message 0x%02X in Result state" % tag)
        # idle
        if tag == RUN:
            return self.on_run(msg)
        if tag in (PULL, DISCARD):
            raise Close("Unexpected %s command!" % ("PULL" if tag == PULL else "DISCARD"))
        if major >= 3 and tag == BEGIN:
            self._fields(msg, 1)
            try:
                self.begin_explicit()
            except TxUsageError as e:
                return self.failure(e.code, e.message, keep_tx=True)
            self.qid = -1
            self.success({})
            return
        if major >= 3 and tag == COMMIT:
            self._fields(msg, 0)
            try:
                notes = await self.commit_explicit()
            except QueryError as e:
                return self.failure(e.code, e.message, keep_tx=isinstance(e, TxUsageError))
            # SessionHL::CommitTransaction (src/glue/SessionHL.cpp, [main]) puts a commit's notification in SUCCESS
            self.success({"notifications": notes} if notes else {})
            return
        if major >= 3 and tag == ROLLBACK:
            self._fields(msg, 0)
            try:
                self.rollback_explicit()
            except TxUsageError as e:
                return self.failure(e.code, e.message, keep_tx=True)
            self.success({})
            return
        if tag == ROUTE and self.version >= (4, 3):
            if self.inst.flags["management_port"]:
                return self.failure(CLIENT_ERROR, "Cannot fetch routing table from a data instance!")
            return self.failure(CLIENT_ERROR, "You cannot fetch routing table from an instance which is not part "
                                              "of a cluster.")
        if tag == LOGOFF and major >= 5:
            self.abort_tx()
            self.state = "init"
            self.success({})
            return
        raise Close("Unknown message 0x%02X" % tag)

    def authenticate(self, auth):
        users = self.inst.users
        if not users:
            return True
        scheme = auth.get("scheme", "none")
        principal = auth.get("principal", "")
        credentials = auth.get("credentials", "")
        if scheme == "basic" and principal in users and users[principal] == credentials:
            self.user = principal
            return True
        return False

    def greeting(self):
        return {"connection_id": "bolt-1", "server": self.inst.flags["bolt_server_name_for_init"]}

    def on_init(self, msg):
        tag = msg.tag
        major = self.version[0]
        if tag == HELLO and not self.hello_done:
            if major == 1:
                if len(msg.fields) != 2:
                    raise Close("INIT needs 2 fields")
                auth = msg.fields[1] if isinstance(msg.fields[1], dict) else {}
            else:
                self._fields(msg, 1)
                extra = msg.fields[0]
                if not isinstance(extra, dict) or "user_agent" not in extra:
                    raise Close("HELLO without user_agent")
                auth = extra
            if major >= 5:
                self.hello_done = True
                self.success(self.greeting())
                return
            if not self.authenticate(auth):
                self.send(FAILURE, {"code": UNAUTHENTICATED, "message": "Authentication failure"})
                raise Close("Authentication failure")
            self.state = "idle"
            self.success(self.greeting())
            return
        if tag == LOGON and major >= 5 and self.hello_done:
            self._fields(msg, 1)
            auth = msg.fields[0] if isinstance(msg.fields[0], dict) else {}
            if not self.authenticate(auth):
                self.send(FAILURE, {"code": UNAUTHENTICATED, "message": "Authentication failure"})
                raise Close("Authentication failure")
            self.state = "idle"
            self.success(self.greeting())
            return
        raise Close("unexpected message 0x%02X in Init" % tag)

    def on_run(self, msg):
        major = self.version[0]
        self._fields(msg, 2 if major == 1 else 3)
        query, params = msg.fields[0], msg.fields[1]
        if not isinstance(query, str) or not isinstance(params, dict):
            raise Close("bad RUN")
        try:
            p = prepare(self.inst, self, query, params)
        except QueryError as e:
            return self.failure(e.code, e.message, keep_tx=isinstance(e, TxUsageError))
        except RecursionError:
            return self.failure(CLIENT_ERROR, "Query is too deeply nested.")
        except Exception as e:  # an emulator bug must not kill the session silently
            self.log.error("Query preparation failed unexpectedly: %r" % e)
            return self.failure(DATABASE_ERROR, "Unexpected error: %s" % e)
        meta = {"fields": p.fields}
        if self.txn is not None:
            if p.tx_control == "BEGIN":
                self.qid = -1  # Interpreter::Prepare resets the interpreter for BEGIN: its execution is number 0
            self.qid += 1
            meta["qid"] = self.qid
        self.result = OpenResult(p, self.qid if self.txn is not None else -1)
        self.state = "result"
        self.success(meta)

    async def on_pull(self, msg, discard):
        major = self.version[0]
        n = -1
        if major >= 4:
            self._fields(msg, 1)
            extra = msg.fields[0] if isinstance(msg.fields[0], dict) else {}
            n = extra.get("n", -1)
            if not isinstance(n, int):
                raise Close("bad n")
        else:
            self._fields(msg, 0)
        r = self.result
        p = r.p
        if r.rows is None:
            try:
                r.rows = await p.action()
            except QueryError as e:
                return self.failure(e.code, e.message, keep_tx=isinstance(e, TxUsageError))
            except Exception as e:  # an emulator bug must not kill the server
                self.log.error("Query failed unexpectedly: %r" % e)
                return self.failure(DATABASE_ERROR, "Unexpected error: %s" % e)
        if discard:
            r.pos = len(r.rows)
        else:
            end = len(r.rows) if n < 0 else min(len(r.rows), r.pos + n)
            for row in r.rows[r.pos:end]:
                self.send(RECORD, to_wire(row, major))
            r.pos = end
        if r.pos < len(r.rows):
            self.success({"has_more": True})
            return
        if p.txn is not None:
            try:
                await self.inst.commit(p.txn)
            except QueryError as e:
                return self.failure(e.code, e.message)
            p.notifications = p.notifications + p.txn.warnings
        if p.tx_control:
            # BEGIN/COMMIT/ROLLBACK as queries: Interpreter::Prepare returns before filling the summary, so only
            # has_more (and a commit's notification) remain (src/query/interpreter.cpp, interpreter.hpp)
            meta = {"has_more": False}
            if p.notifications:
                meta["notifications"] = p.notifications
            self.result = None
            self.state = "idle"
            self.success(meta)
            return
        meta = {"has_more": False, "type": p.qtype, "db": "memgraph", "parsing_time": p.parse_time,
                "planning_time": p.plan_time, "cost_estimate": 0.0}
        if p.cypher:
            meta["plan_execution_time"] = p.exec_time
            meta["number_of_hops"] = 0
        if p.stats:
            meta["stats"] = p.stats
        if p.notifications:
            meta["notifications"] = p.notifications
        self.result = None
        self.state = "idle"
        self.success(meta)


class BoltServer:
    def __init__(self, inst, log):
        self.inst = inst
        self.log = log
        self.server = None
        self.sessions = set()

    async def start(self, host, port, ssl_ctx=None):
        self.server = await asyncio.start_server(self._conn, host, port, ssl=ssl_ctx, reuse_address=True)

    async def _conn(self, reader, writer):
        s = BoltSession(self, reader, writer)
        task = asyncio.current_task()
        self.sessions.add(task)
        try:
            await s.serve()
        except asyncio.CancelledError:
            pass  # shutdown: end quietly (a cancelled connection task makes asyncio print a traceback)
        finally:
            self.sessions.discard(task)

    async def stop(self):
        if self.server:
            self.server.close()
        for t in list(self.sessions):
            t.cancel()
