/* The seed's memgraph_* families (metrics_seed.c) against the fake ports' real registry: what each update
 * writes, the canary families at zero, and that a deleted cluster's series all carry its cluster label. */
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

static double get(struct mgo_metric_family *f, const char *labels)
{
  double v = -1;
  assert_int_equal(mgo_metric_get(f, labels, &v), MGO_OK);
  return v;
}

static void every_seed_name_is_registered(void **state)
{
  struct fake_ports f;
  char type[128];
  (void) state;
  fake_ports_init(&f);
  for (size_t i = 0; op_seed_metric_names[i] != NULL; i++) {
    (void) mgo_snprintf(type, sizeof(type), "# TYPE %s ", op_seed_metric_names[i]);
    assert_true(fake_metrics_contain(&f, type));
  }
  assert_true(fake_metrics_contain(&f, "# TYPE memgraph_replication_lag_seconds histogram"));
  assert_true(fake_metrics_contain(&f, "# TYPE memgraph_failover_duration_seconds histogram"));
  assert_true(fake_metrics_contain(&f, "# TYPE memgraph_multiple_mains gauge"));
  fake_ports_free(&f);
}

static struct rec_instance *add_pod(struct rec_observed *obs, const char *pod, bool ready, bool readable)
{
  struct rec_instance *in = &obs->inst[obs->n++];
  (void) mgo_strlcpy(in->pod, pod, sizeof(in->pod));
  in->pod_exists = true;
  in->pod_ready = ready;
  in->label_readable = readable;
  in->reachable = true;
  return in;
}

static void add_registration(struct rec_instance *main, const char *name, enum rec_replica_state s)
{
  struct rec_registration *r = &main->registrations[main->n_registrations++];
  (void) mgo_strlcpy(r->name, name, sizeof(r->name));
  r->state = s;
  r->has_data_info = true;
}

/* mg-0 MAIN; mg-1 readable; mg-2 readable once the plan's label action runs; mg-3 readable, not Ready. */
static void three_replicas(struct fake_ports *f)
{
  struct rec_instance *main;
  f->ctx.obs = calloc(1, sizeof(*f->ctx.obs));
  f->ctx.plan = calloc(1, sizeof(*f->ctx.plan));
  assert_non_null(f->ctx.obs);
  assert_non_null(f->ctx.plan);
  main = add_pod(f->ctx.obs, "mg-0", true, true);
  main->role = MGO_ROLE_MAIN;
  main->replicas_known = true;
  add_registration(main, "mg_1", REC_RS_READY);
  add_registration(main, "mg_2", REC_RS_INVALID);
  add_registration(main, "mg_3", REC_RS_DIVERGED);
  (void) add_pod(f->ctx.obs, "mg-1", true, true);
  (void) add_pod(f->ctx.obs, "mg-2", true, false);
  (void) add_pod(f->ctx.obs, "mg-3", false, true);
  (void) mgo_strlcpy(f->ctx.plan->main_pod, "mg-0", sizeof(f->ctx.plan->main_pod));
  f->ctx.plan->a[0].type = REC_ACT_LABEL;
  (void) mgo_strlcpy(f->ctx.plan->a[0].pod, "mg-2", sizeof(f->ctx.plan->a[0].pod));
  f->ctx.plan->a[0].role = MGO_ROLE_REPLICA;
  f->ctx.plan->a[0].readable = true;
  f->ctx.plan->n = 1;
  f->ctx.c.spec.instances = 4;
  (void) mgo_strlcpy(f->ctx.c.name, "mg", sizeof(f->ctx.c.name));
  f->ctx.parsed = true;
}

static void cluster_metrics_count_readable_replicas_and_bad_states(void **state)
{
  struct fake_ports f;
  const struct op_seed_metrics *m;
  (void) state;
  fake_ports_init(&f);
  m = &f.metrics.seed;
  three_replicas(&f);
  op_seed_cluster_metrics(&f.ctx);
  assert_true(get(m->read_replicas_total, "cluster=\"db/mg\"") == 3);
  assert_true(get(m->read_replicas_ready, "cluster=\"db/mg\"") == 2); /* mg-1, mg-2; not the MAIN, not mg-3 */
  assert_true(get(m->replication_errors, "cluster=\"db/mg\",kind=\"invalid\"") == 1);
  assert_true(get(m->replication_errors, "cluster=\"db/mg\",kind=\"diverged\"") == 1);
  assert_true(get(m->replication_errors, "cluster=\"db/mg\",kind=\"register_failed\"") == 0);
  assert_true(get(m->cluster_main, "cluster=\"db/mg\",pod=\"mg-0\"") == 1);
  assert_true(get(m->cluster_main, "cluster=\"db/mg\",pod=\"mg-1\"") == 0);
  assert_true(get(m->cluster_main, "cluster=\"db/mg\",pod=\"mg-3\"") == 0);
  f.ctx.obs->inst[0].reachable = false; /* the MAIN stops answering: no pod is MAIN */
  op_seed_cluster_metrics(&f.ctx);
  assert_true(get(m->cluster_main, "cluster=\"db/mg\",pod=\"mg-0\"") == 0);
  f.ctx.obs->inst[0].reachable = true;
  op_seed_cluster_metrics(&f.ctx); /* counted once per pass that sees them */
  assert_true(get(m->replication_errors, "cluster=\"db/mg\",kind=\"invalid\"") == 3);
  op_seed_register_failed(&f.ctx);
  assert_true(get(m->replication_errors, "cluster=\"db/mg\",kind=\"register_failed\"") == 1);
  /* The canary's families: zero-valued series until a canary runs. */
  assert_true(fake_metrics_contain(&f, "memgraph_validation_total{cluster=\"db/mg\"} 0"));
  assert_true(fake_metrics_contain(&f, "memgraph_validation_failures_total{cluster=\"db/mg\"} 0"));
  assert_true(fake_metrics_contain(&f, "memgraph_validation_duration_seconds_count{cluster=\"db/mg\"} 0"));
  assert_true(fake_metrics_contain(&f, "memgraph_replication_test_total{cluster=\"db/mg\"} 0"));
  assert_true(fake_metrics_contain(&f, "memgraph_replication_test_failures_total{cluster=\"db/mg\"} 0"));
  assert_false(fake_metrics_contain(&f, "memgraph_replication_lag_seconds_count"));
  f.ctx.parsed = false;
  fake_ports_free(&f);
}

