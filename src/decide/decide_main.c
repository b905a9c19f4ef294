/* Choosing the MAIN this pass works with (the recorded one, else a bootstrap choice) and making it the only
 * MAIN (promote it, demote every other one, or stop when that could lose writes). */
#include "decide_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

static const struct rec_instance *lowest_reachable(const struct decide *d)
{
  const struct rec_instance *best = NULL;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in->pod_exists && in->reachable && in->ordinal < d->desired &&
        (best == NULL || in->ordinal < best->ordinal))
      best = in;
  }
  return best;
}

/* Before the first MAIN is chosen, every pod that exists must answer: the data might be on the silent one. */
static const struct rec_instance *first_silent_pod(const struct decide *d)
{
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in->pod_exists && !in->pod_terminating && !in->reachable)
      return in;
  }
  return NULL;
}

/* A silent pod that might be a MAIN someone else promoted. Not: the MAIN our failover fenced (off the
 * Services, demoted on sight), nor a pod the recorded MAIN last listed as its replica (instances start
 * fenced, as REPLICAs, and only the operator promotes: a replica that went silent did not become a MAIN by
 * itself). So a fenced, restarted MAIN is promoted back while a replica is down. */
static const struct rec_instance *first_silent_unfenced(const struct decide *d)
{
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in->pod_exists && !in->pod_terminating && !in->reachable && !in->last_registered &&
        strcmp(in->pod, d->obs->fenced_main) != 0)
      return in;
  }
  return NULL;
}

static struct main_choice no_main(const char *why)
{
  return (struct main_choice){.main = NULL, .why = why};
}

static struct main_choice record_main(struct decide *d, const struct rec_instance *main, const char *reason,
                                      const char *why)
{
  struct rec_action *a = rec__add_action(d, REC_ACT_RECORD_MAIN, main->pod, reason);
  rec__set_message(a, "%s becomes the recorded MAIN: %s", main->pod, why);
  return (struct main_choice){.main = main, .why = reason};
}

static const struct rec_instance *first_user_fenced(const struct decide *d)
{
  for (size_t i = 0; i < d->obs->n; i++) {
    if (d->obs->inst[i].pod_exists && rec__user_fenced(d, &d->obs->inst[i]))
      return &d->obs->inst[i];
  }
  return NULL;
}

/* No MAIN recorded: pick one (existing MAIN with data > newest data > lowest ordinal). Not while an instance
 * is fenced by the user: the data might be on it. */
struct main_choice rec__choose_bootstrap_main(struct decide *d)
{
  const struct rec_instance *silent = first_silent_pod(d);
  const struct rec_instance *with_data = NULL;
  const struct rec_instance *fenced = first_user_fenced(d);
  const struct rec_instance *pick;
  int mains = rec__count_mains_with_data(d, NULL, &with_data);

  if (fenced != NULL) {
    rec__set_cond(&d->main_available, REC_COND_FALSE, "InstancesFenced",
                  "no MAIN is chosen while %s is fenced (" MGO_ANNOTATION_FENCED ")", fenced->pod);
    return no_main("InstancesFenced");
  }
  if (mains > 1) {
    rec__stop(
        d, "MultipleMainsWithData",
        "several instances are MAIN and may hold data; refusing to pick one (resolve manually: keep the "
        "one with the newest data, wipe the others)");
    return no_main("MultipleMainsWithData");
  }
  if (silent != NULL) {
    rec__set_cond(&d->main_available, REC_COND_FALSE, "WaitingForInstances",
                  "waiting for %s to answer before choosing the MAIN", silent->pod);
    return no_main("WaitingForInstances");
  }
  if (mains == 1)
    return record_main(d, with_data, "ExistingMainWithData", "it is already MAIN and holds data");
  pick = rec__newest_data(d);
  if (pick != NULL)
    return record_main(d, pick, "NewestData", "it holds the newest data");
  pick = lowest_reachable(d);
  if (pick != NULL)
    return record_main(d, pick, "LowestOrdinal", "no instance holds data; the lowest ordinal is chosen");
  rec__set_cond(&d->main_available, REC_COND_FALSE, "NoInstanceReachable",
                "no instance answers over Bolt yet");
  return no_main("NoInstanceReachable");
}

