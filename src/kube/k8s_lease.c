#include "k8s_lease.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_path.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define IDENTITY_MAX 256
#define TIME_MAX 40

struct k8s_leader {
  struct k8s_client *client;
  struct k8s_leader_opts opts; /* strings point into the copies below */
  char ns[256], name[256], identity[IDENTITY_MAX];
  char path[K8S_PATH_MAX];
  char coll_path[K8S_PATH_MAX];
  /* observation of the Lease record, for expiry by the local clock */
  char observed_holder[IDENTITY_MAX];
  char observed_renew[TIME_MAX];
  long long observed_ms;
  atomic_llong last_renew_ms; /* our last successful acquire/renew */
  atomic_bool leading;
  atomic_bool stopping;
  atomic_bool done;
  bool started;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

/* The elector's clock: observations, renew deadline and retry periods follow it. */
static long long now_ms(const struct k8s_leader *le)
{
  return mgo_clock_mono_ms(le->opts.clock);
}

/* The renewTime/acquireTime we write: a Kubernetes MicroTime of the elector's wall clock. */
static void micro_time_now(const struct k8s_leader *le, char *dst, size_t dstsz)
{
  mgo_clock_format_now(le->opts.clock, 6, dst, dstsz);
}

static void apply_defaults(struct k8s_leader_opts *o)
{
  if (o->lease_duration_ms <= 0)
    o->lease_duration_ms = 15000;
  if (o->renew_deadline_ms <= 0)
    o->renew_deadline_ms = 10000;
  if (o->retry_period_ms <= 0)
    o->retry_period_ms = 2000;
}

int k8s_leader_new(struct k8s_client *c, const struct k8s_leader_opts *opts, struct k8s_leader **out)
{
  *out = NULL;
  if (!c || !opts || !opts->lease_namespace || !opts->lease_name || !opts->identity || !opts->identity[0])
    return MGO_EINVAL;
  struct k8s_leader *le = calloc(1, sizeof(*le));
  if (!le)
    return MGO_ENOMEM;
  le->client = c;
  le->opts = *opts;
  apply_defaults(&le->opts);
  int rc = mgo_strlcpy(le->ns, opts->lease_namespace, sizeof(le->ns));
  rc = rc ? rc : mgo_strlcpy(le->name, opts->lease_name, sizeof(le->name));
  rc = rc ? rc : mgo_strlcpy(le->identity, opts->identity, sizeof(le->identity));
  rc = rc ? rc : k8s_path(le->path, sizeof(le->path), &K8S_RES_LEASES, le->ns, le->name, NULL);
  rc = rc ? rc : k8s_path(le->coll_path, sizeof(le->coll_path), &K8S_RES_LEASES, le->ns, NULL, NULL);
  if (rc == MGO_OK && le->opts.renew_deadline_ms >= le->opts.lease_duration_ms)
    rc = MGO_EINVAL;
  if (rc != MGO_OK) {
    free(le);
    return rc == MGO_ETOOBIG ? MGO_EINVAL : rc;
  }
  le->opts.lease_namespace = le->ns;
  le->opts.lease_name = le->name;
  le->opts.identity = le->identity;
  pthread_mutex_init(&le->lock, NULL);
  mgo_clock_cond_init(&le->cond);
  *out = le;
  return MGO_OK;
}

static long duration_seconds(const struct k8s_leader *le)
{
  long s = (le->opts.lease_duration_ms + 999) / 1000;
  return s > 0 ? s : 1;
}

/* The spec we write when taking or renewing the lease. */
static json_t *our_spec(const struct k8s_leader *le, const json_t *old_spec)
{
  char now[TIME_MAX];
  micro_time_now(le, now, sizeof(now));
  const char *holder = json_string_value(json_object_get(old_spec, "holderIdentity"));
  bool renewing = holder && strcmp(holder, le->identity) == 0;
  json_int_t transitions = json_integer_value(json_object_get(old_spec, "leaseTransitions"));
  const char *acquired = json_string_value(json_object_get(old_spec, "acquireTime"));
  if (!renewing && old_spec)
    transitions++;
  return json_pack("{s:s, s:I, s:s, s:s, s:I}", "holderIdentity", le->identity, "leaseDurationSeconds",
                   (json_int_t) duration_seconds(le), "acquireTime", renewing && acquired ? acquired : now,
                   "renewTime", now, "leaseTransitions", transitions);
}

static void observe(struct k8s_leader *le, const json_t *spec);

static int create_lease(struct k8s_leader *le, bool *leading, struct k8s_status *st)
{
  json_t *obj =
      json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
                "metadata", "name", le->name, "namespace", le->ns, "spec", our_spec(le, NULL));
  json_t *created = NULL;
  int rc = k8s_create(le->client, le->coll_path, obj, &created, st);
  json_decref(obj);
  *leading = rc == MGO_OK;
  if (rc == MGO_OK)
    observe(le, json_object_get(created, "spec"));
  json_decref(created);
  if (rc == MGO_ECONFLICT)
    return MGO_OK; /* somebody else created it first */
  return rc;
}

