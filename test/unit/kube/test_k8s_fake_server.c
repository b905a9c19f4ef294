/* Bad input against a fake boundary: the client and the watch stream talk to a small HTTP server in a
 * thread of this test that answers with garbage, truncated or oversized bodies, Status errors, nothing at
 * all, or a watch stream ending in ERROR 410 / a malformed line. Each case must give a clear error code and
 * message, never a crash, and no leak (ASan/LSan). Also checks connection reuse, the verb counters, and that
 * a rotated token file is re-read. */
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
#include <stdatomic.h>
#include <unistd.h>

#include "fake_http.h"
#include "k8s_client.h"
#include "k8s_watch.h"
#include "mgo_err.h"

enum mode {
  M_JSON,
  M_JSON_CLOSE,
  M_GARBAGE,
  M_TRUNCATED_JSON,
  M_SHORT_BODY,
  M_HUGE,
  M_SILENT,
  M_CONFLICT,
  M_HTML_502,
  M_ECHO_AUTH,
  M_WATCH_GONE,
  M_WATCH_GARBAGE,
  M_WATCH_PARTIAL
};

struct fake {
  struct fake_http http;
  atomic_int mode;
};

static const char watch_events[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}"
    "}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"9\"}}}\n";

static void serve_watch_partial(int fd)
{
  fake_http_chunked_head(fd);
  fake_http_chunk(fd, watch_events);
  fake_http_chunk(fd, "{\"type\":\"MODIFIED\",\"obj"); /* the server ends the stream inside a line */
  fake_http_end_chunks(fd);
}

static void serve_watch(int fd, bool garbage)
{
  static const char first[] =
      "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"reso";
  fake_http_chunked_head(fd);
  fake_http_chunk(fd, first);
  fake_http_chunk(fd, watch_events + sizeof(first) - 1); /* the rest of line 1 and the bookmark */
  if (garbage)
    fake_http_chunk(fd, "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":\n");
  else
    fake_http_chunk(fd,
                    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
                    "\"Failure\",\"message\":\"too old resource version: 1 (9)\",\"reason\":\"Expired\","
                    "\"code\":410}}\n");
  fake_http_end_chunks(fd);
}

static bool serve_huge(int fd)
{
  static char big[256 * 1024];
  memset(big, ' ', sizeof(big));
  fake_http_respond(fd, 200, big, sizeof(big));
  return false;
}

/* Answers one request according to the test's mode; returns false when the connection must be closed. */
static bool serve(void *arg, int fd, const char *request_line)
{
  static const char ok[] = "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}";
  static const char conflict[] =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
      "\"Operation cannot be fulfilled\",\"reason\":\"Conflict\",\"code\":409}";
  struct fake *f = arg;
  char body[512];
  (void) request_line;
  switch (atomic_load(&f->mode)) {
  case M_JSON:
    fake_http_respond(fd, 200, ok, sizeof(ok) - 1);
    return true;
  case M_JSON_CLOSE: /* one request per connection: the single-threaded server can serve many clients */
    fake_http_respond(fd, 200, ok, sizeof(ok) - 1);
    return false;
  case M_GARBAGE:
    fake_http_respond(fd, 200, "}{ not json \x01", 13);
    return true;
  case M_TRUNCATED_JSON:
    fake_http_respond(fd, 200, ok, 20);
    return true;
  case M_SHORT_BODY:
    fake_http_send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"kind\":", 49);
    return false;
  case M_HUGE:
    return serve_huge(fd);
  case M_SILENT:
    fake_http_wait_closed(&f->http, fd);
    return false;
  case M_CONFLICT:
    fake_http_respond(fd, 409, conflict, sizeof(conflict) - 1);
    return true;
  case M_HTML_502:
    fake_http_respond(fd, 502, "<html>bad gateway</html>", 24);
    return true;
  case M_ECHO_AUTH: {
    int n = snprintf(body, sizeof(body), "{\"auth\":\"%s\"}", f->http.last_auth);
    fake_http_respond(fd, 200, body, (size_t) n);
    return true;
  }
  case M_WATCH_PARTIAL:
    serve_watch_partial(fd);
    return false;
  default:
    serve_watch(fd, atomic_load(&f->mode) == M_WATCH_GARBAGE);
    return false;
  }
}

static int fake_start(void **state)
{
  struct fake *f = calloc(1, sizeof(*f));
  fake_http_start(&f->http, serve, f);
  *state = f;
  return 0;
}

static int fake_stop(void **state)
{
  struct fake *f = *state;
  fake_http_stop(&f->http);
  free(f);
  return 0;
}

static struct k8s_client *client_for(struct fake *f, const char *token_file, long timeout_ms,
                                     size_t max_response)
{
  char server[64];
  snprintf(server, sizeof(server), "http://127.0.0.1:%d", f->http.port);
  struct k8s_config cfg = {.server = server, .token = "static-token", .token_file = (char *) token_file};
  struct k8s_client_opts o = {.request_timeout_ms = timeout_ms, .max_response = max_response};
  struct k8s_client *c = NULL;
  struct k8s_status st;
  assert_int_equal(k8s_client_new(&cfg, &o, &c, &st), MGO_OK);
  return c;
}

