/* The validate step: the replication canary (docs/validation.md). When a test or a lag measurement is due
 * and nothing blocks it (validate.h: val_skip_reason), it writes the canary node's next sequence number on
 * the MAIN, reads it back on every replica until each has seen it or the deadline passed, and leaves the
 * outcome in ctx->validation / ctx->validation_lag (the status step writes them), the metrics and Events.
 * A canary that a user deleted or edited is written anew, with an Event. Connectivity is the health pass's
 * own SHOW REPLICATION ROLE (conditions WriteConnectivity/ReadConnectivity from the decision). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "reconcile.h"
#include "validate.h"

#define READBACK_MIN_MS 1000
#define READBACK_MAX_MS 10000
#define POLL_FIRST_MS 1
#define POLL_MAX_MS 50

static bool plan_condition_true(const struct rec_plan *p, const char *type)
{
  for (size_t i = 0; i < p->n; i++)
    if (p->a[i].type == REC_ACT_CONDITION && strcmp(p->a[i].cond_type, type) == 0)
      return p->a[i].cond_status == REC_COND_TRUE;
  return false;
}

/* Instances the canary is read back on: every observed pod of the spec besides the MAIN. */
static bool is_replica(const struct op_ctx *ctx, const struct rec_instance *in)
{
  return in->pod_exists && !in->pod_terminating && in->ordinal < ctx->c.spec.instances &&
         strcmp(in->pod, ctx->plan->main_pod) != 0;
}

static size_t count_replicas(const struct op_ctx *ctx)
{
  size_t n = 0;
  for (size_t i = 0; i < ctx->obs->n; i++)
    n += is_replica(ctx, &ctx->obs->inst[i]);
  return n;
}

static void state_of(const struct op_ctx *ctx, struct val_state *st)
{
  *st = (struct val_state){
      .hibernated = ctx->c.ops.hibernate,
      .stopped = ctx->plan->stopped,
      .main_change = ctx->cs->change.pending || rec_plan_has(ctx->plan, REC_ACT_PROMOTE) ||
                     rec_plan_has(ctx->plan, REC_ACT_DEMOTE),
      .main_available =
          plan_condition_true(ctx->plan, "MainAvailable") && rec_plan_main(ctx->obs, ctx->plan) != NULL,
      .main_fenced = mgo_cluster_instance_fenced(&ctx->c, ctx->plan->main_pod),
      .registering = rec_plan_has(ctx->plan, REC_ACT_REGISTER) || rec_plan_has(ctx->plan, REC_ACT_DROP),
      .replicas = count_replicas(ctx),
      .main_pod = ctx->plan->main_pod,
  };
}

static const json_t *old_validation(const struct op_ctx *ctx)
{
  return json_object_get(json_object_get(ctx->obj, "status"), "validation");
}

static int64_t last_test_ms(const struct op_ctx *ctx)
{
  int64_t ms = 0;
  const char *t = json_string_value(json_object_get(old_validation(ctx), "lastReplicationTest"));
  return t != NULL && mgo_time_parse_rfc3339(t, &ms) == MGO_OK ? ms : 0;
}

static int64_t readback_deadline_ms(const struct mgo_cluster *c)
{
  int64_t d = 2 * (int64_t) c->spec.validation.max_lag_ms;
  return d < READBACK_MIN_MS ? READBACK_MIN_MS : d > READBACK_MAX_MS ? READBACK_MAX_MS : d;
}

/* ---- the canary write on the MAIN ------------------------------------------------------------------ */

