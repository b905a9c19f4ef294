/* The steps that talk to the API server, against the fake Kubernetes port: load, objects, statefulset,
 * status, the Kubernetes actions of act (label, delete, re-seed), and each port's failure. */
#include "fake_ports.h"
#include "reseed.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "trace.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void with_cluster(struct fake_ports *f, const char *spec, const char *status)
{
  fake_put(f, &op_res_clusters, fake_cluster_json(spec, status));
}

/* ---- load ---------------------------------------------------------------------------------------------- */

static void load_of_a_missing_cluster_reports_it_gone(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  assert_int_equal(op_step_load(&f.ctx).next, OP_GONE);
  assert_int_equal(fake_calls(&f, ""), 0); /* nothing written */
  fake_ports_free(&f);
}

static void load_of_a_deleting_cluster_stops(void **state)
{
  struct fake_ports f;
  json_t *obj = fake_cluster_json("{\"instances\":3}", NULL);
  (void) state;
  fake_ports_init(&f);
  json_object_set_new(json_object_get(obj, "metadata"), "deletionTimestamp",
                      json_string("2026-01-01T00:00:00Z"));
  fake_put(&f, &op_res_clusters, obj);
  assert_int_equal(op_step_load(&f.ctx).next, OP_STOP);
  assert_int_equal(fake_calls(&f, ""), 0);
  fake_ports_free(&f);
}

static void load_parses_a_valid_cluster(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  with_cluster(&f, "{\"instances\":3}", NULL);
  r = op_step_load(&f.ctx);
  assert_int_equal(r.next, OP_CONTINUE);
  assert_int_equal(r.error, MGO_OK);
  assert_true(f.ctx.parsed);
  assert_int_equal(f.ctx.c.spec.instances, 3);
  fake_ports_free(&f);
}

static void load_prefers_our_newer_status_write_over_the_cache(void **state)
{
  struct fake_ports f;
  json_t *written;
  (void) state;
  fake_ports_init(&f);
  with_cluster(&f, "{\"instances\":3}", NULL); /* resourceVersion 100 */
  written = json_deep_copy(fake_find(&f, &op_res_clusters, "db", "mg"));
  json_object_set_new(json_object_get(written, "metadata"), "resourceVersion", json_string("500"));
  json_object_set_new(written, "status", json_pack("{s:s}", "currentMain", "mg-1"));
  f.cs->last_written = written;
  assert_int_equal(op_step_load(&f.ctx).next, OP_CONTINUE);
  assert_string_equal(f.ctx.c.recorded_main, "mg-1");
  fake_ports_free(&f);
}

static void an_invalid_spec_is_reported_once_and_stops(void **state)
{
  struct fake_ports f;
  const json_t *status;
  (void) state;
  fake_ports_init(&f);
  with_cluster(&f, "{\"instances\":0}", NULL);
  assert_int_equal(op_step_load(&f.ctx).next, OP_STOP);
  assert_int_equal(fake_calls(&f, "merge_patch memgraphclusters/db/mg/status"), 1);
  status = json_object_get(fake_find(&f, &op_res_clusters, "db", "mg"), "status");
  assert_string_equal(json_string_value(json_object_get(status, "phase")), "Failed");
  assert_non_null(strstr(json_string_value(json_object_get(status, "message")), "spec.instances"));
  assert_true(fake_has_event(&f, "InvalidSpec"));
  assert_true(fake_metrics_contain(&f, "mgo_cluster_phase{cluster=\"db/mg\",phase=\"Failed\"} 1"));
  /* the next pass finds the same status: no second write, no second Event */
  op_ctx_release(&f.ctx);
  assert_int_equal(op_step_load(&f.ctx).next, OP_STOP);
  assert_int_equal(fake_calls(&f, "merge_patch"), 1);
  assert_int_equal(json_array_size(f.events), 1);
  fake_ports_free(&f);
}

