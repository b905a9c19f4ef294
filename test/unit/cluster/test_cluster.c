/* Unit tests of the MemgraphCluster API: defaults (against the CRD), parsing, validation, names. */
#include "cluster.h"
#include "cluster_fields.h"
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

#define CRD_PATH "config/crd/memgraph.io_memgraphclusters.yaml"

static json_t *crd_spec_schema(json_t *crd)
{
  json_t *version = json_array_get(json_object_get(json_object_get(crd, "spec"), "versions"), 0);
  json_t *root = json_object_get(json_object_get(version, "schema"), "openAPIV3Schema");
  return json_object_get(json_object_get(root, "properties"), "spec");
}

/* Schema node of a dotted path below spec. */
static json_t *schema_at(json_t *spec_schema, const char *path)
{
  char buf[128];
  json_t *node = spec_schema;
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *part = strtok(buf, "."); part != NULL && node != NULL; part = strtok(NULL, "."))
    node = json_object_get(json_object_get(node, "properties"), part);
  return node;
}

/* The C default of a field as the JSON value the API server would fill in. */
static json_t *c_default_json(const struct mgo__cluster_field *f)
{
  switch (f->kind) {
  case MGO__F_I32:
  case MGO__F_I64:
    return json_integer(f->def_int);
  case MGO__F_BOOL:
    return json_boolean(f->def_int);
  case MGO__F_STR:
    return json_string(f->def_str);
  case MGO__F_ENUM:
    for (const struct mgo_enum_name *n = f->names; n->name != NULL; n++) {
      if (n->value == f->def_int)
        return json_string(n->name);
    }
    return NULL;
  default:
    return NULL;
  }
}

static void test_defaults_match_crd(void **state)
{
  json_t *crd = test_yaml_source_file(CRD_PATH);
  json_t *spec_schema;
  (void) state;
  assert_non_null(crd);
  spec_schema = crd_spec_schema(crd);
  assert_non_null(spec_schema);
  for (size_t i = 0; i < mgo__cluster_nfields; i++) {
    const struct mgo__cluster_field *f = &mgo__cluster_fields[i];
    json_t *node = schema_at(spec_schema, f->path);
    json_t *crd_def = json_object_get(node, "default");
    json_t *c_def = c_default_json(f);
    if (node == NULL)
      fail_msg("field %s is not in the CRD", f->path);
    if (f->crd_default != (crd_def != NULL))
      fail_msg("field %s: C says crd_default=%d, the CRD %s a default", f->path, f->crd_default,
               crd_def != NULL ? "has" : "has no");
    if (crd_def != NULL && !json_equal(crd_def, c_def))
      fail_msg("field %s: CRD default %s differs from the C default %s", f->path,
               json_dumps(crd_def, JSON_ENCODE_ANY), json_dumps(c_def, JSON_ENCODE_ANY));
    json_decref(c_def);
  }
  json_decref(crd);
}

/* The reverse direction: every non-object default in the CRD's spec is in the C table. */
static void check_crd_defaults_known(json_t *node, const char *path)
{
  const char *key;
  json_t *child;
  json_t *def = json_object_get(node, "default");
  if (def != NULL && !json_is_object(def)) {
    bool found = false;
    for (size_t i = 0; i < mgo__cluster_nfields; i++)
      found = found || strcmp(mgo__cluster_fields[i].path, path) == 0;
    if (!found)
      fail_msg("the CRD defaults %s but the C table does not know the field", path);
  }
  json_object_foreach(json_object_get(node, "properties"), key, child)
  {
    char sub[160];
    snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] != '\0' ? "." : "", key);
    check_crd_defaults_known(child, sub);
  }
}

static void test_crd_defaults_known_to_c(void **state)
{
  json_t *crd = test_yaml_source_file(CRD_PATH);
  (void) state;
  assert_non_null(crd);
  check_crd_defaults_known(crd_spec_schema(crd), "");
  json_decref(crd);
}

static const char *extra_flags_rule(json_t *crd)
{
  json_t *node = schema_at(crd_spec_schema(crd), "memgraph.extraFlags");
  json_t *rule = json_array_get(json_object_get(node, "x-kubernetes-validations"), 0);
  return json_string_value(json_object_get(rule, "rule"));
}

