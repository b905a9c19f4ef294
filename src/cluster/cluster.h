/* The MemgraphCluster API in C: the parsed spec, defaults, validation, derived names and labels.
 *
 * A MemgraphCluster object (JSON as the API server returns it) is parsed into struct mgo_cluster with
 * mgo_cluster_parse(), which also applies the defaults of config/crd/memgraph.io_memgraphclusters.yaml
 * (the same table drives both; a unit test compares them). mgo_cluster_validate() then checks what the
 * CRD's CEL rules check (defense in depth) plus what CEL cannot (quantities, memory limit versus the
 * container limit).
 *
 * Ownership: struct mgo_cluster is caller-allocated; after a successful mgo_cluster_parse() it owns
 * copies of the free-form JSON parts (resources, tolerations, ...) and must be released with
 * mgo_cluster_free(). Name and label functions write into caller buffers or return new json_t objects
 * the caller owns (json_decref). Nothing here keeps global state.
 * Thread-safety: every function is pure; distinct objects may be used from distinct threads. */
#ifndef MGO_CLUSTER_H
#define MGO_CLUSTER_H

#include "backup_target.h"
#include "mgo_repl.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGO_CLUSTER_API_VERSION "memgraph.io/v1alpha1"
#define MGO_CLUSTER_KIND "MemgraphCluster"
#define MGO_MAX_INSTANCES 32
/* MGO_NAME_MAX, MGO_DNS_NAME_MAX, MGO_ADDR_MAX, MGO_BOLT_PORT, enum mgo_repl_mode, enum mgo_role and their
 * names come from mgo_repl.h (src/common), shared with the Memgraph client. */

#define MGO_DATA_MOUNT "/var/lib/memgraph"
#define MGO_DATA_DIR "/var/lib/memgraph/mg_data"
#define MGO_MARKER_DIR "/var/lib/memgraph/operator"
/* Memgraph's --init-file: the fence the operator-agent init step writes (agent_write_fence, AGENT_FENCE_FILE
 * in src/agent/agent_fs.h): every instance starts as a REPLICA until the operator promotes it. */
#define MGO_FENCE_FILE MGO_MARKER_DIR "/fence.cypherl"
#define MGO_LOG_MOUNT "/var/log/memgraph"
#define MGO_LOG_FILE "/var/log/memgraph/memgraph.log"
#define MGO_TLS_MOUNT "/etc/memgraph/tls"

/* Label keys. The role label is derived from observed state (SHOW REPLICATION ROLE) only so that the
 * write and read Services route correctly; "readable" marks the MAIN and healthy registered replicas. */
#define MGO_LABEL_NAME "app.kubernetes.io/name"
#define MGO_LABEL_INSTANCE "app.kubernetes.io/instance"
#define MGO_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define MGO_LABEL_COMPONENT "app.kubernetes.io/component"
#define MGO_LABEL_ROLE "memgraph.io/role"
#define MGO_LABEL_READABLE "memgraph.io/readable"

enum mgo_reseed_policy { MGO_RESEED_AUTOMATIC, MGO_RESEED_MANUAL };
enum mgo_update_type { MGO_UPDATE_REPLICAS_FIRST, MGO_UPDATE_SUPERVISED };

struct mgo_service_spec {
  char type[16];       /* ClusterIP | NodePort | LoadBalancer */
  json_t *annotations; /* object or NULL; owned */
  bool include_main;   /* read Service only */
};

