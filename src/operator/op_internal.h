/* Internals of the controller (library mgo_operator), shared between its files and its unit tests.
 *
 * One reconcile of one MemgraphCluster is an ordered table of named steps (op_steps.c) run on a struct
 * op_ctx. Each step returns continue, requeue (ctx->after_ms; negative = with backoff, an error) or stop.
 * Steps marked `finally` run even after an earlier step asked for a requeue (the status step: whatever
 * happened is written down), never after a stop. Issue 5 adds failover / switchover / rolling-update steps
 * between "decide" and "act" as new rows of the table.
 *
 * Per-cluster state that outlives a reconcile (Bolt connections per pod, last known timestamps, the last
 * observation served over HTTP) lives in struct op_cluster. The work queue never hands one key to two
 * workers, so a worker owns its op_cluster's connections without a lock; only `snapshot` is read by the
 * HTTP threads, under the registry lock.
 *
 * Ownership: op_ctx borrows everything except obj (a new reference), obs and plan (heap, freed by
 * op_ctx_release()). Thread-safety: see each function. */
#ifndef MGO_OPERATOR_INTERNAL_H
#define MGO_OPERATOR_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "k8s_client.h"
#include "k8s_path.h"
#include "mg_iface.h"
#include "operator.h"
#include "topology.h"

struct k8s_informer;
struct k8s_event_recorder;
struct mgo_metrics;
struct mgo_metric_family;
struct op_ctx;

#define OP_KEY_MAX (2 * MGO_NAME_MAX + 2)
#define OP_FIELD_MANAGER "memgraph-operator"
#define OP_HASH_ANNOTATION "memgraph.io/applied-hash"

/* memgraph.io/v1alpha1 memgraphclusters */
extern const struct k8s_resource op_res_clusters;

/* ---- per-pod connections and memory --------------------------------------------------------------- */

struct op_conn {
  char pod[MGO_NAME_MAX];
  char uid[MGO_NAME_MAX];
  char ip[64];
  void *conn; /* NULL when not connected */
  char version[32];
  int64_t last_ts; /* newest data_info ts seen for this pod in a MAIN's SHOW REPLICAS; -1 unknown */
  /* How the recorded MAIN last listed this pod (failover candidates); valid when last_known. */
  bool last_known;
  bool last_registered;
  enum mgo_repl_mode last_mode;
  bool last_in_sync;
  int64_t last_behind;
  bool register_diverged;  /* a REGISTER of this incarnation failed with "diverged" */
  int64_t silent_until_ms; /* monotonic: its last probe used the whole Bolt deadline; not probed before */
};

/* A failover or switchover whose PROMOTE is planned: kept until the PROMOTE succeeds (lastFailover). */
struct op_main_change {
  bool pending;
  char kind[16];
  char from[MGO_NAME_MAX];
  char to[MGO_NAME_MAX];
  char reason[64];
  enum mgo_repl_mode mode;
  int64_t behind;
  int64_t unavailable_since_ms; /* monotonic: when writes stopped being served (MAIN lost / fenced) */
  char unavailable_since[48];   /* the same as RFC 3339 with ms, formatted once (status keeps it stable) */
};

struct op_cluster {
  char key[OP_KEY_MAX];
  size_t nconns;
  struct op_conn conns[REC_MAX_OBSERVED];
  json_t *snapshot;     /* what /api/v1/clusters/{ns}/{name} serves; guarded by the registry lock */
  json_t *last_written; /* the cluster object as our last status write returned it (newer than the
                           cache until the watch delivers it) */
  bool auth_loaded;     /* spec.auth credentials read from their Secret (re-read after an auth failure) */
  char auth_user[128];
  char auth_password[256];
  bool tls_loaded; /* spec.tls: the CA of the Secret written to tls_ca_file */
  char tls_ca_file[256];
  int64_t main_down_since_ms; /* monotonic ms when the recorded MAIN was first seen unavailable; 0 = up */
  char main_down_pod[MGO_NAME_MAX];
  struct op_main_change change;
  int64_t fenced_at_ms; /* monotonic ms when a switchover took the MAIN off the write Service; 0 = none */
  size_t nlag;          /* replicas with a mgo_replica_lag_behind series (removed when they go) */
  char lag_names[MGO_MAX_INSTANCES][MGO_NAME_MAX];
};

