/* Executes a plan following the contract at the top of topology.h: in order; RECORD_MAIN is written
 * before any PROMOTE; the first failed Bolt action ends the pass (requeue with backoff; the next
 * observation decides, never the outcome); a role change ends with REQUEUE 0 (re-observe at once). */
#include "reconcile.h"

#include <string.h>

#include "metrics.h"
#include "mgo_clock.h"
#include "mg_rec.h"
#include "reseed.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "trace.h"

static struct rec_instance *instance_of(struct op_ctx *ctx, const char *pod)
{
  for (size_t i = 0; i < ctx->obs->n; i++) {
    if (strcmp(ctx->obs->inst[i].pod, pod) == 0)
      return &ctx->obs->inst[i];
  }
  return NULL;
}

/* After a registration is made or confirmed, the status records which pod incarnation it was for. */
static void record_registration(struct op_ctx *ctx, const struct rec_action *a)
{
  struct rec_instance *in = instance_of(ctx, a->replica_pod);
  if (in == NULL)
    return;
  (void) mgo_strlcpy(in->registered_pod_uid, a->replica_pod_uid, sizeof(in->registered_pod_uid));
  in->registered_restart_count = a->replica_restart_count;
}

static const char *success_reason(enum rec_action_type t)
{
  switch (t) {
  case REC_ACT_PROMOTE:
    return "Promoted";
  case REC_ACT_DEMOTE:
    return "Demoted";
  case REC_ACT_REGISTER:
    return "ReplicaRegistered";
  default:
    return "ReplicaDropped";
  }
}

static const char *action_name(enum rec_action_type t)
{
  switch (t) {
  case REC_ACT_PROMOTE:
    return "Promote";
  case REC_ACT_DEMOTE:
    return "Demote";
  case REC_ACT_REGISTER:
    return "Register";
  default:
    return "Drop";
  }
}

static int finish_main_change(struct op_ctx *ctx, const char *pod);

/* REGISTER, DROP and demotions only try Memgraph's replication-state lock, which every commit holds while it
 * replicates: under write load they fail now and then (mg_port.h failed_busy). Tried again within the pass
 * every OP_BUSY_RETRY_MS, at most OP_BUSY_TRIES times. A refused demotion of an instance that answers
 * REPLICA is done (its agent demoted it meanwhile). *tries receives how many were sent. */
#define OP_BUSY_RETRY_MS 20
#define OP_BUSY_TRIES 25

static bool demoted_meanwhile(struct op_ctx *ctx, void *conn, const struct rec_action *a)
{
  enum mgo_role role = MGO_ROLE_UNKNOWN;
  return a->type == REC_ACT_DEMOTE && ctx->mg->show_role(conn, &role) == MGO_OK && role == MGO_ROLE_REPLICA;
}

static int execute_retrying_busy(struct op_ctx *ctx, void *conn, const struct rec_action *a, int *tries)
{
  int rc = ctx->mg->execute(conn, a);
  for (*tries = 1; rc == MGO_EFAILURE && ctx->mg->failed_busy != NULL && ctx->mg->failed_busy(conn);
       (*tries)++) {
    if (*tries >= OP_BUSY_TRIES)
      break; /* before the role query, so the note keeps the refusal's text */
    if (demoted_meanwhile(ctx, conn, a))
      return MGO_OK;
    mgo_clock_sleep_ms(ctx->clock, OP_BUSY_RETRY_MS);
    op_count_bolt(ctx, a->pod, 1);
    rc = ctx->mg->execute(conn, a);
  }
  return rc;
}