struct mgo_cluster_spec {
  int32_t instances;
  char image[512];
  char image_pull_policy[16];
  json_t *image_pull_secrets; /* array or NULL; owned */
  json_t *resources;          /* object or NULL; owned */
  struct {
    char size[32];
    char log_size[32];
    char storage_class[MGO_DNS_NAME_MAX]; /* "" = cluster default */
  } storage;
  struct {
    char log_level[16];
    int64_t memory_limit_mib; /* 0 = derive from resources.limits.memory */
    int64_t wal_flush_every_n_tx;
    int32_t snapshot_interval_sec;
    int32_t snapshot_retention_count;
    bool snapshot_on_exit;
    bool properties_on_edges;
    json_t *extra_flags; /* array of strings or NULL; owned */
  } memgraph;
  struct {
    enum mgo_repl_mode mode; /* of replicas beyond sync_replicas */
    int32_t sync_replicas;
    enum mgo_repl_mode sync_mode; /* SYNC or STRICT_SYNC */
    int32_t port;
    int32_t health_check_interval_sec;
  } replication;
  struct {
    bool enabled;
    int32_t failover_delay_sec;
    bool allow_async_promotion;
    int64_t max_async_lag;
    enum mgo_reseed_policy reseed_policy;
  } failover;
  int32_t switchover_target_ordinal; /* -1 = none */
  enum mgo_update_type update_strategy;
  struct {
    char secret_name[MGO_DNS_NAME_MAX]; /* "" = no auth */
    char user_key[MGO_DNS_NAME_MAX];
    char password_key[MGO_DNS_NAME_MAX];
  } auth;
  char tls_secret_name[MGO_DNS_NAME_MAX]; /* "" = plain Bolt */
  struct {
    json_t *node_selector;   /* owned or NULL */
    json_t *tolerations;     /* owned or NULL */
    json_t *affinity;        /* owned or NULL: NULL means the default anti-affinity */
    json_t *topology_spread; /* owned or NULL */
    char priority_class[MGO_DNS_NAME_MAX];
  } scheduling;
  struct mgo_service_spec write_service;
  struct mgo_service_spec read_service;
  struct {
    bool enabled;
    int64_t max_map_count;
    char image[512];
  } sysctl;
  bool pdb_enabled;
  struct {
    char schedule[128]; /* "" = on-demand backups only */
    bool suspend;
    bool immediate;
    enum backup_target target;
    int32_t retention_count;        /* 0 = no count limit */
    int32_t retention_max_age_days; /* 0 = no age limit */
    char s3_bucket[64];             /* "" = spec.backup absent: no backups */
    char s3_endpoint[512];
    char s3_region[64];
    char s3_prefix[512];
    bool s3_force_path_style;
    char s3_secret_name[MGO_DNS_NAME_MAX];
    char s3_ca_secret[MGO_DNS_NAME_MAX]; /* "" = the system trust store */
    char s3_ca_key[MGO_DNS_NAME_MAX];
    char drill_schedule[128]; /* "" = no restore drills */
  } backup;
  struct {
    char backup[MGO_DNS_NAME_MAX]; /* spec.bootstrap.restore.backup ("" = none) */
    char s3_bucket[64];            /* spec.bootstrap.restore.s3 ("" = none) */
    char s3_key[1024];
    char s3_endpoint[512];
    char s3_region[64];
    bool s3_force_path_style;
    char s3_secret_name[MGO_DNS_NAME_MAX];
    char sha256[65];
    int64_t size; /* 0 = not given */
  } restore;
  struct {
    int32_t max_lag_ms;              /* ReplicationLagAcceptable threshold */
    bool canary_enabled;             /* the replication canary (docs/validation.md) */
    int32_t canary_interval_sec;     /* replication tests recorded in status.validation */
    int32_t canary_lag_interval_sec; /* lag measurements (metrics; status on a change) */
  } validation;
};

/* Day-2 switches a user sets as MemgraphCluster annotations (docs/api.md#annotations), so they work with
 * kubectl alone. An annotation with another value is refused by mgo_cluster_parse() like an invalid spec. */
#define MGO_ANNOTATION_RECONCILE "memgraph.io/reconcile"     /* "paused" */
#define MGO_ANNOTATION_HIBERNATION "memgraph.io/hibernation" /* "on" | "off" */
#define MGO_ANNOTATION_FENCED "memgraph.io/fencedInstances"  /* JSON array of pod names, or ["*"] */
#define MGO_FENCE_ALL "*"

