#include "k8s_path.h"

#include <string.h>

#include "mgo_err.h"

const struct k8s_resource K8S_RES_NAMESPACES = {"", "v1", "namespaces", false};
const struct k8s_resource K8S_RES_PODS = {"", "v1", "pods", true};
const struct k8s_resource K8S_RES_SERVICES = {"", "v1", "services", true};
const struct k8s_resource K8S_RES_CONFIGMAPS = {"", "v1", "configmaps", true};
const struct k8s_resource K8S_RES_SECRETS = {"", "v1", "secrets", true};
const struct k8s_resource K8S_RES_PVCS = {"", "v1", "persistentvolumeclaims", true};
const struct k8s_resource K8S_RES_SERVICEACCOUNTS = {"", "v1", "serviceaccounts", true};
const struct k8s_resource K8S_RES_CORE_EVENTS = {"", "v1", "events", true};
const struct k8s_resource K8S_RES_STATEFULSETS = {"apps", "v1", "statefulsets", true};
const struct k8s_resource K8S_RES_DEPLOYMENTS = {"apps", "v1", "deployments", true};
const struct k8s_resource K8S_RES_PDBS = {"policy", "v1", "poddisruptionbudgets", true};
const struct k8s_resource K8S_RES_JOBS = {"batch", "v1", "jobs", true};
const struct k8s_resource K8S_RES_CRONJOBS = {"batch", "v1", "cronjobs", true};
const struct k8s_resource K8S_RES_ROLES = {"rbac.authorization.k8s.io", "v1", "roles", true};
const struct k8s_resource K8S_RES_ROLEBINDINGS = {"rbac.authorization.k8s.io", "v1", "rolebindings", true};
const struct k8s_resource K8S_RES_LEASES = {"coordination.k8s.io", "v1", "leases", true};
const struct k8s_resource K8S_RES_EVENTS = {"events.k8s.io", "v1", "events", true};
const struct k8s_resource K8S_RES_CRDS = {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};

static bool is_unreserved(unsigned char ch)
{
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
         ch == '.' || ch == '_' || ch == '~';
}

int k8s_escape(struct mgo_buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    char enc[3] = {(char) *p, 0, 0};
    size_t n = 1;
    if (!is_unreserved(*p)) {
      enc[0] = '%';
      enc[1] = hex[*p >> 4];
      enc[2] = hex[*p & 0xf];
      n = 3;
    }
    int rc = mgo_buf_add(b, enc, n);
    if (rc != MGO_OK)
      return rc;
  }
  return MGO_OK;
}

static bool is_set(const char *s)
{
  return s && s[0];
}

/* Appends "/" + the escaped segment; refuses empty, "." and ".." segments. */
static int add_segment(struct mgo_buf *b, const char *seg)
{
  if (!is_set(seg) || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
    return MGO_EINVAL;
  int rc = mgo_buf_add(b, "/", 1);
  if (rc == MGO_OK)
    rc = k8s_escape(b, seg);
  return rc;
}

static int build_path(struct mgo_buf *b, const struct k8s_resource *res, const char *ns, const char *name,
                      const char *subresource)
{
  bool core = !is_set(res->group);
  int rc = mgo_buf_addstr(b, core ? "/api" : "/apis");
  if (rc == MGO_OK && !core)
    rc = add_segment(b, res->group);
  if (rc == MGO_OK)
    rc = add_segment(b, res->version);
  if (rc == MGO_OK && res->namespaced && is_set(ns)) {
    rc = add_segment(b, "namespaces");
    if (rc == MGO_OK)
      rc = add_segment(b, ns);
  }
  if (rc == MGO_OK)
    rc = add_segment(b, res->plural);
  if (rc == MGO_OK && is_set(name))
    rc = add_segment(b, name);
  if (rc == MGO_OK && is_set(subresource))
    rc = add_segment(b, subresource);
  return rc;
}

int k8s_path(char *dst, size_t dstsz, const struct k8s_resource *res, const char *ns, const char *name,
             const char *subresource)
{
  if (!dst || dstsz == 0 || !res)
    return MGO_EINVAL;
  dst[0] = '\0';
  if (is_set(subresource) && !is_set(name))
    return MGO_EINVAL;
  struct mgo_buf b = MGO_BUF_INIT(dstsz - 1);
  int rc = build_path(&b, res, ns, name, subresource);
  if (rc == MGO_OK)
    mgo_strlcpy(dst, mgo_buf_str(&b), dstsz);
  mgo_buf_free(&b);
  return rc;
}

int k8s_query_add(struct mgo_buf *b, const char *key, const char *value)
{
  if (!is_set(value))
    return MGO_OK;
  bool first = b->len == 0 || memchr(b->p, '?', b->len) == NULL;
  int rc = mgo_buf_add(b, first ? "?" : "&", 1);
  if (rc == MGO_OK)
    rc = k8s_escape(b, key);
  if (rc == MGO_OK)
    rc = mgo_buf_add(b, "=", 1);
  if (rc == MGO_OK)
    rc = k8s_escape(b, value);
  return rc;
}
