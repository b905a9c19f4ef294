/* `kubectl memgraph report NAME [--file PATH] [--operator-url URL] [-o json|yaml]`: a plain .tar (ustar,
 * uncompressed: the project links neither libarchive nor zlib) for a support request. It holds the cluster
 * with its status, the status summary, the cluster's pods, StatefulSet, Services, MemgraphBackups and
 * Events, the tail of each pod's Memgraph log, and with --operator-url the operator's /metrics and
 * /api/v1/status. Secrets are never read. Pieces the user may not read are listed in README.txt instead. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_client.h"
#include "k8s_path.h"
#include "kmg_annot.h"
#include "kmg_cmd.h"
#include "kmg_objects.h"
#include "kmg_tar.h"
#include "kmg_yaml.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define REPORT_MAX ((size_t) 512 * 1024 * 1024)
#define PIECE_MAX ((size_t) 64 * 1024 * 1024)
#define LOG_MAX ((size_t) 4 * 1024 * 1024)
#define LOG_TAIL "2000"
#define OPERATOR_TIMEOUT_MS 10000L

struct report {
  struct kmg_ctx *ctx;
  const char *name;
  struct mgo_buf tar;
  struct mgo_buf readme;
  char dir[320];
  int64_t now_s;
  int files;
  json_t *backups; /* names of the cluster's MemgraphBackups (strings) */
};

static int add_file(struct report *r, const char *file, const char *data, size_t len)
{
  char path[640];
  char err[256];
  mgo_snprintf(path, sizeof(path), "%s/%s", r->dir, file);
  int rc = kmg_tar_add(&r->tar, path, data, len, r->now_s, err, sizeof(err));
  if (rc != MGO_OK) {
    mgo_buf_printf(&r->readme, "- %s: not included (%s)\n", file, err);
    return rc;
  }
  r->files++;
  return mgo_buf_printf(&r->readme, "- %s\n", file);
}

/* obj (managedFields stripped) as <base>.yaml or <base>.json. */
static int add_object(struct report *r, const char *base, const json_t *obj)
{
  bool json = r->ctx->args->output == KMG_OUT_JSON;
  char file[128], err[256] = "";
  mgo_snprintf(file, sizeof(file), "%s.%s", base, json ? "json" : "yaml");
  json_t *clean = kmg_strip_managed_fields(obj);
  struct mgo_buf b = MGO_BUF_INIT(PIECE_MAX);
  int rc = MGO_OK;
  if (json) {
    char *text = json_dumps(clean, JSON_INDENT(2));
    rc = text ? mgo_buf_addstr(&b, text) : MGO_ENOMEM;
    free(text);
  } else {
    rc = kmg_json_to_yaml(clean, &b, err, sizeof(err));
  }
  rc = rc == MGO_OK ? add_file(r, file, b.p ? b.p : "", b.len) : rc;
  mgo_buf_free(&b);
  json_decref(clean);
  return rc;
}

static void note_missing(struct report *r, const char *what)
{
  mgo_buf_printf(&r->readme, "- %s: not collected: %s\n", what, r->ctx->err);
  r->ctx->err[0] = '\0';
}

typedef bool item_filter(const json_t *item, const struct report *r);

static bool backup_of(const json_t *item, const struct report *r)
{
  const char *c = json_string_value(json_object_get(json_object_get(item, "spec"), "cluster"));
  return c != NULL && strcmp(c, r->name) == 0;
}

/* Events about the cluster, any object named "<cluster>-..." (pods, StatefulSet, Services, scheduled
 * backups) and the cluster's MemgraphBackups. */
static bool event_of(const json_t *item, const struct report *r)
{
  const char *n = json_string_value(json_object_get(json_object_get(item, "involvedObject"), "name"));
  size_t len = strlen(r->name);
  if (n == NULL) {
    return false;
  }
  if (strncmp(n, r->name, len) == 0 && (n[len] == '\0' || n[len] == '-')) {
    return true;
  }
  size_t i;
  const json_t *b;
  json_array_foreach(r->backups, i, b)
  {
    const char *bn = json_string_value(b);
    if (bn != NULL && strcmp(bn, n) == 0) {
      return true;
    }
  }
  return false;
}

