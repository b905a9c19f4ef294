/* Observation: the Kubernetes half from the pod cache (pure), the Memgraph half over Bolt through
 * struct mgo_mg_ops, with one connection per pod reused across reconciles. */
#include "reconcile.h"
#include "reseed.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "k8s_config.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

/* ---- Kubernetes half (pure) ------------------------------------------------------------------------ */

static const json_t *find_pod_json(const json_t *pods, const char *name)
{
  size_t i;
  const json_t *pod;
  json_array_foreach(pods, i, pod)
  {
    const char *n = json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
    if (n != NULL && strcmp(n, name) == 0)
      return pod;
  }
  return NULL;
}

const char *op_pod_ip(const json_t *pods, const char *pod)
{
  const char *ip =
      json_string_value(json_object_get(json_object_get(find_pod_json(pods, pod), "status"), "podIP"));
  return ip != NULL && ip[0] != '\0' ? ip : NULL;
}

static bool pod_is_ready(const json_t *pod)
{
  size_t i;
  const json_t *cond;
  json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, cond)
  {
    const char *type = json_string_value(json_object_get(cond, "type"));
    const char *status = json_string_value(json_object_get(cond, "status"));
    if (type != NULL && status != NULL && strcmp(type, "Ready") == 0)
      return strcmp(status, "True") == 0;
  }
  return false;
}

static const json_t *memgraph_container_status(const json_t *pod)
{
  size_t i;
  const json_t *cs;
  json_array_foreach(json_object_get(json_object_get(pod, "status"), "containerStatuses"), i, cs)
  {
    const char *name = json_string_value(json_object_get(cs, "name"));
    if (name != NULL && strcmp(name, "memgraph") == 0)
      return cs;
  }
  return NULL;
}

static int32_t memgraph_restarts(const json_t *pod)
{
  return (int32_t) json_integer_value(json_object_get(memgraph_container_status(pod), "restartCount"));
}

/* The memgraph container has run and is not running now (terminated, or waiting to be restarted after it
 * ended: lastState.terminated). A container that never started (creating, init steps) is not "ended". */
static bool memgraph_ended(const json_t *pod)
{
  const json_t *cs = memgraph_container_status(pod), *state = json_object_get(cs, "state");
  if (cs == NULL || json_object_get(state, "running") != NULL)
    return false;
  return json_object_get(state, "terminated") != NULL ||
         json_object_get(json_object_get(cs, "lastState"), "terminated") != NULL;
}

/* "recovering from snapshot <name>" at the end of the operator-agent init container's termination message
 * (docs/agent.md) of this pod incarnation. */
static void recovered_from(const json_t *pod, char *dst, size_t dstsz)
{
  static const char marker[] = "recovering from snapshot ";
  size_t i;
  const json_t *c;
  dst[0] = '\0';
  json_array_foreach(json_object_get(json_object_get(pod, "status"), "initContainerStatuses"), i, c)
  {
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *msg = json_string_value(
        json_object_get(json_object_get(json_object_get(c, "state"), "terminated"), "message"));
    const char *at = msg != NULL ? strstr(msg, marker) : NULL;
    if (name != NULL && strcmp(name, "operator-agent") == 0 && at != NULL)
      (void) mgo_snprintf(dst, dstsz, "%.*s", (int) strcspn(at + sizeof(marker) - 1, " \n;"),
                          at + sizeof(marker) - 1);
  }
}

static void fill_from_pod(struct rec_instance *in, const json_t *pod, const char *update_revision)
{
  const json_t *meta = json_object_get(pod, "metadata");
  const json_t *labels = json_object_get(meta, "labels");
  const char *revision = json_string_value(json_object_get(labels, "controller-revision-hash"));
  const char *uid = json_string_value(json_object_get(meta, "uid"));
  const char *role = json_string_value(json_object_get(labels, MGO_LABEL_ROLE));
  const char *readable = json_string_value(json_object_get(labels, MGO_LABEL_READABLE));

  in->pod_exists = true;
  in->pod_ready = pod_is_ready(pod);
  in->pod_terminating = json_object_get(meta, "deletionTimestamp") != NULL;
  (void) mgo_strlcpy(in->pod_uid, uid != NULL ? uid : "", sizeof(in->pod_uid));
  in->restart_count = memgraph_restarts(pod);
  in->crashed = memgraph_ended(pod); /* refined by the live observation (restarts since it last answered) */
  in->label_role = mgo_role_named(role, MGO_CASE_EXACT);
  in->label_readable = readable != NULL && strcmp(readable, "true") == 0;
  in->outdated = update_revision != NULL && update_revision[0] != '\0' && revision != NULL &&
                 strcmp(revision, update_revision) != 0;
  recovered_from(pod, in->recovered_from, sizeof(in->recovered_from));
}

/* What the last status said about the pod's registration: the failover candidate's recency when the
 * operator has no memory of it (it restarted). */
static void fill_last_from_status(struct rec_instance *in, const json_t *entry)
{
  const char *mode = json_string_value(json_object_get(entry, "replicationMode"));
  const char *state = json_string_value(json_object_get(entry, "replicaState"));
  json_int_t behind = json_integer_value(json_object_get(entry, "behind"));
  if (mode == NULL || state == NULL)
    return;
  in->last_registered = true;
  in->last_mode = mgo_repl_mode_named(mode);
  in->last_behind = behind > 0 ? behind : 0;
  enum rec_replica_state rs = rec_replica_state_named(state);
  in->last_in_sync = rec_holds_acknowledged(in->last_mode, rs, in->last_behind);
}

