/* Unit tests: the incremental watch line decoder (splits at every position, malformed and oversized lines,
 * bookmarks and server errors) and the backoff arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s_backoff.h"
#include "k8s_watch.h"
#include "mgo_err.h"

#define MAX_SEEN 64

struct seen {
  int n;
  enum k8s_watch_type type[MAX_SEEN];
  int rc[MAX_SEEN];
  char name[MAX_SEEN][64];
  char rv[MAX_SEEN][32];
  int stop_after; /* return MGO_ECANCELED after this many events (0 = never) */
};

static int record(void *arg, const struct k8s_watch_event *ev)
{
  struct seen *s = arg;
  assert_true(s->n < MAX_SEEN);
  s->type[s->n] = ev->type;
  s->rc[s->n] = ev->rc;
  s->name[s->n][0] = s->rv[s->n][0] = '\0';
  if (ev->object) {
    json_t *md = json_object_get(ev->object, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
    snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name ? name : "");
    snprintf(s->rv[s->n], sizeof(s->rv[0]), "%s", rv ? rv : "");
  }
  s->n++;
  return s->stop_after && s->n >= s->stop_after ? MGO_ECANCELED : MGO_OK;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"mg-0\",\"resourceVersion\":"
    "\"11\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"mg-0\",\"resourceVersion\":"
    "\"12\"}}}"
    "\r\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"15\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"mg-0\",\"resourceVersion\":"
    "\"16\"}}}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Expired\","
    "\"code\":410}}\n";

static void check_stream(const struct seen *s)
{
  assert_int_equal(s->n, 5);
  assert_int_equal(s->type[0], K8S_WATCH_ADDED);
  assert_string_equal(s->name[0], "mg-0");
  assert_string_equal(s->rv[0], "11");
  assert_int_equal(s->type[1], K8S_WATCH_MODIFIED);
  assert_string_equal(s->rv[1], "12");
  assert_int_equal(s->type[2], K8S_WATCH_BOOKMARK);
  assert_string_equal(s->rv[2], "15");
  assert_int_equal(s->type[3], K8S_WATCH_DELETED);
  assert_int_equal(s->type[4], K8S_WATCH_ERROR);
}

static void test_whole_stream(void **state)
{
  (void) state;
  struct k8s_watch_decoder d;
  struct seen s = {0};
  k8s_watch_decoder_init(&d, 0);
  assert_int_equal(k8s_watch_decoder_feed(&d, stream, sizeof(stream) - 1, record, &s), MGO_OK);
  check_stream(&s);
  assert_int_equal(k8s_watch_decoder_pending(&d), 0);
  k8s_watch_decoder_free(&d);
}

/* Every split of the stream into two chunks, and byte-by-byte, yields the same events. */
static void test_split_at_every_position(void **state)
{
  (void) state;
  size_t len = sizeof(stream) - 1;
  for (size_t cut = 0; cut <= len; cut++) {
    struct k8s_watch_decoder d;
    struct seen s = {0};
    k8s_watch_decoder_init(&d, 0);
    assert_int_equal(k8s_watch_decoder_feed(&d, stream, cut, record, &s), MGO_OK);
    assert_int_equal(k8s_watch_decoder_feed(&d, stream + cut, len - cut, record, &s), MGO_OK);
    check_stream(&s);
    k8s_watch_decoder_free(&d);
  }
  struct k8s_watch_decoder d;
  struct seen s = {0};
  k8s_watch_decoder_init(&d, 0);
  for (size_t i = 0; i < len; i++)
    assert_int_equal(k8s_watch_decoder_feed(&d, stream + i, 1, record, &s), MGO_OK);
  check_stream(&s);
  k8s_watch_decoder_free(&d);
}

static void test_unfinished_line_is_held(void **state)
{
  (void) state;
  struct k8s_watch_decoder d;
  struct seen s = {0};
  k8s_watch_decoder_init(&d, 0);
  const char *part = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}";
  assert_int_equal(k8s_watch_decoder_feed(&d, part, strlen(part), record, &s), MGO_OK);
  assert_int_equal(s.n, 0);
  assert_int_equal(k8s_watch_decoder_pending(&d), strlen(part));
  assert_int_equal(k8s_watch_decoder_feed(&d, "\n", 1, record, &s), MGO_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(k8s_watch_decoder_pending(&d), 0);
  k8s_watch_decoder_free(&d); /* also frees a held partial line (LSan checks) */
}

static void test_malformed_lines_become_error_events(void **state)
{
  (void) state;
  static const char bad[] = "not json at all\n"
                            "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}\n" /* truncated */
                            "{\"type\":\"EXPLODED\",\"object\":{}}\n"   /* unknown type */
                            "{\"type\":\"ADDED\",\"object\":\"str\"}\n" /* object not a map */
                            "[1,2,3]\n"
                            "\x01\x02\xff\xfe\n"
                            "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"ok\"}}}\n";
  struct k8s_watch_decoder d;
  struct seen s = {0};
  k8s_watch_decoder_init(&d, 0);
  assert_int_equal(k8s_watch_decoder_feed(&d, bad, sizeof(bad) - 1, record, &s), MGO_OK);
  assert_int_equal(s.n, 7);
  for (int i = 0; i < 6; i++) {
    assert_int_equal(s.type[i], K8S_WATCH_DECODE_ERROR);
    assert_int_equal(s.rc[i], MGO_EPARSE);
  }
  assert_int_equal(s.type[6], K8S_WATCH_ADDED); /* decoding continues after bad lines */
  assert_string_equal(s.name[6], "ok");
  k8s_watch_decoder_free(&d);
}

static void test_oversized_line_is_skipped(void **state)
{
  (void) state;
  const size_t cap = 256;
  struct k8s_watch_decoder d;
  struct seen s = {0};
  k8s_watch_decoder_init(&d, cap);
  char big[1000];
  memset(big, 'x', sizeof(big));
  /* the huge line arrives in several chunks, none with a newline, then its end */
  for (int i = 0; i < 5; i++)
    assert_int_equal(k8s_watch_decoder_feed(&d, big, sizeof(big), record, &s), MGO_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.type[0], K8S_WATCH_DECODE_ERROR);
  assert_int_equal(s.rc[0], MGO_ETOOBIG);
  assert_true(k8s_watch_decoder_pending(&d) <= cap); /* memory stays bounded */
  const char *tail = "xxx\n{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"after\"}}}\n";
  assert_int_equal(k8s_watch_decoder_feed(&d, tail, strlen(tail), record, &s), MGO_OK);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.type[1], K8S_WATCH_ADDED);
  assert_string_equal(s.name[1], "after");
  /* an oversized line completed within one chunk */
  char line[400];
  memset(line, 'y', sizeof(line));
  line[sizeof(line) - 1] = '\n';
  assert_int_equal(k8s_watch_decoder_feed(&d, line, sizeof(line), record, &s), MGO_OK);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.rc[2], MGO_ETOOBIG);
  assert_int_equal(k8s_watch_decoder_pending(&d), 0);
  k8s_watch_decoder_free(&d);
}

