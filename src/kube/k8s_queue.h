/* A rate-limited work queue of string keys ("namespace/name"), with the guarantees of client-go's:
 *
 *  - dedupe: a key waiting in the queue is held once, however often it is added;
 *  - exclusivity: a key handed to a worker by k8s_queue_get() is not handed to another worker until
 *    k8s_queue_done(); adding it meanwhile marks it dirty and it is queued again at done();
 *  - per-key exponential backoff: k8s_queue_add_rate_limited() waits base * 2^failures (capped at max),
 *    combined with an overall token bucket (qps/burst); k8s_queue_forget() resets a key's failures;
 *  - delayed adds: k8s_queue_add_after() (the earliest pending time wins);
 *  - shutdown: k8s_queue_shutdown() wakes every blocked worker; get() then returns MGO_ECANCELED;
 *  - wait time: opts.on_wait hears, for every key handed out, how long it waited for a worker: from
 *    the moment it was added (the first add while not yet queued), or from its due time for a delayed
 *    add, to the get() that took it (client-go's workqueue_queue_duration_seconds). With busy workers a
 *    due key is only moved into the queue when one comes back: its wait still counts from the due time.
 *
 * Time: delays, backoff and the bucket follow opts.clock (NULL = the system clock); the timeout given to
 * k8s_queue_get_timeout() is real time, since it bounds how long the calling thread blocks. With a fake
 * clock, a test advances it and calls k8s_queue_kick() so blocked workers re-check the due keys at once.
 *
 * Ownership: the queue copies keys it is given. k8s_queue_get() returns a malloc'ed key the worker passes to
 * k8s_queue_done() and then free()s. Thread-safety: every function is safe from any thread; one mutex
 * protects the state, delayed keys become ready inside get() (no extra thread). */
#ifndef K8S_QUEUE_H
#define K8S_QUEUE_H

#include <stddef.h>

#include "mgo_clock.h"

struct k8s_queue_opts {
  long base_delay_ms; /* per-key backoff start, default 5 */
  long max_delay_ms;  /* per-key backoff cap, default 300000 */
  double qps;         /* overall bucket rate for rate-limited adds, default 10; <0 disables the bucket */
  int burst;          /* bucket size, default 100 */
  const struct mgo_clock *clock; /* borrowed, must outlive the queue; NULL = mgo_clock_system() */
  /* NULL = not reported. Called by get() on the worker's thread, outside the queue's lock. */
  void (*on_wait)(void *arg, long wait_ms);
  void *on_wait_arg;
};

struct k8s_queue;

/* opts may be NULL. NULL on allocation failure. */
struct k8s_queue *k8s_queue_new(const struct k8s_queue_opts *opts);
/* Call after k8s_queue_shutdown() and after every worker returned. */
void k8s_queue_free(struct k8s_queue *q);

int k8s_queue_add(struct k8s_queue *q, const char *key);
int k8s_queue_add_after(struct k8s_queue *q, const char *key, long delay_ms);
/* Adds after the key's backoff delay and counts one more failure. Returns the delay used (>= 0) or an
 * MGO_* error. */
long k8s_queue_add_rate_limited(struct k8s_queue *q, const char *key);
void k8s_queue_forget(struct k8s_queue *q, const char *key);
int k8s_queue_num_requeues(struct k8s_queue *q, const char *key);

/* Blocks until a key is ready (*key receives it) or the queue shuts down (MGO_ECANCELED, *key NULL). */
int k8s_queue_get(struct k8s_queue *q, char **key);
/* Like get, but gives up after timeout_ms with MGO_ETIMEDOUT. */
int k8s_queue_get_timeout(struct k8s_queue *q, char **key, long timeout_ms);
void k8s_queue_done(struct k8s_queue *q, const char *key);

/* Wakes every blocked worker to re-check the delayed keys against the clock (after a fake clock moved). */
void k8s_queue_kick(struct k8s_queue *q);
void k8s_queue_shutdown(struct k8s_queue *q);
/* Keys ready to be handed out (delayed keys not counted). */
size_t k8s_queue_len(struct k8s_queue *q);
/* Keys waiting for their delay. */
size_t k8s_queue_delayed_len(struct k8s_queue *q);
/* Workers blocked in get() right now. */
size_t k8s_queue_waiting(struct k8s_queue *q);

#endif
