/* The sidecar's API (src/agent/agent_api.h) called directly, with upload jobs (agent_jobs.h) running a fake
 * uploader: request validation, bearer-token authentication and rotation, and the job lifecycle (running →
 * completed / failed / canceled, 409 while busy, 404 unknown, the last 16 kept, credentials never returned).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_api.h"
#include "agent_http.h"
#include "agent_jobs.h"
#include "agent_snap.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#define CONTENT "hello snapshot\n"
#define AUTH "Bearer tok-1"

/* ---- the fake uploader ------------------------------------------------------------------------------------
 */

static struct {
  pthread_mutex_t lock;
  bool hold;     /* keep the upload running until released */
  bool canceled; /* the progress callback returned false */
  int calls, rc;
  char content[64], secret[64], ca[64];
  size_t part_size;
} fake = {PTHREAD_MUTEX_INITIALIZER, false, false, 0, 0, "", "", "", 0};

static void read_path(const char *p, char *buf, size_t bufsz)
{
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, bufsz - 1) : -1;
  buf[n > 0 ? n : 0] = '\0';
  if (fd >= 0)
    close(fd);
}

static bool held(void)
{
  bool h;
  pthread_mutex_lock(&fake.lock);
  h = fake.hold;
  pthread_mutex_unlock(&fake.lock);
  return h;
}

static int fake_put(const struct s3_config *cfg, const char *key, const char *path, size_t part_size,
                    s3_progress_fn progress, void *pctx, struct s3_put_result *res, struct s3_error *err)
{
  char content[64];
  (void) key;
  read_path(path, content, sizeof(content));
  pthread_mutex_lock(&fake.lock);
  fake.calls++;
  (void) mgo_strlcpy(fake.content, content, sizeof(fake.content));
  (void) mgo_strlcpy(fake.secret, cfg->secret_key, sizeof(fake.secret));
  fake.ca[0] = '\0';
  fake.part_size = part_size;
  pthread_mutex_unlock(&fake.lock);
  if (cfg->ca_file != NULL)
    read_path(cfg->ca_file, fake.ca, sizeof(fake.ca));
  memset(res, 0, sizeof(*res));
  if (!progress(pctx, 5, strlen(CONTENT)))
    goto canceled;
  while (held()) {
    if (!progress(pctx, 7, strlen(CONTENT)))
      goto canceled;
    usleep(1000);
  }
  if (fake.rc != MGO_OK) {
    err->http_status = 403;
    (void) mgo_strlcpy(err->code, "SignatureDoesNotMatch", sizeof(err->code));
    (void) mgo_strlcpy(err->message, "The request signature we calculated does not match",
                       sizeof(err->message));
    return fake.rc;
  }
  res->size = strlen(CONTENT);
  memset(res->sha256, 'a', 64);
  res->sha256[64] = '\0';
  (void) mgo_strlcpy(res->etag, "\"etag-1\"", sizeof(res->etag));
  res->parts = 0;
  return MGO_OK;
canceled:
  pthread_mutex_lock(&fake.lock);
  fake.canceled = true;
  pthread_mutex_unlock(&fake.lock);
  return MGO_ECANCELED;
}

static const struct agent_s3_ops fake_ops = {fake_put, NULL};

/* ---- fixture ----------------------------------------------------------------------------------------------
 */

struct tmp {
  char root[PATH_MAX], data[PATH_MAX], snaps[PATH_MAX], token[PATH_MAX];
  struct agent_jobs *jobs;
  struct agent_api *api;
};

static void path(char *dst, const char *a, const char *b)
{
  assert_int_equal(mgo_snprintf(dst, PATH_MAX, "%s/%s", a, b), MGO_OK);
}

