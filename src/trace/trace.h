/* OpenTelemetry traces over OTLP/HTTP with JSON encoding (library `mgo_trace`; docs/tracing.md).
 *
 * A tracer is configured from the standard OTEL_* variables (mgo_trace_config_from_env) and created with
 * mgo_tracer_new(). Without an endpoint there is no tracer (NULL) and every span function is a no-op on NULL,
 * so tracing off costs one thread-local read per would-be span.
 *
 * Spans follow the calling thread: mgo_span_root() starts a trace and makes its span the thread's current
 * span; mgo_span_child() starts a child of the current span (NULL when the thread has none, or its trace was
 * not sampled), which becomes current in turn; mgo_span_end() restores the previous one. Spans of a thread
 * end in the reverse order they started (LIFO). While a span is current, mgo_log() lines of that thread carry
 * its trace_id and span_id (mgo_log_set_trace()).
 *
 * An ended span goes to the tracer's bounded queue in O(1) without waiting; a full queue drops it (counted).
 * The exporter thread sends batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE spans, at least every
 * OTEL_BSP_SCHEDULE_DELAY ms) with a bounded HTTP timeout; a failed export drops its batch (counted, never
 * retried). mgo_tracer_free() flushes what is queued until a deadline.
 *
 * Ownership: a span belongs to the library from mgo_span_root()/mgo_span_child() on; the caller may use it
 * until it passes it to mgo_span_end(), never after. Attribute keys are borrowed for the span's life (pass
 * string literals); values, names and messages are copied (truncated to MGO_SPAN_TEXT_MAX bytes).
 * mgo_trace_encode() returns text the caller free()s. mgo_tracer_free() frees every span
 * still queued. The library never prints: errors come back as MGO_* codes with a detail in err.
 * Thread-safety: a tracer may be used from any number of threads; a span only by the thread that started it
 * (and by the exporter once ended). */
#ifndef MGO_TRACE_H
#define MGO_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgo_clock.h"

#define MGO_TRACE_URL_MAX 1024
#define MGO_TRACE_RESOURCE_MAX 16
#define MGO_SPAN_ATTRS_MAX 16
#define MGO_SPAN_TEXT_MAX 256
#define MGO_SPAN_NAME_MAX 96

/* The values of OTLP's enums (encoded as these integers). */
enum mgo_span_kind { MGO_SPAN_INTERNAL = 1, MGO_SPAN_SERVER = 2, MGO_SPAN_CLIENT = 3 };
enum mgo_span_status { MGO_SPAN_UNSET = 0, MGO_SPAN_OK = 1, MGO_SPAN_ERROR = 2 };

/* OTEL_TRACES_SAMPLER. There is never a remote parent, so a parentbased_* sampler decides roots by its root
 * sampler and children follow their parent (as every child of a span does). */
enum mgo_sampler {
  MGO_SAMPLER_ALWAYS_ON,
  MGO_SAMPLER_ALWAYS_OFF,
  MGO_SAMPLER_RATIO,
  MGO_SAMPLER_PARENT_ALWAYS_ON,
  MGO_SAMPLER_PARENT_ALWAYS_OFF,
  MGO_SAMPLER_PARENT_RATIO
};

struct mgo_trace_kv {
  char key[64];
  char value[MGO_SPAN_TEXT_MAX];
};

struct mgo_trace_config {
  char url[MGO_TRACE_URL_MAX]; /* the traces endpoint (…/v1/traces); "" = tracing off */
  char service_name[128];
  enum mgo_sampler sampler;
  double ratio;                                         /* traceidratio's argument, 0..1 */
  struct mgo_trace_kv resource[MGO_TRACE_RESOURCE_MAX]; /* OTEL_RESOURCE_ATTRIBUTES, decoded */
  size_t nresource;
  size_t queue_size;      /* OTEL_BSP_MAX_QUEUE_SIZE (2048) */
  size_t batch_size;      /* OTEL_BSP_MAX_EXPORT_BATCH_SIZE (512) */
  long schedule_delay_ms; /* OTEL_BSP_SCHEDULE_DELAY (5000) */
  long export_timeout_ms; /* OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT (10000) */
};

/* The configuration from the environment, read through getenv_fn (getenv in the program, a table in tests):
 * OTEL_SDK_DISABLED, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or OTEL_EXPORTER_OTLP_ENDPOINT
 * (+ "/v1/traces"), OTEL_SERVICE_NAME (default "memgraph-operator"; it wins over a service.name resource
 * attribute), OTEL_TRACES_SAMPLER (default parentbased_always_on) and OTEL_TRACES_SAMPLER_ARG,
 * OTEL_RESOURCE_ATTRIBUTES (k=v,k2=v2, percent-decoded), the OTEL_BSP_* sizes and delays and the timeouts.
 * MGO_ECONFIG with a one-line detail in err for a bad value (cfg is then tracing off). */
int mgo_trace_config_from_env(struct mgo_trace_config *cfg, const char *(*getenv_fn)(const char *name),
                              char *err, size_t errsz);

/* OTEL_RESOURCE_ATTRIBUTES into cfg->resource (appended). MGO_ECONFIG for an entry without '=', an empty
 * key, a bad percent escape or too many entries. */
int mgo_trace_parse_resource(struct mgo_trace_config *cfg, const char *text, char *err, size_t errsz);

struct mgo_tracer;

