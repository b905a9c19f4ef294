/* The `agent` subcommand (init step) and the dispatch to `agent serve` (agent_serve.c). */
#include "agent.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_fs.h"
#include "agent_restore.h"
#include "agent_snap.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

/* Writes one line to the termination log (read by the operator from the pod status). The file is never
 * created (the kubelet creates /dev/termination-log in every container; run on a host, the agent must not
 * create files in /dev) and failures are ignored. */
static void termination(const struct mgo_options *opts, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void termination(const struct mgo_options *opts, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  int fd;
  ssize_t w;

  if (opts->termination_log == NULL || opts->termination_log[0] == '\0')
    return;
  va_start(ap, fmt);
  (void) vsnprintf(line, sizeof(line) - 1, fmt, ap);
  va_end(ap);
  line[sizeof(line) - 2] = '\0';
  (void) mgo_strlcpy(line + strlen(line), "\n", 2);
  fd = open(opts->termination_log, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return;
  w = write(fd, line, strlen(line));
  (void) w;
  (void) close(fd);
}

/* The snapshot Memgraph will recover from: the newest in <data_dir>/snapshots, "none" when there is none. */
static void recovered_from(const struct mgo_options *opts, char *name, size_t namesz)
{
  struct agent_snapshot *list = NULL;
  size_t n = 0;
  char detail[256];
  (void) mgo_strlcpy(name, "none", namesz);
  if (agent_list_snapshots(opts->data_dir, &list, &n, detail, sizeof(detail)) == MGO_OK && n > 0)
    (void) mgo_strlcpy(name, list[0].name, namesz);
  free(list);
}

static int failed(const struct mgo_options *opts, const char *msg, int rc, const char *detail)
{
  mgo_log(MGO_LOG_ERROR, msg, "pod", opts->pod_name, "error", mgo_errname(rc), "detail", detail, "data_dir",
          opts->data_dir, "marker_dir", opts->marker_dir, "instructions_dir", opts->instructions_dir,
          (char *) NULL);
  termination(opts, "agent failed: %s: %s (%s)", msg, detail, mgo_errname(rc));
  return 1;
}

static int do_reseed(const struct mgo_options *opts, const struct agent_instructions *in)
{
  struct agent_reseed_result res;
  char detail[512] = "", removed[32], from[AGENT_FILE_NAME_MAX + 1];
  int rc = agent_reseed(opts->data_dir, opts->marker_dir, in->token, &res, detail, sizeof(detail));

  (void) mgo_snprintf(removed, sizeof(removed), "%zu", res.removed);
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "agent: re-seed failed: Memgraph must not start on a half-wiped directory", "pod",
            opts->pod_name, "token", in->token, "error", mgo_errname(rc), "detail", detail, "removed",
            removed, "data_dir", opts->data_dir, "marker_dir", opts->marker_dir, (char *) NULL);
    termination(opts, "re-seed failed: %s (%s)", detail, mgo_errname(rc));
    return 1;
  }
  recovered_from(opts, from, sizeof(from));
  if (res.outcome == AGENT_RESEED_ALREADY_DONE) {
    mgo_log(MGO_LOG_INFO, "agent: re-seed already done for this token: data kept", "pod", opts->pod_name,
            "token", in->token, "removed", "0", "data_dir", opts->data_dir, (char *) NULL);
    termination(opts, "re-seed already done; recovering from snapshot %s", from);
  } else {
    mgo_log(MGO_LOG_WARN, "agent: re-seed: data directory wiped, Memgraph starts empty", "pod",
            opts->pod_name, "token", in->token, "removed", removed, "data_dir", opts->data_dir, "marker_dir",
            opts->marker_dir, (char *) NULL);
    termination(opts, "re-seed: data directory wiped (%s entries); recovering from snapshot %s", removed,
                from);
  }
  return 0;
}

static int do_restore(const struct mgo_options *opts, const struct agent_restore_spec *rs)
{
  struct agent_restore_creds creds = {getenv("MGO_RESTORE_ACCESS_KEY_ID"),
                                      getenv("MGO_RESTORE_SECRET_ACCESS_KEY"),
                                      getenv("MGO_RESTORE_SESSION_TOKEN")};
  struct agent_restore_result res;
  char detail[1024] = "", size[32], from[AGENT_FILE_NAME_MAX + 1];
  int rc;

  s3_global_init();
  rc = agent_restore(opts->data_dir, opts->marker_dir, rs, &creds, agent_s3_real_ops(), &res, detail,
                     sizeof(detail));
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "agent: restore failed: Memgraph does not start", "pod", opts->pod_name, "token",
            rs->token, "error", mgo_errname(rc), "detail", detail, "bucket", rs->bucket, "key", rs->key,
            "file", rs->file, "data_dir", opts->data_dir, (char *) NULL);
    termination(opts, "restore failed: %s (%s)", detail, mgo_errname(rc));
    return 1;
  }
  recovered_from(opts, from, sizeof(from));
  if (res.outcome == AGENT_RESTORE_ALREADY_DONE) {
    mgo_log(MGO_LOG_INFO, "agent: restore already done for this token: data kept", "pod", opts->pod_name,
            "token", rs->token, "recovering_from", from, (char *) NULL);
    termination(opts, "restore already done; recovering from snapshot %s", from);
    return 0;
  }
  (void) mgo_snprintf(size, sizeof(size), "%llu", (unsigned long long) res.size);
  mgo_log(MGO_LOG_WARN, "agent: restored a snapshot from S3: Memgraph recovers from it", "pod",
          opts->pod_name, "token", rs->token, "file", rs->file, "size", size, "sha256", res.sha256, "bucket",
          rs->bucket, "key", rs->key, (char *) NULL);
  termination(opts, "restored snapshot %s (%s bytes, sha256 %s) from s3://%s/%s; recovering from snapshot %s",
              rs->file, size, res.sha256, rs->bucket, rs->key, from);
  return 0;
}

int mgo_agent(const struct mgo_options *opts)
{
  struct agent_instructions in;
  char detail[512] = "", from[AGENT_FILE_NAME_MAX + 1];
  int rc;

  if (opts->command == MGO_CMD_AGENT_SERVE)
    return mgo_agent_serve(opts);
  mgo_log_setup(opts->log_level, opts->log_format, NULL);
  rc = agent_read_instructions(opts->instructions_dir, opts->pod_name, &in, detail, sizeof(detail));
  if (rc != MGO_OK)
    return failed(opts, "agent: unreadable instructions: nothing done", rc, detail);
  if (in.unknown > 0)
    mgo_log(MGO_LOG_WARN, "agent: unknown instruction keys ignored", "pod", opts->pod_name, "keys",
            in.unknown_keys, (char *) NULL);
  /* Before anything else: without the fence a restarted MAIN would take writes the moment it starts. */
  rc = agent_write_fence(opts->marker_dir, opts->replication_port, detail, sizeof(detail));
  if (rc != MGO_OK)
    return failed(opts, "agent: cannot write the fence file: Memgraph does not start unfenced", rc, detail);
  if (in.restore)
    return do_restore(opts, &in.rs);
  if (in.reseed)
    return do_reseed(opts, &in);
  recovered_from(opts, from, sizeof(from));
  mgo_log(MGO_LOG_INFO, "agent: nothing to do before Memgraph starts", "pod", opts->pod_name, "instructions",
          in.found ? "present" : "absent", "data_dir", opts->data_dir, "recovering_from", from,
          (char *) NULL);
  termination(opts, "recovering from snapshot %s", from);
  return 0;
}
