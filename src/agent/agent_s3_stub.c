/* Stand-in for the S3 client (src/s3) until its library mgo_s3 is part of the build: every transfer fails
 * with MGO_EUNSUPPORTED and says so in err, so `agent serve` reports uploads as failed and a restore fails
 * the init container. src/agent/CMakeLists.txt compiles this file only when the target mgo_s3 does not exist.
 */
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "s3.h"

static int unsupported(struct s3_put_result *res, struct s3_error *err)
{
  if (res != NULL)
    memset(res, 0, sizeof(*res));
  if (err != NULL) {
    memset(err, 0, sizeof(*err));
    (void) mgo_strlcpy(err->message, "this build has no S3 client", sizeof(err->message));
  }
  return MGO_EUNSUPPORTED;
}

void s3_global_init(void)
{
}

int s3_put_file(const struct s3_config *cfg, const char *key, const char *path, size_t part_size,
                s3_progress_fn progress, void *pctx, struct s3_put_result *res, struct s3_error *err)
{
  (void) cfg;
  (void) key;
  (void) path;
  (void) part_size;
  (void) progress;
  (void) pctx;
  return unsupported(res, err);
}

int s3_get_file(const struct s3_config *cfg, const char *key, const char *path, uint64_t expect_size,
                const char *expect_sha256, struct s3_put_result *res, struct s3_error *err)
{
  (void) cfg;
  (void) key;
  (void) path;
  (void) expect_size;
  (void) expect_sha256;
  return unsupported(res, err);
}
