/* The commands that edit a MemgraphCluster by JSON merge patch: switchover (spec.switchover.targetOrdinal,
 * then waits for status.lastFailover), fence/unfence (memgraph.io/fencedInstances, with the object's
 * resourceVersion so a concurrent edit is retried instead of lost), hibernate/resume/pause/unpause. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmg_annot.h"
#include "kmg_cmd.h"
#include "kmg_objects.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define POLL_MS 500
#define FENCE_ATTEMPTS 5

static const char *cluster_main(const json_t *cluster)
{
  return json_string_value(json_object_get(json_object_get(cluster, "status"), "currentMain"));
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

/* Polls the cluster until its lastFailover is the switchover to target (after prev_time); prints it. */
static int wait_switchover(struct kmg_ctx *ctx, const char *name, const char *target, const char *prev_time)
{
  int64_t deadline = mgo_clock_mono_ms(NULL) + ctx->args->timeout_ms;
  for (;;) {
    json_t *cluster = NULL;
    if (kmg_get(ctx, &KMG_RES_CLUSTERS, name, &cluster) != MGO_OK) {
      return 1;
    }
    if (kmg_switchover_done(cluster, target, prev_time)) {
      const json_t *lf = json_object_get(json_object_get(cluster, "status"), "lastFailover");
      printf("switchover completed: %s -> %s, writes unavailable %lld ms\n",
             json_string_value(json_object_get(lf, "from")), target,
             (long long) json_integer_value(json_object_get(lf, "writeUnavailableMs")));
      json_decref(cluster);
      return 0;
    }
    const char *msg = json_string_value(json_object_get(json_object_get(cluster, "status"), "message"));
    if (mgo_clock_mono_ms(NULL) >= deadline) {
      kmg_fail(ctx, "timed out after %lld s waiting for the switchover to %s (status: %s)",
               (long long) (ctx->args->timeout_ms / 1000), target, msg ? msg : "-");
      json_decref(cluster);
      return 1;
    }
    json_decref(cluster);
    kmg_sleep_ms(POLL_MS);
  }
}

int kmg_cmd_switchover(struct kmg_ctx *ctx)
{
  const char *name = ctx->args->pos[0];
  json_t *cluster = NULL;
  if (kmg_get(ctx, &KMG_RES_CLUSTERS, name, &cluster) != MGO_OK) {
    return 1;
  }
  char target[KMG_POD_NAME_MAX], ord[24];
  mgo_snprintf(ord, sizeof(ord), "%ld", ctx->args->to_ordinal);
  if (kmg_resolve_instance(name, kmg_spec_instances(cluster), ord, false, target, sizeof(target), ctx->err,
                           sizeof(ctx->err)) != MGO_OK) {
    json_decref(cluster);
    return 1;
  }
  if (kmg_switchover_blocked(cluster, target, ctx->err, sizeof(ctx->err))) {
    json_decref(cluster);
    return 1;
  }
  char *prev_time = dup_or_null(kmg_last_failover_time(cluster));
  const char *main_pod = cluster_main(cluster);
  bool already = main_pod != NULL && strcmp(main_pod, target) == 0;
  json_decref(cluster);
  json_t *patch = kmg_switchover_patch(ctx->args->to_ordinal);
  int rc = kmg_patch(ctx, &KMG_RES_CLUSTERS, name, patch, NULL);
  json_decref(patch);
  int code = rc == MGO_OK ? 0 : 1;
  if (rc == MGO_OK && already) {
    printf("%s is already the MAIN; spec.switchover.targetOrdinal=%ld keeps it there\n", target,
           ctx->args->to_ordinal);
  } else if (rc == MGO_OK) {
    printf("switchover to %s requested (spec.switchover.targetOrdinal=%ld); waiting...\n", target,
           ctx->args->to_ordinal);
    fflush(stdout);
    code = wait_switchover(ctx, name, target, prev_time);
  }
  free(prev_time);
  return code;
}

/* One read-modify-write of the fenced list. MGO_ECONFLICT when the object changed meanwhile (retry). */
static int fence_once(struct kmg_ctx *ctx, bool fence, char *value, size_t valuesz)
{
  const char *name = ctx->args->pos[0];
  json_t *cluster = NULL;
  int rc = kmg_get(ctx, &KMG_RES_CLUSTERS, name, &cluster);
  if (rc != MGO_OK) {
    return rc;
  }
  char pod[KMG_POD_NAME_MAX];
  char *next = NULL;
  bool changed = false;
  const char *rv =
      json_string_value(json_object_get(json_object_get(cluster, "metadata"), "resourceVersion"));
  rc = kmg_fence_target(cluster, ctx->args->pos[1], fence, pod, sizeof(pod), ctx->err, sizeof(ctx->err));
  rc = rc == MGO_OK
           ? kmg_fence_edit(kmg_annotation(cluster, KMG_ANN_FENCED), name, kmg_spec_instances(cluster), pod,
                            fence, &next, &changed, ctx->err, sizeof(ctx->err))
           : rc;
  if (rc == MGO_OK && changed) {
    json_t *patch = kmg_annotation_patch(KMG_ANN_FENCED, next, rv);
    rc = kmg_patch(ctx, &KMG_RES_CLUSTERS, name, patch, NULL);
    json_decref(patch);
  }
  if (rc == MGO_OK) {
    mgo_snprintf(value, valuesz, "%s%s", next ? next : "(removed)", changed ? "" : ", unchanged");
  }
  free(next);
  json_decref(cluster);
  return rc;
}

int kmg_cmd_fence(struct kmg_ctx *ctx, bool fence)
{
  const char *name = ctx->args->pos[0];
  if (!fence && ctx->args->npos < 2) {
    json_t *patch = kmg_annotation_patch(KMG_ANN_FENCED, NULL, NULL);
    int rc = kmg_patch(ctx, &KMG_RES_CLUSTERS, name, patch, NULL);
    json_decref(patch);
    if (rc == MGO_OK) {
      printf("memgraphcluster/%s: every instance unfenced (%s removed)\n", name, KMG_ANN_FENCED);
    }
    return rc == MGO_OK ? 0 : 1;
  }
  char value[1024] = "";
  int rc = MGO_ECONFLICT;
  for (int i = 0; i < FENCE_ATTEMPTS && rc == MGO_ECONFLICT; i++) {
    rc = fence_once(ctx, fence, value, sizeof(value));
  }
  if (rc == MGO_OK) {
    printf("memgraphcluster/%s: %s %s (%s=%s)\n", name, fence ? "fenced" : "unfenced", ctx->args->pos[1],
           KMG_ANN_FENCED, value);
  }
  return rc == MGO_OK ? 0 : 1;
}

int kmg_cmd_annotate(struct kmg_ctx *ctx, const char *key, const char *value, const char *what)
{
  const char *name = ctx->args->pos[0];
  json_t *patch = kmg_annotation_patch(key, value, NULL);
  int rc = kmg_patch(ctx, &KMG_RES_CLUSTERS, name, patch, NULL);
  json_decref(patch);
  if (rc != MGO_OK) {
    return 1;
  }
  if (value != NULL) {
    printf("memgraphcluster/%s: %s (%s=%s)\n", name, what, key, value);
  } else {
    printf("memgraphcluster/%s: %s (%s removed)\n", name, what, key);
  }
  return 0;
}
