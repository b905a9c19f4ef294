/* The runtime's pure parts: the informer event filters (our own writes cause no pass) and the registry of
 * per-cluster state. */
#include "controller_int.h"
#include "fake_ports.h"
#include "metrics.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void f_close(struct mgo_mg_conn *conn)
{
  (void) conn;
}

/* The registry closes connections through the Memgraph port; none are open here. */
static const struct mgo_mg_ops fake_ops = {.close = f_close};

static void own_status_writes_cause_no_pass(void **state)
{
  json_t *a = fake_json("{\"metadata\":{\"name\":\"mg\",\"generation\":3,\"resourceVersion\":\"10\"},"
                        "\"spec\":{\"instances\":3}}");
  json_t *b = json_deep_copy(a);
  (void) state;
  json_object_set_new(b, "status", json_pack("{s:s}", "phase", "Running"));
  json_object_set_new(json_object_get(b, "metadata"), "resourceVersion", json_string("11"));
  assert_false(op_cluster_update_matters(a, b)); /* status only */
  assert_true(op_cluster_update_matters(a, a));  /* resync */
  json_object_set_new(json_object_get(b, "metadata"), "generation", json_integer(4));
  assert_true(op_cluster_update_matters(a, b)); /* spec changed */
  json_object_set_new(json_object_get(b, "metadata"), "generation", json_integer(3));
  json_object_set_new(json_object_get(b, "metadata"), "annotations",
                      json_pack("{s:s}", "memgraph.io/hibernation", "on"));
  assert_true(op_cluster_update_matters(a, b)); /* a day-2 switch: annotations do not change the generation */
  json_object_del(json_object_get(b, "metadata"), "annotations");
  json_object_set_new(json_object_get(b, "metadata"), "deletionTimestamp", json_string("now"));
  assert_true(op_cluster_update_matters(a, b));
  json_decref(a);
  json_decref(b);
}

static void our_pod_labels_cause_no_pass(void **state)
{
  json_t *a = fake_json("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"mg-0\",\"uid\":\"u\",\"labels\":{}},"
                        "\"spec\":{\"containers\":[]},\"status\":{\"podIP\":\"1.2.3.4\",\"conditions\":[]}}");
  json_t *b = json_deep_copy(a);
  json_t *sts = fake_json("{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"mg\"},\"spec\":{}}");
  json_t *sts2 = json_deep_copy(sts);
  (void) state;
  json_object_set_new(json_object_get(json_object_get(b, "metadata"), "labels"), "memgraph.io/role",
                      json_string("main"));
  assert_false(op_pod_changed(a, b));
  assert_false(op_owned_update_matters(a, b));
  assert_false(op_owned_update_matters(a, a)); /* resync of an owned object */
  json_object_set_new(json_object_get(b, "status"), "conditions",
                      json_pack("[{s:s, s:s}]", "type", "Ready", "status", "True"));
  assert_true(op_owned_update_matters(a, b));      /* readiness matters */
  assert_true(op_owned_update_matters(sts, sts2)); /* any change of a non-pod object */
  json_decref(a);
  json_decref(b);
  json_decref(sts);
  json_decref(sts2);
}

/* ---- the cluster registry -------------------------------------------------------------------------- */

static bool drops(enum op_cache which, const char *field)
{
  for (const char *const *f = op_cache_dropped_fields(which); f != NULL && *f != NULL; f++) {
    if (strcmp(*f, field) == 0)
      return true;
  }
  return false;
}

/* The caches keep what the steps read: a pod without its spec, a StatefulSet with its template (restore,
 * drill), clusters and backups whole; and a cached pod (no spec) is still told apart by its kind, so our own
 * label writes still cause no pass. */
static void caches_drop_only_unread_fields(void **state)
{
  json_t *a = fake_json("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"mg-0\",\"uid\":\"u\",\"labels\":{}},"
                        "\"status\":{\"podIP\":\"1.2.3.4\",\"conditions\":[]}}");
  json_t *b = json_deep_copy(a);
  (void) state;
  /* clang-format off */
  static const struct { const char *field; enum op_cache cache; bool dropped; } table[] = {
      {"spec", OP_CACHE_PODS, true},      {"status", OP_CACHE_PODS, false},  {"metadata", OP_CACHE_PODS, false},
      {"spec", OP_CACHE_SVCS, true},      {"status", OP_CACHE_SVCS, true},   {"metadata", OP_CACHE_SVCS, false},
      {"spec", OP_CACHE_PDBS, true},      {"status", OP_CACHE_PDBS, true},   {"spec", OP_CACHE_STS, false},
      {"spec", OP_CACHE_CLUSTERS, false}, {"spec", OP_CACHE_BACKUPS, false}, {"metadata", OP_CACHE_SAS, false},
  };
  /* clang-format on */
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    assert_int_equal(drops(table[i].cache, table[i].field), table[i].dropped);
  json_object_set_new(json_object_get(json_object_get(b, "metadata"), "labels"), "memgraph.io/role",
                      json_string("main"));
  assert_false(op_owned_update_matters(a, b));
  json_object_set_new(json_object_get(b, "status"), "podIP", json_string("1.2.3.5"));
  assert_true(op_owned_update_matters(a, b));
  json_decref(a);
  json_decref(b);
}

static void forgetting_a_cluster_frees_its_state_and_series(void **state)
{
  struct mgo_operator *op = calloc(1, sizeof(*op));
  struct op_cluster *a, *b;
  double v = 0;
  (void) state;
  pthread_mutex_init(&op->lock, NULL);
  op->mg = &fake_ops;
  op->metrics_reg = mgo_metrics_new();
  assert_int_equal(op_metrics_init(&op->metrics, op->metrics_reg), MGO_OK);
  a = op_cluster_get(op, "db/a");
  b = op_cluster_get(op, "db/b");
  assert_non_null(a);
  assert_ptr_equal(op_cluster_get(op, "db/a"), a); /* one entry per key */
  a->snapshot = json_object();
  a->last_written = json_object(); /* LeakSanitizer checks these are released */
  assert_int_equal(mgo_metric_set(op->metrics.instances_ready, "cluster=\"db/a\"", 3), MGO_OK);
  assert_int_equal(mgo_metric_set(op->metrics.instances_ready, "cluster=\"db/b\"", 2), MGO_OK);
  op_cluster_forget(op, "db/a");
  assert_int_equal(op->nclusters, 1);
  assert_ptr_equal(op->clusters[0], b);
  assert_int_equal(mgo_metric_get(op->metrics.instances_ready, "cluster=\"db/a\"", &v), MGO_ENOTFOUND);
  assert_int_equal(mgo_metric_get(op->metrics.instances_ready, "cluster=\"db/b\"", &v), MGO_OK);
  op_cluster_forget(op, "db/b");
  op_cluster_forget(op, "db/unknown"); /* harmless */
  op_registry_free(op);
  mgo_metrics_free(op->metrics_reg);
  pthread_mutex_destroy(&op->lock);
  free(op);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(own_status_writes_cause_no_pass),
      cmocka_unit_test(our_pod_labels_cause_no_pass),
      cmocka_unit_test(caches_drop_only_unread_fields),
      cmocka_unit_test(forgetting_a_cluster_frees_its_state_and_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
