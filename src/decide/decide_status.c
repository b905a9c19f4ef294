/* The desired MemgraphCluster .status from an observation and its plan, and the rule that decides
 * whether it is worth writing. Pure: the clock comes in as a string. */
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "topology.h"

#include <string.h>

static const struct rec_instance *find_pod(const struct rec_observed *obs, const char *pod)
{
  for (size_t i = 0; i < obs->n; i++) {
    if (pod[0] != '\0' && strcmp(obs->inst[i].pod, pod) == 0)
      return &obs->inst[i];
  }
  return NULL;
}

/* The MAIN whose SHOW REPLICAS describes the replicas, when the plan has one that answered. */
const struct rec_instance *rec_plan_main(const struct rec_observed *obs, const struct rec_plan *plan)
{
  const struct rec_instance *main = find_pod(obs, plan->main_pod);
  if (main == NULL || !main->reachable || main->role != MGO_ROLE_MAIN || !main->replicas_known)
    return NULL;
  return main;
}

static const struct rec_registration *registration_of(const struct rec_instance *main, const char *pod)
{
  char name[MGO_NAME_MAX];
  if (main == NULL || mgo_replica_name(pod, name, sizeof(name)) != MGO_OK)
    return NULL;
  for (size_t i = 0; i < main->n_registrations; i++) {
    if (strcmp(main->registrations[i].name, name) == 0)
      return &main->registrations[i];
  }
  return NULL;
}

static json_t *find_by_key(const json_t *list, const char *key, const char *value)
{
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item)
  {
    const char *v = json_string_value(json_object_get(item, key));
    if (v != NULL && strcmp(v, value) == 0)
      return item;
  }
  return NULL;
}

/* A replica in a graced dip (rec_replica_counts_healthy but not healthy) keeps the state status last showed.
 */
static void add_registration_fields(json_t *entry, const struct rec_instance *inst,
                                    const struct rec_registration *r, const json_t *old)
{
  const char *old_state = json_string_value(json_object_get(old, "replicaState"));
  bool dip = r != NULL && r->has_data_info && !rec_replica_healthy(r->mode, r->state, r->behind) &&
             rec_replica_counts_healthy(inst, r);
  if (r == NULL)
    return;
  json_object_set_new(entry, "replicationMode", json_string(mgo_repl_mode_name(r->mode)));
  json_object_set_new(entry, "replicaState",
                      json_string(dip && old_state != NULL ? old_state
                                  : r->has_data_info       ? rec_replica_state_name(r->state)
                                                           : "invalid"));
  json_object_set_new(entry, "behind", json_integer(r->behind < 0 ? -r->behind : 0));
}

/* The MAIN the new status names: the one the plan records, else the one already recorded. */
static const char *status_main(const struct rec_status_input *in)
{
  for (size_t i = 0; i < in->plan->n; i++) {
    if (in->plan->a[i].type == REC_ACT_RECORD_MAIN)
      return in->plan->a[i].pod;
  }
  return in->c->recorded_main;
}

/* While the MAIN's SHOW REPLICAS is unknown (it does not answer), a replica keeps how that same MAIN last
 * listed it: a restarted operator chooses a failover candidate from it. */
static bool carries_registrations(const struct rec_status_input *in, const struct rec_instance *inst)
{
  const char *main = status_main(in);
  const char *old_main = json_string_value(json_object_get(in->old_status, "currentMain"));
  return rec_plan_main(in->obs, in->plan) == NULL && main[0] != '\0' && strcmp(inst->pod, main) != 0 &&
         old_main != NULL && strcmp(old_main, main) == 0;
}

static void carry_registration_fields(json_t *entry, const json_t *old)
{
  static const char *const keys[] = {"replicationMode", "replicaState", "behind"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    json_t *v = json_object_get(old, keys[i]);
    if (v != NULL)
      json_object_set_new(entry, keys[i], json_deep_copy(v));
  }
}

/* reseeds / lastReseed: the re-seeds in a row within the rate limit's window, for people and for an operator
 * that restarts (step_observe.c reads them back). */
