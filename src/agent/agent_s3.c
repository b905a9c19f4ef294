/* The real S3 functions behind the agent's seam (agent_s3.h). */
#include "agent_s3.h"

static const struct agent_s3_ops real_ops = {s3_put_file, s3_get_file};

const struct agent_s3_ops *agent_s3_real_ops(void)
{
  return &real_ops;
}
