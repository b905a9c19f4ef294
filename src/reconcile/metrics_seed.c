/* The seed's memgraph_* metric families (issue 12) and their updates. Labels are bounded: cluster
 * ("ns/name"), kind and result from fixed sets; no pod label (per-cluster counts). Every series carries the
 * cluster label, so op_cluster_forget's mgo_metric_remove_matching(`cluster="ns/name"`) drops them with the
 * cluster, except memgraph_clusters_*, which have no labels. */
#include <string.h>

#include "metrics.h"
#include "mgo_err.h"
#include "reconcile.h"
#include "validate.h"

const char *const op_seed_metric_names[] = {"memgraph_clusters",
                                            "memgraph_clusters_ready",
                                            "memgraph_read_replicas",
                                            "memgraph_read_replicas_ready",
                                            "memgraph_replication_lag_seconds",
                                            "memgraph_replication_errors_total",
                                            "memgraph_reconcile_total",
                                            "memgraph_reconcile_duration_seconds",
                                            "memgraph_reconcile_errors_total",
                                            "memgraph_validation_total",
                                            "memgraph_validation_failures_total",
                                            "memgraph_validation_duration_seconds",
                                            "memgraph_connectivity_test_total",
                                            "memgraph_connectivity_test_failures_total",
                                            "memgraph_replication_test_total",
                                            "memgraph_replication_test_failures_total",
                                            "memgraph_failover_duration_seconds",
                                            "memgraph_failover_behind_transactions",
                                            "memgraph_failover_estimated_lost_writes_total",
                                            "memgraph_multiple_mains",
                                            "memgraph_cluster_main",
                                            NULL};

#define NB(a) (sizeof(a) / sizeof((a)[0]))

static const double pass_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double lag_buckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
static const double rto_buckets[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};
static const double behind_buckets[] = {0, 1, 10, 100, 1000, 10000, 100000, 1000000};

static struct mgo_metric_family *fam(struct mgo_metrics *reg, int i, const char *help, enum mgo_metric_type t)
{
  return mgo_metrics_family(reg, op_seed_metric_names[i], help, t, NULL, 0);
}

static struct mgo_metric_family *hist(struct mgo_metrics *reg, int i, const char *help, const double *b,
                                      size_t n)
{
  return mgo_metrics_family(reg, op_seed_metric_names[i], help, MGO_METRIC_HISTOGRAM, b, n);
}

static void init_cluster_families(struct op_seed_metrics *m, struct mgo_metrics *reg)
{
  m->clusters_total = fam(reg, 0, "MemgraphClusters the operator watches.", MGO_METRIC_GAUGE);
  m->clusters_ready = fam(reg, 1, "MemgraphClusters whose condition Ready is True.", MGO_METRIC_GAUGE);
  m->read_replicas_total =
      fam(reg, 2, "Replica instances the cluster's spec asks for (spec.instances - 1).", MGO_METRIC_GAUGE);
  m->read_replicas_ready = fam(reg, 3,
                               "Ready replica pods labelled memgraph.io/readable=true (the read Service's "
                               "replicas).",
                               MGO_METRIC_GAUGE);
  m->replication_lag =
      hist(reg, 4,
           "Replication lag of a replica in seconds, from a canary write's acknowledgement to "
           "its first read on the replica (filled by the replication canary; Memgraph itself "
           "reports lag in transactions: mgo_replica_lag_behind).",
           lag_buckets, NB(lag_buckets));
  m->replication_errors = fam(reg, 5,
                              "Replication errors by kind: register_failed (a REGISTER REPLICA that failed), "
                              "invalid and diverged (a replica the MAIN listed so, once per pass).",
                              MGO_METRIC_COUNTER);
  m->multiple_mains =
      fam(reg, 19, "1 while a second MAIN that no failover explains is observed, else 0.", MGO_METRIC_GAUGE);
  m->cluster_main =
      fam(reg, 20,
          "1 for the pod that answered as the cluster's MAIN in the last pass (its SHOW REPLICAS "
          "too), 0 for the cluster's other pods: max by (cluster) == 0 means no MAIN.",
          MGO_METRIC_GAUGE);
}

static void init_pass_families(struct op_seed_metrics *m, struct mgo_metrics *reg)
{
  m->reconcile_total =
      fam(reg, 6, "Reconcile passes by cluster and result (success, requeue, error, stopped).",
          MGO_METRIC_COUNTER);
  m->reconcile_duration = hist(reg, 7, "Duration of one reconcile pass.", pass_buckets, NB(pass_buckets));
  m->reconcile_errors = fam(reg, 8, "Reconcile passes that ended in an error.", MGO_METRIC_COUNTER);
  m->validation_total = fam(reg, 9, "Validation runs (replication canary).", MGO_METRIC_COUNTER);
  m->validation_failures = fam(reg, 10, "Validation runs that failed.", MGO_METRIC_COUNTER);
  m->validation_duration = hist(reg, 11, "Duration of one validation run.", pass_buckets, NB(pass_buckets));
  m->connectivity_total =
      fam(reg, 12, "Connectivity tests: SHOW REPLICATION ROLE sent to a pod by the health pass.",
          MGO_METRIC_COUNTER);
  m->connectivity_failures = fam(reg, 13, "Connectivity tests that got no answer.", MGO_METRIC_COUNTER);
  m->replication_test_total =
      fam(reg, 14, "Replication tests (canary write read back on every replica).", MGO_METRIC_COUNTER);
  m->replication_test_failures = fam(reg, 15, "Replication tests that failed.", MGO_METRIC_COUNTER);
}

