/* Integration driver of src/s3: one operation per run against the server in S3_ENDPOINT, one JSON result
 * line on stdout ({"rc":"OK",...}); uploads and downloads also print {"event":"progress",...} lines.
 *
 *   s3_itest mkbucket | put KEY FILE [PART_SIZE [CANCEL_AFTER]] | get KEY FILE [SIZE|- [SHA256|-]]
 *            | head KEY | list PREFIX [MAX_KEYS] | delete KEY | uploads PREFIX
 * Environment: S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION (us-east-1),
 * S3_VIRTUAL_HOST=1 for virtual-host style. Exit status 0 whenever the operation ran (even when it failed;
 * rc tells), 2 on bad usage. */
#include "mgo_err.h"
#include "s3.h"
#include "s3_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct prog {
  uint64_t cancel_after;
};

static bool on_progress(void *ctx, uint64_t done, uint64_t total)
{
  struct prog *p = ctx;
  printf("{\"event\":\"progress\",\"done\":%llu,\"total\":%llu}\n", (unsigned long long) done,
         (unsigned long long) total);
  fflush(stdout);
  return !(p->cancel_after && done >= p->cancel_after);
}

static bool on_object(void *ctx, const struct s3_object *o)
{
  json_array_append_new(json_object_get(ctx, "keys"), json_string(o->key));
  json_array_append_new(json_object_get(ctx, "sizes"), json_integer((json_int_t) o->size));
  json_array_append_new(json_object_get(ctx, "etags"), json_string(o->etag));
  return true;
}

static void put_res(json_t *out, const struct s3_put_result *r)
{
  json_object_set_new(out, "size", json_integer((json_int_t) r->size));
  json_object_set_new(out, "sha256", json_string(r->sha256));
  json_object_set_new(out, "etag", json_string(r->etag));
  json_object_set_new(out, "parts", json_integer(r->parts));
}

static int run_transfer(const struct s3_config *cfg, int argc, char **argv, json_t *out, struct s3_error *err)
{
  struct s3_put_result r;
  struct prog p = {0};
  int rc;
  if (strcmp(argv[1], "put") == 0) {
    size_t part = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    p.cancel_after = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
    rc = s3_put_file(cfg, argv[2], argv[3], part, on_progress, &p, &r, err);
  } else {
    uint64_t size = argc > 4 && strcmp(argv[4], "-") != 0 ? strtoull(argv[4], NULL, 10) : UINT64_MAX;
    const char *sha = argc > 5 && strcmp(argv[5], "-") != 0 ? argv[5] : NULL;
    rc = s3_get_file(cfg, argv[2], argv[3], size, sha, &r, err);
  }
  put_res(out, &r);
  return rc;
}

static int run(const struct s3_config *cfg, int argc, char **argv, json_t *out, struct s3_error *err)
{
  const char *op = argv[1];
  if (strcmp(op, "mkbucket") == 0)
    return s3_create_bucket(cfg, err);
  if ((strcmp(op, "put") == 0 || strcmp(op, "get") == 0) && argc >= 4)
    return run_transfer(cfg, argc, argv, out, err);
  if (strcmp(op, "head") == 0 && argc >= 3) {
    uint64_t size = 0;
    char sha[S3_SHA256_HEX];
    int rc = s3_head(cfg, argv[2], &size, sha, err);
    json_object_set_new(out, "size", json_integer((json_int_t) size));
    json_object_set_new(out, "sha256", json_string(sha));
    return rc;
  }
  if (strcmp(op, "list") == 0 && argc >= 3) {
    json_object_set_new(out, "keys", json_array());
    json_object_set_new(out, "sizes", json_array());
    json_object_set_new(out, "etags", json_array());
    return s3_list_paged(cfg, argv[2], argc > 3 ? (int) strtol(argv[3], NULL, 10) : 0, on_object, out, err);
  }
  if (strcmp(op, "delete") == 0 && argc >= 3)
    return s3_delete(cfg, argv[2], err);
  if (strcmp(op, "uploads") == 0 && argc >= 3) {
    size_t n = 0;
    int rc = s3_count_uploads(cfg, argv[2], &n, err);
    json_object_set_new(out, "count", json_integer((json_int_t) n));
    return rc;
  }
  return 1;
}

static const char *env(const char *name, const char *def)
{
  const char *v = getenv(name);
  return v && v[0] ? v : def;
}

int main(int argc, char **argv)
{
  struct s3_config cfg = {.endpoint = env("S3_ENDPOINT", ""),
                          .region = env("S3_REGION", "us-east-1"),
                          .bucket = env("S3_BUCKET", ""),
                          .access_key = env("S3_ACCESS_KEY", ""),
                          .secret_key = env("S3_SECRET_KEY", ""),
                          .force_path_style = !getenv("S3_VIRTUAL_HOST"),
                          .low_speed_timeout_s = strtol(env("S3_LOW_SPEED_S", "0"), NULL, 10)};
  struct s3_error err;
  struct rusage ru;
  if (argc < 2)
    return 2;
  s3_global_init();
  memset(&err, 0, sizeof(err));
  json_t *out = json_object();
  int rc = run(&cfg, argc, argv, out, &err);
  if (rc == 1) {
    fprintf(stderr, "usage: see the header of s3_itest.c\n");
    json_decref(out);
    return 2;
  }
  getrusage(RUSAGE_SELF, &ru);
  json_object_set_new(out, "rc", json_string(mgo_errname(rc)));
  json_object_set_new(out, "http", json_integer(err.http_status));
  json_object_set_new(out, "code", json_string(err.code));
  json_object_set_new(out, "message", json_string(err.message));
  json_object_set_new(out, "maxrss_kib", json_integer(ru.ru_maxrss));
  char *s = json_dumps(out, JSON_COMPACT);
  printf("%s\n", s);
  free(s);
  json_decref(out);
  return 0;
}
