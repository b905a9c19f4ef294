/* Unit tests: leader election against a fake API server holding one Lease with real optimistic concurrency
 * (PUT must carry the current resourceVersion, else 409). Covers create-to-acquire, renew, a held lease,
 * a lost update race, release and immediate take-over, expiry by the local clock, and the threaded loop.
 * Lease time is a fake clock the tests advance; the elector thread's effects are awaited by polling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_http.h"
#include "k8s_lease.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "test_poll.h"

#define FAKE_START_MS 1000000
#define FAKE_WALL_MS 1136214245000 /* 2006-01-02T15:04:05Z */

#define LEASE_PATH "/apis/coordination.k8s.io/v1/namespaces/sys/leases/op"

struct store {
  struct fake_http http;
  pthread_mutex_t lock;
  json_t *lease; /* NULL until created */
  int rv;
  atomic_int force_conflicts; /* answer the next N PUTs with 409 */
  atomic_int puts;
};

static void answer_json(int fd, int code, json_t *obj)
{
  char *body = json_dumps(obj, JSON_COMPACT);
  fake_http_respond(fd, code, body, strlen(body));
  free(body);
}

static void answer_status(int fd, int code, const char *reason)
{
  json_t *st =
      json_pack("{s:s, s:s, s:s, s:i}", "kind", "Status", "reason", reason, "message", reason, "code", code);
  answer_json(fd, code, st);
  json_decref(st);
}

/* Stores body as the new Lease revision. Caller holds the lock. */
static void store_locked(struct store *s, json_t *body)
{
  char rv[16];
  snprintf(rv, sizeof(rv), "%d", ++s->rv);
  json_object_set_new(json_object_get(body, "metadata"), "resourceVersion", json_string(rv));
  json_decref(s->lease);
  s->lease = body;
}

static void handle_put(struct store *s, int fd, json_t *body)
{
  const char *rv = json_string_value(json_object_get(json_object_get(body, "metadata"), "resourceVersion"));
  atomic_fetch_add(&s->puts, 1);
  if (atomic_load(&s->force_conflicts) > 0) {
    atomic_fetch_sub(&s->force_conflicts, 1);
    json_decref(body);
    answer_status(fd, 409, "Conflict");
    return;
  }
  if (!s->lease || !rv || strtol(rv, NULL, 10) != s->rv) {
    json_decref(body);
    answer_status(fd, 409, "Conflict");
    return;
  }
  store_locked(s, body);
  answer_json(fd, 200, s->lease);
}

static bool serve(void *arg, int fd, const char *line)
{
  struct store *s = arg;
  json_t *body = json_loads(s->http.last_body, 0, NULL);
  pthread_mutex_lock(&s->lock);
  if (strncmp(line, "GET " LEASE_PATH " ", strlen("GET " LEASE_PATH " ")) == 0) {
    if (s->lease)
      answer_json(fd, 200, s->lease);
    else
      answer_status(fd, 404, "NotFound");
    json_decref(body);
  } else if (strncmp(line, "POST /apis/coordination.k8s.io/v1/namespaces/sys/leases ",
                     strlen("POST /apis/coordination.k8s.io/v1/namespaces/sys/leases ")) == 0) {
    if (s->lease) {
      answer_status(fd, 409, "AlreadyExists");
      json_decref(body);
    } else {
      store_locked(s, body);
      answer_json(fd, 201, s->lease);
    }
  } else if (strncmp(line, "PUT " LEASE_PATH " ", strlen("PUT " LEASE_PATH " ")) == 0) {
    handle_put(s, fd, body);
  } else {
    answer_status(fd, 400, "BadRequest");
    json_decref(body);
  }
  pthread_mutex_unlock(&s->lock);
  return true;
}

static const char *spec_str(struct store *s, const char *field)
{
  static char buf[256];
  pthread_mutex_lock(&s->lock);
  const char *v = json_string_value(json_object_get(json_object_get(s->lease, "spec"), field));
  snprintf(buf, sizeof(buf), "%s", v ? v : "");
  pthread_mutex_unlock(&s->lock);
  return buf;
}

static long long spec_int(struct store *s, const char *field)
{
  pthread_mutex_lock(&s->lock);
  long long v = json_integer_value(json_object_get(json_object_get(s->lease, "spec"), field));
  pthread_mutex_unlock(&s->lock);
  return v;
}

