/* The restore drill (docs/backup.md): on spec.backup.drill.schedule, or when the annotation
 * memgraph.io/restore-drill gets a new value, the newest Completed backup is restored into the scratch pod
 * <name>-drill (the cluster's pod template on emptyDir, outside every Service: mgo_build_drill_pod), exactly
 * as a restore into a new cluster would do it; once that Memgraph answers, its vertex and edge counts are
 * compared with those recorded in the MemgraphBackup. The result goes to status.lastRestoreDrill, an Event
 * and memgraph_restore_drills_total; then the pod is deleted. A restore the agent refuses (size or SHA-256
 * mismatch) or a pod that does not answer within OP_DRILL_TIMEOUT_MS fails the drill.
 *
 * State across passes and operator restarts is the pod itself: it exists while a drill runs, and its
 * annotation names the backup. */
#include "backup_int.h"

#include <string.h>

#include "backup_cron.h"
#include "cluster_build.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

#define OP_DRILL_TIMEOUT_MS (10L * 60 * 1000)
#define OP_DRILL_POLL_MS 2000
#define OP_DRILL_ANNOTATION "memgraph.io/restore-drill"

struct drill_result {
  const char *backup;
  bool passed;
  char message[512];
  int64_t vertices, edges; /* -1: not counted */
};

static const json_t *last_drill(const struct op_ctx *ctx)
{
  return json_object_get(json_object_get(ctx->obj, "status"), "lastRestoreDrill");
}

/* ---- when ------------------------------------------------------------------------------------------- */

static const char *requested(const struct op_ctx *ctx)
{
  return op_jstr(json_object_get(json_object_get(ctx->obj, "metadata"), "annotations"), OP_DRILL_ANNOTATION);
}

/* True when a drill is due; *after_ms: when the schedule's next one is (OP_AFTER_NONE: none). */
static bool drill_due(const struct op_ctx *ctx, long *after_ms)
{
  const char *expr = ctx->c.spec.backup.drill_schedule, *req = requested(ctx);
  struct backup_cron cron;
  int64_t now = mgo_clock_wall_ms(ctx->clock) / 1000, ms, next;

  *after_ms = OP_AFTER_NONE;
  if (req[0] != '\0' && strcmp(req, op_jstr(last_drill(ctx), "request")) != 0)
    return true;
  if (expr[0] == '\0' || backup_cron_parse(expr, &cron, NULL, 0) != MGO_OK)
    return false;
  if (mgo_time_parse_rfc3339(op_jstr(last_drill(ctx), "time"), &ms) != MGO_OK &&
      mgo_time_parse_rfc3339(op_jstr(json_object_get(ctx->obj, "metadata"), "creationTimestamp"), &ms) !=
          MGO_OK)
    return false;
  next = backup_cron_next(&cron, ms / 1000);
  if (next > 0 && next > now)
    *after_ms = (long) ((next - now) * 1000);
  return next > 0 && next <= now;
}

/* The newest Completed backup of the cluster, or NULL. */
static const json_t *newest_completed(const json_t *mine)
{
  const json_t *best = NULL, *b;
  size_t i;
  json_array_foreach(mine, i, b)
  {
    const json_t *st = json_object_get(b, "status");
    if (strcmp(op_jstr(st, "phase"), "Completed") == 0 &&
        (best == NULL ||
         strcmp(op_jstr(st, "completedAt"), op_jstr(json_object_get(best, "status"), "completedAt")) > 0))
      best = b;
  }
  return best;
}

static void record(struct op_ctx *ctx, const struct drill_result *r, json_t *out);

/* ---- start ------------------------------------------------------------------------------------------ */

static struct op_result start_drill(struct op_ctx *ctx, const json_t *backup)
{
  const char *name = op_jstr(json_object_get(backup, "metadata"), "name");
  char pod[MGO_NAME_MAX + 8], secret[MGO_DNS_NAME_MAX], why[256] = "";
  struct mgo_build_opts opts = {
      .operator_image = ctx->settings->operator_image, .replicas = -1, .restore_secret = secret};
  struct k8s_status st;
  json_t *obj = NULL;
  int rc = mgo_name_drill_pod(&ctx->c, pod, sizeof(pod));

