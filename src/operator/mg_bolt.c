/* struct mgo_mg_ops over the Bolt client (src/bolt): one Bolt connection per Memgraph pod. */
#include "mg_iface.h"

#include <stdlib.h>
#include <string.h>

#include "bolt.h"
#include "mgo_buf.h"
#include "mgo_err.h"

struct mg_bolt {
  struct bolt_conn *bolt;
  char err[320];
};

static void remember_error(struct mg_bolt *m, int rc)
{
  const struct bolt_error *e = bolt_error(m->bolt);
  const char *text = e->message[0] != '\0' ? e->message : e->detail;
  (void) mgo_snprintf(m->err, sizeof(m->err), "%s: %s", mgo_errname(rc), text[0] != '\0' ? text : "-");
}

static int bolt_mg_connect(const struct mgo_mg_target *t, void **conn)
{
  struct bolt_opts o;
  struct mg_bolt *m = calloc(1, sizeof(*m));
  int rc;

  *conn = m;
  if (m == NULL)
    return MGO_ENOMEM;
  bolt_opts_default(&o);
  o.host = t->host;
  o.port = t->port;
  o.user_agent = "memgraph-operator";
  o.connect_timeout_ms = t->connect_timeout_ms;
  o.query_timeout_ms = t->query_timeout_ms;
  if (t->user != NULL) {
    o.auth = BOLT_AUTH_BASIC;
    o.user = t->user;
    o.password = t->password;
  }
  rc = bolt_connect(&m->bolt, &o);
  if (rc != MGO_OK)
    remember_error(m, rc);
  return rc;
}

static void bolt_mg_close(void *conn)
{
  struct mg_bolt *m = conn;
  if (m == NULL)
    return;
  bolt_close(m->bolt);
  free(m);
}

static bool bolt_mg_usable(const void *conn)
{
  const struct mg_bolt *m = conn;
  return m != NULL && bolt_state(m->bolt) == BOLT_STATE_READY;
}

static const char *bolt_mg_error(const void *conn)
{
  const struct mg_bolt *m = conn;
  return m != NULL ? m->err : "out of memory";
}

typedef int row_fn(const struct bolt_value *fields, const struct bolt_value *row, void *arg);

/* Runs query and calls fn for each row (fn may be NULL to discard). The first fn error stops the
 * iteration (the rest is discarded so the connection stays READY). */
static int run_rows(struct mg_bolt *m, const char *query, row_fn *fn, void *arg)
{
  struct bolt_result *res = NULL;
  const struct bolt_value *row = NULL;
  int rc = bolt_run(m->bolt, query, NULL, &res);
  int frc = MGO_OK;

  while (rc == MGO_OK) {
    rc = bolt_result_next(res, &row);
    if (rc != 1)
      break;
    rc = MGO_OK;
    if (fn != NULL && frc == MGO_OK)
      frc = fn(bolt_result_fields(res), row, arg);
  }
  if (rc < 0) {
    remember_error(m, rc);
    return rc;
  }
  if (frc != MGO_OK)
    (void) mgo_snprintf(m->err, sizeof(m->err), "%s: unexpected answer to %s", mgo_errname(frc), query);
  return frc;
}

static long column(const struct bolt_value *fields, const char *name)
{
  for (size_t i = 0; i < bolt_value_len(fields); i++) {
    const char *s = NULL;
    if (bolt_value_as_string(bolt_list_at(fields, i), &s, NULL) == MGO_OK && strcmp(s, name) == 0)
      return (long) i;
  }
  return -1;
}

static const struct bolt_value *cell(const struct bolt_value *fields, const struct bolt_value *row,
                                     const char *name)
{
  long i = column(fields, name);
  return i < 0 ? NULL : bolt_list_at(row, (size_t) i);
}

int mgo_mg_parse_role(const struct bolt_value *fields, const struct bolt_value *row, enum mgo_role *role)
{
  const char *s = NULL;
  if (bolt_value_as_string(cell(fields, row, "replication role"), &s, NULL) != MGO_OK)
    return MGO_EPARSE;
  if (strcmp(s, "main") == 0 || strcmp(s, "MAIN") == 0)
    *role = MGO_ROLE_MAIN;
  else if (strcmp(s, "replica") == 0 || strcmp(s, "REPLICA") == 0)
    *role = MGO_ROLE_REPLICA;
  else
    return MGO_EPARSE;
  return MGO_OK;
}

static int role_row(const struct bolt_value *fields, const struct bolt_value *row, void *arg)
{
  return mgo_mg_parse_role(fields, row, arg);
}

static int bolt_mg_show_role(void *conn, enum mgo_role *role)
{
  *role = MGO_ROLE_UNKNOWN;
  int rc = run_rows(conn, "SHOW REPLICATION ROLE", role_row, role);
  if (rc == MGO_OK && *role == MGO_ROLE_UNKNOWN) {
    struct mg_bolt *m = conn;
    (void) mgo_strlcpy(m->err, "EPARSE: SHOW REPLICATION ROLE returned no row", sizeof(m->err));
    return MGO_EPARSE;
  }
  return rc;
}

struct text_arg {
  char *dst;
  size_t dstsz;
};

static int version_row(const struct bolt_value *fields, const struct bolt_value *row, void *arg)
{
  struct text_arg *t = arg;
  const char *s = NULL;
  if (bolt_value_as_string(cell(fields, row, "version"), &s, NULL) != MGO_OK)
    return MGO_EPARSE;
  (void) mgo_strlcpy(t->dst, s, t->dstsz);
  return MGO_OK;
}

