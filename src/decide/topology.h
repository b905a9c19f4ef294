/* The pure replication-topology decision (ARCHITECTURE.md principle 2: observe, decide, act).
 *
 * Input: what one reconcile observed about every instance pod (Kubernetes state, SHOW REPLICATION ROLE,
 * SHOW REPLICAS on MAINs, SHOW VERSION, whether it holds data), the parsed cluster (spec and the MAIN
 * recorded in status). Output: an ordered list of actions, each with a CamelCase reason and a message.
 * No I/O, no clock, no globals: the same input always gives the same plan, so it is tested with tables.
 *
 * Contract for the executor (src/reconcile, the operator process):
 * - Execute actions in order. RECORD_MAIN comes before PROMOTE so the intent survives a crash.
 * - PROMOTE/DEMOTE/REGISTER/DROP are Bolt queries on action.pod. After a PROMOTE or DEMOTE the plan holds
 *   no registration actions and only the labels of a MAIN change: re-observe (the plan ends with REQUEUE 0).
 * - Every DROP comes before every REGISTER of a pass (no moment with SYNC and STRICT_SYNC together).
 * - Stop executing Bolt actions at the first failure and requeue; a failed REGISTER may still have
 *   registered the replica (memgraph.md 4.2): the next observation decides, never the outcome.
 * - STOP first in the list means the situation is unsafe: the plan then holds only events, label changes
 *   that take role=main away from every MAIN but the chosen one (never two MAINs behind the write
 *   Service), conditions, phase and requeue.
 * - REGISTER and RECORD_REGISTRATION carry the replica pod's UID and restart count: store them in
 *   status.instanceStatuses[pod].podUID/restartCount on success (restart detection uses them).
 * - RESEED (only planned with failover.reseedPolicy Automatic): record the re-seed instruction for the
 *   pod's agent init step and delete that pod incarnation (replica_pod_uid); it comes back empty.
 * - DELETE_POD (rolling update): delete that pod incarnation; the StatefulSet recreates it.
 * - Failover and switchover plans are: fence labels of the old MAIN, (switchover: DEMOTE old), RECORD_MAIN
 *   with kind/from/fenced, PROMOTE, LABEL of the new MAIN (runs only after the PROMOTE succeeded), REQUEUE 0.
 * On a successful PROMOTE with a kind, record status.lastFailover and the failover metrics.
 * - Emit a Normal Event for each successful PROMOTE, DEMOTE, REGISTER and DROP; EVENT actions are the
 *   Warnings the decision itself raises.
 * - status.currentMain is what RECORD_MAIN says; plan.allowed_pods caps the StatefulSet's replicas
 *   (scale-down waits until leaving replicas are dropped, and never removes the MAIN).
 *
 * Ownership: all structs are caller-allocated (they are large: allocate them on the heap); nothing is
 * allocated by the functions here. Thread-safety: pure functions; distinct plans on distinct threads. */
#ifndef MGO_RECONCILE_TOPOLOGY_H
#define MGO_RECONCILE_TOPOLOGY_H

#include "cluster.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_MAX_ACTIONS 192
/* updateStrategy Supervised: the MemgraphCluster annotation that approves replacing the MAIN; its value is
 * the StatefulSet update revision being approved. */
#define MGO_APPROVE_MAIN_UPDATE_ANNOTATION "memgraph.io/approve-main-update"
#define REC_MAX_OBSERVED (MGO_MAX_INSTANCES + 8) /* pods beyond spec.instances while scaling down */

enum rec_data { REC_DATA_UNKNOWN, REC_DATA_EMPTY, REC_DATA_PRESENT };

/* data_info.<db>.status of SHOW REPLICAS (memgraph.md 2.2). */
enum rec_replica_state {
  REC_RS_UNKNOWN,
  REC_RS_READY,
  REC_RS_REPLICATING,
  REC_RS_RECOVERY,
  REC_RS_INVALID,
  REC_RS_DIVERGED
};