/* ---- metrics families ------------------------------------------------------------------------------ */

struct op_metrics {
  struct mgo_metrics *reg;
  struct mgo_metric_family *reconcile_total, *reconcile_errors, *reconcile_duration, *cluster_phase,
      *instances_ready, *replicas_registered, *replica_lag, *kube_requests, *bolt_queries, *failovers,
      *failover_duration, *failover_lost, *multiple_mains, *reseeds, *pod_restarts;
};

/* Creates every family in reg. MGO_ENOMEM when one cannot be created. */
int op_metrics_init(struct op_metrics *m, struct mgo_metrics *reg);
/* Names of the metric families, in registration order (for tests and docs); NULL-terminated. */
extern const char *const op_metric_names[];

/* ---- the operator object ---------------------------------------------------------------------------- */

enum op_informer {
  OP_INF_CLUSTERS,
  OP_INF_STS,
  OP_INF_PODS,
  OP_INF_SVCS,
  OP_INF_PDBS,
  OP_INF_SAS,
  OP_INF_COUNT
};

struct mgo_operator {
  struct mgo_operator_config cfg;
  struct k8s_client *client;
  struct k8s_informer *inf[OP_INF_COUNT];
  struct k8s_queue *queue;
  struct k8s_leader *leader;
  struct k8s_event_recorder *events;
  struct mgo_metrics *metrics_reg;
  struct op_metrics metrics;
  struct mgo_http_server *http;
  const struct mgo_mg_ops *mg;
  pthread_t *workers;
  int nworkers;
  atomic_bool stopping, lost;
  pthread_mutex_t lock; /* guards the registry below and every op_cluster.snapshot */
  struct op_cluster **clusters;
  size_t nclusters, cap;
  pthread_mutex_t kube_lock; /* guards kube_seen */
  unsigned long kube_seen[K8S_VERB_COUNT];
};

/* op_controller.c: informers with handlers that enqueue the owning cluster's key. */
int op_start_informers(struct mgo_operator *op);
/* op_run.c: mirrors the client's request counters into mgo_kube_requests_total{verb}. */
void op_update_kube_metrics(struct mgo_operator *op);
/* op_http.c: the HTTP endpoint (port logged). */
int op_http_start(struct mgo_operator *op);

/* True while this process may act (leading, or leader election off) and is not stopping. */
bool op_may_act(struct mgo_operator *op);
/* The registry entry of key, created on first use (NULL when memory runs out). Locks internally. */
struct op_cluster *op_cluster_get(struct mgo_operator *op, const char *key);
/* Forgets a deleted cluster: closes its connections, drops its snapshot and metric series. */
void op_cluster_forget(struct mgo_operator *op, const char *key);
/* Event filters of the informer handlers (pure). A MemgraphCluster update matters on resync (old == new),
 * a generation change or deletion, never for a status-only change (our own writes). An owned object's
 * update matters unless it is a resync or a pod change that leaves what a pass reads alone
 * (op_pod_changed: uid, deletion, phase, IP, conditions, container statuses; not labels). */
bool op_cluster_update_matters(const json_t *old_obj, const json_t *new_obj);
bool op_owned_update_matters(const json_t *old_obj, const json_t *new_obj);
bool op_pod_changed(const json_t *a, const json_t *b);
/* True once every informer has listed; *missing names the first that has not. */
bool op_informers_synced(struct mgo_operator *op, const char **missing);
/* The newer of the cached object and cs->last_written (same uid, higher resourceVersion). New reference. */
json_t *op_fresher(const json_t *cached, const json_t *last_written);
/* Adds n to mgo_bolt_queries_total{cluster,pod} (no-op when n is 0 or there is no operator). */
void op_count_bolt(struct op_ctx *ctx, const char *pod, unsigned long n);
/* Records a Kubernetes Event on the cluster (ctx->obj); failures are logged, never fatal. */
void op_event(struct op_ctx *ctx, const char *type, const char *reason, const char *action, const char *note);

/* ---- the reconcile context ------------------------------------------------------------------------- */

enum op_step_result { OP_CONTINUE, OP_REQUEUE, OP_STOP };
#define OP_AFTER_NONE LONG_MAX /* no delay requested */

