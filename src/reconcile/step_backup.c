/* The backup step (docs/backup.md): the cluster's MemgraphBackup objects are carried out one at a time,
 * oldest first, as a small state machine whose state is the MemgraphBackup's status (so a restarted operator
 * goes on where the last one stopped):
 *
 *   Pending  → Running: a target instance is chosen (backup_cluster.c) and recorded;
 *   Running, no snapshot: CREATE SNAPSHOT on it, its durable timestamp (SHOW SNAPSHOTS) and the vertex and
 * edge counts (SHOW STORAGE INFO) recorded; Running, no upload: LOCK DATA DIRECTORY, then the pod's agent is
 * asked to upload the file; Running, uploading: the agent's job is polled; when it ends, UNLOCK DATA
 * DIRECTORY and Completed, or a failed attempt: retried from a fresh snapshot after a backoff
 * (nextAttemptAt), Failed after BACKUP_MAX_ATTEMPTS.
 *
 * Memgraph is reached through the Memgraph port, the agent through the agent port, the API server through
 * the Kubernetes port; credentials are read from the Secret for each upload and never written anywhere. */
#include "backup_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_build.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

const char *op_backup_pod_ip(const struct op_ctx *ctx, const char *pod)
{
  for (size_t i = 0; i < ctx->cs->nconns; i++) {
    if (strcmp(ctx->cs->conns[i].pod, pod) == 0)
      return ctx->cs->conns[i].ip;
  }
  return "";
}

const char *op_jstr(const json_t *obj, const char *key)
{
  const char *s = json_string_value(json_object_get(obj, key));
  return s != NULL ? s : "";
}

struct op_conn *op_backup_conn(struct op_ctx *ctx, const char *pod)
{
  for (size_t i = 0; i < ctx->cs->nconns; i++) {
    struct op_conn *c = &ctx->cs->conns[i];
    if (strcmp(c->pod, pod) == 0)
      return c->conn != NULL && ctx->mg->usable(c->conn) ? c : NULL;
  }
  return NULL;
}

/* Merge-patches the MemgraphBackup's status with fields (consumed) and keeps the result in r->status. */
int op_backup_patch(struct op_ctx *ctx, struct op_backup_run *r, json_t *fields)
{
  struct k8s_status st;
  json_t *patch = fields != NULL ? json_pack("{s:o}", "status", fields) : NULL;
  json_t *out = NULL;
  int rc;

  if (patch == NULL)
    return MGO_ENOMEM;
  k8s_status_clear(&st);
  rc = ctx->kube->merge_patch(ctx->kube->arg, &op_res_backups, ctx->ns, r->name, "status", patch, &out, &st);
  json_decref(patch);
  if (rc != MGO_OK) {
    op_ctx_note(ctx, "status of MemgraphBackup %s: %s (%ld %s)", r->name, mgo_errname(rc), st.code,
                st.message);
    json_decref(out);
    return rc;
  }
  json_decref(r->obj);
  r->obj = out;
  r->status = json_object_get(out, "status");
  return MGO_OK;
}

/* The event goes on the MemgraphBackup, so `kubectl describe mgb` shows the history. */
static void backup_event(struct op_ctx *ctx, const struct op_backup_run *r, const char *type,
                         const char *reason, const char *note)
{
  struct k8s_status st;
  k8s_status_clear(&st);
  (void) ctx->kube->event(ctx->kube->arg, r->obj, type, reason, "Backup", note, &st);
  op_event(ctx, type, reason, "Backup", note);
}

static void count(struct mgo_metric_family *f, const struct op_ctx *ctx, const char *k, const char *v,
                  double n)
{
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, k, v, (char *) NULL);
  (void) mgo_metric_add(f, labels, n);
}

/* ---- a failed attempt ------------------------------------------------------------------------------- */

static long attempt_backoff_ms(int attempts)
{
  long ms = 5000;
  for (int i = 1; i < attempts && ms < 120000; i++)
    ms *= 2;
  return ms;
}