static void write_text(const char *p, const char *text)
{
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
  assert_int_equal(close(fd), 0);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) ftw;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
  struct tmp *t = calloc(1, sizeof(*t));
  char p[PATH_MAX], detail[256] = "";
  assert_non_null(t);
  assert_int_equal(mgo_strlcpy(t->root, "/tmp/mgo-agent-api.XXXXXX", sizeof(t->root)), MGO_OK);
  assert_non_null(mkdtemp(t->root));
  path(t->data, t->root, "mg_data");
  path(t->snaps, t->data, AGENT_SNAPSHOTS_DIR);
  path(t->token, t->root, "token");
  assert_int_equal(mkdir(t->data, 0755), 0);
  assert_int_equal(mkdir(t->snaps, 0755), 0);
  path(p, t->snaps, "snap-1");
  write_text(p, CONTENT);
  write_text(t->token, "tok-1\n");
  pthread_mutex_lock(&fake.lock);
  fake.hold = fake.canceled = false;
  fake.calls = fake.rc = 0;
  fake.part_size = 0;
  pthread_mutex_unlock(&fake.lock);
  assert_int_equal(agent_jobs_new(&t->jobs, t->data, &fake_ops, NULL), MGO_OK);
  assert_int_equal(agent_api_new(&t->api, t->token, t->data, t->jobs, detail, sizeof(detail)), MGO_OK);
  *state = t;
  return 0;
}

static int teardown(void **state)
{
  struct tmp *t = *state;
  pthread_mutex_lock(&fake.lock);
  fake.hold = false;
  pthread_mutex_unlock(&fake.lock);
  agent_jobs_free(t->jobs);
  agent_api_free(t->api);
  (void) nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(t);
  return 0;
}

static void hold(bool on)
{
  pthread_mutex_lock(&fake.lock);
  fake.hold = on;
  pthread_mutex_unlock(&fake.lock);
}

/* One request; returns the status, *body (may be NULL) the parsed JSON and raw the text (when non-NULL). */
static unsigned int call(struct tmp *t, const char *method, const char *url, const char *auth,
                         const char *body, json_t **json, char *raw, size_t rawsz)
{
  struct agent_api_reply r;
  unsigned int status;
  agent_api_handle(t->api, method, url, auth, body, body != NULL ? strlen(body) : 0, &r);
  status = r.status;
  if (json != NULL)
    *json = json_loads(mgo_buf_str(&r.body), 0, NULL);
  if (raw != NULL)
    (void) mgo_strlcpy(raw, mgo_buf_str(&r.body), rawsz);
  mgo_buf_free(&r.body);
  return status;
}

static char *upload_body2(const char *file, const char *s3extra, const char *extra)
{
  static char body[4096];
  assert_int_equal(mgo_snprintf(body, sizeof(body),
                                "{\"file\":\"%s\",\"s3\":{\"endpoint\":\"http://127.0.0.1:9000\",\"region\":"
                                "\"us-east-1\",\"bucket\":\"backups\",\"key\":\"demo/%s\",\"accessKey\":"
                                "\"AKIDSECRET\",\"secretKey\":\"SECRETKEY\",\"sessionToken\":\"SESSIONTOK\","
                                "\"forcePathStyle\":true%s}%s}",
                                file, file, s3extra != NULL ? s3extra : "", extra != NULL ? extra : ""),
                   MGO_OK);
  return body;
}

static char *upload_body(const char *file, const char *extra)
{
  return upload_body2(file, NULL, extra);
}

/* POSTs an upload of file; returns the status and copies the id (202) into id. */
static unsigned int post2(struct tmp *t, const char *file, const char *s3extra, const char *extra, char *id)
{
  json_t *o = NULL;
  unsigned int st = call(t, "POST", "/v1/uploads", AUTH, upload_body2(file, s3extra, extra), &o, NULL, 0);
  if (st == 202 && id != NULL)
    (void) mgo_strlcpy(id, json_string_value(json_object_get(o, "id")), AGENT_JOB_ID_LEN + 1);
  json_decref(o);
  return st;
}

static unsigned int post(struct tmp *t, const char *file, const char *extra, char *id)
{
  return post2(t, file, NULL, extra, id);
}

static void upload_url(const char *id, char *url, size_t urlsz)
{
  assert_int_equal(mgo_snprintf(url, urlsz, "/v1/uploads/%s", id), MGO_OK);
}

/* Polls GET /v1/uploads/<id> until the state is not "running"; returns the job (json_decref it). */
static json_t *wait_done(struct tmp *t, const char *id)
{
  char url[128];
  upload_url(id, url, sizeof(url));
  for (int i = 0; i < 5000; i++) {
    json_t *o = NULL;
    assert_int_equal(call(t, "GET", url, AUTH, NULL, &o, NULL, 0), 200);
    if (strcmp(json_string_value(json_object_get(o, "state")), "running") != 0)
      return o;
    json_decref(o);
    usleep(1000);
  }
  fail_msg("upload %s still running after 5 s", id);
  return NULL;
}