static void expect_get(struct k8s_client *c, int want_rc, const char *want_in_message)
{
  struct k8s_status st;
  json_t *out = (json_t *) 1;
  int rc = k8s_get(c, "/api/v1/namespaces/x/configmaps/x", &out, &st);
  if (rc != want_rc || !strstr(st.message, want_in_message))
    fail_msg("want %s with \"%s\", got %s: \"%s\"", mgo_errname(want_rc), want_in_message, mgo_errname(rc),
             st.message);
  if (rc == MGO_OK)
    json_decref(out);
  else
    assert_null(out); /* never a half-filled result */
}

static void test_good_answer_and_connection_reuse(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 0);
  atomic_store(&f->mode, M_JSON);
  for (int i = 0; i < 5; i++)
    expect_get(c, MGO_OK, "");
  assert_int_equal(atomic_load(&f->http.requests), 5);
  assert_int_equal(atomic_load(&f->http.connections), 1); /* keep-alive: one connection for five calls */
  assert_int_equal(k8s_client_request_count(c, K8S_VERB_GET), 5);
  assert_int_equal(k8s_client_request_count(c, K8S_VERB_LIST), 0);
  assert_string_equal(f->http.last_auth, "Bearer static-token");
  k8s_client_free(c);
}

#define THREADS 8
#define CALLS_PER_THREAD 25

struct hammer {
  struct k8s_client *c;
  int failures;
};

static void *hammer_main(void *arg)
{
  struct hammer *h = arg;
  for (int i = 0; i < CALLS_PER_THREAD; i++) {
    struct k8s_status st;
    json_t *out = NULL;
    if (k8s_get(h->c, "/api/v1/namespaces/x/configmaps/x", &out, &st) != MGO_OK || !json_is_object(out))
      h->failures++;
    json_decref(out);
  }
  return NULL;
}

static void test_many_threads_share_one_client(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 5000, 0);
  atomic_store(&f->mode, M_JSON_CLOSE);
  pthread_t t[THREADS];
  struct hammer h[THREADS];
  for (int i = 0; i < THREADS; i++) {
    h[i] = (struct hammer){.c = c};
    pthread_create(&t[i], NULL, hammer_main, &h[i]);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(h[i].failures, 0);
  }
  assert_int_equal(k8s_client_request_count(c, K8S_VERB_GET), THREADS * CALLS_PER_THREAD);
  assert_int_equal(atomic_load(&f->http.requests), THREADS * CALLS_PER_THREAD);
  k8s_client_free(c);
}

static void test_garbage_and_truncated_json(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 0);
  atomic_store(&f->mode, M_GARBAGE);
  expect_get(c, MGO_EPARSE, "invalid JSON in response");
  atomic_store(&f->mode, M_TRUNCATED_JSON);
  expect_get(c, MGO_EPARSE, "invalid JSON in response");
  atomic_store(&f->mode, M_SHORT_BODY); /* the connection dies before Content-Length bytes */
  expect_get(c, MGO_EIO, "");
  k8s_client_free(c);
}

static void test_oversized_body(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 1024);
  atomic_store(&f->mode, M_HUGE);
  expect_get(c, MGO_ETOOBIG, "larger than 1024 bytes");
  atomic_store(&f->mode, M_JSON);
  expect_get(c, MGO_OK, ""); /* the client is still usable */
  k8s_client_free(c);
}

static void test_server_never_answers(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 300, 0);
  atomic_store(&f->mode, M_SILENT);
  expect_get(c, MGO_ETIMEDOUT, "");
  k8s_client_free(c);
}

static void test_refused_port(void **state)
{
  (void) state;
  struct fake closed = {0};
  int fd = fake_http_listen(&closed.http.port);
  close(fd); /* nothing listens there any more */
  struct k8s_client *c = client_for(&closed, NULL, 2000, 0);
  expect_get(c, MGO_ECONNECT, "");
  k8s_client_free(c);
}

static void test_status_errors(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 0);
  atomic_store(&f->mode, M_CONFLICT);
  struct k8s_status st;
  json_t *obj = json_pack("{s:s}", "kind", "ConfigMap");
  assert_int_equal(k8s_update(c, "/api/v1/namespaces/x/configmaps/x", obj, NULL, &st), MGO_ECONFLICT);
  assert_int_equal(st.code, 409);
  assert_string_equal(st.reason, "Conflict");
  assert_string_equal(st.message, "Operation cannot be fulfilled");
  assert_int_equal(k8s_apply(c, "/api/v1/namespaces/x/configmaps/x", obj, NULL, false, NULL, &st),
                   MGO_EINVAL);
  json_decref(obj);
  atomic_store(&f->mode, M_HTML_502);
  expect_get(c, MGO_ESERVER, "<html>bad gateway</html>");
  assert_int_equal(k8s_client_request_count(c, K8S_VERB_UPDATE), 1);
  k8s_client_free(c);
}

