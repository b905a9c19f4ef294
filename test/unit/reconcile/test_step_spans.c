/* The step runner's spans (docs/tracing.md): one child span per step that ran, under the pass's span, with
 * cluster, step and what came next; an erroring step's span has status ERROR with the step's note; a skipped
 * step has no span; without a pass span (tracing off) nothing is recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mgo_err.h"
#include "fake_ports.h"
#include "reconcile.h"
#include "trace.h"

static json_t *bodies;

static int keep(void *arg, const char *url, const char *body, size_t len, long timeout_ms, char *err,
                size_t errsz)
{
  (void) arg, (void) url, (void) timeout_ms, (void) err, (void) errsz;
  json_array_append_new(bodies, json_loadb(body, len, 0, NULL));
  return MGO_OK;
}

static struct op_result s_ok(struct op_ctx *ctx)
{
  (void) ctx;
  return op_ok();
}

static struct op_result s_fail(struct op_ctx *ctx)
{
  return op_failed(ctx, MGO_ECONNECT, "mg-0 did not answer");
}

static struct op_result s_never(struct op_ctx *ctx)
{
  (void) ctx;
  fail_msg("a step after a requeue that is not `finally` must not run");
  return op_ok();
}

static const char *attr(const json_t *span, const char *key)
{
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(span, "attributes"), i, a)
  {
    if (strcmp(json_string_value(json_object_get(a, "key")), key) == 0)
      return json_string_value(json_object_get(json_object_get(a, "value"), "stringValue"));
  }
  return NULL;
}

static json_t *span_named(const json_t *spans, const char *name)
{
  size_t i;
  json_t *s;
  json_array_foreach(spans, i, s)
  {
    if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
      return s;
  }
  return NULL;
}

static void steps_are_child_spans_of_the_pass(void **state)
{
  static const struct op_step steps[] = {
      {"load", s_ok, false}, {"observe", s_fail, false}, {"act", s_never, false}, {"status", s_ok, true}};
  struct mgo_trace_config cfg = fake_trace_config();
  struct mgo_tracer_opts opts = {.send = keep};
  struct mgo_tracer *t = NULL;
  struct op_ctx ctx;
  struct mgo_span *root;
  json_t *spans, *load, *observe, *status;
  const char *root_id;
  (void) state;
  bodies = json_array();
  (void) snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:1/v1/traces");
  (void) snprintf(cfg.service_name, sizeof(cfg.service_name), "memgraph-operator");
  assert_int_equal(mgo_tracer_new(&cfg, &opts, &t, NULL, 0), MGO_OK);
  memset(&ctx, 0, sizeof(ctx));
  (void) snprintf(ctx.key, sizeof(ctx.key), "ns/mg");

  /* tracing off: no pass span, the same run records nothing */
  assert_int_equal(op_run_steps(steps, 4, &ctx).error, MGO_ECONNECT);
  assert_null(mgo_span_current());
  ctx.error[0] = '\0';

  root = mgo_span_root(t, "reconcile", MGO_SPAN_INTERNAL);
  assert_int_equal(op_run_steps(steps, 4, &ctx).error, MGO_ECONNECT);
  assert_ptr_equal(mgo_span_current(), root); /* every step span ended */
  mgo_span_end(root);
  assert_int_equal(mgo_tracer_flush(t, 5000), MGO_OK);
  mgo_tracer_free(t, 1000);

  assert_int_equal(json_array_size(bodies), 1);
  spans = fake_exported_spans(bodies);
  assert_int_equal(json_array_size(spans), 4); /* load, observe, status and the pass: act never ran */
  assert_null(span_named(spans, "act"));
  root_id = json_string_value(json_object_get(span_named(spans, "reconcile"), "spanId"));
  load = span_named(spans, "load");
  observe = span_named(spans, "observe");
  status = span_named(spans, "status");
  assert_non_null(load);
  assert_non_null(observe);
  assert_non_null(status);
  assert_string_equal(json_string_value(json_object_get(load, "parentSpanId")), root_id);
  assert_string_equal(json_string_value(json_object_get(status, "parentSpanId")), root_id);
  assert_string_equal(attr(load, "cluster"), "ns/mg");
  assert_string_equal(attr(load, "step"), "load");
  assert_string_equal(attr(load, "next"), "continue");
  assert_string_equal(attr(observe, "next"), "requeue");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(observe, "status"), "code")), 2);
  assert_string_equal(json_string_value(json_object_get(json_object_get(observe, "status"), "message")),
                      "mg-0 did not answer");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(load, "status"), "code")), 0);
  json_decref(bodies);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(steps_are_child_spans_of_the_pass)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
