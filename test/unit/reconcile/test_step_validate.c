/* The validate step (step_validate.c) against the fake ports of fake_ports.h and, in this file, a fake
 * Memgraph holding one canary node per instance: mg-0 the MAIN, mg-1 and mg-2 replicas that see the MAIN's
 * sequence number after a given number of reads (each read moves the fake clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_ports.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

/* ---- a fake Memgraph with a canary node ---------------------------------------------------------------- */

struct mgo_mg_conn {
  const char *pod;
  int reads;           /* canary reads so far */
  int reads_to_see;    /* replicas: the read that first sees the MAIN's seq (1 = the first) */
  int64_t ms_per_read; /* how far one read moves the clock */
};

static struct mgo_mg_conn mconns[3] = {{"mg-0", 0, 0, 0}, {"mg-1", 0, 1, 3}, {"mg-2", 0, 2, 3}};
static struct mgo_fake_clock *clk;
static struct mgo_mg_canary main_node; /* the node on the MAIN */
static bool write_fails;
static int writes, deletes, main_reads;

static const char *fm_error(const struct mgo_mg_conn *conn)
{
  (void) conn;
  return "STRICT_SYNC replica did not confirm";
}

static int fm_canary_read(struct mgo_mg_conn *conn, struct mgo_mg_canary *out)
{
  if (strcmp(conn->pod, "mg-0") == 0) {
    main_reads++;
    *out = main_node;
    return MGO_OK;
  }
  conn->reads++;
  mgo_fake_clock_advance_ms(clk, conn->ms_per_read);
  *out = (struct mgo_mg_canary){1, true,
                                conn->reads >= conn->reads_to_see ? main_node.seq : main_node.seq - 1, 0};
  return MGO_OK;
}

static int fm_canary_write(struct mgo_mg_conn *conn, int64_t seq, int64_t ts_ms, bool recreate)
{
  assert_string_equal(conn->pod, "mg-0");
  if (write_fails)
    return MGO_EFAILURE;
  deletes += recreate;
  writes++;
  main_node = (struct mgo_mg_canary){1, true, seq, ts_ms};
  return MGO_OK;
}

static const struct mgo_mg_ops fake_mg = {.connect = fake_mg_connect_refused,
                                          .close = fake_mg_close,
                                          .usable = fake_mg_usable,
                                          .error = fm_error,
                                          .canary_read = fm_canary_read,
                                          .canary_write = fm_canary_write};

/* ---- the cluster, observed ----------------------------------------------------------------------------- */

static void observe(struct op_ctx *ctx)
{
  struct mgo_mg_conn *const conns[] = {&mconns[0], &mconns[1], &mconns[2]};
  fake_observe(ctx, 3, conns);
  ctx->plan->n = 1;
  ctx->plan->a[0] = (struct rec_action){.type = REC_ACT_CONDITION, .cond_status = REC_COND_TRUE};
  (void) mgo_strlcpy(ctx->plan->a[0].cond_type, "MainAvailable", sizeof(ctx->plan->a[0].cond_type));
}

struct vt {
  struct fake_ports f;
  FILE *log;
};

static void vt_init(struct vt *t, const char *spec, const char *status)
{
  memset(t, 0, sizeof(*t));
  fake_ports_init(&t->f);
  clk = &t->f.clock;
  main_node = (struct mgo_mg_canary){0, false, 0, 0};
  write_fails = false;
  writes = deletes = main_reads = 0;
  for (int i = 0; i < 3; i++)
    mconns[i].reads = 0;
  mconns[1].reads_to_see = 1;
  mconns[2].reads_to_see = 2;
  mconns[1].ms_per_read = mconns[2].ms_per_read = 3;
  t->log = tmpfile();
  assert_non_null(t->log);
  mgo_log_setup(MGO_LOG_DEBUG, MGO_LOG_LOGFMT, t->log);
  fake_put(&t->f, &op_res_clusters, fake_cluster_json(spec, status));
  assert_int_equal(op_step_load(&t->f.ctx).next, OP_CONTINUE);
  observe(&t->f.ctx);
  t->f.ctx.mg = &fake_mg;
}

