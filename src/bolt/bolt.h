/* A Bolt client for Memgraph (and any Bolt 4.1–4.4 / 5.2 server): connect → run → iterate rows → summary.
 *
 *   struct bolt_opts opts;
 *   bolt_opts_default(&opts);
 *   opts.host = "10.0.0.7"; opts.port = 7687;
 *   struct bolt_conn *conn;
 *   int rc = bolt_connect(&conn, &opts);               // conn is set even on failure: read bolt_error(conn)
 *   struct bolt_result *res;
 *   rc = bolt_run(conn, "SHOW REPLICATION ROLE", NULL, &res);
 *   const struct bolt_value *row;
 *   while ((rc = bolt_result_next(res, &row)) == 1) { ... bolt_list_at(row, 0) ... }
 *   // rc == 0: end of rows; bolt_result_summary(res) has the final metadata; rc < 0: error
 *   bolt_close(conn);
 *
 * Errors: every function returns MGO_OK (or a count) or a negative MGO_* code. bolt_error(conn) describes
 * the last failure: the MGO_* code, the server's code and message for a FAILURE, its classification, and a
 * local detail line. A FAILURE answer yields MGO_EFAILURE (MGO_EAUTH during authentication); the client
 * then drains the IGNORED answers of pipelined requests and sends RESET itself, so the connection is READY
 * again (an open explicit transaction is rolled back by that RESET). Transport errors, timeouts and protocol
 * violations make the connection DEFUNCT: only bolt_close() is useful then. Calls made in the wrong state
 * return MGO_ESTATE and change nothing.
 *
 * Deadlines: connect_timeout_ms bounds bolt_connect() as a whole (TCP connect + TLS + handshake +
 * HELLO/LOGON). query_timeout_ms bounds every other blocking call from its start: bolt_run() until the RUN
 * answer, each bolt_result_next() that has to wait for the next rows, bolt_result_discard(), bolt_begin(),
 * bolt_commit(), bolt_rollback(), bolt_reset(). Waits use poll(), so a frozen peer (SIGSTOP) yields
 * MGO_ETIMEDOUT, never a hang; the connection is then DEFUNCT (the stream position is unknown).
 *
 * Ownership: bolt_connect() allocates the connection; bolt_close() releases it and everything borrowed
 * from it. A struct bolt_result belongs to the connection: it is valid until the next bolt_run() or
 * bolt_close(). Rows returned by bolt_result_next() are borrowed until the next bolt_result_next() call on
 * that result; the fields list and the summary until the next bolt_run(). bolt_result_take_row() hands the
 * current row to the caller. Parameters passed to bolt_run() stay owned by the caller. Strings in
 * struct bolt_opts are copied by bolt_connect().
 *
 * Thread-safety: a connection is used by one thread at a time (the operator keeps one connection per
 * worker or locks around it); different connections are fully independent and may be used concurrently.
 * The library keeps no global state; OpenSSL ≥ 1.1 initialises itself thread-safely. A failed write never
 * raises SIGPIPE (MSG_NOSIGNAL for plain TCP; SIGPIPE is blocked around TLS writes in the calling thread). */
#ifndef MGO_BOLT_H
#define MGO_BOLT_H

#include <stddef.h>
#include <stdint.h>

#include "bolt_value.h"

/* Versions this client implements (bit flags for bolt_opts.versions). */
#define BOLT_V4_1 0x01u
#define BOLT_V4_2 0x02u
#define BOLT_V4_3 0x04u
#define BOLT_V4_4 0x08u
#define BOLT_V5_2 0x10u
#define BOLT_V_ALL (BOLT_V4_1 | BOLT_V4_2 | BOLT_V4_3 | BOLT_V4_4 | BOLT_V5_2)

enum bolt_auth { BOLT_AUTH_NONE = 0, BOLT_AUTH_BASIC };

enum bolt_tls {
  BOLT_TLS_OFF = 0,
  BOLT_TLS_VERIFY,                       /* CA verification + host name check + SNI */
  BOLT_TLS_INSECURE_NO_VERIFY_TESTS_ONLY /* encrypts but trusts any certificate: never in production */
};

struct bolt_opts {
  const char *host; /* name or IP literal */
  uint16_t port;    /* default 7687 */
  const char *user_agent;
  enum bolt_auth auth;
  const char *user;
  const char *password;
  unsigned versions;      /* BOLT_V_* flags to offer; default BOLT_V_ALL */
  int connect_timeout_ms; /* default 5000 */
  int query_timeout_ms;   /* default 30000 */
  long fetch_size;        /* records per PULL; -1 (default) = all at once */
  size_t max_message;     /* reassembled message cap; default 16 MiB */
  enum bolt_tls tls;
  const char *tls_ca_file;     /* PEM bundle; NULL = the system's default CA paths */
  const char *tls_server_name; /* name for SNI and the certificate check; NULL = host */
};

