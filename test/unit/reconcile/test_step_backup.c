/* The backup step (step_backup.c, backup_cluster.c, backup_upload.c, backup_schedule.c) against fake ports:
 * the Kubernetes port of fake_ports.h, and in this file a fake Memgraph (struct mgo_mg_ops), a fake agent
 * (struct op_agent_port) and a fake S3 (struct op_s3_port). Each MemgraphBackup is driven pass by pass. */
#include "backup_int.h"
#include "fake_ports.h"
#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "s3.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SECRET_KEY "s3cr3t-K3y-NEVER-SHOWN"
#define SECRET_KEY_B64 "czNjcjN0LUszeS1ORVZFUi1TSE9XTg=="
#define ACCESS_KEY "AKIDTEST"
#define ACCESS_KEY_B64 "QUtJRFRFU1Q="
#define SNAP_FILE "20260101000000_timestamp_42"
#define JOB_RUNNING "{\"id\":\"job-1\",\"state\":\"running\"}"
#define JOB_DONE "{\"id\":\"job-1\",\"state\":\"completed\",\"size\":4096,\"sha256\":\"" SHA "\"}"
#define JOB_SIG_FAILED                                                                                       \
  "{\"id\":\"job-1\",\"state\":\"failed\",\"error\":{\"code\":\"SignatureDoesNotMatch\",\"message\":"        \
  "\"The request signature we calculated does not match the signature you provided\"}}"
#define SHA "aaaabbbbccccddddeeeeffff00001111aaaabbbbccccddddeeeeffff00001111"

/* ---- a fake Memgraph: every backup query is logged as "<pod> <QUERY>" --------------------------------- */

struct mgo_mg_conn {
  const char *pod;
};

static struct mgo_mg_conn mconns[3] = {{"mg-0"}, {"mg-1"}, {"mg-2"}};
static json_t *mg_log;

static void mg_note(const struct mgo_mg_conn *c, const char *query)
{
  char line[128];
  (void) mgo_snprintf(line, sizeof(line), "%s %s", c->pod, query);
  json_array_append_new(mg_log, json_string(line));
}

/* How many logged queries equal line. */
static int mg_sent(const char *line)
{
  size_t i;
  json_t *q;
  int n = 0;
  json_array_foreach(mg_log, i, q) n += strcmp(json_string_value(q), line) == 0;
  return n;
}

static const char *fm_error(const struct mgo_mg_conn *conn)
{
  (void) conn;
  return "fake error";
}

static int fm_create_snapshot(struct mgo_mg_conn *conn, char *path, size_t pathsz)
{
  mg_note(conn, "CREATE SNAPSHOT");
  return mgo_snprintf(path, pathsz, "/var/lib/memgraph/snapshots/%s", SNAP_FILE);
}

static int fm_snapshot_info(struct mgo_mg_conn *conn, const char *path, struct mgo_mg_snapshot *out)
{
  mg_note(conn, "SHOW SNAPSHOTS");
  memset(out, 0, sizeof(*out));
  (void) mgo_strlcpy(out->path, path, sizeof(out->path));
  out->timestamp = 42;
  return MGO_OK;
}

static int fm_lock(struct mgo_mg_conn *conn, bool lock)
{
  mg_note(conn, lock ? "LOCK DATA DIRECTORY" : "UNLOCK DATA DIRECTORY");
  return MGO_OK;
}

static int fm_counts(struct mgo_mg_conn *conn, int64_t *vertices, int64_t *edges)
{
  mg_note(conn, "SHOW STORAGE INFO");
  *vertices = 10;
  *edges = 7;
  return MGO_OK;
}

static const struct mgo_mg_ops fake_mg = {.connect = fake_mg_connect_refused,
                                          .close = fake_mg_close,
                                          .usable = fake_mg_usable,
                                          .error = fm_error,
                                          .create_snapshot = fm_create_snapshot,
                                          .snapshot_info = fm_snapshot_info,
                                          .lock_data_directory = fm_lock,
                                          .storage_counts = fm_counts};

/* ---- a fake agent and a fake S3 ------------------------------------------------------------------------ */

struct fake_agent {
  json_t *requests; /* copies of every upload request */
  json_t *job;      /* what GET /v1/uploads/{id} answers */
  int job_rc;       /* != MGO_OK: what job() returns instead */
  int uploads, polls;
  char last_ip[64];
};

static int fa_upload(void *arg, const char *ip, const char *token, const json_t *request, char *id,
                     size_t idsz, char *err, size_t errsz)
{
  struct fake_agent *a = arg;
  (void) err;
  (void) errsz;
  assert_string_equal(token, "agent-token");
  a->uploads++;
  json_array_append_new(a->requests, json_deep_copy(request));
  (void) mgo_strlcpy(a->last_ip, ip, sizeof(a->last_ip));
  return mgo_snprintf(id, idsz, "job-%d", a->uploads);
}

