"""One emulated Memgraph instance: storage, transactions, queries, replication roles (memgraph.md)."""
import asyncio
import bisect
import json
import os
import time
import uuid

from .replication import RpcClient, RpcError, RpcTimeout, ReplicationServer, parse_endpoint
from .storage import Graph, Durability
from .texts import CLIENT_ERROR

DIVERGED_LOG = ("You cannot register Replica {n} to this Main because at one point Replica {n} acted as the Main "
                "instance. Both the Main and Replica {n} now hold unique data. Please resolve data conflicts and "
                "start the replication on a clean instance.")
NO_WAL_LOG = ("The instance has the MAIN replication role, but durability logs and snapshots are disabled. Please "
              "consider enabling durability by using --storage-snapshot-interval-sec and --storage-wal-enabled "
              "flags because without write-ahead logs this instance is not replicating any data.")


class QueryError(Exception):
    def __init__(self, message, code=CLIENT_ERROR):
        super().__init__(message)
        self.message = message
        self.code = code


class TxUsageError(QueryError):
    """Memgraph's ExplicitTransactionUsageException (BEGIN inside a transaction, COMMIT/ROLLBACK without one): the
    explicit transaction is left as it was, not marked for rollback (src/query/interpreter.hpp, Interpreter::Pull
    catches it apart from the other errors and skips AbortCommand)."""


def notification(code, title, severity="INFO"):
    return {"severity": severity, "code": code, "title": title, "description": ""}


def serialization_error(texts):
    """TransactionSerializationException (src/query/exceptions.hpp): re-worded with MessageWithDocsLink in 3.1."""
    if texts.at_least(3, 1):
        return ("Cannot resolve conflicting transactions. Retry this transaction when the conflicting transaction is "
                "finished. For more details, visit https://memgraph.com/docs")
    return "Cannot resolve conflicting transactions. You can retry this transaction when the conflicting " \
           "transaction is finished"


class ConflictError(Exception):
    pass


def touched(op):
    kind = op[0]
    if kind in ("cv", "dv", "sv", "al", "rl"):
        return [("v", op[1])]
    if kind == "ce":
        return [("e", op[1]), ("v", op[2]), ("v", op[3])]
    if kind in ("de", "se"):
        return [("e", op[1])]
    return []


class Txn:
    """Writes go straight to the graph; the undo log reverts them on abort. An object written by an open
    transaction cannot be written by another one (Memgraph's serialization error)."""

    def __init__(self, inst, start_ts):
        self.inst = inst
        self.g = inst.graph
        self.start_ts = start_ts
        self.redo = []
        self.undo = []
        self.done = False
        self.warnings = []
        self.keys = set()

    def do(self, op):
        owners = self.inst.owners
        keys = touched(op)
        if op[0] == "de" and op[1] in self.g.edges:
            e = self.g.edges[op[1]]
            keys += [("v", e.src), ("v", e.dst)]
        for k in keys:
            owner = owners.get(k)
            if owner is not None and owner is not self and not owner.done:
                raise ConflictError(serialization_error(self.inst.texts))
        if not self.redo:
            self.inst.active.append(self)
        self.undo.append(self.g.apply(op))
        self.redo.append(op)
        for k in keys:
            owners[k] = self
        self.keys.update(keys)

    def finish(self):
        self.done = True
        if self in self.inst.active:
            self.inst.active.remove(self)
        owners = self.inst.owners
        for k in self.keys:
            if owners.get(k) is self:
                del owners[k]
        self.keys = set()

    def rollback(self):
        if self.done:
            return
        self.finish()
        for u in reversed(self.undo):
            try:
                self.g.apply(u)
            except (KeyError, ValueError):
                pass
        self.undo = []
        self.redo = []


