/* The pure replication-topology decision. See topology.h for the contract with the executor.
 *
 * Order of a pass: choose the MAIN (recorded one, else bootstrap) -> safety checks on every other MAIN
 * -> role changes (then stop and re-observe) -> registrations on the MAIN -> labels -> conditions,
 * phase, requeue. Safety before liveness: unsure means a condition and a requeue, never a guess. */
#include "topology.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STOP_REQUEUE_SEC 30
/* After REGISTER/DROP: look again soon, so a replica that caught up is reported (and routed to) within a
 * second instead of a whole health interval. */
#define REGISTRATION_REQUEUE_SEC 1

struct cond {
  enum rec_cond_status status;
  char reason[64];
  char message[256];
};

struct wanted;
struct rec_plan;
static bool plans_registration_change(const struct rec_plan *plan);

/* A REGISTER held back until every DROP of the pass is planned (see flush_registers). */
struct deferred_register {
  const struct wanted *w;
  const char *reason;
};

struct decide {
  const struct mgo_cluster *c;
  const struct rec_observed *obs;
  struct rec_plan *plan;
  int desired;
  const struct rec_instance *main;
  bool bootstrap;    /* no MAIN was recorded before this pass */
  bool role_changed; /* a PROMOTE or DEMOTE is planned */
  bool overflow;
  bool strict_sync_reported; /* one StrictSyncUnsupported event per pass */
  bool changing_main;        /* a failover or switchover is planned */
  bool watch_main;           /* the MAIN is down and the failover delay runs: look again soon */
  bool rollout_blocked;      /* Supervised: the MAIN's update waits for approval */
  bool catching_up;          /* a registered, reachable replica is behind: observe again soon */
  bool sync_in_place;        /* the MAIN's usable sync replicas are registered (or by this plan): label it */
  const struct rec_instance *switch_target; /* switchover wanted to this replica */
  const char *switch_reason;
  struct deferred_register registers[MGO_MAX_INSTANCES];
  size_t n_registers;
  struct cond main_available, replicas_ready, replication_healthy;
};

/* ---- plan building ---------------------------------------------------------------------------- */

static struct rec_action *add_action(struct decide *d, enum rec_action_type type, const char *pod,
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

static void set_message(struct rec_action *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_message(struct rec_action *a, const char *fmt, ...)
{
  va_list ap;
  if (a == NULL)
    return;
  va_start(ap, fmt);
  (void) vsnprintf(a->message, sizeof(a->message), fmt, ap);
  va_end(ap);
}

static void set_cond(struct cond *cd, enum rec_cond_status status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_cond(struct cond *cd, enum rec_cond_status status, const char *reason, const char *fmt, ...)
{
  va_list ap;
  cd->status = status;
  (void) mgo_strlcpy(cd->reason, reason, sizeof(cd->reason));
  va_start(ap, fmt);
  (void) vsnprintf(cd->message, sizeof(cd->message), fmt, ap);
  va_end(ap);
}

/* The first problem wins: later ones do not overwrite a False condition. */
static void degrade(struct cond *cd, const char *reason, const char *message)
{
  if (cd->status == REC_COND_FALSE)
    return;
  set_cond(cd, REC_COND_FALSE, reason, "%s", message);
}

static void warn_event(struct decide *d, const char *reason, const char *message)
{
  struct rec_action *a = add_action(d, REC_ACT_EVENT, NULL, reason);
  set_message(a, "%s", message);
}

/* ---- observation helpers ---------------------------------------------------------------------- */

static const struct rec_instance *find_pod(const struct rec_observed *obs, const char *pod)
{
  for (size_t i = 0; i < obs->n; i++) {
    if (strcmp(obs->inst[i].pod, pod) == 0)
      return &obs->inst[i];
  }
  return NULL;
}

static bool is_main(const struct rec_instance *in)
{
  return in->pod_exists && in->reachable && in->role == MGO_ROLE_MAIN;
}

/* A MAIN that may hold writes nobody else has: demoting it could lose them. Unknown counts as data. */
static bool may_hold_data(const struct rec_instance *in)
{
  return in->data != REC_DATA_EMPTY;
}

static bool version_at_least(const struct rec_instance *in, int major, int minor)
{
  if (in->version_major == 0 && in->version_minor == 0)
    return true; /* unknown: do not block; the query itself fails on an old server */
  return in->version_major > major || (in->version_major == major && in->version_minor >= minor);
}

static const struct rec_registration *find_registration(const struct rec_instance *main, const char *name)
{
  for (size_t i = 0; i < main->n_registrations; i++) {
    if (strcmp(main->registrations[i].name, name) == 0)
      return &main->registrations[i];
  }
  return NULL;
}

static bool in_sync(const struct rec_registration *r)
{
  return r->has_data_info && (r->state == REC_RS_READY || r->state == REC_RS_REPLICATING) && r->behind == 0;
}

/* ---- choosing the MAIN ------------------------------------------------------------------------ */

static void stop(struct decide *d, const char *reason, const char *message)
{
  struct rec_action *a;
  d->plan->stopped = true;
  d->plan->n = 0; /* only status follows a stop */
  a = add_action(d, REC_ACT_STOP, NULL, reason);
  set_message(a, "%s", message);
  warn_event(d, reason, message);
  set_cond(&d->main_available, REC_COND_FALSE, reason, "%s", message);
}

/* Counts reachable MAINs other than skip that may hold data; *one receives the last one found. */
static int count_mains_with_data(const struct decide *d, const struct rec_instance *skip,
                                 const struct rec_instance **one)
{
  int n = 0;
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in != skip && is_main(in) && may_hold_data(in)) {
      *one = in;
      n++;
    }
  }
  return n;
}

/* Instance with the newest data (highest known ts; unknown ts ranks below known; then lowest ordinal). */
static const struct rec_instance *newest_data(const struct decide *d)
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

static const struct rec_instance *first_silent_unfenced(const struct decide *d)
{
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in->pod_exists && !in->pod_terminating && !in->reachable && strcmp(in->pod, d->obs->fenced_main) != 0)
      return in;
  }
  return NULL;
}

