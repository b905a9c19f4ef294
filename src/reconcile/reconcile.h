/* The reconcile steps of one MemgraphCluster (library mgo_reconcile), shared between the step files, the
 * runtime (src/controller) and the unit tests.
 *
 * One pass is an ordered table of named steps (steps.c) run on a struct op_ctx. Each step returns one
 * struct op_result: what comes next (continue, requeue, stop, or "the cluster is gone"), an optional delay,
 * and an explicit error code (MGO_OK, or the MGO_* code of what failed: the pass is then retried with
 * backoff). Steps marked `finally` run even after an earlier step asked for a requeue (the status step:
 * whatever happened is written down), never after a stop.
 *
 * Steps reach the world only through ctx->kube, ctx->mg and ctx->clock (ports.h, mg_port.h): no step knows
 * the Kubernetes client, the informers or the leader election. Metrics are recorded into ctx->metrics (an
 * in-memory registry, real in unit tests too).
 *
 * Per-cluster state that outlives a pass (Bolt connections per pod, what the MAIN last said about each
 * replica, a MAIN change in progress, the last observation served over HTTP) lives in struct op_cluster,
 * owned by the runtime's registry. The work queue never hands one key to two workers, so a pass owns its
 * op_cluster without a lock; only `snapshot` is read by the HTTP threads, under the registry lock.
 *
 * Ownership: op_ctx borrows everything except obj (a new reference), obs and plan (heap, freed by
 * op_ctx_release()). Thread-safety: see each function. */
#ifndef MGO_RECONCILE_H
#define MGO_RECONCILE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "mg_port.h"
#include "ports.h"
#include "topology.h"

struct mgo_metrics;
struct mgo_metric_family;
struct op_ctx;

#define OP_KEY_MAX (2 * MGO_NAME_MAX + 2)
#define OP_FIELD_MANAGER "memgraph-operator"
#define OP_HASH_ANNOTATION "memgraph.io/applied-hash"

/* ---- per-pod connections and memory --------------------------------------------------------------- */