static void add_reseeds(json_t *entry, const struct rec_instance *inst)
{
  char at[40];
  if (inst->reseeds <= 0 || inst->last_reseed_wall_ms <= 0 ||
      mgo_time_format_rfc3339(inst->last_reseed_wall_ms * 1000000, 0, at, sizeof(at)) != MGO_OK)
    return;
  json_object_set_new(entry, "reseeds", json_integer(inst->reseeds));
  json_object_set_new(entry, "lastReseed", json_string(at));
}

static json_t *instance_entry(const struct rec_status_input *in, const struct rec_instance *inst,
                              const struct rec_instance *main)
{
  const json_t *old = find_by_key(json_object_get(in->old_status, "instanceStatuses"), "pod", inst->pod);
  const json_t *old_seen = json_object_get(old, "lastSeen");
  json_t *entry =
      json_pack("{s:s, s:s, s:b}", "pod", inst->pod, "role",
                mgo_role_name(inst->reachable ? inst->role : MGO_ROLE_UNKNOWN), "ready", inst->pod_ready);
  char version[32];

  if (entry == NULL)
    return NULL;
  if (inst->registered_pod_uid[0] != '\0') {
    json_object_set_new(entry, "podUID", json_string(inst->registered_pod_uid));
    json_object_set_new(entry, "restartCount", json_integer(inst->registered_restart_count));
  }
  if (inst != main && main != NULL)
    add_registration_fields(entry, inst, registration_of(main, inst->pod), old);
  else if (carries_registrations(in, inst))
    carry_registration_fields(entry, old);
  if (inst->reachable)
    json_object_set_new(entry, "lastSeen", json_string(in->now));
  else if (json_is_string(old_seen))
    json_object_set_new(entry, "lastSeen", json_string(json_string_value(old_seen)));
  if (inst->last_error[0] != '\0')
    json_object_set_new(entry, "lastError", json_string(inst->last_error));
  if (inst->version_major != 0 || inst->version_minor != 0) {
    (void) mgo_snprintf(version, sizeof(version), "%d.%d.%d", inst->version_major, inst->version_minor,
                        inst->version_patch);
    json_object_set_new(entry, "version", json_string(version));
  }
  if (inst->recovered_from[0] != '\0')
    json_object_set_new(entry, "recoveredFrom", json_string(inst->recovered_from));
  add_reseeds(entry, inst);
  return entry;
}

static json_t *condition_entry(const struct rec_status_input *in, const struct rec_action *a)
{
  static const char *const status_names[] = {"True", "False", "Unknown"};
  const char *status = status_names[a->cond_status];
  const json_t *old = find_by_key(json_object_get(in->old_status, "conditions"), "type", a->cond_type);
  const char *old_status = json_string_value(json_object_get(old, "status"));
  const char *old_time = json_string_value(json_object_get(old, "lastTransitionTime"));
  const char *since =
      old_status != NULL && old_time != NULL && strcmp(old_status, status) == 0 ? old_time : in->now;

  return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", a->cond_type, "status", status,
                   "observedGeneration", (json_int_t) in->c->generation, "lastTransitionTime", since,
                   "reason", a->reason, "message", a->message[0] != '\0' ? a->message : a->reason);
}

static void add_plan_fields(json_t *status, const struct rec_status_input *in)
{
  json_t *conditions = json_array();
  for (size_t i = 0; i < in->plan->n; i++) {
    const struct rec_action *a = &in->plan->a[i];
    if (a->type == REC_ACT_CONDITION)
      json_array_append_new(conditions, condition_entry(in, a));
    else if (a->type == REC_ACT_PHASE) {
      json_object_set_new(status, "phase", json_string(a->phase));
      json_object_set_new(status, "message", json_string(a->message));
    }
    /* Not RECORD_MAIN: currentMain is c->recorded_main, which the act step sets only once the record was
     * written; a pass that failed before it (a refused demotion) must not record the new MAIN here. */
  }
  json_object_set_new(status, "conditions", conditions);
}

