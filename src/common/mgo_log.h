/* Structured logging for the operator process (application code only).
 *
 * Library modules (kube/, bolt/, memgraph/, cluster/) never log: they return an error code and fill an error
 * detail. The operator's own layers (reconcile, http, main) log through this module, one line per event,
 * as logfmt (`ts=… level=info msg="…" cluster=ns/name pod=mg-1`) or JSON, with values escaped.
 *
 * Usage: mgo_log(MGO_LOG_INFO, "replica registered", "cluster", "default/demo", "pod", "demo-1", NULL);
 * Fields are key/value string pairs ending with NULL; a NULL value is printed as an empty string.
 * Thread-safety: mgo_log() may be called from any thread; lines are written whole. Configure with
 * mgo_log_setup() once, before other threads start. */
#ifndef MGO_LOG_H
#define MGO_LOG_H

#include <stdio.h>

enum mgo_log_level { MGO_LOG_DEBUG = 0, MGO_LOG_INFO = 1, MGO_LOG_WARN = 2, MGO_LOG_ERROR = 3 };
enum mgo_log_format { MGO_LOG_LOGFMT = 0, MGO_LOG_JSON = 1 };

/* out == NULL means stderr. */
void mgo_log_setup(enum mgo_log_level min, enum mgo_log_format fmt, FILE *out);
/* Parses "debug|info|warn|error" and "logfmt|json"; MGO_EINVAL for anything else. */
int mgo_log_parse_level(const char *s, enum mgo_log_level *out);
int mgo_log_parse_format(const char *s, enum mgo_log_format *out);
int mgo_log_enabled(enum mgo_log_level lvl);
void mgo_log(enum mgo_log_level lvl, const char *msg, ...) __attribute__((sentinel));
/* The calling thread's trace context (src/trace): while set, every line of this thread ends with
 * trace_id=… span_id=… (hex, copied). NULL clears it. */
void mgo_log_set_trace(const char *trace_id, const char *span_id);

#endif