class Prepared:
    def __init__(self, fields, qtype="rw", cypher=False, notifications=None):
        self.fields = fields
        self.qtype = qtype
        self.cypher = cypher
        self.notifications = notifications or []
        self.stats = {}
        self.rows = None
        self.action = None      # async callable -> rows, run at first PULL
        self.clauses = None
        self.params = None
        self.write = False
        self.txn = None
        self.parse_time = 0.0
        self.plan_time = 0.0
        self.exec_time = 0.0
        self.tx_control = None  # "BEGIN", "COMMIT" or "ROLLBACK" for the transaction queries


class ReplicaClient:
    """MAIN's view of one registered replica (memgraph.md 2.2, 4, 5)."""

    def __init__(self, inst, name, mode, address, with_client):
        self.inst = inst
        self.name = name
        self.mode = mode
        self.address = address
        host, port = parse_endpoint(address)
        self.host, self.port = host, port
        self.with_client = with_client
        self.state = "invalid"
        self.ts = 0
        self.hb_rpc = RpcClient(host, port)
        self.data_rpc = RpcClient(host, port)
        self.wake = asyncio.Event()
        self.tasks = []
        self.shipping = False
        self.known = False  # replica timestamp learnt from a heartbeat at least once

    def start(self):
        if not self.with_client:
            return
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._heartbeats()), loop.create_task(self._shipper())]

    def stop(self):
        for t in self.tasks:
            t.cancel()
        self.tasks = []
        self.hb_rpc.close()
        self.data_rpc.close()

    def hb_timeout(self):
        return 10.0 if self.inst.texts.rpc_timeouts else None

    def data_timeout(self):
        return 30.0 if self.inst.texts.rpc_timeouts else None

    async def heartbeat(self):
        """Returns True when reachable; updates state per the divergence rule (memgraph.md 7.1)."""
        inst = self.inst
        try:
            resp = await self.hb_rpc.call({"type": "heartbeat", "main_uuid": inst.main_uuid, "epoch": inst.epoch},
                                          self.hb_timeout())
        except RpcError:
            if self.state != "diverged":
                self.state = "invalid"
            return False
        if not resp.get("ok"):
            if self.state != "diverged":
                self.state = "invalid"
            return False
        self.ts = resp["ts"]
        self.known = True
        if inst.diverged(resp["epoch"], resp["ts"]):
            self.state = "diverged"
            return True
        if self.state == "diverged":
            # the replica's history no longer conflicts (e.g. its data directory was wiped)
            self.state = "invalid"
        if self.ts >= inst.last_commit_ts:
            if not self.shipping:
                self.state = "ready"
        elif not self.shipping:
            self.state = "recovery"
            self.wake.set()
        return True

    async def _heartbeats(self):
        freq = self.inst.flags["replication_replica_check_frequency_sec"]
        if freq < 1:
            return
        while True:
            await asyncio.sleep(freq)
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # never let the checker die
                self.inst.log.error("Replica %s heartbeat failed: %s" % (self.name, e))

    async def _shipper(self):
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.state == "diverged":
                continue
            try:
                await self.ship()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.inst.log.error("Replica %s shipping failed: %s" % (self.name, e))

    async def ship(self, timeout=None):
        """Send everything the replica misses; True when it acknowledged being caught up."""
        inst = self.inst
        if not inst.wal_active():
            return True
        if not self.known and not self.shipping:
            if not await self.heartbeat() or self.state == "diverged":
                return False
        self.shipping = True
        try:
            first = True
            while self.ts < inst.last_commit_ts:
                if self.state == "ready" and first:
                    self.state = "replicating"
                elif self.state != "replicating" or not first:
                    self.state = "recovery"
                first = False
                target = inst.last_commit_ts
                if self.ts < inst.txlog_base_ts:
                    msg = {"type": "snapshot", "main_uuid": inst.main_uuid, "state": inst.state_dump()}
                else:
                    start = bisect.bisect_right(inst.txlog, self.ts, key=lambda t: t["ts"])
                    txs = inst.txlog[start:start + 5000]  # batches keep frames bounded
                    msg = {"type": "append", "main_uuid": inst.main_uuid, "epoch": inst.epoch, "txs": txs}
                try:
                    resp = await self.data_rpc.call(msg, timeout if timeout is not None else self.data_timeout())
                except RpcTimeout:
                    self.state = "invalid"
                    raise
                except RpcError:
                    self.state = "invalid"
                    return False
                if not resp.get("ok"):
                    self.state = "invalid"
                    return False
                if resp["ts"] <= self.ts and self.ts < target:
                    self.state = "invalid"  # no progress
                    return False
                self.ts = resp["ts"]
            self.state = "ready"
            return True
        finally:
            self.shipping = False

    def data_info(self):
        if not self.with_client:
            return {}
        return {"memgraph": {"behind": self.ts - self.inst.last_commit_ts, "status": self.state, "ts": self.ts}}