static int fa_job(void *arg, const char *ip, const char *token, const char *id, json_t **out, char *err,
                  size_t errsz)
{
  struct fake_agent *a = arg;
  (void) ip;
  (void) token;
  (void) id;
  a->polls++;
  *out = NULL;
  if (a->job_rc != MGO_OK) {
    (void) mgo_strlcpy(err, "no such upload", errsz);
    return a->job_rc;
  }
  *out = json_deep_copy(a->job);
  return MGO_OK;
}

struct fake_s3 {
  struct fake_ports *f;
  json_t *deleted;     /* keys asked to be deleted */
  int rc;              /* what delete_object returns */
  int kube_deletes;    /* Kubernetes deletes logged before the last S3 delete */
  char access_key[64]; /* of the last call */
};

static int fs_delete(void *arg, const struct s3_config *cfg, const char *key, struct s3_error *err)
{
  struct fake_s3 *s = arg;
  json_array_append_new(s->deleted, json_string(key));
  s->kube_deletes = fake_calls(s->f, "delete");
  (void) mgo_strlcpy(s->access_key, cfg->access_key, sizeof(s->access_key));
  memset(err, 0, sizeof(*err));
  if (s->rc != MGO_OK) {
    err->http_status = 403;
    (void) mgo_strlcpy(err->code, "AccessDenied", sizeof(err->code));
  }
  return s->rc;
}

static int fs_head(void *arg, const struct s3_config *cfg, const char *key, uint64_t *size, char sha256[65],
                   struct s3_error *err)
{
  (void) arg;
  (void) cfg;
  (void) key;
  (void) size;
  (void) sha256;
  (void) err;
  return MGO_EUNSUPPORTED;
}

/* ---- fixture ------------------------------------------------------------------------------------------- */

struct bk {
  struct fake_ports f;
  struct fake_agent agent;
  struct fake_s3 s3;
  struct op_agent_port aport;
  struct op_s3_port sport;
  FILE *log; /* what mgo_log wrote during the test */
};

/* A spec with S3 (bucket bk, prefix pfx, Secret s3-creds) and extra fields of spec.backup (",..." or ""). */
static void spec_with_s3(char *dst, size_t dstsz, const char *extra)
{
  (void) mgo_snprintf(dst, dstsz,
                      "{\"instances\":3,\"backup\":{\"s3\":{\"bucket\":\"bk\",\"secretName\":\"s3-creds\","
                      "\"prefix\":\"pfx\",\"endpoint\":\"http://s3.test:9000\",\"forcePathStyle\":true}%s}}",
                      extra);
}

static void put_secret(struct fake_ports *f)
{
  fake_put(f, &K8S_RES_SECRETS,
           fake_json(
               "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s3-creds\",\"namespace\":"
               "\"db\"},\"data\":{\"accessKeyId\":\"" ACCESS_KEY_B64
               "\",\"secretAccessKey\":\"" SECRET_KEY_B64 "\"}}"));
}

/* Three instances seen at version: mg-0 the MAIN, mg-1 and mg-2 in-sync replicas, each with a connection. */
static void observe(struct op_ctx *ctx, const char *version)
{
  struct mgo_mg_conn *const conns[] = {&mconns[0], &mconns[1], &mconns[2]};
  int major = 0, minor = 0, patch = 0;
  assert_int_equal(sscanf(version, "%d.%d.%d", &major, &minor, &patch), 3);
  fake_observe(ctx, 3, conns);
  for (int i = 0; i < 3; i++) {
    struct rec_instance *in = &ctx->obs->inst[i];
    in->last_registered = in->last_in_sync = i > 0;
    in->version_major = major;
    in->version_minor = minor;
    in->version_patch = patch;
  }
  ctx->obs->inst[0].replicas_known = false; /* as the backup step's tests saw it */
  ctx->obs->inst[0].n_registrations = 0;
}

/* Fresh fakes: the cluster (spec, status JSON or NULL) loaded and observed at version, the S3 Secret stored.
 */
static void bk_init(struct bk *b, const char *spec, const char *status, const char *version)
{
  memset(b, 0, sizeof(*b));
  fake_ports_init(&b->f);
  mg_log = json_array();
  b->agent = (struct fake_agent){.requests = json_array(), .job = fake_json(JOB_RUNNING)};
  b->s3 = (struct fake_s3){.f = &b->f, .deleted = json_array()};
  b->aport = (struct op_agent_port){.arg = &b->agent, .upload = fa_upload, .job = fa_job};
  b->sport = (struct op_s3_port){.arg = &b->s3, .delete_object = fs_delete, .head = fs_head};
  b->log = tmpfile();
  assert_non_null(b->log);
  mgo_log_setup(MGO_LOG_DEBUG, MGO_LOG_LOGFMT, b->log);
  fake_put(&b->f, &op_res_clusters, fake_cluster_json(spec, status));
  assert_int_equal(op_step_load(&b->f.ctx).next, OP_CONTINUE);
  observe(&b->f.ctx, version);
  put_secret(&b->f);
  (void) mgo_strlcpy(b->f.cs->agent_token, "agent-token", sizeof(b->f.cs->agent_token));
  b->f.ctx.mg = &fake_mg;
  b->f.ctx.agent = &b->aport;
  b->f.ctx.s3 = &b->sport;
}

