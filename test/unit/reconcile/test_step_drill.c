/* The restore drill (step_drill.c, docs/backup.md "Restore drills") against fake ports: the Kubernetes port
 * of fake_ports.h (its delete wrapped here to see the grace period) and a fake Memgraph (struct mgo_mg_ops)
 * that answers the restored instance's vertex and edge counts. Each drill is driven pass by pass, as in
 * test_step_backup.c. */
#include "backup_int.h"
#include "fake_ports.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SHA "aaaabbbbccccddddeeeeffff00001111aaaabbbbccccddddeeeeffff00001111"
#define REFUSAL "restore failed: sha256 mismatch (ECONFLICT)"
#define HOUR_MS (60L * 60 * 1000)

/* ---- a fake Memgraph: the restored instance ------------------------------------------------------------ */

struct mgo_mg_conn {
  int unused;
};

static struct mgo_mg_conn the_conn;
static int64_t counted_vertices, counted_edges;
static int connect_rc;
static char connected_to[64];

static int fm_connect(const struct mgo_mg_target *t, struct mgo_mg_conn **conn)
{
  (void) mgo_strlcpy(connected_to, t->host, sizeof(connected_to));
  *conn = connect_rc == MGO_OK ? &the_conn : NULL;
  return connect_rc;
}

static const char *fm_error(const struct mgo_mg_conn *conn)
{
  (void) conn;
  return "fake error";
}

static int fm_counts(struct mgo_mg_conn *conn, int64_t *vertices, int64_t *edges)
{
  assert_ptr_equal(conn, &the_conn);
  *vertices = counted_vertices;
  *edges = counted_edges;
  return MGO_OK;
}

static const struct mgo_mg_ops fake_mg = {.connect = fm_connect,
                                          .close = fake_mg_close,
                                          .usable = fake_mg_usable,
                                          .error = fm_error,
                                          .storage_counts = fm_counts};

/* ---- fixture ------------------------------------------------------------------------------------------- */

struct dr {
  struct fake_ports f;
  int (*delete_object)(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                       const struct k8s_delete_opts *opts, struct k8s_status *st);
  int deletes;
  bool grace_zero; /* the last delete asked for grace period 0 */
};

static struct dr *the_dr;

static int wrapped_delete(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                          const struct k8s_delete_opts *opts, struct k8s_status *st)
{
  the_dr->deletes++;
  the_dr->grace_zero = opts != NULL && opts->has_grace_period && opts->grace_period_seconds == 0;
  return the_dr->delete_object(arg, res, ns, name, opts, st);
}

/* The cluster db/mg with S3, extra fields of spec.backup (",..." or ""), the annotation
 * memgraph.io/restore-drill (or NULL) and status JSON (or NULL), loaded. */
static void dr_init(struct dr *d, const char *extra, const char *request, const char *status)
{
  char spec[1024];
  json_t *obj;
  memset(d, 0, sizeof(*d));
  fake_ports_init(&d->f);
  the_dr = d;
  d->delete_object = d->f.kube.delete_object;
  d->f.kube.delete_object = wrapped_delete;
  mgo_log_setup(MGO_LOG_ERROR, MGO_LOG_LOGFMT, NULL);
  (void) mgo_snprintf(spec, sizeof(spec),
                      "{\"instances\":3,\"backup\":{\"s3\":{\"bucket\":\"bk\",\"secretName\":\"s3-creds\","
                      "\"prefix\":\"pfx\",\"endpoint\":\"http://s3.test:9000\",\"forcePathStyle\":true}%s}}",
                      extra);
  obj = fake_cluster_json(spec, status);
  if (request != NULL)
    json_object_set_new(json_object_get(obj, "metadata"), "annotations",
                        json_pack("{s:s}", "memgraph.io/restore-drill", request));
  fake_put(&d->f, &op_res_clusters, obj);
  assert_int_equal(op_step_load(&d->f.ctx).next, OP_CONTINUE);
  d->f.ctx.mg = &fake_mg;
  connect_rc = MGO_OK;
  counted_vertices = 40;
  counted_edges = 1;
  connected_to[0] = '\0';
}

