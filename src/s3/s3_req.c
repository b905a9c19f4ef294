/* One signed S3 request over a curl easy handle (see s3_internal.h).
 *
 * curl 7.88 signs with CURLOPT_AWS_SIGV4 ("aws:amz:REGION:s3") but takes the payload hash from the
 * x-amz-content-sha256 header we send, the query exactly as given (s3_build_url makes it canonical) and the
 * path as given (CURLOPT_PATH_AS_IS, so "a/../b" keys are not folded). The credentials go to curl only
 * (CURLOPT_USERPWD, wiped from our stack right after) and are scrubbed from every error text. */
#include "mgo_err.h"
#include "s3_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PROGRESS_STEP ((uint64_t) 8 << 20)

void s3_global_init(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

void s3_req_init(struct s3_req *r, const char *method, const char *key)
{
  memset(r, 0, sizeof(*r));
  r->method = method;
  r->key = key;
  r->in_fd = -1;
  r->out_fd = -1;
  mgo_buf_init(&r->resp, S3_MAX_XML);
}

void *s3_conn_new(void)
{
  return curl_easy_init();
}

void s3_conn_free(void *conn)
{
  if (conn)
    curl_easy_cleanup(conn);
}

void s3_req_free(struct s3_req *r)
{
  mgo_buf_free(&r->resp);
}

/* Reports progress every PROGRESS_STEP bytes; false when the caller canceled. */
static bool report(struct s3_req *r, uint64_t before, uint64_t after)
{
  if (!r->progress || before / PROGRESS_STEP == after / PROGRESS_STEP)
    return true;
  if (r->progress(r->pctx, r->prog_base + after, r->prog_total))
    return true;
  r->local_rc = MGO_ECANCELED;
  return false;
}

static size_t read_file(char *buf, size_t size, size_t nitems, void *arg)
{
  struct s3_req *r = arg;
  size_t want = size * nitems;
  if (want > r->in_len - r->done)
    want = (size_t) (r->in_len - r->done);
  if (want == 0)
    return 0;
  ssize_t n;
  do
    n = pread(r->in_fd, buf, want, r->in_off + (off_t) r->done);
  while (n < 0 && errno == EINTR);
  if (n <= 0) { /* an error or a file that shrank under us */
    r->local_rc = n < 0 ? MGO_ESYS : MGO_ECONFLICT;
    return CURL_READFUNC_ABORT;
  }
  if (r->up_hash)
    EVP_DigestUpdate(r->up_hash, buf, (size_t) n);
  uint64_t before = r->done;
  r->done += (uint64_t) n;
  return report(r, before, r->done) ? (size_t) n : CURL_READFUNC_ABORT;
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return MGO_ESYS;
    p += w;
    n -= (size_t) w;
  }
  return MGO_OK;
}

struct s3_curl {
  CURL *h;
  struct s3_req *r;
};

static size_t write_body(char *data, size_t size, size_t nmemb, void *arg)
{
  struct s3_curl *c = arg;
  struct s3_req *r = c->r;
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
  if (r->out_fd < 0 || status < 200 || status > 299) {
    if (mgo_buf_add(&r->resp, data, n)) {
      r->local_rc = MGO_ETOOBIG;
      return 0;
    }
    return n;
  }
  if (write_all(r->out_fd, data, n)) {
    r->local_rc = MGO_ESYS;
    return 0;
  }
  if (r->down_hash)
    EVP_DigestUpdate(r->down_hash, data, n);
  uint64_t before = r->done;
  r->done += n;
  return report(r, before, r->done) ? n : 0;
}

/* Copies a header value (trimmed, quotes kept) when line is "name: value". */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t outsz)
{
  size_t nl = strlen(name);
  if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
    return false;
  const char *v = line + nl + 1, *e = line + n;
  while (v < e && (*v == ' ' || *v == '\t'))
    v++;
  while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
    e--;
  size_t len = (size_t) (e - v) < outsz - 1 ? (size_t) (e - v) : outsz - 1;
  memcpy(out, v, len);
  out[len] = '\0';
  return true;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
  struct s3_req *r = arg;
  size_t n = size * nitems;
  char num[32];
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) { /* a new answer (after 100 Continue): forget the last */
    r->etag[0] = r->meta_sha256[0] = '\0';
    r->has_length = false;
  } else if (header_value(line, n, "Content-Length", num, sizeof(num))) {
    char *end = NULL;
    r->content_length = strtoull(num, &end, 10);
    r->has_length = end && *end == '\0' && num[0] >= '0' && num[0] <= '9';
  } else if (!header_value(line, n, "ETag", r->etag, sizeof(r->etag))) {
    header_value(line, n, "x-amz-meta-sha256", r->meta_sha256, sizeof(r->meta_sha256));
  }
  return n;
}