struct op_conn {
  char pod[MGO_NAME_MAX];
  char uid[MGO_NAME_MAX];
  char ip[64];
  struct mgo_mg_conn *conn; /* NULL when not connected */
  struct mgo_mg_seen seen;  /* what the observer learnt of this connection (its version) */
  int64_t last_ts;          /* newest data_info ts seen for this pod in a MAIN's SHOW REPLICAS; -1 unknown */
  /* How the recorded MAIN last listed this pod (failover candidates); valid when last_known. */
  bool last_known;
  bool last_registered;
  enum mgo_repl_mode last_mode;
  bool last_in_sync;
  int64_t last_behind;
  bool register_diverged;  /* a REGISTER of this incarnation failed with "diverged" */
  bool acted_as_main;      /* this incarnation answered MAIN while another pod was the recorded MAIN, and no
                            * REGISTER of it succeeded since */
  int64_t silent_until_ms; /* monotonic: its last probe used the whole Bolt deadline; not probed before */
  int64_t healthy_at_ms; /* monotonic: when the recorded MAIN last listed this incarnation healthy; 0 never */
  int64_t replica_at_ms; /* monotonic: when this incarnation last answered as a REPLICA; 0 never */
  int64_t invalid_since_ms;  /* monotonic: since when the recorded MAIN lists this incarnation "invalid"
                              * while it answers as a REPLICA; 0 = it does not */
  int32_t answered_restarts; /* the memgraph container's restartCount when it last answered; -1 never */
  int64_t reseed_at_ms;      /* monotonic ms of this pod's last re-seed (any incarnation); 0 = none */
  int64_t reseed_wall_ms;    /* the same moment on the wall clock (status lastReseed) */
  int32_t reseeds;           /* re-seeds of this pod within OP_RESEED_WINDOW_MS of each other */
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

/* The replication canary's memory between passes (step_validate.c); what must survive a restart is in
 * status.validation. */
struct op_validation {
  int64_t last_run_ms; /* wall ms of this process's last canary run (0 = none) */
  bool test_requested; /* a registration changed: test on the next pass that may */
  bool seq_known;      /* seq is what this process last wrote, on main */
  int64_t seq;
  char main[MGO_NAME_MAX];
};

struct op_cluster {
  char key[OP_KEY_MAX];
  size_t nconns;
  struct op_conn conns[REC_MAX_OBSERVED];
  json_t *snapshot;     /* what /api/v1/clusters/{ns}/{name} serves; guarded by the registry lock */
  json_t *last_written; /* the cluster object as our last status write returned it (newer than the
                           cache until the watch delivers it) */
  bool auth_loaded;     /* spec.auth credentials read from their Secret (re-read after an auth failure) */
  int64_t auth_read_ms; /* monotonic ms of that read (read again when older than 5 min) */
  char auth_user[128];
  char auth_password[256];
  bool tls_loaded; /* spec.tls: the CA of the Secret written to tls_ca_file (re-read after a failed handshake)
                    */
  char tls_ca_file[256];
  int64_t tls_read_ms;        /* monotonic ms of that read (read again when older than 5 min) */
  uint64_t tls_hash;          /* FNV-1a of the CA's PEM text, to tell a rotated CA */
  int64_t main_down_since_ms; /* monotonic ms when the recorded MAIN was first seen unavailable; 0 = up */
  char main_down_pod[MGO_NAME_MAX];
  char main_down_since[40]; /* the same instant as RFC 3339 UTC, formatted once per outage */
  struct op_main_change change;
  int64_t fenced_at_ms; /* monotonic ms when a switchover took the MAIN off the write Service; 0 = none */
  char agent_token[72]; /* the pods' agent token (Secret <name>-agent-token), "" until read or created */
  /* Hashes of the agent Role and RoleBinding (not cached) this run applied or found; "" until then. */
  char agent_role_hash[17];
  char agent_binding_hash[17];
  bool retention_due;      /* the last retention run failed: run again on the next pass */
  int64_t retention_at_ms; /* monotonic ms of the last retention run (0 = never) */
  size_t nlag;             /* replicas with a mgo_replica_lag_behind series (removed when they go) */
  char lag_names[MGO_MAX_INSTANCES][MGO_NAME_MAX];
  struct op_validation val;
};

/* ---- metrics families (metrics.c) ----------------------------------------------------------------- */

/* The seed's memgraph_* families (metrics_seed.c, issue 12; src/controller/README.md lists what moves each).
 */
struct op_seed_metrics {
  struct mgo_metric_family *clusters_total, *clusters_ready, *read_replicas_total, *read_replicas_ready,
      *replication_lag, *replication_errors, *reconcile_total, *reconcile_duration, *reconcile_errors,
      *validation_total, *validation_failures, *validation_duration, *connectivity_total,
      *connectivity_failures, *replication_test_total, *replication_test_failures, *failover_duration,
      *failover_behind, *failover_lost_estimated, *multiple_mains, *cluster_main;
};

struct op_metrics {
  struct mgo_metrics *reg;
  struct op_seed_metrics seed;
  struct mgo_metric_family *reconcile_total, *reconcile_errors, *reconcile_duration, *cluster_phase,
      *instances_ready, *replicas_registered, *replica_lag, *kube_requests, *bolt_queries, *failovers,
      *failover_duration, *failover_lost, *multiple_mains, *reseeds, *pod_restarts, *snapshots,
      *snapshot_duration, *s3_uploads, *s3_upload_errors, *backup_last_success, *backup_size, *restore_drills;
};

/* Creates every family in reg. MGO_ENOMEM when one cannot be created. */
int op_metrics_init(struct op_metrics *m, struct mgo_metrics *reg);
/* Names of the metric families, in registration order (for tests and docs); NULL-terminated. */
extern const char *const op_metric_names[];
/* The seed's names (registered after op_metric_names), in registration order; NULL-terminated. */
extern const char *const op_seed_metric_names[];
/* Creates the seed's families in reg (op_metrics_init calls it). MGO_ENOMEM. */
int op_seed_metrics_init(struct op_seed_metrics *m, struct mgo_metrics *reg);

/* The updates of the seed's families (metrics_seed.c). Each writes into m / ctx->metrics only. */
/* One finished pass of cluster key: memgraph_reconcile_total{cluster,result}, _errors_total{cluster} when
 * failed, _duration_seconds{cluster}. */
void op_seed_count_pass(const struct op_metrics *m, const char *key, const char *result, bool failed,
                        double secs);
/* memgraph_clusters / memgraph_clusters_ready from the MemgraphCluster objects in clusters (a JSON array;
 * Ready: the condition Ready is True). */
void op_seed_set_clusters(const struct op_metrics *m, const json_t *clusters);
/* The health pass's SHOW REPLICATION ROLE probes: ok answered, failed did not. */
void op_seed_count_connectivity(struct op_ctx *ctx, unsigned long ok, unsigned long failed);
/* Per-pass gauges and series of the cluster (status step): read replicas, the canary families at zero,
 * replicas the MAIN lists invalid or diverged. Needs ctx->obs and ctx->plan. */
void op_seed_cluster_metrics(struct op_ctx *ctx);
/* A REGISTER REPLICA that failed: memgraph_replication_errors_total{cluster,kind="register_failed"}. */
void op_seed_register_failed(struct op_ctx *ctx);
/* A completed MAIN change: the failover duration and RPO histograms. */
void op_seed_main_change(struct op_ctx *ctx, const struct op_main_change *ch, int64_t unavailable_ms);
/* A canary run (step_validate.c): memgraph_validation_*, memgraph_replication_test_* and the lag histogram
 * memgraph_replication_lag_seconds{cluster,replica} of every replica that saw it. */
struct val_outcome;
struct val_summary;
void op_seed_validation(struct op_ctx *ctx, const struct val_outcome *o, const struct val_summary *s,
                        double secs);
/* memgraph_multiple_mains{cluster}: 1 while the plan reports a second MAIN, else 0. */
void op_seed_multiple_mains(struct op_ctx *ctx, bool seen);

/* ---- the reconcile context ------------------------------------------------------------------------- */

enum op_next {
  OP_CONTINUE, /* go on with the next step */
  OP_REQUEUE,  /* skip the remaining steps except the `finally` ones; run again (after_ms, or backoff) */
  OP_STOP,     /* end the pass now (invalid spec, deleting, unsafe): no finally steps, no scheduled pass */
  OP_GONE      /* the cluster no longer exists: the runtime forgets its state */
};
#define OP_AFTER_NONE LONG_MAX /* no delay requested */

/* What a step (and, combined, a pass) reports. error != MGO_OK: something failed (ctx->error says what);
 * the pass is retried with backoff whatever `next` says. after_ms: the latest moment the next pass should
 * run (OP_AFTER_NONE: the health interval). */
struct op_result {
  enum op_next next;
  long after_ms;
  int error;
};

/* Settings of the process that steps read. */
struct op_settings {
  long bolt_timeout_ms;       /* connect and per-query deadline of every Bolt call */
  const char *operator_image; /* image of the pods' operator-agent init container */
};

struct op_ctx {
  const struct op_kube_port *kube;
  const struct mgo_mg_ops *mg;
  const struct mgo_clock *clock;
  const struct op_agent_port *agent; /* NULL: backups are reported as unavailable */
  const struct op_s3_port *s3;       /* NULL: retention and restore sources are reported as unavailable */
  const struct op_metrics *metrics;
  const struct op_settings *settings;
  struct op_cluster *cs;
  char ns[MGO_NAME_MAX];
  char name[MGO_NAME_MAX];
  char key[OP_KEY_MAX];
  json_t *obj; /* the MemgraphCluster (new reference): from the cache, then as our last write returned it */
  struct mgo_cluster c;
  bool parsed;
  struct rec_observed *obs;
  struct rec_plan *plan;
  json_t
      *backup_status; /* status fields of the backup step (lastSuccessfulBackup, ...), NULL: keep the old */
  json_t *validation; /* status.validation built by the validate step this pass; NULL: keep the old */
  json_t *validation_lag; /* condition ReplicationLagAcceptable with it (NULL: keep the old) */
  char error[256];        /* the first error's description, for logs and the HTTP snapshot ("" = none) */
  const char *stopped_at; /* name of the step that ended the pass early, or NULL */
};

typedef struct op_result op_step_fn(struct op_ctx *ctx);

struct op_step {
  const char *name;
  op_step_fn *fn;
  bool finally; /* also runs after an earlier OP_REQUEUE */
};

/* Results a step returns. */
struct op_result op_ok(void);                /* continue */
struct op_result op_ok_after(long after_ms); /* continue; the next pass no later than after_ms */
struct op_result op_requeue_after(long after_ms);
struct op_result op_stop(void);
struct op_result op_gone(void);
/* A failure whose text is already in ctx->error (op_ctx_note): {OP_REQUEUE, none, rc}; the _continue form
 * lets the pass go on with the next step (it still ends with backoff). rc MGO_OK counts as MGO_EINVAL. */
struct op_result op_error(int rc);
struct op_result op_error_continue(int rc);
/* Records the failure (the first one's text is kept in ctx->error) and returns op_error(rc). */
struct op_result op_failed(struct op_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records the text of a failure in ctx->error (first one wins) without deciding the result. */
void op_ctx_note(struct op_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs the table in order. The result: OP_STOP/OP_GONE as soon as a step returns it (after_ms none); else
 * OP_REQUEUE if any step asked for it, else OP_CONTINUE; after_ms the smallest delay any run step asked
 * for; error the first step error (MGO_OK when none). ctx->stopped_at names the first step that did not
 * continue. Pure control flow, no I/O of its own. */
struct op_result op_run_steps(const struct op_step *steps, size_t n, struct op_ctx *ctx);

/* The reconcile table of the operator. */
extern const struct op_step op_reconcile_steps[];
extern const size_t op_reconcile_nsteps;

/* The steps of op_reconcile_steps, in order (each in the file of its name). */
op_step_fn op_step_load;        /* step_load.c: cluster from the cache, parse, validate (invalid: Failed) */
op_step_fn op_step_pause;       /* step_pause.c: memgraph.io/reconcile=paused: status says so, nothing else */
op_step_fn op_step_objects;     /* step_objects.c: ServiceAccount, Services, PDB by SSA when changed */
op_step_fn op_step_observe;     /* step_observe.c: pods from the cache, Bolt per ready pod */
op_step_fn op_step_decide;      /* step_decide.c: rec_decide_topology() */
op_step_fn op_step_statefulset; /* step_objects.c: StatefulSet with replicas = plan.allowed_pods */
op_step_fn op_step_act;         /* step_act.c: the plan's actions in order */
op_step_fn op_step_backup;      /* backup_cluster.c: MemgraphBackups one at a time, schedule, retention */
op_step_fn op_step_drill;       /* step_drill.c: restore drills of the newest Completed backup */
op_step_fn op_step_validate;    /* step_validate.c: the replication canary (docs/validation.md) */
op_step_fn op_step_status;      /* step_status.c: .status when it differs; metrics */

void op_ctx_release(struct op_ctx *ctx);

/* Adds n to mgo_bolt_queries_total{cluster,pod} (nothing when n is 0). */
void op_count_bolt(struct op_ctx *ctx, const char *pod, unsigned long n);
/* Records a Kubernetes Event on the cluster (ctx->obj); failures are logged, never fatal. */
void op_event(struct op_ctx *ctx, const char *type, const char *reason, const char *action, const char *note);
/* The newer of the cached object and cs->last_written (same uid, higher resourceVersion). New reference. */
json_t *op_fresher(const json_t *cached, const json_t *last_written);

/* ---- desired objects (step_objects.c) -------------------------------------------------------------- */

/* 64-bit FNV-1a of text (change detection, not security). */
uint64_t op_fnv1a64(const char *text);
/* 64-bit FNV-1a of the canonical JSON (sorted keys, compact) of obj with the hash annotation removed,
 * as 16 hex digits. MGO_ENOMEM. */
int op_object_hash(const json_t *obj, char out[17]);
/* Computes the hash of desired and stores it as the annotation OP_HASH_ANNOTATION. */
int op_stamp_hash(json_t *desired, char out[17]);
/* True when observed carries the same hash annotation (so applying desired again would change nothing). */
bool op_hash_matches(const json_t *observed, const char *hash);

/* ---- observation (step_observe.c) ------------------------------------------------------------------ */

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
/* The connect deadline (TCP, TLS, Bolt handshake and login) for a pod that is not Ready and has not answered
 * since its pod was created or since the operator started: a starting Memgraph either refuses at once or
 * answers slowly, and with the whole Bolt deadline each such pod held a worker for seconds (500 clusters:
 * passes averaged 8.3 s, bench/results/scale-notes.md). It is probed again on the next pass. */
#define OP_STARTING_CONNECT_MS 1000

struct op_live {
  const struct mgo_mg_ops *mg;
  const struct mgo_clock *clock;
  int connect_timeout_ms, query_timeout_ms;
  const char *user, *password;             /* NULL: no auth */
  const json_t *pods;                      /* for pod IPs */
  bool auth_failed;                        /* out: a connection was refused for its credentials */
  bool tls_failed;                         /* out: a TLS handshake failed (CA rotated?) */
  const char *tls_ca_file;                 /* NULL: plain Bolt */
  const struct mgo_cluster *c;             /* for the pods' DNS names (TLS server names) */
  unsigned long queries;                   /* out: Bolt queries sent */
  unsigned long per_pod[REC_MAX_OBSERVED]; /* out: per obs->inst index */
  unsigned long probes_ok, probes_failed;  /* out: SHOW REPLICATION ROLE probes answered / not */
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
/* A REGISTER of pod succeeded: what an earlier MAIN role of it implied is settled. */
void op_note_registered(struct op_cluster *cs, const char *pod);
/* The open connection of pod, or NULL. */
struct mgo_mg_conn *op_conn_of(struct op_cluster *cs, const char *pod);
/* Closes every connection of cs. */
void op_cluster_close(struct op_cluster *cs, const struct mgo_mg_ops *mg);

/* ---- monotonic instants as written in status (clock.c) -------------------------------------------- */

/* The monotonic instant of an RFC 3339 UTC time ("...:05Z" or "...:05.123Z"), as written in status by this or
 * an earlier operator process. MGO_EINVAL when text is not one. */
int op_mono_from_rfc3339(const struct mgo_clock *clock, const char *text, int64_t *mono_ms);
/* The monotonic instant of a wall-clock instant (ms since the epoch). Pure apart from reading the clock. */
int64_t op_mono_from_wall_ms(const struct mgo_clock *clock, int64_t wall_ms);
/* A monotonic instant as RFC 3339 UTC with milliseconds into dst. */
void op_format_mono_ms(const struct mgo_clock *clock, int64_t mono_ms, char *dst, size_t dstsz);

/* ---- status (step_status.c) ------------------------------------------------------------------------ */

/* The merge patch {"status": new} that turns old into new (top-level keys that disappear become null),
 * or NULL when rec_status_differs() says nothing worth writing changed. New reference. */
json_t *op_status_patch(const json_t *old_status, const json_t *new_status);
/* The status of a cluster whose spec cannot be used: phase Failed, the message, Ready=False. */
json_t *op_invalid_status(const json_t *old_status, int64_t generation, const char *message, const char *now);
/* The condition of type in status, or NULL. Borrowed from status. */
json_t *op_status_condition(const json_t *status, const char *type);
/* One metav1.Condition to put into a status (the strings are copied). */
struct op_condition {
  const char *type, *status, *reason, *message;
};
/* A copy of old_status (an empty object when it is not one) whose condition of cond->type is replaced by cond
 * (its lastTransitionTime kept when the old one had the same status, else now), with phase and message set.
 * New reference, NULL when memory runs out. Pure. */
json_t *op_status_with_condition(const json_t *old_status, const struct op_condition *cond,
                                 int64_t generation, const char *phase, const char *now);
/* Merge-patches status.lastFailover with the record of a completed failover or switchover. */
int op_write_last_failover(struct op_ctx *ctx, const struct op_main_change *ch, int64_t unavailable_ms);

/* Writes new_status through the status subresource when op_status_patch() says it differs; updates
 * ctx->obj's view; *written (may be NULL) tells whether a write happened. MGO_OK (also when nothing was
 * written) or the API error (logged). */
int op_write_status(struct op_ctx *ctx, const json_t *new_status, bool *written);
/* restore.c (spec.bootstrap.restore). Before the StatefulSet exists: resolves the source and writes ordinal
 * 0's restore instructions; secret receives the Secret the init container reads the credentials from (""
 * without a restore). When the source is not usable yet, *wait is the result to return and nothing is
 * created. Once the StatefulSet exists, secret is the one it already names (the template stays as it was). */
int op_restore_prepare(struct op_ctx *ctx, char *secret, size_t secretsz, struct op_result *wait);
/* The restore request of the Completed MemgraphBackup backup for pod (ordinal 0, or the drill pod) in the
 * agent's instructions; secret receives the backup's Secret. MGO_EAGAIN when the backup is not Completed (why
 * says so), MGO_EINVAL when its status cannot make a request. */
int op_restore_request(struct op_ctx *ctx, const char *backup, const char *pod, char *secret, size_t secretsz,
                       char *why, size_t whysz);
/* Sets out.restoredFrom (and an Event) once pod 0's init step reported the restore in its termination
 * message; a failed restore gives a Warning Event with the agent's message. */
void op_restore_observe(struct op_ctx *ctx, json_t *out);
/* Puts the backup fields into status (built by rec_build_status): from backup (the backup step's summary of
 * this pass) when non-NULL, else those of old_status, so a pass that skipped the backup step keeps them. */
void op_merge_backup_status(json_t *status, const json_t *backup, const json_t *old_status);
/* Merge-patches status.currentMain (RECORD_MAIN, before a PROMOTE) and, when fenced is not empty,
 * status.fencedMain (the MAIN a failover replaced); with change (not NULL) also status.lastFailover without
 * writeUnavailableMs (op_write_last_failover completes it after the PROMOTE). */
int op_write_current_main(struct op_ctx *ctx, const char *pod, const char *fenced,
                          const struct op_main_change *change);

/* The status of a paused cluster: old_status with phase Paused and condition Paused=True (transition time
 * kept). New reference; NULL when memory runs out. Pure. */
json_t *op_paused_status(const json_t *old_status, int64_t generation, const char *now);
/* mgo_cluster_phase{cluster,phase}: 1 for phase, 0 for the others. */
void op_set_phase_metric(struct op_ctx *ctx, const char *phase);

/* ---- the HTTP snapshot (snapshot.c) ---------------------------------------------------------------- */

/* The per-cluster JSON served by the HTTP API, from the last observation and plan; lastError is ctx->error
 * when the pass failed. New reference. */
json_t *op_snapshot(const struct op_ctx *ctx, const char *now, bool failed);
/* Instances of next that were not reachable keep the lastSeen prev had for them (prev may be NULL). */
void op_snapshot_carry_last_seen(const json_t *prev, json_t *next);

#endif
