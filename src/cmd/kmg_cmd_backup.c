/* `kubectl memgraph backup NAME [--wait]` (creates a MemgraphBackup, docs/backup.md) and
 * `kubectl memgraph restore BACKUP --into NEW` (a new MemgraphCluster bootstrapped from a Completed backup).
 */
#include <stdio.h>
#include <string.h>

#include "backup_names.h"
#include "kmg_cmd.h"
#include "kmg_objects.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define POLL_MS 1000
#define RESULT_MAX ((size_t) 16 * 1024)

static const char *phase_of(const json_t *backup)
{
  const char *p = json_string_value(json_object_get(json_object_get(backup, "status"), "phase"));
  return p ? p : "Pending";
}

static int print_result(const json_t *backup)
{
  struct mgo_buf b = MGO_BUF_INIT(RESULT_MAX);
  kmg_format_backup_result(backup, &b);
  fputs(mgo_buf_str(&b), stdout);
  mgo_buf_free(&b);
  return strcmp(phase_of(backup), "Completed") == 0 ? 0 : 1;
}

static int wait_backup(struct kmg_ctx *ctx, const char *name)
{
  int64_t deadline = mgo_clock_mono_ms(NULL) + ctx->args->timeout_ms;
  for (;;) {
    json_t *b = NULL;
    if (kmg_get(ctx, &KMG_RES_BACKUPS, name, &b) != MGO_OK) {
      return 1;
    }
    if (kmg_backup_finished(b)) {
      int code = ctx->args->output == KMG_OUT_TEXT ? print_result(b) : kmg_print_object(ctx, b);
      if (strcmp(phase_of(b), "Failed") == 0) {
        code = kmg_fail(ctx, "backup %s Failed", name);
      }
      json_decref(b);
      return code;
    }
    const char *msg = json_string_value(json_object_get(json_object_get(b, "status"), "message"));
    if (mgo_clock_mono_ms(NULL) >= deadline) {
      kmg_fail(ctx, "timed out after %lld s waiting for backup %s (%s: %s)",
               (long long) (ctx->args->timeout_ms / 1000), name, phase_of(b), msg ? msg : "-");
      json_decref(b);
      return 1;
    }
    json_decref(b);
    kmg_sleep_ms(POLL_MS);
  }
}

static int backup_name(struct kmg_ctx *ctx, const char *cluster, char *dst, size_t dstsz)
{
  if (ctx->args->backup_name != NULL) {
    return mgo_strlcpy(dst, ctx->args->backup_name, dstsz) == MGO_OK ? 0 : kmg_fail(ctx, "--name too long");
  }
  char detail[256];
  int64_t now_s = mgo_clock_wall_ms(NULL) / 1000;
  if (backup_scheduled_name(cluster, now_s, dst, dstsz, detail, sizeof(detail)) != MGO_OK) {
    return kmg_fail(ctx, "cannot name the backup: %s (use --name)", detail);
  }
  return 0;
}

int kmg_cmd_backup(struct kmg_ctx *ctx)
{
  const char *cluster_name = ctx->args->pos[0];
  json_t *cluster = NULL;
  if (kmg_get(ctx, &KMG_RES_CLUSTERS, cluster_name, &cluster) != MGO_OK) {
    return 1;
  }
  bool has_s3 = json_object_get(json_object_get(json_object_get(cluster, "spec"), "backup"), "s3") != NULL;
  json_decref(cluster);
  if (!has_s3) {
    return kmg_fail(ctx, "memgraphcluster %s has no spec.backup.s3: configure it first (docs/backup.md)",
                    cluster_name);
  }
  char name[BACKUP_NAME_LEN + 64];
  if (backup_name(ctx, cluster_name, name, sizeof(name)) != 0) {
    return 1;
  }
  json_t *obj = kmg_backup_object(name, cluster_name, ctx->args->target);
  json_t *created = NULL;
  int rc = kmg_create(ctx, &KMG_RES_BACKUPS, obj, &created);
  json_decref(obj);
  if (rc != MGO_OK) {
    return 1;
  }
  int code = 0;
  if (!ctx->args->wait) {
    code = ctx->args->output == KMG_OUT_TEXT
               ? (printf("memgraphbackup/%s created for cluster %s\n", name, cluster_name), 0)
               : kmg_print_object(ctx, created);
  } else {
    if (ctx->args->output == KMG_OUT_TEXT) {
      printf("memgraphbackup/%s created for cluster %s; waiting...\n", name, cluster_name);
      fflush(stdout);
    }
    code = wait_backup(ctx, name);
  }
  json_decref(created);
  return code;
}

/* The Completed backup `name` and its source cluster (new references in *backup / *source). */
static int restore_sources(struct kmg_ctx *ctx, const char *name, json_t **backup, json_t **source)
{
  *source = NULL;
  if (kmg_get(ctx, &KMG_RES_BACKUPS, name, backup) != MGO_OK) {
    return 1;
  }
  if (strcmp(phase_of(*backup), "Completed") != 0) {
    return kmg_fail(ctx, "memgraphbackup %s is %s: only a Completed backup can be restored", name,
                    phase_of(*backup));
  }
  const char *cluster = json_string_value(json_object_get(json_object_get(*backup, "spec"), "cluster"));
  if (cluster == NULL) {
    return kmg_fail(ctx, "memgraphbackup %s has no spec.cluster", name);
  }
  if (kmg_get(ctx, &KMG_RES_CLUSTERS, cluster, source) != MGO_OK) {
    return kmg_fail(ctx, "the source cluster of backup %s: %s (its spec is copied)", name, ctx->err);
  }
  return 0;
}

int kmg_cmd_restore(struct kmg_ctx *ctx)
{
  const char *name = ctx->args->pos[0];
  json_t *backup = NULL, *source = NULL, *created = NULL;
  int code = restore_sources(ctx, name, &backup, &source);
  json_t *obj =
      code == 0 ? kmg_restore_object(source, ctx->args->into, name, ctx->err, sizeof(ctx->err)) : NULL;
  if (code == 0 && obj == NULL) {
    code = 1;
  }
  if (code == 0 && kmg_create(ctx, &KMG_RES_CLUSTERS, obj, &created) != MGO_OK) {
    code = 1;
  }
  if (code == 0 && ctx->args->output != KMG_OUT_TEXT) {
    code = kmg_print_object(ctx, created);
  } else if (code == 0) {
    printf("memgraphcluster/%s created with the spec of %s, restoring from memgraphbackup/%s\n",
           ctx->args->into, json_string_value(json_object_get(json_object_get(source, "metadata"), "name")),
           name);
  }
  json_decref(obj);
  json_decref(created);
  json_decref(backup);
  json_decref(source);
  return code;
}
