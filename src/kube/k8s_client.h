/* A Kubernetes API client over libcurl: typed verbs (get, list, create, update, server-side apply, merge
 * patch, delete) on paths built by k8s_path(), returning jansson objects.
 *
 * Errors: every call returns MGO_OK or a negative MGO_* code and fills *st (see k8s_status.h). HTTP failures
 * map as in k8s_status_rc(): 404 → MGO_ENOTFOUND, 409 → MGO_ECONFLICT (write conflict, also an SSA field
 * conflict, also AlreadyExists: check st->reason), 410 → MGO_EGONE, 401/403, 400/422 → MGO_EINVALIDOBJ, 5xx →
 * MGO_ESERVER. Transport failures: MGO_ECONNECT (refused, DNS), MGO_ETLS (handshake, verification),
 * MGO_ETIMEDOUT (connect or total deadline), MGO_EIO (connection broke), MGO_ETOOBIG (body over
 * max_response), MGO_EPARSE (a 2xx answer that is not JSON), MGO_ECANCELED (a stream stopped by its owner).
 *
 * Ownership: k8s_client_new() returns a client the caller releases with k8s_client_free() after every thread
 * using it has stopped. Objects passed in (json_t *obj) are borrowed, never modified or stolen. On success,
 * *out (when out is non-NULL) receives a new reference the caller must json_decref(); on failure *out is
 * NULL.
 *
 * Thread-safety: a client is safe to use from any number of threads at once. Each call borrows a curl easy
 * handle from an internal pool (created on demand, at most pool_size kept idle), so keep-alive connections
 * are reused across calls of a thread and between threads. Long-lived watch streams hold one handle each for
 * their duration. The bearer token file is re-read (under a lock) whenever its size or mtime changes.
 * curl_global_init() is run once, on the first k8s_client_new(); a program that uses libcurl elsewhere
 * should call k8s_global_init() from main() before starting threads. */
#ifndef K8S_CLIENT_H
#define K8S_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "k8s_config.h"
#include "k8s_path.h"
#include "k8s_status.h"

#define K8S_DEFAULT_MAX_RESPONSE ((size_t) 64 * 1024 * 1024)

enum k8s_verb {
  K8S_VERB_GET,
  K8S_VERB_LIST,
  K8S_VERB_WATCH,
  K8S_VERB_CREATE,
  K8S_VERB_UPDATE,
  K8S_VERB_PATCH,
  K8S_VERB_APPLY,
  K8S_VERB_DELETE,
  K8S_VERB_COUNT
};

struct k8s_client_opts {
  long connect_timeout_ms; /* default 5000 */
  long request_timeout_ms; /* total deadline of a non-watch call, default 30000 */
  size_t max_response;     /* bytes, default K8S_DEFAULT_MAX_RESPONSE */
  const char *user_agent;  /* default "memgraph-operator" */
  int pool_size;           /* idle curl handles kept, default 8 */
};

struct k8s_client;

/* A fully specified request for k8s_request(); the typed verbs below fill it for you. */
struct k8s_request {
  const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
  enum k8s_verb verb;       /* for the request counters */
  const char *path;         /* escaped path from k8s_path(), or "/version" etc. */
  const char *query;        /* "?a=b&c=d" built with k8s_query_add(), or NULL */
  const char *content_type; /* for a body; default application/json */
  const char *body;         /* borrowed, body_len bytes */
  size_t body_len;
};

struct k8s_list_opts {
  const char *label_selector;   /* "app=mg,role in (main)"; escaped by the client */
  const char *field_selector;   /* "metadata.name=x" */
  const char *resource_version; /* list semantics: NULL = most recent (quorum read) */
  const char *continue_token;   /* from a previous page's metadata.continue */
  long limit;                   /* page size; 0 = server default (no paging) */
};

struct k8s_delete_opts {
  const char *precondition_uid;              /* delete only this incarnation */
  const char *precondition_resource_version; /* delete only this revision */
  const char *propagation_policy;            /* "Foreground", "Background", "Orphan" or NULL */
  bool has_grace_period;                     /* false = the object's default grace period */
  long grace_period_seconds;
};

