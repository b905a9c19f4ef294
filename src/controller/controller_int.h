/* Internals of the runtime (library mgo_controller), shared between its files and its unit tests.
 *
 * The runtime owns the process: informers (one per cache of ports.h), the work queue, N workers that run the
 * reconcile step table (src/reconcile) on one key at a time, leader election, the HTTP endpoint, and the
 * registry of per-cluster state. It wires the real ports: the Kubernetes port over the client, the informer
 * caches and the event recorder (kube_port.c), the Memgraph backend (mgo_mg_memgraph_ops) and the system
 * clock.
 *
 * Ownership: struct mgo_operator owns everything it points to; mgo_operator_stop() frees it.
 * Thread-safety: the registry and every op_cluster.snapshot under `lock`; the rest as each file says. */
#ifndef MGO_CONTROLLER_INT_H
#define MGO_CONTROLLER_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "k8s_client.h"
#include "operator.h"
#include "reconcile.h"

struct k8s_informer;
struct k8s_event_recorder;
struct k8s_queue;
struct k8s_leader;
struct mgo_http_server;

/* The real Kubernetes port's state: the client, the caches (NULL entries: nothing cached), the event
 * recorder (NULL: Events dropped) and the leadership test. */
struct op_kube_impl {
  struct k8s_client *client;
  struct k8s_informer *const *inf; /* OP_CACHE_COUNT entries, or NULL */
  struct k8s_event_recorder *events;
  bool (*may_act)(void *arg);
  void *may_act_arg;
};

/* The port over impl (borrowed; must outlive every use of the port). */
void op_kube_port_init(struct op_kube_port *port, struct op_kube_impl *impl);

/* agent_port.c: the real agent port (HTTP to the pods' agents) and the real S3 port (src/s3). */
void op_agent_port_init(struct op_agent_port *port);
void op_s3_port_init(struct op_s3_port *port);

struct mgo_operator {
  struct mgo_operator_config cfg;
  struct k8s_client *client;
  struct k8s_informer *inf[OP_CACHE_COUNT];
  struct k8s_queue *queue;
  struct k8s_leader *leader;
  struct k8s_event_recorder *events;
  struct mgo_metrics *metrics_reg;
  struct op_metrics metrics;
  struct mgo_metric_family *queue_wait; /* mgo_workqueue_wait_seconds, fed by the queue's on_wait */
  struct mgo_http_server *http;
  struct op_kube_impl kube_impl;
  struct op_kube_port kube;
  struct op_agent_port agent;
  struct op_s3_port s3;
  const struct mgo_mg_ops *mg;
  const struct mgo_clock *clock;
  struct op_settings settings;
  pthread_t *workers;
  int nworkers;
  atomic_bool stopping, lost;
  pthread_mutex_t lock; /* guards the registry below and every op_cluster.snapshot */
  struct op_cluster **clusters;
  size_t nclusters, cap;
  pthread_mutex_t kube_lock; /* guards kube_seen */
  unsigned long kube_seen[K8S_VERB_COUNT][K8S_REQ_RESOURCE_COUNT];
  struct mgo_tracer *tracer; /* NULL: tracing off (tracing.c) */
  struct mgo_metric_family *trace_exported, *trace_dropped, *trace_failed;
  uint64_t trace_seen[5]; /* guarded by kube_lock */
};

/* informers.c: informers with handlers that enqueue the owning cluster's key. */
int op_start_informers(struct mgo_operator *op);
/* True once every informer has listed; *missing names the first that has not. */
bool op_informers_synced(struct mgo_operator *op, const char **missing);
/* Event filters of the informer handlers (pure). A MemgraphCluster update matters on resync (old == new),
 * a generation change or deletion, never for a status-only change (our own writes). An owned object's
 * update matters unless it is a resync or a pod change that leaves what a pass reads alone
 * (op_pod_changed: uid, deletion, phase, IP, conditions, container statuses; not labels). */
bool op_cluster_update_matters(const json_t *old_obj, const json_t *new_obj);
bool op_owned_update_matters(const json_t *old_obj, const json_t *new_obj);
bool op_pod_changed(const json_t *a, const json_t *b);
/* The top-level fields the cache `which` drops before caching (NULL-terminated, static), or NULL. */
const char *const *op_cache_dropped_fields(enum op_cache which);

/* registry.c: the entry of key, created on first use (NULL when memory runs out). Locks internally. */
struct op_cluster *op_cluster_get(struct mgo_operator *op, const char *key);
/* Forgets a deleted cluster: closes its connections, drops its snapshot and metric series. */
void op_cluster_forget(struct mgo_operator *op, const char *key);
/* Frees every entry (at shutdown, after the workers stopped). */
void op_registry_free(struct mgo_operator *op);

/* controller.c: true while this process may act (leading, or leader election off) and is not stopping. */
bool op_may_act(struct mgo_operator *op);
/* Mirrors the client's request counters into mgo_kube_requests_total{verb}. */
void op_update_kube_metrics(struct mgo_operator *op);

/* tracing.c: the tracer from the OTEL_* environment (a bad value turns tracing off with a warning; MGO_ENOMEM
 * only), its counters mirrored into /metrics at scrape time, the bounded flush at shutdown. */
int op_tracing_start(struct mgo_operator *op);
void op_tracing_update_metrics(struct mgo_operator *op);
void op_tracing_stop(struct mgo_operator *op);

/* http.c: the HTTP endpoint (port logged). */
int op_http_start(struct mgo_operator *op);

#endif
