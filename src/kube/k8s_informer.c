#include "k8s_informer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_backoff.h"
#include "k8s_watch.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define KEY_MAX 512

struct k8s_informer {
  struct k8s_client *client;
  struct k8s_informer_opts opts; /* strings below are owned copies */
  struct k8s_informer_handlers h;
  char path[K8S_PATH_MAX];
  pthread_mutex_t lock; /* guards cache, rv, synced, stats */
  pthread_cond_t cond;  /* synced, stop */
  json_t *cache;        /* key -> immutable object */
  char rv[K8S_RV_MAX];
  bool synced;
  struct k8s_informer_stats stats;
  atomic_bool stopping;
  bool started;
  pthread_t thread;
  long long next_resync_ms;
  struct k8s_backoff backoff;
};

/* The informer's clock: resync and the retry backoff follow it. */
static long long now_ms(const struct k8s_informer *inf)
{
  return mgo_clock_mono_ms(inf->opts.clock);
}

int k8s_object_key(const json_t *obj, char *dst, size_t dstsz)
{
  const json_t *md = json_object_get(obj, "metadata");
  const char *name = json_string_value(json_object_get(md, "name"));
  const char *ns = json_string_value(json_object_get(md, "namespace"));
  if (!name || !name[0])
    return MGO_EINVAL;
  if (ns && ns[0])
    return mgo_snprintf(dst, dstsz, "%s/%s", ns, name);
  return mgo_strlcpy(dst, name, dstsz);
}

static char *dup_opt(const char *s)
{
  return s ? strdup(s) : NULL;
}

static void apply_defaults(struct k8s_informer_opts *o)
{
  if (o->page_size <= 0)
    o->page_size = 500;
  if (o->watch_timeout_s <= 0)
    o->watch_timeout_s = 300;
  if (o->backoff_base_ms <= 0)
    o->backoff_base_ms = 200;
  if (o->backoff_max_ms <= 0)
    o->backoff_max_ms = 30000;
}

int k8s_informer_new(struct k8s_client *c, const struct k8s_informer_opts *opts,
                     const struct k8s_informer_handlers *handlers, struct k8s_informer **out)
{
  *out = NULL;
  if (!c || !opts || !opts->resource)
    return MGO_EINVAL;
  struct k8s_informer *inf = calloc(1, sizeof(*inf));
  if (!inf)
    return MGO_ENOMEM;
  inf->client = c;
  inf->opts = *opts;
  apply_defaults(&inf->opts);
  inf->opts.namespace = dup_opt(opts->namespace);
  inf->opts.label_selector = dup_opt(opts->label_selector);
  inf->opts.field_selector = dup_opt(opts->field_selector);
  if (handlers)
    inf->h = *handlers;
  inf->cache = json_object();
  pthread_mutex_init(&inf->lock, NULL);
  mgo_clock_cond_init(&inf->cond);
  k8s_backoff_init(&inf->backoff, inf->opts.backoff_base_ms, inf->opts.backoff_max_ms, 0.5,
                   (unsigned) now_ms(inf) ^ (unsigned) (uintptr_t) inf);
  int rc = k8s_path(inf->path, sizeof(inf->path), opts->resource, opts->namespace, NULL, NULL);
  if (rc == MGO_OK && !inf->cache)
    rc = MGO_ENOMEM;
  if (rc != MGO_OK) {
    k8s_informer_free(inf);
    return rc;
  }
  *out = inf;
  return MGO_OK;
}

void k8s_informer_free(struct k8s_informer *inf)
{
  if (!inf)
    return;
  k8s_informer_stop(inf);
  free((char *) inf->opts.namespace);
  free((char *) inf->opts.label_selector);
  free((char *) inf->opts.field_selector);
  json_decref(inf->cache);
  pthread_cond_destroy(&inf->cond);
  pthread_mutex_destroy(&inf->lock);
  free(inf);
}

/* Sleeps up to ms of the informer's clock, waking early on stop. */
static void sleep_interruptible(struct k8s_informer *inf, long ms)
{
  long long until = now_ms(inf) + ms;
  pthread_mutex_lock(&inf->lock);
  while (!atomic_load(&inf->stopping) && now_ms(inf) < until)
    mgo_clock_cond_wait_until(inf->opts.clock, &inf->cond, &inf->lock, until);
  pthread_mutex_unlock(&inf->lock);
}

