/* Moving the MAIN by switchover (scale-down below its ordinal, a rolling update that reached it, or
 * spec.switchover.targetOrdinal) and rolling updates of the replicas (one at a time, highest ordinal first,
 * only while everything else is healthy). */
#include "decide_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

/* Fit to become MAIN by a switchover: a ready REPLICA of the desired set on the current pod template, not
 * fenced by the user. */
static bool switch_candidate(const struct decide *d, const struct rec_instance *in)
{
  return in != d->main && in->pod_exists && in->pod_ready && !in->pod_terminating && in->reachable &&
         in->role == MGO_ROLE_REPLICA && in->ordinal < d->desired && !in->outdated &&
         !rec__user_fenced(d, in);
}

/* The best replica to hand the MAIN to: one already in sync in a synchronous mode, else the lowest ordinal.
 */
static const struct rec_instance *best_switch_candidate(const struct decide *d)
{
  const struct rec_instance *best = NULL;
  bool best_sync = false;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    char name[MGO_NAME_MAX];
    const struct rec_registration *r;
    bool sync;
    if (!switch_candidate(d, in))
      continue;
    (void) mgo_replica_name(in->pod, name, sizeof(name));
    r = rec__find_registration(d->main, name);
    sync = r != NULL && r->mode != MGO_MODE_ASYNC && rec__in_sync(r);
    if (best == NULL || (sync && !best_sync)) {
      best = in;
      best_sync = sync;
    }
  }
  return best;
}

static bool rollout_pending(const struct decide *d, bool *main_only)
{
  bool replicas = false, main = d->main->outdated;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in != d->main && in->pod_exists && in->ordinal < d->desired && in->outdated)
      replicas = true;
  }
  *main_only = main && !replicas;
  return main || replicas;
}

/* Why the MAIN should move, and where to: scale-down below its ordinal, a rolling update that reached
 * the MAIN (Supervised: once approved), or spec.switchover.targetOrdinal. */
struct switch_plan rec__choose_switch_target(const struct decide *d)
{
  const struct mgo_cluster_spec *s = &d->c->spec;
  struct switch_plan sw = {.target = NULL, .reason = NULL, .update_blocked = false};
  bool main_only = false;
  if (d->main->role != MGO_ROLE_MAIN || d->main->data == REC_DATA_UNKNOWN || !d->main->replicas_known)
    return sw;
  if (d->main->ordinal >= d->desired) {
    sw.target = best_switch_candidate(d);
    sw.reason = "ScaleDown";
  } else if (rollout_pending(d, &main_only) && main_only) {
    if (s->update_strategy == MGO_UPDATE_SUPERVISED && !d->obs->main_update_approved) {
      sw.update_blocked = true; /* reported after the replicas are summarized */
      return sw;
    }
    sw.target = best_switch_candidate(d);
    sw.reason = "RollingUpdate";
  } else if (s->switchover_target_ordinal >= 0 && s->switchover_target_ordinal < d->desired &&
             s->switchover_target_ordinal != d->main->ordinal) {
    for (size_t i = 0; i < d->obs->n; i++) {
      if (d->obs->inst[i].ordinal == s->switchover_target_ordinal)
        sw.target = &d->obs->inst[i];
    }
    sw.reason = "Requested";
  }
  return sw;
}

/* Remove the MAIN from the write Service, demote it, record and promote the target (caught up in a
 * synchronous mode, so every acknowledged write is on it), re-observe. Returns the new MAIN, or NULL while
 * the switchover waits. */
static const struct rec_instance *plan_switchover(struct decide *d, const struct switch_plan *sw)
{
  const struct rec_instance *old = d->main, *to = sw->target;
  char name[MGO_NAME_MAX], why[256];
  const struct rec_registration *r;
  struct rec_action *a;

  if (to == NULL || !switch_candidate(d, to)) {
    rec__set_cond(&d->replicas_ready, REC_COND_FALSE, "SwitchoverPending",
                  "a switchover (%s) waits for a ready replica on the current pod template", sw->reason);
    return NULL;
  }
  (void) mgo_replica_name(to->pod, name, sizeof(name));
  r = rec__find_registration(old, name);
  if (rec__plans_registration_change(d->plan) || r == NULL || r->mode != d->c->spec.replication.sync_mode ||
      !rec__in_sync(r)) {
    rec__set_cond(&d->replicas_ready, REC_COND_FALSE, "SwitchoverPending",
                  "switchover (%s) to %s waits until it is registered %s and caught up", sw->reason, to->pod,
                  mgo_repl_mode_name(d->c->spec.replication.sync_mode));
    return NULL;
  }
  rec__fence_label(d, old, true, "SwitchoverFence");
  a = rec__add_action(d, REC_ACT_DEMOTE, old->pod, "Switchover");
  if (a != NULL)
    a->port = d->c->spec.replication.port;
  rec__set_message(a, "%s hands the MAIN role to %s (%s)", old->pod, to->pod, sw->reason);
  (void) mgo_snprintf(why, sizeof(why), "switchover (%s) from %s, caught up in %s mode", sw->reason, old->pod,
                      mgo_repl_mode_name(r->mode));
  rec__plan_main_change(d, to, old->pod, "switchover", sw->reason, why);
  return to;
}

/* Replicas first, one at a time, only while everything else is healthy; the MAIN goes by switchover. */
static void roll_replicas(struct decide *d, const struct switch_plan *sw)
{
  const struct rec_instance *victim = NULL;
  bool main_only = false;
  struct rec_action *a;

  if (sw->update_blocked || !rollout_pending(d, &main_only) || main_only)
    return;
  if (rec__plans_registration_change(d->plan) || d->plan->ready_replicas < d->desired - 1 ||
      !d->main->pod_ready) {
    rec__set_cond(
        &d->replicas_ready,
        d->replicas_ready.status == REC_COND_TRUE ? REC_COND_FALSE : d->replicas_ready.status,
        d->replicas_ready.status == REC_COND_TRUE ? "RollingUpdate" : d->replicas_ready.reason, "%s",
        d->replicas_ready.status == REC_COND_TRUE ? "a rolling update waits for every replica to be in sync"
                                                  : d->replicas_ready.message);
    return;
  }
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in != d->main && in->pod_exists && !in->pod_terminating && in->ordinal < d->desired && in->outdated &&
        !rec__user_fenced(d, in)) /* a fenced pod is kept as it is, for inspection */
      victim = in;                /* the highest ordinal first, as a StatefulSet would */
  }
  if (victim == NULL)
    return;
  a = rec__add_action(d, REC_ACT_DELETE_POD, victim->pod, "RollingUpdate");
  if (a != NULL)
    (void) mgo_strlcpy(a->replica_pod_uid, victim->pod_uid, sizeof(a->replica_pod_uid));
  rec__set_message(a, "%s restarts on the new pod template (replicas first, one at a time)", victim->pod);
  rec__set_cond(&d->replicas_ready, REC_COND_FALSE, "RollingUpdate",
                "rolling update: %s restarts on the new pod template", victim->pod);
}

const struct rec_instance *rec__plan_rollout(struct decide *d, const struct switch_plan *sw)
{
  if (sw->update_blocked)
    rec__set_cond(&d->replicas_ready, REC_COND_FALSE, "AwaitingMainUpdateApproval",
                  "every replica runs the new pod template; the MAIN %s waits for approval: annotate the "
                  "MemgraphCluster with " MGO_APPROVE_MAIN_UPDATE_ANNOTATION "=%s",
                  d->main->pod, d->obs->update_revision);
  if (sw->reason != NULL)
    return plan_switchover(d, sw);
  roll_replicas(d, sw);
  return NULL;
}
