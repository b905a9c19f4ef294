/* The backup step's entry (op_step_backup) and what it tells about the cluster: which MemgraphBackups belong
 * to it, which one is carried out next (one at a time, oldest first), where its snapshot is taken, and the
 * backup fields of the cluster's status (lastSuccessfulBackup, firstRecoverabilityPoint, the condition
 * LastBackupSucceeded, ...), which step_status writes together with the rest. */
#include "backup_int.h"

#include "backup_target.h"

#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

/* ---- the cluster's backups -------------------------------------------------------------------------- */

static int by_creation(const void *a, const void *b)
{
  const json_t *ma = json_object_get(*(json_t *const *) a, "metadata");
  const json_t *mb = json_object_get(*(json_t *const *) b, "metadata");
  int c = strcmp(op_jstr(ma, "creationTimestamp"), op_jstr(mb, "creationTimestamp"));
  return c != 0 ? c : strcmp(op_jstr(ma, "name"), op_jstr(mb, "name"));
}

json_t *op_cluster_backups(struct op_ctx *ctx)
{
  json_t *all = ctx->kube->cached_list(ctx->kube->arg, OP_CACHE_BACKUPS, ctx->ns);
  json_t *mine = json_array();
  json_t *items[512];
  size_t i, n = 0;
  json_t *b;

  json_array_foreach(all, i, b)
  {
    if (n < sizeof(items) / sizeof(items[0]) &&
        strcmp(op_jstr(json_object_get(b, "spec"), "cluster"), ctx->name) == 0 &&
        json_object_get(json_object_get(b, "metadata"), "deletionTimestamp") == NULL)
      items[n++] = b;
  }
  qsort((void *) items, n, sizeof(json_t *), by_creation); /* an array of pointers, sorted by their objects */
  for (i = 0; mine != NULL && i < n; i++)
    json_array_append(mine, items[i]);
  json_decref(all);
  return mine;
}

static const char *phase_of(const json_t *b)
{
  return op_jstr(json_object_get(b, "status"), "phase");
}

static bool is_final(const json_t *b)
{
  return strcmp(phase_of(b), "Completed") == 0 || strcmp(phase_of(b), "Failed") == 0;
}

/* ---- where the snapshot is taken -------------------------------------------------------------------- */

/* The pod that takes the snapshot (backup_pick_target); NULL with *why when none may. */
static const struct rec_instance *choose_target(const struct op_ctx *ctx, enum backup_target target,
                                                char *why, size_t whysz)
{
  struct backup_instance in[REC_MAX_OBSERVED];
  struct backup_choice choice;
  size_t n = 0;

  if (ctx->cs->change.pending) {
    (void) mgo_strlcpy(why, "a failover or switchover is in progress", whysz);
    return NULL;
  }
  for (size_t i = 0; i < ctx->obs->n && n < REC_MAX_OBSERVED; i++) {
    const struct rec_instance *o = &ctx->obs->inst[i];
    in[n++] = (struct backup_instance){.pod = o->pod,
                                       .role = o->role,
                                       .healthy = o->reachable && o->pod_ready,
                                       .in_sync = o->role == MGO_ROLE_REPLICA && o->last_in_sync,
                                       .major = o->version_major,
                                       .minor = o->version_minor,
                                       .patch = o->version_patch};
  }
  if (backup_pick_target(in, n, target, &choice) != MGO_OK) {
    (void) mgo_strlcpy(why, choice.reason, whysz);
    return NULL;
  }
  return &ctx->obs->inst[choice.index];
}

static enum backup_target target_of(const struct op_ctx *ctx, const json_t *b)
{
  const char *t = op_jstr(json_object_get(b, "spec"), "target");
  if (strcmp(t, "Main") == 0)
    return BACKUP_TARGET_MAIN;
  if (strcmp(t, "PreferReplica") == 0)
    return BACKUP_TARGET_PREFER_REPLICA;
  return ctx->c.spec.backup.target;
}

/* ---- one backup ------------------------------------------------------------------------------------- */

