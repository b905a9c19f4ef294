/* The pause step: with the annotation memgraph.io/reconcile=paused nothing at all is done to the cluster
 * (no Bolt query, no object applied, no backup) but saying so in status: phase Paused and condition
 * Paused=True, written once. Removing the annotation resumes with a full pass, which rebuilds the status. */
#include "reconcile.h"

#include <string.h>

#include "mgo_err.h"
#include "mgo_log.h"

#define PAUSED_MESSAGE                                                                                       \
  "reconciliation is paused (" MGO_ANNOTATION_RECONCILE "=paused): the operator takes no action on this "    \
  "cluster, also no failover; remove the annotation to resume"

static const json_t *find_condition(const json_t *status, const char *type)
{
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c)
  {
    const char *t = json_string_value(json_object_get(c, "type"));
    if (t != NULL && strcmp(t, type) == 0)
      return c;
  }
  return NULL;
}

static bool phase_is(const json_t *status, const char *phase)
{
  const char *p = json_string_value(json_object_get(status, "phase"));
  return p != NULL && strcmp(p, phase) == 0;
}

/* The last status with phase Paused and Paused=True (its transition time kept when it already was). New
 * reference, NULL when memory runs out. */
json_t *op_paused_status(const json_t *old_status, int64_t generation, const char *now)
{
  json_t *status = json_is_object(old_status) ? json_deep_copy(old_status) : json_object();
  json_t *conds = json_array();
  const json_t *old = find_condition(old_status, "Paused");
  const char *since = json_string_value(json_object_get(old, "lastTransitionTime"));
  const char *was = json_string_value(json_object_get(old, "status"));
  size_t i;
  const json_t *c;

  if (status == NULL || conds == NULL) {
    json_decref(status);
    json_decref(conds);
    return NULL;
  }
  json_array_foreach(json_object_get(old_status, "conditions"), i, c)
  {
    if (c != old)
      json_array_append_new(conds, json_deep_copy(c));
  }
  json_array_append_new(conds,
                        json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", "Paused", "status", "True",
                                  "observedGeneration", (json_int_t) generation, "lastTransitionTime",
                                  since != NULL && was != NULL && strcmp(was, "True") == 0 ? since : now,
                                  "reason", "ReconcilePaused", "message", PAUSED_MESSAGE));
  json_object_set_new(status, "conditions", conds);
  json_object_set_new(status, "phase", json_string("Paused"));
  json_object_set_new(status, "message", json_string(PAUSED_MESSAGE));
  return status;
}

struct op_result op_step_pause(struct op_ctx *ctx)
{
  const json_t *old_status = json_object_get(ctx->obj, "status");
  bool written = false;
  char now[40];
  json_t *status;
  int rc;

  if (!ctx->c.ops.paused) {
    if (phase_is(old_status, "Paused"))
      op_event(ctx, "Normal", "ReconcileResumed", "Resume",
               "the annotation " MGO_ANNOTATION_RECONCILE " was removed: reconciling again");
    return op_ok();
  }
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  status = op_paused_status(old_status, ctx->c.generation, now);
  rc = op_write_status(ctx, status, &written);
  json_decref(status);
  if (rc != MGO_OK)
    return op_error(rc);
  op_set_phase_metric(ctx, "Paused");
  if (written && !phase_is(old_status, "Paused")) {
    mgo_log(MGO_LOG_INFO, "reconciliation paused", "cluster", ctx->key, (char *) NULL);
    op_event(ctx, "Normal", "ReconcilePaused", "Pause", PAUSED_MESSAGE);
  }
  return op_stop();
}
