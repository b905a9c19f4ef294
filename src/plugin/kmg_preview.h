/* `kubectl memgraph preview NAME -f changed.yaml`: what applying a changed MemgraphCluster would do, computed
 * with the operator's own pure functions (src/cluster: mgo_cluster_parse with its defaults,
 * mgo_cluster_validate, mgo_build_statefulset) on the live object and the changed one:
 *   - refusals: the CRD's immutable fields (its x-kubernetes-validations with oldSelf, mirrored in
 *     kmg_immutable_fields; a unit test checks the table against the CRD file) and the operator's validation;
 *   - the spec fields the file sets to new values;
 *   - whether the pod template of the StatefulSet changes (so pods restart), and which of its fields;
 *   - the order of the restarts under spec.updateStrategy (docs/api.md): ReplicasFirst deletes the outdated
 *     replicas one at a time, highest ordinal first, then switches over to an updated replica (one in sync in
 *     a synchronous mode first, else the lowest ordinal, as the operator's decision prefers), then the old
 *     MAIN restarts; Supervised waits for the approval annotation before the switchover;
 *   - scaling and a requested switchover.
 * The order is derived from status.currentMain and status.instanceStatuses as they are now; the operator
 * re-decides at each step from what it observes then.
 *
 * Ownership: inputs are borrowed; text is appended to the caller's buffer. Thread-safety: pure. */
#ifndef KMG_PREVIEW_H
#define KMG_PREVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mgo_buf.h"

struct kmg_preview_input {
  const json_t *current;      /* the live MemgraphCluster, with its status */
  const json_t *changed;      /* the changed object (what the user would apply) */
  const char *operator_image; /* the StatefulSet builder's agent image; the same for both sides */
};

struct kmg_immutable {
  const char *field;   /* "spec.storage.size" */
  const char *message; /* the CRD rule's message */
};
/* Terminated by a {NULL, NULL} entry. */
extern const struct kmg_immutable kmg_immutable_fields[];

/* Appends the preview to out. *refused: the API server or the operator would refuse the change. MGO_OK, or
 * MGO_EINVAL with err when an input is not a MemgraphCluster (or the builder refuses it), MGO_ENOMEM. */
int kmg_preview(const struct kmg_preview_input *in, struct mgo_buf *out, bool *refused, char *err,
                size_t errsz);

/* The leaf paths where a and b differ (objects by key, arrays by index, or by [name=x] when both elements
 * are objects with the same "name"), prefixed with prefix. Up to max paths are appended to out, one per
 * line with indent; returns how many differ in total. */
size_t kmg_json_diff(const json_t *a, const json_t *b, const char *prefix, const char *indent, size_t max,
                     struct mgo_buf *out);

#endif
