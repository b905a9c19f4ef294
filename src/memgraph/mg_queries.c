/* The typed queries: each runs one fixed or checked query text, parses the answer by column name and
 * leaves its outcome in c->last (copied to the caller's err). */
#include <string.h>

#include "mg_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

static int show_version(struct mg_conn *c, struct mg_version *out)
{
  struct mg__table t;
  int rc = mg__run_query(c, "SHOW VERSION", MG__READ_ONLY, &t);

  memset(out, 0, sizeof(*out));
  if (rc == MGO_OK)
    rc = mg_parse_version_result(t.fields, t.rows, out, &c->last);
  if (rc == MGO_OK)
    c->version = *out;
  mg__table_free(&t);
  return rc;
}

int mg_show_version(struct mg_conn *c, struct mg_version *out, struct mg_error *err)
{
  return mg__done(c, show_version(c, out), err);
}

/* The instance's version, asked when not cached on this connection. */
static int ensure_version(struct mg_conn *c)
{
  struct mg_version v;

  if (mg_conn_connected(c) && mg_version_known(&c->version))
    return MGO_OK;
  return show_version(c, &v);
}

int mg_show_role(struct mg_conn *c, enum mgo_role *out, struct mg_error *err)
{
  struct mg__table t;
  int rc = mg__run_query(c, "SHOW REPLICATION ROLE", MG__READ_ONLY, &t);

  *out = MGO_ROLE_UNKNOWN;
  if (rc == MGO_OK)
    rc = mg_parse_role(t.fields, t.rows, out, &c->last);
  mg__table_free(&t);
  return mg__done(c, rc, err);
}

int mg_show_replicas(struct mg_conn *c, struct mg_replicas *out, struct mg_error *err)
{
  struct mg__table t;
  int rc = mg__run_query(c, "SHOW REPLICAS", MG__READ_ONLY, &t);

  out->n = 0;
  if (rc == MGO_OK)
    rc = mg_parse_replicas(t.fields, t.rows, out, &c->last);
  mg__table_free(&t);
  return mg__done(c, rc, err);
}

static int storage_info(struct mg_conn *c, struct mg_storage_info *out)
{
  struct mg__table t;
  int rc = mg__run_query(c, "SHOW STORAGE INFO", MG__READ_ONLY, &t);

  memset(out, 0, sizeof(*out));
  if (rc == MGO_OK)
    rc = mg_parse_storage_info(t.fields, t.rows, out, &c->last);
  mg__table_free(&t);
  return rc;
}

int mg_show_storage_info(struct mg_conn *c, struct mg_storage_info *out, struct mg_error *err)
{
  return mg__done(c, storage_info(c, out), err);
}

int mg_has_data(struct mg_conn *c, enum mg_data *out, struct mg_error *err)
{
  struct mg_storage_info si;
  int rc = storage_info(c, &si);

  *out = rc == MGO_OK ? mg_storage_data(&si) : MG_DATA_UNKNOWN;
  return mg__done(c, rc, err);
}

/* A query without rows that changes state: never re-sent. */
static int run_action(struct mg_conn *c, const char *query)
{
  struct mg__table t;
  int rc = mg__run_query(c, query, 0, &t);

  mg__table_free(&t);
  return rc;
}

int mg_set_role_main(struct mg_conn *c, struct mg_error *err)
{
  char q[32];
  int rc = mg_cypher_set_main(q, sizeof(q));

  if (rc == MGO_OK)
    rc = run_action(c, q);
  return mg__done(c, rc, err);
}

int mg_set_role_replica(struct mg_conn *c, int port, struct mg_error *err)
{
  char q[96];
  int rc = mg_cypher_set_replica(q, sizeof(q), port);

  if (rc != MGO_OK)
    rc = mg__err_local(&c->last, MGO_EINVAL, MG_ERR_INVALID_ARG, "replication port %d is not in 1..65535",
                       port);
  else
    rc = run_action(c, q);
  return mg__done(c, rc, err);
}

static int register_replica(struct mg_conn *c, const char *name, enum mgo_repl_mode mode, const char *address)
{
  char q[MGO_NAME_MAX + MGO_ADDR_MAX + 64];
  int rc;

  if (!mg_name_is_safe(name))
    return mg__err_local(&c->last, MGO_EINVAL, MG_ERR_INVALID_ARG,
                         "replica name is not [A-Za-z_][A-Za-z0-9_]*");
  if (mg_address_check(address, NULL, 0, NULL) != MGO_OK)
    return mg__err_local(&c->last, MGO_EINVAL, MG_ERR_INVALID_ARG, "replica address is not <host>:<port>");
  rc = mg_cypher_register(q, sizeof(q), name, mode, address);
  if (rc != MGO_OK)
    return mg__err_local(&c->last, rc, MG_ERR_INVALID_ARG, "cannot build REGISTER REPLICA: %s",
                         mgo_errname(rc));
  if (mode == MGO_MODE_STRICT_SYNC) {
    rc = ensure_version(c);
    if (rc != MGO_OK)
      return rc;
    if (!mg_version_at_least(&c->version, 3, 5, 0))
      return mg__err_local(&c->last, MGO_EUNSUPPORTED, MG_ERR_UNSUPPORTED,
                           "STRICT_SYNC needs Memgraph 3.5+, not %s", c->version.raw);
  }
  return run_action(c, q);
}

