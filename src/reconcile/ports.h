/* The narrow ports through which the reconcile steps reach the world: Kubernetes (this file), Memgraph
 * (src/memgraph/mg_port.h) and the clock (struct mgo_clock,
 * src/common/mgo_clock.h). The runtime (src/controller) wires the real
 * implementations; unit tests wire fakes (test/unit/reconcile/fake_ports.h). A step never includes the
 * Kubernetes client, the informers or the event recorder: what it needs of them is here.
 *
 * Kubernetes: reads come from the runtime's informer caches (cached, cached_list) except Secrets, which are
 * not cached (get); writes go to the API server. Objects are identified by resource, namespace and name;
 * the port builds and escapes the paths. Every call returns MGO_OK or the negative MGO_* code of the
 * Kubernetes client (k8s_client.h: MGO_ENOTFOUND for 404, MGO_ECONFLICT for 409, ...) and fills *st, which
 * the caller owns (cleared by the port first).
 *
 * Ownership: cached(), cached_list() and get()'s *out return new references the caller json_decref()s;
 * *out of merge_patch() too (may be NULL when out is NULL). Objects passed in are borrowed, never modified.
 * Thread-safety: every function may be called from any worker thread at once. */
#ifndef MGO_RECONCILE_PORTS_H
#define MGO_RECONCILE_PORTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "k8s_client.h"
#include "k8s_path.h"
#include "k8s_status.h"
#include "mgo_clock.h"

/* The caches the runtime keeps (one informer each). */
enum op_cache {
  OP_CACHE_CLUSTERS,
  OP_CACHE_STS,
  OP_CACHE_PODS,
  OP_CACHE_SVCS,
  OP_CACHE_PDBS,
  OP_CACHE_SAS,
  OP_CACHE_BACKUPS, /* MemgraphBackups (not filtered by label: users create them) */
  OP_CACHE_COUNT
};

/* The cache's resource (memgraphclusters, statefulsets, ...). */
const struct k8s_resource *op_cache_resource(enum op_cache which);

/* memgraph.io/v1alpha1 memgraphclusters, memgraphbackups */
extern const struct k8s_resource op_res_clusters, op_res_backups;

struct op_kube_port {
  void *arg;
  /* The cached object, or NULL when the cache has none. */
  json_t *(*cached)(void *arg, enum op_cache which, const char *ns, const char *name);
  /* Every cached object of the namespace, as an array; NULL only when memory runs out. */
  json_t *(*cached_list)(void *arg, enum op_cache which, const char *ns);
  /* GET from the API server (objects that are not cached: Secrets). */
  int (*get)(void *arg, const struct k8s_resource *res, const char *ns, const char *name, json_t **out,
             struct k8s_status *st);
  /* Server-side apply of obj (field manager "memgraph-operator", force). */
  int (*apply)(void *arg, const struct k8s_resource *res, const char *ns, const char *name, const json_t *obj,
               struct k8s_status *st);
  /* POST of a new object (obj's metadata.name names it). MGO_ECONFLICT with st->reason "AlreadyExists" when
   * an object of that name exists. */
  int (*create)(void *arg, const struct k8s_resource *res, const char *ns, const json_t *obj,
                struct k8s_status *st);
  /* JSON merge patch of the object or of its subresource (NULL or "status"); *out (out may be NULL) is the
   * object as the server returned it. */
  int (*merge_patch)(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                     const char *subresource, const json_t *patch, json_t **out, struct k8s_status *st);
  /* JSON patch (RFC 6902) of the object: ops is an array of operations. */
  int (*json_patch)(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                    const json_t *ops, struct k8s_status *st);
  /* DELETE with options (opts may be NULL). */
  int (*delete_object)(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                       const struct k8s_delete_opts *opts, struct k8s_status *st);
  /* Records an Event about regarding (a MemgraphCluster). */
  int (*event)(void *arg, const json_t *regarding, const char *type, const char *reason, const char *action,
               const char *note, struct k8s_status *st);
  /* True while this process may act: leading (or leader election off) and not stopping. */
  bool (*may_act)(void *arg);
};

/* The pods' operator-agent sidecar (docs/agent.md): its HTTP API at http://<pod ip>:MGO_AGENT_PORT,
 * authenticated by the cluster's token. err receives the agent's message or the transport failure (never the
 * request, which carries credentials). */
struct op_agent_port {
  void *arg;
  /* POST /v1/uploads with request (borrowed); id receives the job's id. MGO_ECONFLICT while the agent runs
   * another upload (id then receives that upload's id, when the agent said it), MGO_ENOTFOUND when the file
   * is not there, MGO_EAUTH for a refused token. */
  int (*upload)(void *arg, const char *ip, const char *token, const json_t *request, char *id, size_t idsz,
                char *err, size_t errsz);
  /* GET /v1/uploads/{id} into *out (new reference). MGO_ENOTFOUND when the agent does not know the job (it
   * restarted). */
  int (*job)(void *arg, const char *ip, const char *token, const char *id, json_t **out, char *err,
             size_t errsz);
  /* DELETE /v1/uploads/{id}: cancels a running upload (one a failed attempt left behind). May be NULL. */
  int (*cancel)(void *arg, const char *ip, const char *token, const char *id, char *err, size_t errsz);
};

/* S3 for what the operator does itself (retention deletes; the size and SHA-256 of a restore source). The
 * semantics are those of s3.h. */
struct s3_config;
struct s3_error;
struct op_s3_port {
  void *arg;
  int (*delete_object)(void *arg, const struct s3_config *cfg, const char *key, struct s3_error *err);
  int (*head)(void *arg, const struct s3_config *cfg, const char *key, uint64_t *size, char sha256[65],
              struct s3_error *err);
};

/* One key of a Secret's data (as the API server returns it: base64), decoded into dst. MGO_ENOTFOUND when the
 * key is absent, MGO_ETOOBIG when the value does not fit, MGO_EPARSE for bad base64. */
int op_secret_value(const json_t *secret, const char *key, char *dst, size_t dstsz);

#endif