static int bolt_action(struct op_ctx *ctx, const struct rec_action *a)
{
  char tries_text[16];
  int tries = 0;
  char cypher[1024], note[512];
  void *conn = op_conn_of(ctx->cs, a->pod);
  struct rec_instance *in = instance_of(ctx, a->pod);
  int rc = mg_rec_action_cypher(a, cypher, sizeof(cypher));

  bool sent = false;

  if (rc == MGO_OK && conn == NULL)
    rc = MGO_ECONNECT;
  if (rc == MGO_OK) {
    op_count_bolt(ctx, a->pod, 1);
    sent = true;
    rc = execute_retrying_busy(ctx, conn, a, &tries);
  }
  if (rc != MGO_OK) {
    (void) mgo_snprintf(note, sizeof(note), "%s on %s failed: %s", rec_action_type_name(a->type), a->pod,
                        sent ? ctx->mg->error(conn) : mgo_strerror(rc));
    (void) mgo_snprintf(tries_text, sizeof(tries_text), "%d", tries);
    mgo_log(MGO_LOG_WARN, "replication command failed", "cluster", ctx->key, "pod", a->pod, "action",
            rec_action_type_name(a->type), "replica", a->replica, "attempts", tries_text, "error", note,
            (char *) NULL);
    if (in != NULL)
      (void) mgo_strlcpy(in->last_error, note, sizeof(in->last_error));
    if (sent && a->type == REC_ACT_REGISTER && ctx->mg->failed_diverged != NULL &&
        ctx->mg->failed_diverged(conn))
      op_note_register_diverged(ctx->cs, a->replica_pod);
    if (a->type == REC_ACT_REGISTER)
      op_seed_register_failed(ctx);
    op_ctx_note(ctx, "%s", note);
    op_event(ctx, "Warning", "ReplicationCommandFailed", action_name(a->type), note);
    return rc;
  }
  (void) mgo_snprintf(tries_text, sizeof(tries_text), "%d", tries);
  mgo_log(MGO_LOG_INFO, "replication command done", "cluster", ctx->key, "pod", a->pod, "action",
          rec_action_type_name(a->type), "replica", a->replica, "reason", a->reason, "attempts", tries_text,
          "query", cypher, (char *) NULL);
  op_event(ctx, "Normal", success_reason(a->type), action_name(a->type), a->message);
  if (a->type == REC_ACT_REGISTER) {
    record_registration(ctx, a);
    op_note_registered(ctx->cs, a->replica_pod);
  }
  return MGO_OK;
}

static int label_pod(struct op_ctx *ctx, const struct rec_action *a)
{
  struct k8s_status st;
  json_t *patch = json_pack("{s:{s:o}}", "metadata", "labels", mgo_pod_role_labels(a->role, a->readable));
  int rc = patch == NULL ? MGO_ENOMEM : MGO_OK;

  k8s_status_clear(&st);
  if (rc == MGO_OK)
    rc = ctx->kube->merge_patch(ctx->kube->arg, &K8S_RES_PODS, ctx->ns, a->pod, NULL, patch, NULL, &st);
  json_decref(patch);
  if (rc == MGO_ENOTFOUND)
    return MGO_OK; /* the pod went away; the next observation sees it */
  if (rc != MGO_OK) {
    op_ctx_note(ctx, "label %s: %s (%ld %s)", a->pod, mgo_errname(rc), st.code, st.message);
    return rc;
  }
  if (strcmp(a->reason, "SwitchoverFence") == 0)
    ctx->cs->fenced_at_ms =
        mgo_clock_mono_ms(ctx->clock); /* writes stop being routed to the MAIN from here */
  mgo_log(MGO_LOG_INFO, "pod labelled", "cluster", ctx->key, "pod", a->pod, "role", mgo_role_name(a->role),
          "readable", a->readable ? "true" : "false", "reason", a->reason, (char *) NULL);
  if (a->role == MGO_ROLE_MAIN)
    return finish_main_change(ctx, a->pod); /* writes are served again from here */
  return MGO_OK;
}

/* Remembers a failover or switchover until its PROMOTE succeeds. */
static void begin_main_change(struct op_ctx *ctx, const struct rec_action *a)
{
  struct op_main_change *ch = &ctx->cs->change;
  bool same = ch->pending && strcmp(ch->to, a->pod) == 0;
  if (a->kind[0] == '\0')
    return;
  ch->pending = true;
  (void) mgo_strlcpy(ch->kind, a->kind, sizeof(ch->kind));
  (void) mgo_strlcpy(ch->from, a->from, sizeof(ch->from));
  (void) mgo_strlcpy(ch->to, a->pod, sizeof(ch->to));
  (void) mgo_strlcpy(ch->reason, a->reason, sizeof(ch->reason));
  ch->mode = a->mode;
  ch->behind = a->behind;
  if (same)
    return; /* a retried PROMOTE: writes have been unavailable since the first attempt */
  if (strcmp(a->kind, "failover") == 0 && ctx->cs->main_down_since_ms != 0)
    ch->unavailable_since_ms = ctx->cs->main_down_since_ms;
  else if (strcmp(a->kind, "failover") != 0 && ctx->cs->fenced_at_ms != 0)
    ch->unavailable_since_ms = ctx->cs->fenced_at_ms;
  else
    ch->unavailable_since_ms = mgo_clock_mono_ms(ctx->clock);
  op_format_mono_ms(ctx->clock, ch->unavailable_since_ms, ch->unavailable_since,
                    sizeof(ch->unavailable_since));
}

