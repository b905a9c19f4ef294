#include "k8s_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s_client_internal.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "trace.h"

#define TOKEN_MAX ((size_t) 16 * 1024)
#define STREAM_ERROR_BODY_MAX ((size_t) 64 * 1024)
#define URL_MAX ((size_t) 16 * 1024)

struct token_cache {
  pthread_mutex_t lock;
  char *value; /* current token from token_file */
  off_t size;
  struct timespec mtime;
  ino_t ino;
};

struct k8s_client {
  struct k8s_config cfg; /* deep copy */
  struct k8s_client_opts opts;
  struct token_cache token;
  pthread_mutex_t pool_lock;
  CURL **idle; /* opts.pool_size slots */
  int n_idle;
  atomic_ulong counts[K8S_VERB_COUNT];
  atomic_ulong by_resource[K8S_VERB_COUNT][K8S_REQ_RESOURCE_COUNT];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init_once(void)
{
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? MGO_OK : MGO_ESYS;
}

int k8s_global_init(void)
{
  pthread_once(&global_once, global_init_once);
  return global_rc;
}

const char *k8s_verb_name(enum k8s_verb verb)
{
  static const char *const names[K8S_VERB_COUNT] = {"get",    "list",  "watch", "create",
                                                    "update", "patch", "apply", "delete"};
  return verb < K8S_VERB_COUNT ? names[verb] : "unknown";
}

unsigned long k8s_client_request_count(struct k8s_client *c, enum k8s_verb verb)
{
  return verb < K8S_VERB_COUNT ? atomic_load(&c->counts[verb]) : 0;
}

static const char *const resource_names[K8S_REQ_RESOURCE_COUNT] = {"pods",
                                                                   "services",
                                                                   "configmaps",
                                                                   "secrets",
                                                                   "persistentvolumeclaims",
                                                                   "events",
                                                                   "serviceaccounts",
                                                                   "statefulsets",
                                                                   "poddisruptionbudgets",
                                                                   "leases",
                                                                   "namespaces",
                                                                   "memgraphclusters",
                                                                   "memgraphbackups",
                                                                   "customresourcedefinitions",
                                                                   "jobs",
                                                                   "deployments",
                                                                   "other"};

const char *k8s_request_resource_name(size_t i)
{
  return i < K8S_REQ_RESOURCE_COUNT ? resource_names[i] : "other";
}

static size_t resource_index(const char *seg, size_t len)
{
  for (size_t i = 0; i + 1 < K8S_REQ_RESOURCE_COUNT; i++) {
    if (strlen(resource_names[i]) == len && strncmp(resource_names[i], seg, len) == 0)
      return i;
  }
  return K8S_REQ_RESOURCE_COUNT - 1;
}

/* The next path segment after *p (skipping one '/'); its length, 0 at the end. */
static size_t next_segment(const char **p, const char **seg)
{
  const char *s = *p;
  size_t n;
  if (*s == '/')
    s++;
  n = strcspn(s, "/?");
  *seg = s;
  *p = s + n;
  return n;
}

size_t k8s_request_resource_of(const char *path)
{
  const char *p = path != NULL ? path : "", *seg = "";
  size_t n = next_segment(&p, &seg), skip;
  if (n == 3 && strncmp(seg, "api", 3) == 0)
    skip = 1; /* /api/v1/... */
  else if (n == 4 && strncmp(seg, "apis", 4) == 0)
    skip = 2; /* /apis/group/version/... */
  else
    return K8S_REQ_RESOURCE_COUNT - 1;
  while (skip-- > 0)
    (void) next_segment(&p, &seg);
  n = next_segment(&p, &seg);
  if (n == 10 && strncmp(seg, "namespaces", 10) == 0) {
    const char *rest = p;
    if (next_segment(&rest, &seg) == 0 || (n = next_segment(&rest, &seg)) == 0)
      return resource_index("namespaces", 10);
  }
  return resource_index(seg, n);
}

unsigned long k8s_client_request_count_by(struct k8s_client *c, enum k8s_verb verb, size_t resource)
{
  if (verb >= K8S_VERB_COUNT || resource >= K8S_REQ_RESOURCE_COUNT)
    return 0;
  return atomic_load(&c->by_resource[verb][resource]);
}

const char *k8s_client_server(const struct k8s_client *c)
{
  return c->cfg.server;
}

static int dup_str(const char *src, char **dst)
{
  *dst = NULL;
  if (!src)
    return MGO_OK;
  *dst = strdup(src);
  return *dst ? MGO_OK : MGO_ENOMEM;
}

static int dup_blob(const unsigned char *src, size_t len, unsigned char **dst)
{
  *dst = NULL;
  if (!src)
    return MGO_OK;
  *dst = malloc(len + 1);
  if (!*dst)
    return MGO_ENOMEM;
  memcpy(*dst, src, len);
  (*dst)[len] = '\0';
  return MGO_OK;
}

static int config_clone(const struct k8s_config *src, struct k8s_config *dst)
{
  memset(dst, 0, sizeof(*dst));
  dst->ca_len = src->ca_len;
  dst->cert_len = src->cert_len;
  dst->key_len = src->key_len;
  dst->insecure_skip_tls_verify = src->insecure_skip_tls_verify;
  int rc = dup_str(src->server, &dst->server);
  rc = rc ? rc : dup_str(src->namespace, &dst->namespace);
  rc = rc ? rc : dup_str(src->context, &dst->context);
  rc = rc ? rc : dup_str(src->token, &dst->token);
  rc = rc ? rc : dup_str(src->token_file, &dst->token_file);
  rc = rc ? rc : dup_str(src->ca_file, &dst->ca_file);
  rc = rc ? rc : dup_str(src->cert_file, &dst->cert_file);
  rc = rc ? rc : dup_str(src->key_file, &dst->key_file);
  rc = rc ? rc : dup_str(src->tls_server_name, &dst->tls_server_name);
  rc = rc ? rc : dup_blob(src->ca_data, src->ca_len, &dst->ca_data);
  rc = rc ? rc : dup_blob(src->cert_data, src->cert_len, &dst->cert_data);
  rc = rc ? rc : dup_blob(src->key_data, src->key_len, &dst->key_data);
  return rc;
}

static void apply_default_opts(struct k8s_client_opts *o, const struct k8s_client_opts *in)
{
  if (in)
    *o = *in;
  if (o->connect_timeout_ms <= 0)
    o->connect_timeout_ms = 5000;
  if (o->request_timeout_ms <= 0)
    o->request_timeout_ms = 30000;
  if (o->max_response == 0)
    o->max_response = K8S_DEFAULT_MAX_RESPONSE;
  if (!o->user_agent)
    o->user_agent = "memgraph-operator";
  if (o->pool_size <= 0)
    o->pool_size = 8;
}

int k8s_client_new(const struct k8s_config *cfg, const struct k8s_client_opts *opts, struct k8s_client **out,
                   struct k8s_status *st)
{
  *out = NULL;
  k8s_status_clear(st);
  if (!cfg || !cfg->server)
    return k8s_status_local(st, MGO_EINVAL, "configuration has no server");
  if (k8s_global_init() != MGO_OK)
    return k8s_status_local(st, MGO_ESYS, "curl_global_init failed");
  struct k8s_client *c = calloc(1, sizeof(*c));
  if (!c)
    return k8s_status_local(st, MGO_ENOMEM, "out of memory");
  apply_default_opts(&c->opts, opts);
  c->idle = calloc((size_t) c->opts.pool_size, sizeof(CURL *));
  pthread_mutex_init(&c->pool_lock, NULL);
  pthread_mutex_init(&c->token.lock, NULL);
  int rc = c->idle ? config_clone(cfg, &c->cfg) : MGO_ENOMEM;
  if (rc != MGO_OK) {
    k8s_client_free(c);
    return k8s_status_local(st, rc, "out of memory");
  }
  *out = c;
  return MGO_OK;
}

void k8s_client_free(struct k8s_client *c)
{
  if (!c)
    return;
  for (int i = 0; c->idle && i < c->n_idle; i++)
    curl_easy_cleanup(c->idle[i]);
  free(c->idle);
  pthread_mutex_destroy(&c->pool_lock);
  pthread_mutex_destroy(&c->token.lock);
  free(c->token.value);
  k8s_config_free(&c->cfg);
  free(c);
}

/* Re-reads the token file when its identity (inode, size, mtime) changed; copies the token into dst. */
static int token_from_file(struct k8s_client *c, char *dst, size_t dstsz, struct k8s_status *st)
{
  struct token_cache *t = &c->token;
  struct stat sb;
  if (stat(c->cfg.token_file, &sb) != 0)
    return k8s_status_local(st, MGO_ECONFIG, "token file %s: cannot stat", c->cfg.token_file);
  pthread_mutex_lock(&t->lock);
  int rc = MGO_OK;
  bool changed = !t->value || sb.st_size != t->size || sb.st_ino != t->ino ||
                 sb.st_mtim.tv_sec != t->mtime.tv_sec || sb.st_mtim.tv_nsec != t->mtime.tv_nsec;
  if (changed) {
    char err[256] = "";
    char *fresh = NULL;
    rc = k8s_config_read_token(c->cfg.token_file, &fresh, err, sizeof(err));
    if (rc == MGO_OK) {
      free(t->value);
      t->value = fresh;
      t->size = sb.st_size;
      t->ino = sb.st_ino;
      t->mtime = sb.st_mtim;
    } else {
      k8s_status_local(st, rc, "%s", err);
    }
  }
  if (rc == MGO_OK && mgo_strlcpy(dst, t->value, dstsz) != MGO_OK)
    rc = k8s_status_local(st, MGO_ETOOBIG, "token too long");
  pthread_mutex_unlock(&t->lock);
  return rc;
}

static CURL *pool_acquire(struct k8s_client *c)
{
  CURL *h = NULL;
  pthread_mutex_lock(&c->pool_lock);
  if (c->n_idle > 0)
    h = c->idle[--c->n_idle];
  pthread_mutex_unlock(&c->pool_lock);
  if (h)
    curl_easy_reset(h); /* keeps the handle's open connections */
  else
    h = curl_easy_init();
  return h;
}

static void pool_release(struct k8s_client *c, CURL *h)
{
  pthread_mutex_lock(&c->pool_lock);
  if (c->n_idle < c->opts.pool_size) {
    c->idle[c->n_idle++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&c->pool_lock);
  if (h)
    curl_easy_cleanup(h);
}

static void set_blob(CURL *h, CURLoption opt, unsigned char *data, size_t len)
{
  struct curl_blob blob = {.data = data, .len = len, .flags = CURL_BLOB_COPY};
  curl_easy_setopt(h, opt, &blob);
}

static void setup_tls(struct k8s_client *c, CURL *h)
{
  const struct k8s_config *cfg = &c->cfg;
  if (cfg->ca_file)
    curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
  if (cfg->ca_data)
    set_blob(h, CURLOPT_CAINFO_BLOB, cfg->ca_data, cfg->ca_len);
  if (cfg->cert_file)
    curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert_file);
  if (cfg->cert_data)
    set_blob(h, CURLOPT_SSLCERT_BLOB, cfg->cert_data, cfg->cert_len);
  if (cfg->key_file)
    curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key_file);
  if (cfg->key_data)
    set_blob(h, CURLOPT_SSLKEY_BLOB, cfg->key_data, cfg->key_len);
  long verify = cfg->insecure_skip_tls_verify ? 0L : 1L;
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
}

