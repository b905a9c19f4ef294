/* The isolated-MAIN check of `agent serve` bound to the real world: the local Memgraph and the peers over
 * Bolt, the MemgraphCluster from the API server with the pod's ServiceAccount token (a projected volume of
 * the agent container only). The decision is src/agent/agent_isolation.h; this file runs it on a thread. */
#include "agent_fence.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_isolation.h"
#include "cluster.h"
#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_path.h"
#include "k8s_status.h"
#include "mg.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "ports.h"

struct agent_fence {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop, started;
  char cluster[MGO_NAME_MAX], ns[MGO_NAME_MAX], pod[MGO_NAME_MAX], pod_ip[64];
  const char *user, *password; /* from the environment, never logged */
  char tls_ca[256];            /* "" = plain Bolt */
  int replication_port;
  struct k8s_config cfg;
  struct k8s_client *kube;
  long kube_timeout_ms;
  struct mg_conn *local;
  struct agent_iso iso;
  enum agent_iso_verdict said; /* the verdict last logged */
  char fence_error[256];       /* the last refused fence's answer, for the log of its check */
};

/* ---- ports -------------------------------------------------------------------------------------------- */

static void conn_opts(const struct agent_fence *f, const char *host, const char *server_name, long timeout_ms,
                      struct mg_conn_opts *o)
{
  mg_conn_opts_default(o);
  o->host = host;
  o->port = MGO_BOLT_PORT;
  o->user = f->user;
  o->password = f->password;
  o->connect_timeout_ms = (int) timeout_ms;
  o->query_timeout_ms = (int) timeout_ms;
  o->user_agent = "memgraph-operator-agent";
  if (f->tls_ca[0] != '\0') {
    o->tls = BOLT_TLS_VERIFY;
    o->tls_ca_file = f->tls_ca;
    o->tls_server_name = server_name;
  }
}

static int local_role(void *arg, enum mgo_role *role)
{
  struct agent_fence *f = arg;
  struct mg_error err;
  return mg_show_role(f->local, role, &err);
}

static int peer_role(void *arg, const char *peer, long timeout_ms, enum mgo_role *role)
{
  struct agent_fence *f = arg;
  struct mg_conn_opts o;
  struct mg_conn *c = NULL;
  struct mg_error err;
  int rc;
  conn_opts(f, peer, peer, timeout_ms, &o);
  rc = mg_conn_new(&c, &o);
  if (rc == MGO_OK)
    rc = mg_show_role(c, role, &err);
  mg_conn_free(c);
  return rc;
}

static int fence(void *arg)
{
  struct agent_fence *f = arg;
  struct mg_error err;
  int rc = mg_set_role_replica(f->local, f->replication_port, &err);
  if (rc != MGO_OK)
    (void) mgo_snprintf(f->fence_error, sizeof(f->fence_error), "%s: %s", mgo_errname(rc), err.message);
  return rc;
}

/* The client, (re)made when the check interval changed: a request never outlasts one interval. */
static int kube_client(struct agent_fence *f, long timeout_ms)
{
  struct k8s_client_opts o = {.connect_timeout_ms = timeout_ms,
                              .request_timeout_ms = timeout_ms,
                              .user_agent = "memgraph-operator-agent",
                              .pool_size = 1};
  if (f->kube != NULL && f->kube_timeout_ms == timeout_ms)
    return MGO_OK;
  k8s_client_free(f->kube);
  f->kube = NULL;
  f->kube_timeout_ms = timeout_ms;
  struct k8s_status st;
  k8s_status_clear(&st);
  return k8s_client_new(&f->cfg, &o, &f->kube, &st);
}

