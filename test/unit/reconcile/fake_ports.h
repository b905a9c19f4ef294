/* Fakes of the reconcile ports for unit tests: a Kubernetes port over an in-memory object store (the cache
 * and the API server are one store here), with per-operation failure injection and a log of every call; a
 * clock that moves only when told; and a context wired to them with a real (in-memory) metrics registry.
 *
 * Ownership: fake_ports_init() allocates; fake_ports_free() releases everything, including ctx's objects.
 * Not thread-safe (one test thread). */
#ifndef MGO_TEST_FAKE_PORTS_H
#define MGO_TEST_FAKE_PORTS_H

#include <jansson.h>
#include <stdbool.h>

#include "reconcile.h"
#include "trace.h"

enum fake_op {
  FAKE_GET,
  FAKE_APPLY,
  FAKE_CREATE,
  FAKE_MERGE_PATCH,
  FAKE_JSON_PATCH,
  FAKE_DELETE,
  FAKE_EVENT,
  FAKE_OP_COUNT
};

struct fake_failure {
  int rc;            /* MGO_* code returned (0: no failure) */
  long code;         /* HTTP code put in the status */
  const char *cause; /* Status.details.causes[0].reason, or NULL */
  int times;         /* how many calls fail (-1: all) */
};

struct fake_ports {
  json_t *store;  /* "<plural>/<ns>/<name>" -> object */
  json_t *calls;  /* strings: "<op> <plural>/<ns>/<name>[/<sub>]" in call order */
  json_t *events; /* objects {type, reason, action, note} */
  struct fake_failure fail[FAKE_OP_COUNT];
  bool may_act;
  long long next_rv;
  long last_delete_grace; /* grace_period_seconds of the last delete call; -1 = the object's default */
  struct op_kube_port kube;
  struct mgo_fake_clock clock; /* at mono 1000000 ms, wall 2026-01-01T00:00:00Z */
  struct mgo_metrics *reg;
  struct op_metrics metrics;
  struct op_settings settings;
  struct op_cluster *cs;
  struct op_ctx ctx;
};

/* A fake clock (src/common/mgo_clock.h) at mono 1000000 ms, wall 2026-01-01T00:00:00Z. */
void fake_clock_init(struct mgo_fake_clock *c);

/* Everything empty, may_act true, the clock at mono 1000000 ms / wall 2026-01-01T00:00:00Z; ctx wired for the
 * cluster db/mg (ctx.mg NULL: tests that reach Memgraph set it). */
void fake_ports_init(struct fake_ports *f);
void fake_ports_free(struct fake_ports *f);

/* Stores obj (consumed) under its resource, namespace and name, with a fresh resourceVersion. */
void fake_put(struct fake_ports *f, const struct k8s_resource *res, json_t *obj);
/* The stored object (borrowed) or NULL. */
json_t *fake_find(struct fake_ports *f, const struct k8s_resource *res, const char *ns, const char *name);
/* How many logged calls start with prefix ("apply", "merge_patch memgraphclusters/db/mg/status", ...). */
int fake_calls(const struct fake_ports *f, const char *prefix);
/* The reason of Event i, or NULL. */
const char *fake_event_reason(const struct fake_ports *f, size_t i);
/* True when some Event has this reason. */
bool fake_has_event(const struct fake_ports *f, const char *reason);
/* The rendered metrics contain text. */
bool fake_metrics_contain(const struct fake_ports *f, const char *text);

/* The JSON text parsed (a new reference); fails the test when it is not JSON. */
json_t *fake_json(const char *text);

/* A MemgraphCluster db/mg with the given spec JSON (e.g. "{\"instances\":3}") and status JSON (or NULL). */
json_t *fake_cluster_json(const char *spec, const char *status);

/* ---- fake Memgraph helpers shared by the step tests -------------------------------------------------- */

struct mgo_mg_conn; /* each test file defines its own */
/* connect() that always fails (the tests hand out static connections), close() that keeps them, usable()
 * for any non-NULL one. */
int fake_mg_connect_refused(const struct mgo_mg_target *t, struct mgo_mg_conn **conn);
void fake_mg_close(struct mgo_mg_conn *conn);
bool fake_mg_usable(const struct mgo_mg_conn *conn);
/* ctx->obs and ctx->plan (allocated) for pods mg-0 .. mg-(n-1): all exist, ready and reachable; mg-0 the MAIN
 * (plan.main_pod, SHOW REPLICAS answered, listing mg_1 .. mg_(n-1)), the others REPLICAs; ctx->cs->conns[i]
 * is conns[i] with IP 10.0.0.(i+1). */
void fake_observe(struct op_ctx *ctx, size_t n, struct mgo_mg_conn *const *conns);

/* A tracer configuration for span tests: every span sampled, batches of 64 exported only when flushed. */
struct mgo_trace_config fake_trace_config(void);

/* The spans array of the first OTLP/JSON export body in bodies (borrowed), or NULL. */
json_t *fake_exported_spans(const json_t *bodies);

#endif
