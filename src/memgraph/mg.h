/* Typed, version-aware Memgraph replication queries over Bolt (memgraph.md sections 1-10).
 *
 *   struct mg_conn_opts o;
 *   mg_conn_opts_default(&o);
 *   o.host = "10.0.0.7";
 *   struct mg_conn *c;
 *   struct mg_error err;
 *   if (mg_conn_new(&c, &o) == MGO_OK) {          // does not connect yet: every query connects lazily
 *     enum mgo_role role;
 *     int rc = mg_show_role(c, &role, &err);      // rc < 0: err.cls says what happened
 *     rc = mg_register_replica(c, "mg_1", MGO_MODE_SYNC, "mg-1.mg-hl.ns.svc:10000", &err);
 *     if (rc == MGO_EFAILURE && err.cls == MG_ERR_NAME_EXISTS) { ... }
 *     mg_conn_free(c);
 *   }
 *
 * Results and errors: every query returns MGO_OK or a negative MGO_* code and fills *err when err is not
 * NULL (always, also on success: err->cls is then MG_ERR_NONE, or a note such as mg_exec's warning); the
 * same outcome stays readable with mg_conn_last_error() until the next call on the connection. A server
 * FAILURE gives MGO_EFAILURE with the server's code and message kept verbatim in err and err->cls classified
 * from the message texts of memgraph.md (mg_classify_error); a refusal before anything is sent gives
 * MGO_EINVAL (unsafe name, address or port: MG_ERR_INVALID_ARG) or MGO_EUNSUPPORTED (the instance's version
 * lacks the feature: MG_ERR_UNSUPPORTED); an answer of an unexpected shape gives MGO_EPARSE
 * (MG_ERR_BAD_RESULT); transport problems give the Bolt client's code (MG_ERR_CONNECTION, MG_ERR_TIMEOUT,
 * MG_ERR_AUTH).
 *
 * Deadlines: connect_timeout_ms bounds connecting (TCP, TLS, handshake, login). query_timeout_ms bounds
 * every wait for an answer (a frozen peer: MGO_ETIMEDOUT) and the query as a whole: a peer that drips rows
 * is cut at the first row past the deadline (MGO_ETIMEDOUT, connection reopened by the next query), so a
 * query never takes much longer than twice query_timeout_ms.
 *
 * Connection handling: a query on a connection that is missing or broken (DEFUNCT after a transport error,
 * a timeout or a protocol violation) first (re)connects. A read-only query (SHOW ...) that finds a reused
 * connection closed or reset by the peer (MGO_ECLOSED, MGO_EIO: it restarted) is retried once on a fresh
 * one; a timeout is not retried (a frozen peer), and a query that changes state is never re-sent. After a
 * FAILURE the Bolt client has already sent RESET, so the connection stays usable. The version learned by SHOW
 * VERSION is cached until the next reconnect.
 *
 * Cypher is never built from unchecked input: registration names must match [A-Za-z_][A-Za-z0-9_]* and
 * are backtick-quoted anyway; DROP also accepts names of [A-Za-z0-9_.-] (registered by hand), quoted;
 * addresses must be "<host>:<port>" with host of [A-Za-z0-9.-] and a port 1..65535; ports are integers.
 *
 * Ownership: struct mg_conn is allocated by mg_conn_new() and released by mg_conn_free(), which also
 * closes the Bolt connection; strings in mg_conn_opts are copied. Result structs (mg_replicas,
 * mg_storage_info, mg_snapshots ...) are caller-allocated plain data with fixed-size fields (some are
 * large: allocate mg_replicas on the heap); nothing in them points into the connection.
 * Thread-safety: a struct mg_conn is used by one thread at a time; distinct connections are independent.
 * The pure functions (mg_parse_*, mg_classify_error, mg_name_*, mg_address_check, mg_cypher_*) are
 * thread-safe. Nothing here logs or keeps global state. */
#ifndef MGO_MEMGRAPH_MG_H
#define MGO_MEMGRAPH_MG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bolt.h"
#include "bolt_value.h"
#include "mgo_repl.h"

/* ---- error classification -------------------------------------------------------------------------- */

