/* The Memgraph port's real backend: struct mgo_mg_ops over the typed queries of this library, one struct
 * mg_conn per connection, whose version cache, error classes and checked Cypher the callers reuse. */
#include "mg_port.h"

#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "mg_rec.h"
#include "mgo_buf.h"
#include "mgo_err.h"

struct mgo_mg_conn {
  struct mg_conn *c;
  bool borrowed; /* c belongs to the caller (mgo_mg_memgraph_wrap) */
  char err[400];
  enum mg_err_class cls; /* of the last failure */
};

static void remember(struct mgo_mg_conn *w, const struct mg_error *e)
{
  const char *text = e->message[0] != '\0' ? e->message : e->detail;
  (void) mgo_snprintf(w->err, sizeof(w->err), "%s %s: %s", mgo_errname(e->rc), mg_err_class_name(e->cls),
                      text[0] != '\0' ? text : "-");
}

static int finish(struct mgo_mg_conn *w, int rc, const struct mg_error *e)
{
  if (rc != MGO_OK) {
    remember(w, e);
    w->cls = e->cls;
  }
  return rc;
}

static bool mgm_failed_diverged(const struct mgo_mg_conn *conn)
{
  const struct mgo_mg_conn *w = conn;
  return w != NULL && w->cls == MG_ERR_DIVERGED;
}

static bool mgm_failed_busy(const struct mgo_mg_conn *conn)
{
  const struct mgo_mg_conn *w = conn;
  return w != NULL && (w->cls == MG_ERR_NO_ACCESS || w->cls == MG_ERR_ALREADY_REPLICA);
}

static int mgm_connect(const struct mgo_mg_target *t, struct mgo_mg_conn **conn)
{
  struct mg_conn_opts o;
  struct mg_error e;
  struct mgo_mg_conn *w = calloc(1, sizeof(*w));
  int rc;

  *conn = w;
  if (w == NULL)
    return MGO_ENOMEM;
  mg_conn_opts_default(&o);
  o.host = t->host;
  o.port = t->port;
  o.user = t->user;
  o.password = t->password;
  o.connect_timeout_ms = t->connect_timeout_ms;
  o.query_timeout_ms = t->query_timeout_ms;
  if (t->tls_ca_file != NULL) {
    o.tls = BOLT_TLS_VERIFY;
    o.tls_ca_file = t->tls_ca_file;
    o.tls_server_name = t->tls_server_name;
  }
  rc = mg_conn_new(&w->c, &o);
  if (rc != MGO_OK) {
    (void) mgo_snprintf(w->err, sizeof(w->err), "%s: cannot create the connection", mgo_errname(rc));
    return rc;
  }
  memset(&e, 0, sizeof(e));
  return finish(w, mg_conn_connect(w->c, &e), &e);
}

static void mgm_close(struct mgo_mg_conn *conn)
{
  struct mgo_mg_conn *w = conn;
  if (w == NULL)
    return;
  if (!w->borrowed)
    mg_conn_free(w->c);
  free(w);
}

static bool mgm_usable(const struct mgo_mg_conn *conn)
{
  const struct mgo_mg_conn *w = conn;
  return w != NULL && w->c != NULL && mg_conn_connected(w->c);
}

static const char *mgm_error(const struct mgo_mg_conn *conn)
{
  const struct mgo_mg_conn *w = conn;
  return w != NULL ? w->err : "out of memory";
}

static int mgm_show_role(struct mgo_mg_conn *conn, enum mgo_role *role)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  return finish(w, mg_show_role(w->c, role, &e), &e);
}

static int mgm_show_version(struct mgo_mg_conn *conn, char *dst, size_t dstsz)
{
  struct mgo_mg_conn *w = conn;
  struct mg_version v;
  struct mg_error e;
  int rc = mg_show_version(w->c, &v, &e);
  if (rc == MGO_OK)
    (void) mgo_strlcpy(dst, v.raw, dstsz);
  return finish(w, rc, &e);
}