static const char *spec_str(const json_t *spec, const char *field)
{
  const char *v = json_string_value(json_object_get(spec, field));
  return v ? v : "";
}

/* Records the Lease record as seen now; a change restarts the expiry clock. */
static void observe(struct k8s_leader *le, const json_t *spec)
{
  const char *holder = spec_str(spec, "holderIdentity");
  const char *renew = spec_str(spec, "renewTime");
  bool holder_changed = strcmp(holder, le->observed_holder) != 0;
  if (!holder_changed && strcmp(renew, le->observed_renew) == 0 && le->observed_ms)
    return;
  mgo_strlcpy(le->observed_holder, holder, sizeof(le->observed_holder));
  mgo_strlcpy(le->observed_renew, renew, sizeof(le->observed_renew));
  le->observed_ms = now_ms(le);
  if (holder_changed && le->opts.on_new_leader)
    le->opts.on_new_leader(le->opts.arg, holder);
}

static bool held_by_other(const struct k8s_leader *le, const json_t *spec)
{
  const char *holder = spec_str(spec, "holderIdentity");
  if (!holder[0] || strcmp(holder, le->identity) == 0)
    return false;
  json_int_t secs = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
  long long duration = secs > 0 ? (long long) secs * 1000 : le->opts.lease_duration_ms;
  return now_ms(le) < le->observed_ms + duration;
}

int k8s_leader_try(struct k8s_leader *le, bool *leading, struct k8s_status *st)
{
  *leading = false;
  json_t *lease = NULL;
  int rc = k8s_get(le->client, le->path, &lease, st);
  if (rc == MGO_ENOTFOUND)
    rc = create_lease(le, leading, st);
  if (rc != MGO_OK || *leading || !lease) {
    if (*leading)
      atomic_store(&le->last_renew_ms, now_ms(le));
    json_decref(lease);
    return rc;
  }
  json_t *spec = json_object_get(lease, "spec");
  observe(le, spec);
  if (held_by_other(le, spec)) {
    json_decref(lease);
    return MGO_OK;
  }
  json_object_set_new(lease, "spec", our_spec(le, spec)); /* keeps metadata.resourceVersion: optimistic */
  json_t *updated = NULL;
  rc = k8s_update(le->client, le->path, lease, &updated, st);
  json_decref(lease);
  if (rc == MGO_OK) {
    *leading = true;
    atomic_store(&le->last_renew_ms, now_ms(le));
    observe(le, json_object_get(updated, "spec"));
  }
  json_decref(updated);
  return rc == MGO_ECONFLICT ? MGO_OK : rc;
}

int k8s_leader_release(struct k8s_leader *le, struct k8s_status *st)
{
  json_t *lease = NULL;
  int rc = k8s_get(le->client, le->path, &lease, st);
  if (rc != MGO_OK)
    return rc;
  json_t *spec = json_object_get(lease, "spec");
  if (strcmp(spec_str(spec, "holderIdentity"), le->identity) != 0) {
    json_decref(lease);
    return MGO_OK; /* not ours (any more) */
  }
  char now[TIME_MAX];
  micro_time_now(le, now, sizeof(now));
  json_t *released = json_pack("{s:I, s:s, s:s, s:I}", "leaseDurationSeconds", (json_int_t) 1, "acquireTime",
                               now, "renewTime", now, "leaseTransitions",
                               json_integer_value(json_object_get(spec, "leaseTransitions")));
  json_object_set_new(lease, "spec", released);
  rc = k8s_update(le->client, le->path, lease, NULL, st);
  json_decref(lease);
  if (rc == MGO_OK)
    atomic_store(&le->leading, false);
  return rc;
}

