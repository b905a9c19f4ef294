/* .status: built by rec_build_status() (src/decide), written through the status subresource only when
 * rec_status_differs() says something worth writing changed. lastSeen is therefore refreshed only together
 * with another change (steady state writes nothing); the live lastSeen is served by /api/v1/status. */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

/* Keys of old that patch lacks become null, also in nested objects (a merge patch keeps what it omits). */
static void null_removed(json_t *patch, const json_t *old)
{
  const char *key;
  json_t *value;
  json_object_foreach((json_t *) old, key, value)
  {
    json_t *now = json_object_get(patch, key);
    if (now == NULL)
      (void) json_object_set_new(patch, key, json_null());
    else if (json_is_object(now) && json_is_object(value))
      null_removed(now, value);
  }
}

json_t *op_status_patch(const json_t *old_status, const json_t *new_status)
{
  json_t *status;

  if (old_status != NULL && !rec_status_differs(old_status, new_status))
    return NULL;
  status = json_deep_copy(new_status);
  if (status == NULL)
    return NULL;
  null_removed(status, old_status);
  return json_pack("{s:o}", "status", status);
}

json_t *op_status_condition(const json_t *status, const char *type)
{
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c)
  {
    const char *t = json_string_value(json_object_get(c, "type"));
    if (t != NULL && strcmp(t, type) == 0)
      return c;
  }
  return NULL;
}

static json_t *condition_json(const json_t *old_status, const struct op_condition *cond, int64_t generation,
                              const char *now)
{
  const json_t *old = op_status_condition(old_status, cond->type);
  const char *was = json_string_value(json_object_get(old, "status"));
  const char *since = json_string_value(json_object_get(old, "lastTransitionTime"));
  if (was == NULL || since == NULL || strcmp(was, cond->status) != 0)
    since = now;
  return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", cond->type, "status", cond->status,
                   "observedGeneration", (json_int_t) generation, "lastTransitionTime", since, "reason",
                   cond->reason, "message", cond->message);
}

json_t *op_status_with_condition(const json_t *old_status, const struct op_condition *cond,
                                 int64_t generation, const char *phase, const char *now)
{
  json_t *status = json_is_object(old_status) ? json_deep_copy(old_status) : json_object();
  json_t *conds = json_array();
  const json_t *old = op_status_condition(old_status, cond->type);
  size_t i;
  const json_t *c;

  if (status == NULL || conds == NULL) {
    json_decref(status);
    json_decref(conds);
    return NULL;
  }
  json_array_foreach(json_object_get(old_status, "conditions"), i, c)
  {
    if (c != old)
      json_array_append_new(conds, json_deep_copy(c));
  }
  json_array_append_new(conds, condition_json(old_status, cond, generation, now));
  json_object_set_new(status, "conditions", conds);
  json_object_set_new(status, "phase", json_string(phase));
  json_object_set_new(status, "message", json_string(cond->message));
  return status;
}

json_t *op_invalid_status(const json_t *old_status, int64_t generation, const char *message, const char *now)
{
  const struct op_condition ready = {"Ready", "False", "InvalidSpec", message};
  json_t *status = op_status_with_condition(old_status, &ready, generation, "Failed", now);
  if (status != NULL)
    json_object_set_new(status, "observedGeneration", json_integer(generation));
  return status;
}

static int patch_status(struct op_ctx *ctx, const json_t *patch)
{
  struct k8s_status st;
  json_t *out = NULL;
  int rc;

  k8s_status_clear(&st);
  rc = ctx->kube->merge_patch(ctx->kube->arg, &op_res_clusters, ctx->ns, ctx->name, "status", patch, &out,
                              &st);
  if (rc != MGO_OK) {
    op_ctx_note(ctx, "status write: %s (%ld %s)", mgo_errname(rc), st.code, st.message);
    mgo_log(MGO_LOG_WARN, "status write failed", "cluster", ctx->key, "error", mgo_errname(rc), "detail",
            st.message, (char *) NULL);
    json_decref(out);
    return rc;
  }
  json_decref(ctx->obj);
  ctx->obj = out; /* the object as written: later steps compare against it */
  json_decref(ctx->cs->last_written);
  ctx->cs->last_written = json_incref(out);
  return MGO_OK;
}

