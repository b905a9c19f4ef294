/* `memgraph-operator agent serve`: the sidecar of every Memgraph pod. It serves the agent's HTTP API
 * (src/agent/agent_api.h) until SIGTERM or SIGINT, then cancels a running upload and stops. */
#include <signal.h>
#include <stdio.h>

#include "agent.h"
#include "agent_api.h"
#include "agent_fence.h"
#include "agent_http.h"
#include "agent_jobs.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

static void log_job(void *ctx, const struct agent_job_event *ev)
{
  char size[32], http[16];
  (void) ctx;
  (void) mgo_snprintf(size, sizeof(size), "%llu", (unsigned long long) ev->res->size);
  (void) mgo_snprintf(http, sizeof(http), "%ld", ev->err->http_status);
  if (ev->completed)
    mgo_log(MGO_LOG_INFO, "agent serve: upload completed", "id", ev->id, "file", ev->file, "key", ev->key,
            "size", size, "sha256", ev->res->sha256, (char *) NULL);
  else
    mgo_log(MGO_LOG_WARN, "agent serve: upload failed", "id", ev->id, "file", ev->file, "key", ev->key,
            "error", mgo_errname(ev->rc), "http_status", http, "code", ev->err->code, "message",
            ev->err->message, (char *) NULL);
}

/* The isolated-MAIN check, when the pod template names its cluster; NULL when off or it cannot start (the
 * sidecar goes on serving uploads: a missing check must not take backups down with it). */
static struct agent_fence *start_fence(const struct mgo_options *opts)
{
  struct agent_fence *f = NULL;
  char detail[512] = "";
  int rc;
  if (opts->cluster == NULL || opts->cluster[0] == '\0') {
    mgo_log(MGO_LOG_WARN, "agent serve: no --cluster, the isolated-MAIN check is off", (char *) NULL);
    return NULL;
  }
  rc = agent_fence_start(&f, opts->cluster, detail, sizeof(detail));
  if (rc != MGO_OK)
    mgo_log(MGO_LOG_ERROR, "agent serve: the isolated-MAIN check cannot start", "error", mgo_errname(rc),
            "detail", detail, (char *) NULL);
  else
    mgo_log(MGO_LOG_INFO, "agent serve: isolated-MAIN check on", "cluster", opts->cluster, (char *) NULL);
  return f;
}

static int serve(const struct mgo_options *opts, struct agent_jobs *jobs, const sigset_t *stop)
{
  struct agent_api *api = NULL;
  struct agent_http *http = NULL;
  struct agent_fence *fence = NULL;
  char detail[512] = "", port_s[16];
  int port = 0, sig = 0, rc;

  rc = agent_api_new(&api, opts->token_file, opts->data_dir, jobs, detail, sizeof(detail));
  if (rc == MGO_OK)
    rc = agent_http_start(&http, opts->listen, api, &port, detail, sizeof(detail));
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "agent serve: cannot start", "error", mgo_errname(rc), "detail", detail, "listen",
            opts->listen, "token_file", opts->token_file, (char *) NULL);
    agent_api_free(api);
    return 1;
  }
  (void) mgo_snprintf(port_s, sizeof(port_s), "%d", port);
  mgo_log(MGO_LOG_INFO, "agent serve: listening", "listen", opts->listen, "port", port_s, "data_dir",
          opts->data_dir, (char *) NULL);
  fence = start_fence(opts);
  (void) sigwait(stop, &sig);
  mgo_log(MGO_LOG_INFO, "agent serve: stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT",
          (char *) NULL);
  agent_fence_stop(fence);
  agent_http_stop(http);
  agent_jobs_shutdown(jobs); /* cancels a running upload and waits for it */
  agent_api_free(api);
  return 0;
}

int mgo_agent_serve(const struct mgo_options *opts)
{
  struct agent_jobs *jobs = NULL;
  sigset_t stop;
  int rc;

  agent_api_use_wiping_json_allocator(); /* before any other jansson use */
  mgo_log_setup(opts->log_level, opts->log_format, NULL);
  s3_global_init();
  (void) sigemptyset(&stop);
  (void) sigaddset(&stop, SIGTERM);
  (void) sigaddset(&stop, SIGINT);
  (void) pthread_sigmask(SIG_BLOCK, &stop, NULL); /* before any thread starts: they all inherit it */
  (void) signal(SIGPIPE, SIG_IGN);
  if (agent_jobs_new(&jobs, opts->data_dir, agent_s3_real_ops(), NULL) != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "agent serve: out of memory", (char *) NULL);
    return 1;
  }
  agent_jobs_set_notify(jobs, log_job, NULL);
  rc = serve(opts, jobs, &stop);
  agent_jobs_free(jobs);
  return rc;
}