/* Why the node found on the MAIN is not the operator's ("" when it is, or when there was none yet). */
static void check_found(const struct op_ctx *ctx, const struct mgo_mg_canary *found, char *why, size_t whysz)
{
  const struct op_validation *v = &ctx->cs->val;
  /* After a MAIN change the new MAIN may lack the last write (ASYNC): not an edit. */
  bool same_main = v->seq_known && strcmp(v->main, ctx->plan->main_pod) == 0;
  why[0] = '\0';
  if (found->nodes == 0 && (same_main || (!v->seq_known && last_test_ms(ctx) > 0)))
    (void) mgo_strlcpy(why, "the canary node was deleted", whysz);
  else if (found->nodes > 1)
    (void) mgo_strlcpy(why, "more than one node carries the canary label", whysz);
  else if (found->nodes == 1 && !found->well_formed)
    (void) mgo_strlcpy(why, "the canary node was edited (other properties or labels)", whysz);
  else if (found->nodes == 1 && found->seq == INT64_MAX)
    (void) mgo_strlcpy(why, "the canary node's sequence number is at its maximum", whysz);
  else if (found->nodes == 1 && same_main && found->seq != v->seq)
    (void) mgo_strlcpy(why, "the canary node's sequence number was changed", whysz);
}

/* Reads the node on the MAIN, then writes the next sequence number; fills o->written/recreated. */
static int64_t write_canary(struct op_ctx *ctx, struct mgo_mg_conn *conn, struct val_outcome *o)
{
  struct mgo_mg_canary found;
  struct op_validation *v = &ctx->cs->val;
  int64_t seq;
  int rc = ctx->mg->canary_read(conn, &found);

  op_count_bolt(ctx, ctx->plan->main_pod, 1);
  if (rc != MGO_OK) {
    (void) mgo_snprintf(o->write_error, sizeof(o->write_error), "reading it: %s", ctx->mg->error(conn));
    return -1;
  }
  check_found(ctx, &found, o->recreate_why, sizeof(o->recreate_why));
  o->recreated = o->recreate_why[0] != '\0';
  seq = o->recreated ? 1 : (found.well_formed && found.seq > v->seq ? found.seq : v->seq) + 1;
  rc = ctx->mg->canary_write(conn, seq, mgo_clock_wall_ms(ctx->clock), o->recreated);
  op_count_bolt(ctx, ctx->plan->main_pod, o->recreated ? 2 : 1);
  if (rc != MGO_OK) {
    (void) mgo_snprintf(o->write_error, sizeof(o->write_error), "%s", ctx->mg->error(conn));
    v->seq_known = false; /* it may or may not have committed */
    return -1;
  }
  o->written = true;
  v->seq = seq;
  v->seq_known = true;
  (void) mgo_strlcpy(v->main, ctx->plan->main_pod, sizeof(v->main));
  return seq;
}

/* ---- the read-backs on the replicas ---------------------------------------------------------------- */

struct readback {
  struct mgo_mg_conn *conn; /* NULL: not read (o->r[i].error says why) */
  bool done;
};

/* The MAIN lists pod in SHOW REPLICAS. */
static bool registered(const struct rec_instance *main, const char *pod)
{
  char name[MGO_NAME_MAX];
  if (main == NULL || mgo_replica_name(pod, name, sizeof(name)) != MGO_OK)
    return false;
  for (size_t i = 0; i < main->n_registrations; i++)
    if (strcmp(main->registrations[i].name, name) == 0)
      return true;
  return false;
}

/* The replicas to read back, with their connections. */
static void list_replicas(struct op_ctx *ctx, struct val_outcome *o, struct readback *rb)
{
  const struct rec_instance *main = rec_plan_main(ctx->obs, ctx->plan);
  for (size_t i = 0; i < ctx->obs->n && o->n < MGO_MAX_INSTANCES; i++) {
    const struct rec_instance *in = &ctx->obs->inst[i];
    struct val_replica *r = &o->r[o->n];
    struct mgo_mg_conn *conn = op_conn_of(ctx->cs, in->pod);
    if (!is_replica(ctx, in))
      continue;
    memset(r, 0, sizeof(*r));
    (void) mgo_strlcpy(r->name, in->pod, sizeof(r->name));
    rb[o->n].conn = in->reachable && conn != NULL && ctx->mg->usable(conn) ? conn : NULL;
    rb[o->n].done = rb[o->n].conn == NULL;
    if (rb[o->n].conn == NULL)
      (void) mgo_snprintf(r->error, sizeof(r->error), "not reachable: %s",
                          in->last_error[0] != '\0' ? in->last_error : "no answer this pass");
    else if (!registered(main, in->pod)) {
      (void) mgo_strlcpy(r->error, "not registered on the MAIN", sizeof(r->error));
      rb[o->n].done = true;
    }
    o->n++;
  }
}

