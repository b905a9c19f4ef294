/* Unit tests: the informer against a scripted fake API server. The script: list (rv 10) → watch from 10
 * (ADDED b, MODIFIED a, ERROR 410) → relist (rv 20) → watch from 20 (DELETED b, then silence). Checks the
 * handler sequence, the cache, the resourceVersions the informer asks for, and that stop() interrupts a
 * silent watch promptly. */
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
#include "k8s_informer.h"
#include "k8s_watch.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "test_poll.h"

#define MAX_SEEN 32

struct script {
  struct fake_http http;
  atomic_int lists, watches;
  char watch_lines[2][1024]; /* request lines of the two watches */
  char list_line[1024];
  pthread_mutex_t lock;
  char seen[MAX_SEEN][256]; /* "add ns/a 5" */
  int n_seen;
};

static const char list1[] =
    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"10\"},"
    "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"resourceVersion\":\"5\"}}]}";
static const char list2[] =
    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"20\"},"
    "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"resourceVersion\":\"12\"}},"
    "{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns\",\"resourceVersion\":\"11\"}},"
    "{\"metadata\":{\"name\":\"c\",\"namespace\":\"ns\",\"resourceVersion\":\"19\","
    "\"managedFields\":[{\"manager\":\"kubectl\"}]}}]}";

#define EV(type, name, rv)                                                                                   \
  "{\"type\":\"" type "\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" name                 \
  "\",\"namespace\":\"ns\",\"resourceVersion\":\"" rv "\"}}}\n"

static bool serve_watch(struct script *s, int fd, const char *line)
{
  int n = atomic_fetch_add(&s->watches, 1);
  if (n < 2)
    snprintf(s->watch_lines[n], sizeof(s->watch_lines[n]), "%s", line);
  fake_http_chunked_head(fd);
  if (n == 0) {
    fake_http_chunk(fd, EV("ADDED", "b", "11"));
    fake_http_chunk(
        fd, "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\","
            "\"namespace\":\"ns\",\"resourceVersion\":\"12\",\"managedFields\":[{\"manager\":\"x\"}]}}}\n");
    fake_http_chunk(
        fd, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":\"Expired\",\"code\":410}}\n");
    fake_http_end_chunks(fd);
    return false;
  }
  fake_http_chunk(fd, EV("DELETED", "b", "21"));
  fake_http_wait_closed(&s->http, fd); /* a quiet stream: only stop() ends it */
  return false;
}

static bool serve(void *arg, int fd, const char *line)
{
  struct script *s = arg;
  if (strstr(line, "watch=1"))
    return serve_watch(s, fd, line);
  int n = atomic_fetch_add(&s->lists, 1);
  snprintf(s->list_line, sizeof(s->list_line), "%s", line);
  const char *body = n == 0 ? list1 : list2;
  fake_http_respond(fd, 200, body, strlen(body));
  return true;
}

static void note(struct script *s, const char *what, const json_t *obj)
{
  char key[64] = "";
  k8s_object_key(obj, key, sizeof(key));
  const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  pthread_mutex_lock(&s->lock);
  if (s->n_seen < MAX_SEEN)
    snprintf(s->seen[s->n_seen++], sizeof(s->seen[0]), "%s %s %s", what, key, rv ? rv : "");
  pthread_mutex_unlock(&s->lock);
}

static void on_add(void *arg, const json_t *obj)
{
  note(arg, "add", obj);
}

static void on_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
  (void) old_obj;
  note(arg, "update", new_obj);
}

static void on_delete(void *arg, const json_t *obj)
{
  note(arg, "delete", obj);
}

static int seen_count(struct script *s)
{
  pthread_mutex_lock(&s->lock);
  int n = s->n_seen;
  pthread_mutex_unlock(&s->lock);
  return n;
}

static bool saw_five(void *arg)
{
  return seen_count(arg) >= 5;
}

static long long now_ms(void)
{
  return mgo_clock_mono_ms(NULL);
}

static struct k8s_client *client_for(struct script *s)
{
  char server[64];
  snprintf(server, sizeof(server), "http://127.0.0.1:%d", s->http.port);
  struct k8s_config cfg = {.server = server};
  struct k8s_client *c = NULL;
  struct k8s_status st;
  assert_int_equal(k8s_client_new(&cfg, NULL, &c, &st), MGO_OK);
  return c;
}

