/* Observation: the Kubernetes half from pod JSON, the Memgraph half from fake query results (a fake
 * struct mgo_mg_ops) and connection reuse; then the act step's Bolt actions against the same fake. */
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "fake_ports.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- fixtures --------------------------------------------------------------------------------------- */

static void cluster(struct mgo_cluster *c, int instances, const char *recorded)
{
  char text[512];
  json_t *obj;
  snprintf(
      text, sizeof(text),
      "{\"apiVersion\":\"memgraph.io/v1alpha1\",\"kind\":\"MemgraphCluster\",\"metadata\":{\"name\":\"mg\","
      "\"namespace\":\"db\",\"uid\":\"u1\",\"generation\":1},\"spec\":{\"instances\":%d},"
      "\"status\":{\"currentMain\":\"%s\"}}",
      instances, recorded);
  obj = fake_json(text);
  assert_int_equal(mgo_cluster_parse(obj, c, NULL), MGO_OK);
  json_decref(obj);
}

/* A pod JSON: name, uid, ip ("" = none), ready, role label ("" = none), restarts, terminating. */
static json_t *pod(const char *name, const char *uid, const char *ip, bool ready, const char *role,
                   int restarts, bool terminating)
{
  json_t *p = json_pack("{s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:[{s:s, s:s}], s:[{s:s, s:i}]}}",
                        "metadata", "name", name, "namespace", "db", "uid", uid, "labels",
                        "app.kubernetes.io/name", "memgraph", "app.kubernetes.io/instance", "mg", "status",
                        "podIP", ip, "conditions", "type", "Ready", "status", ready ? "True" : "False",
                        "containerStatuses", "name", "memgraph", "restartCount", restarts);
  assert_non_null(p);
  if (role[0] != '\0')
    json_object_set_new(json_object_get(json_object_get(p, "metadata"), "labels"), MGO_LABEL_ROLE,
                        json_string(role));
  if (terminating)
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                        json_string("2026-01-01T00:00:00Z"));
  return p;
}

/* ---- the Kubernetes half ---------------------------------------------------------------------------- */

static void pods_fill_every_desired_ordinal_sorted(void **state)
{
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  json_t *old =
      fake_json("{\"instanceStatuses\":[{\"pod\":\"mg-1\",\"podUID\":\"u-1\",\"restartCount\":2}]}");
  json_t *foreign = pod("other-0", "x", "127.1.0.9", true, "", 0, false);
  (void) state;
  cluster(&c, 3, "");
  json_object_set_new(json_object_get(json_object_get(foreign, "metadata"), "labels"),
                      "app.kubernetes.io/instance", json_string("other"));
  json_array_append_new(pods, pod("mg-4", "u-4", "127.1.0.5", false, "", 0, true));
  json_array_append_new(pods, pod("mg-1", "u-1", "127.1.0.2", true, "replica", 3, false));
  json_array_append_new(pods, foreign);
  json_array_append_new(pods, pod("mg-0", "u-0", "127.1.0.1", true, "main", 0, false));

  op_observe_pods(&c, pods, old, NULL, obs);
  assert_int_equal(obs->n, 4); /* 0, 1, 2 (missing pod), 4 (beyond spec, still exists) */
  assert_string_equal(obs->inst[0].pod, "mg-0");
  assert_true(obs->inst[0].pod_ready);
  assert_int_equal(obs->inst[0].label_role, MGO_ROLE_MAIN);
  assert_string_equal(obs->inst[1].pod_uid, "u-1");
  assert_int_equal(obs->inst[1].restart_count, 3);
  assert_string_equal(obs->inst[1].registered_pod_uid, "u-1");
  assert_int_equal(obs->inst[1].registered_restart_count, 2);
  assert_int_equal(obs->inst[1].label_role, MGO_ROLE_REPLICA);
  assert_string_equal(obs->inst[2].pod, "mg-2");
  assert_false(obs->inst[2].pod_exists);
  assert_int_equal(obs->inst[2].registered_restart_count, -1);
  assert_int_equal(obs->inst[3].ordinal, 4);
  assert_true(obs->inst[3].pod_terminating);
  assert_false(obs->inst[3].pod_ready);
  assert_string_equal(op_pod_ip(pods, "mg-1"), "127.1.0.2");
  assert_null(op_pod_ip(pods, "mg-2"));
  json_decref(pods);
  json_decref(old);
  mgo_cluster_free(&c);
  free(obs);
}

/* recoveredFrom: the snapshot named after "recovering from snapshot " in the operator-agent init container's
 * termination message, up to a space, ';' or line break. */
static void pods_report_the_snapshot_they_recovered_from(void **state)
{
  static const struct {
    const char *message; /* NULL: no init container status */
    const char *want;
  } cases[] = {
      {"recovering from snapshot 20261202_timestamp_5", "20261202_timestamp_5"},
      {"restored snapshot x (1 bytes, sha256 ab) from s3://b/k; recovering from snapshot x", "x"},
      {"recovering from snapshot none", "none"},
      {"recovering from snapshot s1; fenced\n", "s1"},
      {"recovering from snapshot s2\nmore", "s2"},
      {"agent failed: no data directory", ""},
      {NULL, ""},
  };
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  (void) state;
  assert_non_null(obs);
  cluster(&c, 1, "");
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *pods = json_array(), *p = pod("mg-0", "u-0", "127.1.0.1", true, "main", 0, false);
    if (cases[i].message != NULL)
      json_object_set_new(json_object_get(p, "status"), "initContainerStatuses",
                          json_pack("[{s:s, s:{s:{s:i, s:s}}}]", "name", "operator-agent", "state",
                                    "terminated", "exitCode", 0, "message", cases[i].message));
    json_array_append_new(pods, p);
    op_observe_pods(&c, pods, NULL, NULL, obs);
    assert_int_equal(obs->n, 1);
    assert_true(obs->inst[0].pod_exists);
    assert_string_equal(obs->inst[0].recovered_from, cases[i].want);
    json_decref(pods);
  }
  mgo_cluster_free(&c);
  free(obs);
}

/* After an operator restart the failover candidate's recency comes from the last status; fencedMain and the
 * pods' template revision are read too. A SYNC replica that was ready but a few commits behind (commits in
 * flight under load) held every acknowledged write: it stays a candidate. */