enum mg_err_class {
  MG_ERR_NONE = 0,
  MG_ERR_ALREADY_MAIN,             /* "Couldn't set replication role to main!" */
  MG_ERR_ALREADY_REPLICA,          /* "Couldn't set role to replica!" (also lock busy / port in use) */
  MG_ERR_NOT_MAIN,                 /* a REPLICA cannot register, drop or show replicas (or Error: 0) */
  MG_ERR_NAME_EXISTS,              /* REGISTER ... Error: 1 */
  MG_ERR_ENDPOINT_EXISTS,          /* REGISTER ... Error: 2 */
  MG_ERR_DIVERGED,                 /* REGISTER ... Error: 3 (CONNECTION_FAILED: replica diverged) */
  MG_ERR_PERSIST_FAILED,           /* REGISTER ... Error: 4 */
  MG_ERR_UNREACHABLE,              /* REGISTER ... Error: 5 (ERROR_ACCEPTING_MAIN); may stay listed */
  MG_ERR_NO_ACCESS,                /* REGISTER ... Error: 6, or DROP's "unique access" texts: retry */
  MG_ERR_UNKNOWN_REGISTER_FAILURE, /* REGISTER failed on < 3.5 (one text for every cause) */
  MG_ERR_REPLICA_NOT_FOUND,        /* DROP of a name that is not registered */
  MG_ERR_ANALYTICAL_MODE,          /* [main] register/drop refused: a database is analytical */
  MG_ERR_HA_MANAGED,               /* "... on instance with coordinator server port." */
  MG_ERR_SYNC_REPLICA_FAILED,      /* commit-time SYNC failure: committed on MAIN anyway */
  MG_ERR_STRICT_SYNC_ABORTED,      /* commit-time STRICT_SYNC failure: aborted everywhere */
  MG_ERR_WRITE_ON_REPLICA,         /* write (or index/auth change) refused on a REPLICA */
  MG_ERR_EXPLICIT_TX,              /* replication query inside BEGIN ... COMMIT */
  MG_ERR_INVALID_QUERY,            /* server refused the query text: port or socket address problems */
  MG_ERR_SNAPSHOT_NOTHING_NEW,     /* "Nothing has been written since the last snapshot" (3.3-3.4) */
  MG_ERR_SNAPSHOT_ON_REPLICA,      /* snapshots refused on a REPLICA (<= 3.7.1) */
  MG_ERR_SNAPSHOT_IN_PROGRESS,     /* another CREATE SNAPSHOT runs */
  MG_ERR_AUTH,                     /* authentication failed */
  MG_ERR_TRANSIENT,                /* other *.TransientError.*: retry later */
  MG_ERR_OTHER,                    /* any other server failure */
  MG_ERR_INVALID_ARG,              /* refused locally: unsafe name, address or port */
  MG_ERR_UNSUPPORTED,              /* refused locally: not available in this version */
  MG_ERR_CONNECTION,               /* cannot connect, connection lost, TLS or protocol failure */
  MG_ERR_TIMEOUT,                  /* deadline exceeded (frozen peer) */
  MG_ERR_BAD_RESULT                /* answer of an unexpected shape (columns, types) */
};

struct mg_error {
  int rc;                /* MGO_* of the call, MGO_OK on success */
  enum mg_err_class cls; /* classification; MG_ERR_NONE on plain success */
  char code[128];        /* server code of a FAILURE ("" otherwise) */
  char message[1024];    /* server message of a FAILURE, verbatim (truncated to fit) */
  char detail[256];      /* local description (query, column, transport detail) */
};

/* Classifies a server FAILURE by its message texts first (exactly the texts of memgraph.md, matched by
 * prefix or substring where the reference says so), then by the code's second dotted part. NULL is "". */
enum mg_err_class mg_classify_error(const char *code, const char *message);
/* "ALREADY_MAIN", "NAME_EXISTS" ... (static). */
const char *mg_err_class_name(enum mg_err_class cls);
/* True for classes where retrying the same query later may succeed (NO_ACCESS, TRANSIENT, CONNECTION,
 * TIMEOUT, SNAPSHOT_IN_PROGRESS). */
bool mg_err_retryable(enum mg_err_class cls);

/* ---- versions ---------------------------------------------------------------------------------------- */

struct mg_version {
  int major, minor, patch; /* 0.0.0 when unknown */
  char raw[64];            /* as SHOW VERSION returned it (truncated to fit) */
};

/* Lenient: takes the leading MAJOR.MINOR.PATCH ("3.12.0", "2.21.0-open-source", "3.5.1+12~abc"; a "v"
 * prefix is accepted; a missing PATCH counts as 0). raw keeps s. MGO_OK or MGO_EPARSE (out zeroed, raw
 * still kept). */
