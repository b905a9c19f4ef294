/* The resource classes of the request counters (k8s_request_resource_of): a fixed table, "other" for the
 * rest, so mgo_kube_requests_total{verb,resource} stays bounded whatever paths the operator requests. */
#include "k8s_client.h"
#include "mgo_buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const char *class_of(const char *path)
{
  return k8s_request_resource_name(k8s_request_resource_of(path));
}

static void paths_map_to_their_plural(void **state)
{
  (void) state;
  assert_string_equal(class_of("/api/v1/namespaces/db/pods/mg-0"), "pods");
  assert_string_equal(class_of("/api/v1/namespaces/db/pods/mg-0/status"), "pods");
  assert_string_equal(class_of("/api/v1/namespaces/db/pods"), "pods");
  assert_string_equal(class_of("/api/v1/pods"), "pods");
  assert_string_equal(class_of("/apis/apps/v1/namespaces/db/statefulsets/mg"), "statefulsets");
  assert_string_equal(class_of("/apis/memgraph.io/v1alpha1/namespaces/db/memgraphclusters/mg/status"),
                      "memgraphclusters");
  assert_string_equal(class_of("/apis/memgraph.io/v1alpha1/memgraphbackups"), "memgraphbackups");
  assert_string_equal(class_of("/apis/coordination.k8s.io/v1/namespaces/s/leases/memgraph-operator"),
                      "leases");
  assert_string_equal(class_of("/apis/events.k8s.io/v1/namespaces/db/events"), "events");
  assert_string_equal(class_of("/api/v1/namespaces/db/secrets/mg-agent-token"), "secrets");
  assert_string_equal(class_of("/apis/policy/v1/namespaces/db/poddisruptionbudgets/mg"),
                      "poddisruptionbudgets");
}

static void namespaces_and_unknowns(void **state)
{
  (void) state;
  assert_string_equal(class_of("/api/v1/namespaces/db"), "namespaces");
  assert_string_equal(class_of("/api/v1/namespaces"), "namespaces");
  assert_string_equal(class_of("/version"), "other");
  assert_string_equal(class_of("/api/v1/namespaces/db/widgets/x"), "other");
  assert_string_equal(class_of("/apis/example.com/v1/namespaces/db/podsx"), "other");
  assert_string_equal(class_of(""), "other");
  assert_string_equal(class_of(NULL), "other");
  assert_string_equal(k8s_request_resource_name(K8S_REQ_RESOURCE_COUNT + 3), "other");
  assert_string_equal(k8s_request_resource_name(K8S_REQ_RESOURCE_COUNT - 1), "other");
}

/* Every class has a distinct name (a label value) and maps back to itself. */
static void the_table_is_closed(void **state)
{
  char path[128];
  (void) state;
  for (size_t i = 0; i + 1 < K8S_REQ_RESOURCE_COUNT; i++) {
    for (size_t j = i + 1; j < K8S_REQ_RESOURCE_COUNT; j++)
      assert_string_not_equal(k8s_request_resource_name(i), k8s_request_resource_name(j));
    if (strcmp(k8s_request_resource_name(i), "namespaces") == 0)
      continue;
    (void) mgo_snprintf(path, sizeof(path), "/api/v1/namespaces/db/%s/x", k8s_request_resource_name(i));
    assert_int_equal(k8s_request_resource_of(path), i);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(paths_map_to_their_plural),
      cmocka_unit_test(namespaces_and_unknowns),
      cmocka_unit_test(the_table_is_closed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
