/* The `kubectl memgraph status` summary (kmg_status.h). */
#include "kmg_status.h"

#include <stdbool.h>
#include <string.h>

#include "kmg_annot.h"
#include "kmg_objects.h"
#include "kmg_table.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define MAX_INSTANCES 64
#define LINE_MAX_LEN 512

static const char *str(const json_t *obj, const char *key)
{
  return json_string_value(json_object_get(obj, key));
}

static const char *or_dash(const char *s)
{
  return s && *s ? s : "-";
}

static const json_t *condition(const json_t *status, const char *type)
{
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(status, "conditions"), i, c)
  {
    const char *t = str(c, "type");
    if (t != NULL && strcmp(t, type) == 0) {
      return c;
    }
  }
  return NULL;
}

void kmg_format_age(const char *ts, int64_t now_ms, char *out, size_t outsz)
{
  int64_t t = 0;
  if (ts == NULL || mgo_time_parse_rfc3339(ts, &t) != MGO_OK) {
    mgo_strlcpy(out, "?", outsz);
    return;
  }
  int64_t s = (now_ms - t) / 1000;
  s = s < 0 ? 0 : s;
  if (s < 120) {
    mgo_snprintf(out, outsz, "%llds", (long long) s);
  } else if (s < 7200) {
    mgo_snprintf(out, outsz, "%lldm", (long long) (s / 60));
  } else if (s < 172800) {
    mgo_snprintf(out, outsz, "%lldh", (long long) (s / 3600));
  } else {
    mgo_snprintf(out, outsz, "%lldd", (long long) (s / 86400));
  }
}

/* Notes appended to the health line: reconcile paused, hibernation, a status for an older generation. */
static void health_notes(const json_t *cluster, char *out, size_t outsz)
{
  struct mgo_buf b = MGO_BUF_INIT(LINE_MAX_LEN);
  const char *rec = kmg_annotation(cluster, KMG_ANN_RECONCILE);
  const char *hib = kmg_annotation(cluster, KMG_ANN_HIBERNATION);
  json_int_t gen = json_integer_value(json_object_get(json_object_get(cluster, "metadata"), "generation"));
  const json_t *og = json_object_get(json_object_get(cluster, "status"), "observedGeneration");
  if (rec != NULL && strcmp(rec, "paused") == 0) {
    mgo_buf_addstr(&b, " (reconcile paused)");
  }
  if (hib != NULL && strcmp(hib, "on") == 0) {
    mgo_buf_addstr(&b, " (hibernation on)");
  }
  if (json_is_integer(og) && json_integer_value(og) != gen) {
    mgo_buf_printf(&b, " (status describes generation %lld, the spec is at %lld)",
                   (long long) json_integer_value(og), (long long) gen);
  }
  mgo_strlcpy(out, mgo_buf_str(&b), outsz);
  mgo_buf_free(&b);
}

void kmg_health_line(const json_t *cluster, char *out, size_t outsz)
{
  const json_t *status = json_object_get(cluster, "status");
  const char *phase = str(status, "phase");
  const json_t *ready = condition(status, "Ready");
  const char *ready_status = str(ready, "status");
  char notes[LINE_MAX_LEN];
  health_notes(cluster, notes, sizeof(notes));
  if (phase == NULL) {
    mgo_snprintf(out, outsz, "UNKNOWN: the operator has not reported a status yet%s", notes);
  } else if (strcmp(phase, "Failed") == 0) {
    mgo_snprintf(out, outsz, "FAILED: %s%s", or_dash(str(status, "message")), notes);
  } else if (ready_status != NULL && strcmp(ready_status, "True") == 0) {
    mgo_snprintf(out, outsz, "OK%s", notes);
  } else {
    const char *msg = str(ready, "message") ? str(ready, "message") : str(status, "message");
    mgo_snprintf(out, outsz, "DEGRADED: %s: %s%s", or_dash(str(ready, "reason")), or_dash(msg), notes);
  }
}