/* A change an earlier operator process recorded (status.lastFailover without writeUnavailableMs) and did not
 * see through: taken up again so the promotion that completes it is reported like any other. */
static void resume_main_change(struct op_ctx *ctx, const char *promoted)
{
  struct op_main_change *ch = &ctx->cs->change;
  const json_t *lf = json_object_get(json_object_get(ctx->obj, "status"), "lastFailover");
  const char *to = json_string_value(json_object_get(lf, "to"));
  const char *kind = json_string_value(json_object_get(lf, "kind"));
  const char *from = json_string_value(json_object_get(lf, "from"));
  const char *reason = json_string_value(json_object_get(lf, "reason"));
  const char *since = json_string_value(json_object_get(lf, "writesUnavailableSince"));
  /* ch->to set: this process already saw a change through (a stale cache may still show it unfinished) */
  if (ch->pending || ch->to[0] != '\0' || to == NULL || strcmp(to, promoted) != 0 || kind == NULL ||
      json_is_integer(json_object_get(lf, "writeUnavailableMs")))
    return;
  memset(ch, 0, sizeof(*ch));
  ch->pending = true;
  (void) mgo_strlcpy(ch->kind, kind, sizeof(ch->kind));
  (void) mgo_strlcpy(ch->from, from != NULL ? from : "", sizeof(ch->from));
  (void) mgo_strlcpy(ch->to, to, sizeof(ch->to));
  (void) mgo_strlcpy(ch->reason, reason != NULL ? reason : "", sizeof(ch->reason));
  ch->mode = mgo_repl_mode_named(json_string_value(json_object_get(lf, "mode")));
  ch->behind = json_integer_value(json_object_get(lf, "behind"));
  if (op_mono_from_rfc3339(ctx->clock, since, &ch->unavailable_since_ms) == MGO_OK)
    (void) mgo_strlcpy(ch->unavailable_since, since, sizeof(ch->unavailable_since));
  else if (op_mono_from_rfc3339(ctx->clock, json_string_value(json_object_get(lf, "time")),
                                &ch->unavailable_since_ms) != MGO_OK)
    ch->unavailable_since_ms = mgo_clock_mono_ms(ctx->clock);
  if (ch->unavailable_since[0] == '\0')
    op_format_mono_ms(ctx->clock, ch->unavailable_since_ms, ch->unavailable_since,
                      sizeof(ch->unavailable_since));
  mgo_log(MGO_LOG_INFO, "resuming a recorded MAIN change", "cluster", ctx->key, "kind", ch->kind, "from",
          ch->from, "to", ch->to, (char *) NULL);
}

/* The new MAIN is labelled into the write Service: the change is complete and reported. MGO_OK, or the
 * error of the lastFailover write (the change is reported all the same). */