/* One read of replica i; true when it is finished (seen, or failed). */
static bool read_once(struct op_ctx *ctx, struct val_replica *r, struct readback *rb, int64_t seq,
                      int64_t acked_ms)
{
  struct mgo_mg_canary got;
  int rc = ctx->mg->canary_read(rb->conn, &got);

  op_count_bolt(ctx, r->name, 1);
  if (rc != MGO_OK) {
    (void) mgo_snprintf(r->error, sizeof(r->error), "reading the canary: %s", ctx->mg->error(rb->conn));
    return true;
  }
  if (got.nodes >= 1 && got.seq >= seq) {
    r->seen = true;
    r->lag_ms = mgo_clock_mono_ms(ctx->clock) - acked_ms;
    return true;
  }
  return false;
}

/* Reads every replica in rounds until each saw seq or the deadline passed (a round trip per replica and
 * round: the lag's resolution). */
static void read_back(struct op_ctx *ctx, struct val_outcome *o, struct readback *rb, int64_t seq,
                      int64_t acked_ms)
{
  long wait = POLL_FIRST_MS;
  size_t pending = 0;
  int64_t deadline = acked_ms + o->deadline_ms;

  for (size_t i = 0; i < o->n; i++)
    pending += !rb[i].done;
  while (pending > 0) {
    for (size_t i = 0; i < o->n; i++) {
      if (!rb[i].done && read_once(ctx, &o->r[i], &rb[i], seq, acked_ms)) {
        rb[i].done = true;
        pending--;
      }
    }
    if (pending == 0 || mgo_clock_mono_ms(ctx->clock) + wait > deadline)
      break;
    mgo_clock_sleep_ms(ctx->clock, wait);
    wait = wait * 2 > POLL_MAX_MS ? POLL_MAX_MS : wait * 2;
  }
  for (size_t i = 0; i < o->n; i++)
    if (!rb[i].done)
      (void) mgo_snprintf(o->r[i].error, sizeof(o->r[i].error), "did not see the canary within %lld ms",
                          (long long) o->deadline_ms);
}

/* ---- recording the outcome ------------------------------------------------------------------------- */

static bool old_lag_ok(const struct op_ctx *ctx)
{
  const json_t *c = op_status_condition(json_object_get(ctx->obj, "status"), "ReplicationLagAcceptable");
  const char *s = json_string_value(json_object_get(c, "status"));
  return s == NULL || strcmp(s, "False") != 0;
}

static bool old_healthy(const struct op_ctx *ctx)
{
  const json_t *h = json_object_get(old_validation(ctx), "allReplicasHealthy");
  return h == NULL || json_is_true(h);
}

static void raise_events(struct op_ctx *ctx, const struct val_outcome *o, const struct val_summary *s)
{
  unsigned ev = val_events(old_healthy(ctx), old_lag_ok(ctx), s);
  if (o->recreated)
    op_event(ctx, "Warning", "CanaryRecreated", "Validate", o->recreate_why);
  if (ev & VAL_EVENT_PASSED)
    op_event(ctx, "Normal", "ReplicationTestPassed", "Validate", s->message);
  if (ev & VAL_EVENT_FAILED)
    op_event(ctx, "Warning", "ReplicationTestFailed", "Validate", s->message);
  if (ev & VAL_EVENT_HIGH_LAG)
    op_event(ctx, "Warning", "HighReplicationLag", "Validate", s->lag_message);
}

/* ctx->validation(_lag) when a test ran, or when a lag measurement changed what a reader acts on. */
static void record(struct op_ctx *ctx, enum val_run run, const struct val_outcome *o,
                   const struct val_summary *s, const struct val_skip *skip)
{
  char now[40];
  json_t *block;
  struct val_status_input in;

  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  in = (struct val_status_input){o, s, skip, run, now, old_validation(ctx)};
  block = val_build_status(&in);
  if (block == NULL)
    return;
  if (run != VAL_RUN_TEST &&
      !val_results_changed(in.old, block, old_lag_ok(ctx), s != NULL ? s->lag_ok : old_lag_ok(ctx))) {
    json_decref(block);
    return;
  }
  json_decref(ctx->validation);
  ctx->validation = block;
  if (s != NULL) {
    json_decref(ctx->validation_lag);
    ctx->validation_lag = json_pack("{s:s, s:s, s:s, s:s}", "type", "ReplicationLagAcceptable", "status",
                                    s->lag_ok ? "True" : "False", "reason",
                                    s->lag_ok    ? "LagWithinThreshold"
                                    : s->healthy ? "HighReplicationLag"
                                                 : "ReplicationTestFailed",
                                    "message", s->lag_message);
  }
}