static int format_header(const json_t *cluster, struct mgo_buf *out)
{
  const json_t *meta = json_object_get(cluster, "metadata");
  const json_t *spec = json_object_get(cluster, "spec");
  const json_t *st = json_object_get(cluster, "status");
  char health[LINE_MAX_LEN];
  kmg_health_line(cluster, health, sizeof(health));
  const char *msg = str(st, "message");
  int rc = mgo_buf_printf(out, "Cluster:     %s/%s\nHealth:      %s\nPhase:       %s%s%s\n",
                          or_dash(str(meta, "namespace")), or_dash(str(meta, "name")), health,
                          or_dash(str(st, "phase")), msg ? " - " : "", msg ? msg : "");
  if (rc != MGO_OK) {
    return rc;
  }
  long long instances = (long long) kmg_spec_instances(cluster);
  return mgo_buf_printf(
      out,
      "Main:        %s\nImage:       %s\nInstances:   %lld/%lld ready, %lld/%lld replicas registered, "
      "%s, max lag %lld\n",
      or_dash(str(st, "currentMain")), or_dash(str(spec, "image")),
      (long long) json_integer_value(json_object_get(st, "readyInstances")), instances,
      (long long) json_integer_value(json_object_get(st, "registeredReplicas")),
      instances > 0 ? instances - 1 : 0, or_dash(str(st, "replicationMode")),
      (long long) json_integer_value(json_object_get(st, "maxLag")));
}

static int format_annotations(const json_t *cluster, struct mgo_buf *out)
{
  const char *fenced = kmg_annotation(cluster, KMG_ANN_FENCED);
  const char *hib = kmg_annotation(cluster, KMG_ANN_HIBERNATION);
  const char *rec = kmg_annotation(cluster, KMG_ANN_RECONCILE);
  int rc = MGO_OK;
  if (fenced != NULL) {
    rc = mgo_buf_printf(out, "Fenced:      %s\n", fenced);
  }
  if (rc == MGO_OK && hib != NULL) {
    rc = mgo_buf_printf(out, "Hibernation: %s\n", hib);
  }
  if (rc == MGO_OK && rec != NULL) {
    rc = mgo_buf_printf(out, "Reconcile:   %s\n", rec);
  }
  return rc;
}

/* The rows of the instances table: every pod named by status.instanceStatuses or by a pod. */
struct inst_rows {
  const char *names[MAX_INSTANCES];
  size_t n;
};

static void add_name(struct inst_rows *r, const char *name)
{
  if (name == NULL) {
    return;
  }
  for (size_t i = 0; i < r->n; i++) {
    if (strcmp(r->names[i], name) == 0) {
      return;
    }
  }
  if (r->n < MAX_INSTANCES) {
    r->names[r->n++] = name;
  }
}

static void sort_rows(struct inst_rows *r, const char *cluster)
{
  for (size_t i = 1; i < r->n; i++) {
    const char *cur = r->names[i];
    long oc = kmg_pod_ordinal(cluster, cur);
    size_t j = i;
    while (j > 0 && kmg_pod_ordinal(cluster, r->names[j - 1]) > oc) {
      r->names[j] = r->names[j - 1];
      j--;
    }
    r->names[j] = cur;
  }
}

static const json_t *find_by(const json_t *array, const char *section, const char *key, const char *value)
{
  size_t i;
  const json_t *item;
  json_array_foreach(array, i, item)
  {
    const json_t *holder = section ? json_object_get(item, section) : item;
    const char *v = str(holder, key);
    if (v != NULL && strcmp(v, value) == 0) {
      return item;
    }
  }
  return NULL;
}

static bool pod_ready(const json_t *pod)
{
  const json_t *c = condition(json_object_get(pod, "status"), "Ready");
  return c != NULL && str(c, "status") != NULL && strcmp(str(c, "status"), "True") == 0;
}

