/* The reconcile pass as a table of named steps, the runner, the step results and the helpers every step
 * shares (Events, Bolt query counts). */
#include "reconcile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "trace.h"

/* One row per step; a new capability is a new row (docs/architecture.md). */
/* clang-format off */
const struct op_step op_reconcile_steps[] = {
    {"load", op_step_load, false},
    {"pause", op_step_pause, false},
    {"objects", op_step_objects, false},
    {"observe", op_step_observe, false},
    {"decide", op_step_decide, false},
    {"statefulset", op_step_statefulset, false},
    {"act", op_step_act, false},
    {"backup", op_step_backup, false},
    {"drill", op_step_drill, false},
    {"validate", op_step_validate, false},
    {"status", op_step_status, true},
};
/* clang-format on */
const size_t op_reconcile_nsteps = sizeof(op_reconcile_steps) / sizeof(op_reconcile_steps[0]);

struct op_result op_ok(void)
{
  return (struct op_result){OP_CONTINUE, OP_AFTER_NONE, MGO_OK};
}

struct op_result op_ok_after(long after_ms)
{
  return (struct op_result){OP_CONTINUE, after_ms, MGO_OK};
}

struct op_result op_requeue_after(long after_ms)
{
  return (struct op_result){OP_REQUEUE, after_ms, MGO_OK};
}

struct op_result op_stop(void)
{
  return (struct op_result){OP_STOP, OP_AFTER_NONE, MGO_OK};
}

struct op_result op_gone(void)
{
  return (struct op_result){OP_GONE, OP_AFTER_NONE, MGO_OK};
}

static void note_v(struct op_ctx *ctx, const char *fmt, va_list ap)
{
  if (ctx->error[0] == '\0')
    (void) vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
}

void op_ctx_note(struct op_ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  note_v(ctx, fmt, ap);
  va_end(ap);
}

struct op_result op_error(int rc)
{
  return (struct op_result){OP_REQUEUE, OP_AFTER_NONE, rc != MGO_OK ? rc : MGO_EINVAL};
}

struct op_result op_error_continue(int rc)
{
  return (struct op_result){OP_CONTINUE, OP_AFTER_NONE, rc != MGO_OK ? rc : MGO_EINVAL};
}

struct op_result op_failed(struct op_ctx *ctx, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  note_v(ctx, fmt, ap);
  va_end(ap);
  return op_error(rc);
}

static bool ends_pass(enum op_next next)
{
  return next == OP_STOP || next == OP_GONE;
}

static const char *const next_names[] = {"continue", "requeue", "stop", "gone"};

/* One step in a child span of the pass's span (docs/tracing.md): cluster, step, what comes next, error. */
static struct op_result run_step(const struct op_step *step, struct op_ctx *ctx)
{
  struct mgo_span *span = mgo_span_child(step->name, MGO_SPAN_INTERNAL);
  struct op_result r;
  mgo_span_set_str(span, "cluster", ctx->key);
  mgo_span_set_str(span, "step", step->name);
  r = step->fn(ctx);
  if ((unsigned) r.next < sizeof(next_names) / sizeof(next_names[0]))
    mgo_span_set_str(span, "next", next_names[r.next]);
  if (r.error != MGO_OK)
    mgo_span_set_error(span, "%s", ctx->error[0] != '\0' ? ctx->error : mgo_errname(r.error));
  mgo_span_end(span);
  return r;
}

struct op_result op_run_steps(const struct op_step *steps, size_t n, struct op_ctx *ctx)
{
  struct op_result pass = op_ok();

  for (size_t i = 0; i < n; i++) {
    struct op_result r;
    if (pass.next != OP_CONTINUE && !steps[i].finally)
      continue;
    r = run_step(&steps[i], ctx);
    if (pass.error == MGO_OK)
      pass.error = r.error;
    if (ends_pass(r.next)) {
      ctx->stopped_at = steps[i].name;
      return (struct op_result){r.next, OP_AFTER_NONE, pass.error};
    }
    if (r.next == OP_REQUEUE && pass.next == OP_CONTINUE) {
      ctx->stopped_at = steps[i].name;
      pass.next = OP_REQUEUE;
    }
    if (r.after_ms < pass.after_ms)
      pass.after_ms = r.after_ms;
  }
  return pass;
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
  json_decref(ctx->backup_status);
  ctx->backup_status = NULL;
  json_decref(ctx->validation);
  ctx->validation = NULL;
  json_decref(ctx->validation_lag);
  ctx->validation_lag = NULL;
}

void op_count_bolt(struct op_ctx *ctx, const char *pod, unsigned long n)
{
  char labels[MGO_METRIC_LABELS_MAX];
  if (n == 0)
    return;
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "pod", pod, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->bolt_queries, labels, (double) n);
}

void op_event(struct op_ctx *ctx, const char *type, const char *reason, const char *action, const char *note)
{
  struct k8s_status st;
  int rc;
  if (ctx->obj == NULL)
    return;
  k8s_status_clear(&st);
  rc = ctx->kube->event(ctx->kube->arg, ctx->obj, type, reason, action, note, &st);
  if (rc != MGO_OK)
    mgo_log(MGO_LOG_WARN, "event not recorded", "cluster", ctx->key, "reason", reason, "error",
            mgo_errname(rc), "detail", st.message, (char *) NULL);
}