int mg_parse_version(const char *s, struct mg_version *out);
/* True when v >= major.minor.patch; false for an unknown version (0.0.0). */
bool mg_version_at_least(const struct mg_version *v, int major, int minor, int patch);
bool mg_version_known(const struct mg_version *v);

/* ---- result types ------------------------------------------------------------------------------------ */

/* data_info.<db>.status and system_info.status (memgraph.md 2.2); anything else is UNKNOWN. */
enum mg_replica_status {
  MG_RS_UNKNOWN = 0,
  MG_RS_READY,
  MG_RS_REPLICATING,
  MG_RS_RECOVERY,
  MG_RS_INVALID,
  MG_RS_DIVERGED
};
const char *mg_replica_status_name(enum mg_replica_status s); /* "ready" ... "unknown" */

struct mg_db_info {
  char db[MGO_NAME_MAX];
  bool has_ts, has_behind; /* false when missing or not an integer */
  int64_t ts;
  int64_t behind; /* <= 0; 0 = caught up */
  enum mg_replica_status status;
  char status_raw[32]; /* as shown ("" when missing or not a string) */
};

#define MG_MAX_DBS 8
#define MG_MAX_REPLICAS 64

struct mg_replica {
  char name[MGO_NAME_MAX];
  char socket_address[MGO_ADDR_MAX];
  bool mode_known; /* false for a sync_mode this library does not know */
  enum mgo_repl_mode mode;
  char mode_raw[16];
  bool has_system_info; /* false when null (no Enterprise licence) or not a map */
  struct {
    bool has_ts;
    int64_t ts;
    enum mg_replica_status status;
  } system_info;
  bool has_data_info; /* false when data_info is {} ("failed but listed", memgraph.md 4.2) or not a map */
  size_t n_dbs;
  struct mg_db_info dbs[MG_MAX_DBS]; /* wire order; entries that are not maps are skipped */
  size_t dbs_dropped;                /* databases beyond MG_MAX_DBS */
  bool has_default_db;               /* data_info holds "memgraph" */
  struct mg_db_info default_db;      /* copy of data_info.memgraph (status UNKNOWN when absent) */
  bool truncated;                    /* a string did not fit its field (name or address longer than shown) */
};

struct mg_replicas {
  size_t n;
  struct mg_replica r[MG_MAX_REPLICAS]; /* server order; match by name, never by position */
};

/* SHOW STORAGE INFO, parsed by key. Sizes are Memgraph's human-readable strings. */
struct mg_storage_info {
  bool has_vertex_count, has_edge_count;
  int64_t vertex_count, edge_count;
  double average_degree;
  char name[MGO_NAME_MAX];
  char memory_res[32], peak_memory_res[32], disk_usage[32], memory_tracked[32], allocation_limit[32];
  char storage_mode[48];
  size_t n_keys; /* rows seen */
};

enum mg_data { MG_DATA_UNKNOWN = 0, MG_DATA_EMPTY, MG_DATA_PRESENT };
/* PRESENT when vertex_count + edge_count > 0, EMPTY when both are 0, UNKNOWN when a count is missing. */
enum mg_data mg_storage_data(const struct mg_storage_info *si);

#define MG_MAX_SNAPSHOTS 64
struct mg_snapshot {
  char path[512];
  int64_t timestamp;
  char creation_time[64];
  char size[32];
  bool next_scheduled; /* 2.22-3.4: the extra row for the next periodic snapshot (timestamp 0) */
};
struct mg_snapshots {
  size_t n;
  struct mg_snapshot s[MG_MAX_SNAPSHOTS];
  size_t dropped; /* rows beyond MG_MAX_SNAPSHOTS */
};

/* ---- pure parsers (fields: the result's column names, a list of strings; rows: a list of row lists) ---
 * Columns are found by name, never by position. All return MGO_OK, MGO_EPARSE (missing column, wrong
 * type of a required value; err->detail says which), or MGO_ETOOBIG (mg_parse_replicas: more rows than
 * MG_MAX_REPLICAS; the first ones are filled). err may be NULL. */
int mg_parse_version_result(const struct bolt_value *fields, const struct bolt_value *rows,
                            struct mg_version *out, struct mg_error *err);
int mg_parse_role(const struct bolt_value *fields, const struct bolt_value *rows, enum mgo_role *out,
                  struct mg_error *err);
int mg_parse_replicas(const struct bolt_value *fields, const struct bolt_value *rows, struct mg_replicas *out,
                      struct mg_error *err);