static int finish_main_change(struct op_ctx *ctx, const char *pod)
{
  struct op_main_change *ch = &ctx->cs->change;
  char labels[MGO_METRIC_LABELS_MAX], msg[512];
  int64_t unavailable;
  int rc;
  resume_main_change(ctx, pod);
  if (!ch->pending || strcmp(ch->to, pod) != 0)
    return MGO_OK;
  ch->pending = false;
  ctx->cs->fenced_at_ms = 0;
  unavailable = mgo_clock_mono_ms(ctx->clock) - ch->unavailable_since_ms;
  (void) mgo_snprintf(msg, sizeof(msg),
                      "%s completed: %s is MAIN instead of %s (%s); writes unavailable for %lld ms; the "
                      "promoted %s replica was %lld behind",
                      ch->kind, ch->to, ch->from, ch->reason, (long long) unavailable,
                      mgo_repl_mode_name(ch->mode), (long long) ch->behind);
  mgo_log(MGO_LOG_INFO, "MAIN changed", "cluster", ctx->key, "kind", ch->kind, "from", ch->from, "to", ch->to,
          "detail", msg, (char *) NULL);
  /* The Event before the record: an operator killed between the two resumes the change from the record
   * and reports it again (at least once; the other order lost the Event: e2e, a kill at that instant). */
  op_event(ctx, "Normal", strcmp(ch->kind, "failover") == 0 ? "FailoverCompleted" : "SwitchoverCompleted",
           "Promote", msg);
  rc = op_write_last_failover(ctx, ch, unavailable);
  if (rc != MGO_OK)
    mgo_log(MGO_LOG_WARN, "cannot record lastFailover", "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, "kind", ch->kind, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->failovers, labels, 1);
  (void) mgo_metric_observe(ctx->metrics->failover_duration, labels, (double) unavailable / 1000.0);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->failover_lost, labels, (double) ch->behind);
  op_seed_main_change(ctx, ch, unavailable);
  return rc;
}

static int record_main(struct op_ctx *ctx, const struct rec_action *a)
{
  struct op_main_change previous = ctx->cs->change;
  int rc;
  begin_main_change(ctx, a);
  rc = op_write_current_main(ctx, a->pod, a->fenced, a->kind[0] != '\0' ? &ctx->cs->change : NULL);
  if (rc != MGO_OK) {
    ctx->cs->change = previous; /* not recorded: the next pass decides again */
    return rc;
  }
  (void) mgo_strlcpy(ctx->c.recorded_main, a->pod, sizeof(ctx->c.recorded_main));
  mgo_log(MGO_LOG_INFO, "MAIN recorded", "cluster", ctx->key, "pod", a->pod, "reason", a->reason, "detail",
          a->message, (char *) NULL);
  op_event(ctx, "Normal", a->reason, "RecordMain", a->message);
  return MGO_OK;
}

/* Counts a re-seed of pod for the rate limit; a repeat within the window raises ReseedRepeated. */
static void note_reseed(struct op_ctx *ctx, const char *pod)
{
  struct op_conn *s = NULL;
  int64_t now = mgo_clock_mono_ms(ctx->clock);
  char msg[256];
  for (size_t i = 0; i < ctx->cs->nconns && s == NULL; i++)
    s = strcmp(ctx->cs->conns[i].pod, pod) == 0 ? &ctx->cs->conns[i] : NULL;
  if (s == NULL)
    return;
  s->reseeds = op_reseed_in_window(s->reseed_at_ms, now) ? s->reseeds + 1 : 1;
  s->reseed_at_ms = now;
  s->reseed_wall_ms = mgo_clock_wall_ms(ctx->clock);
  if (s->reseeds < 2)
    return;
  (void) mgo_snprintf(msg, sizeof(msg),
                      "%s re-seeded %d times within %d min; the next re-seed waits %lld s (a client may be "
                      "writing to it directly)",
                      pod, (int) s->reseeds, OP_RESEED_WINDOW_MS / 60000,
                      (long long) (op_reseed_gap_ms(s->reseeds) / 1000));
  op_event(ctx, "Warning", "ReseedRepeated", "Reseed", msg);
}

/* A diverged replica: the agent of its next pod wipes the data (op_reseed.h); the pod is deleted now. */
static int reseed(struct op_ctx *ctx, const struct rec_action *a)
{
  struct k8s_status st;
  bool deleted = false;
  char labels[MGO_METRIC_LABELS_MAX];
  int rc;
  k8s_status_clear(&st);
  rc = op_reseed_request(ctx->kube, &ctx->c, a->replica_pod, a->replica_pod_uid, &deleted, &st);
  if (rc != MGO_OK) {
    op_ctx_note(ctx, "re-seed %s: %s (%ld %s)", a->replica_pod, mgo_errname(rc), st.code, st.message);
    return rc;
  }
  if (!deleted)
    return MGO_OK; /* that incarnation is already gone: the next observation sees the new one */
  mgo_log(MGO_LOG_WARN, "re-seeding a diverged replica", "cluster", ctx->key, "pod", a->replica_pod, "uid",
          a->replica_pod_uid, (char *) NULL);
  op_event(ctx, "Warning", "ReplicaReseeded", "Reseed", a->message);
  note_reseed(ctx, a->replica_pod);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->reseeds, labels, 1);
  return MGO_OK;
}

