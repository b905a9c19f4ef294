"""Query dispatch: system queries by keyword, everything else through the Cypher subset."""
import datetime
import os
import resource
import time

from . import cypher
from .cypher import CypherSyntaxError, CypherSemanticError, CypherRuntimeError, tokenize
from .instance import QueryError, Prepared, notification, ConflictError
from .storage import readable_size
from .texts import TRANSIENT_ERROR


def syntax_error_at(text, tok):
    line = text.count("\n", 0, tok.pos) + 1
    col = tok.pos - (text.rfind("\n", 0, tok.pos) + 1)
    return QueryError("line %d:%d mismatched input '%s' expecting <EOF>" % (line, col, tok.value))


class TokStream:
    def __init__(self, text):
        self.text = text
        self.toks = tokenize(text)
        while len(self.toks) > 1 and self.toks[-2].kind == "op" and self.toks[-2].value == ";":
            self.toks.pop(-2)
        self.i = 0

    @property
    def t(self):
        return self.toks[self.i]

    def kw(self, *words):
        t = self.t
        return t.kind == "name" and t.upper in words

    def words(self, *words):
        """Consume a keyword sequence if it matches completely."""
        for k, w in enumerate(words):
            t = self.toks[min(self.i + k, len(self.toks) - 1)]
            if not (t.kind == "name" and t.upper == w):
                return False
        self.i += len(words)
        return True

    def expect(self, *words):
        for w in words:
            if not self.kw(w):
                raise syntax_error_at(self.text, self.t)
            self.i += 1

    def end(self):
        if self.t.kind != "eof":
            raise syntax_error_at(self.text, self.t)

    def name(self):
        t = self.t
        if t.kind in ("name", "ident"):
            self.i += 1
            return t.value
        raise syntax_error_at(self.text, t)


def fmt_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat()


def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def _mem_total():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


# isspace() in the C locale, as utils::Trim uses it (src/utils/string.hpp)
_C_SPACE = " \t\n\v\f\r"


def transaction_query(text):
    """'BEGIN', 'COMMIT' or 'ROLLBACK' when the whole query is that word: Interpreter::Parse compares the trimmed,
    ASCII-upper-cased text with them before any parsing (src/query/interpreter.cpp), so `BEGIN;` or
    `BEGIN TRANSACTION` go to the Cypher parser instead."""
    word = "".join(c.upper() if c.isascii() else c for c in text.strip(_C_SPACE))
    return word if word in ("BEGIN", "COMMIT", "ROLLBACK") else None


def _transaction_control(session, word):
    """Fields [], the handler at PULL (Interpreter::PrepareTransactionQuery): the texts come from the session."""
    p = Prepared([], None)
    p.tx_control = word

    async def action():
        if word == "BEGIN":
            session.begin_explicit()
            session.qid = 0  # the BEGIN query's own execution keeps slot 0, so the next query is number 1
        elif word == "COMMIT":
            p.notifications = await session.commit_explicit()
        else:
            session.rollback_explicit()
        return []
    p.action = action
    return p


def prepare(inst, session, text, params):
    """Parse and check a query (errors here answer RUN); return a Prepared whose action runs on PULL."""
    t0 = time.perf_counter()
    word = transaction_query(text)
    if word is not None:
        p = _transaction_control(session, word)
        p.parse_time = time.perf_counter() - t0
        return p
    in_tx = session.txn is not None
    try:
        ts = TokStream(text)
    except CypherSyntaxError as e:
        raise QueryError(str(e))
    p = _system(inst, session, ts, text, in_tx)
    if p is not None:
        p.parse_time = time.perf_counter() - t0
        return p
    try:
        clauses = cypher.parse(text)
        columns = cypher.check_and_columns(clauses)
    except (CypherSyntaxError, CypherSemanticError) as e:
        raise QueryError(str(e))
    p = Prepared(columns, cypher.query_type(clauses), cypher=True)
    p.parse_time = time.perf_counter() - t0
    p.write = cypher.is_write(clauses)
    if p.write and inst.role == "replica":
        raise QueryError(inst.texts.write_on_replica())
    p.clauses = clauses
    p.params = params

    async def action():
        t1 = time.perf_counter()
        txn = session.txn if session.txn is not None else inst.begin()
        stats = cypher.Stats()
        # read-only queries see committed data plus their own transaction's writes; writers work on the live graph
        graph = inst.graph if p.write else inst.committed_view(txn)
        ex = cypher.Executor(graph, txn, params, stats, inst.flags["storage_properties_on_edges"])
        try:
            _, rows = ex.run(clauses)
            rows = [[cypher.materialize(v) for v in r] for r in rows]
        except (CypherRuntimeError, CypherSemanticError, ConflictError, KeyError, TypeError, ValueError,
                IndexError, RecursionError) as e:
            if session.txn is None:
                txn.rollback()
            if isinstance(e, ConflictError):
                raise QueryError(str(e), TRANSIENT_ERROR)
            if isinstance(e, (CypherRuntimeError, CypherSemanticError)):
                raise QueryError(str(e))
            raise QueryError("Query failed: %s" % e)
        p.stats = stats.as_dict()
        p.exec_time = time.perf_counter() - t1
        if session.txn is None:
            p.txn = txn
        return rows
    p.action = action
    return p


