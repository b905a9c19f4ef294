/* Filling the topology decision's input (struct rec_instance) from parsed SHOW REPLICAS rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mg_rec.h"
#include "mg_test_util.h"
#include "mgo_err.h"

static void parse(const char *rows, struct mg_replicas *out)
{
  struct bolt_value *f = mt_value("['name','socket_address','sync_mode','system_info','data_info']");
  struct bolt_value *r = mt_value(rows);
  assert_non_null(r);
  assert_int_equal(mg_parse_replicas(f, r, out, NULL), MGO_OK);
  bolt_value_free(f);
  bolt_value_free(r);
}

static void test_fill_registrations(void **state)
{
  (void) state;
  struct mg_replicas *reps = calloc(1, sizeof(*reps));
  struct rec_instance *inst = calloc(1, sizeof(*inst));
  assert_non_null(reps);
  assert_non_null(inst);
  parse(
      "[['mg_1','mg-1.mg-hl.db.svc:10000','sync',null,{'memgraph':{'behind':-3,'status':'invalid','ts':6}}],"
      "['mg_2','mg-2.mg-hl.db.svc:10000','strict_sync',null,{'memgraph':{'behind':0,'status':'ready','ts':9}}"
      "],"
      "['mg_3','mg-3:10000','async',null,{}],"
      "['mg_4','mg-4:10000','future_mode',null,{'other':{'behind':0,'status':'ready','ts':1}}],"
      "['mg_5','mg-5:10000','async',null,{'memgraph':{'status':'diverged'}}]]",
      reps);
  inst->n_registrations = 7;
  assert_int_equal(mg_rec_fill_registrations(reps, inst), MGO_OK);
  assert_true(inst->replicas_known);
  assert_int_equal(inst->n_registrations, 5);
  const struct rec_registration *g = inst->registrations;
  assert_string_equal(g[0].name, "mg_1");
  assert_string_equal(g[0].address, "mg-1.mg-hl.db.svc:10000");
  assert_int_equal(g[0].mode, MGO_MODE_SYNC);
  assert_true(g[0].has_data_info);
  assert_int_equal(g[0].state, REC_RS_INVALID);
  assert_int_equal(g[0].ts, 6);
  assert_int_equal(g[0].behind, -3);
  assert_int_equal(g[1].mode, MGO_MODE_STRICT_SYNC);
  assert_int_equal(g[1].state, REC_RS_READY);
  assert_false(g[2].has_data_info);
  assert_int_equal(g[2].state, REC_RS_UNKNOWN);
  assert_int_equal(g[3].mode, MGO_MODE_ASYNC);
  assert_false(g[3].has_data_info);
  assert_int_equal(g[4].state, REC_RS_DIVERGED);
  assert_int_equal(g[4].ts, 0);
  assert_int_equal(g[4].behind, 0);
  free(reps);
  free(inst);
}

static void test_fill_limits_and_states(void **state)
{
  (void) state;
  struct mg_replicas *reps = calloc(1, sizeof(*reps));
  struct rec_instance *inst = calloc(1, sizeof(*inst));
  assert_non_null(reps);
  assert_non_null(inst);
  reps->n = MGO_MAX_INSTANCES + 1;
  for (size_t i = 0; i < reps->n; i++)
    snprintf(reps->r[i].name, sizeof(reps->r[i].name), "r%zu", i);
  assert_int_equal(mg_rec_fill_registrations(reps, inst), MGO_ETOOBIG);
  assert_false(inst->replicas_known);
  reps->r[0].truncated = true;
  assert_int_equal(mg_rec_fill_registrations(reps, inst), MGO_OK);
  assert_true(inst->replicas_known);
  assert_int_equal(inst->n_registrations, MGO_MAX_INSTANCES);
  assert_string_equal(inst->registrations[0].name, "r1");
  assert_int_equal(mg_rec_state(MG_RS_READY), REC_RS_READY);
  assert_int_equal(mg_rec_state(MG_RS_REPLICATING), REC_RS_REPLICATING);
  assert_int_equal(mg_rec_state(MG_RS_RECOVERY), REC_RS_RECOVERY);
  assert_int_equal(mg_rec_state(MG_RS_INVALID), REC_RS_INVALID);
  assert_int_equal(mg_rec_state(MG_RS_DIVERGED), REC_RS_DIVERGED);
  assert_int_equal(mg_rec_state(MG_RS_UNKNOWN), REC_RS_UNKNOWN);
  free(reps);
  free(inst);
}

/* Plan actions refused before anything is sent: no connection is ever opened. */
static void test_execute_refusals(void **state)
{
  (void) state;
  struct mg_conn_opts o;
  struct mg_conn *c = NULL;
  struct mg_error e;
  struct rec_action a;
  mg_conn_opts_default(&o);
  o.host = "127.0.0.1";
  o.port = 1;
  assert_int_equal(mg_conn_new(&c, &o), MGO_OK);
  static const enum rec_action_type not_bolt[] = {REC_ACT_STOP,  REC_ACT_EVENT,     REC_ACT_RECORD_MAIN,
                                                  REC_ACT_LABEL, REC_ACT_CONDITION, REC_ACT_REQUEUE,
                                                  REC_ACT_RESEED};
  for (size_t i = 0; i < sizeof(not_bolt) / sizeof(not_bolt[0]); i++) {
    memset(&a, 0, sizeof(a));
    a.type = not_bolt[i];
    assert_int_equal(mg_rec_execute(c, &a, &e), MGO_EINVAL);
    assert_int_equal(e.cls, MG_ERR_INVALID_ARG);
    assert_true(strstr(e.detail, "not a Bolt action") != NULL);
  }
  memset(&a, 0, sizeof(a));
  a.type = REC_ACT_DEMOTE;
  assert_int_equal(mg_rec_execute(c, &a, &e), MGO_EINVAL);
  a.type = REC_ACT_REGISTER;
  snprintf(a.replica, sizeof(a.replica), "x`y");
  snprintf(a.address, sizeof(a.address), "h:1");
  assert_int_equal(mg_rec_execute(c, &a, &e), MGO_EINVAL);
  snprintf(a.replica, sizeof(a.replica), "ok");
  snprintf(a.address, sizeof(a.address), "h:1\" DROP");
  assert_int_equal(mg_rec_execute(c, &a, &e), MGO_EINVAL);
  a.type = REC_ACT_DROP;
  snprintf(a.replica, sizeof(a.replica), "a b");
  assert_int_equal(mg_rec_execute(c, &a, &e), MGO_EINVAL);
  assert_int_equal(mg_conn_connects(c), 0);
  mg_conn_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fill_registrations),
      cmocka_unit_test(test_fill_limits_and_states),
      cmocka_unit_test(test_execute_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
