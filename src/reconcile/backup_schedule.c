/* spec.backup.schedule and spec.backup.retention, over the pure functions of src/backup:
 *
 * Schedule: the next run is cron_next(status.lastScheduledBackup, or the cluster's creation); when it is due
 * the operator creates the MemgraphBackup <cluster>-<YYYYMMDDHHMMSS> of the latest due time (one, however
 * many runs were missed while the operator was away), owned by the cluster, and records that time. The pass
 * after it is asked for at the next run. `immediate`: a cluster with no backup and no scheduled run yet gets
 * one right away. `suspend` stops new runs; on-demand backups still run.
 * Retention (after a backup completed): backup_retention() picks what to delete; a Completed backup's object
 * is deleted from S3 first — only a key under the cluster's own prefix — then the MemgraphBackup. */
#include "backup_int.h"

#include <string.h>

#include "backup_cron.h"
#include "backup_names.h"
#include "backup_retention.h"
#include "cluster_build.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "s3.h"

#define MAX_CATCH_UP 100000        /* cron steps walked to find the latest due run */
#define RETENTION_EVERY_MS 600000L /* maxAgeDays is applied at least this often without new backups */

static int create_scheduled(struct op_ctx *ctx, int64_t due, char *name, size_t namesz)
{
  struct k8s_status st;
  json_t *obj;
  int rc = backup_scheduled_name(ctx->name, due, name, namesz, NULL, 0);

  if (rc != MGO_OK)
    return rc;
  obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:o}, s:{s:s}}", "apiVersion",
                  MGO_CLUSTER_API_VERSION, "kind", "MemgraphBackup", "metadata", "name", name, "namespace",
                  ctx->ns, "labels", OP_LABEL_BACKUP_CLUSTER, ctx->name, OP_LABEL_BACKUP_SCHEDULED, "true",
                  "ownerReferences", mgo_cluster_owner_refs(&ctx->c), "spec", "cluster", ctx->name);
  if (obj == NULL)
    return MGO_ENOMEM;
  k8s_status_clear(&st);
  rc = ctx->kube->create(ctx->kube->arg, &op_res_backups, ctx->ns, obj, &st);
  json_decref(obj);
  if (rc == MGO_ECONFLICT && strcmp(st.reason, "AlreadyExists") == 0)
    return MGO_OK; /* created by an earlier pass whose status write was lost */
  if (rc != MGO_OK)
    op_ctx_note(ctx, "creating MemgraphBackup %s: %s (%ld %s)", name, mgo_errname(rc), st.code, st.message);
  return rc;
}

static void put_time(json_t *obj, const char *key, int64_t unix_s)
{
  char text[40];
  if (mgo_time_format_rfc3339(unix_s * 1000000000LL, 0, text, sizeof(text)) == MGO_OK)
    json_object_set_new(obj, key, json_string(text));
}

/* The schedule's starting point: the last run it created, else the cluster's creation. */
static int64_t schedule_origin(const struct op_ctx *ctx)
{
  const json_t *status = json_object_get(ctx->obj, "status");
  int64_t ms;
  if (mgo_time_parse_rfc3339(op_jstr(status, "lastScheduledBackup"), &ms) == MGO_OK ||
      mgo_time_parse_rfc3339(op_jstr(json_object_get(ctx->obj, "metadata"), "creationTimestamp"), &ms) ==
          MGO_OK)
    return ms / 1000;
  return mgo_clock_wall_ms(ctx->clock) / 1000;
}

static bool cluster_ready_for_backups(const struct op_ctx *ctx)
{
  return ctx->plan->main_pod[0] != '\0' && !ctx->cs->change.pending;
}

static struct op_result run_schedule(struct op_ctx *ctx, const json_t *mine, json_t *out)
{
  const struct mgo_cluster_spec *s = &ctx->c.spec;
  int64_t now = mgo_clock_wall_ms(ctx->clock) / 1000, last = schedule_origin(ctx), due, next;
  struct backup_cron cron;
  char detail[160], name[MGO_DNS_NAME_MAX];
  const json_t *old = json_object_get(json_object_get(ctx->obj, "status"), "lastScheduledBackup");