/* ---- tests ------------------------------------------------------------------------------------------------
 */

static void test_validation(void **state)
{
  struct tmp *t = *state;
  char p[PATH_MAX], q[PATH_MAX], long_name[301];
  static const struct {
    const char *body;
    unsigned int status;
  } bodies[] = {
      {"not json", 400},
      {"[1,2]", 400},
      {"{\"file\":\"snap-1\"}", 400},
      {"{\"file\":\"snap-1\",\"s3\":\"x\"}", 400},
      {"{\"file\":7,\"s3\":{}}", 400},
      {"{\"file\":\"snap-1\",\"s3\":{\"endpoint\":\"http://"
       "x\",\"region\":\"r\",\"bucket\":\"b\",\"key\":\"k\","
       "\"accessKey\":\"a\"}}",
       400},
      {"{\"file\":\"snap-1\",\"s3\":{\"endpoint\":\"http://"
       "x\",\"region\":\"r\",\"bucket\":\"b\",\"key\":\"\","
       "\"accessKey\":\"a\",\"secretKey\":\"s\"}}",
       400},
      {"{\"file\":\"snap-1\",\"file\":\"snap-1\"}", 400},
  };
  (void) state;
  /* a symbolic link to a file outside snapshots/, a directory, a FIFO */
  path(p, t->root, "outside");
  write_text(p, "secret outside\n");
  path(q, t->snaps, "link");
  assert_int_equal(symlink(p, q), 0);
  path(q, t->snaps, "dir");
  assert_int_equal(mkdir(q, 0755), 0);
  path(q, t->snaps, "fifo");
  assert_int_equal(mkfifo(q, 0644), 0);
  memset(long_name, 'a', 300);
  long_name[300] = '\0';
  const struct {
    const char *file;
    unsigned int status;
  } names[] = {{"../x", 400}, {"a/b", 400}, {"", 400},     {".", 400},      {"..", 400},     {long_name, 400},
               {"link", 400}, {"dir", 400}, {"fifo", 400}, {"sp ace", 400}, {"missing", 404}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    json_t *o = NULL;
    unsigned int st = call(t, "POST", "/v1/uploads", AUTH, upload_body(names[i].file, NULL), &o, NULL, 0);
    if (st != names[i].status || !json_is_string(json_object_get(o, "error")))
      fail_msg("file \"%.20s\": status %u, want %u with an error message", names[i].file, st,
               names[i].status);
    json_decref(o);
  }
  for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
    unsigned int st = call(t, "POST", "/v1/uploads", AUTH, bodies[i].body, NULL, NULL, 0);
    if (st != bodies[i].status)
      fail_msg("body %zu: status %u, want %u", i, st, bodies[i].status);
  }
  assert_int_equal(post(t, "snap-1", ",\"partSize\":1", NULL), 400);
  assert_int_equal(post(t, "snap-1", ",\"partSize\":\"big\"", NULL), 400);
  assert_int_equal(post2(t, "snap-1", ",\"caPem\":\"not a pem\"", NULL, NULL), 400);
  assert_int_equal(post2(t, "snap-1", ",\"forcePathStyle\":1", NULL, NULL), 400);
  assert_int_equal(post2(t, "snap-1", ",\"sessionToken\":5", NULL, NULL), 400);
  assert_int_equal(fake.calls, 0);
  assert_int_equal(call(t, "PUT", "/v1/uploads", AUTH, NULL, NULL, NULL, 0), 405);
  assert_int_equal(call(t, "POST", "/v1/snapshots", AUTH, NULL, NULL, NULL, 0), 405);
  assert_int_equal(call(t, "GET", "/v1/other", AUTH, NULL, NULL, NULL, 0), 404);
}