struct op_result op_backup_attempt_failed(struct op_ctx *ctx, struct op_backup_run *r, const char *source,
                                          const char *code, const char *message)
{
  char now[40], next[40], note[512];
  int attempts = (int) json_integer_value(json_object_get(r->status, "attempts"));
  bool final = attempts >= OP_BACKUP_MAX_ATTEMPTS;
  long wait = attempt_backoff_ms(attempts);
  json_t *fields;

  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  (void) mgo_time_format_rfc3339((mgo_clock_wall_ms(ctx->clock) + wait) * 1000000, 0, next, sizeof(next));
  count(ctx->metrics->s3_upload_errors, ctx, "reason", code, 1);
  (void) mgo_snprintf(note, sizeof(note), "attempt %d of %d failed (%s %s): %s%s", attempts,
                      OP_BACKUP_MAX_ATTEMPTS, source, code, message, final ? "" : "; retrying");
  fields =
      json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:n, s:n}", "phase", final ? "Failed" : "Running", "message",
                note, "error", "source", source, "code", code, "message", message, "snapshot", "uploadId");
  if (fields != NULL && final)
    json_object_set_new(fields, "completedAt", json_string(now));
  if (fields != NULL && !final) {
    json_object_set_new(fields, "nextAttemptAt", json_string(next));
    json_object_set_new(fields, "attempts", json_integer(attempts + 1));
    json_object_set_new(fields, "pod", json_null()); /* the next attempt chooses its instance again */
    json_object_set_new(fields, "role", json_null());
  }
  mgo_log(MGO_LOG_WARN, "backup attempt failed", "cluster", ctx->key, "backup", r->name, "source", source,
          "code", code, "detail", message, "final", final ? "true" : "false", (char *) NULL);
  if (op_backup_patch(ctx, r, fields) != MGO_OK)
    return op_error(MGO_EIO);
  if (final)
    backup_event(ctx, r, "Warning", "BackupFailed", note);
  return final ? op_ok() : op_ok_after(wait);
}

/* ---- stages ------------------------------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

static struct op_result take_snapshot(struct op_ctx *ctx, struct op_backup_run *r)
{
  const char *pod = op_jstr(r->status, "pod");
  struct op_conn *c = op_backup_conn(ctx, pod);
  struct mgo_mg_snapshot snap;
  char path[512] = "", now[40];
  int64_t v = -1, e = -1, t0 = mgo_clock_mono_ms(ctx->clock);
  int rc;

  if (c == NULL)
    return op_backup_attempt_failed(ctx, r, "memgraph", "Unreachable",
                                    "the instance does not answer over Bolt");
  if (ctx->mg->create_snapshot == NULL)
    return op_backup_attempt_failed(ctx, r, "operator", "Unsupported", "this backend cannot take snapshots");
  rc = ctx->mg->create_snapshot(c->conn, path, sizeof(path));
  op_count_bolt(ctx, pod, 1);
  count(ctx->metrics->snapshots, ctx, "result", rc == MGO_OK ? "success" : "error", 1);
  if (rc != MGO_OK)
    return op_backup_attempt_failed(ctx, r, "memgraph", mgo_errname(rc), ctx->mg->error(c->conn));
  {
    char labels[MGO_METRIC_LABELS_MAX];
    (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
    (void) mgo_metric_observe(ctx->metrics->snapshot_duration, labels,
                              (double) (mgo_clock_mono_ms(ctx->clock) - t0) / 1000.0);
  }
  rc = ctx->mg->snapshot_info(c->conn, path, &snap);
  if (rc == MGO_OK)
    rc = ctx->mg->storage_counts(c->conn, &v, &e);
  op_count_bolt(ctx, pod, 2);
  if (rc != MGO_OK)
    return op_backup_attempt_failed(ctx, r, "memgraph", mgo_errname(rc), ctx->mg->error(c->conn));
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  mgo_log(MGO_LOG_INFO, "backup snapshot taken", "cluster", ctx->key, "backup", r->name, "pod", pod, "file",
          snap.path, (char *) NULL);
  if (op_backup_patch(ctx, r,
                      json_pack("{s:s, s:I, s:s, s:I, s:I, s:s}", "snapshot", base_name(snap.path),
                                "durableTimestamp", (json_int_t) snap.timestamp, "snapshotTime", now,
                                "vertices", (json_int_t) v, "edges", (json_int_t) e, "message",
                                "snapshot taken")) != MGO_OK)
    return op_error(MGO_EIO);
  return op_ok();
}

/* Ends a Running backup: the data directory is unlocked whatever happened to the upload. */
static void unlock(struct op_ctx *ctx, const struct op_backup_run *r)
{
  struct op_conn *c = op_backup_conn(ctx, op_jstr(r->status, "pod"));
  if (c != NULL && ctx->mg->lock_data_directory(c->conn, false) != MGO_OK)
    mgo_log(MGO_LOG_WARN, "UNLOCK DATA DIRECTORY failed", "cluster", ctx->key, "pod",
            op_jstr(r->status, "pod"), "detail", ctx->mg->error(c->conn), (char *) NULL);
}

