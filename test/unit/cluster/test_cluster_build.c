/* Golden-file tests of the builders: each sample under config/samples/ is parsed, every managed object
 * is built, and the set is compared byte for byte with test/unit/cluster/golden/<sample>.json (sorted
 * keys, indent 2). MGO_UPDATE_GOLDEN=1 rewrites the files; review the change with git diff. */
#include "cluster.h"
#include "cluster_build.h"
#include "golden.h"
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
  json_t *sts = NULL, *hl = NULL, *wr = NULL, *rd = NULL, *pdb = NULL, *sa = NULL, *tok = NULL, *role = NULL,
         *binding = NULL;
  assert_int_equal(mgo_build_pdb(c, &pdb),
                   c->spec.pdb_enabled ? MGO_OK : MGO_EINVAL); /* not wanted: a code */
  assert_int_equal(mgo_build_statefulset(c, &opts, &sts), MGO_OK);
  assert_int_equal(mgo_build_headless_service(c, &hl), MGO_OK);
  assert_int_equal(mgo_build_write_service(c, &wr), MGO_OK);
  assert_int_equal(mgo_build_read_service(c, &rd), MGO_OK);
  assert_int_equal(mgo_build_service_account(c, &sa), MGO_OK);
  assert_int_equal(mgo_build_agent_token_secret(c, "", &tok), MGO_EINVAL); /* a token is required */
  assert_int_equal(mgo_build_agent_token_secret(c, "0123abcd", &tok), MGO_OK);
  assert_int_equal(mgo_build_agent_role(c, &role), MGO_OK);
  assert_int_equal(mgo_build_agent_role_binding(c, &binding), MGO_OK);
  return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "statefulset", sts, "headlessService", hl,
                   "writeService", wr, "readService", rd, "podDisruptionBudget",
                   pdb != NULL ? pdb : json_null(), "serviceAccount", sa, "agentTokenSecret", tok,
                   "agentRole", role, "agentRoleBinding", binding);
}

static void check_golden(const char *sample)
{
  char rel[256], golden_rel[256];
  json_t *obj, *all;
  struct mgo_cluster c;
  struct mgo_cluster_errs errs;

  snprintf(rel, sizeof(rel), "config/samples/memgraphcluster-%s.yaml", sample);
  snprintf(golden_rel, sizeof(golden_rel), "test/unit/cluster/golden/%s.json", sample);
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
  mgo_test_golden_json(golden_rel, all);
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
  assert_int_equal(mgo_build_memgraph_args(&c, &args), MGO_OK);
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
  assert_int_equal(mgo_build_statefulset(&c, &opts, &sts), MGO_OK);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(sts, "spec"), "replicas")), 3);
  json_decref(sts);
  opts.operator_image = NULL;
  assert_int_equal(mgo_build_statefulset(&c, &opts, &sts), MGO_EINVAL);
  assert_null(sts);
  json_decref(obj);
  mgo_cluster_free(&c);
}

/* The named container of list, or NULL. */
static const json_t *named(const json_t *list, const char *name)
{
  size_t i;
  const json_t *x;
  json_array_foreach(list, i, x)
  {
    const char *n = json_string_value(json_object_get(x, "name"));
    if (n != NULL && strcmp(n, name) == 0)
      return x;
  }
  return NULL;
}

static void test_drill_pod_needs_a_backup(void **state)
{
  json_error_t jerr;
  json_t *obj = json_loads("{\"metadata\":{\"name\":\"mg\",\"namespace\":\"db\",\"uid\":\"u1\"},\"spec\":{}}",
                           0, &jerr);
  struct mgo_cluster c;
  struct mgo_build_opts opts = {.operator_image = "op:1", .replicas = -1, .restore_secret = "s3-creds"};
  json_t *pod = NULL;
  (void) state;
  assert_int_equal(mgo_cluster_parse(obj, &c, NULL), MGO_OK);
  assert_int_equal(mgo_build_drill_pod(&c, &opts, NULL, &pod), MGO_EINVAL);
  assert_null(pod);
  assert_int_equal(mgo_build_drill_pod(&c, &opts, "", &pod), MGO_EINVAL);
  assert_null(pod);
  json_decref(obj);
  mgo_cluster_free(&c);
}

