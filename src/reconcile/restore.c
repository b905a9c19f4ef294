/* spec.bootstrap.restore (docs/backup.md): before the StatefulSet is first created, the restore request for
 * ordinal 0 goes into the agent's instructions (docs/agent.md, "restore=<cluster uid>" and its parameters),
 * and the init container of every pod gets the source's credentials from its Secret; ordinal 0's init step
 * downloads the snapshot, checks size and SHA-256 and places it in snapshots/, so the first MAIN recovers
 * from it; the other instances start empty and get the data by replication. A failed check fails the init
 * container: that pod never starts empty as MAIN. Once pod 0 reports the restore in its termination message,
 * status.restoredFrom says from what. */
#include "backup_int.h"

#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "reseed.h"
#include "s3.h"

/* Where the snapshot comes from, resolved from the spec (and the MemgraphBackup it names). */
struct restore_source {
  char label[1100]; /* for status and Events: "<backup>" or "s3://bucket/key" */
  char endpoint[512], region[64], bucket[64], key[1024], file[256], secret[MGO_DNS_NAME_MAX], sha256[65];
  bool force_path_style;
  uint64_t size;
};

static int from_backup(struct op_ctx *ctx, const char *name, struct restore_source *src, char *why,
                       size_t whysz)
{
  json_t *b = ctx->kube->cached(ctx->kube->arg, OP_CACHE_BACKUPS, ctx->ns, name);
  const json_t *st = json_object_get(b, "status"), *where = json_object_get(st, "s3");
  int rc = MGO_OK;

  if (b == NULL || strcmp(op_jstr(st, "phase"), "Completed") != 0) {
    (void) mgo_snprintf(why, whysz, "MemgraphBackup %s %s", name,
                        b == NULL ? "does not exist" : "is not Completed");
    json_decref(b);
    return MGO_EAGAIN;
  }
  (void) mgo_strlcpy(src->label, name, sizeof(src->label));
  (void) mgo_strlcpy(src->endpoint, op_jstr(where, "endpoint"), sizeof(src->endpoint));
  (void) mgo_strlcpy(src->region, op_jstr(where, "region"), sizeof(src->region));
  (void) mgo_strlcpy(src->bucket, op_jstr(where, "bucket"), sizeof(src->bucket));
  (void) mgo_strlcpy(src->key, op_jstr(where, "key"), sizeof(src->key));
  (void) mgo_strlcpy(src->secret, op_jstr(where, "secretName"), sizeof(src->secret));
  (void) mgo_strlcpy(src->file, op_jstr(st, "snapshot"), sizeof(src->file));
  (void) mgo_strlcpy(src->sha256, op_jstr(st, "sha256"), sizeof(src->sha256));
  src->force_path_style = json_is_true(json_object_get(where, "forcePathStyle"));
  src->size = (uint64_t) json_integer_value(json_object_get(st, "sizeBytes"));
  if (src->key[0] == '\0' || src->secret[0] == '\0' || src->file[0] == '\0')
    rc = MGO_EINVAL;
  json_decref(b);
  return rc;
}

/* The object's stored SHA-256 and size when the spec does not give them. */
static int head_object(struct op_ctx *ctx, struct restore_source *src, char *why, size_t whysz)
{
  struct op_s3_creds cr;
  struct s3_error err = {0};
  uint64_t size = 0;
  char sha[S3_SHA256_HEX] = "";
  int rc = ctx->s3 != NULL ? op_read_s3_creds(ctx, src->secret, &cr) : MGO_EUNSUPPORTED;

  if (rc == MGO_OK) {
    struct s3_config cfg = {.endpoint = src->endpoint,
                            .region = src->region,
                            .bucket = src->bucket,
                            .access_key = cr.access_key,
                            .secret_key = cr.secret_key,
                            .force_path_style = src->force_path_style};
    rc = ctx->s3->head(ctx->s3->arg, &cfg, src->key, &size, sha, &err);
  }
  op_s3_creds_wipe(&cr);
  if (rc == MGO_OK && sha[0] == '\0')
    rc = MGO_ENOTFOUND;
  if (rc != MGO_OK) {
    (void) mgo_snprintf(why, whysz, "s3://%s/%s: %s %s", src->bucket, src->key, mgo_errname(rc), err.code);
    return rc;
  }
  if (src->sha256[0] == '\0')
    (void) mgo_strlcpy(src->sha256, sha, sizeof(src->sha256));
  if (src->size == 0)
    src->size = size;
  return MGO_OK;
}

