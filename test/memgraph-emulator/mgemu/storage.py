"""Property graph with redo/undo operations, WAL and snapshot files (memgraph.md sections 8 and 10)."""
import datetime
import json
import os
import shutil


class Vertex:
    __slots__ = ("id", "labels", "props")

    def __init__(self, vid, labels, props):
        self.id = vid
        self.labels = list(labels)
        self.props = dict(props)


class Edge:
    __slots__ = ("id", "src", "dst", "type", "props")

    def __init__(self, eid, src, dst, etype, props):
        self.id = eid
        self.src = src
        self.dst = dst
        self.type = etype
        self.props = dict(props)


class Graph:
    def __init__(self):
        self.vertices = {}
        self.edges = {}
        self.out_edges = {}
        self.in_edges = {}
        self.next_vid = 0
        self.next_eid = 0
        self.by_label = {}

    def label_index(self, label):
        return self.by_label.get(label, ())

    def _index_add(self, vid, label):
        self.by_label.setdefault(label, {})[vid] = None

    def _index_remove(self, vid, label):
        ids = self.by_label.get(label)
        if ids is not None:
            ids.pop(vid, None)
            if not ids:
                del self.by_label[label]

    def clear(self):
        self.__init__()

    def apply(self, op):
        """Apply a redo operation; return the operation that undoes it."""
        kind = op[0]
        if kind == "cv":
            _, vid, labels, props = op
            self.vertices[vid] = Vertex(vid, labels, props)
            for lb in self.vertices[vid].labels:
                self._index_add(vid, lb)
            self.out_edges[vid] = set()
            self.in_edges[vid] = set()
            self.next_vid = max(self.next_vid, vid + 1)
            return ("dv", vid)
        if kind == "dv":
            v = self.vertices.pop(op[1])
            for lb in v.labels:
                self._index_remove(v.id, lb)
            self.out_edges.pop(v.id, None)
            self.in_edges.pop(v.id, None)
            return ("cv", v.id, list(v.labels), dict(v.props))
        if kind == "ce":
            _, eid, src, dst, etype, props = op
            self.edges[eid] = Edge(eid, src, dst, etype, props)
            self.out_edges[src].add(eid)
            self.in_edges[dst].add(eid)
            self.next_eid = max(self.next_eid, eid + 1)
            return ("de", eid)
        if kind == "de":
            e = self.edges.pop(op[1])
            self.out_edges[e.src].discard(e.id)
            self.in_edges[e.dst].discard(e.id)
            return ("ce", e.id, e.src, e.dst, e.type, dict(e.props))
        if kind in ("sv", "se"):
            _, oid, key, value = op
            obj = self.vertices[oid] if kind == "sv" else self.edges[oid]
            old = obj.props.get(key)
            if value is None:
                obj.props.pop(key, None)
            else:
                obj.props[key] = value
            return (kind, oid, key, old)
        if kind == "al":
            v = self.vertices[op[1]]
            if op[2] in v.labels:
                return ("nop",)
            v.labels.append(op[2])
            self._index_add(v.id, op[2])
            return ("rl", op[1], op[2])
        if kind == "rl":
            v = self.vertices[op[1]]
            if op[2] not in v.labels:
                return ("nop",)
            v.labels.remove(op[2])
            self._index_remove(v.id, op[2])
            return ("al", op[1], op[2])
        if kind == "nop":
            return ("nop",)
        raise ValueError("unknown op %r" % (op,))

    def dump(self):
        return {
            "next_vid": self.next_vid,
            "next_eid": self.next_eid,
            "vertices": [[v.id, v.labels, v.props] for v in self.vertices.values()],
            "edges": [[e.id, e.src, e.dst, e.type, e.props] for e in self.edges.values()],
        }

    def load(self, d):
        self.clear()
        for vid, labels, props in d["vertices"]:
            self.apply(("cv", vid, labels, props))
        for eid, src, dst, etype, props in d["edges"]:
            self.apply(("ce", eid, src, dst, etype, props))
        self.next_vid = max(self.next_vid, d.get("next_vid", 0))
        self.next_eid = max(self.next_eid, d.get("next_eid", 0))


