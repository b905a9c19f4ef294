/* Unit tests: Kubernetes Status parsing, HTTP code mapping, path building and escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "k8s_path.h"
#include "k8s_status.h"
#include "mgo_err.h"

static const char conflict_body[] =
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
    "\"Operation "
    "cannot be fulfilled on configmaps \\\"a\\\": the object has been modified; please apply your changes to "
    "the "
    "latest version and try "
    "again\",\"reason\":\"Conflict\",\"details\":{\"name\":\"a\",\"kind\":\"configmaps\"},"
    "\"code\":409}\n";

static void test_status_conflict(void **state)
{
  (void) state;
  struct k8s_status st;
  int rc = k8s_status_from_response(&st, 409, conflict_body, strlen(conflict_body));
  assert_int_equal(rc, MGO_ECONFLICT);
  assert_int_equal(st.code, 409);
  assert_string_equal(st.reason, "Conflict");
  assert_non_null(strstr(st.message, "the object has been modified"));
}

static void test_status_not_found_and_gone(void **state)
{
  (void) state;
  static const char nf[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
                           "\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\",\"code\":404}";
  static const char gone[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
                             "\"too old resource version: 5 (100)\",\"reason\":\"Expired\",\"code\":410}";
  struct k8s_status st;
  assert_int_equal(k8s_status_from_response(&st, 404, nf, strlen(nf)), MGO_ENOTFOUND);
  assert_string_equal(st.reason, "NotFound");
  assert_string_equal(st.message, "pods \"x\" not found");
  assert_int_equal(k8s_status_from_response(&st, 410, gone, strlen(gone)), MGO_EGONE);
  assert_string_equal(st.reason, "Expired");
}

/* What the API server answers when an object is created in a namespace being deleted (NamespaceLifecycle
 * admission): the operator recognises it by the cause, not by the message text. */
static void test_status_keeps_the_first_cause(void **state)
{
  (void) state;
  static const char body[] =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"services "
      "\\\"mg-hl\\\" is "
      "forbidden: unable to create new content in namespace db because it is being terminated\",\"reason\":"
      "\"Forbidden\",\"details\":{\"name\":\"mg-hl\",\"kind\":\"services\",\"causes\":[{\"reason\":"
      "\"NamespaceTerminating\",\"message\":\"namespace db is being terminated\",\"field\":"
      "\"metadata.namespace\"}]},\"code\":403}";
  struct k8s_status st;
  assert_int_equal(k8s_status_from_response(&st, 403, body, strlen(body)), MGO_EFORBIDDEN);
  assert_string_equal(st.reason, "Forbidden");
  assert_string_equal(st.cause, "NamespaceTerminating");
  assert_int_equal(k8s_status_from_response(&st, 409, conflict_body, strlen(conflict_body)), MGO_ECONFLICT);
  assert_string_equal(st.cause, ""); /* details without causes */
}

static void test_status_code_mapping(void **state)
{
  (void) state;
  assert_int_equal(k8s_status_rc(200), MGO_OK);
  assert_int_equal(k8s_status_rc(201), MGO_OK);
  assert_int_equal(k8s_status_rc(400), MGO_EINVALIDOBJ);
  assert_int_equal(k8s_status_rc(401), MGO_EUNAUTHORIZED);
  assert_int_equal(k8s_status_rc(403), MGO_EFORBIDDEN);
  assert_int_equal(k8s_status_rc(404), MGO_ENOTFOUND);
  assert_int_equal(k8s_status_rc(409), MGO_ECONFLICT);
  assert_int_equal(k8s_status_rc(410), MGO_EGONE);
  assert_int_equal(k8s_status_rc(422), MGO_EINVALIDOBJ);
  assert_int_equal(k8s_status_rc(429), MGO_ESERVER);
  assert_int_equal(k8s_status_rc(500), MGO_ESERVER);
  assert_int_equal(k8s_status_rc(503), MGO_ESERVER);
  assert_int_equal(k8s_status_rc(504), MGO_ETIMEDOUT);
  assert_int_equal(k8s_status_rc(302), MGO_EHTTP);
  assert_int_equal(k8s_status_rc(0), MGO_EHTTP);
}

static void test_status_garbage_body(void **state)
{
  (void) state;
  struct k8s_status st;
  static const char garbage[] = "<html>\x01\x02 bad gateway</html>";
  assert_int_equal(k8s_status_from_response(&st, 502, garbage, sizeof(garbage) - 1), MGO_ESERVER);
  assert_int_equal(st.code, 502);
  assert_string_equal(st.reason, "");
  assert_string_equal(st.message, "<html>?? bad gateway</html>"); /* unprintable bytes replaced */
}

static void test_status_truncated_json(void **state)
{
  (void) state;
  struct k8s_status st;
  size_t cut[] = {0, 1, 10, 40, strlen(conflict_body) - 3};
  for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
    int rc = k8s_status_from_response(&st, 409, conflict_body, cut[i]);
    assert_int_equal(rc, MGO_ECONFLICT); /* the HTTP code still decides */
    assert_string_equal(st.reason, "");
    assert_int_equal(strlen(st.message), cut[i] < 200 ? cut[i] : 200);
  }
}