static void dr_free(struct dr *d)
{
  mgo_log_setup(MGO_LOG_INFO, MGO_LOG_LOGFMT, NULL);
  d->f.ctx.mg = NULL; /* no connections of the cluster were opened */
  fake_ports_free(&d->f);
  the_dr = NULL;
}

/* One pass of the step, with a fresh summary as op_step_backup leaves it. */
static struct op_result pass(struct dr *d)
{
  json_decref(d->f.ctx.backup_status);
  d->f.ctx.backup_status = json_object();
  return op_step_drill(&d->f.ctx);
}

/* The Completed MemgraphBackup b1 of cluster mg (40 vertices, 1 edge). */
static void put_completed(struct fake_ports *f)
{
  fake_put(f, &op_res_backups,
           fake_json("{\"apiVersion\":\"memgraph.io/v1alpha1\",\"kind\":\"MemgraphBackup\",\"metadata\":{"
                     "\"name\":\"b1\",\"namespace\":\"db\",\"uid\":\"uid-b1\",\"creationTimestamp\":"
                     "\"2025-12-31T00:00:00Z\"},\"spec\":{\"cluster\":\"mg\"},\"status\":{\"phase\":"
                     "\"Completed\",\"completedAt\":\"2025-12-31T00:01:00Z\",\"snapshot\":\"snap\","
                     "\"sha256\":\"" SHA "\",\"sizeBytes\":4096,\"vertices\":40,\"edges\":1,\"s3\":{"
                     "\"bucket\":\"bk\",\"key\":\"pfx/db/mg/b1/snap\",\"secretName\":\"s3-creds\"}}}"));
}

static const json_t *last_drill(struct dr *d)
{
  return json_object_get(d->f.ctx.backup_status, "lastRestoreDrill");
}

static json_t *drill_pod(struct dr *d)
{
  return fake_find(&d->f, &K8S_RES_PODS, "db", "mg-drill");
}

/* The stored drill pod gets status (JSON). */
static void set_pod_status(struct dr *d, const char *status)
{
  json_t *p = drill_pod(d);
  assert_non_null(p);
  json_object_set_new(p, "status", fake_json(status));
}

static bool has_named(const json_t *list, const char *name)
{
  size_t i;
  const json_t *x;
  json_array_foreach(list, i, x)
  {
    if (strcmp(op_jstr(x, "name"), name) == 0)
      return true;
  }
  return false;
}

/* ---- an annotation-triggered drill --------------------------------------------------------------------- */

/* Pass 1 of the drill requested t1: the restore lines for mg-drill, then the scratch pod. */
static void the_drill_starts(struct dr *d)
{
  const json_t *pod, *meta, *spec, *v;
  const char *lines;
  size_t i;
  struct op_result r;

  put_completed(&d->f);
  r = pass(d);
  assert_int_equal(r.error, MGO_OK);
  assert_true(r.after_ms > 0 && r.after_ms != OP_AFTER_NONE);
  assert_null(last_drill(d));
  lines = json_string_value(json_object_get(
      json_object_get(fake_find(&d->f, &K8S_RES_CONFIGMAPS, "db", "mg-agent"), "data"), "mg-drill"));
  assert_non_null(lines);
  assert_non_null(strstr(lines, "restore=u1\n"));
  assert_non_null(strstr(lines, "\nrestore.bucket=bk\n"));
  assert_non_null(strstr(lines, "\nrestore.key=pfx/db/mg/b1/snap\n"));
  assert_non_null(strstr(lines, "\nrestore.file=snap\n"));
  assert_non_null(strstr(lines, "\nrestore.size=4096\n"));
  assert_non_null(strstr(lines, "\nrestore.sha256=" SHA "\n"));
  assert_int_equal(fake_calls(&d->f, "create pods/db/mg-drill"), 1);
  pod = drill_pod(d);
  assert_non_null(pod);
  meta = json_object_get(pod, "metadata");
  spec = json_object_get(pod, "spec");
  assert_string_equal(op_jstr(json_object_get(meta, "labels"), "app.kubernetes.io/name"), "memgraph-drill");
  assert_string_equal(op_jstr(json_object_get(meta, "annotations"), "memgraph.io/drill-backup"), "b1");
  assert_string_equal(op_jstr(spec, "restartPolicy"), "Never");
  assert_true(has_named(json_object_get(spec, "containers"), "memgraph"));
  assert_false(has_named(json_object_get(spec, "containers"), "agent"));
  json_array_foreach(json_object_get(spec, "volumes"), i, v)
  {
    if (strcmp(op_jstr(v, "name"), "data") == 0)
      assert_true(json_is_object(json_object_get(v, "emptyDir")));
  }
  assert_true(has_named(json_object_get(spec, "volumes"), "data"));
}

