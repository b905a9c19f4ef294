/* The recorded MAIN is unavailable: wait failover.failoverDelaySec, then promote the replica that holds every
 * acknowledged write (or, where the policy allows it, the most recent one), or report why nobody may take
 * over. The MAIN change itself (RECORD_MAIN, PROMOTE) is shared with the switchover. */
#include "decide_int.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#include <string.h>

/* Fit to take over: answering as a REPLICA on a ready pod of the desired set, seen registered on the lost
 * MAIN (so its recency is known), and not fenced by the user. */
static bool failover_eligible(const struct decide *d, const struct rec_instance *in)
{
  return in->pod_exists && in->pod_ready && !in->pod_terminating && in->reachable &&
         in->role == MGO_ROLE_REPLICA && in->ordinal < d->desired && in->last_registered &&
         !rec__user_fenced(d, in);
}

/* True when a is a better failover candidate than b: newest known ts, then least behind, then ordinal. */
static bool more_recent(const struct rec_instance *a, const struct rec_instance *b)
{
  if (a->last_known_ts != b->last_known_ts)
    return a->last_known_ts > b->last_known_ts;
  if (a->last_behind != b->last_behind)
    return a->last_behind < b->last_behind;
  return a->ordinal < b->ordinal;
}

/* SYNC/STRICT_SYNC replicas that were in sync first (they hold every acknowledged write); else, where the
 * policy allows it, the most recent ASYNC (or lagging) replica within failover.maxAsyncLag. */
static const struct rec_instance *failover_candidate(const struct decide *d, const struct rec_instance *lost)
{
  const struct rec_instance *sync = NULL, *other = NULL;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in == lost || !failover_eligible(d, in))
      continue;
    if (in->last_mode != MGO_MODE_ASYNC && in->last_in_sync) {
      if (sync == NULL || more_recent(in, sync))
        sync = in;
    } else if (d->c->spec.failover.allow_async_promotion &&
               in->last_behind <= d->c->spec.failover.max_async_lag) {
      if (other == NULL || more_recent(in, other))
        other = in;
    }
  }
  return sync != NULL ? sync : other;
}

/* RECORD_MAIN (with what a failover or switchover needs for status) then PROMOTE; roles change: the caller
 * hands to on as the new MAIN. */
void rec__plan_main_change(struct decide *d, const struct rec_instance *to, const char *from,
                           const char *kind, const char *reason, const char *why)
{
  struct rec_action *a = rec__add_action(d, REC_ACT_RECORD_MAIN, to->pod, reason);
  if (a != NULL) {
    (void) mgo_strlcpy(a->from, from, sizeof(a->from));
    (void) mgo_strlcpy(a->kind, kind, sizeof(a->kind));
    if (strcmp(kind, "failover") == 0)
      (void) mgo_strlcpy(a->fenced, from, sizeof(a->fenced));
    a->mode = to->last_mode;
    /* What the new MAIN had not received of the acknowledged writes (lastFailover.behind, the estimated-lost
     * metric): none for a SYNC/STRICT_SYNC replica that held every one (its last-seen `behind` counts commits
     * in flight, which were not acknowledged); the last-seen lag otherwise. */
    a->behind = to->last_mode != MGO_MODE_ASYNC && to->last_in_sync ? 0 : to->last_behind;
  }
  rec__set_message(a, "%s becomes the recorded MAIN: %s", to->pod, why);
  a = rec__add_action(d, REC_ACT_PROMOTE, to->pod, reason);
  rec__set_message(a, "promote %s to MAIN (%s from %s)", to->pod, kind, from);
  /* Not labelled here: it joins the write Service once its sync replicas are registered (rec__plan_labels).
   */
  rec__set_cond(&d->main_available, REC_COND_FALSE,
                strcmp(kind, "failover") == 0 ? "FailoverInProgress" : "SwitchoverInProgress",
                "%s: %s replaces %s", kind, to->pod, from);
}

/* The replaced MAIN's process may still be running (frozen, slow, cut off from the operator): its pod exists,
 * is not being deleted, and its container has not ended. */
static bool lost_process_may_run(const struct rec_instance *lost)
{
  return lost != NULL && lost->pod_exists && !lost->pod_terminating && !lost->crashed &&
         lost->pod_uid[0] != '\0';
}

/* KILL_POD of the lost MAIN between RECORD_MAIN and PROMOTE (the last two actions): recorded first, so an
 * operator killed right after the delete finishes this failover instead of promoting the fenced pod back;
 * before the promotion, so the old process cannot thaw into a second writable MAIN. */
static void plan_kill_before_promote(struct decide *d, const struct rec_instance *lost)
{
  struct rec_plan *p = d->plan;
  struct rec_action *a = rec__add_action(d, REC_ACT_KILL_POD, lost->pod, "FencedForFailover");
  struct rec_action tmp;
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->replica_pod_uid, lost->pod_uid, sizeof(a->replica_pod_uid));
  rec__set_message(
      a,
      "delete %s (grace period 0): it may still run, frozen or cut off, and would take writes on "
      "kept connections when it comes back",
      lost->pod);
  if (p->n < 2 || p->a[p->n - 2].type != REC_ACT_PROMOTE)
    return;
  tmp = p->a[p->n - 2];
  p->a[p->n - 2] = p->a[p->n - 1];
  p->a[p->n - 1] = tmp;
}