  if (old != NULL)
    json_object_set(out, "lastScheduledBackup", (json_t *) old);
  if (s->backup.immediate && json_array_size(mine) == 0 && old == NULL && cluster_ready_for_backups(ctx)) {
    if (create_scheduled(ctx, now, name, sizeof(name)) != MGO_OK)
      return op_error(MGO_EIO);
    put_time(out, "lastScheduledBackup", now);
    last = now;
  }
  if (s->backup.schedule[0] == '\0' || s->backup.suspend)
    return op_ok();
  if (backup_cron_parse(s->backup.schedule, &cron, detail, sizeof(detail)) != MGO_OK)
    return op_failed(ctx, MGO_ECONFIG, "spec.backup.schedule: %s", detail);
  next = backup_cron_next(&cron, last);
  if (next > 0 && next <= now && cluster_ready_for_backups(ctx)) {
    int steps = 0;
    for (due = next; steps < MAX_CATCH_UP && (next = backup_cron_next(&cron, due)) > 0 && next <= now;
         steps++)
      due = next;
    if (create_scheduled(ctx, due, name, sizeof(name)) != MGO_OK)
      return op_error(MGO_EIO);
    mgo_log(MGO_LOG_INFO, "scheduled backup created", "cluster", ctx->key, "backup", name, (char *) NULL);
    put_time(out, "lastScheduledBackup", due);
    next = backup_cron_next(&cron, due);
  }
  if (next <= 0)
    return op_ok();
  put_time(out, "nextScheduledBackup", next);
  /* In milliseconds to the tick itself: counted from whole seconds, the pass would land up to 1 s late. */
  return op_ok_after(next > now ? (long) (next * 1000 - mgo_clock_wall_ms(ctx->clock)) : 1000L);
}

/* ---- retention -------------------------------------------------------------------------------------- */

static enum backup_phase phase_enum(const char *p)
{
  return strcmp(p, "Completed") == 0 ? BACKUP_COMPLETED
         : strcmp(p, "Failed") == 0  ? BACKUP_FAILED
         : strcmp(p, "Running") == 0 ? BACKUP_RUNNING
                                     : BACKUP_PENDING;
}

static int64_t seconds(const char *rfc3339)
{
  int64_t ms;
  return mgo_time_parse_rfc3339(rfc3339, &ms) == MGO_OK ? ms / 1000 : 0;
}

/* Deletes the S3 object of a Completed backup; MGO_OK when there is none or it is not ours to delete. */
static int delete_object(struct op_ctx *ctx, const json_t *b)
{
  const struct mgo_cluster_spec *s = &ctx->c.spec;
  const json_t *where = json_object_get(json_object_get(b, "status"), "s3");
  const char *key = op_jstr(where, "key");
  struct op_s3_creds cr;
  struct s3_error err = {0}; /* printed below also when the Secret could not be read */
  char endpoint[512];
  struct s3_config cfg;
  int rc;

  if (key[0] == '\0' || strcmp(op_jstr(where, "bucket"), s->backup.s3_bucket) != 0 ||
      !backup_key_under_cluster(s->backup.s3_prefix, ctx->ns, ctx->name, key))
    return MGO_OK; /* another bucket or prefix: left alone (docs/backup.md) */
  if (ctx->s3 == NULL)
    return MGO_EUNSUPPORTED;
  rc = op_read_s3_creds(ctx, s->backup.s3_secret_name, &cr);
  if (rc == MGO_OK)
    rc = op_s3_endpoint(s->backup.s3_endpoint, s->backup.s3_region, endpoint, sizeof(endpoint));
  if (rc == MGO_OK) {
    cfg = (struct s3_config){.endpoint = endpoint,
                             .region = s->backup.s3_region,
                             .bucket = s->backup.s3_bucket,
                             .access_key = cr.access_key,
                             .secret_key = cr.secret_key,
                             .session_token = cr.session_token[0] != '\0' ? cr.session_token : NULL,
                             .force_path_style = s->backup.s3_force_path_style};
    rc = ctx->s3->delete_object(ctx->s3->arg, &cfg, key, &err);
  }
  op_s3_creds_wipe(&cr);
  if (rc != MGO_OK)
    op_ctx_note(ctx, "retention: deleting s3://%s/%s: %s %s", s->backup.s3_bucket, key, mgo_errname(rc),
                rc == MGO_OK ? "" : err.code);
  return rc;
}

