/* Unit tests of live validation's pure parts (src/validate/validate.c): skip reasons, the schedule, the
 * verdict of a canary run, the status block (golden file test/unit/validate/golden/status_validation.json,
 * MGO_UPDATE_GOLDEN=1 rewrites it), the write rule and the Events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golden.h"
#include "validate.h"

/* ---- skip reasons ------------------------------------------------------------------------------------ */

static const struct {
  const char *what;
  struct val_state st;
  const char *reason;
} SKIPS[] = {
    {"healthy: runs", {false, false, false, true, false, false, 2, "db-0"}, ""},
    {"hibernated", {true, false, false, false, false, false, 0, ""}, "Hibernated"},
    {"plan stopped", {false, true, false, true, false, false, 2, "db-0"}, "ReconcileStopped"},
    {"failover in progress", {false, false, true, false, false, false, 2, "db-1"}, "FailoverInProgress"},
    {"MAIN unavailable", {false, false, false, false, false, false, 2, "db-0"}, "MainUnavailable"},
    {"no MAIN at all", {false, false, false, true, false, false, 2, ""}, "MainUnavailable"},
    {"MAIN fenced by the user", {false, false, false, true, true, false, 2, "db-0"}, "MainFenced"},
    {"registering", {false, false, false, true, false, true, 2, "db-0"}, "RegistrationInProgress"},
    {"single instance", {false, false, false, true, false, false, 0, "db-0"}, "NoReplicas"},
};

static void test_skip_reasons(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(SKIPS) / sizeof(SKIPS[0]); i++) {
    struct val_skip out;
    val_skip_reason(&SKIPS[i].st, &out);
    if (strcmp(out.reason, SKIPS[i].reason) != 0)
      fail_msg("%s: reason %s, want %s", SKIPS[i].what, out.reason, SKIPS[i].reason);
    assert_true((out.reason[0] == '\0') == (out.message[0] == '\0'));
  }
}

/* ---- the schedule ------------------------------------------------------------------------------------ */

#define T0 1700000000000LL

static const struct {
  const char *what;
  struct val_schedule_input in;
  enum val_run run;
  int64_t next_ms;
} SCHEDULES[] = {
    {"disabled", {false, T0, 0, 0, 300, 60, true}, VAL_RUN_NONE, 0},
    {"never tested: test", {true, T0, 0, 0, 300, 60, false}, VAL_RUN_TEST, 0},
    {"tested 10 s ago: next lag at +60 s",
     {true, T0, T0 - 10000, 0, 300, 60, false},
     VAL_RUN_NONE,
     T0 + 50000},
    {"tested 60 s ago: lag", {true, T0, T0 - 60000, 0, 300, 60, false}, VAL_RUN_LAG, 0},
    {"lag 30 s ago: next lag", {true, T0, T0 - 100000, T0 - 30000, 300, 60, false}, VAL_RUN_NONE, T0 + 30000},
    {"test interval passed", {true, T0, T0 - 300000, T0 - 1000, 300, 60, false}, VAL_RUN_TEST, 0},
    {"next test before next lag",
     {true, T0, T0 - 299000, T0 - 1000, 300, 60, false},
     VAL_RUN_NONE,
     T0 + 1000},
    {"a registration asks for a test", {true, T0, T0 - 1000, T0 - 1000, 300, 60, true}, VAL_RUN_TEST, 0},
    {"wall clock went back: test", {true, T0, T0 + 5000, 0, 300, 60, false}, VAL_RUN_TEST, 0},
    {"restarted operator keeps the status's test",
     {true, T0, T0 - 20000, 0, 300, 60, false},
     VAL_RUN_NONE,
     T0 + 40000},
};

static void test_schedule(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(SCHEDULES) / sizeof(SCHEDULES[0]); i++) {
    struct val_schedule s = val_schedule(&SCHEDULES[i].in);
    if (s.run != SCHEDULES[i].run || s.next_ms != SCHEDULES[i].next_ms)
      fail_msg("%s: run %d next %lld, want %d %lld", SCHEDULES[i].what, s.run, (long long) s.next_ms,
               SCHEDULES[i].run, (long long) SCHEDULES[i].next_ms);
  }
}

