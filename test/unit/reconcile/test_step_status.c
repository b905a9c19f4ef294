/* Light touch: status diffing (no write when equal), invalid-spec status, desired-object hashing, metric
 * names. */
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "fake_ports.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *STATUS =
    "{\"phase\":\"Running\",\"currentMain\":\"mg-0\",\"maxLag\":0,\"observedGeneration\":2,"
    "\"instanceStatuses\":[{\"pod\":\"mg-0\",\"role\":\"main\",\"lastSeen\":\"2026-01-01T00:00:00Z\"},"
    "{\"pod\":\"mg-1\",\"role\":\"replica\",\"behind\":0,\"lastSeen\":\"2026-01-01T00:00:00Z\"}],"
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\",\"message\":\"ok\","
    "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\",\"observedGeneration\":2}]}";

static void equal_status_is_not_written(void **state)
{
  json_t *old = fake_json(STATUS);
  json_t *same = fake_json(STATUS);
  (void) state;
  assert_null(op_status_patch(old, same));
  json_decref(old);
  json_decref(same);
}

static void last_seen_alone_is_not_written(void **state)
{
  json_t *old = fake_json(STATUS);
  json_t *seen = fake_json(STATUS);
  json_t *entry = json_array_get(json_object_get(seen, "instanceStatuses"), 1);
  (void) state;
  json_object_set_new(entry, "lastSeen", json_string("2026-01-01T00:05:00Z"));
  assert_null(op_status_patch(old, seen));
  json_decref(old);
  json_decref(seen);
}

static void a_change_is_written_and_removed_keys_become_null(void **state)
{
  json_t *old = fake_json(STATUS);
  json_t *changed = fake_json(STATUS);
  json_t *patch, *st;
  (void) state;
  json_object_set_new(changed, "phase", json_string("Degraded"));
  json_object_del(changed, "currentMain");
  patch = op_status_patch(old, changed);
  assert_non_null(patch);
  st = json_object_get(patch, "status");
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Degraded");
  assert_true(json_is_null(json_object_get(st, "currentMain"))); /* merge patch removes it */
  assert_non_null(json_object_get(st, "conditions"));
  json_decref(patch);
  json_decref(old);
  json_decref(changed);
}

/* status.validation.skipped goes when a run is no longer skipped: nested keys need their null too. */
static void removed_nested_keys_become_null(void **state)
{
  json_t *old =
      fake_json("{\"validation\":{\"skipped\":{\"reason\":\"MainUnavailable\"},\"message\":\"a\"}}");
  json_t *now = fake_json("{\"validation\":{\"message\":\"b\"}}");
  json_t *patch;
  (void) state;
  patch = op_status_patch(old, now);
  assert_non_null(patch);
  assert_true(json_is_null(
      json_object_get(json_object_get(json_object_get(patch, "status"), "validation"), "skipped")));
  json_decref(patch);
  json_decref(old);
  json_decref(now);
}

static void first_status_is_written(void **state)
{
  json_t *fresh = fake_json(STATUS);
  json_t *patch = op_status_patch(NULL, fresh);
  (void) state;
  assert_non_null(patch);
  assert_true(json_equal(json_object_get(patch, "status"), fresh));
  json_decref(patch);
  json_decref(fresh);
}

static const json_t *ready_of(const json_t *status)
{
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c)
  {
    if (strcmp(json_string_value(json_object_get(c, "type")), "Ready") == 0)
      return c;
  }
  return NULL;
}

static void invalid_spec_status_keeps_transition_time(void **state)
{
  json_t *old = fake_json(STATUS);
  json_t *first = op_invalid_status(old, 3, "invalid spec: x", "2026-02-02T00:00:00Z");
  json_t *second = op_invalid_status(first, 3, "invalid spec: x", "2026-03-03T00:00:00Z");
  (void) state;
  assert_string_equal(json_string_value(json_object_get(first, "phase")), "Failed");
  assert_string_equal(json_string_value(json_object_get(first, "message")), "invalid spec: x");
  assert_int_equal(json_integer_value(json_object_get(first, "observedGeneration")), 3);
  assert_string_equal(json_string_value(json_object_get(ready_of(first), "status")), "False");
  assert_string_equal(json_string_value(json_object_get(ready_of(first), "reason")), "InvalidSpec");
  /* True -> False is a transition; False -> False keeps the time */
  assert_string_equal(json_string_value(json_object_get(ready_of(first), "lastTransitionTime")),
                      "2026-02-02T00:00:00Z");
  assert_string_equal(json_string_value(json_object_get(ready_of(second), "lastTransitionTime")),
                      "2026-02-02T00:00:00Z");
  assert_string_equal(json_string_value(json_object_get(first, "currentMain")), "mg-0"); /* history kept */
  assert_null(op_status_patch(first, second)); /* a stable invalid spec writes once */
  json_decref(old);
  json_decref(first);
  json_decref(second);
}

