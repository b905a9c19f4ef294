/* The reconcile pass as a table of named steps, the runner, and the load and decide steps. */
#include "op_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_informer.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

/* One row per step; issue 5 inserts failover, switchover and rolling-update rows after "decide". */
const struct op_step op_reconcile_steps[] = {
    {"load", op_step_load, false},
    {"objects", op_step_objects, false},
    {"observe", op_step_observe, false},
    {"decide", op_step_decide, false},
    {"statefulset", op_step_statefulset, false},
    {"act", op_step_act, false},
    {"status", op_step_status, true},
};
const size_t op_reconcile_nsteps = sizeof(op_reconcile_steps) / sizeof(op_reconcile_steps[0]);

static long combine_after(long a, long b)
{
  if (a < 0 || b < 0)
    return -1;
  return a < b ? a : b;
}

enum op_step_result op_run_steps(const struct op_step *steps, size_t n, struct op_ctx *ctx)
{
  enum op_step_result result = OP_CONTINUE;
  long best = OP_AFTER_NONE;

  for (size_t i = 0; i < n; i++) {
    enum op_step_result r;
    if (result != OP_CONTINUE && !steps[i].finally)
      continue;
    ctx->after_ms = OP_AFTER_NONE;
    r = steps[i].fn(ctx);
    if (r == OP_STOP) {
      ctx->stopped_at = steps[i].name;
      ctx->after_ms = OP_AFTER_NONE;
      return OP_STOP;
    }
    if (r == OP_REQUEUE && result == OP_CONTINUE) {
      ctx->stopped_at = steps[i].name;
      result = OP_REQUEUE;
    }
    best = combine_after(best, ctx->after_ms);
  }
  ctx->after_ms = best;
  return result;
}

void op_ctx_fail(struct op_ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (!ctx->failed)
    (void) vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
  va_end(ap);
  ctx->failed = true;
}

void op_ctx_release(struct op_ctx *ctx)
{
  json_decref(ctx->obj);
  ctx->obj = NULL;
  if (ctx->parsed)
    mgo_cluster_free(&ctx->c);
  ctx->parsed = false;
  free(ctx->obs);
  ctx->obs = NULL;
  free(ctx->plan);
  ctx->plan = NULL;
}

/* "spec.x: message; spec.y: message" from parse or validation errors. */
static void describe_errors(const struct mgo_cluster_errs *errs, char *dst, size_t dstsz)
{
  struct mgo_buf b = MGO_BUF_INIT(1024);
  for (size_t i = 0; i < errs->n; i++)
    (void) mgo_buf_printf(&b, "%s%s: %s", i > 0 ? "; " : "", errs->e[i].field, errs->e[i].message);
  if (errs->n == 0)
    (void) mgo_buf_addstr(&b, "the object cannot be parsed");
  (void) mgo_strlcpy(dst, mgo_buf_str(&b), dstsz);
  mgo_buf_free(&b);
}

static enum op_step_result invalid_spec(struct op_ctx *ctx, const struct mgo_cluster_errs *errs)
{
  char msg[512], detail[448], now[40];
  const json_t *meta = json_object_get(ctx->obj, "metadata");
  json_t *status;

  bool written = false;

  describe_errors(errs, detail, sizeof(detail));
  (void) mgo_snprintf(msg, sizeof(msg), "invalid spec: %s Fix the MemgraphCluster and apply it again.",
                      detail);
  op_now(now, sizeof(now));
  status = op_invalid_status(json_object_get(ctx->obj, "status"),
                             json_integer_value(json_object_get(meta, "generation")), msg, now);
  if (op_write_status(ctx, status, &written) != MGO_OK)
    ctx->after_ms = -1;
  else
    op_set_phase_metric(ctx, "Failed");
  if (written) { /* once per change, not on every resync */
    mgo_log(MGO_LOG_WARN, "invalid spec", "cluster", ctx->key, "detail", detail, (char *) NULL);
    op_event(ctx, "Warning", "InvalidSpec", "Validate", msg);
  }
  json_decref(status);
  return ctx->after_ms < 0 ? OP_REQUEUE : OP_STOP;
}

enum op_step_result op_step_load(struct op_ctx *ctx)
{
  struct mgo_cluster_errs errs;
  json_t *cached = k8s_informer_get(ctx->op->inf[OP_INF_CLUSTERS], ctx->ns, ctx->name);

  if (cached == NULL) {
    op_cluster_forget(ctx->op, ctx->key);
    ctx->cs = NULL;
    return OP_STOP;
  }
  ctx->obj = op_fresher(cached, ctx->cs->last_written);
  json_decref(cached);
  if (json_object_get(json_object_get(ctx->obj, "metadata"), "deletionTimestamp") != NULL)
    return OP_STOP; /* garbage collection removes what it owns */
  memset(&errs, 0, sizeof(errs));
  if (mgo_cluster_parse(ctx->obj, &ctx->c, &errs) != MGO_OK)
    return invalid_spec(ctx, &errs);
  ctx->parsed = true;
  memset(&errs, 0, sizeof(errs));
  if (mgo_cluster_validate(&ctx->c, &errs) != MGO_OK)
    return invalid_spec(ctx, &errs);
  return OP_CONTINUE;
}

static long long resource_version(const json_t *obj)
{
  const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  char *end = NULL;
  long long v = rv != NULL ? strtoll(rv, &end, 10) : -1;
  return rv != NULL && end != rv && *end == '\0' ? v : -1;
}

/* Resource versions are opaque to clients in general, but the status write we just made must not be
 * undone by reading an older cache entry: compare them as the etcd revisions they are, same uid only. */
json_t *op_fresher(const json_t *cached, const json_t *last_written)
{
  const json_t *uc = json_object_get(json_object_get(cached, "metadata"), "uid");
  const json_t *uw = json_object_get(json_object_get(last_written, "metadata"), "uid");
  if (last_written != NULL && json_equal(uc, uw) && resource_version(last_written) > resource_version(cached))
    return json_incref((json_t *) last_written);
  return json_incref((json_t *) cached);
}

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

enum op_step_result op_step_decide(struct op_ctx *ctx)
{
  int rc;
  ctx->plan = calloc(1, sizeof(*ctx->plan));
  if (ctx->plan == NULL) {
    op_ctx_fail(ctx, "out of memory");
    ctx->after_ms = -1;
    return OP_REQUEUE;
  }
  rc = rec_decide_topology(&ctx->c, ctx->obs, ctx->plan);
  if (rc != MGO_OK) {
    op_ctx_fail(ctx, "decision failed: %s", mgo_errname(rc));
    free(ctx->plan);
    ctx->plan = NULL;
    ctx->after_ms = -1;
    return OP_REQUEUE;
  }
  log_plan(ctx);
  return OP_CONTINUE;
}