static void sha256_hex(const void *p, size_t n, char out[S3_SHA256_HEX])
{
  unsigned char md[32];
  unsigned int mdlen = 0;
  EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
  for (size_t i = 0; i < 32; i++)
    mgo_snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The header list: payload hash, session token, Content-Type for XML bodies and the request's own. */
static struct curl_slist *make_headers(const struct s3_config *cfg, const struct s3_req *r)
{
  char line[8192], hash[S3_SHA256_HEX]; /* set_auth bounds the session token */
  struct curl_slist *l = NULL, *t;
  if (r->in_fd >= 0)
    mgo_strlcpy(hash, "UNSIGNED-PAYLOAD", sizeof(hash));
  else
    sha256_hex(r->mem ? r->mem : "", r->mem_len, hash);
  mgo_snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hash);
  if (!(l = curl_slist_append(NULL, line)))
    return NULL;
  if (cfg->session_token && cfg->session_token[0] &&
      mgo_snprintf(line, sizeof(line), "x-amz-security-token: %s", cfg->session_token) == MGO_OK) {
    if (!(t = curl_slist_append(l, line)))
      goto fail;
    l = t;
  }
  if (r->mem && r->mem_len > 0) {
    if (!(t = curl_slist_append(l, "Content-Type: application/xml")))
      goto fail;
    l = t;
  }
  for (size_t i = 0; i < sizeof(r->headers) / sizeof(r->headers[0]) && r->headers[i]; i++) {
    if (!(t = curl_slist_append(l, r->headers[i])))
      goto fail;
    l = t;
  }
  explicit_bzero(line, sizeof(line));
  return l;
fail:
  explicit_bzero(line, sizeof(line));
  curl_slist_free_all(l);
  return NULL;
}

static int set_auth(CURL *h, const struct s3_config *cfg)
{
  char sig[128], up[1024];
  if (!cfg->access_key || !cfg->secret_key || !cfg->region || strchr(cfg->access_key, ':'))
    return MGO_ECONFIG;
  if (cfg->session_token && strlen(cfg->session_token) > 8000)
    return MGO_ECONFIG;
  if (mgo_snprintf(sig, sizeof(sig), "aws:amz:%s:s3", cfg->region) ||
      mgo_snprintf(up, sizeof(up), "%s:%s", cfg->access_key, cfg->secret_key)) {
    explicit_bzero(up, sizeof(up));
    return MGO_ECONFIG;
  }
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sig);
  curl_easy_setopt(h, CURLOPT_USERPWD, up); /* curl keeps its own copy */
  explicit_bzero(up, sizeof(up));
  return MGO_OK;
}

/* Method and body. */
static void set_method(CURL *h, struct s3_curl *c)
{
  struct s3_req *r = c->r;
  if (r->in_fd >= 0) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_file);
    curl_easy_setopt(h, CURLOPT_READDATA, r);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) r->in_len);
  } else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->mem ? r->mem : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->mem_len);
  } else if (strcmp(r->method, "HEAD") == 0) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  }
  if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
}

static void set_transport(CURL *h, const struct s3_config *cfg, char *errbuf)
{
  curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, cfg->low_speed_timeout_s > 0 ? cfg->low_speed_timeout_s : 30L);
  if (cfg->ca_file)
    curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
}

static int map_curl(CURLcode cc)
{
  switch (cc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    return MGO_ECONNECT;
  case CURLE_OPERATION_TIMEDOUT:
    return MGO_ETIMEDOUT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CACERT_BADFILE:
    return MGO_ETLS;
  case CURLE_OUT_OF_MEMORY:
    return MGO_ENOMEM;
  default:
    return MGO_EIO;
  }
}