static void assert_cached(struct k8s_informer *inf, const char *name, const char *rv)
{
  json_t *obj = k8s_informer_get(inf, "ns", name);
  if (!rv) {
    assert_null(obj);
    return;
  }
  assert_non_null(obj);
  assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion")),
                      rv);
  assert_string_equal(json_string_value(json_object_get(obj, "kind")),
                      "ConfigMap"); /* filled in from the List */
  json_decref(obj);
}

static void test_list_watch_gone_relist(void **state)
{
  (void) state;
  struct script s = {0};
  pthread_mutex_init(&s.lock, NULL);
  fake_http_start(&s.http, serve, &s);
  struct k8s_client *c = client_for(&s);
  struct k8s_informer_opts o = {.resource = &K8S_RES_CONFIGMAPS, .namespace = "ns", .backoff_base_ms = 10};
  struct k8s_informer_handlers h = {
      .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .arg = &s};
  struct k8s_informer *inf = NULL;
  assert_int_equal(k8s_informer_new(c, &o, &h, &inf), MGO_OK);
  assert_false(k8s_informer_has_synced(inf));
  assert_int_equal(k8s_informer_start(inf), MGO_OK);
  assert_int_equal(k8s_informer_wait_synced(inf, 5000), MGO_OK);
  assert_true(tu_poll_until(saw_five, &s, 5000));
  const char *want[] = {"add ns/a 5", "add ns/b 11", "update ns/a 12", "add ns/c 19", "delete ns/b 21"};
  assert_int_equal(seen_count(&s), 5);
  for (int i = 0; i < 5; i++)
    assert_string_equal(s.seen[i], want[i]);

  assert_non_null(strstr(s.list_line, "GET /api/v1/namespaces/ns/configmaps?limit=500 "));
  assert_non_null(strstr(s.watch_lines[0], "resourceVersion=10"));
  assert_non_null(strstr(s.watch_lines[0], "allowWatchBookmarks=true"));
  assert_null(strstr(s.watch_lines[0], "sendInitialEvents"));
  assert_non_null(strstr(s.watch_lines[1], "resourceVersion=20")); /* resumed from the relist, not from 12 */
  assert_cached(inf, "a", "12");
  assert_cached(inf, "b", NULL);
  assert_cached(inf, "c", "19");
  json_t *all = k8s_informer_list(inf, "ns");
  assert_int_equal(json_array_size(all), 2);
  json_decref(all);
  char rv[K8S_RV_MAX];
  k8s_informer_resource_version(inf, rv, sizeof(rv));
  assert_string_equal(rv, "21");
  struct k8s_informer_stats st;
  k8s_informer_get_stats(inf, &st);
  assert_int_equal(st.lists, 2);
  assert_int_equal(st.gone, 1);
  assert_int_equal(st.watches, 2);

  long long t0 = now_ms();
  k8s_informer_request_stop(inf); /* returns at once; idempotent */
  k8s_informer_request_stop(inf);
  k8s_informer_stop(inf); /* the second watch is silent: stop must interrupt it */
  assert_true(now_ms() - t0 < 3000);
  k8s_informer_free(inf);
  k8s_client_free(c);
  fake_http_stop(&s.http);
  pthread_mutex_destroy(&s.lock);
}

/* Every list answers list; the first watch sends first_event (NULL: nothing), then every watch stays quiet
 * until the informer stops. */
static bool serve_list_then_quiet(struct script *s, int fd, const char *line, const char *list,
                                  const char *first_event)
{
  if (strstr(line, "watch=1")) {
    int n = atomic_fetch_add(&s->watches, 1);
    fake_http_chunked_head(fd);
    if (n == 0 && first_event != NULL)
      fake_http_chunk(fd, first_event);
    fake_http_wait_closed(&s->http, fd);
    return false;
  }
  atomic_fetch_add(&s->lists, 1);
  fake_http_respond(fd, 200, list, strlen(list));
  return true;
}

/* One list, then a watch that stays quiet until the informer stops. */
static bool serve_quiet(void *arg, int fd, const char *line)
{
  return serve_list_then_quiet(arg, fd, line, list1, NULL);
}

static bool saw_two(void *arg)
{
  return seen_count(arg) >= 2;
}

static bool saw_one(void *arg)
{
  return seen_count(arg) >= 1;
}

/* A list item and a watched object, both with data and binaryData; the informer is told to drop both. */
static const char list_with_data[] =
    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"10\"},"
    "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"resourceVersion\":\"5\"},"
    "\"data\":{\"k\":\"v\"},\"binaryData\":{\"b\":\"AA==\"}}]}";