/* One row of SHOW REPLICAS on a MAIN. */
struct rec_registration {
  char name[MGO_NAME_MAX];
  char address[MGO_ADDR_MAX]; /* socket_address as Memgraph shows it */
  enum mgo_repl_mode mode;
  bool has_data_info; /* false when data_info is {}: "failed but listed" (memgraph.md 4.2) */
  enum rec_replica_state state;
  int64_t ts;
  int64_t behind; /* <= 0; 0 = caught up */
};

/* What the observer fills in for one pod (every pod of the cluster's StatefulSet, also beyond
 * spec.instances; a desired ordinal without a pod may be listed with pod_exists false or left out):
 * - reachable: Bolt answered SHOW REPLICATION ROLE within the deadline this pass; role is its answer.
 * - data: SHOW STORAGE INFO vertex_count + edge_count > 0 -> PRESENT, == 0 -> EMPTY, no answer -> UNKNOWN
 *   (UNKNOWN is treated as "may hold data": never demoted).
 * - version from SHOW VERSION via rec_parse_version (0.0.0 when unknown).
 * - registrations: the SHOW REPLICAS rows of a MAIN (data_info of the default database "memgraph").
 * - registered_pod_uid / registered_restart_count: status.instanceStatuses[pod].podUID/restartCount.
 * - last_known_ts: the newest "ts" an earlier SHOW REPLICAS reported for it (operator memory), else -1. */
struct rec_instance {
  int ordinal;
  char pod[MGO_NAME_MAX];
  /* Kubernetes view */
  bool pod_exists;
  bool pod_ready;
  bool pod_terminating;
  char pod_uid[MGO_NAME_MAX];
  int32_t restart_count;
  /* The memgraph container's process ended in this pod incarnation: it is not running now (waiting to be
   * restarted, or terminated), or it was restarted since the operator last saw it answer, and it does not
   * answer. An unambiguous crash, unlike a MAIN that merely does not answer (it may be slow or partitioned).
   */
  bool crashed;
  enum mgo_role label_role; /* current memgraph.io/role label; UNKNOWN when absent */
  bool label_readable;      /* memgraph.io/readable == "true" */
  /* Memgraph view (valid when reachable) */
  bool reachable;
  enum mgo_role role;
  int version_major, version_minor, version_patch; /* 0.0.0 = unknown */
  enum rec_data data;
  bool replicas_known; /* SHOW REPLICAS answered (MAINs) */
  size_t n_registrations;
  struct rec_registration registrations[MGO_MAX_INSTANCES];
  /* Recorded in status when this pod was last registered as a replica ("" / -1 when never). */
  char registered_pod_uid[MGO_NAME_MAX];
  int32_t registered_restart_count;
  int32_t reseeds; /* re-seeds of this pod in a row (operator memory, with reseed_held) */
  /* Wall clock ms of the latest of those re-seeds, 0 = none. Both are shown in status (reseeds, lastReseed)
   * and read back from it by an operator that restarted, so the rate limit outlives the process. */
  int64_t last_reseed_wall_ms;
  /* Newest commit timestamp known for this instance (from an earlier SHOW REPLICAS); -1 unknown. */
  int64_t last_known_ts;
  /* Last error talking to the instance this pass ("" when none); shown in status only. */
  char last_error[192];
  /* How the recorded MAIN last listed it in SHOW REPLICAS (operator memory, else status.instanceStatuses):
   * the failover candidate's data recency. last_registered false = never seen registered. */
  bool last_registered;
  enum mgo_repl_mode last_mode;
  bool last_in_sync;   /* rec_holds_acknowledged: it held every acknowledged write */
  int64_t last_behind; /* >= 0: transactions it was behind */
  /* The last REGISTER of this pod (this incarnation) failed because it diverged (Error: 3). */
  bool register_diverged;
  /* Operator memory: this incarnation answered MAIN while another pod was the recorded MAIN (a rogue or
   * returning MAIN), and it was not registered since. */
  bool acted_as_main;
  /* Operator memory: how long (ms) the recorded MAIN has listed this incarnation "invalid" without a break
   * while it answered as a REPLICA; 0 when it does not. Memgraph never heals that by itself when the replica
   * lost its MAIN's identity (a REPLICA demoted by its agent, or by a user, after acting as a MAIN rejects
   * the MAIN's heartbeats): at REC_STUCK_INVALID_MS the registration is made again (decide). */
  int64_t invalid_for_ms;
  /* Operator memory: the recorded MAIN listed this incarnation healthy (rec_replica_healthy) less than
   * REC_UNHEALTHY_GRACE_MS ago (true while it is healthy). */
  bool recently_healthy;
  /* Operator memory: this incarnation answered as a REPLICA less than REC_UNHEALTHY_GRACE_MS ago (true while
   * it does). A Ready pod that missed one probe this way still holds a new MAIN off the write Service until
   * it is registered as the SYNC replica it should be (decide_registrations.c). */
  bool recently_replica;
  /* This pod was re-seeded recently (operator memory, any incarnation): another re-seed must wait (the rate
   * limit of op_reseed_held); reseeds counts them (below). */
  bool reseed_held;
  /* The pod runs an older pod template than the StatefulSet's update revision (rolling update). */
  bool outdated;
  /* The snapshot Memgraph recovered from at this pod's start, as its operator-agent init step reported it
   * ("none", a file name), "" when unknown. Shown in status only. */
  char recovered_from[128];
};