static struct op_result wait_pending(struct op_ctx *ctx, struct op_backup_run *r, const char *why)
{
  char msg[256];
  (void) mgo_snprintf(msg, sizeof(msg), "waiting: %s", why);
  if (strcmp(phase_of(r->obj), "Pending") == 0 && strcmp(op_jstr(r->status, "message"), msg) == 0)
    return op_ok_after(5000);
  if (op_backup_patch(ctx, r, json_pack("{s:s, s:s}", "phase", "Pending", "message", msg)) != MGO_OK)
    return op_error(MGO_EIO);
  return op_ok_after(5000);
}

bool op_backup_retarget(struct op_ctx *ctx, struct op_backup_run *r, char *why, size_t whysz)
{
  const struct rec_instance *in = choose_target(ctx, target_of(ctx, r->obj), why, whysz);
  long long attempt = (long long) json_integer_value(json_object_get(r->status, "attempts"));
  char note[256];
  if (in == NULL) { /* the status says why the retry waits, once */
    (void) mgo_snprintf(note, sizeof(note), "attempt %lld waits: %s", attempt, why);
    if (strcmp(op_jstr(r->status, "message"), note) != 0)
      (void) op_backup_patch(ctx, r, json_pack("{s:s}", "message", note));
    return false;
  }
  (void) mgo_snprintf(note, sizeof(note), "attempt %lld: taking a snapshot on %s (%s)", attempt, in->pod,
                      mgo_role_name(in->role));
  return op_backup_patch(ctx, r,
                         json_pack("{s:s, s:s, s:s}", "pod", in->pod, "role", mgo_role_name(in->role),
                                   "message", note)) == MGO_OK;
}

static struct op_result start(struct op_ctx *ctx, struct op_backup_run *r)
{
  const struct rec_instance *in;
  char now[40], note[256], why[256] = "";

  if (ctx->c.spec.backup.s3_bucket[0] == '\0')
    return wait_pending(ctx, r, "the cluster has no spec.backup.s3");
  in = choose_target(ctx, target_of(ctx, r->obj), why, sizeof(why));
  if (in == NULL)
    return wait_pending(ctx, r, why);
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  (void) mgo_snprintf(note, sizeof(note), "taking a snapshot on %s (%s)", in->pod, mgo_role_name(in->role));
  if (op_backup_patch(ctx, r,
                      json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "phase", "Running", "startedAt", now, "pod",
                                in->pod, "role", mgo_role_name(in->role), "attempts", 1, "message", note)) !=
      MGO_OK)
    return op_error(MGO_EIO);
  (void) ctx->kube->event(ctx->kube->arg, r->obj, "Normal", "BackupStarted", "Backup", note,
                          &(struct k8s_status){0});
  op_event(ctx, "Normal", "BackupStarted", "Backup", note);
  return op_backup_running(ctx, r);
}

/* Carries the oldest unfinished backup one stage further; it replaces its element of mine afterwards. */
static struct op_result work_on_next(struct op_ctx *ctx, json_t *mine, bool *completed)
{
  struct op_backup_run r = {0};
  struct op_result res = op_ok();
  size_t i, n = json_array_size(mine);
  json_t *b = NULL;

  for (i = 0; i < n && is_final(json_array_get(mine, i)); i++)
    ;
  if (i >= n)
    return res;
  b = json_array_get(mine, i);
  (void) mgo_strlcpy(r.name, op_jstr(json_object_get(b, "metadata"), "name"), sizeof(r.name));
  r.obj = json_incref(b);
  r.status = json_object_get(b, "status");
  res = strcmp(phase_of(b), "Running") == 0 ? op_backup_running(ctx, &r) : start(ctx, &r);
  json_array_set(mine, i, r.obj);
  *completed = r.just_completed;
  json_decref(r.obj);
  return res;
}

/* ---- the cluster's status fields -------------------------------------------------------------------- */

static const json_t *newest(const json_t *mine, const char *phase, const char *field, bool oldest)
{
  const json_t *best = NULL, *b;
  size_t i;
  json_array_foreach(mine, i, b)
  {
    const char *t = op_jstr(json_object_get(b, "status"), field);
    int c = best != NULL ? strcmp(t, op_jstr(json_object_get(best, "status"), field)) : 0;
    if (strcmp(phase_of(b), phase) == 0 && t[0] != '\0' && (best == NULL || (oldest ? c < 0 : c > 0)))
      best = b;
  }
  return best;
}

