/* Kubernetes resource paths and query strings, built only from percent-encoded input.
 *
 * A struct k8s_resource names a resource type (group, version, plural, scope). k8s_path() turns it plus a
 * namespace, name and subresource into the request path, for example
 *   {"apps","v1","statefulsets",1} + ("db","mg",NULL)  →  /apis/apps/v1/namespaces/db/statefulsets/mg
 *   {"","v1","pods",1}            + (NULL,NULL,NULL)  →  /api/v1/pods            (all namespaces)
 *   custom resources              + ("db","mg","status") →
 * /apis/memgraph.com/v1/namespaces/db/memgraphclusters/mg/status Every segment is percent-encoded (anything
 * outside A-Z a-z 0-9 - . _ ~), and "." / ".." segments are refused, so a hostile name can never change the
 * path's meaning.
 *
 * Ownership: results go into caller buffers. Thread-safety: pure functions; the K8S_RES_* constants are
 * read-only. */
#ifndef K8S_PATH_H
#define K8S_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "mgo_buf.h"

#define K8S_PATH_MAX 1024

struct k8s_resource {
  const char *group;   /* "" for the core group (/api/v1) */
  const char *version; /* "v1" */
  const char *plural;  /* "pods" */
  bool namespaced;
};

extern const struct k8s_resource K8S_RES_NAMESPACES, K8S_RES_PODS, K8S_RES_SERVICES, K8S_RES_CONFIGMAPS,
    K8S_RES_SECRETS, K8S_RES_PVCS, K8S_RES_SERVICEACCOUNTS, K8S_RES_CORE_EVENTS, K8S_RES_STATEFULSETS,
    K8S_RES_DEPLOYMENTS, K8S_RES_PDBS, K8S_RES_JOBS, K8S_RES_CRONJOBS, K8S_RES_LEASES, K8S_RES_EVENTS,
    K8S_RES_CRDS, K8S_RES_ROLES, K8S_RES_ROLEBINDINGS;

/* Writes the path for res into dst (dstsz bytes). ns NULL/"" on a namespaced resource means all namespaces;
 * ns is ignored for cluster-scoped resources. name NULL/"" means the collection; subresource needs a name.
 * MGO_EINVAL on a bad combination or a "."/".." segment, MGO_ETOOBIG when dst is too small. */
int k8s_path(char *dst, size_t dstsz, const struct k8s_resource *res, const char *ns, const char *name,
             const char *subresource);

/* Appends s percent-encoded (RFC 3986 unreserved characters kept) to b. */
int k8s_escape(struct mgo_buf *b, const char *s);

/* Appends "?key=value" (first parameter) or "&key=value" to b, value percent-encoded. A NULL or empty value
 * appends nothing. */
int k8s_query_add(struct mgo_buf *b, const char *key, const char *value);

#endif
