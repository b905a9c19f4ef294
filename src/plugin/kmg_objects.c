/* Objects, patches, checks and error lines of kubectl-memgraph (kmg_objects.h). */
#include "kmg_objects.h"

#include <string.h>

#include "mgo_err.h"

const struct k8s_resource KMG_RES_CLUSTERS = {"memgraph.io", "v1alpha1", "memgraphclusters", true};
const struct k8s_resource KMG_RES_BACKUPS = {"memgraph.io", "v1alpha1", "memgraphbackups", true};

json_t *kmg_switchover_patch(long ordinal)
{
  return json_pack("{s:{s:{s:I}}}", "spec", "switchover", "targetOrdinal", (json_int_t) ordinal);
}

static const json_t *last_failover(const json_t *cluster)
{
  return json_object_get(json_object_get(cluster, "status"), "lastFailover");
}

const char *kmg_last_failover_time(const json_t *cluster)
{
  return json_string_value(json_object_get(last_failover(cluster), "time"));
}

bool kmg_switchover_done(const json_t *cluster, const char *target_pod, const char *prev_time)
{
  const json_t *lf = last_failover(cluster);
  const char *kind = json_string_value(json_object_get(lf, "kind"));
  const char *to = json_string_value(json_object_get(lf, "to"));
  const char *t = json_string_value(json_object_get(lf, "time"));
  /* The operator records the switchover when it decides and completes the same record, with
   * writeUnavailableMs, once the new MAIN is in the write Service: only that is done. */
  bool completed = json_is_integer(json_object_get(lf, "writeUnavailableMs"));
  if (kind == NULL || to == NULL || t == NULL || !completed || strcmp(kind, "switchover") != 0 ||
      strcmp(to, target_pod) != 0) {
    return false;
  }
  return prev_time == NULL || strcmp(t, prev_time) != 0;
}

json_t *kmg_backup_object(const char *name, const char *cluster, const char *target)
{
  json_t *obj = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "memgraph.io/v1alpha1", "kind",
                          "MemgraphBackup", "metadata", "name", name, "spec", "cluster", cluster);
  if (obj != NULL && target != NULL) {
    json_object_set_new(json_object_get(obj, "spec"), "target", json_string(target));
  }
  return obj;
}

static const char *field(const json_t *obj, const char *section, const char *key)
{
  return json_string_value(json_object_get(json_object_get(obj, section), key));
}

static bool newer(const json_t *a, const json_t *b)
{
  const char *ta = field(a, "metadata", "creationTimestamp");
  const char *tb = field(b, "metadata", "creationTimestamp");
  int c = strcmp(ta ? ta : "", tb ? tb : "");
  if (c != 0) {
    return c > 0;
  }
  const char *na = field(a, "metadata", "name");
  const char *nb = field(b, "metadata", "name");
  return strcmp(na ? na : "", nb ? nb : "") > 0;
}

const json_t *kmg_newest_backup(const json_t *list, const char *cluster)
{
  const json_t *best = NULL;
  size_t i;
  const json_t *item;
  json_array_foreach(json_object_get(list, "items"), i, item)
  {
    const char *c = field(item, "spec", "cluster");
    if (c != NULL && strcmp(c, cluster) == 0 && (best == NULL || newer(item, best))) {
      best = item;
    }
  }
  return best;
}

bool kmg_backup_finished(const json_t *backup)
{
  const char *phase = field(backup, "status", "phase");
  return phase != NULL && (strcmp(phase, "Completed") == 0 || strcmp(phase, "Failed") == 0);
}

void kmg_format_bytes(int64_t bytes, char *out, size_t outsz)
{
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double) bytes;
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
    v /= 1024;
    u++;
  }
  if (u == 0) {
    mgo_snprintf(out, outsz, "%lld B", (long long) bytes);
  } else {
    mgo_snprintf(out, outsz, "%.1f %s", v, units[u]);
  }
}

static int format_completed(const char *name, const json_t *st, struct mgo_buf *out)
{
  char size[32];
  kmg_format_bytes(json_integer_value(json_object_get(st, "sizeBytes")), size, sizeof(size));
  const json_t *s3 = json_object_get(st, "s3");
  const char *bucket = json_string_value(json_object_get(s3, "bucket"));
  const char *key = json_string_value(json_object_get(s3, "key"));
  const char *pod = json_string_value(json_object_get(st, "pod"));
  const char *role = json_string_value(json_object_get(st, "role"));
  const char *sha = json_string_value(json_object_get(st, "sha256"));
  return mgo_buf_printf(out,
                        "backup %s Completed: pod %s (%s), %s, %lld vertices, %lld edges\n"
                        "  s3://%s/%s sha256 %s\n",
                        name, pod ? pod : "?", role ? role : "?", size,
                        (long long) json_integer_value(json_object_get(st, "vertices")),
                        (long long) json_integer_value(json_object_get(st, "edges")), bucket ? bucket : "?",
                        key ? key : "?", sha ? sha : "?");
}