int op_write_status(struct op_ctx *ctx, const json_t *new_status, bool *written)
{
  json_t *patch;
  int rc;
  if (written != NULL)
    *written = false;
  if (new_status == NULL) {
    op_ctx_note(ctx, "out of memory building the status");
    return MGO_ENOMEM;
  }
  patch = op_status_patch(json_object_get(ctx->obj, "status"), new_status);
  if (patch == NULL)
    return MGO_OK;
  rc = patch_status(ctx, patch);
  if (written != NULL)
    *written = rc == MGO_OK;
  if (rc == MGO_OK)
    mgo_log(MGO_LOG_INFO, "status written", "cluster", ctx->key, "phase",
            json_string_value(json_object_get(new_status, "phase")), "message",
            json_string_value(json_object_get(new_status, "message")), (char *) NULL);
  json_decref(patch);
  return rc;
}

static json_t *last_failover_json(const struct op_main_change *ch, const char *now)
{
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "time", now, "kind", ch->kind, "from",
                   ch->from, "to", ch->to, "reason", ch->reason, "behind", (json_int_t) ch->behind, "mode",
                   mgo_repl_mode_name(ch->mode), "writesUnavailableSince", ch->unavailable_since);
}

int op_write_current_main(struct op_ctx *ctx, const char *pod, const char *fenced,
                          const struct op_main_change *ch)
{
  json_t *patch = json_pack("{s:{s:s}}", "status", "currentMain", pod);
  int rc;
  if (patch != NULL && fenced != NULL && fenced[0] != '\0')
    json_object_set_new(json_object_get(patch, "status"), "fencedMain", json_string(fenced));
  if (patch != NULL && ch != NULL) {
    /* Recorded with the decision, so a crash before the promotion completes still leaves the record; the
     * unavailable time is only known once the promotion succeeded (null until then). */
    char now[40];
    json_t *lf;
    (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
    lf = last_failover_json(ch, now);
    if (lf != NULL)
      json_object_set_new(lf, "writeUnavailableMs", json_null());
    json_object_set_new(json_object_get(patch, "status"), "lastFailover", lf);
  }
  rc = patch != NULL ? patch_status(ctx, patch) : MGO_ENOMEM;
  json_decref(patch);
  return rc;
}

int op_write_last_failover(struct op_ctx *ctx, const struct op_main_change *ch, int64_t unavailable_ms)
{
  char now[40];
  json_t *lf, *patch = NULL;
  int rc;
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  lf = last_failover_json(ch, now);
  if (lf != NULL) {
    json_object_set_new(lf, "writeUnavailableMs", json_integer((json_int_t) unavailable_ms));
    patch = json_pack("{s:{s:o}}", "status", "lastFailover", lf);
  }
  rc = patch != NULL ? patch_status(ctx, patch) : MGO_ENOMEM;
  json_decref(patch);
  return rc;
}

/* ---- metrics of one cluster ------------------------------------------------------------------------ */

void op_set_phase_metric(struct op_ctx *ctx, const char *phase)
{
  static const char *const phases[] = {"Pending", "Initializing", "Running", "Degraded",
                                       "Failed",  "Hibernated",   "Paused"};
  char labels[MGO_METRIC_LABELS_MAX];
  for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
    (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "phase", phases[i], (char *) NULL);
    (void) mgo_metric_set(ctx->metrics->cluster_phase, labels,
                          phase != NULL && strcmp(phase, phases[i]) == 0);
  }
}