static void pods_take_failover_facts_from_status_and_revisions(void **state)
{
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  json_t *old = fake_json(
      "{\"fencedMain\":\"mg-0\",\"instanceStatuses\":["
      "{\"pod\":\"mg-1\",\"replicationMode\":\"SYNC\",\"replicaState\":\"ready\",\"behind\":2},"
      "{\"pod\":\"mg-2\",\"replicationMode\":\"ASYNC\",\"replicaState\":\"recovery\",\"behind\":7}]}");
  json_t *p1 = pod("mg-1", "u-1", "127.1.0.2", true, "replica", 0, false);
  json_t *p2 = pod("mg-2", "u-2", "127.1.0.3", true, "replica", 0, false);
  (void) state;
  cluster(&c, 3, "mg-0");
  json_object_set_new(json_object_get(json_object_get(p1, "metadata"), "labels"), "controller-revision-hash",
                      json_string("mg-new"));
  json_object_set_new(json_object_get(json_object_get(p2, "metadata"), "labels"), "controller-revision-hash",
                      json_string("mg-old"));
  json_array_append_new(pods, p1);
  json_array_append_new(pods, p2);
  op_observe_pods(&c, pods, old, "mg-new", obs);
  assert_string_equal(obs->fenced_main, "mg-0");
  assert_false(obs->inst[0].last_registered);
  assert_true(obs->inst[1].last_registered);
  assert_int_equal(obs->inst[1].last_mode, MGO_MODE_SYNC);
  assert_true(obs->inst[1].last_in_sync);
  assert_int_equal(obs->inst[1].last_behind, 2);
  assert_false(obs->inst[1].outdated);
  assert_int_equal(obs->inst[2].last_mode, MGO_MODE_ASYNC);
  assert_false(obs->inst[2].last_in_sync);
  assert_int_equal(obs->inst[2].last_behind, 7);
  assert_true(obs->inst[2].outdated);
  op_observe_pods(&c, pods, old, NULL, obs); /* no update revision known: nothing is outdated */
  assert_false(obs->inst[2].outdated);
  json_decref(pods);
  json_decref(old);
  mgo_cluster_free(&c);
  free(obs);
}

/* ---- a fake Memgraph -------------------------------------------------------------------------------- */

struct fake_instance {
  const char *ip;
  enum mgo_role role;
  bool down;       /* connect fails */
  bool role_fails; /* SHOW REPLICATION ROLE fails and breaks the connection */
  bool frozen;     /* SHOW REPLICATION ROLE takes the whole deadline (100 ms), then fails */
  enum rec_data data;
  size_t nregs;
  struct rec_registration regs[4];
  const char *fail_replica;  /* execute() fails for actions on this registration name */
  bool reconnects;           /* the next role query reconnects underneath (the process restarted) */
  const char *version;       /* what SHOW VERSION prints (default 3.5.1-open-source) */
  int busy_refusals;         /* execute() refuses this many times as while a commit holds the lock */
  bool demoted_when_refused; /* ... and the refusal demoted it (its agent got there first) */
  bool last_busy;
  int connects, role_queries, version_queries, replicas_queries, data_queries, executes;
  int last_connect_timeout_ms; /* the deadline of its latest connect */
};

static struct fake_instance fakes[4];
/* The clock of the observations: a frozen instance moves it by the Bolt deadline (100 ms here). */
static struct mgo_fake_clock tclock;
static size_t nfakes;

struct mgo_mg_conn {
  struct fake_instance *f;
  bool broken;
  unsigned generation; /* a transparent reconnect of the backend raises it */
};

static int f_connect(const struct mgo_mg_target *t, struct mgo_mg_conn **conn)
{
  struct mgo_mg_conn *fc = calloc(1, sizeof(*fc));
  *conn = fc;
  for (size_t i = 0; i < nfakes; i++) {
    if (strcmp(fakes[i].ip, t->host) == 0)
      fc->f = &fakes[i];
  }
  assert_non_null(fc->f);
  if (fc->f == NULL)
    return MGO_ECONNECT;
  fc->f->connects++;
  fc->f->last_connect_timeout_ms = t->connect_timeout_ms;
  fc->generation = 1;
  fc->broken = fc->f->down;
  return fc->broken ? MGO_ECONNECT : MGO_OK;
}

static void f_close(struct mgo_mg_conn *conn)
{
  free(conn);
}

static bool f_usable(const struct mgo_mg_conn *conn)
{
  return !conn->broken;
}

static const char *f_error(const struct mgo_mg_conn *conn)
{
  return conn->broken ? "ECONNECT: refused" : "-";
}

static int f_role(struct mgo_mg_conn *conn, enum mgo_role *role)
{
  struct mgo_mg_conn *fc = conn;
  fc->f->role_queries++;
  if (fc->f->reconnects) {
    fc->f->reconnects = false;
    fc->generation++;
  }
  if (fc->f->frozen)
    mgo_fake_clock_advance_ms(&tclock, 100); /* the whole deadline passes without an answer */
  if (fc->f->role_fails || fc->f->frozen) {
    fc->broken = true;
    return MGO_ETIMEDOUT;
  }
  *role = fc->f->role;
  return MGO_OK;
}

static int f_version(struct mgo_mg_conn *conn, char *dst, size_t dstsz)
{
  struct mgo_mg_conn *fc = conn;
  fc->f->version_queries++;
  return mgo_strlcpy(dst, fc->f->version != NULL ? fc->f->version : "3.5.1-open-source", dstsz);
}

static int f_replicas(struct mgo_mg_conn *conn, struct rec_registration *regs, size_t max, size_t *n)
{
  struct mgo_mg_conn *fc = conn;
  fc->f->replicas_queries++;
  assert_true(fc->f->nregs <= max);
  memcpy(regs, fc->f->regs, fc->f->nregs * sizeof(*regs));
  *n = fc->f->nregs;
  return MGO_OK;
}

static int f_data(struct mgo_mg_conn *conn, enum rec_data *data)
{
  struct mgo_mg_conn *fc = conn;
  fc->f->data_queries++;
  *data = fc->f->data;
  return MGO_OK;
}

static int f_execute(struct mgo_mg_conn *conn, const struct rec_action *a)
{
  struct mgo_mg_conn *fc = conn;
  fc->f->executes++;
  fc->f->last_busy = false;
  if (fc->f->busy_refusals > 0) {
    fc->f->busy_refusals--;
    fc->f->last_busy = true;
    if (fc->f->demoted_when_refused)
      fc->f->role = MGO_ROLE_REPLICA;
    return MGO_EFAILURE;
  }
  if (fc->f->fail_replica != NULL && strcmp(fc->f->fail_replica, a->replica) == 0)
    return MGO_EFAILURE;
  if (a->type == REC_ACT_DEMOTE)
    fc->f->role = MGO_ROLE_REPLICA;
  return MGO_OK;
}

static bool f_failed_busy(const struct mgo_mg_conn *conn)
{
  return conn->f->last_busy;
}

static unsigned f_connects(const struct mgo_mg_conn *conn)
{
  return conn->generation;
}

