/* Every name, address and label derived from a MemgraphCluster, in one place. */
#include "cluster.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int mgo_name_statefulset(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_strlcpy(dst, c->name, dstsz);
}

int mgo_name_headless_svc(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s-hl", c->name);
}

int mgo_name_write_svc(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s-write", c->name);
}

int mgo_name_read_svc(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s-read", c->name);
}

int mgo_name_pdb(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_strlcpy(dst, c->name, dstsz);
}

int mgo_name_service_account(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_strlcpy(dst, c->name, dstsz);
}

int mgo_name_agent_configmap(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s-agent", c->name);
}

int mgo_name_agent_token_secret(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s-agent-token", c->name);
}

int mgo_name_agent_role(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s-agent", c->name);
}

int mgo_name_pod(const struct mgo_cluster *c, int ordinal, char *dst, size_t dstsz)
{
  if (ordinal < 0)
    return MGO_EINVAL;
  return mgo_snprintf(dst, dstsz, "%s-%d", c->name, ordinal);
}

int mgo_name_pod_dns(const struct mgo_cluster *c, int ordinal, char *dst, size_t dstsz)
{
  if (ordinal < 0)
    return MGO_EINVAL;
  return mgo_snprintf(dst, dstsz, "%s-%d.%s-hl.%s.svc", c->name, ordinal, c->name, c->namespace_);
}

int mgo_name_replica_address(const struct mgo_cluster *c, int ordinal, char *dst, size_t dstsz)
{
  char host[MGO_ADDR_MAX];
  int rc = mgo_name_pod_dns(c, ordinal, host, sizeof(host));
  if (rc != MGO_OK)
    return rc;
  return mgo_snprintf(dst, dstsz, "%s:%d", host, (int) c->spec.replication.port);
}

int mgo_replica_name(const char *pod, char *dst, size_t dstsz)
{
  size_t out = 0;
  if (pod == NULL || pod[0] == '\0' || dstsz == 0)
    return MGO_EINVAL;
  if (isdigit((unsigned char) pod[0])) {
    if (dstsz < 2)
      return MGO_ETOOBIG;
    dst[out++] = '_';
  }
  for (const char *p = pod; *p != '\0'; p++) {
    if (out + 1 >= dstsz) {
      dst[out] = '\0';
      return MGO_ETOOBIG;
    }
    dst[out++] = isalnum((unsigned char) *p) || *p == '_' ? *p : '_';
  }
  dst[out] = '\0';
  return MGO_OK;
}

int mgo_pod_ordinal(const struct mgo_cluster *c, const char *pod)
{
  size_t n = strlen(c->name);
  const char *digits;
  long v = 0;

  if (strncmp(pod, c->name, n) != 0 || pod[n] != '-')
    return -1;
  digits = pod + n + 1;
  if (digits[0] == '\0' || strlen(digits) > 4 || (digits[0] == '0' && digits[1] != '\0'))
    return -1;
  for (const char *p = digits; *p != '\0'; p++) {
    if (!isdigit((unsigned char) *p))
      return -1;
    v = v * 10 + (*p - '0');
  }
  return (int) v;
}

int mgo_cluster_selector(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s=memgraph,%s=%s", MGO_LABEL_NAME, MGO_LABEL_INSTANCE, c->name);
}

json_t *mgo_cluster_labels(const struct mgo_cluster *c, const char *component)
{
  return json_pack("{s:s, s:s, s:s, s:s}", MGO_LABEL_NAME, "memgraph", MGO_LABEL_INSTANCE, c->name,
                   MGO_LABEL_MANAGED_BY, "memgraph-operator", MGO_LABEL_COMPONENT, component);
}

json_t *mgo_pod_role_labels(enum mgo_role role, bool readable)
{
  if (role == MGO_ROLE_UNKNOWN)
    return json_pack("{s:n, s:n}", MGO_LABEL_ROLE, MGO_LABEL_READABLE);
  if (role == MGO_ROLE_MAIN)
    return json_pack("{s:s, s:s}", MGO_LABEL_ROLE, mgo_role_name(role), MGO_LABEL_READABLE, "true");
  if (readable)
    return json_pack("{s:s, s:s}", MGO_LABEL_ROLE, mgo_role_name(MGO_ROLE_REPLICA), MGO_LABEL_READABLE,
                     "true");
  return json_pack("{s:s, s:n}", MGO_LABEL_ROLE, mgo_role_name(MGO_ROLE_REPLICA), MGO_LABEL_READABLE);
}

json_t *mgo_cluster_owner_refs(const struct mgo_cluster *c)
{
  return json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", MGO_CLUSTER_API_VERSION, "kind",
                   MGO_CLUSTER_KIND, "name", c->name, "uid", c->uid, "controller", 1, "blockOwnerDeletion",
                   1);
}

int mgo_cluster_mode_summary(const struct mgo_cluster_spec *spec, char *dst, size_t dstsz)
{
  int replicas = spec->instances - 1;
  int sync = spec->replication.sync_replicas < replicas ? spec->replication.sync_replicas : replicas;
  int rest = replicas - sync;
  const char *rest_mode = mgo_repl_mode_name(spec->replication.mode);

  if (replicas <= 0)
    return mgo_strlcpy(dst, "none", dstsz);
  if (sync > 0 && rest > 0 && spec->replication.mode != spec->replication.sync_mode)
    return mgo_snprintf(dst, dstsz, "%d %s + %d %s", sync, mgo_repl_mode_name(spec->replication.sync_mode),
                        rest, rest_mode);
  if (sync > 0 && rest == 0)
    return mgo_snprintf(dst, dstsz, "%d %s", sync, mgo_repl_mode_name(spec->replication.sync_mode));
  return mgo_snprintf(dst, dstsz, "%d %s", replicas, rest_mode);
}

