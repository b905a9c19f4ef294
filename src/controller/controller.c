/* The runtime: start, workers, scheduling, leadership and graceful stop (operator.h). Each worker runs the
 * reconcile step table (src/reconcile) on one key with the real ports wired in. */
#include "controller_int.h"

#include <stdlib.h>
#include <string.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_events.h"
#include "k8s_informer.h"
#include "k8s_lease.h"
#include "k8s_queue.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "server.h"
#include "trace.h"

void mgo_operator_config_default(struct mgo_operator_config *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->workers = 16;
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
  if (atomic_load(&op->stopping) || atomic_load(&op->lost))
    return false;
  return !op->cfg.leader_elect || (op->leader != NULL && k8s_leader_is_leader(op->leader));
}

static bool may_act_cb(void *arg)
{
  return op_may_act(arg);
}

static const char *result_name(const struct op_ctx *ctx, struct op_result r)
{
  if (r.error != MGO_OK)
    return "error";
  if (r.next == OP_STOP || (ctx->plan != NULL && ctx->plan->stopped))
    return "stopped"; /* deleted, invalid, or an unsafe situation the decision refuses to act on */
  return r.next == OP_REQUEUE ? "requeue" : "success";
}

static void count_pass(struct mgo_operator *op, const struct op_ctx *ctx, struct op_result r, double secs)
{
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "result", result_name(ctx, r),
                           (char *) NULL);
  (void) mgo_metric_add(op->metrics.reconcile_total, labels, 1);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  if (r.error != MGO_OK)
    (void) mgo_metric_add(op->metrics.reconcile_errors, labels, 1);
  (void) mgo_metric_observe(op->metrics.reconcile_duration, "", secs);
  op_seed_count_pass(&op->metrics, ctx->key, result_name(ctx, r), r.error != MGO_OK, secs);
}

static void publish_snapshot(struct mgo_operator *op, struct op_ctx *ctx, struct op_result r)
{
  char now[40];
  json_t *snap;
  if (ctx->cs == NULL || ctx->obj == NULL)
    return;
  (void) mgo_clock_format_now(op->clock, 0, now, sizeof(now));
  snap = op_snapshot(ctx, now, r.error != MGO_OK);
  pthread_mutex_lock(&op->lock);
  op_snapshot_carry_last_seen(ctx->cs->snapshot, snap);
  json_decref(ctx->cs->snapshot);
  ctx->cs->snapshot = snap;
  pthread_mutex_unlock(&op->lock);
}

/* The next pass: after the delay the steps asked for (the plan's requeue), with backoff after an error
 * (never beyond the health-check interval), else after the health-check interval (periodic resync). */
static void schedule(struct mgo_operator *op, const struct op_ctx *ctx, struct op_result r)
{
  long health = ctx->parsed ? (long) ctx->c.spec.replication.health_check_interval_sec * 1000
                            : op->cfg.resync_interval_ms;
  if (r.next == OP_STOP || r.next == OP_GONE) {
    k8s_queue_forget(op->queue, ctx->key);
    return;
  }
  if (r.error != MGO_OK) {
    (void) k8s_queue_add_rate_limited(op->queue, ctx->key);
    (void) k8s_queue_add_after(op->queue, ctx->key, health); /* the earlier one wins: backoff never
                                                                 exceeds the health interval */
    return;
  }
  k8s_queue_forget(op->queue, ctx->key);
  /* The plan's own requeue wins (the health interval normally; longer after an unsafe stop, so a stuck
   * cluster is not re-examined, logged and announced every few seconds). */
  (void) k8s_queue_add_after(op->queue, ctx->key, r.after_ms == OP_AFTER_NONE ? health : r.after_ms);
}

/* A pass's context with the real ports wired in. */
static void ctx_init(struct mgo_operator *op, struct op_ctx *ctx)
{
  memset(ctx, 0, sizeof(*ctx));
  ctx->kube = &op->kube;
  ctx->agent = &op->agent;
  ctx->s3 = &op->s3;
  ctx->mg = op->mg;
  ctx->clock = op->clock;
  ctx->metrics = &op->metrics;
  ctx->settings = &op->settings;
}