static int store_start(void **state)
{
  struct store *s = calloc(1, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  fake_http_start(&s->http, serve, s);
  *state = s;
  return 0;
}

static int store_stop(void **state)
{
  struct store *s = *state;
  fake_http_stop(&s->http);
  json_decref(s->lease);
  pthread_mutex_destroy(&s->lock);
  free(s);
  return 0;
}

static struct k8s_client *client_for(struct store *s)
{
  char server[64];
  snprintf(server, sizeof(server), "http://127.0.0.1:%d", s->http.port);
  struct k8s_config cfg = {.server = server};
  struct k8s_client *c = NULL;
  struct k8s_status st;
  assert_int_equal(k8s_client_new(&cfg, NULL, &c, &st), MGO_OK);
  return c;
}

static struct k8s_leader *candidate(struct k8s_client *c, const char *id, long duration_ms,
                                    const struct mgo_clock *clock)
{
  struct k8s_leader_opts o = {.lease_namespace = "sys",
                              .lease_name = "op",
                              .identity = id,
                              .lease_duration_ms = duration_ms,
                              .renew_deadline_ms = duration_ms * 2 / 3,
                              .retry_period_ms = 50,
                              .clock = clock};
  struct k8s_leader *le = NULL;
  assert_int_equal(k8s_leader_new(c, &o, &le), MGO_OK);
  return le;
}

static bool try_lead(struct k8s_leader *le)
{
  bool leading = false;
  struct k8s_status st;
  assert_int_equal(k8s_leader_try(le, &leading, &st), MGO_OK);
  return leading;
}

static bool is_leader(void *arg)
{
  return k8s_leader_is_leader(arg);
}

/* One step of a test driving an elector thread: until the effect shows, move the fake clock by a retry
 * period and wake the thread, so the next renewal is due. */
struct drive {
  struct mgo_fake_clock *fc;
  struct k8s_leader *le;
  bool (*effect)(struct drive *d);
  struct store *s;
  int puts_before;
};

static bool drive_step(void *arg)
{
  struct drive *d = arg;
  if (d->effect(d))
    return true;
  mgo_fake_clock_advance_ms(d->fc, 50);
  k8s_leader_kick(d->le);
  return false;
}

static bool renewed(struct drive *d)
{
  return atomic_load(&d->s->puts) > d->puts_before;
}

static bool elector_done(struct drive *d)
{
  return k8s_leader_done(d->le);
}

static void test_acquire_renew_conflict_release(void **state)
{
  struct store *s = *state;
  struct k8s_client *c = client_for(s);
  struct k8s_leader *a = candidate(c, "a", 15000, NULL), *b = candidate(c, "b", 15000, NULL);
  assert_true(try_lead(a)); /* created */
  assert_string_equal(spec_str(s, "holderIdentity"), "a");
  assert_int_equal(spec_int(s, "leaseDurationSeconds"), 15);
  assert_int_equal(spec_int(s, "leaseTransitions"), 0);
  char acquired[64];
  snprintf(acquired, sizeof(acquired), "%s", spec_str(s, "acquireTime"));
  assert_true(try_lead(a)); /* renewed through PUT with the current resourceVersion */
  assert_int_equal(atomic_load(&s->puts), 1);
  assert_string_equal(spec_str(s, "acquireTime"), acquired);
  assert_false(try_lead(b));                  /* held and fresh */
  assert_int_equal(atomic_load(&s->puts), 1); /* b did not even try to write */
  atomic_store(&s->force_conflicts, 1);
  assert_false(try_lead(a)); /* a lost race is "not leading", not an error */
  assert_true(try_lead(a));
  struct k8s_status st;
  assert_int_equal(k8s_leader_release(b, &st), MGO_OK); /* not b's: a no-op */
  assert_string_equal(spec_str(s, "holderIdentity"), "a");
  assert_int_equal(k8s_leader_release(a, &st), MGO_OK);
  assert_string_equal(spec_str(s, "holderIdentity"), "");
  assert_true(try_lead(b)); /* a released lease is taken at once */
  assert_string_equal(spec_str(s, "holderIdentity"), "b");
  assert_int_equal(spec_int(s, "leaseTransitions"), 1);
  k8s_leader_free(a);
  k8s_leader_free(b);
  k8s_client_free(c);
}

static void test_expiry_by_local_observation(void **state)
{
  struct store *s = *state;
  struct k8s_client *c = client_for(s);
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, FAKE_WALL_MS);
  struct k8s_leader *old = candidate(c, "old", 1000, &fc.clock),
                    *next = candidate(c, "next", 1000, &fc.clock);
  assert_true(try_lead(old));
  assert_string_equal(spec_str(s, "renewTime"), "2006-01-02T15:04:05.000000Z"); /* the elector's wall clock */
  assert_false(try_lead(next)); /* first observation starts next's clock */
  mgo_fake_clock_advance_ms(&fc, 500);
  assert_false(try_lead(next)); /* not expired yet */
  mgo_fake_clock_advance_ms(&fc, 499);
  assert_false(try_lead(next));      /* 1 ms before the 1 s lease runs out */
  mgo_fake_clock_advance_ms(&fc, 1); /* old stopped renewing 1 s ago, the lease lasts 1 s */
  assert_true(try_lead(next));
  assert_string_equal(spec_str(s, "holderIdentity"), "next");
  assert_string_equal(spec_str(s, "renewTime"), "2006-01-02T15:04:06.000000Z");
  assert_int_equal(spec_int(s, "leaseTransitions"), 1);
  assert_false(try_lead(old)); /* the old holder sees a fresh record by someone else */
  k8s_leader_free(old);
  k8s_leader_free(next);
  k8s_client_free(c);
  mgo_fake_clock_destroy(&fc);
}

