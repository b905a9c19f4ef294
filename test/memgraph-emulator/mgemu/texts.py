"""Version handling and every version-gated text of memgraph.md."""
import re

DEFAULT_VERSION = "3.12.0"
SERVER_NAME = "Neo4j/v5.11.0 compatible graph database server - Memgraph"

CLIENT_ERROR = "Memgraph.ClientError.MemgraphError.MemgraphError"
TRANSIENT_ERROR = "Memgraph.TransientError.MemgraphError.MemgraphError"
DATABASE_ERROR = "Memgraph.DatabaseError.MemgraphError.MemgraphError"
UNAUTHENTICATED = "Memgraph.ClientError.Security.Unauthenticated"


def parse_version(text):
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not m:
        raise ValueError("unparsable version %r" % text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


class Texts:
    """All texts and gates for one emulated version (v = (major, minor, patch))."""

    def __init__(self, version_string):
        if version_string in ("latest", ""):
            version_string = DEFAULT_VERSION
        self.v = parse_version(version_string)
        self.version_string = "%d.%d.%d" % self.v

    def at_least(self, major, minor=0, patch=0):
        return self.v >= (major, minor, patch)

    # Bolt (bolt.md 1.3)
    def bolt_versions(self):
        s = [(1, 0), (4, 0), (4, 1), (4, 3), (5, 2)]
        if self.at_least(3, 12):
            s.append((4, 4))
        return set(s)

    # gates
    @property
    def is_main_branch(self):
        """Versions after v3.12.x stand for the unreleased main branch ([main] in memgraph.md)."""
        return self.v >= (3, 13, 0)

    @property
    def strict_sync(self):
        return self.at_least(3, 5)

    @property
    def cached_replicas(self):
        return self.at_least(3, 1)

    @property
    def commit_holds_repl_lock(self):
        """3.0+: a commit holds the replication-state lock (3.0: exclusive, taken in commit order; 3.1+: a read
        lock taken before the storage's commit lock, released after replication), so role changes, REGISTER and
        DROP that only try that lock fail meanwhile, and a write that commits on a REPLICA is refused
        (src/query/interpreter.cpp Interpreter::Commit; src/replication_handler/replication_handler.cpp)."""
        return self.at_least(3, 0)

    @property
    def rpc_timeouts(self):
        return self.at_least(3, 1)

    @property
    def show_snapshots(self):
        return self.at_least(2, 22)

    @property
    def show_next_snapshot(self):
        return self.at_least(3, 5)

    @property
    def snapshot_path_column(self):
        return self.at_least(3, 5)

    @property
    def snapshot_nothing_written(self):
        return (3, 3, 0) <= self.v < (3, 5, 0)

    @property
    def replica_snapshots(self):
        return self.at_least(3, 7, 2)

    def default_snapshot_interval(self):
        return 300 if self.at_least(3, 6) else 0

    # section 1
    def invalid_address(self):
        if self.at_least(3, 1):
            return ("Invalid socket address. The socket address must be a string defining the address and port, "
                    "delimited by a single colon. The address must be valid and the port must be an integer.")
        return "Invalid socket address!"

    def multicommand_replication(self):
        if self.at_least(3, 1):
            return ("Managing replication is not allowed in multicommand transactions. Replication queries change "
                    "the cluster state and cannot be rolled back, so run them outside of explicit transactions. "
                    "For more details, visit https://memgraph.com/docs/clustering/replication.")
        return "Replication clause not allowed in multicommand transactions."

    # section 2.2
    def show_replicas_on_replica(self):
        if self.at_least(3, 1):
            return "Show replicas query should only be run on the main instance."
        return "Replica can't show registered replicas (it shouldn't have any)!"

    # section 4.2
    def register_failed(self, name, code):
        if self.at_least(3, 5):
            return "Couldn't register replica %s. Error: %d" % (name, code)
        return "Couldn't register replica %s." % name

    # section 4.3
    def drop_on_replica(self):
        if self.at_least(3, 1):
            return ("Replica can't unregister a replica! Please rerun the query on main in order to unregister a "
                    "replica from the cluster.")
        return "Replica can't unregister a replica!"

    def drop_lock_busy(self):
        if self.at_least(3, 1):
            return ("Failed to unregister replica due to lack of unique access over the cluster state. Please try "
                    "again later on.")
        return "Couldn't get unique access to replication state!"

    def drop_unknown(self, name):
        if self.at_least(3, 1):
            return "Failed to unregister the replica %s." % name
        return "Couldn't unregister the replica %s." % name

    # section 5
    def replication_failure(self, failures, committed):
        """failures: list of (name, mode, reason-key). committed: SYNC (True) or STRICT_SYNC abort (False)."""
        strict = any(m == "strict_sync" for _, m, _ in failures)
        if not self.at_least(3, 10):
            if strict:
                text = ("At least one STRICT_SYNC replica has not confirmed committing last transaction. "
                        "Transaction will be aborted on all instances.")
            else:
                text = "At least one SYNC replica has not confirmed committing last transaction."
        else:
            reasons = {
                "unreachable": "replica is not reachable or not in sync with the main",
                "lock": "failed to obtain RPC lock (another transaction is in progress)",
                "rpc": "RPC communication error",
                "diverged": "replica has diverged from main",
                "timeout": "RPC timeout while replicating",
            }
            groups = {}
            order = []
            for name, mode, reason in failures:
                key = (mode, reason)
                if key not in groups:
                    groups[key] = []
                    order.append(key)
                groups[key].append(name)
            sentences = []
            for mode, reason in order:
                names = groups[(mode, reason)]
                label = "STRICT_SYNC" if mode == "strict_sync" else "SYNC"
                quoted = ["'%s'" % n for n in names]
                if len(names) == 1:
                    sentences.append("Failed to replicate to %s replica %s: %s." % (label, quoted[0], reasons[reason]))
                else:
                    joined = ", ".join(quoted[:-1]) + " and " + quoted[-1]
                    plural_reason = reasons[reason].replace("replica is", "replicas are").replace(
                        "replica has", "replicas have")
                    sentences.append("Failed to replicate to %s replicas %s: %s." % (label, joined, plural_reason))
                if reason == "timeout":
                    sentences[-1] += (" Consider increasing the replication timeout or lowering "
                                      "deltas_batch_progress_size.")
            text = " ".join(sentences)
            text += " Replicas will be recovered automatically." if len(failures) > 1 else \
                " Replica will be recovered automatically."
            if committed:
                text += " Transaction is still committed on the main instance and other alive replicas."
            else:
                text += " Transaction was aborted on all instances."
        return "Replication Exception: %s Check the status of the replicas using 'SHOW REPLICAS' query." % text

    # section 6.3
    def write_on_replica(self):
        if self.at_least(3, 1):
            return ("Write queries are forbidden on the replica instance. Replica instances accept only read "
                    "queries, while the main instance accepts read and write queries. Please retry your query on "
                    "the main instance.")
        return "Write query forbidden on the replica!"

    # section 10
    def _p(self, text):
        return text[:-1] if self.at_least(3, 8) and text.endswith(".") else text

    def snapshot_on_replica(self):
        return self._p("Failed to create a snapshot. Replica instances are not allowed to create them.")

    def snapshot_nothing(self):
        return self._p("Nothing has been written since the last snapshot.")

    def snapshot_in_multicommand(self):
        """CreateSnapshotInMulticommandTxException (src/query/exceptions.hpp): its own text before 3.1, then
        MulticommandTxException("Creating snapshots") with MessageWithDocsLink; "knwon" until 3.7, and from 3.8 the
        space before "query." is gone (the string literals were re-wrapped)."""
        if not self.at_least(3, 1):
            return "Snapshot cannot be created in multicommand transactions."
        tail = ("also known as an auto committing transaction, in order to execute this particularquery."
                if self.at_least(3, 8) else
                "also knwon as an auto committing transaction, in order to execute this particular query.")
        return ("Creating snapshots is not allowed in multicommand transactions. A multicommand transaction, also "
                "known as an explicit transaction, groups multiple commands into a single atomic operation. Instead, "
                "please use an implicit transaction, " + tail + " For more details, visit https://memgraph.com/docs")

    def snapshot_in_progress(self):
        if self.at_least(3, 8):
            return "Another snapshot creation is already in progress"
        return "Another snapshot creation is already in progress."