/* "ns/name" into the context; false for a key of another shape. */
static bool ctx_key(struct op_ctx *ctx, const char *key)
{
  const char *slash = strchr(key, '/');
  (void) mgo_strlcpy(ctx->key, key, sizeof(ctx->key));
  if (slash == NULL || (size_t) (slash - key) >= sizeof(ctx->ns))
    return false;
  memcpy(ctx->ns, key, (size_t) (slash - key));
  return mgo_strlcpy(ctx->name, slash + 1, sizeof(ctx->name)) == MGO_OK;
}

static void log_pass(const struct op_ctx *ctx, struct op_result r, double secs)
{
  char ms[32];
  (void) mgo_snprintf(ms, sizeof(ms), "%.3f", secs * 1000.0);
  if (r.error != MGO_OK)
    mgo_log(MGO_LOG_WARN, "reconcile failed", "cluster", ctx->key, "step", ctx->stopped_at, "error",
            ctx->error[0] != '\0' ? ctx->error : mgo_errname(r.error), "duration_ms", ms, (char *) NULL);
  else
    mgo_log(MGO_LOG_DEBUG, "reconciled", "cluster", ctx->key, "result", result_name(ctx, r), "duration_ms",
            ms, (char *) NULL);
}

static void reconcile_key(struct mgo_operator *op, const char *key)
{
  struct op_ctx ctx;
  int64_t t0 = mgo_clock_mono_ns(op->clock);
  struct op_result r;
  double secs;
  struct mgo_span *span;

  ctx_init(op, &ctx);
  if (!ctx_key(&ctx, key))
    return;
  ctx.cs = op_cluster_get(op, key);
  if (ctx.cs == NULL)
    return;
  span = mgo_span_root(op->tracer, "reconcile", MGO_SPAN_INTERNAL); /* the pass's trace (docs/tracing.md) */
  mgo_span_set_str(span, "cluster", key);
  r = op_run_steps(op_reconcile_steps, op_reconcile_nsteps, &ctx);
  secs = (double) (mgo_clock_mono_ns(op->clock) - t0) / 1e9;
  if (r.next == OP_GONE) {
    op_cluster_forget(op, key); /* its series go too */
    ctx.cs = NULL;
  } else {
    count_pass(op, &ctx, r, secs);
    publish_snapshot(op, &ctx, r);
  }
  log_pass(&ctx, r, secs);
  mgo_span_set_str(span, "result", result_name(&ctx, r));
  if (r.error != MGO_OK)
    mgo_span_set_error(span, "%s", ctx.error[0] != '\0' ? ctx.error : mgo_errname(r.error));
  mgo_span_end(span);
  schedule(op, &ctx, r);
  op_ctx_release(&ctx);
}

static void *worker_main(void *arg)
{
  struct mgo_operator *op = arg;
  while (!op_informers_synced(op, NULL) && !atomic_load(&op->stopping))
    mgo_clock_sleep_ms(NULL, 100); /* never act on half-filled caches: a missing object would be re-created */
  for (;;) {
    char *key = NULL;
    if (k8s_queue_get(op->queue, &key) != MGO_OK)
      break;
    if (op_may_act(op))
      reconcile_key(op, key);
    k8s_queue_done(op->queue, key);
    free(key);
  }
  return NULL;
}

/* ---- leadership ------------------------------------------------------------------------------------ */

static void on_started_leading(void *arg)
{
  struct mgo_operator *op = arg;
  mgo_log(MGO_LOG_INFO, "leading", "identity", op->cfg.identity, "lease", op->cfg.lease_name, (char *) NULL);
  json_t *list = k8s_informer_list(op->inf[OP_CACHE_CLUSTERS], NULL);
  size_t i;
  json_t *obj;
  json_array_foreach(list, i, obj)
  {
    char key[OP_KEY_MAX];
    if (k8s_object_key(obj, key, sizeof(key)) == MGO_OK)
      (void) k8s_queue_add(op->queue, key);
  }
  json_decref(list);
}