def stamp(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return "%04d%02d%02d%02d%02d%02d%06d" % (now.year, now.month, now.day, now.hour, now.minute, now.second,
                                            now.microsecond)


def readable_size(n):
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    size = float(n)
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return "%.2f%s" % (size, units[i])


def _jdump(obj):
    return json.dumps(obj, separators=(",", ":"))


class Durability:
    """Files under the data directory: snapshots/ and wal/ (JSON lines)."""

    def __init__(self, data_dir, wal_enabled, retention, log):
        self.data_dir = data_dir
        self.snap_dir = os.path.join(data_dir, "snapshots")
        self.wal_dir = os.path.join(data_dir, "wal")
        self.wal_enabled = wal_enabled
        self.retention = max(1, retention)
        self.log = log
        self.wal_file = None
        self.wal_path = None
        self.wal_prefix = None
        self.wal_from = None
        self.wal_to = None
        self.last_snapshot_ts = None
        self.locked = False

    def set_aside(self):
        """Recovery off with durability on: move existing files to .backup (memgraph.md 8.2)."""
        moved = False
        for sub in ("snapshots", "wal"):
            src = os.path.join(self.data_dir, sub)
            if os.path.isdir(src) and os.listdir(src):
                dst_root = os.path.join(self.data_dir, ".backup")
                os.makedirs(dst_root, exist_ok=True)
                dst = os.path.join(dst_root, sub)
                if os.path.exists(dst):
                    dst = dst + "_" + stamp()
                shutil.move(src, dst)
                moved = True
        return moved

    # ---- snapshots
    def list_snapshots(self):
        """Newest first: list of (path, ts, mtime, size)."""
        out = []
        if os.path.isdir(self.snap_dir):
            for name in os.listdir(self.snap_dir):
                if "_timestamp_" not in name or name.endswith(".tmp"):
                    continue
                p = os.path.join(self.snap_dir, name)
                try:
                    ts = int(name.rsplit("_timestamp_", 1)[1])
                    st = os.stat(p)
                except (ValueError, OSError):
                    continue
                out.append((p, ts, st.st_mtime, st.st_size, name))
        out.sort(key=lambda x: x[4], reverse=True)
        return [x[:4] for x in out]

    def write_snapshot(self, state):
        os.makedirs(self.snap_dir, exist_ok=True)
        name = "%s_timestamp_%d" % (stamp(), state["ts"])
        path = os.path.join(self.snap_dir, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(_jdump(state))
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
        self.last_snapshot_ts = state["ts"]
        self.finalize_wal()
        self.apply_retention()
        return path

    def apply_retention(self):
        if self.locked:
            return  # LOCK DATA DIRECTORY: durability files are not deleted until UNLOCK
        snaps = self.list_snapshots()
        for p, _, _, _ in snaps[self.retention:]:
            try:
                os.unlink(p)
            except OSError:
                pass
        kept = snaps[:self.retention]
        if not kept:
            return
        oldest_ts = min(ts for _, ts, _, _ in kept)
        if os.path.isdir(self.wal_dir):
            for name in os.listdir(self.wal_dir):
                if "_to_" in name:
                    try:
                        to_ts = int(name.rsplit("_to_", 1)[1])
                    except ValueError:
                        continue
                    if to_ts <= oldest_ts:
                        try:
                            os.unlink(os.path.join(self.wal_dir, name))
                        except OSError:
                            pass

    # ---- WAL
    def wal_write(self, record):
        if not self.wal_enabled:
            return
        if self.wal_file is None:
            os.makedirs(self.wal_dir, exist_ok=True)
            self.wal_prefix = stamp()
            self.wal_path = os.path.join(self.wal_dir, self.wal_prefix + "_current")
            self.wal_file = open(self.wal_path, "a")
            self.wal_from = None
        ts = record.get("ts")
        if ts is not None:
            if self.wal_from is None:
                self.wal_from = ts
            self.wal_to = ts
        self.wal_file.write(_jdump(record) + "\n")
        self.wal_file.flush()

    def finalize_wal(self):
        if self.wal_file is None:
            return
        self.wal_file.close()
        self.wal_file = None
        if self.wal_from is not None:
            final = os.path.join(self.wal_dir, "%s_from_%d_to_%d" % (self.wal_prefix, self.wal_from, self.wal_to))
            os.rename(self.wal_path, final)
        self.wal_path = None

    def read_wal_records(self):
        """All records in file order; WAL files left `_current` by an earlier run are finalized (renamed)."""
        records = []
        if not os.path.isdir(self.wal_dir):
            return records
        for name in sorted(os.listdir(self.wal_dir)):
            p = os.path.join(self.wal_dir, name)
            mine = []
            try:
                with open(p) as f:
                    for line in f:
                        line = line.strip()
                        if not line:
                            continue
                        try:
                            mine.append(json.loads(line))
                        except ValueError:
                            break  # torn tail after a kill
            except OSError:
                continue
            records += mine
            if name.endswith("_current") and p != self.wal_path:
                tss = [r["ts"] for r in mine if "ts" in r]
                at = [r.get("at", 0) for r in mine if "epoch_change" in r]
                lo = min(tss) if tss else (min(at) if at else 0)
                hi = max(tss) if tss else (max(at) if at else 0)
                try:
                    os.rename(p, os.path.join(self.wal_dir, "%s_from_%d_to_%d" % (name[:-len("_current")], lo, hi)))
                except OSError:
                    pass
        return records

    def load_newest_snapshot(self):
        for p, ts, _, _ in self.list_snapshots():
            try:
                with open(p) as f:
                    return json.load(f)
            except (OSError, ValueError):
                self.log.warning("Snapshot %s is invalid, trying an older one." % p)
        return None

    def wipe(self):
        """Move the current durability files aside into .old (RECOVER SNAPSHOT / forced resync)."""
        self.finalize_wal()
        for sub in ("snapshots", "wal"):
            src = os.path.join(self.data_dir, sub)
            if os.path.isdir(src) and os.listdir(src):
                dst = os.path.join(self.data_dir, ".old", "%s_%s" % (sub, stamp()))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.move(src, dst)

    def close(self):
        if self.wal_file is not None:
            self.wal_file.close()
            self.wal_file = None