  if (rc == MGO_OK)
    rc = op_restore_request(ctx, name, pod, secret, sizeof(secret), why, sizeof(why));
  if (rc == MGO_OK)
    rc = mgo_build_drill_pod(&ctx->c, &opts, name, &obj);
  k8s_status_clear(&st);
  if (rc == MGO_OK)
    rc = ctx->kube->create(ctx->kube->arg, &K8S_RES_PODS, ctx->ns, obj, &st);
  json_decref(obj);
  if (rc == MGO_EAGAIN || rc == MGO_EINVAL || rc == MGO_EFORBIDDEN || rc == MGO_EINVALIDOBJ) {
    struct drill_result r = {.backup = name, .vertices = -1, .edges = -1};
    (void) mgo_snprintf(r.message, sizeof(r.message), "the drill could not start: %s%s%s", mgo_errname(rc),
                        why[0] != '\0' ? ": " : "", why[0] != '\0' ? why : st.message);
    record(ctx, &r, ctx->backup_status); /* not retried before the next run is due */
    return op_ok();
  }
  if (rc != MGO_OK && !(rc == MGO_ECONFLICT && strcmp(st.reason, "AlreadyExists") == 0))
    return op_failed(ctx, rc, "restore drill of %s: %s %s", name, why, st.message);
  mgo_log(MGO_LOG_INFO, "restore drill started", "cluster", ctx->key, "backup", name, "pod", pod,
          (char *) NULL);
  return op_ok_after(OP_DRILL_POLL_MS);
}

/* ---- finish ----------------------------------------------------------------------------------------- */

static void record(struct op_ctx *ctx, const struct drill_result *r, json_t *out)
{
  char now[40], labels[MGO_METRIC_LABELS_MAX];
  json_t *d;
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  d = json_pack("{s:s, s:s, s:s, s:s}", "time", now, "backup", r->backup, "result",
                r->passed ? "Passed" : "Failed", "message", r->message);
  if (d != NULL && r->vertices >= 0) {
    json_object_set_new(d, "vertices", json_integer((json_int_t) r->vertices));
    json_object_set_new(d, "edges", json_integer((json_int_t) r->edges));
  }
  if (d != NULL && requested(ctx)[0] != '\0')
    json_object_set_new(d, "request", json_string(requested(ctx)));
  json_object_set_new(out, "lastRestoreDrill", d);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "result",
                           r->passed ? "passed" : "failed", (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->restore_drills, labels, 1);
  op_event(ctx, r->passed ? "Normal" : "Warning", r->passed ? "RestoreDrillPassed" : "RestoreDrillFailed",
           "RestoreDrill", r->message);
  mgo_log(r->passed ? MGO_LOG_INFO : MGO_LOG_WARN, "restore drill finished", "cluster", ctx->key, "backup",
          r->backup, "result", r->passed ? "Passed" : "Failed", "detail", r->message, (char *) NULL);
}

/* Counts what the restored instance holds; MGO_EAGAIN while it does not answer yet. */
static int count_restored(struct op_ctx *ctx, const char *ip, int64_t *v, int64_t *e)
{
  struct mgo_mg_target t = {.host = ip,
                            .port = MGO_BOLT_PORT,
                            .user = ctx->cs->auth_loaded ? ctx->cs->auth_user : NULL,
                            .password = ctx->cs->auth_loaded ? ctx->cs->auth_password : NULL,
                            .connect_timeout_ms = (int) ctx->settings->bolt_timeout_ms,
                            .query_timeout_ms = (int) ctx->settings->bolt_timeout_ms,
                            .tls_ca_file = ctx->cs->tls_loaded ? ctx->cs->tls_ca_file : NULL,
                            .tls_server_name = ip};
  struct mgo_mg_conn *conn = NULL;
  int rc = ctx->mg->connect(&t, &conn);
  if (rc == MGO_OK)
    rc = ctx->mg->storage_counts(conn, v, e);
  if (conn != NULL)
    ctx->mg->close(conn);
  return rc == MGO_ECONNECT || rc == MGO_ECLOSED || rc == MGO_EIO ? MGO_EAGAIN : rc;
}

/* The operator-agent's exit, when it failed: the drill's restore was refused. */
static const char *refused(const json_t *pod)
{
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(json_object_get(pod, "status"), "initContainerStatuses"), i, c)
  {
    const json_t *t = json_object_get(json_object_get(c, "state"), "terminated");
    if (strcmp(op_jstr(c, "name"), "operator-agent") == 0 && t != NULL &&
        json_integer_value(json_object_get(t, "exitCode")) != 0)
      return op_jstr(t, "message")[0] != '\0' ? op_jstr(t, "message") : "the restore init step failed";
  }
  return NULL;
}