static void bk_init_s3(struct bk *b, const char *extra, const char *status, const char *version)
{
  char spec[1024];
  spec_with_s3(spec, sizeof(spec), extra);
  bk_init(b, spec, status, version);
}

static void bk_free(struct bk *b)
{
  mgo_log_setup(MGO_LOG_INFO, MGO_LOG_LOGFMT, NULL);
  fclose(b->log);
  fake_ports_free(&b->f);
  json_decref(b->agent.requests);
  json_decref(b->agent.job);
  json_decref(b->s3.deleted);
  json_decref(mg_log);
  mg_log = NULL;
}

/* One pass of the step (the summary of the pass before is dropped, as op_ctx_release does). */
static struct op_result pass(struct bk *b)
{
  json_decref(b->f.ctx.backup_status);
  b->f.ctx.backup_status = NULL;
  return op_step_backup(&b->f.ctx);
}

static void set_job(struct bk *b, const char *json)
{
  json_decref(b->agent.job);
  b->agent.job = fake_json(json);
}

/* A MemgraphBackup of cluster mg created at `created`, with status JSON (or NULL). */
static void put_backup(struct fake_ports *f, const char *name, const char *created, const char *status)
{
  char text[2048];
  (void) mgo_snprintf(
      text, sizeof(text),
      "{\"apiVersion\":\"memgraph.io/v1alpha1\",\"kind\":\"MemgraphBackup\",\"metadata\":{\"name\":"
      "\"%s\",\"namespace\":\"db\",\"uid\":\"uid-%s\",\"creationTimestamp\":\"%s\"},\"spec\":{"
      "\"cluster\":\"mg\"}%s%s}",
      name, name, created, status != NULL ? ",\"status\":" : "", status != NULL ? status : "");
  fake_put(f, &op_res_backups, fake_json(text));
}

/* A Completed backup's status whose object is key, completed at `at`. */
static void put_completed(struct fake_ports *f, const char *name, const char *at, const char *key)
{
  char st[1024];
  (void) mgo_snprintf(
      st, sizeof(st),
      "{\"phase\":\"Completed\",\"completedAt\":\"%s\",\"snapshotTime\":\"%s\",\"snapshot\":\"f\","
      "\"s3\":{\"bucket\":\"bk\",\"key\":\"%s\"}}",
      at, at, key);
  put_backup(f, name, at, st);
}

static const json_t *status_of(struct bk *b, const char *name)
{
  return json_object_get(fake_find(&b->f, &op_res_backups, "db", name), "status");
}

static const char *field(struct bk *b, const char *name, const char *key)
{
  return op_jstr(status_of(b, name), key);
}

static json_int_t int_field(struct bk *b, const char *name, const char *key)
{
  return json_integer_value(json_object_get(status_of(b, name), key));
}

static bool contains(const json_t *v, const char *text)
{
  char *s = json_dumps(v, JSON_ENCODE_ANY);
  bool found = s != NULL && strstr(s, text) != NULL;
  free(s);
  return found;
}

/* text appears in no MemgraphBackup or MemgraphCluster, Event, logged call, ctx->error or log line. */
static void assert_nowhere(struct bk *b, const char *text)
{
  const char *key;
  json_t *o;
  char line[4096];
  json_object_foreach(b->f.store, key, o)
  {
    if (strncmp(key, "secrets/", 8) != 0)
      assert_false(contains(o, text));
  }
  assert_false(contains(b->f.events, text));
  assert_false(contains(b->f.calls, text));
  assert_null(strstr(b->f.ctx.error, text));
  rewind(b->log);
  while (fgets(line, sizeof(line), b->log) != NULL)
    assert_null(strstr(line, text));
}

/* ---- one backup, stage by stage ----------------------------------------------------------------------- */

static void without_s3_a_backup_waits_pending_and_nothing_is_sent(void **state)
{
  struct bk b;
  (void) state;
  bk_init(&b, "{\"instances\":3}", NULL, "3.7.2");
  put_backup(&b.f, "b1", "2026-01-01T00:00:00Z", NULL);
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_string_equal(field(&b, "b1", "phase"), "Pending");
  assert_non_null(strstr(field(&b, "b1", "message"), "spec.backup.s3"));
  assert_int_equal(json_array_size(mg_log), 0);
  assert_int_equal(b.agent.uploads + b.agent.polls, 0);
  bk_free(&b);
}