/* reseeds and lastReseed as the status recorded them (what recall_reseeds falls back on after a restart). */
static void fill_reseeds_from_status(struct rec_instance *in, const json_t *entry)
{
  json_int_t n = json_integer_value(json_object_get(entry, "reseeds"));
  int64_t at = 0;
  if (n <= 0 || n > INT32_MAX ||
      mgo_time_parse_rfc3339(json_string_value(json_object_get(entry, "lastReseed")), &at) != MGO_OK ||
      at <= 0)
    return; /* absent or malformed: no memory, as before */
  in->reseeds = (int32_t) n;
  in->last_reseed_wall_ms = at;
}

static void fill_from_status(struct rec_instance *in, const json_t *old_status)
{
  size_t i;
  const json_t *entry;
  in->registered_restart_count = -1;
  json_array_foreach(json_object_get(old_status, "instanceStatuses"), i, entry)
  {
    const char *pod = json_string_value(json_object_get(entry, "pod"));
    const char *uid = json_string_value(json_object_get(entry, "podUID"));
    if (pod == NULL || strcmp(pod, in->pod) != 0)
      continue;
    fill_last_from_status(in, entry);
    fill_reseeds_from_status(in, entry);
    if (uid == NULL)
      continue;
    (void) mgo_strlcpy(in->registered_pod_uid, uid, sizeof(in->registered_pod_uid));
    in->registered_restart_count = (int32_t) json_integer_value(json_object_get(entry, "restartCount"));
  }
}