static const struct mgo_mg_ops fake_ops = {.connect = f_connect,
                                           .close = f_close,
                                           .usable = f_usable,
                                           .error = f_error,
                                           .show_role = f_role,
                                           .show_version = f_version,
                                           .show_replicas = f_replicas,
                                           .has_data = f_data,
                                           .execute = f_execute,
                                           .failed_busy = f_failed_busy,
                                           .connects = f_connects};

static struct rec_registration reg(const char *name, int64_t ts, int64_t behind)
{
  struct rec_registration r;
  memset(&r, 0, sizeof(r));
  (void) mgo_strlcpy(r.name, name, sizeof(r.name));
  r.has_data_info = true;
  r.state = REC_RS_READY;
  r.ts = ts;
  r.behind = behind;
  return r;
}

/* One observation (pods, then Bolt) with a Bolt deadline of deadline_ms for connect and query. */
static unsigned long observe_deadline(struct op_cluster *cs, const struct mgo_cluster *c, const json_t *pods,
                                      const json_t *old_status, struct rec_observed *obs, int deadline_ms)
{
  struct op_live live = {.mg = &fake_ops,
                         .clock = mgo_fake_clock_get(&tclock),
                         .connect_timeout_ms = deadline_ms,
                         .query_timeout_ms = deadline_ms,
                         .pods = pods};
  op_observe_pods(c, pods, old_status, NULL, obs);
  op_observe_live(cs, c, &live, obs);
  return live.queries;
}

/* With the fakes' deadline of 100 ms (a frozen fake moves the clock by it). */
static void observe_with_status(struct op_cluster *cs, const struct mgo_cluster *c, const json_t *pods,
                                const json_t *old_status, struct rec_observed *obs, unsigned long *queries)
{
  *queries = observe_deadline(cs, c, pods, old_status, obs, 100);
}

static void observe(struct op_cluster *cs, const struct mgo_cluster *c, const json_t *pods,
                    struct rec_observed *obs, unsigned long *queries)
{
  observe_with_status(cs, c, pods, NULL, obs, queries);
}

/* With the operator's default Bolt deadline of 5 s. */
static void observe_5s(struct op_cluster *cs, const struct mgo_cluster *c, const json_t *pods,
                       struct rec_observed *obs)
{
  (void) observe_deadline(cs, c, pods, NULL, obs, 5000);
}

/* n ready pods mg-<i> (uid u-<i>, IP 127.1.0.<i+1>), as the fakes number them. New reference. */
static json_t *ready_pods(int n)
{
  json_t *pods = json_array();
  for (int i = 0; i < n; i++) {
    char name[16], uid[16], ip[16];
    (void) snprintf(name, sizeof(name), "mg-%d", i);
    (void) snprintf(uid, sizeof(uid), "u-%d", i);
    (void) snprintf(ip, sizeof(ip), "127.1.0.%d", i + 1);
    json_array_append_new(pods, pod(name, uid, ip, true, "", 0, false));
  }
  return pods;
}

/* Closes the fake connections and frees what a live test allocated. */
static void finish(struct op_cluster *cs, json_t *pods, struct mgo_cluster *c, struct rec_observed *obs)
{
  op_cluster_close(cs, &fake_ops);
  json_decref(pods);
  mgo_cluster_free(c);
  free(obs);
  free(cs);
}

static void live_fills_roles_replicas_and_reuses_connections(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = ready_pods(3);
  unsigned long q = 0;
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 3;
  fakes[0] =
      (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .data = REC_DATA_PRESENT, .nregs = 2};
  fakes[0].regs[0] = reg("mg_1", 40, 0);
  fakes[0].regs[1] = reg("mg_2", 30, -10);
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA};
  fakes[2] = (struct fake_instance){.ip = "127.1.0.3", .role = MGO_ROLE_REPLICA, .down = true};
  cluster(&c, 3, "mg-0");

  observe(cs, &c, pods, obs, &q);
  assert_true(obs->inst[0].reachable);
  assert_int_equal(obs->inst[0].role, MGO_ROLE_MAIN);
  assert_true(obs->inst[0].replicas_known);
  assert_int_equal(obs->inst[0].n_registrations, 2);
  assert_int_equal(obs->inst[0].data, REC_DATA_PRESENT);
  assert_int_equal(obs->inst[0].version_major, 3);
  assert_int_equal(obs->inst[0].version_minor, 5);
  assert_int_equal(obs->inst[1].role, MGO_ROLE_REPLICA);
  assert_int_equal(obs->inst[1].data, REC_DATA_UNKNOWN); /* a MAIN with data is recorded: not needed */
  assert_int_equal(obs->inst[1].last_known_ts, 40);      /* from the MAIN's SHOW REPLICAS */
  assert_int_equal(obs->inst[2].last_known_ts, 30);
  assert_false(obs->inst[2].reachable);
  assert_non_null(strstr(obs->inst[2].last_error, "connect"));
  assert_int_equal(q, 2 + 2 + 1 + 1); /* roles and versions of the 2 reachable, SHOW REPLICAS, MAIN's data */

  /* second pass: same connections, no SHOW VERSION again, the down pod retried */
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[0].connects, 1);
  assert_int_equal(fakes[1].connects, 1);
  assert_int_equal(fakes[2].connects, 2);
  assert_int_equal(fakes[0].version_queries, 1);
  assert_int_equal(q, 2 + 1 + 1);
  assert_int_equal(obs->inst[0].version_minor, 5); /* remembered per connection */

  /* a new incarnation of mg-1 (new uid): reconnect, forget what was known about its data */
  json_array_set_new(pods, 1, pod("mg-1", "u-1b", "127.1.0.2", true, "", 0, false));
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[1].connects, 2);
  assert_int_equal(obs->inst[1].last_known_ts, 40); /* learned again from the MAIN in this pass */

  /* the same connection reconnected underneath (the process restarted, maybe upgraded): its version is asked
   * again in the same observation, never served from the old process */
  fakes[0].reconnects = true;
  fakes[0].version = "3.7.0";
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[0].connects, 1);
  assert_int_equal(fakes[0].version_queries, 2);
  assert_int_equal(obs->inst[0].version_minor, 7);
  finish(cs, pods, &c, obs);
}

/* A pod that is not Ready and never answered (since its creation or the operator's start) is connected to
 * with OP_STARTING_CONNECT_MS, not the whole Bolt deadline; once it answered, or once it is Ready, with the
 * whole deadline again. */