static void test_status_wrong_types_and_huge_message(void **state)
{
  (void) state;
  struct k8s_status st;
  static const char wrong[] = "{\"kind\":\"Status\",\"reason\":42,\"message\":[1,2],\"code\":\"x\"}";
  assert_int_equal(k8s_status_from_response(&st, 500, wrong, strlen(wrong)), MGO_ESERVER);
  assert_string_equal(st.reason, "");
  assert_string_equal(st.message, "");
  char big[4096];
  int n =
      snprintf(big, sizeof(big), "{\"kind\":\"Status\",\"reason\":\"%0300d\",\"message\":\"%02000d\"}", 7, 9);
  assert_int_equal(k8s_status_from_response(&st, 422, big, (size_t) n), MGO_EINVALIDOBJ);
  assert_int_equal(strlen(st.reason), K8S_REASON_MAX - 1);
  assert_int_equal(strlen(st.message), K8S_MESSAGE_MAX - 1);
}

static void test_status_success_and_local(void **state)
{
  (void) state;
  struct k8s_status st;
  assert_int_equal(k8s_status_from_response(&st, 200, "{\"kind\":\"Pod\"}", 14), MGO_OK);
  assert_string_equal(st.message, "");
  assert_int_equal(k8s_status_local(&st, MGO_ETIMEDOUT, "after %d ms", 5), MGO_ETIMEDOUT);
  assert_int_equal(st.code, 0);
  assert_string_equal(st.message, "after 5 ms");
}

static void test_path_core_and_groups(void **state)
{
  (void) state;
  char p[K8S_PATH_MAX];
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PODS, NULL, NULL, NULL), MGO_OK);
  assert_string_equal(p, "/api/v1/pods");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PODS, "db", "mg-0", NULL), MGO_OK);
  assert_string_equal(p, "/api/v1/namespaces/db/pods/mg-0");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PODS, "db", "mg-0", "status"), MGO_OK);
  assert_string_equal(p, "/api/v1/namespaces/db/pods/mg-0/status");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_STATEFULSETS, "db", "mg", NULL), MGO_OK);
  assert_string_equal(p, "/apis/apps/v1/namespaces/db/statefulsets/mg");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PDBS, "db", NULL, NULL), MGO_OK);
  assert_string_equal(p, "/apis/policy/v1/namespaces/db/poddisruptionbudgets");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_JOBS, "db", "j", NULL), MGO_OK);
  assert_string_equal(p, "/apis/batch/v1/namespaces/db/jobs/j");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_LEASES, "sys", "op", NULL), MGO_OK);
  assert_string_equal(p, "/apis/coordination.k8s.io/v1/namespaces/sys/leases/op");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_EVENTS, "db", NULL, NULL), MGO_OK);
  assert_string_equal(p, "/apis/events.k8s.io/v1/namespaces/db/events");
  struct k8s_resource cr = {"memgraph.io", "v1alpha1", "memgraphclusters", true};
  assert_int_equal(k8s_path(p, sizeof(p), &cr, "db", "demo", "status"), MGO_OK);
  assert_string_equal(p, "/apis/memgraph.io/v1alpha1/namespaces/db/memgraphclusters/demo/status");
}

static void test_path_cluster_scoped(void **state)
{
  (void) state;
  char p[K8S_PATH_MAX];
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_NAMESPACES, "ignored", "db", NULL), MGO_OK);
  assert_string_equal(p, "/api/v1/namespaces/db");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_CRDS, NULL, "x.memgraph.io", NULL), MGO_OK);
  assert_string_equal(p, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.memgraph.io");
}

static void test_path_escaping_and_refusals(void **state)
{
  (void) state;
  char p[K8S_PATH_MAX];
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PODS, "a/b", "x?y#z %", NULL), MGO_OK);
  assert_string_equal(p, "/api/v1/namespaces/a%2Fb/pods/x%3Fy%23z%20%25");
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PODS, "db", "..", NULL), MGO_EINVAL);
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PODS, ".", "x", NULL), MGO_EINVAL);
  assert_int_equal(k8s_path(p, sizeof(p), &K8S_RES_PODS, "db", NULL, "status"), MGO_EINVAL);
  assert_string_equal(p, "");
  char tiny[16];
  assert_int_equal(k8s_path(tiny, sizeof(tiny), &K8S_RES_PODS, "db", "mg-0", NULL), MGO_ETOOBIG);
  assert_string_equal(tiny, "");
}

static void test_query_building(void **state)
{
  (void) state;
  struct mgo_buf q = MGO_BUF_INIT(1024);
  assert_int_equal(k8s_query_add(&q, "labelSelector", "app=mg,role in (main,replica)"), MGO_OK);
  assert_int_equal(k8s_query_add(&q, "fieldSelector", NULL), MGO_OK); /* skipped */
  assert_int_equal(k8s_query_add(&q, "continue", "eyJ2Ijoi+/="), MGO_OK);
  assert_string_equal(mgo_buf_str(&q), "?labelSelector=app%3Dmg%2Crole%20in%20%28main%2Creplica%29"
                                       "&continue=eyJ2Ijoi%2B%2F%3D");
  mgo_buf_free(&q);
  struct mgo_buf small = MGO_BUF_INIT(8);
  assert_int_equal(k8s_query_add(&small, "limit", "500000"), MGO_ETOOBIG);
  mgo_buf_free(&small);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_conflict),
      cmocka_unit_test(test_status_not_found_and_gone),
      cmocka_unit_test(test_status_keeps_the_first_cause),
      cmocka_unit_test(test_status_code_mapping),
      cmocka_unit_test(test_status_garbage_body),
      cmocka_unit_test(test_status_truncated_json),
      cmocka_unit_test(test_status_wrong_types_and_huge_message),
      cmocka_unit_test(test_status_success_and_local),
      cmocka_unit_test(test_path_core_and_groups),
      cmocka_unit_test(test_path_cluster_scoped),
      cmocka_unit_test(test_path_escaping_and_refusals),
      cmocka_unit_test(test_query_building),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
