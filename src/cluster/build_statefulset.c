/* The StatefulSet of a MemgraphCluster.
 *
 * Choices, and why:
 * - podManagementPolicy Parallel: any pod can be MAIN and the operator orders replication itself, so the
 *   StatefulSet's start order means nothing; OrderedReady would keep pod-2 from starting while pod-1
 *   recovers a large snapshot or is stuck, stalling scale-up and the recovery of the whole cluster.
 * - updateStrategy OnDelete: the operator decides when each pod restarts (replicas first, MAIN last).
 * - Flags are all explicit (memgraph.md section 9); the image's config file is never relied upon.
 * - terminationGracePeriodSeconds 1800 with snapshot on exit (a large snapshot takes minutes), else 120. */
#include "cluster.h"
#include "cluster_build.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <stdio.h>
#include <string.h>

#define GRACE_WITH_SNAPSHOT 1800
#define GRACE_WITHOUT_SNAPSHOT 120

static int append_flag(json_t *args, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int append_flag(json_t *args, const char *fmt, ...)
{
  char flag[600];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(flag, sizeof(flag), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t) n >= sizeof(flag))
    return MGO_ETOOBIG;
  return json_array_append_new(args, json_string(flag)) == 0 ? MGO_OK : MGO_ENOMEM;
}

static const char *bool_str(bool b)
{
  return b ? "true" : "false";
}

static json_t *memgraph_args(const struct mgo_cluster *c)
{
  const struct mgo_cluster_spec *s = &c->spec;
  json_t *args = json_array();
  int64_t mib = 0;
  size_t i;
  json_t *extra;
  int rc = MGO_OK;

  (void) mgo_cluster_memory_limit_mib(s, &mib);
  rc |= append_flag(args, "--data-directory=%s", MGO_DATA_DIR);
  rc |= append_flag(args, "--log-file=%s", MGO_LOG_FILE);
  rc |= append_flag(args, "--also-log-to-stderr=true");
  rc |= append_flag(args, "--log-level=%s", s->memgraph.log_level);
  rc |= append_flag(args, "--bolt-port=%d", MGO_BOLT_PORT);
  rc |= append_flag(args, "--storage-wal-enabled=true");
  rc |= append_flag(args, "--storage-snapshot-interval-sec=%d", (int) s->memgraph.snapshot_interval_sec);
  rc |=
      append_flag(args, "--storage-snapshot-retention-count=%d", (int) s->memgraph.snapshot_retention_count);
  rc |= append_flag(args, "--storage-snapshot-on-exit=%s", bool_str(s->memgraph.snapshot_on_exit));
  rc |= append_flag(args, "--storage-wal-file-flush-every-n-tx=%lld",
                    (long long) s->memgraph.wal_flush_every_n_tx);
  rc |= append_flag(args, "--storage-properties-on-edges=%s", bool_str(s->memgraph.properties_on_edges));
  rc |= append_flag(args, "--replication-restore-state-on-startup=true");
  rc |= append_flag(args, "--data-recovery-on-startup=true");
  rc |= append_flag(args, "--init-file=%s", MGO_FENCE_FILE);
  rc |= append_flag(args, "--memory-limit=%lld", (long long) mib);
  if (s->tls_secret_name[0] != '\0') {
    rc |= append_flag(args, "--bolt-cert-file=%s/tls.crt", MGO_TLS_MOUNT);
    rc |= append_flag(args, "--bolt-key-file=%s/tls.key", MGO_TLS_MOUNT);
  }
  json_array_foreach(s->memgraph.extra_flags, i, extra)
  {
    if (json_is_string(extra) && !mgo_cluster_flag_is_owned(json_string_value(extra)))
      rc |= append_flag(args, "%s", json_string_value(extra));
  }
  if (rc != MGO_OK) {
    json_decref(args);
    return NULL;
  }
  return args;
}

static json_t *tcp_probe(int period, int timeout, int failures)
{
  return json_pack("{s:{s:i}, s:i, s:i, s:i, s:i}", "tcpSocket", "port", MGO_BOLT_PORT, "periodSeconds",
                   period, "timeoutSeconds", timeout, "failureThreshold", failures, "successThreshold", 1);
}

