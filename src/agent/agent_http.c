/* libmicrohttpd glue of the sidecar's API (see agent_http.h). */
#include "agent_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mgo_err.h"

struct agent_http {
  struct MHD_Daemon *daemon;
  struct agent_api *api;
};

struct request {
  struct mgo_buf body;
  bool too_big;
};

int agent_http_parse_listen(const char *listen, char *addr, size_t addrsz, int *port)
{
  const char *colon, *host = listen;
  size_t hlen;
  char *end = NULL;
  long p = AGENT_HTTP_DEFAULT_PORT;
  unsigned char bin[16];

  if (listen == NULL || listen[0] == '\0')
    return MGO_EINVAL;
  if (listen[0] == '[') {
    const char *close = strchr(listen, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':'))
      return MGO_EINVAL;
    host = listen + 1;
    hlen = (size_t) (close - host);
    colon = close[1] == ':' ? close + 1 : NULL;
  } else {
    colon = strrchr(listen, ':');
    if (colon != NULL && strchr(listen, ':') != colon)
      return MGO_EINVAL; /* a bare IPv6 address needs brackets */
    hlen = colon != NULL ? (size_t) (colon - listen) : strlen(listen);
  }
  if (colon != NULL) {
    p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
      return MGO_EINVAL;
  }
  if (hlen == 0 && listen[0] != '[') {
    host = "0.0.0.0";
    hlen = 7;
  }
  if (hlen == 0 || hlen >= addrsz)
    return MGO_EINVAL;
  memcpy(addr, host, hlen);
  addr[hlen] = '\0';
  if (inet_pton(listen[0] == '[' ? AF_INET6 : AF_INET, addr, bin) != 1)
    return MGO_EINVAL;
  *port = (int) p;
  return MGO_OK;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct agent_api_reply *r)
{
  size_t len = 0;
  char *data = mgo_buf_take(&r->body, &len);
  struct MHD_Response *resp;
  enum MHD_Result ret;

  if (data == NULL)
    return MHD_NO;
  resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(data);
    return MHD_NO;
  }
  (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
  (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  ret = MHD_queue_response(conn, r->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static enum MHD_Result too_big(struct MHD_Connection *conn)
{
  struct agent_api_reply r = {413, "application/json", MGO_BUF_INIT(256)};
  (void) mgo_buf_addstr(&r.body, "{\"error\":\"request body larger than 64 KiB\"}\n");
  return send_reply(conn, &r);
}

/* The first call for a request: its state, and an early 413 when Content-Length is over the limit. */
static enum MHD_Result begin(struct MHD_Connection *conn, void **req)
{
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  struct request *rq = calloc(1, sizeof(*rq));
  if (rq == NULL)
    return MHD_NO;
  mgo_buf_init(&rq->body, AGENT_API_BODY_MAX);
  *req = rq;
  if (cl != NULL && strtoull(cl, NULL, 10) > AGENT_API_BODY_MAX)
    return too_big(conn);
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req)
{
  struct agent_http *h = cls;
  struct request *rq = *req;
  struct agent_api_reply r;
  (void) version;

  if (rq == NULL)
    return begin(conn, req);
  if (*upload_size != 0) {
    if (!rq->too_big && mgo_buf_add(&rq->body, upload, *upload_size) != MGO_OK)
      rq->too_big = true;
    *upload_size = 0;
    return MHD_YES;
  }
  if (rq->too_big)
    return too_big(conn);
  agent_api_handle(h->api, method, url,
                   MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                   rq->body.p, rq->body.len, &r);
  return send_reply(conn, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req,
                         enum MHD_RequestTerminationCode toe)
{
  struct request *rq = *req;
  (void) cls;
  (void) conn;
  (void) toe;
  if (rq == NULL)
    return;
  if (rq->body.p != NULL)
    OPENSSL_cleanse(rq->body.p, rq->body.cap);
  mgo_buf_free(&rq->body);
  free(rq);
  *req = NULL;
}

int agent_http_start(struct agent_http **out, const char *listen, struct agent_api *api, int *port, char *err,
                     size_t errsz)
{
  struct sockaddr_storage ss;
  struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
  char addr[64];
  int p = 0;
  bool v6 = listen != NULL && listen[0] == '[';
  struct agent_http *h;
  const union MHD_DaemonInfo *info;

  memset(&ss, 0, sizeof(ss));
  if (agent_http_parse_listen(listen, addr, sizeof(addr), &p) != MGO_OK) {
    (void) mgo_snprintf(err, errsz, "invalid listen address %s (ADDR:PORT, [IPv6]:PORT, ADDR or :PORT)",
                        listen != NULL ? listen : "(none)");
    return MGO_EINVAL;
  }
  if (v6) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t) p);
    (void) inet_pton(AF_INET6, addr, &sin6->sin6_addr);
  } else {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t) p);
    (void) inet_pton(AF_INET, addr, &sin->sin_addr);
  }
  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return MGO_ENOMEM;
  h->api = api;
  h->daemon =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, on_request,
                       h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss, MHD_OPTION_NOTIFY_COMPLETED,
                       on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
                       MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 32, MHD_OPTION_END);
  if (h->daemon == NULL) {
    (void) mgo_snprintf(err, errsz, "cannot listen on %s (address in use or not permitted)", listen);
    free(h);
    return MGO_ESYS;
  }
  info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  *port = info != NULL && info->port != 0 ? info->port : p;
  *out = h;
  return MGO_OK;
}

void agent_http_stop(struct agent_http *h)
{
  if (h == NULL)
    return;
  MHD_stop_daemon(h->daemon);
  free(h);
}