static void test_owned_flags_match_crd_rule(void **state)
{
  json_t *crd = test_yaml_source_file(CRD_PATH);
  const char *rule;
  size_t listed = 0, quoted = 0;
  (void) state;
  assert_non_null(crd);
  rule = extra_flags_rule(crd);
  assert_non_null(rule);
  for (const char *const *d = mgo_cluster_owned_flags; *d != NULL; d++, listed++) {
    char quoted_flag[96];
    snprintf(quoted_flag, sizeof(quoted_flag), "'%s'", *d);
    if (strstr(rule, quoted_flag) == NULL)
      fail_msg("owned flag %s is missing from the CRD rule", *d);
  }
  for (const char *p = strstr(rule, "'--"); p != NULL; p = strstr(p + 1, "'--"))
    quoted += strncmp(p, "'--no'", 6) != 0; /* the "--no<flag>" spelling is built from this prefix */
  assert_int_equal(quoted, listed);
  json_decref(crd);
}

static int parse_str(const char *text, struct mgo_cluster *c, struct mgo_cluster_errs *errs)
{
  json_error_t jerr;
  json_t *obj = json_loads(text, 0, &jerr);
  int rc;
  if (obj == NULL)
    fail_msg("bad test JSON: %s", jerr.text);
  memset(errs, 0, sizeof(*errs));
  rc = mgo_cluster_parse(obj, c, errs);
  json_decref(obj);
  return rc;
}

static void test_parse_empty_spec_gives_defaults(void **state)
{
  struct mgo_cluster c;
  struct mgo_cluster_errs errs;
  struct mgo_cluster_errs verrs;
  (void) state;
  assert_int_equal(
      parse_str("{\"metadata\":{\"name\":\"mg\",\"namespace\":\"db\",\"uid\":\"u1\",\"generation\":4}}", &c,
                &errs),
      MGO_OK);
  assert_string_equal(c.name, "mg");
  assert_string_equal(c.namespace_, "db");
  assert_int_equal(c.generation, 4);
  assert_int_equal(c.spec.instances, 3);
  assert_string_equal(c.spec.image, "memgraph/memgraph:3.12.0");
  assert_int_equal(c.spec.replication.mode, MGO_MODE_ASYNC);
  assert_int_equal(c.spec.replication.sync_mode, MGO_MODE_SYNC);
  assert_int_equal(c.spec.replication.port, 10000);
  assert_int_equal(c.spec.switchover_target_ordinal, -1);
  assert_true(c.spec.memgraph.snapshot_on_exit);
  assert_true(c.spec.pdb_enabled);
  assert_null(c.spec.resources);
  assert_int_equal(mgo_cluster_validate(&c, &verrs), MGO_OK);
  mgo_cluster_free(&c);
}

struct parse_case {
  const char *spec;  /* JSON of .spec */
  int rc;            /* expected mgo_cluster_parse result */
  const char *field; /* first error's field, when rc != 0 */
};

static const struct parse_case parse_cases[] = {
    {"{\"instances\":5}", MGO_OK, NULL},
    {"{\"instances\":\"5\"}", MGO_EINVAL, "spec.instances"},
    {"{\"instances\":5000000000}", MGO_EINVAL, "spec.instances"},
    {"{\"replication\":{\"mode\":\"sync\"}}", MGO_EINVAL, "spec.replication.mode"},
    {"{\"replication\":{\"syncMode\":\"ASYNC\"}}", MGO_EINVAL, "spec.replication.syncMode"},
    {"{\"memgraph\":{\"logLevel\":\"LOUD\"}}", MGO_EINVAL, "spec.memgraph.logLevel"},
    {"{\"memgraph\":{\"snapshotOnExit\":\"yes\"}}", MGO_EINVAL, "spec.memgraph.snapshotOnExit"},
    {"{\"memgraph\":{\"extraFlags\":\"--x\"}}", MGO_EINVAL, "spec.memgraph.extraFlags"},
    {"{\"resources\":[]}", MGO_EINVAL, "spec.resources"},
    {"{\"services\":{\"write\":{\"type\":\"External\"}}}", MGO_EINVAL, "spec.services.write.type"},
    {"{\"failover\":{\"reseedPolicy\":\"Never\"}}", MGO_EINVAL, "spec.failover.reseedPolicy"},
    {"{\"updateStrategy\":{\"type\":\"Supervised\"}}", MGO_OK, NULL},
    {"{\"scheduling\":{\"affinity\":null}}", MGO_OK, NULL},
};