/* Keeps the items keep() accepts; remembers the names of the cluster's backups for event_of(). */
static void filter_items(json_t *list, item_filter *keep, struct report *r)
{
  json_t *items = json_object_get(list, "items");
  for (size_t i = json_array_size(items); i > 0; i--) {
    const json_t *item = json_array_get(items, i - 1);
    if (!keep(item, r)) {
      json_array_remove(items, i - 1);
    } else if (keep == backup_of) {
      json_array_append(r->backups, json_object_get(json_object_get(item, "metadata"), "name"));
    }
  }
}

static void add_list(struct report *r, const char *base, const struct k8s_resource *res, const char *selector,
                     item_filter *keep)
{
  json_t *list = NULL;
  if (kmg_list(r->ctx, res, selector, &list) != MGO_OK) {
    note_missing(r, base);
    return;
  }
  if (keep != NULL) {
    filter_items(list, keep, r);
  }
  add_object(r, base, list);
  json_decref(list);
}

static int to_buf(void *arg, const char *data, size_t len)
{
  return mgo_buf_add(arg, data, len);
}

static void add_pod_log(struct report *r, const char *pod)
{
  char path[K8S_PATH_MAX], file[320];
  struct mgo_buf q = MGO_BUF_INIT(256), log = MGO_BUF_INIT(LOG_MAX);
  struct k8s_status st;
  mgo_snprintf(file, sizeof(file), "logs/%s-memgraph.log", pod);
  int rc = k8s_path(path, sizeof(path), &K8S_RES_PODS, r->ctx->ns, pod, "log");
  rc = rc == MGO_OK ? k8s_query_add(&q, "container", "memgraph") : rc;
  rc = rc == MGO_OK ? k8s_query_add(&q, "tailLines", LOG_TAIL) : rc;
  rc = rc == MGO_OK ? k8s_get_stream(r->ctx->client, path, mgo_buf_str(&q), 60000, to_buf, &log, &st) : rc;
  if (rc == MGO_OK) {
    add_file(r, file, log.p ? log.p : "", log.len);
  } else {
    mgo_buf_printf(&r->readme, "- %s: not collected: %s (HTTP %ld) %s\n", file, mgo_errname(rc), st.code,
                   st.message);
  }
  mgo_buf_free(&q);
  mgo_buf_free(&log);
}

static void add_pods(struct report *r, const char *selector)
{
  json_t *pods = NULL;
  if (kmg_list(r->ctx, &K8S_RES_PODS, selector, &pods) != MGO_OK) {
    note_missing(r, "pods");
    return;
  }
  add_object(r, "pods", pods);
  size_t i;
  const json_t *pod;
  json_array_foreach(json_object_get(pods, "items"), i, pod)
  {
    const char *n = json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
    if (n != NULL && kmg_pod_ordinal(r->name, n) >= 0) {
      add_pod_log(r, n);
    }
  }
  json_decref(pods);
}

static size_t on_http_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
  return mgo_buf_add(userdata, ptr, size * nmemb) == MGO_OK ? size * nmemb : 0;
}