static void report_error(struct k8s_informer *inf, const char *what, int rc, const struct k8s_status *st)
{
  if (inf->h.on_error)
    inf->h.on_error(inf->h.arg, what, rc, st);
}

/* List items carry no apiVersion/kind; fill them in from the List ("PodList" → "Pod") so cached objects
 * look the same whether they came from a list or a watch. */
static void complete_item(json_t *item, const char *api_version, const char *list_kind)
{
  if (api_version && !json_object_get(item, "apiVersion"))
    json_object_set_new(item, "apiVersion", json_string(api_version));
  size_t n = list_kind ? strlen(list_kind) : 0;
  if (n > 4 && strcmp(list_kind + n - 4, "List") == 0 && !json_object_get(item, "kind"))
    json_object_set_new(item, "kind", json_stringn(list_kind, n - 4));
}

/* Drops what the cache does not keep: managedFields and opts.drop_fields. */
static void trim_for_cache(const struct k8s_informer *inf, json_t *obj)
{
  if (!inf->opts.keep_managed_fields)
    json_object_del(json_object_get(obj, "metadata"), "managedFields");
  for (const char *const *f = inf->opts.drop_fields; f != NULL && *f != NULL; f++)
    json_object_del(obj, *f);
}

static json_t *cache_from_list(const struct k8s_informer *inf, json_t *list)
{
  json_t *cache = json_object();
  const char *api_version = json_string_value(json_object_get(list, "apiVersion"));
  const char *kind = json_string_value(json_object_get(list, "kind"));
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(list, "items"), i, item)
  {
    char key[KEY_MAX];
    if (k8s_object_key(item, key, sizeof(key)) != MGO_OK)
      continue;
    complete_item(item, api_version, kind);
    trim_for_cache(inf, item);
    json_object_set(cache, key, item);
  }
  return cache;
}

static const char *object_rv(const json_t *obj)
{
  const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  return rv ? rv : "";
}

/* Calls handlers for the difference between two cache generations (no lock held). */
static void notify_replace(struct k8s_informer *inf, json_t *old_cache, json_t *new_cache)
{
  const char *key;
  json_t *obj;
  json_object_foreach(new_cache, key, obj)
  {
    json_t *old = json_object_get(old_cache, key);
    if (!old && inf->h.on_add)
      inf->h.on_add(inf->h.arg, obj);
    else if (old && strcmp(object_rv(old), object_rv(obj)) != 0 && inf->h.on_update)
      inf->h.on_update(inf->h.arg, old, obj);
  }
  json_object_foreach(old_cache, key, obj)
  {
    if (!json_object_get(new_cache, key) && inf->h.on_delete)
      inf->h.on_delete(inf->h.arg, obj);
  }
}

static int do_list(struct k8s_informer *inf)
{
  struct k8s_list_opts lo = {.label_selector = inf->opts.label_selector,
                             .field_selector = inf->opts.field_selector,
                             .limit = inf->opts.page_size};
  struct k8s_status st;
  json_t *list = NULL;
  int rc = k8s_list_all(inf->client, inf->path, &lo, &list, &st);
  if (rc != MGO_OK) {
    report_error(inf, "list", rc, &st);
    return rc;
  }
  json_t *fresh = cache_from_list(inf, list);
  const char *rv = json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
  pthread_mutex_lock(&inf->lock);
  json_t *old = inf->cache;
  inf->cache = fresh;
  mgo_strlcpy(inf->rv, rv ? rv : "", sizeof(inf->rv));
  inf->synced = true;
  inf->stats.lists++;
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->lock);
  notify_replace(inf, old, fresh);
  json_decref(old);
  json_decref(list);
  return MGO_OK;
}

/* Applies an ADDED/MODIFIED event. */
static void apply_upsert(struct k8s_informer *inf, const char *key, json_t *obj)
{
  pthread_mutex_lock(&inf->lock);
  json_t *old = json_incref(json_object_get(inf->cache, key));
  json_object_set(inf->cache, key, obj);
  mgo_strlcpy(inf->rv, object_rv(obj), sizeof(inf->rv));
  inf->stats.events++;
  pthread_mutex_unlock(&inf->lock);
  if (old && inf->h.on_update)
    inf->h.on_update(inf->h.arg, old, obj);
  else if (!old && inf->h.on_add)
    inf->h.on_add(inf->h.arg, obj);
  json_decref(old);
}

