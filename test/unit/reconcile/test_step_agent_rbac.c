/* The agent's Role and RoleBinding in the objects step (docs/fencing.md): they have no informer cache, so
 * they are applied at most once per operator run and desired hash, and a restart reads them instead of
 * rewriting them. */
#include "fake_ports.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ROLE "roles/db/mg-agent"
#define BINDING "rolebindings/db/mg-agent"

static void loaded_with_uid(struct fake_ports *f, const char *uid)
{
  json_t *cluster = fake_cluster_json("{\"instances\":3}", NULL);
  json_object_set_new(json_object_get(cluster, "metadata"), "uid", json_string(uid));
  op_ctx_release(&f->ctx);
  fake_put(f, &op_res_clusters, cluster);
  assert_int_equal(op_step_load(&f->ctx).next, OP_CONTINUE);
}

/* What a new operator process knows of the cluster: nothing. */
static void restarted(struct fake_ports *f)
{
  f->cs->agent_role_hash[0] = '\0';
  f->cs->agent_binding_hash[0] = '\0';
}

static int calls(const struct fake_ports *f, const char *op, const char *object)
{
  char prefix[128];
  (void) snprintf(prefix, sizeof(prefix), "%s %s", op, object);
  return fake_calls(f, prefix);
}

static void the_role_and_binding_are_created_once(void **state)
{
  struct fake_ports f;
  const json_t *role, *binding, *rule, *subject;
  (void) state;
  fake_ports_init(&f);
  loaded_with_uid(&f, "u1");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(calls(&f, "get", ROLE), 1); /* first pass of the run: read, not there */
  assert_int_equal(calls(&f, "apply", ROLE), 1);
  assert_int_equal(calls(&f, "apply", BINDING), 1);
  role = fake_find(&f, &K8S_RES_ROLES, "db", "mg-agent");
  binding = fake_find(&f, &K8S_RES_ROLEBINDINGS, "db", "mg-agent");
  assert_non_null(role);
  assert_non_null(binding);
  rule = json_array_get(json_object_get(role, "rules"), 0);
  assert_string_equal(json_string_value(json_array_get(json_object_get(rule, "resourceNames"), 0)), "mg");
  assert_string_equal(json_string_value(json_array_get(json_object_get(rule, "verbs"), 0)), "get");
  assert_int_equal(json_array_size(json_object_get(rule, "verbs")), 1);
  subject = json_array_get(json_object_get(binding, "subjects"), 0);
  assert_string_equal(json_string_value(json_object_get(subject, "kind")), "ServiceAccount");
  assert_string_equal(json_string_value(json_object_get(subject, "name")), "mg");
  assert_string_equal(json_string_value(json_object_get(subject, "namespace")), "db");
  /* the next passes neither read nor write them */
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(calls(&f, "get", "role"), 2);
  assert_int_equal(calls(&f, "apply", "role"), 2);
  fake_ports_free(&f);
}

static void a_restart_reads_them_and_sends_nothing_when_current(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  loaded_with_uid(&f, "u1");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  restarted(&f);
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(calls(&f, "get", ROLE), 2);
  assert_int_equal(calls(&f, "get", BINDING), 2);
  assert_int_equal(calls(&f, "apply", "role"), 2); /* only the first run's */
  assert_int_not_equal(f.cs->agent_role_hash[0], '\0');
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE); /* and not read again */
  assert_int_equal(calls(&f, "get", "role"), 4);
  fake_ports_free(&f);
}

static void a_restart_applies_an_object_of_another_hash(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  fake_put(
      &f, &K8S_RES_ROLES,
      fake_json(
          "{\"metadata\":{\"name\":\"mg-agent\",\"namespace\":\"db\",\"annotations\":{\"" OP_HASH_ANNOTATION
          "\":\"0000000000000000\"}},\"rules\":[]}"));
  loaded_with_uid(&f, "u1");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(calls(&f, "get", ROLE), 1);
  assert_int_equal(calls(&f, "apply", ROLE), 1);
  assert_int_equal(json_array_size(json_object_get(fake_find(&f, &K8S_RES_ROLES, "db", "mg-agent"), "rules")),
                   1);
  fake_ports_free(&f);
}

static void a_changed_object_is_applied_again_without_reading(void **state)
{
  struct fake_ports f;
  char before[17];
  (void) state;
  fake_ports_init(&f);
  loaded_with_uid(&f, "u1");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  (void) snprintf(before, sizeof(before), "%s", f.cs->agent_role_hash);
  loaded_with_uid(&f, "u2"); /* re-created under the same name: a new owner reference */
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(calls(&f, "apply", ROLE), 2);
  assert_int_equal(calls(&f, "apply", BINDING), 2);
  assert_int_equal(calls(&f, "get", "role"), 2); /* the first pass's only */
  assert_string_not_equal(f.cs->agent_role_hash, before);
  fake_ports_free(&f);
}

static void an_unreadable_role_is_an_error_and_read_again(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  loaded_with_uid(&f, "u1");
  f.cs->agent_token[0] = 'x'; /* known: the token Secret is not read, the first GET is the Role's */
  f.fail[FAKE_GET] = (struct fake_failure){MGO_EIO, 500, "", 1};
  r = op_step_objects(&f.ctx);
  assert_int_equal(r.error, MGO_EIO);
  assert_non_null(strstr(f.ctx.error, "reading Role mg-agent"));
  assert_int_equal(calls(&f, "apply", "role"), 0);
  assert_int_equal(f.cs->agent_role_hash[0], '\0');
  f.ctx.error[0] = '\0';
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE); /* read again, then created */
  assert_int_equal(calls(&f, "get", ROLE), 2);
  assert_int_equal(calls(&f, "apply", ROLE), 1);
  fake_ports_free(&f);
}

/* An operator whose RBAC predates the Role: the cluster is still reconciled, a Warning says once what to
 * grant, and the Role is not asked for again in this run. */
static void a_forbidden_role_warns_once_and_the_rest_is_applied(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  loaded_with_uid(&f, "u1");
  f.cs->agent_token[0] = 'x';
  f.fail[FAKE_GET] = (struct fake_failure){MGO_EFORBIDDEN, 403, "roles is forbidden", 1};
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_true(fake_has_event(&f, "AgentRBACRefused"));
  assert_string_equal(f.ctx.error, "");
  assert_int_equal(calls(&f, "apply", "services"), 3);
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(calls(&f, "get", "role"), 1);
  assert_int_equal(calls(&f, "apply", "role"), 0);
  fake_ports_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_role_and_binding_are_created_once),
      cmocka_unit_test(a_restart_reads_them_and_sends_nothing_when_current),
      cmocka_unit_test(a_restart_applies_an_object_of_another_hash),
      cmocka_unit_test(a_changed_object_is_applied_again_without_reading),
      cmocka_unit_test(an_unreadable_role_is_an_error_and_read_again),
      cmocka_unit_test(a_forbidden_role_warns_once_and_the_rest_is_applied),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
