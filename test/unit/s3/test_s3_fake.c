/* src/s3 against a scripted HTTP server (test/unit/kube/fake_http.c): the secret never reaches an error,
 * the request line and signature have the expected shape, and malformed 2xx answers are MGO_EPARSE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../kube/fake_http.h"
#include "mgo_err.h"
#include "s3.h"
#include "s3_internal.h"

#include <stdio.h>
#include <unistd.h>
#include <string.h>

#define SECRET "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"

struct script {
  int code;
  const char *body;
};

static bool serve(void *arg, int fd, const char *request_line)
{
  const struct script *s = arg;
  (void) request_line;
  fake_http_respond(fd, s->code, s->body, strlen(s->body));
  return true;
}

static void config(struct s3_config *c, char *endpoint, size_t n, int port)
{
  snprintf(endpoint, n, "http://127.0.0.1:%d", port);
  *c = (struct s3_config){.endpoint = endpoint,
                          .region = "us-east-1",
                          .bucket = "bkt",
                          .access_key = "AKIDTEST",
                          .secret_key = SECRET,
                          .force_path_style = true,
                          .connect_timeout_ms = 2000,
                          .low_speed_timeout_s = 5};
}

static void test_secret_not_in_error(void **state)
{
  (void) state;
  /* A hostile or buggy server that echoes the secret back in its error message. */
  struct script s = {403, "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>"
                          "secret was " SECRET "</Message></Error>"};
  struct fake_http f;
  struct s3_config c;
  struct s3_error e;
  char ep[64];
  fake_http_start(&f, serve, &s);
  config(&c, ep, sizeof(ep), f.port);
  assert_int_equal(s3_delete(&c, "dir/a b", &e), MGO_EAUTH);
  fake_http_stop(&f);
  assert_int_equal(e.http_status, 403);
  assert_string_equal(e.code, "SignatureDoesNotMatch");
  assert_null(strstr(e.message, SECRET));
  assert_non_null(strstr(e.message, "secret was ***"));
  assert_string_equal(f.last_request, "DELETE /bkt/dir/a%20b HTTP/1.1");
  assert_non_null(strstr(f.last_auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
  assert_non_null(strstr(f.last_auth, "/us-east-1/s3/aws4_request"));
  assert_non_null(strstr(f.last_auth, "x-amz-content-sha256"));
  assert_null(strstr(f.last_auth, SECRET));
}

static void test_uploads_query_and_bad_answer(void **state)
{
  (void) state;
  struct script s = {200, "<ListMultipartUploadsResult><Upload><Key>a</Key>"}; /* truncated */
  struct fake_http f;
  struct s3_config c;
  struct s3_error e;
  char ep[64];
  size_t n = 0;
  fake_http_start(&f, serve, &s);
  config(&c, ep, sizeof(ep), f.port);
  assert_int_equal(s3_count_uploads(&c, "p/", &n, &e), MGO_EPARSE);
  assert_string_equal(f.last_request, "GET /bkt?prefix=p%2F&uploads= HTTP/1.1");
  s.body = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>x</Key>";
  assert_int_equal(s3_list(&c, "", NULL, NULL, &e), MGO_EINVAL); /* no callback */
  fake_http_stop(&f);
}

static bool count_cb(void *ctx, const struct s3_object *o)
{
  (void) o;
  ++*(int *) ctx;
  return true;
}

static void test_list_truncated(void **state)
{
  (void) state;
  struct script s = {200, "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>x</Key>"};
  struct fake_http f;
  struct s3_config c;
  struct s3_error e;
  char ep[64];
  int n = 0;
  fake_http_start(&f, serve, &s);
  config(&c, ep, sizeof(ep), f.port);
  assert_int_equal(s3_list(&c, "", count_cb, &n, &e), MGO_EPARSE);
  assert_int_equal(n, 0);
  s.body =
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>same</NextContinuationToken>"
      "</ListBucketResult>";
  assert_int_equal(s3_list(&c, "", count_cb, &n, &e), MGO_EPROTO); /* the same token twice */
  s.code = 500;
  s.body = "not xml";
  assert_int_equal(s3_list(&c, "", count_cb, &n, &e), MGO_EHTTP);
  assert_int_equal(e.http_status, 500);
  fake_http_stop(&f);
}

static bool serve_pages(void *arg, int fd, const char *request_line)
{
  (void) arg;
  const char *body =
      strstr(request_line, "continuation-token=t%2B1")
          ? "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>b</Key><Size>2</Size>"
            "</Contents></ListBucketResult>"
          : "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size>"
            "</Contents><NextContinuationToken>t+1</NextContinuationToken></ListBucketResult>";
  fake_http_respond(fd, 200, body, strlen(body));
  return true;
}

static void test_list_pages_share_a_connection(void **state)
{
  (void) state;
  struct fake_http f;
  struct s3_config c;
  struct s3_error e;
  char ep[64];
  int n = 0;
  fake_http_start(&f, serve_pages, NULL);
  config(&c, ep, sizeof(ep), f.port);
  assert_int_equal(s3_list_paged(&c, "", 1, count_cb, &n, &e), MGO_OK);
  fake_http_stop(&f);
  assert_int_equal(n, 2);
  assert_int_equal(atomic_load(&f.requests), 2);
  assert_int_equal(atomic_load(&f.connections), 1);
  assert_string_equal(f.last_request,
                      "GET /bkt?continuation-token=t%2B1&list-type=2&max-keys=1&prefix= HTTP/1.1");
}

static void test_connect_refused(void **state)
{
  (void) state;
  int port = 0;
  int fd = fake_http_listen(&port);

  struct s3_config c;
  struct s3_error e;
  char ep[64], sha[S3_SHA256_HEX];
  uint64_t size;

  close(fd); /* nothing listens there any more */
  config(&c, ep, sizeof(ep), port);
  assert_int_equal(s3_head(&c, "k", &size, sha, &e), MGO_ECONNECT);
  assert_int_equal(e.http_status, 0);
  assert_null(strstr(e.message, SECRET));
  c.bucket = "x";
  assert_int_equal(s3_head(&c, "k", &size, sha, &e), MGO_ECONFIG);
}

int main(void)
{
  s3_global_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_secret_not_in_error), cmocka_unit_test(test_uploads_query_and_bad_answer),
      cmocka_unit_test(test_list_truncated),      cmocka_unit_test(test_list_pages_share_a_connection),
      cmocka_unit_test(test_connect_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
