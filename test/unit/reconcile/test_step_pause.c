/* The pause step: memgraph.io/reconcile=paused stops the pass before anything reaches Kubernetes objects or
 * Memgraph; status says so once; removing the annotation resumes with an Event. */
#include "mgo_err.h"
#include "fake_ports.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *OLD_STATUS =
    "{\"phase\":\"Running\",\"currentMain\":\"mg-1\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
    "\"reason\":\"Ready\",\"message\":\"ok\",\"lastTransitionTime\":\"2025-12-31T00:00:00Z\"}]}";

static void put_cluster(struct fake_ports *f, const char *reconcile)
{
  json_t *obj = fake_cluster_json("{\"instances\":3}", OLD_STATUS);
  json_t *meta = json_object_get(obj, "metadata");
  json_t *stored = fake_find(f, &op_res_clusters, "db", "mg");
  if (stored != NULL) /* keep what earlier passes wrote */
    json_object_set(obj, "status", json_object_get(stored, "status"));
  if (reconcile != NULL)
    json_object_set_new(meta, "annotations", json_pack("{s:s}", "memgraph.io/reconcile", reconcile));
  fake_put(f, &op_res_clusters, obj);
}

static const json_t *condition(const json_t *status, const char *type)
{
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c)
  {
    if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
      return c;
  }
  return NULL;
}

static struct op_result run_table(struct fake_ports *f)
{
  op_ctx_release(&f->ctx);
  return op_run_steps(op_reconcile_steps, op_reconcile_nsteps, &f->ctx);
}

static void paused_cluster_gets_status_only(void **state)
{
  struct fake_ports f;
  const json_t *st, *paused;
  (void) state;
  fake_ports_init(&f);
  put_cluster(&f, "paused");
  assert_int_equal(run_table(&f).next, OP_STOP);
  assert_string_equal(f.ctx.stopped_at, "pause");
  st = json_object_get(fake_find(&f, &op_res_clusters, "db", "mg"), "status");
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Paused");
  paused = condition(st, "Paused");
  assert_non_null(paused);
  assert_string_equal(json_string_value(json_object_get(paused, "status")), "True");
  assert_string_equal(json_string_value(json_object_get(paused, "lastTransitionTime")),
                      "2026-01-01T00:00:00Z");
  assert_string_equal(json_string_value(json_object_get(st, "currentMain")),
                      "mg-1"); /* nothing else changed */
  assert_non_null(condition(st, "Ready"));
  assert_int_equal(fake_calls(&f, "apply"), 0); /* no object touched */
  assert_int_equal(fake_calls(&f, "merge_patch memgraphclusters/db/mg/status"), 1);
  assert_true(fake_has_event(&f, "ReconcilePaused"));
  assert_true(fake_metrics_contain(&f, "phase=\"Paused\"} 1"));

  /* a second pass while paused writes nothing and says nothing again */
  f.clock.wall_ns += 60LL * 1000000000LL;
  assert_int_equal(run_table(&f).next, OP_STOP);
  assert_int_equal(fake_calls(&f, "merge_patch memgraphclusters/db/mg/status"), 1);
  assert_int_equal(json_array_size(f.events), 1);
  fake_ports_free(&f);
}

static void unpausing_announces_and_goes_on(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  put_cluster(&f, "paused");
  assert_int_equal(run_table(&f).next, OP_STOP);
  put_cluster(&f, NULL);
  op_ctx_release(&f.ctx);
  assert_int_equal(op_step_load(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(op_step_pause(&f.ctx).next, OP_CONTINUE);
  assert_true(fake_has_event(&f, "ReconcileResumed"));
  fake_ports_free(&f);
}

static void an_unknown_value_is_an_invalid_spec(void **state)
{
  struct fake_ports f;
  const json_t *st;
  (void) state;
  fake_ports_init(&f);
  put_cluster(&f, "stop");
  assert_int_equal(run_table(&f).next, OP_STOP);
  assert_string_equal(f.ctx.stopped_at, "load");
  st = json_object_get(fake_find(&f, &op_res_clusters, "db", "mg"), "status");
  assert_string_equal(json_string_value(json_object_get(st, "phase")), "Failed");
  assert_non_null(strstr(json_string_value(json_object_get(st, "message")),
                         "metadata.annotations[memgraph.io/reconcile]: must be \"paused\""));
  fake_ports_free(&f);
}

static void paused_status_keeps_the_transition_time(void **state)
{
  json_t *old = fake_json(OLD_STATUS);
  json_t *first = op_paused_status(old, 3, "2026-01-01T00:00:00Z");
  json_t *second = op_paused_status(first, 3, "2026-01-01T01:00:00Z");
  (void) state;
  assert_string_equal(json_string_value(json_object_get(condition(second, "Paused"), "lastTransitionTime")),
                      "2026-01-01T00:00:00Z");
  assert_true(json_equal(first, second));
  json_decref(old);
  json_decref(first);
  json_decref(second);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(paused_cluster_gets_status_only),
      cmocka_unit_test(unpausing_announces_and_goes_on),
      cmocka_unit_test(an_unknown_value_is_an_invalid_spec),
      cmocka_unit_test(paused_status_keeps_the_transition_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