static bool serve_with_data(void *arg, int fd, const char *line)
{
  return serve_list_then_quiet(
      arg, fd, line, list_with_data,
      "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\","
      "\"namespace\":\"ns\",\"resourceVersion\":\"11\"},\"data\":{\"k\":\"v\"}}}\n");
}

static atomic_int handed_with_data; /* objects handed to a handler that still had a dropped field */

static void on_add_check_dropped(void *arg, const json_t *obj)
{
  if (json_object_get(obj, "data") != NULL || json_object_get(obj, "binaryData") != NULL)
    atomic_fetch_add(&handed_with_data, 1);
  note(arg, "add", obj);
}

static void assert_trimmed(struct k8s_informer *inf, const char *name)
{
  json_t *obj = k8s_informer_get(inf, "ns", name);
  assert_non_null(obj);
  assert_null(json_object_get(obj, "data"));
  assert_null(json_object_get(obj, "binaryData"));
  assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "metadata"), "name")), name);
  assert_string_equal(json_string_value(json_object_get(obj, "kind")), "ConfigMap");
  json_decref(obj);
}

/* drop_fields: the listed and the watched objects are cached, and handed to the handlers, without them. */
static void test_drop_fields_before_caching(void **state)
{
  (void) state;
  static const char *const drop[] = {"data", "binaryData", NULL};
  struct script s = {0};
  pthread_mutex_init(&s.lock, NULL);
  fake_http_start(&s.http, serve_with_data, &s);
  struct k8s_client *c = client_for(&s);
  struct k8s_informer_opts o = {
      .resource = &K8S_RES_CONFIGMAPS, .namespace = "ns", .backoff_base_ms = 10, .drop_fields = drop};
  struct k8s_informer_handlers h = {.on_add = on_add_check_dropped, .arg = &s};
  struct k8s_informer *inf = NULL;
  atomic_store(&handed_with_data, 0);
  assert_int_equal(k8s_informer_new(c, &o, &h, &inf), MGO_OK);
  assert_int_equal(k8s_informer_start(inf), MGO_OK);
  assert_int_equal(k8s_informer_wait_synced(inf, 5000), MGO_OK);
  assert_true(tu_poll_until(saw_two, &s, 5000)); /* a from the list, b from the watch */
  assert_trimmed(inf, "a");
  assert_trimmed(inf, "b");
  assert_int_equal(atomic_load(&handed_with_data), 0);
  k8s_informer_stop(inf);
  k8s_informer_free(inf);
  k8s_client_free(c);
  fake_http_stop(&s.http);
  pthread_mutex_destroy(&s.lock);
}

static void test_resync_follows_the_clock(void **state)
{
  (void) state;
  struct script s = {0};
  pthread_mutex_init(&s.lock, NULL);
  fake_http_start(&s.http, serve_quiet, &s);
  struct k8s_client *c = client_for(&s);
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, 1000000, 0);
  struct k8s_informer_opts o = {
      .resource = &K8S_RES_CONFIGMAPS, .namespace = "ns", .resync_ms = 30000, .clock = &fc.clock};
  struct k8s_informer_handlers h = {.on_add = on_add, .on_update = on_update, .arg = &s};
  struct k8s_informer *inf = NULL;
  assert_int_equal(k8s_informer_new(c, &o, &h, &inf), MGO_OK);
  assert_int_equal(k8s_informer_start(inf), MGO_OK);
  assert_int_equal(k8s_informer_wait_synced(inf, 5000), MGO_OK);
  assert_true(tu_poll_until(saw_one, &s, 5000));
  mgo_fake_clock_advance_ms(&fc, 30000); /* the resync period passed: the next watch tick resyncs */
  assert_true(tu_poll_until(saw_two, &s, 5000));
  k8s_informer_stop(inf);
  assert_int_equal(seen_count(&s), 2); /* once per period: the fake clock did not move again */
  assert_string_equal(s.seen[0], "add ns/a 5");
  assert_string_equal(s.seen[1], "update ns/a 5"); /* old == new: a level-triggered recheck */
  assert_int_equal(atomic_load(&s.lists), 1);
  k8s_informer_free(inf);
  k8s_client_free(c);
  fake_http_stop(&s.http);
  pthread_mutex_destroy(&s.lock);
  mgo_fake_clock_destroy(&fc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list_watch_gone_relist),
      cmocka_unit_test(test_resync_follows_the_clock),
      cmocka_unit_test(test_drop_fields_before_caching),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
