/* Managed objects by server-side apply, with a light touch: the desired object's hash is stored as an
 * annotation, and nothing is sent while the cached object carries the hash of what we would send.
 * (A manual edit of a field we own is therefore not reverted until the spec changes; the trade-off keeps
 * steady state at zero API writes without field-by-field comparison of defaulted objects.) */
#include "reconcile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cluster_build.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

uint64_t op_fnv1a64(const char *text)
{
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *) text; *p != '\0'; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  return h;
}

int op_object_hash(const json_t *obj, char out[17])
{
  json_t *copy = json_deep_copy(obj);
  json_t *ann = json_object_get(json_object_get(copy, "metadata"), "annotations");
  char *text;
  uint64_t h;

  if (copy == NULL)
    return MGO_ENOMEM;
  json_object_del(ann, OP_HASH_ANNOTATION);
  if (json_is_object(ann) && json_object_size(ann) == 0)
    json_object_del(json_object_get(copy, "metadata"), "annotations"); /* stamping added it */
  text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(copy);
  if (text == NULL)
    return MGO_ENOMEM;
  h = op_fnv1a64(text);
  free(text);
  return mgo_snprintf(out, 17, "%016llx", (unsigned long long) h);
}

int op_stamp_hash(json_t *desired, char out[17])
{
  json_t *meta = json_object_get(desired, "metadata");
  json_t *ann = json_object_get(meta, "annotations");
  int rc = op_object_hash(desired, out);

  if (rc != MGO_OK)
    return rc;
  if (!json_is_object(meta))
    return MGO_EINVAL;
  if (ann == NULL) {
    ann = json_object();
    if (ann == NULL || json_object_set_new(meta, "annotations", ann) != 0)
      return MGO_ENOMEM;
  }
  return json_object_set_new(ann, OP_HASH_ANNOTATION, json_string(out)) == 0 ? MGO_OK : MGO_ENOMEM;
}

bool op_hash_matches(const json_t *observed, const char *hash)
{
  const json_t *meta = json_object_get(observed, "metadata");
  const char *have =
      json_string_value(json_object_get(json_object_get(meta, "annotations"), OP_HASH_ANNOTATION));
  return have != NULL && strcmp(have, hash) == 0;
}

struct managed {
  const char *kind;
  const struct k8s_resource *res;
  enum op_cache cache;
};

/* Applies desired (consumed; built with result built_rc) unless the cached object already carries its hash.
 * *st describes a failure. */
static int apply_if_changed(struct op_ctx *ctx, const struct managed *m, int built_rc, json_t *desired,
                            struct k8s_status *st)
{
  char hash[17];
  const char *name = json_string_value(json_object_get(json_object_get(desired, "metadata"), "name"));
  json_t *cached = NULL;
  int rc = built_rc != MGO_OK ? built_rc : name == NULL ? MGO_EINVAL : op_stamp_hash(desired, hash);

  k8s_status_clear(st);
  if (rc == MGO_OK)
    cached = ctx->kube->cached(ctx->kube->arg, m->cache, ctx->ns, name);
  if (rc == MGO_OK && !op_hash_matches(cached, hash)) {
    rc = ctx->kube->apply(ctx->kube->arg, m->res, ctx->ns, name, desired, st);
    if (rc == MGO_OK)
      mgo_log(MGO_LOG_INFO, "applied", "cluster", ctx->key, "kind", m->kind, "name", name, "hash", hash,
              cached == NULL ? "created" : "changed", "true", (char *) NULL);
    else
      op_ctx_note(ctx, "apply %s %s: %s (%ld %s)", m->kind, name, mgo_errname(rc), st->code, st->message);
  } else if (rc != MGO_OK) {
    op_ctx_note(ctx, "building %s: %s", m->kind, mgo_errname(rc));
  }
  json_decref(cached);
  json_decref(desired);
  return rc;
}