static long long pod_restarts(const json_t *pod)
{
  const json_t *cs =
      find_by(json_object_get(json_object_get(pod, "status"), "containerStatuses"), NULL, "name", "memgraph");
  return (long long) json_integer_value(json_object_get(cs, "restartCount"));
}

static void row_notes(const json_t *cluster, const json_t *is, const json_t *pods, const char *name,
                      char *out, size_t outsz)
{
  struct mgo_buf b = MGO_BUF_INIT((size_t) KMG_CELL_MAX * 2);
  const json_t *pod = find_by(json_object_get(pods, "items"), "metadata", "name", name);
  if (pods != NULL && pod == NULL) {
    mgo_buf_addstr(&b, "pod missing; ");
  } else if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL) {
    mgo_buf_addstr(&b, "terminating; ");
  }
  if (kmg_is_fenced(cluster, name)) {
    mgo_buf_addstr(&b, "fenced; ");
  }
  const char *main_pod = str(json_object_get(cluster, "status"), "fencedMain");
  if (main_pod != NULL && strcmp(main_pod, name) == 0) {
    mgo_buf_addstr(&b, "replaced MAIN; ");
  }
  if (str(is, "lastError") != NULL) {
    mgo_buf_printf(&b, "error: %s; ", str(is, "lastError"));
  }
  if (b.len >= 2) {
    b.p[b.len - 2] = '\0'; /* the last "; " */
  }
  mgo_strlcpy(out, mgo_buf_str(&b), outsz);
  mgo_buf_free(&b);
}

static void add_instance_row(struct kmg_table *t, const json_t *cluster, const json_t *pods, const char *name)
{
  const json_t *is =
      find_by(json_object_get(json_object_get(cluster, "status"), "instanceStatuses"), NULL, "pod", name);
  const json_t *pod = find_by(json_object_get(pods, "items"), "metadata", "name", name);
  const char *label = str(json_object_get(json_object_get(pod, "metadata"), "labels"), "memgraph.io/role");
  const char *role = str(is, "role") ? str(is, "role") : label;
  bool main = role != NULL && strcmp(role, "main") == 0;
  char behind[24] = "", restarts[24] = "", notes[KMG_CELL_MAX];
  if (!main && json_is_integer(json_object_get(is, "behind"))) {
    mgo_snprintf(behind, sizeof(behind), "%lld",
                 (long long) json_integer_value(json_object_get(is, "behind")));
  }
  if (pod != NULL) {
    mgo_snprintf(restarts, sizeof(restarts), "%lld", pod_restarts(pod));
  }
  row_notes(cluster, is, pods, name, notes, sizeof(notes));
  const char *ready = json_is_boolean(json_object_get(is, "ready"))
                          ? (json_is_true(json_object_get(is, "ready")) ? "true" : "false")
                          : "-";
  if (pod != NULL) {
    ready = pod_ready(pod) ? "true" : "false";
  }
  const char *cells[] = {name,
                         role ? role : "unknown",
                         main ? "-" : str(is, "replicationMode"),
                         main ? "-" : str(is, "replicaState"),
                         behind,
                         ready,
                         str(is, "version"),
                         restarts,
                         notes};
  kmg_table_add(t, cells);
}

static int format_instances(const json_t *cluster, const json_t *pods, struct mgo_buf *out)
{
  static const char *const headers[] = {"POD",   "ROLE",    "MODE",     "STATE", "BEHIND",
                                        "READY", "VERSION", "RESTARTS", "NOTES"};
  const char *name = str(json_object_get(cluster, "metadata"), "name");
  struct inst_rows rows = {.n = 0};
  size_t i;
  const json_t *item;
  json_array_foreach(json_object_get(json_object_get(cluster, "status"), "instanceStatuses"), i, item)
  {
    add_name(&rows, str(item, "pod"));
  }
  name = name ? name : "";
  json_array_foreach(json_object_get(pods, "items"), i, item)
  {
    const char *pod = str(json_object_get(item, "metadata"), "name");
    if (pod != NULL && kmg_pod_ordinal(name, pod) >= 0) { /* not the restore drill's pod */
      add_name(&rows, pod);
    }
  }
  sort_rows(&rows, name);
  struct kmg_table t;
  int rc = kmg_table_init(&t, 9, headers);
  for (size_t r = 0; rc == MGO_OK && r < rows.n; r++) {
    add_instance_row(&t, cluster, pods, rows.names[r]);
  }
  rc = rc == MGO_OK ? mgo_buf_addstr(out, "\nInstances\n") : rc;
  rc = rc == MGO_OK ? kmg_table_render(&t, "  ", out) : rc;
  kmg_table_free(&t);
  return rc;
}

