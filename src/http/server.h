/* The operator's HTTP endpoint: /healthz, /readyz, /metrics, /api/v1/status and
 * /api/v1/clusters/{namespace}/{name}, served by libmicrohttpd.
 *
 * The server knows nothing about clusters: it calls the provider callbacks, which render JSON into a buffer.
 * Only GET and HEAD are served (405 otherwise); unknown paths get 404; path segments are validated as
 * Kubernetes names before they reach a callback.
 *
 * Ownership: mgo_http_start() returns a server the caller stops and frees with mgo_http_stop(). The
 * handlers struct is copied; ctx and metrics are borrowed and must outlive the server.
 * Thread-safety: callbacks run on the server's threads, possibly concurrently; they must be thread-safe. */
#ifndef MGO_HTTP_SERVER_H
#define MGO_HTTP_SERVER_H

#include <stddef.h>

#include "metrics.h"
#include "mgo_buf.h"

struct mgo_http_handlers {
  void *ctx;
  /* JSON for every cluster; return MGO_OK or an error (→ 500 with the error's message). */
  int (*status_all)(void *ctx, struct mgo_buf *out);
  /* JSON for one cluster; MGO_ENOTFOUND → 404. */
  int (*status_cluster)(void *ctx, const char *ns, const char *name, struct mgo_buf *out);
  /* Non-zero when healthy / ready; a NULL callback counts as healthy / ready. The ready callback may put a
   * short explanation in reason: shown after "ok: " on 200 (e.g. "leading") and after "not ready: " on 503.
   */
  int (*healthy)(void *ctx);
  int (*ready)(void *ctx, char *reason, size_t reasonsz);
  struct mgo_metrics *metrics; /* NULL: /metrics answers 404 */
  /* Called before /metrics is rendered (may be NULL): brings counters kept elsewhere up to date. */
  void (*before_metrics)(void *ctx);
};

struct mgo_http_server;

/* Binds addr:port (port 0 picks a free port; see mgo_http_port). err receives a message on failure. */
int mgo_http_start(struct mgo_http_server **out, const char *addr, int port,
                   const struct mgo_http_handlers *h, char *err, size_t errsz);
int mgo_http_port(const struct mgo_http_server *s);
void mgo_http_stop(struct mgo_http_server *s);

/* Exposed for tests: splits "/api/v1/clusters/<ns>/<name>" into its parts after validating both as DNS-1123
 * labels/subdomains. Returns MGO_OK, or MGO_ENOTFOUND when the path does not have that shape. */
int mgo_http_parse_cluster_path(const char *url, char *ns, size_t nssz, char *name, size_t namesz);

#endif