static void apply_delete(struct k8s_informer *inf, const char *key, json_t *obj)
{
  pthread_mutex_lock(&inf->lock);
  json_object_del(inf->cache, key);
  mgo_strlcpy(inf->rv, object_rv(obj), sizeof(inf->rv));
  inf->stats.events++;
  pthread_mutex_unlock(&inf->lock);
  if (inf->h.on_delete)
    inf->h.on_delete(inf->h.arg, obj);
}

static int on_watch_event(void *arg, const struct k8s_watch_event *ev)
{
  struct k8s_informer *inf = arg;
  char key[KEY_MAX];
  if (ev->type == K8S_WATCH_BOOKMARK) {
    pthread_mutex_lock(&inf->lock);
    mgo_strlcpy(inf->rv, object_rv(ev->object), sizeof(inf->rv));
    pthread_mutex_unlock(&inf->lock);
    return MGO_OK;
  }
  if (ev->type > K8S_WATCH_DELETED || k8s_object_key(ev->object, key, sizeof(key)) != MGO_OK)
    return MGO_OK;                 /* errors end the stream with their own code */
  trim_for_cache(inf, ev->object); /* the event's object is ours alone until we share it */
  if (ev->type == K8S_WATCH_DELETED)
    apply_delete(inf, key, ev->object);
  else
    apply_upsert(inf, key, ev->object);
  return MGO_OK;
}

static void maybe_resync(struct k8s_informer *inf)
{
  if (inf->opts.resync_ms <= 0 || now_ms(inf) < inf->next_resync_ms)
    return;
  inf->next_resync_ms = now_ms(inf) + inf->opts.resync_ms;
  json_t *all = k8s_informer_list(inf, NULL);
  size_t i;
  json_t *obj;
  json_array_foreach(all, i, obj)
  {
    if (inf->h.on_update)
      inf->h.on_update(inf->h.arg, obj, obj);
  }
  json_decref(all);
}

static int on_watch_tick(void *arg)
{
  struct k8s_informer *inf = arg;
  if (atomic_load(&inf->stopping))
    return 1;
  maybe_resync(inf);
  return 0;
}

static int do_watch(struct k8s_informer *inf)
{
  char rv[K8S_RV_MAX];
  pthread_mutex_lock(&inf->lock);
  mgo_strlcpy(rv, inf->rv, sizeof(rv));
  inf->stats.watches++;
  pthread_mutex_unlock(&inf->lock);
  long timeout = inf->opts.watch_timeout_s;
  timeout += (long) ((unsigned long) rand_r(&inf->backoff.seed) % (unsigned long) (timeout / 2 + 1));
  struct k8s_watch_opts wo = {.label_selector = inf->opts.label_selector,
                              .field_selector = inf->opts.field_selector,
                              .timeout_seconds = timeout,
                              .allow_bookmarks = true,
                              .tick = on_watch_tick};
  struct k8s_status st;
  int rc = k8s_watch(inf->client, inf->path, &wo, on_watch_event, inf, rv, sizeof(rv), &st);
  if (rc != MGO_OK && rc != MGO_ECANCELED)
    report_error(inf, "watch", rc, &st);
  return rc;
}

static void count(struct k8s_informer *inf, unsigned long *counter)
{
  pthread_mutex_lock(&inf->lock);
  (*counter)++;
  pthread_mutex_unlock(&inf->lock);
}

/* One round of the loop: returns whether the next round must relist. */
static bool watch_round(struct k8s_informer *inf)
{
  int rc = do_watch(inf);
  if (atomic_load(&inf->stopping))
    return false;
  if (rc == MGO_OK) {
    k8s_backoff_reset(&inf->backoff);
    return false;
  }
  if (rc == MGO_EGONE) {
    count(inf, &inf->stats.gone);
    return true;
  }
  count(inf, &inf->stats.watch_errors);
  sleep_interruptible(inf, k8s_backoff_next(&inf->backoff));
  return rc == MGO_EPARSE;
}

