/* mgo_trace: the OTLP/JSON encoding pinned by a golden file, the OTEL_* configuration, sampling, ids, the
 * thread's current span in log lines, and the exporter's batching, drops and failure counts (through an
 * injected sender; the real HTTP path against a closed port). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golden.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "test_poll.h"
#include "trace.h"

/* ---- fakes ------------------------------------------------------------------------------------------ */

/* Ids 01 02 03 ... in order: every id distinct and predictable. */
static int counting_random(void *arg, uint8_t *buf, size_t n)
{
  uint8_t *next = arg;
  for (size_t i = 0; i < n; i++)
    buf[i] = (*next)++;
  return MGO_OK;
}

static int zero_random(void *arg, uint8_t *buf, size_t n)
{
  int *calls = arg;
  (*calls)++;
  memset(buf, 0, n);
  return MGO_OK;
}

/* A collector stand-in: keeps the bodies; can hold the exporter inside send() until released; can fail. */
struct sink {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  json_t *bodies; /* array of parsed request bodies */
  char url[256];
  bool hold, inside;
  int fail_rc;
};

static void sink_init(struct sink *s)
{
  memset(s, 0, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  s->bodies = json_array();
}

static void sink_free(struct sink *s)
{
  json_decref(s->bodies);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->lock);
}

static int sink_send(void *arg, const char *url, const char *body, size_t len, long timeout_ms, char *err,
                     size_t errsz)
{
  struct sink *s = arg;
  json_t *parsed = json_loadb(body, len, 0, NULL);
  int rc;
  assert_non_null(parsed);
  assert_true(timeout_ms > 0);
  pthread_mutex_lock(&s->lock);
  (void) snprintf(s->url, sizeof(s->url), "%s", url);
  json_array_append_new(s->bodies, parsed);
  s->inside = true;
  pthread_cond_broadcast(&s->cond);
  while (s->hold)
    pthread_cond_wait(&s->cond, &s->lock);
  s->inside = false;
  rc = s->fail_rc;
  pthread_mutex_unlock(&s->lock);
  if (rc != MGO_OK)
    (void) snprintf(err, errsz, "collector said no");
  return rc;
}

static bool sink_inside(void *arg)
{
  struct sink *s = arg;
  bool in;
  pthread_mutex_lock(&s->lock);
  in = s->inside;
  pthread_mutex_unlock(&s->lock);
  return in;
}

static bool sink_got_one(void *arg)
{
  struct sink *s = arg;
  size_t n;
  pthread_mutex_lock(&s->lock);
  n = json_array_size(s->bodies);
  pthread_mutex_unlock(&s->lock);
  return n == 1;
}

static void sink_release(struct sink *s)
{
  pthread_mutex_lock(&s->lock);
  s->hold = false;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
}

static void base_config(struct mgo_trace_config *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  (void) snprintf(cfg->url, sizeof(cfg->url), "http://127.0.0.1:4318/v1/traces");
  (void) snprintf(cfg->service_name, sizeof(cfg->service_name), "memgraph-operator");
  cfg->sampler = MGO_SAMPLER_PARENT_ALWAYS_ON;
  cfg->ratio = 1.0;
  cfg->queue_size = 64;
  cfg->batch_size = 64;
  cfg->schedule_delay_ms = 3600000; /* only flushes and full batches export */
  cfg->export_timeout_ms = 1000;
}

static struct mgo_tracer *new_tracer(const struct mgo_trace_config *cfg, struct sink *s, uint8_t *next_id,
                                     const struct mgo_clock *clock)
{
  struct mgo_tracer_opts opts = {.clock = clock,
                                 .random_bytes = counting_random,
                                 .random_arg = next_id,
                                 .send = sink_send,
                                 .send_arg = s,
                                 .scope_version = "1.2.3"};
  struct mgo_tracer *t = NULL;
  char err[128] = "";
  assert_int_equal(mgo_tracer_new(cfg, &opts, &t, err, sizeof(err)), MGO_OK);
  assert_non_null(t);
  return t;
}

/* What the tests of a tracer share: a sink, a configuration to adjust, ids from 01 and the tracer (freed by
 * the teardown). */
struct rig {
  struct sink s;
  struct mgo_trace_config cfg;
  uint8_t next;
  struct mgo_tracer *t;
};

