/* The sidecar's HTTP API as a pure request handler (see agent_api.h). */
#include "agent_api.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent_snap.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define UPLOADS "/v1/uploads"

struct agent_api {
  const char *token_file;
  const char *data_dir;
  struct agent_jobs *jobs;
  pthread_mutex_t lock; /* the token cache below */
  bool have_stat, valid;
  struct stat st;
  unsigned char digest[32];
};

static int sha256(const void *p, size_t n, unsigned char out[32])
{
  unsigned int len = 0;
  return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? MGO_OK : MGO_ENOMEM;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads the token file into a->digest. With the lock held. */
static int load_token(struct agent_api *a, char *detail, size_t detailsz)
{
  char buf[AGENT_API_TOKEN_MAX + 1];
  ssize_t n = 0, r;
  int fd = open(a->token_file, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc = MGO_OK;

  a->valid = false;
  if (fd < 0) {
    (void) mgo_snprintf(detail, detailsz, "cannot open the token file %s: %s", a->token_file,
                        strerror(errno));
    return MGO_ESYS;
  }
  while (n < (ssize_t) sizeof(buf)) {
    r = read(fd, buf + n, sizeof(buf) - (size_t) n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += r;
  }
  (void) close(fd);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
    n--;
  if (n == 0 || n > AGENT_API_TOKEN_MAX) {
    (void) mgo_snprintf(detail, detailsz, "the token file %s is empty or larger than %d bytes", a->token_file,
                        AGENT_API_TOKEN_MAX);
    rc = MGO_EINVAL;
  } else {
    rc = sha256(buf, (size_t) n, a->digest);
    a->valid = rc == MGO_OK;
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return rc;
}

/* Re-reads the token file when it changed. With the lock held. */
static void refresh_token(struct agent_api *a)
{
  struct stat st;
  char detail[256];
  if (stat(a->token_file, &st) != 0) {
    a->have_stat = a->valid = false;
    return;
  }
  if (a->have_stat && same_file(&st, &a->st))
    return;
  a->st = st;
  a->have_stat = true;
  (void) load_token(a, detail, sizeof(detail));
}

int agent_api_new(struct agent_api **out, const char *token_file, const char *data_dir,
                  struct agent_jobs *jobs, char *detail, size_t detailsz)
{
  struct agent_api *a = calloc(1, sizeof(*a));
  int rc;
  if (a == NULL)
    return MGO_ENOMEM;
  a->token_file = token_file;
  a->data_dir = data_dir;
  a->jobs = jobs;
  if (pthread_mutex_init(&a->lock, NULL) != 0) {
    free(a);
    return MGO_ESYS;
  }
  if (stat(token_file, &a->st) != 0) {
    (void) mgo_snprintf(detail, detailsz, "cannot stat the token file %s: %s", token_file, strerror(errno));
    rc = MGO_ESYS;
  } else {
    a->have_stat = true;
    rc = load_token(a, detail, detailsz);
  }
  if (rc != MGO_OK) {
    agent_api_free(a);
    return rc;
  }
  *out = a;
  return MGO_OK;
}

void agent_api_free(struct agent_api *a)
{
  if (a == NULL)
    return;
  (void) pthread_mutex_destroy(&a->lock);
  OPENSSL_cleanse(a->digest, sizeof(a->digest));
  free(a);
}

bool agent_api_authorized(struct agent_api *a, const char *authorization)
{
  unsigned char got[32], want[32];
  bool valid, ok;
  size_t n;

  if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0)
    return false;
  authorization += 7;
  while (*authorization == ' ')
    authorization++;
  n = strlen(authorization);
  if (n == 0 || n > AGENT_API_TOKEN_MAX || sha256(authorization, n, got) != MGO_OK)
    return false;
  (void) pthread_mutex_lock(&a->lock);
  refresh_token(a);
  valid = a->valid;
  memcpy(want, a->digest, sizeof(want));
  (void) pthread_mutex_unlock(&a->lock);
  ok = CRYPTO_memcmp(got, want, sizeof(got)) == 0 && valid;
  OPENSSL_cleanse(want, sizeof(want));
  return ok;
}

/* ---- replies ---------------------------------------------------------------------------------------------
 */

static int dump_to_buf(const char *p, size_t n, void *ctx)
{
  return mgo_buf_add(ctx, p, n) == MGO_OK ? 0 : -1;
}

/* Renders o (consumed; NULL means out of memory) as the reply. */
static void reply_json(struct agent_api_reply *r, unsigned int status, json_t *o)
{
  r->status = status;
  r->content_type = "application/json";
  if (o == NULL || json_dump_callback(o, dump_to_buf, &r->body, JSON_COMPACT) != 0 ||
      mgo_buf_add(&r->body, "\n", 1) != MGO_OK) {
    mgo_buf_reset(&r->body);
    (void) mgo_buf_addstr(&r->body, "{\"error\":\"out of memory\"}\n");
    r->status = 500;
  }
  json_decref(o);
}

static void reply_error(struct agent_api_reply *r, unsigned int status, const char *msg)
{
  reply_json(r, status, json_pack("{s:s}", "error", msg));
}

/* ---- POST /v1/uploads ------------------------------------------------------------------------------------
 */

/* A copy of the string member name of o into *dst; MGO_EINVAL when it is missing (and required), not a
 * string, empty or longer than max. */
static int take_string(json_t *o, const char *name, bool required, size_t max, char **dst, char *detail,
                       size_t detailsz)
{
  json_t *v = json_object_get(o, name);
  if (v == NULL && required) {
    (void) mgo_snprintf(detail, detailsz, "s3.%s is required", name);
    return MGO_EINVAL;
  }
  if (v == NULL || (!required && json_is_null(v)))
    return MGO_OK;
  if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
      strlen(json_string_value(v)) != json_string_length(v)) {
    (void) mgo_snprintf(detail, detailsz, "s3.%s must be a non-empty string of at most %zu bytes", name, max);
    return MGO_EINVAL;
  }
  *dst = strdup(json_string_value(v));
  return *dst != NULL ? MGO_OK : MGO_ENOMEM;
}

static int parse_s3(json_t *s3, struct agent_upload_spec *spec, char *detail, size_t detailsz)
{
  json_t *fps = json_object_get(s3, "forcePathStyle");
  int rc;
  if (!json_is_object(s3)) {
    (void) mgo_snprintf(detail, detailsz, "s3 must be an object");
    return MGO_EINVAL;
  }
  if ((rc = take_string(s3, "endpoint", true, 1024, &spec->endpoint, detail, detailsz)) != MGO_OK ||
      (rc = take_string(s3, "region", true, 64, &spec->region, detail, detailsz)) != MGO_OK ||
      (rc = take_string(s3, "bucket", true, 255, &spec->bucket, detail, detailsz)) != MGO_OK ||
      (rc = take_string(s3, "key", true, 1024, &spec->key, detail, detailsz)) != MGO_OK ||
      (rc = take_string(s3, "accessKey", true, 1024, &spec->access_key, detail, detailsz)) != MGO_OK ||
      (rc = take_string(s3, "secretKey", true, 1024, &spec->secret_key, detail, detailsz)) != MGO_OK ||
      (rc = take_string(s3, "sessionToken", false, 8192, &spec->session_token, detail, detailsz)) != MGO_OK ||
      (rc = take_string(s3, "caPem", false, AGENT_API_BODY_MAX, &spec->ca_pem, detail, detailsz)) != MGO_OK)
    return rc;
  if (spec->ca_pem != NULL && strstr(spec->ca_pem, "-----BEGIN CERTIFICATE-----") == NULL) {
    (void) mgo_snprintf(detail, detailsz, "s3.caPem must hold PEM certificates");
    return MGO_EINVAL;
  }
  if (fps != NULL && !json_is_boolean(fps) && !json_is_null(fps)) {
    (void) mgo_snprintf(detail, detailsz, "s3.forcePathStyle must be true or false");
    return MGO_EINVAL;
  }
  spec->force_path_style = json_is_true(fps);
  return MGO_OK;
}

static int parse_upload(json_t *root, struct agent_upload_spec *spec, char *detail, size_t detailsz)
{
  json_t *file = json_object_get(root, "file"), *part = json_object_get(root, "partSize");
  json_int_t ps;
  if (!json_is_object(root)) {
    (void) mgo_snprintf(detail, detailsz, "the body must be a JSON object");
    return MGO_EINVAL;
  }
  if (!json_is_string(file) || strlen(json_string_value(file)) != json_string_length(file) ||
      !agent_file_name_valid(json_string_value(file))) {
    (void) mgo_snprintf(detail, detailsz, "file must be a plain snapshot file name ([A-Za-z0-9_.-]{1,255})");
    return MGO_EINVAL;
  }
  (void) mgo_strlcpy(spec->file, json_string_value(file), sizeof(spec->file));
  if (part != NULL && !json_is_null(part)) {
    ps = json_is_integer(part) ? json_integer_value(part) : -1;
    if (ps != 0 && (ps < (json_int_t) AGENT_API_PART_MIN || ps > (json_int_t) AGENT_API_PART_MAX)) {
      (void) mgo_snprintf(detail, detailsz, "partSize must be 0 (default) or 5 MiB to 5 GiB");
      return MGO_EINVAL;
    }
    spec->part_size = (size_t) ps;
  }
  return parse_s3(json_object_get(root, "s3"), spec, detail, detailsz);
}

static void post_upload(struct agent_api *a, const char *body, size_t len, struct agent_api_reply *r)
{
  struct agent_upload_spec spec;
  char id[AGENT_JOB_ID_LEN + 1], running[AGENT_JOB_ID_LEN + 1], detail[512] = "";
  json_error_t jerr;
  json_t *root = body != NULL ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
  int rc;

  memset(&spec, 0, sizeof(spec));
  if (root == NULL) {
    reply_error(r, 400, "the body must be a JSON object");
    return;
  }
  rc = parse_upload(root, &spec, detail, sizeof(detail));
  json_decref(root);
  if (rc == MGO_OK)
    rc = agent_jobs_start(a->jobs, &spec, id, running, detail, sizeof(detail));
  agent_upload_spec_clear(&spec);
  if (rc == MGO_OK)
    reply_json(r, 202, json_pack("{s:s}", "id", id));
  else if (rc == MGO_ECONFLICT)
    reply_json(r, 409, json_pack("{s:s,s:s}", "error", detail, "running", running));
  else
    reply_error(r,
                rc == MGO_EINVAL      ? 400
                : rc == MGO_ENOTFOUND ? 404
                : rc == MGO_ESTATE    ? 503
                                      : 500,
                detail[0] != '\0' ? detail : mgo_strerror(rc));
}

/* ---- the rest --------------------------------------------------------------------------------------------
 */

static void upload_by_id(struct agent_api *a, const char *method, const char *id, struct agent_api_reply *r)
{
  json_t *o = NULL;
  bool running = false;
  int rc;
  if (strlen(id) != AGENT_JOB_ID_LEN || strspn(id, "0123456789abcdef") != AGENT_JOB_ID_LEN) {
    reply_error(r, 404, "no such upload");
    return;
  }
  if (strcmp(method, "GET") == 0)
    rc = agent_jobs_get(a->jobs, id, &o);
  else if (strcmp(method, "DELETE") == 0)
    rc = agent_jobs_cancel(a->jobs, id, &running, &o);
  else {
    reply_error(r, 405, "only GET and DELETE are allowed here");
    return;
  }
  if (rc == MGO_OK)
    reply_json(r, running ? 202 : 200, o);
  else
    reply_error(r, rc == MGO_ENOTFOUND ? 404 : 500,
                rc == MGO_ENOTFOUND ? "no such upload" : mgo_strerror(rc));
}

static void get_snapshots(struct agent_api *a, struct agent_api_reply *r)
{
  struct agent_snapshot *list = NULL;
  char detail[512] = "", ts[40];
  size_t n = 0;
  json_t *arr;
  int rc = agent_list_snapshots(a->data_dir, &list, &n, detail, sizeof(detail));

  if (rc != MGO_OK) {
    reply_error(r, 500, detail);
    return;
  }
  arr = json_array();
  for (size_t i = 0; arr != NULL && i < n; i++) {
    if (mgo_time_format_rfc3339(list[i].mtime_ns, 0, ts, sizeof(ts)) != MGO_OK ||
        json_array_append_new(arr, json_pack("{s:s,s:I,s:s}", "name", list[i].name, "size",
                                             (json_int_t) list[i].size, "mtime", ts)) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  free(list);
  reply_json(r, 200, arr != NULL ? json_pack("{s:o}", "snapshots", arr) : NULL);
}

void agent_api_handle(struct agent_api *a, const char *method, const char *url, const char *authorization,
                      const char *body, size_t len, struct agent_api_reply *r)
{
  size_t plen = strlen(UPLOADS "/");
  mgo_buf_init(&r->body, AGENT_API_BODY_MAX * 4 + (size_t) AGENT_SNAPSHOTS_MAX * 400);
  if (strcmp(url, "/healthz") == 0) {
    r->status = 200;
    r->content_type = "text/plain; charset=utf-8";
    (void) mgo_buf_addstr(&r->body, "ok\n");
    return;
  }
  if (!agent_api_authorized(a, authorization)) {
    reply_error(r, 401, "unauthorized");
    return;
  }
  if (strcmp(url, UPLOADS) == 0) {
    if (strcmp(method, "POST") == 0)
      post_upload(a, body, len, r);
    else
      reply_error(r, 405, "only POST is allowed here");
  } else if (strncmp(url, UPLOADS "/", plen) == 0) {
    upload_by_id(a, method, url + plen, r);
  } else if (strcmp(url, "/v1/snapshots") == 0) {
    if (strcmp(method, "GET") == 0)
      get_snapshots(a, r);
    else
      reply_error(r, 405, "only GET is allowed here");
  } else {
    reply_error(r, 404, "not found");
  }
}

/* ---- a jansson allocator that wipes ----------------------------------------------------------------------
 */

#define ALLOC_HDR 16 /* keeps malloc's alignment */

static void *wiping_malloc(size_t n)
{
  unsigned char *p = n <= SIZE_MAX - ALLOC_HDR ? malloc(n + ALLOC_HDR) : NULL;
  if (p == NULL)
    return NULL;
  memcpy(p, &n, sizeof(n));
  return p + ALLOC_HDR;
}

static void wiping_free(void *ptr)
{
  unsigned char *p = ptr;
  size_t n;
  if (p == NULL)
    return;
  p -= ALLOC_HDR;
  memcpy(&n, p, sizeof(n));
  OPENSSL_cleanse(p, n + ALLOC_HDR);
  free(p);
}

void agent_api_use_wiping_json_allocator(void)
{
  json_set_alloc_funcs(wiping_malloc, wiping_free);
}
