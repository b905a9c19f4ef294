/* Instance resolution, the fencedInstances list edits and the annotation merge patches, as tables. */
#include "kmg_annot.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_resolve(void **state)
{
  (void) state;
  static const struct {
    const char *instance;
    bool allow_all;
    int rc;
    const char *pod_or_err;
  } rows[] = {
      {"0", false, MGO_OK, "mg-0"},
      {"2", false, MGO_OK, "mg-2"},
      {"mg-1", false, MGO_OK, "mg-1"},
      {"3", false, MGO_EINVAL, "unknown instance \"3\": cluster mg has 3 instances (ordinals 0..2)"},
      {"mg-3", false, MGO_EINVAL, "unknown instance \"mg-3\": cluster mg has 3 instances"},
      {"other-1", false, MGO_EINVAL, "unknown instance \"other-1\": give a pod name (mg-0) or an ordinal"},
      {"mg-", false, MGO_EINVAL, "unknown instance"},
      {"mg-1x", false, MGO_EINVAL, "unknown instance"},
      {"-1", false, MGO_EINVAL, "unknown instance"},
      {"", false, MGO_EINVAL, "unknown instance"},
      {"*", true, MGO_OK, "*"},
      {"*", false, MGO_EINVAL, "unknown instance \"*\""},
      {"99999999999", false, MGO_EINVAL, "unknown instance"},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char pod[KMG_POD_NAME_MAX] = "", err[256] = "";
    int rc = kmg_resolve_instance("mg", 3, rows[i].instance, rows[i].allow_all, pod, sizeof(pod), err,
                                  sizeof(err));
    if (rc != rows[i].rc) {
      fail_msg("row %zu (%s): rc %d, err %s", i, rows[i].instance, rc, err);
    }
    const char *got = rc == MGO_OK ? pod : err;
    if (strstr(got, rows[i].pod_or_err) == NULL) {
      fail_msg("row %zu (%s): \"%s\" lacks \"%s\"", i, rows[i].instance, got, rows[i].pod_or_err);
    }
  }
}

static void test_ordinal(void **state)
{
  (void) state;
  assert_int_equal(kmg_pod_ordinal("mg", "mg-12"), 12);
  assert_int_equal(kmg_pod_ordinal("mg", "mg-drill"), -1);
  assert_int_equal(kmg_pod_ordinal("mg", "mgx-1"), -1);
  assert_int_equal(kmg_pod_ordinal("my-db", "my-db-0"), 0);
}

static void test_fence_edits(void **state)
{
  (void) state;
  static const struct {
    const char *current; /* NULL: no annotation */
    const char *pod;
    bool add;
    const char *want; /* NULL: remove the annotation */
    bool changed;
  } rows[] = {
      {NULL, "mg-1", true, "[\"mg-1\"]", true},
      {"[\"mg-1\"]", "mg-1", true, "[\"mg-1\"]", false},
      {"[\"mg-2\"]", "mg-0", true, "[\"mg-0\",\"mg-2\"]", true},
      {"[\"mg-10\",\"mg-2\"]", "mg-1", true, "[\"mg-1\",\"mg-2\",\"mg-10\"]", true},
      {"[\"mg-1\"]", "*", true, "[\"*\"]", true},
      {"[\"*\"]", "mg-1", true, "[\"*\"]", false},
      {"[\"mg-0\",\"mg-1\"]", "mg-0", false, "[\"mg-1\"]", true},
      {"[\"mg-1\"]", "mg-1", false, NULL, true},
      {"[\"mg-1\"]", "mg-2", false, "[\"mg-1\"]", false},
      {NULL, "mg-2", false, NULL, false},
      {"[]", "mg-2", false, NULL, true},
      {"[\"*\"]", "mg-1", false, "[\"mg-0\",\"mg-2\"]", true},
      {"", "mg-0", true, "[\"mg-0\"]", true},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char *value = NULL, err[256] = "";
    bool changed = !rows[i].changed;
    int rc = kmg_fence_edit(rows[i].current, "mg", 3, rows[i].pod, rows[i].add, &value, &changed, err,
                            sizeof(err));
    if (rc != MGO_OK) {
      fail_msg("row %zu: rc %d %s", i, rc, err);
    }
    if ((rows[i].want == NULL) != (value == NULL) || (value && strcmp(value, rows[i].want) != 0)) {
      fail_msg("row %zu: got %s, want %s", i, value ? value : "(remove)",
               rows[i].want ? rows[i].want : "(remove)");
    }
    if (changed != rows[i].changed) {
      fail_msg("row %zu: changed %d", i, changed);
    }
    free(value);
  }
}

static void test_fence_refuses_garbage(void **state)
{
  (void) state;
  static const char *const bad[] = {"mg-1", "{\"a\":1}", "[1]", "[\"mg-1\",null]", "["};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *value = NULL, err[256] = "";
    bool changed = true;
    assert_int_equal(kmg_fence_edit(bad[i], "mg", 3, "mg-0", true, &value, &changed, err, sizeof(err)),
                     MGO_EPARSE);
    assert_null(value);
    assert_false(changed);
    assert_non_null(strstr(err, "memgraph.io/fencedInstances is not a JSON array of pod names"));
  }
}