static void an_invalid_spec_whose_status_cannot_be_written_is_retried(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  with_cluster(&f, "{\"instances\":0}", NULL);
  f.fail[FAKE_MERGE_PATCH] = (struct fake_failure){MGO_ESERVER, 500, NULL, -1};
  r = op_step_load(&f.ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_int_equal(r.error, MGO_ESERVER);
  assert_non_null(strstr(f.ctx.error, "status write"));
  assert_false(fake_has_event(&f, "InvalidSpec"));
  fake_ports_free(&f);
}

/* ---- objects and statefulset --------------------------------------------------------------------------- */

static void loaded(struct fake_ports *f, const char *spec)
{
  with_cluster(f, spec, NULL);
  assert_int_equal(op_step_load(&f->ctx).next, OP_CONTINUE);
}

static void objects_are_applied_once_then_left_alone(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(fake_calls(&f, "apply serviceaccounts/db/"), 1);
  assert_int_equal(fake_calls(&f, "apply services/db/"), 3); /* headless, write, read */
  assert_int_equal(fake_calls(&f, "apply poddisruptionbudgets/db/"), 1);
  assert_int_equal(fake_calls(&f, "apply roles/db/mg-agent"), 1); /* and its RoleBinding */
  assert_non_null(fake_find(&f, &K8S_RES_SERVICES, "db", "mg-write"));
  /* the cache now holds what was applied, hash annotation included: nothing is sent again */
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(fake_calls(&f, "apply"), 7);
  fake_ports_free(&f);
}

static void the_agent_token_secret_is_created_once(void **state)
{
  struct fake_ports f;
  json_t *secret;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(fake_calls(&f, "create secrets/db/mg-agent-token"), 1);
  secret = fake_find(&f, &K8S_RES_SECRETS, "db", "mg-agent-token");
  assert_non_null(secret);
  assert_int_equal(strlen(f.cs->agent_token), 64);
  assert_string_equal(json_string_value(json_object_get(json_object_get(secret, "stringData"), "token")),
                      f.cs->agent_token);
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE); /* known: neither read nor created again */
  assert_int_equal(fake_calls(&f, "create secrets/"), 1);
  assert_int_equal(fake_calls(&f, "get secrets/"), 1);
  fake_ports_free(&f);
}

static void an_existing_agent_token_is_read_and_kept(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  /* "c2VjcmV0LXRva2Vu" is base64 of "secret-token" */
  fake_put(&f, &K8S_RES_SECRETS,
           fake_json("{\"metadata\":{\"name\":\"mg-agent-token\",\"namespace\":\"db\"},"
                     "\"data\":{\"token\":\"c2VjcmV0LXRva2Vu\"}}"));
  loaded(&f, "{\"instances\":3}");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_string_equal(f.cs->agent_token, "secret-token");
  assert_int_equal(fake_calls(&f, "create secrets/"), 0);
  fake_ports_free(&f);
}

static void an_unreadable_agent_token_is_never_replaced(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  f.fail[FAKE_GET] = (struct fake_failure){MGO_EFORBIDDEN, 403, "", 1};
  r = op_step_objects(&f.ctx);
  assert_int_equal(r.error, MGO_EFORBIDDEN);
  assert_int_equal(fake_calls(&f, "create secrets/"), 0);
  assert_int_equal(fake_calls(&f, "apply statefulsets/"), 0);
  assert_int_equal(f.cs->agent_token[0], '\0');
  fake_ports_free(&f);
}