static void hash_ignores_key_order_and_its_own_annotation(void **state)
{
  json_t *a = fake_json(
      "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"replicas\":3}}");
  json_t *b = fake_json(
      "{\"spec\":{\"replicas\":3},\"metadata\":{\"labels\":{\"b\":\"2\",\"a\":\"1\"},\"name\":\"x\"}}");
  char ha[17], hb[17], hc[17];
  (void) state;
  assert_int_equal(op_object_hash(a, ha), MGO_OK);
  assert_int_equal(op_object_hash(b, hb), MGO_OK);
  assert_string_equal(ha, hb);
  assert_int_equal(strlen(ha), 16);
  assert_int_equal(op_stamp_hash(a, hc), MGO_OK); /* stamping does not change the hash */
  assert_string_equal(hc, ha);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(json_object_get(a, "metadata"), "annotations"),
                                        OP_HASH_ANNOTATION)),
      ha);
  assert_int_equal(op_object_hash(a, hc), MGO_OK);
  assert_string_equal(hc, ha);
  assert_true(op_hash_matches(a, ha));
  assert_false(op_hash_matches(b, ha)); /* no annotation: apply */
  assert_false(op_hash_matches(NULL, ha));
  json_object_set_new(json_object_get(b, "spec"), "replicas", json_integer(2));
  assert_int_equal(op_object_hash(b, hb), MGO_OK);
  assert_string_not_equal(hb, ha); /* a real change: apply */
  json_decref(a);
  json_decref(b);
}

static void metric_names_are_registered_and_rendered(void **state)
{
  struct mgo_metrics *reg = mgo_metrics_new();
  struct op_metrics m;
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  size_t n = 0;
  (void) state;
  assert_int_equal(op_metrics_init(&m, reg), MGO_OK);
  assert_int_equal(mgo_metric_add(m.reconcile_total, "cluster=\"ns/a\",result=\"success\"", 1), MGO_OK);
  assert_int_equal(mgo_metric_observe(m.reconcile_duration, "", 0.02), MGO_OK);
  assert_int_equal(mgo_metrics_render(reg, &out), MGO_OK);
  for (const char *const *name = op_metric_names; *name != NULL; name++, n++) {
    char help[128];
    /* the operator's own families, and the seed's memgraph_* names (docs/metrics.md) */
    assert_true(strncmp(*name, "mgo_", 4) == 0 || strncmp(*name, "memgraph_", 9) == 0);
    snprintf(help, sizeof(help), "# TYPE %s ", *name);
    assert_non_null(strstr(mgo_buf_str(&out), help));
  }
  assert_int_equal(n, 22);
  assert_non_null(strstr(mgo_buf_str(&out), "mgo_reconcile_total{cluster=\"ns/a\",result=\"success\"} 1"));
  assert_non_null(strstr(mgo_buf_str(&out), "mgo_reconcile_duration_seconds_bucket{le=\"+Inf\"} 1"));
  assert_non_null(strstr(mgo_buf_str(&out), "# TYPE mgo_reconcile_total counter"));
  assert_non_null(strstr(mgo_buf_str(&out), "# TYPE mgo_replica_lag_behind gauge"));
  assert_non_null(strstr(mgo_buf_str(&out), "# TYPE mgo_failover_duration_seconds histogram"));
  assert_non_null(strstr(mgo_buf_str(&out), "# TYPE mgo_failover_estimated_lost_transactions_total counter"));
  mgo_buf_free(&out);
  mgo_metrics_free(reg);
}