static void set_gauges(struct op_ctx *ctx, const json_t *status)
{
  const struct op_metrics *m = ctx->metrics;
  const struct rec_instance *main = rec_plan_main(ctx->obs, ctx->plan);
  char labels[MGO_METRIC_LABELS_MAX];

  op_set_phase_metric(ctx, json_string_value(json_object_get(status, "phase")));
  op_seed_cluster_metrics(ctx);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_set(m->instances_ready, labels,
                        (double) json_integer_value(json_object_get(status, "readyInstances")));
  (void) mgo_metric_set(m->replicas_registered, labels,
                        (double) json_integer_value(json_object_get(status, "registeredReplicas")));
  if (main == NULL)
    return; /* without SHOW REPLICAS the last known lags stay */
  for (size_t i = 0; i < ctx->cs->nlag; i++) {
    bool still = false;
    for (size_t j = 0; j < main->n_registrations && !still; j++)
      still = strcmp(main->registrations[j].name, ctx->cs->lag_names[i]) == 0;
    (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "replica", ctx->cs->lag_names[i],
                             (char *) NULL);
    if (!still)
      mgo_metric_remove(m->replica_lag, labels);
  }
  ctx->cs->nlag = 0;
  for (size_t i = 0; i < main->n_registrations && i < MGO_MAX_INSTANCES; i++) {
    const struct rec_registration *r = &main->registrations[i];
    (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "replica", r->name, (char *) NULL);
    (void) mgo_metric_set(m->replica_lag, labels, (double) (r->behind < 0 ? -r->behind : 0));
    (void) mgo_strlcpy(ctx->cs->lag_names[ctx->cs->nlag++], r->name, MGO_NAME_MAX);
  }
}

/* The status fields the backup step owns: from ctx->backup_status when it ran this pass, else as they were.
 */
static const char *const backup_keys[] = {
    "lastSnapshotTime",         "lastS3BackupTime",    "lastSuccessfulBackup", "lastFailedBackup",
    "firstRecoverabilityPoint", "nextScheduledBackup", "lastScheduledBackup",  "restoredFrom",
    "lastRestoreDrill"};

static void drop_condition(json_t *conds, const char *type)
{
  for (size_t i = json_array_size(conds); i > 0; i--) {
    const char *t = json_string_value(json_object_get(json_array_get(conds, i - 1), "type"));
    if (t != NULL && strcmp(t, type) == 0)
      json_array_remove(conds, i - 1);
  }
}

void op_merge_backup_status(json_t *status, const json_t *backup, const json_t *old_status)
{
  const json_t *src = backup != NULL ? backup : old_status;
  json_t *conds = json_object_get(status, "conditions");
  json_t *cond = backup != NULL ? json_object_get(backup, "condition")
                                : op_status_condition(old_status, "LastBackupSucceeded");

  for (size_t i = 0; i < sizeof(backup_keys) / sizeof(backup_keys[0]); i++) {
    json_t *v = json_object_get(src, backup_keys[i]);
    if (v == NULL && backup != NULL &&
        (strcmp(backup_keys[i], "restoredFrom") == 0 || strcmp(backup_keys[i], "lastRestoreDrill") == 0))
      v = json_object_get(old_status, backup_keys[i]); /* written by the restore and drill code only */
    if (v != NULL)
      json_object_set(status, backup_keys[i], v);
  }
  if (json_is_array(conds)) {
    drop_condition(conds, "LastBackupSucceeded");
    if (cond != NULL)
      json_array_append(conds, cond);
  }
}

/* status.validation and ReplicationLagAcceptable: the validate step's when it produced them this pass, else
 * as they were. */
static void merge_validation(json_t *status, const struct op_ctx *ctx, const json_t *old_status,
                             const char *now)
{
  const json_t *block = ctx->validation != NULL ? ctx->validation : json_object_get(old_status, "validation");
  json_t *before = op_status_condition(old_status, "ReplicationLagAcceptable");
  json_t *cond = ctx->validation_lag != NULL ? ctx->validation_lag : before;
  json_t *conds = json_object_get(status, "conditions");

  if (ctx->validation_lag != NULL) {
    const json_t *was = json_object_get(before, "status");
    const json_t *since = json_object_get(before, "lastTransitionTime");
    bool same = json_equal(was, json_object_get(cond, "status")) && json_is_string(since);
    (void) json_object_set_new(cond, "lastTransitionTime",
                               same ? json_copy((json_t *) since) : json_string(now));
    (void) json_object_set_new(cond, "observedGeneration", json_integer(ctx->c.generation));
  }

  if (block != NULL)
    (void) json_object_set(status, "validation", (json_t *) block);
  if (json_is_array(conds)) {
    drop_condition(conds, "ReplicationLagAcceptable");
    if (cond != NULL)
      (void) json_array_append(conds, cond);
  }
}