static void an_unwanted_pdb_is_deleted(void **state)
{
  struct fake_ports f;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  op_ctx_release(&f.ctx);
  with_cluster(&f, "{\"instances\":3,\"podDisruptionBudget\":{\"enabled\":false}}", NULL);
  assert_int_equal(op_step_load(&f.ctx).next, OP_CONTINUE);
  assert_false(f.ctx.c.spec.pdb_enabled);
  assert_int_equal(op_step_objects(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(fake_calls(&f, "delete poddisruptionbudgets/db/"), 1);
  assert_null(fake_find(&f, &K8S_RES_PDBS, "db", "mg"));
  fake_ports_free(&f);
}

static void a_failed_apply_is_an_error_with_an_event(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  f.fail[FAKE_APPLY] = (struct fake_failure){MGO_EINVALIDOBJ, 422, NULL, -1};
  r = op_step_objects(&f.ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_int_equal(r.error, MGO_EINVALIDOBJ);
  assert_non_null(strstr(f.ctx.error, "apply ServiceAccount"));
  assert_true(fake_has_event(&f, "ApplyFailed"));
  assert_int_equal(fake_calls(&f, "apply"), 1); /* the first failure ends the step */
  fake_ports_free(&f);
}

static void an_apply_conflict_is_retried_soon_without_an_error(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  f.fail[FAKE_APPLY] = (struct fake_failure){MGO_ECONFLICT, 409, NULL, 1};
  r = op_step_objects(&f.ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(r.after_ms, 1000);
  assert_false(fake_has_event(&f, "ApplyFailed"));
  fake_ports_free(&f);
}

static void a_terminating_namespace_stops_quietly(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  f.fail[FAKE_APPLY] = (struct fake_failure){MGO_EFORBIDDEN, 403, "NamespaceTerminating", -1};
  r = op_step_objects(&f.ctx);
  assert_int_equal(r.next, OP_STOP);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(json_array_size(f.events), 0);
  /* any other 403 is a failure */
  f.fail[FAKE_APPLY] = (struct fake_failure){MGO_EFORBIDDEN, 403, NULL, -1};
  assert_int_equal(op_step_objects(&f.ctx).error, MGO_EFORBIDDEN);
  fake_ports_free(&f);
}

static void the_statefulset_has_the_plans_replicas_and_the_agent_image(void **state)
{
  struct fake_ports f;
  const json_t *sts, *init;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  f.ctx.plan = calloc(1, sizeof(*f.ctx.plan));
  f.ctx.plan->allowed_pods = 2;
  assert_int_equal(op_step_statefulset(&f.ctx).next, OP_CONTINUE);
  sts = fake_find(&f, &K8S_RES_STATEFULSETS, "db", "mg");
  assert_non_null(sts);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(sts, "spec"), "replicas")), 2);
  init = json_array_get(
      json_object_get(json_object_get(json_object_get(json_object_get(sts, "spec"), "template"), "spec"),
                      "initContainers"),
      0);
  assert_string_equal(json_string_value(json_object_get(init, "image")), "operator:test");
  f.fail[FAKE_APPLY] = (struct fake_failure){MGO_ETIMEDOUT, 0, NULL, -1};
  f.ctx.plan->allowed_pods = 3; /* a change: applied again, and the failure reported */
  assert_int_equal(op_step_statefulset(&f.ctx).error, MGO_ETIMEDOUT);
  fake_ports_free(&f);
}

/* ---- status -------------------------------------------------------------------------------------------- */

static void decided(struct fake_ports *f)
{
  f->ctx.obs = calloc(1, sizeof(*f->ctx.obs));
  f->ctx.plan = calloc(1, sizeof(*f->ctx.plan));
  assert_non_null(f->ctx.obs);
  assert_non_null(f->ctx.plan);
  op_observe_pods(&f->ctx.c, NULL, NULL, NULL, f->ctx.obs);
  assert_int_equal(rec_decide_topology(&f->ctx.c, f->ctx.obs, f->ctx.plan), MGO_OK);
}

/* Fresh fakes with the cluster loaded and its plan decided. */
static void deciding(struct fake_ports *f, const char *spec)
{
  fake_ports_init(f);
  loaded(f, spec);
  decided(f);
}

static void status_is_written_when_it_changes_only(void **state)
{
  struct fake_ports f;
  (void) state;
  deciding(&f, "{\"instances\":3}");
  assert_int_equal(op_step_status(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(fake_calls(&f, "merge_patch memgraphclusters/db/mg/status"), 1);
  assert_non_null(
      json_object_get(json_object_get(fake_find(&f, &op_res_clusters, "db", "mg"), "status"), "phase"));
  assert_non_null(f.cs->last_written);        /* later passes compare against what was written */
  mgo_fake_clock_advance_ms(&f.clock, 60000); /* a minute later, nothing else changed */
  assert_int_equal(op_step_status(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(fake_calls(&f, "merge_patch"), 1);
  assert_true(fake_metrics_contain(&f, "mgo_cluster_instances_ready{cluster=\"db/mg\"} 0"));
  fake_ports_free(&f);
}

static void a_failed_status_write_is_an_error(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  deciding(&f, "{\"instances\":3}");
  f.fail[FAKE_MERGE_PATCH] = (struct fake_failure){MGO_ECONNECT, 0, NULL, -1};
  r = op_step_status(&f.ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_int_equal(r.error, MGO_ECONNECT);
  assert_null(f.cs->last_written);
  fake_ports_free(&f);
}

static void no_status_write_without_leadership(void **state)
{
  struct fake_ports f;
  (void) state;
  deciding(&f, "{\"instances\":3}");
  f.may_act = false;
  assert_int_equal(op_step_status(&f.ctx).next, OP_CONTINUE);
  assert_int_equal(fake_calls(&f, "merge_patch"), 0);
  fake_ports_free(&f);
}

/* ---- decide -------------------------------------------------------------------------------------------- */

static void decide_plans_from_the_observation(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":3}");
  f.ctx.obs = calloc(1, sizeof(*f.ctx.obs));
  assert_non_null(f.ctx.obs);
  op_observe_pods(&f.ctx.c, NULL, NULL, NULL, f.ctx.obs); /* no pod exists yet */
  r = op_step_decide(&f.ctx);
  assert_int_equal(r.next, OP_CONTINUE);
  assert_int_equal(r.error, MGO_OK);
  assert_non_null(f.ctx.plan);
  assert_int_equal(f.ctx.plan->allowed_pods, 3); /* the StatefulSet may create all three */
  assert_int_equal(fake_calls(&f, ""), 0);       /* deciding reaches nothing */
  fake_ports_free(&f);
}

/* ---- act: the Kubernetes actions ----------------------------------------------------------------------- */

static struct rec_action *plan_add(struct rec_plan *plan, enum rec_action_type t, const char *pod)
{
  struct rec_action *a = &plan->a[plan->n++];
  memset(a, 0, sizeof(*a));
  a->type = t;
  (void) mgo_strlcpy(a->pod, pod, sizeof(a->pod));
  (void) mgo_strlcpy(a->reason, "Test", sizeof(a->reason));
  return a;
}

/* A loaded, decided cluster whose plan the test writes itself. */
static void acting(struct fake_ports *f, const char *spec)
{
  deciding(f, spec);
  f->ctx.plan->n = 0;
}

static json_t *a_pod(const char *name, const char *uid)
{
  return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata", "name",
                   name, "namespace", "db", "uid", uid);
}

static void act_labels_pods_and_stops_without_leadership(void **state)
{
  struct fake_ports f;
  struct rec_action *a;
  const json_t *labels;
  struct op_result r;
  (void) state;
  acting(&f, "{\"instances\":2}");
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-0", "u-0"));
  a = plan_add(f.ctx.plan, REC_ACT_LABEL, "mg-0");
  a->role = MGO_ROLE_MAIN;
  plan_add(f.ctx.plan, REC_ACT_LABEL, "mg-9"); /* a pod that went away: nothing to do */
  r = op_step_act(&f.ctx);
  assert_int_equal(r.error, MGO_OK);
  labels = json_object_get(json_object_get(fake_find(&f, &K8S_RES_PODS, "db", "mg-0"), "metadata"), "labels");
  assert_string_equal(json_string_value(json_object_get(labels, MGO_LABEL_ROLE)), "main");
  assert_int_equal(fake_calls(&f, "merge_patch pods/db/"), 2);

  f.may_act = false; /* leadership lost: not one more action */
  r = op_step_act(&f.ctx);
  assert_int_equal(r.next, OP_STOP);
  assert_int_equal(fake_calls(&f, "merge_patch pods/db/"), 2);
  fake_ports_free(&f);
}

static void act_label_failure_is_an_error(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  acting(&f, "{\"instances\":2}");
  plan_add(f.ctx.plan, REC_ACT_LABEL, "mg-0");
  plan_add(f.ctx.plan, REC_ACT_LABEL, "mg-1");
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-0", "u-0"));
  f.fail[FAKE_MERGE_PATCH] = (struct fake_failure){MGO_ESERVER, 503, NULL, -1};
  r = op_step_act(&f.ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_int_equal(r.error, MGO_ESERVER);
  assert_int_equal(fake_calls(&f, "merge_patch pods/db/"), 1); /* the second label is not tried */
  assert_non_null(strstr(f.ctx.error, "label mg-0"));
  fake_ports_free(&f);
}

static void act_deletes_exactly_one_pod_incarnation(void **state)
{
  struct fake_ports f;
  struct rec_action *a;
  (void) state;
  acting(&f, "{\"instances\":2}");
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-1", "u-new"));
  a = plan_add(f.ctx.plan, REC_ACT_DELETE_POD, "mg-1");
  (void) mgo_strlcpy(a->replica_pod_uid, "u-old", sizeof(a->replica_pod_uid));
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK); /* another incarnation: left alone, no error */
  assert_non_null(fake_find(&f, &K8S_RES_PODS, "db", "mg-1"));
  assert_false(fake_has_event(&f, "PodUpdated"));
  (void) mgo_strlcpy(a->replica_pod_uid, "u-new", sizeof(a->replica_pod_uid));
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK);
  assert_null(fake_find(&f, &K8S_RES_PODS, "db", "mg-1"));
  assert_true(fake_has_event(&f, "PodUpdated"));
  assert_true(fake_metrics_contain(&f, "mgo_pod_updates_total{cluster=\"db/mg\"} 1"));
  fake_ports_free(&f);
}

/* The failover's fence: that incarnation deleted with grace period 0 and a MainFenced Event; when the delete
 * fails the failover goes on (the next action runs) with a FenceFailed Event. */
static void act_kills_the_replaced_main_best_effort(void **state)
{
  struct fake_ports f;
  struct rec_action *a;
  (void) state;
  acting(&f, "{\"instances\":2}");
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-0", "u-0"));
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-1", "u-1"));
  a = plan_add(f.ctx.plan, REC_ACT_KILL_POD, "mg-0");
  (void) mgo_strlcpy(a->replica_pod_uid, "u-0", sizeof(a->replica_pod_uid));
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK);
  assert_null(fake_find(&f, &K8S_RES_PODS, "db", "mg-0"));
  assert_int_equal(f.last_delete_grace, 0);
  assert_true(fake_has_event(&f, "MainFenced"));
  fake_ports_free(&f);

  acting(&f, "{\"instances\":2}");
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-0", "u-0"));
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-1", "u-1"));
  f.fail[FAKE_DELETE] = (struct fake_failure){MGO_EFORBIDDEN, 403, NULL, -1};
  a = plan_add(f.ctx.plan, REC_ACT_KILL_POD, "mg-0");
  (void) mgo_strlcpy(a->replica_pod_uid, "u-0", sizeof(a->replica_pod_uid));
  a = plan_add(f.ctx.plan, REC_ACT_DELETE_POD, "mg-1"); /* stands for what follows: it is still attempted */
  (void) mgo_strlcpy(a->replica_pod_uid, "u-1", sizeof(a->replica_pod_uid));
  assert_int_equal(op_step_act(&f.ctx).error, MGO_EFORBIDDEN); /* from the second action, not the first */
  assert_true(fake_has_event(&f, "FenceFailed"));
  assert_int_equal(fake_calls(&f, "delete pods/db/"), 2);
  fake_ports_free(&f);
}

static void act_reseeds_through_the_agent_configmap(void **state)
{
  struct fake_ports f;
  struct rec_action *a;
  struct op_result r;
  (void) state;
  acting(&f, "{\"instances\":2}");
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-1", "u-1"));
  a = plan_add(f.ctx.plan, REC_ACT_RESEED, "mg-0");
  (void) mgo_strlcpy(a->replica_pod, "mg-1", sizeof(a->replica_pod));
  (void) mgo_strlcpy(a->replica_pod_uid, "u-1", sizeof(a->replica_pod_uid));
  r = op_step_act(&f.ctx);
  assert_int_equal(r.error, MGO_OK);
  /* the ConfigMap did not exist: the merge patch found nothing, the apply created it with the request */
  assert_int_equal(fake_calls(&f, "merge_patch configmaps/db/mg-agent"), 1);
  assert_int_equal(fake_calls(&f, "apply configmaps/db/mg-agent"), 1);
  assert_string_equal(
      json_string_value(json_object_get(
          json_object_get(fake_find(&f, &K8S_RES_CONFIGMAPS, "db", "mg-agent"), "data"), "mg-1")),
      "reseed=u-1\n");
  assert_null(fake_find(&f, &K8S_RES_PODS, "db", "mg-1"));
  assert_true(fake_has_event(&f, "ReplicaReseeded"));
  assert_true(fake_metrics_contain(&f, "mgo_replica_reseeds_total{cluster=\"db/mg\"} 1"));
  fake_ports_free(&f);
}

/* The second re-seed of one pod within the window is counted and announced (the rate limit's memory). */
static void a_repeated_reseed_is_counted_and_announced(void **state)
{
  struct fake_ports f;
  struct rec_action *a;
  (void) state;
  acting(&f, "{\"instances\":2}");
  f.cs->nconns = 1;
  (void) mgo_strlcpy(f.cs->conns[0].pod, "mg-1", sizeof(f.cs->conns[0].pod));
  for (int i = 1; i <= 2; i++) {
    char uid[16];
    (void) mgo_snprintf(uid, sizeof(uid), "u-%d", i);
    fake_put(&f, &K8S_RES_PODS, a_pod("mg-1", uid));
    f.ctx.plan->n = 0;
    a = plan_add(f.ctx.plan, REC_ACT_RESEED, "mg-0");
    (void) mgo_strlcpy(a->replica_pod, "mg-1", sizeof(a->replica_pod));
    (void) mgo_strlcpy(a->replica_pod_uid, uid, sizeof(a->replica_pod_uid));
    assert_int_equal(op_step_act(&f.ctx).error, MGO_OK);
    assert_int_equal(f.cs->conns[0].reseeds, i);
    assert_int_equal(f.cs->conns[0].reseed_wall_ms, mgo_clock_wall_ms(mgo_fake_clock_get(&f.clock)));
    assert_true(fake_has_event(&f, "ReseedRepeated") == (i == 2));
    mgo_fake_clock_advance_ms(&f.clock, 5000);
  }
  assert_true(op_reseed_held(f.cs->conns[0].reseeds, 5000)); /* 60 s after the 2nd */
  assert_false(op_reseed_held(f.cs->conns[0].reseeds, 60000));
  fake_ports_free(&f);
}

static void reseed_gaps_double_up_to_the_cap(void **state)
{
  static const struct {
    int32_t reseeds;
    int64_t gap_ms;
  } cases[] = {{0, 0}, {1, 30000}, {2, 60000}, {3, 120000}, {5, 480000}, {6, 600000}, {40, 600000}};
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_int_equal(op_reseed_gap_ms(cases[i].reseeds), cases[i].gap_ms);
  assert_false(op_reseed_held(0, 0));
  assert_true(op_reseed_held(1, 29999));
  assert_false(op_reseed_held(1, 30000));
}

static void a_reseed_counts_for_30_minutes(void **state)
{
  static const struct {
    int64_t at_ms, now_ms;
    bool counts;
  } cases[] = {{0, 5000, false},
               {-1, 5000, false},
               {1000, 1000, true},
               {1000, 1000 + 1799999, true},
               {1000, 1000 + 1800000, false},
               {1000, 999999999, false}};
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_int_equal(op_reseed_in_window(cases[i].at_ms, cases[i].now_ms), cases[i].counts);
}

static void a_reseed_that_deletes_nothing_withdraws_its_request(void **state)
{
  struct fake_ports f;
  struct rec_action *a;
  (void) state;
  acting(&f, "{\"instances\":2}");
  a = plan_add(f.ctx.plan, REC_ACT_RESEED, "mg-0");
  (void) mgo_strlcpy(a->replica_pod, "mg-1", sizeof(a->replica_pod));
  (void) mgo_strlcpy(a->replica_pod_uid, "u-1", sizeof(a->replica_pod_uid));
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK); /* the pod is gone already */
  assert_int_equal(fake_calls(&f, "json_patch configmaps/db/mg-agent"), 1);
  assert_false(fake_has_event(&f, "ReplicaReseeded"));
  /* a failing delete is an error, and the request is withdrawn too */
  fake_put(&f, &K8S_RES_PODS, a_pod("mg-1", "u-1"));
  f.fail[FAKE_DELETE] = (struct fake_failure){MGO_ESERVER, 500, NULL, -1};
  assert_int_equal(op_step_act(&f.ctx).error, MGO_ESERVER);
  assert_int_equal(fake_calls(&f, "json_patch configmaps/db/mg-agent"), 2);
  assert_non_null(fake_find(&f, &K8S_RES_PODS, "db", "mg-1"));
  fake_ports_free(&f);
}

static int keep_body(void *arg, const char *url, const char *body, size_t len, long timeout_ms, char *err,
                     size_t errsz)
{
  (void) url, (void) timeout_ms, (void) err, (void) errsz;
  json_array_append_new(arg, json_loadb(body, len, 0, NULL));
  return MGO_OK;
}

/* The failover's span (docs/tracing.md): named by its kind, under the current span, with the decision. */
static void act_spans_the_failover_with_its_decision(void **state)
{
  struct mgo_trace_config cfg = fake_trace_config();
  json_t *bodies = json_array(), *fo = NULL, *spans, *sp;
  struct mgo_tracer_opts opts = {.send = keep_body, .send_arg = bodies};
  struct mgo_tracer *t = NULL;
  struct mgo_span *root;
  struct fake_ports f;
  struct rec_action *a;
  size_t i;
  char root_id[17], *attrs;
  (void) state;
  (void) snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:1/v1/traces");
  (void) snprintf(cfg.service_name, sizeof(cfg.service_name), "memgraph-operator");
  assert_int_equal(mgo_tracer_new(&cfg, &opts, &t, NULL, 0), MGO_OK);
  acting(&f, "{\"instances\":2}");
  a = plan_add(f.ctx.plan, REC_ACT_RECORD_MAIN, "mg-1");
  (void) mgo_strlcpy(a->kind, "failover", sizeof(a->kind));
  (void) mgo_strlcpy(a->from, "mg-0", sizeof(a->from));
  (void) mgo_strlcpy(a->reason, "MainUnreachable", sizeof(a->reason));
  a->mode = MGO_MODE_SYNC;
  a->behind = 3;
  root = mgo_span_root(t, "act", MGO_SPAN_INTERNAL);
  assert_non_null(root);
  (void) mgo_strlcpy(root_id, root->span_hex, sizeof(root_id));
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK);
  mgo_span_end(root);
  assert_int_equal(mgo_tracer_flush(t, 5000), MGO_OK);
  mgo_tracer_free(t, 1000);
  spans = fake_exported_spans(bodies);
  json_array_foreach(spans, i, sp)
  {
    if (strcmp(json_string_value(json_object_get(sp, "name")), "failover") == 0)
      fo = sp;
  }
  assert_non_null(fo);
  assert_string_equal(json_string_value(json_object_get(fo, "parentSpanId")), root_id);
  attrs = json_dumps(json_object_get(fo, "attributes"), JSON_COMPACT);
  assert_string_equal(attrs, "[{\"key\":\"cluster\",\"value\":{\"stringValue\":\"db/mg\"}},"
                             "{\"key\":\"from\",\"value\":{\"stringValue\":\"mg-0\"}},"
                             "{\"key\":\"to\",\"value\":{\"stringValue\":\"mg-1\"}},"
                             "{\"key\":\"reason\",\"value\":{\"stringValue\":\"MainUnreachable\"}},"
                             "{\"key\":\"behind\",\"value\":{\"intValue\":\"3\"}},"
                             "{\"key\":\"mode\",\"value\":{\"stringValue\":\"SYNC\"}}]");
  free(attrs);
  fake_ports_free(&f);
  json_decref(bodies);
}