static int mgm_show_replicas(struct mgo_mg_conn *conn, struct rec_registration *regs, size_t max, size_t *n)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  return finish(w, mg_rec_show_replicas(w->c, regs, max, n, &e), &e);
}

static int mgm_has_data(struct mgo_mg_conn *conn, enum rec_data *data)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  return finish(w, mg_rec_has_data(w->c, data, &e), &e);
}

static int mgm_execute(struct mgo_mg_conn *conn, const struct rec_action *a)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  return finish(w, mg_rec_execute(w->c, a, &e), &e);
}

static int mgm_create_snapshot(struct mgo_mg_conn *conn, char *path, size_t pathsz)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  return finish(w, mg_create_snapshot(w->c, path, pathsz, NULL, &e), &e);
}

/* The row of path, or the newest real snapshot (highest timestamp) when path is empty. */
static const struct mg_snapshot *find_snapshot(const struct mg_snapshots *all, const char *path)
{
  const struct mg_snapshot *best = NULL;
  for (size_t i = 0; i < all->n; i++) {
    const struct mg_snapshot *s = &all->s[i];
    if (s->next_scheduled)
      continue;
    if (path != NULL && path[0] != '\0' ? strcmp(s->path, path) == 0
                                        : best == NULL || s->timestamp > best->timestamp)
      best = s;
  }
  return best;
}

static int mgm_snapshot_info(struct mgo_mg_conn *conn, const char *path, struct mgo_mg_snapshot *out)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  struct mg_snapshots *all = calloc(1, sizeof(*all));
  const struct mg_snapshot *s;
  int rc = all != NULL ? finish(w, mg_show_snapshots(w->c, all, &e), &e) : MGO_ENOMEM;

  memset(out, 0, sizeof(*out));
  s = rc == MGO_OK ? find_snapshot(all, path) : NULL;
  if (rc == MGO_OK && s == NULL)
    rc = MGO_ENOTFOUND;
  if (s != NULL) {
    (void) mgo_strlcpy(out->path, s->path, sizeof(out->path));
    out->timestamp = s->timestamp;
    (void) mgo_strlcpy(out->creation_time, s->creation_time, sizeof(out->creation_time));
  }
  free(all);
  return rc;
}

static int mgm_lock_data_directory(struct mgo_mg_conn *conn, bool lock)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  return finish(w, mg_exec(w->c, lock ? "LOCK DATA DIRECTORY" : "UNLOCK DATA DIRECTORY", NULL, &e), &e);
}

static int mgm_storage_counts(struct mgo_mg_conn *conn, int64_t *vertices, int64_t *edges)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  struct mg_storage_info si;
  int rc = finish(w, mg_show_storage_info(w->c, &si, &e), &e);
  if (rc == MGO_OK && (!si.has_vertex_count || !si.has_edge_count))
    rc = MGO_EPARSE;
  *vertices = rc == MGO_OK ? si.vertex_count : -1;
  *edges = rc == MGO_OK ? si.edge_count : -1;
  return rc;
}

static int mgm_canary_read(struct mgo_mg_conn *conn, struct mgo_mg_canary *out)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  struct mg_canary c;
  int rc = finish(w, mg_canary_read(w->c, &c, &e), &e);

  *out = (struct mgo_mg_canary){c.nodes, c.well_formed, c.seq, c.ts_ms};
  return rc;
}

static int mgm_canary_write(struct mgo_mg_conn *conn, int64_t seq, int64_t ts_ms, bool recreate)
{
  struct mgo_mg_conn *w = conn;
  struct mg_error e;
  return finish(w, mg_canary_write(w->c, seq, ts_ms, recreate, &e), &e);
}

static unsigned mgm_connects(const struct mgo_mg_conn *conn)
{
  return conn != NULL && conn->c != NULL ? mg_conn_connects(conn->c) : 0;
}