static void vt_free(struct vt *t)
{
  mgo_log_setup(MGO_LOG_INFO, MGO_LOG_LOGFMT, NULL);
  fclose(t->log);
  t->f.ctx.mg = NULL; /* the fake's connections are static */
  t->f.cs->nconns = 0;
  fake_ports_free(&t->f);
}

static const json_t *replica(const json_t *block, size_t i)
{
  return json_array_get(json_object_get(block, "replicas"), i);
}

#define SPEC "{\"instances\":3}"

/* ---- tests ------------------------------------------------------------------------------------------------
 */

static void test_first_pass_runs_a_test(void **state)
{
  struct vt t;
  const json_t *block;
  (void) state;
  vt_init(&t, SPEC, NULL);
  assert_int_equal(op_step_validate(&t.f.ctx).next, OP_CONTINUE);
  assert_int_equal(writes, 1);
  assert_int_equal(deletes, 0);
  block = t.f.ctx.validation;
  assert_non_null(block);
  assert_true(json_is_true(json_object_get(block, "allReplicasHealthy")));
  assert_string_equal(json_string_value(json_object_get(block, "lastReplicationTest")),
                      "2026-01-01T00:00:00Z");
  /* mg-1 saw it on its first read (3 ms), mg-2 on its second (a round and the first 1 ms pause later:
   * 3 + 3 + 1 + 3 ms) */
  assert_string_equal(json_string_value(json_object_get(replica(block, 0), "name")), "mg-1");
  assert_int_equal(json_integer_value(json_object_get(replica(block, 0), "lagMs")), 3);
  assert_int_equal(json_integer_value(json_object_get(replica(block, 1), "lagMs")), 10);
  assert_int_equal(json_integer_value(json_object_get(block, "replicationLagMs")), 10);
  assert_string_equal(json_string_value(json_object_get(t.f.ctx.validation_lag, "status")), "True");
  assert_true(fake_metrics_contain(&t.f, "memgraph_replication_test_total{cluster=\"db/mg\"} 1"));
  assert_true(fake_metrics_contain(
      &t.f, "memgraph_replication_lag_seconds_count{cluster=\"db/mg\",replica=\"mg-2\"} 1"));
  assert_false(fake_has_event(&t.f, "ReplicationTestPassed")); /* only when recovering */
  assert_false(fake_has_event(&t.f, "CanaryRecreated"));       /* a new canary is no edit */
  vt_free(&t);
}

static void test_not_due_sends_nothing(void **state)
{
  struct vt t;
  struct op_result r;
  (void) state;
  vt_init(&t, SPEC,
          "{\"validation\":{\"lastReplicationTest\":\"2025-12-31T23:59:50Z\",\"allReplicasHealthy\":true}}");
  r = op_step_validate(&t.f.ctx);
  assert_int_equal(writes + main_reads, 0);
  assert_null(t.f.ctx.validation);
  assert_int_equal(r.after_ms, 50000); /* the lag measurement 60 s after the test */
  vt_free(&t);
}

static void test_lag_run_writes_status_only_on_change(void **state)
{
  struct vt t;
  (void) state;
  vt_init(&t, SPEC,
          "{\"validation\":{\"lastReplicationTest\":\"2025-12-31T23:58:00Z\",\"allReplicasHealthy\":true,"
          "\"replicas\":[{\"name\":\"mg-1\",\"healthy\":true},{\"name\":\"mg-2\",\"healthy\":true}]}}");
  (void) op_step_validate(&t.f.ctx);
  assert_int_equal(writes, 1);     /* the lag was measured */
  assert_null(t.f.ctx.validation); /* but nothing a reader acts on changed */
  assert_true(fake_metrics_contain(
      &t.f, "memgraph_replication_lag_seconds_count{cluster=\"db/mg\",replica=\"mg-1\"} 1"));
  vt_free(&t);
}

static void test_edited_canary_is_recreated(void **state)
{
  struct vt t;
  (void) state;
  vt_init(&t, SPEC, NULL);
  main_node = (struct mgo_mg_canary){1, false, 5, 0}; /* a user added a property */
  (void) op_step_validate(&t.f.ctx);
  assert_int_equal(deletes, 1);
  assert_int_equal(main_node.seq, 1);
  assert_true(fake_has_event(&t.f, "CanaryRecreated"));
  vt_free(&t);
}

