/* `kubectl memgraph logs NAME [INSTANCE] [-c CONTAINER] [--tail N] [-p]`: GET
 * /api/v1/namespaces/NS/pods/POD/log?container=memgraph, streamed to stdout (--follow: follow=true, until the
 * run ends or the user interrupts). INSTANCE (pod name or ordinal)
 * defaults to the MAIN recorded in status.currentMain. */
#include <stdio.h>

#include "k8s_client.h"
#include "k8s_path.h"
#include "kmg_annot.h"
#include "kmg_cmd.h"
#include "kmg_objects.h"
#include "mgo_err.h"

#define LOGS_TIMEOUT_MS 120000L
#define FOLLOW_TIMEOUT_MS (24L * 3600 * 1000)

static int to_stdout(void *arg, const char *data, size_t len)
{
  (void) arg;
  size_t n = fwrite(data, 1, len, stdout);
  fflush(stdout); /* --follow: show each chunk as it arrives */
  return n == len ? MGO_OK : MGO_EIO;
}

/* The pod whose log is wanted, into pod. */
static int log_pod(struct kmg_ctx *ctx, char *pod, size_t podsz)
{
  const char *name = ctx->args->pos[0];
  json_t *cluster = NULL;
  if (kmg_get(ctx, &KMG_RES_CLUSTERS, name, &cluster) != MGO_OK) {
    return 1;
  }
  const char *instance = ctx->args->npos > 1 ? ctx->args->pos[1] : NULL;
  const char *main_pod =
      json_string_value(json_object_get(json_object_get(cluster, "status"), "currentMain"));
  int code = 0;
  if (instance == NULL && main_pod == NULL) {
    code = kmg_fail(ctx, "memgraphcluster %s has no MAIN recorded yet: name an INSTANCE", name);
  } else if (kmg_resolve_instance(name, kmg_spec_instances(cluster), instance ? instance : main_pod, false,
                                  pod, podsz, ctx->err, sizeof(ctx->err)) != MGO_OK) {
    code = 1;
  }
  json_decref(cluster);
  return code;
}

static int log_query(struct kmg_ctx *ctx, struct mgo_buf *q)
{
  char tail[24] = "";
  if (ctx->args->tail_lines >= 0) {
    mgo_snprintf(tail, sizeof(tail), "%ld", ctx->args->tail_lines);
  }
  int rc = k8s_query_add(q, "container", ctx->args->container);
  rc = rc == MGO_OK ? k8s_query_add(q, "tailLines", tail) : rc;
  rc = rc == MGO_OK && ctx->args->follow ? k8s_query_add(q, "follow", "true") : rc;
  return rc == MGO_OK && ctx->args->previous ? k8s_query_add(q, "previous", "true") : rc;
}

int kmg_cmd_logs(struct kmg_ctx *ctx)
{
  char pod[KMG_POD_NAME_MAX];
  if (log_pod(ctx, pod, sizeof(pod)) != 0) {
    return 1;
  }
  char path[K8S_PATH_MAX];
  struct mgo_buf q = MGO_BUF_INIT(512);
  int rc = k8s_path(path, sizeof(path), &K8S_RES_PODS, ctx->ns, pod, "log");
  rc = rc == MGO_OK ? log_query(ctx, &q) : rc;
  if (rc != MGO_OK) {
    mgo_buf_free(&q);
    return kmg_fail(ctx, "cannot build the log request for %s: %s", pod, mgo_strerror(rc));
  }
  struct k8s_status st;
  rc = k8s_get_stream(ctx->client, path, mgo_buf_str(&q),
                      ctx->args->follow ? FOLLOW_TIMEOUT_MS : LOGS_TIMEOUT_MS, to_stdout, NULL, &st);
  mgo_buf_free(&q);
  if (rc != MGO_OK) {
    kmg_api_error(rc, &st, "get", "pods/log", ctx->ns, pod, ctx->err, sizeof(ctx->err));
    return 1;
  }
  return 0;
}
