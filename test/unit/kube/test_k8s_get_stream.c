/* k8s_get_stream() (a pod's log through the API server) against the fake HTTP server: a chunked text body
 * reaches the consumer in order, with the path and query on the request line; a Status answer (404) fills
 * the status like any other call and never reaches the consumer; a consumer that stops ends the call with
 * its code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdatomic.h>

#include "fake_http.h"
#include "k8s_client.h"
#include "mgo_buf.h"
#include "mgo_err.h"

enum mode { M_TEXT, M_NOT_FOUND };

struct fake {
  struct fake_http http;
  atomic_int mode;
};

static bool serve(void *arg, int fd, const char *request_line)
{
  static const char not_found[] =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
      "\"pods \\\"mg-9\\\" not found\",\"reason\":\"NotFound\",\"code\":404}";
  struct fake *f = arg;
  (void) request_line;
  if (atomic_load(&f->mode) == M_NOT_FOUND) {
    fake_http_respond(fd, 404, not_found, sizeof(not_found) - 1);
    return true;
  }
  fake_http_chunked_head(fd);
  fake_http_chunk(fd, "[info] first line\n[warn] sec");
  fake_http_chunk(fd, "ond line\n");
  fake_http_end_chunks(fd);
  return true;
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

static struct k8s_client *client_for(struct fake *f)
{
  char server[64];
  snprintf(server, sizeof(server), "http://127.0.0.1:%d", f->http.port);
  struct k8s_config cfg = {.server = server, .token = "t"};
  struct k8s_client *c = NULL;
  struct k8s_status st;
  assert_int_equal(k8s_client_new(&cfg, NULL, &c, &st), MGO_OK);
  return c;
}

static int collect(void *arg, const char *data, size_t len)
{
  return mgo_buf_add(arg, data, len);
}

static void test_text_body_in_order(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f);
  struct mgo_buf got = MGO_BUF_INIT(4096);
  struct k8s_status st;
  atomic_store(&f->mode, M_TEXT);
  assert_int_equal(k8s_get_stream(c, "/api/v1/namespaces/db/pods/mg-0/log", "?container=memgraph&tailLines=5",
                                  5000, collect, &got, &st),
                   MGO_OK);
  assert_string_equal(mgo_buf_str(&got), "[info] first line\n[warn] second line\n");
  assert_int_equal(st.code, 200);
  assert_string_equal(f->http.last_request,
                      "GET /api/v1/namespaces/db/pods/mg-0/log?container=memgraph&tailLines=5 HTTP/1.1");
  /* a consumer that stops: its code ends the call */
  struct mgo_buf small = MGO_BUF_INIT(8);
  assert_int_equal(k8s_get_stream(c, "/api/v1/namespaces/db/pods/mg-0/log", NULL, 5000, collect, &small, &st),
                   MGO_ETOOBIG);
  mgo_buf_free(&small);
  mgo_buf_free(&got);
  k8s_client_free(c);
}

static void test_status_answer(void **state)
{
  struct fake *f = *state;
  struct k8s_client *c = client_for(f);
  struct mgo_buf got = MGO_BUF_INIT(4096);
  struct k8s_status st;
  atomic_store(&f->mode, M_NOT_FOUND);
  assert_int_equal(k8s_get_stream(c, "/api/v1/namespaces/db/pods/mg-9/log", NULL, 5000, collect, &got, &st),
                   MGO_ENOTFOUND);
  assert_int_equal(st.code, 404);
  assert_string_equal(st.reason, "NotFound");
  assert_string_equal(st.message, "pods \"mg-9\" not found");
  assert_int_equal(got.len, 0);
  mgo_buf_free(&got);
  k8s_client_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_text_body_in_order, fake_start, fake_stop),
      cmocka_unit_test_setup_teardown(test_status_answer, fake_start, fake_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
