/* Internal: the phases of rec_decide_topology() (topology.c sequences them) and the helpers they share.
 * Shared between the files of src/decide only.
 *
 *   decide_plan.c           adding actions, conditions, and reading the observation (every phase)
 *   decide_main.c           choosing the MAIN, and making it the only MAIN (role changes)
 *   decide_failover.c       the recorded MAIN is unavailable: wait, fail over or report why not
 *   decide_registrations.c  register / drop / re-seed on the MAIN
 *   decide_rollout.c        switchover and rolling updates
 *   decide_labels.c         role labels, conditions, phase and requeue
 *
 * The phases pass what they decided as the small result structs below; struct decide holds only what the
 * whole pass builds together: the input, the plan, the three conditions and the MAIN the pass works with,
 * which only topology.c sets (from those results).
 *
 * Ownership: everything points into the caller's input and plan; nothing is allocated. Thread-safety: pure,
 * one struct decide per call. */
#ifndef MGO_DECIDE_INT_H
#define MGO_DECIDE_INT_H

#include "topology.h"

#include <stdbool.h>
#include <stddef.h>

#define REC__STOP_REQUEUE_SEC 30
/* After REGISTER/DROP: look again soon, so a replica that caught up is reported (and routed to) within a
 * second instead of a whole health interval. */
#define REC__REGISTRATION_REQUEUE_SEC 1

struct rec__cond {
  enum rec_cond_status status;
  char reason[64];
  char message[256];
};

struct decide {
  const struct mgo_cluster *c;
  const struct rec_observed *obs;
  struct rec_plan *plan;
  int desired;
  const struct rec_instance *main; /* the MAIN this pass works with (set by topology.c only); NULL: none */
  bool overflow;                   /* an action did not fit the plan */
  struct rec__cond main_available, replicas_ready, replication_healthy;
  /* Hibernated, only while hibernated or resuming (has_hibernated); Initializing phase until first Ready. */
  bool has_hibernated;
  struct rec__cond hibernated;
};

/* ---- results the phases hand on --------------------------------------------------------------------- */

/* What choosing the MAIN found (decide_main.c). */
struct main_choice {
  const struct rec_instance *main; /* the MAIN to work with; NULL when there is none (yet) */
  const char *why;                 /* CamelCase: how main was chosen, or why there is none */
  /* The recorded MAIN does not answer (the failover phase's input): its instance (NULL when it has none),
   * the condition reason (MainPodMissing | MainUnreachable) and what is wrong with it, for messages. */
  const struct rec_instance *lost;
  const char *lost_reason;
  const char *lost_what;
};

enum failover_outcome {
  FAILOVER_DISABLED,  /* failover.enabled is false: only reported */
  FAILOVER_WAITING,   /* failover.failoverDelaySec still runs: look again soon */
  FAILOVER_BLOCKED,   /* no replica may take over */
  FAILOVER_PROMOTING, /* fence, RECORD_MAIN and PROMOTE of to are planned */
};

/* What the failover phase decided (decide_failover.c). */
struct failover_decision {
  enum failover_outcome outcome;
  const struct rec_instance *to; /* PROMOTING: the new MAIN */
};

/* Why and where the MAIN should move (decide_rollout.c), read by the registrations (the target is
 * registered in the sync mode) and by the switchover. */
struct switch_plan {
  const struct rec_instance *target; /* may be NULL when no replica fits (reported by the switchover) */
  const char *reason;                /* ScaleDown | RollingUpdate | Requested; NULL: no switchover */
  bool update_blocked;               /* Supervised: the MAIN's update waits for approval */
};

/* What the registrations found (decide_registrations.c). */
struct replication_result {
  bool replicas_known; /* SHOW REPLICAS answered on the MAIN, so registrations were planned */
  bool sync_in_place;  /* the MAIN's usable sync replicas are registered (or by this plan): label it */
  bool catching_up;    /* a registered, reachable replica is behind: observe again soon */
};

/* The pass as a whole, for the labels, conditions and requeue (decide_labels.c). */
struct pass_outcome {
  bool bootstrap;     /* no MAIN was recorded before this pass */
  bool hibernated;    /* memgraph.io/hibernation=on: no pods, nothing else planned */
  bool role_changed;  /* a PROMOTE or DEMOTE is planned */
  bool watch_main;    /* the MAIN is down and the failover delay runs */
  bool catching_up;   /* from struct replication_result */
  bool sync_in_place; /* from struct replication_result */
  bool sync_awaited;  /* SHOW REPLICAS answered and a sync replica is not in place yet (see sync_in_place) */
};

