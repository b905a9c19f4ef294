/* Unit tests: the Events recorder against a fake API server, with a fake clock: a repeat inside the
 * aggregation window patches the first Event's series, one at the window's end creates a new Event, and the
 * timestamps and names come from the recorder's clock. */
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
#include "k8s_events.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define EVENTS_PATH "/apis/events.k8s.io/v1/namespaces/ns/events"
#define FAKE_WALL_MS 1136214245000 /* 2006-01-02T15:04:05Z, 0x43b940e5 s */

struct api {
  struct fake_http http;
  char lines[8][128]; /* request lines seen */
  json_t *bodies[8];  /* their JSON bodies */
  int n;
};

static bool serve(void *arg, int fd, const char *line)
{
  struct api *a = arg;
  if (a->n < 8) {
    snprintf(a->lines[a->n], sizeof(a->lines[a->n]), "%s", line);
    a->bodies[a->n] = json_loads(a->http.last_body, 0, NULL);
    a->n++;
  }
  const char *body = "{\"kind\":\"Event\",\"apiVersion\":\"events.k8s.io/v1\"}";
  fake_http_respond(fd, strncmp(line, "POST ", 5) == 0 ? 201 : 200, body, strlen(body));
  return true;
}

static struct k8s_client *client_for(struct api *a)
{
  char server[64];
  snprintf(server, sizeof(server), "http://127.0.0.1:%d", a->http.port);
  struct k8s_config cfg = {.server = server};
  struct k8s_client *c = NULL;
  struct k8s_status st;
  assert_int_equal(k8s_client_new(&cfg, NULL, &c, &st), MGO_OK);
  return c;
}

static bool record(struct k8s_event_recorder *r, const json_t *pod)
{
  bool aggregated = true;
  struct k8s_status st;
  assert_int_equal(k8s_event_record(r, pod, "Warning", "Unhealthy", "Probe", "not ready", &aggregated, &st),
                   MGO_OK);
  return aggregated;
}

static const char *body_str(struct api *a, int i, const char *outer, const char *field)
{
  const json_t *o = outer ? json_object_get(a->bodies[i], outer) : a->bodies[i];
  return json_string_value(json_object_get(o, field));
}

static void test_aggregation_window_follows_the_clock(void **state)
{
  (void) state;
  struct api a = {0};
  fake_http_start(&a.http, serve, &a);
  struct k8s_client *c = client_for(&a);
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, 1000000, FAKE_WALL_MS);
  struct k8s_event_recorder_opts o = {.reporting_controller = "memgraph.com/memgraph-operator",
                                      .reporting_instance = "op-0",
                                      .aggregate_window_ms = 60000,
                                      .clock = &fc.clock};
  struct k8s_event_recorder *r = NULL;
  assert_int_equal(k8s_event_recorder_new(c, &o, &r), MGO_OK);
  json_t *pod = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata", "name",
                          "mg-0", "namespace", "ns");

  assert_false(record(r, pod)); /* first: created */
  assert_non_null(strstr(a.lines[0], "POST " EVENTS_PATH " "));
  assert_string_equal(body_str(&a, 0, NULL, "eventTime"), "2006-01-02T15:04:05.000000Z");
  const char *name = body_str(&a, 0, "metadata", "name");
  assert_string_equal(name, "mg-0.43b940e5"
                            "4240"); /* the wall clock's seconds, a sequence from the clock */

  mgo_fake_clock_advance_ms(&fc, 59999);
  assert_true(record(r, pod)); /* inside the window: the series is patched */
  char want[160];
  snprintf(want, sizeof(want), "PATCH " EVENTS_PATH "/%s ", name);
  assert_non_null(strstr(a.lines[1], want));
  assert_int_equal(json_integer_value(json_object_get(json_object_get(a.bodies[1], "series"), "count")), 2);
  assert_string_equal(body_str(&a, 1, "series", "lastObservedTime"), "2006-01-02T15:05:04.999000Z");

  mgo_fake_clock_advance_ms(&fc, 60000); /* the window counts from the last repeat: this one is past it */
  assert_false(record(r, pod));
  assert_non_null(strstr(a.lines[2], "POST " EVENTS_PATH " "));
  assert_int_equal(a.n, 3);

  json_decref(pod);
  k8s_event_recorder_free(r);
  k8s_client_free(c);
  fake_http_stop(&a.http);
  for (int i = 0; i < a.n; i++)
    json_decref(a.bodies[i]);
  mgo_fake_clock_destroy(&fc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aggregation_window_follows_the_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