static int from_s3(struct op_ctx *ctx, struct restore_source *src, char *why, size_t whysz)
{
  const struct mgo_cluster_spec *s = &ctx->c.spec;
  const char *slash = strrchr(s->restore.s3_key, '/');
  (void) mgo_snprintf(src->label, sizeof(src->label), "s3://%s/%s", s->restore.s3_bucket, s->restore.s3_key);
  (void) op_s3_endpoint(s->restore.s3_endpoint, s->restore.s3_region, src->endpoint, sizeof(src->endpoint));
  (void) mgo_strlcpy(src->region, s->restore.s3_region, sizeof(src->region));
  (void) mgo_strlcpy(src->bucket, s->restore.s3_bucket, sizeof(src->bucket));
  (void) mgo_strlcpy(src->key, s->restore.s3_key, sizeof(src->key));
  (void) mgo_strlcpy(src->file, slash != NULL ? slash + 1 : s->restore.s3_key, sizeof(src->file));
  (void) mgo_strlcpy(src->secret, s->restore.s3_secret_name, sizeof(src->secret));
  (void) mgo_strlcpy(src->sha256, s->restore.sha256, sizeof(src->sha256));
  src->force_path_style = s->restore.s3_force_path_style;
  src->size = (uint64_t) s->restore.size;
  return src->sha256[0] != '\0' && src->size > 0 ? MGO_OK : head_object(ctx, src, why, whysz);
}

/* True when a value of src holds a line break (which would inject another parameter line). */
static bool has_line_break(const struct restore_source *src)
{
  const char *const values[] = {src->endpoint, src->region, src->bucket, src->key, src->file, src->sha256};
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    if (strpbrk(values[i], "\n\r") != NULL)
      return true;
  }
  return false;
}

static int write_request(struct op_ctx *ctx, const char *pod, const struct restore_source *src)
{
  char text[2600];
  struct k8s_status st;
  int rc =
      mgo_snprintf(text, sizeof(text),
                   "restore=%s\nrestore.endpoint=%s\nrestore.region=%s\nrestore.bucket=%s\nrestore.key=%s\n"
                   "restore.file=%s\nrestore.size=%llu\nrestore.sha256=%s\nrestore.forcePathStyle=%s\n",
                   ctx->c.uid, src->endpoint, src->region, src->bucket, src->key, src->file,
                   (unsigned long long) src->size, src->sha256, src->force_path_style ? "true" : "false");
  if (rc != MGO_OK || has_line_break(src))
    return MGO_EINVAL; /* one parameter per line: a line break in a value would inject another */
  k8s_status_clear(&st);
  rc = op_agent_instructions(ctx->kube, &ctx->c, pod, text, &st);
  if (rc != MGO_OK)
    op_ctx_note(ctx, "restore instructions: %s (%ld %s)", mgo_errname(rc), st.code, st.message);
  return rc;
}

/* The Secret named in the existing StatefulSet's init container (the restore was arranged before). */
static void secret_of_statefulset(const json_t *sts, char *dst, size_t dstsz)
{
  const json_t *inits = json_object_get(
      json_object_get(json_object_get(json_object_get(sts, "spec"), "template"), "spec"), "initContainers");
  size_t i, j;
  const json_t *c, *e;
  json_array_foreach(inits, i, c)
  {
    json_array_foreach(json_object_get(c, "env"), j, e)
    {
      if (strcmp(op_jstr(e, "name"), "MGO_RESTORE_ACCESS_KEY_ID") == 0)
        (void) mgo_strlcpy(
            dst, op_jstr(json_object_get(json_object_get(e, "valueFrom"), "secretKeyRef"), "name"), dstsz);
    }
  }
}

int op_restore_prepare(struct op_ctx *ctx, char *secret, size_t secretsz, struct op_result *wait)
{
  struct restore_source src = {0};
  char sts_name[MGO_NAME_MAX], pod0[MGO_NAME_MAX], why[512] = "";
  json_t *sts;
  int rc;

  secret[0] = '\0';
  if (ctx->c.spec.restore.backup[0] == '\0' && ctx->c.spec.restore.s3_bucket[0] == '\0')
    return MGO_OK;
  (void) mgo_name_statefulset(&ctx->c, sts_name, sizeof(sts_name));
  sts = ctx->kube->cached(ctx->kube->arg, OP_CACHE_STS, ctx->ns, sts_name);
  if (sts != NULL) {
    secret_of_statefulset(sts, secret, secretsz);
    json_decref(sts);
    return MGO_OK;
  }
  rc = ctx->c.spec.restore.backup[0] != '\0'
           ? from_backup(ctx, ctx->c.spec.restore.backup, &src, why, sizeof(why))
           : from_s3(ctx, &src, why, sizeof(why));
  if (rc == MGO_OK)
    rc = mgo_name_pod(&ctx->c, 0, pod0, sizeof(pod0));
  if (rc == MGO_OK)
    rc = write_request(ctx, pod0, &src);
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_WARN, "restore source not usable yet: the cluster is not created", "cluster", ctx->key,
            "detail", why[0] != '\0' ? why : mgo_errname(rc), (char *) NULL);
    op_event(ctx, "Warning", "RestorePending", "Restore", why[0] != '\0' ? why : mgo_errname(rc));
    *wait = op_requeue_after(5000);
    return rc;
  }
  mgo_log(MGO_LOG_INFO, "restore requested for ordinal 0", "cluster", ctx->key, "source", src.label,
          (char *) NULL);
  return mgo_strlcpy(secret, src.secret, secretsz);
}