static void act_records_the_main_before_promoting(void **state)
{
  struct fake_ports f;
  struct rec_action *a;
  const json_t *status;
  (void) state;
  acting(&f, "{\"instances\":2}");
  a = plan_add(f.ctx.plan, REC_ACT_RECORD_MAIN, "mg-1");
  (void) mgo_strlcpy(a->kind, "failover", sizeof(a->kind));
  (void) mgo_strlcpy(a->from, "mg-0", sizeof(a->from));
  (void) mgo_strlcpy(a->fenced, "mg-0", sizeof(a->fenced));
  a->mode = MGO_MODE_SYNC;
  f.cs->main_down_since_ms = mgo_clock_mono_ms(&f.clock.clock) - 2500; /* the MAIN has been gone for 2.5 s */
  assert_int_equal(op_step_act(&f.ctx).error, MGO_OK);
  status = json_object_get(fake_find(&f, &op_res_clusters, "db", "mg"), "status");
  assert_string_equal(json_string_value(json_object_get(status, "currentMain")), "mg-1");
  assert_string_equal(json_string_value(json_object_get(status, "fencedMain")), "mg-0");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(status, "lastFailover"), "writesUnavailableSince")),
      "2025-12-31T23:59:57.500Z");
  assert_string_equal(f.ctx.c.recorded_main, "mg-1");
  assert_true(f.cs->change.pending);
  /* a record that cannot be written leaves no change behind: the next pass decides again */
  memset(&f.cs->change, 0, sizeof(f.cs->change));
  f.fail[FAKE_MERGE_PATCH] = (struct fake_failure){MGO_ESERVER, 500, NULL, -1};
  assert_int_equal(op_step_act(&f.ctx).error, MGO_ESERVER);
  assert_false(f.cs->change.pending);
  fake_ports_free(&f);
}