static void on_lost(void *arg)
{
  struct mgo_operator *op = arg;
  atomic_store(&op->lost, true);
  mgo_log(MGO_LOG_ERROR, "leadership lost: acting stops now", "identity", op->cfg.identity, (char *) NULL);
}

static void on_new_leader(void *arg, const char *holder)
{
  struct mgo_operator *op = arg;
  mgo_log(MGO_LOG_INFO, "leader observed", "holder", holder[0] ? holder : "(none)", "identity",
          op->cfg.identity, (char *) NULL);
}

static void on_lease_error(void *arg, int rc, const struct k8s_status *st)
{
  char code[16];
  (void) arg;
  (void) mgo_snprintf(code, sizeof(code), "%ld", st->code);
  mgo_log(MGO_LOG_WARN, "lease request failed", "error", mgo_errname(rc), "http", code, "detail", st->message,
          (char *) NULL);
}

static int start_election(struct mgo_operator *op)
{
  struct k8s_leader_opts lo = {.lease_namespace = op->cfg.lease_namespace,
                               .lease_name = op->cfg.lease_name,
                               .identity = op->cfg.identity,
                               .lease_duration_ms = op->cfg.lease_duration_ms,
                               .renew_deadline_ms = op->cfg.renew_deadline_ms,
                               .retry_period_ms = op->cfg.retry_period_ms,
                               .on_started_leading = on_started_leading,
                               .on_lost = on_lost,
                               .on_new_leader = on_new_leader,
                               .on_error = on_lease_error,
                               .arg = op};
  int rc = k8s_leader_new(op->client, &lo, &op->leader);
  if (rc == MGO_OK)
    rc = k8s_leader_start(op->leader);
  if (rc != MGO_OK)
    mgo_log(MGO_LOG_ERROR, "cannot start leader election", "error", mgo_errname(rc), (char *) NULL);
  else
    mgo_log(MGO_LOG_INFO, "waiting for leadership", "identity", op->cfg.identity, "lease_namespace",
            op->cfg.lease_namespace, "lease", op->cfg.lease_name, (char *) NULL);
  return rc;
}

/* ---- start and stop -------------------------------------------------------------------------------- */

static void log_config(const struct mgo_operator_config *c)
{
  char workers[16], resync[32], port[16], bolt[32];
  (void) mgo_snprintf(workers, sizeof(workers), "%d", c->workers);
  (void) mgo_snprintf(resync, sizeof(resync), "%ldms", c->resync_interval_ms);
  (void) mgo_snprintf(port, sizeof(port), "%d", c->http_port);
  (void) mgo_snprintf(bolt, sizeof(bolt), "%ldms", c->bolt_timeout_ms);
  mgo_log(MGO_LOG_INFO, "starting", "version", c->version, "kubeconfig",
          c->kubeconfig ? c->kubeconfig : "(KUBECONFIG or in-cluster)", "namespace",
          c->namespace ? c->namespace : "(all)", "workers", workers, "resync_interval", resync, "http_addr",
          c->http_addr, "http_port", port, "leader_elect", c->leader_elect ? "true" : "false",
          "lease_namespace", c->lease_namespace, "lease_name", c->lease_name, "identity", c->identity,
          "bolt_timeout", bolt, "operator_image", c->operator_image, (char *) NULL);
}

static int open_client(struct mgo_operator *op)
{
  struct k8s_config cfg;
  struct k8s_status st;
  char err[512] = "";
  int rc = k8s_global_init();
  if (rc == MGO_OK)
    rc = k8s_config_load_auto(op->cfg.kubeconfig, &cfg, err, sizeof(err));
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "cannot load the Kubernetes configuration", "error", mgo_errname(rc), "detail",
            err, (char *) NULL);
    return rc;
  }
  k8s_status_clear(&st);
  rc = k8s_client_new(&cfg, NULL, &op->client, &st);
  k8s_config_free(&cfg);
  if (rc != MGO_OK)
    mgo_log(MGO_LOG_ERROR, "cannot create the API client", "error", mgo_errname(rc), "detail", st.message,
            (char *) NULL);
  return rc;
}