static int rig_setup(void **state)
{
  struct rig *r = calloc(1, sizeof(*r));
  assert_non_null(r);
  sink_init(&r->s);
  base_config(&r->cfg);
  r->next = 1;
  *state = r;
  return 0;
}

static int rig_teardown(void **state)
{
  struct rig *r = *state;
  mgo_tracer_free(r->t, 1000);
  sink_free(&r->s);
  free(r);
  return 0;
}

/* ---- encoding ----------------------------------------------------------------------------------------- */

/* A root, a child with every attribute type and an error, a grandchild: the request the collector gets is
 * pinned byte for byte (ids hex, kind and status code integers, times and intValue strings). */
static void encoding_matches_golden(void **state)
{
  struct rig *r = *state;
  struct mgo_fake_clock fc;
  struct mgo_span *root, *child, *leaf;
  mgo_fake_clock_init(&fc, 0, 1700000000000);
  assert_int_equal(
      mgo_trace_parse_resource(&r->cfg, "deployment.environment=test,k8s.pod.name=op%2D0", NULL, 0), MGO_OK);
  r->t = new_tracer(&r->cfg, &r->s, &r->next, mgo_fake_clock_get(&fc));

  root = mgo_span_root(r->t, "reconcile", MGO_SPAN_INTERNAL);
  mgo_span_set_str(root, "cluster", "default/demo");
  mgo_fake_clock_advance_ns(&fc, 1500);
  child = mgo_span_child("bolt SHOW REPLICAS", MGO_SPAN_CLIENT);
  mgo_span_set_str(child, "text", "quote \" backslash \\ newline \n");
  mgo_span_set_int(child, "big", INT64_MAX);
  mgo_span_set_int(child, "negative", -42);
  mgo_span_set_bool(child, "flag", true);
  mgo_span_set_str(child, "replaced", "old");
  mgo_span_set_str(child, "replaced", "new");
  leaf = mgo_span_child("kube PATCH", MGO_SPAN_CLIENT);
  mgo_span_set_ok(leaf);
  mgo_fake_clock_advance_ms(&fc, 2);
  mgo_span_end(leaf);
  mgo_span_set_error(child, "ETIMEDOUT %s", "timeout");
  mgo_fake_clock_advance_ms(&fc, 3);
  mgo_span_end(child);
  mgo_span_end(root);
  assert_null(mgo_span_current());

  assert_int_equal(mgo_tracer_flush(r->t, 5000), MGO_OK);
  assert_string_equal(r->s.url, "http://127.0.0.1:4318/v1/traces");
  assert_int_equal(json_array_size(r->s.bodies), 1);
  mgo_test_golden_json("test/unit/trace/golden/export_request.json", json_array_get(r->s.bodies, 0));
  mgo_tracer_free(r->t, 1000); /* before its clock goes */
  r->t = NULL;
  mgo_fake_clock_destroy(&fc);
}

