/* The registrations on the MAIN: which replicas it should have and in which mode (the sync slots), then
 * DROP what is wrong or unwanted, REGISTER what is missing (every DROP of a pass before every REGISTER),
 * remember healthy registrations, re-seed or report diverged replicas, and summarize ReplicasReady. */
#include "decide_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

struct wanted {
  const struct rec_instance *in;
  char name[MGO_NAME_MAX];
  char address[MGO_ADDR_MAX];
  enum mgo_repl_mode mode;
  bool healthy;
  bool holds_sync;
};

/* A REGISTER held back until every DROP of the pass is planned (see plan_register). */
struct deferred_register {
  const struct wanted *w;
  const char *reason;
};

/* This phase's own state. */
struct reg_pass {
  struct decide *d;
  const struct rec_instance *switch_target; /* registered in the sync mode: it is about to take over */
  struct deferred_register registers[MGO_MAX_INSTANCES];
  size_t n_registers;
  bool strict_sync_reported; /* one StrictSyncUnsupported event per pass */
};

/* Fit for a sync slot: answering, ready, streaming (or not registered yet) and able to run the mode. */
static bool healthy_replica(const struct decide *d, const struct rec_instance *in,
                            const struct rec_registration *r)
{
  if (!in->pod_exists || !in->reachable || !in->pod_ready || in->role != MGO_ROLE_REPLICA)
    return false;
  if (d->c->spec.replication.sync_mode == MGO_MODE_STRICT_SYNC && !rec__version_at_least(in, 3, 5))
    return false;
  return r == NULL || rec__streaming(r);
}

/* A Ready pod that missed this pass's probe but answered as a REPLICA moments ago (in->recently_replica): on
 * a loaded machine one probe can time out. It keeps its claim on a sync slot and holds a new MAIN off the
 * write Service until registered (sync_replicas_in_place); silent for longer, it holds nothing back. */
static bool briefly_silent(const struct rec_instance *in)
{
  return in->pod_exists && !in->pod_terminating && in->pod_ready && !in->reachable && in->recently_replica;
}

/* True when a outranks b for a sync slot: healthy first, then briefly silent, then the current holder, then
 * lowest ordinal. */
static bool ranks_before(const struct wanted *a, const struct wanted *b)
{
  if (a->healthy != b->healthy)
    return a->healthy;
  if (briefly_silent(a->in) != briefly_silent(b->in))
    return briefly_silent(a->in);
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
static size_t wanted_replicas(struct reg_pass *rp, struct wanted *w)
{
  struct decide *d = rp->d;
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
    r = rec__find_registration(d->main, w[n].name);
    w[n].healthy = healthy_replica(d, in, r);
    w[n].holds_sync = r != NULL && r->mode != MGO_MODE_ASYNC && r->mode == d->c->spec.replication.sync_mode;
    n++;
  }
  assign_modes(d, w, n);
  for (size_t i = 0; i < n; i++) {
    if (w[i].in == rp->switch_target)
      w[i].mode = d->c->spec.replication.sync_mode; /* every write reaches it before it takes over */
  }
  return n;
}

static void plan_drop(struct decide *d, const char *name, const char *pod, const char *reason,
                      const char *why)
{
  struct rec_action *a = rec__add_action(d, REC_ACT_DROP, d->main->pod, reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->replica, name, sizeof(a->replica));
  (void) mgo_strlcpy(a->replica_pod, pod, sizeof(a->replica_pod));
  rec__set_message(a, "drop replica %s on %s: %s", name, d->main->pod, why);
}

/* Registrations are planned after all drops: a mode change (SYNC -> STRICT_SYNC, or the sync slot
 * moving) then never has SYNC and STRICT_SYNC replicas registered at the same moment. */
static void plan_register(struct reg_pass *rp, const struct wanted *w, const char *reason)
{
  if (rp->n_registers < MGO_MAX_INSTANCES) {
    rp->registers[rp->n_registers].w = w;
    rp->registers[rp->n_registers].reason = reason;
    rp->n_registers++;
  }
}