/* What the tracer's environment provides; every field may be zero. */
struct mgo_tracer_opts {
  const struct mgo_clock *clock; /* span times (wall clock); NULL: the system clock */
  /* Random bytes for ids; NULL: getrandom(). Returns MGO_OK. */
  int (*random_bytes)(void *arg, uint8_t *buf, size_t n);
  void *random_arg;
  /* Sends one encoded request body; NULL: an HTTP POST to cfg->url (libcurl). Returns MGO_OK for a 2xx. */
  int (*send)(void *arg, const char *url, const char *body, size_t len, long timeout_ms, char *err,
              size_t errsz);
  void *send_arg;
  const char *scope_version; /* instrumentation scope version (the operator's version); NULL: "" */
};

/* A tracer for cfg (copied). *out = NULL with MGO_OK when cfg->url is empty (tracing off). Starts the
 * exporter thread. MGO_ENOMEM, MGO_ESYS (thread, libcurl). */
int mgo_tracer_new(const struct mgo_trace_config *cfg, const struct mgo_tracer_opts *opts,
                   struct mgo_tracer **out, char *err, size_t errsz);
/* Exports what is queued (waiting at most deadline_ms in all), stops the exporter and frees the tracer; spans
 * still queued at the deadline are dropped (reason "shutdown"). NULL is a no-op. Every span must have ended.
 */
void mgo_tracer_free(struct mgo_tracer *t, long deadline_ms);
/* Exports everything queued now; MGO_ETIMEDOUT when that took longer than deadline_ms. */
int mgo_tracer_flush(struct mgo_tracer *t, long deadline_ms);

struct mgo_trace_stats {
  uint64_t exported;           /* spans the collector accepted */
  uint64_t dropped_queue_full; /* spans dropped because the queue was full */
  uint64_t dropped_export;     /* spans of failed exports */
  uint64_t dropped_shutdown;   /* spans still queued when the shutdown deadline passed */
  uint64_t failed_exports;     /* failed export requests */
  char last_error[256];        /* the last export failure ("" when none); never carries the body */
};
/* A consistent copy of the tracer's counters (all zero for NULL). */
void mgo_tracer_stats(struct mgo_tracer *t, struct mgo_trace_stats *out);

/* ---- spans ----------------------------------------------------------------------------------------------
 */

enum mgo_attr_type { MGO_ATTR_STRING, MGO_ATTR_INT, MGO_ATTR_BOOL };

struct mgo_span_attr {
  const char *key; /* borrowed (a literal) */
  enum mgo_attr_type type;
  char *s; /* MGO_ATTR_STRING: owned copy */
  int64_t i;
  bool b;
};

struct mgo_span {
  struct mgo_tracer *tracer;
  struct mgo_span *prev; /* the thread's current span before this one */
  uint8_t trace_id[16], span_id[8], parent_span_id[8];
  bool has_parent;
  char trace_hex[33], span_hex[17];
  char name[MGO_SPAN_NAME_MAX];
  enum mgo_span_kind kind;
  int64_t start_ns, end_ns; /* Unix epoch, ns */
  enum mgo_span_status status;
  char *status_message; /* owned; NULL when none */
  struct mgo_span_attr attrs[MGO_SPAN_ATTRS_MAX];
  size_t nattrs;
  uint32_t dropped_attrs; /* set beyond MGO_SPAN_ATTRS_MAX */
};

/* A new trace's root span, current on this thread. NULL when t is NULL, the sampler says no, or memory
 * runs out (then nothing of that trace is recorded). */
struct mgo_span *mgo_span_root(struct mgo_tracer *t, const char *name, enum mgo_span_kind kind);
/* A child of this thread's current span, current in turn; NULL when there is none. */
struct mgo_span *mgo_span_child(const char *name, enum mgo_span_kind kind);
/* This thread's current span (NULL when none). */
struct mgo_span *mgo_span_current(void);
/* Attributes (a key set again is replaced). No-ops on NULL; value NULL is "". */
void mgo_span_set_str(struct mgo_span *s, const char *key, const char *value);
void mgo_span_set_int(struct mgo_span *s, const char *key, int64_t value);
void mgo_span_set_bool(struct mgo_span *s, const char *key, bool value);
/* Status ERROR with a message (printf-style, truncated), or OK. */
void mgo_span_set_error(struct mgo_span *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mgo_span_set_ok(struct mgo_span *s);
/* Ends s (its end time now), makes its predecessor current again and queues it. NULL is a no-op. */
void mgo_span_end(struct mgo_span *s);

/* The leading upper-case keywords of a Cypher statement, at most three ("SHOW REPLICATION ROLE",
 * "REGISTER REPLICA", "CREATE SNAPSHOT"): what a span may say about a query without its data. */
void mgo_trace_statement_kind(const char *query, char *dst, size_t dstsz);

/* ---- encoding (pure) ------------------------------------------------------------------------------------
 */

/* The OTLP/JSON ExportTraceServiceRequest of n ended spans with cfg's resource (service.name first, then the
 * resource attributes) and scope ("memgraph-operator", scope_version): ids as lower-case hex, enums as
 * integers, 64-bit integers (times, intValue) as decimal strings. Returns the text (the caller free()s it;
 * *len, when len is non-NULL, receives its length), NULL when memory runs out or the batch exceeds 64 MiB. */
char *mgo_trace_encode(const struct mgo_trace_config *cfg, const char *scope_version,
                       struct mgo_span *const *spans, size_t n, size_t *len);

#endif
