/* What every phase of the decision uses: adding actions and conditions to the plan, and reading the
 * observation (see decide_int.h). */
#include "decide_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- plan building ---------------------------------------------------------------------------- */

struct rec_action *rec__add_action(struct decide *d, enum rec_action_type type, const char *pod,
                                   const char *reason)
{
  struct rec_action *a;
  if (d->plan->n >= REC_MAX_ACTIONS) {
    d->overflow = true;
    return NULL;
  }
  a = &d->plan->a[d->plan->n++];
  memset(a, 0, sizeof(*a));
  a->type = type;
  (void) mgo_strlcpy(a->pod, pod != NULL ? pod : "", sizeof(a->pod));
  (void) mgo_strlcpy(a->reason, reason, sizeof(a->reason));
  return a;
}

void rec__set_message(struct rec_action *a, const char *fmt, ...)
{
  va_list ap;
  if (a == NULL)
    return;
  va_start(ap, fmt);
  (void) vsnprintf(a->message, sizeof(a->message), fmt, ap);
  va_end(ap);
}

void rec__set_cond(struct rec__cond *cd, enum rec_cond_status status, const char *reason, const char *fmt,
                   ...)
{
  va_list ap;
  cd->status = status;
  (void) mgo_strlcpy(cd->reason, reason, sizeof(cd->reason));
  va_start(ap, fmt);
  (void) vsnprintf(cd->message, sizeof(cd->message), fmt, ap);
  va_end(ap);
}

/* The first problem wins: later ones do not overwrite a False condition. */
void rec__degrade(struct rec__cond *cd, const char *reason, const char *message)
{
  if (cd->status == REC_COND_FALSE)
    return;
  rec__set_cond(cd, REC_COND_FALSE, reason, "%s", message);
}

void rec__warn_event(struct decide *d, const char *reason, const char *message)
{
  struct rec_action *a = rec__add_action(d, REC_ACT_EVENT, NULL, reason);
  rec__set_message(a, "%s", message);
}

void rec__stop(struct decide *d, const char *reason, const char *message)
{
  struct rec_action *a;
  d->plan->stopped = true;
  d->plan->n = 0; /* only status follows a stop */
  a = rec__add_action(d, REC_ACT_STOP, NULL, reason);
  rec__set_message(a, "%s", message);
  rec__warn_event(d, reason, message);
  rec__set_cond(&d->main_available, REC_COND_FALSE, reason, "%s", message);
}

bool rec_plan_has(const struct rec_plan *plan, enum rec_action_type type)
{
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == type)
      return true;
  }
  return false;
}

bool rec__plans_registration_change(const struct rec_plan *plan)
{
  return rec_plan_has(plan, REC_ACT_REGISTER) || rec_plan_has(plan, REC_ACT_DROP);
}

/* ---- observation helpers ---------------------------------------------------------------------- */

const struct rec_instance *rec__find_pod(const struct rec_observed *obs, const char *pod)
{
  for (size_t i = 0; i < obs->n; i++) {
    if (strcmp(obs->inst[i].pod, pod) == 0)
      return &obs->inst[i];
  }
  return NULL;
}

bool rec__user_fenced(const struct decide *d, const struct rec_instance *in)
{
  return in != NULL && mgo_cluster_instance_fenced(d->c, in->pod);
}

bool rec__is_main(const struct rec_instance *in)
{
  return in->pod_exists && in->reachable && in->role == MGO_ROLE_MAIN;
}

/* A MAIN that may hold writes nobody else has: demoting it could lose them. Unknown counts as data. */
bool rec__may_hold_data(const struct rec_instance *in)
{
  return in->data != REC_DATA_EMPTY;
}

bool rec__version_at_least(const struct rec_instance *in, int major, int minor)
{
  if (in->version_major == 0 && in->version_minor == 0)
    return true; /* unknown: do not block; the query itself fails on an old server */
  return in->version_major > major || (in->version_major == major && in->version_minor >= minor);
}

const struct rec_registration *rec__find_registration(const struct rec_instance *main, const char *name)
{
  for (size_t i = 0; i < main->n_registrations; i++) {
    if (strcmp(main->registrations[i].name, name) == 0)
      return &main->registrations[i];
  }
  return NULL;
}

bool rec_replica_streaming(enum rec_replica_state s)
{
  return s == REC_RS_READY || s == REC_RS_REPLICATING;
}

bool rec_replica_healthy(enum mgo_repl_mode mode, enum rec_replica_state s, int64_t behind)
{
  if (rec_replica_streaming(s))
    return true;
  return mode == MGO_MODE_ASYNC && s == REC_RS_RECOVERY && behind <= 0 &&
         -behind <= REC_ASYNC_CATCHUP_MAX_BEHIND;
}

bool rec_replica_counts_healthy(const struct rec_instance *in, const struct rec_registration *r)
{
  if (r == NULL || !r->has_data_info)
    return false;
  return rec_replica_healthy(r->mode, r->state, r->behind) || in->recently_healthy;
}

bool rec_holds_acknowledged(enum mgo_repl_mode mode, enum rec_replica_state s, int64_t behind)
{
  return rec_replica_streaming(s) && (mode != MGO_MODE_ASYNC || behind == 0);
}

bool rec__in_sync(const struct rec_registration *r)
{
  return r->has_data_info && rec_replica_streaming(r->state) && r->behind == 0;
}

bool rec__streaming(const struct rec_registration *r)
{
  return r->has_data_info && rec_replica_streaming(r->state);
}

/* Counts reachable MAINs other than skip that may hold data; *one receives the last one found. */
int rec__count_mains_with_data(const struct decide *d, const struct rec_instance *skip,
                               const struct rec_instance **one)
{
  int n = 0;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in != skip && rec__is_main(in) && rec__may_hold_data(in) && !rec__user_fenced(d, in)) {
      *one = in;
      n++;
    }
  }
  return n;
}

/* Instance with the newest data (highest known ts; unknown ts ranks below known; then lowest ordinal). */
const struct rec_instance *rec__newest_data(const struct decide *d)
{
  const struct rec_instance *best = NULL;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (!in->pod_exists || !in->reachable || in->data != REC_DATA_PRESENT)
      continue;
    if (best == NULL || in->last_known_ts > best->last_known_ts ||
        (in->last_known_ts == best->last_known_ts && in->ordinal < best->ordinal))
      best = in;
  }
  return best;
}