static int record_from(struct agent_fence *f, const json_t *obj, struct agent_iso_record *out)
{
  struct mgo_cluster c;
  int rc = mgo_cluster_parse(obj, &c, NULL);
  if (rc != MGO_OK)
    return rc;
  (void) mgo_strlcpy(out->current_main, c.recorded_main, sizeof(out->current_main));
  out->instances = c.spec.instances;
  out->failover_enabled = c.spec.failover.enabled;
  out->failover_delay_sec = c.spec.failover.failover_delay_sec;
  f->replication_port = (int) c.spec.replication.port;
  for (int i = 0; i < c.spec.instances && out->n_peers < AGENT_ISO_MAX_PEERS; i++) {
    char pod[MGO_NAME_MAX];
    if (mgo_name_pod(&c, i, pod, sizeof(pod)) != MGO_OK || strcmp(pod, f->pod) == 0)
      continue;
    if (mgo_name_pod_dns(&c, i, out->peers[out->n_peers], sizeof(out->peers[0])) == MGO_OK)
      out->n_peers++;
  }
  mgo_cluster_free(&c);
  return MGO_OK;
}

static int read_record(void *arg, struct agent_iso_record *out)
{
  struct agent_fence *f = arg;
  char path[512];
  json_t *obj = NULL;
  struct k8s_status st;
  int rc = kube_client(f, agent_iso_timing(f->iso.last.failover_delay_sec).interval_ms);
  if (rc == MGO_OK)
    rc = k8s_path(path, sizeof(path), &op_res_clusters, f->ns, f->cluster, NULL);
  k8s_status_clear(&st);
  if (rc == MGO_OK)
    rc = k8s_get(f->kube, path, &obj, &st);
  if (rc == MGO_OK)
    rc = record_from(f, obj, out);
  json_decref(obj);
  return rc;
}

/* ---- the thread --------------------------------------------------------------------------------------- */

static void report(struct agent_fence *f, const struct agent_iso_outcome *o)
{
  bool fences = agent_iso_verdict_fences(o->verdict);
  if (o->verdict == f->said && !fences)
    return;
  f->said = o->verdict;
  if (fences) {
    char tries[16];
    (void) mgo_snprintf(tries, sizeof(tries), "%d", o->fence_attempts);
    if (o->fenced)
      mgo_log(MGO_LOG_WARN, "agent: fenced the MAIN", "pod", f->pod, "verdict",
              agent_iso_verdict_name(o->verdict), "attempts", tries, "detail", o->why, (char *) NULL);
    else
      mgo_log(MGO_LOG_ERROR, "agent: fence failed", "pod", f->pod, "verdict",
              agent_iso_verdict_name(o->verdict), "attempts", tries, "error", f->fence_error, "detail",
              o->why, (char *) NULL);
  } else
    mgo_log(o->verdict == AGENT_ISO_UNARMED || o->verdict == AGENT_ISO_KEEP ? MGO_LOG_WARN : MGO_LOG_INFO,
            "agent: isolation check", "pod", f->pod, "verdict", agent_iso_verdict_name(o->verdict), "detail",
            o->why, (char *) NULL);
}

static bool wait_or_stop(struct agent_fence *f, int64_t ms)
{
  int64_t deadline = mgo_clock_mono_ms(NULL) + ms;
  bool stop;
  pthread_mutex_lock(&f->mu);
  while (!f->stop && mgo_clock_cond_wait_until(NULL, &f->cv, &f->mu, deadline) == MGO_OK)
    ;
  stop = f->stop;
  pthread_mutex_unlock(&f->mu);
  return stop;
}

static int pause_fence(void *arg, long ms)
{
  return wait_or_stop(arg, ms) ? MGO_ECANCELED : MGO_OK;
}

