/* Parsing a MemgraphCluster and applying defaults, both driven by one table of fields. */
#include "cluster.h"
#include "cluster_fields.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

#define SPEC_OFF(member) offsetof(struct mgo_cluster_spec, member)
#define SPEC_SIZE(member) sizeof(((struct mgo_cluster_spec *) 0)->member)

#define FIELD(p, k, m, sz, crd, di, ds, n)                                                                   \
  {                                                                                                          \
    .path = (p), .kind = (k), .offset = SPEC_OFF(m), .size = (sz), .crd_default = (crd), .def_int = (di),    \
    .def_str = (ds), .names = (n)                                                                            \
  }
#define I32(p, m, d) FIELD(p, MGO__F_I32, m, 0, true, d, NULL, NULL)
#define I32_NODEF(p, m, d) FIELD(p, MGO__F_I32, m, 0, false, d, NULL, NULL)
#define I64(p, m, d) FIELD(p, MGO__F_I64, m, 0, true, d, NULL, NULL)
#define I64_NODEF(p, m, d) FIELD(p, MGO__F_I64, m, 0, false, d, NULL, NULL)
#define BOOL(p, m, d) FIELD(p, MGO__F_BOOL, m, 0, true, d, NULL, NULL)
#define STR(p, m, d) FIELD(p, MGO__F_STR, m, SPEC_SIZE(m), true, 0, d, NULL)
#define STR_NODEF(p, m) FIELD(p, MGO__F_STR, m, SPEC_SIZE(m), false, 0, "", NULL)
#define STR_ENUM(p, m, d, n) FIELD(p, MGO__F_STR, m, SPEC_SIZE(m), true, 0, d, n)
#define ENUM(p, m, d, n) FIELD(p, MGO__F_ENUM, m, 0, true, d, NULL, n)
#define OBJ(p, m) FIELD(p, MGO__F_OBJ, m, 0, false, 0, NULL, NULL)
#define ARR(p, m) FIELD(p, MGO__F_ARR, m, 0, false, 0, NULL, NULL)

static const struct mgo_enum_name pull_policies[] = {
    {"Always", 0}, {"IfNotPresent", 0}, {"Never", 0}, {NULL, 0}};
static const struct mgo_enum_name log_levels[] = {{"TRACE", 0}, {"DEBUG", 0},    {"INFO", 0}, {"WARNING", 0},
                                                  {"ERROR", 0}, {"CRITICAL", 0}, {NULL, 0}};
static const struct mgo_enum_name reseed_policies[] = {
    {"Automatic", MGO_RESEED_AUTOMATIC}, {"Manual", MGO_RESEED_MANUAL}, {NULL, 0}};
static const struct mgo_enum_name update_types[] = {
    {"ReplicasFirst", MGO_UPDATE_REPLICAS_FIRST}, {"Supervised", MGO_UPDATE_SUPERVISED}, {NULL, 0}};
const struct mgo_enum_name mgo_backup_target_names[] = {
    {"PreferReplica", BACKUP_TARGET_PREFER_REPLICA}, {"Main", BACKUP_TARGET_MAIN}, {NULL, 0}};
static const struct mgo_enum_name service_types[] = {
    {"ClusterIP", 0}, {"NodePort", 0}, {"LoadBalancer", 0}, {NULL, 0}};

