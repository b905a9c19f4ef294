/* Services, PodDisruptionBudget, ServiceAccount, the agent's Role and RoleBinding and the agent token Secret
 * of a MemgraphCluster. */
#include "cluster.h"
#include "cluster_build.h"
#include "mgo_err.h"

typedef int name_fn(const struct mgo_cluster *c, char *dst, size_t dstsz);

/* metadata {name, namespace, labels, ownerReferences}; NULL when the name does not fit. */
static json_t *object_meta(const struct mgo_cluster *c, name_fn *name_of)
{
  char name[MGO_NAME_MAX + 8];
  if (name_of(c, name, sizeof(name)) != MGO_OK)
    return NULL;
  return json_pack("{s:s, s:s, s:o, s:o}", "name", name, "namespace", c->namespace_, "labels",
                   mgo_cluster_labels(c, "database"), "ownerReferences", mgo_cluster_owner_refs(c));
}

/* *out = obj: MGO_OK, or MGO_ENOMEM when building it failed (obj NULL). */
static int built(json_t *obj, json_t **out)
{
  *out = obj;
  return obj != NULL ? MGO_OK : MGO_ENOMEM;
}

/* MGO_OK when the object's name fits, else the naming function's code (*out NULL). */
static int name_fits(const struct mgo_cluster *c, name_fn *name_of, json_t **out)
{
  char name[MGO_NAME_MAX + 8];
  *out = NULL;
  return name_of(c, name, sizeof(name));
}

static json_t *pod_selector(const struct mgo_cluster *c)
{
  return json_pack("{s:s, s:s}", MGO_LABEL_NAME, "memgraph", MGO_LABEL_INSTANCE, c->name);
}

static json_t *bolt_port(void)
{
  return json_pack("{s:s, s:i, s:i, s:s}", "name", "bolt", "port", MGO_BOLT_PORT, "targetPort", MGO_BOLT_PORT,
                   "protocol", "TCP");
}

int mgo_build_headless_service(const struct mgo_cluster *c, json_t **out)
{
  int port = c->spec.replication.port;
  int rc = name_fits(c, mgo_name_headless_svc, out);
  if (rc != MGO_OK)
    return rc;
  return built(json_pack("{s:s, s:s, s:o, s:{s:s, s:b, s:o, s:[o, {s:s, s:i, s:i, s:s}]}}", "apiVersion",
                         "v1", "kind", "Service", "metadata", object_meta(c, mgo_name_headless_svc), "spec",
                         "clusterIP", "None", "publishNotReadyAddresses", 1, "selector", pod_selector(c),
                         "ports", bolt_port(), "name", "replication", "port", port, "targetPort", port,
                         "protocol", "TCP"),
               out);
}

static json_t *client_service(const struct mgo_cluster *c, name_fn *name_of,
                              const struct mgo_service_spec *svc, json_t *selector)
{
  json_t *meta = object_meta(c, name_of);
  if (meta != NULL && svc->annotations != NULL)
    json_object_set_new(meta, "annotations", json_deep_copy(svc->annotations));
  return json_pack("{s:s, s:s, s:o, s:{s:s, s:o, s:[o]}}", "apiVersion", "v1", "kind", "Service", "metadata",
                   meta, "spec", "type", svc->type, "selector", selector, "ports", bolt_port());
}

int mgo_build_write_service(const struct mgo_cluster *c, json_t **out)
{
  json_t *selector;
  int rc = name_fits(c, mgo_name_write_svc, out);
  if (rc != MGO_OK)
    return rc;
  selector = pod_selector(c);
  if (selector != NULL)
    json_object_set_new(selector, MGO_LABEL_ROLE, json_string(mgo_role_name(MGO_ROLE_MAIN)));
  return built(client_service(c, mgo_name_write_svc, &c->spec.write_service, selector), out);
}

