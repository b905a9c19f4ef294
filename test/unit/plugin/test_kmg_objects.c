/* The objects kubectl-memgraph sends, the checks on what it reads back, and its error lines. */
#include "kmg_objects.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void assert_json(const json_t *v, const char *want)
{
  char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  assert_non_null(s);
  if (strcmp(s, want) != 0) {
    fail_msg("got  %s\nwant %s", s, want);
  }
  free(s);
}

static json_t *parse(const char *text)
{
  json_t *v = json_loads(text, 0, NULL);
  assert_non_null(v);
  return v;
}

static void test_switchover(void **state)
{
  (void) state;
  json_t *p = kmg_switchover_patch(2);
  assert_json(p, "{\"spec\":{\"switchover\":{\"targetOrdinal\":2}}}");
  json_decref(p);
  static const struct {
    const char *cluster;
    const char *target, *prev;
    bool done;
  } rows[] = {
      {"{}", "mg-1", NULL, false},
      {"{\"status\":{\"lastFailover\":{\"kind\":\"switchover\",\"to\":\"mg-1\",\"time\":\"t2\","
       "\"writeUnavailableMs\":7}}}",
       "mg-1", NULL, true},
      /* decided, not yet completed: the new MAIN is not in the write Service yet */
      {"{\"status\":{\"lastFailover\":{\"kind\":\"switchover\",\"to\":\"mg-1\",\"time\":\"t2\"}}}", "mg-1",
       NULL, false},
      {"{\"status\":{\"lastFailover\":{\"kind\":\"switchover\",\"to\":\"mg-1\",\"time\":\"t2\","
       "\"writeUnavailableMs\":0}}}",
       "mg-1", "t1", true},
      {"{\"status\":{\"lastFailover\":{\"kind\":\"switchover\",\"to\":\"mg-1\",\"time\":\"t1\","
       "\"writeUnavailableMs\":7}}}",
       "mg-1", "t1", false},
      {"{\"status\":{\"lastFailover\":{\"kind\":\"failover\",\"to\":\"mg-1\",\"time\":\"t2\","
       "\"writeUnavailableMs\":7}}}",
       "mg-1", "t1", false},
      {"{\"status\":{\"lastFailover\":{\"kind\":\"switchover\",\"to\":\"mg-2\",\"time\":\"t2\","
       "\"writeUnavailableMs\":7}}}",
       "mg-1", "t1", false},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    json_t *c = parse(rows[i].cluster);
    if (kmg_switchover_done(c, rows[i].target, rows[i].prev) != rows[i].done) {
      fail_msg("row %zu", i);
    }
    json_decref(c);
  }
}

static void test_backup_objects(void **state)
{
  (void) state;
  json_t *b = kmg_backup_object("b1", "mg", NULL);
  assert_json(
      b,
      "{\"apiVersion\":\"memgraph.io/v1alpha1\",\"kind\":\"MemgraphBackup\",\"metadata\":{\"name\":\"b1\"},"
      "\"spec\":{\"cluster\":\"mg\"}}");
  json_decref(b);
  b = kmg_backup_object("b1", "mg", "Main");
  assert_json(json_object_get(b, "spec"), "{\"cluster\":\"mg\",\"target\":\"Main\"}");
  json_decref(b);
  json_t *list =
      parse("{\"items\":[{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":\"2026-01-02T00:00:00Z\"},"
            "\"spec\":{\"cluster\":\"mg\"}},{\"metadata\":{\"name\":\"z\",\"creationTimestamp\":"
            "\"2026-01-03T00:00:00Z\"},\"spec\":{\"cluster\":\"other\"}},{\"metadata\":{\"name\":\"c\","
            "\"creationTimestamp\":\"2026-01-02T00:00:00Z\"},\"spec\":{\"cluster\":\"mg\"}}]}");
  const json_t *newest = kmg_newest_backup(list, "mg");
  assert_string_equal(json_string_value(json_object_get(json_object_get(newest, "metadata"), "name")), "c");
  assert_null(kmg_newest_backup(list, "nope"));
  json_decref(list);
}

static void test_backup_results(void **state)
{
  (void) state;
  json_t *ok = parse(
      "{\"metadata\":{\"name\":\"b1\"},\"status\":{\"phase\":\"Completed\",\"pod\":\"mg-1\",\"role\":"
      "\"replica\",\"sizeBytes\":2048,\"vertices\":40,\"edges\":1,\"sha256\":\"abc\",\"s3\":{\"bucket\":"
      "\"bk\",\"key\":\"p/ns/mg/b1/snap\"}}}");
  json_t *bad =
      parse("{\"metadata\":{\"name\":\"b2\"},\"status\":{\"phase\":\"Failed\",\"attempts\":3,\"error\":{"
            "\"source\":\"s3\",\"code\":\"NoSuchBucket\",\"message\":\"no bucket\"}}}");
  json_t *pending = parse("{\"metadata\":{\"name\":\"b3\"}}");
  assert_true(kmg_backup_finished(ok));
  assert_true(kmg_backup_finished(bad));
  assert_false(kmg_backup_finished(pending));
  struct mgo_buf out = MGO_BUF_INIT(4096);
  assert_int_equal(kmg_format_backup_result(ok, &out), MGO_OK);
  assert_int_equal(kmg_format_backup_result(bad, &out), MGO_OK);
  assert_string_equal(mgo_buf_str(&out),
                      "backup b1 Completed: pod mg-1 (replica), 2.0 KiB, 40 vertices, 1 edges\n"
                      "  s3://bk/p/ns/mg/b1/snap sha256 abc\n"
                      "backup b2 Failed after 3 attempts: s3/NoSuchBucket: no bucket\n");
  mgo_buf_free(&out);
  json_decref(ok);
  json_decref(bad);
  json_decref(pending);
}