/* Rolling update: one pod incarnation deleted (UID precondition) so the StatefulSet recreates it. */
static int delete_pod(struct op_ctx *ctx, const struct rec_action *a)
{
  struct k8s_status st;
  struct k8s_delete_opts opts = {.precondition_uid = a->replica_pod_uid};
  char labels[MGO_METRIC_LABELS_MAX];
  int rc;

  k8s_status_clear(&st);
  rc = ctx->kube->delete_object(ctx->kube->arg, &K8S_RES_PODS, ctx->ns, a->pod, &opts, &st);
  if (rc == MGO_ENOTFOUND || rc == MGO_ECONFLICT)
    return MGO_OK; /* that incarnation is already gone */
  if (rc != MGO_OK) {
    op_ctx_note(ctx, "delete pod %s: %s (%ld %s)", a->pod, mgo_errname(rc), st.code, st.message);
    return rc;
  }
  mgo_log(MGO_LOG_INFO, "pod deleted for the rolling update", "cluster", ctx->key, "pod", a->pod, "reason",
          a->reason, (char *) NULL);
  op_event(ctx, "Normal", "PodUpdated", "RollingUpdate", a->message);
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->pod_restarts, labels, 1);
  return MGO_OK;
}

/* The failover's fence: the replaced MAIN's pod deleted with grace period 0 (that incarnation only). Its
 * process ends and its kept connections are reset; the pod comes back fenced. Best effort: a failure is
 * reported (Event, log) and the failover goes on, since the promotion is what restores writes. */
static int kill_pod(struct op_ctx *ctx, const struct rec_action *a)
{
  struct k8s_status st;
  struct k8s_delete_opts opts = {
      .precondition_uid = a->replica_pod_uid, .has_grace_period = true, .grace_period_seconds = 0};
  char msg[320];
  int rc;

  k8s_status_clear(&st);
  rc = ctx->kube->delete_object(ctx->kube->arg, &K8S_RES_PODS, ctx->ns, a->pod, &opts, &st);
  if (rc == MGO_OK || rc == MGO_ENOTFOUND || rc == MGO_ECONFLICT) {
    mgo_log(MGO_LOG_WARN, "replaced MAIN fenced: pod deleted with grace period 0", "cluster", ctx->key, "pod",
            a->pod, "outcome", rc == MGO_OK ? "deleted" : "already gone", (char *) NULL);
    (void) mgo_snprintf(msg, sizeof(msg),
                        "%s deleted with grace period 0 so the replaced MAIN acknowledges no more writes and "
                        "its clients' connections break; it comes back as a REPLICA",
                        a->pod);
    op_event(ctx, "Warning", "MainFenced", "Failover", msg);
    return MGO_OK;
  }
  mgo_log(MGO_LOG_WARN, "could not fence the replaced MAIN (failover goes on)", "cluster", ctx->key, "pod",
          a->pod, "error", mgo_errname(rc), "detail", st.message, (char *) NULL);
  (void) mgo_snprintf(msg, sizeof(msg), "could not delete %s (%s: %s); the failover goes on", a->pod,
                      mgo_errname(rc), st.message);
  op_event(ctx, "Warning", "FenceFailed", "Failover", msg);
  return MGO_OK;
}

/* One action; MGO_OK to go on with the next. */
static int run_action(struct op_ctx *ctx, const struct rec_action *a)
{
  switch (a->type) {
  case REC_ACT_STOP:
    mgo_log(MGO_LOG_WARN, "unsafe situation, acting no further", "cluster", ctx->key, "reason", a->reason,
            "detail", a->message, (char *) NULL);
    return MGO_OK;
  case REC_ACT_EVENT:
    op_event(ctx, "Warning", a->reason, "Decide", a->message);
    return MGO_OK;
  case REC_ACT_RECORD_MAIN:
    return record_main(ctx, a);
  case REC_ACT_PROMOTE:
  case REC_ACT_DEMOTE:
  case REC_ACT_REGISTER:
  case REC_ACT_DROP:
    return bolt_action(ctx, a);
  case REC_ACT_RECORD_REGISTRATION:
    record_registration(ctx, a);
    return MGO_OK;
  case REC_ACT_RESEED:
    return reseed(ctx, a);
  case REC_ACT_DELETE_POD:
    return delete_pod(ctx, a);
  case REC_ACT_KILL_POD:
    return kill_pod(ctx, a);
  case REC_ACT_LABEL:
    return label_pod(ctx, a);
  default:
    return MGO_OK; /* REQUEUE: op_step_act asks for the plan's delay; CONDITION, PHASE: the status step */
  }
}