int mg_register_replica(struct mg_conn *c, const char *name, enum mgo_repl_mode mode, const char *address,
                        struct mg_error *err)
{
  return mg__done(c, register_replica(c, name, mode, address), err);
}

int mg_drop_replica(struct mg_conn *c, const char *name, struct mg_error *err)
{
  char q[MGO_NAME_MAX + 32];
  int rc = mg_cypher_drop(q, sizeof(q), name);

  if (rc != MGO_OK)
    rc = mg__err_local(&c->last, MGO_EINVAL, MG_ERR_INVALID_ARG,
                       "replica name is not droppable ([A-Za-z0-9_.-]+)");
  else
    rc = run_action(c, q);
  return mg__done(c, rc, err);
}

int mg_create_snapshot(struct mg_conn *c, char *path, size_t pathsz, bool *nothing_new, struct mg_error *err)
{
  struct mg__table t;
  int rc = mg__run_query(c, "CREATE SNAPSHOT", 0, &t);
  long col = mg__column(t.fields, "path");

  if (path && pathsz)
    path[0] = '\0';
  if (nothing_new)
    *nothing_new = false;
  /* 3.3-3.4 refuse when nothing changed: success for the caller (memgraph.md 10.1); cls stays as a note */
  if (rc == MGO_EFAILURE && c->last.cls == MG_ERR_SNAPSHOT_NOTHING_NEW) {
    if (nothing_new)
      *nothing_new = true;
    rc = MGO_OK;
  }
  if (rc == MGO_OK && col >= 0 && path && pathsz)
    mg__copy_string(bolt_list_at(bolt_list_at(t.rows, 0), (size_t) col), path, pathsz, NULL);
  mg__table_free(&t);
  return mg__done(c, rc, err);
}

static int show_snapshots(struct mg_conn *c, struct mg_snapshots *out)
{
  struct mg__table t;
  int rc = ensure_version(c);

  if (rc != MGO_OK)
    return rc;
  if (!mg_version_at_least(&c->version, 2, 22, 0))
    return mg__err_local(&c->last, MGO_EUNSUPPORTED, MG_ERR_UNSUPPORTED,
                         "SHOW SNAPSHOTS needs Memgraph 2.22+, not %s", c->version.raw);
  rc = mg__run_query(c, "SHOW SNAPSHOTS", MG__READ_ONLY, &t);
  if (rc == MGO_OK)
    rc = mg_parse_snapshots(t.fields, t.rows, out, &c->last);
  mg__table_free(&t);
  return rc;
}

int mg_show_snapshots(struct mg_conn *c, struct mg_snapshots *out, struct mg_error *err)
{
  memset(out, 0, sizeof(*out));
  return mg__done(c, show_snapshots(c, out), err);
}

int mg_exec(struct mg_conn *c, const char *query, size_t *rows, struct mg_error *err)
{
  struct mg__table t;
  int rc;

  if (rows)
    *rows = 0;
  if (query == NULL)
    return mg__done(c, mg__err_local(&c->last, MGO_EINVAL, MG_ERR_INVALID_ARG, "no query"), err);
  rc = mg__run_query(c, query, 0, &t);
  if (rc == MGO_OK && rows)
    *rows = t.nrows;
  if (rc == MGO_OK && t.sync_warning) {
    c->last.cls = MG_ERR_SYNC_REPLICA_FAILED;
    mgo_strlcpy(c->last.message, t.warning, sizeof(c->last.message));
  }
  mg__table_free(&t);
  return mg__done(c, rc, err);
}

int mg_canary_read(struct mg_conn *c, struct mg_canary *out, struct mg_error *err)
{
  struct mg__table t;
  int rc = mg__run_query(c, MG_CANARY_READ, MG__READ_ONLY, &t);

  memset(out, 0, sizeof(*out));
  if (rc == MGO_OK)
    rc = mg_parse_canary(t.fields, t.rows, out, &c->last);
  mg__table_free(&t);
  return mg__done(c, rc, err);
}

int mg_canary_write(struct mg_conn *c, int64_t seq, int64_t ts_ms, bool recreate, struct mg_error *err)
{
  char q[160];
  int rc = mg_cypher_canary_write(q, sizeof(q), seq, ts_ms);

  if (rc != MGO_OK)
    return mg__done(c, mg__err_local(&c->last, rc, MG_ERR_INVALID_ARG, "canary: seq or ts out of range"),
                    err);
  if (recreate)
    rc = run_action(c, MG_CANARY_DELETE);
  if (rc == MGO_OK)
    rc = run_action(c, q);
  return mg__done(c, rc, err);
}