/* ---- the verdict --------------------------------------------------------------------------------------- */

static struct val_outcome outcome(bool written, int64_t lag1, int64_t lag2)
{
  struct val_outcome o;
  memset(&o, 0, sizeof(o));
  o.written = written;
  o.deadline_ms = 2000;
  if (!written)
    (void) snprintf(o.write_error, sizeof(o.write_error), "%s", "STRICT_SYNC aborted");
  o.n = 2;
  (void) snprintf(o.r[0].name, sizeof(o.r[0].name), "%s", "db-1");
  (void) snprintf(o.r[1].name, sizeof(o.r[1].name), "%s", "db-2");
  o.r[0].seen = written && lag1 >= 0;
  o.r[0].lag_ms = lag1;
  o.r[1].seen = written && lag2 >= 0;
  o.r[1].lag_ms = lag2;
  if (!o.r[1].seen)
    (void) snprintf(o.r[1].error, sizeof(o.r[1].error), "%s", "did not see the canary within 2000 ms");
  return o;
}

static const struct {
  const char *what;
  const char *message; /* NULL: not checked */
  int64_t lag1, lag2;  /* -1: not seen */
  int64_t max_lag;
  bool written, healthy, lag_ok;
} VERDICTS[] = {
    {"both saw it quickly", "all 2 replicas saw the canary, max lag 5 ms", 2, 5, 5, true, true, true},
    {"lag at the threshold is acceptable", NULL, 1000, 3, 1000, true, true, true},
    {"lag above the threshold", NULL, 1001, 3, 1001, true, true, false},
    {"one replica never saw it", "1/2 replicas saw the canary within 2000 ms (db-2 did not)", 3, -1, 3, true,
     false, false},
    {"the write failed", "the canary write on the MAIN failed: STRICT_SYNC aborted", -1, -1, -1, false, false,
     false},
};

static void test_verdict(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(VERDICTS) / sizeof(VERDICTS[0]); i++) {
    struct val_outcome o = outcome(VERDICTS[i].written, VERDICTS[i].lag1, VERDICTS[i].lag2);
    struct val_summary s;
    val_summarize(&o, 1000, &s);
    if (s.healthy != VERDICTS[i].healthy || s.lag_ok != VERDICTS[i].lag_ok ||
        s.max_lag_ms != VERDICTS[i].max_lag)
      fail_msg("%s: healthy %d lag_ok %d max %lld", VERDICTS[i].what, s.healthy, s.lag_ok,
               (long long) s.max_lag_ms);
    if (VERDICTS[i].message != NULL && strcmp(s.message, VERDICTS[i].message) != 0)
      fail_msg("%s: message '%s'", VERDICTS[i].what, s.message);
  }
}

static void test_lag_message_names_threshold(void **state)
{
  struct val_outcome o = outcome(true, 1500, 3);
  struct val_summary s;
  (void) state;
  val_summarize(&o, 1000, &s);
  assert_string_equal(s.lag_message, "replication lag 1500 ms is above 1000 ms (spec.validation.maxLagMs)");
}

/* ---- status.validation -----------------------------------------------------------------------------------
 */

static void test_status_golden(void **state)
{
  struct val_outcome o = outcome(true, 2, -1);
  struct val_summary s;
  json_t *block;
  (void) state;
  val_summarize(&o, 1000, &s);
  block =
      val_build_status(&(struct val_status_input){&o, &s, NULL, VAL_RUN_TEST, "2026-12-02T10:00:00Z", NULL});
  assert_non_null(block);
  mgo_test_golden_json("test/unit/validate/golden/status_validation.json", block);
  json_decref(block);
}