/* Pass 1: Pending → Running on pod, snapshot taken and recorded, LOCK and the agent's upload. */
static void first_pass_snapshots_and_starts_the_upload(struct bk *b, const char *pod, const char *role,
                                                       const char *ip)
{
  char line[128];
  const json_t *req, *s3;
  struct op_result r = pass(b);
  assert_int_equal(r.error, MGO_OK);
  assert_true(r.after_ms <= OP_BACKUP_POLL_MS);
  assert_string_equal(field(b, "b1", "phase"), "Running");
  assert_string_equal(field(b, "b1", "pod"), pod);
  assert_string_equal(field(b, "b1", "role"), role);
  (void) mgo_snprintf(line, sizeof(line), "%s CREATE SNAPSHOT", pod);
  assert_int_equal(mg_sent(line), 1);
  assert_int_equal(json_array_size(mg_log), 4); /* CREATE, SHOW SNAPSHOTS, SHOW STORAGE INFO, LOCK */
  (void) mgo_snprintf(line, sizeof(line), "%s LOCK DATA DIRECTORY", pod);
  assert_int_equal(mg_sent(line), 1);
  assert_string_equal(field(b, "b1", "snapshot"), SNAP_FILE);
  assert_int_equal(int_field(b, "b1", "durableTimestamp"), 42);
  assert_int_equal(int_field(b, "b1", "vertices"), 10);
  assert_int_equal(int_field(b, "b1", "edges"), 7);
  assert_string_equal(field(b, "b1", "uploadId"), "job-1");
  assert_int_equal(b->agent.uploads, 1);
  assert_string_equal(b->agent.last_ip, ip);
  req = json_array_get(b->agent.requests, 0);
  s3 = json_object_get(req, "s3");
  assert_string_equal(op_jstr(req, "file"), SNAP_FILE);
  assert_string_equal(op_jstr(s3, "bucket"), "bk");
  assert_string_equal(op_jstr(s3, "key"), "pfx/db/mg/b1/" SNAP_FILE);
  assert_string_equal(op_jstr(s3, "accessKey"), ACCESS_KEY);
  assert_string_equal(op_jstr(s3, "secretKey"), SECRET_KEY);
  assert_true(fake_has_event(&b->f, "BackupStarted"));
}

static void happy_path_on(const char *version, const char *pod, const char *role, const char *ip)
{
  struct bk b;
  char line[128];
  bk_init_s3(&b, "", NULL, version);
  put_backup(&b.f, "b1", "2026-01-01T00:00:00Z", NULL);
  first_pass_snapshots_and_starts_the_upload(&b, pod, role, ip);
  /* the job still runs: polled, nothing else */
  assert_int_equal(pass(&b).after_ms, OP_BACKUP_POLL_MS);
  assert_int_equal(b.agent.polls, 1);
  assert_string_equal(field(&b, "b1", "phase"), "Running");
  (void) mgo_snprintf(line, sizeof(line), "%s UNLOCK DATA DIRECTORY", pod);
  assert_int_equal(mg_sent(line), 0);
  /* it completed */
  set_job(&b, JOB_DONE);
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_string_equal(field(&b, "b1", "phase"), "Completed");
  assert_string_equal(field(&b, "b1", "sha256"), SHA);
  assert_int_equal(int_field(&b, "b1", "sizeBytes"), 4096);
  assert_int_equal(mg_sent(line), 1);
  assert_true(fake_has_event(&b.f, "BackupCompleted"));
  assert_true(
      fake_metrics_contain(&b.f, "memgraph_s3_uploads_total{cluster=\"db/mg\",result=\"success\"} 1"));
  assert_string_equal(op_jstr(b.f.ctx.backup_status, "lastSuccessfulBackup"), "b1");
  /* done: nothing more is sent */
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(b.agent.polls, 2);
  assert_int_equal(b.agent.uploads, 1);
  assert_int_equal(json_array_size(mg_log), 5);
  assert_nowhere(&b, SECRET_KEY);
  bk_free(&b);
}

static void a_backup_runs_to_completion_on_a_replica_or_the_main(void **state)
{
  static const struct {
    const char *version, *pod, *role, *ip;
  } cases[] = {
      {"3.7.2", "mg-1", "replica", "10.0.0.2"}, /* replicas may snapshot from 3.7.2 */
      {"3.7.1", "mg-0", "main", "10.0.0.1"},    /* before that, the MAIN does */
      {"3.6.0", "mg-0", "main", "10.0.0.1"},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    happy_path_on(cases[i].version, cases[i].pod, cases[i].role, cases[i].ip);
}

static void only_the_oldest_pending_backup_is_worked_on(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, "", NULL, "3.7.2");
  put_backup(&b.f, "a-newer", "2025-12-31T12:00:00Z", NULL); /* sorts first by name */
  put_backup(&b.f, "z-older", "2025-12-31T10:00:00Z", NULL);
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_string_equal(field(&b, "z-older", "phase"), "Running");
  assert_null(status_of(&b, "a-newer"));
  assert_int_equal(mg_sent("mg-1 CREATE SNAPSHOT"), 1);
  assert_int_equal(pass(&b).error, MGO_OK); /* still the older one: polled */
  assert_null(status_of(&b, "a-newer"));
  assert_int_equal(b.agent.uploads, 1);
  bk_free(&b);
}

