/* Prometheus registry: exact text exposition, label escaping, histogram buckets, series removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "mgo_err.h"

static void test_counter_and_gauge_render_exactly(void **state)
{
  (void) state;
  struct mgo_metrics *m = mgo_metrics_new();
  struct mgo_metric_family *c =
      mgo_metrics_family(m, "mgo_reconcile_total", "Reconciles run.", MGO_METRIC_COUNTER, NULL, 0);
  struct mgo_metric_family *g = mgo_metrics_family(m, "mgo_up", "Process is up.", MGO_METRIC_GAUGE, NULL, 0);
  assert_ptr_equal(c, mgo_metrics_family(m, "mgo_reconcile_total", "ignored", MGO_METRIC_GAUGE, NULL, 0));
  char l[MGO_METRIC_LABELS_MAX];
  assert_int_equal(mgo_metric_labels(l, sizeof l, "cluster", "default/demo", NULL), MGO_OK);
  assert_int_equal(mgo_metric_add(c, l, 2), MGO_OK);
  assert_int_equal(mgo_metric_add(c, l, 1), MGO_OK);
  assert_int_equal(mgo_metric_add(c, l, -1), MGO_EINVAL);
  assert_int_equal(mgo_metric_set(c, l, 5), MGO_EINVAL);
  assert_int_equal(mgo_metric_set(g, "", 1), MGO_OK);
  struct mgo_buf b = MGO_BUF_INIT(1 << 16);
  assert_int_equal(mgo_metrics_render(m, &b), MGO_OK);
  assert_string_equal(mgo_buf_str(&b), "# HELP mgo_reconcile_total Reconciles run.\n"
                                       "# TYPE mgo_reconcile_total counter\n"
                                       "mgo_reconcile_total{cluster=\"default/demo\"} 3\n"
                                       "# HELP mgo_up Process is up.\n"
                                       "# TYPE mgo_up gauge\n"
                                       "mgo_up 1\n");
  double v = 0;
  assert_int_equal(mgo_metric_get(c, l, &v), MGO_OK);
  assert_true(v == 3.0);
  assert_int_equal(mgo_metric_get(c, "cluster=\"x\"", &v), MGO_ENOTFOUND);
  mgo_buf_free(&b);
  mgo_metrics_free(m);
}

static void test_label_values_are_escaped(void **state)
{
  (void) state;
  char l[MGO_METRIC_LABELS_MAX];
  assert_int_equal(mgo_metric_labels(l, sizeof l, "a", "x\"y", "b", "back\\slash\nnl", NULL), MGO_OK);
  assert_string_equal(l, "a=\"x\\\"y\",b=\"back\\\\slash\\nnl\"");
  char tiny[8];
  assert_int_equal(mgo_metric_labels(tiny, sizeof tiny, "cluster", "long-value", NULL), MGO_ETOOBIG);
  assert_string_equal(tiny, "");
}

static void test_histogram_is_cumulative(void **state)
{
  (void) state;
  struct mgo_metrics *m = mgo_metrics_new();
  const double buckets[] = {0.5, 1, 5};
  struct mgo_metric_family *h =
      mgo_metrics_family(m, "mgo_failover_seconds", "Failover duration.", MGO_METRIC_HISTOGRAM, buckets, 3);
  assert_int_equal(mgo_metric_observe(h, "", 0.2), MGO_OK);
  assert_int_equal(mgo_metric_observe(h, "", 0.7), MGO_OK);
  assert_int_equal(mgo_metric_observe(h, "", 30), MGO_OK);
  assert_int_equal(mgo_metric_add(h, "", 1), MGO_EINVAL);
  struct mgo_buf b = MGO_BUF_INIT(1 << 16);
  assert_int_equal(mgo_metrics_render(m, &b), MGO_OK);
  assert_non_null(strstr(mgo_buf_str(&b), "mgo_failover_seconds_bucket{le=\"0.5\"} 1\n"
                                          "mgo_failover_seconds_bucket{le=\"1\"} 2\n"
                                          "mgo_failover_seconds_bucket{le=\"5\"} 2\n"
                                          "mgo_failover_seconds_bucket{le=\"+Inf\"} 3\n"
                                          "mgo_failover_seconds_sum 30.899999999999999\n"
                                          "mgo_failover_seconds_count 3\n"));
  mgo_buf_free(&b);
  mgo_metrics_free(m);
}

static void test_remove_matching_drops_a_clusters_series(void **state)
{
  (void) state;
  struct mgo_metrics *m = mgo_metrics_new();
  struct mgo_metric_family *g =
      mgo_metrics_family(m, "mgo_ready", "Ready instances.", MGO_METRIC_GAUGE, NULL, 0);
  mgo_metric_set(g, "cluster=\"ns/a\"", 3);
  mgo_metric_set(g, "cluster=\"ns/b\"", 1);
  mgo_metric_remove_matching(m, "cluster=\"ns/a\"");
  double v;
  assert_int_equal(mgo_metric_get(g, "cluster=\"ns/a\"", &v), MGO_ENOTFOUND);
  assert_int_equal(mgo_metric_get(g, "cluster=\"ns/b\"", &v), MGO_OK);
  mgo_metric_remove(g, "cluster=\"ns/b\"");
  assert_int_equal(mgo_metric_get(g, "cluster=\"ns/b\"", &v), MGO_ENOTFOUND);
  assert_null(mgo_metrics_family(m, "bad-name", "x", MGO_METRIC_GAUGE, NULL, 0));
  mgo_metrics_free(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counter_and_gauge_render_exactly),
      cmocka_unit_test(test_label_values_are_escaped),
      cmocka_unit_test(test_histogram_is_cumulative),
      cmocka_unit_test(test_remove_matching_drops_a_clusters_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