static void test_parse_table(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
    const struct parse_case *pc = &parse_cases[i];
    char text[512];
    struct mgo_cluster c;
    struct mgo_cluster_errs errs;
    int rc;
    snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"mg\"},\"spec\":%s}", pc->spec);
    rc = parse_str(text, &c, &errs);
    if (rc != pc->rc)
      fail_msg("case %zu (%s): rc %s, want %s", i, pc->spec, mgo_errname(rc), mgo_errname(pc->rc));
    if (pc->field != NULL && (errs.n == 0 || strcmp(errs.e[0].field, pc->field) != 0))
      fail_msg("case %zu (%s): error field %s, want %s", i, pc->spec, errs.n ? errs.e[0].field : "(none)",
               pc->field);
    mgo_cluster_free(&c);
  }
}

struct validate_case {
  const char *name;
  const char *spec;
  const char *field; /* NULL = valid */
};

static const struct validate_case validate_cases[] = {
    {"defaults", "{}", NULL},
    {"one instance", "{\"instances\":1}", NULL},
    {"zero instances", "{\"instances\":0}", "spec.instances"},
    {"too many", "{\"instances\":33}", "spec.instances"},
    {"sync count = instances", "{\"instances\":3,\"replication\":{\"syncReplicas\":3}}",
     "spec.replication.syncReplicas"},
    {"sync count = instances-1", "{\"instances\":3,\"replication\":{\"syncReplicas\":2}}", NULL},
    {"one SYNC rest ASYNC", "{\"replication\":{\"syncReplicas\":1,\"syncMode\":\"SYNC\",\"mode\":\"ASYNC\"}}",
     NULL},
    {"SYNC mixed with STRICT_SYNC",
     "{\"replication\":{\"syncReplicas\":1,\"syncMode\":\"STRICT_SYNC\",\"mode\":\"SYNC\"}}",
     "spec.replication.mode"},
    {"STRICT_SYNC mixed with SYNC",
     "{\"replication\":{\"syncReplicas\":1,\"syncMode\":\"SYNC\",\"mode\":\"STRICT_SYNC\"}}",
     "spec.replication.mode"},
    {"all STRICT_SYNC", "{\"replication\":{\"mode\":\"STRICT_SYNC\"}}", NULL},
    {"replication on bolt port", "{\"replication\":{\"port\":7687}}", "spec.replication.port"},
    {"empty image", "{\"image\":\"\"}", "spec.image"},
    {"image with space", "{\"image\":\"memgraph/memgraph 3\"}", "spec.image"},
    {"owned flag", "{\"memgraph\":{\"extraFlags\":[\"--data-directory=/x\"]}}", "spec.memgraph.extraFlags"},
    {"owned flag with underscores", "{\"memgraph\":{\"extraFlags\":[\"--storage_wal_enabled=false\"]}}",
     "spec.memgraph.extraFlags"},
    {"owned flag, negated", "{\"memgraph\":{\"extraFlags\":[\"--nostorage-wal-enabled\"]}}",
     "spec.memgraph.extraFlags"},
    {"coordinator flag", "{\"memgraph\":{\"extraFlags\":[\"--coordinator-id=1\"]}}",
     "spec.memgraph.extraFlags"},
    {"allowed flag", "{\"memgraph\":{\"extraFlags\":[\"--query-execution-timeout-sec=60\"]}}", NULL},
    {"flag without dashes", "{\"memgraph\":{\"extraFlags\":[\"log-level=INFO\"]}}",
     "spec.memgraph.extraFlags"},
    {"switchover target out of range", "{\"instances\":3,\"switchover\":{\"targetOrdinal\":3}}",
     "spec.switchover.targetOrdinal"},
    {"bad storage size", "{\"storage\":{\"size\":\"ten\"}}", "spec.storage.size"},
    {"memory limit above container",
     "{\"resources\":{\"limits\":{\"memory\":\"1Gi\"}},\"memgraph\":{\"memoryLimitMiB\":2048}}",
     "spec.memgraph.memoryLimitMiB"},
    {"memory limit below container",
     "{\"resources\":{\"limits\":{\"memory\":\"4Gi\"}},\"memgraph\":{\"memoryLimitMiB\":3000}}", NULL},
    {"unreadable memory limit", "{\"resources\":{\"limits\":{\"memory\":\"4 gigs\"}}}",
     "spec.resources.limits.memory"},
    {"backup schedule without s3", "{\"backup\":{\"schedule\":\"0 3 * * *\"}}", "spec.backup.s3"},
    {"backup complete",
     "{\"backup\":{\"schedule\":\"@daily\",\"s3\":{\"bucket\":\"b\",\"secretName\":\"s\"}}}", NULL},
    {"backup on demand only", "{\"backup\":{\"s3\":{\"bucket\":\"b\",\"secretName\":\"s\"}}}", NULL},
    {"restore from both",
     "{\"bootstrap\":{\"restore\":{\"backup\":\"b1\",\"s3\":{\"bucket\":\"bkt\",\"key\":\"k\",\"secretName\":"
     "\"s\"}}}}",
     "spec.bootstrap.restore"},
    {"restore from s3 without key",
     "{\"bootstrap\":{\"restore\":{\"s3\":{\"bucket\":\"bkt\",\"secretName\":\"s\"}}}}",
     "spec.bootstrap.restore.s3"},
    {"restore from a backup", "{\"bootstrap\":{\"restore\":{\"backup\":\"b1\"}}}", NULL},
    {"snapshot interval zero", "{\"memgraph\":{\"snapshotIntervalSec\":0}}",
     "spec.memgraph.snapshotIntervalSec"},
};

