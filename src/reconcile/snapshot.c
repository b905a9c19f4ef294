/* The per-cluster JSON that /api/v1/status and /api/v1/clusters/{ns}/{name} serve: the last observation and
 * plan of a pass, built from the pass's context (pure). */
#include "reconcile.h"

#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"

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

static const struct rec_registration *sync_registration(const struct rec_instance *main, const char *pod)
{
  char name[MGO_NAME_MAX];
  if (main == NULL || mgo_replica_name(pod, name, sizeof(name)) != MGO_OK)
    return NULL;
  for (size_t i = 0; i < main->n_registrations; i++) {
    const struct rec_registration *r = &main->registrations[i];
    if (strcmp(r->name, name) == 0 && r->mode != MGO_MODE_ASYNC)
      return r;
  }
  return NULL;
}

/* Seed 000's names, camelCase (docs/api.md): per pod isSyncReplica; per cluster currentSyncReplicas (pods
 * registered SYNC/STRICT_SYNC on the MAIN) and syncReplicaHealthy (each of them streaming; null when the
 * MAIN's SHOW REPLICAS is unknown or there is none). */
static void add_sync_fields(const struct op_ctx *ctx, json_t *o, json_t *instances)
{
  const struct rec_instance *main =
      ctx->obs != NULL && ctx->plan != NULL ? rec_plan_main(ctx->obs, ctx->plan) : NULL;
  json_t *pods = json_array();
  bool healthy = true;

  for (size_t i = 0; ctx->obs != NULL && i < ctx->obs->n; i++) {
    const struct rec_registration *r = sync_registration(main, ctx->obs->inst[i].pod);
    json_object_set_new(json_array_get(instances, i), "isSyncReplica", json_boolean(r != NULL));
    if (r == NULL)
      continue;
    json_array_append_new(pods, json_string(ctx->obs->inst[i].pod));
    healthy = healthy && r->has_data_info && rec_replica_streaming(r->state);
  }
  json_object_set_new(o, "syncReplicaHealthy",
                      main != NULL && json_array_size(pods) > 0 ? json_boolean(healthy) : json_null());
  json_object_set_new(o, "currentSyncReplicas", pods);
}

json_t *op_snapshot(const struct op_ctx *ctx, const char *now, bool failed)
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
                "lastError", failed ? json_string(ctx->error) : json_null());
  if (o == NULL)
    return NULL;
  add_sync_fields(ctx, o, instances);
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
