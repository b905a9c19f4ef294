/* What the ports share between their implementations: the resources of the caches. */
#include "ports.h"

const struct k8s_resource op_res_clusters = {"memgraph.io", "v1alpha1", "memgraphclusters", true};

const struct k8s_resource *op_cache_resource(enum op_cache which)
{
  static const struct k8s_resource *const res[OP_CACHE_COUNT] = {&op_res_clusters, &K8S_RES_STATEFULSETS,
                                                                 &K8S_RES_PODS,    &K8S_RES_SERVICES,
                                                                 &K8S_RES_PDBS,    &K8S_RES_SERVICEACCOUNTS};
  return (unsigned) which < OP_CACHE_COUNT ? res[which] : NULL;
}
