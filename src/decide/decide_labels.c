/* The end of a pass: the pods' role labels (labels follow observed roles; only the chosen MAIN carries
 * role=main), the fencing labels after a stop, then the conditions, the phase and the requeue. */
#include "decide_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

/* Takes in off the write Service (and off the read Service unless keep_readable); NULL when its labels
 * already say so. */
struct rec_action *rec__fence_label(struct decide *d, const struct rec_instance *in, bool keep_readable,
                                    const char *reason)
{
  struct rec_action *a;
  if (in == NULL || !in->pod_exists)
    return NULL;
  if (in->label_role != MGO_ROLE_MAIN && (!in->label_readable || keep_readable))
    return NULL;
  a = rec__add_action(d, REC_ACT_LABEL, in->pod, reason);
  if (a == NULL)
    return NULL;
  a->role = MGO_ROLE_UNKNOWN;
  a->readable = keep_readable && in->label_readable;
  rec__set_message(a, "%s is taken out of the write Service before the MAIN changes", in->pod);
  return a;
}

static void readable_of(const struct decide *d, const struct rec_instance *in, bool *readable)
{
  const struct rec_registration *r;
  char name[MGO_NAME_MAX];
  if (in == d->main) {
    *readable = true;
    return;
  }
  /* Without the MAIN's SHOW REPLICAS nothing is known: keep serving reads from where they are served. */
  *readable = in->label_readable;
  if (d->main == NULL || !d->main->reachable || d->main->role != MGO_ROLE_MAIN || !d->main->replicas_known)
    return;
  (void) mgo_replica_name(in->pod, name, sizeof(name));
  r = rec__find_registration(d->main, name);
  *readable = rec_replica_counts_healthy(in, r);
}

/* Labels follow observed roles; pods that do not answer keep theirs. */
void rec__plan_labels(struct decide *d, bool sync_in_place)
{
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    bool readable = false;
    enum mgo_role role = in->role;
    struct rec_action *a;
    if (!in->pod_exists || !in->reachable || in->role == MGO_ROLE_UNKNOWN)
      continue;
    /* Only the chosen MAIN may carry role=main: the write Service must never reach another one. */
    if (role == MGO_ROLE_MAIN && in != d->main)
      role = MGO_ROLE_UNKNOWN;
    if (role == MGO_ROLE_MAIN && in->label_role != MGO_ROLE_MAIN && !sync_in_place)
      continue; /* labelled once its sync replicas are registered */
    if (role == MGO_ROLE_MAIN && rec__user_fenced(d, in))
      role = MGO_ROLE_UNKNOWN;
    if (role != MGO_ROLE_UNKNOWN && !rec__user_fenced(d, in))
      readable_of(d, in, &readable);
    if (in->label_role == role && in->label_readable == readable)
      continue;
    a = rec__add_action(d, REC_ACT_LABEL, in->pod, role == in->role ? "RoleObserved" : "NotTheChosenMain");
    if (a == NULL)
      return;
    a->role = role;
    a->readable = readable;
    rec__set_message(a, "%s answers as %s", in->pod, mgo_role_name(in->role));
  }
}

/* After a stop, the only label change is taking every MAIN but the chosen one out of the Services: off
 * the write Service (never two MAINs behind it) and off the read Service too, because a MAIN still labelled
 * as a readable replica would take writes from clients that believe they talk to a replica. */
void rec__plan_fence_labels(struct decide *d)
{
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in == d->main || !rec__is_main(in))
      continue;
    rec__set_message(rec__fence_label(d, in, false, "NotTheChosenMain"),
                     "%s is MAIN but not the chosen one: removed from the write and read Services", in->pod);
  }
}

/* ---- conditions, phase, requeue ---------------------------------------------------------------- */

static void add_condition(struct decide *d, const char *type, const struct rec__cond *cd)
{
  struct rec_action *a = rec__add_action(d, REC_ACT_CONDITION, NULL, cd->reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->cond_type, type, sizeof(a->cond_type));
  a->cond_status = cd->status;
  rec__set_message(a, "%s", cd->message);
}

static const char *phase_of(const struct decide *d, const struct pass_outcome *out, bool ready)
{
  if (out->hibernated)
    return "Hibernated";
  if (d->plan->stopped)
    return "Failed";
  if (ready)
    return "Running";
  if (out->bootstrap && d->main == NULL && strcmp(d->main_available.reason, "NoInstanceReachable") == 0)
    return "Pending";
  if (out->bootstrap || d->obs->initializing)
    return "Initializing";
  return "Degraded";
}

/* Fenced: True while the annotation names instances, with their names; absent otherwise. */
static void add_fenced_condition(struct decide *d)
{
  const struct mgo_cluster_ops *ops = &d->c->ops;
  struct rec__cond cd;
  char names[160] = "", longer[160];

  if (!ops->fence_all && ops->n_fenced == 0)
    return;
  for (size_t i = 0; i < ops->n_fenced && !ops->fence_all; i++) {
    if (mgo_snprintf(longer, sizeof(longer), "%s%s%s", names, i > 0 ? ", " : "", ops->fenced[i]) != MGO_OK)
      break; /* too many to name: the annotation itself lists them all */
    (void) mgo_strlcpy(names, longer, sizeof(names));
  }
  rec__set_cond(&cd, REC_COND_TRUE, "InstancesFenced",
                "fenced by " MGO_ANNOTATION_FENCED ": %s (no writes, off the Services, pods kept, never "
                "promoted)",
                ops->fence_all ? "every instance" : names);
  add_condition(d, "Fenced", &cd);
}