/* The recorded MAIN answers as a REPLICA. */
static struct main_choice recorded_main_is_replica(struct decide *d, const struct rec_instance *rec)
{
  const struct rec_instance *other = NULL;
  const struct rec_instance *silent;
  struct main_choice changed;
  int others = rec__count_mains_with_data(d, rec, &other);

  if (others > 1) {
    rec__stop(d, "MultipleMainsWithData",
              "the recorded MAIN is a REPLICA and several other instances are MAIN");
    return no_main("MultipleMainsWithData");
  }
  if (others == 1) {
    changed = record_main(d, other, "ObservedMainChanged",
                          "the recorded MAIN is a REPLICA and this instance is MAIN");
    rec__warn_event(d, "ObservedMainChanged", d->plan->a[d->plan->n - 1].message);
    return changed;
  }
  if (rec->data == REC_DATA_EMPTY && rec__newest_data(d) != NULL) {
    rec__stop(
        d, "MainDataLost",
        "the recorded MAIN is an empty REPLICA while other instances hold data; refusing to promote it");
    return no_main("MainDataLost");
  }
  silent = first_silent_unfenced(d);
  if (silent != NULL) {
    /* A silent pod might be a MAIN promoted by someone else: promoting back could make two. The MAIN a
     * failover of ours fenced is exempt: it is off the Services and demoted on sight. */
    rec__set_cond(&d->main_available, REC_COND_FALSE, "WaitingForInstances",
                  "the recorded MAIN %s is a REPLICA; waiting for %s to answer before promoting it", rec->pod,
                  silent->pod);
    return no_main("WaitingForInstances");
  }
  return (struct main_choice){.main = rec, .why = "RecordedMainIsReplica"};
}

/* The recorded MAIN came back empty (new volume) while replicas hold data: registering them to it would
 * make them diverge, and a re-seed would then wipe the only copies. */
static bool main_lost_its_data(const struct decide *d, const struct rec_instance *rec)
{
  const struct rec_instance *newest = rec__newest_data(d);
  return rec->data == REC_DATA_EMPTY && newest != NULL && newest != rec;
}

/* The recorded MAIN does not answer: no MAIN yet; the failover phase decides what to do about it. */
static struct main_choice main_lost(const struct rec_instance *rec, const char *reason, const char *what)
{
  return (struct main_choice){
      .main = NULL, .why = reason, .lost = rec, .lost_reason = reason, .lost_what = what};
}

struct main_choice rec__choose_recorded_main(struct decide *d)
{
  const struct rec_instance *rec = rec__find_pod(d->obs, d->c->recorded_main);

  if (mgo_cluster_instance_fenced(d->c, d->c->recorded_main)) {
    /* The user's choice: no writes anywhere until it is unfenced, and no failover away from it. */
    rec__set_cond(&d->main_available, REC_COND_FALSE, "MainFenced",
                  "the MAIN %s is fenced (" MGO_ANNOTATION_FENCED "): writes are refused and it is not "
                  "failed over; remove it from the annotation to resume writes",
                  d->c->recorded_main);
    return no_main("MainFenced");
  }
  if (rec == NULL || !rec->pod_exists)
    return main_lost(rec, "MainPodMissing", "has no pod");
  if (!rec->reachable)
    return main_lost(rec, "MainUnreachable", rec->pod_ready ? "does not answer over Bolt" : "is not ready");
  if (rec->role == MGO_ROLE_REPLICA)
    return recorded_main_is_replica(d, rec);
  if (main_lost_its_data(d, rec)) {
    rec__stop(d, "MainDataLost",
              "the recorded MAIN is empty while replicas hold data (was its volume replaced?); refusing to "
              "register "
              "them to it");
    return no_main("MainDataLost");
  }
  return (struct main_choice){.main = rec, .why = "Recorded"};
}