static void a_starting_pod_gets_a_short_connect_deadline(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 2;
  fakes[0] = (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .data = REC_DATA_PRESENT};
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA, .down = true};
  cluster(&c, 2, "mg-0");
  json_array_append_new(pods, pod("mg-0", "u-0", "127.1.0.1", true, "main", 0, false));
  json_array_append_new(pods, pod("mg-1", "u-1", "127.1.0.2", false, "", 0, false));

  observe_5s(cs, &c, pods, obs);
  assert_int_equal(fakes[0].last_connect_timeout_ms, 5000); /* Ready */
  assert_int_equal(fakes[1].last_connect_timeout_ms, OP_STARTING_CONNECT_MS);
  assert_false(obs->inst[1].reachable);
  fakes[1].down = false; /* it starts answering, still not Ready */
  observe_5s(cs, &c, pods, obs);
  assert_true(obs->inst[1].reachable);
  fakes[1].role_fails = true; /* the connection breaks: the next connect is to a pod that answered */
  observe_5s(cs, &c, pods, obs);
  fakes[1].role_fails = false;
  observe_5s(cs, &c, pods, obs);
  assert_int_equal(fakes[1].last_connect_timeout_ms, 5000);
  assert_true(obs->inst[1].reachable);
  finish(cs, pods, &c, obs);
}

/* The re-seed rate limit outlives the operator: a fresh operator (no memory) takes reseeds/lastReseed from
 * status, aged by the wall clock; a record older than the window, or malformed, is no memory. */
static void the_reseed_rate_limit_is_read_back_from_status(void **state)
{
  static const struct {
    int reseeds;      /* recorded reseeds */
    bool as_string;   /* ... recorded as a string (malformed) */
    const char *last; /* lastReseed as written; NULL: ago_ms before now */
    int64_t ago_ms;
    int32_t want_reseeds; /* what the observation holds */
    bool held;
  } cases[] = {
      {1, false, NULL, 10000, 1, true},    /* the first gap is 30 s */
      {1, false, NULL, 40000, 1, false},   /* ... over */
      {3, false, NULL, 100000, 3, true},   /* the third gap is 120 s */
      {3, false, NULL, 1800000, 0, false}, /* older than the window: forgotten */
      {2, false, NULL, -60000, 2, true},   /* in the future (skew): taken as now */
      {2, false, "yesterday", 0, 0, false}, {2, true, NULL, 1000, 0, false},
      {-1, false, NULL, 1000, 0, false},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mgo_cluster c;
    struct op_cluster *cs = calloc(1, sizeof(*cs));
    struct rec_observed *obs = calloc(1, sizeof(*obs));
    json_t *pods = ready_pods(2);
    char at[40];
    unsigned long q = 0;
    int64_t wall = mgo_clock_wall_ms(mgo_fake_clock_get(&tclock)) - cases[i].ago_ms;
    assert_int_equal(mgo_time_format_rfc3339(wall * 1000000, 0, at, sizeof(at)), MGO_OK);
    json_t *status = json_pack("{s:[{s:s, s:o, s:s}]}", "instanceStatuses", "pod", "mg-1", "reseeds",
                               cases[i].as_string ? json_string("2") : json_integer(cases[i].reseeds),
                               "lastReseed", cases[i].last != NULL ? cases[i].last : at);
    memset(fakes, 0, sizeof(fakes));
    nfakes = 2;
    fakes[0] = (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .data = REC_DATA_PRESENT};
    fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA};
    cluster(&c, 2, "mg-0");
    observe_with_status(cs, &c, pods, status, obs, &q);
    assert_int_equal(obs->inst[1].reseeds, cases[i].want_reseeds);
    assert_int_equal(obs->inst[1].reseed_held, cases[i].held);
    assert_int_equal(obs->inst[1].last_reseed_wall_ms, cases[i].want_reseeds > 0 ? wall - (wall % 1000) : 0);
    assert_int_equal(obs->inst[0].reseeds, 0);
    finish(cs, pods, &c, obs);
    json_decref(status);
  }
}

/* How long the recorded MAIN has listed a reachable REPLICA invalid, without a break: counted from the first
 * pass that saw it, reset when it heals, when it is registered again, and for a new incarnation; and whether
 * it was listed healthy within REC_UNHEALTHY_GRACE_MS (a dip is graced), and whether it answered as a REPLICA
 * within that time. */
static void a_replica_listed_invalid_is_timed_and_a_dip_graced(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = ready_pods(2);
  unsigned long q = 0;
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 2;
  fakes[0] =
      (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .data = REC_DATA_PRESENT, .nregs = 1};
  fakes[0].regs[0] = reg("mg_1", 40, 0);
  fakes[0].regs[0].state = REC_RS_INVALID;
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA};
  cluster(&c, 2, "mg-0");

  observe(cs, &c, pods, obs, &q);
  assert_int_equal(obs->inst[1].invalid_for_ms, 0); /* first seen now */
  assert_false(obs->inst[1].recently_healthy);      /* never listed healthy: no grace */
  assert_true(obs->inst[1].recently_replica);       /* it answers as a REPLICA now */
  mgo_fake_clock_advance_ms(&tclock, 4000);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(obs->inst[1].invalid_for_ms, 4000);
  fakes[0].regs[0].state = REC_RS_READY; /* healed: the count starts again */
  mgo_fake_clock_advance_ms(&tclock, 1000);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(obs->inst[1].invalid_for_ms, 0);
  assert_true(obs->inst[1].recently_healthy);
  fakes[0].regs[0].state =
      REC_RS_INVALID; /* a dip: graced for REC_UNHEALTHY_GRACE_MS after the last healthy */
  observe(cs, &c, pods, obs, &q);
  assert_true(obs->inst[1].recently_healthy);
  mgo_fake_clock_advance_ms(&tclock, 2000);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(obs->inst[1].invalid_for_ms, 2000);
  assert_true(obs->inst[1].recently_healthy);
  op_note_registered(cs, "mg-1"); /* registered again: a new registration is timed from scratch */
  mgo_fake_clock_advance_ms(&tclock, 2000);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(obs->inst[1].invalid_for_ms, 0);
  assert_true(obs->inst[1].recently_healthy); /* 4 s after the last healthy listing */
  fakes[1].role_fails = true; /* the operator does not reach it either: not a lost identity, not timed */
  mgo_fake_clock_advance_ms(&tclock, 2000);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(obs->inst[1].invalid_for_ms, 0);
  assert_false(obs->inst[1].recently_healthy); /* 6 s: the grace is over */
  assert_true(obs->inst[1].recently_replica);  /* ... but it answered as a REPLICA 2 s ago */
  mgo_fake_clock_advance_ms(&tclock, 3000);
  observe(cs, &c, pods, obs, &q);
  assert_false(obs->inst[1].recently_replica); /* 5 s without an answer */
  assert_false(obs->inst[0].recently_replica); /* the MAIN never answered as a REPLICA */
  finish(cs, pods, &c, obs);
}

