/* The pure replication-topology decision. See topology.h for the contract with the executor.
 *
 * Order of a pass: hibernated (annotation): nothing but 0 pods and status. Choose the MAIN (recorded one,
 * else bootstrap; decide_main.c) -> demote the MAINs the user fenced (then re-observe) -> when the recorded
 * MAIN is unavailable (and not resuming from a hibernation), the failover (decide_failover.c) -> safety
 * checks on every other MAIN and role changes (then stop and re-observe) -> the switchover target,
 * registrations on the MAIN (decide_registrations.c), the switchover or the replicas' rolling update
 * (decide_rollout.c) -> labels -> conditions, phase, requeue (decide_labels.c). Safety before liveness:
 * unsure means a condition and a requeue, never a guess. This file only sequences the phases; what each
 * decided is handed on in the structs of decide_int.h. */
#include "decide_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

static void init_decide(struct decide *d, const struct mgo_cluster *c, const struct rec_observed *obs,
                        struct rec_plan *plan)
{
  memset(d, 0, sizeof(*d));
  memset(plan, 0, sizeof(*plan));
  d->c = c;
  d->obs = obs;
  d->plan = plan;
  d->desired = c->spec.instances;
  rec__set_cond(&d->main_available, REC_COND_TRUE, "MainReady", "the MAIN answers and is ready");
  rec__set_cond(&d->replicas_ready, REC_COND_UNKNOWN, "MainUnavailable",
                "replicas are only seen through the MAIN");
  rec__set_cond(&d->replication_healthy, REC_COND_TRUE, "Healthy",
                "no replica is diverged, invalid or unsupported");
}

static int32_t at_least(int32_t v, int32_t min)
{
  return v > min ? v : min;
}

/* Pods the StatefulSet may keep: spec.instances, but never fewer than the MAIN (recorded or chosen) or a
 * still-registered replica needs (scale-down drops registrations first and cannot remove the MAIN).
 * Without a usable MAIN nothing can be dropped, so every existing pod stays. */
static void compute_allowed_pods(struct decide *d)
{
  int32_t allowed = d->desired;
  int recorded = mgo_pod_ordinal(d->c, d->c->recorded_main);

  allowed = at_least(allowed, recorded + 1);
  for (size_t j = 0; j < d->obs->n; j++) {
    const struct rec_instance *in = &d->obs->inst[j];
    char name[MGO_NAME_MAX];
    bool keep = in->pod_exists && (d->main == NULL || d->plan->stopped || in == d->main);
    (void) mgo_replica_name(in->pod, name, sizeof(name));
    keep = keep || (d->main != NULL && rec__find_registration(d->main, name) != NULL);
    if (keep)
      allowed = at_least(allowed, in->ordinal + 1);
  }
  d->plan->allowed_pods = allowed;
}

static bool input_consistent(const struct rec_observed *obs)
{
  if (obs->n > REC_MAX_OBSERVED)
    return false;
  for (size_t i = 0; i < obs->n; i++) {
    bool sorted = i == 0 || obs->inst[i - 1].ordinal < obs->inst[i].ordinal;
    if (obs->inst[i].n_registrations > MGO_MAX_INSTANCES || !sorted)
      return false;
  }
  return true;
}

/* With the MAIN settled: role changes, then (when none) registrations and the switchover or rollout. */
static void decide_with_main(struct decide *d, struct pass_outcome *out)
{
  struct switch_plan sw;
  struct replication_result rep;
  const struct rec_instance *new_main;

  (void) mgo_strlcpy(d->plan->main_pod, d->main->pod, sizeof(d->plan->main_pod));
  out->role_changed = rec__plan_role_changes(d);
  if (d->plan->stopped)
    return;
  if (out->role_changed) {
    rec__set_cond(&d->main_available, REC_COND_FALSE, "RoleChangeInProgress",
                  "roles are changing; re-observing");
    return;
  }
  if (!d->main->pod_ready)
    rec__set_cond(&d->main_available, REC_COND_FALSE, "MainNotReady",
                  "the MAIN %s answers but its pod is not ready", d->main->pod);
  sw = rec__choose_switch_target(d);
  rep = rec__plan_replication(d, &sw);
  out->sync_in_place = rep.sync_in_place;
  out->sync_awaited = rep.replicas_known && !rep.sync_in_place;
  out->catching_up = rep.catching_up;
  if (!rep.replicas_known)
    return;
  new_main = rec__plan_rollout(d, &sw);
  if (new_main != NULL) { /* a switchover: the new MAIN is promoted, roles change */
    d->main = new_main;
    out->role_changed = true;
  }
}