/* ---- observe: the Kubernetes half and the Secrets ------------------------------------------------------ */

static void observe_reports_an_unreadable_auth_secret_and_goes_on(void **state)
{
  struct fake_ports f;
  struct op_result r;
  (void) state;
  fake_ports_init(&f);
  loaded(&f, "{\"instances\":1,\"auth\":{\"secretName\":\"creds\"}}");
  r = op_step_observe(&f.ctx);
  assert_int_equal(r.next, OP_CONTINUE); /* the pass goes on (no pod to reach anyway) */
  assert_int_equal(r.error, MGO_ENOTFOUND);
  assert_non_null(strstr(f.ctx.error, "auth Secret creds"));
  assert_int_equal(fake_calls(&f, "get secrets/db/creds"), 1);
  assert_false(f.cs->auth_loaded);
  fake_ports_free(&f);
}

static void observe_reads_the_auth_secret_once(void **state)
{
  struct fake_ports f;
  json_t *secret =
      json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Secret", "metadata",
                "name", "creds", "namespace", "db", "data", "username", "bWc=", "password", "c2VjcmV0");
  (void) state;
  fake_ports_init(&f);
  fake_put(&f, &K8S_RES_SECRETS, secret);
  loaded(&f, "{\"instances\":1,\"auth\":{\"secretName\":\"creds\"}}");
  assert_int_equal(op_step_observe(&f.ctx).error, MGO_OK);
  assert_true(f.cs->auth_loaded);
  assert_string_equal(f.cs->auth_user, "mg");
  assert_string_equal(f.cs->auth_password, "secret");
  free(f.ctx.obs);
  f.ctx.obs = NULL;
  assert_int_equal(op_step_observe(&f.ctx).error, MGO_OK);
  assert_int_equal(fake_calls(&f, "get secrets/db/creds"), 1); /* no API request per pass */
  fake_ports_free(&f);
}