static void record_main(struct decide *d, const struct rec_instance *main, const char *reason,
                        const char *why)
{
  struct rec_action *a = add_action(d, REC_ACT_RECORD_MAIN, main->pod, reason);
  set_message(a, "%s becomes the recorded MAIN: %s", main->pod, why);
  d->main = main;
}

/* No MAIN recorded: pick one (existing MAIN with data > newest data > lowest ordinal). */
static void choose_bootstrap_main(struct decide *d)
{
  const struct rec_instance *silent = first_silent_pod(d);
  const struct rec_instance *with_data = NULL;
  const struct rec_instance *pick;
  int mains = count_mains_with_data(d, NULL, &with_data);

  if (mains > 1) {
    stop(d, "MultipleMainsWithData",
         "several instances are MAIN and may hold data; refusing to pick one (resolve manually: keep the one "
         "with the newest data, wipe the others)");
    return;
  }
  if (silent != NULL) {
    set_cond(&d->main_available, REC_COND_FALSE, "WaitingForInstances",
             "waiting for %s to answer before choosing the MAIN", silent->pod);
    return;
  }
  if (mains == 1) {
    record_main(d, with_data, "ExistingMainWithData", "it is already MAIN and holds data");
    return;
  }
  pick = newest_data(d);
  if (pick != NULL) {
    record_main(d, pick, "NewestData", "it holds the newest data");
    return;
  }
  pick = lowest_reachable(d);
  if (pick != NULL)
    record_main(d, pick, "LowestOrdinal", "no instance holds data; the lowest ordinal is chosen");
  else
    set_cond(&d->main_available, REC_COND_FALSE, "NoInstanceReachable", "no instance answers over Bolt yet");
}

/* The recorded MAIN answers as a REPLICA. */
static void recorded_main_is_replica(struct decide *d, const struct rec_instance *rec)
{
  const struct rec_instance *other = NULL;
  int others = count_mains_with_data(d, rec, &other);

  if (others > 1) {
    stop(d, "MultipleMainsWithData", "the recorded MAIN is a REPLICA and several other instances are MAIN");
    return;
  }
  if (others == 1) {
    record_main(d, other, "ObservedMainChanged", "the recorded MAIN is a REPLICA and this instance is MAIN");
    warn_event(d, "ObservedMainChanged", d->plan->a[d->plan->n - 1].message);
    return;
  }
  if (rec->data == REC_DATA_EMPTY && newest_data(d) != NULL) {
    stop(d, "MainDataLost",
         "the recorded MAIN is an empty REPLICA while other instances hold data; refusing to promote it");
    return;
  }
  if (first_silent_unfenced(d) != NULL) {
    /* A silent pod might be a MAIN promoted by someone else: promoting back could make two. The MAIN a
     * failover of ours fenced is exempt: it is off the Services and demoted on sight. */
    set_cond(&d->main_available, REC_COND_FALSE, "WaitingForInstances",
             "the recorded MAIN %s is a REPLICA; waiting for %s to answer before promoting it", rec->pod,
             first_silent_unfenced(d)->pod);
    return;
  }
  d->main = rec;
}

/* The recorded MAIN came back empty (new volume) while replicas hold data: registering them to it would
 * make them diverge, and a re-seed would then wipe the only copies. */
static bool main_lost_its_data(const struct decide *d, const struct rec_instance *rec)
{
  const struct rec_instance *newest = newest_data(d);
  return rec->data == REC_DATA_EMPTY && newest != NULL && newest != rec;
}

/* ---- failover ------------------------------------------------------------------------------------ */

/* Fit to take over: answering as a REPLICA on a ready pod of the desired set, and seen registered on the
 * lost MAIN (so its recency is known). */
