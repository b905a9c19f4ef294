#include "k8s_events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_path.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define NOTE_MAX 1024
#define AGG_KEY_MAX 2048
#define NAME_PREFIX_MAX 200

struct k8s_event_recorder {
  struct k8s_client *client;
  char controller[256];
  char instance[129];
  long window_ms;
  int max_tracked;
  const struct mgo_clock *clock; /* NULL = system */
  pthread_mutex_t lock;
  json_t *seen; /* aggregation key -> {"ns", "name", "count", "last"} */
  unsigned seq;
};

/* The recorder's clock: the aggregation window follows it. */
static long long now_ms(const struct k8s_event_recorder *r)
{
  return mgo_clock_mono_ms(r->clock);
}

/* eventTime / lastObservedTime: a Kubernetes MicroTime of the recorder's wall clock. */
static void micro_time_now(const struct k8s_event_recorder *r, char *dst, size_t dstsz)
{
  mgo_clock_format_now(r->clock, 6, dst, dstsz);
}

int k8s_event_recorder_new(struct k8s_client *c, const struct k8s_event_recorder_opts *opts,
                           struct k8s_event_recorder **out)
{
  *out = NULL;
  if (!c || !opts || !opts->reporting_controller || !opts->reporting_instance)
    return MGO_EINVAL;
  struct k8s_event_recorder *r = calloc(1, sizeof(*r));
  if (!r)
    return MGO_ENOMEM;
  r->client = c;
  int rc = mgo_strlcpy(r->controller, opts->reporting_controller, sizeof(r->controller));
  rc = rc ? rc : mgo_strlcpy(r->instance, opts->reporting_instance, sizeof(r->instance));
  r->window_ms = opts->aggregate_window_ms > 0 ? opts->aggregate_window_ms : 600000;
  r->max_tracked = opts->max_tracked > 0 ? opts->max_tracked : 4096;
  r->clock = opts->clock;
  r->seen = json_object();
  r->seq = (unsigned) now_ms(r);
  if (rc != MGO_OK || !r->seen) {
    json_decref(r->seen);
    free(r);
    return rc ? MGO_EINVAL : MGO_ENOMEM;
  }
  pthread_mutex_init(&r->lock, NULL);
  *out = r;
  return MGO_OK;
}