static void a_main_change_fills_the_rto_and_rpo_families(void **state)
{
  struct fake_ports f;
  struct op_main_change ch = {.pending = false, .mode = MGO_MODE_ASYNC, .behind = 5};
  const struct op_seed_metrics *m;
  (void) state;
  fake_ports_init(&f);
  m = &f.metrics.seed;
  (void) mgo_strlcpy(ch.kind, "failover", sizeof(ch.kind));
  op_seed_main_change(&f.ctx, &ch, 1500);
  assert_true(fake_metrics_contain(
      &f, "memgraph_failover_duration_seconds_count{cluster=\"db/mg\",kind=\"failover\"} 1"));
  assert_true(get(m->failover_duration, "cluster=\"db/mg\",kind=\"failover\"") == 1.5); /* the sum */
  assert_true(fake_metrics_contain(
      &f, "memgraph_failover_duration_seconds_bucket{cluster=\"db/mg\",kind=\"failover\",le=\"1\"} 0"));
  assert_true(fake_metrics_contain(
      &f, "memgraph_failover_duration_seconds_bucket{cluster=\"db/mg\",kind=\"failover\",le=\"2\"} 1"));
  assert_true(fake_metrics_contain(
      &f, "memgraph_failover_behind_transactions_bucket{cluster=\"db/mg\",kind=\"failover\",le=\"1\"} 0"));
  assert_true(fake_metrics_contain(
      &f, "memgraph_failover_behind_transactions_bucket{cluster=\"db/mg\",kind=\"failover\",le=\"10\"} 1"));
  assert_true(get(m->failover_lost_estimated, "cluster=\"db/mg\",kind=\"failover\"") == 5);
  /* A SYNC replica held every acknowledged write: its `behind` is commits in flight, none acknowledged. */
  (void) mgo_strlcpy(ch.kind, "switchover", sizeof(ch.kind));
  ch.mode = MGO_MODE_SYNC;
  ch.behind = 3;
  op_seed_main_change(&f.ctx, &ch, 200);
  assert_true(get(m->failover_lost_estimated, "cluster=\"db/mg\",kind=\"switchover\"") == 0);
  assert_true(fake_metrics_contain(
      &f, "memgraph_failover_behind_transactions_count{cluster=\"db/mg\",kind=\"switchover\"} 1"));
  assert_true(fake_metrics_contain(
      &f, "memgraph_failover_duration_seconds_count{cluster=\"db/mg\",kind=\"failover\"} 1"));
  fake_ports_free(&f);
}

static void clusters_are_counted_ready_by_their_condition(void **state)
{
  struct fake_ports f;
  json_t *list = json_array();
  (void) state;
  fake_ports_init(&f);
  json_array_append_new(list,
                        fake_cluster_json("{\"instances\":3}",
                                          "{\"conditions\":[{\"type\":\"MainAvailable\",\"status\":\"True\"},"
                                          "{\"type\":\"Ready\",\"status\":\"True\"}]}"));
  json_array_append_new(
      list,
      fake_cluster_json("{\"instances\":3}", "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}"));
  json_array_append_new(list, fake_cluster_json("{\"instances\":1}", NULL));
  op_seed_set_clusters(&f.metrics, list);
  assert_true(get(f.metrics.seed.clusters_total, "") == 3);
  assert_true(get(f.metrics.seed.clusters_ready, "") == 1);
  json_array_clear(list);
  op_seed_set_clusters(&f.metrics, list);
  assert_true(get(f.metrics.seed.clusters_total, "") == 0);
  assert_true(get(f.metrics.seed.clusters_ready, "") == 0);
  json_decref(list);
  fake_ports_free(&f);
}