static bool failover_eligible(const struct decide *d, const struct rec_instance *in)
{
  return in->pod_exists && in->pod_ready && !in->pod_terminating && in->reachable &&
         in->role == MGO_ROLE_REPLICA && in->ordinal < d->desired && in->last_registered;
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

/* Takes in off the write Service (and off the read Service unless keep_readable); NULL when its labels
 * already say so. */
static struct rec_action *fence_label(struct decide *d, const struct rec_instance *in, bool keep_readable,
                                      const char *reason)
{
  struct rec_action *a;
  if (in == NULL || !in->pod_exists)
    return NULL;
  if (in->label_role != MGO_ROLE_MAIN && (!in->label_readable || keep_readable))
    return NULL;
  a = add_action(d, REC_ACT_LABEL, in->pod, reason);
  if (a == NULL)
    return NULL;
  a->role = MGO_ROLE_UNKNOWN;
  a->readable = keep_readable && in->label_readable;
  set_message(a, "%s is taken out of the write Service before the MAIN changes", in->pod);
  return a;
}

/* RECORD_MAIN (with what a failover or switchover needs for status) then PROMOTE; roles change. */
static void plan_main_change(struct decide *d, const struct rec_instance *to, const char *from,
                             const char *kind, const char *reason, const char *why)
{
  struct rec_action *a = add_action(d, REC_ACT_RECORD_MAIN, to->pod, reason);
  if (a != NULL) {
    (void) mgo_strlcpy(a->from, from, sizeof(a->from));
    (void) mgo_strlcpy(a->kind, kind, sizeof(a->kind));
    if (strcmp(kind, "failover") == 0)
      (void) mgo_strlcpy(a->fenced, from, sizeof(a->fenced));
    a->mode = to->last_mode;
    a->behind = to->last_behind;
  }
  set_message(a, "%s becomes the recorded MAIN: %s", to->pod, why);
  a = add_action(d, REC_ACT_PROMOTE, to->pod, reason);
  set_message(a, "promote %s to MAIN (%s from %s)", to->pod, kind, from);
  /* Not labelled here: it joins the write Service once its sync replicas are registered (plan_labels). */
  d->main = to;
  d->role_changed = true;
  d->changing_main = true;
  set_cond(&d->main_available, REC_COND_FALSE,
           strcmp(kind, "failover") == 0 ? "FailoverInProgress" : "SwitchoverInProgress",
           "%s: %s replaces %s", kind, to->pod, from);
}

static void plan_failover(struct decide *d, const struct rec_instance *lost, const char *reason)
{
  const struct rec_instance *to = failover_candidate(d, lost);
  char msg[256];

  if (to == NULL) {
    (void) mgo_snprintf(
        msg, sizeof(msg),
        "the MAIN %s is unavailable and no replica may take over: no SYNC/STRICT_SYNC replica "
        "was in sync%s",
        d->c->recorded_main,
        d->c->spec.failover.allow_async_promotion ? " and no ASYNC replica is within failover.maxAsyncLag"
                                                  : " (failover.allowAsyncPromotion is false)");
    warn_event(d, "FailoverBlocked", msg);
    set_cond(&d->main_available, REC_COND_FALSE, "FailoverBlocked", "%s", msg);
    return;
  }
  fence_label(d, lost, false, "FencedForFailover");
  (void) mgo_snprintf(msg, sizeof(msg),
                      "the MAIN %s is unavailable (%s) for %lld ms; promoting %s (%s, %s, %lld behind)",
                      d->c->recorded_main, reason, (long long) d->obs->main_unavailable_ms, to->pod,
                      mgo_repl_mode_name(to->last_mode), to->last_in_sync ? "in sync" : "lagging",
                      (long long) to->last_behind);
  warn_event(d, "FailoverStarted", msg);
  plan_main_change(d, to, d->c->recorded_main, "failover", reason, msg);
}

/* The recorded MAIN does not answer: wait failover.failoverDelaySec, then fail over (when enabled). */
static void main_unavailable(struct decide *d, const struct rec_instance *rec, const char *reason,
                             const char *what)
{
  const struct mgo_cluster_spec *s = &d->c->spec;
  int64_t delay_ms = (int64_t) s->failover.failover_delay_sec * 1000;

  if (!s->failover.enabled) {
    set_cond(&d->main_available, REC_COND_FALSE, reason, "the MAIN %s %s (automatic failover is disabled)",
             d->c->recorded_main, what);
    return;
  }
  if (d->obs->main_unavailable_ms < delay_ms) {
    set_cond(&d->main_available, REC_COND_FALSE, reason,
             "the MAIN %s %s; failover in %lld ms unless it recovers", d->c->recorded_main, what,
             (long long) (delay_ms - d->obs->main_unavailable_ms));
    d->watch_main = true;
    return;
  }
  plan_failover(d, rec, reason);
}

static void choose_recorded_main(struct decide *d)
{
  const struct rec_instance *rec = find_pod(d->obs, d->c->recorded_main);

  if (rec == NULL || !rec->pod_exists) {
    main_unavailable(d, rec, "MainPodMissing", "has no pod");
    return;
  }
  if (!rec->reachable) {
    main_unavailable(d, rec, "MainUnreachable",
                     rec->pod_ready ? "does not answer over Bolt" : "is not ready");
    return;
  }
  if (rec->role == MGO_ROLE_REPLICA) {
    recorded_main_is_replica(d, rec);
    return;
  }
  if (main_lost_its_data(d, rec)) {
    stop(d, "MainDataLost",
         "the recorded MAIN is empty while replicas hold data (was its volume replaced?); refusing to "
         "register "
         "them to it");
    return;
  }
  d->main = rec;
}

/* ---- role changes ----------------------------------------------------------------------------- */

/* Another MAIN besides the chosen one. Empty: demote. With data: if it is the MAIN our failover fenced, it
 * is expected back and demoted; otherwise it is reported (condition, event, metric) and fenced the same
 * way: the chosen MAIN is the one the replicas follow, so it keeps the role. */
static void demote_other_main(struct decide *d, const struct rec_instance *in)
{
  bool fenced = strcmp(in->pod, d->obs->fenced_main) == 0;
  const char *reason = !may_hold_data(in) ? "EmptyMainDemoted"
                       : fenced           ? "FencedMainDemoted"
                                          : "SecondMainDemoted";
  struct rec_action *a;

  if (may_hold_data(in) && !fenced) {
    char msg[256];
    (void) mgo_snprintf(
        msg, sizeof(msg),
        "%s is MAIN besides the recorded MAIN %s and may hold data; it is taken off the Services "
        "and demoted (its own writes make it diverged: re-seed per failover.reseedPolicy)",
        in->pod, d->main->pod);
    d->plan->multiple_mains = true;
    warn_event(d, "MultipleMainsObserved", msg);
    degrade(&d->replication_healthy, "MultipleMainsObserved", msg);
  }
  if (may_hold_data(in))
    fence_label(d, in, false, fenced ? "FencedMainReturned" : "MultipleMainsObserved");
  a = add_action(d, REC_ACT_DEMOTE, in->pod, reason);
  if (a != NULL)
    a->port = d->c->spec.replication.port;
  set_message(a, "%s is %s MAIN; it becomes a REPLICA of %s", in->pod,
              !may_hold_data(in) ? "an empty"
              : fenced           ? "the fenced old"
                                 : "a second",
              d->main->pod);
  d->role_changed = true;
}

static void plan_role_changes(struct decide *d)
{
  const struct rec_instance *main = d->main;
  const struct rec_instance *other = NULL;
  struct rec_action *a;
  bool main_sure = main->role == MGO_ROLE_MAIN && main->data == REC_DATA_PRESENT;

  if (count_mains_with_data(d, main, &other) > 0 && !main_sure) {
    char msg[256];
    (void) mgo_snprintf(msg, sizeof(msg),
                        "%s is MAIN besides %s and may hold data; demoting it could lose writes", other->pod,
                        main->pod);
    stop(d, "MultipleMainsWithData", msg);
    return;
  }
  if (main->role == MGO_ROLE_REPLICA) {
    a = add_action(d, REC_ACT_PROMOTE, main->pod, "PromoteChosenMain");
    set_message(a, "promote %s to MAIN", main->pod);
    d->role_changed = true;
  }
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in != main && is_main(in))
      demote_other_main(d, in);
  }
}