/* Process-wide libcurl initialisation (idempotent, thread-safe through pthread_once). */
int k8s_global_init(void);

/* cfg is copied; opts may be NULL for defaults. */
int k8s_client_new(const struct k8s_config *cfg, const struct k8s_client_opts *opts, struct k8s_client **out,
                   struct k8s_status *st);
void k8s_client_free(struct k8s_client *c);

/* Number of requests sent so far with this verb (monotonic; for "API requests per minute" metrics). */
unsigned long k8s_client_request_count(struct k8s_client *c, enum k8s_verb verb);
const char *k8s_verb_name(enum k8s_verb verb);
/* The request counters are also kept per resource class: a fixed table of plurals (pods, statefulsets,
 * memgraphclusters, leases, events, ...) with "other" for any path outside it, so a metric label built from
 * it stays bounded. */
#define K8S_REQ_RESOURCE_COUNT 17
/* The class of a request path: /api/v1/namespaces/db/pods/mg-0/status -> the index of "pods"; a namespace
 * itself -> "namespaces"; /version, unknown plurals -> "other". Pure. */
size_t k8s_request_resource_of(const char *path);
/* Static name of class i ("other" for i out of range). */
const char *k8s_request_resource_name(size_t i);
/* Requests sent so far with this verb to this resource class (monotonic). */
unsigned long k8s_client_request_count_by(struct k8s_client *c, enum k8s_verb verb, size_t resource);
/* The server URL the client talks to (borrowed, valid for the client's lifetime). */
const char *k8s_client_server(const struct k8s_client *c);

int k8s_request(struct k8s_client *c, const struct k8s_request *req, json_t **out, struct k8s_status *st);

int k8s_get(struct k8s_client *c, const char *path, json_t **out, struct k8s_status *st);
/* One page. The returned List has metadata.resourceVersion and, when more pages exist, metadata.continue. */
int k8s_list(struct k8s_client *c, const char *path, const struct k8s_list_opts *opts, json_t **out,
             struct k8s_status *st);
/* Every page (following continue tokens; opts->limit is the page size) merged into one List object whose
 * metadata.resourceVersion is the snapshot's (the first page's). MGO_EGONE when a continue token expired:
 * list again from scratch. */
int k8s_list_all(struct k8s_client *c, const char *path, const struct k8s_list_opts *opts, json_t **out,
                 struct k8s_status *st);
int k8s_create(struct k8s_client *c, const char *path, const json_t *obj, json_t **out,
               struct k8s_status *st);
/* PUT: replaces the object (or, on a ".../status" path, its status). Carries obj's metadata.resourceVersion,
 * so a stale write fails with MGO_ECONFLICT. */
int k8s_update(struct k8s_client *c, const char *path, const json_t *obj, json_t **out,
               struct k8s_status *st);
/* Server-side apply (PATCH application/apply-patch+yaml). path names the object (it must include the name;
 * ".../status" applies the status). force takes ownership of conflicting fields; without it a field owned
 * by another manager fails with MGO_ECONFLICT. */
int k8s_apply(struct k8s_client *c, const char *path, const json_t *obj, const char *field_manager,
              bool force, json_t **out, struct k8s_status *st);
/* JSON merge patch (RFC 7386). */
int k8s_merge_patch(struct k8s_client *c, const char *path, const json_t *patch, json_t **out,
                    struct k8s_status *st);
/* opts may be NULL. A failed precondition answers 409 → MGO_ECONFLICT. */
int k8s_delete(struct k8s_client *c, const char *path, const struct k8s_delete_opts *opts, json_t **out,
               struct k8s_status *st);

/* GET of a body that is not JSON (a pod's log): each chunk of a 2xx answer is handed to on_data as it
 * arrives (a non-MGO_OK return stops the call with that code); a non-2xx answer fills st as for the other
 * calls. query is "?a=b" from k8s_query_add() or NULL; timeout_ms bounds the whole call. */
typedef int k8s_data_fn(void *arg, const char *data, size_t len);
int k8s_get_stream(struct k8s_client *c, const char *path, const char *query, long timeout_ms,
                   k8s_data_fn *on_data, void *arg, struct k8s_status *st);

#endif