/* ---- failed attempts ---------------------------------------------------------------------------------- */

/* After failed attempt n (of 3, n < 3): still Running, the next attempt counted and scheduled, its snapshot
 * and upload forgotten. */
static void assert_retrying(struct bk *b, struct op_result r, int attempts)
{
  int64_t next_ms;
  assert_int_equal(r.error, MGO_OK);
  assert_true(r.after_ms > 0 && r.after_ms != OP_AFTER_NONE);
  assert_string_equal(field(b, "b1", "phase"), "Running");
  assert_int_equal(int_field(b, "b1", "attempts"), attempts);
  assert_int_equal(mgo_time_parse_rfc3339(field(b, "b1", "nextAttemptAt"), &next_ms), MGO_OK);
  assert_true(next_ms > mgo_clock_wall_ms(b->f.ctx.clock));
  assert_null(json_object_get(status_of(b, "b1"), "snapshot"));
  assert_null(json_object_get(status_of(b, "b1"), "uploadId"));
}

/* Nothing at all is sent before nextAttemptAt; then the clock is moved past it. */
static void wait_for_next_attempt(struct bk *b)
{
  int64_t next_ms;
  size_t queries = json_array_size(mg_log);
  int uploads = b->agent.uploads, polls = b->agent.polls;
  struct op_result r = pass(b);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(json_array_size(mg_log), queries);
  assert_int_equal(b->agent.uploads, uploads);
  assert_int_equal(b->agent.polls, polls);
  assert_int_equal(mgo_time_parse_rfc3339(field(b, "b1", "nextAttemptAt"), &next_ms), MGO_OK);
  mgo_fake_clock_advance_ms(&b->f.clock, next_ms - mgo_clock_wall_ms(b->f.ctx.clock));
}

static void a_rejected_signature_is_retried_twice_then_fails_without_leaking_the_key(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, "", NULL, "3.7.2");
  put_backup(&b.f, "b1", "2026-01-01T00:00:00Z", NULL);
  set_job(&b, JOB_SIG_FAILED);
  for (int attempt = 1; attempt < OP_BACKUP_MAX_ATTEMPTS; attempt++) {
    assert_int_equal(pass(&b).error, MGO_OK); /* snapshot and upload */
    assert_int_equal(b.agent.uploads, attempt);
    assert_int_equal(mg_sent("mg-1 CREATE SNAPSHOT"), attempt);
    assert_retrying(&b, pass(&b), attempt + 1); /* the poll finds it failed */
    assert_int_equal(mg_sent("mg-1 UNLOCK DATA DIRECTORY"), attempt);
    assert_string_equal(op_jstr(json_object_get(status_of(&b, "b1"), "error"), "code"),
                        "SignatureDoesNotMatch");
    wait_for_next_attempt(&b);
  }
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(b.agent.uploads, OP_BACKUP_MAX_ATTEMPTS);
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_string_equal(field(&b, "b1", "phase"), "Failed");
  assert_string_equal(op_jstr(json_object_get(status_of(&b, "b1"), "error"), "code"),
                      "SignatureDoesNotMatch");
  assert_int_equal(mg_sent("mg-1 LOCK DATA DIRECTORY"), OP_BACKUP_MAX_ATTEMPTS);
  assert_int_equal(mg_sent("mg-1 UNLOCK DATA DIRECTORY"), OP_BACKUP_MAX_ATTEMPTS);
  assert_true(fake_has_event(&b.f, "BackupFailed"));
  assert_string_equal(op_jstr(b.f.ctx.backup_status, "lastFailedBackup"), "b1");
  /* Failed is final */
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(b.agent.uploads + b.agent.polls, 2 * OP_BACKUP_MAX_ATTEMPTS);
  assert_string_equal(op_jstr(json_array_get(b.agent.requests, 2), "file"), SNAP_FILE);
  assert_nowhere(&b, SECRET_KEY);
  bk_free(&b);
}