/* The forms the collector would also accept are exactly the ones we must not send. */
static void encoding_uses_the_spec_forms(void **state)
{
  struct rig *r = *state;
  r->next = 0xa0;
  struct mgo_span *root;
  json_t *span;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  root = mgo_span_root(r->t, "r", MGO_SPAN_SERVER);
  mgo_span_set_int(root, "n", 7);
  mgo_span_end(root);
  assert_int_equal(mgo_tracer_flush(r->t, 5000), MGO_OK);
  span = json_array_get(
      json_object_get(
          json_array_get(
              json_object_get(
                  json_array_get(json_object_get(json_array_get(r->s.bodies, 0), "resourceSpans"), 0),
                  "scopeSpans"),
              0),
          "spans"),
      0);
  assert_non_null(span);
  assert_string_equal(json_string_value(json_object_get(span, "traceId")),
                      "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  assert_string_equal(json_string_value(json_object_get(span, "spanId")), "b0b1b2b3b4b5b6b7");
  assert_null(json_object_get(span, "parentSpanId")); /* a root has none */
  assert_true(json_is_integer(json_object_get(span, "kind")));
  assert_int_equal(json_integer_value(json_object_get(span, "kind")), 2);
  assert_true(json_is_string(json_object_get(span, "startTimeUnixNano")));
  assert_true(json_is_string(json_object_get(span, "endTimeUnixNano")));
  assert_true(json_is_integer(json_object_get(json_object_get(span, "status"), "code")));
  assert_string_equal(
      json_string_value(json_object_get(
          json_object_get(json_array_get(json_object_get(span, "attributes"), 0), "value"), "intValue")),
      "7");
}

static void attributes_beyond_the_limit_are_counted(void **state)
{
  struct rig *r = *state;
  static const char *const keys[] = {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8",
                                     "k9", "ka", "kb", "kc", "kd", "ke", "kf", "kg", "kh"};
  struct mgo_span *root;
  char long_value[MGO_SPAN_TEXT_MAX * 2];
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  root = mgo_span_root(r->t, "r", MGO_SPAN_INTERNAL);
  memset(long_value, 'x', sizeof(long_value) - 1);
  long_value[sizeof(long_value) - 1] = '\0';
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
    mgo_span_set_str(root, keys[i], long_value);
  assert_int_equal(root->nattrs, MGO_SPAN_ATTRS_MAX);
  assert_int_equal(root->dropped_attrs, 2);
  assert_int_equal(strlen(root->attrs[0].s), MGO_SPAN_TEXT_MAX - 1);
  mgo_span_end(root);
  assert_int_equal(mgo_tracer_flush(r->t, 5000), MGO_OK);
}

/* ---- configuration ------------------------------------------------------------------------------------ */

static const char *const *fake_env;

static const char *lookup(const char *name)
{
  for (const char *const *p = fake_env; p != NULL && p[0] != NULL; p += 2) {
    if (strcmp(p[0], name) == 0)
      return p[1];
  }
  return NULL;
}

static int config_of(const char *const *env, struct mgo_trace_config *cfg, char *err, size_t errsz)
{
  fake_env = env;
  return mgo_trace_config_from_env(cfg, lookup, err, errsz);
}

static void config_endpoints(void **state)
{
  struct mgo_trace_config cfg;
  char err[256];
  (void) state;
  assert_int_equal(config_of((const char *const[]){NULL}, &cfg, err, sizeof(err)), MGO_OK);
  assert_string_equal(cfg.url, ""); /* no endpoint: tracing off */
  assert_int_equal(config_of((const char *const[]){"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", NULL},
                             &cfg, err, sizeof(err)),
                   MGO_OK);
  assert_string_equal(cfg.url, "http://c:4318/v1/traces");
  assert_int_equal(config_of((const char *const[]){"OTEL_EXPORTER_OTLP_ENDPOINT", "https://c/otlp/", NULL},
                             &cfg, err, sizeof(err)),
                   MGO_OK);
  assert_string_equal(cfg.url, "https://c/otlp/v1/traces");
  assert_int_equal(
      config_of((const char *const[]){"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318",
                                      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9/custom", NULL},
                &cfg, err, sizeof(err)),
      MGO_OK);
  assert_string_equal(cfg.url, "http://t:9/custom"); /* the signal-specific one as is */
  assert_int_equal(config_of((const char *const[]){"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318",
                                                   "OTEL_SDK_DISABLED", "true", NULL},
                             &cfg, err, sizeof(err)),
                   MGO_OK);
  assert_string_equal(cfg.url, "");
  assert_int_equal(
      config_of((const char *const[]){"OTEL_EXPORTER_OTLP_ENDPOINT", "c:4318", NULL}, &cfg, err, sizeof(err)),
      MGO_ECONFIG);
  assert_non_null(strstr(err, "not an http:// or https:// URL"));
  assert_string_equal(cfg.url, "");
}

static void config_defaults_and_sizes(void **state)
{
  struct mgo_trace_config cfg;
  char err[256];
  (void) state;
  assert_int_equal(config_of((const char *const[]){NULL}, &cfg, err, sizeof(err)), MGO_OK);
  assert_string_equal(cfg.service_name, "memgraph-operator");
  assert_int_equal(cfg.sampler, MGO_SAMPLER_PARENT_ALWAYS_ON);
  assert_int_equal(cfg.queue_size, 2048);
  assert_int_equal(cfg.batch_size, 512);
  assert_int_equal(cfg.schedule_delay_ms, 5000);
  assert_int_equal(cfg.export_timeout_ms, 10000);
  assert_int_equal(
      config_of((const char *const[]){"OTEL_BSP_MAX_QUEUE_SIZE", "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50",
                                      "OTEL_BSP_SCHEDULE_DELAY", "200", "OTEL_EXPORTER_OTLP_TIMEOUT", "3000",
                                      "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700", NULL},
                &cfg, err, sizeof(err)),
      MGO_OK);
  assert_int_equal(cfg.queue_size, 10);
  assert_int_equal(cfg.batch_size, 10); /* never more than the queue */
  assert_int_equal(cfg.schedule_delay_ms, 200);
  assert_int_equal(cfg.export_timeout_ms, 700);
  assert_int_equal(
      config_of((const char *const[]){"OTEL_BSP_SCHEDULE_DELAY", "-1", NULL}, &cfg, err, sizeof(err)),
      MGO_ECONFIG);
  assert_non_null(strstr(err, "OTEL_BSP_SCHEDULE_DELAY"));
}

static void config_service_and_resource(void **state)
{
  struct mgo_trace_config cfg;
  char err[256];
  (void) state;
  assert_int_equal(
      config_of((const char *const[]){"OTEL_RESOURCE_ATTRIBUTES",
                                      " service.name = from-resource , team=db%20ops,x=a%2Cb%3Dc", NULL},
                &cfg, err, sizeof(err)),
      MGO_OK);
  assert_string_equal(cfg.service_name, "from-resource");
  assert_int_equal(cfg.nresource, 3);
  assert_string_equal(cfg.resource[1].key, "team");
  assert_string_equal(cfg.resource[1].value, "db ops");
  assert_string_equal(cfg.resource[2].value, "a,b=c");
  assert_int_equal(config_of((const char *const[]){"OTEL_RESOURCE_ATTRIBUTES", "service.name=a",
                                                   "OTEL_SERVICE_NAME", "wins", NULL},
                             &cfg, err, sizeof(err)),
                   MGO_OK);
  assert_string_equal(cfg.service_name, "wins");
  assert_int_equal(config_of((const char *const[]){"OTEL_RESOURCE_ATTRIBUTES", "a=b,novalue", NULL}, &cfg,
                             err, sizeof(err)),
                   MGO_ECONFIG);
  assert_non_null(strstr(err, "without '='"));
  assert_int_equal(
      config_of((const char *const[]){"OTEL_RESOURCE_ATTRIBUTES", "a=%zz", NULL}, &cfg, err, sizeof(err)),
      MGO_ECONFIG);
  assert_int_equal(
      config_of((const char *const[]){"OTEL_RESOURCE_ATTRIBUTES", "a=%4", NULL}, &cfg, err, sizeof(err)),
      MGO_ECONFIG);
  assert_int_equal(
      config_of((const char *const[]){"OTEL_RESOURCE_ATTRIBUTES", "=v", NULL}, &cfg, err, sizeof(err)),
      MGO_ECONFIG);
}

static void config_samplers(void **state)
{
  static const struct {
    const char *name, *arg;
    int rc;
    enum mgo_sampler s;
    double ratio;
  } cases[] = {
      {"always_on", NULL, MGO_OK, MGO_SAMPLER_ALWAYS_ON, 1.0},
      {"always_off", NULL, MGO_OK, MGO_SAMPLER_ALWAYS_OFF, 1.0},
      {"traceidratio", "0.25", MGO_OK, MGO_SAMPLER_RATIO, 0.25},
      {"parentbased_always_on", NULL, MGO_OK, MGO_SAMPLER_PARENT_ALWAYS_ON, 1.0},
      {"parentbased_always_off", NULL, MGO_OK, MGO_SAMPLER_PARENT_ALWAYS_OFF, 1.0},
      {"parentbased_traceidratio", "0", MGO_OK, MGO_SAMPLER_PARENT_RATIO, 0.0},
      {"always_on", "0.5", MGO_OK, MGO_SAMPLER_ALWAYS_ON, 1.0}, /* the argument only matters for ratios */
      {"traceidratio", "1.5", MGO_ECONFIG, MGO_SAMPLER_RATIO, 1.0},
      {"traceidratio", "half", MGO_ECONFIG, MGO_SAMPLER_RATIO, 1.0},
      {"sometimes", NULL, MGO_ECONFIG, MGO_SAMPLER_PARENT_ALWAYS_ON, 1.0},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mgo_trace_config cfg;
    char err[256] = "";
    const char *env[] = {"OTEL_TRACES_SAMPLER", cases[i].name, "OTEL_TRACES_SAMPLER_ARG", cases[i].arg, NULL};
    int rc = config_of(env, &cfg, err, sizeof(err));
    print_message("sampler %s arg %s: %s\n", cases[i].name, cases[i].arg ? cases[i].arg : "-", err);
    assert_int_equal(rc, cases[i].rc);
    if (rc == MGO_OK) {
      assert_int_equal(cfg.sampler, cases[i].s);
      assert_true(cfg.ratio == cases[i].ratio);
    } else {
      assert_non_null(strstr(err, "OTEL_TRACES_SAMPLER"));
    }
  }
}

/* ---- spans, sampling, ids, logs ----------------------------------------------------------------------- */

static void no_tracer_no_spans(void **state)
{
  struct mgo_trace_config cfg;
  struct mgo_tracer *t = (struct mgo_tracer *) 1;
  (void) state;
  base_config(&cfg);
  cfg.url[0] = '\0';
  assert_int_equal(mgo_tracer_new(&cfg, NULL, &t, NULL, 0), MGO_OK);
  assert_null(t);
  assert_null(mgo_span_root(NULL, "reconcile", MGO_SPAN_INTERNAL));
  assert_null(mgo_span_child("step", MGO_SPAN_INTERNAL)); /* no current span: nothing */
  mgo_span_set_str(NULL, "k", "v");
  mgo_span_set_error(NULL, "x");
  mgo_span_end(NULL);
  mgo_tracer_free(NULL, 0);
}

static void samplers_decide_roots_and_children_follow(void **state)
{
  struct rig *r = *state;
  struct mgo_span *root;
  r->cfg.sampler = MGO_SAMPLER_PARENT_ALWAYS_OFF;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  assert_null(mgo_span_root(r->t, "reconcile", MGO_SPAN_INTERNAL));
  assert_null(mgo_span_child("load", MGO_SPAN_INTERNAL));
  mgo_tracer_free(r->t, 1000);

  r->cfg.sampler = MGO_SAMPLER_RATIO;
  r->cfg.ratio = 0.0;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  assert_null(mgo_span_root(r->t, "reconcile", MGO_SPAN_INTERNAL));
  mgo_tracer_free(r->t, 1000);

  /* ids 01..10: the trace id's last 8 bytes 09..10 are a low number (3.5 % of the range), sampled at 10 % */
  r->next = 1;
  r->cfg.ratio = 0.1;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  root = mgo_span_root(r->t, "reconcile", MGO_SPAN_INTERNAL);
  assert_non_null(root);
  assert_non_null(mgo_span_child("load", MGO_SPAN_INTERNAL));
  mgo_span_end(mgo_span_current());
  mgo_span_end(root);
  /* ids f0..ff: a high number, not sampled at 50 % */
  r->next = 0xf0;
  r->cfg.ratio = 0.5;
  mgo_tracer_free(r->t, 1000);
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  assert_null(mgo_span_root(r->t, "reconcile", MGO_SPAN_INTERNAL));
}

static void ids_are_never_all_zero(void **state)
{
  struct mgo_trace_config cfg;
  struct mgo_tracer_opts opts = {.random_bytes = zero_random};
  struct mgo_tracer *t = NULL;
  int calls = 0;
  (void) state;
  base_config(&cfg);
  opts.random_arg = &calls;
  assert_int_equal(mgo_tracer_new(&cfg, &opts, &t, NULL, 0), MGO_OK);
  assert_null(mgo_span_root(t, "reconcile", MGO_SPAN_INTERNAL)); /* an all-zero id is invalid: no span */
  assert_true(calls > 1);                                        /* tried again first */
  mgo_tracer_free(t, 1000);

  /* the real source: distinct, non-zero ids */
  opts.random_bytes = NULL;
  assert_int_equal(mgo_tracer_new(&cfg, &opts, &t, NULL, 0), MGO_OK);
  struct mgo_span *a = mgo_span_root(t, "a", MGO_SPAN_INTERNAL);
  struct mgo_span *b = mgo_span_child("b", MGO_SPAN_INTERNAL);
  assert_non_null(a);
  assert_non_null(b);
  assert_string_not_equal(a->trace_hex, "00000000000000000000000000000000");
  assert_string_equal(a->trace_hex, b->trace_hex);
  assert_string_not_equal(a->span_hex, b->span_hex);
  assert_memory_equal(b->parent_span_id, a->span_id, 8);
  assert_int_equal(strlen(a->trace_hex), 32);
  assert_int_equal(strlen(a->span_hex), 16);
  mgo_span_end(b);
  assert_ptr_equal(mgo_span_current(), a);
  mgo_span_end(a);
  mgo_tracer_free(t, 0);
}

static char *log_of(enum mgo_log_format fmt, struct mgo_tracer *t, char *trace_hex, char *span_hex)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  struct mgo_span *root, *child;
  assert_non_null(f);
  mgo_log_setup(MGO_LOG_INFO, fmt, f);
  mgo_log(MGO_LOG_INFO, "before", (char *) NULL);
  root = mgo_span_root(t, "reconcile", MGO_SPAN_INTERNAL);
  child = mgo_span_child("load", MGO_SPAN_INTERNAL);
  mgo_log(MGO_LOG_INFO, "inside", "cluster", "ns/a", (char *) NULL);
  (void) snprintf(trace_hex, 33, "%s", child->trace_hex);
  (void) snprintf(span_hex, 17, "%s", child->span_hex);
  mgo_span_end(child);
  mgo_span_end(root);
  mgo_log(MGO_LOG_INFO, "after", (char *) NULL);
  fclose(f);
  mgo_log_setup(MGO_LOG_INFO, MGO_LOG_LOGFMT, NULL);
  return text;
}

static void log_lines_carry_the_current_span(void **state)
{
  struct rig *r = *state;
  char trace_hex[33], span_hex[17], want[128];
  char *text;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);

  text = log_of(MGO_LOG_LOGFMT, r->t, trace_hex, span_hex);
  (void) snprintf(want, sizeof(want), "msg=inside cluster=ns/a trace_id=%s span_id=%s\n", trace_hex,
                  span_hex);
  assert_non_null(strstr(text, want));
  assert_int_equal(strlen(trace_hex), 32);
  assert_null(strstr(strstr(text, "msg=after"), "trace_id")); /* cleared when the pass's spans ended */
  assert_null(strstr(text, "msg=before trace_id"));
  free(text);

  text = log_of(MGO_LOG_JSON, r->t, trace_hex, span_hex);
  (void) snprintf(want, sizeof(want), "\"cluster\":\"ns/a\",\"trace_id\":\"%s\",\"span_id\":\"%s\"}",
                  trace_hex, span_hex);
  assert_non_null(strstr(text, want));
  free(text);
}