def _fixed(columns, rows, qtype="rw", notes=None):
    p = Prepared(columns, qtype, notifications=notes)

    async def action():
        return rows() if callable(rows) else rows
    p.action = action
    return p


def _action(columns, fn, notes=None):
    p = Prepared(columns, "rw", notifications=notes)
    p.action = fn
    return p


def _replication_guard(inst, in_tx, managed_text):
    if in_tx:
        raise QueryError(inst.texts.multicommand_replication())
    if managed_text and inst.flags["management_port"]:
        raise QueryError(managed_text)


def _system(inst, session, ts, text, in_tx):
    t = inst.texts
    if ts.kw("SHOW"):
        if ts.words("SHOW", "VERSION"):
            ts.end()
            return _fixed(["version"], [[t.version_string]])
        if ts.words("SHOW", "BUILD", "INFO"):
            ts.end()
            return _fixed(["build info", "value"], [["build_type", "Release"]])
        if ts.words("SHOW", "STORAGE", "INFO"):
            if t.at_least(3, 10):
                if ts.words("ON", "CURRENT", "DATABASE"):
                    pass
                elif ts.words("ON", "DATABASE"):
                    ts.name()
            ts.end()
            return _fixed(["storage info", "value"], lambda: storage_info(inst))
        if ts.words("SHOW", "CONFIG"):
            ts.end()
            return _fixed(["name", "default_value", "current_value", "description"], lambda: show_config(inst))
        if ts.words("SHOW", "REPLICATION", "ROLE"):
            ts.end()
            return _fixed(["replication role"], lambda: [[inst.role]])
        if ts.words("SHOW", "REPLICAS"):
            ts.end()
            _replication_guard(inst, in_tx, None)

            async def show():
                return await inst.show_replicas()
            return _action(["name", "socket_address", "sync_mode", "system_info", "data_info"], show)
        if t.show_snapshots and ts.words("SHOW", "SNAPSHOTS"):
            ts.end()
            return _fixed(["path", "timestamp", "creation_time", "size"], lambda: show_snapshots(inst))
        if t.show_next_snapshot and ts.words("SHOW", "NEXT", "SNAPSHOT"):
            ts.end()

            def nxt():
                if inst.next_snapshot_at is None:
                    return []
                return [[inst.durability.snap_dir, fmt_time(inst.next_snapshot_at)]]
            return _fixed(["path", "creation_time"], nxt)
        return None
    if ts.kw("SET") and ts.toks[1].kind == "name" and ts.toks[1].upper == "REPLICATION":
        ts.expect("SET", "REPLICATION", "ROLE", "TO")
        if ts.kw("MAIN"):
            ts.i += 1
            role, port = "main", None
        elif ts.kw("REPLICA"):
            ts.i += 1
            role, port = "replica", None
        else:
            raise syntax_error_at(text, ts.t)
        has_port = False
        if ts.words("WITH", "PORT"):
            has_port = True
            tok = ts.t
            if tok.kind != "int":
                if tok.kind == "eof":
                    raise syntax_error_at(text, tok)
                raise QueryError("Port must be an integer literal!")
            ts.i += 1
            port = int(tok.value, 0) if tok.value.lower().startswith("0x") else int(tok.value)
        ts.end()
        if role == "main" and has_port:
            raise QueryError("Main can't set a port!")
        if role == "replica" and not has_port:
            raise QueryError("Replica must set a port!")
        _replication_guard(inst, in_tx, "Can't set role manually on instance with coordinator server port.")
        notes = [notification("SetReplica", "Replica role set to %s." % role.upper())]
        if role == "replica" and port == 7687:
            notes.append(notification("ReplicaPortWarning", "Be careful the replication port must be different "
                                      "from the memgraph port!", "WARNING"))

        async def set_role():
            if role == "main":
                await inst.promote()
            else:
                if port < 0 or port > 65535:
                    raise QueryError("Port number invalid!")
                await inst.demote(port)
            return []
        return _action([], set_role, notes)
    if ts.kw("REGISTER") and ts.toks[1].kind == "name" and ts.toks[1].upper == "REPLICA":
        ts.expect("REGISTER", "REPLICA")
        name = ts.name()
        modes = {"SYNC": "sync", "ASYNC": "async"}
        if t.strict_sync:
            modes["STRICT_SYNC"] = "strict_sync"
        if not (ts.t.kind == "name" and ts.t.upper in modes):
            raise syntax_error_at(text, ts.t)
        mode = modes[ts.t.upper]
        ts.i += 1
        ts.expect("TO")
        addr_tok = ts.t
        if addr_tok.kind == "eof":
            raise syntax_error_at(text, addr_tok)
        ts.i += 1
        if addr_tok.kind == "param":
            raise syntax_error_at(text, addr_tok)
        ts.end()
        if addr_tok.kind != "str":
            raise QueryError("Socket address should be a string literal!")
        _replication_guard(inst, in_tx, "Can't register replica manually on instance with coordinator server port.")
        notes = [notification("RegisterReplica", "Replica %s is registered." % name)]

        async def register():
            await inst.register_replica(name, mode, addr_tok.value)
            return []
        return _action([], register, notes)
    if ts.kw("DROP") and ts.toks[1].kind == "name" and ts.toks[1].upper == "REPLICA":
        ts.expect("DROP", "REPLICA")
        name = ts.name()
        ts.end()
        _replication_guard(inst, in_tx, "Can't drop replica manually on instance with coordinator server port.")
        notes = [notification("DropReplica", "Replica %s is dropped." % name)]

        async def drop():
            inst.drop_replica(name)
            return []
        return _action([], drop, notes)
    if ts.words("CREATE", "INDEX", "ON") or ts.words("DROP", "INDEX", "ON"):
        creating = ts.toks[0].upper == "CREATE"
        if not (ts.t.kind == "op" and ts.t.value == ":"):
            raise syntax_error_at(text, ts.t)
        ts.i += 1
        label = ts.name()
        props = []
        if ts.t.kind == "op" and ts.t.value == "(":
            ts.i += 1
            while True:
                props.append(ts.name())
                if ts.t.kind == "op" and ts.t.value == ",":
                    ts.i += 1
                    continue
                break
            if not (ts.t.kind == "op" and ts.t.value == ")"):
                raise syntax_error_at(text, ts.t)
            ts.i += 1
        ts.end()
        if in_tx:
            raise QueryError("Index manipulation not allowed in multicommand transactions.")
        if inst.role == "replica":
            raise QueryError("Query forbidden on the replica!")
        key = (label, tuple(props))
        exists = key in inst.indexes
        if creating:
            note = notification("IndexAlreadyExists", "Index already exists.") if exists else \
                notification("CreateIndex", "Created index on label %s on properties %s." % (label, ", ".join(props)))
        else:
            note = notification("DropIndex", "Dropped index on label %s on properties %s." % (label, ", ".join(props))) \
                if exists else notification("IndexDoesNotExist", "Index doesn't exist.")

        async def index():
            if creating:
                inst.indexes.add(key)
            else:
                inst.indexes.discard(key)
            return []
        return _action([], index, [note])
    if ts.words("CREATE", "SNAPSHOT"):
        ts.end()
        if in_tx:
            raise QueryError(t.snapshot_in_multicommand())

        async def snap():
            if inst.role == "replica" and not t.replica_snapshots:
                raise QueryError(t.snapshot_on_replica(), TRANSIENT_ERROR)
            if inst.snapshot_lock.locked():
                raise QueryError(t.snapshot_in_progress(), TRANSIENT_ERROR)
            if t.snapshot_nothing_written and not inst.changed_since_snapshot and \
                    inst.durability.list_snapshots():
                raise QueryError(t.snapshot_nothing(), TRANSIENT_ERROR)
            async with inst.snapshot_lock:
                path = inst.create_snapshot()
            return [[path]] if t.snapshot_path_column else []
        return _action(["path"] if t.snapshot_path_column else [], snap)
    if t.show_snapshots and ts.words("RECOVER", "SNAPSHOT"):
        tok = ts.t
        if tok.kind != "str":
            raise syntax_error_at(text, tok)
        ts.i += 1
        force = ts.words("FORCE")
        ts.end()

        async def recover():
            if inst.role == "replica":
                raise QueryError("Failed to recover a snapshot. Replica instances are not allowed to create them.",
                                 TRANSIENT_ERROR)
            if inst.replicas and not t.at_least(3, 4):
                raise QueryError("Failed to recover a snapshot. Cannot recover if instance has registered replicas.",
                                 TRANSIENT_ERROR)
            if (inst.graph.vertices or inst.graph.edges) and not force:
                raise QueryError("Failed to recover a snapshot. Storage is not clean. Try using FORCE.",
                                 TRANSIENT_ERROR)
            import json
            try:
                with open(tok.value) as f:
                    state = json.load(f)
            except (OSError, ValueError):
                raise QueryError("Failed to recover a snapshot. Couldn't read snapshot file.", TRANSIENT_ERROR)
            inst.load_remote_snapshot(state)
            inst.counter = max(inst.counter, inst.last_commit_ts + 1)
            for c in inst.replicas.values():
                c.wake.set()
            return []
        return _action([], recover)
    if ts.words("LOCK", "DATA", "DIRECTORY") or ts.words("UNLOCK", "DATA", "DIRECTORY"):
        ts.end()
        locking = ts.toks[0].upper == "LOCK"

        async def lock():
            inst.locked_dir = locking
            inst.durability.locked = locking
            if not locking:
                inst.durability.apply_retention()
            return []
        return _action([], lock)
    if ts.words("DATA", "DIRECTORY", "LOCK", "STATUS"):
        ts.end()
        return _fixed(["data_directory_lock_status"], lambda: [["locked" if inst.locked_dir else "unlocked"]])
    return None


