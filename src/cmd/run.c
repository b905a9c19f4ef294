#include "run.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "operator.h"

static void log_api_error(const char *msg, int rc, const struct k8s_status *st)
{
  char code[16];
  mgo_snprintf(code, sizeof(code), "%ld", st->code);
  mgo_log(MGO_LOG_WARN, msg, "error", mgo_errname(rc), "http", code, "reason", st->reason, "detail",
          st->message, (char *) NULL);
}

/* Counts objects the operator may list: namespaces, or (without that permission) its own Leases. */
static int count_visible(struct k8s_client *c, const struct mgo_options *o, const char **what, size_t *n)
{
  char path[K8S_PATH_MAX];
  struct k8s_list_opts lo = {.limit = 500};
  struct k8s_status st;
  json_t *list = NULL;
  *what = "namespaces";
  k8s_path(path, sizeof(path), &K8S_RES_NAMESPACES, NULL, NULL, NULL);
  int rc = k8s_list(c, path, &lo, &list, &st);
  if (rc == MGO_EFORBIDDEN) {
    *what = "leases";
    k8s_path(path, sizeof(path), &K8S_RES_LEASES, o->lease_namespace, NULL, NULL);
    rc = k8s_list(c, path, &lo, &list, &st);
  }
  if (rc != MGO_OK) {
    log_api_error("list failed", rc, &st);
    return rc;
  }
  *n = json_array_size(json_object_get(list, "items"));
  json_decref(list);
  return MGO_OK;
}

/* Checks the credentials before anything starts: the API answers and the Lease namespace is readable. */
static int connect_and_report(struct k8s_client *c, const struct mgo_options *o)
{
  struct k8s_status st;
  json_t *ver = NULL;
  int rc = k8s_get(c, "/version", &ver, &st);
  if (rc != MGO_OK) {
    log_api_error("cannot reach the API server", rc, &st);
    return rc;
  }
  char git_version[64];
  const char *gv = json_string_value(json_object_get(ver, "gitVersion"));
  mgo_strlcpy(git_version, gv ? gv : "unknown", sizeof(git_version));
  json_decref(ver);
  const char *what = NULL;
  size_t n = 0;
  rc = count_visible(c, o, &what, &n);
  if (rc != MGO_OK)
    return rc;
  char count[32];
  mgo_snprintf(count, sizeof(count), "%zu", n);
  mgo_log(MGO_LOG_INFO, "connected", "server", k8s_client_server(c), "server_version", git_version,
          "identity", o->identity, "namespace", o->namespace ? o->namespace : "(all)", "visible", what,
          "count", count, (char *) NULL);
  return MGO_OK;
}

static int preflight(const struct mgo_options *o)
{
  struct k8s_config cfg;
  struct k8s_client *c = NULL;
  struct k8s_status st;
  char err[512] = "";
  int rc = k8s_config_load_auto(o->kubeconfig, &cfg, err, sizeof(err));
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "cannot load the Kubernetes configuration", "error", mgo_errname(rc), "detail",
            err, (char *) NULL);
    return rc;
  }
  rc = k8s_client_new(&cfg, NULL, &c, &st);
  k8s_config_free(&cfg);
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "cannot create the API client", "error", mgo_errname(rc), "detail", st.message,
            (char *) NULL);
    return rc;
  }
  rc = connect_and_report(c, o);
  k8s_client_free(c);
  return rc;
}

/* Blocks until SIGTERM/SIGINT (returns 0) or until leadership is lost (returns 1). */
static int wait_for_stop(struct mgo_operator *op, const sigset_t *sigs)
{
  struct timespec tick = {.tv_sec = 0, .tv_nsec = 200L * 1000 * 1000};
  for (;;) {
    int sig = sigtimedwait(sigs, NULL, &tick);
    if (sig > 0) {
      mgo_log(MGO_LOG_INFO, "shutting down", "signal", strsignal(sig), (char *) NULL);
      return 0;
    }
    if (mgo_operator_lost(op))
      return 1;
  }
}

static void to_config(const struct mgo_options *o, const char *version, struct mgo_operator_config *cfg)
{
  mgo_operator_config_default(cfg);
  cfg->kubeconfig = o->kubeconfig;
  cfg->namespace = o->namespace;
  cfg->workers = (int) o->workers;
  cfg->resync_interval_ms = o->resync_interval_ms;
  cfg->http_addr = o->http_addr;
  cfg->http_port = (int) o->http_port;
  cfg->leader_elect = o->leader_elect;
  cfg->lease_namespace = o->lease_namespace;
  cfg->lease_name = o->lease_name;
  cfg->identity = o->identity;
  cfg->lease_duration_ms = o->lease_duration_ms;
  cfg->renew_deadline_ms = o->renew_deadline_ms;
  cfg->retry_period_ms = o->retry_period_ms;
  cfg->bolt_timeout_ms = o->bolt_timeout_ms;
  cfg->operator_image = o->operator_image;
  cfg->version = version;
}

/* One malloc arena for the whole process unless the environment chose (MALLOC_ARENA_MAX, GLIBC_TUNABLES).
 * glibc gives each thread that allocates its own arena (up to 8 per core); the workers and informers churn
 * small JSON allocations in ~14 of them, and memory freed in one is never reused by another: with 50
 * clusters 14 arenas held 30 MB for 14 MB in use. The threads mostly wait on the network, so one shared
 * arena costs no measurable time (bench/results/scale.md). */
static void limit_malloc_arenas(void)
{
#ifdef M_ARENA_MAX
  if (getenv("MALLOC_ARENA_MAX") == NULL && getenv("GLIBC_TUNABLES") == NULL)
    (void) mallopt(M_ARENA_MAX, 1);
#endif
#ifdef M_MMAP_THRESHOLD
  /* A fixed threshold (glibc raises the default one after the first large free, up to 32 MiB): every pass
   * callocs an observation of ~560 KB, mostly unused with few instances. Mapped, only the pages it touches
   * become resident and the whole of it goes back at free; from the heap, calloc clears (touches) all of it
   * and 16 workers' worth stays in the heap. */
  if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL && getenv("GLIBC_TUNABLES") == NULL)
    (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

int mgo_run(const struct mgo_options *opts, const char *version)
{
  struct mgo_operator_config cfg;
  struct mgo_operator *op = NULL;
  sigset_t sigs;
  int code;

  limit_malloc_arenas(); /* before any thread starts */
  mgo_log_setup(opts->log_level, opts->log_format, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread starts: only sigtimedwait sees them */
  if (k8s_global_init() != MGO_OK || preflight(opts) != MGO_OK)
    return 1;
  if (opts->once)
    return 0;
  to_config(opts, version, &cfg);
  if (mgo_operator_start(&cfg, &op) != MGO_OK)
    return 1;
  code = wait_for_stop(op, &sigs);
  return mgo_operator_stop(op) != 0 ? 1 : code;
}