static const struct managed SA = {"ServiceAccount", &K8S_RES_SERVICEACCOUNTS, OP_CACHE_SAS};
static const struct managed SVC = {"Service", &K8S_RES_SERVICES, OP_CACHE_SVCS};
static const struct managed PDB = {"PodDisruptionBudget", &K8S_RES_PDBS, OP_CACHE_PDBS};
static const struct managed STS = {"StatefulSet", &K8S_RES_STATEFULSETS, OP_CACHE_STS};
/* Not cached (an informer per kind costs memory for every cluster): see apply_once. */
static const struct managed ROLE = {"Role", &K8S_RES_ROLES, OP_CACHE_COUNT};
static const struct managed ROLE_BINDING = {"RoleBinding", &K8S_RES_ROLEBINDINGS, OP_CACHE_COUNT};

/* The API server refuses new objects in a namespace being deleted (403 with the cause NamespaceTerminating);
 * the MemgraphCluster goes with it, so there is nothing to repair and nothing to warn about. */
static bool namespace_terminating(int rc, const struct k8s_status *st)
{
  return rc == MGO_EFORBIDDEN && strcmp(st->cause, "NamespaceTerminating") == 0;
}

static struct op_result after_apply(struct op_ctx *ctx, int rc, const struct k8s_status *st)
{
  if (rc == MGO_OK)
    return op_ok();
  if (namespace_terminating(rc, st)) {
    mgo_log(MGO_LOG_INFO, "namespace is being deleted: not re-creating objects", "cluster", ctx->key,
            (char *) NULL);
    ctx->error[0] = '\0'; /* not a failure */
    return op_stop();
  }
  mgo_log(MGO_LOG_WARN, "apply failed", "cluster", ctx->key, "error", ctx->error, (char *) NULL);
  if (rc == MGO_ECONFLICT) { /* a conflict is not an error: read again, retry */
    ctx->error[0] = '\0';
    return op_requeue_after(1000);
  }
  op_event(ctx, "Warning", "ApplyFailed", "Apply", ctx->error);
  return op_error(rc);
}

/* A PDB that is no longer wanted is deleted (it is ours: same name, our labels). */
static int delete_unwanted_pdb(struct op_ctx *ctx, struct k8s_status *st)
{
  char name[MGO_NAME_MAX];
  json_t *cached;
  int rc = mgo_name_pdb(&ctx->c, name, sizeof(name));

  k8s_status_clear(st);
  if (rc != MGO_OK)
    return rc;
  cached = ctx->kube->cached(ctx->kube->arg, OP_CACHE_PDBS, ctx->ns, name);
  if (cached == NULL)
    return MGO_OK;
  json_decref(cached);
  rc = ctx->kube->delete_object(ctx->kube->arg, &K8S_RES_PDBS, ctx->ns, name, NULL, st);
  if (rc != MGO_OK && rc != MGO_ENOTFOUND)
    op_ctx_note(ctx, "delete PodDisruptionBudget %s: %s (%ld %s)", name, mgo_errname(rc), st->code,
                st->message);
  return rc == MGO_ENOTFOUND ? MGO_OK : rc;
}

/* Builds the object with one of the builders of cluster_build.h and applies it when it changed. */
typedef int build_fn(const struct mgo_cluster *c, json_t **out);

static int ensure(struct op_ctx *ctx, const struct managed *m, build_fn *build, struct k8s_status *st)
{
  json_t *desired = NULL;
  int rc = build(&ctx->c, &desired);
  return apply_if_changed(ctx, m, rc, desired, st);
}

/* True when the object, read from the API server, carries hash; *st describes a failed read (a missing object
 * is no failure). */
static int has_hash(struct op_ctx *ctx, const struct managed *m, const char *name, const char *hash,
                    bool *matches, struct k8s_status *st)
{
  json_t *observed = NULL;
  int rc = ctx->kube->get(ctx->kube->arg, m->res, ctx->ns, name, &observed, st);
  *matches = rc == MGO_OK && op_hash_matches(observed, hash);
  json_decref(observed);
  if (rc == MGO_ENOTFOUND) {
    k8s_status_clear(st);
    return MGO_OK;
  }
  if (rc != MGO_OK)
    op_ctx_note(ctx, "reading %s %s: %s (%ld %s)", m->kind, name, mgo_errname(rc), st->code, st->message);
  return rc;
}

