#include "k8s_queue.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_backoff.h"
#include "mgo_clock.h"
#include "mgo_err.h"

/* The sets and maps are jansson objects used as string-keyed hash tables (values: true, counts, due times);
 * they are only touched under q->lock. */
struct k8s_queue {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct k8s_queue_opts opts;
  json_t *fifo;       /* array of keys ready to hand out, in order */
  json_t *dirty;      /* keys that need processing (queued, or re-added while processing) */
  json_t *processing; /* keys currently held by a worker */
  json_t *delayed;    /* key -> due time (ms, monotonic, on opts.clock) */
  json_t *failures;   /* key -> consecutive rate-limited adds */
  json_t *since;      /* dirty key -> when it became due (ms, on opts.clock): its wait starts there */
  double tokens;      /* overall bucket */
  long long bucket_ms;
  size_t waiting; /* workers blocked in get */
  bool shutting_down;
};

/* The queue's clock: delays, backoff and the bucket follow it. */
static long long now_ms(const struct k8s_queue *q)
{
  return mgo_clock_mono_ms(q->opts.clock);
}

static void apply_defaults(struct k8s_queue_opts *o, const struct k8s_queue_opts *in)
{
  if (in)
    *o = *in;
  if (o->base_delay_ms <= 0)
    o->base_delay_ms = 5;
  if (o->max_delay_ms <= 0)
    o->max_delay_ms = 300000;
  if (o->qps == 0)
    o->qps = 10;
  if (o->burst <= 0)
    o->burst = 100;
}

struct k8s_queue *k8s_queue_new(const struct k8s_queue_opts *opts)
{
  struct k8s_queue *q = calloc(1, sizeof(*q));
  if (!q)
    return NULL;
  apply_defaults(&q->opts, opts);
  q->fifo = json_array();
  q->dirty = json_object();
  q->processing = json_object();
  q->delayed = json_object();
  q->failures = json_object();
  q->since = json_object();
  q->tokens = q->opts.burst;
  q->bucket_ms = now_ms(q);
  mgo_clock_cond_init(&q->cond);
  pthread_mutex_init(&q->lock, NULL);
  if (!q->fifo || !q->dirty || !q->processing || !q->delayed || !q->failures || !q->since) {
    k8s_queue_free(q);
    return NULL;
  }
  return q;
}

void k8s_queue_free(struct k8s_queue *q)
{
  if (!q)
    return;
  json_decref(q->fifo);
  json_decref(q->dirty);
  json_decref(q->processing);
  json_decref(q->delayed);
  json_decref(q->failures);
  json_decref(q->since);
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->lock);
  free(q);
}

/* Queues key, due since due_ms, honouring dedupe and exclusivity. Caller holds the lock. */
static int add_locked(struct k8s_queue *q, const char *key, long long due_ms)
{
  if (q->shutting_down)
    return MGO_ECANCELED;
  if (json_object_get(q->dirty, key))
    return MGO_OK;
  if (json_object_set_new(q->dirty, key, json_true()) != 0 ||
      json_object_set_new(q->since, key, json_integer(due_ms)) != 0)
    return MGO_ENOMEM;
  if (json_object_get(q->processing, key))
    return MGO_OK; /* re-queued by done() */
  if (json_array_append_new(q->fifo, json_string(key)) != 0)
    return MGO_ENOMEM;
  pthread_cond_signal(&q->cond);
  return MGO_OK;
}

int k8s_queue_add(struct k8s_queue *q, const char *key)
{
  if (!key)
    return MGO_EINVAL;
  pthread_mutex_lock(&q->lock);
  int rc = add_locked(q, key, now_ms(q));
  pthread_mutex_unlock(&q->lock);
  return rc;
}

static int add_after_locked(struct k8s_queue *q, const char *key, long delay_ms)
{
  if (delay_ms <= 0)
    return add_locked(q, key, now_ms(q));
  if (q->shutting_down)
    return MGO_ECANCELED;
  long long due = now_ms(q) + delay_ms;
  json_t *cur = json_object_get(q->delayed, key);
  if (cur && json_integer_value(cur) <= due)
    return MGO_OK;
  if (json_object_set_new(q->delayed, key, json_integer(due)) != 0)
    return MGO_ENOMEM;
  pthread_cond_broadcast(&q->cond); /* a waiter may need an earlier wake-up */
  return MGO_OK;
}

int k8s_queue_add_after(struct k8s_queue *q, const char *key, long delay_ms)
{
  if (!key)
    return MGO_EINVAL;
  pthread_mutex_lock(&q->lock);
  int rc = add_after_locked(q, key, delay_ms);
  pthread_mutex_unlock(&q->lock);
  return rc;
}

/* Delay imposed by the overall bucket for one more rate-limited add (reserves a token). */
static long bucket_delay_locked(struct k8s_queue *q)
{
  if (q->opts.qps < 0)
    return 0;
  long long now = now_ms(q);
  q->tokens += (double) (now - q->bucket_ms) * q->opts.qps / 1000.0;
  if (q->tokens > q->opts.burst)
    q->tokens = q->opts.burst;
  q->bucket_ms = now;
  q->tokens -= 1.0;
  if (q->tokens >= 0)
    return 0;
  return (long) (-q->tokens * 1000.0 / q->opts.qps);
}