static const char *const connectivity_types[] = {"WriteConnectivity", "ReadConnectivity"};
#define N_CONNECTIVITY (sizeof(connectivity_types) / sizeof(connectivity_types[0]))

/* Whether each connectivity condition was True before the write (copied: the old status goes away). */
static void connectivity_before(const json_t *old_status, bool *was_true)
{
  for (size_t i = 0; i < N_CONNECTIVITY; i++) {
    const json_t *c = op_status_condition(old_status, connectivity_types[i]);
    const char *s = json_string_value(json_object_get(c, "status"));
    was_true[i] = s != NULL && strcmp(s, "True") == 0;
  }
}

/* ConnectivityLost when WriteConnectivity or ReadConnectivity turned from True to False. */
static void announce_connectivity(struct op_ctx *ctx, const bool *was_true, const json_t *status)
{
  for (size_t i = 0; i < N_CONNECTIVITY; i++) {
    const json_t *now = op_status_condition(status, connectivity_types[i]);
    const char *after = json_string_value(json_object_get(now, "status"));
    if (after != NULL && strcmp(after, "False") == 0 && was_true[i])
      op_event(ctx, "Warning", "ConnectivityLost", connectivity_types[i],
               json_string_value(json_object_get(now, "message")));
  }
}

/* The message of condition type in status ("" when absent), copied: the old status goes away when the new
 * one is written. */
static void condition_message(const json_t *status, const char *type, char *dst, size_t dstsz)
{
  const char *m = json_string_value(json_object_get(op_status_condition(status, type), "message"));
  (void) mgo_strlcpy(dst, m != NULL ? m : "", dstsz);
}

/* An Event when the user's day-2 switches took effect: fencing changed, hibernated, resuming, resumed. */
static void announce_day2(struct op_ctx *ctx, const char *type, const char *before, const json_t *status,
                          const char *gone_reason, const char *gone_message)
{
  const json_t *now = op_status_condition(status, type);
  const char *msg = json_string_value(json_object_get(now, "message"));
  const char *reason = json_string_value(json_object_get(now, "reason"));
  if (msg == NULL && before[0] != '\0')
    op_event(ctx, "Normal", gone_reason, type, gone_message);
  else if (msg != NULL && reason != NULL && strcmp(msg, before) != 0)
    op_event(ctx, "Normal", reason, type, msg);
}

struct op_result op_step_status(struct op_ctx *ctx)
{
  char now[40], fenced_before[256], hibernated_before[256];
  bool conn_was_true[N_CONNECTIVITY];
  json_t *status;
  struct rec_status_input in;
  bool written = false;
  int rc;

  if (!ctx->parsed || ctx->obs == NULL || ctx->plan == NULL || !ctx->kube->may_act(ctx->kube->arg))
    return op_ok();
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  in = (struct rec_status_input){.c = &ctx->c,
                                 .obs = ctx->obs,
                                 .plan = ctx->plan,
                                 .old_status = json_object_get(ctx->obj, "status"),
                                 .now = now};
  connectivity_before(in.old_status, conn_was_true);
  condition_message(in.old_status, "Fenced", fenced_before, sizeof(fenced_before));
  condition_message(in.old_status, "Hibernated", hibernated_before, sizeof(hibernated_before));
  status = rec_build_status(&in);
  if (status != NULL) {
    op_merge_backup_status(status, ctx->backup_status, in.old_status);
    merge_validation(status, ctx, in.old_status, now);
    op_restore_observe(
        ctx, status); /* here, not in the backup step: a pod 0 that never starts stops the pass earlier */
  }
  rc = op_write_status(ctx, status, &written);
  if (rc == MGO_OK)
    set_gauges(ctx, status);
  if (written) {
    announce_connectivity(ctx, conn_was_true, status);
    announce_day2(ctx, "Fenced", fenced_before, status, "InstancesUnfenced",
                  "no instance is fenced any more (" MGO_ANNOTATION_FENCED ")");
    announce_day2(ctx, "Hibernated", hibernated_before, status, "Resumed", "resumed from hibernation");
  }
  json_decref(status);
  return rc == MGO_OK ? op_ok() : op_error(rc);
}