/* ---- registrations ---------------------------------------------------------------------------- */

struct wanted {
  const struct rec_instance *in;
  char name[MGO_NAME_MAX];
  char address[MGO_ADDR_MAX];
  enum mgo_repl_mode mode;
  bool healthy;
  bool holds_sync;
};

/* Fit for a sync slot: answering, ready, in sync (or not registered yet) and able to run the mode. */
static bool healthy_replica(const struct decide *d, const struct rec_instance *in,
                            const struct rec_registration *r)
{
  if (!in->pod_exists || !in->reachable || !in->pod_ready || in->role != MGO_ROLE_REPLICA)
    return false;
  if (d->c->spec.replication.sync_mode == MGO_MODE_STRICT_SYNC && !version_at_least(in, 3, 5))
    return false;
  return r == NULL || in_sync(r);
}

/* True when a outranks b for a sync slot: healthy first, then the current holder, then lowest ordinal. */
static bool ranks_before(const struct wanted *a, const struct wanted *b)
{
  if (a->healthy != b->healthy)
    return a->healthy;
  if (a->holds_sync != b->holds_sync)
    return a->holds_sync;
  return a->in->ordinal < b->in->ordinal;
}

static void assign_modes(struct decide *d, struct wanted *w, size_t n)
{
  const struct mgo_cluster_spec *s = &d->c->spec;
  bool taken[MGO_MAX_INSTANCES] = {false};

  for (size_t i = 0; i < n; i++)
    w[i].mode = s->replication.mode;
  for (int slot = 0; slot < s->replication.sync_replicas; slot++) {
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
      if (!taken[i] && (best == n || ranks_before(&w[i], &w[best])))
        best = i;
    }
    if (best == n)
      return;
    taken[best] = true;
    w[best].mode = s->replication.sync_mode;
  }
}

/* The replicas this cluster wants: every desired ordinal except the MAIN's. Returns how many. */
static size_t wanted_replicas(struct decide *d, struct wanted *w)
{
  size_t n = 0;
  for (size_t i = 0; i < d->obs->n && n < MGO_MAX_INSTANCES; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    const struct rec_registration *r;
    if (in == d->main || in->ordinal >= d->desired)
      continue;
    memset(&w[n], 0, sizeof(w[n]));
    w[n].in = in;
    (void) mgo_replica_name(in->pod, w[n].name, sizeof(w[n].name));
    (void) mgo_name_replica_address(d->c, in->ordinal, w[n].address, sizeof(w[n].address));
    r = find_registration(d->main, w[n].name);
    w[n].healthy = healthy_replica(d, in, r);
    w[n].holds_sync = r != NULL && r->mode != MGO_MODE_ASYNC && r->mode == d->c->spec.replication.sync_mode;
    n++;
  }
  assign_modes(d, w, n);
  for (size_t i = 0; i < n; i++) {
    if (w[i].in == d->switch_target)
      w[i].mode = d->c->spec.replication.sync_mode; /* every write reaches it before it takes over */
  }
  return n;
}

static void plan_drop(struct decide *d, const char *name, const char *pod, const char *reason,
                      const char *why)
{
  struct rec_action *a = add_action(d, REC_ACT_DROP, d->main->pod, reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->replica, name, sizeof(a->replica));
  (void) mgo_strlcpy(a->replica_pod, pod, sizeof(a->replica_pod));
  set_message(a, "drop replica %s on %s: %s", name, d->main->pod, why);
}

/* Registrations are planned after all drops: a mode change (SYNC -> STRICT_SYNC, or the sync slot
 * moving) then never has SYNC and STRICT_SYNC replicas registered at the same moment. */
static void plan_register(struct decide *d, const struct wanted *w, const char *reason)
{
  if (d->n_registers < MGO_MAX_INSTANCES) {
    d->registers[d->n_registers].w = w;
    d->registers[d->n_registers].reason = reason;
    d->n_registers++;
  }
}

static void emit_register(struct decide *d, const struct wanted *w, const char *reason)
{
  struct rec_action *a = add_action(d, REC_ACT_REGISTER, d->main->pod, reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->replica, w->name, sizeof(a->replica));
  (void) mgo_strlcpy(a->replica_pod, w->in->pod, sizeof(a->replica_pod));
  (void) mgo_strlcpy(a->replica_pod_uid, w->in->pod_uid, sizeof(a->replica_pod_uid));
  (void) mgo_strlcpy(a->address, w->address, sizeof(a->address));
  a->replica_restart_count = w->in->restart_count;
  a->mode = w->mode;
  set_message(a, "register %s as %s replica of %s at %s", w->name, mgo_repl_mode_name(w->mode), d->main->pod,
              w->address);
}