int mg_parse_storage_info(const struct bolt_value *fields, const struct bolt_value *rows,
                          struct mg_storage_info *out, struct mg_error *err);
int mg_parse_snapshots(const struct bolt_value *fields, const struct bolt_value *rows,
                       struct mg_snapshots *out, struct mg_error *err);
/* Finds a replica by name; NULL when absent. */
const struct mg_replica *mg_replicas_find(const struct mg_replicas *r, const char *name);

/* ---- names, addresses, Cypher ------------------------------------------------------------------------ */

/* [A-Za-z_][A-Za-z0-9_]*, shorter than MGO_NAME_MAX: a name the operator may register. */
bool mg_name_is_safe(const char *name);
/* Safe, or [A-Za-z0-9_.-]+ (a pod-like name registered by hand): a name the operator may drop. */
bool mg_name_is_droppable(const char *name);
/* "<host>:<port>", host of [A-Za-z0-9.-] (not empty, no leading '-' or '.'), port 1..65535 in decimal
 * without sign or leading zeros. host/port out may be NULL. MGO_OK or MGO_EINVAL. */
int mg_address_check(const char *address, char *host, size_t hostsz, uint16_t *port);
/* Query texts (MGO_OK, MGO_EINVAL for unsafe input, MGO_ETOOBIG). */
int mg_cypher_register(char *dst, size_t dstsz, const char *name, enum mgo_repl_mode mode,
                       const char *address);
int mg_cypher_drop(char *dst, size_t dstsz, const char *name);
int mg_cypher_set_main(char *dst, size_t dstsz);
int mg_cypher_set_replica(char *dst, size_t dstsz, int port);
/* The replication canary's write: MERGE the one node under MG_CANARY_LABEL and SET its seq and ts (ms since
 * the epoch); both >= 0. */
int mg_cypher_canary_write(char *dst, size_t dstsz, int64_t seq, int64_t ts_ms);

/* ---- the replication canary (docs/validation.md) ------------------------------------------------------ */

/* The reserved label of the canary node: the only data the operator writes. */
#define MG_CANARY_LABEL "_MemgraphOperatorCanary"
#define MG_CANARY_READ                                                                                       \
  "MATCH (c:" MG_CANARY_LABEL ") RETURN c.seq AS seq, c.ts AS ts, size(keys(c)) AS nprops, "                 \
  "size(labels(c)) AS nlabels LIMIT 3"
#define MG_CANARY_DELETE "MATCH (c:" MG_CANARY_LABEL ") DETACH DELETE c"

/* What MG_CANARY_READ found: nodes (up to 3 counted), and whether the one node is as the operator writes it
 * (integer seq and ts, no other property, no other label). seq/ts_ms valid when well_formed. */
struct mg_canary {
  size_t nodes;
  bool well_formed;
  int64_t seq;
  int64_t ts_ms;
};

/* ---- the connection ---------------------------------------------------------------------------------- */

struct mg_conn_opts {
  const char *host;     /* name or IP */
  uint16_t port;        /* default 7687 */
  const char *user;     /* NULL or "" = no authentication */
  const char *password; /* with user */
  enum bolt_tls tls;    /* default BOLT_TLS_OFF */
  const char *tls_ca_file;
  const char *tls_server_name;
  int connect_timeout_ms; /* default 3000 */
  int query_timeout_ms;   /* default 10000; per query: RUN answer and every row (then the conn is reopened) */
  const char *user_agent; /* default "memgraph-operator" */
};

struct mg_conn;

void mg_conn_opts_default(struct mg_conn_opts *o);
/* Copies the options; does not connect. MGO_EINVAL (no host), MGO_ENOMEM. */
int mg_conn_new(struct mg_conn **out, const struct mg_conn_opts *o);
/* Closes the connection (if any) and frees everything; NULL is fine. */
void mg_conn_free(struct mg_conn *c);
/* Connects now when not connected (queries do it themselves). c must not be NULL in any query below. */
int mg_conn_connect(struct mg_conn *c, struct mg_error *err);
/* Drops the Bolt connection (the next query reconnects); keeps the options. */
void mg_conn_disconnect(struct mg_conn *c);
bool mg_conn_connected(const struct mg_conn *c);
/* Connections opened so far (1 after the first query; grows with every reconnect). */
unsigned mg_conn_connects(const struct mg_conn *c);
/* The cached version (0.0.0 until SHOW VERSION answered on the current connection). */
const struct mg_version *mg_conn_version(const struct mg_conn *c);
/* The outcome of the last call on c (what that call copied to its err); borrowed, valid until the next
 * call on c or mg_conn_free(). */
