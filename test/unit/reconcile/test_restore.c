/* spec.bootstrap.restore (src/reconcile/restore.c) against the fake Kubernetes port: op_restore_prepare()
 * (what op_step_statefulset calls before building the StatefulSet) and the StatefulSet built with the Secret
 * it resolved. */
#include "backup_int.h"
#include "cluster_build.h"
#include "fake_ports.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SHA "aaaabbbbccccddddeeeeffff00001111aaaabbbbccccddddeeeeffff00001111"
#define FROM_BACKUP "{\"instances\":3,\"bootstrap\":{\"restore\":{\"backup\":\"src\"}}}"

static void loaded(struct fake_ports *f, const char *spec)
{
  fake_ports_init(f);
  fake_put(f, &op_res_clusters, fake_cluster_json(spec, NULL));
  assert_int_equal(op_step_load(&f->ctx).next, OP_CONTINUE);
}

/* The MemgraphBackup src of cluster old, in phase, with its object s3://bk/pfx/db/old/src/snap. */
static void put_source(struct fake_ports *f, const char *phase)
{
  char text[2048];
  (void) mgo_snprintf(
      text, sizeof(text),
      "{\"apiVersion\":\"memgraph.io/v1alpha1\",\"kind\":\"MemgraphBackup\",\"metadata\":{\"name\":"
      "\"src\",\"namespace\":\"db\"},\"spec\":{\"cluster\":\"old\"},\"status\":{\"phase\":\"%s\","
      "\"snapshot\":\"snap\",\"sha256\":\"" SHA "\",\"sizeBytes\":4096,\"s3\":{\"bucket\":\"bk\","
      "\"key\":\"pfx/db/old/src/snap\",\"endpoint\":\"http://s3.test:9000\",\"region\":\"eu-1\","
      "\"forcePathStyle\":true,\"secretName\":\"s3-creds\"}}}",
      phase);
  fake_put(f, &op_res_backups, fake_json(text));
}

/* data["mg-0"] of ConfigMap mg-agent, or NULL. */
static const char *instructions(struct fake_ports *f)
{
  return json_string_value(
      json_object_get(json_object_get(fake_find(f, &K8S_RES_CONFIGMAPS, "db", "mg-agent"), "data"), "mg-0"));
}

/* The secretKeyRef name of env var `var` of the StatefulSet's init container, or "". */
static const char *init_env_secret(const json_t *sts, const char *var)
{
  const json_t *init = json_array_get(
      json_object_get(json_object_get(json_object_get(json_object_get(sts, "spec"), "template"), "spec"),
                      "initContainers"),
      0);
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(init, "env"), i, e)
  {
    if (strcmp(op_jstr(e, "name"), var) == 0)
      return op_jstr(json_object_get(json_object_get(e, "valueFrom"), "secretKeyRef"), "name");
  }
  return "";
}

static void a_completed_backup_becomes_the_instructions_of_ordinal_0(void **state)
{
  struct fake_ports f;
  struct op_result wait = op_ok();
  char secret[MGO_DNS_NAME_MAX];
  const char *text;
  struct mgo_build_opts opts = {.operator_image = "operator:test", .replicas = 3};
  json_t *sts = NULL;
  (void) state;
  loaded(&f, FROM_BACKUP);
  put_source(&f, "Completed");
  assert_int_equal(op_restore_prepare(&f.ctx, secret, sizeof(secret), &wait), MGO_OK);
  assert_string_equal(secret, "s3-creds");
  text = instructions(&f);
  assert_non_null(text);
  assert_non_null(strstr(text, "restore=u1\n"));
  assert_non_null(strstr(text, "\nrestore.endpoint=http://s3.test:9000\n"));
  assert_non_null(strstr(text, "\nrestore.region=eu-1\n"));
  assert_non_null(strstr(text, "\nrestore.bucket=bk\n"));
  assert_non_null(strstr(text, "\nrestore.key=pfx/db/old/src/snap\n"));
  assert_non_null(strstr(text, "\nrestore.file=snap\n"));
  assert_non_null(strstr(text, "\nrestore.size=4096\n"));
  assert_non_null(strstr(text, "\nrestore.sha256=" SHA "\n"));
  assert_non_null(strstr(text, "\nrestore.forcePathStyle=true\n"));
  opts.restore_secret = secret;
  assert_int_equal(mgo_build_statefulset(&f.ctx.c, &opts, &sts), MGO_OK);
  assert_string_equal(init_env_secret(sts, "MGO_RESTORE_ACCESS_KEY_ID"), "s3-creds");
  assert_string_equal(init_env_secret(sts, "MGO_RESTORE_SECRET_ACCESS_KEY"), "s3-creds");
  json_decref(sts);
  fake_ports_free(&f);
}

static void a_backup_that_is_not_completed_holds_the_cluster_back(void **state)
{
  static const char *const phases[] = {"Running", "Failed", "Pending"};
  (void) state;
  for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
    struct fake_ports f;
    struct op_result wait = op_ok();
    char secret[MGO_DNS_NAME_MAX] = "x";
    loaded(&f, FROM_BACKUP);
    put_source(&f, phases[i]);
    assert_int_not_equal(op_restore_prepare(&f.ctx, secret, sizeof(secret), &wait), MGO_OK);
    assert_int_equal(wait.next, OP_REQUEUE);
    assert_true(wait.after_ms > 0 && wait.after_ms != OP_AFTER_NONE);
    assert_string_equal(secret, "");
    assert_null(instructions(&f));
    assert_int_equal(fake_calls(&f, "apply") + fake_calls(&f, "merge_patch"), 0);
    assert_true(fake_has_event(&f, "RestorePending"));
    fake_ports_free(&f);
  }
}

/* spec.bootstrap.restore.s3 whose field holds a line break: one parameter per line, so it is refused. */
static void a_line_break_in_a_value_is_refused(void **state)
{
  static const char *const specs[] = {
      "{\"instances\":3,\"bootstrap\":{\"restore\":{\"s3\":{\"bucket\":\"bk\",\"key\":\"a\\nrestore.file=x\","
      "\"secretName\":\"s3-creds\",\"sha256\":\"" SHA "\",\"size\":1}}}}",
      "{\"instances\":3,\"bootstrap\":{\"restore\":{\"s3\":{\"bucket\":\"bk\\nrestore.key=x\",\"key\":\"a/"
      "b\","
      "\"secretName\":\"s3-creds\",\"sha256\":\"" SHA "\",\"size\":1}}}}",
      "{\"instances\":3,\"bootstrap\":{\"restore\":{\"s3\":{\"bucket\":\"bk\",\"key\":\"a/b\",\"region\":"
      "\"eu\\rrestore.key=x\",\"secretName\":\"s3-creds\",\"sha256\":\"" SHA "\",\"size\":1}}}}",
  };
  (void) state;
  for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
    struct fake_ports f;
    struct op_result wait = op_ok();
    char secret[MGO_DNS_NAME_MAX];
    loaded(&f, specs[i]);
    assert_int_equal(op_restore_prepare(&f.ctx, secret, sizeof(secret), &wait), MGO_EINVAL);
    assert_int_equal(wait.next, OP_REQUEUE);
    assert_null(instructions(&f));
    assert_int_equal(fake_calls(&f, "apply") + fake_calls(&f, "merge_patch"), 0);
    fake_ports_free(&f);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_completed_backup_becomes_the_instructions_of_ordinal_0),
      cmocka_unit_test(a_backup_that_is_not_completed_holds_the_cluster_back),
      cmocka_unit_test(a_line_break_in_a_value_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