static void test_validate_table(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(validate_cases) / sizeof(validate_cases[0]); i++) {
    const struct validate_case *vc = &validate_cases[i];
    char text[512];
    struct mgo_cluster c;
    struct mgo_cluster_errs errs;
    int rc;
    snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"mg\"},\"spec\":%s}", vc->spec);
    if (parse_str(text, &c, &errs) != MGO_OK)
      fail_msg("case %s: does not parse", vc->name);
    rc = mgo_cluster_validate(&c, &errs);
    if (vc->field == NULL && rc != MGO_OK)
      fail_msg("case %s: unexpected error %s: %s", vc->name, errs.e[0].field, errs.e[0].message);
    if (vc->field != NULL && (rc != MGO_ECONFIG || strcmp(errs.e[0].field, vc->field) != 0))
      fail_msg("case %s: want an error on %s, got %s", vc->name, vc->field,
               errs.n ? errs.e[0].field : "none");
    mgo_cluster_free(&c);
  }
}

static void test_long_name_rejected(void **state)
{
  struct mgo_cluster c;
  struct mgo_cluster_errs errs;
  (void) state;
  assert_int_equal(
      parse_str("{\"metadata\":{\"name\":\"a23456789012345678901234567890123456789012345678901\"}}", &c,
                &errs),
      MGO_OK);
  assert_int_equal(mgo_cluster_validate(&c, &errs), MGO_ECONFIG);
  assert_string_equal(errs.e[0].field, "metadata.name");
  mgo_cluster_free(&c);
}

struct replica_name_case {
  const char *pod;
  const char *want;
  int rc;
};

static void test_replica_names(void **state)
{
  static const struct replica_name_case cases[] = {
      {"mg-0", "mg_0", MGO_OK},
      {"graph-12", "graph_12", MGO_OK},
      {"a.b-c", "a_b_c", MGO_OK},
      {"0mg-1", "_0mg_1", MGO_OK},
      {"x`) DROP REPLICA y //", "x___DROP_REPLICA_y___", MGO_OK},
      {"", "", MGO_EINVAL},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char out[MGO_NAME_MAX] = "";
    assert_int_equal(mgo_replica_name(cases[i].pod, out, sizeof(out)), cases[i].rc);
    if (cases[i].rc == MGO_OK)
      assert_string_equal(out, cases[i].want);
  }
}