void k8s_event_recorder_free(struct k8s_event_recorder *r)
{
  if (!r)
    return;
  json_decref(r->seen);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

static const char *md_str(const json_t *obj, const char *field)
{
  const char *v = json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
  return v ? v : "";
}

static const char *str_or_empty(const char *s)
{
  return s ? s : "";
}

/* The Event's namespace: the involved object's, or "default" for cluster-scoped objects. */
static const char *event_namespace(const json_t *involved)
{
  const char *ns = md_str(involved, "namespace");
  return ns[0] ? ns : "default";
}

static json_t *regarding_ref(const json_t *involved)
{
  json_t *ref = json_object();
  json_object_set_new(ref, "apiVersion",
                      json_string(str_or_empty(json_string_value(json_object_get(involved, "apiVersion")))));
  json_object_set_new(ref, "kind",
                      json_string(str_or_empty(json_string_value(json_object_get(involved, "kind")))));
  json_object_set_new(ref, "name", json_string(md_str(involved, "name")));
  if (md_str(involved, "namespace")[0])
    json_object_set_new(ref, "namespace", json_string(md_str(involved, "namespace")));
  if (md_str(involved, "uid")[0])
    json_object_set_new(ref, "uid", json_string(md_str(involved, "uid")));
  if (md_str(involved, "resourceVersion")[0])
    json_object_set_new(ref, "resourceVersion", json_string(md_str(involved, "resourceVersion")));
  return ref;
}

/* Copies note into dst truncated to NOTE_MAX bytes at a UTF-8 character boundary. */
static void truncate_note(char *dst, const char *note)
{
  size_t n = strlen(note);
  if (n > NOTE_MAX) {
    n = NOTE_MAX;
    while (n > 0 && ((unsigned char) note[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy(dst, note, n);
  dst[n] = '\0';
}

static int aggregation_key(struct mgo_buf *key, const json_t *involved, const char *type, const char *reason,
                           const char *action, const char *note)
{
  const char *uid = md_str(involved, "uid");
  const char *kind = str_or_empty(json_string_value(json_object_get(involved, "kind")));
  if (uid[0])
    return mgo_buf_printf(key, "%s\x1f%s\x1f%s\x1f%s\x1f%s", uid, type, reason, action, note);
  return mgo_buf_printf(key, "%s/%s/%s\x1f%s\x1f%s\x1f%s\x1f%s", kind, md_str(involved, "namespace"),
                        md_str(involved, "name"), type, reason, action, note);
}

/* If key was seen within the window, bumps its count and returns MGO_OK with the Event's name and count. */
static int lookup_repeat(struct k8s_event_recorder *r, const char *key, char *name, size_t namesz,
                         long *count)
{
  int rc = MGO_ENOTFOUND;
  pthread_mutex_lock(&r->lock);
  json_t *e = json_object_get(r->seen, key);
  long long last = json_integer_value(json_object_get(e, "last"));
  if (e && now_ms(r) - last < r->window_ms) {
    *count = (long) json_integer_value(json_object_get(e, "count")) + 1;
    json_object_set_new(e, "count", json_integer(*count));
    json_object_set_new(e, "last", json_integer(now_ms(r)));
    rc = mgo_strlcpy(name, json_string_value(json_object_get(e, "name")), namesz);
  }
  pthread_mutex_unlock(&r->lock);
  return rc;
}

static void evict_oldest_locked(struct k8s_event_recorder *r)
{
  const char *key, *oldest = NULL;
  json_t *e;
  long long best = 0;
  json_object_foreach(r->seen, key, e)
  {
    long long last = json_integer_value(json_object_get(e, "last"));
    if (!oldest || last < best) {
      oldest = key;
      best = last;
    }
  }
  if (oldest)
    json_object_del(r->seen, oldest);
}

static void remember(struct k8s_event_recorder *r, const char *key, const char *name)
{
  pthread_mutex_lock(&r->lock);
  if (!json_object_get(r->seen, key) && (int) json_object_size(r->seen) >= r->max_tracked)
    evict_oldest_locked(r);
  json_object_set_new(
      r->seen, key,
      json_pack("{s:s, s:I, s:I}", "name", name, "count", (json_int_t) 1, "last", (json_int_t) now_ms(r)));
  pthread_mutex_unlock(&r->lock);
}

static int patch_series(struct k8s_event_recorder *r, const char *ns, const char *name, long count,
                        struct k8s_status *st)
{
  char path[K8S_PATH_MAX], now[40];
  int rc = k8s_path(path, sizeof(path), &K8S_RES_EVENTS, ns, name, NULL);
  if (rc != MGO_OK)
    return k8s_status_local(st, rc, "event path too long");
  micro_time_now(r, now, sizeof(now));
  json_t *patch = json_pack("{s:{s:I, s:s}}", "series", "count", (json_int_t) count, "lastObservedTime", now);
  rc = k8s_merge_patch(r->client, path, patch, NULL, st);
  json_decref(patch);
  return rc;
}

static json_t *new_event(struct k8s_event_recorder *r, const json_t *involved, const char *name,
                         const char *type, const char *reason, const char *action, const char *note)
{
  char now[40];
  micro_time_now(r, now, sizeof(now));
  return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "apiVersion",
                   "events.k8s.io/v1", "kind", "Event", "metadata", "name", name, "namespace",
                   event_namespace(involved), "eventTime", now, "reportingController", r->controller,
                   "reportingInstance", r->instance, "type", type, "reason", reason, "action", action, "note",
                   note, "regarding", regarding_ref(involved));
}

static int create_event(struct k8s_event_recorder *r, const json_t *involved, const char *key,
                        const char *type, const char *reason, const char *action, const char *note,
                        struct k8s_status *st)
{
  char name[256], prefix[NAME_PREFIX_MAX + 1], path[K8S_PATH_MAX];
  mgo_strlcpy(prefix, md_str(involved, "name"), sizeof(prefix));
  pthread_mutex_lock(&r->lock);
  unsigned seq = r->seq++;
  pthread_mutex_unlock(&r->lock);
  mgo_snprintf(name, sizeof(name), "%s.%llx%04x", prefix,
               (unsigned long long) (mgo_clock_wall_ms(r->clock) / 1000), seq & 0xffff);
  int rc = k8s_path(path, sizeof(path), &K8S_RES_EVENTS, event_namespace(involved), NULL, NULL);
  if (rc != MGO_OK)
    return k8s_status_local(st, rc, "event path too long");
  json_t *ev = new_event(r, involved, name, type, reason, action, note);
  rc = ev ? k8s_create(r->client, path, ev, NULL, st)
          : k8s_status_local(st, MGO_EINVAL, "event not encodable");
  json_decref(ev);
  if (rc == MGO_OK)
    remember(r, key, name);
  return rc;
}

int k8s_event_record(struct k8s_event_recorder *r, const json_t *involved, const char *type,
                     const char *reason, const char *action, const char *note, bool *aggregated,
                     struct k8s_status *st)
{
  char clipped[NOTE_MAX + 1], name[256];
  long count = 0;
  if (aggregated)
    *aggregated = false;
  k8s_status_clear(st);
  if (!involved || !md_str(involved, "name")[0] || !type || !reason || !action)
    return k8s_status_local(st, MGO_EINVAL,
                            "event needs an involved object with a name, a type, reason, action");
  truncate_note(clipped, str_or_empty(note));
  struct mgo_buf key = MGO_BUF_INIT(AGG_KEY_MAX + NOTE_MAX);
  int rc = aggregation_key(&key, involved, type, reason, action, clipped);
  if (rc == MGO_OK && lookup_repeat(r, mgo_buf_str(&key), name, sizeof(name), &count) == MGO_OK) {
    rc = patch_series(r, event_namespace(involved), name, count, st);
    if (rc == MGO_OK && aggregated)
      *aggregated = true;
    if (rc != MGO_ENOTFOUND) {
      mgo_buf_free(&key);
      return rc;
    }
  }
  if (rc == MGO_OK || rc == MGO_ENOTFOUND)
    rc = create_event(r, involved, mgo_buf_str(&key), type, reason, action, clipped, st);
  mgo_buf_free(&key);
  return rc;
}