class Instance:
    def __init__(self, flags, texts, log, users):
        self.flags = flags
        self.texts = texts
        self.log = log
        self.users = users
        self.data_dir = flags["data_directory"]
        self.graph = Graph()
        self.counter = 0
        self.last_commit_ts = 0
        self.epoch = str(uuid.uuid4())
        self.history = []
        self.txlog = []
        self.txlog_base_ts = 0
        self.role = "main"
        self.repl_port = None
        self.main_uuid = str(uuid.uuid4())
        self.replicas = {}
        self.repl_server = None
        self.pending = None
        self.active = []
        self.owners = {}
        self.indexes = set()  # accepted for compatibility; not used for planning, not persisted or replicated
        self.commit_lock = asyncio.Lock()
        self.repl_lock_readers = 0  # commits holding the replication-state lock (Texts.commit_holds_repl_lock)
        self.snapshot_lock = asyncio.Lock()
        self.changed_since_snapshot = False
        self.next_snapshot_at = None
        self.locked_dir = False
        self.durability = Durability(self.data_dir, flags["storage_wal_enabled"],
                                     flags["storage_snapshot_retention_count"], log)
        self.repl_state_path = os.path.join(self.data_dir, "replication", "state.json")
        self.delay = flags["emulator_replication_delay_ms"] / 1000.0
        self.closing = False

    # ------------------------------------------------------------------ startup / shutdown
    def durability_enabled(self):
        return self.flags["storage_wal_enabled"] or self.flags["storage_snapshot_interval_sec"] > 0

    def wal_active(self):
        return self.flags["storage_wal_enabled"] and self.flags["storage_snapshot_interval_sec"] > 0

    async def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        if self.flags["data_recovery_on_startup"]:
            self.recover()
        elif self.durability_enabled():
            if self.durability.set_aside():
                self.log.warning("Since Memgraph was not supposed to recover on startup and durability is enabled, "
                                 "your current durability files will likely be overridden. To prevent important "
                                 "data loss, Memgraph has stored those files into a .backup directory inside the "
                                 "storage directory.")
        self.counter = self.last_commit_ts + 1 if self.last_commit_ts else 0
        if self.flags["replication_restore_state_on_startup"]:
            await self.restore_replication()
        else:
            self.log.warning("Replication configuration will NOT be stored. When the server restarts, replication "
                             "state will be forgotten.")
        if self.role == "main" and not self.wal_active():
            self.log.warning(NO_WAL_LOG)
        if self.flags["storage_snapshot_interval_sec"] > 0:
            self.next_snapshot_at = time.time() + self.flags["storage_snapshot_interval_sec"]
            asyncio.get_running_loop().create_task(self._periodic_snapshots())

    def recover(self):
        snap = self.durability.load_newest_snapshot()
        snap_ts = 0
        if snap:
            self.graph.load(snap["graph"])
            self.last_commit_ts = snap_ts = snap["ts"]
            self.epoch = snap["epoch"]
            self.history = [list(x) for x in snap["history"]]
            self.log.info("Recovered snapshot with timestamp %d" % snap_ts)
        self.txlog_base_ts = snap_ts
        n = 0
        for rec in self.durability.read_wal_records():
            if "epoch_change" in rec:
                if rec.get("at", 0) >= snap_ts:
                    self.epoch = rec["epoch_change"]
                    self.history = [list(x) for x in rec["history"]]
                continue
            if rec["ts"] <= self.last_commit_ts:
                continue
            try:
                for op in rec["ops"]:
                    self.graph.apply(tuple(op))
            except (KeyError, ValueError, TypeError) as e:
                self.log.error("WAL replay stopped at timestamp %d: %r" % (rec["ts"], e))
                break
            self.last_commit_ts = rec["ts"]
            self.epoch = rec["epoch"]
            self.txlog.append(rec)
            n += 1
        if n:
            self.log.info("Recovered %d transactions from WAL" % n)
        if self.last_commit_ts and not snap and not n:
            pass

    def load_repl_state(self):
        try:
            with open(self.repl_state_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def persist_repl_state(self):
        if not self.flags["replication_restore_state_on_startup"]:
            return True
        os.makedirs(os.path.dirname(self.repl_state_path), exist_ok=True)
        if self.role == "main":
            role = {"role": "main", "epoch": self.epoch, "main_uuid": self.main_uuid}
        else:
            role = {"role": "replica", "port": self.repl_port, "main_uuid": self.main_uuid}
        state = {"__replication_role": role,
                 "replicas": [{"name": c.name, "mode": c.mode, "endpoint": c.address}
                              for c in self.replicas.values()]}
        tmp = self.repl_state_path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(state, f)
            os.rename(tmp, self.repl_state_path)
        except OSError as e:
            self.log.error("Couldn't persist replication state: %s" % e)
            return False
        return True

    async def restore_replication(self):
        st = self.load_repl_state()
        if not st:
            self.persist_repl_state()
            return
        role = st["__replication_role"]
        if role["role"] == "replica" and not self.flags["management_port"]:
            self.role = "replica"
            self.repl_port = role["port"]
            self.main_uuid = role.get("main_uuid")
            try:
                await self.start_repl_server(self.repl_port)
            except OSError as e:
                self.log.error("Couldn't start the replication server on port %d: %s" % (self.repl_port, e))
        elif role["role"] == "replica":
            self.role = "replica"
            self.repl_port = role["port"]
            self.main_uuid = None  # HA-managed replicas forget the MAIN UUID
            await self.start_repl_server(self.repl_port)
        else:
            self.role = "main"
            self.main_uuid = role.get("main_uuid") or self.main_uuid
            if role.get("epoch") and role["epoch"] != self.epoch:
                # a MAIN's epoch changes only at promotion, which persists it here: this copy wins
                if self.last_commit_ts and not any(ep == self.epoch for ep, _ in self.history):
                    self.history.append([self.epoch, self.last_commit_ts])
                self.epoch = role["epoch"]
            for r in sorted(st.get("replicas", []), key=lambda x: x["name"]):
                c = ReplicaClient(self, r["name"], r["mode"], r["endpoint"], True)
                self.replicas[c.name] = c
                c.start()
                c.wake.set()

    async def start_repl_server(self, port):
        srv = ReplicationServer(self.handle_rpc, self.log)
        await srv.start(self.flags["bolt_address"], port)
        self.repl_server = srv

    async def shutdown(self):
        self.closing = True
        for c in self.replicas.values():
            c.stop()
        if self.repl_server:
            await self.repl_server.stop()
        if self.flags["storage_snapshot_on_exit"] and (self.role == "main" or self.texts.replica_snapshots):
            try:
                self.create_snapshot()
            except Exception as e:
                self.log.error("Snapshot on exit failed: %s" % e)
        self.durability.close()

    # ------------------------------------------------------------------ durability
    def committed_view(self, own=None):
        """The graph without the changes of open transactions other than `own` (a copy when there are any)."""
        others = [t for t in self.active if t is not own]
        if not others:
            return self.graph
        graph = Graph()
        graph.load(self.graph.dump())
        for txn in reversed(others):
            for u in reversed(txn.undo):
                try:
                    graph.apply(u)
                except (KeyError, ValueError):
                    pass
        return graph

    def state_dump(self):
        """Committed state only: changes of transactions still open are undone on a copy."""
        graph = self.committed_view()
        return {"ts": self.last_commit_ts, "epoch": self.epoch, "history": self.history, "graph": graph.dump()}

    def create_snapshot(self):
        path = self.durability.write_snapshot(self.state_dump())
        self.changed_since_snapshot = False
        snaps = self.durability.list_snapshots()
        if snaps:
            oldest = min(ts for _, ts, _, _ in snaps)
            keep = [t for t in self.txlog if t["ts"] > oldest]
            if len(keep) != len(self.txlog):
                self.txlog = keep
                self.txlog_base_ts = max(self.txlog_base_ts, oldest)
        self.log.info("Snapshot created: %s" % path)
        return path

    async def _periodic_snapshots(self):
        interval = self.flags["storage_snapshot_interval_sec"]
        while not self.closing:
            await asyncio.sleep(max(0.05, self.next_snapshot_at - time.time()))
            if time.time() < self.next_snapshot_at:
                continue
            self.next_snapshot_at = time.time() + interval
            if self.role == "replica" and not self.texts.replica_snapshots:
                continue
            if not self.changed_since_snapshot:
                continue
            try:
                self.create_snapshot()
            except Exception as e:
                self.log.error("Periodic snapshot failed: %s" % e)

    def wal_epoch_change(self):
        self.durability.wal_write({"epoch_change": self.epoch, "history": self.history, "at": self.last_commit_ts})

    # ------------------------------------------------------------------ epochs
    def diverged(self, replica_epoch, replica_ts):
        if replica_epoch == self.epoch or replica_ts == 0:
            return False
        for ep, ts in self.history:
            if ep == replica_epoch:
                return replica_ts > ts
        return True

    # ------------------------------------------------------------------ replica-side RPC handling
    async def handle_rpc(self, msg):
        kind = msg.get("type")
        if self.role != "replica":
            return {"ok": False, "error": "not a replica"}
        if kind == "swap_uuid":
            self.main_uuid = msg["uuid"]
            self.persist_repl_state()
            self.log.info("Replica now follows MAIN %s" % self.main_uuid)
            return {"ok": True}
        if msg.get("main_uuid") != self.main_uuid:
            name = {"heartbeat": "HeartbeatRpc", "append": "AppendDeltasRpc", "snapshot": "SnapshotRpc",
                    "prepare": "PrepareCommitRpc", "finalize": "FinalizeCommitRpc"}.get(kind, kind)
            self.log.warning("Received %s with main_id: %s != current_main_uuid: %s"
                             % (name, msg.get("main_uuid"), self.main_uuid))
            return {"ok": False, "error": "wrong main"}
        if kind == "heartbeat":
            return {"ok": True, "epoch": self.epoch, "ts": self.last_commit_ts}
        if kind in ("append", "snapshot", "prepare") and self.delay > 0:
            await asyncio.sleep(self.delay)
            if self.role != "replica" or msg.get("main_uuid") != self.main_uuid:
                return {"ok": False, "error": "role changed"}
        if kind == "append":
            self.apply_remote(msg["txs"], msg["epoch"])
            return {"ok": True, "ts": self.last_commit_ts}
        if kind == "snapshot":
            self.load_remote_snapshot(msg["state"])
            return {"ok": True, "ts": self.last_commit_ts}
        if kind == "prepare":
            self.pending = (msg["tx"], msg["epoch"])
            return {"ok": True}
        if kind == "finalize":
            if msg["commit"] and self.pending is not None:
                tx, ep = self.pending
                self.apply_remote([tx], ep)
            self.pending = None
            return {"ok": True, "ts": self.last_commit_ts}
        return {"ok": False, "error": "unknown rpc"}

    def adopt_epoch(self, epoch):
        if epoch != self.epoch:
            if self.last_commit_ts != 0:
                self.history.append([self.epoch, self.last_commit_ts])
                self.history = self.history[-1000:]
            self.epoch = epoch
            self.wal_epoch_change()

    def apply_remote(self, txs, epoch):
        for tx in txs:
            if tx["ts"] <= self.last_commit_ts:
                continue
            undo = []
            try:
                for op in tx["ops"]:
                    undo.append(self.graph.apply(tuple(op)))
            except (KeyError, ValueError, TypeError) as e:
                for u in reversed(undo):
                    self.graph.apply(u)
                self.log.error("Couldn't apply transaction %d received from MAIN: %r" % (tx["ts"], e))
                raise
            self.adopt_epoch(tx.get("epoch", epoch))
            self.last_commit_ts = tx["ts"]
            self.counter = max(self.counter, tx["ts"] + 1)
            rec = {"ts": tx["ts"], "epoch": self.epoch, "ops": tx["ops"]}
            self.durability.wal_write(rec)
            self.txlog.append(rec)
            self.changed_since_snapshot = True

    def load_remote_snapshot(self, state):
        self.durability.wipe()
        self.graph.load(state["graph"])
        self.last_commit_ts = state["ts"]
        self.counter = max(self.counter, state["ts"] + 1)
        self.epoch = state["epoch"]
        self.history = [list(x) for x in state["history"]]
        self.txlog = []
        self.txlog_base_ts = state["ts"]
        self.durability.write_snapshot(self.state_dump())
        self.log.info("Replica recovered from a snapshot sent by MAIN (timestamp %d)" % state["ts"])

    # ------------------------------------------------------------------ transactions
    def begin(self):
        ts = self.counter
        self.counter += 1
        return Txn(self, ts)

    async def commit(self, txn):
        """Commit on MAIN with replication per mode; raises QueryError on SYNC/STRICT_SYNC failures."""
        if txn.done:
            return
        if not txn.redo:
            txn.finish()
            return
        if not self.texts.commit_holds_repl_lock:
            async with self.commit_lock:
                await self._commit_ordered(txn)
        elif self.texts.at_least(3, 1):
            self._hold_repl_lock(txn)
            try:
                async with self.commit_lock:
                    await self._commit_ordered(txn)
            finally:
                self.repl_lock_readers -= 1
        else:
            async with self.commit_lock:
                self._hold_repl_lock(txn)
                try:
                    await self._commit_ordered(txn)
                finally:
                    self.repl_lock_readers -= 1

    def _hold_repl_lock(self, txn):
        """Takes the replication-state lock for a commit: a write transaction of an instance that is no longer
        MAIN is refused (it began before a demotion)."""
        if self.role != "main":
            txn.rollback()
            raise QueryError("Cannot commit because instance is not main anymore.")
        self.repl_lock_readers += 1

    def repl_lock_busy(self):
        """True while a commit holds the replication-state lock, so a TryLock of a role change fails."""
        return self.texts.commit_holds_repl_lock and self.repl_lock_readers > 0

    async def _commit_ordered(self, txn):
        """The commit in commit order (under commit_lock): local commit and replication per mode."""
        ts = self.counter
        self.counter += 1
        rec = {"ts": ts, "epoch": self.epoch, "ops": [list(op) for op in txn.redo]}
        if not self.wal_active() or not self.replicas:
            self._commit_local(txn, rec)
            return
        clients = [c for c in self.replicas.values() if c.with_client]
        strict = [c for c in clients if c.mode == "strict_sync"]
        if strict:
            await self._commit_2pc(txn, rec, strict, clients)
            return
        self._commit_local(txn, rec)
        failures = []
        sync = [c for c in clients if c.mode == "sync"]
        results = await asyncio.gather(*[self._ship_sync(c) for c in sync])
        for c, r in zip(sync, results):
            if r is not None:
                failures.append((c.name, "sync", r))
        for c in clients:
            if c.mode == "async":
                if c.shipping and c.state == "replicating":
                    # the previous shipment is still in flight: marked behind, recovered later
                    c.state = "invalid"
                c.wake.set()
        for c in self.replicas.values():
            if c.state == "diverged":
                self.log.error("Couldn't replicate data to %s since replica has diverged from main." % c.name)
        if failures:
            text = self.texts.replication_failure(failures, True)
            if self.texts.is_main_branch:
                txn.warnings.append(notification("SyncReplicationFailure", text, "WARNING"))
                return
            raise QueryError(text)

    def _commit_local(self, txn, rec):
        self.durability.wal_write(rec)
        self.txlog.append(rec)
        self.last_commit_ts = rec["ts"]
        self.changed_since_snapshot = True
        txn.finish()

    async def _ship_sync(self, c):
        if c.state == "diverged":
            return "diverged"
        if c.state not in ("ready", "replicating"):
            c.wake.set()
            return "unreachable"
        try:
            ok = await c.ship()
        except RpcTimeout:
            return "timeout"
        if not ok:
            c.wake.set()
            return "rpc"
        return None

    async def _commit_2pc(self, txn, rec, strict, clients):
        failures = []
        for c in strict:
            if c.state == "diverged":
                failures.append((c.name, "strict_sync", "diverged"))
            elif c.state != "ready" or c.ts != self.last_commit_ts:
                failures.append((c.name, "strict_sync", "unreachable"))
                c.wake.set()
        prepared = []
        if not failures:
            async def prepare(c):
                try:
                    resp = await c.data_rpc.call({"type": "prepare", "main_uuid": self.main_uuid, "epoch": self.epoch,
                                                  "tx": rec}, c.data_timeout())
                except RpcTimeout:
                    c.state = "invalid"
                    return "timeout"
                except RpcError:
                    c.state = "invalid"
                    return "rpc"
                if not resp.get("ok"):
                    c.state = "invalid"
                    return "rpc"
                return None
            results = await asyncio.gather(*[prepare(c) for c in strict])
            for c, r in zip(strict, results):
                if r is None:
                    prepared.append(c)
                else:
                    failures.append((c.name, "strict_sync", r))
        if failures:
            for c in prepared:
                try:
                    await c.data_rpc.call({"type": "finalize", "main_uuid": self.main_uuid, "commit": False},
                                          c.data_timeout())
                except RpcError:
                    c.state = "invalid"
            txn.rollback()
            raise QueryError(self.texts.replication_failure(failures, False))
        self._commit_local(txn, rec)

        async def finalize(c):
            try:
                resp = await c.data_rpc.call({"type": "finalize", "main_uuid": self.main_uuid, "commit": True},
                                             c.data_timeout())
                if resp.get("ok"):
                    c.ts = resp["ts"]
                    c.state = "ready" if c.ts >= self.last_commit_ts else "invalid"
            except RpcError:
                c.state = "invalid"
        await asyncio.gather(*[finalize(c) for c in strict])
        for c in clients:
            if c.mode == "async":
                c.wake.set()
            # SYNC replicas mixed with STRICT_SYNC receive nothing ("SYNC replica cannot be part of 2PC")

    # ------------------------------------------------------------------ replication actions
    async def register_replica(self, name, mode, address):
        t = self.texts
        if self.role != "main":
            raise QueryError("Replica can't register another replica!")
        ep = parse_endpoint(address)
        if ep is None:
            raise QueryError(t.invalid_address())
        shown = address if ":" in address else address + ":10000"
        if self.repl_lock_busy():
            raise QueryError(t.register_failed(name, 6))
        if name in self.replicas:
            raise QueryError(t.register_failed(name, 1))
        if any(c.address == shown for c in self.replicas.values()):
            raise QueryError(t.register_failed(name, 2))
        c = ReplicaClient(self, name, mode, shown, False)
        self.replicas[name] = c
        if not self.persist_repl_state():
            del self.replicas[name]
            raise QueryError(t.register_failed(name, 4))
        try:
            resp = await c.hb_rpc.call({"type": "swap_uuid", "uuid": self.main_uuid}, 10.0)
            ok = bool(resp.get("ok"))
        except RpcError:
            ok = False
        if not ok:
            c.hb_rpc.close()
            self.log.error("Failed to register replica %s: it did not accept this MAIN (unreachable or not a "
                           "replica)." % name)
            raise QueryError(t.register_failed(name, 5))
        c.with_client = True
        await c.heartbeat()
        if c.state == "diverged":
            self.log.error(DIVERGED_LOG.format(n=name))
            c.stop()
            del self.replicas[name]
            self.persist_repl_state()
            raise QueryError(t.register_failed(name, 3))
        c.start()
        if c.state in ("recovery",) or c.ts < self.last_commit_ts:
            c.wake.set()
        self.log.info("Replica %s registered (%s, %s)" % (name, mode, shown))

    def drop_replica(self, name):
        if self.role != "main":
            raise QueryError(self.texts.drop_on_replica())
        if self.repl_lock_busy():
            raise QueryError(self.texts.drop_lock_busy())
        c = self.replicas.pop(name, None)
        if c is None:
            raise QueryError(self.texts.drop_unknown(name))
        c.stop()
        self.persist_repl_state()

    async def promote(self):
        if self.role == "main":
            raise QueryError("Couldn't set replication role to main!")
        if self.repl_server:
            await self.repl_server.stop()
            self.repl_server = None
        self.history.append([self.epoch, self.last_commit_ts])
        self.history = self.history[-1000:]
        self.epoch = str(uuid.uuid4())
        self.main_uuid = str(uuid.uuid4())
        self.role = "main"
        self.repl_port = None
        self.pending = None
        self.counter = max(self.counter, self.last_commit_ts + 1)
        self.wal_epoch_change()
        self.persist_repl_state()
        self.log.info("Promoted to MAIN; new epoch %s" % self.epoch)
        if not self.wal_active():
            self.log.warning(NO_WAL_LOG)

    async def demote(self, port):
        if self.repl_lock_busy():
            self.log.debug("Cannot acquire lock on repl state while setting role to replica.")
            raise QueryError("Couldn't set role to replica!")
        if self.role == "replica":
            raise QueryError("Couldn't set role to replica!")
        try:
            await self.start_repl_server(port)
        except OSError as e:
            self.log.error("Couldn't start the replication server on port %d: %s" % (port, e))
            raise QueryError("Couldn't set role to replica!")
        for c in self.replicas.values():
            c.stop()
        self.replicas = {}
        self.role = "replica"
        self.repl_port = port
        self.main_uuid = None
        self.persist_repl_state()
        self.log.info("Demoted to REPLICA; replication server listening on port %d" % port)

    async def show_replicas(self):
        if self.role != "main":
            raise QueryError(self.texts.show_replicas_on_replica())
        rows = []
        for c in list(self.replicas.values()):
            if not c.with_client:
                info = {}
            elif self.texts.cached_replicas:
                info = c.data_info()
            else:
                # v2.21 - v3.0: a live timestamp RPC per replica (no timeout)
                try:
                    resp = await c.hb_rpc.call({"type": "heartbeat", "main_uuid": self.main_uuid,
                                                "epoch": self.epoch}, c.hb_timeout())
                    ok = resp.get("ok")
                except RpcError:
                    ok = False
                if not ok:
                    if c.state != "diverged":
                        c.state = "invalid"
                    info = {"memgraph": {"behind": 0, "status": c.state, "ts": 0}}
                else:
                    c.ts = resp["ts"]
                    behind = c.ts - self.last_commit_ts
                    if behind != 0 and c.state != "diverged" and not c.shipping:
                        c.state = "invalid"
                        c.wake.set()
                    info = {"memgraph": {"behind": behind, "status": c.state, "ts": c.ts}}
            rows.append([c.name, c.address, c.mode, None, info])
        return rows
