/* `kubectl memgraph preview`: refusals, spec changes, pod template changes and the restart order of a changed
 * MemgraphCluster, from the operator's pure parse/validate/build functions (kmg_preview.h). */
#include "kmg_preview.h"

#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_build.h"
#include "kmg_annot.h"
#include "mgo_err.h"

#define DIFF_SHOWN 16
#define PATH_LEN 512

const struct kmg_immutable kmg_immutable_fields[] = {
    {"spec.storage.size",
     "spec.storage.size is immutable: volume claim templates cannot change (resizing is not supported yet)."},
    {"spec.storage.logSize", "spec.storage.logSize is immutable: volume claim templates cannot change."},
    {"spec.storage.storageClassName", "spec.storage.storageClassName is immutable: the StatefulSet's volume "
                                      "claim templates cannot change. Create "
                                      "a new cluster to move to another storage class."},
    {"spec.memgraph.propertiesOnEdges",
     "spec.memgraph.propertiesOnEdges is immutable: existing data and every instance depend on it."},
    {"spec.replication.port",
     "spec.replication.port is immutable: replicas persist the port they listen on."},
    {"spec.bootstrap", "spec.bootstrap is immutable: it only decides how the cluster was first filled."},
    {"spec.bootstrap", "spec.bootstrap can only be set when the cluster is created: it decides how the "
                       "cluster was first filled."},
    {NULL, NULL},
};

/* ---- JSON leaf diff */

static const char *elem_name(const json_t *v)
{
  return json_string_value(json_object_get(v, "name"));
}

static void show_value(const json_t *v, char *out, size_t outsz)
{
  if (v == NULL) {
    mgo_strlcpy(out, "(unset)", outsz);
    return;
  }
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  mgo_strlcpy(out, s ? s : "?", outsz);
  if (s != NULL && strlen(s) >= outsz && outsz > 4) {
    mgo_strlcpy(out + outsz - 4, "...", 4);
  }
  free(s);
}

static size_t diff_leaf(const json_t *a, const json_t *b, const char *path, const char *indent, size_t max,
                        size_t seen, struct mgo_buf *out)
{
  if (seen < max) {
    char va[120], vb[120];
    show_value(a, va, sizeof(va));
    show_value(b, vb, sizeof(vb));
    mgo_buf_printf(out, "%s%s: %s -> %s\n", indent, path, va, vb);
  }
  return 1;
}

static size_t diff_rec(const json_t *a, const json_t *b, const char *path, const char *indent, size_t max,
                       size_t seen, struct mgo_buf *out);

static size_t diff_objects(const json_t *a, const json_t *b, const char *path, const char *indent, size_t max,
                           size_t seen, struct mgo_buf *out)
{
  size_t n = 0;
  const char *key;
  const json_t *v;
  char sub[PATH_LEN];
  json_object_foreach((json_t *) a, key, v)
  {
    mgo_snprintf(sub, sizeof(sub), "%s.%s", path, key);
    n += diff_rec(v, json_object_get(b, key), sub, indent, max, seen + n, out);
  }
  json_object_foreach((json_t *) b, key, v)
  {
    if (json_object_get(a, key) == NULL) {
      mgo_snprintf(sub, sizeof(sub), "%s.%s", path, key);
      n += diff_rec(NULL, v, sub, indent, max, seen + n, out);
    }
  }
  return n;
}

static size_t diff_arrays(const json_t *a, const json_t *b, const char *path, const char *indent, size_t max,
                          size_t seen, struct mgo_buf *out)
{
  size_t na = json_array_size(a), nb = json_array_size(b), n = 0;
  char sub[PATH_LEN];
  for (size_t i = 0; i < (na > nb ? na : nb); i++) {
    const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
    const char *nx = elem_name(x), *ny = elem_name(y);
    if (nx != NULL && ny != NULL && strcmp(nx, ny) == 0) {
      mgo_snprintf(sub, sizeof(sub), "%s[name=%s]", path, nx);
    } else {
      mgo_snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
    }
    n += diff_rec(x, y, sub, indent, max, seen + n, out);
  }
  return n;
}

static size_t diff_rec(const json_t *a, const json_t *b, const char *path, const char *indent, size_t max,
                       size_t seen, struct mgo_buf *out)
{
  if (a != NULL && b != NULL && json_equal(a, b)) {
    return 0;
  }
  if (json_is_object(a) && json_is_object(b)) {
    return diff_objects(a, b, path, indent, max, seen, out);
  }
  if (json_is_array(a) && json_is_array(b)) {
    return diff_arrays(a, b, path, indent, max, seen, out);
  }
  return diff_leaf(a, b, path, indent, max, seen, out);
}

