/* Unit tests: the rate-limited work queue (dedupe, one worker per key, backoff and forget, delayed adds,
 * shutdown waking blocked workers), including a multi-threaded stress run. Delays and the token bucket are
 * driven by a fake clock; other threads' effects are awaited by polling with a deadline, never by sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "k8s_queue.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "test_poll.h"

#define FAKE_START_MS 1000000 /* fake clocks start well away from 0 (the queue's "no deadline") */

static void get_expect(struct k8s_queue *q, const char *want)
{
  char *key = NULL;
  assert_int_equal(k8s_queue_get_timeout(q, &key, 2000), MGO_OK);
  assert_string_equal(key, want);
  free(key);
}

static void test_dedupe_and_order(void **state)
{
  (void) state;
  struct k8s_queue *q = k8s_queue_new(NULL);
  assert_int_equal(k8s_queue_add(q, "ns/a"), MGO_OK);
  assert_int_equal(k8s_queue_add(q, "ns/b"), MGO_OK);
  assert_int_equal(k8s_queue_add(q, "ns/a"), MGO_OK);
  assert_int_equal(k8s_queue_len(q), 2);
  get_expect(q, "ns/a");
  get_expect(q, "ns/b");
  char *key = NULL;
  assert_int_equal(k8s_queue_get_timeout(q, &key, 50), MGO_ETIMEDOUT);
  assert_null(key);
  k8s_queue_done(q, "ns/a");
  k8s_queue_done(q, "ns/b");
  k8s_queue_shutdown(q);
  k8s_queue_free(q);
}

static void test_key_not_handed_out_twice(void **state)
{
  (void) state;
  struct k8s_queue *q = k8s_queue_new(NULL);
  k8s_queue_add(q, "k");
  get_expect(q, "k");    /* a worker holds k */
  k8s_queue_add(q, "k"); /* changed again meanwhile */
  k8s_queue_add(q, "k");
  assert_int_equal(k8s_queue_len(q), 0); /* not available while processing */
  char *key = NULL;
  assert_int_equal(k8s_queue_get_timeout(q, &key, 100), MGO_ETIMEDOUT);
  k8s_queue_done(q, "k");
  assert_int_equal(k8s_queue_len(q), 1); /* dirty: queued once more at done() */
  get_expect(q, "k");
  k8s_queue_done(q, "k");
  assert_int_equal(k8s_queue_len(q), 0);
  k8s_queue_shutdown(q);
  k8s_queue_free(q);
}

static void test_backoff_and_forget(void **state)
{
  (void) state;
  struct k8s_queue_opts o = {.base_delay_ms = 10, .max_delay_ms = 80, .qps = -1};
  struct k8s_queue *q = k8s_queue_new(&o);
  long want[] = {10, 20, 40, 80, 80};
  for (int i = 0; i < 5; i++)
    assert_int_equal(k8s_queue_add_rate_limited(q, "k"), want[i]);
  assert_int_equal(k8s_queue_num_requeues(q, "k"), 5);
  assert_int_equal(k8s_queue_num_requeues(q, "other"), 0);
  k8s_queue_forget(q, "k");
  assert_int_equal(k8s_queue_num_requeues(q, "k"), 0);
  assert_int_equal(k8s_queue_add_rate_limited(q, "k"), 10);
  k8s_queue_shutdown(q);
  k8s_queue_free(q);
}

static void test_overall_bucket(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, 0);
  struct k8s_queue_opts o = {
      .base_delay_ms = 1, .max_delay_ms = 1000, .qps = 10, .burst = 2, .clock = &fc.clock};
  struct k8s_queue *q = k8s_queue_new(&o);
  assert_int_equal(k8s_queue_add_rate_limited(q, "a"), 1); /* the per-key backoff: the bucket has tokens */
  assert_int_equal(k8s_queue_add_rate_limited(q, "b"), 1);
  long d3 = k8s_queue_add_rate_limited(q, "c");
  long d4 = k8s_queue_add_rate_limited(q, "d");
  assert_int_equal(d3, 100); /* the burst is spent: one token per 100 ms */
  assert_int_equal(d4, 200);
  mgo_fake_clock_advance_ms(&fc, 150);
  assert_int_equal(k8s_queue_add_rate_limited(q, "e"), 150); /* 1.5 tokens came back, 2 were owed */
  mgo_fake_clock_advance_ms(&fc, 10000);                     /* refills up to the burst, no further */
  assert_int_equal(k8s_queue_add_rate_limited(q, "f"), 1);
  assert_int_equal(k8s_queue_add_rate_limited(q, "g"), 1);
  assert_int_equal(k8s_queue_add_rate_limited(q, "h"), 100);
  k8s_queue_shutdown(q);
  k8s_queue_free(q);
  mgo_fake_clock_destroy(&fc);
}