const struct mgo__cluster_field mgo__cluster_fields[] = {
    I32("instances", instances, 3),
    STR("image", image, "memgraph/memgraph:3.12.0"),
    STR_ENUM("imagePullPolicy", image_pull_policy, "IfNotPresent", pull_policies),
    ARR("imagePullSecrets", image_pull_secrets),
    OBJ("resources", resources),
    STR("storage.size", storage.size, "10Gi"),
    STR("storage.logSize", storage.log_size, "1Gi"),
    STR_NODEF("storage.storageClassName", storage.storage_class),
    STR_ENUM("memgraph.logLevel", memgraph.log_level, "WARNING", log_levels),
    I64_NODEF("memgraph.memoryLimitMiB", memgraph.memory_limit_mib, 0),
    I64("memgraph.walFlushEveryNTx", memgraph.wal_flush_every_n_tx, 100000),
    I32("memgraph.snapshotIntervalSec", memgraph.snapshot_interval_sec, 300),
    I32("memgraph.snapshotRetentionCount", memgraph.snapshot_retention_count, 3),
    BOOL("memgraph.snapshotOnExit", memgraph.snapshot_on_exit, true),
    BOOL("memgraph.propertiesOnEdges", memgraph.properties_on_edges, true),
    ARR("memgraph.extraFlags", memgraph.extra_flags),
    ENUM("replication.mode", replication.mode, MGO_MODE_ASYNC, mgo_repl_mode_names),
    I32("replication.syncReplicas", replication.sync_replicas, 0),
    ENUM("replication.syncMode", replication.sync_mode, MGO_MODE_SYNC, MGO_SYNC_MODE_NAMES),
    I32("replication.port", replication.port, 10000),
    I32("replication.healthCheckIntervalSec", replication.health_check_interval_sec, 5),
    BOOL("failover.enabled", failover.enabled, true),
    I32("failover.failoverDelaySec", failover.failover_delay_sec, 15),
    BOOL("failover.allowAsyncPromotion", failover.allow_async_promotion, false),
    I64("failover.maxAsyncLag", failover.max_async_lag, 0),
    ENUM("failover.reseedPolicy", failover.reseed_policy, MGO_RESEED_AUTOMATIC, reseed_policies),
    I32_NODEF("switchover.targetOrdinal", switchover_target_ordinal, -1),
    ENUM("updateStrategy.type", update_strategy, MGO_UPDATE_REPLICAS_FIRST, update_types),
    STR_NODEF("auth.secretName", auth.secret_name),
    STR("auth.userKey", auth.user_key, "username"),
    STR("auth.passwordKey", auth.password_key, "password"),
    STR_NODEF("tls.secretName", tls_secret_name),
    OBJ("scheduling.nodeSelector", scheduling.node_selector),
    ARR("scheduling.tolerations", scheduling.tolerations),
    OBJ("scheduling.affinity", scheduling.affinity),
    ARR("scheduling.topologySpreadConstraints", scheduling.topology_spread),
    STR_NODEF("scheduling.priorityClassName", scheduling.priority_class),
    STR_ENUM("services.write.type", write_service.type, "ClusterIP", service_types),
    OBJ("services.write.annotations", write_service.annotations),
    STR_ENUM("services.read.type", read_service.type, "ClusterIP", service_types),
    OBJ("services.read.annotations", read_service.annotations),
    BOOL("services.read.includeMain", read_service.include_main, false),
    BOOL("sysctlInitContainer.enabled", sysctl.enabled, false),
    I64("sysctlInitContainer.maxMapCount", sysctl.max_map_count, 262144),
    STR("sysctlInitContainer.image", sysctl.image, "busybox:1.37.0"),
    BOOL("podDisruptionBudget.enabled", pdb_enabled, true),
    STR_NODEF("backup.schedule", backup.schedule),
    BOOL("backup.suspend", backup.suspend, false),
    BOOL("backup.immediate", backup.immediate, false),
    ENUM("backup.target", backup.target, BACKUP_TARGET_PREFER_REPLICA, mgo_backup_target_names),
    I32_NODEF("backup.retention.count", backup.retention_count, 0),
    I32_NODEF("backup.retention.maxAgeDays", backup.retention_max_age_days, 0),
    STR_NODEF("backup.s3.bucket", backup.s3_bucket),
    STR_NODEF("backup.s3.endpoint", backup.s3_endpoint),
    STR("backup.s3.region", backup.s3_region, "us-east-1"),
    STR_NODEF("backup.s3.prefix", backup.s3_prefix),
    BOOL("backup.s3.forcePathStyle", backup.s3_force_path_style, false),
    STR_NODEF("backup.s3.secretName", backup.s3_secret_name),
    STR_NODEF("backup.s3.caSecret.name", backup.s3_ca_secret),
    STR("backup.s3.caSecret.key", backup.s3_ca_key, "ca.crt"),
    STR_NODEF("backup.drill.schedule", backup.drill_schedule),
    STR_NODEF("bootstrap.restore.backup", restore.backup),
    STR_NODEF("bootstrap.restore.s3.bucket", restore.s3_bucket),
    STR_NODEF("bootstrap.restore.s3.key", restore.s3_key),
    STR_NODEF("bootstrap.restore.s3.endpoint", restore.s3_endpoint),
    STR("bootstrap.restore.s3.region", restore.s3_region, "us-east-1"),
    BOOL("bootstrap.restore.s3.forcePathStyle", restore.s3_force_path_style, false),
    STR_NODEF("bootstrap.restore.s3.secretName", restore.s3_secret_name),
    STR_NODEF("bootstrap.restore.s3.sha256", restore.sha256),
    I64_NODEF("bootstrap.restore.s3.size", restore.size, 0),
    I32("validation.maxLagMs", validation.max_lag_ms, 1000),
    BOOL("validation.canary.enabled", validation.canary_enabled, true),
    I32("validation.canary.intervalSec", validation.canary_interval_sec, 300),
    I32("validation.canary.lagIntervalSec", validation.canary_lag_interval_sec, 60),
};
const size_t mgo__cluster_nfields = sizeof(mgo__cluster_fields) / sizeof(mgo__cluster_fields[0]);