struct mgo_cluster_ops {
  bool paused;    /* no action at all on the cluster; status says so */
  bool hibernate; /* pods deleted, volumes and the recorded MAIN kept */
  bool fence_all; /* ["*"]: every instance */
  size_t n_fenced;
  char fenced[MGO_MAX_INSTANCES][MGO_NAME_MAX]; /* pod names, as given (not checked against the pods) */
};

/* The parts of the object the operator needs besides the spec. */
struct mgo_cluster {
  char name[MGO_NAME_MAX];
  char namespace_[MGO_NAME_MAX];
  char uid[MGO_NAME_MAX];
  int64_t generation;
  char recorded_main[MGO_NAME_MAX]; /* status.currentMain, "" when none was recorded */
  struct mgo_cluster_ops ops;       /* from metadata.annotations */
  struct mgo_cluster_spec spec;
};

/* One problem found by parsing or validation: field is a JSON path such as "spec.replication.port". */
struct mgo_cluster_err {
  char field[128];
  char message[256];
};

#define MGO_CLUSTER_MAX_ERRORS 16
struct mgo_cluster_errs {
  size_t n;
  struct mgo_cluster_err e[MGO_CLUSTER_MAX_ERRORS]; /* errors beyond the cap are counted but dropped */
  size_t dropped;
};

/* Parses a MemgraphCluster object and applies defaults. Returns 0, MGO_EINVAL when a field has the wrong
 * JSON type or an unknown enum value (details in errs, which may be NULL), MGO_ENOMEM. On failure the
 * struct is left freed (safe to call mgo_cluster_free() again). */
int mgo_cluster_parse(const json_t *obj, struct mgo_cluster *c, struct mgo_cluster_errs *errs);
/* The annotations of a MemgraphCluster's metadata (NULL: none) into ops (zeroed first). Returns 0 or
 * MGO_EINVAL with one error per unusable annotation in errs (may be NULL), naming the value to use. */
int mgo_cluster_parse_ops(const json_t *annotations, struct mgo_cluster_ops *ops,
                          struct mgo_cluster_errs *errs);
/* True when pod is fenced by the user (listed, or every instance). */
bool mgo_cluster_instance_fenced(const struct mgo_cluster *c, const char *pod);
/* Releases what mgo_cluster_parse() allocated; idempotent. */
void mgo_cluster_free(struct mgo_cluster *c);
/* The defaults alone (what an empty spec becomes), with metadata cleared. Owned like a parsed cluster. */
void mgo_cluster_spec_defaults(struct mgo_cluster_spec *spec);

/* API names of enum backup_target (src/backup: "PreferReplica", "Main"); NULL-name terminated, static. */
extern const struct mgo_enum_name mgo_backup_target_names[];

/* Checks the rules of the CRD and those CEL cannot express. Returns 0 or MGO_ECONFIG with every problem
 * listed in errs (non-NULL). */
int mgo_cluster_validate(const struct mgo_cluster *c, struct mgo_cluster_errs *errs);

/* Flags the operator owns and that extraFlags may not contain (NULL-terminated, static). Any flag whose
 * name starts with "--coordinator-" is refused as well. Names use dashes; underscores are folded. */
extern const char *const mgo_cluster_owned_flags[];
/* True when flag ("--name" or "--name=value") is owned by the operator (including the "--no<name>"
 * boolean form and "_" spelled instead of "-"). */
bool mgo_cluster_flag_is_owned(const char *flag);

/* Parses a Kubernetes quantity ("4Gi", "512M", "1.5Gi", "1000") into bytes, rounding down. 0 or
 * MGO_EINVAL (negative, milli units, exponents, overflow). */
int mgo_quantity_bytes(const char *s, uint64_t *bytes);
/* Memgraph's --memory-limit in MiB: spec.memgraph.memoryLimitMiB when set, else 80% of the container
 * memory limit, else 0 (Memgraph's own default). Returns 0 or MGO_EINVAL for an unreadable limit. */
