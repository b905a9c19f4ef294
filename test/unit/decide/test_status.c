/* The desired status built from an observation and its plan, and when it is worth writing.
 * Golden file: test/unit/decide/golden/status_degraded.json (MGO_UPDATE_GOLDEN=1 rewrites it). */
#include "cluster.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "golden.h"
#include "notation.h"
#include "topology.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct scenario {
  struct mgo_cluster c;
  struct rec_observed *obs;
  struct rec_plan *plan;
};

/* since: obs->main_unavailable_since ("" = none). */
static void decide_since(struct scenario *s, const char *recorded, const char *observed, const char *since)
{
  notation_cluster(&s->c, 3, 1, 'S', 'A', recorded);
  s->c.generation = 7;
  s->obs = calloc(1, sizeof(*s->obs));
  s->plan = calloc(1, sizeof(*s->plan));
  assert_non_null(s->obs);
  assert_non_null(s->plan);
  notation_observed(&s->c, observed, s->obs);
  mgo_strlcpy(s->obs->main_unavailable_since, since, sizeof(s->obs->main_unavailable_since));
  assert_int_equal(rec_decide_topology(&s->c, s->obs, s->plan), MGO_OK);
}

static void decide(struct scenario *s, const char *recorded, const char *observed)
{
  decide_since(s, recorded, observed, "");
}

static json_t *build(struct scenario *s, const json_t *old, const char *now)
{
  struct rec_status_input in = {.c = &s->c, .obs = s->obs, .plan = s->plan, .old_status = old, .now = now};
  json_t *status = rec_build_status(&in);
  assert_non_null(status);
  return status;
}

static void done(struct scenario *s)
{
  free(s->obs);
  free(s->plan);
}

static void test_status_golden(void **state)
{
  struct scenario s;
  json_t *status;
  (void) state;

  decide(&s, "mg-0", "0 M reg=1:S:ready reg=2:A:recovery:-5000 | 1 R v=3.11.0 | 2 R restarts=1 | 3 ?");
  s.obs->inst[3].pod_exists = true;
  mgo_strlcpy(s.obs->inst[3].last_error, "connect: connection refused", sizeof(s.obs->inst[3].last_error));
  s.obs->inst[2].reseeds = 2; /* re-seeded twice in a row, the last at 03:58 */
  s.obs->inst[2].last_reseed_wall_ms = 1795319880000;
  status = build(&s, NULL, "2026-11-22T04:00:00Z");
  mgo_test_golden_json("test/unit/decide/golden/status_degraded.json", status);
  json_decref(status);
  done(&s);
}

/* A field of the condition of that type, or NULL. */
static const char *cond_field(const json_t *status, const char *type, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c)
  {
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
      return json_string_value(json_object_get(c, field));
  }
  return NULL;
}

static const char *cond_time(const json_t *status, const char *type)
{
  return cond_field(status, type, "lastTransitionTime");
}

/* While the MAIN is down, status says when the outage began and when the failover is due, and nothing in it
 * changes from pass to pass (no countdown); the pass that fails over does not write the outage start, which a
 * restarted operator would otherwise read as the new MAIN's. */
static void test_an_outage_is_written_once(void **state)
{
  static const char since[] = "2026-11-22T04:00:00.250Z";
  struct scenario a, b, c;
  json_t *first, *second, *third;
  (void) state;
  decide_since(&a, "mg-0", "@ down=2000 | 0 ? | 1 R last=S | 2 R last=A", since);
  first = build(&a, NULL, "2026-11-22T04:00:02Z");
  assert_string_equal(json_string_value(json_object_get(first, "mainUnavailableSince")), since);
  assert_string_equal(cond_field(first, "MainAvailable", "message"),
                      "the MAIN mg-0 is not ready; failover at 2026-11-22T04:00:15.250Z unless it recovers");
  decide_since(&b, "mg-0", "@ down=9000 | 0 ? | 1 R last=S | 2 R last=A", since);
  second = build(&b, first, "2026-11-22T04:00:09Z");
  assert_false(rec_status_differs(first, second));
  decide_since(&c, "mg-0", "@ down=15000 | 0 ? | 1 R last=S | 2 R last=A", since);
  third = build(&c, second, "2026-11-22T04:00:15Z");
  assert_string_equal(json_string_value(json_object_get(third, "currentMain")),
                      "mg-0"); /* not yet recorded */
  assert_null(json_object_get(third, "mainUnavailableSince"));
  json_decref(first);
  json_decref(second);
  json_decref(third);
  done(&a);
  done(&b);
  done(&c);
}