void mgo__cluster_err_add(struct mgo_cluster_errs *errs, const char *field, const char *message)
{
  if (errs == NULL)
    return;
  if (errs->n >= MGO_CLUSTER_MAX_ERRORS) {
    errs->dropped++;
    return;
  }
  (void) mgo_strlcpy(errs->e[errs->n].field, field, sizeof(errs->e[0].field));
  (void) mgo_strlcpy(errs->e[errs->n].message, message, sizeof(errs->e[0].message));
  errs->n++;
}

/* Records a problem with a field below spec (path relative to spec). */
static void add_err(struct mgo_cluster_errs *errs, const char *path, const char *message)
{
  char field[128];
  (void) mgo_snprintf(field, sizeof(field), "spec.%s", path);
  mgo__cluster_err_add(errs, field, message);
}

/* Follows a dotted path below spec; NULL when any part is absent or null. */
static const json_t *lookup(const json_t *spec, const char *path)
{
  char part[64];
  const json_t *node = spec;
  const char *p = path;
  while (node != NULL && *p != '\0') {
    size_t n = strcspn(p, ".");
    if (n >= sizeof(part))
      return NULL;
    memcpy(part, p, n);
    part[n] = '\0';
    node = json_is_object(node) ? json_object_get(node, part) : NULL;
    p += n + (p[n] == '.' ? 1 : 0);
  }
  return json_is_null(node) ? NULL : node;
}

static const struct mgo_enum_name *find_name(const struct mgo_enum_name *names, const char *s)
{
  return mgo_enum_lookup(names, s, MGO_CASE_EXACT);
}

static void set_default(const struct mgo__cluster_field *f, struct mgo_cluster_spec *spec)
{
  char *base = (char *) spec + f->offset;
  switch (f->kind) {
  case MGO__F_I32:
    *(int32_t *) base = (int32_t) f->def_int;
    break;
  case MGO__F_I64:
    *(int64_t *) base = f->def_int;
    break;
  case MGO__F_BOOL:
    *(bool *) base = f->def_int != 0;
    break;
  case MGO__F_ENUM:
    *(int *) base = (int) f->def_int;
    break;
  case MGO__F_STR:
    (void) mgo_strlcpy(base, f->def_str, f->size);
    break;
  case MGO__F_OBJ:
  case MGO__F_ARR:
    *(json_t **) base = NULL;
    break;
  }
}

static int set_string(const struct mgo__cluster_field *f, const json_t *v, char *base,
                      struct mgo_cluster_errs *errs)
{
  if (!json_is_string(v)) {
    add_err(errs, f->path, "must be a string");
    return MGO_EINVAL;
  }
  if (f->names != NULL && find_name(f->names, json_string_value(v)) == NULL) {
    add_err(errs, f->path, "unsupported value");
    return MGO_EINVAL;
  }
  if (mgo_strlcpy(base, json_string_value(v), f->size) != MGO_OK) {
    add_err(errs, f->path, "too long");
    return MGO_EINVAL;
  }
  return MGO_OK;
}

static int set_enum(const struct mgo__cluster_field *f, const json_t *v, char *base,
                    struct mgo_cluster_errs *errs)
{
  const struct mgo_enum_name *e = json_is_string(v) ? find_name(f->names, json_string_value(v)) : NULL;
  if (e == NULL) {
    add_err(errs, f->path, "unsupported value");
    return MGO_EINVAL;
  }
  *(int *) base = e->value;
  return MGO_OK;
}

static int set_json(const struct mgo__cluster_field *f, const json_t *v, char *base,
                    struct mgo_cluster_errs *errs)
{
  bool ok = f->kind == MGO__F_OBJ ? json_is_object(v) : json_is_array(v);
  if (!ok) {
    add_err(errs, f->path, f->kind == MGO__F_OBJ ? "must be an object" : "must be an array");
    return MGO_EINVAL;
  }
  *(json_t **) base = json_deep_copy(v);
  return *(json_t **) base == NULL ? MGO_ENOMEM : MGO_OK;
}