def storage_info(inst):
    g = inst.graph
    v, e = len(g.vertices), len(g.edges)
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            mmc = int(f.read().strip())
    except (OSError, ValueError):
        mmc = -1
    rss = _rss_bytes()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    limit = inst.flags["memory_limit"] * 1024 * 1024 if inst.flags["memory_limit"] else int(_mem_total() * 0.9)
    return [
        ["name", "memgraph"],
        ["vertex_count", v],
        ["edge_count", e],
        ["average_degree", (2.0 * e / v) if v else 0.0],
        ["vm_max_map_count", mmc],
        ["memory_res", readable_size(rss)],
        ["peak_memory_res", readable_size(peak)],
        ["unreleased_delta_objects", 0],
        ["disk_usage", readable_size(_dir_size(inst.data_dir))],
        ["memory_tracked", readable_size(rss)],
        ["allocation_limit", readable_size(limit)],
        ["global_isolation_level", "SNAPSHOT_ISOLATION"],
        ["session_isolation_level", ""],
        ["next_session_isolation_level", ""],
        ["storage_mode", "IN_MEMORY_TRANSACTIONAL"],
    ]


def show_snapshots(inst):
    rows = [[p, ts, fmt_time(mtime), readable_size(size)] for p, ts, mtime, size in inst.durability.list_snapshots()]
    if not inst.texts.show_next_snapshot and inst.next_snapshot_at is not None:
        rows.append([inst.durability.snap_dir, 0, fmt_time(inst.next_snapshot_at), readable_size(0)])
    return rows