static void an_annotation_restores_the_newest_backup_into_a_scratch_pod(void **state)
{
  struct dr d;
  (void) state;
  dr_init(&d, "", "t1", NULL);
  the_drill_starts(&d);
  /* while the pod has no IP: waiting, nothing recorded, nothing created again */
  assert_true(pass(&d).after_ms > 0);
  assert_null(last_drill(&d));
  assert_int_equal(fake_calls(&d.f, "create"), 1);
  assert_int_equal(d.deletes, 0);
  dr_free(&d);
}

static void matching_counts_pass_the_drill_and_delete_the_pod(void **state)
{
  struct dr d;
  const json_t *ld;
  struct op_result r;
  (void) state;
  dr_init(&d, "", "t1", NULL);
  the_drill_starts(&d);
  set_pod_status(&d, "{\"podIP\":\"10.0.9.9\"}");
  r = pass(&d);
  assert_int_equal(r.error, MGO_OK);
  assert_string_equal(connected_to, "10.0.9.9");
  ld = last_drill(&d);
  assert_non_null(ld);
  assert_string_equal(op_jstr(ld, "result"), "Passed");
  assert_string_equal(op_jstr(ld, "backup"), "b1");
  assert_string_equal(op_jstr(ld, "request"), "t1");
  assert_string_equal(op_jstr(ld, "time"), "2026-01-01T00:00:00Z");
  assert_int_equal(json_integer_value(json_object_get(ld, "vertices")), 40);
  assert_int_equal(json_integer_value(json_object_get(ld, "edges")), 1);
  assert_true(fake_has_event(&d.f, "RestoreDrillPassed"));
  assert_true(
      fake_metrics_contain(&d.f, "memgraph_restore_drills_total{cluster=\"db/mg\",result=\"passed\"} 1"));
  assert_int_equal(d.deletes, 1);
  assert_true(d.grace_zero);
  assert_null(drill_pod(&d));
  dr_free(&d);
}

static void a_missing_vertex_fails_the_drill(void **state)
{
  struct dr d;
  const json_t *ld;
  (void) state;
  dr_init(&d, "", "t1", NULL);
  the_drill_starts(&d);
  set_pod_status(&d, "{\"podIP\":\"10.0.9.9\"}");
  counted_vertices = 39;
  assert_int_equal(pass(&d).error, MGO_OK);
  ld = last_drill(&d);
  assert_string_equal(op_jstr(ld, "result"), "Failed");
  assert_int_equal(json_integer_value(json_object_get(ld, "vertices")), 39);
  assert_non_null(strstr(op_jstr(ld, "message"), "restored 39 vertices"));
  assert_true(fake_has_event(&d.f, "RestoreDrillFailed"));
  assert_false(fake_has_event(&d.f, "RestoreDrillPassed"));
  assert_true(
      fake_metrics_contain(&d.f, "memgraph_restore_drills_total{cluster=\"db/mg\",result=\"failed\"} 1"));
  assert_true(d.grace_zero);
  assert_null(drill_pod(&d));
  dr_free(&d);
}