/* Instances sorted by ordinal (strictly increasing), including pods beyond spec.instances. */
struct rec_observed {
  size_t n;
  struct rec_instance inst[REC_MAX_OBSERVED];
  /* How long (ms) the recorded MAIN has been unavailable without a break (pod missing, not ready, or
   * Bolt failing or timing out), as the operator measured it; 0 when available or first seen down now. */
  int64_t main_unavailable_ms;
  /* When that outage began, RFC 3339 UTC with milliseconds ("" when the MAIN is available): written once per
   * outage as status.mainUnavailableSince, so status does not change while the outage lasts, and read back by
   * a restarted operator, so the failover delay already counted is not counted again. */
  char main_unavailable_since[40];
  /* status.fencedMain: the MAIN a failover replaced. It is never labelled or promoted again unless a
   * later pass records it; a silent fenced pod does not hold back promoting the recorded MAIN. */
  char fenced_main[MGO_NAME_MAX];
  /* Rolling update: the StatefulSet's update revision, and whether the user approved replacing the MAIN
   * at it (updateStrategy Supervised: the cluster annotation MGO_APPROVE_MAIN_UPDATE_ANNOTATION equals it).
   */
  char update_revision[MGO_NAME_MAX];
  bool main_update_approved;
  /* status.conditions Hibernated is True, or False with reason Resuming: the pods were deleted by a
   * hibernation and come back now; the recorded MAIN is waited for (no failover) until it answers. */
  bool resuming;
  /* status.phase is absent, Pending or Initializing: the cluster was never Ready yet (phase Initializing
   * until it is, not Degraded). */
  bool initializing;
};

enum rec_action_type {
  REC_ACT_STOP,                /* unsafe: nothing but status follows */
  REC_ACT_EVENT,               /* Warning Event on the cluster */
  REC_ACT_RECORD_MAIN,         /* status.currentMain = pod (status.fencedMain = fenced when set) */
  REC_ACT_PROMOTE,             /* SET REPLICATION ROLE TO MAIN on pod */
  REC_ACT_DEMOTE,              /* SET REPLICATION ROLE TO REPLICA WITH PORT port on pod */
  REC_ACT_DROP,                /* DROP REPLICA replica on pod (the MAIN) */
  REC_ACT_REGISTER,            /* REGISTER REPLICA replica mode TO "address" on pod (the MAIN) */
  REC_ACT_RECORD_REGISTRATION, /* store replica_pod's UID/restart count without re-registering */
  REC_ACT_RESEED,              /* replica_pod diverged: wipe it through the agent and recreate the pod */
  REC_ACT_DELETE_POD,          /* delete pod (uid replica_pod_uid) so it restarts on the new template */
  REC_ACT_KILL_POD,            /* delete pod (uid replica_pod_uid) with grace period 0: the replaced MAIN's
                                  process ends and the kernel resets the connections clients kept to it; it
                                  comes back fenced (a REPLICA). Best effort: the failover goes on. */
  REC_ACT_LABEL,               /* set role labels of pod (mgo_pod_role_labels(role, readable)) */
  REC_ACT_CONDITION,           /* status condition cond_type = cond_status */
  REC_ACT_PHASE,               /* status.phase = phase, status.message = message */
  REC_ACT_REQUEUE,             /* reconcile again after after_sec seconds */
};