static void test_auth(void **state)
{
  struct tmp *t = *state;
  char p[PATH_MAX];
  static const char *const bad[] = {
      NULL, "", "Bearer", "Bearer ", "Bearer tok-2", "Bearer tok-1x", "Basic tok-1", "tok-1", "Bearer TOK-1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char raw[256];
    if (call(t, "GET", "/v1/snapshots", bad[i], NULL, NULL, raw, sizeof(raw)) != 401)
      fail_msg("authorization \"%s\" accepted", bad[i] != NULL ? bad[i] : "(none)");
    assert_null(strstr(raw, "tok-1"));
    assert_int_equal(call(t, "POST", "/v1/uploads", bad[i], upload_body("snap-1", NULL), NULL, NULL, 0), 401);
    assert_int_equal(call(t, "GET", "/v1/nowhere", bad[i], NULL, NULL, NULL, 0), 401);
  }
  assert_int_equal(fake.calls, 0);
  assert_int_equal(call(t, "GET", "/healthz", NULL, NULL, NULL, NULL, 0), 200);
  assert_int_equal(call(t, "GET", "/v1/snapshots", AUTH, NULL, NULL, NULL, 0), 200);
  assert_int_equal(call(t, "GET", "/v1/snapshots", "bearer tok-1", NULL, NULL, NULL, 0), 200);

  /* rotation the way a Secret volume does it: a new file renamed over the old one */
  path(p, t->root, "token.new");
  write_text(p, "tok-2\n");
  assert_int_equal(rename(p, t->token), 0);
  assert_int_equal(call(t, "GET", "/v1/snapshots", AUTH, NULL, NULL, NULL, 0), 401);
  assert_int_equal(call(t, "GET", "/v1/snapshots", "Bearer tok-2", NULL, NULL, NULL, 0), 200);
  /* rewritten in place with another length */
  write_text(t->token, "tok-three");
  assert_int_equal(call(t, "GET", "/v1/snapshots", "Bearer tok-2", NULL, NULL, NULL, 0), 401);
  assert_int_equal(call(t, "GET", "/v1/snapshots", "Bearer tok-three", NULL, NULL, NULL, 0), 200);
  /* gone or empty: nobody gets in */
  assert_int_equal(unlink(t->token), 0);
  assert_int_equal(call(t, "GET", "/v1/snapshots", "Bearer tok-three", NULL, NULL, NULL, 0), 401);
  write_text(t->token, "\n");
  assert_int_equal(call(t, "GET", "/v1/snapshots", "Bearer tok-three", NULL, NULL, NULL, 0), 401);
  assert_int_equal(call(t, "GET", "/healthz", NULL, NULL, NULL, NULL, 0), 200);
}

static void test_token_file_required(void **state)
{
  struct tmp *t = *state;
  struct agent_api *api = NULL;
  char p[PATH_MAX], detail[256] = "";
  path(p, t->root, "no-such-token");
  assert_int_equal(agent_api_new(&api, p, t->data, t->jobs, detail, sizeof(detail)), MGO_ESYS);
  assert_non_null(strstr(detail, "no-such-token"));
  write_text(p, " \n");
  assert_int_equal(agent_api_new(&api, p, t->data, t->jobs, detail, sizeof(detail)), MGO_EINVAL);
}

static void assert_no_secrets(const char *raw)
{
  assert_null(strstr(raw, "AKIDSECRET"));
  assert_null(strstr(raw, "SECRETKEY"));
  assert_null(strstr(raw, "SESSIONTOK"));
  assert_null(strstr(raw, "tok-1"));
}