/* memgraph.io/hibernation=on: the StatefulSet goes to 0 pods; volumes (StatefulSet PVCs are retained) and
 * the recorded MAIN stay, nothing else is planned. */
static void hibernate(struct decide *d, struct pass_outcome *out)
{
  const char *main = d->c->recorded_main[0] != '\0' ? d->c->recorded_main : "(none yet)";
  out->hibernated = true;
  d->plan->allowed_pods = 0;
  d->has_hibernated = true;
  rec__set_cond(&d->hibernated, REC_COND_TRUE, "Hibernated",
                "hibernated (" MGO_ANNOTATION_HIBERNATION
                "=on): pods deleted, volumes and the recorded MAIN %s "
                "kept; set it to off to resume",
                main);
  rec__set_cond(&d->main_available, REC_COND_FALSE, "Hibernated", "%s", d->hibernated.message);
  rec__set_cond(&d->replicas_ready, REC_COND_FALSE, "Hibernated", "%s", d->hibernated.message);
}

/* Resuming from a hibernation: the pods come back as REPLICAs (fenced), the recorded MAIN is promoted back
 * once it answers. Until then nothing fails over: every pod restarts at once, and the MAIN's absence is the
 * hibernation's, not a fault. */
static void resume(struct decide *d, const struct main_choice *choice)
{
  d->has_hibernated = true;
  if (choice->lost_reason == NULL) {
    rec__set_cond(&d->hibernated, REC_COND_FALSE, "Resumed", "resumed from hibernation: the MAIN %s answers",
                  d->c->recorded_main);
    return;
  }
  rec__set_cond(&d->hibernated, REC_COND_FALSE, "Resuming",
                "resuming from hibernation: waiting for the recorded MAIN %s (no failover while resuming)",
                d->c->recorded_main);
  rec__set_cond(&d->main_available, REC_COND_FALSE, "Resuming", "%s", d->hibernated.message);
}

/* The recorded MAIN is unavailable: the failover phase decides; true when it promotes a replica. */
static bool fail_over(struct decide *d, const struct main_choice *choice, struct pass_outcome *out)
{
  struct failover_decision fo = rec__decide_failover(d, choice);

  out->watch_main = fo.outcome == FAILOVER_WAITING;
  if (fo.outcome != FAILOVER_PROMOTING)
    return false;
  d->main = fo.to;
  out->role_changed = true;
  return true;
}

int rec_decide_topology(const struct mgo_cluster *c, const struct rec_observed *obs, struct rec_plan *plan)
{
  struct decide d;
  struct pass_outcome out = {.bootstrap = false};
  struct main_choice choice;
  bool main_changing = false;

  if (!input_consistent(obs))
    return MGO_EINVAL;
  init_decide(&d, c, obs, plan);
  out.bootstrap = c->recorded_main[0] == '\0';
  if (c->ops.hibernate) {
    hibernate(&d, &out);
    rec__finish_status(&d, &out);
    return d.overflow ? MGO_ETOOBIG : MGO_OK;
  }
  choice = out.bootstrap ? rec__choose_bootstrap_main(&d) : rec__choose_recorded_main(&d);
  d.main = choice.main;
  if (obs->resuming && !out.bootstrap)
    resume(&d, &choice);
  if (rec__plan_user_fences(&d))
    out.role_changed = main_changing = true;
  else if (choice.lost_reason != NULL && !(obs->resuming && !out.bootstrap))
    main_changing = fail_over(&d, &choice, &out);
  if (d.main != NULL && !plan->stopped && !main_changing)
    decide_with_main(&d, &out);
  else if (d.main != NULL)
    (void) mgo_strlcpy(plan->main_pod, d.main->pod, sizeof(plan->main_pod));
  compute_allowed_pods(&d);
  if (plan->stopped)
    rec__plan_fence_labels(&d);
  else if (!out.role_changed)
    rec__plan_labels(&d, out.sync_in_place);
  rec__finish_status(&d, &out);
  return d.overflow ? MGO_ETOOBIG : MGO_OK;
}