static void statement_kinds_keep_only_keywords(void **state)
{
  static const char *const cases[][2] = {
      {"SHOW REPLICATION ROLE;", "SHOW REPLICATION ROLE"},
      {"SHOW REPLICAS", "SHOW REPLICAS"},
      {"REGISTER REPLICA demo_1 SYNC TO \"10.0.0.7:10000\"", "REGISTER REPLICA"},
      {"SET REPLICATION ROLE TO MAIN", "SET REPLICATION ROLE"},
      {"DROP REPLICA SECRET_NAME", "DROP REPLICA SECRET_NAME"}, /* upper-case names look like keywords */
      {"  CREATE SNAPSHOT", "CREATE SNAPSHOT"},
      {"MATCH (n) RETURN n", "MATCH"},
      {"RETURN 1", "RETURN"},
      {"match (n)", ""},
      {"", ""},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char kind[64];
    mgo_trace_statement_kind(cases[i][0], kind, sizeof(kind));
    assert_string_equal(kind, cases[i][1]);
  }
  char tiny[5];
  mgo_trace_statement_kind("SHOW REPLICAS", tiny, sizeof(tiny));
  assert_string_equal(tiny, "SHOW");
}

/* ---- the exporter -------------------------------------------------------------------------------------- */

static void one_span(struct mgo_tracer *t, const char *name)
{
  mgo_span_end(mgo_span_root(t, name, MGO_SPAN_INTERNAL));
}

