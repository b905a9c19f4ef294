/* The fake ports of fake_ports.h. */
#include "fake_ports.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"

static void store_key(char *dst, size_t dstsz, const struct k8s_resource *res, const char *ns,
                      const char *name)
{
  (void) mgo_snprintf(dst, dstsz, "%s/%s/%s", res->plural, ns != NULL ? ns : "", name);
}

static void log_call(struct fake_ports *f, const char *op, const struct k8s_resource *res, const char *ns,
                     const char *name, const char *sub)
{
  char line[512];
  (void) mgo_snprintf(line, sizeof(line), "%s %s/%s/%s%s%s", op, res->plural, ns, name, sub ? "/" : "",
                      sub ? sub : "");
  json_array_append_new(f->calls, json_string(line));
}

/* The injected failure of op, if one is due (consumes one of its `times`). */
static int injected(struct fake_ports *f, enum fake_op op, struct k8s_status *st)
{
  struct fake_failure *x = &f->fail[op];
  k8s_status_clear(st);
  if (x->rc == MGO_OK || x->times == 0)
    return MGO_OK;
  if (x->times > 0)
    x->times--;
  st->code = x->code;
  (void) mgo_strlcpy(st->message, "injected failure", sizeof(st->message));
  (void) mgo_strlcpy(st->cause, x->cause != NULL ? x->cause : "", sizeof(st->cause));
  return x->rc;
}

json_t *fake_find(struct fake_ports *f, const struct k8s_resource *res, const char *ns, const char *name)
{
  char key[512];
  store_key(key, sizeof(key), res, ns, name);
  return json_object_get(f->store, key);
}

static void stamp_rv(struct fake_ports *f, json_t *obj)
{
  char rv[32];
  json_t *meta = json_object_get(obj, "metadata");
  (void) mgo_snprintf(rv, sizeof(rv), "%lld", f->next_rv++);
  if (json_is_object(meta))
    json_object_set_new(meta, "resourceVersion", json_string(rv));
}

void fake_put(struct fake_ports *f, const struct k8s_resource *res, json_t *obj)
{
  const json_t *meta = json_object_get(obj, "metadata");
  char key[512];
  store_key(key, sizeof(key), res, json_string_value(json_object_get(meta, "namespace")),
            json_string_value(json_object_get(meta, "name")));
  stamp_rv(f, obj);
  json_object_set_new(f->store, key, obj);
}

/* The stored object, or NULL with a 404-like local status. */
static json_t *find_or_404(struct fake_ports *f, const struct k8s_resource *res, const char *ns,
                           const char *name, struct k8s_status *st, int *rc)
{
  json_t *o = fake_find(f, res, ns, name);
  if (o == NULL) { /* as the API server answers */
    *rc = k8s_status_local(st, MGO_ENOTFOUND, "%s %s not found", res->plural, name);
    st->code = 404;
    (void) mgo_strlcpy(st->reason, "NotFound", sizeof(st->reason));
  }
  return o;
}

static json_t *fk_cached(void *arg, enum op_cache which, const char *ns, const char *name)
{
  json_t *o = fake_find(arg, op_cache_resource(which), ns, name);
  return o != NULL ? json_deep_copy(o) : NULL;
}

static json_t *fk_cached_list(void *arg, enum op_cache which, const char *ns)
{
  struct fake_ports *f = arg;
  json_t *list = json_array();
  const char *key;
  json_t *o;
  char prefix[256];
  (void) mgo_snprintf(prefix, sizeof(prefix), "%s/%s/", op_cache_resource(which)->plural, ns);
  json_object_foreach(f->store, key, o)
  {
    if (strncmp(key, prefix, strlen(prefix)) == 0)
      json_array_append_new(list, json_deep_copy(o));
  }
  return list;
}

static int fk_get(void *arg, const struct k8s_resource *res, const char *ns, const char *name, json_t **out,
                  struct k8s_status *st)
{
  struct fake_ports *f = arg;
  json_t *o;
  int rc = injected(f, FAKE_GET, st);
  log_call(f, "get", res, ns, name, NULL);
  *out = NULL;
  o = rc == MGO_OK ? find_or_404(f, res, ns, name, st, &rc) : NULL;
  if (o != NULL)
    *out = json_deep_copy(o);
  return rc;
}

static int fk_apply(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                    const json_t *obj, struct k8s_status *st)
{
  struct fake_ports *f = arg;
  int rc = injected(f, FAKE_APPLY, st);
  log_call(f, "apply", res, ns, name, NULL);
  if (rc == MGO_OK)
    fake_put(f, res, json_deep_copy(obj));
  return rc;
}

static int fk_create(void *arg, const struct k8s_resource *res, const char *ns, const json_t *obj,
                     struct k8s_status *st)
{
  struct fake_ports *f = arg;
  const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
  char key[512];
  int rc = injected(f, FAKE_CREATE, st);
  log_call(f, "create", res, ns, name, NULL);
  if (rc != MGO_OK)
    return rc;
  store_key(key, sizeof(key), res, ns, name);
  if (json_object_get(f->store, key) != NULL) {
    rc = k8s_status_local(st, MGO_ECONFLICT, "already exists");
    (void) mgo_strlcpy(st->reason, "AlreadyExists", sizeof(st->reason));
    return rc;
  }
  fake_put(f, res, json_deep_copy(obj));
  return MGO_OK;
}

