/* The decide step: the pure topology decision (src/decide) on this pass's observation. */
#include "reconcile.h"

#include <stdlib.h>

#include "mgo_err.h"
#include "mgo_log.h"

static void log_plan(const struct op_ctx *ctx)
{
  char line[512];
  for (size_t i = 0; i < ctx->plan->n; i++) {
    const struct rec_action *a = &ctx->plan->a[i];
    bool routine = a->type == REC_ACT_CONDITION || a->type == REC_ACT_PHASE || a->type == REC_ACT_REQUEUE;
    if (routine && !mgo_log_enabled(MGO_LOG_DEBUG))
      continue;
    (void) rec_action_format(a, line, sizeof(line));
    mgo_log(routine ? MGO_LOG_DEBUG : MGO_LOG_INFO, "planned", "cluster", ctx->key, "pod", a->pod, "action",
            line, "reason", a->reason, (char *) NULL);
  }
}

struct op_result op_step_decide(struct op_ctx *ctx)
{
  int rc;
  ctx->plan = calloc(1, sizeof(*ctx->plan));
  if (ctx->plan == NULL)
    return op_failed(ctx, MGO_ENOMEM, "out of memory");
  rc = rec_decide_topology(&ctx->c, ctx->obs, ctx->plan);
  if (rc != MGO_OK) {
    free(ctx->plan);
    ctx->plan = NULL;
    return op_failed(ctx, rc, "decision failed: %s", mgo_errname(rc));
  }
  log_plan(ctx);
  return op_ok();
}
