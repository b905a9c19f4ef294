/* The memgraph-operator controller: informers, work queue, reconcile workers, leader election, Events,
 * metrics and the HTTP endpoint, started and stopped as one object.
 *
 *   struct mgo_operator_config cfg;  mgo_operator_config_default(&cfg);  ...fill from flags...
 *   struct mgo_operator *op;
 *   if (mgo_operator_start(&cfg, &op) == MGO_OK) {
 *     while (!signalled && !mgo_operator_lost(op)) wait;
 *     exit_code = mgo_operator_stop(op);   // graceful: no new work, in-flight steps finish, lease released
 *   }
 *
 * Only the leader reconciles. Losing the lease makes mgo_operator_lost() true at once and every worker
 * stops acting before its next step or Bolt action; the caller then exits non-zero (the Deployment
 * restarts the process, which stands by until it leads again).
 *
 * Ownership: the config's strings are borrowed and must outlive the operator. mgo_operator_stop() frees
 * the operator. Thread-safety: start/stop from one thread (main); lost() from any thread. */
#ifndef MGO_OPERATOR_H
#define MGO_OPERATOR_H

#include <stdbool.h>

struct mgo_operator_config {
  const char *kubeconfig;      /* NULL: $KUBECONFIG, else in-cluster, else ~/.kube/config */
  const char *namespace;       /* NULL: all namespaces */
  int workers;                 /* default 16 (passes wait on Bolt and the API: bench/results/scale.md) */
  long resync_interval_ms;     /* informer resync, default 30000 */
  const char *http_addr;       /* default "0.0.0.0" */
  int http_port;               /* default 8080; 0 picks a free port (logged) */
  bool leader_elect;           /* default true */
  const char *lease_namespace; /* default "memgraph-operator-system" */
  const char *lease_name;      /* default "memgraph-operator" */
  const char *identity;        /* required */
  long lease_duration_ms, renew_deadline_ms, retry_period_ms; /* 15000, 10000, 2000 */
  long bolt_timeout_ms;       /* connect and query deadline per Bolt call, default 5000 */
  const char *operator_image; /* image of the pods' agent init container */
  const char *version;        /* for the start-up log */
};

struct mgo_operator;

void mgo_operator_config_default(struct mgo_operator_config *cfg);
/* Logs the effective configuration, connects, starts informers, HTTP, election and workers. Returns
 * MGO_OK or an error after logging why (nothing is left running). */
int mgo_operator_start(const struct mgo_operator_config *cfg, struct mgo_operator **out);
/* True once leadership was lost (the process should exit non-zero). */
bool mgo_operator_lost(struct mgo_operator *op);
/* Graceful stop; returns the exit code (0, or 1 when leadership had been lost). Frees op. */
int mgo_operator_stop(struct mgo_operator *op);

#endif
