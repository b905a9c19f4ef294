/* Internal to the backup step (step_backup.c, backup_upload.c, backup_cluster.c): one MemgraphBackup being
 * carried out, and the helpers the files share. Not a public interface.
 * Ownership: struct op_backup_run owns obj (a reference); status points into it. */
#ifndef MGO_RECONCILE_BACKUP_INT_H
#define MGO_RECONCILE_BACKUP_INT_H

#include "reconcile.h"

#define OP_BACKUP_POLL_MS 2000
#define OP_BACKUP_MAX_ATTEMPTS 3
#define OP_LABEL_BACKUP_CLUSTER "memgraph.io/cluster"
#define OP_LABEL_BACKUP_SCHEDULED "memgraph.io/scheduled"

struct op_backup_run {
  char name[MGO_DNS_NAME_MAX];
  json_t *obj;          /* the MemgraphBackup as last read or written */
  const json_t *status; /* its status (borrowed from obj; may be NULL) */
  bool just_completed;  /* this pass completed it (retention runs) */
};

/* obj[key] as a string, "" when absent or not a string. */
const char *op_jstr(const json_t *obj, const char *key);
/* The usable connection of pod, or NULL. */
struct op_conn *op_backup_conn(struct op_ctx *ctx, const char *pod);
/* Merge-patches the MemgraphBackup's status with fields (consumed); r->obj/status become the written object.
 */
int op_backup_patch(struct op_ctx *ctx, struct op_backup_run *r, json_t *fields);
/* Records a failed attempt: retried after a backoff, or Failed after OP_BACKUP_MAX_ATTEMPTS (Event). */
struct op_result op_backup_attempt_failed(struct op_ctx *ctx, struct op_backup_run *r, const char *source,
                                          const char *code, const char *message);
/* Chooses the instance of the next attempt again (the cluster may have failed over meanwhile) and records it
 * in status.pod / role. False with why when no instance may take the snapshot now (or the patch failed). */
bool op_backup_retarget(struct op_ctx *ctx, struct op_backup_run *r, char *why, size_t whysz);
/* The IP of pod as last observed ("" when unknown), whether or not Memgraph answers there: the agent is a
 * container of its own. */
const char *op_backup_pod_ip(const struct op_ctx *ctx, const char *pod);
/* Runs the Running stages (snapshot, upload, poll) of r. */
struct op_result op_backup_running(struct op_ctx *ctx, struct op_backup_run *r);
/* LOCK DATA DIRECTORY and the agent's upload of r's snapshot (backup_upload.c). */
struct op_result op_backup_start_upload(struct op_ctx *ctx, struct op_backup_run *r);

/* The cluster's MemgraphBackups (spec.cluster == its name), oldest first; new array, NULL without memory. */
json_t *op_cluster_backups(struct op_ctx *ctx);
/* The schedule (creates a MemgraphBackup when one is due) and retention (after a completed backup); puts
 * lastScheduledBackup / nextScheduledBackup into ctx->backup_status (backup_schedule.c). */
struct op_result op_backup_schedule(struct op_ctx *ctx, const json_t *mine, bool completed);

/* S3 credentials from the Secret name (keys accessKeyId, secretAccessKey, optional sessionToken). */
struct op_s3_creds {
  char access_key[256];
  char secret_key[256];
  char session_token[2048];
};
int op_read_s3_creds(struct op_ctx *ctx, const char *secret, struct op_s3_creds *out);
void op_s3_creds_wipe(struct op_s3_creds *c);
/* The endpoint to use: spec's, else AWS's regional one. */
int op_s3_endpoint(const char *endpoint, const char *region, char *dst, size_t dstsz);
#endif