static void test_lag_run_keeps_last_test_time(void **state)
{
  struct val_outcome o = outcome(true, 2, 3);
  struct val_summary s;
  json_t *old =
      json_pack("{s:s, s:b}", "lastReplicationTest", "2026-12-02T09:00:00Z", "allReplicasHealthy", 1);
  json_t *block;
  (void) state;
  val_summarize(&o, 1000, &s);
  block =
      val_build_status(&(struct val_status_input){&o, &s, NULL, VAL_RUN_LAG, "2026-12-02T10:00:00Z", old});
  assert_string_equal(json_string_value(json_object_get(block, "lastReplicationTest")),
                      "2026-12-02T09:00:00Z");
  assert_string_equal(json_string_value(json_object_get(block, "lastConnectivityTest")),
                      "2026-12-02T10:00:00Z");
  assert_int_equal(json_integer_value(json_object_get(block, "replicationLagMs")), 3);
  json_decref(block);
  json_decref(old);
}

static void test_skip_keeps_results(void **state)
{
  struct val_skip skip = {"FailoverInProgress", "a failover or switchover is in progress"};
  json_t *old = json_pack("{s:b, s:i}", "allReplicasHealthy", 1, "replicationLagMs", 4);
  json_t *block;
  (void) state;
  block = val_build_status(
      &(struct val_status_input){NULL, NULL, &skip, VAL_RUN_NONE, "2026-12-02T10:00:00Z", old});
  assert_true(json_is_true(json_object_get(block, "allReplicasHealthy")));
  assert_int_equal(json_integer_value(json_object_get(block, "replicationLagMs")), 4);
  assert_string_equal(json_string_value(json_object_get(json_object_get(block, "skipped"), "reason")),
                      "FailoverInProgress");
  assert_true(val_results_changed(old, block, true, true));
  json_decref(block);
  json_decref(old);
}

/* A lag measurement writes status only when a result a reader acts on changed. */
static void test_write_rule(void **state)
{
  struct val_outcome a = outcome(true, 2, 3), b = outcome(true, 7, 9), c = outcome(true, 2, -1);
  struct val_summary sa, sb, sc;
  json_t *ja, *jb, *jc;
  (void) state;
  val_summarize(&a, 1000, &sa);
  val_summarize(&b, 1000, &sb);
  val_summarize(&c, 1000, &sc);
  ja = val_build_status(&(struct val_status_input){&a, &sa, NULL, VAL_RUN_LAG, "2026-12-02T10:00:00Z", NULL});
  jb = val_build_status(&(struct val_status_input){&b, &sb, NULL, VAL_RUN_LAG, "2026-12-02T10:01:00Z", ja});
  jc = val_build_status(&(struct val_status_input){&c, &sc, NULL, VAL_RUN_LAG, "2026-12-02T10:02:00Z", jb});
  assert_false(val_results_changed(ja, jb, true, true)); /* other lags and times only */
  assert_true(val_results_changed(jb, jb, true, false)); /* lag crossed the threshold */
  assert_true(val_results_changed(jb, jc, true, false)); /* a replica stopped seeing it */
  assert_true(val_results_changed(NULL, ja, true, true));
  json_decref(ja);
  json_decref(jb);
  json_decref(jc);
}

/* ---- Events ------------------------------------------------------------------------------------------ */

static void test_events_on_transitions_only(void **state)
{
  struct val_summary ok = {.healthy = true, .lag_ok = true}, slow = {.healthy = true, .lag_ok = false},
                     bad = {.healthy = false, .lag_ok = false};
  (void) state;
  assert_int_equal(val_events(true, true, &ok), 0);
  assert_int_equal(val_events(false, false, &ok), VAL_EVENT_PASSED);
  assert_int_equal(val_events(true, true, &bad), VAL_EVENT_FAILED);
  assert_int_equal(val_events(false, false, &bad), 0); /* a lasting failure: no repeat */
  assert_int_equal(val_events(true, true, &slow), VAL_EVENT_HIGH_LAG);
  assert_int_equal(val_events(true, false, &slow), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_skip_reasons),
      cmocka_unit_test(test_schedule),
      cmocka_unit_test(test_verdict),
      cmocka_unit_test(test_lag_message_names_threshold),
      cmocka_unit_test(test_status_golden),
      cmocka_unit_test(test_lag_run_keeps_last_test_time),
      cmocka_unit_test(test_skip_keeps_results),
      cmocka_unit_test(test_write_rule),
      cmocka_unit_test(test_events_on_transitions_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