static void test_deleted_canary_is_recreated(void **state)
{
  struct vt t;
  (void) state;
  vt_init(&t, SPEC,
          "{\"validation\":{\"lastReplicationTest\":\"2025-12-31T23:50:00Z\",\"allReplicasHealthy\":true}}");
  (void) op_step_validate(&t.f.ctx); /* node absent, but a test ran before */
  assert_true(fake_has_event(&t.f, "CanaryRecreated"));
  vt_free(&t);
}

static void test_replica_that_never_sees_it_fails_the_test(void **state)
{
  struct vt t;
  const json_t *block;
  (void) state;
  vt_init(&t, SPEC, NULL);
  mconns[2].reads_to_see = 1000000;
  mconns[2].ms_per_read = 200;
  (void) op_step_validate(&t.f.ctx);
  block = t.f.ctx.validation;
  assert_false(json_is_true(json_object_get(block, "allReplicasHealthy")));
  assert_false(json_is_true(json_object_get(replica(block, 1), "healthy")));
  assert_string_equal(json_string_value(json_object_get(replica(block, 1), "message")),
                      "did not see the canary within 2000 ms");
  assert_true(mconns[2].reads <= 12); /* bounded by the deadline */
  assert_true(fake_has_event(&t.f, "ReplicationTestFailed"));
  assert_string_equal(json_string_value(json_object_get(t.f.ctx.validation_lag, "reason")),
                      "ReplicationTestFailed");
  assert_true(fake_metrics_contain(&t.f, "memgraph_replication_test_failures_total{cluster=\"db/mg\"} 1"));
  vt_free(&t);
}

static void test_failed_write_is_a_failed_test(void **state)
{
  struct vt t;
  (void) state;
  vt_init(&t, SPEC, NULL);
  write_fails = true;
  (void) op_step_validate(&t.f.ctx);
  assert_int_equal(mconns[1].reads + mconns[2].reads, 0);
  assert_string_equal(json_string_value(json_object_get(t.f.ctx.validation, "message")),
                      "the canary write on the MAIN failed: STRICT_SYNC replica did not confirm");
  vt_free(&t);
}

static void test_recovery_raises_passed(void **state)
{
  struct vt t;
  (void) state;
  vt_init(&t, SPEC,
          "{\"validation\":{\"lastReplicationTest\":\"2025-12-31T23:50:00Z\",\"allReplicasHealthy\":false}}");
  main_node = (struct mgo_mg_canary){1, true, 7, 0};
  (void) op_step_validate(&t.f.ctx);
  assert_int_equal(main_node.seq, 8);
  assert_true(fake_has_event(&t.f, "ReplicationTestPassed"));
  vt_free(&t);
}

static void test_failover_in_progress_skips(void **state)
{
  struct vt t;
  (void) state;
  vt_init(&t, SPEC, NULL);
  t.f.cs->change.pending = true;
  (void) op_step_validate(&t.f.ctx);
  assert_int_equal(writes + main_reads, 0);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(t.f.ctx.validation, "skipped"), "reason")),
      "FailoverInProgress");
  vt_free(&t);
}

static void test_disabled_sends_nothing(void **state)
{
  struct vt t;
  (void) state;
  vt_init(&t, "{\"instances\":3,\"validation\":{\"canary\":{\"enabled\":false}}}", NULL);
  (void) op_step_validate(&t.f.ctx);
  assert_int_equal(writes + main_reads, 0);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(t.f.ctx.validation, "skipped"), "reason")),
      "Disabled");
  vt_free(&t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_pass_runs_a_test),
      cmocka_unit_test(test_not_due_sends_nothing),
      cmocka_unit_test(test_lag_run_writes_status_only_on_change),
      cmocka_unit_test(test_edited_canary_is_recreated),
      cmocka_unit_test(test_deleted_canary_is_recreated),
      cmocka_unit_test(test_replica_that_never_sees_it_fails_the_test),
      cmocka_unit_test(test_failed_write_is_a_failed_test),
      cmocka_unit_test(test_recovery_raises_passed),
      cmocka_unit_test(test_failover_in_progress_skips),
      cmocka_unit_test(test_disabled_sends_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