/* WriteConnectivity: the MAIN answered this health check's SHOW REPLICATION ROLE. */
static void add_write_connectivity(struct decide *d, const struct pass_outcome *out)
{
  struct rec__cond cd;
  const char *recorded = d->c->recorded_main;

  if (out->hibernated)
    rec__set_cond(&cd, REC_COND_UNKNOWN, "Hibernated", "the cluster is hibernated");
  else if (d->main != NULL && d->main->reachable)
    rec__set_cond(&cd, REC_COND_TRUE, "MainResponding", "MAIN %s responding", d->main->pod);
  else if (recorded[0] != '\0')
    rec__set_cond(&cd, REC_COND_FALSE, "MainNotResponding", "MAIN %s not responding", recorded);
  else
    rec__set_cond(&cd, REC_COND_FALSE, "NoMain", "no MAIN to write to yet");
  add_condition(d, "WriteConnectivity", &cd);
}

/* ReadConnectivity: every replica of the spec answered this health check. */
static void add_read_connectivity(struct decide *d, const struct pass_outcome *out)
{
  struct rec__cond cd;
  size_t n = 0, ok = 0;
  const char *silent = "";

  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (!in->pod_exists || in->ordinal >= d->desired || in == d->main ||
        strcmp(in->pod, d->c->recorded_main) == 0)
      continue;
    n++;
    ok += in->reachable;
    if (!in->reachable && silent[0] == '\0')
      silent = in->pod;
  }
  if (out->hibernated)
    rec__set_cond(&cd, REC_COND_UNKNOWN, "Hibernated", "the cluster is hibernated");
  else if (n == 0)
    rec__set_cond(&cd, REC_COND_TRUE, "NoReadReplicas", "no read replicas: reads are served by the MAIN");
  else if (ok == n)
    rec__set_cond(&cd, REC_COND_TRUE, "ReplicasResponding", "All %zu read instances responding", n);
  else
    rec__set_cond(&cd, REC_COND_FALSE, "ReplicasNotResponding", "%zu/%zu read instances responding (%s not)",
                  ok, n, silent);
  add_condition(d, "ReadConnectivity", &cd);
}

void rec__finish_status(struct decide *d, const struct pass_outcome *out)
{
  const struct rec__cond *conds[] = {&d->main_available, &d->replicas_ready, &d->replication_healthy};
  struct rec__cond ready = {REC_COND_TRUE, "Ready", "the MAIN accepts writes and every replica is in sync"};
  struct rec_action *a;
  int32_t after = d->c->spec.replication.health_check_interval_sec;

  for (size_t i = 0; i < 3; i++) {
    if (conds[i]->status != REC_COND_TRUE && ready.status == REC_COND_TRUE)
      rec__set_cond(&ready, REC_COND_FALSE, conds[i]->reason, "%s", conds[i]->message);
  }
  add_condition(d, "MainAvailable", &d->main_available);
  add_condition(d, "ReplicasReady", &d->replicas_ready);
  add_condition(d, "ReplicationHealthy", &d->replication_healthy);
  add_condition(d, "Ready", &ready);
  add_write_connectivity(d, out);
  add_read_connectivity(d, out);
  if (d->has_hibernated)
    add_condition(d, "Hibernated", &d->hibernated);
  add_fenced_condition(d);
  a = rec__add_action(d, REC_ACT_PHASE, NULL, ready.reason);
  if (a != NULL)
    (void) mgo_strlcpy(a->phase, phase_of(d, out, ready.status == REC_COND_TRUE), sizeof(a->phase));
  rec__set_message(a, "%s", ready.message);
  const char *why = "Periodic";
  if (out->role_changed) {
    after = 0;
    why = "ReobserveAfterRoleChange";
  } else if (d->plan->stopped) {
    after = REC__STOP_REQUEUE_SEC;
  } else if (out->watch_main) {
    after = 1;
    why = "WatchUnavailableMain";
  } else if (out->sync_awaited && d->main != NULL && d->main->label_role != MGO_ROLE_MAIN && after > 1) {
    after = 1;
    why =
        "WaitSyncReplica"; /* a new MAIN is held off the write Service until its sync replica is registered */
  } else if (out->catching_up && after > 1) {
    after = 1;
    why = "WatchCatchUp";
  } else if (rec__plans_registration_change(d->plan) && after > REC__REGISTRATION_REQUEUE_SEC) {
    after = REC__REGISTRATION_REQUEUE_SEC;
    why = "ReobserveAfterRegistration";
  }
  a = rec__add_action(d, REC_ACT_REQUEUE, NULL, why);
  if (a != NULL)
    a->after_sec = after;
  rec__set_message(a, "next observation");
}
