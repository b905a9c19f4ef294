/* .status: built by rec_build_status() (src/decide), written through the status subresource only when
 * rec_status_differs() says something worth writing changed. lastSeen is therefore refreshed only together
 * with another change (steady state writes nothing); the live lastSeen is served by /api/v1/status. */
#include "op_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s_client.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

void op_now(char *dst, size_t dstsz)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  if (strftime(dst, dstsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && dstsz > 0)
    dst[0] = '\0';
}

json_t *op_status_patch(const json_t *old_status, const json_t *new_status)
{
  json_t *status;
  const char *key;
  json_t *value;

  if (old_status != NULL && !rec_status_differs(old_status, new_status))
    return NULL;
  status = json_deep_copy(new_status);
  if (status == NULL)
    return NULL;
  json_object_foreach((json_t *) old_status, key, value)
  {
    if (json_object_get(status, key) == NULL)
      json_object_set_new(status, key, json_null());
  }
  return json_pack("{s:o}", "status", status);
}

/* The Ready condition of an unusable spec; lastTransitionTime kept when it was already False. */
static json_t *invalid_ready(const json_t *old_status, int64_t generation, const char *message,
                             const char *now)
{
  size_t i;
  const json_t *c;
  const char *since = now;
  json_array_foreach(json_object_get(old_status, "conditions"), i, c)
  {
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *st = json_string_value(json_object_get(c, "status"));
    const char *t = json_string_value(json_object_get(c, "lastTransitionTime"));
    if (type != NULL && strcmp(type, "Ready") == 0 && st != NULL && strcmp(st, "False") == 0 && t != NULL)
      since = t;
  }
  return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", "Ready", "status", "False", "observedGeneration",
                   (json_int_t) generation, "lastTransitionTime", since, "reason", "InvalidSpec", "message",
                   message);
}

json_t *op_invalid_status(const json_t *old_status, int64_t generation, const char *message, const char *now)
{
  json_t *status = json_is_object(old_status) ? json_deep_copy(old_status) : json_object();
  json_t *conds = json_array();
  size_t i;
  const json_t *c;

  if (status == NULL || conds == NULL) {
    json_decref(status);
    json_decref(conds);
    return NULL;
  }
  json_array_foreach(json_object_get(old_status, "conditions"), i, c)
  {
    const char *type = json_string_value(json_object_get(c, "type"));
    if (type == NULL || strcmp(type, "Ready") != 0)
      json_array_append_new(conds, json_deep_copy(c));
  }
  json_array_append_new(conds, invalid_ready(old_status, generation, message, now));
  json_object_set_new(status, "conditions", conds);
  json_object_set_new(status, "phase", json_string("Failed"));
  json_object_set_new(status, "message", json_string(message));
  json_object_set_new(status, "observedGeneration", json_integer(generation));
  return status;
}

static int patch_status(struct op_ctx *ctx, const json_t *patch)
{
  char path[K8S_PATH_MAX];
  struct k8s_status st;
  json_t *out = NULL;
  int rc = k8s_path(path, sizeof(path), &op_res_clusters, ctx->ns, ctx->name, "status");

  k8s_status_clear(&st);
  if (rc == MGO_OK)
    rc = k8s_merge_patch(ctx->op->client, path, patch, &out, &st);
  if (rc != MGO_OK) {
    op_ctx_fail(ctx, "status write: %s (%ld %s)", mgo_errname(rc), st.code, st.message);
    mgo_log(MGO_LOG_WARN, "status write failed", "cluster", ctx->key, "error", ctx->error, (char *) NULL);
    return rc;
  }
  json_decref(ctx->obj);
  ctx->obj = out; /* the object as written: later steps compare against it */
  if (ctx->cs != NULL) {
    json_decref(ctx->cs->last_written);
    ctx->cs->last_written = json_incref(out);
  }
  return MGO_OK;
}