static bool evaluate(struct op_ctx *ctx, const json_t *pod, struct drill_result *r)
{
  const json_t *b = ctx->kube->cached(ctx->kube->arg, OP_CACHE_BACKUPS, ctx->ns, r->backup);
  const json_t *bst = json_object_get(b, "status");
  int64_t want_v = json_integer_value(json_object_get(bst, "vertices")),
          want_e = json_integer_value(json_object_get(bst, "edges"));
  const char *why = refused(pod), *ip = op_jstr(json_object_get(pod, "status"), "podIP");
  int64_t started;
  int rc = MGO_EAGAIN;

  r->vertices = r->edges = -1;
  if (why == NULL && ip[0] != '\0')
    rc = count_restored(ctx, ip, &r->vertices, &r->edges);
  if (why != NULL) {
    (void) mgo_snprintf(r->message, sizeof(r->message), "the restore was refused: %s", why);
  } else if (rc == MGO_OK) {
    r->passed = b != NULL && r->vertices == want_v && r->edges == want_e;
    (void) mgo_snprintf(r->message, sizeof(r->message),
                        "restored %lld vertices and %lld edges; the backup recorded %lld and %lld",
                        (long long) r->vertices, (long long) r->edges, (long long) want_v,
                        (long long) want_e);
  } else if (mgo_time_parse_rfc3339(op_jstr(json_object_get(pod, "metadata"), "creationTimestamp"),
                                    &started) == MGO_OK &&
             mgo_clock_wall_ms(ctx->clock) - started > OP_DRILL_TIMEOUT_MS) {
    (void) mgo_snprintf(r->message, sizeof(r->message), "the restored instance did not answer within %ld s",
                        OP_DRILL_TIMEOUT_MS / 1000);
  } else {
    json_decref((json_t *) b);
    return false; /* not yet */
  }
  json_decref((json_t *) b);
  return true;
}

static struct op_result finish_or_wait(struct op_ctx *ctx, json_t *pod, json_t *out)
{
  struct drill_result r = {.backup = op_jstr(json_object_get(json_object_get(pod, "metadata"), "annotations"),
                                             MGO_DRILL_BACKUP_ANNOTATION)};
  struct k8s_delete_opts del = {.has_grace_period = true, .grace_period_seconds = 0};
  struct k8s_status st;
  const char *name = op_jstr(json_object_get(pod, "metadata"), "name");

  if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL)
    return op_ok_after(OP_DRILL_POLL_MS); /* ending */
  if (!evaluate(ctx, pod, &r))
    return op_ok_after(OP_DRILL_POLL_MS);
  record(ctx, &r, out);
  k8s_status_clear(&st);
  (void) ctx->kube->delete_object(ctx->kube->arg, &K8S_RES_PODS, ctx->ns, name, &del, &st);
  return op_ok();
}

struct op_result op_step_drill(struct op_ctx *ctx)
{
  char name[MGO_NAME_MAX + 8];
  json_t *pod, *mine;
  const json_t *backup;
  struct op_result res = op_ok();
  long after;

  if (!ctx->parsed || ctx->backup_status == NULL || !ctx->kube->may_act(ctx->kube->arg) ||
      mgo_name_drill_pod(&ctx->c, name, sizeof(name)) != MGO_OK)
    return res;
  pod = ctx->kube->cached(ctx->kube->arg, OP_CACHE_PODS, ctx->ns, name);
  if (pod != NULL && op_jstr(json_object_get(json_object_get(pod, "metadata"), "annotations"),
                             MGO_DRILL_BACKUP_ANNOTATION)[0] == '\0') {
    json_decref(pod); /* a pod of that name that no drill of ours made: left alone, no drill meanwhile */
    return op_failed(ctx, MGO_ECONFLICT, "pod %s exists and is not a restore drill's", name);
  }
  if (pod != NULL) {
    res = finish_or_wait(ctx, pod, ctx->backup_status);
    json_decref(pod);
    return res;
  }
  if (!drill_due(ctx, &after))
    return after != OP_AFTER_NONE ? op_ok_after(after) : res;
  mine = op_cluster_backups(ctx);
  backup = newest_completed(mine);
  if (backup != NULL) {
    res = start_drill(ctx, backup);
  } else {
    struct drill_result r = {.backup = "", .vertices = -1, .edges = -1};
    (void) mgo_strlcpy(r.message, "no Completed backup to restore", sizeof(r.message));
    record(ctx, &r, ctx->backup_status);
  }
  json_decref(mine);
  return res;
}
