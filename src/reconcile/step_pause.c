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

static bool phase_is(const json_t *status, const char *phase)
{
  const char *p = json_string_value(json_object_get(status, "phase"));
  return p != NULL && strcmp(p, phase) == 0;
}

json_t *op_paused_status(const json_t *old_status, int64_t generation, const char *now)
{
  static const struct op_condition paused = {"Paused", "True", "ReconcilePaused", PAUSED_MESSAGE};
  return op_status_with_condition(old_status, &paused, generation, "Paused", now);
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
