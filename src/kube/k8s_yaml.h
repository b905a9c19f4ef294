/* Internal: YAML text → jansson tree (mappings → objects, sequences → arrays, every scalar → string).
 * Good enough for kubeconfig files; anchors/aliases and multi-document streams are refused.
 * Ownership: *out is a new reference owned by the caller. Thread-safety: reentrant. */
#ifndef K8S_YAML_H
#define K8S_YAML_H

#include <jansson.h>
#include <stddef.h>

/* Returns MGO_OK, or MGO_EPARSE with "line L column C: problem" in err. Nesting is capped at 64 levels. */
int k8s__yaml_to_json(const char *text, size_t len, json_t **out, char *err, size_t errsz);

#endif