int kmg_format_backup_result(const json_t *backup, struct mgo_buf *out)
{
  const char *name = field(backup, "metadata", "name");
  const json_t *st = json_object_get(backup, "status");
  const char *phase = json_string_value(json_object_get(st, "phase"));
  name = name ? name : "?";
  if (phase != NULL && strcmp(phase, "Completed") == 0) {
    return format_completed(name, st, out);
  }
  const json_t *e = json_object_get(st, "error");
  const char *source = json_string_value(json_object_get(e, "source"));
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *smsg = json_string_value(json_object_get(st, "message"));
  return mgo_buf_printf(
      out, "backup %s %s after %lld attempts: %s%s%s: %s\n", name, phase ? phase : "Pending",
      (long long) json_integer_value(json_object_get(st, "attempts")), source ? source : "-", code ? "/" : "",
      code ? code : "", msg ? msg : (smsg ? smsg : "no message"));
}

json_t *kmg_restore_object(const json_t *source, const char *new_name, const char *backup, char *err,
                           size_t errsz)
{
  const json_t *spec = json_object_get(source, "spec");
  if (!json_is_object(spec)) {
    mgo_strlcpy(err, "the source cluster has no spec", errsz);
    return NULL;
  }
  json_t *copy = json_deep_copy(spec);
  json_t *obj = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "memgraph.io/v1alpha1", "kind",
                          "MemgraphCluster", "metadata", "name", new_name);
  json_t *restore = json_pack("{s:{s:s}}", "restore", "backup", backup);
  if (copy == NULL || obj == NULL || restore == NULL) {
    json_decref(copy);
    json_decref(obj);
    json_decref(restore);
    mgo_strlcpy(err, "out of memory", errsz);
    return NULL;
  }
  json_object_del(copy, "switchover");
  json_object_set_new(copy, "bootstrap", restore);
  json_object_set_new(obj, "spec", copy);
  return obj;
}

json_t *kmg_strip_managed_fields(const json_t *obj)
{
  json_t *copy = json_deep_copy(obj);
  json_object_del(json_object_get(copy, "metadata"), "managedFields");
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(copy, "items"), i, item)
  {
    json_object_del(json_object_get(item, "metadata"), "managedFields");
  }
  return copy;
}

/* "memgraphclusters" → "memgraphcluster" for "... not found" lines. */
static void singular(const char *resource, char *out, size_t outsz)
{
  mgo_strlcpy(out, resource, outsz);
  size_t n = strlen(out);
  if (n > 1 && out[n - 1] == 's') {
    out[n - 1] = '\0';
  }
}

void kmg_api_error(int rc, const struct k8s_status *st, const char *verb, const char *resource,
                   const char *ns, const char *name, char *out, size_t outsz)
{
  char one[64];
  singular(resource, one, sizeof(one));
  const char *msg = st->message[0] ? st->message : mgo_strerror(rc);
  ns = ns ? ns : "";
  if (rc == MGO_ENOTFOUND && name != NULL) {
    mgo_snprintf(out, outsz, "%s \"%s\" not found in namespace \"%s\"", one, name, ns);
  } else if (rc == MGO_EFORBIDDEN) {
    mgo_snprintf(out, outsz, "forbidden: you cannot %s %s in namespace \"%s\" (RBAC): %s", verb, resource, ns,
                 msg);
  } else if (rc == MGO_EUNAUTHORIZED) {
    mgo_snprintf(out, outsz, "unauthorized: the API server refused the kubeconfig's credentials: %s", msg);
  } else if (rc == MGO_ECONFLICT && strcmp(st->reason, "AlreadyExists") == 0) {
    mgo_snprintf(out, outsz, "%s \"%s\" already exists in namespace \"%s\"", one, name ? name : "", ns);
  } else if (st->code == 0 && rc != MGO_EPARSE) {
    mgo_snprintf(out, outsz, "cannot reach the API server: %s", msg);
  } else if (rc == MGO_EINVALIDOBJ) {
    mgo_snprintf(out, outsz, "the API server refused to %s %s \"%s\": %s", verb, one, name ? name : "", msg);
  } else {
    mgo_snprintf(out, outsz, "%s %s%s%s%s: %s (HTTP %ld): %s", verb, resource, name ? " \"" : "",
                 name ? name : "", name ? "\"" : "", mgo_errname(rc), st->code, msg);
  }
}