static void test_upload_completes(void **state)
{
  struct tmp *t = *state;
  char id[AGENT_JOB_ID_LEN + 1], id2[AGENT_JOB_ID_LEN + 1], url[128], raw[4096];
  json_t *o = NULL;

  hold(true);
  assert_int_equal(post(t, "snap-1", ",\"partSize\":5242880", id), 202);
  assert_int_equal(strlen(id), AGENT_JOB_ID_LEN);
  upload_url(id, url, sizeof(url));
  assert_int_equal(call(t, "GET", url, AUTH, NULL, &o, raw, sizeof(raw)), 200);
  assert_no_secrets(raw);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "running");
  assert_string_equal(json_string_value(json_object_get(o, "file")), "snap-1");
  assert_string_equal(json_string_value(json_object_get(o, "key")), "demo/snap-1");
  assert_int_equal(json_integer_value(json_object_get(o, "size")), strlen(CONTENT));
  assert_true(json_is_null(json_object_get(o, "finishedAt")));
  assert_true(json_is_string(json_object_get(o, "startedAt")));
  json_decref(o);

  /* one at a time */
  assert_int_equal(call(t, "POST", "/v1/uploads", AUTH, upload_body("snap-1", NULL), &o, NULL, 0), 409);
  assert_string_equal(json_string_value(json_object_get(o, "running")), id);
  json_decref(o);

  hold(false);
  o = wait_done(t, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "completed");
  assert_int_equal(json_integer_value(json_object_get(o, "bytesDone")), strlen(CONTENT));
  assert_int_equal(strlen(json_string_value(json_object_get(o, "sha256"))), 64);
  assert_string_equal(json_string_value(json_object_get(o, "etag")), "\"etag-1\"");
  assert_int_equal(json_integer_value(json_object_get(o, "parts")), 0);
  assert_true(json_is_null(json_object_get(o, "error")));
  assert_true(json_is_string(json_object_get(o, "finishedAt")));
  json_decref(o);
  assert_int_equal(call(t, "GET", url, AUTH, NULL, NULL, raw, sizeof(raw)), 200);
  assert_no_secrets(raw);
  /* the uploader read the very file, through the descriptor opened at the start, and got the secrets */
  assert_string_equal(fake.content, CONTENT);
  assert_string_equal(fake.secret, "SECRETKEY");
  assert_int_equal(fake.part_size, 5242880);

  /* finished: the next one may start; DELETE of a finished job changes nothing */
  assert_int_equal(post(t, "snap-1", NULL, id2), 202);
  assert_string_not_equal(id, id2);
  o = wait_done(t, id2);
  json_decref(o);
  assert_int_equal(call(t, "DELETE", url, AUTH, NULL, &o, NULL, 0), 200);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "completed");
  json_decref(o);
}

