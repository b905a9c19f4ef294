/* Managed objects by server-side apply, with a light touch: the desired object's hash is stored as an
 * annotation, and nothing is sent while the cached object carries the hash of what we would send.
 * (A manual edit of a field we own is therefore not reverted until the spec changes; the trade-off keeps
 * steady state at zero API writes without field-by-field comparison of defaulted objects.) */
#include "op_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_build.h"
#include "k8s_client.h"
#include "k8s_informer.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

int op_object_hash(const json_t *obj, char out[17])
{
  json_t *copy = json_deep_copy(obj);
  json_t *ann = json_object_get(json_object_get(copy, "metadata"), "annotations");
  char *text;
  uint64_t h = 1469598103934665603ULL;

  if (copy == NULL)
    return MGO_ENOMEM;
  json_object_del(ann, OP_HASH_ANNOTATION);
  if (json_is_object(ann) && json_object_size(ann) == 0)
    json_object_del(json_object_get(copy, "metadata"), "annotations"); /* stamping added it */
  text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(copy);
  if (text == NULL)
    return MGO_ENOMEM;
  for (const unsigned char *p = (const unsigned char *) text; *p != '\0'; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  free(text);
  return mgo_snprintf(out, 17, "%016llx", (unsigned long long) h);
}

int op_stamp_hash(json_t *desired, char out[17])
{
  json_t *meta = json_object_get(desired, "metadata");
  json_t *ann = json_object_get(meta, "annotations");
  int rc = op_object_hash(desired, out);

  if (rc != MGO_OK)
    return rc;
  if (!json_is_object(meta))
    return MGO_EINVAL;
  if (ann == NULL) {
    ann = json_object();
    if (ann == NULL || json_object_set_new(meta, "annotations", ann) != 0)
      return MGO_ENOMEM;
  }
  return json_object_set_new(ann, OP_HASH_ANNOTATION, json_string(out)) == 0 ? MGO_OK : MGO_ENOMEM;
}

bool op_hash_matches(const json_t *observed, const char *hash)
{
  const json_t *meta = json_object_get(observed, "metadata");
  const char *have =
      json_string_value(json_object_get(json_object_get(meta, "annotations"), OP_HASH_ANNOTATION));
  return have != NULL && strcmp(have, hash) == 0;
}

struct managed {
  const char *kind;
  const struct k8s_resource *res;
  enum op_informer inf;
};

/* Applies desired (consumed) unless the cached object already carries its hash. */
static int apply_if_changed(struct op_ctx *ctx, const struct managed *m, json_t *desired)
{
  char hash[17], path[K8S_PATH_MAX];
  const char *name = json_string_value(json_object_get(json_object_get(desired, "metadata"), "name"));
  struct k8s_status st;
  json_t *cached = NULL;
  int rc = desired == NULL || name == NULL ? MGO_ENOMEM : op_stamp_hash(desired, hash);

  if (rc == MGO_OK) {
    cached = k8s_informer_get(ctx->op->inf[m->inf], ctx->ns, name);
    rc = k8s_path(path, sizeof(path), m->res, ctx->ns, name, NULL);
  }
  if (rc == MGO_OK && !op_hash_matches(cached, hash)) {
    k8s_status_clear(&st);
    rc = k8s_apply(ctx->op->client, path, desired, OP_FIELD_MANAGER, true, NULL, &st);
    if (rc == MGO_OK)
      mgo_log(MGO_LOG_INFO, "applied", "cluster", ctx->key, "kind", m->kind, "name", name, "hash", hash,
              cached == NULL ? "created" : "changed", "true", (char *) NULL);
    else
      op_ctx_fail(ctx, "apply %s %s: %s (%ld %s)", m->kind, name, mgo_errname(rc), st.code, st.message);
  }
  json_decref(cached);
  json_decref(desired);
  return rc;
}

static const struct managed SA = {"ServiceAccount", &K8S_RES_SERVICEACCOUNTS, OP_INF_SAS};
static const struct managed SVC = {"Service", &K8S_RES_SERVICES, OP_INF_SVCS};
static const struct managed PDB = {"PodDisruptionBudget", &K8S_RES_PDBS, OP_INF_PDBS};
static const struct managed STS = {"StatefulSet", &K8S_RES_STATEFULSETS, OP_INF_STS};

/* The API server refuses new objects in a namespace being deleted (403, "… because it is being
 * terminated"); the MemgraphCluster goes with it, so there is nothing to repair and nothing to warn about. */
static bool namespace_terminating(const struct op_ctx *ctx, int rc)
{
  return rc == MGO_EFORBIDDEN && strstr(ctx->error, "because it is being terminated") != NULL;
}

static enum op_step_result after_apply(struct op_ctx *ctx, int rc)
{
  if (rc == MGO_OK)
    return OP_CONTINUE;
  if (namespace_terminating(ctx, rc)) {
    mgo_log(MGO_LOG_INFO, "namespace is being deleted: not re-creating objects", "cluster", ctx->key,
            (char *) NULL);
    return OP_STOP;
  }
  mgo_log(MGO_LOG_WARN, "apply failed", "cluster", ctx->key, "error", ctx->error, (char *) NULL);
  ctx->after_ms = rc == MGO_ECONFLICT ? 1000 : -1; /* a conflict is not an error: read again, retry */
  if (rc != MGO_ECONFLICT)
    op_event(ctx, "Warning", "ApplyFailed", "Apply", ctx->error);
  return OP_REQUEUE;
}

/* A PDB that is no longer wanted is deleted (it is ours: same name, our labels). */
static int delete_unwanted_pdb(struct op_ctx *ctx)
{
  char name[MGO_NAME_MAX], path[K8S_PATH_MAX];
  struct k8s_status st;
  json_t *cached;
  int rc = mgo_name_pdb(&ctx->c, name, sizeof(name));

  if (rc != MGO_OK)
    return rc;
  cached = k8s_informer_get(ctx->op->inf[OP_INF_PDBS], ctx->ns, name);
  if (cached == NULL)
    return MGO_OK;
  json_decref(cached);
  rc = k8s_path(path, sizeof(path), &K8S_RES_PDBS, ctx->ns, name, NULL);
  if (rc == MGO_OK)
    rc = k8s_delete(ctx->op->client, path, NULL, NULL, &st);
  return rc == MGO_ENOTFOUND ? MGO_OK : rc;
}

enum op_step_result op_step_objects(struct op_ctx *ctx)
{
  int rc = apply_if_changed(ctx, &SA, mgo_build_service_account(&ctx->c));
  if (rc == MGO_OK)
    rc = apply_if_changed(ctx, &SVC, mgo_build_headless_service(&ctx->c));
  if (rc == MGO_OK)
    rc = apply_if_changed(ctx, &SVC, mgo_build_write_service(&ctx->c));
  if (rc == MGO_OK)
    rc = apply_if_changed(ctx, &SVC, mgo_build_read_service(&ctx->c));
  if (rc == MGO_OK && ctx->c.spec.pdb_enabled)
    rc = apply_if_changed(ctx, &PDB, mgo_build_pdb(&ctx->c));
  else if (rc == MGO_OK)
    rc = delete_unwanted_pdb(ctx);
  return after_apply(ctx, rc);
}

enum op_step_result op_step_statefulset(struct op_ctx *ctx)
{
  struct mgo_build_opts opts = {.operator_image = ctx->op->cfg.operator_image,
                                .replicas = ctx->plan->allowed_pods};
  return after_apply(ctx, apply_if_changed(ctx, &STS, mgo_build_statefulset(&ctx->c, &opts)));
}