size_t kmg_json_diff(const json_t *a, const json_t *b, const char *prefix, const char *indent, size_t max,
                     struct mgo_buf *out)
{
  return diff_rec(a, b, prefix, indent, max, 0, out);
}

/* ---- refusals */

static void immutable_value(const struct mgo_cluster *c, const char *field, char *out, size_t outsz)
{
  const struct mgo_cluster_spec *s = &c->spec;
  if (strcmp(field, "spec.storage.size") == 0) {
    mgo_strlcpy(out, s->storage.size, outsz);
  } else if (strcmp(field, "spec.storage.logSize") == 0) {
    mgo_strlcpy(out, s->storage.log_size, outsz);
  } else if (strcmp(field, "spec.storage.storageClassName") == 0) {
    mgo_strlcpy(out, s->storage.storage_class[0] ? s->storage.storage_class : "(cluster default)", outsz);
  } else if (strcmp(field, "spec.memgraph.propertiesOnEdges") == 0) {
    mgo_strlcpy(out, s->memgraph.properties_on_edges ? "true" : "false", outsz);
  } else if (strcmp(field, "spec.replication.port") == 0) {
    mgo_snprintf(out, outsz, "%d", (int) s->replication.port);
  } else {
    mgo_strlcpy(out, "", outsz);
  }
}

/* The bootstrap rules compare the JSON (presence, then value); the others the parsed, defaulted values. */
static bool bootstrap_refused(const json_t *old_spec, const json_t *new_spec, size_t rule)
{
  const json_t *a = json_object_get(old_spec, "bootstrap"), *b = json_object_get(new_spec, "bootstrap");
  bool presence_differs = (a == NULL) != (b == NULL);
  bool is_presence_rule = strstr(kmg_immutable_fields[rule].message, "can only be set") != NULL;
  return is_presence_rule ? presence_differs : (!presence_differs && a != NULL && !json_equal(a, b));
}

static size_t check_immutable(const struct mgo_cluster *old, const struct mgo_cluster *next,
                              const struct kmg_preview_input *in, struct mgo_buf *out)
{
  size_t n = 0;
  const json_t *old_spec = json_object_get(in->current, "spec"),
               *new_spec = json_object_get(in->changed, "spec");
  for (size_t i = 0; kmg_immutable_fields[i].field != NULL; i++) {
    const char *field = kmg_immutable_fields[i].field;
    char a[256], b[256];
    bool refused = false;
    if (strcmp(field, "spec.bootstrap") == 0) {
      refused = bootstrap_refused(old_spec, new_spec, i);
      mgo_strlcpy(a, "", sizeof(a));
      mgo_strlcpy(b, "", sizeof(b));
    } else {
      immutable_value(old, field, a, sizeof(a));
      immutable_value(next, field, b, sizeof(b));
      refused = strcmp(a, b) != 0;
    }
    if (refused) {
      mgo_buf_printf(out, "  %s%s%s%s%s (API server: %s)\n", field, a[0] ? ": " : "", a, a[0] ? " -> " : "",
                     b, kmg_immutable_fields[i].message);
      n++;
    }
  }
  return n;
}

static size_t list_errors(const struct mgo_cluster_errs *errs, const char *who, struct mgo_buf *out)
{
  for (size_t i = 0; i < errs->n; i++) {
    mgo_buf_printf(out, "  %s: %s (%s)\n", errs->e[i].field, errs->e[i].message, who);
  }
  return errs->n + errs->dropped;
}

/* ---- restarts */

static const json_t *instance_status(const json_t *current, const char *pod)
{
  size_t i;
  const json_t *is;
  json_array_foreach(json_object_get(json_object_get(current, "status"), "instanceStatuses"), i, is)
  {
    const char *p = json_string_value(json_object_get(is, "pod"));
    if (p != NULL && strcmp(p, pod) == 0) {
      return is;
    }
  }
  return NULL;
}

static bool in_sync_sync_replica(const json_t *is)
{
  const char *mode = json_string_value(json_object_get(is, "replicationMode"));
  const char *state = json_string_value(json_object_get(is, "replicaState"));
  return mode != NULL && state != NULL && strcmp(mode, "ASYNC") != 0 &&
         (strcmp(state, "ready") == 0 || strcmp(state, "replicating") == 0);
}

/* The replica the MAIN would be handed to: in sync in a synchronous mode first, else the lowest ordinal. */
static int switch_target(const struct mgo_cluster *next, const json_t *current, int main_ord, int existing)
{
  int best = -1;
  bool best_sync = false;
  for (int i = 0; i < existing && i < next->spec.instances; i++) {
    char pod[MGO_NAME_MAX];
    if (i == main_ord || mgo_name_pod(next, i, pod, sizeof(pod)) != MGO_OK ||
        mgo_cluster_instance_fenced(next, pod)) {
      continue;
    }
    bool sync = in_sync_sync_replica(instance_status(current, pod));
    if (best < 0 || (sync && !best_sync)) {
      best = i;
      best_sync = sync;
    }
  }
  return best;
}

