/* The commands of the kubectl-memgraph binary and the helpers they share (kubectl_memgraph.c).
 *
 * Each command returns the process's exit code: 0 done, 1 failed (ctx->err holds the one line main() prints
 * on stderr), 2 usage. Commands print their results on stdout. Ownership: the context owns the client;
 * helpers returning json_t ** hand the caller a new reference (NULL on failure). Thread-safety: one thread.
 */
#ifndef KMG_CMD_H
#define KMG_CMD_H

#include <jansson.h>
#include <stdbool.h>

#include "k8s_client.h"
#include "kmg_args.h"
#include "mgo_buf.h"

#define KMG_ERR_MAX 1024

struct kmg_ctx {
  const struct kmg_args *args;
  struct k8s_client *client;
  char ns[256];
  char err[KMG_ERR_MAX];
};

/* Fills ctx->err (formatted) and returns 1. */
int kmg_fail(struct kmg_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* GET one object of res in ctx->ns. On failure fills ctx->err (kmg_api_error) and returns the MGO_* code. */
int kmg_get(struct kmg_ctx *ctx, const struct k8s_resource *res, const char *name, json_t **out);
/* Every object of res in ctx->ns matching label_selector (NULL: all). */
int kmg_list(struct kmg_ctx *ctx, const struct k8s_resource *res, const char *label_selector, json_t **out);
/* JSON merge patch / create, errors as kmg_get(). out may be NULL. */
int kmg_patch(struct kmg_ctx *ctx, const struct k8s_resource *res, const char *name, const json_t *patch,
              json_t **out);
int kmg_create(struct kmg_ctx *ctx, const struct k8s_resource *res, const json_t *obj, json_t **out);

/* Prints obj (without managedFields) as JSON or YAML per ctx->args->output. 0 or 1. */
int kmg_print_object(struct kmg_ctx *ctx, const json_t *obj);
/* Sleeps ms milliseconds (polling interval). */
void kmg_sleep_ms(long ms);

int kmg_cmd_status(struct kmg_ctx *ctx);
int kmg_cmd_switchover(struct kmg_ctx *ctx);
int kmg_cmd_fence(struct kmg_ctx *ctx, bool fence);
int kmg_cmd_annotate(struct kmg_ctx *ctx, const char *key, const char *value, const char *what);
int kmg_cmd_backup(struct kmg_ctx *ctx);
int kmg_cmd_restore(struct kmg_ctx *ctx);
int kmg_cmd_report(struct kmg_ctx *ctx);
int kmg_cmd_logs(struct kmg_ctx *ctx);
int kmg_cmd_preview(struct kmg_ctx *ctx);

/* The status summary of cluster `name` into out (used by status and report). MGO_OK or the code with
 * ctx->err filled. */
int kmg_status_text(struct kmg_ctx *ctx, const json_t *cluster, struct mgo_buf *out);

#endif