static void init_failover_families(struct op_seed_metrics *m, struct mgo_metrics *reg)
{
  m->failover_duration = hist(reg, 16,
                              "Write-unavailable time of a MAIN change by kind (failover, switchover): "
                              "status.lastFailover.writeUnavailableMs.",
                              rto_buckets, NB(rto_buckets));
  m->failover_behind =
      hist(reg, 17, "Transactions the promoted replica was behind the old MAIN when promoted, by kind.",
           behind_buckets, NB(behind_buckets));
  m->failover_lost_estimated =
      fam(reg, 18,
          "Acknowledged writes a MAIN change may have lost, estimated: the promoted "
          "ASYNC replica's transactions behind (0 for SYNC and STRICT_SYNC replicas).",
          MGO_METRIC_COUNTER);
}

int op_seed_metrics_init(struct op_seed_metrics *m, struct mgo_metrics *reg)
{
  init_cluster_families(m, reg);
  init_pass_families(m, reg);
  init_failover_families(m, reg);
  struct mgo_metric_family *const all[] = {m->clusters_total,
                                           m->clusters_ready,
                                           m->read_replicas_total,
                                           m->read_replicas_ready,
                                           m->replication_lag,
                                           m->replication_errors,
                                           m->reconcile_total,
                                           m->reconcile_duration,
                                           m->reconcile_errors,
                                           m->validation_total,
                                           m->validation_failures,
                                           m->validation_duration,
                                           m->connectivity_total,
                                           m->connectivity_failures,
                                           m->replication_test_total,
                                           m->replication_test_failures,
                                           m->failover_duration,
                                           m->failover_behind,
                                           m->failover_lost_estimated,
                                           m->multiple_mains,
                                           m->cluster_main};
  for (size_t i = 0; i < NB(all); i++) {
    if (all[i] == NULL)
      return MGO_ENOMEM;
  }
  return MGO_OK;
}

void op_seed_count_pass(const struct op_metrics *m, const char *key, const char *result, bool failed,
                        double secs)
{
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", key, "result", result, (char *) NULL);
  (void) mgo_metric_add(m->seed.reconcile_total, labels, 1);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", key, (char *) NULL);
  (void) mgo_metric_add(m->seed.reconcile_errors, labels, failed ? 1 : 0);
  (void) mgo_metric_observe(m->seed.reconcile_duration, labels, secs);
}

static bool cluster_ready(const json_t *cluster)
{
  size_t i;
  const json_t *cond;
  json_array_foreach(json_object_get(json_object_get(cluster, "status"), "conditions"), i, cond)
  {
    const char *type = json_string_value(json_object_get(cond, "type"));
    const char *status = json_string_value(json_object_get(cond, "status"));
    if (type != NULL && status != NULL && strcmp(type, "Ready") == 0)
      return strcmp(status, "True") == 0;
  }
  return false;
}

void op_seed_set_clusters(const struct op_metrics *m, const json_t *clusters)
{
  size_t i, ready = 0;
  const json_t *c;
  json_array_foreach(clusters, i, c)
  {
    if (cluster_ready(c))
      ready++;
  }
  (void) mgo_metric_set(m->seed.clusters_total, "", (double) json_array_size(clusters));
  (void) mgo_metric_set(m->seed.clusters_ready, "", (double) ready);
}

void op_seed_count_connectivity(struct op_ctx *ctx, unsigned long ok, unsigned long failed)
{
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->seed.connectivity_total, labels, (double) (ok + failed));
  (void) mgo_metric_add(ctx->metrics->seed.connectivity_failures, labels, (double) failed);
}

static void count_error(struct op_ctx *ctx, const char *kind, double n)
{
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "kind", kind, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->seed.replication_errors, labels, n);
}

void op_seed_register_failed(struct op_ctx *ctx)
{
  count_error(ctx, "register_failed", 1);
}

/* Whether pod carries memgraph.io/readable=true once this pass's label actions are applied. */
static bool readable_after_plan(const struct rec_plan *plan, const struct rec_instance *in)
{
  bool readable = in->label_readable;
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == REC_ACT_LABEL && strcmp(plan->a[i].pod, in->pod) == 0)
      readable = plan->a[i].readable;
  }
  return readable;
}

/* memgraph_cluster_main{cluster,pod}: 1 for the MAIN that answered this pass, 0 for every other ordinal up to
 * spec.instances and the highest observed (so no pod that left keeps a 1: the MAIN is never scaled away). */
