#include "agent.h"

#include "agent_fs.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

static int failed(const struct mgo_options *opts, const char *msg, int rc, const char *detail)
{
  mgo_log(MGO_LOG_ERROR, msg, "pod", opts->pod_name, "error", mgo_errname(rc), "detail", detail, "data_dir",
          opts->data_dir, "marker_dir", opts->marker_dir, "instructions_dir", opts->instructions_dir,
          (char *) NULL);
  return 1;
}

int mgo_agent(const struct mgo_options *opts)
{
  struct agent_instructions in;
  struct agent_reseed_result res;
  char detail[512] = "";
  char removed[32];
  int rc;

  mgo_log_setup(opts->log_level, opts->log_format, NULL);
  rc = agent_read_instructions(opts->instructions_dir, opts->pod_name, &in, detail, sizeof(detail));
  if (rc != MGO_OK)
    return failed(opts, "agent: unreadable instructions: nothing done", rc, detail);
  if (in.unknown > 0)
    mgo_log(MGO_LOG_WARN, "agent: unknown instruction keys ignored", "pod", opts->pod_name, "keys",
            in.unknown_keys, (char *) NULL);
  if (!in.reseed) {
    mgo_log(MGO_LOG_INFO, "agent: nothing to do before Memgraph starts", "pod", opts->pod_name,
            "instructions", in.found ? "present" : "absent", "data_dir", opts->data_dir, (char *) NULL);
    return 0;
  }
  rc = agent_reseed(opts->data_dir, opts->marker_dir, in.token, &res, detail, sizeof(detail));
  (void) mgo_snprintf(removed, sizeof(removed), "%zu", res.removed);
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "agent: re-seed failed: Memgraph must not start on a half-wiped directory", "pod",
            opts->pod_name, "token", in.token, "error", mgo_errname(rc), "detail", detail, "removed", removed,
            "data_dir", opts->data_dir, "marker_dir", opts->marker_dir, (char *) NULL);
    return 1;
  }
  if (res.outcome == AGENT_RESEED_ALREADY_DONE)
    mgo_log(MGO_LOG_INFO, "agent: re-seed already done for this token: data kept", "pod", opts->pod_name,
            "token", in.token, "removed", "0", "data_dir", opts->data_dir, (char *) NULL);
  else
    mgo_log(MGO_LOG_WARN, "agent: re-seed: data directory wiped, Memgraph starts empty", "pod",
            opts->pod_name, "token", in.token, "removed", removed, "data_dir", opts->data_dir, "marker_dir",
            opts->marker_dir, (char *) NULL);
  return 0;
}
