/* Pure builders: MemgraphCluster -> the Kubernetes objects the operator manages, as JSON ready for
 * server-side apply. No I/O; the same input always gives the same output (golden-file tests).
 *
 * Every builder returns MGO_OK and puts a new json_t the caller owns (json_decref) into *out, or an error
 * code with *out NULL: MGO_ETOOBIG when a derived name does not fit, MGO_EINVAL when an argument is missing
 * or the object is not wanted, MGO_ENOMEM when memory runs out. Objects carry the standard labels and an
 * owner reference to the cluster (so garbage collection removes them with it), and the namespace of the
 * cluster. Thread-safety: pure functions of their arguments. */
#ifndef MGO_CLUSTER_BUILD_H
#define MGO_CLUSTER_BUILD_H

#include "cluster.h"

#include <jansson.h>

/* The pod volume and read-only mount of the ConfigMap <name>-agent (mgo_name_agent_configmap) from which the
 * operator-agent init container reads its instructions (docs/agent.md). */
#define MGO_AGENT_INSTRUCTIONS_VOLUME "agent-instructions"
#define MGO_AGENT_INSTRUCTIONS_DIR "/etc/memgraph-operator/agent"
/* The operator-agent sidecar (docs/agent.md): its HTTP API on the pod IP, and the Secret <name>-agent-token
 * (mgo_name_agent_token_secret) whose key "token" authenticates the operator's requests. */
#define MGO_AGENT_PORT 9787
#define MGO_AGENT_TOKEN_VOLUME "agent-token"
#define MGO_AGENT_TOKEN_DIR "/etc/memgraph-operator/agent-token"
#define MGO_AGENT_TOKEN_KEY "token"
/* The sidecar's projected ServiceAccount token, cluster CA and namespace, at the in-cluster path (only the
 * sidecar mounts it; the pod automounts nothing). */
#define MGO_AGENT_API_VOLUME "agent-api-access"
#define MGO_AGENT_API_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct mgo_build_opts {
  /* Image of the operator itself, run as the pod's "agent" init container that honours fence and
   * re-seed markers before Memgraph starts. */
  const char *operator_image;
  /* StatefulSet replicas; a negative value means spec.instances. The reconciler keeps pods that are
   * still registered, or that hold the MAIN, while scaling down (see struct rec_plan.allowed_pods). */
  int32_t replicas;
  /* spec.bootstrap.restore: the Secret with the credentials the init step downloads the snapshot with
   * (resolved by the caller from the cluster's spec or from the MemgraphBackup); NULL or "" when the cluster
   * is not restored. */
  const char *restore_secret;
};

/* MGO_EINVAL without opts->operator_image. */
int mgo_build_statefulset(const struct mgo_cluster *c, const struct mgo_build_opts *opts, json_t **out);
int mgo_build_headless_service(const struct mgo_cluster *c, json_t **out);
int mgo_build_write_service(const struct mgo_cluster *c, json_t **out);
int mgo_build_read_service(const struct mgo_cluster *c, json_t **out);
/* MGO_EINVAL when spec.podDisruptionBudget.enabled is false (no PDB is wanted: check the flag first). */
int mgo_build_pdb(const struct mgo_cluster *c, json_t **out);
int mgo_build_service_account(const struct mgo_cluster *c, json_t **out);
/* The Role <name>-agent (get on this MemgraphCluster only) and the RoleBinding <name>-agent that grants it to
 * the cluster's ServiceAccount: the agent sidecar reads its cluster to fence an isolated MAIN
 * (docs/fencing.md). */
int mgo_build_agent_role(const struct mgo_cluster *c, json_t **out);
int mgo_build_agent_role_binding(const struct mgo_cluster *c, json_t **out);
/* The Secret <name>-agent-token holding token (the caller generates it: a random hex string). Created once,
 * never updated (the operator may create Secrets, not change them). */
int mgo_build_agent_token_secret(const struct mgo_cluster *c, const char *token, json_t **out);
/* The restore drill's scratch pod <name>-drill for the Completed MemgraphBackup backup (recorded in the
 * annotation MGO_DRILL_BACKUP_ANNOTATION): the StatefulSet's pod template with emptyDir data and logs, the
 * memgraph container only, restartPolicy Never, and labels no Service selects (app.kubernetes.io/name
 * memgraph-drill). opts->restore_secret: the backup's Secret for the init step. MGO_EINVAL without a backup.
 */
#define MGO_DRILL_BACKUP_ANNOTATION "memgraph.io/drill-backup"
int mgo_name_drill_pod(const struct mgo_cluster *c, char *dst, size_t dstsz);
int mgo_build_drill_pod(const struct mgo_cluster *c, const struct mgo_build_opts *opts, const char *backup,
                        json_t **out);
/* The Memgraph command-line flags of the container, in order (operator-owned first, then extraFlags). */
int mgo_build_memgraph_args(const struct mgo_cluster *c, json_t **out);

#endif