static int set_field(const struct mgo__cluster_field *f, const json_t *v, struct mgo_cluster_spec *spec,
                     struct mgo_cluster_errs *errs)
{
  char *base = (char *) spec + f->offset;
  bool is_int = f->kind == MGO__F_I32 || f->kind == MGO__F_I64;
  if (is_int && !json_is_integer(v)) {
    add_err(errs, f->path, "must be an integer");
    return MGO_EINVAL;
  }
  if (f->kind == MGO__F_I32 && (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)) {
    add_err(errs, f->path, "out of range");
    return MGO_EINVAL;
  }
  if (f->kind == MGO__F_BOOL && !json_is_boolean(v)) {
    add_err(errs, f->path, "must be a boolean");
    return MGO_EINVAL;
  }
  switch (f->kind) {
  case MGO__F_I32:
    *(int32_t *) base = (int32_t) json_integer_value(v);
    return MGO_OK;
  case MGO__F_I64:
    *(int64_t *) base = json_integer_value(v);
    return MGO_OK;
  case MGO__F_BOOL:
    *(bool *) base = json_is_true(v);
    return MGO_OK;
  case MGO__F_STR:
    return set_string(f, v, base, errs);
  case MGO__F_ENUM:
    return set_enum(f, v, base, errs);
  default:
    return set_json(f, v, base, errs);
  }
}

void mgo_cluster_spec_defaults(struct mgo_cluster_spec *spec)
{
  memset(spec, 0, sizeof(*spec));
  for (size_t i = 0; i < mgo__cluster_nfields; i++)
    set_default(&mgo__cluster_fields[i], spec);
}

static int parse_meta(const json_t *obj, struct mgo_cluster *c, struct mgo_cluster_errs *errs)
{
  const json_t *meta = json_object_get(obj, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  const char *uid = json_string_value(json_object_get(meta, "uid"));
  const json_t *status = json_object_get(obj, "status");
  const char *main_pod = json_string_value(json_object_get(status, "currentMain"));
  int rc = MGO_OK;

  if (name == NULL || mgo_strlcpy(c->name, name, sizeof(c->name)) != MGO_OK) {
    mgo__cluster_err_add(errs, "metadata.name", "missing or longer than 63 characters");
    rc = MGO_EINVAL;
  }
  (void) mgo_strlcpy(c->namespace_, ns != NULL ? ns : "default", sizeof(c->namespace_));
  (void) mgo_strlcpy(c->uid, uid != NULL ? uid : "", sizeof(c->uid));
  (void) mgo_strlcpy(c->recorded_main, main_pod != NULL ? main_pod : "", sizeof(c->recorded_main));
  c->generation = json_integer_value(json_object_get(meta, "generation"));
  if (mgo_cluster_parse_ops(json_object_get(meta, "annotations"), &c->ops, errs) != MGO_OK)
    rc = MGO_EINVAL;
  return rc;
}

int mgo_cluster_parse(const json_t *obj, struct mgo_cluster *c, struct mgo_cluster_errs *errs)
{
  const json_t *spec;
  int rc;

  memset(c, 0, sizeof(*c));
  mgo_cluster_spec_defaults(&c->spec);
  if (!json_is_object(obj))
    return MGO_EINVAL;
  rc = parse_meta(obj, c, errs);
  spec = json_object_get(obj, "spec");
  for (size_t i = 0; i < mgo__cluster_nfields; i++) {
    const json_t *v = spec != NULL ? lookup(spec, mgo__cluster_fields[i].path) : NULL;
    int frc = v != NULL ? set_field(&mgo__cluster_fields[i], v, &c->spec, errs) : MGO_OK;
    if (frc == MGO_ENOMEM || (rc == MGO_OK && frc != MGO_OK))
      rc = frc;
  }
  if (rc != MGO_OK)
    mgo_cluster_free(c);
  return rc;
}

void mgo_cluster_free(struct mgo_cluster *c)
{
  for (size_t i = 0; i < mgo__cluster_nfields; i++) {
    const struct mgo__cluster_field *f = &mgo__cluster_fields[i];
    if (f->kind == MGO__F_OBJ || f->kind == MGO__F_ARR) {
      json_t **slot = (json_t **) ((char *) &c->spec + f->offset);
      json_decref(*slot);
      *slot = NULL;
    }
  }
}