static int retire(struct op_ctx *ctx, const json_t *b)
{
  const char *name = op_jstr(json_object_get(b, "metadata"), "name");
  struct k8s_status st;
  char note[384];
  int rc = strcmp(op_jstr(json_object_get(b, "status"), "phase"), "Completed") == 0 ? delete_object(ctx, b)
                                                                                    : MGO_OK;

  if (rc != MGO_OK)
    return rc; /* the object stays listed until its data is gone */
  k8s_status_clear(&st);
  rc = ctx->kube->delete_object(ctx->kube->arg, &op_res_backups, ctx->ns, name, NULL, &st);
  if (rc == MGO_ENOTFOUND)
    return MGO_OK;
  if (rc != MGO_OK)
    return rc;
  (void) mgo_snprintf(note, sizeof(note), "retention deleted backup %s and its object %s", name,
                      op_jstr(json_object_get(json_object_get(b, "status"), "s3"), "key"));
  op_event(ctx, "Normal", "RetentionDeleted", "Retention", note);
  mgo_log(MGO_LOG_INFO, "retention deleted a backup", "cluster", ctx->key, "backup", name, (char *) NULL);
  return MGO_OK;
}

static int run_retention(struct op_ctx *ctx, const json_t *mine)
{
  struct backup_item items[512];
  size_t del[512], n = 0, ndel = 0, i;
  struct backup_policy pol = {.count = (unsigned) ctx->c.spec.backup.retention_count,
                              .max_age_days = (unsigned) ctx->c.spec.backup.retention_max_age_days};
  const json_t *b;
  int rc;

  json_array_foreach(mine, i, b)
  {
    const json_t *st = json_object_get(b, "status");
    if (n < sizeof(items) / sizeof(items[0]))
      items[n++] = (struct backup_item){
          .name = op_jstr(json_object_get(b, "metadata"), "name"),
          .phase = phase_enum(op_jstr(st, "phase")),
          .completed_at = seconds(op_jstr(st, "completedAt")),
          .created_at = seconds(op_jstr(json_object_get(b, "metadata"), "creationTimestamp"))};
  }
  rc = backup_retention(items, n, &pol, mgo_clock_wall_ms(ctx->clock) / 1000, del,
                        sizeof(del) / sizeof(del[0]), &ndel);
  for (i = 0; (rc == MGO_OK || rc == MGO_ETOOBIG) && i < ndel; i++) {
    int r = retire(ctx, json_array_get(mine, del[i]));
    if (r != MGO_OK)
      return r;
  }
  return rc == MGO_ETOOBIG ? MGO_OK : rc;
}

struct op_result op_backup_schedule(struct op_ctx *ctx, const json_t *mine, bool completed)
{
  struct op_result res = op_ok();
  if (ctx->backup_status == NULL || ctx->c.spec.backup.s3_bucket[0] == '\0')
    return res;
  res = run_schedule(ctx, mine, ctx->backup_status);
  if (completed || ctx->cs->retention_due || ctx->cs->retention_at_ms == 0 ||
      mgo_clock_mono_ms(ctx->clock) - ctx->cs->retention_at_ms > RETENTION_EVERY_MS) {
    int rc = run_retention(ctx, mine);
    ctx->cs->retention_due = rc != MGO_OK; /* tried again next pass */
    ctx->cs->retention_at_ms = mgo_clock_mono_ms(ctx->clock);
    if (rc != MGO_OK && res.error == MGO_OK)
      res = op_error_continue(rc);
  }
  return res;
}