static void test_transition_time_kept_while_status_unchanged(void **state)
{
  struct scenario s1, s2;
  json_t *first, *second;
  (void) state;
  decide(&s1, "mg-0", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R");
  first = build(&s1, NULL, "2026-11-22T04:00:00Z");
  /* Later: MAIN still fine, one replica lost. */
  decide(&s2, "mg-0", "0 M reg=1:S:ready reg=2:A:invalid | 1 R | 2 ?");
  second = build(&s2, first, "2026-11-22T04:05:00Z");
  assert_string_equal(cond_time(second, "MainAvailable"), "2026-11-22T04:00:00Z");
  assert_string_equal(cond_time(second, "ReplicasReady"), "2026-11-22T04:05:00Z");
  assert_string_equal(cond_time(second, "Ready"), "2026-11-22T04:05:00Z");
  assert_true(rec_status_differs(first, second));
  json_decref(first);
  json_decref(second);
  done(&s1);
  done(&s2);
}

struct differs_case {
  const char *name;
  const char *old_observed;
  const char *new_observed;
  bool differs;
};

static const struct differs_case differs_cases[] = {
    {"nothing changed but the clock", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R", false},
    {"lag moves while behind", "0 M reg=1:S:ready reg=2:A:ready:-3 | 1 R | 2 R",
     "0 M reg=1:S:ready reg=2:A:ready:-50 | 1 R | 2 R", false},
    {"a streaming replica a few commits behind (load)", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "0 M reg=1:S:ready:-1 reg=2:A:replicating:-4 | 1 R | 2 R", false},
    {"an ASYNC replica in a short recovery (Memgraph's busy-replica catch-up under load)",
     "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R", "0 M reg=1:S:ready reg=2:A:recovery:-1 | 1 R | 2 R",
     false},
    {"an ASYNC replica in recovery too far behind", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "0 M reg=1:S:ready reg=2:A:recovery:-1001 | 1 R | 2 R", true},
    {"a SYNC replica leaves the streaming states", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "0 M reg=1:S:recovery:-1 reg=2:A:ready | 1 R | 2 R", true},
    {"replica state changes", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "0 M reg=1:S:ready reg=2:A:invalid | 1 R | 2 R", true},
    {"an ASYNC replica healthy a moment ago, invalid now (a late heartbeat): graced",
     "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R", "0 M reg=1:S:ready reg=2:A:invalid | 1 R | 2 R graced",
     false},
    {"pod no longer ready", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "0 M reg=1:S:ready reg=2:A:ready | 1 R notready | 2 R", true},
    {"a replica stops answering", "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 R",
     "0 M reg=1:S:ready reg=2:A:ready | 1 R | 2 ?", true},
};

static void test_differs_table(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(differs_cases) / sizeof(differs_cases[0]); i++) {
    struct scenario a, b;
    json_t *old_status, *new_status;
    decide(&a, "mg-0", differs_cases[i].old_observed);
    old_status = build(&a, NULL, "2026-11-22T04:00:00Z");
    decide(&b, "mg-0", differs_cases[i].new_observed);
    new_status = build(&b, old_status, "2026-11-22T04:00:05Z");
    if (rec_status_differs(old_status, new_status) != differs_cases[i].differs)
      fail_msg("case \"%s\": differs should be %d", differs_cases[i].name, differs_cases[i].differs);
    json_decref(old_status);
    json_decref(new_status);
    done(&a);
    done(&b);
  }
}

static void test_carried_over_fields(void **state)
{
  struct scenario s;
  json_error_t jerr;
  json_t *old = json_loads("{\"lastFailover\":{\"from\":\"mg-1\",\"to\":\"mg-0\",\"reason\":\"MainLost\"},"
                           "\"instanceStatuses\":[{\"pod\":\"mg-2\",\"lastSeen\":\"2026-11-22T03:00:00Z\"}]}",
                           0, &jerr);
  json_t *status;
  size_t i;
  json_t *entry;
  (void) state;
  decide(&s, "mg-0", "0 M reg=1:S:ready | 1 R | 2 ?");
  status = build(&s, old, "2026-11-22T04:00:00Z");
  assert_string_equal(json_string_value(json_object_get(json_object_get(status, "lastFailover"), "to")),
                      "mg-0");
  json_array_foreach(json_object_get(status, "instanceStatuses"), i, entry)
  {
    const char *pod = json_string_value(json_object_get(entry, "pod"));
    const char *seen = json_string_value(json_object_get(entry, "lastSeen"));
    assert_string_equal(seen, strcmp(pod, "mg-2") == 0 ? "2026-11-22T03:00:00Z" : "2026-11-22T04:00:00Z");
  }
  assert_string_equal(json_string_value(json_object_get(status, "currentMain")), "mg-0");
  assert_false(rec_status_differs(status, status));
  assert_true(rec_status_differs(NULL, status));
  json_decref(status);
  json_decref(old);
  done(&s);
}

/* currentMain is what the act step recorded (c->recorded_main), never the plan's intent: a pass whose
 * switchover stopped at a refused demotion, before its RECORD_MAIN, keeps the old MAIN recorded. */
static void test_current_main_only_once_recorded(void **state)
{
  struct scenario s;
  json_t *status;
  (void) state;
  decide(&s, "", "0 M empty | 1 M empty | 2 M empty");
  status = build(&s, NULL, "2026-11-22T04:00:00Z");
  assert_null(json_object_get(status, "currentMain"));
  assert_string_equal(json_string_value(json_object_get(status, "phase")), "Initializing");
  assert_int_equal(json_integer_value(json_object_get(status, "registeredReplicas")), 0);
  json_decref(status);
  (void) mgo_strlcpy(s.c.recorded_main, "mg-0", sizeof(s.c.recorded_main)); /* the act step's record */
  status = build(&s, NULL, "2026-11-22T04:00:00Z");
  assert_string_equal(json_string_value(json_object_get(status, "currentMain")), "mg-0");
  json_decref(status);
  done(&s);
}

/* While the MAIN does not answer, the replicas keep how it last listed them (a restarted operator's failover
 * candidates); once another MAIN is recorded they do not. */
static void test_registrations_carried_while_main_silent(void **state)
{
  struct scenario s;
  json_error_t jerr;
  json_t *old = json_loads("{\"currentMain\":\"mg-0\",\"instanceStatuses\":[{\"pod\":\"mg-1\","
                           "\"replicationMode\":\"SYNC\",\"replicaState\":\"ready\",\"behind\":0}]}",
                           0, &jerr);
  json_t *status, *entry;
  (void) state;
  assert_non_null(old);
  decide(&s, "mg-0", "0 ? | 1 R | 2 R");
  status = build(&s, old, "2026-11-22T04:00:00Z");
  entry = json_array_get(json_object_get(status, "instanceStatuses"), 1);
  assert_string_equal(json_string_value(json_object_get(entry, "pod")), "mg-1");
  assert_string_equal(json_string_value(json_object_get(entry, "replicationMode")), "SYNC");
  assert_string_equal(json_string_value(json_object_get(entry, "replicaState")), "ready");
  assert_int_equal(json_integer_value(json_object_get(entry, "behind")), 0);
  json_decref(status);
  done(&s);

  json_object_set_new(old, "currentMain", json_string("mg-2"));
  decide(&s, "mg-0", "0 ? | 1 R | 2 R");
  status = build(&s, old, "2026-11-22T04:00:00Z");
  entry = json_array_get(json_object_get(status, "instanceStatuses"), 1);
  assert_null(json_object_get(entry, "replicationMode"));
  json_decref(status);
  json_decref(old);
  done(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_golden),
      cmocka_unit_test(test_transition_time_kept_while_status_unchanged),
      cmocka_unit_test(test_differs_table),
      cmocka_unit_test(test_an_outage_is_written_once),
      cmocka_unit_test(test_carried_over_fields),
      cmocka_unit_test(test_current_main_only_once_recorded),
      cmocka_unit_test(test_registrations_carried_while_main_silent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