static void snapshot_keeps_when_a_silent_pod_was_last_seen(void **state)
{
  json_t *prev = fake_json("{\"instances\":[{\"pod\":\"mg-0\",\"lastSeen\":\"T1\"},"
                           "{\"pod\":\"mg-1\",\"lastSeen\":\"T1\"}]}");
  json_t *next = fake_json("{\"instances\":[{\"pod\":\"mg-0\",\"lastSeen\":\"T2\"},"
                           "{\"pod\":\"mg-1\",\"lastSeen\":null},{\"pod\":\"mg-2\",\"lastSeen\":null}]}");
  json_t *inst = json_object_get(next, "instances");
  (void) state;
  op_snapshot_carry_last_seen(prev, next);
  assert_string_equal(json_string_value(json_object_get(json_array_get(inst, 0), "lastSeen")), "T2");
  assert_string_equal(json_string_value(json_object_get(json_array_get(inst, 1), "lastSeen")), "T1");
  assert_true(json_is_null(json_object_get(json_array_get(inst, 2), "lastSeen"))); /* never seen */
  op_snapshot_carry_last_seen(NULL, next);
  json_decref(prev);
  json_decref(next);
}

static void the_newer_of_cache_and_own_write_wins(void **state)
{
  json_t *cached = fake_json("{\"metadata\":{\"uid\":\"u\",\"resourceVersion\":\"100\"}}");
  json_t *written = fake_json("{\"metadata\":{\"uid\":\"u\",\"resourceVersion\":\"101\"}}");
  json_t *other = fake_json("{\"metadata\":{\"uid\":\"v\",\"resourceVersion\":\"999\"}}");
  json_t *r;
  (void) state;
  r = op_fresher(cached, written);
  assert_ptr_equal(r, written); /* the watch has not delivered our write yet */
  json_decref(r);
  r = op_fresher(written, cached);
  assert_ptr_equal(r, written); /* the cache caught up (or moved past it) */
  json_decref(r);
  r = op_fresher(cached, other);
  assert_ptr_equal(r, cached); /* another incarnation of the name: never */
  json_decref(r);
  r = op_fresher(cached, NULL);
  assert_ptr_equal(r, cached);
  json_decref(r);
  json_decref(cached);
  json_decref(written);
  json_decref(other);
}

/* lastFailover.writesUnavailableSince as a restarted operator reads it back onto its monotonic clock. */
static void rfc3339_times_map_onto_the_monotonic_clock(void **state)
{
  struct mgo_fake_clock fc;
  char now[40], with_ms[48];
  int64_t mono = 0;
  (void) state;
  fake_clock_init(&fc); /* mono 1000000, wall 2026-01-01T00:00:00.000Z */
  mgo_fake_clock_advance_ms(&fc, 5250);
  (void) mgo_clock_format_now(&fc.clock, 0, now, sizeof(now));
  assert_string_equal(now, "2026-01-01T00:00:05Z");
  op_format_mono_ms(&fc.clock, 1000000 + 5250 - 1500, with_ms, sizeof(with_ms));
  assert_string_equal(with_ms, "2026-01-01T00:00:03.750Z"); /* 1.5 s before now */
  assert_int_equal(op_mono_from_rfc3339(&fc.clock, now, &mono), MGO_OK);
  assert_int_equal(mono, 1000000 + 5000);
  assert_int_equal(op_mono_from_rfc3339(&fc.clock, with_ms, &mono), MGO_OK);
  assert_int_equal(mono, 1000000 + 3750);
  assert_int_equal(op_mono_from_rfc3339(&fc.clock, "2026-01-01T00:00:03.75Z", &mono), MGO_OK);
  assert_int_equal(mono, 1000000 + 3750);
  assert_int_equal(op_mono_from_rfc3339(&fc.clock, "2026-11-22T04:00:00+01:00", &mono), MGO_EINVAL);
  assert_int_equal(op_mono_from_rfc3339(&fc.clock, "yesterday", &mono), MGO_EINVAL);
  assert_int_equal(op_mono_from_rfc3339(&fc.clock, NULL, &mono), MGO_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(equal_status_is_not_written),
      cmocka_unit_test(last_seen_alone_is_not_written),
      cmocka_unit_test(a_change_is_written_and_removed_keys_become_null),
      cmocka_unit_test(removed_nested_keys_become_null),
      cmocka_unit_test(first_status_is_written),
      cmocka_unit_test(invalid_spec_status_keeps_transition_time),
      cmocka_unit_test(hash_ignores_key_order_and_its_own_annotation),
      cmocka_unit_test(metric_names_are_registered_and_rendered),
      cmocka_unit_test(snapshot_keeps_when_a_silent_pod_was_last_seen),
      cmocka_unit_test(the_newer_of_cache_and_own_write_wins),
      cmocka_unit_test(rfc3339_times_map_onto_the_monotonic_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