/* Applies desired (borrowed) unless check_first and the API server's object already carries hash. */
static int apply_unless_current(struct op_ctx *ctx, const struct managed *m, const json_t *desired,
                                const char *hash, bool check_first, struct k8s_status *st)
{
  const char *name = json_string_value(json_object_get(json_object_get(desired, "metadata"), "name"));
  bool matches = false;
  int rc = check_first ? has_hash(ctx, m, name, hash, &matches, st) : MGO_OK;

  if (rc != MGO_OK || matches)
    return rc;
  rc = ctx->kube->apply(ctx->kube->arg, m->res, ctx->ns, name, desired, st);
  if (rc == MGO_OK)
    mgo_log(MGO_LOG_INFO, "applied", "cluster", ctx->key, "kind", m->kind, "name", name, "hash", hash,
            (char *) NULL);
  else
    op_ctx_note(ctx, "apply %s %s: %s (%ld %s)", m->kind, name, mgo_errname(rc), st->code, st->message);
  return rc;
}

/* An object without a cache: applied at most once per operator run and desired hash (applied[] remembers
 * it). The first pass of a run reads the object and sends nothing when it already carries the hash, so a
 * restart rewrites nothing. (A deletion by hand is repaired by the next operator start or spec change.) */
static int apply_once(struct op_ctx *ctx, const struct managed *m, build_fn *build, char applied[17],
                      struct k8s_status *st)
{
  char hash[17];
  json_t *desired = NULL;
  int rc = build(&ctx->c, &desired);

  k8s_status_clear(st);
  if (rc == MGO_OK)
    rc = op_stamp_hash(desired, hash);
  if (rc != MGO_OK)
    op_ctx_note(ctx, "building %s: %s", m->kind, mgo_errname(rc));
  else if (strcmp(applied, hash) != 0)
    rc = apply_unless_current(ctx, m, desired, hash, applied[0] == '\0', st);
  if (rc == MGO_OK)
    (void) mgo_strlcpy(applied, hash, 17);
  json_decref(desired);
  return rc;
}

/* A fresh token: 32 random bytes as hex. */
static int new_token(char *dst, size_t dstsz)
{
  unsigned char raw[32];
  if (dstsz < 2 * sizeof(raw) + 1 || RAND_bytes(raw, (int) sizeof(raw)) != 1)
    return MGO_ESYS;
  for (size_t i = 0; i < sizeof(raw); i++)
    (void) mgo_snprintf(dst + 2 * i, 3, "%02x", raw[i]);
  OPENSSL_cleanse(raw, sizeof(raw));
  return MGO_OK;
}

/* The agent token Secret: read once per operator run (Secrets are not cached), created when missing. It is
 * never updated: the pods mount it, and the operator may create Secrets but not change them. */
static int ensure_agent_token(struct op_ctx *ctx, struct k8s_status *st)
{
  char name[MGO_NAME_MAX + 16], token[72];
  json_t *secret = NULL, *desired = NULL;
  int rc = mgo_name_agent_token_secret(&ctx->c, name, sizeof(name));

  k8s_status_clear(st);
  if (rc != MGO_OK || ctx->cs->agent_token[0] != '\0')
    return rc;
  rc = ctx->kube->get(ctx->kube->arg, &K8S_RES_SECRETS, ctx->ns, name, &secret, st);
  if (rc == MGO_OK)
    rc = op_secret_value(secret, MGO_AGENT_TOKEN_KEY, ctx->cs->agent_token, sizeof(ctx->cs->agent_token));
  json_decref(secret);
  if (rc == MGO_OK)
    return rc;
  if (rc != MGO_ENOTFOUND || st->code != 404) { /* unreadable, or without the key: never replaced */
    op_ctx_note(ctx, "reading Secret %s: %s", name, mgo_errname(rc));
    return rc;
  }
  rc = new_token(token, sizeof(token));
  if (rc == MGO_OK)
    rc = mgo_build_agent_token_secret(&ctx->c, token, &desired);
  if (rc == MGO_OK)
    rc = ctx->kube->create(ctx->kube->arg, &K8S_RES_SECRETS, ctx->ns, desired, st);
  json_decref(desired);
  if (rc == MGO_OK) {
    (void) mgo_strlcpy(ctx->cs->agent_token, token, sizeof(ctx->cs->agent_token));
    mgo_log(MGO_LOG_INFO, "created the agent token Secret", "cluster", ctx->key, "name", name, (char *) NULL);
  } else if (rc != MGO_ECONFLICT) { /* AlreadyExists: created meanwhile; read on the next pass */
    op_ctx_note(ctx, "creating Secret %s: %s (%ld %s)", name, mgo_errname(rc), st->code, st->message);
  }
  OPENSSL_cleanse(token, sizeof(token));
  return rc;
}

