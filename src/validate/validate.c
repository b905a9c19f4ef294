/* Live validation decisions: skip reasons, the schedule, the verdict of a canary run, status.validation and
 * its Events (validate.h). */
#include "validate.h"

#include <string.h>

#include "mgo_buf.h"

static void set_skip(struct val_skip *out, const char *reason, const char *message)
{
  (void) mgo_strlcpy(out->reason, reason, sizeof(out->reason));
  (void) mgo_strlcpy(out->message, message, sizeof(out->message));
}

void val_skip_reason(const struct val_state *st, struct val_skip *out)
{
  set_skip(out, "", "");
  if (st->hibernated)
    set_skip(out, "Hibernated", "the cluster is hibernated");
  else if (st->stopped)
    set_skip(out, "ReconcileStopped", "the operator stopped acting on this cluster (see Ready)");
  else if (st->main_change)
    set_skip(out, "FailoverInProgress", "a failover or switchover is in progress");
  else if (!st->main_available || st->main_pod == NULL || st->main_pod[0] == '\0')
    set_skip(out, "MainUnavailable", "no MAIN accepts writes");
  else if (st->main_fenced)
    set_skip(out, "MainFenced", "the MAIN is fenced (" MGO_ANNOTATION_FENCED ")");
  else if (st->registering)
    set_skip(out, "RegistrationInProgress", "replicas are being registered: tested on the next pass");
  else if (st->replicas == 0)
    set_skip(out, "NoReplicas", "the cluster has no replica to read the canary back from");
}

struct val_schedule val_schedule(const struct val_schedule_input *in)
{
  struct val_schedule s = {VAL_RUN_NONE, 0};
  int64_t test_due = in->last_test_ms + (int64_t) in->test_interval_sec * 1000;
  int64_t last_any = in->last_lag_ms > in->last_test_ms ? in->last_lag_ms : in->last_test_ms;
  int64_t lag_due = last_any + (int64_t) in->lag_interval_sec * 1000;

  if (!in->enabled)
    return s;
  if (in->test_requested || in->last_test_ms <= 0 || in->now_ms >= test_due ||
      in->now_ms < in->last_test_ms /* the wall clock went back */) {
    s.run = VAL_RUN_TEST;
    return s;
  }
  if (in->now_ms >= lag_due || in->now_ms < last_any) {
    s.run = VAL_RUN_LAG;
    return s;
  }
  s.next_ms = lag_due < test_due ? lag_due : test_due;
  return s;
}

void val_summarize(const struct val_outcome *o, int32_t max_lag_ms, struct val_summary *out)
{
  const char *late = "";

  memset(out, 0, sizeof(*out));
  out->max_lag_ms = -1;
  for (size_t i = 0; i < o->n; i++) {
    const struct val_replica *r = &o->r[i];
    if (!r->seen) {
      if (late[0] == '\0')
        late = r->name;
      continue;
    }
    out->n_healthy++;
    if (r->lag_ms > out->max_lag_ms)
      out->max_lag_ms = r->lag_ms;
  }
  out->healthy = o->written && out->n_healthy == o->n;
  out->lag_ok = out->healthy && out->max_lag_ms <= max_lag_ms;
  if (!o->written)
    (void) mgo_snprintf(out->message, sizeof(out->message), "the canary write on the MAIN failed: %s",
                        o->write_error);
  else if (!out->healthy)
    (void) mgo_snprintf(out->message, sizeof(out->message),
                        "%zu/%zu replicas saw the canary within %lld ms (%s did not)", out->n_healthy, o->n,
                        (long long) o->deadline_ms, late);
  else
    (void) mgo_snprintf(out->message, sizeof(out->message),
                        "all %zu replicas saw the canary, max lag %lld ms", o->n,
                        (long long) out->max_lag_ms);
  if (out->lag_ok)
    (void) mgo_snprintf(out->lag_message, sizeof(out->lag_message), "replication lag %lld ms is within %d ms",
                        (long long) out->max_lag_ms, (int) max_lag_ms);
  else if (!out->healthy)
    (void) mgo_snprintf(out->lag_message, sizeof(out->lag_message), "lag unknown: %s", out->message);
  else
    (void) mgo_snprintf(out->lag_message, sizeof(out->lag_message),
                        "replication lag %lld ms is above %d ms (spec.validation.maxLagMs)",
                        (long long) out->max_lag_ms, (int) max_lag_ms);
}