static json_t *container_security(void)
{
  return json_pack("{s:b, s:{s:[s]}, s:b}", "allowPrivilegeEscalation", 0, "capabilities", "drop", "ALL",
                   "readOnlyRootFilesystem", 0);
}

static json_t *auth_env(const struct mgo_cluster_spec *s)
{
  const char *secret = s->auth.secret_name;
  if (secret[0] == '\0')
    return json_array();
  return json_pack("[{s:s, s:{s:{s:s, s:s}}}, {s:s, s:{s:{s:s, s:s}}}]", "name", "MEMGRAPH_USER", "valueFrom",
                   "secretKeyRef", "name", secret, "key", s->auth.user_key, "name", "MEMGRAPH_PASSWORD",
                   "valueFrom", "secretKeyRef", "name", secret, "key", s->auth.password_key);
}

static json_t *read_only_mount(const char *volume, const char *path)
{
  return json_pack("{s:s, s:s, s:b}", "name", volume, "mountPath", path, "readOnly", 1);
}

/* spec.tls: the Secret's volume "tls" read-only at MGO_TLS_MOUNT (appended to mounts). */
static void add_tls_mount(json_t *mounts, const struct mgo_cluster_spec *s)
{
  if (mounts != NULL && s->tls_secret_name[0] != '\0')
    json_array_append_new(mounts, read_only_mount("tls", MGO_TLS_MOUNT));
}

static json_t *memgraph_mounts(const struct mgo_cluster_spec *s)
{
  json_t *mounts = json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "data", "mountPath", MGO_DATA_MOUNT, "name",
                             "logs", "mountPath", MGO_LOG_MOUNT);
  add_tls_mount(mounts, s);
  return mounts;
}

static json_t *memgraph_container(const struct mgo_cluster *c)
{
  const struct mgo_cluster_spec *s = &c->spec;
  json_t *resources = s->resources != NULL ? json_deep_copy(s->resources) : json_object();
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:[{s:s, s:i, s:s}, {s:s, s:i, s:s}], s:o, s:o, s:o, s:o, s:o, "
                   "s:o}",
                   "name", "memgraph", "image", s->image, "imagePullPolicy", s->image_pull_policy, "args",
                   memgraph_args(c), "env", auth_env(s), "ports", "name", "bolt", "containerPort",
                   MGO_BOLT_PORT, "protocol", "TCP", "name", "replication", "containerPort",
                   (int) s->replication.port, "protocol", "TCP", "resources", resources, "securityContext",
                   container_security(), "volumeMounts", memgraph_mounts(s), "startupProbe",
                   tcp_probe(10, 5, 720), "readinessProbe", tcp_probe(5, 3, 3), "livenessProbe",
                   tcp_probe(10, 5, 6));
}

static json_t *field_env(const char *name, const char *field_path)
{
  return json_pack("{s:s, s:{s:{s:s}}}", "name", name, "valueFrom", "fieldRef", "fieldPath", field_path);
}

/* Credentials of spec.bootstrap.restore for the init step, from the Secret the caller resolved. */
static json_t *restore_env(const struct mgo_build_opts *opts)
{
  json_t *env = json_pack("[o]", field_env("POD_NAME", "metadata.name"));
  if (env == NULL || opts->restore_secret == NULL || opts->restore_secret[0] == '\0')
    return env;
  json_array_append_new(env,
                        json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", "MGO_RESTORE_ACCESS_KEY_ID", "valueFrom",
                                  "secretKeyRef", "name", opts->restore_secret, "key", "accessKeyId"));
  json_array_append_new(env, json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", "MGO_RESTORE_SECRET_ACCESS_KEY",
                                       "valueFrom", "secretKeyRef", "name", opts->restore_secret, "key",
                                       "secretAccessKey"));
  return env;
}

/* The agent reads its instructions (a re-seed or restore request) from the optional ConfigMap <name>-agent,
 * mounted read-only, under the key of its own pod name; see docs/agent.md. */