static void format_switch_step(const struct mgo_cluster *next, const json_t *current, int main_ord,
                               int existing, int *step, struct mgo_buf *out)
{
  char main_pod[MGO_NAME_MAX], to_pod[MGO_NAME_MAX];
  (void) mgo_name_pod(next, main_ord, main_pod, sizeof(main_pod));
  int to = switch_target(next, current, main_ord, existing);
  if (next->spec.update_strategy == MGO_UPDATE_SUPERVISED) {
    mgo_buf_printf(out,
                   "  %d. wait for the annotation memgraph.io/approve-main-update=<StatefulSet "
                   "status.updateRevision> (Supervised; ReplicasReady=False/AwaitingMainUpdateApproval)\n",
                   (*step)++);
  }
  if (to < 0) {
    mgo_buf_printf(out,
                   "  %d. no replica to hand the MAIN to: %s waits (ReplicasReady=False/SwitchoverPending)\n",
                   (*step)++, main_pod);
    return;
  }
  (void) mgo_name_pod(next, to, to_pod, sizeof(to_pod));
  mgo_buf_printf(out,
                 "  %d. switchover %s -> %s (reason RollingUpdate; once %s is registered %s and caught up)\n"
                 "  %d. %s (the old MAIN, now a replica) restarts on the new template\n",
                 *step, main_pod, to_pod, to_pod, mgo_repl_mode_name(next->spec.replication.sync_mode),
                 *step + 1, main_pod);
  *step += 2;
}

static void format_rollout(const struct mgo_cluster *old, const struct mgo_cluster *next,
                           const json_t *current, struct mgo_buf *out)
{
  int existing = old->spec.instances < next->spec.instances ? old->spec.instances : next->spec.instances;
  const char *main_name =
      json_string_value(json_object_get(json_object_get(current, "status"), "currentMain"));
  int main_ord = main_name ? mgo_pod_ordinal(next, main_name) : -1;
  int step = 1;
  mgo_buf_printf(out, "Restart order (%s):\n",
                 next->spec.update_strategy == MGO_UPDATE_SUPERVISED ? "Supervised" : "ReplicasFirst");
  for (int i = existing - 1; i >= 0; i--) {
    char pod[MGO_NAME_MAX];
    if (i != main_ord && mgo_name_pod(next, i, pod, sizeof(pod)) == MGO_OK) {
      mgo_buf_printf(out, "  %d. %s (replica) is deleted and restarts on the new template, %s\n", step, pod,
                     step == 1 ? "while every replica is registered and in sync"
                               : "once the previous one is back in sync");
      step++;
    }
  }
  if (main_ord >= 0 && main_ord < existing) {
    format_switch_step(next, current, main_ord, existing, &step, out);
  }
}

static void format_scaling(const struct mgo_cluster *old, const struct mgo_cluster *next,
                           const json_t *current, struct mgo_buf *out)
{
  int a = old->spec.instances, b = next->spec.instances;
  if (a == b) {
    return;
  }
  mgo_buf_printf(out, "Scaling: %d -> %d instances: %s %s-%d..%s-%d\n", a, b, b > a ? "creates" : "removes",
                 next->name, b > a ? a : b, next->name, (b > a ? b : a) - 1);
  const char *main_name =
      json_string_value(json_object_get(json_object_get(current, "status"), "currentMain"));
  int main_ord = main_name ? mgo_pod_ordinal(next, main_name) : -1;
  if (b < a && main_ord >= b) {
    mgo_buf_printf(out,
                   "  the MAIN %s is removed: the operator first switches it over to a caught-up replica "
                   "that stays (reason ScaleDown)\n",
                   main_name);
  }
}

static void format_switchover_request(const struct mgo_cluster *old, const struct mgo_cluster *next,
                                      struct mgo_buf *out)
{
  int32_t t = next->spec.switchover_target_ordinal;
  if (t >= 0 && t != old->spec.switchover_target_ordinal) {
    char pod[MGO_NAME_MAX];
    (void) mgo_name_pod(next, t, pod, sizeof(pod));
    mgo_buf_printf(out,
                   "Switchover: spec.switchover.targetOrdinal=%d: %s becomes the MAIN (reason Requested)\n",
                   (int) t, pod);
  }
}

/* ---- the whole preview */

struct sides {
  struct mgo_cluster *old, *next;
  json_t *old_sts, *new_sts;
};