static void test_callback_stops_decoding(void **state)
{
  (void) state;
  struct k8s_watch_decoder d;
  struct seen s = {.stop_after = 2};
  k8s_watch_decoder_init(&d, 0);
  assert_int_equal(k8s_watch_decoder_feed(&d, stream, sizeof(stream) - 1, record, &s), MGO_ECANCELED);
  assert_int_equal(s.n, 2);
  k8s_watch_decoder_free(&d);
}

static void test_parse_line(void **state)
{
  (void) state;
  struct k8s_watch_event ev;
  const char *l = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"99\"}}}";
  assert_int_equal(k8s_watch_parse_line(l, strlen(l), &ev), MGO_OK);
  assert_int_equal(ev.type, K8S_WATCH_BOOKMARK);
  assert_non_null(ev.object);
  json_decref(ev.object);
  assert_int_equal(k8s_watch_parse_line("{}", 2, &ev), MGO_EPARSE);
  assert_null(ev.object);
  assert_string_equal(k8s_watch_type_name(K8S_WATCH_DELETED), "DELETED");
}

static void test_backoff_growth_and_cap(void **state)
{
  (void) state;
  assert_int_equal(k8s_backoff_delay_ms(100, 5000, 0), 100);
  assert_int_equal(k8s_backoff_delay_ms(100, 5000, 1), 200);
  assert_int_equal(k8s_backoff_delay_ms(100, 5000, 5), 3200);
  assert_int_equal(k8s_backoff_delay_ms(100, 5000, 6), 5000);
  assert_int_equal(k8s_backoff_delay_ms(100, 5000, 4000000000u), 5000); /* no overflow */
  assert_int_equal(k8s_backoff_delay_ms(0, 5000, 3), 0);
  struct k8s_backoff b;
  k8s_backoff_init(&b, 100, 1000, 0, 1);
  assert_int_equal(k8s_backoff_next(&b), 100);
  assert_int_equal(k8s_backoff_next(&b), 200);
  assert_int_equal(k8s_backoff_next(&b), 400);
  k8s_backoff_reset(&b);
  assert_int_equal(k8s_backoff_next(&b), 100);
}

static void test_backoff_jitter_range(void **state)
{
  (void) state;
  struct k8s_backoff b;
  long lo = 1 << 30, hi = 0;
  for (unsigned seed = 1; seed < 200; seed++) {
    k8s_backoff_init(&b, 1000, 60000, 0.5, seed);
    long d = k8s_backoff_next(&b);
    assert_true(d >= 500 && d <= 1000);
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
  }
  assert_true(hi - lo > 200); /* actually spread out */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_stream),
      cmocka_unit_test(test_split_at_every_position),
      cmocka_unit_test(test_unfinished_line_is_held),
      cmocka_unit_test(test_malformed_lines_become_error_events),
      cmocka_unit_test(test_oversized_line_is_skipped),
      cmocka_unit_test(test_callback_stops_decoding),
      cmocka_unit_test(test_parse_line),
      cmocka_unit_test(test_backoff_growth_and_cap),
      cmocka_unit_test(test_backoff_jitter_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