enum bolt_state {
  BOLT_STATE_DISCONNECTED = 0, /* before a successful handshake and login */
  BOLT_STATE_READY,            /* idle, auto-commit */
  BOLT_STATE_STREAMING,        /* an auto-commit result is open */
  BOLT_STATE_TX_READY,         /* inside BEGIN … COMMIT/ROLLBACK, no open result */
  BOLT_STATE_TX_STREAMING,     /* a result is open inside a transaction */
  BOLT_STATE_FAILED,           /* the server answered FAILURE; RESET pending (transient inside a call) */
  BOLT_STATE_DEFUNCT           /* unusable; close it */
};

enum bolt_error_class {
  BOLT_ERR_NONE = 0,
  BOLT_ERR_CLIENT,    /* *.ClientError.*: the request is wrong, do not retry unchanged */
  BOLT_ERR_TRANSIENT, /* *.TransientError.*: retry with backoff */
  BOLT_ERR_DATABASE,  /* *.DatabaseError.*: server-side failure */
  BOLT_ERR_LOCAL      /* not from the server: transport, timeout, protocol, misuse */
};

struct bolt_error {
  int rc;                      /* MGO_* of the last failure, MGO_OK when none */
  enum bolt_error_class klass; /* classification of code (BOLT_ERR_LOCAL for local errors) */
  char code[128];              /* server code, e.g. "Memgraph.ClientError.MemgraphError.MemgraphError" */
  char message[1024];          /* server message, verbatim (truncated to fit) */
  char detail[256];            /* local description, e.g. "deadline of 2000 ms exceeded waiting for PULL" */
};

struct bolt_conn;
struct bolt_result;

void bolt_opts_default(struct bolt_opts *opts);

/* Connects, negotiates a version and authenticates. *conn is always set (NULL only when memory runs out),
 * so that bolt_error(*conn) can explain a failure; call bolt_close() in every case. Errors: MGO_ECONNECT,
 * MGO_ETIMEDOUT, MGO_ETLS, MGO_ENOVERSION (no common version, or an HTTP endpoint), MGO_EAUTH (with the
 * server's message), MGO_EPROTO, MGO_EINVAL (bad options). */
int bolt_connect(struct bolt_conn **conn, const struct bolt_opts *opts);
/* Sends GOODBYE when the connection is usable, closes the socket and frees everything. NULL is fine. */
void bolt_close(struct bolt_conn *conn);

/* Runs a query (params: a map or NULL). In auto-commit mode RUN and the first PULL are pipelined.
 * On MGO_OK *result is open and its column names are known (bolt_result_fields()). */
int bolt_run(struct bolt_conn *conn, const char *query, const struct bolt_value *params,
             struct bolt_result **result);
/* 1 with *row set (a list, borrowed), 0 at the end (the summary is then available), or < 0 on error. */
int bolt_result_next(struct bolt_result *result, const struct bolt_value **row);
/* Takes ownership of the row last returned by bolt_result_next() (the caller frees it); NULL if none. */
struct bolt_value *bolt_result_take_row(struct bolt_result *result);
/* Skips the remaining rows (DISCARD); the summary is available afterwards. */
int bolt_result_discard(struct bolt_result *result);
/* Column names (a list of strings); borrowed. */
const struct bolt_value *bolt_result_fields(const struct bolt_result *result);
/* Index of a column by name, or -1. */
long bolt_result_field_index(const struct bolt_result *result, const char *name);
/* The RUN success metadata and the final summary (a map: type, db, stats, notifications …); NULL until
 * known. Borrowed. */
const struct bolt_value *bolt_result_run_metadata(const struct bolt_result *result);
const struct bolt_value *bolt_result_summary(const struct bolt_result *result);
/* The summary's notifications list, or NULL when the server sent none. Borrowed. */
const struct bolt_value *bolt_result_notifications(const struct bolt_result *result);

/* PULL requests sent for this result so far (1 + one per further batch); for diagnostics and tests. */
size_t bolt_result_pulls(const struct bolt_result *result);

/* Explicit transactions. bolt_run() inside BEGIN … COMMIT runs in the transaction. */
int bolt_begin(struct bolt_conn *conn);
int bolt_commit(struct bolt_conn *conn);
int bolt_rollback(struct bolt_conn *conn);
/* Sends RESET: closes an open result and aborts a transaction; READY afterwards. */
int bolt_reset(struct bolt_conn *conn);

/* Introspection. All accept NULL: bolt_state(NULL) is DEFUNCT, bolt_error(NULL) describes the missing
 * connection (bolt_connect() ran out of memory), the others return 0 / NULL. */
enum bolt_state bolt_state(const struct bolt_conn *conn);
const char *bolt_state_name(enum bolt_state state);
const struct bolt_error *bolt_error(const struct bolt_conn *conn);
/* Negotiated version as (major << 8) | minor, e.g. 0x0502; 0 before the handshake. */
unsigned bolt_version(const struct bolt_conn *conn);
/* The server's HELLO success metadata (server, connection_id …; LOGON's when it sent any); borrowed. */
const struct bolt_value *bolt_server_info(const struct bolt_conn *conn);
/* Classifies a server code by its second dotted part. */
enum bolt_error_class bolt_classify_code(const char *code);

#endif