/* status.mainUnavailableSince, wall_ms_ago before the fake clock's wall time (ms precision). */
static json_t *status_main_down_since(int64_t wall_ms_ago)
{
  char at[40];
  int64_t wall = mgo_clock_wall_ms(mgo_fake_clock_get(&tclock)) - wall_ms_ago;
  assert_int_equal(mgo_time_format_rfc3339(wall * 1000000, 3, at, sizeof(at)), MGO_OK);
  return json_pack("{s:s, s:s}", "currentMain", "mg-0", "mainUnavailableSince", at);
}

/* The outage start is formatted once and stays the same while the MAIN is down (status does not change per
 * pass); a restarted operator (no memory) takes it from status, so the failover delay already counted is not
 * counted again; a process that remembers outages, or a time in the future, does not trust status. */
static void an_outage_start_is_stable_and_survives_an_operator_restart(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  json_t *old = status_main_down_since(10000), *future = status_main_down_since(-60000);
  char first[40];
  unsigned long q = 0;
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 2;
  fakes[0] = (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .role_fails = true};
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA};
  cluster(&c, 2, "mg-0");
  json_array_append_new(pods, pod("mg-0", "u-0", "127.1.0.1", true, "", 0, false));
  json_array_append_new(pods, pod("mg-1", "u-1", "127.1.0.2", true, "", 0, false));

  observe_with_status(cs, &c, pods, old, obs, &q); /* a fresh process: the recorded outage counts */
  assert_int_equal(obs->main_unavailable_ms, 10000);
  assert_string_equal(obs->main_unavailable_since,
                      json_string_value(json_object_get(old, "mainUnavailableSince")));
  mgo_fake_clock_advance_ms(&tclock, 1500);
  observe_with_status(cs, &c, pods, old, obs, &q);
  assert_int_equal(obs->main_unavailable_ms, 11500);
  assert_string_equal(obs->main_unavailable_since,
                      json_string_value(json_object_get(old, "mainUnavailableSince")));

  fakes[0].role_fails = false; /* it answers: the outage is over, nothing to write */
  observe_with_status(cs, &c, pods, old, obs, &q);
  assert_int_equal(obs->main_unavailable_ms, 0);
  assert_string_equal(obs->main_unavailable_since, "");

  fakes[0].role_fails = true; /* a new outage in a process that remembers: status is not trusted */
  observe_with_status(cs, &c, pods, old, obs, &q);
  assert_int_equal(obs->main_unavailable_ms, 0);
  (void) mgo_strlcpy(first, obs->main_unavailable_since, sizeof(first));
  assert_true(first[0] != '\0');
  assert_string_not_equal(first, json_string_value(json_object_get(old, "mainUnavailableSince")));
  mgo_fake_clock_advance_ms(&tclock, 700);
  observe_with_status(cs, &c, pods, NULL, obs, &q);
  assert_int_equal(obs->main_unavailable_ms, 700);
  assert_string_equal(obs->main_unavailable_since, first); /* the same text on every pass of the outage */
  op_cluster_close(cs, &fake_ops);

  memset(cs, 0, sizeof(*cs)); /* another fresh process, with a time in the future: ignored */
  observe_with_status(cs, &c, pods, future, obs, &q);
  assert_int_equal(obs->main_unavailable_ms, 0);
  op_cluster_close(cs, &fake_ops);
  json_decref(old);
  json_decref(future);
  json_decref(pods);
  mgo_cluster_free(&c);
  free(obs);
  free(cs);
}

/* A crash is read from the pod status (the container waits to be restarted, lastState terminated) or from a
 * restart since the pod last answered; a pod that answers has not crashed, one that is only silent neither.
 */
static void a_crash_is_read_from_the_pod_status_and_from_restarts(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array(), *waiting;
  unsigned long q = 0;
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 1;
  fakes[0] = (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN};
  cluster(&c, 1, "mg-0");
  json_array_append_new(pods, pod("mg-0", "u-0", "127.1.0.1", true, "", 0, false));
  observe(cs, &c, pods, obs, &q);
  assert_true(obs->inst[0].reachable);
  assert_false(obs->inst[0].crashed);

  fakes[0].role_fails = true; /* silent, same restart count: not a crash */
  observe(cs, &c, pods, obs, &q);
  assert_false(obs->inst[0].reachable);
  assert_false(obs->inst[0].crashed);

  json_array_set_new(pods, 0, pod("mg-0", "u-0", "127.1.0.1", false, "", 1, false)); /* restarted since */
  observe(cs, &c, pods, obs, &q);
  assert_true(obs->inst[0].crashed);

  waiting = pod("mg-0", "u-0", "127.1.0.1", false, "", 1, false); /* ended, waiting to be restarted */
  json_object_set_new(
      json_array_get(json_object_get(json_object_get(waiting, "status"), "containerStatuses"), 0), "state",
      json_pack("{s:{s:s}}", "waiting", "reason", "CrashLoopBackOff"));
  json_object_set_new(
      json_array_get(json_object_get(json_object_get(waiting, "status"), "containerStatuses"), 0),
      "lastState", json_pack("{s:{s:i}}", "terminated", "exitCode", 137));
  json_array_set_new(pods, 0, waiting);
  op_cluster_close(cs, &fake_ops);
  memset(cs, 0, sizeof(*cs)); /* even an operator with no memory of it (restarted) */
  observe(cs, &c, pods, obs, &q);
  assert_true(obs->inst[0].crashed);

  fakes[0].role_fails = false; /* back (fenced, as a REPLICA): answering is never a crash */
  json_array_set_new(pods, 0, pod("mg-0", "u-0", "127.1.0.1", true, "", 1, false));
  observe(cs, &c, pods, obs, &q);
  assert_false(obs->inst[0].crashed);
  finish(cs, pods, &c, obs);
}

/* A pod that let the whole deadline pass is not probed again within the next deadline (passes right after a
 * role change do not wait for it again), then is. */
static void a_silent_pod_is_held_for_one_deadline(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  unsigned long q = 0;
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 2;
  fakes[0] = (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .frozen = true};
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA};
  cluster(&c, 2, "mg-0");
  json_array_append_new(pods, pod("mg-0", "u-0", "127.1.0.1", true, "", 0, false));
  json_array_append_new(pods, pod("mg-1", "u-1", "127.1.0.2", true, "", 0, false));

  observe(cs, &c, pods, obs, &q);
  assert_false(obs->inst[0].reachable);
  assert_int_equal(obs->main_unavailable_ms, 100); /* counted from the start of the probe that failed */
  assert_int_equal(fakes[0].role_queries, 1);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[0].role_queries, 1); /* held */
  assert_false(obs->inst[0].reachable);
  assert_non_null(strstr(obs->inst[0].last_error, "deadline"));
  assert_true(obs->inst[1].reachable);
  mgo_fake_clock_advance_ms(&tclock, 99);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[0].role_queries, 1); /* still held: one deadline has not passed yet */
  mgo_fake_clock_advance_ms(&tclock, 1);
  fakes[0].frozen = false;
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[0].role_queries, 2); /* probed again, and answers */
  assert_true(obs->inst[0].reachable);
  finish(cs, pods, &c, obs);
}