/* Waits up to ms (jittered by the caller) of the elector's clock, waking early on stop. */
static void sleep_interruptible(struct k8s_leader *le, long ms)
{
  long long until = now_ms(le) + ms;
  pthread_mutex_lock(&le->lock);
  while (!atomic_load(&le->stopping) && now_ms(le) < until)
    mgo_clock_cond_wait_until(le->opts.clock, &le->cond, &le->lock, until);
  pthread_mutex_unlock(&le->lock);
}

static void report(struct k8s_leader *le, int rc, const struct k8s_status *st)
{
  if (rc != MGO_OK && le->opts.on_error)
    le->opts.on_error(le->opts.arg, rc, st);
}

static void acquire_loop(struct k8s_leader *le)
{
  unsigned seed = (unsigned) now_ms(le);
  while (!atomic_load(&le->stopping)) {
    bool leading = false;
    struct k8s_status st;
    int rc = k8s_leader_try(le, &leading, &st);
    report(le, rc, &st);
    if (leading && !atomic_load(&le->stopping)) {
      atomic_store(&le->leading, true);
      return;
    }
    long jitter = (long) (rand_r(&seed) % (unsigned) (le->opts.retry_period_ms / 5 + 1));
    sleep_interruptible(le, le->opts.retry_period_ms + jitter);
  }
}

/* Renews until stopped or lost. Returns true when the lease was lost. */
static bool renew_loop(struct k8s_leader *le)
{
  while (!atomic_load(&le->stopping)) {
    sleep_interruptible(le, le->opts.retry_period_ms);
    if (atomic_load(&le->stopping))
      return false;
    bool leading = false;
    struct k8s_status st;
    int rc = k8s_leader_try(le, &leading, &st);
    report(le, rc, &st);
    if (!leading &&
        (rc == MGO_OK || now_ms(le) - atomic_load(&le->last_renew_ms) >= le->opts.renew_deadline_ms))
      return true; /* another holder, or no renewal within the deadline */
  }
  return false;
}

static void *leader_main(void *arg)
{
  struct k8s_leader *le = arg;
  acquire_loop(le);
  if (atomic_load(&le->leading)) {
    if (le->opts.on_started_leading)
      le->opts.on_started_leading(le->opts.arg);
    bool lost = renew_loop(le);
    if (lost) {
      atomic_store(&le->leading, false);
      if (le->opts.on_lost)
        le->opts.on_lost(le->opts.arg);
    }
  }
  atomic_store(&le->done, true);
  return NULL;
}

int k8s_leader_start(struct k8s_leader *le)
{
  if (le->started)
    return MGO_ESTATE;
  if (pthread_create(&le->thread, NULL, leader_main, le) != 0)
    return MGO_ESYS;
  le->started = true;
  return MGO_OK;
}

bool k8s_leader_is_leader(struct k8s_leader *le)
{
  /* Also false once the renew deadline passed without a renewal, even if the loop is still blocked in a
   * request: another candidate may take over after lease_duration, so stop acting before that. */
  return atomic_load(&le->leading) &&
         now_ms(le) - atomic_load(&le->last_renew_ms) < le->opts.renew_deadline_ms;
}

bool k8s_leader_done(struct k8s_leader *le)
{
  return atomic_load(&le->done);
}

void k8s_leader_kick(struct k8s_leader *le)
{
  pthread_mutex_lock(&le->lock);
  pthread_cond_broadcast(&le->cond);
  pthread_mutex_unlock(&le->lock);
}

void k8s_leader_stop(struct k8s_leader *le)
{
  pthread_mutex_lock(&le->lock);
  atomic_store(&le->stopping, true);
  pthread_cond_broadcast(&le->cond);
  pthread_mutex_unlock(&le->lock);
  if (le->started) {
    pthread_join(le->thread, NULL);
    le->started = false;
  }
  if (atomic_load(&le->leading)) {
    struct k8s_status st;
    atomic_store(&le->leading, false); /* stop acting before the release is visible */
    report(le, k8s_leader_release(le, &st), &st);
  }
}

void k8s_leader_free(struct k8s_leader *le)
{
  if (!le)
    return;
  k8s_leader_stop(le);
  pthread_cond_destroy(&le->cond);
  pthread_mutex_destroy(&le->lock);
  free(le);
}