static struct failover_decision plan_failover(struct decide *d, const struct rec_instance *lost,
                                              const char *reason)
{
  const struct rec_instance *to = failover_candidate(d, lost);
  char msg[256];
  bool kill;

  if (to == NULL) {
    (void) mgo_snprintf(
        msg, sizeof(msg),
        "the MAIN %s is unavailable and no replica may take over: no SYNC/STRICT_SYNC replica "
        "was in sync%s",
        d->c->recorded_main,
        d->c->spec.failover.allow_async_promotion ? " and no ASYNC replica is within failover.maxAsyncLag"
                                                  : " (failover.allowAsyncPromotion is false)");
    rec__warn_event(d, "FailoverBlocked", msg);
    rec__set_cond(&d->main_available, REC_COND_FALSE, "FailoverBlocked", "%s", msg);
    return (struct failover_decision){.outcome = FAILOVER_BLOCKED, .to = NULL};
  }
  rec__fence_label(d, lost, false, "FencedForFailover");
  kill = lost_process_may_run(lost);
  (void) mgo_snprintf(msg, sizeof(msg),
                      "the MAIN %s is unavailable (%s) for %lld ms; promoting %s (%s, %s, %lld behind)%s",
                      d->c->recorded_main, reason, (long long) d->obs->main_unavailable_ms, to->pod,
                      mgo_repl_mode_name(to->last_mode), to->last_in_sync ? "in sync" : "lagging",
                      (long long) to->last_behind, kill ? "; its pod is deleted (grace 0)" : "");
  rec__warn_event(d, "FailoverStarted", msg);
  rec__plan_main_change(d, to, d->c->recorded_main, "failover", reason, msg);
  if (kill)
    plan_kill_before_promote(d, lost);
  return (struct failover_decision){.outcome = FAILOVER_PROMOTING, .to = to};
}

/* A MAIN whose process ended (the pod status says so) is not slow or partitioned: nothing is gained by
 * waiting failoverDelaySec when a SYNC/STRICT_SYNC replica holds every acknowledged write (the restarted
 * process comes back fenced, docs/fencing.md). */
static bool crash_with_sync_candidate(const struct decide *d, const struct rec_instance *lost)
{
  const struct rec_instance *to =
      lost != NULL && lost->pod_exists && lost->crashed ? failover_candidate(d, lost) : NULL;
  return to != NULL && to->last_mode != MGO_MODE_ASYNC && to->last_in_sync;
}

/* "at <since + delay_ms, RFC 3339 UTC>"; "after failover.failoverDelaySec" when since is not a time (not
 * expected: the observation sets it with the outage). */
static void failover_deadline(const char *since, int64_t delay_ms, char *dst, size_t dstsz)
{
  char at[40];
  int64_t wall_ms;
  if (mgo_time_parse_rfc3339(since, &wall_ms) == MGO_OK &&
      mgo_time_format_rfc3339((wall_ms + delay_ms) * 1000000, 3, at, sizeof(at)) == MGO_OK)
    (void) mgo_snprintf(dst, dstsz, "at %s", at);
  else
    (void) mgo_strlcpy(dst, "after failover.failoverDelaySec", dstsz);
}

/* The recorded MAIN does not answer: wait failover.failoverDelaySec, then fail over (when enabled). */
struct failover_decision rec__decide_failover(struct decide *d, const struct main_choice *choice)
{
  const struct mgo_cluster_spec *s = &d->c->spec;
  int64_t delay_ms = (int64_t) s->failover.failover_delay_sec * 1000;

  if (!s->failover.enabled) {
    rec__set_cond(&d->main_available, REC_COND_FALSE, choice->lost_reason,
                  "the MAIN %s %s (automatic failover is disabled)", d->c->recorded_main, choice->lost_what);
    return (struct failover_decision){.outcome = FAILOVER_DISABLED, .to = NULL};
  }
  if (crash_with_sync_candidate(d, choice->lost))
    return plan_failover(d, choice->lost, "MainCrashed");
  if (d->obs->main_unavailable_ms < delay_ms) {
    char at[64];
    failover_deadline(d->obs->main_unavailable_since, delay_ms, at, sizeof(at));
    /* No countdown: the message stays the same for the whole wait, so status is not rewritten every pass. */
    rec__set_cond(&d->main_available, REC_COND_FALSE, choice->lost_reason,
                  "the MAIN %s %s; failover %s unless it recovers", d->c->recorded_main, choice->lost_what,
                  at);
    return (struct failover_decision){.outcome = FAILOVER_WAITING, .to = NULL};
  }
  return plan_failover(d, choice->lost, choice->lost_reason);
}
