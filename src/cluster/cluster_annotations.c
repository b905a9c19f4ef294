/* The day-2 annotations of a MemgraphCluster (pause, hibernation, fenced instances). The API server cannot
 * validate annotations, so a value the operator does not understand is refused here, with the value to use,
 * and the cluster is then treated like one with an invalid spec: reported, and left alone. */
#include "cluster.h"
#include "cluster_fields.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <string.h>

#define FIELD(key) "metadata.annotations[" key "]"

static int parse_reconcile(const char *v, struct mgo_cluster_ops *ops, struct mgo_cluster_errs *errs)
{
  if (strcmp(v, "paused") == 0) {
    ops->paused = true;
    return MGO_OK;
  }
  mgo__cluster_err_add(errs, FIELD(MGO_ANNOTATION_RECONCILE),
                       "must be \"paused\"; remove the annotation to resume reconciling");
  return MGO_EINVAL;
}

static int parse_hibernation(const char *v, struct mgo_cluster_ops *ops, struct mgo_cluster_errs *errs)
{
  if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
    ops->hibernate = strcmp(v, "on") == 0;
    return MGO_OK;
  }
  mgo__cluster_err_add(errs, FIELD(MGO_ANNOTATION_HIBERNATION), "must be \"on\" or \"off\"");
  return MGO_EINVAL;
}

static int fenced_error(struct mgo_cluster_errs *errs, const char *what)
{
  char msg[256];
  (void) mgo_snprintf(msg, sizeof(msg),
                      "%s; expected a JSON array of pod names such as [\"mg-1\"], or [\"*\"]", what);
  mgo__cluster_err_add(errs, FIELD(MGO_ANNOTATION_FENCED), msg);
  return MGO_EINVAL;
}

static int add_fenced(const char *pod, struct mgo_cluster_ops *ops, struct mgo_cluster_errs *errs)
{
  if (strcmp(pod, MGO_FENCE_ALL) == 0) {
    ops->fence_all = true;
    return MGO_OK;
  }
  if (pod[0] == '\0')
    return fenced_error(errs, "an empty pod name");
  if (ops->n_fenced >= MGO_MAX_INSTANCES)
    return fenced_error(errs, "more names than a cluster has instances (32)");
  if (mgo_strlcpy(ops->fenced[ops->n_fenced], pod, MGO_NAME_MAX) != MGO_OK)
    return fenced_error(errs, "a pod name longer than 63 characters");
  ops->n_fenced++;
  return MGO_OK;
}

static int parse_fenced(const char *v, struct mgo_cluster_ops *ops, struct mgo_cluster_errs *errs)
{
  json_error_t jerr;
  json_t *list = json_loads(v, JSON_REJECT_DUPLICATES, &jerr);
  size_t i;
  json_t *item;
  int rc = MGO_OK;

  if (!json_is_array(list)) {
    json_decref(list);
    return fenced_error(errs, "not a JSON array");
  }
  json_array_foreach(list, i, item)
  {
    if (!json_is_string(item)) {
      rc = fenced_error(errs, "an element that is not a string");
      break;
    }
    rc = add_fenced(json_string_value(item), ops, errs);
    if (rc != MGO_OK)
      break;
  }
  json_decref(list);
  return rc;
}

int mgo_cluster_parse_ops(const json_t *annotations, struct mgo_cluster_ops *ops,
                          struct mgo_cluster_errs *errs)
{
  static const struct {
    const char *key;
    int (*parse)(const char *v, struct mgo_cluster_ops *ops, struct mgo_cluster_errs *errs);
  } table[] = {
      {MGO_ANNOTATION_RECONCILE, parse_reconcile},
      {MGO_ANNOTATION_HIBERNATION, parse_hibernation},
      {MGO_ANNOTATION_FENCED, parse_fenced},
  };
  int rc = MGO_OK;

  memset(ops, 0, sizeof(*ops));
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    const json_t *v = json_object_get(annotations, table[i].key);
    if (v != NULL && json_is_string(v) && table[i].parse(json_string_value(v), ops, errs) != MGO_OK)
      rc = MGO_EINVAL;
  }
  return rc;
}

bool mgo_cluster_instance_fenced(const struct mgo_cluster *c, const char *pod)
{
  if (c->ops.fence_all)
    return true;
  for (size_t i = 0; i < c->ops.n_fenced; i++) {
    if (strcmp(c->ops.fenced[i], pod) == 0)
      return true;
  }
  return false;
}
