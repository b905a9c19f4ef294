/* The `kubectl memgraph status` summary against golden text files (test/unit/plugin/golden/status_*.txt, from
 * the JSON fixtures beside them; MGO_UPDATE_GOLDEN=1 rewrites them), plus the health line and ages as tables.
 */
#include "kmg_golden.h"
#include "kmg_status.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define DIR "test/unit/plugin/golden/"

static int64_t at(const char *ts)
{
  int64_t ms = 0;
  assert_int_equal(mgo_time_parse_rfc3339(ts, &ms), MGO_OK);
  return ms;
}

static void golden(const char *cluster_file, bool with_lists, const char *golden_file)
{
  json_t *cluster = kmg_test_load_json(cluster_file);
  json_t *pods = with_lists ? kmg_test_load_json(DIR "pods.json") : NULL;
  json_t *backups = with_lists ? kmg_test_load_json(DIR "backups.json") : NULL;
  struct kmg_status_input in = {
      .cluster = cluster, .pods = pods, .backups = backups, .now_ms = at("2026-12-02T10:00:00Z")};
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  assert_int_equal(kmg_format_status(&in, &out), MGO_OK);
  kmg_test_golden_text(golden_file, mgo_buf_str(&out));
  mgo_buf_free(&out);
  json_decref(cluster);
  json_decref(pods);
  json_decref(backups);
}

static void test_running(void **state)
{
  (void) state;
  golden(DIR "cluster_running.json", true, DIR "status_running.txt");
}

static void test_degraded_without_pods(void **state)
{
  (void) state;
  golden(DIR "cluster_degraded.json", false, DIR "status_degraded.txt");
}

static void test_health_lines(void **state)
{
  (void) state;
  static const struct {
    const char *cluster;
    const char *want;
  } rows[] = {
      {"{}", "UNKNOWN: the operator has not reported a status yet"},
      {"{\"status\":{\"phase\":\"Failed\",\"message\":\"two MAINs with data\"}}",
       "FAILED: two MAINs with data"},
      {"{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
       "OK"},
      {"{\"status\":{\"phase\":\"Degraded\",\"message\":\"m\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
       "\"False\",\"reason\":\"ReplicasNotReady\"}]}}",
       "DEGRADED: ReplicasNotReady: m"},
      {"{\"metadata\":{\"generation\":3,\"annotations\":{\"memgraph.io/reconcile\":\"paused\"}},\"status\":{"
       "\"phase\":\"Running\",\"observedGeneration\":2,\"conditions\":[{\"type\":\"Ready\",\"status\":"
       "\"True\"}]}}",
       "OK (reconcile paused) (status describes generation 2, the spec is at 3)"},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    json_t *c = json_loads(rows[i].cluster, 0, NULL);
    char out[512];
    kmg_health_line(c, out, sizeof(out));
    if (strcmp(out, rows[i].want) != 0) {
      fail_msg("row %zu: got \"%s\" want \"%s\"", i, out, rows[i].want);
    }
    json_decref(c);
  }
}

static void test_ages(void **state)
{
  (void) state;
  int64_t now = at("2026-12-02T10:00:00Z");
  static const struct {
    const char *ts, *want;
  } rows[] = {{"2026-12-02T09:59:55Z", "5s"},    {"2026-12-02T09:57:00Z", "3m"},
              {"2026-12-02T07:00:00Z", "3h"},    {"2026-11-28T10:00:00Z", "4d"},
              {"2026-12-02T10:00:09Z", "0s"},    {"yesterday", "?"},
              {"2026-12-02T09:58:00.5Z", "119s"}};
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char out[16];
    kmg_format_age(rows[i].ts, now, out, sizeof(out));
    assert_string_equal(out, rows[i].want);
  }
}

static void test_refuses_non_object(void **state)
{
  (void) state;
  struct mgo_buf out = MGO_BUF_INIT(1024);
  struct kmg_status_input in = {.cluster = NULL};
  assert_int_equal(kmg_format_status(&in, &out), MGO_EINVAL);
  mgo_buf_free(&out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_running),
      cmocka_unit_test(test_degraded_without_pods),
      cmocka_unit_test(test_health_lines),
      cmocka_unit_test(test_ages),
      cmocka_unit_test(test_refuses_non_object),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
