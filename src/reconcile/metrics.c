/* The operator's Prometheus metric families. */
#include "reconcile.h"

#include "metrics.h"
#include "mgo_err.h"

const char *const op_metric_names[] = {"mgo_reconcile_total",
                                       "mgo_reconcile_errors_total",
                                       "mgo_reconcile_duration_seconds",
                                       "mgo_cluster_phase",
                                       "mgo_cluster_instances_ready",
                                       "mgo_cluster_replicas_registered",
                                       "mgo_replica_lag_behind",
                                       "mgo_kube_requests_total",
                                       "mgo_bolt_queries_total",
                                       "mgo_failovers_total",
                                       "mgo_failover_duration_seconds",
                                       "mgo_failover_estimated_lost_transactions_total",
                                       "mgo_multiple_mains_observed_total",
                                       "mgo_replica_reseeds_total",
                                       "mgo_pod_updates_total",
                                       "memgraph_snapshots_total",
                                       "memgraph_snapshot_duration_seconds",
                                       "memgraph_s3_uploads_total",
                                       "memgraph_s3_upload_errors_total",
                                       "memgraph_backup_last_success_timestamp_seconds",
                                       "memgraph_backup_size_bytes",
                                       "memgraph_restore_drills_total",
                                       NULL};

static const double duration_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double failover_buckets[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};

/* The failover and rolling-update families (issue 5). */
static int init_failover_metrics(struct op_metrics *m, struct mgo_metrics *reg)
{
  m->failovers =
      mgo_metrics_family(reg, op_metric_names[9], "Completed MAIN changes by kind (failover, switchover).",
                         MGO_METRIC_COUNTER, NULL, 0);
  m->failover_duration = mgo_metrics_family(
      reg, op_metric_names[10],
      "Write-unavailable time of a MAIN change: from the MAIN lost (failover) or fenced (switchover) to the "
      "promotion of the new MAIN.",
      MGO_METRIC_HISTOGRAM, failover_buckets, sizeof(failover_buckets) / sizeof(failover_buckets[0]));
  m->failover_lost = mgo_metrics_family(
      reg, op_metric_names[11],
      "Transactions the promoted replica was behind when it was promoted (commits that may be lost).",
      MGO_METRIC_COUNTER, NULL, 0);
  m->multiple_mains = mgo_metrics_family(
      reg, op_metric_names[12], "Passes that observed a second MAIN with data that no failover explains.",
      MGO_METRIC_COUNTER, NULL, 0);
  m->reseeds =
      mgo_metrics_family(reg, op_metric_names[13], "Diverged replicas re-seeded (wiped, registered again).",
                         MGO_METRIC_COUNTER, NULL, 0);
  m->pod_restarts = mgo_metrics_family(reg, op_metric_names[14], "Pods deleted by rolling updates.",
                                       MGO_METRIC_COUNTER, NULL, 0);
  if (!m->failovers || !m->failover_duration || !m->failover_lost || !m->multiple_mains || !m->reseeds ||
      !m->pod_restarts)
    return MGO_ENOMEM;
  return MGO_OK;
}

/* The backup families (issue 10; the seed's names). */
static int init_backup_metrics(struct op_metrics *m, struct mgo_metrics *reg)
{
  m->snapshots = mgo_metrics_family(
      reg, op_metric_names[15], "Snapshots requested for backups (CREATE SNAPSHOT), by cluster and result.",
      MGO_METRIC_COUNTER, NULL, 0);
  m->snapshot_duration = mgo_metrics_family(
      reg, op_metric_names[16], "Time CREATE SNAPSHOT took for a backup.", MGO_METRIC_HISTOGRAM,
      failover_buckets, sizeof(failover_buckets) / sizeof(failover_buckets[0]));
  m->s3_uploads = mgo_metrics_family(reg, op_metric_names[17], "Backup uploads to S3 that completed.",
                                     MGO_METRIC_COUNTER, NULL, 0);
  m->s3_upload_errors = mgo_metrics_family(reg, op_metric_names[18],
                                           "Backup upload attempts that failed, by cluster and reason.",
                                           MGO_METRIC_COUNTER, NULL, 0);
  m->backup_last_success = mgo_metrics_family(
      reg, op_metric_names[19], "Unix time the cluster's last backup completed.", MGO_METRIC_GAUGE, NULL, 0);
  m->backup_size = mgo_metrics_family(
      reg, op_metric_names[20], "Size of the cluster's last completed backup.", MGO_METRIC_GAUGE, NULL, 0);
  m->restore_drills = mgo_metrics_family(reg, op_metric_names[21], "Restore drills by cluster and result.",
                                         MGO_METRIC_COUNTER, NULL, 0);
  if (!m->snapshots || !m->snapshot_duration || !m->s3_uploads || !m->s3_upload_errors ||
      !m->backup_last_success || !m->backup_size || !m->restore_drills)
    return MGO_ENOMEM;
  return MGO_OK;
}

int op_metrics_init(struct op_metrics *m, struct mgo_metrics *reg)
{
  m->reg = reg;
  m->reconcile_total = mgo_metrics_family(reg, op_metric_names[0],
                                          "Reconcile passes by cluster and result "
                                          "(success, requeue, error, stopped).",
                                          MGO_METRIC_COUNTER, NULL, 0);
  m->reconcile_errors = mgo_metrics_family(
      reg, op_metric_names[1], "Reconcile passes that ended in an error.", MGO_METRIC_COUNTER, NULL, 0);
  m->reconcile_duration =
      mgo_metrics_family(reg, op_metric_names[2], "Duration of one reconcile pass.", MGO_METRIC_HISTOGRAM,
                         duration_buckets, sizeof(duration_buckets) / sizeof(duration_buckets[0]));
  m->cluster_phase = mgo_metrics_family(
      reg, op_metric_names[3], "1 for the cluster's current phase, 0 otherwise.", MGO_METRIC_GAUGE, NULL, 0);
  m->instances_ready =
      mgo_metrics_family(reg, op_metric_names[4], "Ready instance pods.", MGO_METRIC_GAUGE, NULL, 0);
  m->replicas_registered = mgo_metrics_family(reg, op_metric_names[5], "Replicas registered on the MAIN.",
                                              MGO_METRIC_GAUGE, NULL, 0);
  m->replica_lag = mgo_metrics_family(
      reg, op_metric_names[6], "How far a replica is behind the MAIN (transactions, from SHOW REPLICAS).",
      MGO_METRIC_GAUGE, NULL, 0);
  m->kube_requests = mgo_metrics_family(reg, op_metric_names[7], "Kubernetes API requests sent, by verb.",
                                        MGO_METRIC_COUNTER, NULL, 0);
  m->bolt_queries = mgo_metrics_family(reg, op_metric_names[8], "Bolt queries sent to Memgraph instances.",
                                       MGO_METRIC_COUNTER, NULL, 0);
  if (!m->reconcile_total || !m->reconcile_errors || !m->reconcile_duration || !m->cluster_phase ||
      !m->instances_ready || !m->replicas_registered || !m->replica_lag || !m->kube_requests ||
      !m->bolt_queries)
    return MGO_ENOMEM;
  if (init_failover_metrics(m, reg) != MGO_OK || init_backup_metrics(m, reg) != MGO_OK)
    return MGO_ENOMEM;
  return op_seed_metrics_init(&m->seed, reg);
}