int op_restore_request(struct op_ctx *ctx, const char *backup, const char *pod, char *secret, size_t secretsz,
                       char *why, size_t whysz)
{
  struct restore_source src = {0};
  int rc = from_backup(ctx, backup, &src, why, whysz);
  if (rc == MGO_OK)
    rc = write_request(ctx, pod, &src);
  if (rc == MGO_OK)
    rc = mgo_strlcpy(secret, src.secret, secretsz);
  return rc;
}

/* The init container's termination message of pod 0, when it has terminated; "" otherwise. */
static const char *init_message(const json_t *pod, long *exit_code)
{
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(json_object_get(pod, "status"), "initContainerStatuses"), i, c)
  {
    const json_t *t = json_object_get(json_object_get(c, "state"), "terminated");
    if (t == NULL) /* restarting after a failure (CrashLoopBackOff): the last run's end */
      t = json_object_get(json_object_get(c, "lastState"), "terminated");
    if (strcmp(op_jstr(c, "name"), "operator-agent") == 0 && t != NULL) {
      *exit_code = (long) json_integer_value(json_object_get(t, "exitCode"));
      return op_jstr(t, "message");
    }
  }
  return "";
}

/* The condition Restored into out's conditions (replacing one there), lastTransitionTime kept while its
 * status stays what the old status said. */
static void restored_condition(struct op_ctx *ctx, json_t *out, bool ok, const char *reason,
                               const char *message)
{
  const char *status = ok ? "True" : "False", *since = NULL;
  json_t *conds = json_object_get(out, "conditions");
  char now[40];
  size_t i;
  const json_t *c;

  json_array_foreach(json_object_get(json_object_get(ctx->obj, "status"), "conditions"), i, c)
  {
    if (strcmp(op_jstr(c, "type"), "Restored") == 0 && strcmp(op_jstr(c, "status"), status) == 0)
      since = op_jstr(c, "lastTransitionTime");
  }
  for (i = json_array_size(conds); i > 0; i--) {
    if (strcmp(op_jstr(json_array_get(conds, i - 1), "type"), "Restored") == 0)
      json_array_remove(conds, i - 1);
  }
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  if (json_is_array(conds))
    json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type", "Restored", "status",
                                           status, "reason", reason, "message", message, "lastTransitionTime",
                                           since != NULL && since[0] != '\0' ? since : now,
                                           "observedGeneration", (json_int_t) ctx->c.generation));
}

void op_restore_observe(struct op_ctx *ctx, json_t *out)
{
  const json_t *old = json_object_get(ctx->obj, "status");
  const char *from =
      ctx->c.spec.restore.backup[0] != '\0' ? ctx->c.spec.restore.backup : ctx->c.spec.restore.s3_key;
  char pod_name[MGO_NAME_MAX], text[600];
  json_t *pod;
  const char *msg;
  long code = -1;

  if (ctx->c.spec.restore.backup[0] == '\0' && ctx->c.spec.restore.s3_bucket[0] == '\0')
    return;
  (void) mgo_snprintf(text, sizeof(text), "ordinal 0 started from %s", from);
  if (op_jstr(old, "restoredFrom")[0] != '\0' ||
      mgo_name_pod(&ctx->c, 0, pod_name, sizeof(pod_name)) != MGO_OK) {
    restored_condition(ctx, out, true, "RestoreCompleted", text);
    return;
  }
  pod = ctx->kube->cached(ctx->kube->arg, OP_CACHE_PODS, ctx->ns, pod_name);
  msg = init_message(pod, &code);
  if (code == 0 && strncmp(msg, "restored snapshot", 17) == 0) {
    json_object_set_new(out, "restoredFrom", json_string(from));
    restored_condition(ctx, out, true, "RestoreCompleted", text);
    op_event(ctx, "Normal", "RestoreCompleted", "Restore", msg);
  } else if (code > 0) { /* "restore failed: ..." or "agent failed: ..." (docs/agent.md): pod 0 stays down */
    msg = msg[0] != '\0' ? msg : "the init step of ordinal 0 failed";
    restored_condition(ctx, out, false, "RestoreFailed", msg);
    op_event(ctx, "Warning", "RestoreFailed", "Restore", msg);
  } else {
    (void) mgo_snprintf(text, sizeof(text), "waiting for ordinal 0 to restore %s", from);
    restored_condition(ctx, out, false, "RestorePending", text);
  }
  json_decref(pod);
}