/* Registrations on the MAIN that match no wanted replica (scale-down, foreign names) are dropped. */
static void plan_unwanted_drops(struct decide *d, const struct wanted *w, size_t n)
{
  for (size_t i = 0; i < d->main->n_registrations; i++) {
    const struct rec_registration *r = &d->main->registrations[i];
    bool wanted = false;
    for (size_t j = 0; j < n && !wanted; j++)
      wanted = strcmp(w[j].name, r->name) == 0;
    if (!wanted)
      plan_drop(d, r->name, "", "NotDesired", "no desired replica has this name (scale-down or foreign)");
  }
}

static bool restarted_since_registration(const struct rec_instance *in)
{
  if (in->registered_pod_uid[0] == '\0')
    return false;
  return strcmp(in->registered_pod_uid, in->pod_uid) != 0 || in->restart_count > in->registered_restart_count;
}

/* A new pod incarnation (UID) since the registration: a re-seeded replica, whatever the MAIN still says. */
static bool replaced_since_registration(const struct rec_instance *in)
{
  return in->registered_pod_uid[0] != '\0' && strcmp(in->registered_pod_uid, in->pod_uid) != 0;
}

static void plan_reregister(struct decide *d, const struct wanted *w, const char *reason, const char *why)
{
  plan_drop(d, w->name, w->in->pod, reason, why);
  plan_register(d, w, reason);
}

static void record_registration(struct decide *d, const struct wanted *w, const char *reason)
{
  struct rec_action *a = add_action(d, REC_ACT_RECORD_REGISTRATION, w->in->pod, reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->replica_pod, w->in->pod, sizeof(a->replica_pod));
  (void) mgo_strlcpy(a->replica_pod_uid, w->in->pod_uid, sizeof(a->replica_pod_uid));
  a->replica_restart_count = w->in->restart_count;
  set_message(a, "%s is registered and healthy; remember its pod UID and restart count", w->in->pod);
}

/* A diverged replica holds writes the MAIN does not have: no registration change helps. Automatic policy:
 * re-seed it (never the MAIN, only while the MAIN surely holds data); Manual: report and leave it. */
static void plan_diverged(struct decide *d, const struct wanted *w)
{
  bool automatic =
      d->c->spec.failover.reseed_policy == MGO_RESEED_AUTOMATIC && d->main->data == REC_DATA_PRESENT;
  struct rec_action *a = automatic ? add_action(d, REC_ACT_RESEED, w->in->pod, "ReplicaDiverged") : NULL;
  char msg[256];
  if (a != NULL) {
    (void) mgo_strlcpy(a->replica, w->name, sizeof(a->replica));
    (void) mgo_strlcpy(a->replica_pod, w->in->pod, sizeof(a->replica_pod));
    (void) mgo_strlcpy(a->replica_pod_uid, w->in->pod_uid, sizeof(a->replica_pod_uid));
  }
  (void) mgo_snprintf(
      msg, sizeof(msg), "%s has diverged from the MAIN %s (it holds writes the MAIN does not have); %s",
      w->in->pod, d->main->pod,
      automatic ? "re-seeding it: its data is wiped and it is registered again"
                : "failover.reseedPolicy is Manual: inspect it, then delete its data to re-seed");
  set_message(a, "%s", msg);
  warn_event(d, "ReplicaDiverged", msg);
  degrade(&d->replication_healthy, "ReplicaDiverged", msg);
}

/* A registration that exists for a reachable REPLICA: keep it, repair it or report it. */
static void plan_existing(struct decide *d, const struct wanted *w, const struct rec_registration *r)
{
  if (strcmp(r->address, w->address) != 0) {
    plan_reregister(d, w, "WrongAddress", "registered with another address; there is no ALTER REPLICA");
  } else if (r->mode != w->mode) {
    plan_reregister(d, w, "WrongMode", "registered with another mode; there is no ALTER REPLICA");
  } else if (!r->has_data_info) {
    plan_reregister(d, w, "BrokenRegistration", "listed without replication clients (a failed REGISTER)");
  } else if (restarted_since_registration(w->in)) {
    if (in_sync(r) || r->state == REC_RS_RECOVERY)
      record_registration(d, w, "RestartHealed");
    else
      plan_reregister(d, w, "PodRestarted", "the replica's pod restarted and the MAIN reports it invalid");
  } else if (w->in->registered_pod_uid[0] == '\0') {
    if (in_sync(r) || r->state == REC_RS_RECOVERY)
      record_registration(d, w, "RegistrationAdopted");
    else
      plan_reregister(d, w, "RegistrationInvalid", "an invalid registration the operator has no record of");
  } else if (r->state == REC_RS_INVALID) {
    degrade(&d->replication_healthy, "ReplicaInvalid", "a replica is reported invalid by the MAIN");
  }
}

static bool strict_sync_supported(const struct decide *d, const struct wanted *w)
{
  if (w->mode != MGO_MODE_STRICT_SYNC)
    return true;
  return version_at_least(d->main, 3, 5) && version_at_least(w->in, 3, 5);
}

static void plan_one_replica(struct decide *d, const struct wanted *w)
{
  const struct rec_registration *r = find_registration(d->main, w->name);
  bool usable = w->in->pod_exists && w->in->reachable && w->in->role == MGO_ROLE_REPLICA;

  if (usable && r != NULL && r->state == REC_RS_DIVERGED && replaced_since_registration(w->in)) {
    plan_reregister(d, w, "PodReplaced", "the diverged replica's pod was replaced (re-seeded)");
    return;
  }
  if (usable && ((r != NULL && r->state == REC_RS_DIVERGED) || (r == NULL && w->in->register_diverged))) {
    plan_diverged(d, w);
    return;
  }
  if (!strict_sync_supported(d, w)) {
    char msg[256];
    (void) mgo_snprintf(msg, sizeof(msg), "STRICT_SYNC needs Memgraph 3.5 or newer on %s and %s",
                        d->main->pod, w->in->pod);
    if (!d->strict_sync_reported)
      warn_event(d, "StrictSyncUnsupported", msg);
    d->strict_sync_reported = true;
    degrade(&d->replication_healthy, "StrictSyncUnsupported", msg);
    return;
  }
  if (!usable) {
    if (r != NULL && strcmp(r->address, w->address) != 0)
      plan_drop(d, w->name, w->in->pod, "WrongAddress", "registered with another address");
    return;
  }
  if (r == NULL)
    plan_register(d, w, "NotRegistered");
  else
    plan_existing(d, w, r);
}

