/* `kubectl memgraph status NAME [-o json|yaml]`: the summary of src/plugin/kmg_status.c over the cluster, its
 * pods and the namespace's MemgraphBackups. */
#include <stdio.h>

#include "k8s_path.h"
#include "kmg_cmd.h"
#include "kmg_objects.h"
#include "kmg_status.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define STATUS_TEXT_MAX ((size_t) 4 * 1024 * 1024)

int kmg_status_text(struct kmg_ctx *ctx, const json_t *cluster, struct mgo_buf *out)
{
  const char *name = json_string_value(json_object_get(json_object_get(cluster, "metadata"), "name"));
  char selector[320];
  json_t *pods = NULL, *backups = NULL;
  mgo_snprintf(selector, sizeof(selector), "app.kubernetes.io/instance=%s", name ? name : "");
  /* Pods and backups are extras: a user who may read the cluster but not pods still gets a summary. */
  if (kmg_list(ctx, &K8S_RES_PODS, selector, &pods) != MGO_OK) {
    fprintf(stderr, "warning: pods not shown: %s\n", ctx->err);
  }
  if (kmg_list(ctx, &KMG_RES_BACKUPS, NULL, &backups) != MGO_OK) {
    fprintf(stderr, "warning: backups not shown: %s\n", ctx->err);
  }
  ctx->err[0] = '\0';
  struct kmg_status_input in = {
      .cluster = cluster, .pods = pods, .backups = backups, .now_ms = mgo_clock_wall_ms(NULL)};
  int rc = kmg_format_status(&in, out);
  json_decref(pods);
  json_decref(backups);
  if (rc != MGO_OK) {
    kmg_fail(ctx, "cannot format the status: %s", mgo_strerror(rc));
  }
  return rc;
}

int kmg_cmd_status(struct kmg_ctx *ctx)
{
  json_t *cluster = NULL;
  if (kmg_get(ctx, &KMG_RES_CLUSTERS, ctx->args->pos[0], &cluster) != MGO_OK) {
    return 1;
  }
  if (ctx->args->output != KMG_OUT_TEXT) {
    int code = kmg_print_object(ctx, cluster);
    json_decref(cluster);
    return code;
  }
  struct mgo_buf text = MGO_BUF_INIT(STATUS_TEXT_MAX);
  int rc = kmg_status_text(ctx, cluster, &text);
  if (rc == MGO_OK) {
    fputs(mgo_buf_str(&text), stdout);
  }
  mgo_buf_free(&text);
  json_decref(cluster);
  return rc == MGO_OK ? 0 : 1;
}