static void passes_probes_and_multiple_mains(void **state)
{
  struct fake_ports f;
  const struct op_seed_metrics *m;
  (void) state;
  fake_ports_init(&f);
  m = &f.metrics.seed;
  op_seed_count_pass(&f.metrics, "db/mg", "success", false, 0.02);
  op_seed_count_pass(&f.metrics, "db/mg", "error", true, 0.5);
  assert_true(get(m->reconcile_total, "cluster=\"db/mg\",result=\"success\"") == 1);
  assert_true(get(m->reconcile_total, "cluster=\"db/mg\",result=\"error\"") == 1);
  assert_true(get(m->reconcile_errors, "cluster=\"db/mg\"") == 1);
  assert_true(fake_metrics_contain(&f, "memgraph_reconcile_duration_seconds_count{cluster=\"db/mg\"} 2"));
  op_seed_count_connectivity(&f.ctx, 3, 0);
  op_seed_count_connectivity(&f.ctx, 2, 1);
  assert_true(get(m->connectivity_total, "cluster=\"db/mg\"") == 6);
  assert_true(get(m->connectivity_failures, "cluster=\"db/mg\"") == 1);
  op_seed_multiple_mains(&f.ctx, true);
  assert_true(get(m->multiple_mains, "cluster=\"db/mg\"") == 1);
  op_seed_multiple_mains(&f.ctx, false);
  assert_true(get(m->multiple_mains, "cluster=\"db/mg\"") == 0);
  fake_ports_free(&f);
}

/* op_cluster_forget removes `cluster="ns/name"`: nothing of the cluster may survive it. */
static void a_forgotten_cluster_leaves_no_series(void **state)
{
  struct fake_ports f;
  struct op_main_change ch = {.mode = MGO_MODE_ASYNC, .behind = 1};
  struct mgo_buf b = MGO_BUF_INIT(1 << 20);
  (void) state;
  fake_ports_init(&f);
  three_replicas(&f);
  (void) mgo_strlcpy(ch.kind, "switchover", sizeof(ch.kind));
  op_seed_cluster_metrics(&f.ctx);
  op_seed_main_change(&f.ctx, &ch, 10);
  op_seed_count_pass(&f.metrics, "db/mg", "success", false, 0.01);
  op_seed_count_connectivity(&f.ctx, 1, 0);
  op_seed_multiple_mains(&f.ctx, false);
  assert_true(fake_metrics_contain(&f, "db/mg"));
  mgo_metric_remove_matching(f.reg, "cluster=\"db/mg\"");
  assert_int_equal(mgo_metrics_render(f.reg, &b), MGO_OK);
  assert_null(strstr(mgo_buf_str(&b), "db/mg"));
  mgo_buf_free(&b);
  f.ctx.parsed = false;
  fake_ports_free(&f);
}

/* Through the steps: the status step sets the cluster's gauges and canary series, the act step the gauge of a
 * second MAIN (the plan's multiple_mains). */
static void the_steps_fill_the_cluster_series(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  fake_put(&f, &op_res_clusters, fake_cluster_json("{\"instances\":3}", NULL));
  assert_int_equal(op_step_load(&f.ctx).next, OP_CONTINUE);
  f.ctx.obs = calloc(1, sizeof(*f.ctx.obs));
  f.ctx.plan = calloc(1, sizeof(*f.ctx.plan));
  assert_non_null(f.ctx.obs);
  assert_non_null(f.ctx.plan);
  op_observe_pods(&f.ctx.c, NULL, NULL, NULL, f.ctx.obs);
  assert_int_equal(rec_decide_topology(&f.ctx.c, f.ctx.obs, f.ctx.plan), MGO_OK);
  assert_int_equal(op_step_status(&f.ctx).next, OP_CONTINUE);
  assert_true(fake_metrics_contain(&f, "memgraph_read_replicas{cluster=\"db/mg\"} 2"));
  assert_true(fake_metrics_contain(&f, "memgraph_read_replicas_ready{cluster=\"db/mg\"} 0")); /* no pods */
  assert_true(fake_metrics_contain(&f, "memgraph_replication_test_total{cluster=\"db/mg\"} 0"));
  assert_false(fake_metrics_contain(&f, "memgraph_multiple_mains{cluster=\"db/mg\"} 1"));
  f.ctx.plan->n = 0;
  f.ctx.plan->multiple_mains = true;
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK);
  assert_true(fake_metrics_contain(&f, "memgraph_multiple_mains{cluster=\"db/mg\"} 1"));
  f.ctx.plan->multiple_mains = false;
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK);
  assert_true(fake_metrics_contain(&f, "memgraph_multiple_mains{cluster=\"db/mg\"} 0"));
  fake_ports_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_seed_name_is_registered),
      cmocka_unit_test(cluster_metrics_count_readable_replicas_and_bad_states),
      cmocka_unit_test(a_main_change_fills_the_rto_and_rpo_families),
      cmocka_unit_test(clusters_are_counted_ready_by_their_condition),
      cmocka_unit_test(passes_probes_and_multiple_mains),
      cmocka_unit_test(a_forgotten_cluster_leaves_no_series),
      cmocka_unit_test(the_steps_fill_the_cluster_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
