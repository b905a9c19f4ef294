/* Re-seed of one Memgraph pod: the controlled way to wipe a diverged replica (memgraph.md section 7.3)
 * without exec into the pod. The operator writes a request into the ConfigMap <cluster>-agent and deletes the
 * pod; the new pod's operator-agent init container wipes the data directory once for that request before
 * Memgraph starts (src/agent/agent_fs.h, docs/agent.md). Memgraph then starts empty, as a MAIN with no
 * replicas, and the reconciler demotes and registers it like a new pod.
 *
 * The caller decides that the pod must be re-seeded and logs what happened: this file never logs. It does not
 * touch Memgraph; demote and register come from the normal reconcile afterwards.
 *
 * Kubernetes is reached through the port (ports.h) only.
 *
 * Ownership: every argument is borrowed; nothing is returned that the caller must free. *st is the caller's
 * (filled by the last Kubernetes call that failed, or the last one made).
 * Thread-safety: safe to call from any worker (the port is thread-safe); calls for one cluster are
 * serialised by the work queue, which the ConfigMap update below does not rely on. */
#ifndef MGO_RECONCILE_RESEED_H
#define MGO_RECONCILE_RESEED_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "ports.h"

/* Requests a re-seed of pod (a pod of cluster c, "<name>-<ordinal>") whose current incarnation has UID
 * pod_uid:
 *  1. the ConfigMap <name>-agent in c's namespace gets data[pod] = "reseed=<pod_uid>\n" (other pods' keys are
 *     kept; the ConfigMap is created by server-side apply, field manager "memgraph-operator", with the
 *     cluster's labels and owner reference, when missing);
 *  2. the pod is deleted with a UID precondition, so only that incarnation can be deleted; the StatefulSet
 *     controller creates the next one, which carries out the request.
 * When the delete finds the pod gone (404) or already replaced (409 on the precondition), nothing is deleted:
 * *deleted is false and the result is MGO_OK: observe again and decide about the new incarnation.
 * Whenever the delete did not succeed, the request written in step 1 is withdrawn again (only while the key
 * still holds exactly it), so a request never outlives the decision it came from: no incarnation wipes its
 * data later (after a node restart re-runs its init containers, say) for a request whose pod was not deleted.
 *
 * Returns MGO_OK (see *deleted); MGO_EINVAL when pod is not a pod name of c or pod_uid is not a valid token
 * ([A-Za-z0-9-]{1,64}, which every Kubernetes UID is), and nothing is written then; or the MGO_* code of the
 * Kubernetes call that failed, with *st (the ConfigMap update, the delete, or the withdrawal after a 404/409;
 * a failed withdrawal leaves the request in place, so an incarnation that starts later with it wipes its data
 * once, which is what was decided). */
int op_reseed_request(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *pod,
                      const char *pod_uid, bool *deleted, struct k8s_status *st);

/* Sets the agent instructions of pod (the whole value of its key in <name>-agent, e.g. the restore request's
 * lines) as step 1 above does; MGO_EINVAL when pod is neither a pod of c nor its drill pod. */
int op_agent_instructions(const struct op_kube_port *kube, const struct mgo_cluster *c, const char *pod,
                          const char *text, struct k8s_status *st);

/* Rate limit of re-seeds of one pod (a pod that diverges again right after a re-seed has a client writing to
 * it, or a bug: wiping it again at once helps nobody). After the n-th re-seed in a row (n >= 1) the next one
 * waits OP_RESEED_FIRST_GAP_MS << (n - 1), at most OP_RESEED_MAX_GAP_MS; a re-seed more than
 * OP_RESEED_WINDOW_MS after the previous one starts the count again. Pure. */
#define OP_RESEED_FIRST_GAP_MS 30000
#define OP_RESEED_MAX_GAP_MS 600000
#define OP_RESEED_WINDOW_MS 1800000
int64_t op_reseed_gap_ms(int32_t reseeds);
/* True while a re-seed of a pod re-seeded `reseeds` times, the last since_ms ago, must wait. */
bool op_reseed_held(int32_t reseeds, int64_t since_ms);
/* True while a re-seed at at_ms (monotonic ms; <= 0 = none) still counts for the rate limit at now_ms: less
 * than OP_RESEED_WINDOW_MS before it. Pure. */
bool op_reseed_in_window(int64_t at_ms, int64_t now_ms);

#endif
