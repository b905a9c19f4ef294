/* The connection wrapper: lazy (re)connects, one retry of read-only queries on a reused connection that
 * the peer closed, rows collected into a bolt list for the pure parsers, Bolt errors turned into
 * struct mg_error (kept in the connection as the outcome of the last call). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mg_int.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "trace.h"

#define MG_MAX_ROWS 10000 /* rows kept per query; the rest are discarded (no query here returns more) */

void mg__table_free(struct mg__table *t)
{
  bolt_value_free(t->fields);
  bolt_value_free(t->rows);
  memset(t, 0, sizeof(*t));
}

void mg_conn_opts_default(struct mg_conn_opts *o)
{
  memset(o, 0, sizeof(*o));
  o->port = MGO_BOLT_PORT;
  o->tls = BOLT_TLS_OFF;
  o->connect_timeout_ms = 3000;
  o->query_timeout_ms = 10000;
  o->user_agent = "memgraph-operator";
}

static int dup_opt(char **dst, const char *src)
{
  *dst = NULL;
  if (src == NULL)
    return MGO_OK;
  *dst = strdup(src);
  return *dst ? MGO_OK : MGO_ENOMEM;
}

static int copy_opts(struct mg_conn *c, const struct mg_conn_opts *o)
{
  int rc = dup_opt(&c->host, o->host);
  if (rc == MGO_OK)
    rc = dup_opt(&c->user, o->user && o->user[0] ? o->user : NULL);
  if (rc == MGO_OK)
    rc = dup_opt(&c->password, o->password ? o->password : "");
  if (rc == MGO_OK)
    rc = dup_opt(&c->ca, o->tls_ca_file);
  if (rc == MGO_OK)
    rc = dup_opt(&c->sni, o->tls_server_name);
  if (rc == MGO_OK)
    rc = dup_opt(&c->ua, o->user_agent ? o->user_agent : "memgraph-operator");
  return rc;
}

int mg_conn_new(struct mg_conn **out, const struct mg_conn_opts *o)
{
  struct mg_conn *c;

  *out = NULL;
  if (o == NULL || o->host == NULL || o->host[0] == '\0')
    return MGO_EINVAL;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return MGO_ENOMEM;
  if (copy_opts(c, o) != MGO_OK) {
    mg_conn_free(c);
    return MGO_ENOMEM;
  }
  bolt_opts_default(&c->bopts);
  c->bopts.host = c->host;
  c->bopts.port = o->port ? o->port : MGO_BOLT_PORT;
  c->bopts.user_agent = c->ua;
  c->bopts.auth = c->user ? BOLT_AUTH_BASIC : BOLT_AUTH_NONE;
  c->bopts.user = c->user;
  c->bopts.password = c->password;
  c->bopts.tls = o->tls;
  c->bopts.tls_ca_file = c->ca;
  c->bopts.tls_server_name = c->sni;
  c->bopts.connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 3000;
  c->bopts.query_timeout_ms = o->query_timeout_ms > 0 ? o->query_timeout_ms : 10000;
  *out = c;
  return MGO_OK;
}

void mg_conn_disconnect(struct mg_conn *c)
{
  if (c == NULL)
    return;
  bolt_close(c->bolt);
  c->bolt = NULL;
  memset(&c->version, 0, sizeof(c->version));
}

void mg_conn_free(struct mg_conn *c)
{
  if (c == NULL)
    return;
  mg_conn_disconnect(c);
  free(c->host);
  free(c->user);
  free(c->password);
  free(c->ca);
  free(c->sni);
  free(c->ua);
  free(c);
}

bool mg_conn_connected(const struct mg_conn *c)
{
  enum bolt_state st = c ? bolt_state(c->bolt) : BOLT_STATE_DEFUNCT;
  return c != NULL && c->bolt != NULL && st != BOLT_STATE_DEFUNCT && st != BOLT_STATE_DISCONNECTED;
}

unsigned mg_conn_connects(const struct mg_conn *c)
{
  return c ? c->connects : 0;
}

const struct mg_version *mg_conn_version(const struct mg_conn *c)
{
  return c ? &c->version : NULL;
}

