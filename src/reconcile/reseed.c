/* The re-seed request: one ConfigMap key, then a delete of exactly one pod incarnation (reseed.h).
 *
 * How the key is written, and why: a JSON merge patch {"data": {"<pod>": "reseed=<uid>\n"}} first, and a
 * server-side apply of the whole ConfigMap only when it does not exist yet (404).
 * - The merge patch changes exactly one key, atomically on the server: other pods' keys are kept without
 *   reading them first, so two requests for two pods can never lose one another (a read-union-apply could,
 *   between its read and its write), and the common case is one request.
 * - Server-side apply alone cannot do this: with one field manager, an apply that lists only this pod's key
 *   removes the keys that manager applied before for the other pods.
 * - The apply on the create path carries the labels and the owner reference (garbage collection removes the
 *   ConfigMap with the cluster). If another writer created the ConfigMap in between, the apply merges into
 *   it: keys written by merge patch belong to the manager's "Update" entry, which an apply never prunes.
 * The withdrawal after a delete that found nothing is a JSON patch: "test" that the key still holds our
 * request, then "remove" it; a failed test (422) means a newer request replaced ours, which then stays. */
#include "reseed.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_build.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#define RESEED_TOKEN_MAX 64

static bool token_valid(const char *t)
{
  size_t n = 0;
  for (; t != NULL && t[n] != '\0'; n++) {
    char ch = t[n];
    if (n >= RESEED_TOKEN_MAX ||
        !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
      return false;
  }
  return n > 0;
}

static int configmap_apply(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *cm,
                           const char *pod, const char *line, struct k8s_status *st)
{
  json_t *obj =
      json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                "metadata", "name", cm, "namespace", c->namespace_, "labels", mgo_cluster_labels(c, "agent"),
                "ownerReferences", mgo_cluster_owner_refs(c), "data", pod, line);
  int rc;
  if (obj == NULL)
    return k8s_status_local(st, MGO_ENOMEM, "building ConfigMap %s", cm);
  k8s_status_clear(st);
  rc = kube->apply(kube->arg, &K8S_RES_CONFIGMAPS, c->namespace_, cm, obj, st);
  json_decref(obj);
  return rc;
}

/* Sets data[pod] = line in the ConfigMap cm, creating the ConfigMap when missing. */
static int write_request(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *cm,
                         const char *pod, const char *line, struct k8s_status *st);

int op_agent_instructions(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *pod,
                          const char *text, struct k8s_status *st)
{
  char cm[MGO_NAME_MAX + 8], drill[MGO_NAME_MAX + 8];
  int rc = mgo_name_agent_configmap(c, cm, sizeof(cm));
  bool ours = mgo_pod_ordinal(c, pod) >= 0 ||
              (mgo_name_drill_pod(c, drill, sizeof(drill)) == MGO_OK && strcmp(pod, drill) == 0);
  if (rc != MGO_OK || !ours)
    return k8s_status_local(st, rc != MGO_OK ? rc : MGO_EINVAL, "instructions for %s: not a pod of %s", pod,
                            c->name);
  return write_request(kube, c, cm, pod, text, st);
}

static int write_request(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *cm,
                         const char *pod, const char *line, struct k8s_status *st)
{
  json_t *patch = json_pack("{s:{s:s}}", "data", pod, line);
  int rc;
  if (patch == NULL)
    return k8s_status_local(st, MGO_ENOMEM, "building the patch of ConfigMap %s", cm);
  k8s_status_clear(st);
  rc = kube->merge_patch(kube->arg, &K8S_RES_CONFIGMAPS, c->namespace_, cm, NULL, patch, NULL, st);
  json_decref(patch);
  if (rc == MGO_ENOTFOUND)
    rc = configmap_apply(kube, c, cm, pod, line, st);
  return rc;
}

/* Removes data[pod] if it still equals line. A key holding anything else (a newer request) is kept. */
static int withdraw_request(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *cm,
                            const char *pod, const char *line, struct k8s_status *st)
{
  char pointer[MGO_NAME_MAX + 8];
  json_t *ops;
  int rc;

  /* pod is "<cluster name>-<ordinal>" (checked by the caller): no '~' or '/' to escape in the pointer */
  rc = mgo_snprintf(pointer, sizeof(pointer), "/data/%s", pod);
  if (rc != MGO_OK)
    return k8s_status_local(st, rc, "pod name too long: %s", pod);
  ops = json_pack("[{s:s, s:s, s:s}, {s:s, s:s}]", "op", "test", "path", pointer, "value", line, "op",
                  "remove", "path", pointer);
  if (ops == NULL)
    return k8s_status_local(st, MGO_ENOMEM, "building the withdrawal of %s", pod);
  k8s_status_clear(st);
  rc = kube->json_patch(kube->arg, &K8S_RES_CONFIGMAPS, c->namespace_, cm, ops, st);
  json_decref(ops);
  /* 422: the test failed (the key changed or is gone); 404: the ConfigMap is gone. Nothing of ours is left.
   */
  return rc == MGO_EINVALIDOBJ || rc == MGO_ENOTFOUND ? MGO_OK : rc;
}

int op_reseed_request(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *pod,
                      const char *pod_uid, bool *deleted, struct k8s_status *st)
{
  char cm[MGO_NAME_MAX + 8], line[RESEED_TOKEN_MAX + 16];
  struct k8s_delete_opts del = {.precondition_uid = pod_uid};
  struct k8s_status wst;
  int rc, wrc;

  *deleted = false;
  k8s_status_clear(st);
  if (pod == NULL || mgo_pod_ordinal(c, pod) < 0 || !token_valid(pod_uid))
    return k8s_status_local(st, MGO_EINVAL, "re-seed of %s: not a pod of %s/%s with a valid UID",
                            pod ? pod : "(null)", c->namespace_, c->name);
  rc = mgo_name_agent_configmap(c, cm, sizeof(cm));
  if (rc == MGO_OK)
    rc = mgo_snprintf(line, sizeof(line), "reseed=%s\n", pod_uid);
  if (rc != MGO_OK)
    return k8s_status_local(st, rc, "re-seed of %s: names do not fit", pod);

  rc = write_request(kube, c, cm, pod, line, st);
  if (rc != MGO_OK)
    return rc;
  k8s_status_clear(st);
  rc = kube->delete_object(kube->arg, &K8S_RES_PODS, c->namespace_, pod, &del, st);
  if (rc == MGO_OK) {
    *deleted = true;
    return MGO_OK;
  }
  wrc = withdraw_request(kube, c, cm, pod, line, &wst);
  if (rc == MGO_ENOTFOUND || rc == MGO_ECONFLICT) { /* that incarnation is gone already */
    if (wrc != MGO_OK)
      *st = wst;
    return wrc;
  }
  return rc; /* the delete's error, with its status */
}

int64_t op_reseed_gap_ms(int32_t reseeds)
{
  int64_t gap = OP_RESEED_FIRST_GAP_MS;
  for (int32_t i = 1; i < reseeds && gap < OP_RESEED_MAX_GAP_MS; i++)
    gap *= 2;
  return reseeds <= 0 ? 0 : gap < OP_RESEED_MAX_GAP_MS ? gap : OP_RESEED_MAX_GAP_MS;
}

bool op_reseed_held(int32_t reseeds, int64_t since_ms)
{
  return reseeds > 0 && since_ms >= 0 && since_ms < op_reseed_gap_ms(reseeds);
}

bool op_reseed_in_window(int64_t at_ms, int64_t now_ms)
{
  return at_ms > 0 && now_ms - at_ms < OP_RESEED_WINDOW_MS;
}