static const double queue_wait_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,     2.5,  5,     10,   30};

/* mgo_workqueue_wait_seconds: how long a due key waited for a worker (k8s_queue_opts.on_wait). */
static void observe_queue_wait(void *arg, long wait_ms)
{
  struct mgo_operator *op = arg;
  (void) mgo_metric_observe(op->queue_wait, "", (double) wait_ms / 1000.0);
}

static int open_parts(struct mgo_operator *op)
{
  struct k8s_event_recorder_opts eo = {.reporting_controller = "memgraph.io/memgraph-operator",
                                       .reporting_instance = op->cfg.identity};
  /* A failed pass is retried after 0.2 s, 0.4 s, ... and never later than its health interval. */
  struct k8s_queue_opts qo = {.base_delay_ms = 200,
                              .max_delay_ms = 60000,
                              .qps = 10,
                              .burst = 100,
                              .on_wait = observe_queue_wait,
                              .on_wait_arg = op};
  struct k8s_status st;
  int rc = open_client(op);
  if (rc != MGO_OK)
    return rc;
  op->metrics_reg = mgo_metrics_new();
  if (op->metrics_reg != NULL)
    op->queue_wait = mgo_metrics_family(
        op->metrics_reg, "mgo_workqueue_wait_seconds",
        "How long a cluster key waited for a worker: from its add, or its due time, to its pass starting.",
        MGO_METRIC_HISTOGRAM, queue_wait_buckets, sizeof(queue_wait_buckets) / sizeof(queue_wait_buckets[0]));
  op->queue = k8s_queue_new(&qo);
  if (op->metrics_reg == NULL || op->queue_wait == NULL || op->queue == NULL ||
      op_metrics_init(&op->metrics, op->metrics_reg) != MGO_OK)
    return MGO_ENOMEM;
  k8s_status_clear(&st);
  rc = k8s_event_recorder_new(op->client, &eo, &op->events);
  if (rc != MGO_OK)
    return rc;
  op->kube_impl.client = op->client;
  op->kube_impl.events = op->events;
  rc = op_start_informers(op);
  if (rc == MGO_OK)
    rc = op_tracing_start(op);
  if (rc == MGO_OK)
    rc = op_http_start(op);
  if (rc == MGO_OK && op->cfg.leader_elect)
    rc = start_election(op);
  return rc;
}

static int start_workers(struct mgo_operator *op)
{
  op->workers = calloc((size_t) op->cfg.workers, sizeof(*op->workers));
  if (op->workers == NULL)
    return MGO_ENOMEM;
  for (int i = 0; i < op->cfg.workers; i++) {
    if (pthread_create(&op->workers[i], NULL, worker_main, op) != 0)
      return MGO_ESYS;
    op->nworkers++;
  }
  return MGO_OK;
}

/* Each stop waits up to about a second for its watch to notice: signal them all first. */
static void stop_informers(struct mgo_operator *op)
{
  for (int i = 0; i < OP_CACHE_COUNT; i++) {
    if (op->inf[i] != NULL)
      k8s_informer_request_stop(op->inf[i]);
  }
  for (int i = 0; i < OP_CACHE_COUNT; i++) {
    if (op->inf[i] == NULL)
      continue;
    k8s_informer_stop(op->inf[i]);
    k8s_informer_free(op->inf[i]);
    op->inf[i] = NULL;
  }
}