int mgo_build_read_service(const struct mgo_cluster *c, json_t **out)
{
  json_t *selector;
  int rc = name_fits(c, mgo_name_read_svc, out);
  if (rc != MGO_OK)
    return rc;
  selector = pod_selector(c);
  if (selector == NULL)
    return MGO_ENOMEM;
  /* The MAIN and healthy registered replicas carry readable=true; without includeMain, role=replica
   * narrows it to replicas. */
  json_object_set_new(selector, MGO_LABEL_READABLE, json_string("true"));
  if (!c->spec.read_service.include_main)
    json_object_set_new(selector, MGO_LABEL_ROLE, json_string(mgo_role_name(MGO_ROLE_REPLICA)));
  return built(client_service(c, mgo_name_read_svc, &c->spec.read_service, selector), out);
}

int mgo_build_pdb(const struct mgo_cluster *c, json_t **out)
{
  int rc = name_fits(c, mgo_name_pdb, out);
  if (rc != MGO_OK)
    return rc;
  if (!c->spec.pdb_enabled)
    return MGO_EINVAL;
  return built(json_pack("{s:s, s:s, s:o, s:{s:i, s:{s:o}}}", "apiVersion", "policy/v1", "kind",
                         "PodDisruptionBudget", "metadata", object_meta(c, mgo_name_pdb), "spec",
                         "maxUnavailable", 1, "selector", "matchLabels", pod_selector(c)),
               out);
}

int mgo_build_service_account(const struct mgo_cluster *c, json_t **out)
{
  int rc = name_fits(c, mgo_name_service_account, out);
  if (rc != MGO_OK)
    return rc;
  /* Memgraph never talks to the API server: no token is mounted by default. Only the agent sidecar gets one,
   * through its own projected volume, to read its MemgraphCluster (mgo_build_agent_role). */
  return built(json_pack("{s:s, s:s, s:o, s:b}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata",
                         object_meta(c, mgo_name_service_account), "automountServiceAccountToken", 0),
               out);
}

int mgo_build_agent_role(const struct mgo_cluster *c, json_t **out)
{
  int rc = name_fits(c, mgo_name_agent_role, out);
  if (rc != MGO_OK)
    return rc;
  return built(json_pack("{s:s, s:s, s:o, s:[{s:[s], s:[s], s:[s], s:[s]}]}", "apiVersion",
                         "rbac.authorization.k8s.io/v1", "kind", "Role", "metadata",
                         object_meta(c, mgo_name_agent_role), "rules", "apiGroups", "memgraph.io",
                         "resources", "memgraphclusters", "resourceNames", c->name, "verbs", "get"),
               out);
}

int mgo_build_agent_role_binding(const struct mgo_cluster *c, json_t **out)
{
  char role[MGO_NAME_MAX + 8], sa[MGO_NAME_MAX + 8];
  int rc = mgo_name_agent_role(c, role, sizeof(role));
  *out = NULL;
  if (rc == MGO_OK)
    rc = mgo_name_service_account(c, sa, sizeof(sa));
  if (rc != MGO_OK)
    return rc;
  return built(json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s}]}", "apiVersion",
                         "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata",
                         object_meta(c, mgo_name_agent_role), "roleRef", "apiGroup",
                         "rbac.authorization.k8s.io", "kind", "Role", "name", role, "subjects", "kind",
                         "ServiceAccount", "name", sa, "namespace", c->namespace_),
               out);
}

int mgo_build_agent_token_secret(const struct mgo_cluster *c, const char *token, json_t **out)
{
  int rc = name_fits(c, mgo_name_agent_token_secret, out);
  if (rc != MGO_OK)
    return rc;
  if (token == NULL || token[0] == '\0')
    return MGO_EINVAL;
  return built(json_pack("{s:s, s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Secret", "metadata",
                         object_meta(c, mgo_name_agent_token_secret), "type", "Opaque", "stringData",
                         MGO_AGENT_TOKEN_KEY, token),
               out);
}