static void set_cluster_main(struct op_ctx *ctx)
{
  const struct rec_instance *main = rec_plan_main(ctx->obs, ctx->plan);
  char labels[MGO_METRIC_LABELS_MAX], pod[MGO_NAME_MAX];
  int n = ctx->c.spec.instances;

  for (size_t i = 0; i < ctx->obs->n; i++)
    n = ctx->obs->inst[i].ordinal >= n ? ctx->obs->inst[i].ordinal + 1 : n;
  for (int i = 0; i < n && i < REC_MAX_OBSERVED; i++) {
    if (mgo_name_pod(&ctx->c, i, pod, sizeof(pod)) != MGO_OK)
      continue;
    (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "pod", pod, (char *) NULL);
    (void) mgo_metric_set(ctx->metrics->seed.cluster_main, labels,
                          main != NULL && strcmp(main->pod, pod) == 0 ? 1 : 0);
  }
}

static void set_read_replicas(struct op_ctx *ctx, const char *labels)
{
  size_t ready = 0;
  int32_t total = ctx->parsed && ctx->c.spec.instances > 1 ? ctx->c.spec.instances - 1 : 0;
  for (size_t i = 0; i < ctx->obs->n; i++) {
    const struct rec_instance *in = &ctx->obs->inst[i];
    if (in->pod_exists && in->pod_ready && !in->pod_terminating &&
        strcmp(in->pod, ctx->plan->main_pod) != 0 && readable_after_plan(ctx->plan, in))
      ready++;
  }
  (void) mgo_metric_set(ctx->metrics->seed.read_replicas_total, labels, (double) total);
  (void) mgo_metric_set(ctx->metrics->seed.read_replicas_ready, labels, (double) ready);
}

/* Replicas the plan's MAIN lists invalid or diverged in this pass's SHOW REPLICAS. */
static void count_bad_replicas(struct op_ctx *ctx)
{
  double invalid = 0, diverged = 0;
  for (size_t i = 0; i < ctx->obs->n; i++) {
    const struct rec_instance *in = &ctx->obs->inst[i];
    if (strcmp(in->pod, ctx->plan->main_pod) != 0 || !in->replicas_known)
      continue;
    for (size_t j = 0; j < in->n_registrations; j++) {
      invalid += in->registrations[j].state == REC_RS_INVALID;
      diverged += in->registrations[j].state == REC_RS_DIVERGED;
    }
  }
  count_error(ctx, "register_failed", 0);
  count_error(ctx, "invalid", invalid);
  count_error(ctx, "diverged", diverged);
}

void op_seed_cluster_metrics(struct op_ctx *ctx)
{
  const struct op_seed_metrics *m = &ctx->metrics->seed;
  char labels[MGO_METRIC_LABELS_MAX];
  if (ctx->obs == NULL || ctx->plan == NULL)
    return;
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  set_read_replicas(ctx, labels);
  if (ctx->parsed)
    set_cluster_main(ctx);
  count_bad_replicas(ctx);
  /* The canary's families (issue 12, live validation): zero-valued series until the canary runs. */
  (void) mgo_metric_touch(m->validation_total, labels);
  (void) mgo_metric_touch(m->validation_failures, labels);
  (void) mgo_metric_touch(m->validation_duration, labels);
  (void) mgo_metric_touch(m->replication_test_total, labels);
  (void) mgo_metric_touch(m->replication_test_failures, labels);
  (void) mgo_metric_touch(m->connectivity_total, labels);
  (void) mgo_metric_touch(m->connectivity_failures, labels);
  (void) mgo_metric_touch(m->multiple_mains, labels);
}

void op_seed_main_change(struct op_ctx *ctx, const struct op_main_change *ch, int64_t unavailable_ms)
{
  const struct op_seed_metrics *m = &ctx->metrics->seed;
  char labels[MGO_METRIC_LABELS_MAX];
  double behind = ch->behind > 0 ? (double) ch->behind : 0;
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "kind", ch->kind, (char *) NULL);
  (void) mgo_metric_observe(m->failover_duration, labels, (double) unavailable_ms / 1000.0);
  (void) mgo_metric_observe(m->failover_behind, labels, behind);
  (void) mgo_metric_add(m->failover_lost_estimated, labels, ch->mode == MGO_MODE_ASYNC ? behind : 0);
}

void op_seed_multiple_mains(struct op_ctx *ctx, bool seen)
{
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_set(ctx->metrics->seed.multiple_mains, labels, seen ? 1 : 0);
}

void op_seed_validation(struct op_ctx *ctx, const struct val_outcome *o, const struct val_summary *s,
                        double secs)
{
  const struct op_seed_metrics *m = &ctx->metrics->seed;
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_add(m->validation_total, labels, 1);
  (void) mgo_metric_add(m->validation_failures, labels, s->healthy ? 0 : 1);
  (void) mgo_metric_observe(m->validation_duration, labels, secs);
  (void) mgo_metric_add(m->replication_test_total, labels, 1);
  (void) mgo_metric_add(m->replication_test_failures, labels, s->healthy ? 0 : 1);
  for (size_t i = 0; i < o->n; i++) {
    if (!o->r[i].seen)
      continue;
    (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "replica", o->r[i].name,
                             (char *) NULL);
    (void) mgo_metric_observe(m->replication_lag, labels, (double) o->r[i].lag_ms / 1000.0);
  }
}
