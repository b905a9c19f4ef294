/* The load step: the MemgraphCluster from the cache (or as our last status write returned it), parsed and
 * validated. An unusable spec is reported once (phase Failed, Ready=False, a Warning Event) and ends the
 * pass. */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

/* "spec.x: message; spec.y: message" from parse or validation errors. */
static void describe_errors(const struct mgo_cluster_errs *errs, char *dst, size_t dstsz)
{
  struct mgo_buf b = MGO_BUF_INIT(1024);
  for (size_t i = 0; i < errs->n; i++)
    (void) mgo_buf_printf(&b, "%s%s: %s", i > 0 ? "; " : "", errs->e[i].field, errs->e[i].message);
  if (errs->n == 0)
    (void) mgo_buf_addstr(&b, "the object cannot be parsed");
  (void) mgo_strlcpy(dst, mgo_buf_str(&b), dstsz);
  mgo_buf_free(&b);
}

static struct op_result invalid_spec(struct op_ctx *ctx, const struct mgo_cluster_errs *errs)
{
  char msg[512], detail[448], now[40];
  const json_t *meta = json_object_get(ctx->obj, "metadata");
  bool written = false;
  json_t *status;
  int rc;

  describe_errors(errs, detail, sizeof(detail));
  (void) mgo_snprintf(msg, sizeof(msg), "invalid spec: %s Fix the MemgraphCluster and apply it again.",
                      detail);
  (void) mgo_clock_format_now(ctx->clock, 0, now, sizeof(now));
  status = op_invalid_status(json_object_get(ctx->obj, "status"),
                             json_integer_value(json_object_get(meta, "generation")), msg, now);
  rc = op_write_status(ctx, status, &written);
  json_decref(status);
  if (rc != MGO_OK)
    return op_error(rc);
  op_set_phase_metric(ctx, "Failed");
  if (written) { /* once per change, not on every resync */
    mgo_log(MGO_LOG_WARN, "invalid spec", "cluster", ctx->key, "detail", detail, (char *) NULL);
    op_event(ctx, "Warning", "InvalidSpec", "Validate", msg);
  }
  return op_stop();
}

struct op_result op_step_load(struct op_ctx *ctx)
{
  struct mgo_cluster_errs errs;
  json_t *cached = ctx->kube->cached(ctx->kube->arg, OP_CACHE_CLUSTERS, ctx->ns, ctx->name);

  if (cached == NULL)
    return op_gone();
  ctx->obj = op_fresher(cached, ctx->cs->last_written);
  json_decref(cached);
  if (json_object_get(json_object_get(ctx->obj, "metadata"), "deletionTimestamp") != NULL)
    return op_stop(); /* garbage collection removes what it owns */
  memset(&errs, 0, sizeof(errs));
  if (mgo_cluster_parse(ctx->obj, &ctx->c, &errs) != MGO_OK)
    return invalid_spec(ctx, &errs);
  ctx->parsed = true;
  memset(&errs, 0, sizeof(errs));
  if (mgo_cluster_validate(&ctx->c, &errs) != MGO_OK)
    return invalid_spec(ctx, &errs);
  return op_ok();
}

static long long resource_version(const json_t *obj)
{
  const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  char *end = NULL;
  long long v = rv != NULL ? strtoll(rv, &end, 10) : -1;
  return rv != NULL && end != rv && *end == '\0' ? v : -1;
}

/* Resource versions are opaque to clients in general, but the status write we just made must not be
 * undone by reading an older cache entry: compare them as the etcd revisions they are, same uid only. */
json_t *op_fresher(const json_t *cached, const json_t *last_written)
{
  const json_t *uc = json_object_get(json_object_get(cached, "metadata"), "uid");
  const json_t *uw = json_object_get(json_object_get(last_written, "metadata"), "uid");
  if (last_written != NULL && json_equal(uc, uw) && resource_version(last_written) > resource_version(cached))
    return json_incref((json_t *) last_written);
  return json_incref((json_t *) cached);
}