static json_t *agent_container(const struct mgo_cluster *c, const struct mgo_build_opts *opts)
{
  char port[40];
  (void) mgo_snprintf(port, sizeof(port), "--replication-port=%d", (int) c->spec.replication.port);
  return json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s, s, s], s:o, s:o, "
                   "s:[{s:s, s:s}, {s:s, s:s, s:b}], s:{s:{s:s, s:s}, s:{s:s}}}",
                   "name", "operator-agent", "image", opts->operator_image, "imagePullPolicy", "IfNotPresent",
                   "command", "memgraph-operator", "agent", "--data-dir=" MGO_DATA_DIR,
                   "--marker-dir=" MGO_MARKER_DIR, "--instructions-dir=" MGO_AGENT_INSTRUCTIONS_DIR,
                   "--pod-name=$(POD_NAME)", port, "env", restore_env(opts), "securityContext",
                   container_security(), "volumeMounts", "name", "data", "mountPath", MGO_DATA_MOUNT, "name",
                   MGO_AGENT_INSTRUCTIONS_VOLUME, "mountPath", MGO_AGENT_INSTRUCTIONS_DIR, "readOnly", 1,
                   "resources", "requests", "cpu", "10m", "memory", "16Mi", "limits", "memory", "64Mi");
}

/* The agent sidecar's own view of the API server: a bound ServiceAccount token, the cluster CA and the
 * namespace, at the standard in-cluster path, in this container only (the pod automounts nothing). With
 * them it reads its MemgraphCluster (Role <name>-agent) to fence an isolated MAIN (docs/fencing.md). */
static json_t *agent_api_volume(void)
{
  return json_pack("{s:s, s:{s:i, s:[{s:{s:s, s:i}}, {s:{s:s, s:[{s:s, s:s}]}}, {s:{s:[{s:s, s:{s:s}}]}}]}}",
                   "name", MGO_AGENT_API_VOLUME, "projected", "defaultMode", 0440, "sources",
                   "serviceAccountToken", "path", "token", "expirationSeconds", 3600, "configMap", "name",
                   "kube-root-ca.crt", "items", "key", "ca.crt", "path", "ca.crt", "downwardAPI", "items",
                   "path", "namespace", "fieldRef", "fieldPath", "metadata.namespace");
}

/* The pod's identity, and Memgraph's credentials (spec.auth) for its Bolt checks of the local and peer
 * instances. */
static json_t *agent_env(const struct mgo_cluster_spec *s)
{
  json_t *env =
      json_pack("[o, o, o]", field_env("POD_IP", "status.podIP"), field_env("POD_NAME", "metadata.name"),
                field_env("POD_NAMESPACE", "metadata.namespace"));
  json_t *auth = auth_env(s);
  if (env == NULL || auth == NULL || json_array_extend(env, auth) != 0) {
    json_decref(env);
    env = NULL;
  }
  json_decref(auth);
  return env;
}

static json_t *agent_mounts(const struct mgo_cluster_spec *s)
{
  json_t *mounts = json_pack("[o, o, o]", read_only_mount("data", MGO_DATA_MOUNT),
                             read_only_mount(MGO_AGENT_TOKEN_VOLUME, MGO_AGENT_TOKEN_DIR),
                             read_only_mount(MGO_AGENT_API_VOLUME, MGO_AGENT_API_DIR));
  add_tls_mount(mounts, s);
  return mounts;
}

/* The sidecar serves the operator's upload requests (backups) on the pod IP; the data volume is read-only to
 * it. On the MAIN it also fences the instance when it is cut off (docs/fencing.md). No probes: it must never
 * make the pod un-Ready. */