/* RFC 7386 merge of patch into target. */
static void merge_into(json_t *target, const json_t *patch)
{
  const char *key;
  json_t *value;
  json_object_foreach((json_t *) patch, key, value)
  {
    json_t *cur = json_object_get(target, key);
    if (json_is_null(value))
      json_object_del(target, key);
    else if (json_is_object(value) && json_is_object(cur))
      merge_into(cur, value);
    else if (json_is_object(value)) {
      json_t *fresh = json_object();
      merge_into(fresh, value);
      json_object_set_new(target, key, fresh);
    } else
      json_object_set(target, key, value);
  }
}

static int fk_merge_patch(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                          const char *sub, const json_t *patch, json_t **out, struct k8s_status *st)
{
  struct fake_ports *f = arg;
  json_t *o;
  int rc = injected(f, FAKE_MERGE_PATCH, st);
  log_call(f, "merge_patch", res, ns, name, sub);
  if (out != NULL)
    *out = NULL;
  o = rc == MGO_OK ? find_or_404(f, res, ns, name, st, &rc) : NULL;
  if (o == NULL)
    return rc;
  merge_into(o, patch);
  stamp_rv(f, o);
  if (out != NULL)
    *out = json_deep_copy(o);
  return MGO_OK;
}

static int fk_json_patch(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                         const json_t *ops, struct k8s_status *st)
{
  struct fake_ports *f = arg;
  int rc = injected(f, FAKE_JSON_PATCH, st);
  (void) ops;
  log_call(f, "json_patch", res, ns, name, NULL);
  return rc;
}

static int fk_delete(void *arg, const struct k8s_resource *res, const char *ns, const char *name,
                     const struct k8s_delete_opts *opts, struct k8s_status *st)
{
  struct fake_ports *f = arg;
  char key[512];
  json_t *o;
  int rc = injected(f, FAKE_DELETE, st);
  log_call(f, "delete", res, ns, name, NULL);
  f->last_delete_grace = opts != NULL && opts->has_grace_period ? opts->grace_period_seconds : -1;
  o = rc == MGO_OK ? find_or_404(f, res, ns, name, st, &rc) : NULL;
  if (o == NULL)
    return rc;
  if (opts != NULL && opts->precondition_uid != NULL &&
      strcmp(opts->precondition_uid,
             json_string_value(json_object_get(json_object_get(o, "metadata"), "uid"))) != 0)
    return k8s_status_local(st, MGO_ECONFLICT, "uid precondition failed");
  store_key(key, sizeof(key), res, ns, name);
  json_object_del(f->store, key);
  return MGO_OK;
}

static int fk_event(void *arg, const json_t *regarding, const char *type, const char *reason,
                    const char *action, const char *note, struct k8s_status *st)
{
  struct fake_ports *f = arg;
  int rc = injected(f, FAKE_EVENT, st);
  (void) regarding;
  if (rc == MGO_OK)
    json_array_append_new(f->events, json_pack("{s:s, s:s, s:s, s:s}", "type", type, "reason", reason,
                                               "action", action, "note", note != NULL ? note : ""));
  return rc;
}

static bool fk_may_act(void *arg)
{
  return ((struct fake_ports *) arg)->may_act;
}

void fake_clock_init(struct mgo_fake_clock *c)
{
  mgo_fake_clock_init(c, 1000000, 1767225600000LL);
}

void fake_ports_init(struct fake_ports *f)
{
  memset(f, 0, sizeof(*f));
  f->store = json_object();
  f->calls = json_array();
  f->events = json_array();
  f->may_act = true;
  f->next_rv = 100;
  f->kube = (struct op_kube_port){.arg = f,
                                  .cached = fk_cached,
                                  .cached_list = fk_cached_list,
                                  .get = fk_get,
                                  .apply = fk_apply,
                                  .create = fk_create,
                                  .merge_patch = fk_merge_patch,
                                  .json_patch = fk_json_patch,
                                  .delete_object = fk_delete,
                                  .event = fk_event,
                                  .may_act = fk_may_act};
  fake_clock_init(&f->clock);
  f->reg = mgo_metrics_new();
  assert_non_null(f->reg);
  assert_int_equal(op_metrics_init(&f->metrics, f->reg), MGO_OK);
  f->settings = (struct op_settings){.bolt_timeout_ms = 5000, .operator_image = "operator:test"};
  f->cs = calloc(1, sizeof(*f->cs));
  assert_non_null(f->cs);
  (void) mgo_strlcpy(f->cs->key, "db/mg", sizeof(f->cs->key));
  f->ctx = (struct op_ctx){.kube = &f->kube,
                           .clock = mgo_fake_clock_get(&f->clock),
                           .metrics = &f->metrics,
                           .settings = &f->settings,
                           .cs = f->cs};
  (void) mgo_strlcpy(f->ctx.ns, "db", sizeof(f->ctx.ns));
  (void) mgo_strlcpy(f->ctx.name, "mg", sizeof(f->ctx.name));
  (void) mgo_strlcpy(f->ctx.key, "db/mg", sizeof(f->ctx.key));
}