/* ---- status ----------------------------------------------------------------------------------- */

static bool replica_ready(const struct decide *d, const struct wanted *w)
{
  const struct rec_registration *r = find_registration(d->main, w->name);
  return w->in->pod_exists && w->in->reachable && w->in->pod_ready && r != NULL && r->mode == w->mode &&
         strcmp(r->address, w->address) == 0 && in_sync(r);
}

static void summarize_replicas(struct decide *d, const struct wanted *w, size_t n)
{
  int ready = 0;
  const struct wanted *first_bad = NULL;
  for (size_t i = 0; i < n; i++) {
    const struct rec_registration *r = find_registration(d->main, w[i].name);
    if (replica_ready(d, &w[i]))
      ready++;
    else if (first_bad == NULL)
      first_bad = &w[i];
    /* A reachable replica catching up: watch it closely, so the recency a failover relies on is fresh. */
    if (r != NULL && w[i].in->reachable && r->has_data_info && !in_sync(r) &&
        (r->state == REC_RS_RECOVERY || r->state == REC_RS_READY || r->state == REC_RS_REPLICATING))
      d->catching_up = true;
  }
  d->plan->ready_replicas = ready;
  if (first_bad == NULL && ready == d->desired - 1)
    set_cond(&d->replicas_ready, REC_COND_TRUE, "AllReplicasReady", "%d/%d replicas registered and in sync",
             ready, d->desired - 1);
  else if (first_bad != NULL)
    set_cond(&d->replicas_ready, REC_COND_FALSE, "ReplicasNotReady",
             "%d/%d replicas registered and in sync; %s is not", ready, d->desired - 1, first_bad->in->pod);
  else
    set_cond(&d->replicas_ready, REC_COND_FALSE, "ReplicasMissing", "%d/%d replicas have a pod", ready,
             d->desired - 1);
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
  r = find_registration(d->main, name);
  *readable = r != NULL && r->has_data_info && (r->state == REC_RS_READY || r->state == REC_RS_REPLICATING);
}

/* Labels follow observed roles; pods that do not answer keep theirs. */
static void plan_labels(struct decide *d)
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
    if (role == MGO_ROLE_MAIN && in->label_role != MGO_ROLE_MAIN && !d->sync_in_place)
      continue; /* labelled once its sync replicas are registered */
    if (role != MGO_ROLE_UNKNOWN)
      readable_of(d, in, &readable);
    if (in->label_role == role && in->label_readable == readable)
      continue;
    a = add_action(d, REC_ACT_LABEL, in->pod, role == in->role ? "RoleObserved" : "NotTheChosenMain");
    if (a == NULL)
      return;
    a->role = role;
    a->readable = readable;
    set_message(a, "%s answers as %s", in->pod, mgo_role_name(in->role));
  }
}

/* After a stop, the only label change is taking every MAIN but the chosen one out of the Services: off
 * the write Service (never two MAINs behind it) and off the read Service too, because a MAIN still labelled
 * as a readable replica would take writes from clients that believe they talk to a replica. */
static void plan_fence_labels(struct decide *d)
{
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in == d->main || !is_main(in))
      continue;
    set_message(fence_label(d, in, false, "NotTheChosenMain"),
                "%s is MAIN but not the chosen one: removed from the write and read Services", in->pod);
  }
}

static void add_condition(struct decide *d, const char *type, const struct cond *cd)
{
  struct rec_action *a = add_action(d, REC_ACT_CONDITION, NULL, cd->reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->cond_type, type, sizeof(a->cond_type));
  a->cond_status = cd->status;
  set_message(a, "%s", cd->message);
}

static const char *phase_of(const struct decide *d, bool ready)
{
  if (d->plan->stopped)
    return "Failed";
  if (ready)
    return "Running";
  if (d->bootstrap && d->main == NULL && strcmp(d->main_available.reason, "NoInstanceReachable") == 0)
    return "Pending";
  if (d->bootstrap)
    return "Initializing";
  return "Degraded";
}

static bool plans_registration_change(const struct rec_plan *plan)
{
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == REC_ACT_REGISTER || plan->a[i].type == REC_ACT_DROP)
      return true;
  }
  return false;
}

static void finish_status(struct decide *d)
{
  const struct cond *conds[] = {&d->main_available, &d->replicas_ready, &d->replication_healthy};
  struct cond ready = {REC_COND_TRUE, "Ready", "the MAIN accepts writes and every replica is in sync"};
  struct rec_action *a;
  int32_t after = d->c->spec.replication.health_check_interval_sec;

  for (size_t i = 0; i < 3; i++) {
    if (conds[i]->status != REC_COND_TRUE && ready.status == REC_COND_TRUE)
      set_cond(&ready, REC_COND_FALSE, conds[i]->reason, "%s", conds[i]->message);
  }
  add_condition(d, "MainAvailable", &d->main_available);
  add_condition(d, "ReplicasReady", &d->replicas_ready);
  add_condition(d, "ReplicationHealthy", &d->replication_healthy);
  add_condition(d, "Ready", &ready);
  a = add_action(d, REC_ACT_PHASE, NULL, ready.reason);
  if (a != NULL)
    (void) mgo_strlcpy(a->phase, phase_of(d, ready.status == REC_COND_TRUE), sizeof(a->phase));
  set_message(a, "%s", ready.message);
  const char *why = "Periodic";
  if (d->role_changed) {
    after = 0;
    why = "ReobserveAfterRoleChange";
  } else if (d->plan->stopped) {
    after = STOP_REQUEUE_SEC;
  } else if (d->watch_main) {
    after = 1;
    why = "WatchUnavailableMain";
  } else if (d->catching_up && after > 1) {
    after = 1;
    why = "WatchCatchUp";
  } else if (plans_registration_change(d->plan) && after > REGISTRATION_REQUEUE_SEC) {
    after = REGISTRATION_REQUEUE_SEC;
    why = "ReobserveAfterRegistration";
  }
  a = add_action(d, REC_ACT_REQUEUE, NULL, why);
  if (a != NULL)
    a->after_sec = after;
  set_message(a, "next observation");
}