static void run_canary(struct op_ctx *ctx, enum val_run run)
{
  struct val_outcome *o = calloc(1, sizeof(*o));
  struct readback rb[MGO_MAX_INSTANCES] = {{NULL, true}};
  struct val_summary s;
  struct mgo_mg_conn *main_conn = op_conn_of(ctx->cs, ctx->plan->main_pod);
  int64_t started = mgo_clock_mono_ms(ctx->clock), seq = -1;

  if (o == NULL)
    return;
  o->deadline_ms = readback_deadline_ms(&ctx->c);
  list_replicas(ctx, o, rb);
  if (main_conn == NULL || !ctx->mg->usable(main_conn))
    (void) mgo_strlcpy(o->write_error, "no open connection to the MAIN", sizeof(o->write_error));
  else
    seq = write_canary(ctx, main_conn, o);
  if (seq >= 0)
    read_back(ctx, o, rb, seq, mgo_clock_mono_ms(ctx->clock));
  val_summarize(o, ctx->c.spec.validation.max_lag_ms, &s);
  ctx->cs->val.last_run_ms = mgo_clock_wall_ms(ctx->clock);
  if (run == VAL_RUN_TEST)
    ctx->cs->val.test_requested = false;
  op_seed_validation(ctx, o, &s, (double) (mgo_clock_mono_ms(ctx->clock) - started) / 1000.0);
  raise_events(ctx, o, &s);
  record(ctx, run, o, &s, NULL);
  if (!s.healthy)
    mgo_log(MGO_LOG_WARN, "replication test failed", "cluster", ctx->key, "detail", s.message, (char *) NULL);
  free(o);
}

struct op_result op_step_validate(struct op_ctx *ctx)
{
  struct val_state st;
  struct val_skip skip;
  struct val_schedule due;
  int64_t now;

  if (!ctx->parsed || ctx->obs == NULL || ctx->plan == NULL || !ctx->kube->may_act(ctx->kube->arg) ||
      ctx->mg->canary_read == NULL || ctx->mg->canary_write == NULL)
    return op_ok();
  if (rec_plan_has(ctx->plan, REC_ACT_REGISTER))
    ctx->cs->val.test_requested = true;
  now = mgo_clock_wall_ms(ctx->clock);
  due = val_schedule(&(struct val_schedule_input){
      .enabled = ctx->c.spec.validation.canary_enabled,
      .now_ms = now,
      .last_test_ms = last_test_ms(ctx),
      .last_lag_ms = ctx->cs->val.last_run_ms,
      .test_interval_sec = ctx->c.spec.validation.canary_interval_sec,
      .lag_interval_sec = ctx->c.spec.validation.canary_lag_interval_sec,
      .test_requested = ctx->cs->val.test_requested,
  });
  if (!ctx->c.spec.validation.canary_enabled) {
    struct val_skip off = {"Disabled", "spec.validation.canary.enabled is false"};
    record(ctx, VAL_RUN_NONE, NULL, NULL, &off);
    return op_ok();
  }
  if (due.run == VAL_RUN_NONE)
    return due.next_ms > now ? op_ok_after((long) (due.next_ms - now)) : op_ok();
  state_of(ctx, &st);
  val_skip_reason(&st, &skip);
  if (skip.reason[0] != '\0') {
    record(ctx, VAL_RUN_NONE, NULL, NULL, &skip);
    return op_ok();
  }
  run_canary(ctx, due.run);
  return op_ok_after((long) ctx->c.spec.validation.canary_lag_interval_sec * 1000);
}