static void observe_again(struct fake_ports *f)
{
  free(f->ctx.obs);
  f->ctx.obs = NULL;
  assert_int_equal(op_step_observe(&f->ctx).error, MGO_OK);
}

/* A rotated password is picked up within the Secret's maximum age (5 min) even while connections work; a
 * failed re-read keeps the credentials read before. */
static void observe_reads_the_auth_secret_again_when_it_is_old(void **state)
{
  struct fake_ports f;
  json_t *secret =
      json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Secret", "metadata",
                "name", "creds", "namespace", "db", "data", "username", "bWc=", "password", "c2VjcmV0");
  (void) state;
  fake_ports_init(&f);
  fake_put(&f, &K8S_RES_SECRETS, secret);
  loaded(&f, "{\"instances\":1,\"auth\":{\"secretName\":\"creds\"}}");
  assert_int_equal(op_step_observe(&f.ctx).error, MGO_OK);
  mgo_fake_clock_advance_ms(&f.clock, 299999);
  observe_again(&f);
  assert_int_equal(fake_calls(&f, "get secrets/db/creds"), 1); /* still fresh */
  json_object_set_new(json_object_get(fake_find(&f, &K8S_RES_SECRETS, "db", "creds"), "data"), "password",
                      json_string("bmV3")); /* "new" */
  mgo_fake_clock_advance_ms(&f.clock, 1);
  observe_again(&f);
  assert_int_equal(fake_calls(&f, "get secrets/db/creds"), 2);
  assert_string_equal(f.cs->auth_password, "new");
  /* the Secret goes away: the error is reported, the credentials read before stay in use */
  mgo_fake_clock_advance_ms(&f.clock, 300000);
  f.fail[FAKE_GET] = (struct fake_failure){MGO_ENOTFOUND, 404, NULL, -1};
  free(f.ctx.obs);
  f.ctx.obs = NULL;
  assert_int_equal(op_step_observe(&f.ctx).error, MGO_ENOTFOUND);
  assert_true(f.cs->auth_loaded);
  assert_string_equal(f.cs->auth_password, "new");
  fake_ports_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(load_of_a_missing_cluster_reports_it_gone),
      cmocka_unit_test(load_of_a_deleting_cluster_stops),
      cmocka_unit_test(load_parses_a_valid_cluster),
      cmocka_unit_test(load_prefers_our_newer_status_write_over_the_cache),
      cmocka_unit_test(an_invalid_spec_is_reported_once_and_stops),
      cmocka_unit_test(an_invalid_spec_whose_status_cannot_be_written_is_retried),
      cmocka_unit_test(objects_are_applied_once_then_left_alone),
      cmocka_unit_test(the_agent_token_secret_is_created_once),
      cmocka_unit_test(an_existing_agent_token_is_read_and_kept),
      cmocka_unit_test(an_unreadable_agent_token_is_never_replaced),
      cmocka_unit_test(an_unwanted_pdb_is_deleted),
      cmocka_unit_test(a_failed_apply_is_an_error_with_an_event),
      cmocka_unit_test(an_apply_conflict_is_retried_soon_without_an_error),
      cmocka_unit_test(a_terminating_namespace_stops_quietly),
      cmocka_unit_test(the_statefulset_has_the_plans_replicas_and_the_agent_image),
      cmocka_unit_test(status_is_written_when_it_changes_only),
      cmocka_unit_test(a_failed_status_write_is_an_error),
      cmocka_unit_test(no_status_write_without_leadership),
      cmocka_unit_test(decide_plans_from_the_observation),
      cmocka_unit_test(act_labels_pods_and_stops_without_leadership),
      cmocka_unit_test(act_label_failure_is_an_error),
      cmocka_unit_test(act_deletes_exactly_one_pod_incarnation),
      cmocka_unit_test(act_kills_the_replaced_main_best_effort),
      cmocka_unit_test(act_reseeds_through_the_agent_configmap),
      cmocka_unit_test(a_reseed_that_deletes_nothing_withdraws_its_request),
      cmocka_unit_test(a_repeated_reseed_is_counted_and_announced),
      cmocka_unit_test(reseed_gaps_double_up_to_the_cap),
      cmocka_unit_test(a_reseed_counts_for_30_minutes),
      cmocka_unit_test(act_records_the_main_before_promoting),
      cmocka_unit_test(act_spans_the_failover_with_its_decision),
      cmocka_unit_test(observe_reports_an_unreadable_auth_secret_and_goes_on),
      cmocka_unit_test(observe_reads_the_auth_secret_once),
      cmocka_unit_test(observe_reads_the_auth_secret_again_when_it_is_old),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