static void a_refused_restore_fails_the_drill_with_the_agents_message(void **state)
{
  struct dr d;
  const json_t *ld;
  (void) state;
  dr_init(&d, "", "t1", NULL);
  the_drill_starts(&d);
  set_pod_status(&d, "{\"initContainerStatuses\":[{\"name\":\"operator-agent\",\"state\":{\"terminated\":{"
                     "\"exitCode\":1,\"message\":\"" REFUSAL "\"}}}]}");
  assert_int_equal(pass(&d).error, MGO_OK);
  ld = last_drill(&d);
  assert_string_equal(op_jstr(ld, "result"), "Failed");
  assert_non_null(strstr(op_jstr(ld, "message"), REFUSAL));
  assert_null(json_object_get(ld, "vertices")); /* not counted */
  assert_string_equal(connected_to, "");
  assert_true(fake_has_event(&d.f, "RestoreDrillFailed"));
  assert_null(drill_pod(&d));
  dr_free(&d);
}

static void a_silent_pod_fails_the_drill_after_ten_minutes(void **state)
{
  struct dr d;
  (void) state;
  dr_init(&d, "", "t1", NULL);
  the_drill_starts(&d);
  json_object_set_new(json_object_get(drill_pod(&d), "metadata"), "creationTimestamp",
                      json_string("2026-01-01T00:00:00Z"));
  set_pod_status(&d, "{\"podIP\":\"10.0.9.9\"}");
  connect_rc = MGO_ECONNECT;
  mgo_fake_clock_advance_ms(&d.f.clock, 9L * 60 * 1000);
  assert_int_equal(pass(&d).error, MGO_OK);
  assert_null(last_drill(&d)); /* not yet */
  mgo_fake_clock_advance_ms(&d.f.clock, 2L * 60 * 1000);
  assert_int_equal(pass(&d).error, MGO_OK);
  assert_string_equal(op_jstr(last_drill(&d), "result"), "Failed");
  assert_non_null(strstr(op_jstr(last_drill(&d), "message"), "did not answer"));
  assert_null(drill_pod(&d));
  dr_free(&d);
}

static void an_annotation_already_answered_starts_nothing(void **state)
{
  struct dr d;
  struct op_result r;
  (void) state;
  dr_init(&d, "", "t1",
          "{\"lastRestoreDrill\":{\"time\":\"2025-12-31T23:00:00Z\",\"backup\":\"b1\",\"result\":"
          "\"Passed\",\"message\":\"m\",\"request\":\"t1\"}}");
  put_completed(&d.f);
  r = pass(&d);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(r.after_ms, OP_AFTER_NONE);
  assert_int_equal(fake_calls(&d.f, "create") + fake_calls(&d.f, "apply") + fake_calls(&d.f, "merge_patch"),
                   0);
  assert_null(last_drill(&d));
  assert_int_equal(json_array_size(d.f.events), 0);
  dr_free(&d);
}

static void without_a_completed_backup_the_drill_fails(void **state)
{
  struct dr d;
  (void) state;
  dr_init(&d, "", "t1", NULL);
  fake_put(&d.f, &op_res_backups,
           fake_json("{\"metadata\":{\"name\":\"b0\",\"namespace\":\"db\"},\"spec\":{\"cluster\":\"mg\"},"
                     "\"status\":{\"phase\":\"Running\"}}"));
  assert_int_equal(pass(&d).error, MGO_OK);
  assert_string_equal(op_jstr(last_drill(&d), "result"), "Failed");
  assert_string_equal(op_jstr(last_drill(&d), "message"), "no Completed backup to restore");
  assert_string_equal(op_jstr(last_drill(&d), "request"), "t1");
  assert_int_equal(fake_calls(&d.f, "create"), 0);
  assert_true(fake_has_event(&d.f, "RestoreDrillFailed"));
  dr_free(&d);
}