/* While the exporter is stuck in a slow collector, ending spans never waits: the queue fills and the rest is
 * dropped and counted; once the collector answers, what was queued goes out. */
static void full_queue_drops_and_counts(void **state)
{
  struct rig *r = *state;
  struct mgo_trace_stats st;
  r->s.hold = true;
  r->cfg.queue_size = 2;
  r->cfg.batch_size = 2;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  one_span(r->t, "a");
  one_span(r->t, "b"); /* a full batch: the exporter takes both and blocks in the collector */
  assert_true(tu_poll_until(sink_inside, &r->s, 5000));
  one_span(r->t, "c");
  one_span(r->t, "d");
  one_span(r->t, "e"); /* the queue holds c and d */
  mgo_tracer_stats(r->t, &st);
  assert_int_equal(st.dropped_queue_full, 1);
  assert_int_equal(st.exported, 0);
  sink_release(&r->s);
  assert_int_equal(mgo_tracer_flush(r->t, 5000), MGO_OK);
  mgo_tracer_stats(r->t, &st);
  assert_int_equal(st.exported, 4);
  assert_int_equal(st.dropped_queue_full, 1);
  assert_int_equal(st.failed_exports, 0);
  assert_int_equal(json_array_size(r->s.bodies), 2);
}

static void failed_exports_are_counted(void **state)
{
  struct rig *r = *state;
  struct mgo_trace_stats st;
  r->s.fail_rc = MGO_EHTTP;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  one_span(r->t, "a");
  one_span(r->t, "b");
  one_span(r->t, "c");
  assert_int_equal(mgo_tracer_flush(r->t, 5000), MGO_OK);
  mgo_tracer_stats(r->t, &st);
  assert_int_equal(st.exported, 0);
  assert_int_equal(st.dropped_export, 3);
  assert_int_equal(st.failed_exports, 1);
  assert_string_equal(st.last_error, "collector said no");
}

