/* The informers: one per cache of ports.h; their handlers turn every event into the owning cluster's key on
 * the work queue, filtered so that our own writes cause no passes. */
#include "controller_int.h"

#include <string.h>

#include "k8s_informer.h"
#include "k8s_queue.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

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
 * resync (old == new), every spec or metadata.generation change and every annotation change (the day-2
 * switches: pause, hibernation, fencing, approvals, drills) do. */
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
  const json_t *oa = json_object_get(json_object_get(old_obj, "metadata"), "annotations");
  const json_t *na = json_object_get(json_object_get(new_obj, "metadata"), "annotations");
  return old_obj == new_obj || !same(og, ng) || ndel != NULL || !same(oa, na);
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
                (kind != NULL && strcmp(kind, "Pod") == 0); /* cached pods have no spec: their kind says */
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

/* A MemgraphBackup belongs to the cluster its spec names. Our own status writes change only .status (the
 * generation stays): they cause no pass; the backup step asks for the passes it needs itself. */
static void enqueue_backup_cluster(struct mgo_operator *op, const json_t *obj)
{
  enqueue(op, json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace")),
          json_string_value(json_object_get(json_object_get(obj, "spec"), "cluster")));
}

static void on_backup_add(void *arg, const json_t *obj)
{
  enqueue_backup_cluster(arg, obj);
}

static void on_backup_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
  if (old_obj != new_obj && op_cluster_update_matters(old_obj, new_obj))
    enqueue_backup_cluster(arg, new_obj);
}

static void on_backup_delete(void *arg, const json_t *obj)
{
  enqueue_backup_cluster(arg, obj);
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

/* What no step reads is not cached: a pod's spec (two thirds of a pod; the steps read its metadata and
 * status), a Service's or PodDisruptionBudget's spec and status (step_objects compares only the hash
 * annotation; a PDB no longer wanted is found by name). The StatefulSet keeps its template (the restore and
 * the drill read it); clusters, backups and ServiceAccounts are kept whole. */
const char *const *op_cache_dropped_fields(enum op_cache which)
{
  static const char *const pod_fields[] = {"spec", NULL};
  static const char *const owned_fields[] = {"spec", "status", NULL};
  switch (which) {
  case OP_CACHE_PODS:
    return pod_fields;
  case OP_CACHE_SVCS:
  case OP_CACHE_PDBS:
    return owned_fields;
  default:
    return NULL;
  }
}

int op_start_informers(struct mgo_operator *op)
{
  static const char *const selector = MGO_LABEL_MANAGED_BY "=memgraph-operator";
  struct k8s_informer_handlers cluster_h = {on_cluster_add, on_cluster_update, on_cluster_delete,
                                            on_informer_error, op};
  struct k8s_informer_handlers owned_h = {on_owned_add, on_owned_update, on_owned_delete, on_informer_error,
                                          op};
  struct k8s_informer_handlers backup_h = {on_backup_add, on_backup_update, on_backup_delete,
                                           on_informer_error, op};

  for (int i = 0; i < OP_CACHE_COUNT; i++) {
    const struct k8s_resource *res = op_cache_resource((enum op_cache) i);
    struct k8s_informer_opts o = {.resource = res,
                                  .namespace = op->cfg.namespace,
                                  .label_selector =
                                      i == OP_CACHE_CLUSTERS || i == OP_CACHE_BACKUPS ? NULL : selector,
                                  .resync_ms = op->cfg.resync_interval_ms,
                                  .drop_fields = op_cache_dropped_fields((enum op_cache) i)};
    const struct k8s_informer_handlers *h = i == OP_CACHE_CLUSTERS  ? &cluster_h
                                            : i == OP_CACHE_BACKUPS ? &backup_h
                                                                    : &owned_h;
    int rc = k8s_informer_new(op->client, &o, h, &op->inf[i]);
    if (rc == MGO_OK)
      rc = k8s_informer_start(op->inf[i]);
    if (rc != MGO_OK) {
      mgo_log(MGO_LOG_ERROR, "cannot start informer", "resource", res->plural, "error", mgo_errname(rc),
              (char *) NULL);
      return rc;
    }
  }
  return MGO_OK;
}

bool op_informers_synced(struct mgo_operator *op, const char **missing)
{
  for (int i = 0; i < OP_CACHE_COUNT; i++) {
    if (op->inf[i] == NULL || !k8s_informer_has_synced(op->inf[i])) {
      if (missing != NULL)
        *missing = op_cache_resource((enum op_cache) i)->plural;
      return false;
    }
  }
  return true;
}