/* The pod of this cluster with the given ordinal, or NULL. */
static const json_t *pod_with_ordinal(const struct mgo_cluster *c, const json_t *pods, int ordinal)
{
  size_t i;
  const json_t *pod;
  json_array_foreach(pods, i, pod)
  {
    const json_t *meta = json_object_get(pod, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *inst =
        json_string_value(json_object_get(json_object_get(meta, "labels"), MGO_LABEL_INSTANCE));
    if (name != NULL && inst != NULL && strcmp(inst, c->name) == 0 && mgo_pod_ordinal(c, name) == ordinal)
      return pod;
  }
  return NULL;
}

static int max_pod_ordinal(const struct mgo_cluster *c, const json_t *pods)
{
  size_t i;
  const json_t *pod;
  int max = -1;
  json_array_foreach(pods, i, pod)
  {
    const char *name = json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
    int ord = name != NULL ? mgo_pod_ordinal(c, name) : -1;
    if (ord > max && pod_with_ordinal(c, pods, ord) != NULL)
      max = ord;
  }
  return max;
}

static bool text_is(const json_t *v, const char *want)
{
  const char *s = json_string_value(v);
  return s != NULL && strcmp(s, want) == 0;
}

/* What the last status says about the cluster's history: resuming from a hibernation, never Ready yet. */
static void observe_history(const json_t *old_status, struct rec_observed *obs)
{
  const json_t *hib = op_status_condition(old_status, "Hibernated");
  const json_t *phase = json_object_get(old_status, "phase");
  obs->resuming =
      text_is(json_object_get(hib, "status"), "True") || text_is(json_object_get(hib, "reason"), "Resuming");
  obs->initializing = phase == NULL || text_is(phase, "Pending") || text_is(phase, "Initializing");
}

void op_observe_pods(const struct mgo_cluster *c, const json_t *pods, const json_t *old_status,
                     const char *update_revision, struct rec_observed *obs)
{
  const char *fenced = json_string_value(json_object_get(old_status, "fencedMain"));
  const char *since = json_string_value(json_object_get(old_status, "mainUnavailableSince"));
  int last = max_pod_ordinal(c, pods);
  if (last < c->spec.instances - 1)
    last = c->spec.instances - 1;
  memset(obs, 0, sizeof(*obs));
  for (int ord = 0; ord <= last && obs->n < REC_MAX_OBSERVED; ord++) {
    const json_t *pod = pod_with_ordinal(c, pods, ord);
    struct rec_instance *in;
    if (pod == NULL && ord >= c->spec.instances)
      continue;
    in = &obs->inst[obs->n++];
    in->ordinal = ord;
    (void) mgo_name_pod(c, ord, in->pod, sizeof(in->pod));
    in->last_known_ts = -1;
    if (pod != NULL)
      fill_from_pod(in, pod, update_revision);
    fill_from_status(in, old_status);
  }
  (void) mgo_strlcpy(obs->fenced_main, fenced != NULL ? fenced : "", sizeof(obs->fenced_main));
  (void) mgo_strlcpy(obs->main_unavailable_since, since != NULL ? since : "",
                     sizeof(obs->main_unavailable_since));
  observe_history(old_status, obs);
}

/* ---- connections ----------------------------------------------------------------------------------- */

static struct op_conn *conn_slot(struct op_cluster *cs, const char *pod)
{
  for (size_t i = 0; i < cs->nconns; i++) {
    if (strcmp(cs->conns[i].pod, pod) == 0)
      return &cs->conns[i];
  }
  if (cs->nconns >= REC_MAX_OBSERVED)
    return NULL;
  struct op_conn *s = &cs->conns[cs->nconns++];
  memset(s, 0, sizeof(*s));
  (void) mgo_strlcpy(s->pod, pod, sizeof(s->pod));
  s->last_ts = -1;
  s->answered_restarts = -1;
  return s;
}

static void drop_conn(struct op_conn *s, const struct mgo_mg_ops *mg)
{
  if (s->conn != NULL)
    mg->close(s->conn);
  s->conn = NULL;
  memset(&s->seen, 0, sizeof(s->seen));
}

void op_note_register_diverged(struct op_cluster *cs, const char *pod)
{
  struct op_conn *s = conn_slot(cs, pod);
  if (s != NULL)
    s->register_diverged = true;
}

void op_note_registered(struct op_cluster *cs, const char *pod)
{
  struct op_conn *s = conn_slot(cs, pod);
  if (s != NULL) {
    s->acted_as_main = false;
    s->invalid_since_ms = 0;
  }
}

struct mgo_mg_conn *op_conn_of(struct op_cluster *cs, const char *pod)
{
  for (size_t i = 0; i < cs->nconns; i++) {
    if (strcmp(cs->conns[i].pod, pod) == 0)
      return cs->conns[i].conn;
  }
  return NULL;
}

void op_cluster_close(struct op_cluster *cs, const struct mgo_mg_ops *mg)
{
  for (size_t i = 0; i < cs->nconns; i++)
    drop_conn(&cs->conns[i], mg);
}

/* A usable connection to in at ip, reusing the previous one when the pod is the same incarnation. */
static struct op_conn *ensure_conn(struct op_cluster *cs, const struct rec_instance *in, const char *ip,
                                   struct op_live *live)
{
  struct op_conn *s = conn_slot(cs, in->pod);
  char dns[MGO_DNS_NAME_MAX];
  struct mgo_mg_target t = {.host = ip,
                            .tls_ca_file = live->tls_ca_file,
                            .tls_server_name = dns,
                            .port = MGO_BOLT_PORT,
                            .user = live->user,
                            .password = live->password,
                            .connect_timeout_ms = live->connect_timeout_ms,
                            .query_timeout_ms = live->query_timeout_ms};
  if (s == NULL)
    return NULL;
  if (live->c == NULL || mgo_name_pod_dns(live->c, in->ordinal, dns, sizeof(dns)) != MGO_OK)
    (void) mgo_strlcpy(dns, ip, sizeof(dns));
  if (s->conn != NULL &&
      (strcmp(s->uid, in->pod_uid) != 0 || strcmp(s->ip, ip) != 0 || !live->mg->usable(s->conn)))
    drop_conn(s, live->mg);
  if (strcmp(s->uid, in->pod_uid) != 0) { /* a new incarnation: what we knew about its data is void */
    s->last_ts = -1;
    s->last_known = false;
    s->register_diverged = false;
    s->acted_as_main = false;
    s->invalid_since_ms = 0;
    s->healthy_at_ms = 0;
    s->replica_at_ms = 0;
    s->answered_restarts = -1;
  }
  (void) mgo_strlcpy(s->uid, in->pod_uid, sizeof(s->uid));
  (void) mgo_strlcpy(s->ip, ip, sizeof(s->ip));
  if (!in->pod_ready && s->answered_restarts < 0 && t.connect_timeout_ms > OP_STARTING_CONNECT_MS)
    t.connect_timeout_ms = OP_STARTING_CONNECT_MS;
  if (s->conn == NULL) {
    int rc = live->mg->connect(&t, &s->conn); /* on failure s->conn holds it: the caller reads its error */
    live->auth_failed = live->auth_failed || rc == MGO_EAUTH;
    live->tls_failed = live->tls_failed || (rc == MGO_ETLS && t.tls_ca_file != NULL);
  }
  return s;
}

/* ---- Memgraph half --------------------------------------------------------------------------------- */

static void note_error(struct rec_instance *in, const struct op_live *live, struct op_conn *s,
                       const char *what)
{
  (void) mgo_snprintf(in->last_error, sizeof(in->last_error), "%s: %s", what,
                      s != NULL && s->conn != NULL ? live->mg->error(s->conn) : "no connection slot");
  if (s != NULL && (s->conn == NULL || !live->mg->usable(s->conn)))
    drop_conn(s, live->mg);
}

static void count_queries(struct op_live *live, const struct rec_instance *in, unsigned long n)
{
  ptrdiff_t i = in - live->base;
  live->queries += n;
  if (live->base != NULL && i >= 0 && i < REC_MAX_OBSERVED)
    live->per_pod[i] += n;
}

/* Role, version (once per connection incarnation) and, on a MAIN, SHOW REPLICAS: the one observer. */
static void query_instance(struct op_cluster *cs, struct rec_instance *in, struct op_live *live)
{
  const char *ip = op_pod_ip(live->pods, in->pod);
  struct op_conn *s;

  if (ip == NULL) {
    (void) mgo_strlcpy(in->last_error, "the pod has no IP yet", sizeof(in->last_error));
    return;
  }
  s = ensure_conn(cs, in, ip, live);
  if (s == NULL || s->conn == NULL || !live->mg->usable(s->conn)) {
    note_error(in, live, s, "connect");
    return;
  }
  count_queries(live, in, mgo_mg_observe(live->mg, s->conn, &s->seen, in, NULL));
  if (!live->mg->usable(s->conn))
    drop_conn(s, live->mg);
}

static void query_data(struct op_cluster *cs, struct rec_instance *in, struct op_live *live)
{
  count_queries(live, in, mgo_mg_observe_data(live->mg, op_conn_of(cs, in->pod), in));
}

/* An empty recorded MAIN whose SHOW REPLICAS shows every other existing pod registered, in sync and at
 * ts 0: those replicas hold nothing either (a replica with data cannot be in sync with an empty MAIN: it
 * would be diverged), so their data need not be asked. */
static bool replicas_empty_by_main(const struct rec_instance *main, struct rec_observed *obs)
{
  if (main->data != REC_DATA_EMPTY || !main->replicas_known)
    return false;
  for (size_t i = 0; i < obs->n; i++) {
    const struct rec_instance *in = &obs->inst[i];
    const struct rec_registration *r = NULL;
    char name[MGO_NAME_MAX];
    if (in == main || !in->pod_exists)
      continue;
    if (mgo_replica_name(in->pod, name, sizeof(name)) != MGO_OK)
      return false;
    for (size_t j = 0; j < main->n_registrations && r == NULL; j++)
      r = strcmp(main->registrations[j].name, name) == 0 ? &main->registrations[j] : NULL;
    if (r == NULL || !r->has_data_info || r->ts != 0 || r->behind != 0 ||
        (r->state != REC_RS_READY && r->state != REC_RS_REPLICATING))
      return false;
  }
  return true;
}

/* Data presence matters for choosing or checking the MAIN only (topology.h): on MAINs always, on every
 * pod while the recorded MAIN is missing, not a MAIN, or empty (unless its replicas are provably empty). */
static void query_data_where_needed(struct op_cluster *cs, const struct mgo_cluster *c, struct op_live *live,
                                    struct rec_observed *obs)
{
  const struct rec_instance *recorded = NULL;
  for (size_t i = 0; i < obs->n; i++) {
    struct rec_instance *in = &obs->inst[i];
    if (in->reachable && in->role == MGO_ROLE_MAIN)
      query_data(cs, in, live);
    if (strcmp(in->pod, c->recorded_main) == 0 && in->reachable && in->role == MGO_ROLE_MAIN)
      recorded = in;
  }
  if (recorded != NULL && recorded->data == REC_DATA_PRESENT)
    return;
  if (recorded != NULL && replicas_empty_by_main(recorded, obs)) {
    for (size_t i = 0; i < obs->n; i++) {
      if (&obs->inst[i] != recorded && obs->inst[i].reachable)
        obs->inst[i].data = REC_DATA_EMPTY;
    }
    return;
  }
  for (size_t i = 0; i < obs->n; i++)
    query_data(cs, &obs->inst[i], live);
}

/* Raises the remembered ts of the pod behind one registration of a MAIN's SHOW REPLICAS. */
static void remember_ts(struct op_cluster *cs, const struct rec_observed *obs,
                        const struct rec_registration *reg)
{
  for (size_t j = 0; j < obs->n && reg->has_data_info; j++) {
    char name[MGO_NAME_MAX];
    struct op_conn *s;
    if (mgo_replica_name(obs->inst[j].pod, name, sizeof(name)) != MGO_OK || strcmp(name, reg->name) != 0)
      continue;
    s = conn_slot(cs, obs->inst[j].pod);
    if (s != NULL && reg->ts > s->last_ts)
      s->last_ts = reg->ts;
  }
}

/* The recorded MAIN's SHOW REPLICAS is what a failover trusts: remember how it listed every pod (listed
 * or not) while it answers. */
static void remember_listing(struct op_cluster *cs, const struct mgo_cluster *c,
                             const struct rec_observed *obs, int64_t now_ms)
{
  const struct rec_instance *m = NULL;
  for (size_t i = 0; i < obs->n; i++) {
    if (strcmp(obs->inst[i].pod, c->recorded_main) == 0 && obs->inst[i].reachable &&
        obs->inst[i].role == MGO_ROLE_MAIN && obs->inst[i].replicas_known)
      m = &obs->inst[i];
  }
  for (size_t i = 0; m != NULL && i < obs->n; i++) {
    const struct rec_instance *in = &obs->inst[i];
    struct op_conn *s = in != m && in->pod_exists ? conn_slot(cs, in->pod) : NULL;
    char name[MGO_NAME_MAX];
    if (s == NULL || mgo_replica_name(in->pod, name, sizeof(name)) != MGO_OK)
      continue;
    bool prev_registered = s->last_known && s->last_registered;
    enum mgo_repl_mode prev_mode = s->last_mode;
    bool invalid = false;
    s->last_known = true;
    s->last_registered = false;
    for (size_t r = 0; r < m->n_registrations; r++) {
      const struct rec_registration *reg = &m->registrations[r];
      if (strcmp(reg->name, name) != 0 || !reg->has_data_info)
        continue;
      invalid = reg->state == REC_RS_INVALID && in->reachable && in->role == MGO_ROLE_REPLICA;
      if (rec_replica_healthy(reg->mode, reg->state, reg->behind))
        s->healthy_at_ms = now_ms;
      bool measured = reg->state == REC_RS_READY || reg->state == REC_RS_REPLICATING ||
                      reg->state == REC_RS_RECOVERY || reg->state == REC_RS_DIVERGED;
      bool was_known = prev_registered && prev_mode == reg->mode;
      s->last_registered = true;
      s->last_mode = reg->mode;
      /* "invalid" (e.g. just after the MAIN restarted, before its clients reconnect) measures nothing: the
       * replica still holds what it held, so the last measurement stands. */
      if (!measured && was_known)
        continue;
      s->last_behind = reg->behind < 0 ? -reg->behind : 0;
      s->last_in_sync = rec_holds_acknowledged(reg->mode, reg->state, s->last_behind);
    }
    if (!invalid)
      s->invalid_since_ms = 0;
    else if (s->invalid_since_ms == 0)
      s->invalid_since_ms = now_ms;
  }
}

/* Without memory of a pod's re-seeds (the operator restarted), what status recorded becomes the memory:
 * lastReseed on the monotonic clock. Older than OP_RESEED_WINDOW_MS, it counts no more. */
static void adopt_status_reseeds(struct op_conn *s, const struct rec_instance *in,
                                 const struct mgo_clock *clock)
{
  int64_t now_ms = mgo_clock_mono_ms(clock), at_ms;
  if (s->reseed_at_ms != 0 || in->reseeds <= 0 || in->last_reseed_wall_ms <= 0)
    return;
  at_ms = op_mono_from_wall_ms(clock, in->last_reseed_wall_ms);
  if (at_ms > now_ms)
    at_ms = now_ms; /* recorded "in the future" (clock skew): as if just now, the safe side */
  if (!op_reseed_in_window(at_ms, now_ms))
    return;
  s->reseeds = in->reseeds;
  s->reseed_at_ms = at_ms;
  s->reseed_wall_ms = in->last_reseed_wall_ms;
}

/* How often and how recently each pod was re-seeded (any incarnation: a re-seed replaces it). */
static void recall_reseeds(struct op_cluster *cs, struct rec_observed *obs, const struct mgo_clock *clock)
{
  int64_t now_ms = mgo_clock_mono_ms(clock);
  for (size_t i = 0; i < obs->n; i++) {
    struct rec_instance *in = &obs->inst[i];
    struct op_conn *s = conn_slot(cs, in->pod);
    if (s != NULL)
      adopt_status_reseeds(s, in, clock);
    bool recent = s != NULL && s->reseeds > 0 && op_reseed_in_window(s->reseed_at_ms, now_ms);
    in->reseeds = recent ? s->reseeds : 0;
    in->last_reseed_wall_ms = recent ? s->reseed_wall_ms : 0;
    in->reseed_held = s != NULL && op_reseed_held(s->reseeds, now_ms - s->reseed_at_ms);
  }
}

/* Remembers the newest ts the MAINs report for each replica, and hands memory to the observation. */
static void remember_timestamps(struct op_cluster *cs, const struct mgo_cluster *c, struct rec_observed *obs,
                                int64_t now_ms)
{
  for (size_t i = 0; i < obs->n; i++) {
    const struct rec_instance *m = &obs->inst[i];
    for (size_t r = 0; m->replicas_known && r < m->n_registrations; r++)
      remember_ts(cs, obs, &m->registrations[r]);
  }
  remember_listing(cs, c, obs, now_ms);
  for (size_t i = 0; i < obs->n; i++) {
    struct rec_instance *in = &obs->inst[i];
    struct op_conn *s = conn_slot(cs, in->pod);
    in->last_known_ts = s != NULL ? s->last_ts : -1;
    if (s == NULL || strcmp(s->uid, in->pod_uid) != 0)
      continue; /* memory of another incarnation (or none): the status-derived values stay */
    in->register_diverged = s->register_diverged;
    /* A MAIN other than the recorded one: when it is a REPLICA again, the recorded MAIN's old registration of
     * it is stale (Memgraph checks divergence only at REGISTER), so it is registered again (decide). */
    if (in->reachable && in->role == MGO_ROLE_MAIN && c->recorded_main[0] != '\0' &&
        strcmp(in->pod, c->recorded_main) != 0)
      s->acted_as_main = true;
    in->acted_as_main = s->acted_as_main;
    in->invalid_for_ms = s->invalid_since_ms > 0 ? now_ms - s->invalid_since_ms : 0;
    in->recently_healthy = s->healthy_at_ms > 0 && now_ms - s->healthy_at_ms < REC_UNHEALTHY_GRACE_MS;
    if (in->reachable && in->role == MGO_ROLE_REPLICA)
      s->replica_at_ms = now_ms;
    in->recently_replica = s->replica_at_ms > 0 && now_ms - s->replica_at_ms < REC_UNHEALTHY_GRACE_MS;
    if (s->last_known) {
      in->last_registered = s->last_registered;
      in->last_mode = s->last_mode;
      in->last_in_sync = s->last_in_sync;
      in->last_behind = s->last_behind;
    }
  }
}

/* When an outage of the MAIN first seen now began: at the start of the probe that failed, or earlier when
 * the last status (an earlier operator process: this one has no outage in memory) recorded this outage
 * already (obs->main_unavailable_since holds that status value; it is never written in the status of a pass
 * that changes the recorded MAIN). A recorded instant in the future, or unreadable, is not trusted. */
static int64_t outage_start(const struct op_cluster *cs, const struct op_live *live,
                            const struct rec_observed *obs, int64_t started)
{
  int64_t recorded;
  if (cs->main_down_pod[0] != '\0' || obs->main_unavailable_since[0] == '\0' ||
      op_mono_from_rfc3339(live->clock, obs->main_unavailable_since, &recorded) != MGO_OK)
    return started;
  if (recorded < 1)
    recorded = 1; /* 0 means "up": credit a little less rather than lose the record */
  return recorded < started ? recorded : started;
}

/* How long the recorded MAIN has been unavailable (pod missing or without an IP, Bolt failing), measured from
 * the start of the first probe that failed (probe_started[i], monotonic ms, for obs->inst[i]): a MAIN that
 * let a whole Bolt deadline pass without answering has been unavailable at least that long. */
static void track_main_availability(struct op_cluster *cs, const struct mgo_cluster *c,
                                    const struct op_live *live, struct rec_observed *obs,
                                    const int64_t *probe_started)
{
  const struct rec_instance *rec = NULL;
  int64_t now = mgo_clock_mono_ms(live->clock), started = now;
  for (size_t i = 0; i < obs->n; i++) {
    if (strcmp(obs->inst[i].pod, c->recorded_main) == 0) {
      rec = &obs->inst[i];
      started = probe_started[i] != 0 ? probe_started[i] : now;
    }
  }
  obs->main_unavailable_ms = 0;
  if (c->recorded_main[0] == '\0' || (rec != NULL && rec->pod_exists && rec->reachable)) {
    cs->main_down_since_ms = 0;
    obs->main_unavailable_since[0] = '\0';
    return;
  }
  if (cs->main_down_since_ms == 0 || strcmp(cs->main_down_pod, c->recorded_main) != 0) {
    cs->main_down_since_ms = outage_start(cs, live, obs, started);
    (void) mgo_strlcpy(cs->main_down_pod, c->recorded_main, sizeof(cs->main_down_pod));
    op_format_mono_ms(live->clock, cs->main_down_since_ms, cs->main_down_since, sizeof(cs->main_down_since));
  }
  obs->main_unavailable_ms = now - cs->main_down_since_ms;
  (void) mgo_strlcpy(obs->main_unavailable_since, cs->main_down_since, sizeof(obs->main_unavailable_since));
}

/* A pod whose last probe used the whole Bolt deadline (a frozen process accepts connections and answers
 * nothing) is not probed again for one more deadline: the passes that follow a role change, which re-observe
 * at once, then do not each wait for it. It counts as not answering meanwhile. */
static bool held_silent(struct op_cluster *cs, const struct rec_instance *in, const struct op_live *live)
{
  const struct op_conn *s = conn_slot(cs, in->pod);
  return s != NULL && strcmp(s->uid, in->pod_uid) == 0 && mgo_clock_mono_ms(live->clock) < s->silent_until_ms;
}

/* crashed (fill_from_pod: the container is not running now) also when it was restarted since it last
 * answered; never while it answers. */
static void note_crash(struct op_cluster *cs, struct rec_instance *in)
{
  struct op_conn *s = conn_slot(cs, in->pod);
  bool same = s != NULL && strcmp(s->uid, in->pod_uid) == 0;
  if (in->reachable) {
    in->crashed = false;
    if (same)
      s->answered_restarts = in->restart_count;
  } else if (same && s->answered_restarts >= 0 && in->restart_count > s->answered_restarts) {
    in->crashed = true;
  }
}

static void note_silence(struct op_cluster *cs, const struct rec_instance *in, const struct op_live *live,
                         int64_t started)
{
  struct op_conn *s = conn_slot(cs, in->pod);
  int64_t now = mgo_clock_mono_ms(live->clock), deadline = live->query_timeout_ms;
  if (s == NULL)
    return;
  s->silent_until_ms = !in->reachable && now - started >= deadline * 9 / 10 ? now + deadline : 0;
}

void op_observe_live(struct op_cluster *cs, const struct mgo_cluster *c, struct op_live *live,
                     struct rec_observed *obs)
{
  int64_t probe_started[REC_MAX_OBSERVED] = {0};
  live->base = obs->inst;
  for (size_t i = 0; i < cs->nconns; i++) {
    const json_t *pod = find_pod_json(live->pods, cs->conns[i].pod);
    if (pod == NULL && cs->conns[i].conn != NULL)
      drop_conn(&cs->conns[i], live->mg); /* the pod is gone */
  }
  for (size_t i = 0; i < obs->n; i++) {
    struct rec_instance *in = &obs->inst[i];
    /* Every running pod is asked, Ready or not: a thawed or restarted old MAIN answers (and takes writes on
     * kept connections) before its readiness probe passes, and must be demoted on the first pass that can
     * reach it. Decisions that need a Ready pod (promotion, registration) check pod_ready themselves. */
    bool probe = in->pod_exists && !in->pod_terminating && op_pod_ip(live->pods, in->pod) != NULL;
    if (probe && held_silent(cs, in, live)) {
      (void) mgo_strlcpy(in->last_error, "did not answer within the Bolt deadline (probed again shortly)",
                         sizeof(in->last_error));
    } else if (probe) {
      probe_started[i] = mgo_clock_mono_ms(live->clock);
      query_instance(cs, in, live);
      *(in->reachable ? &live->probes_ok : &live->probes_failed) += 1;
      note_silence(cs, in, live, probe_started[i]);
      note_crash(cs, in);
    } else if (in->pod_exists) {
      (void) mgo_strlcpy(in->last_error,
                         in->pod_terminating ? "the pod is terminating" : "the pod has no IP yet",
                         sizeof(in->last_error));
    }
  }
  query_data_where_needed(cs, c, live, obs);
  remember_timestamps(cs, c, obs, mgo_clock_mono_ms(live->clock));
  recall_reseeds(cs, obs, live->clock);
  track_main_availability(cs, c, live, obs, probe_started);
}

/* The Secret name in the cluster's namespace, from the API server (Secrets are not cached). */
static int read_secret(struct op_ctx *ctx, const char *name, json_t **secret, struct k8s_status *st)
{
  k8s_status_clear(st);
  return ctx->kube->get(ctx->kube->arg, &K8S_RES_SECRETS, ctx->ns, name, secret, st);
}

/* A Secret read less than this long ago is used as it was read; an older one is read again, so a rotated
 * password or CA is picked up within this time even while every connection still works (one GET per Secret
 * and period: Secrets are not watched, which would need list/watch on every Secret). */
#define OP_SECRET_MAX_AGE_MS ((int64_t) 5 * 60 * 1000)

static bool secret_fresh(const struct op_ctx *ctx, bool loaded, int64_t read_ms)
{
  return loaded && mgo_clock_mono_ms(ctx->clock) - read_ms < OP_SECRET_MAX_AGE_MS;
}

static void secret_failed(struct op_ctx *ctx, const char *what, const char *name, int rc,
                          const struct k8s_status *st)
{
  op_ctx_note(ctx, "%s Secret %s: %s (%s)", what, name, mgo_errname(rc), st->message);
  mgo_log(MGO_LOG_WARN, "cannot use a Secret", "cluster", ctx->key, "secret", name, "for", what, "error",
          mgo_errname(rc), "detail", st->message, (char *) NULL);
}

/* spec.auth: user and password from the Secret; read again after a refused login and when older than
 * OP_SECRET_MAX_AGE_MS. A failed re-read keeps the credentials read before. *changed: they differ now. */
static int load_auth(struct op_ctx *ctx, bool *changed)
{
  const struct mgo_cluster_spec *s = &ctx->c.spec;
  struct op_cluster *cs = ctx->cs;
  char user[sizeof(cs->auth_user)], password[sizeof(cs->auth_password)];
  struct k8s_status st;
  json_t *secret = NULL;
  int rc;

  if (s->auth.secret_name[0] == '\0' || secret_fresh(ctx, cs->auth_loaded, cs->auth_read_ms))
    return MGO_OK;
  rc = read_secret(ctx, s->auth.secret_name, &secret, &st);
  if (rc == MGO_OK)
    rc = op_secret_value(secret, s->auth.user_key, user, sizeof(user));
  if (rc == MGO_OK)
    rc = op_secret_value(secret, s->auth.password_key, password, sizeof(password));
  json_decref(secret);
  if (rc != MGO_OK) {
    secret_failed(ctx, "auth", s->auth.secret_name, rc, &st);
    return rc;
  }
  *changed =
      cs->auth_loaded && (strcmp(user, cs->auth_user) != 0 || strcmp(password, cs->auth_password) != 0);
  (void) mgo_strlcpy(cs->auth_user, user, sizeof(cs->auth_user));
  (void) mgo_strlcpy(cs->auth_password, password, sizeof(cs->auth_password));
  cs->auth_loaded = true;
  cs->auth_read_ms = mgo_clock_mono_ms(ctx->clock);
  return MGO_OK;
}

/* Creates or truncates path for writing, owner-only, never through a symbolic link. */
static FILE *open_private(const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (fd >= 0 && f == NULL)
    close(fd);
  return f;
}

/* Writes pem to the cluster's private CA file (its name fixed by the cluster's uid). */
static int write_ca_file(struct op_ctx *ctx, const char *pem)
{
  const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
  int rc =
      mgo_snprintf(ctx->cs->tls_ca_file, sizeof(ctx->cs->tls_ca_file), "%s/mgo-ca-%s.pem", tmp, ctx->c.uid);
  FILE *f = rc == MGO_OK ? open_private(ctx->cs->tls_ca_file) : NULL;
  if (f == NULL)
    return rc == MGO_OK ? MGO_ESYS : rc;
  rc = fputs(pem, f) >= 0 ? MGO_OK : MGO_ESYS;
  return fclose(f) == 0 ? rc : MGO_ESYS;
}

/* spec.tls: the CA that signed the pods' certificates (ca.crt, else the self-signed tls.crt), written to
 * a private file the TLS library reads; read again after a failed handshake (a rotated CA) and when older
 * than OP_SECRET_MAX_AGE_MS. A failed re-read keeps the CA read before. *changed: the CA differs now. */
static int load_tls(struct op_ctx *ctx, bool *changed)
{
  const char *name = ctx->c.spec.tls_secret_name;
  struct op_cluster *cs = ctx->cs;
  char pem[16384];
  struct k8s_status st;
  json_t *secret = NULL;
  uint64_t hash;
  int rc;

  if (name[0] == '\0' || secret_fresh(ctx, cs->tls_loaded, cs->tls_read_ms))
    return MGO_OK;
  rc = read_secret(ctx, name, &secret, &st);
  if (rc == MGO_OK && op_secret_value(secret, "ca.crt", pem, sizeof(pem)) != MGO_OK)
    rc = op_secret_value(secret, "tls.crt", pem, sizeof(pem));
  json_decref(secret);
  hash = rc == MGO_OK ? op_fnv1a64(pem) : 0;
  if (rc == MGO_OK && (!cs->tls_loaded || hash != cs->tls_hash))
    rc = write_ca_file(ctx, pem);
  if (rc != MGO_OK) {
    secret_failed(ctx, "tls", name, rc, &st);
    return rc;
  }
  *changed = cs->tls_loaded && hash != cs->tls_hash;
  cs->tls_hash = hash;
  cs->tls_loaded = true;
  cs->tls_read_ms = mgo_clock_mono_ms(ctx->clock);
  return MGO_OK;
}

/* The StatefulSet's update revision (pods on another one run an older template), "" when unknown. */
static void observe_rollout(struct op_ctx *ctx, char *revision, size_t revsz)
{
  json_t *sts = ctx->kube->cached(ctx->kube->arg, OP_CACHE_STS, ctx->ns, ctx->name);
  const char *rev = json_string_value(json_object_get(json_object_get(sts, "status"), "updateRevision"));
  (void) mgo_strlcpy(revision, rev != NULL ? rev : "", revsz);
  json_decref(sts);
}

static bool approved_revision(const json_t *cluster, const char *revision)
{
  const char *v =
      json_string_value(json_object_get(json_object_get(json_object_get(cluster, "metadata"), "annotations"),
                                        MGO_APPROVE_MAIN_UPDATE_ANNOTATION));
  return v != NULL && revision[0] != '\0' && strcmp(v, revision) == 0;
}

/* Credentials and CA for this pass (read from their Secrets when not loaded yet or too old); the first
 * error. Connections made with credentials or a CA that changed are closed, so the next ones use the new. */
static int load_credentials(struct op_ctx *ctx, struct op_live *live)
{
  bool auth_changed = false, tls_changed = false;
  int rc = load_auth(ctx, &auth_changed);
  int trc = load_tls(ctx, &tls_changed);
  if (auth_changed || tls_changed) {
    mgo_log(MGO_LOG_INFO, "credentials changed: reconnecting", "cluster", ctx->key, "auth",
            auth_changed ? "changed" : "same", "tls", tls_changed ? "changed" : "same", (char *) NULL);
    op_cluster_close(ctx->cs, ctx->mg);
  }
  if (ctx->c.spec.tls_secret_name[0] != '\0')
    live->tls_ca_file = ctx->cs->tls_loaded ? ctx->cs->tls_ca_file : "/nonexistent/ca.pem"; /* never plain */
  if (ctx->cs->auth_loaded) {
    live->user = ctx->cs->auth_user;
    live->password = ctx->cs->auth_password;
  }
  return rc != MGO_OK ? rc : trc;
}

/* A refused login or a failed TLS handshake: the Secret may have changed (rotated credentials or CA), so it
 * is read again on the next pass, over new connections. */
static void forget_stale_credentials(struct op_ctx *ctx, const struct op_live *live)
{
  bool stale_auth = live->auth_failed && ctx->cs->auth_loaded;
  bool stale_tls = live->tls_failed && ctx->cs->tls_loaded;
  if (stale_auth)
    ctx->cs->auth_loaded = false;
  if (stale_tls)
    ctx->cs->tls_loaded = false;
  if (stale_auth || stale_tls)
    op_cluster_close(ctx->cs, ctx->mg);
}

struct op_result op_step_observe(struct op_ctx *ctx)
{
  char revision[MGO_NAME_MAX];
  json_t *pods = ctx->kube->cached_list(ctx->kube->arg, OP_CACHE_PODS, ctx->ns);
  struct op_live live = {.mg = ctx->mg,
                         .clock = ctx->clock,
                         .connect_timeout_ms = (int) ctx->settings->bolt_timeout_ms,
                         .query_timeout_ms = (int) ctx->settings->bolt_timeout_ms,
                         .pods = pods,
                         .c = &ctx->c};
  int rc;

  ctx->obs = calloc(1, sizeof(*ctx->obs));
  if (ctx->obs == NULL || pods == NULL) {
    json_decref(pods);
    return op_failed(ctx, MGO_ENOMEM, "out of memory");
  }
  observe_rollout(ctx, revision, sizeof(revision));
  op_observe_pods(&ctx->c, pods, json_object_get(ctx->obj, "status"), revision, ctx->obs);
  (void) mgo_strlcpy(ctx->obs->update_revision, revision, sizeof(ctx->obs->update_revision));
  ctx->obs->main_update_approved = approved_revision(ctx->obj, revision);
  rc = load_credentials(ctx, &live);
  op_observe_live(ctx->cs, &ctx->c, &live, ctx->obs);
  forget_stale_credentials(ctx, &live);
  for (size_t i = 0; i < ctx->obs->n; i++)
    op_count_bolt(ctx, ctx->obs->inst[i].pod, live.per_pod[i]);
  op_seed_count_connectivity(ctx, live.probes_ok, live.probes_failed);
  json_decref(pods);
  return rc == MGO_OK ? op_ok() : op_error_continue(rc);
}