static void *informer_main(void *arg)
{
  struct k8s_informer *inf = arg;
  bool need_list = true;
  inf->next_resync_ms = now_ms(inf) + inf->opts.resync_ms;
  while (!atomic_load(&inf->stopping)) {
    if (need_list) {
      if (do_list(inf) != MGO_OK) {
        sleep_interruptible(inf, k8s_backoff_next(&inf->backoff));
        continue;
      }
      k8s_backoff_reset(&inf->backoff);
    }
    maybe_resync(inf);
    need_list = watch_round(inf);
  }
  return NULL;
}

int k8s_informer_start(struct k8s_informer *inf)
{
  if (inf->started)
    return MGO_ESTATE;
  if (pthread_create(&inf->thread, NULL, informer_main, inf) != 0)
    return MGO_ESYS;
  inf->started = true;
  return MGO_OK;
}

void k8s_informer_request_stop(struct k8s_informer *inf)
{
  pthread_mutex_lock(&inf->lock);
  atomic_store(&inf->stopping, true);
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->lock);
}

void k8s_informer_kick(struct k8s_informer *inf)
{
  pthread_mutex_lock(&inf->lock);
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->lock);
}

void k8s_informer_stop(struct k8s_informer *inf)
{
  k8s_informer_request_stop(inf);
  if (inf->started) {
    pthread_join(inf->thread, NULL);
    inf->started = false;
  }
}

bool k8s_informer_has_synced(struct k8s_informer *inf)
{
  pthread_mutex_lock(&inf->lock);
  bool synced = inf->synced;
  pthread_mutex_unlock(&inf->lock);
  return synced;
}

int k8s_informer_wait_synced(struct k8s_informer *inf, long timeout_ms)
{
  long long until = mgo_clock_mono_ms(NULL) + timeout_ms; /* real time: it bounds the caller's wait */
  pthread_mutex_lock(&inf->lock);
  while (!inf->synced && mgo_clock_mono_ms(NULL) < until)
    mgo_clock_cond_wait_until(NULL, &inf->cond, &inf->lock, until);
  bool synced = inf->synced;
  pthread_mutex_unlock(&inf->lock);
  return synced ? MGO_OK : MGO_ETIMEDOUT;
}

json_t *k8s_informer_get(struct k8s_informer *inf, const char *ns, const char *name)
{
  char key[KEY_MAX];
  bool namespaced = inf->opts.resource->namespaced && ns && ns[0];
  int rc =
      namespaced ? mgo_snprintf(key, sizeof(key), "%s/%s", ns, name) : mgo_strlcpy(key, name, sizeof(key));
  if (rc != MGO_OK)
    return NULL;
  pthread_mutex_lock(&inf->lock);
  json_t *obj = json_incref(json_object_get(inf->cache, key));
  pthread_mutex_unlock(&inf->lock);
  return obj;
}

static bool in_namespace(const json_t *obj, const char *ns)
{
  const char *ons = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
  return !ns || (ons && strcmp(ons, ns) == 0);
}

json_t *k8s_informer_list(struct k8s_informer *inf, const char *ns)
{
  json_t *arr = json_array();
  const char *key;
  json_t *obj;
  pthread_mutex_lock(&inf->lock);
  json_object_foreach(inf->cache, key, obj)
  {
    if (in_namespace(obj, ns))
      json_array_append(arr, obj);
  }
  pthread_mutex_unlock(&inf->lock);
  return arr;
}

size_t k8s_informer_size(struct k8s_informer *inf)
{
  pthread_mutex_lock(&inf->lock);
  size_t n = json_object_size(inf->cache);
  pthread_mutex_unlock(&inf->lock);
  return n;
}

void k8s_informer_resource_version(struct k8s_informer *inf, char *dst, size_t dstsz)
{
  pthread_mutex_lock(&inf->lock);
  mgo_strlcpy(dst, inf->rv, dstsz);
  pthread_mutex_unlock(&inf->lock);
}

void k8s_informer_get_stats(struct k8s_informer *inf, struct k8s_informer_stats *out)
{
  pthread_mutex_lock(&inf->lock);
  *out = inf->stats;
  pthread_mutex_unlock(&inf->lock);
}
