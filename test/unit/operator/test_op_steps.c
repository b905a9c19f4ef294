/* The reconcile step table: continue / requeue / stop, finally steps, delays, and the real table's shape. */
#include "mgo_buf.h"
#include "op_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static struct mgo_buf trace = MGO_BUF_INIT(256);

static void ran(const char *name)
{
  (void) mgo_buf_printf(&trace, "%s%s", trace.len > 0 ? "," : "", name);
}

static enum op_step_result s_continue(struct op_ctx *ctx)
{
  (void) ctx;
  ran("c");
  return OP_CONTINUE;
}

static enum op_step_result s_continue_after_5s(struct op_ctx *ctx)
{
  ran("c5");
  ctx->after_ms = 5000;
  return OP_CONTINUE;
}

static enum op_step_result s_requeue_1s(struct op_ctx *ctx)
{
  ran("r1");
  ctx->after_ms = 1000;
  return OP_REQUEUE;
}

static enum op_step_result s_requeue_error(struct op_ctx *ctx)
{
  ran("re");
  ctx->after_ms = -1;
  return OP_REQUEUE;
}

static enum op_step_result s_stop(struct op_ctx *ctx)
{
  (void) ctx;
  ran("s");
  return OP_STOP;
}

static enum op_step_result s_finally(struct op_ctx *ctx)
{
  (void) ctx;
  ran("f");
  return OP_CONTINUE;
}

static enum op_step_result run(const struct op_step *steps, size_t n, struct op_ctx *ctx)
{
  memset(ctx, 0, sizeof(*ctx));
  ctx->after_ms = OP_AFTER_NONE;
  mgo_buf_reset(&trace);
  return op_run_steps(steps, n, ctx);
}

static void all_continue_runs_every_step(void **state)
{
  const struct op_step steps[] = {
      {"a", s_continue, false}, {"b", s_continue_after_5s, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  (void) state;
  assert_int_equal(run(steps, 3, &ctx), OP_CONTINUE);
  assert_string_equal(mgo_buf_str(&trace), "c,c5,f");
  assert_int_equal(ctx.after_ms, 5000); /* a continue may ask for an earlier next pass */
  assert_null(ctx.stopped_at);
}

static void requeue_skips_the_rest_but_finally(void **state)
{
  const struct op_step steps[] = {
      {"a", s_continue, false}, {"b", s_requeue_1s, false}, {"c", s_continue, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  (void) state;
  assert_int_equal(run(steps, 4, &ctx), OP_REQUEUE);
  assert_string_equal(mgo_buf_str(&trace), "c,r1,f");
  assert_int_equal(ctx.after_ms, 1000);
  assert_string_equal(ctx.stopped_at, "b");
}

static void stop_ends_the_pass_without_finally(void **state)
{
  const struct op_step steps[] = {{"a", s_stop, false}, {"b", s_continue, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  (void) state;
  assert_int_equal(run(steps, 3, &ctx), OP_STOP);
  assert_string_equal(mgo_buf_str(&trace), "s");
  assert_int_equal(ctx.after_ms, OP_AFTER_NONE);
  assert_string_equal(ctx.stopped_at, "a");
}

static void error_backoff_wins_over_delays(void **state)
{
  const struct op_step steps[] = {{"a", s_continue_after_5s, false},
                                  {"b", s_requeue_error, false},
                                  {"y", s_finally, true},
                                  {"z", s_finally, true}};
  struct op_ctx ctx;
  (void) state;
  assert_int_equal(run(steps, 4, &ctx), OP_REQUEUE);
  assert_string_equal(mgo_buf_str(&trace), "c5,re,f,f");
  assert_true(ctx.after_ms < 0);
}

static void stop_in_a_finally_step_after_requeue(void **state)
{
  const struct op_step steps[] = {{"a", s_requeue_1s, false}, {"b", s_stop, true}, {"c", s_finally, true}};
  struct op_ctx ctx;
  (void) state;
  assert_int_equal(run(steps, 3, &ctx), OP_STOP);
  assert_string_equal(mgo_buf_str(&trace), "r1,s");
  assert_string_equal(ctx.stopped_at, "b");
}

static void the_operator_table_is_ordered(void **state)
{
  static const char *const names[] = {"load", "objects", "observe", "decide", "statefulset", "act", "status"};
  (void) state;
  assert_int_equal(op_reconcile_nsteps, sizeof(names) / sizeof(names[0]));
  for (size_t i = 0; i < op_reconcile_nsteps; i++) {
    assert_string_equal(op_reconcile_steps[i].name, names[i]);
    assert_non_null(op_reconcile_steps[i].fn);
    /* only the status step runs after a requeue: whatever happened is written down */
    assert_int_equal(op_reconcile_steps[i].finally, strcmp(names[i], "status") == 0);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(all_continue_runs_every_step),
      cmocka_unit_test(requeue_skips_the_rest_but_finally),
      cmocka_unit_test(stop_ends_the_pass_without_finally),
      cmocka_unit_test(error_backoff_wins_over_delays),
      cmocka_unit_test(stop_in_a_finally_step_after_requeue),
      cmocka_unit_test(the_operator_table_is_ordered),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  mgo_buf_free(&trace);
  return failed;
}