/* The drill pod is the StatefulSet's pod template on emptyDir, without the sidecar or its token. */
static void test_drill_pod_is_the_template_on_empty_dirs(void **state)
{
  json_error_t jerr;
  json_t *obj = json_loads("{\"metadata\":{\"name\":\"mg\",\"namespace\":\"db\",\"uid\":\"u1\"},\"spec\":{}}",
                           0, &jerr);
  struct mgo_cluster c;
  struct mgo_build_opts opts = {.operator_image = "op:1", .replicas = -1, .restore_secret = "s3-creds"};
  json_t *pod = NULL, *sts = NULL;
  const json_t *tmpl, *spec, *init, *e, *v, *owner;
  size_t i;
  bool key_id = false;
  (void) state;
  assert_int_equal(mgo_cluster_parse(obj, &c, NULL), MGO_OK);
  assert_int_equal(mgo_build_statefulset(&c, &opts, &sts), MGO_OK);
  assert_int_equal(mgo_build_drill_pod(&c, &opts, "b1", &pod), MGO_OK);
  assert_non_null(pod);
  tmpl = json_object_get(json_object_get(json_object_get(sts, "spec"), "template"), "spec");
  spec = json_object_get(pod, "spec");
  assert_string_equal(json_string_value(json_object_get(json_object_get(pod, "metadata"), "name")),
                      "mg-drill");
  assert_string_equal(json_string_value(json_object_get(pod, "kind")), "Pod");
  assert_int_equal(json_array_size(json_object_get(spec, "containers")), 1);
  assert_true(json_equal(named(json_object_get(spec, "containers"), "memgraph"),
                         named(json_object_get(tmpl, "containers"), "memgraph")));
  assert_null(named(json_object_get(spec, "containers"), "agent"));
  assert_true(json_equal(json_object_get(spec, "initContainers"), json_object_get(tmpl, "initContainers")));
  init = named(json_object_get(spec, "initContainers"), "operator-agent");
  assert_non_null(init);
  json_array_foreach(json_object_get(init, "env"), i, e)
  {
    if (strcmp(json_string_value(json_object_get(e, "name")), "MGO_RESTORE_ACCESS_KEY_ID") == 0) {
      key_id = true;
      assert_string_equal(json_string_value(json_object_get(
                              json_object_get(json_object_get(e, "valueFrom"), "secretKeyRef"), "name")),
                          "s3-creds");
    }
  }
  assert_true(key_id);
  assert_string_equal(json_string_value(json_object_get(spec, "restartPolicy")), "Never");
  v = named(json_object_get(spec, "volumes"), "data");
  assert_non_null(v);
  assert_true(json_is_object(json_object_get(v, "emptyDir")));
  assert_null(json_object_get(v, "persistentVolumeClaim"));
  v = named(json_object_get(spec, "volumes"), "logs");
  assert_non_null(v);
  assert_true(json_is_object(json_object_get(v, "emptyDir")));
  assert_null(named(json_object_get(spec, "volumes"), MGO_AGENT_TOKEN_VOLUME));
  assert_null(named(json_object_get(spec, "volumes"), MGO_AGENT_API_VOLUME));
  assert_null(named(json_object_get(tmpl, "volumes"), "data")); /* the template's are claims */
  assert_non_null(named(json_object_get(tmpl, "volumes"), MGO_AGENT_TOKEN_VOLUME));
  owner = json_array_get(json_object_get(json_object_get(pod, "metadata"), "ownerReferences"), 0);
  assert_string_equal(json_string_value(json_object_get(owner, "kind")), "MemgraphCluster");
  assert_string_equal(json_string_value(json_object_get(owner, "name")), "mg");
  assert_string_equal(json_string_value(json_object_get(owner, "uid")), "u1");
  json_decref(pod);
  json_decref(sts);
  json_decref(obj);
  mgo_cluster_free(&c);
}

/* The ServiceAccount token reaches the agent sidecar only: the pod automounts nothing, and neither Memgraph
 * nor the init step mounts the agent's projected volume. */
static void test_only_the_agent_sidecar_gets_the_api_token(void **state)
{
  json_error_t jerr;
  json_t *obj = json_loads("{\"metadata\":{\"name\":\"mg\",\"namespace\":\"db\",\"uid\":\"u1\"},\"spec\":{}}",
                           0, &jerr);
  struct mgo_cluster c;
  struct mgo_build_opts opts = {.operator_image = "op:1", .replicas = -1};
  json_t *sts = NULL;
  const json_t *spec, *list, *container, *mount;
  size_t i;
  (void) state;
  assert_int_equal(mgo_cluster_parse(obj, &c, NULL), MGO_OK);
  assert_int_equal(mgo_build_statefulset(&c, &opts, &sts), MGO_OK);
  spec = json_object_get(json_object_get(json_object_get(sts, "spec"), "template"), "spec");
  assert_true(json_is_false(json_object_get(spec, "automountServiceAccountToken")));
  assert_non_null(named(json_object_get(spec, "volumes"), MGO_AGENT_API_VOLUME));
  for (int which = 0; which < 2; which++) {
    list = json_object_get(spec, which == 0 ? "containers" : "initContainers");
    json_array_foreach(list, i, container)
    {
      bool agent = strcmp(json_string_value(json_object_get(container, "name")), "agent") == 0;
      mount = named(json_object_get(container, "volumeMounts"), MGO_AGENT_API_VOLUME);
      assert_int_equal(mount != NULL, agent);
      if (agent) {
        assert_string_equal(json_string_value(json_object_get(mount, "mountPath")), MGO_AGENT_API_DIR);
        assert_true(json_is_true(json_object_get(mount, "readOnly")));
      }
    }
  }
  json_decref(sts);
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
      cmocka_unit_test(test_drill_pod_needs_a_backup),
      cmocka_unit_test(test_drill_pod_is_the_template_on_empty_dirs),
      cmocka_unit_test(test_only_the_agent_sidecar_gets_the_api_token),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
