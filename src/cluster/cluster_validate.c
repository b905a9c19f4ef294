/* Validation of a parsed MemgraphCluster: the CRD's rules again (defense in depth, e.g. for objects
 * created before a CRD upgrade) plus what CEL cannot check. Messages match the CRD's where both exist. */
#include "cluster.h"
#include "cluster_fields.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

static void check(struct mgo_cluster_errs *errs, bool ok, const char *field, const char *message)
{
  if (!ok)
    mgo__cluster_err_add(errs, field, message);
}

static void validate_counts(const struct mgo_cluster_spec *s, struct mgo_cluster_errs *errs)
{
  check(errs, s->instances >= 1 && s->instances <= MGO_MAX_INSTANCES, "spec.instances",
        "spec.instances must be between 1 and 32.");
  check(
      errs, s->replication.sync_replicas >= 0 && s->replication.sync_replicas < s->instances,
      "spec.replication.syncReplicas",
      "spec.replication.syncReplicas must be less than spec.instances: one instance is the MAIN, so at most "
      "instances-1 replicas can be SYNC or STRICT_SYNC.");
  check(errs,
        s->replication.sync_replicas == 0 || s->replication.mode == MGO_MODE_ASYNC ||
            s->replication.mode == s->replication.sync_mode,
        "spec.replication.mode",
        "SYNC and STRICT_SYNC replicas cannot be mixed: set spec.replication.mode to ASYNC or to the same "
        "value "
        "as spec.replication.syncMode.");
  check(errs,
        s->replication.port >= 1024 && s->replication.port <= 65535 && s->replication.port != MGO_BOLT_PORT,
        "spec.replication.port",
        "spec.replication.port must be in 1024..65535 and differ from the Bolt port 7687.");
  check(errs,
        s->replication.health_check_interval_sec >= 1 && s->replication.health_check_interval_sec <= 300,
        "spec.replication.healthCheckIntervalSec", "must be between 1 and 300.");
  check(errs, s->switchover_target_ordinal < s->instances, "spec.switchover.targetOrdinal",
        "spec.switchover.targetOrdinal must name an existing instance: it must be less than spec.instances.");
}

static void validate_memgraph(const struct mgo_cluster_spec *s, struct mgo_cluster_errs *errs)
{
  size_t i;
  const json_t *flag;
  bool image_ok = s->image[0] != '\0' && strchr(s->image, ' ') == NULL;

  check(errs, image_ok, "spec.image",
        "spec.image must be a non-empty image reference without spaces, e.g. memgraph/memgraph:3.12.0.");
  check(errs, s->memgraph.snapshot_interval_sec >= 1 && s->memgraph.snapshot_interval_sec <= 604800,
        "spec.memgraph.snapshotIntervalSec",
        "must be between 1 and 604800: the WAL needs periodic snapshots.");
  check(errs, s->memgraph.snapshot_retention_count >= 1, "spec.memgraph.snapshotRetentionCount",
        "must be at least 1.");
  check(errs, s->memgraph.wal_flush_every_n_tx >= 1, "spec.memgraph.walFlushEveryNTx", "must be at least 1.");
  check(errs, s->memgraph.memory_limit_mib >= 0, "spec.memgraph.memoryLimitMiB", "must be positive.");
  json_array_foreach(s->memgraph.extra_flags, i, flag)
  {
    const char *f = json_string_value(flag);
    check(errs, f != NULL && strncmp(f, "--", 2) == 0, "spec.memgraph.extraFlags",
          "each extra flag must be a string starting with \"--\".");
    check(errs, f == NULL || !mgo_cluster_flag_is_owned(f), "spec.memgraph.extraFlags",
          "spec.memgraph.extraFlags may not contain a flag the operator owns: use the dedicated spec field "
          "instead.");
  }
}

/* What CEL cannot do: quantities. */
static void validate_quantities(const struct mgo_cluster_spec *s, struct mgo_cluster_errs *errs)
{
  uint64_t bytes = 0, limit_bytes = 0;
  int64_t mib = 0;
  const json_t *limit = json_object_get(json_object_get(s->resources, "limits"), "memory");

  check(errs, mgo_quantity_bytes(s->storage.size, &bytes) == MGO_OK && bytes > 0, "spec.storage.size",
        "must be a positive quantity such as 10Gi.");
  check(errs, mgo_quantity_bytes(s->storage.log_size, &bytes) == MGO_OK && bytes > 0, "spec.storage.logSize",
        "must be a positive quantity such as 1Gi.");
  if (mgo_cluster_memory_limit_mib(s, &mib) != MGO_OK) {
    check(errs, false, "spec.resources.limits.memory", "is not a memory quantity this operator understands.");
    return;
  }
  if (limit == NULL || s->memgraph.memory_limit_mib <= 0)
    return;
  if (json_is_string(limit))
    (void) mgo_quantity_bytes(json_string_value(limit), &limit_bytes);
  else
    limit_bytes = (uint64_t) json_integer_value(limit);
  check(errs, (uint64_t) s->memgraph.memory_limit_mib * 1024 * 1024 < limit_bytes,
        "spec.memgraph.memoryLimitMiB",
        "must be below resources.limits.memory, or the container is killed before Memgraph refuses "
        "allocations.");
}

static void validate_references(const struct mgo_cluster_spec *s, struct mgo_cluster_errs *errs)
{
  bool backup_ok = s->backup.s3_bucket[0] != '\0'
                       ? s->backup.s3_secret_name[0] != '\0'
                       : s->backup.schedule[0] == '\0' && s->backup.drill_schedule[0] == '\0';
  check(errs, backup_ok, "spec.backup.s3", "spec.backup needs an s3 section with bucket and secretName.");
  check(errs, (s->restore.backup[0] != '\0') + (s->restore.s3_bucket[0] != '\0') < 2,
        "spec.bootstrap.restore",
        "spec.bootstrap.restore needs exactly one of backup (a MemgraphBackup name) or s3 (bucket, key, "
        "secretName).");
  check(errs,
        s->restore.s3_bucket[0] == '\0' ||
            (s->restore.s3_key[0] != '\0' && s->restore.s3_secret_name[0] != '\0'),
        "spec.bootstrap.restore.s3", "spec.bootstrap.restore.s3 needs bucket, key and secretName.");
  check(errs, s->validation.canary_interval_sec >= 5, "spec.validation.canary.intervalSec",
        "must be at least 5.");
  check(errs, s->validation.canary_lag_interval_sec >= 5, "spec.validation.canary.lagIntervalSec",
        "must be at least 5.");
  check(errs, s->validation.max_lag_ms >= 1 && s->validation.max_lag_ms <= 600000, "spec.validation.maxLagMs",
        "must be between 1 and 600000.");
  check(errs, s->sysctl.max_map_count >= 65530, "spec.sysctlInitContainer.maxMapCount",
        "must be at least 65530 (the kernel default).");
}

int mgo_cluster_validate(const struct mgo_cluster *c, struct mgo_cluster_errs *errs)
{
  memset(errs, 0, sizeof(*errs));
  check(errs, strlen(c->name) >= 1 && strlen(c->name) <= 50, "metadata.name",
        "metadata.name must be at most 50 characters: pod names (<name>-<ordinal>) and the StatefulSet "
        "revision label must fit in 63 characters.");
  validate_counts(&c->spec, errs);
  validate_memgraph(&c->spec, errs);
  validate_quantities(&c->spec, errs);
  validate_references(&c->spec, errs);
  return errs->n + errs->dropped == 0 ? MGO_OK : MGO_ECONFIG;
}
