/* The reconcile step table: continue / requeue / stop / gone, finally steps, delays, errors, and the real
 * table's shape. */
#include "mgo_buf.h"
#include "mgo_err.h"
#include "reconcile.h"

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

static struct op_result s_continue(struct op_ctx *ctx)
{
  (void) ctx;
  ran("c");
  return op_ok();
}

static struct op_result s_continue_after_5s(struct op_ctx *ctx)
{
  (void) ctx;
  ran("c5");
  return op_ok_after(5000);
}

static struct op_result s_requeue_1s(struct op_ctx *ctx)
{
  (void) ctx;
  ran("r1");
  return op_requeue_after(1000);
}

static struct op_result s_requeue_error(struct op_ctx *ctx)
{
  ran("re");
  return op_failed(ctx, MGO_ESERVER, "the server said %d", 500);
}

static struct op_result s_continue_error(struct op_ctx *ctx)
{
  ran("ce");
  op_ctx_note(ctx, "first error");
  return op_error_continue(MGO_ENOTFOUND);
}

static struct op_result s_stop(struct op_ctx *ctx)
{
  (void) ctx;
  ran("s");
  return op_stop();
}

static struct op_result s_gone(struct op_ctx *ctx)
{
  (void) ctx;
  ran("g");
  return op_gone();
}

static struct op_result s_finally(struct op_ctx *ctx)
{
  (void) ctx;
  ran("f");
  return op_ok();
}

static struct op_result run(const struct op_step *steps, size_t n, struct op_ctx *ctx)
{
  memset(ctx, 0, sizeof(*ctx));
  mgo_buf_reset(&trace);
  return op_run_steps(steps, n, ctx);
}

static void all_continue_runs_every_step(void **state)
{
  const struct op_step steps[] = {
      {"a", s_continue, false}, {"b", s_continue_after_5s, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  struct op_result r;
  (void) state;
  r = run(steps, 3, &ctx);
  assert_int_equal(r.next, OP_CONTINUE);
  assert_int_equal(r.error, MGO_OK);
  assert_string_equal(mgo_buf_str(&trace), "c,c5,f");
  assert_int_equal(r.after_ms, 5000); /* a continue may ask for an earlier next pass */
  assert_null(ctx.stopped_at);
}

static void requeue_skips_the_rest_but_finally(void **state)
{
  const struct op_step steps[] = {
      {"a", s_continue, false}, {"b", s_requeue_1s, false}, {"c", s_continue, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  struct op_result r;
  (void) state;
  r = run(steps, 4, &ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_int_equal(r.error, MGO_OK);
  assert_string_equal(mgo_buf_str(&trace), "c,r1,f");
  assert_int_equal(r.after_ms, 1000);
  assert_string_equal(ctx.stopped_at, "b");
}

static void stop_ends_the_pass_without_finally(void **state)
{
  const struct op_step steps[] = {{"a", s_stop, false}, {"b", s_continue, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  struct op_result r;
  (void) state;
  r = run(steps, 3, &ctx);
  assert_int_equal(r.next, OP_STOP);
  assert_string_equal(mgo_buf_str(&trace), "s");
  assert_int_equal(r.after_ms, OP_AFTER_NONE);
  assert_string_equal(ctx.stopped_at, "a");
}

static void error_backoff_wins_over_delays(void **state)
{
  const struct op_step steps[] = {{"a", s_continue_after_5s, false},
                                  {"b", s_requeue_error, false},
                                  {"y", s_finally, true},
                                  {"z", s_finally, true}};
  struct op_ctx ctx;
  struct op_result r;
  (void) state;
  r = run(steps, 4, &ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_string_equal(mgo_buf_str(&trace), "c5,re,f,f");
  assert_int_equal(r.error, MGO_ESERVER); /* the runtime retries with backoff */
  assert_string_equal(ctx.error, "the server said 500");
  assert_int_equal(r.after_ms, 5000);
}

static void the_first_error_is_kept_and_a_continue_error_goes_on(void **state)
{
  const struct op_step steps[] = {
      {"a", s_continue_error, false}, {"b", s_requeue_error, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  struct op_result r;
  (void) state;
  r = run(steps, 3, &ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_string_equal(mgo_buf_str(&trace), "ce,re,f");
  assert_int_equal(r.error, MGO_ENOTFOUND);
  assert_string_equal(ctx.error, "first error");
  assert_string_equal(ctx.stopped_at, "b");
}

static void gone_ends_the_pass_like_stop(void **state)
{
  const struct op_step steps[] = {{"a", s_gone, false}, {"b", s_continue, false}, {"z", s_finally, true}};
  struct op_ctx ctx;
  struct op_result r;
  (void) state;
  r = run(steps, 3, &ctx);
  assert_int_equal(r.next, OP_GONE);
  assert_int_equal(r.error, MGO_OK);
  assert_string_equal(mgo_buf_str(&trace), "g");
  assert_string_equal(ctx.stopped_at, "a");
}

static void stop_in_a_finally_step_after_requeue(void **state)
{
  const struct op_step steps[] = {{"a", s_requeue_1s, false}, {"b", s_stop, true}, {"c", s_finally, true}};
  struct op_ctx ctx;
  (void) state;
  assert_int_equal(run(steps, 3, &ctx).next, OP_STOP);
  assert_string_equal(mgo_buf_str(&trace), "r1,s");
  assert_string_equal(ctx.stopped_at, "b");
}

static void the_operator_table_is_ordered(void **state)
{
  static const char *const names[] = {"load", "pause",  "objects", "observe",  "decide", "statefulset",
                                      "act",  "backup", "drill",   "validate", "status"};
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
      cmocka_unit_test(the_first_error_is_kept_and_a_continue_error_goes_on),
      cmocka_unit_test(gone_ends_the_pass_like_stop),
      cmocka_unit_test(the_operator_table_is_ordered),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  mgo_buf_free(&trace);
  return failed;
}