static enum mg_err_class class_of_rc(int rc, const struct bolt_error *be)
{
  switch (rc) {
  case MGO_EFAILURE:
    return mg_classify_error(be ? be->code : "", be ? be->message : "");
  case MGO_EAUTH:
    return MG_ERR_AUTH;
  case MGO_ETIMEDOUT:
    return MG_ERR_TIMEOUT;
  case MGO_ENOMEM:
  case MGO_EINVAL:
  case MGO_ESTATE:
    return MG_ERR_OTHER;
  default:
    return MG_ERR_CONNECTION;
  }
}

/* Fills err from the Bolt connection's last error; returns rc. */
/* Fills c->last from the Bolt connection's last error; returns rc. */
static int bolt_failed(struct mg_conn *c, int rc, const char *query)
{
  const struct bolt_error *be = bolt_error(c->bolt);
  struct mg_error *err = &c->last;

  mg__err_clear(err);
  err->rc = rc;
  err->cls = class_of_rc(rc, be);
  if (be != NULL && (rc == MGO_EFAILURE || rc == MGO_EAUTH)) {
    mgo_strlcpy(err->code, be->code, sizeof(err->code));
    mgo_strlcpy(err->message, be->message, sizeof(err->message));
  }
  mgo_snprintf(err->detail, sizeof(err->detail), "%s: %s%s%s", query, mgo_errname(rc),
               be && be->detail[0] ? ": " : "", be ? be->detail : "");
  return rc;
}

int mg__done(struct mg_conn *c, int rc, struct mg_error *err)
{
  c->last.rc = rc;
  if (err != NULL)
    *err = c->last;
  return rc;
}

const struct mg_error *mg_conn_last_error(const struct mg_conn *c)
{
  return c ? &c->last : NULL;
}

static int connect_now(struct mg_conn *c)
{
  int rc;

  mg__err_clear(&c->last);
  if (mg_conn_connected(c) && bolt_state(c->bolt) == BOLT_STATE_READY)
    return MGO_OK;
  mg_conn_disconnect(c);
  c->connects++;
  rc = bolt_connect(&c->bolt, &c->bopts);
  if (rc != MGO_OK) {
    bolt_failed(c, rc, "connect");
    mg_conn_disconnect(c);
  }
  return rc;
}

int mg_conn_connect(struct mg_conn *c, struct mg_error *err)
{
  if (c == NULL)
    return mg__err_local(err, MGO_EINVAL, MG_ERR_INVALID_ARG, "no connection");
  return mg__done(c, connect_now(c), err);
}

/* Reads the rest of an open result into t (rows beyond MG_MAX_ROWS are counted, not kept). The Bolt
 * client bounds each wait; deadline bounds the whole query (a peer dripping rows). */
static int collect_rows(struct bolt_result *res, struct mg__table *t, int64_t deadline)
{
  const struct bolt_value *row = NULL;
  int rc;

  while ((rc = bolt_result_next(res, &row)) == 1) {
    if (mgo_clock_mono_ms(NULL) > deadline) {
      t->deadline_hit = true;
      return MGO_ETIMEDOUT;
    }
    t->nrows++;
    if (bolt_value_len(t->rows) >= MG_MAX_ROWS)
      continue;
    rc = bolt_list_push(t->rows, bolt_result_take_row(res));
    if (rc != MGO_OK)
      return rc;
  }
  return rc;
}

static void scan_notifications(const struct bolt_result *res, struct mg__table *t)
{
  const struct bolt_value *notes = bolt_result_notifications(res);
  size_t n = bolt_value_type(notes) == BOLT_LIST ? bolt_value_len(notes) : 0;

  for (size_t i = 0; i < n; i++) {
    const struct bolt_value *note = bolt_list_at(notes, i);
    const char *code = NULL;
    const char *title = NULL;
    if (bolt_map_get_string(note, "code", &code) != MGO_OK || strcmp(code, "SyncReplicationFailure") != 0)
      continue;
    t->sync_warning = true;
    if (bolt_map_get_string(note, "title", &title) == MGO_OK)
      mgo_strlcpy(t->warning, title, sizeof(t->warning));
  }
}