struct mgo_operator;

struct op_ctx {
  struct mgo_operator *op; /* NULL in unit tests of pure parts */
  struct op_cluster *cs;
  char ns[MGO_NAME_MAX];
  char name[MGO_NAME_MAX];
  char key[OP_KEY_MAX];
  json_t *obj; /* the MemgraphCluster from the cache (new reference) */
  struct mgo_cluster c;
  bool parsed;
  struct rec_observed *obs;
  struct rec_plan *plan;
  const struct mgo_mg_ops *mg;
  long after_ms;   /* requeue delay a step asks for (also with OP_CONTINUE): OP_AFTER_NONE, ms, or < 0 =
                      rate-limited (an error); after op_run_steps() the combination of all of them */
  bool failed;     /* an error happened (metrics, backoff) */
  char error[256]; /* the first error, for logs and the HTTP snapshot */
  const char *stopped_at; /* name of the step that ended the pass early, or NULL */
  unsigned long bolt_queries;
};

typedef enum op_step_result op_step_fn(struct op_ctx *ctx);

struct op_step {
  const char *name;
  op_step_fn *fn;
  bool finally; /* also runs after an earlier OP_REQUEUE */
};

/* Runs the table in order. Returns OP_STOP as soon as a step stops (ctx->after_ms = OP_AFTER_NONE), else
 * OP_REQUEUE if any step asked for it, else OP_CONTINUE. ctx->after_ms ends as the smallest delay any run
 * step requested (negative wins: backoff). ctx->stopped_at names the first step that did not continue.
 * Pure control flow, no I/O of its own. */
enum op_step_result op_run_steps(const struct op_step *steps, size_t n, struct op_ctx *ctx);

/* The reconcile table of the operator. */
extern const struct op_step op_reconcile_steps[];
extern const size_t op_reconcile_nsteps;

/* The steps of op_reconcile_steps, in order (each in the file of its topic). */
op_step_fn op_step_load;        /* op_steps.c: cluster from the cache, parse, validate (invalid: Failed) */
op_step_fn op_step_objects;     /* op_objects.c: ServiceAccount, Services, PDB by SSA when changed */
op_step_fn op_step_observe;     /* op_observe.c: pods from the cache, Bolt per ready pod */
op_step_fn op_step_decide;      /* op_steps.c: rec_decide_topology() */
op_step_fn op_step_statefulset; /* op_objects.c: StatefulSet with replicas = plan.allowed_pods */
op_step_fn op_step_act;         /* op_act.c: the plan's actions in order */
op_step_fn op_step_status;      /* op_status.c: .status when it differs; snapshot and metrics */