/* The schedule delay alone sends a partial batch. */
static void partial_batches_go_out_on_schedule(void **state)
{
  struct rig *r = *state;
  r->cfg.schedule_delay_ms = 20;
  r->t = new_tracer(&r->cfg, &r->s, &r->next, NULL);
  one_span(r->t, "a");
  assert_true(tu_poll_until(sink_got_one, &r->s, 5000)); /* no flush asked for */
}

/* The real HTTP path: a collector that is down costs a bounded attempt and is counted, with the reason. */
static void real_sender_to_a_closed_port_fails_and_counts(void **state)
{
  struct mgo_trace_config cfg;
  struct mgo_trace_stats st;
  struct mgo_tracer *t = NULL;
  char err[128] = "";
  (void) state;
  base_config(&cfg);
  (void) snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:1/v1/traces");
  assert_int_equal(mgo_tracer_new(&cfg, NULL, &t, err, sizeof(err)), MGO_OK);
  one_span(t, "a");
  assert_int_equal(mgo_tracer_flush(t, 5000), MGO_OK);
  mgo_tracer_stats(t, &st);
  assert_int_equal(st.failed_exports, 1);
  assert_int_equal(st.dropped_export, 1);
  assert_non_null(strstr(st.last_error, "POST http://127.0.0.1:1/v1/traces"));
  mgo_tracer_free(t, 1000);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(encoding_matches_golden, rig_setup, rig_teardown),
      cmocka_unit_test_setup_teardown(encoding_uses_the_spec_forms, rig_setup, rig_teardown),
      cmocka_unit_test_setup_teardown(attributes_beyond_the_limit_are_counted, rig_setup, rig_teardown),
      cmocka_unit_test(config_endpoints),
      cmocka_unit_test(config_defaults_and_sizes),
      cmocka_unit_test(config_service_and_resource),
      cmocka_unit_test(config_samplers),
      cmocka_unit_test(no_tracer_no_spans),
      cmocka_unit_test_setup_teardown(samplers_decide_roots_and_children_follow, rig_setup, rig_teardown),
      cmocka_unit_test(ids_are_never_all_zero),
      cmocka_unit_test_setup_teardown(log_lines_carry_the_current_span, rig_setup, rig_teardown),
      cmocka_unit_test(statement_kinds_keep_only_keywords),
      cmocka_unit_test_setup_teardown(full_queue_drops_and_counts, rig_setup, rig_teardown),
      cmocka_unit_test_setup_teardown(failed_exports_are_counted, rig_setup, rig_teardown),
      cmocka_unit_test_setup_teardown(partial_batches_go_out_on_schedule, rig_setup, rig_teardown),
      cmocka_unit_test(real_sender_to_a_closed_port_fails_and_counts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