/* ---- the pass --------------------------------------------------------------------------------- */

static void init_decide(struct decide *d, const struct mgo_cluster *c, const struct rec_observed *obs,
                        struct rec_plan *plan)
{
  memset(d, 0, sizeof(*d));
  memset(plan, 0, sizeof(*plan));
  d->c = c;
  d->obs = obs;
  d->plan = plan;
  d->desired = c->spec.instances;
  d->bootstrap = c->recorded_main[0] == '\0';
  set_cond(&d->main_available, REC_COND_TRUE, "MainReady", "the MAIN answers and is ready");
  set_cond(&d->replicas_ready, REC_COND_UNKNOWN, "MainUnavailable",
           "replicas are only seen through the MAIN");
  set_cond(&d->replication_healthy, REC_COND_TRUE, "Healthy",
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
    keep = keep || (d->main != NULL && find_registration(d->main, name) != NULL);
    if (keep)
      allowed = at_least(allowed, in->ordinal + 1);
  }
  d->plan->allowed_pods = allowed;
}

static bool register_planned(const struct decide *d, const struct rec_instance *in)
{
  for (size_t i = 0; i < d->n_registers; i++) {
    if (d->registers[i].w->in == in)
      return true;
  }
  return false;
}

/* A MAIN joins the write Service only when every usable replica that should be SYNC/STRICT_SYNC is
 * registered so (or is registered by this plan, whose LABEL runs only after its REGISTERs succeeded):
 * otherwise it would acknowledge writes that exist on it alone (e.g. right after a failover). Replicas
 * that do not answer, or that diverged, do not hold it back. */
static bool sync_replicas_in_place(const struct decide *d, const struct wanted *w, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    const struct rec_instance *in = w[i].in;
    const struct rec_registration *r = find_registration(d->main, w[i].name);
    bool usable = in->pod_exists && in->reachable && in->pod_ready && in->role == MGO_ROLE_REPLICA;
    bool diverged = in->register_diverged || (r != NULL && r->state == REC_RS_DIVERGED);
    if (w[i].mode == MGO_MODE_ASYNC || !usable || diverged || !strict_sync_supported(d, &w[i]))
      continue;
    if (r == NULL && !register_planned(d, in))
      return false;
  }
  return true;
}

static void plan_replication(struct decide *d)
{
  struct wanted w[MGO_MAX_INSTANCES];
  size_t n;

  if (!d->main->replicas_known) {
    set_cond(&d->replicas_ready, REC_COND_UNKNOWN, "ReplicasUnknown",
             "SHOW REPLICAS did not answer on the MAIN");
    return;
  }
  n = wanted_replicas(d, w);
  plan_unwanted_drops(d, w, n);
  for (size_t i = 0; i < n; i++)
    plan_one_replica(d, &w[i]);
  for (size_t i = 0; i < d->n_registers; i++)
    emit_register(d, d->registers[i].w, d->registers[i].reason);
  d->sync_in_place = sync_replicas_in_place(d, w, n);
  summarize_replicas(d, w, n);
}

/* ---- switchover and rolling updates ---------------------------------------------------------------- */