const struct mgo_mg_ops mgo_mg_memgraph_ops = {
    .connect = mgm_connect,
    .close = mgm_close,
    .usable = mgm_usable,
    .error = mgm_error,
    .show_role = mgm_show_role,
    .show_version = mgm_show_version,
    .show_replicas = mgm_show_replicas,
    .has_data = mgm_has_data,
    .execute = mgm_execute,
    .failed_diverged = mgm_failed_diverged,
    .failed_busy = mgm_failed_busy,
    .create_snapshot = mgm_create_snapshot,
    .snapshot_info = mgm_snapshot_info,
    .lock_data_directory = mgm_lock_data_directory,
    .storage_counts = mgm_storage_counts,
    .connects = mgm_connects,
    .canary_read = mgm_canary_read,
    .canary_write = mgm_canary_write,
};

int mgo_mg_memgraph_wrap(struct mg_conn *c, struct mgo_mg_conn **out)
{
  struct mgo_mg_conn *w = calloc(1, sizeof(*w));
  *out = w;
  if (w == NULL)
    return MGO_ENOMEM;
  w->c = c;
  w->borrowed = true;
  return MGO_OK;
}

/* ---- the observer ------------------------------------------------------------------------------------ */

static void note_failure(const struct mgo_mg_ops *ops, struct mgo_mg_conn *conn, struct rec_instance *in,
                         const char *query, int failed, int *first)
{
  (void) mgo_snprintf(in->last_error, sizeof(in->last_error), "%s: %s", query, ops->error(conn));
  if (*first == MGO_OK)
    *first = failed;
}

/* SHOW VERSION unless seen knows it for this connection incarnation; the version fields of in. */
static unsigned long observe_version(const struct mgo_mg_ops *ops, struct mgo_mg_conn *conn,
                                     struct mgo_mg_seen *seen, struct rec_instance *in)
{
  unsigned long queries = 0;
  unsigned connects = ops->connects(conn);
  if (seen->version[0] == '\0' || seen->connects != connects) {
    int rc = ops->show_version(conn, seen->version, sizeof(seen->version));
    queries++;
    if (rc != MGO_OK) /* the instance answers: its version stays unknown until a later observation */
      seen->version[0] = '\0';
    seen->connects = ops->connects(conn);
  }
  if (seen->version[0] != '\0')
    (void) rec_parse_version(seen->version, &in->version_major, &in->version_minor, &in->version_patch);
  return queries;
}

static unsigned long observe_replicas(const struct mgo_mg_ops *ops, struct mgo_mg_conn *conn,
                                      struct rec_instance *in, int *first)
{
  int rc = ops->show_replicas(conn, in->registrations, MGO_MAX_INSTANCES, &in->n_registrations);
  in->replicas_known = rc == MGO_OK;
  if (rc != MGO_OK) {
    in->n_registrations = 0;
    note_failure(ops, conn, in, "SHOW REPLICAS", rc, first);
  }
  return 1;
}

unsigned long mgo_mg_observe(const struct mgo_mg_ops *ops, struct mgo_mg_conn *conn, struct mgo_mg_seen *seen,
                             struct rec_instance *in, int *rc)
{
  unsigned long queries = 1;
  int first = MGO_OK;
  int role_rc = ops->show_role(conn, &in->role);

  in->reachable = false;
  in->replicas_known = false;
  in->n_registrations = 0;
  in->last_error[0] = '\0';
  if (role_rc != MGO_OK) {
    in->role = MGO_ROLE_UNKNOWN;
    note_failure(ops, conn, in, "SHOW REPLICATION ROLE", role_rc, &first);
  } else {
    in->reachable = true;
    queries += observe_version(ops, conn, seen, in);
    if (in->role == MGO_ROLE_MAIN)
      queries += observe_replicas(ops, conn, in, &first);
  }
  if (rc != NULL)
    *rc = first;
  return queries;
}

unsigned long mgo_mg_observe_data(const struct mgo_mg_ops *ops, struct mgo_mg_conn *conn,
                                  struct rec_instance *in)
{
  if (!in->reachable || in->data != REC_DATA_UNKNOWN || conn == NULL)
    return 0;
  if (ops->has_data(conn, &in->data) != MGO_OK)
    in->data = REC_DATA_UNKNOWN;
  return 1;
}
