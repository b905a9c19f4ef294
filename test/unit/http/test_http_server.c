/* The HTTP endpoint on a real loopback socket, queried with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "mgo_err.h"
#include "server.h"

struct fake {
  int ready;
  int status_rc;
};

static int fake_all(void *ctx, struct mgo_buf *out)
{
  struct fake *f = ctx;
  if (f->status_rc != MGO_OK)
    return f->status_rc;
  return mgo_buf_addstr(out, "{\"clusters\":[]}");
}

static int fake_one(void *ctx, const char *ns, const char *name, struct mgo_buf *out)
{
  (void) ctx;
  if (strcmp(ns, "default") != 0 || strcmp(name, "demo") != 0)
    return MGO_ENOTFOUND;
  return mgo_buf_printf(out, "{\"namespace\":\"%s\",\"name\":\"%s\"}", ns, name);
}

static int fake_ready(void *ctx, char *reason, size_t reasonsz)
{
  struct fake *f = ctx;
  mgo_strlcpy(reason, f->ready ? "standby" : "informers not synced", reasonsz);
  return f->ready;
}

static size_t collect(char *p, size_t size, size_t n, void *userdata)
{
  mgo_buf_add(userdata, p, size * n);
  return size * n;
}

static long get(int port, const char *method, const char *path, struct mgo_buf *body)
{
  char url[256];
  mgo_snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  return code;
}

static void test_endpoints(void **state)
{
  (void) state;
  struct fake f = {.ready = 0, .status_rc = MGO_OK};
  struct mgo_metrics *m = mgo_metrics_new();
  mgo_metric_set(mgo_metrics_family(m, "mgo_up", "Up.", MGO_METRIC_GAUGE, NULL, 0), "", 1);
  struct mgo_http_handlers h = {
      .ctx = &f, .status_all = fake_all, .status_cluster = fake_one, .ready = fake_ready, .metrics = m};
  struct mgo_http_server *s = NULL;
  char err[128];
  assert_int_equal(mgo_http_start(&s, "127.0.0.1", 0, &h, err, sizeof err), MGO_OK);
  int port = mgo_http_port(s);
  assert_true(port > 0);

  struct mgo_buf b = MGO_BUF_INIT(1 << 20);
  assert_int_equal(get(port, "GET", "/healthz", &b), 200);
  mgo_buf_reset(&b);
  assert_int_equal(get(port, "GET", "/readyz", &b), 503);
  assert_string_equal(mgo_buf_str(&b), "not ready: informers not synced\n");
  f.ready = 1;
  mgo_buf_reset(&b);
  assert_int_equal(get(port, "GET", "/readyz", &b), 200);
  assert_string_equal(mgo_buf_str(&b), "ok: standby\n");
  mgo_buf_reset(&b);
  assert_int_equal(get(port, "GET", "/metrics", &b), 200);
  assert_non_null(strstr(mgo_buf_str(&b), "\nmgo_up 1\n"));
  mgo_buf_reset(&b);
  assert_int_equal(get(port, "GET", "/api/v1/status", &b), 200);
  assert_string_equal(mgo_buf_str(&b), "{\"clusters\":[]}");
  mgo_buf_reset(&b);
  assert_int_equal(get(port, "GET", "/api/v1/clusters/default/demo", &b), 200);
  assert_string_equal(mgo_buf_str(&b), "{\"namespace\":\"default\",\"name\":\"demo\"}");
  mgo_buf_reset(&b);
  assert_int_equal(get(port, "GET", "/api/v1/clusters/default/other", &b), 404);
  assert_int_equal(get(port, "GET", "/api/v1/clusters/Bad_NS/demo", &b), 404);
  assert_int_equal(get(port, "GET", "/nope", &b), 404);
  assert_int_equal(get(port, "DELETE", "/api/v1/status", &b), 405);
  f.status_rc = MGO_ENOMEM;
  mgo_buf_reset(&b);
  assert_int_equal(get(port, "GET", "/api/v1/status", &b), 500);
  assert_string_equal(mgo_buf_str(&b), "{\"error\":\"out of memory\"}\n");

  mgo_buf_free(&b);
  mgo_http_stop(s);
  mgo_metrics_free(m);
}

static void test_bad_listen_address_is_a_clear_error(void **state)
{
  (void) state;
  struct mgo_http_handlers h = {0};
  struct mgo_http_server *s = NULL;
  char err[128];
  assert_int_equal(mgo_http_start(&s, "not-an-ip", 8080, &h, err, sizeof err), MGO_EINVAL);
  assert_string_equal(err, "invalid listen address not-an-ip:8080 (an IPv4 address and a port 0-65535)");
  assert_int_equal(mgo_http_start(&s, "127.0.0.1", 70000, &h, err, sizeof err), MGO_EINVAL);
}

static void test_cluster_path_parsing(void **state)
{
  (void) state;
  static const struct {
    const char *url;
    int rc;
    const char *ns, *name;
  } cases[] = {
      {"/api/v1/clusters/default/demo", MGO_OK, "default", "demo"},
      {"/api/v1/clusters/team-a/mg.prod-1", MGO_OK, "team-a", "mg.prod-1"},
      {"/api/v1/clusters/default/", MGO_ENOTFOUND, NULL, NULL},
      {"/api/v1/clusters//demo", MGO_ENOTFOUND, NULL, NULL},
      {"/api/v1/clusters/default/demo/extra", MGO_ENOTFOUND, NULL, NULL},
      {"/api/v1/clusters/default/de%22mo", MGO_ENOTFOUND, NULL, NULL},
      {"/api/v1/clusters/-x/demo", MGO_ENOTFOUND, NULL, NULL},
      {"/api/v1/status", MGO_ENOTFOUND, NULL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char ns[64] = "", name[64] = "";
    assert_int_equal(mgo_http_parse_cluster_path(cases[i].url, ns, sizeof ns, name, sizeof name),
                     cases[i].rc);
    if (cases[i].rc == MGO_OK) {
      assert_string_equal(ns, cases[i].ns);
      assert_string_equal(name, cases[i].name);
    }
  }
}

int main(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_endpoints),
      cmocka_unit_test(test_bad_listen_address_is_a_clear_error),
      cmocka_unit_test(test_cluster_path_parsing),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