def _flag_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return ("%f" % v).rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def show_config(inst):
    from .main import FLAGS
    rows = []
    for name in sorted(FLAGS):
        if name.startswith("emula"):
            continue
        default = FLAGS[name][1]
        default = default(inst.texts) if callable(default) else default
        rows.append([name, _flag_text(default), _flag_text(inst.flags[name]), ""])
    return rows


class _CypherlSession:
    """The interpreter of InitFromCypherlFile (src/memgraph.cpp): one interpreter for the whole file, an empty
    user that may do everything, no Bolt session. Explicit transactions are not emulated there."""
    txn = None
    qid = 0

    def begin_explicit(self):
        raise QueryError("Explicit transactions are not supported in an init file by the emulator.")

    commit_explicit = rollback_explicit = begin_explicit


async def run_cypherl_file(inst, path, log):
    """--init-file / --init-data-file (InitFromCypherlFile, src/memgraph.cpp): every non-empty line is one query,
    prepared and pulled with its results discarded; a line that fails is logged as a warning and the rest still
    runs; a missing file is only traced. Memgraph runs --init-file after data and replication recovery and before
    the Bolt server binds its port, --init-data-file after the Bolt server started."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
            lines = f.read().split("\n")
    except OSError:
        log.trace("Could not find init file %s" % path)
        return
    session = _CypherlSession()
    for line in lines:
        if not line:
            continue
        log.trace("Executing line: %s" % line)
        try:
            p = prepare(inst, session, line, {})
            await p.action()
            if p.txn is not None:
                await inst.commit(p.txn)
        except Exception as e:  # noqa: BLE001 - Memgraph catches std::exception here and goes on
            log.warning("Exception occurred while executing one line. The rest of the init-file will be run. %s"
                        % getattr(e, "message", e))
