/* The controller process: informers feed a work queue of cluster keys, N workers run the reconcile step
 * table on them, only while leading. See operator.h. */
#include "op_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_events.h"
#include "k8s_informer.h"
#include "k8s_lease.h"
#include "k8s_queue.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "server.h"

const struct k8s_resource op_res_clusters = {"memgraph.io", "v1alpha1", "memgraphclusters", true};

void mgo_operator_config_default(struct mgo_operator_config *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->workers = 4;
  cfg->resync_interval_ms = 30000;
  cfg->http_addr = "0.0.0.0";
  cfg->http_port = 8080;
  cfg->leader_elect = true;
  cfg->lease_namespace = "memgraph-operator-system";
  cfg->lease_name = "memgraph-operator";
  cfg->lease_duration_ms = 15000;
  cfg->renew_deadline_ms = 10000;
  cfg->retry_period_ms = 2000;
  cfg->bolt_timeout_ms = 5000;
  cfg->operator_image = "ghcr.io/memgraph/memgraph-operator:latest";
  cfg->version = "0.0.0-dev";
}

bool op_may_act(struct mgo_operator *op)
{
  if (op == NULL)
    return true; /* unit tests of single steps */
  if (atomic_load(&op->stopping) || atomic_load(&op->lost))
    return false;
  return !op->cfg.leader_elect || (op->leader != NULL && k8s_leader_is_leader(op->leader));
}

/* ---- the cluster registry -------------------------------------------------------------------------- */

static struct op_cluster *find_locked(struct mgo_operator *op, const char *key, size_t *idx)
{
  for (size_t i = 0; i < op->nclusters; i++) {
    if (strcmp(op->clusters[i]->key, key) == 0) {
      if (idx != NULL)
        *idx = i;
      return op->clusters[i];
    }
  }
  return NULL;
}

struct op_cluster *op_cluster_get(struct mgo_operator *op, const char *key)
{
  struct op_cluster *cs;
  pthread_mutex_lock(&op->lock);
  cs = find_locked(op, key, NULL);
  if (cs == NULL && op->nclusters == op->cap) {
    size_t cap = op->cap ? op->cap * 2 : 16;
    struct op_cluster **grown = realloc(op->clusters, cap * sizeof(struct op_cluster *));
    if (grown != NULL) {
      op->clusters = grown;
      op->cap = cap;
    }
  }
  if (cs == NULL && op->nclusters < op->cap) {
    cs = calloc(1, sizeof(*cs));
    if (cs != NULL) {
      (void) mgo_strlcpy(cs->key, key, sizeof(cs->key));
      op->clusters[op->nclusters++] = cs;
    }
  }
  pthread_mutex_unlock(&op->lock);
  return cs;
}

void op_cluster_forget(struct mgo_operator *op, const char *key)
{
  size_t idx = 0;
  char fragment[OP_KEY_MAX + 16];
  struct op_cluster *cs;

  pthread_mutex_lock(&op->lock);
  cs = find_locked(op, key, &idx);
  if (cs != NULL)
    op->clusters[idx] = op->clusters[--op->nclusters];
  pthread_mutex_unlock(&op->lock);
  if (cs == NULL)
    return;
  op_cluster_close(cs, op->mg);
  json_decref(cs->snapshot);
  json_decref(cs->last_written);
  free(cs);
  (void) mgo_snprintf(fragment, sizeof(fragment), "cluster=\"%s\"", key);
  mgo_metric_remove_matching(op->metrics_reg, fragment);
  mgo_log(MGO_LOG_INFO, "cluster forgotten (deleted)", "cluster", key, (char *) NULL);
}

void op_count_bolt(struct op_ctx *ctx, const char *pod, unsigned long n)
{
  char labels[MGO_METRIC_LABELS_MAX];
  if (ctx->op == NULL || n == 0)
    return;
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "pod", pod, (char *) NULL);
  (void) mgo_metric_add(ctx->op->metrics.bolt_queries, labels, (double) n);
}

void op_event(struct op_ctx *ctx, const char *type, const char *reason, const char *action, const char *note)
{
  struct k8s_status st;
  int rc;
  if (ctx->op == NULL || ctx->op->events == NULL || ctx->obj == NULL)
    return;
  k8s_status_clear(&st);
  rc = k8s_event_record(ctx->op->events, ctx->obj, type, reason, action, note, NULL, &st);
  if (rc != MGO_OK)
    mgo_log(MGO_LOG_WARN, "event not recorded", "cluster", ctx->key, "reason", reason, "error",
            mgo_errname(rc), "detail", st.message, (char *) NULL);
}

/* ---- event handlers: every event becomes the owning cluster's key ---------------------------------- */

static void enqueue(struct mgo_operator *op, const char *ns, const char *name)
{
  char key[OP_KEY_MAX];
  if (ns == NULL || name == NULL || mgo_snprintf(key, sizeof(key), "%s/%s", ns, name) != MGO_OK)
    return;
  (void) k8s_queue_add(op->queue, key);
}

static void enqueue_owner(struct mgo_operator *op, const json_t *obj)
{
  const json_t *meta = json_object_get(obj, "metadata");
  const json_t *labels = json_object_get(meta, "labels");
  enqueue(op, json_string_value(json_object_get(meta, "namespace")),
          json_string_value(json_object_get(labels, MGO_LABEL_INSTANCE)));
}