long k8s_queue_add_rate_limited(struct k8s_queue *q, const char *key)
{
  if (!key)
    return MGO_EINVAL;
  pthread_mutex_lock(&q->lock);
  json_int_t fails = json_integer_value(json_object_get(q->failures, key));
  long delay = k8s_backoff_delay_ms(q->opts.base_delay_ms, q->opts.max_delay_ms, (unsigned) fails);
  long bucket = bucket_delay_locked(q);
  if (bucket > delay)
    delay = bucket;
  json_object_set_new(q->failures, key, json_integer(fails + 1));
  int rc = add_after_locked(q, key, delay);
  pthread_mutex_unlock(&q->lock);
  return rc == MGO_OK ? delay : rc;
}

void k8s_queue_forget(struct k8s_queue *q, const char *key)
{
  pthread_mutex_lock(&q->lock);
  json_object_del(q->failures, key);
  pthread_mutex_unlock(&q->lock);
}

int k8s_queue_num_requeues(struct k8s_queue *q, const char *key)
{
  pthread_mutex_lock(&q->lock);
  int n = (int) json_integer_value(json_object_get(q->failures, key));
  pthread_mutex_unlock(&q->lock);
  return n;
}

/* Moves every due delayed key into the queue; returns the earliest remaining due time (0 = none). */
static long long promote_due_locked(struct k8s_queue *q)
{
  long long now = now_ms(q), earliest = 0;
  const char *key;
  json_t *due;
  void *tmp;
  json_object_foreach_safe(q->delayed, tmp, key, due)
  {
    long long t = json_integer_value(due);
    if (t <= now) {
      add_locked(q, key, t);
      json_object_del(q->delayed, key);
    } else if (earliest == 0 || t < earliest) {
      earliest = t;
    }
  }
  return earliest;
}

/* Waits for a signal, for the next delayed key to be due (next_due on the queue's clock) or for the caller's
 * give-up time (give_up on the system clock), whichever comes first; 0 means none. */
static void wait_locked(struct k8s_queue *q, long long next_due, long long give_up)
{
  if (next_due == 0 && give_up == 0) {
    pthread_cond_wait(&q->cond, &q->lock);
    return;
  }
  if (give_up == 0 || (next_due != 0 && next_due - now_ms(q) < give_up - mgo_clock_mono_ms(NULL)))
    mgo_clock_cond_wait_until(q->opts.clock, &q->cond, &q->lock, next_due);
  else
    mgo_clock_cond_wait_until(NULL, &q->cond, &q->lock, give_up);
}

/* Pops the first ready key into *key (processing, no longer dirty); *waited: ms since it was due. */
static int pop_locked(struct k8s_queue *q, char **key, long *waited)
{
  *key = strdup(json_string_value(json_array_get(q->fifo, 0)));
  if (!*key)
    return MGO_ENOMEM;
  json_t *since = json_object_get(q->since, *key);
  long long w = since != NULL ? now_ms(q) - json_integer_value(since) : 0;
  *waited = w > 0 ? (long) w : 0;
  json_object_del(q->since, *key);
  json_array_remove(q->fifo, 0);
  json_object_del(q->dirty, *key);
  json_object_set_new(q->processing, *key, json_true());
  return MGO_OK;
}

int k8s_queue_get_timeout(struct k8s_queue *q, char **key, long timeout_ms)
{
  *key = NULL;
  long long give_up = timeout_ms >= 0 ? mgo_clock_mono_ms(NULL) + timeout_ms : 0; /* real time */
  int rc = MGO_OK;
  long waited = -1;
  pthread_mutex_lock(&q->lock);
  for (;;) {
    if (q->shutting_down) {
      rc = MGO_ECANCELED;
      break;
    }
    long long next_due = promote_due_locked(q);
    if (json_array_size(q->fifo) > 0) {
      rc = pop_locked(q, key, &waited);
      break;
    }
    if (give_up && mgo_clock_mono_ms(NULL) >= give_up) {
      rc = MGO_ETIMEDOUT;
      break;
    }
    q->waiting++;
    wait_locked(q, next_due, give_up);
    q->waiting--;
  }
  pthread_mutex_unlock(&q->lock);
  if (rc == MGO_OK && waited >= 0 && q->opts.on_wait != NULL)
    q->opts.on_wait(q->opts.on_wait_arg, waited);
  return rc;
}

int k8s_queue_get(struct k8s_queue *q, char **key)
{
  return k8s_queue_get_timeout(q, key, -1);
}

void k8s_queue_done(struct k8s_queue *q, const char *key)
{
  pthread_mutex_lock(&q->lock);
  json_object_del(q->processing, key);
  if (json_object_get(q->dirty, key) && !q->shutting_down) {
    json_array_append_new(q->fifo, json_string(key));
    pthread_cond_signal(&q->cond);
  }
  pthread_mutex_unlock(&q->lock);
}

void k8s_queue_kick(struct k8s_queue *q)
{
  pthread_mutex_lock(&q->lock);
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

void k8s_queue_shutdown(struct k8s_queue *q)
{
  pthread_mutex_lock(&q->lock);
  q->shutting_down = true;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

size_t k8s_queue_len(struct k8s_queue *q)
{
  pthread_mutex_lock(&q->lock);
  size_t n = json_array_size(q->fifo);
  pthread_mutex_unlock(&q->lock);
  return n;
}

size_t k8s_queue_waiting(struct k8s_queue *q)
{
  pthread_mutex_lock(&q->lock);
  size_t n = q->waiting;
  pthread_mutex_unlock(&q->lock);
  return n;
}

size_t k8s_queue_delayed_len(struct k8s_queue *q)
{
  pthread_mutex_lock(&q->lock);
  size_t n = json_object_size(q->delayed);
  pthread_mutex_unlock(&q->lock);
  return n;
}