static atomic_int started, lost;

static void on_started(void *arg)
{
  (void) arg;
  atomic_fetch_add(&started, 1);
}

static void on_lost(void *arg)
{
  (void) arg;
  atomic_fetch_add(&lost, 1);
}

static void test_threaded_loop_and_loss(void **state)
{
  struct store *s = *state;
  struct k8s_client *c = client_for(s);
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, FAKE_WALL_MS);
  struct k8s_leader_opts o = {.lease_namespace = "sys",
                              .lease_name = "op",
                              .identity = "looper",
                              .lease_duration_ms = 900,
                              .renew_deadline_ms = 600,
                              .retry_period_ms = 50,
                              .on_started_leading = on_started,
                              .on_lost = on_lost,
                              .clock = &fc.clock};
  struct k8s_leader *le = NULL;
  assert_int_equal(k8s_leader_new(c, &o, &le), MGO_OK);
  assert_int_equal(k8s_leader_start(le), MGO_OK);
  assert_true(tu_poll_until(is_leader, le, 5000)); /* the first attempt needs no time to pass */
  assert_int_equal(atomic_load(&started), 1);
  assert_int_equal(atomic_load(&s->puts), 0); /* acquired by creating the Lease */
  struct drive d = {.fc = &fc, .le = le, .effect = renewed, .s = s, .puts_before = 0};
  assert_true(tu_poll_until(drive_step, &d, 5000)); /* renewing, once a retry period has passed */
  assert_false(k8s_leader_done(le));
  atomic_store(&s->force_conflicts, 1000); /* every renewal fails from now on */
  d.effect = elector_done;
  assert_true(tu_poll_until(drive_step, &d, 5000));
  assert_false(k8s_leader_is_leader(le)); /* stopped acting before the lease could expire for others */
  assert_int_equal(atomic_load(&lost), 1);
  k8s_leader_free(le);
  k8s_client_free(c);
  mgo_fake_clock_destroy(&fc);
}

static void test_stop_releases(void **state)
{
  struct store *s = *state;
  struct k8s_client *c = client_for(s);
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, FAKE_START_MS, FAKE_WALL_MS);
  struct k8s_leader *le = candidate(c, "stopper", 5000, &fc.clock);
  assert_int_equal(k8s_leader_start(le), MGO_OK);
  assert_true(tu_poll_until(is_leader, le, 5000));
  k8s_leader_stop(le);
  assert_false(k8s_leader_is_leader(le));
  assert_string_equal(spec_str(s, "holderIdentity"), "");
  assert_int_equal(spec_int(s, "leaseDurationSeconds"), 1);
  k8s_leader_free(le);
  k8s_client_free(c);
  mgo_fake_clock_destroy(&fc);
}

static void test_invalid_options(void **state)
{
  (void) state;
  struct k8s_config cfg = {.server = "http://127.0.0.1:1"};
  struct k8s_client *c = NULL;
  struct k8s_status st;
  assert_int_equal(k8s_client_new(&cfg, NULL, &c, &st), MGO_OK);
  struct k8s_leader_opts o = {.lease_namespace = "sys",
                              .lease_name = "op",
                              .identity = "x",
                              .lease_duration_ms = 1000,
                              .renew_deadline_ms = 1000};
  struct k8s_leader *le = NULL;
  assert_int_equal(k8s_leader_new(c, &o, &le), MGO_EINVAL); /* renew deadline must be shorter */
  o.renew_deadline_ms = 500;
  o.identity = "";
  assert_int_equal(k8s_leader_new(c, &o, &le), MGO_EINVAL);
  assert_null(le);
  k8s_client_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_acquire_renew_conflict_release, store_start, store_stop),
      cmocka_unit_test_setup_teardown(test_expiry_by_local_observation, store_start, store_stop),
      cmocka_unit_test_setup_teardown(test_threaded_loop_and_loss, store_start, store_stop),
      cmocka_unit_test_setup_teardown(test_stop_releases, store_start, store_stop),
      cmocka_unit_test(test_invalid_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