int op_write_status(struct op_ctx *ctx, const json_t *new_status, bool *written)
{
  json_t *patch;
  int rc;
  if (written != NULL)
    *written = false;
  if (new_status == NULL) {
    op_ctx_fail(ctx, "out of memory building the status");
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

static int64_t wall_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void op_format_mono_ms(int64_t mono_ms, char *dst, size_t dstsz)
{
  int64_t wall = wall_now_ms() - (op_now_ms() - mono_ms);
  time_t t = (time_t) (wall / 1000);
  struct tm tm;
  char secs[32];
  gmtime_r(&t, &tm);
  if (strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    secs[0] = '\0';
  (void) mgo_snprintf(dst, dstsz, "%s.%03dZ", secs, (int) (wall % 1000));
}

int op_mono_from_rfc3339(const char *text, int64_t *mono_ms)
{
  struct tm tm;
  const char *rest;
  int64_t wall, frac = 0, scale = 1000;
  memset(&tm, 0, sizeof(tm));
  rest = text != NULL ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (rest == NULL)
    return MGO_EINVAL;
  if (*rest == '.') {
    for (rest++; *rest >= '0' && *rest <= '9'; rest++) {
      if (scale > 1) {
        scale /= 10;
        frac += (*rest - '0') * scale;
      }
    }
  }
  if (strcmp(rest, "Z") != 0)
    return MGO_EINVAL;
  wall = (int64_t) timegm(&tm) * 1000 + frac;
  *mono_ms = op_now_ms() - (wall_now_ms() - wall);
  return MGO_OK;
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
    op_now(now, sizeof(now));
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
  op_now(now, sizeof(now));
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

static const struct rec_instance *plan_main(const struct op_ctx *ctx)
{
  for (size_t i = 0; i < ctx->obs->n; i++) {
    const struct rec_instance *in = &ctx->obs->inst[i];
    if (strcmp(in->pod, ctx->plan->main_pod) == 0 && in->replicas_known)
      return in;
  }
  return NULL;
}

void op_set_phase_metric(struct op_ctx *ctx, const char *phase)
{
  static const char *const phases[] = {"Pending", "Initializing", "Running", "Degraded", "Failed"};
  char labels[MGO_METRIC_LABELS_MAX];
  if (ctx->op == NULL)
    return;
  for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
    (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "phase", phases[i], (char *) NULL);
    (void) mgo_metric_set(ctx->op->metrics.cluster_phase, labels,
                          phase != NULL && strcmp(phase, phases[i]) == 0);
  }
}

static void set_gauges(struct op_ctx *ctx, const json_t *status)
{
  const struct op_metrics *m = &ctx->op->metrics;
  const struct rec_instance *main = plan_main(ctx);
  char labels[MGO_METRIC_LABELS_MAX];

  op_set_phase_metric(ctx, json_string_value(json_object_get(status, "phase")));
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

enum op_step_result op_step_status(struct op_ctx *ctx)
{
  char now[40];
  json_t *status;
  struct rec_status_input in;

  if (!ctx->parsed || ctx->obs == NULL || ctx->plan == NULL || !op_may_act(ctx->op))
    return OP_CONTINUE;
  op_now(now, sizeof(now));
  in = (struct rec_status_input){.c = &ctx->c,
                                 .obs = ctx->obs,
                                 .plan = ctx->plan,
                                 .old_status = json_object_get(ctx->obj, "status"),
                                 .now = now};
  status = rec_build_status(&in);
  if (op_write_status(ctx, status, NULL) != MGO_OK) {
    json_decref(status);
    ctx->after_ms = -1;
    return OP_REQUEUE;
  }
  set_gauges(ctx, status);
  json_decref(status);
  return OP_CONTINUE;
}

/* ---- the HTTP snapshot ----------------------------------------------------------------------------- */

static json_t *replicas_json(const struct rec_instance *in, json_t *sync_names)
{
  json_t *list = json_array();
  for (size_t i = 0; i < in->n_registrations; i++) {
    const struct rec_registration *r = &in->registrations[i];
    json_array_append_new(list,
                          json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "name", r->name, "address", r->address,
                                    "mode", mgo_repl_mode_name(r->mode), "state",
                                    r->has_data_info ? rec_replica_state_name(r->state) : "invalid", "behind",
                                    (json_int_t) (r->behind < 0 ? -r->behind : 0), "ts", (json_int_t) r->ts));
    if (r->mode != MGO_MODE_ASYNC)
      json_array_append_new(sync_names, json_string(r->name));
  }
  return list;
}

static json_t *instance_json(const struct rec_instance *in, const char *now, json_t *sync_names)
{
  char version[32] = "";
  json_t *o =
      json_pack("{s:s, s:i, s:b, s:b, s:b, s:s, s:s}", "pod", in->pod, "ordinal", in->ordinal, "podExists",
                in->pod_exists, "ready", in->pod_ready, "reachable", in->reachable, "role",
                mgo_role_name(in->reachable ? in->role : MGO_ROLE_UNKNOWN), "data", rec_data_name(in->data));
  if (o == NULL)
    return NULL;
  if (in->version_major != 0 || in->version_minor != 0)
    (void) mgo_snprintf(version, sizeof(version), "%d.%d.%d", in->version_major, in->version_minor,
                        in->version_patch);
  json_object_set_new(o, "version", version[0] != '\0' ? json_string(version) : json_null());
  json_object_set_new(o, "lastSeen", in->reachable ? json_string(now) : json_null());
  json_object_set_new(o, "lastError", in->last_error[0] != '\0' ? json_string(in->last_error) : json_null());
  if (in->reachable && in->role == MGO_ROLE_MAIN && in->replicas_known)
    json_object_set_new(o, "replicas", replicas_json(in, sync_names));
  return o;
}

static json_t *plan_json(const struct rec_plan *plan)
{
  json_t *list = json_array();
  char line[512];
  for (size_t i = 0; plan != NULL && i < plan->n; i++) {
    if (rec_action_format(&plan->a[i], line, sizeof(line)) == MGO_OK || line[0] != '\0')
      json_array_append_new(list, json_string(line));
  }
  return list;
}

json_t *op_snapshot(const struct op_ctx *ctx, const char *now)
{
  const json_t *status = json_object_get(ctx->obj, "status");
  json_t *sync_names = json_array();
  json_t *instances = json_array();
  json_t *o;

  for (size_t i = 0; ctx->obs != NULL && i < ctx->obs->n; i++)
    json_array_append_new(instances, instance_json(&ctx->obs->inst[i], now, sync_names));
  o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "namespace", ctx->ns, "name", ctx->name,
                "observedAt", now, "instances", instances, "syncReplicas", sync_names, "plan",
                plan_json(ctx->plan), "status", status != NULL ? json_deep_copy(status) : json_object(),
                "lastError", ctx->failed ? json_string(ctx->error) : json_null());
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "phase", json_copy(json_object_get(status, "phase")));
  json_object_set_new(o, "currentMain", json_copy(json_object_get(status, "currentMain")));
  return o;
}

static const json_t *last_seen_in(const json_t *snapshot, const json_t *pod)
{
  size_t j;
  const json_t *old;
  json_array_foreach(json_object_get(snapshot, "instances"), j, old)
  {
    if (json_equal(json_object_get(old, "pod"), pod) && json_is_string(json_object_get(old, "lastSeen")))
      return json_object_get(old, "lastSeen");
  }
  return NULL;
}

void op_snapshot_carry_last_seen(const json_t *prev, json_t *next)
{
  size_t i;
  json_t *inst;
  json_array_foreach(json_object_get(next, "instances"), i, inst)
  {
    const json_t *seen = last_seen_in(prev, json_object_get(inst, "pod"));
    if (json_is_null(json_object_get(inst, "lastSeen")) && seen != NULL)
      json_object_set_new(inst, "lastSeen", json_copy((json_t *) seen));
  }
}
