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

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "k8s_client.h"
#include "k8s_watch.h"
#include "mgo_err.h"

enum mode {
  M_JSON,
  M_GARBAGE,
  M_TRUNCATED_JSON,
  M_SHORT_BODY,
  M_HUGE,
  M_SILENT,
  M_CONFLICT,
  M_HTML_502,
  M_ECHO_AUTH,
  M_WATCH_GONE,
  M_WATCH_GARBAGE
};

struct fake {
  int listen_fd;
  int port;
  atomic_int mode;
  atomic_int connections;
  atomic_int requests;
  atomic_bool stop;
  pthread_t thread;
  char last_auth[256];
};

static void send_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return;
    p += w;
    n -= (size_t) w;
  }
}

static void respond(int fd, int code, const char *body, size_t len)
{
  char head[256];
  int n =
      snprintf(head, sizeof(head),
               "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", code, len);
  send_all(fd, head, (size_t) n);
  send_all(fd, body, len);
}

static void respond_chunk(int fd, const char *data)
{
  char head[32];
  int n = snprintf(head, sizeof(head), "%zx\r\n", strlen(data));
  send_all(fd, head, (size_t) n);
  send_all(fd, data, strlen(data));
  send_all(fd, "\r\n", 2);
}

/* Reads one request's headers (and discards a Content-Length body). Returns false on EOF. */
static bool read_request(struct fake *f, int fd)
{
  char buf[16384];
  size_t len = 0;
  while (len < sizeof(buf) - 1) {
    ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
    if (r <= 0)
      return false;
    len += (size_t) r;
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
      continue;
    char *auth = strstr(buf, "Authorization: ");
    if (auth) {
      size_t n = strcspn(auth + 15, "\r");
      snprintf(f->last_auth, sizeof(f->last_auth), "%.*s", (int) n, auth + 15);
    }
    char *cl = strstr(buf, "Content-Length: ");
    size_t body = cl ? (size_t) strtoul(cl + 16, NULL, 10) : 0;
    size_t have = len - (size_t) (end + 4 - buf);
    while (have < body) {
      ssize_t n = recv(fd, buf, sizeof(buf) < body - have ? sizeof(buf) : body - have, 0);
      if (n <= 0)
        return false;
      have += (size_t) n;
    }
    return true;
  }
  return false;
}

static const char watch_events[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}"
    "}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"9\"}}}\n";

static void serve_watch(int fd, bool garbage)
{
  static const char head[] =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  send_all(fd, head, sizeof(head) - 1);
  static const char first[] =
      "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"reso";
  respond_chunk(fd, first);
  respond_chunk(fd, watch_events + sizeof(first) - 1); /* the rest of line 1 and the bookmark */
  if (garbage)
    respond_chunk(fd, "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":\n");
  else
    respond_chunk(
        fd,
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
        "\"message\":\"too old resource version: 1 (9)\",\"reason\":\"Expired\",\"code\":410}}\n");
  send_all(fd, "0\r\n\r\n", 5);
}

/* Answers one request; returns false when the connection must be closed. */
static bool serve(struct fake *f, int fd)
{
  static const char ok[] = "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}";
  static const char conflict[] =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
      "\"Operation cannot be fulfilled\",\"reason\":\"Conflict\",\"code\":409}";
  char body[512];
  switch (atomic_load(&f->mode)) {
  case M_JSON:
    respond(fd, 200, ok, sizeof(ok) - 1);
    return true;
  case M_GARBAGE:
    respond(fd, 200, "}{ not json \x01", 13);
    return true;
  case M_TRUNCATED_JSON:
    respond(fd, 200, ok, 20);
    return true;
  case M_SHORT_BODY:
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"kind\":", 49);
    return false;
  case M_HUGE: {
    static char big[256 * 1024];
    memset(big, ' ', sizeof(big));
    respond(fd, 200, big, sizeof(big));
    return false;
  }
  case M_SILENT:
    while (!atomic_load(&f->stop) && recv(fd, body, sizeof(body), 0) > 0) {
    }
    return false;
  case M_CONFLICT:
    respond(fd, 409, conflict, sizeof(conflict) - 1);
    return true;
  case M_HTML_502:
    respond(fd, 502, "<html>bad gateway</html>", 24);
    return true;
  case M_ECHO_AUTH: {
    int n = snprintf(body, sizeof(body), "{\"auth\":\"%s\"}", f->last_auth);
    respond(fd, 200, body, (size_t) n);
    return true;
  }
  default:
    serve_watch(fd, atomic_load(&f->mode) == M_WATCH_GARBAGE);
    return false;
  }
}

static void *fake_main(void *arg)
{
  struct fake *f = arg;
  while (!atomic_load(&f->stop)) {
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0)
      break;
    atomic_fetch_add(&f->connections, 1);
    while (read_request(f, fd)) {
      atomic_fetch_add(&f->requests, 1);
      if (!serve(f, fd))
        break;
    }
    close(fd);
  }
  return NULL;
}

static int listen_loopback(int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof(a);
  assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
  assert_int_equal(listen(fd, 8), 0);
  getsockname(fd, (struct sockaddr *) &a, &alen);
  *port = ntohs(a.sin_port);
  return fd;
}

static int fake_start(void **state)
{
  struct fake *f = calloc(1, sizeof(*f));
  f->listen_fd = listen_loopback(&f->port);
  pthread_create(&f->thread, NULL, fake_main, f);
  *state = f;
  return 0;
}

static int fake_stop(void **state)
{
  struct fake *f = *state;
  atomic_store(&f->stop, true);
  shutdown(f->listen_fd, SHUT_RDWR);
  pthread_join(f->thread, NULL);
  close(f->listen_fd);
  free(f);
  return 0;
}

static struct k8s_client *client_for(struct fake *f, const char *token_file, long timeout_ms,
                                     size_t max_response)
{
  char server[64];
  snprintf(server, sizeof(server), "http://127.0.0.1:%d", f->port);
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
  assert_int_equal(atomic_load(&f->requests), 5);
  assert_int_equal(atomic_load(&f->connections), 1); /* keep-alive: one connection for five calls */
  assert_int_equal(k8s_client_request_count(c, K8S_VERB_GET), 5);
  assert_int_equal(k8s_client_request_count(c, K8S_VERB_LIST), 0);
  assert_string_equal(f->last_auth, "Bearer static-token");
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
  int fd = listen_loopback(&closed.port);
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
  assert_string_equal(f->last_auth, "Bearer first"); /* the file wins over the static token */
  FILE *w = fopen(path, "w");
  fputs("second-longer\n", w);
  fclose(w);
  expect_get(c, MGO_OK, "");
  assert_string_equal(f->last_auth, "Bearer second-longer");
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
      cmocka_unit_test_setup_teardown(test_garbage_and_truncated_json, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_oversized_body, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_server_never_answers, fake_start, fake_stop),
      cmocka_unit_test(test_refused_port),
      cmocka_unit_test_setup_teardown(test_status_errors, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_token_file_rotation, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_watch_gone, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_watch_malformed_line, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_watch_stopped_by_tick, fake_start, fake_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