int mgo_cluster_memory_limit_mib(const struct mgo_cluster_spec *spec, int64_t *mib);

/* Derived names. Each writes a NUL-terminated string into dst and returns 0 or MGO_ETOOBIG. */
int mgo_name_statefulset(const struct mgo_cluster *c, char *dst, size_t dstsz);      /* <name> */
int mgo_name_headless_svc(const struct mgo_cluster *c, char *dst, size_t dstsz);     /* <name>-hl */
int mgo_name_write_svc(const struct mgo_cluster *c, char *dst, size_t dstsz);        /* <name>-write */
int mgo_name_read_svc(const struct mgo_cluster *c, char *dst, size_t dstsz);         /* <name>-read */
int mgo_name_pdb(const struct mgo_cluster *c, char *dst, size_t dstsz);              /* <name> */
int mgo_name_service_account(const struct mgo_cluster *c, char *dst, size_t dstsz);  /* <name> */
int mgo_name_pod(const struct mgo_cluster *c, int ordinal, char *dst, size_t dstsz); /* <name>-<i> */
/* ConfigMap of instructions for the pods' operator-agent init step (docs/agent.md): <name>-agent. */
int mgo_name_agent_configmap(const struct mgo_cluster *c, char *dst, size_t dstsz);
/* Secret with the token of the pods' operator-agent sidecar: <name>-agent-token. */
int mgo_name_agent_token_secret(const struct mgo_cluster *c, char *dst, size_t dstsz);
/* Role and RoleBinding that let the agent sidecar (the cluster's ServiceAccount) get its own MemgraphCluster
 * (docs/fencing.md): <name>-agent. */
int mgo_name_agent_role(const struct mgo_cluster *c, char *dst, size_t dstsz);
/* Stable DNS name of a pod through the headless Service: <pod>.<name>-hl.<ns>.svc (cluster-domain
 * independent: resolves through the pod's search path). */
int mgo_name_pod_dns(const struct mgo_cluster *c, int ordinal, char *dst, size_t dstsz);
/* Replication endpoint registered on the MAIN: "<pod dns>:<replication port>". */
int mgo_name_replica_address(const struct mgo_cluster *c, int ordinal, char *dst, size_t dstsz);
/* Registration name for a pod: every character outside [A-Za-z0-9_] becomes '_', and a leading digit
 * gets a '_' prefix, so "mg-1" -> "mg_1". Deterministic, and safe to put unquoted into Cypher. Returns
 * MGO_EINVAL for an empty name. */
int mgo_replica_name(const char *pod, char *dst, size_t dstsz);
/* Ordinal of a pod of this cluster ("<name>-<i>"), or -1 when pod does not belong to it. */
int mgo_pod_ordinal(const struct mgo_cluster *c, const char *pod);

/* Label selector of the cluster's pods, "app.kubernetes.io/name=memgraph,app.kubernetes.io/instance=<n>"
 * (status.selector, used by the scale subresource). */
int mgo_cluster_selector(const struct mgo_cluster *c, char *dst, size_t dstsz);
/* Standard labels of an object of this cluster; component is e.g. "database". New object, caller owns. */
json_t *mgo_cluster_labels(const struct mgo_cluster *c, const char *component);
/* Labels a pod gets for an observed role, as a JSON merge patch fragment for metadata.labels: main ->
 * {role: main, readable: "true"}; replica -> {role: replica, readable: "true"|null}; unknown -> both null
 * (removed). New object, caller owns. */
json_t *mgo_pod_role_labels(enum mgo_role role, bool readable);
/* Owner reference list [{apiVersion, kind, name, uid, controller, blockOwnerDeletion}]. Caller owns. */
json_t *mgo_cluster_owner_refs(const struct mgo_cluster *c);
/* "1 SYNC + 2 ASYNC" for a cluster of the given spec (status.replicationMode); "none" with 1 instance. */
int mgo_cluster_mode_summary(const struct mgo_cluster_spec *spec, char *dst, size_t dstsz);

#endif