static void bootstrap_asks_every_pod_for_data_and_probes_unready_ones_too(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  unsigned long q = 0;
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 3;
  fakes[0] = (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .data = REC_DATA_EMPTY};
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_MAIN, .data = REC_DATA_PRESENT};
  fakes[2] = (struct fake_instance){.ip = "127.1.0.3", .role = MGO_ROLE_MAIN, .role_fails = true};
  cluster(&c, 3, "");
  json_array_append_new(pods, pod("mg-0", "u-0", "127.1.0.1", true, "", 0, false));
  json_array_append_new(pods, pod("mg-1", "u-1", "127.1.0.2", true, "", 0, false));
  json_array_append_new(pods, pod("mg-2", "u-2", "", false, "", 0, false)); /* no IP yet */

  observe(cs, &c, pods, obs, &q);
  assert_int_equal(obs->inst[0].data, REC_DATA_EMPTY);
  assert_int_equal(obs->inst[1].data, REC_DATA_PRESENT);
  assert_false(obs->inst[2].reachable);
  assert_string_equal(obs->inst[2].last_error, "the pod has no IP yet");
  assert_int_equal(fakes[2].connects, 0);

  /* Not Ready but running: probed all the same (a thawed or restarted old MAIN answers before its readiness
   * probe passes, and must be seen as MAIN at once). */
  fakes[2].role_fails = false;
  json_array_set_new(pods, 2, pod("mg-2", "u-2", "127.1.0.3", false, "", 0, false));
  observe(cs, &c, pods, obs, &q);
  assert_true(obs->inst[2].reachable);
  assert_false(obs->inst[2].pod_ready);
  assert_int_equal(obs->inst[2].role, MGO_ROLE_MAIN);
  assert_int_equal(fakes[2].connects, 1);
  fakes[2].role_fails = true;

  /* ready but the role query times out: unreachable, the broken connection is dropped */
  json_array_set_new(pods, 2, pod("mg-2", "u-2", "127.1.0.3", true, "", 0, false));
  observe(cs, &c, pods, obs, &q);
  assert_false(obs->inst[2].reachable);
  assert_non_null(strstr(obs->inst[2].last_error, "SHOW REPLICATION ROLE"));
  assert_null(op_conn_of(cs, "mg-2"));
  finish(cs, pods, &c, obs);
}

static void an_empty_main_with_empty_replicas_in_sync_spares_their_data_queries(void **state)
{
  struct mgo_cluster c;
  struct op_cluster *cs = calloc(1, sizeof(*cs));
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  unsigned long q = 0;
  (void) state;
  memset(fakes, 0, sizeof(fakes));
  nfakes = 3;
  fakes[0] =
      (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .data = REC_DATA_EMPTY, .nregs = 2};
  fakes[0].regs[0] = reg("mg_1", 0, 0);
  fakes[0].regs[1] = reg("mg_2", 0, 0);
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA, .data = REC_DATA_EMPTY};
  fakes[2] = (struct fake_instance){.ip = "127.1.0.3", .role = MGO_ROLE_REPLICA, .data = REC_DATA_PRESENT};
  cluster(&c, 3, "mg-0");
  json_array_append_new(pods, pod("mg-0", "u-0", "127.1.0.1", true, "", 0, false));
  json_array_append_new(pods, pod("mg-1", "u-1", "127.1.0.2", true, "", 0, false));
  json_array_append_new(pods, pod("mg-2", "u-2", "127.1.0.3", true, "", 0, false));

  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[1].data_queries + fakes[2].data_queries, 0);
  assert_int_equal(obs->inst[1].data, REC_DATA_EMPTY);

  /* mg_2 not in sync at ts 0 (it has data the empty MAIN lacks): every pod is asked */
  fakes[0].regs[1] = reg("mg_2", 5, 0);
  observe(cs, &c, pods, obs, &q);
  assert_int_equal(fakes[1].data_queries, 1);
  assert_int_equal(fakes[2].data_queries, 1);
  assert_int_equal(obs->inst[2].data, REC_DATA_PRESENT);
  finish(cs, pods, &c, obs);
}

/* ---- act: the plan's Bolt actions against the same fake ----------------------------------------------- */

static struct rec_action *add(struct rec_plan *plan, enum rec_action_type type, const char *pod,
                              const char *replica)
{
  struct rec_action *a = &plan->a[plan->n++];
  memset(a, 0, sizeof(*a));
  a->type = type;
  (void) mgo_strlcpy(a->pod, pod, sizeof(a->pod));
  (void) mgo_strlcpy(a->replica, replica, sizeof(a->replica));
  (void) mgo_strlcpy(a->reason, "Test", sizeof(a->reason));
  (void) mgo_snprintf(a->address, sizeof(a->address), "%s.mg-hl.db.svc:10000", pod);
  return a;
}

struct act_fixture {
  struct fake_ports f;
  json_t *pods;
};

static void act_setup(struct act_fixture *fx, int instances)
{
  unsigned long q = 0;
  memset(fx, 0, sizeof(*fx));
  fake_ports_init(&fx->f);
  memset(fakes, 0, sizeof(fakes));
  nfakes = 2;
  fakes[0] = (struct fake_instance){.ip = "127.1.0.1", .role = MGO_ROLE_MAIN, .data = REC_DATA_PRESENT};
  fakes[1] = (struct fake_instance){.ip = "127.1.0.2", .role = MGO_ROLE_REPLICA};
  cluster(&fx->f.ctx.c, instances, "mg-0");
  fx->f.ctx.parsed = true;
  fx->f.ctx.mg = &fake_ops;
  fx->f.ctx.obj = fake_cluster_json("{\"instances\":2}", NULL); /* what Events are about */
  fx->f.ctx.obs = calloc(1, sizeof(*fx->f.ctx.obs));
  fx->f.ctx.plan = calloc(1, sizeof(*fx->f.ctx.plan));
  fx->pods = json_array();
  json_array_append_new(fx->pods, pod("mg-0", "u-0", "127.1.0.1", true, "", 0, false));
  json_array_append_new(fx->pods, pod("mg-1", "u-1", "127.1.0.2", true, "", 0, false));
  observe(fx->f.ctx.cs, &fx->f.ctx.c, fx->pods, fx->f.ctx.obs, &q);
}