/* Fit to become MAIN by a switchover: a ready REPLICA of the desired set on the current pod template. */
static bool switch_candidate(const struct decide *d, const struct rec_instance *in)
{
  return in != d->main && in->pod_exists && in->pod_ready && !in->pod_terminating && in->reachable &&
         in->role == MGO_ROLE_REPLICA && in->ordinal < d->desired && !in->outdated;
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
    r = find_registration(d->main, name);
    sync = r != NULL && r->mode != MGO_MODE_ASYNC && in_sync(r);
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
static void choose_switch_target(struct decide *d)
{
  const struct mgo_cluster_spec *s = &d->c->spec;
  bool main_only = false;
  if (d->main->role != MGO_ROLE_MAIN || d->main->data == REC_DATA_UNKNOWN || !d->main->replicas_known)
    return;
  if (d->main->ordinal >= d->desired) {
    d->switch_target = best_switch_candidate(d);
    d->switch_reason = "ScaleDown";
  } else if (rollout_pending(d, &main_only) && main_only) {
    if (s->update_strategy == MGO_UPDATE_SUPERVISED && !d->obs->main_update_approved) {
      d->rollout_blocked = true; /* reported after the replicas are summarized */
      return;
    }
    d->switch_target = best_switch_candidate(d);
    d->switch_reason = "RollingUpdate";
  } else if (s->switchover_target_ordinal >= 0 && s->switchover_target_ordinal < d->desired &&
             s->switchover_target_ordinal != d->main->ordinal) {
    for (size_t i = 0; i < d->obs->n; i++) {
      if (d->obs->inst[i].ordinal == s->switchover_target_ordinal)
        d->switch_target = &d->obs->inst[i];
    }
    d->switch_reason = "Requested";
  }
}

/* Remove the MAIN from the write Service, demote it, record and promote the target (caught up in a
 * synchronous mode, so every acknowledged write is on it), re-observe. */
static void plan_switchover(struct decide *d)
{
  const struct rec_instance *old = d->main, *to = d->switch_target;
  char name[MGO_NAME_MAX], why[256];
  const struct rec_registration *r;
  struct rec_action *a;

  if (to == NULL || !switch_candidate(d, to)) {
    set_cond(&d->replicas_ready, REC_COND_FALSE, "SwitchoverPending",
             "a switchover (%s) waits for a ready replica on the current pod template", d->switch_reason);
    return;
  }
  (void) mgo_replica_name(to->pod, name, sizeof(name));
  r = find_registration(old, name);
  if (plans_registration_change(d->plan) || r == NULL || r->mode != d->c->spec.replication.sync_mode ||
      !in_sync(r)) {
    set_cond(&d->replicas_ready, REC_COND_FALSE, "SwitchoverPending",
             "switchover (%s) to %s waits until it is registered %s and caught up", d->switch_reason, to->pod,
             mgo_repl_mode_name(d->c->spec.replication.sync_mode));
    return;
  }
  fence_label(d, old, true, "SwitchoverFence");
  a = add_action(d, REC_ACT_DEMOTE, old->pod, "Switchover");
  if (a != NULL)
    a->port = d->c->spec.replication.port;
  set_message(a, "%s hands the MAIN role to %s (%s)", old->pod, to->pod, d->switch_reason);
  (void) mgo_snprintf(why, sizeof(why), "switchover (%s) from %s, caught up in %s mode", d->switch_reason,
                      old->pod, mgo_repl_mode_name(r->mode));
  plan_main_change(d, to, old->pod, "switchover", d->switch_reason, why);
}

/* Replicas first, one at a time, only while everything else is healthy; the MAIN goes by switchover. */
static void plan_rollout(struct decide *d)
{
  const struct rec_instance *victim = NULL;
  bool main_only = false;
  struct rec_action *a;

  if (d->rollout_blocked || !rollout_pending(d, &main_only) || main_only)
    return;
  if (plans_registration_change(d->plan) || d->plan->ready_replicas < d->desired - 1 || !d->main->pod_ready) {
    set_cond(&d->replicas_ready,
             d->replicas_ready.status == REC_COND_TRUE ? REC_COND_FALSE : d->replicas_ready.status,
             d->replicas_ready.status == REC_COND_TRUE ? "RollingUpdate" : d->replicas_ready.reason, "%s",
             d->replicas_ready.status == REC_COND_TRUE
                 ? "a rolling update waits for every replica to be in sync"
                 : d->replicas_ready.message);
    return;
  }
  for (size_t i = 0; i < d->obs->n; i++) {
    const struct rec_instance *in = &d->obs->inst[i];
    if (in != d->main && in->pod_exists && !in->pod_terminating && in->ordinal < d->desired && in->outdated)
      victim = in; /* the highest ordinal first, as a StatefulSet would */
  }
  if (victim == NULL)
    return;
  a = add_action(d, REC_ACT_DELETE_POD, victim->pod, "RollingUpdate");
  if (a != NULL)
    (void) mgo_strlcpy(a->replica_pod_uid, victim->pod_uid, sizeof(a->replica_pod_uid));
  set_message(a, "%s restarts on the new pod template (replicas first, one at a time)", victim->pod);
  set_cond(&d->replicas_ready, REC_COND_FALSE, "RollingUpdate",
           "rolling update: %s restarts on the new pod template", victim->pod);
}

static void decide_with_main(struct decide *d)
{
  (void) mgo_strlcpy(d->plan->main_pod, d->main->pod, sizeof(d->plan->main_pod));
  plan_role_changes(d);
  if (d->plan->stopped)
    return;
  if (d->role_changed) {
    set_cond(&d->main_available, REC_COND_FALSE, "RoleChangeInProgress", "roles are changing; re-observing");
    return;
  }
  if (!d->main->pod_ready)
    set_cond(&d->main_available, REC_COND_FALSE, "MainNotReady",
             "the MAIN %s answers but its pod is not ready", d->main->pod);
  choose_switch_target(d);
  plan_replication(d);
  if (!d->main->replicas_known)
    return;
  if (d->rollout_blocked)
    set_cond(&d->replicas_ready, REC_COND_FALSE, "AwaitingMainUpdateApproval",
             "every replica runs the new pod template; the MAIN %s waits for approval: annotate the "
             "MemgraphCluster with " MGO_APPROVE_MAIN_UPDATE_ANNOTATION "=%s",
             d->main->pod, d->obs->update_revision);
  if (d->switch_reason != NULL)
    plan_switchover(d);
  else
    plan_rollout(d);
}

int rec_decide_topology(const struct mgo_cluster *c, const struct rec_observed *obs, struct rec_plan *plan)
{
  struct decide d;

  if (obs->n > REC_MAX_OBSERVED)
    return MGO_EINVAL;
  for (size_t i = 0; i < obs->n; i++) {
    bool sorted = i == 0 || obs->inst[i - 1].ordinal < obs->inst[i].ordinal;
    if (obs->inst[i].n_registrations > MGO_MAX_INSTANCES || !sorted)
      return MGO_EINVAL;
  }
  init_decide(&d, c, obs, plan);
  if (d.bootstrap)
    choose_bootstrap_main(&d);
  else
    choose_recorded_main(&d);
  if (d.main != NULL && !plan->stopped && !d.changing_main)
    decide_with_main(&d);
  else if (d.main != NULL)
    (void) mgo_strlcpy(plan->main_pod, d.main->pod, sizeof(plan->main_pod));
  compute_allowed_pods(&d);
  if (plan->stopped)
    plan_fence_labels(&d);
  else if (!d.role_changed)
    plan_labels(&d);
  finish_status(&d);
  return d.overflow ? MGO_ETOOBIG : MGO_OK;
}