static struct op_result completed(struct op_ctx *ctx, struct op_backup_run *r, const json_t *job)
{
  char now[40], note[512], labels[MGO_METRIC_LABELS_MAX];
  json_int_t size = json_integer_value(json_object_get(job, "size"));

  unlock(ctx, r);
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  (void) mgo_snprintf(note, sizeof(note), "%s uploaded to s3://%s/%s (%lld bytes, sha256 %s)",
                      op_jstr(r->status, "snapshot"), op_jstr(json_object_get(r->status, "s3"), "bucket"),
                      op_jstr(json_object_get(r->status, "s3"), "key"), (long long) size,
                      op_jstr(job, "sha256"));
  if (op_backup_patch(ctx, r,
                      json_pack("{s:s, s:s, s:s, s:I, s:s, s:n, s:n}", "phase", "Completed", "completedAt",
                                now, "message", note, "sizeBytes", size, "sha256", op_jstr(job, "sha256"),
                                "error", "nextAttemptAt")) != MGO_OK)
    return op_error(MGO_EIO);
  count(ctx->metrics->s3_uploads, ctx, "result", "success", 1);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_set(ctx->metrics->backup_size, labels, (double) size);
  (void) mgo_metric_set(ctx->metrics->backup_last_success, labels,
                        (double) mgo_clock_wall_ms(ctx->clock) / 1000.0);
  mgo_log(MGO_LOG_INFO, "backup completed", "cluster", ctx->key, "backup", r->name, "detail", note,
          (char *) NULL);
  backup_event(ctx, r, "Normal", "BackupCompleted", note);
  r->just_completed = true;
  return op_ok();
}

static struct op_result poll_upload(struct op_ctx *ctx, struct op_backup_run *r)
{
  const char *ip = op_backup_pod_ip(ctx, op_jstr(r->status, "pod"));
  char err[256] = "";
  json_t *job = NULL;
  const char *state;
  struct op_result res;
  int rc = ip[0] != '\0' ? ctx->agent->job(ctx->agent->arg, ip, ctx->cs->agent_token,
                                           op_jstr(r->status, "uploadId"), &job, err, sizeof(err))
                         : MGO_ECONNECT;

  if (rc != MGO_OK) {
    unlock(ctx, r);
    return op_backup_attempt_failed(ctx, r, "agent", rc == MGO_ENOTFOUND ? "UploadLost" : mgo_errname(rc),
                                    rc == MGO_ENOTFOUND
                                        ? "the agent no longer knows the upload (it restarted)"
                                    : err[0] != '\0' ? err
                                                     : "the pod is not reachable");
  }
  state = op_jstr(job, "state");
  if (strcmp(state, "completed") == 0) {
    res = completed(ctx, r, job);
  } else if (strcmp(state, "failed") == 0) {
    const json_t *e = json_object_get(job, "error");
    unlock(ctx, r);
    res = op_backup_attempt_failed(ctx, r, "s3",
                                   op_jstr(e, "code")[0] != '\0' ? op_jstr(e, "code") : "UploadFailed",
                                   op_jstr(e, "message"));
  } else {
    res = op_ok_after(OP_BACKUP_POLL_MS);
  }
  json_decref(job);
  return res;
}

struct op_result op_backup_running(struct op_ctx *ctx, struct op_backup_run *r)
{
  int64_t next_ms;
  if (mgo_time_parse_rfc3339(op_jstr(r->status, "nextAttemptAt"), &next_ms) == MGO_OK &&
      mgo_clock_wall_ms(ctx->clock) < next_ms)
    return op_ok_after((long) (next_ms - mgo_clock_wall_ms(ctx->clock)));
  if (op_jstr(r->status, "pod")[0] == '\0') {
    char why[256] = "";
    if (!op_backup_retarget(ctx, r, why, sizeof(why)))
      return op_ok_after(5000); /* no instance may take it now (failover in progress, no MAIN): later */
  }
  if (op_jstr(r->status, "snapshot")[0] == '\0') {
    struct op_result res = take_snapshot(ctx, r);
    if (res.error != MGO_OK || op_jstr(r->status, "snapshot")[0] == '\0')
      return res;
  }
  if (op_jstr(r->status, "uploadId")[0] == '\0') {
    struct op_result res = op_backup_start_upload(ctx, r);
    if (res.error != MGO_OK || op_jstr(r->status, "uploadId")[0] == '\0')
      return res;
    return op_ok_after(OP_BACKUP_POLL_MS);
  }
  return poll_upload(ctx, r);
}