static void add_counts(json_t *status, const struct rec_status_input *in, const struct rec_instance *main)
{
  json_t *instances = json_array();
  int exist = 0, ready = 0;
  int64_t max_lag = 0;
  char text[32];

  for (size_t i = 0; i < in->obs->n; i++) {
    const struct rec_instance *inst = &in->obs->inst[i];
    if (!inst->pod_exists)
      continue;
    exist++;
    ready += inst->pod_ready;
    json_array_append_new(instances, instance_entry(in, inst, main));
  }
  for (size_t i = 0; main != NULL && i < main->n_registrations; i++) {
    if (-main->registrations[i].behind > max_lag)
      max_lag = -main->registrations[i].behind;
  }
  json_object_set_new(status, "instances", json_integer(exist));
  json_object_set_new(status, "readyInstances", json_integer(ready));
  (void) mgo_snprintf(text, sizeof(text), "%d/%d", ready, (int) in->c->spec.instances);
  json_object_set_new(status, "ready", json_string(text));
  json_object_set_new(status, "registeredReplicas",
                      json_integer(main != NULL ? (json_int_t) main->n_registrations : 0));
  json_object_set_new(status, "maxLag", json_integer(max_lag));
  json_object_set_new(status, "instanceStatuses", instances);
}

/* A pass that records a MAIN (a failover, a bootstrap choice) describes the outage of the MAIN it replaces:
 * its start must not be read back as the new MAIN's. */
static bool plans_main_record(const struct rec_plan *plan)
{
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == REC_ACT_RECORD_MAIN)
      return true;
  }
  return false;
}

json_t *rec_build_status(const struct rec_status_input *in)
{
  json_t *status = json_object();
  const json_t *last_failover = json_object_get(in->old_status, "lastFailover");
  char text[256];

  if (status == NULL)
    return NULL;
  json_object_set_new(status, "observedGeneration", json_integer(in->c->generation));
  if (in->c->recorded_main[0] != '\0')
    json_object_set_new(status, "currentMain", json_string(in->c->recorded_main));
  (void) mgo_cluster_selector(in->c, text, sizeof(text));
  json_object_set_new(status, "selector", json_string(text));
  (void) mgo_cluster_mode_summary(&in->c->spec, text, sizeof(text));
  json_object_set_new(status, "replicationMode", json_string(text));
  add_counts(status, in, rec_plan_main(in->obs, in->plan));
  add_plan_fields(status, in);
  if (last_failover != NULL)
    json_object_set_new(status, "lastFailover", json_deep_copy(last_failover));
  if (in->obs->main_unavailable_since[0] != '\0' && !plans_main_record(in->plan))
    json_object_set_new(status, "mainUnavailableSince", json_string(in->obs->main_unavailable_since));
  if (json_is_string(json_object_get(in->old_status, "fencedMain")))
    json_object_set_new(status, "fencedMain", json_deep_copy(json_object_get(in->old_status, "fencedMain")));
  return status;
}

/* A copy without what changes on every observation of a healthy, busy cluster: lastSeen, the lags (commits
 * in flight make them flicker under load; the live values are the mgo_replica_lag metric) and the difference
 * between "ready" and the other healthy states (rec_replica_healthy: "replicating", a commit being shipped
 * right now; an ASYNC replica's short "recovery"). */
static json_t *comparable(const json_t *status)
{
  json_t *copy = json_deep_copy(status);
  size_t i;
  json_t *entry;

  if (copy == NULL)
    return NULL;
  json_object_del(copy, "maxLag");
  json_array_foreach(json_object_get(copy, "instanceStatuses"), i, entry)
  {
    const char *state = json_string_value(json_object_get(entry, "replicaState"));
    enum mgo_repl_mode mode = MGO_MODE_SYNC;
    int64_t behind = (int64_t) json_integer_value(json_object_get(entry, "behind"));
    bool known_mode = mgo_repl_mode_parse(json_string_value(json_object_get(entry, "replicationMode")),
                                          MGO_CASE_EXACT, &mode);
    if (state != NULL && known_mode && rec_replica_healthy(mode, rec_replica_state_named(state), -behind))
      json_object_set_new(entry, "replicaState", json_string("ready"));
    json_object_del(entry, "lastSeen");
    json_object_del(entry, "behind");
  }
  return copy;
}

bool rec_status_differs(const json_t *old_status, const json_t *new_status)
{
  json_t *a, *b;
  bool differs;

  if (old_status == NULL || new_status == NULL)
    return old_status != new_status;
  a = comparable(old_status);
  b = comparable(new_status);
  differs = a == NULL || b == NULL || !json_equal(a, b);
  json_decref(a);
  json_decref(b);
  return differs;
}