enum rec_cond_status { REC_COND_TRUE, REC_COND_FALSE, REC_COND_UNKNOWN };

struct rec_action {
  enum rec_action_type type;
  char pod[MGO_NAME_MAX];
  char replica[MGO_NAME_MAX];     /* registration name */
  char replica_pod[MGO_NAME_MAX]; /* pod behind the registration */
  char replica_pod_uid[MGO_NAME_MAX];
  int32_t replica_restart_count;
  char address[MGO_ADDR_MAX];
  enum mgo_repl_mode mode;
  int32_t port;
  enum mgo_role role;
  bool readable;
  char cond_type[32];
  enum rec_cond_status cond_status;
  char phase[16];
  int32_t after_sec;
  /* RECORD_MAIN of a failover or switchover: the MAIN replaced, its kind and the promoted replica's
   * recency (mode and how far behind it was last seen). */
  char fenced[MGO_NAME_MAX];
  char from[MGO_NAME_MAX];
  char kind[16]; /* "failover" | "switchover" | "" */
  int64_t behind;
  char reason[64];   /* CamelCase, for conditions, events and metrics */
  char message[256]; /* why, for humans */
};

struct rec_plan {
  size_t n;
  struct rec_action a[REC_MAX_ACTIONS];
  char main_pod[MGO_NAME_MAX]; /* the MAIN this plan works with; "" when none */
  int32_t allowed_pods;        /* StatefulSet replicas the reconciler may set */
  int32_t ready_replicas;      /* registered, reachable and in sync */
  bool stopped;
  bool multiple_mains; /* a second MAIN was observed that no failover of ours explains */
};

/* Fills plan. Returns 0, MGO_EINVAL for inconsistent input (too many instances or registrations), or
 * MGO_ETOOBIG when the plan would exceed REC_MAX_ACTIONS (then plan is truncated and must not run). */
int rec_decide_topology(const struct mgo_cluster *c, const struct rec_observed *obs, struct rec_plan *plan);

/* One line for logs and tests, e.g. "register mg-0 mg_1 SYNC mg-1.mg-hl.db.svc:10000 NotRegistered".
 * Returns 0 or MGO_ETOOBIG (truncated). */
int rec_action_format(const struct rec_action *a, char *dst, size_t dstsz);
const char *rec_action_type_name(enum rec_action_type t);
/* "unknown", "ready", "replicating", "recovery", "invalid", "diverged" (static; "unknown" out of range), and
 * the inverse (REC_RS_UNKNOWN for NULL or another text): the one table of the replica state's names. */
const char *rec_replica_state_name(enum rec_replica_state s);
enum rec_replica_state rec_replica_state_named(const char *name);
/* Memgraph reports the replica healthy: state ready or replicating (a commit being shipped). Under write load
 * `behind` is often nonzero for such a replica (commits in flight); its state is what Memgraph itself acts
 * on. */
bool rec_replica_streaming(enum rec_replica_state s);
/* Largest lag (transactions, SHOW REPLICAS `behind`) of an ASYNC replica in `recovery` that still counts as
 * healthy (rec_replica_healthy). */
#define REC_ASYNC_CATCHUP_MAX_BEHIND 1000
/* How long (ms) a reachable REPLICA may stay "invalid" in the recorded MAIN's SHOW REPLICAS before its
 * registration is made again (rec_instance.invalid_for_ms). Longer than a replica restart or a MAIN's
 * clients reconnecting take to heal by themselves; a partitioned replica is re-registered at most this
 * often. */