/* The agent's Role and RoleBinding. An operator whose own RBAC may not manage them (a ClusterRole from before
 * they existed) goes on with the rest: the pods then run without the isolated-MAIN check (the agent logs
 * NeverConfirmed), which a Warning Event says once per run, rather than stop reconciling the cluster. */
#define RBAC_REFUSED "refused" /* in agent_role_hash: not tried again until the operator restarts */

static int ensure_agent_rbac(struct op_ctx *ctx, struct k8s_status *st)
{
  char msg[512];
  int rc;
  if (strcmp(ctx->cs->agent_role_hash, RBAC_REFUSED) == 0)
    return MGO_OK;
  rc = apply_once(ctx, &ROLE, mgo_build_agent_role, ctx->cs->agent_role_hash, st);
  if (rc == MGO_OK)
    rc = apply_once(ctx, &ROLE_BINDING, mgo_build_agent_role_binding, ctx->cs->agent_binding_hash, st);
  if (rc != MGO_EFORBIDDEN || namespace_terminating(rc, st))
    return rc;
  (void) mgo_snprintf(msg, sizeof(msg),
                      "the operator may not manage Role/RoleBinding %s-agent (%s): pods run without the "
                      "isolated-MAIN check; grant the operator roles and rolebindings (config/rbac)",
                      ctx->c.name, st->message);
  op_event(ctx, "Warning", "AgentRBACRefused", "Apply", msg);
  (void) mgo_strlcpy(ctx->cs->agent_role_hash, RBAC_REFUSED, sizeof(ctx->cs->agent_role_hash));
  ctx->error[0] = '\0';
  k8s_status_clear(st);
  return MGO_OK;
}

struct op_result op_step_objects(struct op_ctx *ctx)
{
  struct k8s_status st;
  int rc = ensure(ctx, &SA, mgo_build_service_account, &st);
  if (rc == MGO_OK)
    rc = ensure_agent_token(ctx, &st);
  if (rc == MGO_OK)
    rc = ensure_agent_rbac(ctx, &st);
  if (rc == MGO_OK)
    rc = ensure(ctx, &SVC, mgo_build_headless_service, &st);
  if (rc == MGO_OK)
    rc = ensure(ctx, &SVC, mgo_build_write_service, &st);
  if (rc == MGO_OK)
    rc = ensure(ctx, &SVC, mgo_build_read_service, &st);
  if (rc == MGO_OK && ctx->c.spec.pdb_enabled)
    rc = ensure(ctx, &PDB, mgo_build_pdb, &st);
  else if (rc == MGO_OK)
    rc = delete_unwanted_pdb(ctx, &st);
  return after_apply(ctx, rc, &st);
}

struct op_result op_step_statefulset(struct op_ctx *ctx)
{
  char restore_secret[MGO_DNS_NAME_MAX];
  struct op_result wait = op_ok();
  struct mgo_build_opts opts = {.operator_image = ctx->settings->operator_image,
                                .replicas = ctx->plan->allowed_pods,
                                .restore_secret = restore_secret};
  struct k8s_status st;
  json_t *desired = NULL;
  int rc;

  if (op_restore_prepare(ctx, restore_secret, sizeof(restore_secret), &wait) != MGO_OK)
    return wait; /* no StatefulSet before the restore source is usable: pod 0 must not start empty */
  rc = mgo_build_statefulset(&ctx->c, &opts, &desired);
  rc = apply_if_changed(ctx, &STS, rc, desired, &st);
  return after_apply(ctx, rc, &st);
}