static void a_forbidden_create_is_a_failed_drill_not_an_error(void **state)
{
  struct dr d;
  struct op_result r;
  json_t *st;
  (void) state;
  dr_init(&d, "", "t1", NULL);
  put_completed(&d.f);
  d.f.fail[FAKE_CREATE] = (struct fake_failure){.rc = MGO_EFORBIDDEN, .code = 403, .times = -1};
  r = pass(&d);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(r.after_ms, OP_AFTER_NONE);
  assert_string_equal(op_jstr(last_drill(&d), "result"), "Failed");
  assert_string_equal(op_jstr(last_drill(&d), "request"), "t1");
  assert_non_null(strstr(op_jstr(last_drill(&d), "message"), "could not start"));
  assert_true(fake_has_event(&d.f, "RestoreDrillFailed"));
  assert_null(drill_pod(&d));
  /* once the result is in the status, the same request is not tried again */
  st = json_object();
  json_object_set(st, "lastRestoreDrill", (json_t *) last_drill(&d));
  json_object_set_new(d.f.ctx.obj, "status", st);
  assert_int_equal(pass(&d).error, MGO_OK);
  assert_int_equal(fake_calls(&d.f, "create"), 1);
  assert_null(last_drill(&d));
  dr_free(&d);
}

/* ---- the schedule -------------------------------------------------------------------------------------- */

#define HOURLY_DRILL ",\"drill\":{\"schedule\":\"0 * * * *\"}"

/* The clock at 00:30 and the last drill at `last`. */
static void dr_init_hourly(struct dr *d, const char *last)
{
  char status[256];
  (void) mgo_snprintf(status, sizeof(status),
                      "{\"lastRestoreDrill\":{\"time\":\"%s\",\"backup\":\"b1\",\"result\":\"Passed\","
                      "\"message\":\"m\"}}",
                      last);
  dr_init(d, HOURLY_DRILL, NULL, status);
  mgo_fake_clock_advance_ms(&d->f.clock, 30L * 60 * 1000);
  put_completed(&d->f);
}

static void a_drill_due_on_the_schedule_starts(void **state)
{
  struct dr d;
  (void) state;
  dr_init_hourly(&d, "2025-12-31T22:30:00Z"); /* two hours ago: 23:00 and 00:00 are due */
  assert_int_equal(pass(&d).error, MGO_OK);
  assert_int_equal(fake_calls(&d.f, "create pods/db/mg-drill"), 1);
  assert_null(json_object_get(json_object_get(drill_pod(&d), "metadata"), "deletionTimestamp"));
  dr_free(&d);
}

static void a_drill_not_due_yet_waits_for_the_next_hour(void **state)
{
  struct dr d;
  struct op_result r;
  (void) state;
  dr_init_hourly(&d, "2026-01-01T00:20:00Z"); /* ten minutes ago: 01:00 is next */
  r = pass(&d);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(fake_calls(&d.f, "create"), 0);
  assert_null(last_drill(&d));
  assert_true(r.after_ms > 0 && r.after_ms <= HOUR_MS / 2);
  dr_free(&d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_annotation_restores_the_newest_backup_into_a_scratch_pod),
      cmocka_unit_test(matching_counts_pass_the_drill_and_delete_the_pod),
      cmocka_unit_test(a_missing_vertex_fails_the_drill),
      cmocka_unit_test(a_refused_restore_fails_the_drill_with_the_agents_message),
      cmocka_unit_test(a_silent_pod_fails_the_drill_after_ten_minutes),
      cmocka_unit_test(an_annotation_already_answered_starts_nothing),
      cmocka_unit_test(without_a_completed_backup_the_drill_fails),
      cmocka_unit_test(a_forbidden_create_is_a_failed_drill_not_an_error),
      cmocka_unit_test(a_drill_due_on_the_schedule_starts),
      cmocka_unit_test(a_drill_not_due_yet_waits_for_the_next_hour),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