static void *run(void *arg)
{
  struct agent_fence *f = arg;
  const struct agent_iso_ops ops = {.arg = f,
                                    .local_role = local_role,
                                    .read_record = read_record,
                                    .peer_role = peer_role,
                                    .fence = fence,
                                    .pause = pause_fence};
  int64_t next = 1000;
  do {
    struct agent_iso_outcome o;
    if (agent_iso_check(&f->iso, &ops, mgo_clock_mono_ms(NULL), &o) == MGO_OK) {
      report(f, &o);
      next = o.next_check_ms;
    }
  } while (!wait_or_stop(f, next));
  return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------------------- */

static int env_copy(const char *name, char *dst, size_t dstsz, char *err, size_t errsz)
{
  const char *v = getenv(name);
  if (v == NULL || v[0] == '\0') {
    (void) mgo_snprintf(err, errsz, "%s is not set", name);
    return MGO_EINVAL;
  }
  return mgo_strlcpy(dst, v, dstsz);
}

static void find_tls_ca(struct agent_fence *f)
{
  static const char *const files[] = {MGO_TLS_MOUNT "/ca.crt", MGO_TLS_MOUNT "/tls.crt"};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
    if (access(files[i], R_OK) == 0) {
      (void) mgo_strlcpy(f->tls_ca, files[i], sizeof(f->tls_ca));
      return;
    }
}

/* The pod's own DNS name (what its certificate names), from the StatefulSet's naming. */
static void own_dns(const struct agent_fence *f, char *dst, size_t dstsz)
{
  struct mgo_cluster c;
  const char *dash = strrchr(f->pod, '-');
  memset(&c, 0, sizeof(c));
  (void) mgo_strlcpy(c.name, f->cluster, sizeof(c.name));
  (void) mgo_strlcpy(c.namespace_, f->ns, sizeof(c.namespace_));
  (void) mgo_name_pod_dns(&c, dash != NULL ? (int) strtol(dash + 1, NULL, 10) : 0, dst, dstsz);
}

static int setup(struct agent_fence *f, const char *cluster, char *err, size_t errsz)
{
  struct mg_conn_opts o;
  char dns[MGO_DNS_NAME_MAX] = "";
  int rc = mgo_strlcpy(f->cluster, cluster != NULL ? cluster : "", sizeof(f->cluster));
  if (rc == MGO_OK)
    rc = env_copy("POD_NAME", f->pod, sizeof(f->pod), err, errsz);
  if (rc == MGO_OK)
    rc = env_copy("POD_NAMESPACE", f->ns, sizeof(f->ns), err, errsz);
  if (rc == MGO_OK)
    rc = env_copy("POD_IP", f->pod_ip, sizeof(f->pod_ip), err, errsz);
  if (rc == MGO_OK)
    rc = k8s_config_in_cluster(NULL, &f->cfg, err, errsz);
  if (rc != MGO_OK)
    return rc;
  f->user = getenv("MEMGRAPH_USER");
  f->password = getenv("MEMGRAPH_PASSWORD");
  f->replication_port = 10000;
  find_tls_ca(f);
  own_dns(f, dns, sizeof(dns));
  conn_opts(f, f->pod_ip, dns, 1000, &o);
  rc = mg_conn_new(&f->local, &o);
  agent_iso_init(&f->iso, f->pod, mgo_clock_mono_ms(NULL));
  return rc;
}

int agent_fence_start(struct agent_fence **out, const char *cluster, char *err, size_t errsz)
{
  struct agent_fence *f = calloc(1, sizeof(*f));
  int rc;
  *out = NULL;
  if (f == NULL)
    return MGO_ENOMEM;
  pthread_mutex_init(&f->mu, NULL);
  (void) mgo_clock_cond_init(&f->cv);
  f->said = AGENT_ISO_NOT_MAIN;
  rc = setup(f, cluster, err, errsz);
  if (rc == MGO_OK && pthread_create(&f->thread, NULL, run, f) != 0)
    rc = MGO_ESYS;
  f->started = rc == MGO_OK;
  if (rc != MGO_OK) {
    agent_fence_stop(f);
    return rc;
  }
  *out = f;
  return MGO_OK;
}

void agent_fence_stop(struct agent_fence *f)
{
  if (f == NULL)
    return;
  if (f->started) {
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
  }
  mg_conn_free(f->local);
  k8s_client_free(f->kube);
  k8s_config_free(&f->cfg);
  pthread_cond_destroy(&f->cv);
  pthread_mutex_destroy(&f->mu);
  free(f);
}