/* An earlier process promoted and labelled the recorded MAIN but died before reporting it: report it now. */
static int complete_recorded_change(struct op_ctx *ctx)
{
  const struct rec_instance *m = instance_of(ctx, ctx->c.recorded_main);
  if (m != NULL && m->reachable && m->role == MGO_ROLE_MAIN && m->label_role == MGO_ROLE_MAIN)
    return finish_main_change(ctx, m->pod);
  return MGO_OK;
}

/* The delay the plan asks for (its REQUEUE action), or none. */
static long plan_delay(const struct rec_plan *plan)
{
  long after = OP_AFTER_NONE;
  for (size_t i = 0; i < plan->n; i++) {
    if (plan->a[i].type == REC_ACT_REQUEUE)
      after = (long) plan->a[i].after_sec * 1000;
  }
  return after;
}

static void count_multiple_mains(struct op_ctx *ctx)
{
  char labels[MGO_METRIC_LABELS_MAX];
  (void) mgo_metric_labels(labels, sizeof(labels), "cluster", ctx->key, (char *) NULL);
  (void) mgo_metric_add(ctx->metrics->multiple_mains, labels, 1);
}

/* The failover or switchover this plan carries out (its RECORD_MAIN names it) as a span around the actions,
 * with its decision: from, to, reason, behind (docs/tracing.md). NULL when the plan changes no MAIN. */
static struct mgo_span *main_change_span(const struct op_ctx *ctx)
{
  for (size_t i = 0; i < ctx->plan->n; i++) {
    const struct rec_action *a = &ctx->plan->a[i];
    struct mgo_span *span;
    if (a->type != REC_ACT_RECORD_MAIN || a->kind[0] == '\0')
      continue;
    span = mgo_span_child(a->kind, MGO_SPAN_INTERNAL);
    mgo_span_set_str(span, "cluster", ctx->key);
    mgo_span_set_str(span, "from", a->from);
    mgo_span_set_str(span, "to", a->pod);
    mgo_span_set_str(span, "reason", a->reason);
    mgo_span_set_int(span, "behind", a->behind);
    mgo_span_set_str(span, "mode", mgo_repl_mode_name(a->mode));
    return span;
  }
  return NULL;
}

static struct op_result act(struct op_ctx *ctx);

struct op_result op_step_act(struct op_ctx *ctx)
{
  struct mgo_span *span = main_change_span(ctx);
  struct op_result r = act(ctx);
  if (r.error != MGO_OK)
    mgo_span_set_error(span, "%s", ctx->error[0] != '\0' ? ctx->error : mgo_errname(r.error));
  mgo_span_end(span);
  return r;
}

static struct op_result act(struct op_ctx *ctx)
{
  bool dropped = false;
  int rc;
  if (ctx->plan->multiple_mains)
    count_multiple_mains(ctx);
  op_seed_multiple_mains(ctx, ctx->plan->multiple_mains);
  for (size_t i = 0; i < ctx->plan->n; i++) {
    if (!ctx->kube->may_act(ctx->kube->arg)) {
      op_ctx_note(ctx, "not acting: leadership lost or shutting down");
      return (struct op_result){OP_STOP, OP_AFTER_NONE, MGO_ECANCELED};
    }
    rc = run_action(ctx, &ctx->plan->a[i]);
    if (rc != MGO_OK)
      return op_error(rc);
    dropped = dropped || ctx->plan->a[i].type == REC_ACT_DROP;
  }
  rc = complete_recorded_change(ctx);
  if (rc != MGO_OK)
    return op_error(rc);
  if (dropped && ctx->plan->allowed_pods > ctx->c.spec.instances)
    return op_ok_after(0); /* scale-down waits for drops: re-observe now so the StatefulSet shrinks */
  return op_ok_after(plan_delay(ctx->plan));
}
