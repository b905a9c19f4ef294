/* The Memgraph port: the handful of queries the reconcile steps (observe, act) need, behind one table of
 * functions over an opaque connection.
 *
 * The reconcile steps talk to Memgraph only through struct mgo_mg_ops, so unit tests plug in fakes and the
 * backend can change without touching them. The real backend, mgo_mg_memgraph_ops (mg_port.c), runs the
 * typed queries of this library (mg.h, mg_rec.h); the integration probe (test/integration/memgraph) drives
 * the same table. Every query is bounded by the timeouts given at connect time.
 *
 * Errors: functions return MGO_OK or a negative MGO_* code; ops->error() describes the last failure of a
 * connection in one line (server message or transport detail). A connection whose usable() is false must
 * be closed and reopened.
 *
 * Ownership: connect() returns a connection (also on failure, when non-NULL, so error() can be read) that
 * the caller releases with close(). Strings in struct mgo_mg_target are borrowed for the call only.
 * Thread-safety: one connection is used by one thread at a time; distinct connections are independent. */
#ifndef MGO_MEMGRAPH_MG_PORT_H
#define MGO_MEMGRAPH_MG_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

struct mgo_mg_target {
  const char *host; /* pod IP */
  uint16_t port;    /* 7687 */
  const char *user; /* NULL: no authentication */
  const char *password;
  int connect_timeout_ms;
  int query_timeout_ms;
  const char *tls_ca_file;     /* non-NULL: Bolt over TLS, verified against this CA bundle */
  const char *tls_server_name; /* name checked in the certificate (the pod's DNS name) */
};

/* A snapshot file as SHOW SNAPSHOTS lists it. */
struct mgo_mg_snapshot {
  char path[512];
  int64_t timestamp;      /* Memgraph's durable timestamp */
  char creation_time[64]; /* as Memgraph prints it */
};

/* The replication canary node as one instance holds it (docs/validation.md): how many nodes carry the
 * reserved label (up to 3 counted), and whether the one node is exactly as the operator writes it. */
struct mgo_mg_canary {
  size_t nodes;
  bool well_formed;
  int64_t seq;   /* valid when well_formed */
  int64_t ts_ms; /* valid when well_formed: when the MAIN wrote it (ms since the epoch) */
};

/* A connection of a backend (opaque; each backend defines it). */
struct mgo_mg_conn;