static void test_names_and_ordinals(void **state)
{
  static const struct {
    const char *pod;
    int ordinal;
  } ordinals[] = {{"mg-0", 0},   {"mg-17", 17}, {"mg-", -1},     {"mg-01", -1},
                  {"mgx-1", -1}, {"mg-1a", -1}, {"other-1", -1}, {"mg-1-2", -1}};
  struct mgo_cluster c;
  struct mgo_cluster_errs errs;
  char buf[MGO_ADDR_MAX];
  (void) state;
  assert_int_equal(parse_str("{\"metadata\":{\"name\":\"mg\",\"namespace\":\"db\"}}", &c, &errs), MGO_OK);
  for (size_t i = 0; i < sizeof(ordinals) / sizeof(ordinals[0]); i++)
    assert_int_equal(mgo_pod_ordinal(&c, ordinals[i].pod), ordinals[i].ordinal);
  assert_int_equal(mgo_name_headless_svc(&c, buf, sizeof(buf)), MGO_OK);
  assert_string_equal(buf, "mg-hl");
  assert_int_equal(mgo_name_write_svc(&c, buf, sizeof(buf)), MGO_OK);
  assert_string_equal(buf, "mg-write");
  assert_int_equal(mgo_name_read_svc(&c, buf, sizeof(buf)), MGO_OK);
  assert_string_equal(buf, "mg-read");
  assert_int_equal(mgo_name_agent_configmap(&c, buf, sizeof(buf)), MGO_OK);
  assert_string_equal(buf, "mg-agent");
  assert_int_equal(mgo_name_agent_configmap(&c, buf, 8), MGO_ETOOBIG);
  assert_int_equal(mgo_name_pod(&c, 2, buf, sizeof(buf)), MGO_OK);
  assert_string_equal(buf, "mg-2");
  assert_int_equal(mgo_name_replica_address(&c, 2, buf, sizeof(buf)), MGO_OK);
  assert_string_equal(buf, "mg-2.mg-hl.db.svc:10000");
  assert_int_equal(mgo_cluster_selector(&c, buf, sizeof(buf)), MGO_OK);
  assert_string_equal(buf, "app.kubernetes.io/name=memgraph,app.kubernetes.io/instance=mg");
  assert_int_equal(mgo_name_pod(&c, 1, buf, 4), MGO_ETOOBIG);
  mgo_cluster_free(&c);
}

static void test_quantities(void **state)
{
  static const struct {
    const char *q;
    int rc;
    uint64_t bytes;
  } cases[] = {
      {"1Gi", MGO_OK, 1073741824ull},
      {"512Mi", MGO_OK, 536870912ull},
      {"1.5Gi", MGO_OK, 1610612736ull},
      {"2G", MGO_OK, 2000000000ull},
      {"1000", MGO_OK, 1000ull},
      {"4k", MGO_OK, 4000ull},
      {"1e9", MGO_EINVAL, 0},
      {"100m", MGO_EINVAL, 0},
      {"-1Gi", MGO_EINVAL, 0},
      {"Gi", MGO_EINVAL, 0},
      {"", MGO_EINVAL, 0},
      {"99999999999999999999", MGO_EINVAL, 0},
      {"20Ei", MGO_EINVAL, 0},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint64_t bytes = 0;
    int rc = mgo_quantity_bytes(cases[i].q, &bytes);
    if (rc != cases[i].rc || (rc == MGO_OK && bytes != cases[i].bytes))
      fail_msg("quantity %s: rc %d bytes %llu", cases[i].q, rc, (unsigned long long) bytes);
  }
}

static void test_memory_limit_rule(void **state)
{
  static const struct {
    const char *spec;
    int64_t mib;
  } cases[] = {
      {"{}", 0},
      {"{\"resources\":{\"limits\":{\"memory\":\"4Gi\"}}}", 3276},
      {"{\"resources\":{\"limits\":{\"memory\":\"1000Mi\"}}}", 800},
      {"{\"resources\":{\"limits\":{\"memory\":1073741824}}}", 819},
      {"{\"resources\":{\"requests\":{\"memory\":\"4Gi\"}}}", 0},
      {"{\"resources\":{\"limits\":{\"memory\":\"4Gi\"}},\"memgraph\":{\"memoryLimitMiB\":2000}}", 2000},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char text[512];
    struct mgo_cluster c;
    struct mgo_cluster_errs errs;
    int64_t mib = -1;
    snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"mg\"},\"spec\":%s}", cases[i].spec);
    assert_int_equal(parse_str(text, &c, &errs), MGO_OK);
    assert_int_equal(mgo_cluster_memory_limit_mib(&c.spec, &mib), MGO_OK);
    if (mib != cases[i].mib)
      fail_msg("%s: %lld MiB, want %lld", cases[i].spec, (long long) mib, (long long) cases[i].mib);
    mgo_cluster_free(&c);
  }
}

