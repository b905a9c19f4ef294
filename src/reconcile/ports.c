/* What the ports share between their implementations: the resources of the caches. */
#include "ports.h"

#include <stdlib.h>

#include "k8s_config.h"
#include "mgo_buf.h"
#include "mgo_err.h"

const struct k8s_resource op_res_clusters = {"memgraph.io", "v1alpha1", "memgraphclusters", true};
const struct k8s_resource op_res_backups = {"memgraph.io", "v1alpha1", "memgraphbackups", true};

const struct k8s_resource *op_cache_resource(enum op_cache which)
{
  static const struct k8s_resource *const res[OP_CACHE_COUNT] = {
      &op_res_clusters, &K8S_RES_STATEFULSETS,    &K8S_RES_PODS,  &K8S_RES_SERVICES,
      &K8S_RES_PDBS,    &K8S_RES_SERVICEACCOUNTS, &op_res_backups};
  return (unsigned) which < OP_CACHE_COUNT ? res[which] : NULL;
}

int op_secret_value(const json_t *secret, const char *key, char *dst, size_t dstsz)
{
  const char *b64 = json_string_value(json_object_get(json_object_get(secret, "data"), key));
  unsigned char *raw = NULL;
  size_t len = 0;
  int rc = b64 != NULL ? k8s_base64_decode(b64, &raw, &len) : MGO_ENOTFOUND;
  if (rc == MGO_OK)
    rc = len < dstsz ? mgo_strlcpy(dst, (const char *) raw, dstsz) : MGO_ETOOBIG;
  free(raw);
  return rc;
}