static void test_upload_fails(void **state)
{
  struct tmp *t = *state;
  char id[AGENT_JOB_ID_LEN + 1], raw[4096];
  json_t *o, *err;

  fake.rc = MGO_EAUTH;
  assert_int_equal(post(t, "snap-1", NULL, id), 202);
  o = wait_done(t, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
  err = json_object_get(o, "error");
  assert_int_equal(json_integer_value(json_object_get(err, "httpStatus")), 403);
  assert_string_equal(json_string_value(json_object_get(err, "code")), "SignatureDoesNotMatch");
  assert_non_null(strstr(json_string_value(json_object_get(err, "message")), "signature"));
  assert_string_equal(json_string_value(json_object_get(err, "agentError")), "EAUTH");
  assert_true(json_is_null(json_object_get(o, "sha256")));
  assert_true(json_dumpb(o, raw, sizeof(raw), 0) < sizeof(raw));
  json_decref(o);
}

static void test_cancel(void **state)
{
  struct tmp *t = *state;
  char id[AGENT_JOB_ID_LEN + 1], url[128];
  json_t *o = NULL;

  hold(true);
  assert_int_equal(post(t, "snap-1", NULL, id), 202);
  upload_url(id, url, sizeof(url));
  assert_int_equal(call(t, "DELETE", url, AUTH, NULL, &o, NULL, 0), 202);
  assert_true(json_is_true(json_object_get(o, "cancelRequested")));
  json_decref(o);
  o = wait_done(t, id);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
  assert_string_equal(json_string_value(json_object_get(json_object_get(o, "error"), "agentError")),
                      "ECANCELED");
  json_decref(o);
  assert_true(fake.canceled);
}

static void test_unknown_ids(void **state)
{
  struct tmp *t = *state;
  static const char *const urls[] = {"/v1/uploads/0123456789abcdef0123456789abcdef", "/v1/uploads/xyz",
                                     "/v1/uploads/", "/v1/uploads/0123456789abcdef0123456789abcdef/x",
                                     "/v1/uploads/0123456789ABCDEF0123456789ABCDEF"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
    assert_int_equal(call(t, "GET", urls[i], AUTH, NULL, NULL, NULL, 0), 404);
    assert_int_equal(call(t, "DELETE", urls[i], AUTH, NULL, NULL, NULL, 0), 404);
  }
}

static void test_keeps_last_16(void **state)
{
  struct tmp *t = *state;
  char ids[AGENT_JOBS_KEEP + 1][AGENT_JOB_ID_LEN + 1], url[128];
  for (int i = 0; i <= AGENT_JOBS_KEEP; i++) {
    assert_int_equal(post(t, "snap-1", NULL, ids[i]), 202);
    json_decref(wait_done(t, ids[i]));
  }
  upload_url(ids[0], url, sizeof(url));
  assert_int_equal(call(t, "GET", url, AUTH, NULL, NULL, NULL, 0), 404);
  for (int i = 1; i <= AGENT_JOBS_KEEP; i++) {
    upload_url(ids[i], url, sizeof(url));
    assert_int_equal(call(t, "GET", url, AUTH, NULL, NULL, NULL, 0), 200);
  }
}

static void test_shutdown_cancels(void **state)
{
  struct tmp *t = *state;
  char id[AGENT_JOB_ID_LEN + 1], url[128];
  json_t *o = NULL;
  hold(true);
  assert_int_equal(post(t, "snap-1", NULL, id), 202);
  agent_jobs_shutdown(t->jobs); /* returns once the upload stopped */
  assert_true(fake.canceled);
  upload_url(id, url, sizeof(url));
  assert_int_equal(call(t, "GET", url, AUTH, NULL, &o, NULL, 0), 200);
  assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
  json_decref(o);
  assert_int_equal(post(t, "snap-1", NULL, NULL), 503);
}

static void test_ca_pem_in_memory(void **state)
{
  struct tmp *t = *state;
  char id[AGENT_JOB_ID_LEN + 1];
  assert_int_equal(post2(t, "snap-1", ",\"caPem\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n\"", NULL, id), 202);
  json_decref(wait_done(t, id));
  assert_string_equal(fake.ca, "-----BEGIN CERTIFICATE-----\nMIIB\n");
}

static void test_snapshots_newest_first(void **state)
{
  struct tmp *t = *state;
  char p[PATH_MAX];
  struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
  json_t *o = NULL, *arr;

  path(p, t->snaps, "snap-1");
  assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
  path(p, t->snaps, "snap-2");
  write_text(p, "newer, longer snapshot\n");
  times[0].tv_sec = times[1].tv_sec = 1700000100;
  assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
  path(p, t->snaps, "link");
  assert_int_equal(symlink("snap-2", p), 0);
  assert_int_equal(call(t, "GET", "/v1/snapshots", AUTH, NULL, &o, NULL, 0), 200);
  arr = json_object_get(o, "snapshots");
  assert_int_equal(json_array_size(arr), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "name")), "snap-2");
  assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "mtime")),
                      "2023-11-14T22:15:00Z");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "size")), 23);
  assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "name")), "snap-1");
  json_decref(o);
}

static void test_parse_listen(void **state)
{
  static const struct {
    const char *in, *addr;
    int port;
  } ok[] = {{"10.0.0.7:9787", "10.0.0.7", 9787}, {"127.0.0.1", "127.0.0.1", 9787},
            {":8080", "0.0.0.0", 8080},          {"127.0.0.1:0", "127.0.0.1", 0},
            {"[::1]:9787", "::1", 9787},         {"[fd00::7]", "fd00::7", 9787}};
  static const char *const bad[] = {"",     "10.0.0.7:", "10.0.0.7:x",      "10.0.0.7:65536", "::1:9787",
                                    "[::1", "[]:1",      "host.example:80", "$(POD_IP):9787", "1.2.3.4:-1"};
  char addr[64];
  int port = -1;
  (void) state;
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    assert_int_equal(agent_http_parse_listen(ok[i].in, addr, sizeof(addr), &port), MGO_OK);
    assert_string_equal(addr, ok[i].addr);
    assert_int_equal(port, ok[i].port);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (agent_http_parse_listen(bad[i], addr, sizeof(addr), &port) != MGO_EINVAL)
      fail_msg("listen address \"%s\" accepted", bad[i]);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_token_file_required, setup, teardown),
      cmocka_unit_test_setup_teardown(test_upload_completes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_upload_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_ids, setup, teardown),
      cmocka_unit_test_setup_teardown(test_keeps_last_16, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shutdown_cancels, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ca_pem_in_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_snapshots_newest_first, setup, teardown),
      cmocka_unit_test(test_parse_listen),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