/* Builds the header list (auth, content type, accept). */
static int build_headers(struct k8s_client *c, const struct k8s_request *req, struct curl_slist **out,
                         struct k8s_status *st)
{
  char line[TOKEN_MAX + 64];
  char token[TOKEN_MAX];
  struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
  int rc = MGO_OK;
  token[0] = '\0';
  if (c->cfg.token_file)
    rc = token_from_file(c, token, sizeof(token), st);
  else if (c->cfg.token)
    rc = mgo_strlcpy(token, c->cfg.token, sizeof(token));
  if (rc == MGO_OK && token[0]) {
    mgo_snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
    hdrs = curl_slist_append(hdrs, line);
  }
  if (rc == MGO_OK && req->body) {
    mgo_snprintf(line, sizeof(line), "Content-Type: %s",
                 req->content_type ? req->content_type : "application/json");
    hdrs = curl_slist_append(hdrs, line);
  }
  hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
  *out = hdrs;
  if (rc == MGO_OK && !hdrs)
    rc = k8s_status_local(st, MGO_ENOMEM, "out of memory");
  return rc;
}

struct body_sink {
  struct mgo_buf buf;
  bool too_big;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
  struct body_sink *s = userdata;
  size_t n = size * nmemb;
  if (mgo_buf_add(&s->buf, ptr, n) != MGO_OK) {
    s->too_big = true;
    return 0; /* aborts the transfer */
  }
  return n;
}