/* GET <operator-url><path> into body. 0, or 1 with ctx->err "operator not reachable ...". */
static int operator_get(struct kmg_ctx *ctx, const char *path, struct mgo_buf *body)
{
  char url[1024], errbuf[CURL_ERROR_SIZE] = "";
  mgo_snprintf(url, sizeof(url), "%s%s", ctx->args->operator_url, path);
  CURL *h = curl_easy_init();
  if (h == NULL) {
    return kmg_fail(ctx, "curl_easy_init failed");
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, OPERATOR_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_http_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode cc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  if (cc != CURLE_OK) {
    return kmg_fail(ctx, "operator not reachable at %s: %s", url,
                    errbuf[0] ? errbuf : curl_easy_strerror(cc));
  }
  if (code != 200) {
    return kmg_fail(ctx, "operator at %s answered HTTP %ld", url, code);
  }
  return 0;
}

static int add_operator(struct report *r)
{
  struct mgo_buf metrics = MGO_BUF_INIT(PIECE_MAX), status = MGO_BUF_INIT(PIECE_MAX);
  int code = operator_get(r->ctx, "/metrics", &metrics);
  code = code == 0 ? operator_get(r->ctx, "/api/v1/status", &status) : code;
  if (code == 0) {
    add_file(r, "operator/metrics.txt", metrics.p ? metrics.p : "", metrics.len);
    add_file(r, "operator/status.json", status.p ? status.p : "", status.len);
  }
  mgo_buf_free(&metrics);
  mgo_buf_free(&status);
  return code;
}

static int add_status(struct report *r, const json_t *cluster)
{
  struct mgo_buf text = MGO_BUF_INIT(PIECE_MAX);
  int rc = kmg_status_text(r->ctx, cluster, &text);
  if (rc == MGO_OK) {
    add_file(r, "status.txt", mgo_buf_str(&text), text.len);
  }
  mgo_buf_free(&text);
  return rc;
}

static void add_statefulset(struct report *r)
{
  json_t *sts = NULL;
  if (kmg_get(r->ctx, &K8S_RES_STATEFULSETS, r->name, &sts) != MGO_OK) {
    note_missing(r, "statefulset");
    return;
  }
  add_object(r, "statefulset", sts);
  json_decref(sts);
}

static void collect(struct report *r, const json_t *cluster)
{
  char selector[320];
  mgo_snprintf(selector, sizeof(selector), "app.kubernetes.io/instance=%s", r->name);
  add_object(r, "memgraphcluster", cluster);
  add_status(r, cluster);
  add_pods(r, selector);
  add_statefulset(r);
  add_list(r, "services", &K8S_RES_SERVICES, selector, NULL);
  add_list(r, "memgraphbackups", &KMG_RES_BACKUPS, NULL, backup_of);
  add_list(r, "events", &K8S_RES_CORE_EVENTS, NULL, event_of);
}

static int write_file(struct kmg_ctx *ctx, const char *path, const struct mgo_buf *tar)
{
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    return kmg_fail(ctx, "cannot write %s: %m", path);
  }
  size_t n = fwrite(tar->p, 1, tar->len, f);
  int closed = fclose(f);
  if (n != tar->len || closed != 0) {
    return kmg_fail(ctx, "cannot write %s: %m", path);
  }
  return 0;
}

static int finish(struct report *r)
{
  char when[40] = "", file[400], err[256];
  (void) mgo_time_format_rfc3339(r->now_s * 1000000000LL, 0, when, sizeof(when));
  struct mgo_buf readme = MGO_BUF_INIT(PIECE_MAX);
  mgo_buf_printf(&readme,
                 "kubectl memgraph report of memgraphcluster %s/%s, %s.\n"
                 "Secrets are never collected. Files:\n%s",
                 r->ctx->ns, r->name, when, mgo_buf_str(&r->readme));
  mgo_snprintf(file, sizeof(file), "%s/README.txt", r->dir);
  int rc = kmg_tar_add(&r->tar, file, readme.p, readme.len, r->now_s, err, sizeof(err));
  mgo_buf_free(&readme);
  if (rc != MGO_OK || kmg_tar_finish(&r->tar) != MGO_OK) {
    return kmg_fail(r->ctx, "the report exceeds %zu bytes", (size_t) REPORT_MAX);
  }
  mgo_snprintf(file, sizeof(file), "%s.tar", r->dir);
  const char *path = r->ctx->args->file ? r->ctx->args->file : file;
  if (write_file(r->ctx, path, &r->tar) != 0) {
    return 1;
  }
  printf("wrote %s (%zu bytes, %d files)\n", path, r->tar.len, r->files + 1);
  return 0;
}

int kmg_cmd_report(struct kmg_ctx *ctx)
{
  struct report r = {.ctx = ctx,
                     .name = ctx->args->pos[0],
                     .now_s = mgo_clock_wall_ms(NULL) / 1000,
                     .backups = json_array()};
  mgo_buf_init(&r.tar, REPORT_MAX);
  mgo_buf_init(&r.readme, PIECE_MAX);
  json_t *cluster = NULL;
  int code = kmg_get(ctx, &KMG_RES_CLUSTERS, r.name, &cluster) == MGO_OK ? 0 : 1;
  mgo_snprintf(r.dir, sizeof(r.dir), "memgraph-report-%s-%s", ctx->ns, r.name);
  if (code == 0 && ctx->args->operator_url != NULL) {
    code = add_operator(&r);
  }
  if (code == 0) {
    collect(&r, cluster);
    code = finish(&r);
  }
  json_decref(cluster);
  json_decref(r.backups);
  mgo_buf_free(&r.tar);
  mgo_buf_free(&r.readme);
  return code;
}
