#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"

#define HTTP_BODY_MAX ((size_t) 64 * 1024 * 1024)
#define CLUSTER_PREFIX "/api/v1/clusters/"

struct mgo_http_server {
  struct MHD_Daemon *daemon;
  struct mgo_http_handlers h;
  int port;
};

static int is_dns_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Copies one path segment [p, end) after checking it is a plausible Kubernetes object name. */
static int copy_name(const char *p, size_t n, char *dst, size_t dstsz)
{
  if (n == 0 || n > 253 || n >= dstsz || p[0] == '-' || p[0] == '.')
    return MGO_ENOTFOUND;
  for (size_t i = 0; i < n; i++) {
    if (!is_dns_char(p[i]))
      return MGO_ENOTFOUND;
  }
  memcpy(dst, p, n);
  dst[n] = '\0';
  return MGO_OK;
}

int mgo_http_parse_cluster_path(const char *url, char *ns, size_t nssz, char *name, size_t namesz)
{
  size_t plen = strlen(CLUSTER_PREFIX);
  if (strncmp(url, CLUSTER_PREFIX, plen) != 0)
    return MGO_ENOTFOUND;
  const char *a = url + plen;
  const char *slash = strchr(a, '/');
  if (!slash || strchr(slash + 1, '/'))
    return MGO_ENOTFOUND;
  int rc = copy_name(a, (size_t) (slash - a), ns, nssz);
  if (rc == MGO_OK)
    rc = copy_name(slash + 1, strlen(slash + 1), name, namesz);
  return rc;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int code, const char *type,
                               struct mgo_buf *body)
{
  size_t len = 0;
  char *data = mgo_buf_take(body, &len);
  struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(data);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  enum MHD_Result ret = MHD_queue_response(conn, code, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int code, const char *text)
{
  struct mgo_buf b = MGO_BUF_INIT(4096);
  mgo_buf_addstr(&b, text);
  mgo_buf_add(&b, "\n", 1);
  return respond(conn, code, "text/plain; charset=utf-8", &b);
}

static enum MHD_Result respond_error_json(struct MHD_Connection *conn, unsigned int code, const char *msg)
{
  struct mgo_buf b = MGO_BUF_INIT(4096);
  mgo_buf_addstr(&b, "{\"error\":\"");
  for (const char *p = msg; *p; p++) {
    if (*p == '"' || *p == '\\')
      mgo_buf_add(&b, "\\", 1);
    if ((unsigned char) *p >= 0x20)
      mgo_buf_add(&b, p, 1);
  }
  mgo_buf_addstr(&b, "\"}\n");
  return respond(conn, code, "application/json", &b);
}

static enum MHD_Result serve_json(struct MHD_Connection *conn, int rc, struct mgo_buf *body)
{
  if (rc == MGO_OK)
    return respond(conn, MHD_HTTP_OK, "application/json", body);
  mgo_buf_free(body);
  if (rc == MGO_ENOTFOUND)
    return respond_error_json(conn, MHD_HTTP_NOT_FOUND, "cluster not found");
  return respond_error_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, mgo_strerror(rc));
}

static enum MHD_Result serve_probe(struct mgo_http_server *s, struct MHD_Connection *conn, int readiness)
{
  char reason[256] = "";
  int ok = 1;
  if (readiness && s->h.ready)
    ok = s->h.ready(s->h.ctx, reason, sizeof reason);
  else if (!readiness && s->h.healthy)
    ok = s->h.healthy(s->h.ctx);
  char msg[300];
  if (ok) {
    mgo_snprintf(msg, sizeof msg, "ok%s%s", reason[0] ? ": " : "", reason);
    return respond_text(conn, MHD_HTTP_OK, msg);
  }
  mgo_snprintf(msg, sizeof msg, "not %s%s%s", readiness ? "ready" : "healthy", reason[0] ? ": " : "", reason);
  return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
}

static enum MHD_Result serve_metrics(struct mgo_http_server *s, struct MHD_Connection *conn)
{
  if (!s->h.metrics)
    return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found");
  struct mgo_buf b = MGO_BUF_INIT(HTTP_BODY_MAX);
  if (s->h.before_metrics != NULL)
    s->h.before_metrics(s->h.ctx);
  if (mgo_metrics_render(s->h.metrics, &b) != MGO_OK) {
    mgo_buf_free(&b);
    return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics");
  }
  return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &b);
}

static enum MHD_Result serve_status(struct mgo_http_server *s, struct MHD_Connection *conn, const char *url)
{
  struct mgo_buf b = MGO_BUF_INIT(HTTP_BODY_MAX);
  if (strcmp(url, "/api/v1/status") == 0) {
    int rc = s->h.status_all ? s->h.status_all(s->h.ctx, &b) : MGO_ENOTFOUND;
    return serve_json(conn, rc, &b);
  }
  char ns[254], name[254];
  if (mgo_http_parse_cluster_path(url, ns, sizeof ns, name, sizeof name) != MGO_OK || !s->h.status_cluster) {
    mgo_buf_free(&b);
    return respond_error_json(conn, MHD_HTTP_NOT_FOUND, "not found");
  }
  return serve_json(conn, s->h.status_cluster(s->h.ctx, ns, name, &b), &b);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req)
{
  (void) version;
  (void) upload;
  (void) req;
  struct mgo_http_server *s = cls;
  if (*upload_size != 0)
    return respond_text(conn, 413, "request bodies are not accepted");
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are allowed");
  if (strcmp(url, "/healthz") == 0)
    return serve_probe(s, conn, 0);
  if (strcmp(url, "/readyz") == 0)
    return serve_probe(s, conn, 1);
  if (strcmp(url, "/metrics") == 0)
    return serve_metrics(s, conn);
  if (strncmp(url, "/api/v1/", 8) == 0)
    return serve_status(s, conn, url);
  return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found");
}

int mgo_http_start(struct mgo_http_server **out, const char *addr, int port,
                   const struct mgo_http_handlers *h, char *err, size_t errsz)
{
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t) port);
  if (port < 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    mgo_snprintf(err, errsz, "invalid listen address %s:%d (an IPv4 address and a port 0-65535)", addr, port);
    return MGO_EINVAL;
  }
  struct mgo_http_server *s = calloc(1, sizeof *s);
  if (!s)
    return MGO_ENOMEM;
  s->h = *h;
  s->daemon =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                       (struct sockaddr *) &sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
                       MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64, MHD_OPTION_END);
  if (!s->daemon) {
    mgo_snprintf(err, errsz, "cannot listen on %s:%d (address in use or not permitted)", addr, port);
    free(s);
    return MGO_ESYS;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : port;
  *out = s;
  return MGO_OK;
}

int mgo_http_port(const struct mgo_http_server *s)
{
  return s->port;
}

void mgo_http_stop(struct mgo_http_server *s)
{
  if (!s)
    return;
  MHD_stop_daemon(s->daemon);
  free(s);
}