/* ---- role changes ----------------------------------------------------------------------------- */

/* Another MAIN besides the chosen one. Empty: demote. With data: if it is the MAIN our failover fenced, it
 * is expected back and demoted; otherwise it is reported (condition, event, metric) and fenced the same
 * way: the chosen MAIN is the one the replicas follow, so it keeps the role. */
static void demote_other_main(struct decide *d, const struct rec_instance *in)
{
  bool fenced = strcmp(in->pod, d->obs->fenced_main) == 0;
  const char *reason = !rec__may_hold_data(in) ? "EmptyMainDemoted"
                       : fenced                ? "FencedMainDemoted"
                                               : "SecondMainDemoted";
  struct rec_action *a;

  if (rec__may_hold_data(in) && !fenced) {
    char msg[256];
    (void) mgo_snprintf(
        msg, sizeof(msg),
        "%s is MAIN besides the recorded MAIN %s and may hold data; it is taken off the Services "
        "and demoted (its own writes make it diverged: re-seed per failover.reseedPolicy)",
        in->pod, d->main->pod);
    d->plan->multiple_mains = true;
    rec__warn_event(d, "MultipleMainsObserved", msg);
    rec__degrade(&d->replication_healthy, "MultipleMainsObserved", msg);
  }
  if (rec__may_hold_data(in))
    rec__fence_label(d, in, false, fenced ? "FencedMainReturned" : "MultipleMainsObserved");
  a = rec__add_action(d, REC_ACT_DEMOTE, in->pod, reason);
  if (a != NULL)
    a->port = d->c->spec.replication.port;
  rec__set_message(a, "%s is %s MAIN; it becomes a REPLICA of %s", in->pod,
                   !rec__may_hold_data(in) ? "an empty"
                   : fenced                ? "the fenced old"
                                           : "a second",
                   d->main->pod);
}

bool rec__plan_role_changes(struct decide *d)
{
  const struct rec_instance *main = d->main;
  const struct rec_instance *other = NULL;
  struct rec_action *a;
  bool changed = false;
  bool main_sure = main->role == MGO_ROLE_MAIN && main->data == REC_DATA_PRESENT;

  if (rec__count_mains_with_data(d, main, &other) > 0 && !main_sure) {
    char msg[256];
    (void) mgo_snprintf(msg, sizeof(msg),
                        "%s is MAIN besides %s and may hold data; demoting it could lose writes", other->pod,
                        main->pod);
    rec__stop(d, "MultipleMainsWithData", msg);
    return false;
  }
  if (main->role == MGO_ROLE_REPLICA) {
    a = rec__add_action(d, REC_ACT_PROMOTE, main->pod, "PromoteChosenMain");
    rec__set_message(a, "promote %s to MAIN", main->pod);
    changed = true;
  }
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in != main && rec__is_main(in) && !rec__user_fenced(d, in)) {
      demote_other_main(d, in);
      changed = true;
    }
  }
  return changed;
}

/* Every instance the user fenced that answers as MAIN is taken off the Services and demoted: it takes no
 * writes, also on connections clients keep. Its data stays; it is promoted again only if it is the recorded
 * MAIN and gets unfenced. True when roles change. */
bool rec__plan_user_fences(struct decide *d)
{
  bool changed = false;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    struct rec_action *a;
    if (!rec__is_main(in) || !rec__user_fenced(d, in))
      continue;
    (void) rec__fence_label(d, in, false, "InstanceFenced");
    a = rec__add_action(d, REC_ACT_DEMOTE, in->pod, "InstanceFenced");
    if (a != NULL)
      a->port = d->c->spec.replication.port;
    rec__set_message(a, "%s is fenced (" MGO_ANNOTATION_FENCED "): it becomes a REPLICA and takes no writes",
                     in->pod);
    changed = true;
  }
  return changed;
}
