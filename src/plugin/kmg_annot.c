/* Annotation edits of kubectl-memgraph: instance resolution and the fencedInstances list (kmg_annot.h). */
#include "kmg_annot.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"

static long parse_digits(const char *s)
{
  if (*s == '\0' || strlen(s) > 9) {
    return -1;
  }
  for (const char *p = s; *p; p++) {
    if (!isdigit((unsigned char) *p)) {
      return -1;
    }
  }
  return strtol(s, NULL, 10);
}

long kmg_pod_ordinal(const char *cluster, const char *pod)
{
  size_t n = strlen(cluster);
  if (strncmp(pod, cluster, n) != 0 || pod[n] != '-') {
    return -1;
  }
  return parse_digits(pod + n + 1);
}

int kmg_resolve_instance(const char *cluster, long instances, const char *instance, bool allow_all, char *pod,
                         size_t podsz, char *err, size_t errsz)
{
  if (allow_all && strcmp(instance, "*") == 0) {
    return mgo_strlcpy(pod, "*", podsz);
  }
  long ord = parse_digits(instance);
  if (ord < 0) {
    ord = kmg_pod_ordinal(cluster, instance);
  }
  if (ord < 0) {
    mgo_snprintf(err, errsz, "unknown instance \"%s\": give a pod name (%s-0) or an ordinal", instance,
                 cluster);
    return MGO_EINVAL;
  }
  if (ord >= instances) {
    mgo_snprintf(err, errsz, "unknown instance \"%s\": cluster %s has %ld instances (ordinals 0..%ld)",
                 instance, cluster, instances, instances - 1);
    return MGO_EINVAL;
  }
  if (mgo_snprintf(pod, podsz, "%s-%ld", cluster, ord) != MGO_OK) {
    mgo_snprintf(err, errsz, "pod name of %s too long", cluster);
    return MGO_ETOOBIG;
  }
  return MGO_OK;
}

/* The current list as a new array of strings; NULL/"" is empty. */
static int parse_list(const char *current, json_t **out, char *err, size_t errsz)
{
  if (current == NULL || *current == '\0') {
    *out = json_array();
    return *out ? MGO_OK : MGO_ENOMEM;
  }
  json_error_t jerr;
  json_t *v = json_loads(current, JSON_REJECT_DUPLICATES, &jerr);
  bool ok = json_is_array(v);
  size_t i;
  json_t *item;
  json_array_foreach(v, i, item)
  {
    ok = ok && json_is_string(item);
  }
  if (!ok) {
    json_decref(v);
    mgo_snprintf(err, errsz, "annotation %s is not a JSON array of pod names: %s", KMG_ANN_FENCED, current);
    return MGO_EPARSE;
  }
  *out = v;
  return MGO_OK;
}

static bool list_has(const json_t *list, const char *pod)
{
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item)
  {
    if (strcmp(json_string_value(item), pod) == 0) {
      return true;
    }
  }
  return false;
}

/* Every instance of the cluster except pod (what is left of ["*"] after unfencing pod). */
static json_t *all_but(const char *cluster, long instances, const char *pod)
{
  json_t *list = json_array();
  char name[KMG_POD_NAME_MAX];
  for (long i = 0; list != NULL && i < instances; i++) {
    if (mgo_snprintf(name, sizeof(name), "%s-%ld", cluster, i) == MGO_OK && strcmp(name, pod) != 0) {
      json_array_append_new(list, json_string(name));
    }
  }
  return list;
}

static json_t *without(const json_t *list, const char *pod)
{
  json_t *out = json_array();
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item)
  {
    if (strcmp(json_string_value(item), pod) != 0) {
      json_array_append(out, item);
    }
  }
  return out;
}

static bool before(const char *cluster, const char *x, const char *y)
{
  long ox = kmg_pod_ordinal(cluster, x);
  long oy = kmg_pod_ordinal(cluster, y);
  return ox != oy ? ox < oy : strcmp(x, y) < 0;
}

/* Insertion sort by ordinal (the lists are a handful of names). */
static void sort_names(const char *cluster, const char **names, size_t n)
{
  for (size_t i = 1; i < n; i++) {
    const char *cur = names[i];
    size_t j = i;
    while (j > 0 && before(cluster, cur, names[j - 1])) {
      names[j] = names[j - 1];
      j--;
    }
    names[j] = cur;
  }
}

/* Sorted compact JSON array text (malloc'ed), or NULL for an empty list. */
static char *serialize(const char *cluster, const json_t *list, int *rc)
{
  size_t n = json_array_size(list);
  *rc = MGO_OK;
  if (n == 0) {
    return NULL;
  }
  const char **names = calloc(n, sizeof(*names));
  json_t *sorted = json_array();
  if (names == NULL || sorted == NULL) {
    free(names);
    json_decref(sorted);
    *rc = MGO_ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    names[i] = json_string_value(json_array_get(list, i));
  }
  sort_names(cluster, names, n);
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(sorted, json_string(names[i]));
  }
  char *text = json_dumps(sorted, JSON_COMPACT);
  free(names);
  json_decref(sorted);
  *rc = text ? MGO_OK : MGO_ENOMEM;
  return text;
}

