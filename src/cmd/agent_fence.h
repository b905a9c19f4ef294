/* The isolated-MAIN check of `agent serve` (src/agent/agent_isolation.h; docs/fencing.md): a thread that
 * checks every interval whether this pod's Memgraph may still be MAIN, and demotes it when it may not.
 *
 * It needs the environment POD_NAME, POD_NAMESPACE, POD_IP (downward API), the in-cluster ServiceAccount
 * files
 * (/var/run/secrets/kubernetes.io/serviceaccount) and, when the cluster uses them, MEMGRAPH_USER /
 * MEMGRAPH_PASSWORD and the TLS Secret at MGO_TLS_MOUNT. It logs what it decides (never a credential).
 *
 * Ownership: agent_fence_start() returns an object the caller stops and frees with agent_fence_stop();
 * cluster is copied. err receives the reason when it cannot start. */
#ifndef MGO_AGENT_FENCE_H
#define MGO_AGENT_FENCE_H

#include <stddef.h>

struct agent_fence;

int agent_fence_start(struct agent_fence **out, const char *cluster, char *err, size_t errsz);
void agent_fence_stop(struct agent_fence *f); /* NULL is fine */

#endif