void fake_ports_free(struct fake_ports *f)
{
  op_ctx_release(&f->ctx);
  if (f->ctx.mg != NULL)
    op_cluster_close(f->cs, f->ctx.mg);
  json_decref(f->cs->last_written);
  json_decref(f->cs->snapshot);
  free(f->cs);
  json_decref(f->store);
  json_decref(f->calls);
  json_decref(f->events);
  mgo_metrics_free(f->reg);
  mgo_fake_clock_destroy(&f->clock);
}

int fake_calls(const struct fake_ports *f, const char *prefix)
{
  size_t i;
  json_t *c;
  int n = 0;
  json_array_foreach(f->calls, i, c)
  {
    if (strncmp(json_string_value(c), prefix, strlen(prefix)) == 0)
      n++;
  }
  return n;
}

const char *fake_event_reason(const struct fake_ports *f, size_t i)
{
  return json_string_value(json_object_get(json_array_get(f->events, i), "reason"));
}

bool fake_has_event(const struct fake_ports *f, const char *reason)
{
  for (size_t i = 0; i < json_array_size(f->events); i++) {
    if (strcmp(fake_event_reason(f, i), reason) == 0)
      return true;
  }
  return false;
}

bool fake_metrics_contain(const struct fake_ports *f, const char *text)
{
  struct mgo_buf b = MGO_BUF_INIT(1 << 20);
  bool found;
  assert_int_equal(mgo_metrics_render(f->reg, &b), MGO_OK);
  found = strstr(mgo_buf_str(&b), text) != NULL;
  mgo_buf_free(&b);
  return found;
}

json_t *fake_json(const char *text)
{
  json_error_t e;
  json_t *v = json_loads(text, 0, &e);
  if (v == NULL)
    fail_msg("bad JSON in test: %s", e.text);
  return v;
}

json_t *fake_cluster_json(const char *spec, const char *status)
{
  char text[4096];
  (void) mgo_snprintf(
      text, sizeof(text),
      "{\"apiVersion\":\"memgraph.io/v1alpha1\",\"kind\":\"MemgraphCluster\",\"metadata\":{\"name\":"
      "\"mg\",\"namespace\":\"db\",\"uid\":\"u1\",\"generation\":1},\"spec\":%s%s%s}",
      spec, status != NULL ? ",\"status\":" : "", status != NULL ? status : "");
  return fake_json(text);
}

int fake_mg_connect_refused(const struct mgo_mg_target *t, struct mgo_mg_conn **conn)
{
  (void) t;
  *conn = NULL;
  return MGO_ECONNECT;
}

void fake_mg_close(struct mgo_mg_conn *conn)
{
  (void) conn; /* the connections are static */
}

bool fake_mg_usable(const struct mgo_mg_conn *conn)
{
  return conn != NULL;
}

void fake_observe(struct op_ctx *ctx, size_t n, struct mgo_mg_conn *const *conns)
{
  struct rec_instance *main;
  ctx->obs = calloc(1, sizeof(*ctx->obs));
  ctx->plan = calloc(1, sizeof(*ctx->plan));
  assert_non_null(ctx->obs);
  assert_non_null(ctx->plan);
  ctx->obs->n = n;
  for (size_t i = 0; i < n; i++) {
    struct rec_instance *in = &ctx->obs->inst[i];
    struct op_conn *c = &ctx->cs->conns[i];
    in->ordinal = (int) i;
    (void) mgo_snprintf(in->pod, sizeof(in->pod), "mg-%zu", i);
    in->pod_exists = in->pod_ready = in->reachable = true;
    in->role = i == 0 ? MGO_ROLE_MAIN : MGO_ROLE_REPLICA;
    (void) mgo_strlcpy(c->pod, in->pod, sizeof(c->pod));
    (void) mgo_snprintf(c->ip, sizeof(c->ip), "10.0.0.%zu", i + 1);
    c->conn = conns[i];
  }
  main = &ctx->obs->inst[0];
  main->replicas_known = true;
  main->n_registrations = n - 1;
  for (size_t i = 1; i < n; i++)
    (void) mgo_snprintf(main->registrations[i - 1].name, sizeof(main->registrations[0].name), "mg_%zu", i);
  ctx->cs->nconns = n;
  (void) mgo_strlcpy(ctx->plan->main_pod, "mg-0", sizeof(ctx->plan->main_pod));
}

struct mgo_trace_config fake_trace_config(void)
{
  return (struct mgo_trace_config){.sampler = MGO_SAMPLER_ALWAYS_ON,
                                   .ratio = 1.0,
                                   .queue_size = 64,
                                   .batch_size = 64,
                                   .schedule_delay_ms = 3600000,
                                   .export_timeout_ms = 1000};
}

json_t *fake_exported_spans(const json_t *bodies)
{
  const json_t *rs = json_array_get(json_object_get(json_array_get(bodies, 0), "resourceSpans"), 0);
  return json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "spans");
}