static int build_url(struct k8s_client *c, const struct k8s_request *req, struct mgo_buf *url)
{
  if (!req->path || req->path[0] != '/')
    return MGO_EINVAL;
  int rc = mgo_buf_printf(url, "%s%s", c->cfg.server, req->path);
  if (rc == MGO_OK && req->query)
    rc = mgo_buf_addstr(url, req->query);
  return rc;
}

/* Everything a request needs except the write callback and deadline. */
static int setup_request(struct k8s_client *c, CURL *h, const struct k8s_request *req, struct mgo_buf *url,
                         struct curl_slist **hdrs, struct k8s_status *st)
{
  int rc = build_url(c, req, url);
  if (rc != MGO_OK)
    return k8s_status_local(st, rc, "invalid request path or URL too long");
  rc = build_headers(c, req, hdrs, st);
  if (rc != MGO_OK)
    return rc;
  curl_easy_setopt(h, CURLOPT_URL, mgo_buf_str(url));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->opts.user_agent);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L); /* notice a dead peer under a quiet watch within ~2 min */
  curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
  if (req->body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
  } else if (strcmp(req->method, "GET") == 0) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  setup_tls(c, h);
  if (req->verb < K8S_VERB_COUNT) {
    atomic_fetch_add(&c->counts[req->verb], 1);
    atomic_fetch_add(&c->by_resource[req->verb][k8s_request_resource_of(req->path)], 1);
  }
  return MGO_OK;
}

