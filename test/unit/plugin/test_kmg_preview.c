/* `kubectl memgraph preview`: refusals (immutable fields, operator validation), pod template changes and the
 * restart order, against golden text (test/unit/plugin/golden/preview_*.txt; MGO_UPDATE_GOLDEN=1 rewrites);
 * the immutable table against every oldSelf rule of the CRD; the JSON diff. */
#include "kmg_golden.h"
#include "kmg_preview.h"
#include "kmg_yaml.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DIR "test/unit/plugin/golden/"

/* The live cluster and a copy to change. */
static void load(json_t **current, json_t **changed)
{
  *current = kmg_test_load_json(DIR "cluster_running.json");
  *changed = json_deep_copy(*current);
  json_object_del(*changed, "status");
}

static const char *run(const json_t *current, const json_t *changed, bool *refused, struct mgo_buf *out)
{
  struct kmg_preview_input in = {.current = current, .changed = changed, .operator_image = "op:1"};
  char err[256] = "";
  mgo_buf_reset(out);
  int rc = kmg_preview(&in, out, refused, err, sizeof(err));
  if (rc != MGO_OK) {
    fail_msg("kmg_preview: %d %s", rc, err);
  }
  return mgo_buf_str(out);
}

static json_t *spec_of(json_t *obj)
{
  return json_object_get(obj, "spec");
}

static void test_image_change_restarts_replicas_first(void **state)
{
  (void) state;
  json_t *current, *changed;
  load(&current, &changed);
  json_object_set_new(spec_of(changed), "image", json_string("memgraph/memgraph:3.13.0"));
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  bool refused = true;
  kmg_test_golden_text(DIR "preview_image.txt", run(current, changed, &refused, &out));
  assert_false(refused);
  /* Supervised: the approval comes before the switchover */
  json_object_set_new(spec_of(changed), "updateStrategy", json_pack("{s:s}", "type", "Supervised"));
  const char *text = run(current, changed, &refused, &out);
  const char *approve = strstr(text, "memgraph.io/approve-main-update");
  const char *sw = strstr(text, "switchover mg-1 -> mg-0");
  assert_non_null(approve);
  assert_non_null(sw);
  assert_true(approve < sw);
  mgo_buf_free(&out);
  json_decref(current);
  json_decref(changed);
}

static void test_immutable_and_invalid_are_refused(void **state)
{
  (void) state;
  json_t *current, *changed;
  load(&current, &changed);
  json_object_set_new(spec_of(changed), "storage", json_pack("{s:s}", "size", "20Gi"));
  json_object_set_new(spec_of(changed), "bootstrap", json_pack("{s:{s:s}}", "restore", "backup", "b1"));
  json_object_set_new(json_object_get(spec_of(changed), "replication"), "syncReplicas", json_integer(3));
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  bool refused = false;
  kmg_test_golden_text(DIR "preview_refused.txt", run(current, changed, &refused, &out));
  assert_true(refused);
  mgo_buf_free(&out);
  json_decref(current);
  json_decref(changed);
}

static void test_unchanged_and_scaled(void **state)
{
  (void) state;
  json_t *current, *changed;
  load(&current, &changed);
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  bool refused = true;
  const char *text = run(current, changed, &refused, &out);
  assert_false(refused);
  assert_non_null(strstr(text, "Pod template: unchanged: no pod restarts\n"));
  assert_non_null(strstr(text, "Spec changes: none\n"));
  /* scale down past the MAIN (mg-1): it is switched over first; a switchover request is named */
  json_object_set_new(spec_of(changed), "instances", json_integer(1));
  json_object_set_new(json_object_get(spec_of(changed), "replication"), "syncReplicas", json_integer(0));
  text = run(current, changed, &refused, &out);
  assert_false(refused);
  assert_non_null(strstr(text, "Scaling: 3 -> 1 instances: removes mg-1..mg-2\n"));
  assert_non_null(strstr(text, "the MAIN mg-1 is removed: the operator first switches it over"));
  json_object_set_new(spec_of(changed), "instances", json_integer(3));
  json_object_set_new(spec_of(changed), "switchover", json_pack("{s:i}", "targetOrdinal", 2));
  text = run(current, changed, &refused, &out);
  assert_non_null(strstr(text, "Switchover: spec.switchover.targetOrdinal=2: mg-2 becomes the MAIN"));
  mgo_buf_free(&out);
  json_decref(current);
  json_decref(changed);
}