static void act_teardown(struct act_fixture *fx)
{
  json_decref(fx->pods);
  fake_ports_free(&fx->f);
}

static void act_stops_at_the_first_failed_bolt_action(void **state)
{
  struct act_fixture fx;
  struct rec_action *a;
  struct op_result r;
  (void) state;
  act_setup(&fx, 3);
  fakes[0].fail_replica = "mg_2";
  a = add(fx.f.ctx.plan, REC_ACT_REGISTER, "mg-0", "mg_1");
  (void) mgo_strlcpy(a->replica_pod, "mg-1", sizeof(a->replica_pod));
  (void) mgo_strlcpy(a->replica_pod_uid, "u-1", sizeof(a->replica_pod_uid));
  a->replica_restart_count = 4;
  add(fx.f.ctx.plan, REC_ACT_REGISTER, "mg-0", "mg_2");
  add(fx.f.ctx.plan, REC_ACT_DROP, "mg-0", "mg_3");
  add(fx.f.ctx.plan, REC_ACT_REQUEUE, "", "")->after_sec = 5;

  r = op_step_act(&fx.f.ctx);
  assert_int_equal(r.next, OP_REQUEUE);
  assert_int_equal(fakes[0].executes, 2);  /* the DROP after the failure is not sent */
  assert_int_equal(r.error, MGO_EFAILURE); /* an error: the runtime retries with backoff */
  assert_true(fake_has_event(&fx.f, "ReplicaRegistered"));
  assert_true(fake_has_event(&fx.f, "ReplicationCommandFailed"));
  assert_non_null(strstr(fx.f.ctx.error, "mg-0"));
  assert_non_null(strstr(fx.f.ctx.obs->inst[0].last_error, "failed"));
  /* the successful REGISTER is recorded for the status: which incarnation was registered */
  assert_string_equal(fx.f.ctx.obs->inst[1].registered_pod_uid, "u-1");
  assert_int_equal(fx.f.ctx.obs->inst[1].registered_restart_count, 4);
  act_teardown(&fx);
}

static void act_takes_the_plans_requeue_and_hurries_scale_down(void **state)
{
  struct act_fixture fx;
  struct op_result r;
  (void) state;
  act_setup(&fx, 2);
  add(fx.f.ctx.plan, REC_ACT_CONDITION, "", "");
  add(fx.f.ctx.plan, REC_ACT_REQUEUE, "", "")->after_sec = 7;
  r = op_step_act(&fx.f.ctx);
  assert_int_equal(r.next, OP_CONTINUE);
  assert_int_equal(r.after_ms, 7000);
  assert_int_equal(fakes[0].executes, 0);

  /* a DROP while the StatefulSet still keeps a leaving pod: re-observe at once so it can shrink */
  fx.f.ctx.plan->n = 0;
  fx.f.ctx.plan->allowed_pods = 3;
  add(fx.f.ctx.plan, REC_ACT_DROP, "mg-0", "mg_2");
  add(fx.f.ctx.plan, REC_ACT_REQUEUE, "", "")->after_sec = 5;
  r = op_step_act(&fx.f.ctx);
  assert_int_equal(r.next, OP_CONTINUE);
  assert_int_equal(r.after_ms, 0);
  assert_int_equal(fakes[0].executes, 1);
  assert_int_equal(r.error, MGO_OK);
  act_teardown(&fx);
}

/* A REGISTER, DROP or demotion refused while a commit holds the replication-state lock is tried again within
 * the pass, every 20 ms on the pass's clock, 25 times at most; the plan goes on once it succeeds. */
static void act_tries_a_command_refused_by_a_busy_lock_again(void **state)
{
  struct act_fixture fx;
  struct op_result r;
  int64_t t0;
  (void) state;
  act_setup(&fx, 3);
  fakes[0].busy_refusals = 3;
  add(fx.f.ctx.plan, REC_ACT_DEMOTE, "mg-0", "")->port = 10000;
  add(fx.f.ctx.plan, REC_ACT_PROMOTE, "mg-1", "");
  t0 = mgo_clock_mono_ms(fx.f.ctx.clock);
  r = op_step_act(&fx.f.ctx);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(fakes[0].executes, 4);
  assert_int_equal(fakes[1].executes, 1);
  assert_int_equal(mgo_clock_mono_ms(fx.f.ctx.clock) - t0, 3 * 20);
  assert_false(fake_has_event(&fx.f, "ReplicationCommandFailed"));

  /* refused throughout: 25 tries, then the pass fails before the promotion */
  fakes[0].role = MGO_ROLE_MAIN;
  fakes[0].busy_refusals = 1000;
  fakes[0].executes = fakes[1].executes = 0;
  r = op_step_act(&fx.f.ctx);
  assert_int_equal(r.error, MGO_EFAILURE);
  assert_int_equal(fakes[0].executes, 25);
  assert_int_equal(fakes[1].executes, 0);
  assert_true(fake_has_event(&fx.f, "ReplicationCommandFailed"));
  act_teardown(&fx);
}

/* A demotion refused because the instance is a REPLICA already (its agent demoted it first) is done. */
static void act_takes_a_demotion_done_meanwhile_as_done(void **state)
{
  struct act_fixture fx;
  (void) state;
  act_setup(&fx, 3);
  fakes[0].busy_refusals = 1;
  fakes[0].demoted_when_refused = true;
  add(fx.f.ctx.plan, REC_ACT_DEMOTE, "mg-0", "")->port = 10000;
  add(fx.f.ctx.plan, REC_ACT_PROMOTE, "mg-1", "");
  assert_int_equal(op_step_act(&fx.f.ctx).error, MGO_OK);
  assert_int_equal(fakes[0].executes, 1);
  assert_int_equal(fakes[1].executes, 1);
  act_teardown(&fx);
}

static void act_without_a_connection_fails_cleanly(void **state)
{
  struct act_fixture fx;
  (void) state;
  act_setup(&fx, 3);
  add(fx.f.ctx.plan, REC_ACT_PROMOTE, "mg-2", ""); /* no pod, no connection */
  assert_int_equal(op_step_act(&fx.f.ctx).error, MGO_ECONNECT);
  assert_non_null(strstr(fx.f.ctx.error, "mg-2"));
  act_teardown(&fx);
}

/* ---- the HTTP snapshot of a pass (the /api/v1/clusters/{ns}/{name} contract) ------------------------- */

