/* `kubectl memgraph preview NAME -f CHANGED.yaml`: reads the changed MemgraphCluster (YAML or JSON), the live
 * one and its StatefulSet's agent image, and prints src/plugin/kmg_preview.c's answer. Exit 1 when the change
 * would be refused. */
#include <stdio.h>
#include <string.h>

#include "k8s_path.h"
#include "kmg_cmd.h"
#include "kmg_objects.h"
#include "kmg_preview.h"
#include "kmg_yaml.h"
#include "mgo_err.h"

#define FILE_MAX ((size_t) 4 * 1024 * 1024)
#define PREVIEW_MAX ((size_t) 1024 * 1024)

static int read_changed(struct kmg_ctx *ctx, json_t **out)
{
  const char *path = ctx->args->filename;
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL) {
    return kmg_fail(ctx, "cannot read %s: %m", path);
  }
  struct mgo_buf text = MGO_BUF_INIT(FILE_MAX);
  char chunk[8192], err[256] = "";
  size_t n;
  int rc = MGO_OK;
  while (rc == MGO_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    rc = mgo_buf_add(&text, chunk, n);
  }
  if (f != stdin) {
    fclose(f);
  }
  rc = rc == MGO_OK ? kmg_yaml_load(mgo_buf_str(&text), text.len, out, err, sizeof(err)) : rc;
  mgo_buf_free(&text);
  if (rc != MGO_OK) {
    return kmg_fail(ctx, "%s: %s", path, err[0] ? err : mgo_strerror(rc));
  }
  const char *kind = json_string_value(json_object_get(*out, "kind"));
  const char *name = json_string_value(json_object_get(json_object_get(*out, "metadata"), "name"));
  if (kind == NULL || strcmp(kind, "MemgraphCluster") != 0 ||
      (name != NULL && strcmp(name, ctx->args->pos[0]) != 0)) {
    return kmg_fail(ctx, "%s is not MemgraphCluster %s", path, ctx->args->pos[0]);
  }
  return 0;
}

/* The agent image of the live StatefulSet (what the operator builds with), or a stand-in: the comparison
 * uses the same image on both sides, so it only matters for a readable template diff. */
static void operator_image(struct kmg_ctx *ctx, char *out, size_t outsz)
{
  json_t *sts = NULL;
  mgo_strlcpy(out, "memgraph-operator", outsz);
  if (kmg_get(ctx, &K8S_RES_STATEFULSETS, ctx->args->pos[0], &sts) == MGO_OK) {
    const json_t *spec = json_object_get(json_object_get(json_object_get(sts, "spec"), "template"), "spec");
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(spec, "initContainers"), i, c)
    {
      const char *n = json_string_value(json_object_get(c, "name"));
      const char *img = json_string_value(json_object_get(c, "image"));
      if (n != NULL && img != NULL && strcmp(n, "operator-agent") == 0) {
        mgo_strlcpy(out, img, outsz);
      }
    }
  }
  ctx->err[0] = '\0';
  json_decref(sts);
}

int kmg_cmd_preview(struct kmg_ctx *ctx)
{
  json_t *changed = NULL, *current = NULL;
  if (read_changed(ctx, &changed) != 0 ||
      kmg_get(ctx, &KMG_RES_CLUSTERS, ctx->args->pos[0], &current) != MGO_OK) {
    json_decref(changed);
    return 1;
  }
  char image[512];
  operator_image(ctx, image, sizeof(image));
  struct kmg_preview_input in = {.current = current, .changed = changed, .operator_image = image};
  struct mgo_buf out = MGO_BUF_INIT(PREVIEW_MAX);
  bool refused = false;
  int rc = kmg_preview(&in, &out, &refused, ctx->err, sizeof(ctx->err));
  int code = 0;
  if (rc == MGO_OK) {
    printf("Preview of memgraphcluster %s/%s from %s\n%s", ctx->ns, ctx->args->pos[0], ctx->args->filename,
           mgo_buf_str(&out));
    code = refused ? kmg_fail(ctx, "the change would be refused (see Refused above)") : 0;
  } else {
    code = ctx->err[0] ? 1 : kmg_fail(ctx, "preview failed: %s", mgo_strerror(rc));
  }
  mgo_buf_free(&out);
  json_decref(changed);
  json_decref(current);
  return code;
}