static int format_conditions(const json_t *cluster, int64_t now_ms, struct mgo_buf *out)
{
  static const char *const headers[] = {"TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"};
  const json_t *conds = json_object_get(json_object_get(cluster, "status"), "conditions");
  if (json_array_size(conds) == 0) {
    return MGO_OK;
  }
  struct kmg_table t;
  int rc = kmg_table_init(&t, 5, headers);
  size_t i;
  const json_t *c;
  json_array_foreach(conds, i, c)
  {
    char age[16];
    kmg_format_age(str(c, "lastTransitionTime"), now_ms, age, sizeof(age));
    const char *cells[] = {str(c, "type"), str(c, "status"), str(c, "reason"), age, str(c, "message")};
    kmg_table_add(&t, cells);
  }
  rc = rc == MGO_OK ? mgo_buf_addstr(out, "\nConditions\n") : rc;
  rc = rc == MGO_OK ? kmg_table_render(&t, "  ", out) : rc;
  kmg_table_free(&t);
  return rc;
}

static int format_failover(const json_t *cluster, int64_t now_ms, struct mgo_buf *out)
{
  const json_t *lf = json_object_get(json_object_get(cluster, "status"), "lastFailover");
  if (!json_is_object(lf)) {
    return mgo_buf_addstr(out, "\nLast failover: none\n");
  }
  char age[16];
  kmg_format_age(str(lf, "time"), now_ms, age, sizeof(age));
  int rc = mgo_buf_printf(out, "\nLast failover\n  %s %s -> %s (%s) at %s (%s ago)", or_dash(str(lf, "kind")),
                          or_dash(str(lf, "from")), or_dash(str(lf, "to")), or_dash(str(lf, "reason")),
                          or_dash(str(lf, "time")), age);
  const json_t *wu = json_object_get(lf, "writeUnavailableMs");
  if (rc == MGO_OK && json_is_integer(wu)) {
    rc = mgo_buf_printf(out, ", writes unavailable %lld ms", (long long) json_integer_value(wu));
  }
  const json_t *behind = json_object_get(lf, "behind");
  if (rc == MGO_OK && json_is_integer(behind) && json_integer_value(behind) > 0) {
    rc = mgo_buf_printf(out, ", promoted %s replica %lld behind", or_dash(str(lf, "mode")),
                        (long long) json_integer_value(behind));
  }
  return rc == MGO_OK ? mgo_buf_addstr(out, "\n") : rc;
}

static int format_schedule(const json_t *cluster, struct mgo_buf *out)
{
  const json_t *backup = json_object_get(json_object_get(cluster, "spec"), "backup");
  const json_t *st = json_object_get(cluster, "status");
  if (json_object_get(backup, "s3") == NULL) {
    return mgo_buf_addstr(out, "  Schedule:    not configured (no spec.backup.s3)\n");
  }
  const char *sched = str(backup, "schedule");
  const char *next = str(st, "nextScheduledBackup");
  bool suspended = json_is_true(json_object_get(backup, "suspend"));
  int rc =
      sched ? mgo_buf_printf(out, "  Schedule:    %s UTC%s%s%s%s\n", sched, suspended ? " (suspended)" : "",
                             next ? " (next " : "", next ? next : "", next ? ")" : "")
            : mgo_buf_addstr(out, "  Schedule:    none (on demand only)\n");
  const json_t *ret = json_object_get(backup, "retention");
  const json_t *count = json_object_get(ret, "count");
  const json_t *days = json_object_get(ret, "maxAgeDays");
  if (rc == MGO_OK && (count != NULL || days != NULL)) {
    char c[32] = "no count limit", d[32] = "no age limit";
    if (count != NULL) {
      mgo_snprintf(c, sizeof(c), "keep %lld", (long long) json_integer_value(count));
    }
    if (days != NULL) {
      mgo_snprintf(d, sizeof(d), "at most %lld days", (long long) json_integer_value(days));
    }
    rc = mgo_buf_printf(out, "  Retention:   %s, %s\n", c, d);
  } else if (rc == MGO_OK) {
    rc = mgo_buf_addstr(out, "  Retention:   unlimited\n");
  }
  return rc;
}