static void test_mode_summary(void **state)
{
  static const struct {
    int instances, sync;
    enum mgo_repl_mode mode, sync_mode;
    const char *want;
  } cases[] = {
      {1, 0, MGO_MODE_ASYNC, MGO_MODE_SYNC, "none"},
      {3, 0, MGO_MODE_ASYNC, MGO_MODE_SYNC, "2 ASYNC"},
      {3, 1, MGO_MODE_ASYNC, MGO_MODE_SYNC, "1 SYNC + 1 ASYNC"},
      {3, 2, MGO_MODE_ASYNC, MGO_MODE_STRICT_SYNC, "2 STRICT_SYNC"},
      {5, 1, MGO_MODE_STRICT_SYNC, MGO_MODE_STRICT_SYNC, "4 STRICT_SYNC"},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mgo_cluster_spec s;
    char out[64];
    mgo_cluster_spec_defaults(&s);
    s.instances = cases[i].instances;
    s.replication.sync_replicas = cases[i].sync;
    s.replication.mode = cases[i].mode;
    s.replication.sync_mode = cases[i].sync_mode;
    assert_int_equal(mgo_cluster_mode_summary(&s, out, sizeof(out)), MGO_OK);
    assert_string_equal(out, cases[i].want);
  }
}

static void test_role_labels(void **state)
{
  static const struct {
    enum mgo_role role;
    bool readable;
    const char *want;
  } cases[] = {
      {MGO_ROLE_MAIN, false, "{\"memgraph.io/readable\": \"true\", \"memgraph.io/role\": \"main\"}"},
      {MGO_ROLE_REPLICA, true, "{\"memgraph.io/readable\": \"true\", \"memgraph.io/role\": \"replica\"}"},
      {MGO_ROLE_REPLICA, false, "{\"memgraph.io/readable\": null, \"memgraph.io/role\": \"replica\"}"},
      {MGO_ROLE_UNKNOWN, true, "{\"memgraph.io/readable\": null, \"memgraph.io/role\": null}"},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *labels = mgo_pod_role_labels(cases[i].role, cases[i].readable);
    char *text = json_dumps(labels, JSON_SORT_KEYS | JSON_COMPACT);
    char want[128];
    /* JSON_COMPACT drops the spaces of the table's readable form. */
    size_t o = 0;
    for (const char *p = cases[i].want; *p != '\0' && o + 1 < sizeof(want); p++) {
      if (*p != ' ')
        want[o++] = *p;
    }
    want[o] = '\0';
    assert_string_equal(text, want);
    free(text);
    json_decref(labels);
  }
}

/* Mode names round-trip; anything else (also NULL) reads as ASYNC, the mode that promises nothing. */
static void test_repl_mode_names(void **state)
{
  const enum mgo_repl_mode modes[] = {MGO_MODE_ASYNC, MGO_MODE_SYNC, MGO_MODE_STRICT_SYNC};
  (void) state;
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
    assert_int_equal(mgo_repl_mode_named(mgo_repl_mode_name(modes[i])), modes[i]);
  assert_int_equal(mgo_repl_mode_named("sync"), MGO_MODE_ASYNC);
  assert_int_equal(mgo_repl_mode_named(NULL), MGO_MODE_ASYNC);
}

/* The day-2 annotations: what each value means, and every value the operator does not understand refused
 * with an error naming the annotation (the cluster is then left alone like one with an invalid spec). */