static void enqueue_cluster(struct mgo_operator *op, const json_t *obj)
{
  const json_t *meta = json_object_get(obj, "metadata");
  enqueue(op, json_string_value(json_object_get(meta, "namespace")),
          json_string_value(json_object_get(meta, "name")));
}

static void on_cluster_add(void *arg, const json_t *obj)
{
  enqueue_cluster(arg, obj);
}

/* Our own status writes change only .status: the generation stays, so they cause no new pass. A
 * resync (old == new) and every spec or metadata.generation change do. */
/* json_equal() with "both absent" counting as equal (jansson says NULL equals nothing). */
static bool same(const json_t *a, const json_t *b)
{
  return (a == NULL && b == NULL) || json_equal(a, b);
}

bool op_cluster_update_matters(const json_t *old_obj, const json_t *new_obj)
{
  const json_t *og = json_object_get(json_object_get(old_obj, "metadata"), "generation");
  const json_t *ng = json_object_get(json_object_get(new_obj, "metadata"), "generation");
  const json_t *ndel = json_object_get(json_object_get(new_obj, "metadata"), "deletionTimestamp");
  return old_obj == new_obj || !same(og, ng) || ndel != NULL;
}

static void on_cluster_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
  if (op_cluster_update_matters(old_obj, new_obj))
    enqueue_cluster(arg, new_obj);
}

static void on_cluster_delete(void *arg, const json_t *obj)
{
  enqueue_cluster(arg, obj);
}

static void on_owned_add(void *arg, const json_t *obj)
{
  enqueue_owner(arg, obj);
}

bool op_pod_changed(const json_t *a, const json_t *b)
{
  static const char *const status_keys[] = {"phase", "podIP", "conditions", "containerStatuses"};
  const json_t *sa = json_object_get(a, "status"), *sb = json_object_get(b, "status");
  const json_t *ma = json_object_get(a, "metadata"), *mb = json_object_get(b, "metadata");
  if (!same(json_object_get(ma, "uid"), json_object_get(mb, "uid")) ||
      !same(json_object_get(ma, "deletionTimestamp"), json_object_get(mb, "deletionTimestamp")))
    return true;
  for (size_t i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]); i++) {
    if (!same(json_object_get(sa, status_keys[i]), json_object_get(sb, status_keys[i])))
      return true;
  }
  return false;
}

bool op_owned_update_matters(const json_t *old_obj, const json_t *new_obj)
{
  const char *kind = json_string_value(json_object_get(new_obj, "kind"));
  bool is_pod = json_object_get(json_object_get(new_obj, "spec"), "containers") != NULL ||
                (kind != NULL && strcmp(kind, "Pod") == 0);
  if (old_obj == new_obj)
    return false; /* resync: the cluster's own resync and the health interval already schedule passes */
  return !is_pod || op_pod_changed(old_obj, new_obj);
}

static void on_owned_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
  if (op_owned_update_matters(old_obj, new_obj))
    enqueue_owner(arg, new_obj);
}

static void on_owned_delete(void *arg, const json_t *obj)
{
  enqueue_owner(arg, obj);
}

static void on_informer_error(void *arg, const char *what, int rc, const struct k8s_status *st)
{
  char code[16];
  (void) arg;
  (void) mgo_snprintf(code, sizeof(code), "%ld", st->code);
  mgo_log(MGO_LOG_WARN, "watch failed", "what", what, "error", mgo_errname(rc), "http", code, "detail",
          st->message, (char *) NULL);
}

/* ---- informers ------------------------------------------------------------------------------------- */

int op_start_informers(struct mgo_operator *op)
{
  static const char *const selector = MGO_LABEL_MANAGED_BY "=memgraph-operator";
  const struct k8s_resource *res[OP_INF_COUNT] = {&op_res_clusters, &K8S_RES_STATEFULSETS,
                                                  &K8S_RES_PODS,    &K8S_RES_SERVICES,
                                                  &K8S_RES_PDBS,    &K8S_RES_SERVICEACCOUNTS};
  struct k8s_informer_handlers cluster_h = {on_cluster_add, on_cluster_update, on_cluster_delete,
                                            on_informer_error, op};
  struct k8s_informer_handlers owned_h = {on_owned_add, on_owned_update, on_owned_delete, on_informer_error,
                                          op};

  for (int i = 0; i < OP_INF_COUNT; i++) {
    struct k8s_informer_opts o = {.resource = res[i],
                                  .namespace = op->cfg.namespace,
                                  .label_selector = i == OP_INF_CLUSTERS ? NULL : selector,
                                  .resync_ms = op->cfg.resync_interval_ms};
    int rc = k8s_informer_new(op->client, &o, i == OP_INF_CLUSTERS ? &cluster_h : &owned_h, &op->inf[i]);
    if (rc == MGO_OK)
      rc = k8s_informer_start(op->inf[i]);
    if (rc != MGO_OK) {
      mgo_log(MGO_LOG_ERROR, "cannot start informer", "resource", res[i]->plural, "error", mgo_errname(rc),
              (char *) NULL);
      return rc;
    }
  }
  return MGO_OK;
}

bool op_informers_synced(struct mgo_operator *op, const char **missing)
{
  for (int i = 0; i < OP_INF_COUNT; i++) {
    if (op->inf[i] == NULL || !k8s_informer_has_synced(op->inf[i])) {
      static const char *const names[OP_INF_COUNT] = {
          "memgraphclusters", "statefulsets", "pods", "services", "poddisruptionbudgets", "serviceaccounts"};
      if (missing != NULL)
        *missing = names[i];
      return false;
    }
  }
  return true;
}