static int format_last_backup(const json_t *cluster, const json_t *backups, int64_t now_ms,
                              struct mgo_buf *out)
{
  const char *name = str(json_object_get(cluster, "metadata"), "name");
  const json_t *b = name ? kmg_newest_backup(backups, name) : NULL;
  if (b == NULL) {
    return mgo_buf_addstr(out, "  Last:        none\n");
  }
  const json_t *bst = json_object_get(b, "status");
  const char *when = str(bst, "completedAt") ? str(bst, "completedAt")
                                             : str(json_object_get(b, "metadata"), "creationTimestamp");
  char age[16], size[32] = "";
  kmg_format_age(when, now_ms, age, sizeof(age));
  if (json_is_integer(json_object_get(bst, "sizeBytes"))) {
    kmg_format_bytes(json_integer_value(json_object_get(bst, "sizeBytes")), size, sizeof(size));
  }
  return mgo_buf_printf(out, "  Last:        %s %s (%s ago)%s%s%s%s\n",
                        or_dash(str(json_object_get(b, "metadata"), "name")), or_dash(str(bst, "phase")), age,
                        str(bst, "pod") ? ", pod " : "", str(bst, "pod") ? str(bst, "pod") : "",
                        size[0] ? ", " : "", size);
}

static int format_backups(const json_t *cluster, const json_t *backups, int64_t now_ms, struct mgo_buf *out)
{
  const json_t *st = json_object_get(cluster, "status");
  int rc = mgo_buf_addstr(out, "\nBackups\n");
  rc = rc == MGO_OK ? format_schedule(cluster, out) : rc;
  rc = rc == MGO_OK ? format_last_backup(cluster, backups, now_ms, out) : rc;
  const char *ok = str(st, "lastSuccessfulBackup");
  const char *failed = str(st, "lastFailedBackup");
  if (rc == MGO_OK && (ok != NULL || failed != NULL)) {
    rc = mgo_buf_printf(out, "  Succeeded:   %s%s%s%s\n  Failed:      %s\n", or_dash(ok),
                        ok ? " (uploaded " : "", ok ? or_dash(str(st, "lastS3BackupTime")) : "",
                        ok ? ")" : "", or_dash(failed));
  }
  const char *first = str(st, "firstRecoverabilityPoint");
  if (rc == MGO_OK && first != NULL) {
    rc = mgo_buf_printf(out, "  Recoverable: since %s\n", first);
  }
  return rc;
}

int kmg_format_status(const struct kmg_status_input *in, struct mgo_buf *out)
{
  if (!json_is_object(in->cluster)) {
    return MGO_EINVAL;
  }
  int rc = format_header(in->cluster, out);
  rc = rc == MGO_OK ? format_annotations(in->cluster, out) : rc;
  rc = rc == MGO_OK ? format_instances(in->cluster, in->pods, out) : rc;
  rc = rc == MGO_OK ? format_conditions(in->cluster, in->now_ms, out) : rc;
  rc = rc == MGO_OK ? format_failover(in->cluster, in->now_ms, out) : rc;
  return rc == MGO_OK ? format_backups(in->cluster, in->backups, in->now_ms, out) : rc;
}
