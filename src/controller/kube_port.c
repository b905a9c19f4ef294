/* The real Kubernetes port (ports.h): reads from the informer caches (Secrets from the API server), writes
 * through the client, Events through the recorder, leadership from the runtime. */
#include "controller_int.h"

#include <stdlib.h>
#include <string.h>

#include "k8s_events.h"
#include "k8s_informer.h"
#include "mgo_err.h"

static struct k8s_informer *cache_of(const struct op_kube_impl *k, enum op_cache which)
{
  return k->inf != NULL && (unsigned) which < OP_CACHE_COUNT ? k->inf[which] : NULL;
}

static json_t *kp_cached(void *arg, enum op_cache which, const char *ns, const char *name)
{
  struct k8s_informer *inf = cache_of(arg, which);
  return inf != NULL ? k8s_informer_get(inf, ns, name) : NULL;
}

static json_t *kp_cached_list(void *arg, enum op_cache which, const char *ns)
{
  struct k8s_informer *inf = cache_of(arg, which);
  return inf != NULL ? k8s_informer_list(inf, ns) : json_array();
}

/* The object's path into path; fills st on failure. */
static int object_path(char *path, const struct k8s_resource *res, const char *ns, const char *name,
                       const char *sub, struct k8s_status *st)
{
  int rc = k8s_path(path, K8S_PATH_MAX, res, ns, name, sub);
  return rc == MGO_OK ? MGO_OK : k8s_status_local(st, rc, "no path for %s %s/%s", res->plural, ns, name);
}

static int kp_get(void *arg, const struct k8s_resource *res, const char *ns, const char *name, json_t **out,
                  struct k8s_status *st)
{
  struct op_kube_impl *k = arg;
  char path[K8S_PATH_MAX];
  int rc = object_path(path, res, ns, name, NULL, st);
  *out = NULL;
  return rc == MGO_OK ? k8s_get(k->client, path, out, st) : rc;
}

static int kp_apply(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                    const json_t *obj, struct k8s_status *st)
{
  struct op_kube_impl *k = arg;
  char path[K8S_PATH_MAX];
  int rc = object_path(path, res, ns, name, NULL, st);
  return rc == MGO_OK ? k8s_apply(k->client, path, obj, OP_FIELD_MANAGER, true, NULL, st) : rc;
}

static int kp_create(void *arg, const struct k8s_resource *res, const char *ns, const json_t *obj,
                     struct k8s_status *st)
{
  struct op_kube_impl *k = arg;
  char path[K8S_PATH_MAX];
  int rc = k8s_path(path, sizeof(path), res, ns, NULL, NULL); /* the collection: POST creates in it */
  if (rc != MGO_OK)
    return k8s_status_local(st, rc, "no path for %s in %s", res->plural, ns);
  return k8s_create(k->client, path, obj, NULL, st);
}

static int kp_merge_patch(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                          const char *sub, const json_t *patch, json_t **out, struct k8s_status *st)
{
  struct op_kube_impl *k = arg;
  char path[K8S_PATH_MAX];
  int rc = object_path(path, res, ns, name, sub, st);
  if (out != NULL)
    *out = NULL;
  return rc == MGO_OK ? k8s_merge_patch(k->client, path, patch, out, st) : rc;
}

static int kp_json_patch(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                         const json_t *ops, struct k8s_status *st)
{
  struct op_kube_impl *k = arg;
  char path[K8S_PATH_MAX];
  struct k8s_request req = {
      .method = "PATCH", .verb = K8S_VERB_PATCH, .content_type = "application/json-patch+json"};
  char *body;
  int rc = object_path(path, res, ns, name, NULL, st);
  if (rc != MGO_OK)
    return rc;
  body = json_dumps(ops, JSON_COMPACT);
  if (body == NULL)
    return k8s_status_local(st, MGO_ENOMEM, "encoding a JSON patch");
  req.path = path;
  req.body = body;
  req.body_len = strlen(body);
  rc = k8s_request(k->client, &req, NULL, st);
  free(body);
  return rc;
}

static int kp_delete(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                     const struct k8s_delete_opts *opts, struct k8s_status *st)
{
  struct op_kube_impl *k = arg;
  char path[K8S_PATH_MAX];
  int rc = object_path(path, res, ns, name, NULL, st);
  return rc == MGO_OK ? k8s_delete(k->client, path, opts, NULL, st) : rc;
}

static int kp_event(void *arg, const json_t *regarding, const char *type, const char *reason,
                    const char *action, const char *note, struct k8s_status *st)
{
  struct op_kube_impl *k = arg;
  if (k->events == NULL)
    return MGO_OK;
  return k8s_event_record(k->events, regarding, type, reason, action, note, NULL, st);
}

static bool kp_may_act(void *arg)
{
  struct op_kube_impl *k = arg;
  return k->may_act(k->may_act_arg);
}

void op_kube_port_init(struct op_kube_port *port, struct op_kube_impl *impl)
{
  *port = (struct op_kube_port){.arg = impl,
                                .cached = kp_cached,
                                .cached_list = kp_cached_list,
                                .get = kp_get,
                                .apply = kp_apply,
                                .create = kp_create,
                                .merge_patch = kp_merge_patch,
                                .json_patch = kp_json_patch,
                                .delete_object = kp_delete,
                                .event = kp_event,
                                .may_act = kp_may_act};
}