/* A non-blocking get: the key that is ready now, or NULL. */
static char *get_now(struct k8s_queue *q)
{
  char *key = NULL;
  int rc = k8s_queue_get_timeout(q, &key, 0);
  assert_true(rc == MGO_OK || rc == MGO_ETIMEDOUT);
  return key;
}

static void assert_ready_now(struct k8s_queue *q, const char *want)
{
  char *key = get_now(q);
  assert_non_null(key);
  assert_string_equal(key, want);
  k8s_queue_done(q, key);
  free(key);
}

static void test_delayed_add(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, 0);
  struct k8s_queue_opts o = {.clock = &fc.clock};
  struct k8s_queue *q = k8s_queue_new(&o);
  assert_int_equal(k8s_queue_add_after(q, "later", 150), MGO_OK);
  assert_int_equal(k8s_queue_len(q), 0);
  assert_int_equal(k8s_queue_delayed_len(q), 1);
  assert_null(get_now(q));
  mgo_fake_clock_advance_ms(&fc, 149);
  assert_null(get_now(q)); /* not a millisecond early */
  assert_int_equal(k8s_queue_delayed_len(q), 1);
  mgo_fake_clock_advance_ms(&fc, 1);
  assert_ready_now(q, "later");
  /* an earlier deadline replaces a later one; a later one does not postpone */
  k8s_queue_add_after(q, "x", 60000);
  k8s_queue_add_after(q, "x", 50);
  k8s_queue_add_after(q, "x", 30000);
  mgo_fake_clock_advance_ms(&fc, 49);
  assert_null(get_now(q));
  mgo_fake_clock_advance_ms(&fc, 1);
  assert_ready_now(q, "x");
  assert_int_equal(k8s_queue_delayed_len(q), 0);
  /* a zero delay is an immediate add */
  k8s_queue_add_after(q, "now", 0);
  assert_int_equal(k8s_queue_len(q), 1);
  k8s_queue_shutdown(q);
  k8s_queue_free(q);
  mgo_fake_clock_destroy(&fc);
}

static long waits[8];
static size_t nwaits;

static void record_wait(void *arg, long wait_ms)
{
  (void) arg;
  if (nwaits < sizeof(waits) / sizeof(waits[0]))
    waits[nwaits++] = wait_ms;
}

/* The wait a key is reported with runs from its first add (immediate adds) or from its due time (delayed
 * adds, even when no worker moved it into the queue at that moment) to the get() that takes it. */
static void test_wait_time_from_add_or_due_time(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, 0);
  struct k8s_queue_opts o = {.clock = &fc.clock, .on_wait = record_wait};
  struct k8s_queue *q = k8s_queue_new(&o);
  nwaits = 0;
  k8s_queue_add(q, "a");
  mgo_fake_clock_advance_ms(&fc, 30);
  k8s_queue_add(q, "a"); /* deduped: the wait still counts from the first add */
  mgo_fake_clock_advance_ms(&fc, 10);
  assert_ready_now(q, "a");
  k8s_queue_add_after(q, "b", 100);
  mgo_fake_clock_advance_ms(&fc, 350); /* due 250 ms ago; nobody asked meanwhile */
  assert_ready_now(q, "b");
  k8s_queue_add(q, "c");
  assert_ready_now(q, "c");
  assert_int_equal(nwaits, 3);
  assert_int_equal(waits[0], 40);
  assert_int_equal(waits[1], 250);
  assert_int_equal(waits[2], 0);
  /* re-added while a worker holds it: queued again at done(), waiting since that add */
  k8s_queue_add(q, "c");
  char *held = get_now(q);
  assert_non_null(held);
  mgo_fake_clock_advance_ms(&fc, 10);
  k8s_queue_add(q, "c");
  mgo_fake_clock_advance_ms(&fc, 20);
  k8s_queue_done(q, held);
  free(held);
  mgo_fake_clock_advance_ms(&fc, 5);
  assert_ready_now(q, "c");
  assert_int_equal(nwaits, 5);
  assert_int_equal(waits[3], 0);
  assert_int_equal(waits[4], 25);
  k8s_queue_shutdown(q);
  k8s_queue_free(q);
  mgo_fake_clock_destroy(&fc);
}

struct blocked_worker {
  struct k8s_queue *q;
  int rc;
  char *key;
  atomic_bool returned;
};

static void *block_in_get(void *arg)
{
  struct blocked_worker *w = arg;
  w->rc = k8s_queue_get(w->q, &w->key);
  atomic_store(&w->returned, true);
  return NULL;
}

static struct k8s_queue *waited_queue;
static size_t waited_workers;

static bool workers_blocked(void *arg)
{
  (void) arg;
  return k8s_queue_waiting(waited_queue) == waited_workers;
}

/* Polls until n workers are blocked in get(). */
static void assert_workers_blocked(struct k8s_queue *q, size_t n)
{
  waited_queue = q;
  waited_workers = n;
  assert_true(tu_poll_until(workers_blocked, NULL, 5000));
}

