/* kubectl-memgraph: the `kubectl memgraph` plugin. Parses the arguments (src/plugin/kmg_args.c), loads the
 * kubeconfig like kubectl (--kubeconfig, else $KUBECONFIG, else ~/.kube/config; --context; -n, else the
 * context's namespace, else "default"), and runs one command (kmg_cmd_*.c). Errors: one line on stderr,
 * exit 1 (2 for usage). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "kmg_annot.h"
#include "kmg_args.h"
#include "kmg_cmd.h"
#include "kmg_objects.h"
#include "kmg_yaml.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#ifndef MGO_VERSION
#define MGO_VERSION "0.0.0-dev"
#endif

#define PRINT_MAX ((size_t) 64 * 1024 * 1024)

int kmg_fail(struct kmg_ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  (void) vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
  va_end(ap);
  return 1;
}

static int path_of(struct kmg_ctx *ctx, const struct k8s_resource *res, const char *name, char *path,
                   size_t pathsz)
{
  int rc = k8s_path(path, pathsz, res, ctx->ns, name, NULL);
  if (rc != MGO_OK) {
    kmg_fail(ctx, "invalid name \"%s\" or namespace \"%s\"", name ? name : "", ctx->ns);
  }
  return rc;
}

static int api_result(struct kmg_ctx *ctx, int rc, const struct k8s_status *st, const char *verb,
                      const struct k8s_resource *res, const char *name)
{
  if (rc != MGO_OK) {
    kmg_api_error(rc, st, verb, res->plural, ctx->ns, name, ctx->err, sizeof(ctx->err));
  }
  return rc;
}

int kmg_get(struct kmg_ctx *ctx, const struct k8s_resource *res, const char *name, json_t **out)
{
  char path[K8S_PATH_MAX];
  struct k8s_status st;
  *out = NULL;
  int rc = path_of(ctx, res, name, path, sizeof(path));
  if (rc != MGO_OK) {
    return rc;
  }
  return api_result(ctx, k8s_get(ctx->client, path, out, &st), &st, "get", res, name);
}

int kmg_list(struct kmg_ctx *ctx, const struct k8s_resource *res, const char *label_selector, json_t **out)
{
  char path[K8S_PATH_MAX];
  struct k8s_status st;
  *out = NULL;
  int rc = path_of(ctx, res, NULL, path, sizeof(path));
  if (rc != MGO_OK) {
    return rc;
  }
  struct k8s_list_opts opts = {.label_selector = label_selector, .limit = 500};
  return api_result(ctx, k8s_list_all(ctx->client, path, &opts, out, &st), &st, "list", res, NULL);
}

int kmg_patch(struct kmg_ctx *ctx, const struct k8s_resource *res, const char *name, const json_t *patch,
              json_t **out)
{
  char path[K8S_PATH_MAX];
  struct k8s_status st;
  int rc = path_of(ctx, res, name, path, sizeof(path));
  if (rc != MGO_OK) {
    return rc;
  }
  return api_result(ctx, k8s_merge_patch(ctx->client, path, patch, out, &st), &st, "patch", res, name);
}

int kmg_create(struct kmg_ctx *ctx, const struct k8s_resource *res, const json_t *obj, json_t **out)
{
  char path[K8S_PATH_MAX];
  struct k8s_status st;
  int rc = path_of(ctx, res, NULL, path, sizeof(path));
  if (rc != MGO_OK) {
    return rc;
  }
  const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
  return api_result(ctx, k8s_create(ctx->client, path, obj, out, &st), &st, "create", res, name);
}

int kmg_print_object(struct kmg_ctx *ctx, const json_t *obj)
{
  json_t *clean = kmg_strip_managed_fields(obj);
  int rc = MGO_OK;
  if (ctx->args->output == KMG_OUT_YAML) {
    struct mgo_buf b = MGO_BUF_INIT(PRINT_MAX);
    rc = kmg_json_to_yaml(clean, &b, ctx->err, sizeof(ctx->err));
    if (rc == MGO_OK) {
      fputs(mgo_buf_str(&b), stdout);
    }
    mgo_buf_free(&b);
  } else {
    rc = json_dumpf(clean, stdout, JSON_INDENT(4)) == 0 ? MGO_OK : MGO_EIO;
    fputc('\n', stdout);
    if (rc != MGO_OK) {
      kmg_fail(ctx, "cannot write the output");
    }
  }
  json_decref(clean);
  return rc == MGO_OK ? 0 : 1;
}

void kmg_sleep_ms(long ms)
{
  mgo_clock_sleep_ms(NULL, ms);
}

static int connect_client(struct kmg_ctx *ctx, const struct kmg_args *a)
{
  struct k8s_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  char err[512] = "";
  int rc = k8s_config_load_kubeconfig(a->kubeconfig, a->context, &cfg, err, sizeof(err));
  if (rc != MGO_OK) {
    return kmg_fail(ctx, "kubeconfig: %s", err[0] ? err : mgo_strerror(rc));
  }
  const char *ns = a->namespace ? a->namespace : (cfg.namespace ? cfg.namespace : "default");
  mgo_strlcpy(ctx->ns, ns, sizeof(ctx->ns));
  struct k8s_client_opts opts = {.user_agent = "kubectl-memgraph/" MGO_VERSION, .request_timeout_ms = 30000};
  struct k8s_status st;
  rc = k8s_client_new(&cfg, &opts, &ctx->client, &st);
  k8s_config_free(&cfg);
  if (rc != MGO_OK) {
    return kmg_fail(ctx, "cannot create the API client: %s", st.message[0] ? st.message : mgo_strerror(rc));
  }
  return 0;
}

static int dispatch(struct kmg_ctx *ctx)
{
  switch (ctx->args->command) {
  case KMG_CMD_STATUS:
    return kmg_cmd_status(ctx);
  case KMG_CMD_SWITCHOVER:
    return kmg_cmd_switchover(ctx);
  case KMG_CMD_BACKUP:
    return kmg_cmd_backup(ctx);
  case KMG_CMD_FENCE:
    return kmg_cmd_fence(ctx, true);
  case KMG_CMD_UNFENCE:
    return kmg_cmd_fence(ctx, false);
  case KMG_CMD_HIBERNATE:
    return kmg_cmd_annotate(ctx, KMG_ANN_HIBERNATION, "on", "hibernation requested");
  case KMG_CMD_RESUME:
    return kmg_cmd_annotate(ctx, KMG_ANN_HIBERNATION, "off", "resume requested");
  case KMG_CMD_PAUSE:
    return kmg_cmd_annotate(ctx, KMG_ANN_RECONCILE, "paused", "reconciliation paused");
  case KMG_CMD_UNPAUSE:
    return kmg_cmd_annotate(ctx, KMG_ANN_RECONCILE, NULL, "reconciliation resumed");
  case KMG_CMD_RESTORE:
    return kmg_cmd_restore(ctx);
  case KMG_CMD_REPORT:
    return kmg_cmd_report(ctx);
  case KMG_CMD_LOGS:
    return kmg_cmd_logs(ctx);
  case KMG_CMD_PREVIEW:
    return kmg_cmd_preview(ctx);
  default:
    return kmg_fail(ctx, "command not implemented");
  }
}

int main(int argc, char **argv)
{
  struct kmg_args args;
  char err[512] = "";
  if (kmg_args_parse(argc, argv, &args, err, sizeof(err)) != MGO_OK) {
    fprintf(stderr, "error: %s\n", err);
    if (args.command_name != NULL && args.command == KMG_CMD_NONE &&
        strncmp(err, "unknown command", 15) == 0) {
      fputs(kmg_usage_text(), stderr);
    }
    return 2;
  }
  if (args.command == KMG_CMD_HELP) {
    fputs(kmg_usage_text(), stdout);
    return 0;
  }
  if (args.command == KMG_CMD_VERSION) {
    printf("kubectl-memgraph %s\n", MGO_VERSION);
    return 0;
  }
  struct kmg_ctx ctx = {.args = &args};
  if (k8s_global_init() != MGO_OK) {
    fprintf(stderr, "error: libcurl initialisation failed\n");
    return 1;
  }
  int code = connect_client(&ctx, &args);
  if (code == 0) {
    code = dispatch(&ctx);
  }
  fflush(stdout);
  if (code != 0) {
    fprintf(stderr, "error: %s\n", ctx.err[0] ? ctx.err : "failed");
  }
  k8s_client_free(ctx.client);
  return code;
}