int s3_map_error(const char *code, long status)
{
  static const char *const auth[] = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied",
                                     "ExpiredToken", "InvalidToken"};
  static const char *const missing[] = {"NoSuchBucket", "NoSuchKey", "NoSuchUpload"};
  if (code && (strcmp(code, "BucketAlreadyOwnedByYou") == 0 || strcmp(code, "BucketAlreadyExists") == 0))
    return MGO_EEXIST;
  for (size_t i = 0; code && i < sizeof(auth) / sizeof(auth[0]); i++)
    if (strcmp(code, auth[i]) == 0)
      return MGO_EAUTH;
  for (size_t i = 0; code && i < sizeof(missing) / sizeof(missing[0]); i++)
    if (strcmp(code, missing[i]) == 0)
      return MGO_ENOTFOUND;
  if (status == 404)
    return MGO_ENOTFOUND;
  if (status == 403 && (!code || !code[0]))
    return MGO_EAUTH;
  return MGO_EHTTP;
}

void s3_scrub(char *s, size_t sz, const char *secret)
{
  size_t sl = secret ? strlen(secret) : 0;
  char *p = s;
  if (sl == 0 || sz == 0)
    return;
  while ((p = strstr(p, secret)) != NULL) {
    size_t tail = strlen(p + sl) + 1, mask = sl < 3 ? sl : 3;
    memset(p, '*', mask);
    memmove(p + mask, p + sl, tail);
    p += mask;
  }
}

/* Fills err for an answer outside 2xx; returns the mapped code. */
static int http_failure(struct s3_req *r, struct s3_error *err)
{
  if (r->resp.len > 0 && s3_xml_error(r->resp.p, r->resp.len, err) == MGO_OK)
    return s3_map_error(err->code, r->status);
  err->code[0] = '\0';
  mgo_snprintf(err->message, sizeof(err->message), "HTTP %ld without an S3 error document", r->status);
  return s3_map_error(NULL, r->status);
}

static int transport_failure(struct s3_req *r, CURLcode cc, const char *errbuf, struct s3_error *err)
{
  if (cc == CURLE_ABORTED_BY_CALLBACK ||
      (r->local_rc && (cc == CURLE_WRITE_ERROR || cc == CURLE_READ_ERROR))) {
    int rc = r->local_rc ? r->local_rc : MGO_ECANCELED;
    mgo_snprintf(err->message, sizeof(err->message), "%s",
                 rc == MGO_ECANCELED ? "canceled" : mgo_strerror(rc));
    return rc;
  }
  mgo_snprintf(err->message, sizeof(err->message), "%s: %s", curl_easy_strerror(cc), errbuf);
  return map_curl(cc);
}

static int perform(const struct s3_config *cfg, CURL *h, struct s3_req *r, struct s3_error *err)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  struct mgo_buf url = MGO_BUF_INIT(8192);
  struct s3_curl c = {h, r};
  int rc = s3_build_url(cfg, r->key, r->query, r->nquery, &url);
  struct curl_slist *hdrs = rc ? NULL : make_headers(cfg, r);
  if (!rc && !hdrs)
    rc = MGO_ENOMEM;
  if (!rc)
    rc = set_auth(h, cfg);
  if (rc) {
    mgo_snprintf(err->message, sizeof(err->message), "bad request: %s", mgo_strerror(rc));
    goto out;
  }
  curl_easy_setopt(h, CURLOPT_URL, mgo_buf_str(&url));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  set_transport(h, cfg, errbuf);
  set_method(h, &c);
  CURLcode cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  err->http_status = r->status;
  if (cc != CURLE_OK)
    rc = transport_failure(r, cc, errbuf, err);
  else if (r->status < 200 || r->status > 299)
    rc = http_failure(r, err);
out:
  curl_slist_free_all(hdrs);
  mgo_buf_free(&url);
  return rc;
}

int s3_req_run(const struct s3_config *cfg, struct s3_req *r, struct s3_error *err)
{
  struct s3_error scratch;
  if (!err)
    err = &scratch;
  memset(err, 0, sizeof(*err));
  r->status = 0;
  r->done = 0;
  r->local_rc = MGO_OK;
  mgo_buf_reset(&r->resp);
  CURL *h = r->conn ? r->conn : curl_easy_init();
  if (!h) {
    mgo_strlcpy(err->message, "curl_easy_init failed", sizeof(err->message));
    return MGO_ENOMEM;
  }
  if (r->conn)
    curl_easy_reset(h); /* keeps its open connections */
  int rc = perform(cfg, h, r, err);
  if (!r->conn)
    curl_easy_cleanup(h);
  s3_scrub(err->message, sizeof(err->message), cfg->secret_key);
  s3_scrub(err->code, sizeof(err->code), cfg->secret_key);
  s3_scrub(err->message, sizeof(err->message), cfg->session_token);
  return rc;
}