static void snapshot_has_the_documented_shape(void **state)
{
  struct act_fixture fx;
  json_t *snap, *inst, *main_entry, *rep;
  (void) state;
  act_setup(&fx, 2);
  fakes[0].nregs = 1;
  fakes[0].regs[0] = reg("mg_1", 9, -2);
  fakes[0].regs[0].mode = MGO_MODE_SYNC;
  {
    unsigned long q = 0;
    observe(fx.f.ctx.cs, &fx.f.ctx.c, fx.pods, fx.f.ctx.obs, &q);
  }
  json_decref(fx.f.ctx.obj);
  fx.f.ctx.obj = fake_json("{\"status\":{\"phase\":\"Running\",\"currentMain\":\"mg-0\"}}");
  add(fx.f.ctx.plan, REC_ACT_REQUEUE, "", "")->after_sec = 5;
  snap = op_snapshot(&fx.f.ctx, "2026-01-01T00:00:00Z", false);
  assert_non_null(snap);
  assert_string_equal(json_string_value(json_object_get(snap, "namespace")), "db");
  assert_string_equal(json_string_value(json_object_get(snap, "phase")), "Running");
  assert_string_equal(json_string_value(json_object_get(snap, "currentMain")), "mg-0");
  assert_true(json_is_null(json_object_get(snap, "lastError")));
  assert_int_equal(json_array_size(json_object_get(snap, "plan")), 1);
  assert_string_equal(json_string_value(json_array_get(json_object_get(snap, "syncReplicas"), 0)), "mg_1");
  inst = json_object_get(snap, "instances");
  assert_int_equal(json_array_size(inst), 2);
  main_entry = json_array_get(inst, 0);
  assert_string_equal(json_string_value(json_object_get(main_entry, "role")), "main");
  assert_true(json_is_true(json_object_get(main_entry, "reachable")));
  assert_string_equal(json_string_value(json_object_get(main_entry, "version")), "3.5.1");
  assert_string_equal(json_string_value(json_object_get(main_entry, "lastSeen")), "2026-01-01T00:00:00Z");
  rep = json_array_get(json_object_get(main_entry, "replicas"), 0);
  assert_string_equal(json_string_value(json_object_get(rep, "mode")), "SYNC");
  assert_string_equal(json_string_value(json_object_get(rep, "state")), "ready");
  assert_int_equal(json_integer_value(json_object_get(rep, "behind")), 2); /* positive: transactions behind */
  assert_null(json_object_get(json_array_get(inst, 1), "replicas"));       /* only MAINs list replicas */
  /* seed 000's sync fields: only from a MAIN of the plan whose SHOW REPLICAS answered */
  assert_true(json_is_null(json_object_get(snap, "syncReplicaHealthy")));
  assert_int_equal(json_array_size(json_object_get(snap, "currentSyncReplicas")), 0);
  json_decref(snap);
  (void) mgo_strlcpy(fx.f.ctx.plan->main_pod, "mg-0", sizeof(fx.f.ctx.plan->main_pod));
  snap = op_snapshot(&fx.f.ctx, "2026-01-01T00:00:00Z", false);
  assert_true(json_is_true(json_object_get(snap, "syncReplicaHealthy")));
  assert_string_equal(json_string_value(json_array_get(json_object_get(snap, "currentSyncReplicas"), 0)),
                      "mg-1");
  inst = json_object_get(snap, "instances");
  assert_true(json_is_false(json_object_get(json_array_get(inst, 0), "isSyncReplica")));
  assert_true(json_is_true(json_object_get(json_array_get(inst, 1), "isSyncReplica")));
  json_decref(snap);
  fx.f.ctx.obs->inst[0].registrations[0].state = REC_RS_RECOVERY;
  snap = op_snapshot(&fx.f.ctx, "2026-01-01T00:00:00Z", false);
  assert_true(json_is_false(json_object_get(snap, "syncReplicaHealthy")));
  json_decref(snap);
  act_teardown(&fx);
}

/* What the last status says of the cluster's past: resuming from a hibernation, never Ready yet. */
static void pods_read_the_clusters_history_from_status(void **state)
{
  static const struct {
    const char *status;
    bool resuming, initializing;
  } rows[] = {
      {"{}", false, true},
      {"{\"phase\":\"Initializing\"}", false, true},
      {"{\"phase\":\"Running\"}", false, false},
      {"{\"phase\":\"Hibernated\",\"conditions\":[{\"type\":\"Hibernated\",\"status\":\"True\"}]}", true,
       false},
      {"{\"phase\":\"Degraded\",\"conditions\":[{\"type\":\"Hibernated\",\"status\":\"False\","
       "\"reason\":\"Resuming\"}]}",
       true, false},
      {"{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Hibernated\",\"status\":\"False\","
       "\"reason\":\"Resumed\"}]}",
       false, false},
  };
  struct mgo_cluster c;
  struct rec_observed *obs = calloc(1, sizeof(*obs));
  json_t *pods = json_array();
  (void) state;
  cluster(&c, 1, "");
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    json_t *old = fake_json(rows[i].status);
    op_observe_pods(&c, pods, old, NULL, obs);
    assert_int_equal(obs->resuming, rows[i].resuming);
    assert_int_equal(obs->initializing, rows[i].initializing);
    json_decref(old);
  }
  json_decref(pods);
  free(obs);
  mgo_cluster_free(&c);
}

int main(void)
{
  fake_clock_init(&tclock);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pods_fill_every_desired_ordinal_sorted),
      cmocka_unit_test(pods_read_the_clusters_history_from_status),
      cmocka_unit_test(pods_take_failover_facts_from_status_and_revisions),
      cmocka_unit_test(pods_report_the_snapshot_they_recovered_from),
      cmocka_unit_test(live_fills_roles_replicas_and_reuses_connections),
      cmocka_unit_test(a_starting_pod_gets_a_short_connect_deadline),
      cmocka_unit_test(the_reseed_rate_limit_is_read_back_from_status),
      cmocka_unit_test(a_silent_pod_is_held_for_one_deadline),
      cmocka_unit_test(a_replica_listed_invalid_is_timed_and_a_dip_graced),
      cmocka_unit_test(an_outage_start_is_stable_and_survives_an_operator_restart),
      cmocka_unit_test(a_crash_is_read_from_the_pod_status_and_from_restarts),
      cmocka_unit_test(bootstrap_asks_every_pod_for_data_and_probes_unready_ones_too),
      cmocka_unit_test(an_empty_main_with_empty_replicas_in_sync_spares_their_data_queries),
      cmocka_unit_test(act_stops_at_the_first_failed_bolt_action),
      cmocka_unit_test(act_takes_the_plans_requeue_and_hurries_scale_down),
      cmocka_unit_test(act_tries_a_command_refused_by_a_busy_lock_again),
      cmocka_unit_test(act_takes_a_demotion_done_meanwhile_as_done),
      cmocka_unit_test(act_without_a_connection_fails_cleanly),
      cmocka_unit_test(snapshot_has_the_documented_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