static int bolt_mg_show_version(void *conn, char *dst, size_t dstsz)
{
  struct text_arg t = {dst, dstsz};
  dst[0] = '\0';
  return run_rows(conn, "SHOW VERSION", version_row, &t);
}

static enum mgo_repl_mode parse_mode(const char *s)
{
  if (strcmp(s, "sync") == 0 || strcmp(s, "SYNC") == 0)
    return MGO_MODE_SYNC;
  if (strcmp(s, "strict_sync") == 0 || strcmp(s, "STRICT_SYNC") == 0)
    return MGO_MODE_STRICT_SYNC;
  return MGO_MODE_ASYNC;
}

static enum rec_replica_state parse_state(const char *s)
{
  static const struct {
    const char *name;
    enum rec_replica_state state;
  } states[] = {{"ready", REC_RS_READY},
                {"replicating", REC_RS_REPLICATING},
                {"recovery", REC_RS_RECOVERY},
                {"invalid", REC_RS_INVALID},
                {"diverged", REC_RS_DIVERGED}};
  for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
    if (strcmp(s, states[i].name) == 0)
      return states[i].state;
  }
  return REC_RS_UNKNOWN;
}

/* data_info: {memgraph: {behind, status, ts}}; {} means "listed without clients" (memgraph.md 4.2). */
static void parse_data_info(const struct bolt_value *info, struct rec_registration *out)
{
  const struct bolt_value *db = bolt_map_get(info, "memgraph");
  const char *status = NULL;
  out->has_data_info = false;
  out->state = REC_RS_UNKNOWN;
  if (bolt_value_type(db) != BOLT_MAP)
    return;
  out->has_data_info = true;
  if (bolt_map_get_string(db, "status", &status) == MGO_OK)
    out->state = parse_state(status);
  (void) bolt_map_get_int(db, "ts", &out->ts);
  (void) bolt_map_get_int(db, "behind", &out->behind);
  if (out->behind > 0)
    out->behind = 0; /* replica ahead of the MAIN's estimate: treat as caught up */
}

int mgo_mg_parse_replica_row(const struct bolt_value *fields, const struct bolt_value *row,
                             struct rec_registration *out)
{
  const char *name = NULL, *addr = NULL, *mode = NULL;
  memset(out, 0, sizeof(*out));
  if (bolt_value_as_string(cell(fields, row, "name"), &name, NULL) != MGO_OK ||
      bolt_value_as_string(cell(fields, row, "socket_address"), &addr, NULL) != MGO_OK ||
      bolt_value_as_string(cell(fields, row, "sync_mode"), &mode, NULL) != MGO_OK)
    return MGO_EPARSE;
  if (mgo_strlcpy(out->name, name, sizeof(out->name)) != MGO_OK ||
      mgo_strlcpy(out->address, addr, sizeof(out->address)) != MGO_OK)
    return MGO_EPARSE;
  out->mode = parse_mode(mode);
  parse_data_info(cell(fields, row, "data_info"), out);
  return MGO_OK;
}

struct replicas_arg {
  struct rec_registration *regs;
  size_t max, n;
};

static int replica_row(const struct bolt_value *fields, const struct bolt_value *row, void *arg)
{
  struct replicas_arg *a = arg;
  if (a->n >= a->max)
    return MGO_ETOOBIG;
  int rc = mgo_mg_parse_replica_row(fields, row, &a->regs[a->n]);
  if (rc == MGO_OK)
    a->n++;
  return rc;
}

static int bolt_mg_show_replicas(void *conn, struct rec_registration *regs, size_t max, size_t *n)
{
  struct replicas_arg a = {regs, max, 0};
  int rc = run_rows(conn, "SHOW REPLICAS", replica_row, &a);
  *n = a.n;
  return rc;
}

int mgo_mg_parse_storage_row(const struct bolt_value *fields, const struct bolt_value *row, int64_t *count)
{
  const char *key = NULL;
  int64_t v = 0;
  if (bolt_value_as_string(cell(fields, row, "storage info"), &key, NULL) != MGO_OK)
    return MGO_EPARSE;
  if (strcmp(key, "vertex_count") != 0 && strcmp(key, "edge_count") != 0)
    return MGO_OK;
  if (bolt_value_as_int(cell(fields, row, "value"), &v) != MGO_OK)
    return MGO_EPARSE;
  *count += v;
  return MGO_OK;
}

static int storage_row(const struct bolt_value *fields, const struct bolt_value *row, void *arg)
{
  return mgo_mg_parse_storage_row(fields, row, arg);
}

static int bolt_mg_has_data(void *conn, enum rec_data *data)
{
  int64_t count = 0;
  int rc = run_rows(conn, "SHOW STORAGE INFO", storage_row, &count);
  *data = rc != MGO_OK ? REC_DATA_UNKNOWN : count > 0 ? REC_DATA_PRESENT : REC_DATA_EMPTY;
  return rc;
}

static int bolt_mg_execute(void *conn, const char *cypher)
{
  return run_rows(conn, cypher, NULL, NULL);
}

const struct mgo_mg_ops mgo_mg_bolt_ops = {
    .connect = bolt_mg_connect,
    .close = bolt_mg_close,
    .usable = bolt_mg_usable,
    .error = bolt_mg_error,
    .show_role = bolt_mg_show_role,
    .show_version = bolt_mg_show_version,
    .show_replicas = bolt_mg_show_replicas,
    .has_data = bolt_mg_has_data,
    .execute = bolt_mg_execute,
};