struct mgo_mg_ops {
  int (*connect)(const struct mgo_mg_target *t, struct mgo_mg_conn **conn);
  void (*close)(struct mgo_mg_conn *conn);
  bool (*usable)(const struct mgo_mg_conn *conn);
  const char *(*error)(const struct mgo_mg_conn *conn);
  /* SHOW REPLICATION ROLE. */
  int (*show_role)(struct mgo_mg_conn *conn, enum mgo_role *role);
  /* SHOW VERSION into dst ("3.2.1", as the server prints it). */
  int (*show_version)(struct mgo_mg_conn *conn, char *dst, size_t dstsz);
  /* SHOW REPLICAS (MAIN only): up to max rows into regs, *n receives how many. */
  int (*show_replicas)(struct mgo_mg_conn *conn, struct rec_registration *regs, size_t max, size_t *n);
  /* SHOW STORAGE INFO: REC_DATA_PRESENT when any vertex or edge exists. */
  int (*has_data)(struct mgo_mg_conn *conn, enum rec_data *data);
  /* A Bolt action of a plan (PROMOTE, DEMOTE, REGISTER, DROP), with names and addresses checked. */
  int (*execute)(struct mgo_mg_conn *conn, const struct rec_action *a);
  /* True when the last failure on conn was a REGISTER refused because the replica diverged (Memgraph
   * 3.5+: "Error: 3"). May be NULL (never). */
  bool (*failed_diverged)(const struct mgo_mg_conn *conn);
  /* True when the last failure on conn is one Memgraph also gives while a commit holds its replication-state
   * lock, which REGISTER, DROP and a demotion only try: REGISTER "Error: 6", DROP's "unique access" texts, or
   * "Couldn't set role to replica!" (also the answer of an instance that is a REPLICA already). May be NULL
   * (never). */
  bool (*failed_busy)(const struct mgo_mg_conn *conn);
  /* How often the backend has (re)connected conn: a change means that another process may answer now (the
   * instance restarted, maybe with another image), so what was learnt about the old one is void. */
  unsigned (*connects)(const struct mgo_mg_conn *conn);
  /* Backups (docs/backup.md). May be NULL in a backend without them (the backup step then reports them as
   * unsupported). CREATE SNAPSHOT: path receives the new file's path (3.5+; older versions: "" and the caller
   * finds it with snapshot_info(NULL)). */
  int (*create_snapshot)(struct mgo_mg_conn *conn, char *path, size_t pathsz);
  /* SHOW SNAPSHOTS: the row of path (or the newest one when path is NULL or ""): its path, durable timestamp
   * and creation_time text. MGO_ENOTFOUND when there is no such row. */
  int (*snapshot_info)(struct mgo_mg_conn *conn, const char *path, struct mgo_mg_snapshot *out);
  /* LOCK DATA DIRECTORY (lock true) / UNLOCK DATA DIRECTORY: Memgraph keeps every durability file while
   * locked. */
  int (*lock_data_directory)(struct mgo_mg_conn *conn, bool lock);
  /* SHOW STORAGE INFO: vertex and edge counts. */
  int (*storage_counts)(struct mgo_mg_conn *conn, int64_t *vertices, int64_t *edges);
  /* The replication canary (docs/validation.md). May be NULL in a backend without it (the validate step then
   * reports the canary as unsupported). canary_read is read-only (any role); canary_write is for the MAIN:
   * seq and ts into the node (created when absent; recreate first deletes every node under the label). */
  int (*canary_read)(struct mgo_mg_conn *conn, struct mgo_mg_canary *out);
  int (*canary_write)(struct mgo_mg_conn *conn, int64_t seq, int64_t ts_ms, bool recreate);
};

/* What the observer remembers of one connection between observations (zeroed by the caller for a new one). */
struct mgo_mg_seen {
  char version[32];  /* SHOW VERSION as the server printed it; "" = not known */
  unsigned connects; /* ops->connects() when version was read */
};

/* The one observer of an instance (the operator's observe step and the integration probe both use it):
 * SHOW REPLICATION ROLE; SHOW VERSION unless seen holds it for the same connection incarnation; SHOW REPLICAS
 * on a MAIN. Fills in->reachable, role, version_major/minor/patch, replicas_known, n_registrations,
 * registrations and last_error ("<query>: <ops->error()>"); leaves the Kubernetes fields and data alone.
 * A failed role query makes the instance unreachable (role UNKNOWN); a failed SHOW VERSION leaves the version
 * unknown (not an error: asked again next time); a failed SHOW REPLICAS leaves replicas_known false. Returns
 * the number of queries sent; *rc (may be NULL) receives MGO_OK or the code of the first failure. The caller
 * closes a connection that is no longer usable() afterwards. */
unsigned long mgo_mg_observe(const struct mgo_mg_ops *ops, struct mgo_mg_conn *conn, struct mgo_mg_seen *seen,
                             struct rec_instance *in, int *rc);
/* SHOW STORAGE INFO as in->data (UNKNOWN when it fails), on a reachable instance whose data is not known yet.
 * Returns the number of queries sent (0 or 1). */
unsigned long mgo_mg_observe_data(const struct mgo_mg_ops *ops, struct mgo_mg_conn *conn,
                                  struct rec_instance *in);

struct mg_conn;
/* The port over an open connection of this library that the caller keeps (close() leaves c open): for callers
 * that also use the typed queries of mg.h on c. MGO_ENOMEM. */
int mgo_mg_memgraph_wrap(struct mg_conn *c, struct mgo_mg_conn **out);

/* The backend over this library's typed queries (mg_port.c). */
extern const struct mgo_mg_ops mgo_mg_memgraph_ops;

#endif