static void test_token_file_rotation(void **state)
{
  struct fake *f = *state;
  char path[] = "/tmp/mgo-k8s-token-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "first\n", 6), 6);
  close(fd);
  struct k8s_client *c = client_for(f, path, 2000, 0);
  atomic_store(&f->mode, M_ECHO_AUTH);
  expect_get(c, MGO_OK, "");
  assert_string_equal(f->http.last_auth, "Bearer first"); /* the file wins over the static token */
  FILE *w = fopen(path, "w");
  fputs("second-longer\n", w);
  fclose(w);
  expect_get(c, MGO_OK, "");
  assert_string_equal(f->http.last_auth, "Bearer second-longer");
  unlink(path);
  expect_get(c, MGO_ECONFIG, "cannot stat");
  k8s_client_free(c);
}

struct watch_seen {
  int added, bookmarks, errors, decode_errors;
};

static int count_events(void *arg, const struct k8s_watch_event *ev)
{
  struct watch_seen *s = arg;
  s->added += ev->type == K8S_WATCH_ADDED;
  s->bookmarks += ev->type == K8S_WATCH_BOOKMARK;
  s->errors += ev->type == K8S_WATCH_ERROR;
  s->decode_errors += ev->type == K8S_WATCH_DECODE_ERROR;
  return MGO_OK;
}

static void test_watch_gone(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 0);
  atomic_store(&f->mode, M_WATCH_GONE);
  struct watch_seen s = {0};
  struct k8s_watch_opts o = {.resource_version = "1", .allow_bookmarks = true, .timeout_seconds = 5};
  char rv[K8S_RV_MAX] = "";
  struct k8s_status st;
  int rc = k8s_watch(c, "/api/v1/pods", &o, count_events, &s, rv, sizeof(rv), &st);
  assert_int_equal(rc, MGO_EGONE);
  assert_int_equal(s.added, 1);
  assert_int_equal(s.bookmarks, 1);
  assert_int_equal(s.errors, 1);
  assert_string_equal(rv, "9"); /* the bookmark's resourceVersion */
  assert_int_equal(st.code, 410);
  assert_string_equal(st.reason, "Expired");
  assert_int_equal(k8s_client_request_count(c, K8S_VERB_WATCH), 1);
  k8s_client_free(c);
}

static void test_watch_malformed_line(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 0);
  atomic_store(&f->mode, M_WATCH_GARBAGE);
  struct watch_seen s = {0};
  char rv[K8S_RV_MAX] = "";
  struct k8s_status st;
  int rc = k8s_watch(c, "/api/v1/pods", NULL, count_events, &s, rv, sizeof(rv), &st);
  assert_int_equal(rc, MGO_EPARSE);
  assert_int_equal(s.added, 1);
  assert_int_equal(s.decode_errors, 1);
  assert_non_null(strstr(st.message, "malformed"));
  k8s_client_free(c);
}

static void test_watch_ends_inside_a_line(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 0);
  atomic_store(&f->mode, M_WATCH_PARTIAL);
  struct watch_seen s = {0};
  char rv[K8S_RV_MAX] = "";
  struct k8s_status st;
  int rc = k8s_watch(c, "/api/v1/pods", NULL, count_events, &s, rv, sizeof(rv), &st);
  assert_int_equal(rc, MGO_EPARSE); /* not a clean end: the caller must relist */
  assert_int_equal(s.added, 1);
  assert_int_equal(s.bookmarks, 1);
  assert_int_equal(s.decode_errors, 1);
  assert_string_equal(rv, "9");
  k8s_client_free(c);
}

static int stop_now(void *arg)
{
  (void) arg;
  return 1;
}

static void test_watch_stopped_by_tick(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f, NULL, 2000, 0);
  atomic_store(&f->mode, M_SILENT);
  struct watch_seen s = {0};
  struct k8s_watch_opts o = {.tick = stop_now};
  char rv[K8S_RV_MAX] = "";
  struct k8s_status st;
  assert_int_equal(k8s_watch(c, "/api/v1/pods", &o, count_events, &s, rv, sizeof(rv), &st), MGO_ECANCELED);
  k8s_client_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_answer_and_connection_reuse, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_many_threads_share_one_client, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_garbage_and_truncated_json, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_oversized_body, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_server_never_answers, fake_start, fake_stop),
      cmocka_unit_test(test_refused_port),
      cmocka_unit_test_setup_teardown(test_status_errors, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_token_file_rotation, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_watch_gone, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_watch_malformed_line, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_watch_ends_inside_a_line, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_watch_stopped_by_tick, fake_start, fake_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