#define REC_STUCK_INVALID_MS 10000
/* Healthy for ReplicasReady, the read Service and status: streaming, or an ASYNC replica in `recovery` at
 * most REC_ASYNC_CATCHUP_MAX_BEHIND transactions behind. Memgraph moves an ASYNC replica that was still
 * shipping when the next commit came to `recovery` and it catches up by itself: under steady write load that
 * happens every few seconds, and counting it as unhealthy flipped Ready and the read Service (issue 11). A
 * SYNC or STRICT_SYNC replica in `recovery` missed acknowledged commits and is never healthy. Pure. */
bool rec_replica_healthy(enum mgo_repl_mode mode, enum rec_replica_state s, int64_t behind);
/* How long a replica that was healthy may be listed unhealthy before Ready, the read Service, its
 * instanceStatuses entry and ReplicationHealthy say so: on a loaded machine a late heartbeat makes Memgraph
 * list a replica "invalid" for under a second, and each such dip rewrote status twice (issue 11). Failover
 * candidates are never graced (rec_holds_acknowledged reads what was listed). */
#define REC_UNHEALTHY_GRACE_MS 5000
/* rec_replica_healthy for r, or a dip of in within REC_UNHEALTHY_GRACE_MS (in->recently_healthy). Pure. */
bool rec_replica_counts_healthy(const struct rec_instance *in, const struct rec_registration *r);
/* The replica holds every write the MAIN acknowledged: SYNC/STRICT_SYNC while streaming (a SYNC commit is
 * acknowledged only after the replica confirmed it, and a replica that missed one leaves ready until it has
 * caught up); ASYNC only when streaming and 0 behind. The one definition of "in sync" for a failover. */
bool rec_holds_acknowledged(enum mgo_repl_mode mode, enum rec_replica_state s, int64_t behind);
/* True when the plan holds an action of this type. */
bool rec_plan_has(const struct rec_plan *plan, enum rec_action_type type);
/* The plan's MAIN when it answered this pass as a MAIN and its SHOW REPLICAS answered, else NULL (borrowed
 * from obs): the one "MAIN whose registrations are known". */
const struct rec_instance *rec_plan_main(const struct rec_observed *obs, const struct rec_plan *plan);
/* "present", "empty", "unknown" (static): the one name of the data presence. */
const char *rec_data_name(enum rec_data d);

/* Parses "3.12.0", "2.21.0-open-source", "3.5.1+12~abc" into major/minor/patch; 0 or MGO_EPARSE. */
int rec_parse_version(const char *s, int *major, int *minor, int *patch);

/* The Cypher text of a Bolt action is the Memgraph client's: mg_rec_action_cypher (src/memgraph/mg_rec.h). */

/* ---- status (decide_status.c) ----------------------------------------------------------------- */

struct rec_status_input {
  const struct mgo_cluster *c;
  /* The observation the plan was made from. After a successful REGISTER or RECORD_REGISTRATION the
   * executor copies replica_pod_uid/replica_restart_count into the instance's registered_pod_uid and
   * registered_restart_count before building the status: the status shows what happened, not the plan. */
  const struct rec_observed *obs;
  const struct rec_plan *plan; /* conditions, phase and message come from its actions */
  const json_t *old_status;    /* the object's current .status, or NULL */
  const char *now;             /* RFC 3339 UTC, e.g. "2026-11-22T04:00:00Z" */
};

/* The desired .status (MemgraphCluster status schema). Conditions keep their lastTransitionTime while
 * their status is unchanged; lastFailover and lastSeen of silent instances are carried over from
 * old_status. Returns a new object the caller owns, or NULL when memory runs out. */
json_t *rec_build_status(const struct rec_status_input *in);

/* True when writing new_status would change something that matters: every field except the per-instance
 * lastSeen and the lags (maxLag, behind: they are as of the last write for another reason), with
 * "replicating" equal to "ready" (so a busy cluster does not write its status every health check).
 * Light-touch rule: write the status only when this is true. */
bool rec_status_differs(const json_t *old_status, const json_t *new_status);

#endif