static const char *name_of(const json_t *b)
{
  return op_jstr(json_object_get(b, "metadata"), "name");
}

/* LastBackupSucceeded from the newest finished backup; lastTransitionTime kept while the status stays. */
static json_t *last_backup_condition(const struct op_ctx *ctx, const json_t *ok, const json_t *failed)
{
  bool good = failed == NULL ||
              (ok != NULL && strcmp(op_jstr(json_object_get(ok, "status"), "completedAt"),
                                    op_jstr(json_object_get(failed, "status"), "completedAt")) >= 0);
  const json_t *b = good ? ok : failed;
  const char *status = good ? "True" : "False", *since = NULL;
  char now[40], msg[512];
  size_t i;
  const json_t *c;

  json_array_foreach(json_object_get(json_object_get(ctx->obj, "status"), "conditions"), i, c)
  {
    if (strcmp(op_jstr(c, "type"), "LastBackupSucceeded") == 0 && strcmp(op_jstr(c, "status"), status) == 0)
      since = op_jstr(c, "lastTransitionTime");
  }
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  (void) mgo_snprintf(msg, sizeof(msg), "%s: %s", name_of(b),
                      op_jstr(json_object_get(b, "status"), "message"));
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type", "LastBackupSucceeded", "status", status,
                   "reason", good ? "BackupCompleted" : "BackupFailed", "message", msg, "lastTransitionTime",
                   since != NULL && since[0] != '\0' ? since : now, "observedGeneration",
                   (json_int_t) ctx->c.generation);
}

static void set_str(json_t *obj, const char *key, const char *value)
{
  if (value != NULL && value[0] != '\0')
    json_object_set_new(obj, key, json_string(value));
}

/* The backup fields of the cluster's status, from its MemgraphBackups. */
static json_t *summary(const struct op_ctx *ctx, const json_t *mine)
{
  const json_t *ok = newest(mine, "Completed", "completedAt", false);
  const json_t *first = newest(mine, "Completed", "snapshotTime", true);
  const json_t *failed = newest(mine, "Failed", "completedAt", false);
  json_t *out = json_object();

  if (out == NULL)
    return NULL;
  if (ok != NULL) {
    set_str(out, "lastSuccessfulBackup", name_of(ok));
    set_str(out, "lastSnapshotTime", op_jstr(json_object_get(ok, "status"), "snapshotTime"));
    set_str(out, "lastS3BackupTime", op_jstr(json_object_get(ok, "status"), "completedAt"));
  }
  if (first != NULL)
    set_str(out, "firstRecoverabilityPoint", op_jstr(json_object_get(first, "status"), "snapshotTime"));
  if (failed != NULL)
    set_str(out, "lastFailedBackup", name_of(failed));
  if (ok != NULL || failed != NULL)
    json_object_set_new(out, "condition", last_backup_condition(ctx, ok, failed));
  return out;
}

/* ---- the step --------------------------------------------------------------------------------------- */

static struct op_result sooner(struct op_result a, struct op_result b)
{
  if (a.error == MGO_OK && b.error != MGO_OK)
    return b;
  if (b.after_ms < a.after_ms)
    a.after_ms = b.after_ms;
  return a;
}

struct op_result op_step_backup(struct op_ctx *ctx)
{
  struct op_result res = op_ok();
  bool completed = false;
  json_t *mine;

  if (!ctx->parsed || ctx->obs == NULL || ctx->plan == NULL || !ctx->kube->may_act(ctx->kube->arg))
    return op_ok();
  mine = op_cluster_backups(ctx);
  if (mine == NULL)
    return op_error(MGO_ENOMEM);
  if (json_array_size(mine) > 0)
    res = work_on_next(ctx, mine, &completed);
  ctx->backup_status = summary(ctx, mine);
  res = sooner(res, op_backup_schedule(ctx, mine, completed));
  json_decref(mine);
  return res;
}
