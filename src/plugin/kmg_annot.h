/* The annotations `kubectl memgraph` edits on a MemgraphCluster, and the merge patches that edit them.
 *
 * The contract with the operator:
 *   memgraph.io/fencedInstances  a JSON array of pod names, e.g. ["mg-1"], or ["*"] (every instance);
 *                                absent = nothing fenced
 *   memgraph.io/hibernation      "on" (hibernate) / "off" (resume)
 *   memgraph.io/reconcile        "paused" (pause) / absent (unpause)
 * An INSTANCE argument is a pod name ("mg-1") or an ordinal ("1") of a cluster with spec.instances pods;
 * anything at or past spec.instances is an unknown instance.
 *
 * Ownership: results go into caller buffers, or are new jansson references / malloc'ed strings that the
 * caller owns (json_decref / free), as each function says. Inputs are borrowed. Errors: MGO_* codes with a
 * one-line message in err. Thread-safety: pure functions. */
#ifndef KMG_ANNOT_H
#define KMG_ANNOT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KMG_ANN_FENCED "memgraph.io/fencedInstances"
#define KMG_ANN_HIBERNATION "memgraph.io/hibernation"
#define KMG_ANN_RECONCILE "memgraph.io/reconcile"
#define KMG_POD_NAME_MAX 254

/* The ordinal of pod within cluster ("mg-2" of "mg" → 2), or -1 when pod is not "<cluster>-<digits>". */
long kmg_pod_ordinal(const char *cluster, const char *pod);

/* Resolves instance (pod name or ordinal; "*" only when allow_all) of cluster with `instances` pods into
 * pod (podsz >= KMG_POD_NAME_MAX is enough). MGO_EINVAL "unknown instance ..." for an ordinal >= instances, a
 * pod of another cluster, or garbage. */
int kmg_resolve_instance(const char *cluster, long instances, const char *instance, bool allow_all, char *pod,
                         size_t podsz, char *err, size_t errsz);

/* The new value of memgraph.io/fencedInstances after fencing (add) or unfencing (!add) pod, given its current
 * value (NULL when absent). *value_out is a malloc'ed compact JSON array sorted by ordinal ("*" alone when
 * everything is fenced), or NULL when the annotation should be removed (nothing left fenced). Unfencing one
 * pod while ["*"] is set leaves every other instance of the cluster fenced. MGO_EPARSE when current is not
 * a JSON array of strings. *changed says whether the value differs from current. */
int kmg_fence_edit(const char *current, const char *cluster, long instances, const char *pod, bool add,
                   char **value_out, bool *changed, char *err, size_t errsz);

/* {"metadata":{"annotations":{key: value}, "resourceVersion": rv}}: a merge patch setting (value non-NULL)
 * or removing (NULL) one annotation; with rv non-NULL the API server refuses it (409) when the object
 * changed since it was read. New reference (NULL on allocation failure). */
json_t *kmg_annotation_patch(const char *key, const char *value, const char *resource_version);

/* spec.instances of a MemgraphCluster (3, the CRD's default, when unset). */
long kmg_spec_instances(const json_t *cluster);

/* True when pod is listed in the cluster's memgraph.io/fencedInstances (or "*" is); false when the
 * annotation is absent or unreadable. */
bool kmg_is_fenced(const json_t *cluster, const char *pod);

/* The pod a fence/unfence INSTANCE names on cluster (a MemgraphCluster object): kmg_resolve_instance()
 * against its spec.instances ("*" only when fencing), except that unfencing also accepts a pod name listed
 * literally in memgraph.io/fencedInstances beyond spec.instances (fenced before a scale-down). Errors as
 * kmg_resolve_instance(). */
int kmg_fence_target(const json_t *cluster, const char *instance, bool fence, char *pod, size_t podsz,
                     char *err, size_t errsz);

/* Why the operator would not switch cluster's MAIN over to target_pod now: it is fenced, reconciliation is
 * paused, or the cluster hibernates. Writes the reason into out and returns true; false (out "") when
 * nothing stands in the way. */
bool kmg_switchover_blocked(const json_t *cluster, const char *target_pod, char *out, size_t outsz);

/* An annotation's value in obj's metadata (borrowed from obj), or NULL. */
const char *kmg_annotation(const json_t *obj, const char *key);

#endif