static json_t *edited(const json_t *list, const char *cluster, long instances, const char *pod, bool add)
{
  bool all = list_has(list, "*");
  if (add && (strcmp(pod, "*") == 0 || all)) {
    return json_pack("[s]", "*");
  }
  if (add) {
    json_t *out = without(list, pod);
    json_array_append_new(out, json_string(pod));
    return out;
  }
  if (all) {
    return all_but(cluster, instances, pod);
  }
  return without(list, pod);
}

int kmg_fence_edit(const char *current, const char *cluster, long instances, const char *pod, bool add,
                   char **value_out, bool *changed, char *err, size_t errsz)
{
  *value_out = NULL;
  *changed = false;
  json_t *list = NULL;
  int rc = parse_list(current, &list, err, errsz);
  if (rc != MGO_OK) {
    return rc;
  }
  json_t *next = edited(list, cluster, instances, pod, add);
  json_decref(list);
  if (next == NULL) {
    return MGO_ENOMEM;
  }
  *value_out = serialize(cluster, next, &rc);
  json_decref(next);
  if (rc != MGO_OK) {
    mgo_strlcpy(err, "out of memory", errsz);
    return rc;
  }
  bool was_empty = current == NULL || *current == '\0';
  *changed = *value_out == NULL ? !was_empty : (was_empty || strcmp(*value_out, current) != 0);
  return MGO_OK;
}

json_t *kmg_annotation_patch(const char *key, const char *value, const char *resource_version)
{
  json_t *annotations = json_object();
  json_t *meta = json_object();
  json_t *patch = json_object();
  if (annotations == NULL || meta == NULL || patch == NULL) {
    json_decref(annotations);
    json_decref(meta);
    json_decref(patch);
    return NULL;
  }
  json_object_set_new(annotations, key, value ? json_string(value) : json_null());
  json_object_set_new(meta, "annotations", annotations);
  if (resource_version != NULL) {
    json_object_set_new(meta, "resourceVersion", json_string(resource_version));
  }
  json_object_set_new(patch, "metadata", meta);
  return patch;
}

const char *kmg_annotation(const json_t *obj, const char *key)
{
  const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
  return json_string_value(json_object_get(ann, key));
}

long kmg_spec_instances(const json_t *cluster)
{
  const json_t *n = json_object_get(json_object_get(cluster, "spec"), "instances");
  return json_is_integer(n) ? (long) json_integer_value(n) : 3;
}

bool kmg_is_fenced(const json_t *cluster, const char *pod)
{
  const char *fenced = kmg_annotation(cluster, KMG_ANN_FENCED);
  json_t *list = NULL;
  char err[8];
  if (fenced == NULL || parse_list(fenced, &list, err, sizeof(err)) != MGO_OK) {
    return false;
  }
  bool found = list_has(list, "*") || list_has(list, pod);
  json_decref(list);
  return found;
}

static const char *cluster_name(const json_t *cluster)
{
  const char *n = json_string_value(json_object_get(json_object_get(cluster, "metadata"), "name"));
  return n ? n : "";
}

int kmg_fence_target(const json_t *cluster, const char *instance, bool fence, char *pod, size_t podsz,
                     char *err, size_t errsz)
{
  int rc = kmg_resolve_instance(cluster_name(cluster), kmg_spec_instances(cluster), instance, fence, pod,
                                podsz, err, errsz);
  json_t *list = NULL;
  char perr[8];
  if (rc == MGO_OK || fence ||
      parse_list(kmg_annotation(cluster, KMG_ANN_FENCED), &list, perr, sizeof(perr)) != MGO_OK) {
    return rc;
  }
  bool listed = strcmp(instance, "*") != 0 && list_has(list, instance);
  json_decref(list);
  if (!listed) {
    return rc;
  }
  mgo_strlcpy(err, "", errsz);
  return mgo_strlcpy(pod, instance, podsz);
}

bool kmg_switchover_blocked(const json_t *cluster, const char *target_pod, char *out, size_t outsz)
{
  const char *rec = kmg_annotation(cluster, KMG_ANN_RECONCILE);
  const char *hib = kmg_annotation(cluster, KMG_ANN_HIBERNATION);
  mgo_strlcpy(out, "", outsz);
  if (kmg_is_fenced(cluster, target_pod)) {
    mgo_snprintf(out, outsz,
                 "%s is fenced (%s): the operator never hands the MAIN to a fenced instance; "
                 "unfence it first",
                 target_pod, KMG_ANN_FENCED);
  } else if (rec != NULL && strcmp(rec, "paused") == 0) {
    mgo_snprintf(out, outsz,
                 "reconciliation of %s is paused (%s=paused): the operator would not switch over; "
                 "unpause it first",
                 cluster_name(cluster), KMG_ANN_RECONCILE);
  } else if (hib != NULL && strcmp(hib, "on") == 0) {
    mgo_snprintf(out, outsz, "%s hibernates (%s=on): there is no MAIN to switch over; resume it first",
                 cluster_name(cluster), KMG_ANN_HIBERNATION);
  }
  return out[0] != '\0';
}