/* One attempt on a connected conn. */
static int run_once(struct mg_conn *c, const char *query, struct mg__table *t)
{
  struct bolt_result *res = NULL;
  int64_t deadline = mgo_clock_mono_ms(NULL) + c->bopts.query_timeout_ms;
  int rc = bolt_run(c->bolt, query, NULL, &res);

  if (rc != MGO_OK)
    return rc;
  t->fields = bolt_value_clone(bolt_result_fields(res));
  t->rows = bolt_value_list();
  if (t->fields == NULL || t->rows == NULL)
    return MGO_ENOMEM;
  rc = collect_rows(res, t, deadline);
  if (rc == MGO_OK)
    scan_notifications(res, t);
  return rc;
}

/* The peer closed or reset a reused connection (typically: it restarted). A timeout is not retried: a
 * frozen peer would only double the time until the caller learns about it. */
static bool peer_went_away(int rc)
{
  return rc == MGO_EIO || rc == MGO_ECLOSED;
}

/* Makes the connection READY: reconnects when missing or broken; *fresh tells whether it is new. */
static int ensure_ready(struct mg_conn *c, bool *fresh)
{
  *fresh = false;
  if (mg_conn_connected(c) && bolt_state(c->bolt) != BOLT_STATE_READY && bolt_reset(c->bolt) != MGO_OK)
    mg_conn_disconnect(c);
  if (mg_conn_connected(c) && bolt_state(c->bolt) == BOLT_STATE_READY)
    return MGO_OK;
  *fresh = true;
  return connect_now(c);
}

static int run_query(struct mg_conn *c, const char *query, unsigned flags, struct mg__table *t);

/* A child span of the calling thread's current span (none outside a reconcile pass): the statement's
 * leading keywords only (never names, addresses or other data of the query), the server and the failure. */
int mg__run_query(struct mg_conn *c, const char *query, unsigned flags, struct mg__table *t)
{
  char kind[64], name[80];
  struct mgo_span *span = NULL;
  int rc;
  if (mgo_span_current() != NULL) {
    mgo_trace_statement_kind(query, kind, sizeof(kind));
    (void) mgo_snprintf(name, sizeof(name), "bolt %s", kind[0] != '\0' ? kind : "query");
    span = mgo_span_child(name, MGO_SPAN_CLIENT);
    mgo_span_set_str(span, "db.system.name", "memgraph");
    mgo_span_set_str(span, "db.operation.name", kind);
    mgo_span_set_str(span, "server.address", c->host);
    mgo_span_set_int(span, "server.port", c->bopts.port);
  }
  rc = run_query(c, query, flags, t);
  if (rc != MGO_OK)
    mgo_span_set_error(span, "%s %s%s%s", mgo_errname(rc), mg_err_class_name(c->last.cls),
                       c->last.message[0] != '\0' ? ": " : "", c->last.message);
  mgo_span_end(span);
  return rc;
}

static int run_query(struct mg_conn *c, const char *query, unsigned flags, struct mg__table *t)
{
  bool fresh = false;
  int rc = ensure_ready(c, &fresh);

  memset(t, 0, sizeof(*t));
  if (rc != MGO_OK)
    return rc;
  rc = run_once(c, query, t);
  if (peer_went_away(rc) && !fresh && (flags & MG__READ_ONLY)) {
    mg__table_free(t);
    mg_conn_disconnect(c);
    rc = connect_now(c);
    if (rc != MGO_OK)
      return rc;
    rc = run_once(c, query, t);
  }
  if (t->deadline_hit) {
    mg_conn_disconnect(c); /* rows still in flight: the stream position is lost */
    return mg__err_local(&c->last, MGO_ETIMEDOUT, MG_ERR_TIMEOUT, "%s: deadline of %d ms exceeded", query,
                         c->bopts.query_timeout_ms);
  }
  if (rc == MGO_ENOMEM)
    return mg__err_local(&c->last, rc, MG_ERR_OTHER, "%s: out of memory", query);
  if (rc != MGO_OK)
    return bolt_failed(c, rc, query);
  mg__err_clear(&c->last);
  return MGO_OK;
}