static void an_upload_the_agent_forgot_is_a_failed_attempt(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, "", NULL, "3.7.2");
  put_backup(&b.f, "b1", "2026-01-01T00:00:00Z", NULL);
  assert_int_equal(pass(&b).error, MGO_OK);
  b.agent.job_rc = MGO_ENOTFOUND; /* the agent restarted */
  assert_retrying(&b, pass(&b), 2);
  assert_string_equal(op_jstr(json_object_get(status_of(&b, "b1"), "error"), "code"), "UploadLost");
  assert_string_equal(op_jstr(json_object_get(status_of(&b, "b1"), "error"), "source"), "agent");
  assert_int_equal(mg_sent("mg-1 UNLOCK DATA DIRECTORY"), 1);
  bk_free(&b);
}

/* A retry while no instance answers as MAIN waits, says why once, and sends nothing; it runs once one does.
 */
static void a_retry_without_a_main_waits_with_the_reason(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, "", NULL, "3.7.2");
  put_backup(&b.f, "b1", "2026-01-01T00:00:00Z", NULL);
  assert_int_equal(pass(&b).error, MGO_OK);
  b.agent.job_rc = MGO_ENOTFOUND;
  assert_retrying(&b, pass(&b), 2);
  b.agent.job_rc = MGO_OK;
  wait_for_next_attempt(&b);
  b.f.ctx.obs->inst[0].reachable = false; /* the MAIN stopped answering */
  size_t queries = json_array_size(mg_log);
  for (int i = 0; i < 2; i++) {
    struct op_result r = pass(&b);
    assert_int_equal(r.error, MGO_OK);
    assert_true(r.after_ms > 0 && r.after_ms != OP_AFTER_NONE);
    assert_string_equal(field(&b, "b1", "phase"), "Running");
    assert_string_equal(field(&b, "b1", "message"),
                        "attempt 2 waits: no MAIN to snapshot: no healthy instance has the MAIN role");
  }
  assert_int_equal(json_array_size(mg_log), queries);
  b.f.ctx.obs->inst[0].reachable = true;
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(mg_sent("mg-1 CREATE SNAPSHOT"), 2);
  assert_int_equal(b.agent.uploads, 2);
  bk_free(&b);
}

static void a_missing_secret_is_a_failed_attempt_that_releases_the_lock(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, "", NULL, "3.7.2");
  json_object_del(b.f.store, "secrets/db/s3-creds");
  put_backup(&b.f, "b1", "2026-01-01T00:00:00Z", NULL);
  assert_retrying(&b, pass(&b), 2);
  assert_non_null(
      strstr(op_jstr(json_object_get(status_of(&b, "b1"), "error"), "message"), "Secret s3-creds"));
  assert_int_equal(mg_sent("mg-1 LOCK DATA DIRECTORY"), 1);
  assert_int_equal(mg_sent("mg-1 UNLOCK DATA DIRECTORY"), 1);
  assert_int_equal(b.agent.uploads, 0);
  bk_free(&b);
}

/* ---- schedule ----------------------------------------------------------------------------------------- */

#define HOURLY ",\"schedule\":\"0 * * * *\""
#define LAST_RUN_65_MIN_AGO "{\"lastScheduledBackup\":\"2025-12-31T22:55:00Z\"}"

/* The fake clock at 2026-01-01T00:00:00Z: the last run (22:55) was 65 minutes ago; 23:00 and 00:00 are due.
 */
static void bk_init_hourly(struct bk *b, const char *extra)
{
  char all[256];
  (void) mgo_snprintf(all, sizeof(all), HOURLY "%s", extra);
  bk_init_s3(b, all, LAST_RUN_65_MIN_AGO, "3.7.2");
}

static void a_due_schedule_creates_one_backup_for_the_latest_run(void **state)
{
  struct bk b;
  const json_t *obj, *meta;
  struct op_result r;
  (void) state;
  bk_init_hourly(&b, "");
  mgo_fake_clock_advance_ms(&b.f.clock, 700); /* 00:00:00.700 */
  r = pass(&b);
  assert_int_equal(r.error, MGO_OK);
  assert_int_equal(fake_calls(&b.f, "create memgraphbackups/"), 1); /* one, for the latest due run */
  obj = fake_find(&b.f, &op_res_backups, "db", "mg-20260101000000");
  assert_non_null(obj);
  meta = json_object_get(obj, "metadata");
  assert_string_equal(op_jstr(json_object_get(obj, "spec"), "cluster"), "mg");
  assert_string_equal(op_jstr(json_object_get(meta, "labels"), "memgraph.io/scheduled"), "true");
  assert_string_equal(op_jstr(json_array_get(json_object_get(meta, "ownerReferences"), 0), "uid"), "u1");
  assert_string_equal(op_jstr(json_array_get(json_object_get(meta, "ownerReferences"), 0), "kind"),
                      "MemgraphCluster");
  assert_string_equal(op_jstr(b.f.ctx.backup_status, "lastScheduledBackup"), "2026-01-01T00:00:00Z");
  assert_string_equal(op_jstr(b.f.ctx.backup_status, "nextScheduledBackup"), "2026-01-01T01:00:00Z");
  assert_int_equal(r.after_ms, 60 * 60 * 1000 - 700); /* on the 01:00 tick itself, to the millisecond */
  bk_free(&b);
}