/* ---- decide_plan.c: building the plan ----------------------------------------------------------------- */

/* A new zeroed action at the end of the plan; NULL (and d->overflow) when the plan is full. */
struct rec_action *rec__add_action(struct decide *d, enum rec_action_type type, const char *pod,
                                   const char *reason);
/* a->message = the formatted text; nothing when a is NULL. */
void rec__set_message(struct rec_action *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rec__set_cond(struct rec__cond *cd, enum rec_cond_status status, const char *reason, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
/* The first problem wins: later ones do not overwrite a False condition. */
void rec__degrade(struct rec__cond *cd, const char *reason, const char *message);
void rec__warn_event(struct decide *d, const char *reason, const char *message);
/* Unsafe: the plan restarts with STOP and a Warning; only status follows. */
void rec__stop(struct decide *d, const char *reason, const char *message);
bool rec__plans_registration_change(const struct rec_plan *plan);

/* ---- decide_plan.c: reading the observation ----------------------------------------------------------- */

const struct rec_instance *rec__find_pod(const struct rec_observed *obs, const char *pod);
/* Fenced by the user (annotation memgraph.io/fencedInstances): takes no writes, is off the Services, is
 * never promoted, re-seeded or restarted by the operator. */
bool rec__user_fenced(const struct decide *d, const struct rec_instance *in);
bool rec__is_main(const struct rec_instance *in);
/* A MAIN that may hold writes nobody else has: demoting it could lose them. Unknown counts as data. */
bool rec__may_hold_data(const struct rec_instance *in);
/* True also for an unknown version (the query itself fails on an old server). */
bool rec__version_at_least(const struct rec_instance *in, int major, int minor);
const struct rec_registration *rec__find_registration(const struct rec_instance *main, const char *name);
/* Streaming and 0 behind: caught up this very moment (a switchover waits for this). */
bool rec__in_sync(const struct rec_registration *r);
/* Streaming (rec_replica_streaming) with replication clients: healthy for Ready and for a sync slot, even
 * while commits are in flight under load. */
bool rec__streaming(const struct rec_registration *r);
/* Counts reachable MAINs other than skip that may hold data and are not fenced by the user (those are
 * demoted, never chosen); *one receives the last one found. */
int rec__count_mains_with_data(const struct decide *d, const struct rec_instance *skip,
                               const struct rec_instance **one);
/* Instance with the newest data (highest known ts; unknown ts ranks below known; then lowest ordinal). */
const struct rec_instance *rec__newest_data(const struct decide *d);

/* ---- the phases ---------------------------------------------------------------------------------------- */

/* decide_main.c */
struct main_choice rec__choose_bootstrap_main(struct decide *d);
struct main_choice rec__choose_recorded_main(struct decide *d);
/* Promote the chosen MAIN when it is a REPLICA, demote every other MAIN (or stop); true when roles change.
 * MAINs the user fenced are left to rec__plan_user_fences. */
bool rec__plan_role_changes(struct decide *d);
/* Demote (and take off the Services) every MAIN the user fenced; true when roles change. */
bool rec__plan_user_fences(struct decide *d);

/* decide_failover.c */
struct failover_decision rec__decide_failover(struct decide *d, const struct main_choice *choice);
/* RECORD_MAIN (kind "failover" | "switchover", with what status needs) then PROMOTE of to. */
void rec__plan_main_change(struct decide *d, const struct rec_instance *to, const char *from,
                           const char *kind, const char *reason, const char *why);

/* decide_registrations.c */
struct replication_result rec__plan_replication(struct decide *d, const struct switch_plan *sw);

/* decide_rollout.c */
struct switch_plan rec__choose_switch_target(const struct decide *d);
/* After the registrations: report a blocked update, then switch over (returns the new MAIN) or roll the
 * replicas (returns NULL). */
const struct rec_instance *rec__plan_rollout(struct decide *d, const struct switch_plan *sw);

/* decide_labels.c */
/* Takes in off the write Service (and off the read Service unless keep_readable); NULL when its labels
 * already say so. */
struct rec_action *rec__fence_label(struct decide *d, const struct rec_instance *in, bool keep_readable,
                                    const char *reason);
void rec__plan_labels(struct decide *d, bool sync_in_place);
void rec__plan_fence_labels(struct decide *d);
void rec__finish_status(struct decide *d, const struct pass_outcome *out);

#endif
