/* An informer: list + watch of one resource type into a thread-safe cache, with event handlers.
 *
 * One thread per informer runs: list (paged) → replace the cache, calling add/update/delete handlers for the
 * difference → mark synced → watch from the list's resourceVersion with bookmarks → on a normal end of the
 * stream, watch again from the last resourceVersion seen; on a broken connection, retry the watch from that
 * resourceVersion after an exponential backoff with jitter (so an apiserver restart loses no event); on 410
 * Gone or a malformed stream, relist. Every resync_ms the update handler is called for every cached object
 * (old == new), so level-triggered consumers recheck state even when nothing changed.
 *
 * Cache: keyed "namespace/name" ("name" for cluster-scoped objects), without metadata.managedFields unless
 * keep_managed_fields is set, and without the top-level fields of drop_fields (what the caller never reads:
 * a pod's spec is most of its size; handlers see the objects without them too). It holds json_t objects
 * shared by reference count (jansson's refcounts are atomic): objects in the cache are IMMUTABLE. Getters
 * return a new reference the caller json_decref()s; never modify it (json_deep_copy() first). Handlers
 * receive borrowed objects valid during the call (json_incref() to keep one).
 *
 * Threads: handlers run on the informer's thread, after the cache was updated and without the cache lock
 * held, so they may call k8s_informer_get()/list() (typically they only enqueue keys in a k8s_queue).
 * Getters are safe from any thread. k8s_informer_stop() wakes the thread (within about a second, even in the
 * middle of a watch) and joins it.
 *
 * Time: resync and the retry backoff follow opts.clock (NULL = the system clock); the resync is checked
 * before each watch and on the watch's ticks (about once a second of real time). The timeout of
 * k8s_informer_wait_synced() is real time. With a fake clock, k8s_informer_kick() ends a backoff wait whose
 * deadline the clock has passed.
 *
 * Ownership: the informer borrows the client (which must outlive it); free with k8s_informer_free() after
 * stop. */
#ifndef K8S_INFORMER_H
#define K8S_INFORMER_H

#include <jansson.h>
#include <stdbool.h>

#include "k8s_client.h"
#include "k8s_path.h"
#include "mgo_clock.h"

struct k8s_informer_handlers {
  void (*on_add)(void *arg, const json_t *obj);
  void (*on_update)(void *arg, const json_t *old_obj, const json_t *new_obj);
  void (*on_delete)(void *arg, const json_t *last_known); /* last state seen (the DELETED event's object) */
  /* Optional: called on list/watch failures (rc, st) so the application can log them. */
  void (*on_error)(void *arg, const char *what, int rc, const struct k8s_status *st);
  void *arg;
};

struct k8s_informer_opts {
  const struct k8s_resource *resource;
  const char *namespace; /* NULL = all namespaces */
  const char *label_selector;
  const char *field_selector;
  long resync_ms;           /* 0 = no resync */
  long page_size;           /* list limit, default 500 */
  long watch_timeout_s;     /* server-side watch lifetime, default 300 (jittered up to +50%) */
  long backoff_base_ms;     /* default 200 */
  long backoff_max_ms;      /* default 30000 */
  bool keep_managed_fields; /* default false: metadata.managedFields is dropped before caching (saves memory)
                             */
  /* NULL-terminated top-level keys dropped before caching (e.g. {"spec", NULL}); NULL = none. Borrowed: a
   * static table that outlives the informer. */
  const char *const *drop_fields;
  const struct mgo_clock *clock; /* borrowed, must outlive the informer; NULL = mgo_clock_system() */
};

struct k8s_informer_stats {
  unsigned long lists;        /* successful lists (1 + relists) */
  unsigned long watches;      /* watch requests started */
  unsigned long gone;         /* 410 Gone seen (each leads to a relist) */
  unsigned long watch_errors; /* broken or refused watch connections */
  unsigned long events;       /* watch events applied */
};

struct k8s_informer;

int k8s_informer_new(struct k8s_client *c, const struct k8s_informer_opts *opts,
                     const struct k8s_informer_handlers *handlers, struct k8s_informer **out);
/* Starts the thread. */
int k8s_informer_start(struct k8s_informer *inf);
/* Signals the thread and joins it (idempotent). A watch notices within about a second; to stop many informers
 * in about a second overall, call k8s_informer_request_stop() on all of them first, then k8s_informer_stop().
 */
void k8s_informer_stop(struct k8s_informer *inf);
/* Only signals the thread to stop (returns at once; thread-safe). */
void k8s_informer_request_stop(struct k8s_informer *inf);
/* Wakes the thread's backoff wait to re-check the clock (after a fake clock moved). Thread-safe. */
void k8s_informer_kick(struct k8s_informer *inf);
void k8s_informer_free(struct k8s_informer *inf);

/* True once the first list has been applied. */
bool k8s_informer_has_synced(struct k8s_informer *inf);
/* Waits up to timeout_ms for the first sync: MGO_OK or MGO_ETIMEDOUT. */
int k8s_informer_wait_synced(struct k8s_informer *inf, long timeout_ms);

/* New reference to the cached object, or NULL. ns is ignored for cluster-scoped resources. */
json_t *k8s_informer_get(struct k8s_informer *inf, const char *ns, const char *name);
/* New array holding references to every cached object (in namespace ns when non-NULL). */
json_t *k8s_informer_list(struct k8s_informer *inf, const char *ns);
size_t k8s_informer_size(struct k8s_informer *inf);
/* The last resourceVersion applied (copied into dst). */
void k8s_informer_resource_version(struct k8s_informer *inf, char *dst, size_t dstsz);
void k8s_informer_get_stats(struct k8s_informer *inf, struct k8s_informer_stats *out);

/* The cache key of an object: "namespace/name" or "name". MGO_EINVAL when metadata.name is missing. */
int k8s_object_key(const json_t *obj, char *dst, size_t dstsz);

#endif