static void emit_register(struct decide *d, const struct wanted *w, const char *reason)
{
  struct rec_action *a = rec__add_action(d, REC_ACT_REGISTER, d->main->pod, reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->replica, w->name, sizeof(a->replica));
  (void) mgo_strlcpy(a->replica_pod, w->in->pod, sizeof(a->replica_pod));
  (void) mgo_strlcpy(a->replica_pod_uid, w->in->pod_uid, sizeof(a->replica_pod_uid));
  (void) mgo_strlcpy(a->address, w->address, sizeof(a->address));
  a->replica_restart_count = w->in->restart_count;
  a->mode = w->mode;
  rec__set_message(a, "register %s as %s replica of %s at %s", w->name, mgo_repl_mode_name(w->mode),
                   d->main->pod, w->address);
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

static void plan_reregister(struct reg_pass *rp, const struct wanted *w, const char *reason, const char *why)
{
  struct decide *d = rp->d;
  plan_drop(d, w->name, w->in->pod, reason, why);
  plan_register(rp, w, reason);
}

static void record_registration(struct decide *d, const struct wanted *w, const char *reason)
{
  struct rec_action *a = rec__add_action(d, REC_ACT_RECORD_REGISTRATION, w->in->pod, reason);
  if (a == NULL)
    return;
  (void) mgo_strlcpy(a->replica_pod, w->in->pod, sizeof(a->replica_pod));
  (void) mgo_strlcpy(a->replica_pod_uid, w->in->pod_uid, sizeof(a->replica_pod_uid));
  a->replica_restart_count = w->in->restart_count;
  rec__set_message(a, "%s is registered and healthy; remember its pod UID and restart count", w->in->pod);
}

/* A diverged replica holds writes the MAIN does not have: no registration change helps. Automatic policy:
 * re-seed it (never the MAIN, only while the MAIN surely holds data); Manual: report and leave it. */
static void plan_diverged(struct decide *d, const struct wanted *w)
{
  bool fenced = rec__user_fenced(d, w->in);
  bool policy = d->c->spec.failover.reseed_policy == MGO_RESEED_AUTOMATIC;
  bool automatic = policy && d->main->data == REC_DATA_PRESENT && !fenced && !w->in->reseed_held;
  struct rec_action *a = automatic ? rec__add_action(d, REC_ACT_RESEED, w->in->pod, "ReplicaDiverged") : NULL;
  char msg[256];

  if (policy && !fenced && w->in->reseed_held) {
    (void) mgo_snprintf(msg, sizeof(msg),
                        "%s diverged again after %d re-seed(s) in a short time: the next re-seed waits (rate "
                        "limit); a client may be writing to it directly",
                        w->in->pod, (int) w->in->reseeds);
    rec__warn_event(d, "ReseedRateLimited", msg);
  }
  if (a != NULL) {
    (void) mgo_strlcpy(a->replica, w->name, sizeof(a->replica));
    (void) mgo_strlcpy(a->replica_pod, w->in->pod, sizeof(a->replica_pod));
    (void) mgo_strlcpy(a->replica_pod_uid, w->in->pod_uid, sizeof(a->replica_pod_uid));
  }
  (void) mgo_snprintf(
      msg, sizeof(msg), "%s has diverged from the MAIN %s (it holds writes the MAIN does not have); %s",
      w->in->pod, d->main->pod,
      automatic ? "re-seeding it: its data is wiped and it is registered again"
      : fenced  ? "it is fenced (memgraph.io/fencedInstances): kept as it is; unfence it to re-seed"
                : "failover.reseedPolicy is Manual: inspect it, then delete its data to re-seed");
  rec__set_message(a, "%s", msg);
  rec__warn_event(d, "ReplicaDiverged", msg);
  rec__degrade(&d->replication_healthy, "ReplicaDiverged", msg);
}

/* A registration that exists for a reachable REPLICA: keep it, repair it or report it. */
static void plan_existing(struct reg_pass *rp, const struct wanted *w, const struct rec_registration *r)
{
  struct decide *d = rp->d;
  if (strcmp(r->address, w->address) != 0) {
    plan_reregister(rp, w, "WrongAddress", "registered with another address; there is no ALTER REPLICA");
  } else if (r->mode != w->mode) {
    plan_reregister(rp, w, "WrongMode", "registered with another mode; there is no ALTER REPLICA");
  } else if (!r->has_data_info) {
    plan_reregister(rp, w, "BrokenRegistration", "listed without replication clients (a failed REGISTER)");
  } else if (w->in->acted_as_main) {
    plan_reregister(
        rp, w, "ActedAsMain",
        "it acted as a MAIN since it was registered: only a new REGISTER tells whether it diverged");
  } else if (restarted_since_registration(w->in)) {
    if (rec__streaming(r) || r->state == REC_RS_RECOVERY)
      record_registration(d, w, "RestartHealed");
    else
      plan_reregister(rp, w, "PodRestarted", "the replica's pod restarted and the MAIN reports it invalid");
  } else if (w->in->registered_pod_uid[0] == '\0') {
    if (rec__streaming(r) || r->state == REC_RS_RECOVERY)
      record_registration(d, w, "RegistrationAdopted");
    else
      plan_reregister(rp, w, "RegistrationInvalid", "an invalid registration the operator has no record of");
  } else if (r->state == REC_RS_INVALID && w->in->invalid_for_ms >= REC_STUCK_INVALID_MS) {
    char why[200];
    (void) mgo_snprintf(why, sizeof(why),
                        "the MAIN has listed it invalid for %lld ms while it answers as a REPLICA: a new "
                        "REGISTER gives it the MAIN's identity again, or tells that it diverged",
                        (long long) w->in->invalid_for_ms);
    plan_reregister(rp, w, "StuckInvalid", why);
  } else if (r->state == REC_RS_INVALID && !w->in->recently_healthy) {
    rec__degrade(&d->replication_healthy, "ReplicaInvalid", "a replica is reported invalid by the MAIN");
  }
}

static bool strict_sync_supported(const struct decide *d, const struct wanted *w)
{
  if (w->mode != MGO_MODE_STRICT_SYNC)
    return true;
  return rec__version_at_least(d->main, 3, 5) && rec__version_at_least(w->in, 3, 5);
}

static void plan_one_replica(struct reg_pass *rp, const struct wanted *w)
{
  struct decide *d = rp->d;
  const struct rec_registration *r = rec__find_registration(d->main, w->name);
  bool usable = w->in->pod_exists && w->in->reachable && w->in->role == MGO_ROLE_REPLICA;

  if (usable && r != NULL && r->state == REC_RS_DIVERGED && replaced_since_registration(w->in)) {
    plan_reregister(rp, w, "PodReplaced", "the diverged replica's pod was replaced (re-seeded)");
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
    if (!rp->strict_sync_reported)
      rec__warn_event(d, "StrictSyncUnsupported", msg);
    rp->strict_sync_reported = true;
    rec__degrade(&d->replication_healthy, "StrictSyncUnsupported", msg);
    return;
  }
  if (!usable) {
    if (r != NULL && strcmp(r->address, w->address) != 0)
      plan_drop(d, w->name, w->in->pod, "WrongAddress", "registered with another address");
    return;
  }
  if (r == NULL)
    plan_register(rp, w, "NotRegistered");
  else
    plan_existing(rp, w, r);
}

/* ---- summary ---------------------------------------------------------------------------------- */

static bool replica_ready(const struct decide *d, const struct wanted *w)
{
  const struct rec_registration *r = rec__find_registration(d->main, w->name);
  return w->in->pod_exists && w->in->reachable && w->in->pod_ready && r != NULL && r->mode == w->mode &&
         strcmp(r->address, w->address) == 0 && rec_replica_counts_healthy(w->in, r);
}

/* ReplicasReady and plan.ready_replicas; true when a registered, reachable replica is catching up. */
static bool summarize_replicas(struct decide *d, const struct wanted *w, size_t n)
{
  int ready = 0;
  bool catching_up = false;
  const struct wanted *first_bad = NULL;
  for (size_t i = 0; i < n; i++) {
    const struct rec_registration *r = rec__find_registration(d->main, w[i].name);
    if (replica_ready(d, &w[i]))
      ready++;
    else if (first_bad == NULL)
      first_bad = &w[i];
    /* A reachable replica catching up: watch it closely, so the recency a failover relies on is fresh. */
    if (r != NULL && w[i].in->reachable && r->has_data_info && !rec__in_sync(r) &&
        (r->state == REC_RS_RECOVERY || r->state == REC_RS_READY || r->state == REC_RS_REPLICATING))
      catching_up = true;
  }
  d->plan->ready_replicas = ready;
  if (first_bad == NULL && ready == d->desired - 1)
    rec__set_cond(&d->replicas_ready, REC_COND_TRUE, "AllReplicasReady",
                  "%d/%d replicas registered and replicating", ready, d->desired - 1);
  else if (first_bad != NULL)
    rec__set_cond(&d->replicas_ready, REC_COND_FALSE, "ReplicasNotReady",
                  "%d/%d replicas registered and replicating; %s is not", ready, d->desired - 1,
                  first_bad->in->pod);
  else
    rec__set_cond(&d->replicas_ready, REC_COND_FALSE, "ReplicasMissing", "%d/%d replicas have a pod", ready,
                  d->desired - 1);
  return catching_up;
}

static bool register_planned(const struct reg_pass *rp, const struct rec_instance *in)
{
  for (size_t i = 0; i < rp->n_registers; i++) {
    if (rp->registers[i].w->in == in)
      return true;
  }
  return false;
}

/* A MAIN joins the write Service only when every usable replica that should be SYNC/STRICT_SYNC is
 * registered so (or is registered by this plan, whose LABEL runs only after its REGISTERs succeeded):
 * otherwise it would acknowledge writes that exist on it alone (e.g. right after a failover). Replicas
 * that diverged, or do not answer (unless briefly_silent), do not hold it back. */
static bool sync_replicas_in_place(const struct reg_pass *rp, const struct wanted *w, size_t n)
{
  const struct decide *d = rp->d;
  for (size_t i = 0; i < n; i++) {
    const struct rec_instance *in = w[i].in;
    const struct rec_registration *r = rec__find_registration(d->main, w[i].name);
    bool usable = (in->pod_exists && in->reachable && in->pod_ready && in->role == MGO_ROLE_REPLICA) ||
                  briefly_silent(in);
    bool diverged = in->register_diverged || (r != NULL && r->state == REC_RS_DIVERGED);
    if (w[i].mode == MGO_MODE_ASYNC || !usable || diverged || !strict_sync_supported(d, &w[i]))
      continue;
    if (r == NULL && !register_planned(rp, in))
      return false;
  }
  return true;
}

struct replication_result rec__plan_replication(struct decide *d, const struct switch_plan *sw)
{
  struct replication_result res = {.replicas_known = false, .sync_in_place = false, .catching_up = false};
  struct reg_pass rp;
  struct wanted w[MGO_MAX_INSTANCES];
  size_t n;

  if (!d->main->replicas_known) {
    rec__set_cond(&d->replicas_ready, REC_COND_UNKNOWN, "ReplicasUnknown",
                  "SHOW REPLICAS did not answer on the MAIN");
    return res;
  }
  memset(&rp, 0, sizeof(rp));
  rp.d = d;
  rp.switch_target = sw->target;
  n = wanted_replicas(&rp, w);
  plan_unwanted_drops(d, w, n);
  for (size_t i = 0; i < n; i++)
    plan_one_replica(&rp, &w[i]);
  for (size_t i = 0; i < rp.n_registers; i++)
    emit_register(d, rp.registers[i].w, rp.registers[i].reason);
  res.replicas_known = true;
  res.sync_in_place = sync_replicas_in_place(&rp, w, n);
  res.catching_up = summarize_replicas(d, w, n);
  return res;
}
