#include "run.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_lease.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

struct run_state {
  const struct mgo_options *opts;
  atomic_bool lost;
};

static void log_api_error(const char *msg, int rc, const struct k8s_status *st)
{
  char code[16];
  mgo_snprintf(code, sizeof(code), "%ld", st->code);
  mgo_log(MGO_LOG_WARN, msg, "error", mgo_errname(rc), "http", code, "reason", st->reason, "detail",
          st->message, (char *) NULL);
}

static void on_started_leading(void *arg)
{
  struct run_state *s = arg;
  mgo_log(MGO_LOG_INFO, "leading", "identity", s->opts->identity, "lease_namespace", s->opts->lease_namespace,
          "lease", s->opts->lease_name, (char *) NULL);
}

static void on_lost(void *arg)
{
  struct run_state *s = arg;
  mgo_log(MGO_LOG_ERROR, "leadership lost, stopping", "identity", s->opts->identity, (char *) NULL);
  atomic_store(&s->lost, true);
}

static void on_new_leader(void *arg, const char *holder)
{
  struct run_state *s = arg;
  mgo_log(MGO_LOG_INFO, "leader observed", "holder", holder[0] ? holder : "(none)", "identity",
          s->opts->identity, (char *) NULL);
}

static void on_lease_error(void *arg, int rc, const struct k8s_status *st)
{
  (void) arg;
  log_api_error("lease request failed", rc, st);
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

static struct k8s_client *open_client(const struct mgo_options *o)
{
  struct k8s_config cfg;
  char err[512] = "";
  int rc = k8s_config_load_auto(o->kubeconfig, &cfg, err, sizeof(err));
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "cannot load the Kubernetes configuration", "error", mgo_errname(rc), "detail",
            err, (char *) NULL);
    return NULL;
  }
  struct k8s_client *c = NULL;
  struct k8s_status st;
  rc = k8s_client_new(&cfg, NULL, &c, &st);
  k8s_config_free(&cfg);
  if (rc != MGO_OK)
    mgo_log(MGO_LOG_ERROR, "cannot create the API client", "error", mgo_errname(rc), "detail", st.message,
            (char *) NULL);
  return c;
}

static struct k8s_leader *start_election(struct k8s_client *c, struct run_state *s)
{
  const struct mgo_options *o = s->opts;
  struct k8s_leader_opts lo = {.lease_namespace = o->lease_namespace,
                               .lease_name = o->lease_name,
                               .identity = o->identity,
                               .lease_duration_ms = o->lease_duration_s * 1000,
                               .renew_deadline_ms = o->renew_deadline_s * 1000,
                               .retry_period_ms = o->retry_period_s * 1000,
                               .on_started_leading = on_started_leading,
                               .on_lost = on_lost,
                               .on_new_leader = on_new_leader,
                               .on_error = on_lease_error,
                               .arg = s};
  struct k8s_leader *le = NULL;
  int rc = k8s_leader_new(c, &lo, &le);
  if (rc == MGO_OK)
    rc = k8s_leader_start(le);
  if (rc != MGO_OK) {
    mgo_log(MGO_LOG_ERROR, "cannot start leader election", "error", mgo_errname(rc), (char *) NULL);
    k8s_leader_free(le);
    return NULL;
  }
  mgo_log(MGO_LOG_INFO, "waiting for leadership", "identity", o->identity, "lease_namespace",
          o->lease_namespace, "lease", o->lease_name, (char *) NULL);
  return le;
}

/* Blocks until SIGTERM/SIGINT (returns 0) or until leadership is lost (returns 1). */
static int wait_for_stop(struct run_state *s, const sigset_t *sigs)
{
  struct timespec tick = {.tv_sec = 0, .tv_nsec = 200L * 1000 * 1000};
  for (;;) {
    int sig = sigtimedwait(sigs, NULL, &tick);
    if (sig > 0) {
      mgo_log(MGO_LOG_INFO, "shutting down", "signal", strsignal(sig), (char *) NULL);
      return 0;
    }
    if (atomic_load(&s->lost))
      return 1;
  }
}

int mgo_run(const struct mgo_options *opts, const char *version)
{
  mgo_log_setup(opts->log_level, opts->log_format, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread starts: only sigtimedwait sees them */
  mgo_log(MGO_LOG_INFO, "starting", "version", version, "identity", opts->identity, (char *) NULL);
  if (k8s_global_init() != MGO_OK)
    return 1;
  struct k8s_client *c = open_client(opts);
  if (!c)
    return 1;
  int exit_code = connect_and_report(c, opts) == MGO_OK ? 0 : 1;
  struct run_state s = {.opts = opts};
  struct k8s_leader *le = NULL;
  if (exit_code == 0 && !opts->once && opts->leader_elect) {
    le = start_election(c, &s);
    exit_code = le ? 0 : 1;
  } else if (exit_code == 0 && !opts->once) {
    mgo_log(MGO_LOG_INFO, "leader election disabled", "identity", opts->identity, (char *) NULL);
  }
  if (exit_code == 0 && !opts->once)
    exit_code = wait_for_stop(&s, &sigs);
  if (le) {
    bool was_leading = k8s_leader_is_leader(le);
    k8s_leader_free(le); /* stops the loop and releases the Lease if held */
    if (was_leading)
      mgo_log(MGO_LOG_INFO, "lease released", "identity", opts->identity, (char *) NULL);
  }
  k8s_client_free(c);
  mgo_log(MGO_LOG_INFO, "stopped", "exit_code", exit_code ? "1" : "0", (char *) NULL);
  return exit_code;
}