static void test_delayed_key_wakes_a_blocked_worker(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, 0);
  struct k8s_queue_opts o = {.clock = &fc.clock};
  struct k8s_queue *q = k8s_queue_new(&o);
  struct blocked_worker w = {.q = q, .rc = 1};
  pthread_t t;
  assert_int_equal(k8s_queue_add_after(q, "due", 600000), MGO_OK); /* 10 min of fake time */
  assert_int_equal(pthread_create(&t, NULL, block_in_get, &w), 0);
  assert_workers_blocked(q, 1);
  assert_false(atomic_load(&w.returned));
  mgo_fake_clock_advance_ms(&fc, 600000);
  k8s_queue_kick(q); /* the worker re-checks at once, not after 10 min of real time */
  pthread_join(t, NULL);
  assert_int_equal(w.rc, MGO_OK);
  assert_string_equal(w.key, "due");
  assert_int_equal(k8s_queue_delayed_len(q), 0);
  k8s_queue_done(q, w.key);
  free(w.key);
  k8s_queue_shutdown(q);
  k8s_queue_free(q);
  mgo_fake_clock_destroy(&fc);
}

static void test_shutdown_wakes_workers(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, 0);
  struct k8s_queue_opts o = {.clock = &fc.clock};
  struct k8s_queue *q = k8s_queue_new(&o);
  struct blocked_worker w[3];
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    w[i] = (struct blocked_worker){.q = q, .rc = 1};
    assert_int_equal(pthread_create(&t[i], NULL, block_in_get, &w[i]), 0);
  }
  assert_workers_blocked(q, 3);
  k8s_queue_add_after(q, "far-future", 600000); /* a pending timer must not keep them asleep */
  assert_workers_blocked(q, 3);                 /* woken by the add, they went back to waiting for it */
  for (int i = 0; i < 3; i++)
    assert_false(atomic_load(&w[i].returned));
  k8s_queue_shutdown(q);
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].rc, MGO_ECANCELED);
    assert_null(w[i].key);
  }
  assert_int_equal(k8s_queue_waiting(q), 0);
  assert_int_equal(k8s_queue_add(q, "late"), MGO_ECANCELED);
  k8s_queue_free(q);
  mgo_fake_clock_destroy(&fc);
}

#define STRESS_KEYS 5
#define STRESS_ADDS 3000
#define STRESS_WORKERS 4

struct stress {
  struct k8s_queue *q;
  atomic_int in_flight[STRESS_KEYS];
  atomic_int violations;
  atomic_int processed;
};

static void *stress_worker(void *arg)
{
  struct stress *s = arg;
  for (;;) {
    char *key = NULL;
    if (k8s_queue_get(s->q, &key) != MGO_OK)
      return NULL;
    int k = key[0] - 'a';
    if (atomic_fetch_add(&s->in_flight[k], 1) != 0)
      atomic_fetch_add(&s->violations, 1);
    sched_yield();
    atomic_fetch_sub(&s->in_flight[k], 1);
    atomic_fetch_add(&s->processed, 1);
    k8s_queue_done(s->q, key);
    free(key);
  }
}

static bool stress_drained(void *arg)
{
  struct stress *s = arg;
  return k8s_queue_len(s->q) == 0 && k8s_queue_delayed_len(s->q) == 0;
}

static void test_stress_one_worker_per_key(void **state)
{
  (void) state;
  struct stress s = {.q = k8s_queue_new(NULL)};
  pthread_t t[STRESS_WORKERS];
  for (int i = 0; i < STRESS_WORKERS; i++)
    pthread_create(&t[i], NULL, stress_worker, &s);
  unsigned seed = 7;
  for (int i = 0; i < STRESS_ADDS; i++) {
    char key[2] = {(char) ('a' + rand_r(&seed) % STRESS_KEYS), 0};
    if (i % 10 == 0)
      k8s_queue_add_after(s.q, key, 1);
    else
      k8s_queue_add(s.q, key);
  }
  assert_true(tu_poll_until(stress_drained, &s, 5000));
  k8s_queue_shutdown(s.q);
  for (int i = 0; i < STRESS_WORKERS; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(atomic_load(&s.violations), 0);
  assert_true(atomic_load(&s.processed) >= STRESS_KEYS); /* dedupe collapses adds, but every key ran */
  assert_true(atomic_load(&s.processed) <= STRESS_ADDS);
  k8s_queue_free(s.q);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dedupe_and_order),
      cmocka_unit_test(test_key_not_handed_out_twice),
      cmocka_unit_test(test_backoff_and_forget),
      cmocka_unit_test(test_overall_bucket),
      cmocka_unit_test(test_delayed_add),
      cmocka_unit_test(test_wait_time_from_add_or_due_time),
      cmocka_unit_test(test_delayed_key_wakes_a_blocked_worker),
      cmocka_unit_test(test_shutdown_wakes_workers),
      cmocka_unit_test(test_stress_one_worker_per_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