static void test_patches(void **state)
{
  (void) state;
  json_t *p = kmg_annotation_patch(KMG_ANN_FENCED, "[\"mg-1\"]", "42");
  char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s,
                      "{\"metadata\":{\"annotations\":{\"memgraph.io/fencedInstances\":\"[\\\"mg-1\\\"]\"},"
                      "\"resourceVersion\":\"42\"}}");
  free(s);
  json_decref(p);
  p = kmg_annotation_patch(KMG_ANN_RECONCILE, NULL, NULL);
  s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"metadata\":{\"annotations\":{\"memgraph.io/reconcile\":null}}}");
  free(s);
  json_decref(p);
  json_t *obj = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", KMG_ANN_HIBERNATION, "on");
  assert_string_equal(kmg_annotation(obj, KMG_ANN_HIBERNATION), "on");
  assert_null(kmg_annotation(obj, KMG_ANN_RECONCILE));
  assert_int_equal(kmg_spec_instances(obj), 3); /* the CRD's default */
  assert_false(kmg_is_fenced(obj, "mg-1"));
  json_decref(obj);
}

static void test_is_fenced(void **state)
{
  (void) state;
  static const struct {
    const char *value; /* NULL: no annotation */
    bool mg1;
  } rows[] = {{"[\"mg-1\"]", true}, {"[\"mg-0\",\"mg-2\"]", false},
              {"[\"*\"]", true},    {"garbage", false},
              {"[]", false},        {NULL, false}};
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    json_t *obj = json_pack("{s:{s:{}},s:{s:i}}", "metadata", "annotations", "spec", "instances", 5);
    if (rows[i].value != NULL) {
      json_object_set_new(json_object_get(json_object_get(obj, "metadata"), "annotations"), KMG_ANN_FENCED,
                          json_string(rows[i].value));
    }
    assert_int_equal(kmg_spec_instances(obj), 5);
    if (kmg_is_fenced(obj, "mg-1") != rows[i].mg1) {
      fail_msg("row %zu", i);
    }
    json_decref(obj);
  }
}

static void test_fence_targets_and_switchover_blockers(void **state)
{
  (void) state;
  json_t *c = json_loads("{\"metadata\":{\"name\":\"mg\",\"annotations\":{\"memgraph.io/fencedInstances\":"
                         "\"[\\\"mg-1\\\",\\\"mg-4\\\"]\"}},\"spec\":{\"instances\":3}}",
                         0, NULL);
  assert_non_null(c);
  char pod[KMG_POD_NAME_MAX], err[256];
  /* mg-4 was fenced before a scale-down to 3: it can still be unfenced by name, not fenced again */
  assert_int_equal(kmg_fence_target(c, "mg-4", false, pod, sizeof(pod), err, sizeof(err)), MGO_OK);
  assert_string_equal(pod, "mg-4");
  assert_int_equal(kmg_fence_target(c, "mg-4", true, pod, sizeof(pod), err, sizeof(err)), MGO_EINVAL);
  assert_int_equal(kmg_fence_target(c, "4", false, pod, sizeof(pod), err, sizeof(err)), MGO_EINVAL);
  assert_int_equal(kmg_fence_target(c, "*", true, pod, sizeof(pod), err, sizeof(err)), MGO_OK);
  assert_int_equal(kmg_fence_target(c, "*", false, pod, sizeof(pod), err, sizeof(err)), MGO_EINVAL);
  assert_int_equal(kmg_fence_target(c, "2", false, pod, sizeof(pod), err, sizeof(err)), MGO_OK);
  assert_string_equal(pod, "mg-2");
  char why[256];
  assert_true(kmg_switchover_blocked(c, "mg-1", why, sizeof(why)));
  assert_non_null(strstr(why, "mg-1 is fenced"));
  assert_false(kmg_switchover_blocked(c, "mg-2", why, sizeof(why)));
  assert_string_equal(why, "");
  json_t *ann = json_object_get(json_object_get(c, "metadata"), "annotations");
  json_object_set_new(ann, KMG_ANN_HIBERNATION, json_string("on"));
  assert_true(kmg_switchover_blocked(c, "mg-2", why, sizeof(why)));
  assert_non_null(strstr(why, "mg hibernates"));
  json_object_set_new(ann, KMG_ANN_RECONCILE, json_string("paused"));
  assert_true(kmg_switchover_blocked(c, "mg-2", why, sizeof(why)));
  assert_non_null(strstr(why, "reconciliation of mg is paused"));
  json_decref(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resolve),
      cmocka_unit_test(test_ordinal),
      cmocka_unit_test(test_fence_edits),
      cmocka_unit_test(test_fence_refuses_garbage),
      cmocka_unit_test(test_patches),
      cmocka_unit_test(test_is_fenced),
      cmocka_unit_test(test_fence_targets_and_switchover_blockers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