static int curl_rc(CURLcode cc, bool too_big)
{
  if (too_big)
    return MGO_ETOOBIG;
  switch (cc) {
  case CURLE_OK:
    return MGO_OK;
  case CURLE_OPERATION_TIMEDOUT:
    return MGO_ETIMEDOUT;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    return MGO_ECONNECT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_CRL_BADFILE:
    return MGO_ETLS;
  case CURLE_ABORTED_BY_CALLBACK:
    return MGO_ECANCELED;
  case CURLE_OUT_OF_MEMORY:
    return MGO_ENOMEM;
  default:
    return MGO_EIO;
  }
}

static int transport_error(struct k8s_status *st, int rc, CURLcode cc, const char *errbuf, size_t limit)
{
  if (rc == MGO_ETOOBIG)
    return k8s_status_local(st, rc, "response body larger than %zu bytes", limit);
  return k8s_status_local(st, rc, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

/* Parses a 2xx body into *out (when out is non-NULL); MGO_EPARSE with the position on invalid JSON. */
static int parse_success(const struct mgo_buf *body, json_t **out, struct k8s_status *st)
{
  if (!out)
    return MGO_OK;
  json_error_t jerr;
  *out = json_loadb(body->p ? body->p : "", body->len, JSON_REJECT_DUPLICATES, &jerr);
  if (*out)
    return MGO_OK;
  long code = st->code;
  k8s_status_local(st, MGO_EPARSE, "invalid JSON in response (line %d column %d): %s", jerr.line, jerr.column,
                   jerr.text);
  st->code = code;
  return MGO_EPARSE;
}

static int request_once(struct k8s_client *c, const struct k8s_request *req, json_t **out,
                        struct k8s_status *st);

/* A child span of the calling thread's current span (none outside a reconcile pass): method, path (never
 * the query), resource, status code and the failure. */
int k8s_request(struct k8s_client *c, const struct k8s_request *req, json_t **out, struct k8s_status *st)
{
  char name[32];
  struct mgo_span *span = NULL;
  int rc;
  if (mgo_span_current() != NULL) {
    (void) mgo_snprintf(name, sizeof(name), "kube %s", req->method);
    span = mgo_span_child(name, MGO_SPAN_CLIENT);
    mgo_span_set_str(span, "http.request.method", req->method);
    mgo_span_set_str(span, "url.path", req->path);
    mgo_span_set_str(span, "k8s.resource", k8s_request_resource_name(k8s_request_resource_of(req->path)));
  }
  rc = request_once(c, req, out, st);
  if (span != NULL) {
    if (st->code > 0)
      mgo_span_set_int(span, "http.response.status_code", st->code);
    if (rc != MGO_OK)
      mgo_span_set_error(span, "%s: %s", mgo_errname(rc), st->message);
    mgo_span_end(span);
  }
  return rc;
}

static int request_once(struct k8s_client *c, const struct k8s_request *req, json_t **out,
                        struct k8s_status *st)
{
  if (out)
    *out = NULL;
  k8s_status_clear(st);
  CURL *h = pool_acquire(c);
  if (!h)
    return k8s_status_local(st, MGO_ENOMEM, "curl_easy_init failed");
  struct mgo_buf url = MGO_BUF_INIT(URL_MAX);
  struct curl_slist *hdrs = NULL;
  struct body_sink sink = {.buf = MGO_BUF_INIT(c->opts.max_response)};
  char errbuf[CURL_ERROR_SIZE] = "";
  int rc = setup_request(c, h, req, &url, &hdrs, st);
  if (rc == MGO_OK) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opts.request_timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(h);
    rc = curl_rc(cc, sink.too_big);
    if (rc != MGO_OK)
      transport_error(st, rc, cc, errbuf, c->opts.max_response);
  }
  if (rc == MGO_OK) {
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    rc = k8s_status_from_response(st, code, sink.buf.p, sink.buf.len);
    if (rc == MGO_OK)
      rc = parse_success(&sink.buf, out, st);
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all(hdrs);
  mgo_buf_free(&url);
  mgo_buf_free(&sink.buf);
  pool_release(c, h);
  return rc;
}

/* Serialises obj (compact) and sends it. */
static int send_json(struct k8s_client *c, struct k8s_request *req, const json_t *obj, json_t **out,
                     struct k8s_status *st)
{
  char *body = json_dumps(obj, JSON_COMPACT);
  if (!body) {
    if (out)
      *out = NULL;
    return k8s_status_local(st, MGO_EINVAL, "object cannot be serialised");
  }
  req->body = body;
  req->body_len = strlen(body);
  int rc = k8s_request(c, req, out, st);
  free(body);
  return rc;
}

int k8s_get(struct k8s_client *c, const char *path, json_t **out, struct k8s_status *st)
{
  struct k8s_request req = {.method = "GET", .verb = K8S_VERB_GET, .path = path};
  return k8s_request(c, &req, out, st);
}

static int list_query(const struct k8s_list_opts *o, struct mgo_buf *q)
{
  char limit[32] = "";
  if (!o)
    return MGO_OK;
  if (o->limit > 0)
    mgo_snprintf(limit, sizeof(limit), "%ld", o->limit);
  int rc = k8s_query_add(q, "labelSelector", o->label_selector);
  rc = rc ? rc : k8s_query_add(q, "fieldSelector", o->field_selector);
  rc = rc ? rc : k8s_query_add(q, "resourceVersion", o->resource_version);
  rc = rc ? rc : k8s_query_add(q, "continue", o->continue_token);
  rc = rc ? rc : k8s_query_add(q, "limit", limit);
  return rc;
}

int k8s_list(struct k8s_client *c, const char *path, const struct k8s_list_opts *opts, json_t **out,
             struct k8s_status *st)
{
  struct mgo_buf q = MGO_BUF_INIT(URL_MAX);
  int rc = list_query(opts, &q);
  if (rc != MGO_OK) {
    mgo_buf_free(&q);
    if (out)
      *out = NULL;
    return k8s_status_local(st, rc, "list options too long");
  }
  struct k8s_request req = {.method = "GET", .verb = K8S_VERB_LIST, .path = path, .query = mgo_buf_str(&q)};
  rc = k8s_request(c, &req, out, st);
  mgo_buf_free(&q);
  return rc;
}

static const char *list_continue(const json_t *page)
{
  const char *cont = json_string_value(json_object_get(json_object_get(page, "metadata"), "continue"));
  return cont && cont[0] ? cont : NULL;
}

/* Moves page's items into all->items. */
static int merge_items(json_t *all, const json_t *page, struct k8s_status *st)
{
  json_t *items = json_object_get(page, "items");
  if (!json_is_array(items) && !json_is_null(items) && items)
    return k8s_status_local(st, MGO_EPARSE, "list response has no items array");
  if (json_is_array(items) && json_array_extend(json_object_get(all, "items"), items) != 0)
    return k8s_status_local(st, MGO_ENOMEM, "out of memory");
  return MGO_OK;
}

int k8s_list_all(struct k8s_client *c, const char *path, const struct k8s_list_opts *opts, json_t **out,
                 struct k8s_status *st)
{
  struct k8s_list_opts o = {0};
  if (opts)
    o = *opts;
  *out = NULL;
  json_t *all = NULL, *page = NULL;
  char *cont = NULL;
  int rc = k8s_list(c, path, &o, &page, st);
  while (rc == MGO_OK) {
    if (!all) {
      /* shallow: the first page's items are moved below, not copied; metadata gets its own copy */
      all = json_copy(page);
      json_object_set_new(all, "metadata", json_deep_copy(json_object_get(page, "metadata")));
      json_object_set_new(all, "items", json_array());
      json_object_del(json_object_get(all, "metadata"), "continue");
    }
    rc = merge_items(all, page, st);
    const char *next = list_continue(page);
    if (rc != MGO_OK || !next)
      break;
    free(cont);
    cont = strdup(next);
    json_decref(page);
    page = NULL;
    o.continue_token = cont;
    o.resource_version = NULL; /* the token pins the snapshot */
    rc = cont ? k8s_list(c, path, &o, &page, st) : MGO_ENOMEM;
  }
  json_decref(page);
  free(cont);
  if (rc != MGO_OK)
    json_decref(all);
  else
    *out = all;
  return rc;
}

int k8s_create(struct k8s_client *c, const char *path, const json_t *obj, json_t **out, struct k8s_status *st)
{
  struct k8s_request req = {.method = "POST", .verb = K8S_VERB_CREATE, .path = path};
  return send_json(c, &req, obj, out, st);
}

int k8s_update(struct k8s_client *c, const char *path, const json_t *obj, json_t **out, struct k8s_status *st)
{
  struct k8s_request req = {.method = "PUT", .verb = K8S_VERB_UPDATE, .path = path};
  return send_json(c, &req, obj, out, st);
}

int k8s_apply(struct k8s_client *c, const char *path, const json_t *obj, const char *field_manager,
              bool force, json_t **out, struct k8s_status *st)
{
  if (out)
    *out = NULL;
  if (!field_manager || !field_manager[0])
    return k8s_status_local(st, MGO_EINVAL, "server-side apply needs a field manager");
  struct mgo_buf q = MGO_BUF_INIT(1024);
  int rc = k8s_query_add(&q, "fieldManager", field_manager);
  if (rc == MGO_OK && force)
    rc = k8s_query_add(&q, "force", "true");
  if (rc != MGO_OK) {
    mgo_buf_free(&q);
    return k8s_status_local(st, rc, "field manager name too long");
  }
  /* JSON is valid YAML, so the apply body is the compact JSON serialisation. */
  struct k8s_request req = {.method = "PATCH",
                            .verb = K8S_VERB_APPLY,
                            .path = path,
                            .query = mgo_buf_str(&q),
                            .content_type = "application/apply-patch+yaml"};
  rc = send_json(c, &req, obj, out, st);
  mgo_buf_free(&q);
  return rc;
}

int k8s_merge_patch(struct k8s_client *c, const char *path, const json_t *patch, json_t **out,
                    struct k8s_status *st)
{
  struct k8s_request req = {.method = "PATCH",
                            .verb = K8S_VERB_PATCH,
                            .path = path,
                            .content_type = "application/merge-patch+json"};
  return send_json(c, &req, patch, out, st);
}

static json_t *delete_options(const struct k8s_delete_opts *o)
{
  json_t *body = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
  json_t *pre = json_object();
  if (o && o->precondition_uid)
    json_object_set_new(pre, "uid", json_string(o->precondition_uid));
  if (o && o->precondition_resource_version)
    json_object_set_new(pre, "resourceVersion", json_string(o->precondition_resource_version));
  if (json_object_size(pre) > 0)
    json_object_set(body, "preconditions", pre);
  json_decref(pre);
  if (o && o->propagation_policy)
    json_object_set_new(body, "propagationPolicy", json_string(o->propagation_policy));
  if (o && o->has_grace_period)
    json_object_set_new(body, "gracePeriodSeconds", json_integer(o->grace_period_seconds));
  return body;
}

int k8s_delete(struct k8s_client *c, const char *path, const struct k8s_delete_opts *opts, json_t **out,
               struct k8s_status *st)
{
  json_t *body = delete_options(opts);
  struct k8s_request req = {.method = "DELETE", .verb = K8S_VERB_DELETE, .path = path};
  int rc = send_json(c, &req, body, out, st);
  json_decref(body);
  return rc;
}

struct stream_ctx {
  CURL *h;
  k8s__stream_data_fn *on_data;
  k8s__stream_tick_fn *on_tick;
  void *arg;
  int data_rc;          /* the consumer's error, if it stopped the stream */
  bool checked_status;  /* response code examined */
  bool success;         /* 2xx: stream to on_data; otherwise buffer */
  struct mgo_buf error; /* body of a non-2xx answer */
};

static size_t on_stream(char *ptr, size_t size, size_t nmemb, void *userdata)
{
  struct stream_ctx *s = userdata;
  size_t n = size * nmemb;
  if (!s->checked_status) {
    long code = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    s->success = code >= 200 && code < 300;
    s->checked_status = true;
  }
  if (!s->success)
    return mgo_buf_add(&s->error, ptr, n) == MGO_OK ? n : 0;
  s->data_rc = s->on_data(s->arg, ptr, n);
  return s->data_rc == MGO_OK ? n : 0;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
  (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
  struct stream_ctx *s = userdata;
  return s->on_tick && s->on_tick(s->arg) ? 1 : 0;
}

static int stream_result(struct stream_ctx *s, CURLcode cc, const char *errbuf, struct k8s_status *st)
{
  long code = 0;
  curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
  if (s->data_rc != MGO_OK) {
    if (st->message[0] == '\0')
      k8s_status_local(st, s->data_rc, "stream consumer stopped: %s", mgo_strerror(s->data_rc));
    if (st->code == 0)
      st->code = code;
    return s->data_rc;
  }
  if (code != 0 && !(code >= 200 && code < 300))
    return k8s_status_from_response(st, code, s->error.p, s->error.len);
  int rc = curl_rc(cc, false);
  if (rc != MGO_OK)
    transport_error(st, rc, cc, errbuf, 0);
  st->code = code;
  return rc;
}

int k8s__stream(struct k8s_client *c, const struct k8s_request *req, long timeout_ms,
                k8s__stream_data_fn *on_data, k8s__stream_tick_fn *on_tick, void *arg, struct k8s_status *st)
{
  k8s_status_clear(st);
  CURL *h = pool_acquire(c);
  if (!h)
    return k8s_status_local(st, MGO_ENOMEM, "curl_easy_init failed");
  struct stream_ctx s = {.h = h, .on_data = on_data, .on_tick = on_tick, .arg = arg};
  mgo_buf_init(&s.error, STREAM_ERROR_BODY_MAX);
  struct mgo_buf url = MGO_BUF_INIT(URL_MAX);
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  int rc = setup_request(c, h, req, &url, &hdrs, st);
  if (rc == MGO_OK) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &s);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(h);
    rc = stream_result(&s, cc, errbuf, st);
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all(hdrs);
  mgo_buf_free(&url);
  mgo_buf_free(&s.error);
  pool_release(c, h);
  return rc;
}

int k8s_get_stream(struct k8s_client *c, const char *path, const char *query, long timeout_ms,
                   k8s_data_fn *on_data, void *arg, struct k8s_status *st)
{
  struct k8s_request req = {.method = "GET", .verb = K8S_VERB_GET, .path = path, .query = query};
  return k8s__stream(c, &req, timeout_ms, on_data, NULL, arg, st);
}