/* Binary and decimal suffixes of Kubernetes quantities, longest first. */
static const struct {
  const char *suffix;
  uint64_t factor;
} quantity_suffixes[] = {
    {"Ki", 1ull << 10},
    {"Mi", 1ull << 20},
    {"Gi", 1ull << 30},
    {"Ti", 1ull << 40},
    {"Pi", 1ull << 50},
    {"Ei", 1ull << 60},
    {"k", 1000ull},
    {"M", 1000000ull},
    {"G", 1000000000ull},
    {"T", 1000000000000ull},
    {"P", 1000000000000000ull},
    {"E", 1000000000000000000ull},
    {"", 1},
};

static int quantity_factor(const char *suffix, uint64_t *factor)
{
  for (size_t i = 0; i < sizeof(quantity_suffixes) / sizeof(quantity_suffixes[0]); i++) {
    if (strcmp(suffix, quantity_suffixes[i].suffix) == 0) {
      *factor = quantity_suffixes[i].factor;
      return MGO_OK;
    }
  }
  return MGO_EINVAL;
}

int mgo_quantity_bytes(const char *s, uint64_t *bytes)
{
  uint64_t whole = 0, frac = 0, frac_scale = 1, factor = 0;
  const char *p = s;

  if (s == NULL || !isdigit((unsigned char) *p))
    return MGO_EINVAL;
  for (; isdigit((unsigned char) *p); p++) {
    if (whole > (UINT64_MAX - 9) / 10)
      return MGO_EINVAL;
    whole = whole * 10 + (uint64_t) (*p - '0');
  }
  if (*p == '.') {
    for (p++; isdigit((unsigned char) *p) && frac_scale < 1000000000ull; p++) {
      frac = frac * 10 + (uint64_t) (*p - '0');
      frac_scale *= 10;
    }
    if (isdigit((unsigned char) *p))
      return MGO_EINVAL;
  }
  if (quantity_factor(p, &factor) != MGO_OK)
    return MGO_EINVAL;
  if (whole != 0 && factor > UINT64_MAX / whole)
    return MGO_EINVAL;
  *bytes = whole * factor + (uint64_t) ((long double) frac * (long double) factor / (long double) frac_scale);
  return MGO_OK;
}

int mgo_cluster_memory_limit_mib(const struct mgo_cluster_spec *spec, int64_t *mib)
{
  const json_t *limit = json_object_get(json_object_get(spec->resources, "limits"), "memory");
  uint64_t bytes = 0;

  *mib = 0;
  if (spec->memgraph.memory_limit_mib > 0) {
    *mib = spec->memgraph.memory_limit_mib;
    return MGO_OK;
  }
  if (limit == NULL)
    return MGO_OK;
  if (json_is_integer(limit) && json_integer_value(limit) > 0)
    bytes = (uint64_t) json_integer_value(limit);
  else if (mgo_quantity_bytes(json_string_value(limit), &bytes) != MGO_OK)
    return MGO_EINVAL;
  /* 80%: Memgraph limits the memory it tracks; the process also uses untracked memory (stacks, the
   * allocator's own overhead, query modules), and the cgroup kills the whole pod at the limit. */
  *mib = (int64_t) (bytes / ((uint64_t) 1024 * 1024) * 8 / 10);
  return MGO_OK;
}

const char *const mgo_cluster_owned_flags[] = {
    "--data-directory",
    "--log-file",
    "--bolt-port",
    "--bolt-address",
    "--bolt-cert-file",
    "--bolt-key-file",
    "--management-port",
    "--init-file",
    "--replication-restore-state-on-startup",
    "--data-recovery-on-startup",
    "--storage-wal-enabled",
    "--storage-mode",
    "--storage-snapshot-interval-sec",
    "--storage-snapshot-interval",
    "--storage-snapshot-retention-count",
    "--storage-snapshot-on-exit",
    "--storage-wal-file-flush-every-n-tx",
    "--storage-properties-on-edges",
    "--memory-limit",
    "--log-level",
    "--also-log-to-stderr",
    "--flag-file",
    "--flagfile",
    NULL,
};

bool mgo_cluster_flag_is_owned(const char *flag)
{
  char name[256];
  size_t n = strcspn(flag, "=");

  if (n >= sizeof(name))
    return false;
  memcpy(name, flag, n);
  name[n] = '\0';
  for (char *p = strchr(name, '_'); p != NULL; p = strchr(p, '_'))
    *p = '-';
  if (strncmp(name, "--coordinator-", 14) == 0)
    return true;
  for (const char *const *d = mgo_cluster_owned_flags; *d != NULL; d++) {
    if (strcmp(name, *d) == 0)
      return true;
    if (strncmp(name, "--no", 4) == 0 && strcmp(name + 4, *d + 2) == 0)
      return true;
  }
  return false;
}
