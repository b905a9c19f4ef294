/* The runtime's tracing (docs/tracing.md): the tracer from the OTEL_* environment, its counters in /metrics,
 * the flush at shutdown. Without an endpoint there is no tracer and nothing here costs anything. */
#include "controller_int.h"

#include <stdlib.h>

#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "trace.h"

#define TRACE_FLUSH_DEADLINE_MS 2000

static const char *env_lookup(const char *name)
{
  return getenv(name);
}

static int register_metrics(struct mgo_operator *op)
{
  op->trace_exported = mgo_metrics_family(op->metrics_reg, "mgo_trace_spans_exported_total",
                                          "Spans the OTLP collector accepted.", MGO_METRIC_COUNTER, NULL, 0);
  op->trace_dropped = mgo_metrics_family(
      op->metrics_reg, "mgo_trace_spans_dropped_total",
      "Spans not exported, by reason: queue_full (the exporter fell behind), export_failed (the collector "
      "refused or was unreachable), shutdown (still queued at the stop deadline).",
      MGO_METRIC_COUNTER, NULL, 0);
  op->trace_failed = mgo_metrics_family(op->metrics_reg, "mgo_trace_export_failures_total",
                                        "OTLP export requests that failed.", MGO_METRIC_COUNTER, NULL, 0);
  if (op->trace_exported == NULL || op->trace_dropped == NULL || op->trace_failed == NULL)
    return MGO_ENOMEM;
  op_tracing_update_metrics(op);
  return MGO_OK;
}

int op_tracing_start(struct mgo_operator *op)
{
  struct mgo_trace_config cfg;
  struct mgo_tracer_opts opts = {.scope_version = op->cfg.version};
  char err[256] = "";
  int rc = mgo_trace_config_from_env(&cfg, env_lookup, err, sizeof(err));
  if (rc != MGO_OK) { /* a bad OTEL_* value turns tracing off, never the operator */
    mgo_log(MGO_LOG_WARN, "tracing disabled: bad configuration", "detail", err, (char *) NULL);
    return MGO_OK;
  }
  rc = mgo_tracer_new(&cfg, &opts, &op->tracer, err, sizeof(err));
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_WARN, "tracing disabled", "error", mgo_errname(rc), "detail", err, (char *) NULL);
    return MGO_OK;
  }
  if (op->tracer == NULL)
    return MGO_OK;
  mgo_log(MGO_LOG_INFO, "tracing on", "endpoint", cfg.url, "service", cfg.service_name, (char *) NULL);
  return register_metrics(op);
}

static void add_delta(struct mgo_metric_family *f, const char *labels, uint64_t now, uint64_t *seen)
{
  (void) mgo_metric_add(f, labels, (double) (now - *seen));
  *seen = now;
}

void op_tracing_update_metrics(struct mgo_operator *op)
{
  struct mgo_trace_stats st;
  if (op->tracer == NULL)
    return;
  mgo_tracer_stats(op->tracer, &st);
  pthread_mutex_lock(&op->kube_lock);
  add_delta(op->trace_exported, "", st.exported, &op->trace_seen[0]);
  add_delta(op->trace_dropped, "reason=\"queue_full\"", st.dropped_queue_full, &op->trace_seen[1]);
  add_delta(op->trace_dropped, "reason=\"export_failed\"", st.dropped_export, &op->trace_seen[2]);
  add_delta(op->trace_dropped, "reason=\"shutdown\"", st.dropped_shutdown, &op->trace_seen[3]);
  add_delta(op->trace_failed, "", st.failed_exports, &op->trace_seen[4]);
  pthread_mutex_unlock(&op->kube_lock);
}

/* Flushes what is queued (bounded), reports the totals and frees the tracer. */
void op_tracing_stop(struct mgo_operator *op)
{
  struct mgo_trace_stats st;
  char exported[24], dropped[24];
  if (op->tracer == NULL)
    return;
  (void) mgo_tracer_flush(op->tracer, TRACE_FLUSH_DEADLINE_MS);
  mgo_tracer_stats(op->tracer, &st);
  mgo_tracer_free(op->tracer, 0);
  op->tracer = NULL;
  (void) mgo_snprintf(exported, sizeof(exported), "%llu", (unsigned long long) st.exported);
  uint64_t lost = st.dropped_queue_full + st.dropped_export + st.dropped_shutdown;
  (void) mgo_snprintf(dropped, sizeof(dropped), "%llu", (unsigned long long) lost);
  mgo_log(MGO_LOG_INFO, "tracing stopped", "spans_exported", exported, "spans_dropped", dropped, "last_error",
          st.last_error, (char *) NULL);
}