const struct mg_error *mg_conn_last_error(const struct mg_conn *c);

/* ---- queries ----------------------------------------------------------------------------------------- */

int mg_show_version(struct mg_conn *c, struct mg_version *out, struct mg_error *err);
int mg_show_role(struct mg_conn *c, enum mgo_role *out, struct mg_error *err);
/* MAIN only (on a REPLICA: MGO_EFAILURE, MG_ERR_NOT_MAIN). */
int mg_show_replicas(struct mg_conn *c, struct mg_replicas *out, struct mg_error *err);
int mg_show_storage_info(struct mg_conn *c, struct mg_storage_info *out, struct mg_error *err);
/* The cheap data-presence check: SHOW STORAGE INFO, vertex_count + edge_count > 0. */
int mg_has_data(struct mg_conn *c, enum mg_data *out, struct mg_error *err);

/* SET REPLICATION ROLE TO MAIN. On a MAIN: MGO_EFAILURE, MG_ERR_ALREADY_MAIN. */
int mg_set_role_main(struct mg_conn *c, struct mg_error *err);
/* SET REPLICATION ROLE TO REPLICA WITH PORT port (1..65535). On a REPLICA: MG_ERR_ALREADY_REPLICA. */
int mg_set_role_replica(struct mg_conn *c, int port, struct mg_error *err);
/* REGISTER REPLICA name MODE TO "address". STRICT_SYNC needs 3.5+ (the version is asked first when not
 * cached; older: MGO_EUNSUPPORTED, nothing sent). A failed registration may still be listed (memgraph.md
 * 4.2): decide from SHOW REPLICAS, never from this outcome. */
int mg_register_replica(struct mg_conn *c, const char *name, enum mgo_repl_mode mode, const char *address,
                        struct mg_error *err);
/* DROP REPLICA name. Unknown name: MG_ERR_REPLICA_NOT_FOUND. */
int mg_drop_replica(struct mg_conn *c, const char *name, struct mg_error *err);
/* CREATE SNAPSHOT. "Nothing has been written since the last snapshot" (3.3-3.4, with or without period) is
 * success with *nothing_new set (err->cls then stays MG_ERR_SNAPSHOT_NOTHING_NEW as a note). path receives
 * the new file on 3.5+ ("" otherwise); path and nothing_new may be NULL. On a REPLICA before 3.7.2:
 * MG_ERR_SNAPSHOT_ON_REPLICA. */
int mg_create_snapshot(struct mg_conn *c, char *path, size_t pathsz, bool *nothing_new, struct mg_error *err);
/* SHOW SNAPSHOTS, 2.22+ (the version is asked first when not cached; older: MGO_EUNSUPPORTED, nothing
 * sent). On 2.22-3.4 the extra row for the next periodic snapshot is kept, flagged next_scheduled. */
int mg_show_snapshots(struct mg_conn *c, struct mg_snapshots *out, struct mg_error *err);
/* The canary node as MG_CANARY_READ returns it (read-only; on a MAIN or a REPLICA). */
int mg_canary_read(struct mg_conn *c, struct mg_canary *out, struct mg_error *err);
int mg_parse_canary(const struct bolt_value *fields, const struct bolt_value *rows, struct mg_canary *out,
                    struct mg_error *err);
/* MAIN only: writes seq and ts into the canary node (created when absent). recreate: first deletes every node
 * under the label (a user edited it). Never re-sent; bounded by the connection's query deadline (a
 * STRICT_SYNC write that cannot commit fails as MG_ERR_STRICT_SYNC_ABORTED). */
int mg_canary_write(struct mg_conn *c, int64_t seq, int64_t ts_ms, bool recreate, struct mg_error *err);
/* Runs a fixed query text the caller wrote (NEVER text built from input) and discards its rows; *rows
 * (may be NULL) receives their number. Write failures are classified (WRITE_ON_REPLICA, SYNC_REPLICA_FAILED,
 * STRICT_SYNC_ABORTED). On success err->cls is MG_ERR_SYNC_REPLICA_FAILED when the summary carries a
 * SyncReplicationFailure warning ([main]: the write committed, a SYNC replica missed it). */
int mg_exec(struct mg_conn *c, const char *query, size_t *rows, struct mg_error *err);

#endif