/* Every x-kubernetes-validations rule of the CRD that reads oldSelf has its message in kmg_immutable_fields.
 */
static void collect_old_self(const json_t *v, size_t *found)
{
  if (json_is_array(v)) {
    size_t i;
    const json_t *x;
    json_array_foreach(v, i, x)
    {
      collect_old_self(x, found);
    }
    return;
  }
  const char *rule = json_string_value(json_object_get(v, "rule"));
  const char *message = json_string_value(json_object_get(v, "message"));
  if (rule != NULL && message != NULL && strstr(rule, "oldSelf") != NULL) {
    bool listed = false;
    for (size_t i = 0; kmg_immutable_fields[i].field != NULL; i++) {
      listed = listed || strcmp(kmg_immutable_fields[i].message, message) == 0;
    }
    if (!listed) {
      fail_msg("CRD rule \"%s\" (%s) is not in kmg_immutable_fields", rule, message);
    }
    (*found)++;
  }
  const char *key;
  const json_t *x;
  json_object_foreach((json_t *) v, key, x)
  {
    collect_old_self(x, found);
  }
}

static void test_immutable_table_matches_the_crd(void **state)
{
  (void) state;
  char path[1024];
  const char *root = getenv("MGO_SOURCE_DIR");
  mgo_snprintf(path, sizeof(path), "%s/config/crd/memgraph.io_memgraphclusters.yaml", root ? root : ".");
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  struct mgo_buf text = MGO_BUF_INIT(8 << 20);
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    assert_int_equal(mgo_buf_add(&text, chunk, n), MGO_OK);
  }
  fclose(f);
  json_t *crd = NULL;
  char err[256] = "";
  assert_int_equal(kmg_yaml_load(mgo_buf_str(&text), text.len, &crd, err, sizeof(err)), MGO_OK);
  size_t found = 0;
  collect_old_self(crd, &found);
  size_t listed = 0;
  while (kmg_immutable_fields[listed].field != NULL) {
    listed++;
  }
  assert_int_equal(found, listed);
  json_decref(crd);
  mgo_buf_free(&text);
}

static void test_json_diff(void **state)
{
  (void) state;
  json_t *a = json_loads("{\"x\":1,\"c\":[{\"name\":\"m\",\"image\":\"a\"},{\"name\":\"s\"}],\"gone\":true}",
                         0, NULL);
  json_t *b = json_loads("{\"x\":2,\"c\":[{\"name\":\"m\",\"image\":\"b\"},{\"name\":\"t\"}],\"new\":\"v\"}",
                         0, NULL);
  struct mgo_buf out = MGO_BUF_INIT(4096);
  assert_int_equal(kmg_json_diff(a, b, "t", "- ", 10, &out), 5);
  assert_string_equal(mgo_buf_str(&out), "- t.x: 1 -> 2\n"
                                         "- t.c[name=m].image: \"a\" -> \"b\"\n"
                                         "- t.c[1].name: \"s\" -> \"t\"\n"
                                         "- t.gone: true -> (unset)\n"
                                         "- t.new: (unset) -> \"v\"\n");
  mgo_buf_reset(&out);
  assert_int_equal(kmg_json_diff(a, b, "t", "", 2, &out), 5); /* counts all, shows 2 */
  assert_int_equal(kmg_json_diff(a, a, "t", "", 2, &out), 0);
  mgo_buf_free(&out);
  json_decref(a);
  json_decref(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_image_change_restarts_replicas_first),
      cmocka_unit_test(test_immutable_and_invalid_are_refused),
      cmocka_unit_test(test_unchanged_and_scaled),
      cmocka_unit_test(test_immutable_table_matches_the_crd),
      cmocka_unit_test(test_json_diff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