static int build_sides(const struct kmg_preview_input *in, struct sides *s, struct mgo_cluster_errs *errs,
                       char *err, size_t errsz)
{
  struct mgo_cluster_errs old_errs = {0};
  struct mgo_build_opts opts = {.operator_image = in->operator_image, .replicas = -1, .restore_secret = NULL};
  if (mgo_cluster_parse(in->current, s->old, &old_errs) != MGO_OK) {
    mgo_snprintf(err, errsz, "the live cluster does not parse: %s: %s", old_errs.e[0].field,
                 old_errs.e[0].message);
    return MGO_EINVAL;
  }
  if (mgo_cluster_parse(in->changed, s->next, errs) != MGO_OK) {
    return MGO_OK; /* refused: listed by the caller */
  }
  if (mgo_build_statefulset(s->old, &opts, &s->old_sts) != MGO_OK ||
      mgo_build_statefulset(s->next, &opts, &s->new_sts) != MGO_OK) {
    mgo_strlcpy(err, "the StatefulSet builder refused the cluster", errsz);
    return MGO_EINVAL;
  }
  return MGO_OK;
}

static void format_template(const struct sides *s, const json_t *current, struct mgo_buf *out)
{
  const json_t *ta = json_object_get(json_object_get(s->old_sts, "spec"), "template");
  const json_t *tb = json_object_get(json_object_get(s->new_sts, "spec"), "template");
  struct mgo_buf paths = MGO_BUF_INIT((size_t) 64 * 1024);
  size_t n = kmg_json_diff(ta, tb, "template", "  ", DIFF_SHOWN, &paths);
  if (n == 0) {
    mgo_buf_addstr(out, "Pod template: unchanged: no pod restarts\n");
  } else {
    mgo_buf_printf(out, "Pod template: %zu field%s change: the pods restart\n%s%s", n, n == 1 ? "" : "s",
                   mgo_buf_str(&paths), n > DIFF_SHOWN ? "  ...\n" : "");
    format_rollout(s->old, s->next, current, out);
  }
  mgo_buf_free(&paths);
}

static void format_changes(const struct kmg_preview_input *in, struct mgo_buf *out)
{
  const json_t *old_spec = json_object_get(in->current, "spec"),
               *new_spec = json_object_get(in->changed, "spec");
  json_t *set_only = json_object(); /* the fields the file sets; unset ones take the defaults */
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *) new_spec, key, v)
  {
    json_object_set(set_only, key, (json_t *) v);
  }
  json_t *old_subset = json_object();
  json_object_foreach(set_only, key, v)
  {
    if (json_object_get(old_spec, key) != NULL) {
      json_object_set(old_subset, key, json_object_get(old_spec, key));
    }
  }
  struct mgo_buf lines = MGO_BUF_INIT((size_t) 64 * 1024);
  size_t n = kmg_json_diff(old_subset, set_only, "spec", "  ", DIFF_SHOWN, &lines);
  mgo_buf_printf(out, "Spec changes:%s\n%s", n == 0 ? " none" : "", mgo_buf_str(&lines));
  mgo_buf_free(&lines);
  json_decref(set_only);
  json_decref(old_subset);
}

static void release(struct sides *s)
{
  if (s->old != NULL) {
    mgo_cluster_free(s->old);
  }
  if (s->next != NULL) {
    mgo_cluster_free(s->next);
  }
  free(s->old);
  free(s->next);
  json_decref(s->old_sts);
  json_decref(s->new_sts);
}

int kmg_preview(const struct kmg_preview_input *in, struct mgo_buf *out, bool *refused, char *err,
                size_t errsz)
{
  struct sides s = {.old = calloc(1, sizeof(struct mgo_cluster)),
                    .next = calloc(1, sizeof(struct mgo_cluster))};
  struct mgo_cluster_errs *errs = calloc(1, sizeof(*errs));
  *refused = false;
  int rc = s.old && s.next && errs ? build_sides(in, &s, errs, err, errsz) : MGO_ENOMEM;
  if (rc == MGO_OK && errs->n == 0) {
    (void) mgo_cluster_validate(s.next, errs);
  }
  if (rc == MGO_OK) {
    struct mgo_buf why = MGO_BUF_INIT((size_t) 64 * 1024);
    size_t n = list_errors(errs, "operator validation", &why);
    n += s.new_sts != NULL ? check_immutable(s.old, s.next, in, &why) : 0;
    *refused = n > 0;
    mgo_buf_printf(out, "Refused:%s\n%s",
                   n == 0 ? " nothing (the API server and the operator accept it)" : "", mgo_buf_str(&why));
    mgo_buf_free(&why);
    format_changes(in, out);
  }
  if (rc == MGO_OK && s.new_sts != NULL) {
    format_template(&s, in->current, out);
    format_scaling(s.old, s.next, in->current, out);
    format_switchover_request(s.old, s.next, out);
  }
  release(&s);
  free(errs);
  return rc;
}
