/* Golden-file tests of the builders: each sample under config/samples/ is parsed, every managed object
 * is built, and the set is compared byte for byte with test/unit/cluster/golden/<sample>.json (sorted
 * keys, indent 2). MGO_UPDATE_GOLDEN=1 rewrites the files; review the change with git diff. */
#include "cluster.h"
#include "cluster_build.h"
#include "mgo_err.h"
#include "yaml_json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *build_all(const struct mgo_cluster *c)
{
  struct mgo_build_opts opts = {.operator_image = "ghcr.io/memgraph-operator/memgraph-operator:0.1.0",
                                .replicas = -1};
  json_t *pdb = mgo_build_pdb(c);
  return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "statefulset", mgo_build_statefulset(c, &opts),
                   "headlessService", mgo_build_headless_service(c), "writeService",
                   mgo_build_write_service(c), "readService", mgo_build_read_service(c),
                   "podDisruptionBudget", pdb != NULL ? pdb : json_null(), "serviceAccount",
                   mgo_build_service_account(c));
}

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = calloc(1, (size_t) n + 1);
  if (buf != NULL && fread(buf, 1, (size_t) n, f) != (size_t) n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static void check_golden(const char *sample)
{
  const char *root = getenv("MGO_SOURCE_DIR");
  const char *update = getenv("MGO_UPDATE_GOLDEN");
  char rel[256], golden_path[1024];
  json_t *obj, *all;
  struct mgo_cluster c;
  struct mgo_cluster_errs errs;
  char *got, *want;

  snprintf(rel, sizeof(rel), "config/samples/memgraphcluster-%s.yaml", sample);
  snprintf(golden_path, sizeof(golden_path), "%s/test/unit/cluster/golden/%s.json", root ? root : ".",
           sample);
  obj = test_yaml_source_file(rel);
  assert_non_null(obj);
  /* What the API server adds to a created object. */
  json_object_set_new(json_object_get(obj, "metadata"), "namespace", json_string("prod"));
  json_object_set_new(json_object_get(obj, "metadata"), "uid",
                      json_string("7f0c2a4e-0000-4000-8000-000000000001"));
  assert_int_equal(mgo_cluster_parse(obj, &c, &errs), MGO_OK);
  assert_int_equal(mgo_cluster_validate(&c, &errs), MGO_OK);
  all = build_all(&c);
  assert_non_null(all);
  got = json_dumps(all, JSON_SORT_KEYS | JSON_INDENT(2));
  assert_non_null(got);
  if (update != NULL && strcmp(update, "1") == 0) {
    FILE *f = fopen(golden_path, "wb");
    assert_non_null(f);
    fprintf(f, "%s\n", got);
    fclose(f);
  }
  want = read_file(golden_path);
  if (want == NULL)
    fail_msg("missing golden file %s (run with MGO_UPDATE_GOLDEN=1)", golden_path);
  want[strcspn(want, "\0")] = '\0';
  if (strlen(want) > 0 && want[strlen(want) - 1] == '\n')
    want[strlen(want) - 1] = '\0';
  if (strcmp(got, want) != 0)
    fail_msg("%s differs from the builders' output; regenerate with MGO_UPDATE_GOLDEN=1 and review the diff",
             golden_path);
  free(got);
  free(want);
  json_decref(all);
  json_decref(obj);
  mgo_cluster_free(&c);
}

static void test_golden_minimal(void **state)
{
  (void) state;
  check_golden("minimal");
}

static void test_golden_full(void **state)
{
  (void) state;
  check_golden("full");
}

static void test_owned_extra_flag_never_reaches_args(void **state)
{
  json_error_t jerr;
  json_t *obj = json_loads("{\"metadata\":{\"name\":\"mg\"},\"spec\":{\"memgraph\":{\"extraFlags\":"
                           "[\"--management-port=10000\",\"--query-execution-timeout-sec=5\"]}}}",
                           0, &jerr);
  struct mgo_cluster c;
  json_t *args;
  size_t i;
  json_t *flag;
  bool seen_timeout = false;
  (void) state;
  assert_int_equal(mgo_cluster_parse(obj, &c, NULL), MGO_OK);
  args = mgo_build_memgraph_args(&c);
  assert_non_null(args);
  json_array_foreach(args, i, flag)
  {
    assert_null(strstr(json_string_value(flag), "management-port"));
    seen_timeout = seen_timeout || strcmp(json_string_value(flag), "--query-execution-timeout-sec=5") == 0;
  }
  assert_true(seen_timeout);
  json_decref(args);
  json_decref(obj);
  mgo_cluster_free(&c);
}

static void test_replicas_override(void **state)
{
  json_error_t jerr;
  json_t *obj = json_loads("{\"metadata\":{\"name\":\"mg\"},\"spec\":{\"instances\":2}}", 0, &jerr);
  struct mgo_cluster c;
  struct mgo_build_opts opts = {.operator_image = "op:1", .replicas = 3};
  json_t *sts;
  (void) state;
  assert_int_equal(mgo_cluster_parse(obj, &c, NULL), MGO_OK);
  sts = mgo_build_statefulset(&c, &opts);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(sts, "spec"), "replicas")), 3);
  json_decref(sts);
  opts.operator_image = NULL;
  assert_null(mgo_build_statefulset(&c, &opts));
  json_decref(obj);
  mgo_cluster_free(&c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_minimal),
      cmocka_unit_test(test_golden_full),
      cmocka_unit_test(test_owned_extra_flag_never_reaches_args),
      cmocka_unit_test(test_replicas_override),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