static void a_failed_scheduled_backup_does_not_stop_the_next_run(void **state)
{
  struct bk b;
  (void) state;
  bk_init_hourly(&b, "");
  /* the previous scheduled run failed (wrong credentials, say): the schedule goes on regardless */
  fake_put(
      &b.f, &op_res_backups,
      fake_json("{\"metadata\":{\"name\":\"mg-20251231230000\",\"namespace\":\"db\",\"creationTimestamp\":"
                "\"2025-12-31T23:00:00Z\"},\"spec\":{\"cluster\":\"mg\"},\"status\":{\"phase\":\"Failed\","
                "\"completedAt\":\"2025-12-31T23:00:20Z\",\"error\":{\"source\":\"s3\",\"code\":"
                "\"SignatureDoesNotMatch\"}}}"));
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_non_null(fake_find(&b.f, &op_res_backups, "db", "mg-20260101000000"));
  assert_string_equal(op_jstr(b.f.ctx.backup_status, "lastFailedBackup"), "mg-20251231230000");
  bk_free(&b);
}

static void a_suspended_schedule_creates_nothing(void **state)
{
  struct bk b;
  (void) state;
  bk_init_hourly(&b, ",\"suspend\":true");
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(fake_calls(&b.f, "create"), 0);
  bk_free(&b);
}

static void a_scheduled_backup_that_already_exists_is_not_an_error(void **state)
{
  struct bk b;
  (void) state;
  bk_init_hourly(&b, "");
  /* created by an earlier pass whose status write was lost (another cluster's spec: not worked on here) */
  fake_put(
      &b.f, &op_res_backups,
      fake_json("{\"metadata\":{\"name\":\"mg-20260101000000\",\"namespace\":\"db\"},\"spec\":{\"cluster\":"
                "\"other\"}}"));
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(fake_calls(&b.f, "create memgraphbackups/db/mg-20260101000000"), 1);
  assert_string_equal(op_jstr(b.f.ctx.backup_status, "lastScheduledBackup"), "2026-01-01T00:00:00Z");
  bk_free(&b);
}

/* ---- retention ---------------------------------------------------------------------------------------- */

#define KEEP_ONE ",\"retention\":{\"count\":1}"

static void retention_deletes_the_older_object_then_its_backup(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, KEEP_ONE, NULL, "3.7.2");
  put_completed(&b.f, "old", "2025-12-30T00:00:00Z", "pfx/db/mg/old/f");
  put_completed(&b.f, "new", "2025-12-31T00:00:00Z", "pfx/db/mg/new/f");
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(json_array_size(b.s3.deleted), 1);
  assert_string_equal(json_string_value(json_array_get(b.s3.deleted, 0)), "pfx/db/mg/old/f");
  assert_string_equal(b.s3.access_key, ACCESS_KEY);
  assert_int_equal(b.s3.kube_deletes, 0); /* the object first */
  assert_int_equal(fake_calls(&b.f, "delete memgraphbackups/db/old"), 1);
  assert_null(fake_find(&b.f, &op_res_backups, "db", "old"));
  assert_non_null(fake_find(&b.f, &op_res_backups, "db", "new"));
  assert_true(fake_has_event(&b.f, "RetentionDeleted"));
  assert_nowhere(&b, SECRET_KEY);
  bk_free(&b);
}

static void retention_leaves_objects_outside_the_clusters_prefix_alone(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, KEEP_ONE, NULL, "3.7.2");
  put_completed(&b.f, "old", "2025-12-30T00:00:00Z", "pfx/db/mg-2/old/f"); /* a neighbour's */
  put_completed(&b.f, "new", "2025-12-31T00:00:00Z", "pfx/db/mg/new/f");
  assert_int_equal(pass(&b).error, MGO_OK);
  assert_int_equal(json_array_size(b.s3.deleted), 0);
  assert_int_equal(fake_calls(&b.f, "delete memgraphbackups/db/old"),
                   1); /* the object is not ours; the CR is */
  bk_free(&b);
}

static void a_failed_s3_delete_keeps_the_backup(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, KEEP_ONE, NULL, "3.7.2");
  put_completed(&b.f, "old", "2025-12-30T00:00:00Z", "pfx/db/mg/old/f");
  put_completed(&b.f, "new", "2025-12-31T00:00:00Z", "pfx/db/mg/new/f");
  b.s3.rc = MGO_EAUTH;
  assert_int_not_equal(pass(&b).error, MGO_OK);
  assert_int_equal(json_array_size(b.s3.deleted), 1);
  assert_int_equal(fake_calls(&b.f, "delete"), 0);
  assert_non_null(fake_find(&b.f, &op_res_backups, "db", "old"));
  assert_false(fake_has_event(&b.f, "RetentionDeleted"));
  assert_true(b.f.cs->retention_due); /* tried again next pass */
  bk_free(&b);
}