static void test_restore_object(void **state)
{
  (void) state;
  json_t *src =
      parse("{\"metadata\":{\"name\":\"mg\",\"uid\":\"u\"},\"spec\":{\"instances\":3,\"switchover\":{"
            "\"targetOrdinal\":1},\"bootstrap\":{\"restore\":{\"backup\":\"old\"}},\"backup\":{\"s3\":{"
            "\"bucket\":\"bk\"}}},\"status\":{\"phase\":\"Running\"}}");
  char err[128] = "";
  json_t *obj = kmg_restore_object(src, "mg2", "b1", err, sizeof(err));
  assert_json(
      obj,
      "{\"apiVersion\":\"memgraph.io/v1alpha1\",\"kind\":\"MemgraphCluster\",\"metadata\":{\"name\":"
      "\"mg2\"},\"spec\":{\"backup\":{\"s3\":{\"bucket\":\"bk\"}},\"bootstrap\":{\"restore\":{\"backup\":"
      "\"b1\"}},\"instances\":3}}");
  json_decref(obj);
  /* the source is not modified */
  assert_non_null(json_object_get(json_object_get(src, "spec"), "switchover"));
  json_decref(src);
  json_t *empty = parse("{}");
  assert_null(kmg_restore_object(empty, "mg2", "b1", err, sizeof(err)));
  assert_string_equal(err, "the source cluster has no spec");
  json_decref(empty);
}

static void test_api_errors(void **state)
{
  (void) state;
  static const struct {
    int rc;
    long code;
    const char *reason, *message, *verb, *name;
    const char *want;
  } rows[] = {
      {MGO_ENOTFOUND, 404, "NotFound", "x", "get", "mg",
       "memgraphcluster \"mg\" not found in namespace \"db\""},
      {MGO_EFORBIDDEN, 403, "Forbidden", "User \"u\" cannot patch", "patch", "mg",
       "forbidden: you cannot patch memgraphclusters in namespace \"db\" (RBAC): User \"u\" cannot patch"},
      {MGO_EUNAUTHORIZED, 401, "Unauthorized", "Unauthorized", "get", "mg",
       "unauthorized: the API server refused the kubeconfig's credentials: Unauthorized"},
      {MGO_ECONFLICT, 409, "AlreadyExists", "exists", "create", "mg",
       "memgraphcluster \"mg\" already exists in namespace \"db\""},
      {MGO_ECONNECT, 0, "", "Connection refused", "get", "mg",
       "cannot reach the API server: Connection refused"},
      {MGO_EINVALIDOBJ, 422, "Invalid", "spec.instances must be at least 1.", "create", "mg",
       "the API server refused to create memgraphcluster \"mg\": spec.instances must be at least 1."},
      {MGO_ESERVER, 500, "InternalError", "boom", "list", NULL,
       "list memgraphclusters: ESERVER (HTTP 500): boom"},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    struct k8s_status st = {.code = rows[i].code};
    mgo_strlcpy(st.reason, rows[i].reason, sizeof(st.reason));
    mgo_strlcpy(st.message, rows[i].message, sizeof(st.message));
    char out[512];
    kmg_api_error(rows[i].rc, &st, rows[i].verb, "memgraphclusters", "db", rows[i].name, out, sizeof(out));
    if (strcmp(out, rows[i].want) != 0) {
      fail_msg("row %zu:\n got  %s\n want %s", i, out, rows[i].want);
    }
  }
}

static void test_misc(void **state)
{
  (void) state;
  char b[32];
  kmg_format_bytes(512, b, sizeof(b));
  assert_string_equal(b, "512 B");
  kmg_format_bytes(1288490, b, sizeof(b));
  assert_string_equal(b, "1.2 MiB");
  kmg_format_bytes((int64_t) 5 << 30, b, sizeof(b));
  assert_string_equal(b, "5.0 GiB");
  json_t *obj = parse("{\"metadata\":{\"name\":\"a\",\"managedFields\":[1]},\"items\":[{\"metadata\":{"
                      "\"managedFields\":[2],\"name\":\"p\"}}]}");
  json_t *clean = kmg_strip_managed_fields(obj);
  assert_json(clean, "{\"items\":[{\"metadata\":{\"name\":\"p\"}}],\"metadata\":{\"name\":\"a\"}}");
  assert_non_null(json_object_get(json_object_get(obj, "metadata"), "managedFields"));
  json_decref(clean);
  json_decref(obj);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_switchover),     cmocka_unit_test(test_backup_objects),
      cmocka_unit_test(test_backup_results), cmocka_unit_test(test_restore_object),
      cmocka_unit_test(test_api_errors),     cmocka_unit_test(test_misc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