static void teardown(struct mgo_operator *op)
{
  atomic_store(&op->stopping, true);
  if (op->queue != NULL)
    k8s_queue_shutdown(op->queue);
  for (int i = 0; i < op->nworkers; i++)
    pthread_join(op->workers[i], NULL); /* in-flight passes end at their next step or Bolt action */
  free(op->workers);
  op_tracing_stop(op); /* every span has ended */
  /* Nothing acts any more: hand the Lease over before the slower teardown of the watches. */
  bool was_leading = op->leader != NULL && k8s_leader_is_leader(op->leader);
  k8s_leader_free(op->leader); /* stops the loop and releases the Lease if held */
  if (was_leading)
    mgo_log(MGO_LOG_INFO, "lease released", "identity", op->cfg.identity, (char *) NULL);
  stop_informers(op);
  op_registry_free(op);
  mgo_http_stop(op->http);
  k8s_event_recorder_free(op->events);
  k8s_queue_free(op->queue);
  mgo_metrics_free(op->metrics_reg);
  k8s_client_free(op->client);
  pthread_mutex_destroy(&op->lock);
  pthread_mutex_destroy(&op->kube_lock);
  free(op);
}

/* The real ports of the reconcile steps. */
static void wire_ports(struct mgo_operator *op)
{
  op->mg = &mgo_mg_memgraph_ops;
  op->clock = mgo_clock_system();
  op->settings = (struct op_settings){.bolt_timeout_ms = op->cfg.bolt_timeout_ms,
                                      .operator_image = op->cfg.operator_image};
  op->kube_impl = (struct op_kube_impl){.inf = op->inf, .may_act = may_act_cb, .may_act_arg = op};
  op_kube_port_init(&op->kube, &op->kube_impl);
  op_agent_port_init(&op->agent);
  op_s3_port_init(&op->s3);
}

int mgo_operator_start(const struct mgo_operator_config *cfg, struct mgo_operator **out)
{
  struct mgo_operator *op = calloc(1, sizeof(*op));
  int rc;

  *out = NULL;
  if (op == NULL)
    return MGO_ENOMEM;
  op->cfg = *cfg;
  wire_ports(op);
  atomic_init(&op->stopping, false);
  atomic_init(&op->lost, false);
  pthread_mutex_init(&op->lock, NULL);
  pthread_mutex_init(&op->kube_lock, NULL);
  log_config(cfg);
  rc = open_parts(op);
  if (rc == MGO_OK)
    rc = start_workers(op);
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "start failed", "error", mgo_errname(rc), (char *) NULL);
    teardown(op);
    return rc;
  }
  if (!cfg->leader_elect)
    mgo_log(MGO_LOG_INFO, "leader election disabled: acting now", "identity", cfg->identity, (char *) NULL);
  *out = op;
  return MGO_OK;
}

bool mgo_operator_lost(struct mgo_operator *op)
{
  return atomic_load(&op->lost) ||
         (op->leader != NULL && k8s_leader_done(op->leader) && !atomic_load(&op->stopping));
}

/* mgo_kube_requests_total{verb,resource}: a series once a verb was sent to a resource class. */
void op_update_kube_metrics(struct mgo_operator *op)
{
  if (op->client == NULL)
    return;
  pthread_mutex_lock(&op->kube_lock);
  for (int v = 0; v < K8S_VERB_COUNT; v++) {
    for (size_t r = 0; r < K8S_REQ_RESOURCE_COUNT; r++) {
      unsigned long n = k8s_client_request_count_by(op->client, (enum k8s_verb) v, r);
      char labels[MGO_METRIC_LABELS_MAX];
      if (n == 0)
        continue;
      (void) mgo_metric_labels(labels, sizeof(labels), "verb", k8s_verb_name((enum k8s_verb) v), "resource",
                               k8s_request_resource_name(r), (char *) NULL);
      (void) mgo_metric_add(op->metrics.kube_requests, labels, (double) (n - op->kube_seen[v][r]));
      op->kube_seen[v][r] = n;
    }
  }
  pthread_mutex_unlock(&op->kube_lock);
}

int mgo_operator_stop(struct mgo_operator *op)
{
  int code = atomic_load(&op->lost) ? 1 : 0;
  mgo_log(MGO_LOG_INFO, "stopping: no new work, finishing in-flight steps", "identity", op->cfg.identity,
          (char *) NULL);
  teardown(op);
  mgo_log(MGO_LOG_INFO, "stopped", "exit_code", code ? "1" : "0", (char *) NULL);
  return code;
}
