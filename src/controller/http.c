/* The HTTP providers: /api/v1/status and /api/v1/clusters/{ns}/{name} serve the last observation of each
 * cluster (no new queries), /healthz the process, /readyz the caches and the leadership state. */
#include "controller_int.h"

#include <string.h>

#include "k8s_informer.h"
#include "k8s_lease.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "server.h"

static const char *leadership(struct mgo_operator *op)
{
  if (!op->cfg.leader_elect)
    return "disabled";
  if (atomic_load(&op->lost))
    return "lost";
  return op->leader != NULL && k8s_leader_is_leader(op->leader) ? "leading" : "standby";
}

static int dump_into(json_t *doc, struct mgo_buf *out)
{
  char *text = json_dumps(doc, JSON_COMPACT);
  int rc = text != NULL ? mgo_buf_addstr(out, text) : MGO_ENOMEM;
  free(text);
  json_decref(doc);
  return rc;
}

static int status_all(void *arg, struct mgo_buf *out)
{
  struct mgo_operator *op = arg;
  json_t *clusters = json_array();
  json_t *doc;

  pthread_mutex_lock(&op->lock);
  for (size_t i = 0; i < op->nclusters; i++) {
    if (op->clusters[i]->snapshot != NULL)
      json_array_append_new(clusters, json_deep_copy(op->clusters[i]->snapshot));
  }
  pthread_mutex_unlock(&op->lock);
  doc = json_pack("{s:s, s:s, s:o}", "identity", op->cfg.identity, "leadership", leadership(op), "clusters",
                  clusters);
  return doc != NULL ? dump_into(doc, out) : MGO_ENOMEM;
}

static int status_cluster(void *arg, const char *ns, const char *name, struct mgo_buf *out)
{
  struct mgo_operator *op = arg;
  char key[OP_KEY_MAX];
  json_t *snap = NULL;

  if (mgo_snprintf(key, sizeof(key), "%s/%s", ns, name) != MGO_OK)
    return MGO_ENOTFOUND;
  pthread_mutex_lock(&op->lock);
  for (size_t i = 0; i < op->nclusters && snap == NULL; i++) {
    if (strcmp(op->clusters[i]->key, key) == 0 && op->clusters[i]->snapshot != NULL)
      snap = json_deep_copy(op->clusters[i]->snapshot);
  }
  pthread_mutex_unlock(&op->lock);
  return snap != NULL ? dump_into(snap, out) : MGO_ENOTFOUND;
}

static int healthy(void *arg)
{
  (void) arg;
  return 1;
}

static void before_metrics(void *arg)
{
  struct mgo_operator *op = arg;
  json_t *clusters =
      op->inf[OP_CACHE_CLUSTERS] != NULL ? k8s_informer_list(op->inf[OP_CACHE_CLUSTERS], NULL) : NULL;
  op_update_kube_metrics(op);
  op_tracing_update_metrics(op);
  if (clusters != NULL)
    op_seed_set_clusters(&op->metrics, clusters); /* memgraph_clusters / _ready at scrape time */
  json_decref(clusters);
}

/* Ready once every informer has synced; leading and standing by are both ready (a standby must not be
 * restarted), a lost lease is not. The body says which ("ok: leading", "ok: standby"); /api/v1/status
 * carries the same state as "leadership". */
static int ready(void *arg, char *reason, size_t reasonsz)
{
  struct mgo_operator *op = arg;
  const char *missing = NULL;
  if (!op_informers_synced(op, &missing)) {
    (void) mgo_snprintf(reason, reasonsz, "informer %s not synced", missing);
    return 0;
  }
  if (atomic_load(&op->lost)) {
    (void) mgo_strlcpy(reason, "leadership lost", reasonsz);
    return 0;
  }
  (void) mgo_strlcpy(reason, op->cfg.leader_elect ? leadership(op) : "leader election disabled", reasonsz);
  return 1;
}

int op_http_start(struct mgo_operator *op)
{
  struct mgo_http_handlers h = {.ctx = op,
                                .status_all = status_all,
                                .status_cluster = status_cluster,
                                .healthy = healthy,
                                .ready = ready,
                                .metrics = op->metrics_reg,
                                .before_metrics = before_metrics};
  char err[256] = "", port[16];
  int rc = mgo_http_start(&op->http, op->cfg.http_addr, op->cfg.http_port, &h, err, sizeof(err));
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "cannot start the HTTP server", "error", err, (char *) NULL);
    return rc;
  }
  (void) mgo_snprintf(port, sizeof(port), "%d", mgo_http_port(op->http));
  mgo_log(MGO_LOG_INFO, "http listening", "addr", op->cfg.http_addr, "port", port, (char *) NULL);
  return MGO_OK;
}