static void retention_without_the_secret_keeps_the_backup(void **state)
{
  struct bk b;
  (void) state;
  bk_init_s3(&b, KEEP_ONE, NULL, "3.7.2");
  json_object_del(b.f.store, "secrets/db/s3-creds");
  put_completed(&b.f, "old", "2025-12-30T00:00:00Z", "pfx/db/mg/old/f");
  put_completed(&b.f, "new", "2025-12-31T00:00:00Z", "pfx/db/mg/new/f");
  assert_int_not_equal(pass(&b).error, MGO_OK);
  assert_int_equal(json_array_size(b.s3.deleted), 0);
  assert_non_null(fake_find(&b.f, &op_res_backups, "db", "old"));
  assert_non_null(strstr(b.f.ctx.error, "retention"));
  bk_free(&b);
}

/* ---- the cluster's status fields ---------------------------------------------------------------------- */

static int conditions_of_type(const json_t *status, const char *type, const char **st)
{
  size_t i;
  const json_t *c;
  int n = 0;
  json_array_foreach(json_object_get(status, "conditions"), i, c)
  {
    if (strcmp(op_jstr(c, "type"), type) == 0) {
      n++;
      *st = op_jstr(c, "reason");
    }
  }
  return n;
}

static void merged_backup_status_comes_from_the_step_or_the_old_status(void **state)
{
  json_t *old =
      fake_json("{\"lastSuccessfulBackup\":\"b1\",\"lastFailedBackup\":\"f1\",\"restoredFrom\":\"r\","
                "\"conditions\":[{\"type\":\"LastBackupSucceeded\",\"status\":\"False\",\"reason\":"
                "\"Old\"}]}");
  json_t *summary =
      fake_json("{\"lastSuccessfulBackup\":\"b2\",\"condition\":{\"type\":\"LastBackupSucceeded\","
                "\"status\":\"True\",\"reason\":\"New\"}}");
  const char *fresh = "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},"
                      "{\"type\":\"LastBackupSucceeded\",\"status\":\"False\",\"reason\":\"Built\"}]}";
  json_t *ran = fake_json(fresh), *skipped = fake_json(fresh);
  const char *reason = NULL;
  (void) state;
  op_merge_backup_status(ran, summary, old);
  assert_string_equal(op_jstr(ran, "lastSuccessfulBackup"), "b2");
  assert_null(json_object_get(ran, "lastFailedBackup"));  /* the step's summary has none */
  assert_string_equal(op_jstr(ran, "restoredFrom"), "r"); /* not the step's to write */
  assert_int_equal(conditions_of_type(ran, "LastBackupSucceeded", &reason), 1);
  assert_string_equal(reason, "New");
  assert_int_equal(conditions_of_type(ran, "Ready", &reason), 1);
  op_merge_backup_status(skipped, NULL, old);
  assert_string_equal(op_jstr(skipped, "lastSuccessfulBackup"), "b1");
  assert_string_equal(op_jstr(skipped, "lastFailedBackup"), "f1");
  assert_int_equal(conditions_of_type(skipped, "LastBackupSucceeded", &reason), 1);
  assert_string_equal(reason, "Old");
  json_decref(old);
  json_decref(summary);
  json_decref(ran);
  json_decref(skipped);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(without_s3_a_backup_waits_pending_and_nothing_is_sent),
      cmocka_unit_test(a_backup_runs_to_completion_on_a_replica_or_the_main),
      cmocka_unit_test(only_the_oldest_pending_backup_is_worked_on),
      cmocka_unit_test(a_rejected_signature_is_retried_twice_then_fails_without_leaking_the_key),
      cmocka_unit_test(an_upload_the_agent_forgot_is_a_failed_attempt),
      cmocka_unit_test(a_retry_without_a_main_waits_with_the_reason),
      cmocka_unit_test(a_missing_secret_is_a_failed_attempt_that_releases_the_lock),
      cmocka_unit_test(a_due_schedule_creates_one_backup_for_the_latest_run),
      cmocka_unit_test(a_failed_scheduled_backup_does_not_stop_the_next_run),
      cmocka_unit_test(a_suspended_schedule_creates_nothing),
      cmocka_unit_test(a_scheduled_backup_that_already_exists_is_not_an_error),
      cmocka_unit_test(retention_deletes_the_older_object_then_its_backup),
      cmocka_unit_test(retention_leaves_objects_outside_the_clusters_prefix_alone),
      cmocka_unit_test(a_failed_s3_delete_keeps_the_backup),
      cmocka_unit_test(retention_without_the_secret_keeps_the_backup),
      cmocka_unit_test(merged_backup_status_comes_from_the_step_or_the_old_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