static json_t *agent_sidecar(const struct mgo_cluster *c, const struct mgo_build_opts *opts)
{
  char cluster[MGO_NAME_MAX + 16];
  if (mgo_snprintf(cluster, sizeof(cluster), "--cluster=%s", c->name) != MGO_OK)
    return NULL;
  return json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s, s, s], s:o, s:[{s:s, s:i, s:s}], s:o, s:o, "
                   "s:{s:{s:s, s:s}, s:{s:s}}}",
                   "name", "agent", "image", opts->operator_image, "imagePullPolicy", "IfNotPresent",
                   "command", "memgraph-operator", "agent", "serve", "--listen=$(POD_IP):9787",
                   "--data-dir=" MGO_DATA_DIR, "--token-file=" MGO_AGENT_TOKEN_DIR "/" MGO_AGENT_TOKEN_KEY,
                   cluster, "env", agent_env(&c->spec), "ports", "name", "agent", "containerPort",
                   MGO_AGENT_PORT, "protocol", "TCP", "securityContext", container_security(), "volumeMounts",
                   agent_mounts(&c->spec), "resources", "requests", "cpu", "10m", "memory", "16Mi", "limits",
                   "memory", "64Mi");
}

static json_t *sysctl_container(const struct mgo_cluster_spec *s)
{
  char arg[64];
  (void) mgo_snprintf(arg, sizeof(arg), "vm.max_map_count=%lld", (long long) s->sysctl.max_map_count);
  return json_pack("{s:s, s:s, s:[s, s, s], s:{s:b, s:i, s:b}}", "name", "sysctl", "image", s->sysctl.image,
                   "command", "sysctl", "-w", arg, "securityContext", "privileged", 1, "runAsUser", 0,
                   "runAsNonRoot", 0);
}

static json_t *init_containers(const struct mgo_cluster *c, const struct mgo_build_opts *opts)
{
  json_t *list = json_array();
  if (c->spec.sysctl.enabled)
    json_array_append_new(list, sysctl_container(&c->spec));
  json_array_append_new(list, agent_container(c, opts));
  return list;
}

static json_t *default_anti_affinity(const struct mgo_cluster *c)
{
  return json_pack("{s:{s:[{s:i, s:{s:{s:{s:s, s:s}}, s:s}}]}}", "podAntiAffinity",
                   "preferredDuringSchedulingIgnoredDuringExecution", "weight", 100, "podAffinityTerm",
                   "labelSelector", "matchLabels", MGO_LABEL_NAME, "memgraph", MGO_LABEL_INSTANCE, c->name,
                   "topologyKey", "kubernetes.io/hostname");
}

static void set_copy(json_t *obj, const char *key, const json_t *value)
{
  if (value != NULL)
    json_object_set_new(obj, key, json_deep_copy(value));
}

static void add_scheduling(json_t *pod, const struct mgo_cluster *c)
{
  const struct mgo_cluster_spec *s = &c->spec;
  set_copy(pod, "imagePullSecrets", s->image_pull_secrets);
  set_copy(pod, "nodeSelector", s->scheduling.node_selector);
  set_copy(pod, "tolerations", s->scheduling.tolerations);
  set_copy(pod, "topologySpreadConstraints", s->scheduling.topology_spread);
  if (s->scheduling.affinity != NULL)
    set_copy(pod, "affinity", s->scheduling.affinity);
  else
    json_object_set_new(pod, "affinity", default_anti_affinity(c));
  if (s->scheduling.priority_class[0] != '\0')
    json_object_set_new(pod, "priorityClassName", json_string(s->scheduling.priority_class));
}

/* optional: the ConfigMap exists only once a re-seed was requested; without it the mount is empty. */
static json_t *pod_volumes(const struct mgo_cluster *c)
{
  char cm[MGO_NAME_MAX + 8];
  char token[MGO_NAME_MAX + 16];
  json_t *vols;

  if (mgo_name_agent_configmap(c, cm, sizeof(cm)) != MGO_OK)
    return NULL;
  if (mgo_name_agent_token_secret(c, token, sizeof(token)) != MGO_OK)
    return NULL;
  vols = json_pack("[{s:s, s:{s:s, s:b}}, {s:s, s:{s:s, s:i}}, o]", "name", MGO_AGENT_INSTRUCTIONS_VOLUME,
                   "configMap", "name", cm, "optional", 1, "name", MGO_AGENT_TOKEN_VOLUME, "secret",
                   "secretName", token, "defaultMode", 0440, agent_api_volume());
  if (vols != NULL && c->spec.tls_secret_name[0] != '\0')
    json_array_append_new(vols, json_pack("{s:s, s:{s:s, s:i}}", "name", "tls", "secret", "secretName",
                                          c->spec.tls_secret_name, "defaultMode", 0440));
  return vols;
}