/* Records the first error of a pass (printf-style) and marks it failed. */
void op_ctx_fail(struct op_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void op_ctx_release(struct op_ctx *ctx);

/* ---- desired objects (op_apply.c) ------------------------------------------------------------------ */

/* 64-bit FNV-1a of the canonical JSON (sorted keys, compact) of obj with the hash annotation removed,
 * as 16 hex digits. MGO_ENOMEM. */
int op_object_hash(const json_t *obj, char out[17]);
/* Computes the hash of desired and stores it as the annotation OP_HASH_ANNOTATION. */
int op_stamp_hash(json_t *desired, char out[17]);
/* True when observed carries the same hash annotation (so applying desired again would change nothing). */
bool op_hash_matches(const json_t *observed, const char *hash);

/* ---- observation (op_observe.c) -------------------------------------------------------------------- */

/* Fills the Kubernetes half of obs from the cluster's pods (pods whose controller-revision-hash differs from
 * update_revision, when not NULL or "", are outdated) (a JSON array of Pod objects, any order, any
 * cluster: foreign pods are skipped) and the per-pod records of old_status (registered podUID and
 * restartCount). Ordinals 0..spec.instances-1 are always present (pod_exists false when missing), plus
 * existing pods beyond. Pure. */
void op_observe_pods(const struct mgo_cluster *c, const json_t *pods, const json_t *old_status,
                     const char *update_revision, struct rec_observed *obs);
/* IP of a pod from the same list (status.podIP), or NULL. Borrowed from pods. */
const char *op_pod_ip(const json_t *pods, const char *pod);

/* Parameters of the live half. */
struct op_live {
  const struct mgo_mg_ops *mg;
  int connect_timeout_ms, query_timeout_ms;
  const char *user, *password;             /* NULL: no auth */
  const json_t *pods;                      /* for pod IPs */
  bool auth_failed;                        /* out: a connection was refused for its credentials */
  const char *tls_ca_file;                 /* NULL: plain Bolt */
  const struct mgo_cluster *c;             /* for the pods' DNS names (TLS server names) */
  unsigned long queries;                   /* out: Bolt queries sent */
  unsigned long per_pod[REC_MAX_OBSERVED]; /* out: per obs->inst index */
  const struct rec_instance *base;         /* internal */
};

/* Queries every ready, running pod over Bolt (reusing cs's connections) and fills the Memgraph half of
 * obs: role; version once per connection; SHOW REPLICAS on MAINs; data presence on MAINs, and on every
 * pod while no MAIN is recorded or the recorded one is not a MAIN with data. Unreachable pods get
 * last_error. Remembers the newest ts of each replica in cs. */
void op_observe_live(struct op_cluster *cs, const struct mgo_cluster *c, struct op_live *live,
                     struct rec_observed *obs);
/* Remembers that a REGISTER of pod (its current incarnation) failed because it diverged. */
void op_note_register_diverged(struct op_cluster *cs, const char *pod);
/* The open connection of pod, or NULL. */
void *op_conn_of(struct op_cluster *cs, const char *pod);
/* Closes every connection of cs. */
void op_cluster_close(struct op_cluster *cs, const struct mgo_mg_ops *mg);

/* ---- status (op_status.c) -------------------------------------------------------------------------- */

/* The merge patch {"status": new} that turns old into new (top-level keys that disappear become null),
 * or NULL when rec_status_differs() says nothing worth writing changed. New reference. */
json_t *op_status_patch(const json_t *old_status, const json_t *new_status);
/* The status of a cluster whose spec cannot be used: phase Failed, the message, Ready=False. */
json_t *op_invalid_status(const json_t *old_status, int64_t generation, const char *message, const char *now);
/* RFC 3339 UTC now into dst. */
void op_now(char *dst, size_t dstsz);
/* The monotonic instant (op_now_ms clock) of an RFC 3339 UTC time ("...:05Z" or "...:05.123Z"), as
 * written in status by this or an earlier operator process. MGO_EINVAL when text is not one. */
int op_mono_from_rfc3339(const char *text, int64_t *mono_ms);
/* A monotonic instant (op_now_ms clock) as RFC 3339 UTC with milliseconds into dst. */
void op_format_mono_ms(int64_t mono_ms, char *dst, size_t dstsz);
/* Monotonic clock in milliseconds (durations only). */
int64_t op_now_ms(void);
/* Merge-patches status.lastFailover with the record of a completed failover or switchover. */
int op_write_last_failover(struct op_ctx *ctx, const struct op_main_change *ch, int64_t unavailable_ms);

/* Writes new_status through the status subresource when op_status_patch() says it differs; updates
 * ctx->obj's view; *written (may be NULL) tells whether a write happened. MGO_OK (also when nothing was
 * written) or the API error (logged). */
int op_write_status(struct op_ctx *ctx, const json_t *new_status, bool *written);
/* Merge-patches status.currentMain (RECORD_MAIN, before a PROMOTE) and, when fenced is not empty,
 * status.fencedMain (the MAIN a failover replaced); with change (not NULL) also status.lastFailover without
 * writeUnavailableMs (op_write_last_failover completes it after the PROMOTE). */
int op_write_current_main(struct op_ctx *ctx, const char *pod, const char *fenced,
                          const struct op_main_change *change);

/* mgo_cluster_phase{cluster,phase}: 1 for phase, 0 for the others. */
void op_set_phase_metric(struct op_ctx *ctx, const char *phase);

/* The per-cluster JSON served by the HTTP API, from the last observation and plan. New reference. */
json_t *op_snapshot(const struct op_ctx *ctx, const char *now);
/* Instances of next that were not reachable keep the lastSeen prev had for them (prev may be NULL). */
void op_snapshot_carry_last_seen(const json_t *prev, json_t *next);

#endif