static void test_annotations_table(void **state)
{
  static const struct {
    const char *annotations; /* JSON object */
    int rc;
    bool paused, hibernate, fence_all;
    const char *fenced; /* names joined by "," */
    const char *error;  /* substring of the first error's field + message, or NULL */
  } rows[] = {
      {"{}", MGO_OK, false, false, false, "", NULL},
      {"{\"other\": \"x\"}", MGO_OK, false, false, false, "", NULL},
      {"{\"memgraph.io/reconcile\": \"paused\"}", MGO_OK, true, false, false, "", NULL},
      {"{\"memgraph.io/reconcile\": \"Paused\"}", MGO_EINVAL, false, false, false, "",
       "memgraph.io/reconcile]: must be \"paused\""},
      {"{\"memgraph.io/hibernation\": \"on\"}", MGO_OK, false, true, false, "", NULL},
      {"{\"memgraph.io/hibernation\": \"off\"}", MGO_OK, false, false, false, "", NULL},
      {"{\"memgraph.io/hibernation\": \"yes\"}", MGO_EINVAL, false, false, false, "",
       "memgraph.io/hibernation]: must be \"on\" or \"off\""},
      {"{\"memgraph.io/fencedInstances\": \"[\\\"mg-1\\\", \\\"mg-2\\\"]\"}", MGO_OK, false, false, false,
       "mg-1,mg-2", NULL},
      {"{\"memgraph.io/fencedInstances\": \"[\\\"*\\\"]\"}", MGO_OK, false, false, true, "", NULL},
      {"{\"memgraph.io/fencedInstances\": \"[]\"}", MGO_OK, false, false, false, "", NULL},
      {"{\"memgraph.io/fencedInstances\": \"mg-1\"}", MGO_EINVAL, false, false, false, "",
       "fencedInstances]: not a JSON array; expected"},
      {"{\"memgraph.io/fencedInstances\": \"[1]\"}", MGO_EINVAL, false, false, false, "",
       "an element that is not a string"},
      {"{\"memgraph.io/fencedInstances\": \"[\\\"\\\"]\"}", MGO_EINVAL, false, false, false, "",
       "an empty pod name"},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    json_error_t jerr;
    json_t *ann = json_loads(rows[i].annotations, 0, &jerr);
    struct mgo_cluster_ops ops;
    struct mgo_cluster_errs errs;
    char fenced[256] = "", err[512] = "";
    assert_non_null(ann);
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(mgo_cluster_parse_ops(ann, &ops, &errs), rows[i].rc);
    for (size_t k = 0; k < ops.n_fenced; k++)
      snprintf(fenced + strlen(fenced), sizeof(fenced) - strlen(fenced), "%s%s", k > 0 ? "," : "",
               ops.fenced[k]);
    if (errs.n > 0)
      snprintf(err, sizeof(err), "%s: %s", errs.e[0].field, errs.e[0].message);
    assert_int_equal(ops.paused, rows[i].paused);
    assert_int_equal(ops.hibernate, rows[i].hibernate);
    assert_int_equal(ops.fence_all, rows[i].fence_all);
    assert_string_equal(fenced, rows[i].fenced);
    if (rows[i].error != NULL && strstr(err, rows[i].error) == NULL)
      fail_msg("row %zu: error \"%s\" lacks \"%s\"", i, err, rows[i].error);
    assert_int_equal(errs.n > 0, rows[i].error != NULL);
    json_decref(ann);
  }
}

/* A cluster whose annotation is unusable does not parse (the load step reports it like an invalid spec). */
static void test_bad_annotation_fails_parse(void **state)
{
  json_error_t jerr;
  json_t *obj = json_loads("{\"metadata\": {\"name\": \"mg\", \"namespace\": \"db\", \"annotations\": "
                           "{\"memgraph.io/hibernation\": \"true\"}}, \"spec\": {}}",
                           0, &jerr);
  struct mgo_cluster c;
  struct mgo_cluster_errs errs;
  (void) state;
  memset(&errs, 0, sizeof(errs));
  assert_int_equal(mgo_cluster_parse(obj, &c, &errs), MGO_EINVAL);
  assert_string_equal(errs.e[0].field, "metadata.annotations[memgraph.io/hibernation]");
  json_object_set_new(json_object_get(json_object_get(obj, "metadata"), "annotations"),
                      "memgraph.io/hibernation", json_string("on"));
  json_object_set_new(json_object_get(json_object_get(obj, "metadata"), "annotations"),
                      "memgraph.io/fencedInstances", json_string("[\"mg-1\"]"));
  assert_int_equal(mgo_cluster_parse(obj, &c, NULL), MGO_OK);
  assert_true(c.ops.hibernate);
  assert_true(mgo_cluster_instance_fenced(&c, "mg-1"));
  assert_false(mgo_cluster_instance_fenced(&c, "mg-0"));
  mgo_cluster_free(&c);
  json_decref(obj);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_match_crd),
      cmocka_unit_test(test_crd_defaults_known_to_c),
      cmocka_unit_test(test_owned_flags_match_crd_rule),
      cmocka_unit_test(test_parse_empty_spec_gives_defaults),
      cmocka_unit_test(test_parse_table),
      cmocka_unit_test(test_validate_table),
      cmocka_unit_test(test_long_name_rejected),
      cmocka_unit_test(test_replica_names),
      cmocka_unit_test(test_names_and_ordinals),
      cmocka_unit_test(test_quantities),
      cmocka_unit_test(test_memory_limit_rule),
      cmocka_unit_test(test_mode_summary),
      cmocka_unit_test(test_role_labels),
      cmocka_unit_test(test_repl_mode_names),
      cmocka_unit_test(test_annotations_table),
      cmocka_unit_test(test_bad_annotation_fails_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