static json_t *replica_json(const struct val_replica *r, const char *now)
{
  json_t *o = json_pack("{s:s, s:b, s:s}", "name", r->name, "healthy", r->seen, "lastTestTime", now);
  if (o == NULL)
    return NULL;
  if (r->seen)
    (void) json_object_set_new(o, "lagMs", json_integer(r->lag_ms));
  else
    (void) json_object_set_new(o, "message", json_string(r->error));
  return o;
}

/* The results of this run into block. */
static int add_run(json_t *block, const struct val_status_input *in)
{
  json_t *replicas = json_array();
  if (replicas == NULL)
    return -1;
  for (size_t i = 0; i < in->o->n; i++) {
    if (json_array_append_new(replicas, replica_json(&in->o->r[i], in->now)) != 0) {
      json_decref(replicas);
      return -1;
    }
  }
  (void) json_object_set_new(block, "replicas", replicas);
  (void) json_object_set_new(block, "allReplicasHealthy", json_boolean(in->s->healthy));
  (void) json_object_set_new(block, "message", json_string(in->s->message));
  if (in->s->max_lag_ms >= 0)
    (void) json_object_set_new(block, "replicationLagMs", json_integer(in->s->max_lag_ms));
  else
    (void) json_object_del(block, "replicationLagMs");
  (void) json_object_set_new(block, "lastConnectivityTest", json_string(in->now));
  if (in->run == VAL_RUN_TEST)
    (void) json_object_set_new(block, "lastReplicationTest", json_string(in->now));
  return 0;
}

json_t *val_build_status(const struct val_status_input *in)
{
  json_t *block = json_is_object(in->old) ? json_deep_copy(in->old) : json_object();

  if (block == NULL)
    return NULL;
  (void) json_object_del(block, "skipped");
  if (in->o != NULL && in->s != NULL && add_run(block, in) != 0) {
    json_decref(block);
    return NULL;
  }
  if (in->skip != NULL && in->skip->reason[0] != '\0')
    (void) json_object_set_new(
        block, "skipped", json_pack("{s:s, s:s}", "reason", in->skip->reason, "message", in->skip->message));
  return block;
}

/* name=healthy pairs of replicas[], in order, into dst. */
static void health_signature(const json_t *block, char *dst, size_t dstsz)
{
  const json_t *r;
  size_t i;
  char longer[512];

  dst[0] = '\0';
  json_array_foreach(json_object_get(block, "replicas"), i, r)
  {
    const char *name = json_string_value(json_object_get(r, "name"));
    (void) mgo_snprintf(longer, sizeof(longer), "%s%s=%d,", dst, name != NULL ? name : "",
                        json_is_true(json_object_get(r, "healthy")));
    (void) mgo_strlcpy(dst, longer, dstsz);
  }
}

static const char *skip_of(const json_t *block)
{
  const char *s = json_string_value(json_object_get(json_object_get(block, "skipped"), "reason"));
  return s != NULL ? s : "";
}

bool val_results_changed(const json_t *old, const json_t *now, bool lag_ok_before, bool lag_ok_now)
{
  char a[512], b[512];

  if (old == NULL)
    return true;
  health_signature(old, a, sizeof(a));
  health_signature(now, b, sizeof(b));
  return strcmp(a, b) != 0 || strcmp(skip_of(old), skip_of(now)) != 0 || lag_ok_before != lag_ok_now ||
         json_is_true(json_object_get(old, "allReplicasHealthy")) !=
             json_is_true(json_object_get(now, "allReplicasHealthy"));
}

unsigned val_events(bool was_healthy, bool was_lag_ok, const struct val_summary *now)
{
  unsigned ev = 0;
  if (now->healthy && !was_healthy)
    ev |= VAL_EVENT_PASSED;
  if (!now->healthy && was_healthy)
    ev |= VAL_EVENT_FAILED;
  if (now->healthy && !now->lag_ok && was_lag_ok)
    ev |= VAL_EVENT_HIGH_LAG;
  return ev;
}
