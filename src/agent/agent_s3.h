/* The agent's seam to the S3 client (src/s3/s3.h): the upload and download functions it calls, as function
 * pointers, so unit tests inject fakes and never link the S3 client.
 *
 * agent_s3_real_ops() (library mgo_agent_s3) returns s3_put_file() and s3_get_file() of src/s3.
 * Ownership: the returned struct is static. Thread-safety: the functions may be called from any thread. */
#ifndef MGO_AGENT_S3_H
#define MGO_AGENT_S3_H

#include "s3.h"

struct agent_s3_ops {
  int (*put_file)(const struct s3_config *cfg, const char *key, const char *path, size_t part_size,
                  s3_progress_fn progress, void *pctx, struct s3_put_result *res, struct s3_error *err);
  int (*get_file)(const struct s3_config *cfg, const char *key, const char *path, uint64_t expect_size,
                  const char *expect_sha256, struct s3_put_result *res, struct s3_error *err);
};

const struct agent_s3_ops *agent_s3_real_ops(void);

#endif