static json_t *pod_spec(const struct mgo_cluster *c, const struct mgo_build_opts *opts)
{
  char sa[MGO_NAME_MAX];
  int grace = c->spec.memgraph.snapshot_on_exit ? GRACE_WITH_SNAPSHOT : GRACE_WITHOUT_SNAPSHOT;
  json_t *pod;

  (void) mgo_name_service_account(c, sa, sizeof(sa));
  pod = json_pack("{s:s, s:b, s:b, s:i, s:{s:i, s:i, s:i, s:b, s:{s:s}}, s:o, s:[o, o]}",
                  "serviceAccountName", sa, "automountServiceAccountToken", 0, "enableServiceLinks", 0,
                  "terminationGracePeriodSeconds", grace, "securityContext", "runAsUser", 101, "runAsGroup",
                  103, "fsGroup", 103, "runAsNonRoot", 1, "seccompProfile", "type", "RuntimeDefault",
                  "initContainers", init_containers(c, opts), "containers", memgraph_container(c),
                  agent_sidecar(c, opts));
  if (pod != NULL)
    add_scheduling(pod, c);
  if (pod != NULL && json_object_set_new(pod, "volumes", pod_volumes(c)) != 0) {
    json_decref(pod);
    return NULL;
  }
  return pod;
}

static json_t *claim_template(const struct mgo_cluster *c, const char *name, const char *size)
{
  json_t *claim = json_pack("{s:{s:s, s:o}, s:{s:[s], s:{s:{s:s}}}}", "metadata", "name", name, "labels",
                            mgo_cluster_labels(c, "database"), "spec", "accessModes", "ReadWriteOnce",
                            "resources", "requests", "storage", size);
  if (claim != NULL && c->spec.storage.storage_class[0] != '\0')
    json_object_set_new(json_object_get(claim, "spec"), "storageClassName",
                        json_string(c->spec.storage.storage_class));
  return claim;
}

int mgo_build_memgraph_args(const struct mgo_cluster *c, json_t **out)
{
  *out = memgraph_args(c);
  return *out != NULL ? MGO_OK : MGO_ENOMEM;
}

int mgo_build_statefulset(const struct mgo_cluster *c, const struct mgo_build_opts *opts, json_t **out)
{
  char headless[MGO_NAME_MAX + 8];
  int32_t replicas = opts->replicas >= 0 ? opts->replicas : c->spec.instances;
  int rc = opts->operator_image != NULL ? mgo_name_headless_svc(c, headless, sizeof(headless)) : MGO_EINVAL;

  *out = NULL;
  if (rc != MGO_OK)
    return rc;
  *out = json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:i, s:s, s:s, s:{s:s}, s:{s:{s:s, s:s}}, "
                   "s:{s:{s:o}, s:o}, s:[o, o]}}",
                   "apiVersion", "apps/v1", "kind", "StatefulSet", "metadata", "name", c->name, "namespace",
                   c->namespace_, "labels", mgo_cluster_labels(c, "database"), "ownerReferences",
                   mgo_cluster_owner_refs(c), "spec", "replicas", (int) replicas, "serviceName", headless,
                   "podManagementPolicy", "Parallel", "updateStrategy", "type", "OnDelete", "selector",
                   "matchLabels", MGO_LABEL_NAME, "memgraph", MGO_LABEL_INSTANCE, c->name, "template",
                   "metadata", "labels", mgo_cluster_labels(c, "database"), "spec", pod_spec(c, opts),
                   "volumeClaimTemplates", claim_template(c, "data", c->spec.storage.size),
                   claim_template(c, "logs", c->spec.storage.log_size));
  return *out != NULL ? MGO_OK : MGO_ENOMEM;
}
