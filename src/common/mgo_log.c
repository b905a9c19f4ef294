#include "mgo_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define LOG_LINE_MAX ((size_t) 64 * 1024)

static enum mgo_log_level log_min = MGO_LOG_INFO;
static enum mgo_log_format log_fmt = MGO_LOG_LOGFMT;
static FILE *log_out;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static _Thread_local char log_trace_id[33], log_span_id[17];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void mgo_log_setup(enum mgo_log_level min, enum mgo_log_format fmt, FILE *out)
{
  log_min = min;
  log_fmt = fmt;
  log_out = out;
}

void mgo_log_set_trace(const char *trace_id, const char *span_id)
{
  (void) mgo_strlcpy(log_trace_id, trace_id != NULL ? trace_id : "", sizeof(log_trace_id));
  (void) mgo_strlcpy(log_span_id, span_id != NULL ? span_id : "", sizeof(log_span_id));
}

int mgo_log_parse_level(const char *s, enum mgo_log_level *out)
{
  for (int i = 0; i < 4; i++) {
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum mgo_log_level) i;
      return MGO_OK;
    }
  }
  return MGO_EINVAL;
}

int mgo_log_parse_format(const char *s, enum mgo_log_format *out)
{
  if (strcmp(s, "logfmt") == 0)
    *out = MGO_LOG_LOGFMT;
  else if (strcmp(s, "json") == 0)
    *out = MGO_LOG_JSON;
  else
    return MGO_EINVAL;
  return MGO_OK;
}

int mgo_log_enabled(enum mgo_log_level lvl)
{
  return lvl >= log_min;
}

/* Appends s quoted for JSON (also valid for logfmt, whose quoting follows the same escapes). */
static void add_quoted(struct mgo_buf *b, const char *s)
{
  (void) mgo_buf_add_json_string(b, s);
}

static int needs_quotes(const char *s)
{
  if (*s == '\0')
    return 1;
  for (; *s; s++) {
    if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\')
      return 1;
  }
  return 0;
}

static void add_field(struct mgo_buf *b, const char *k, const char *v, int first)
{
  if (log_fmt == MGO_LOG_JSON) {
    if (!first)
      mgo_buf_add(b, ",", 1);
    add_quoted(b, k);
    mgo_buf_add(b, ":", 1);
    add_quoted(b, v);
    return;
  }
  if (!first)
    mgo_buf_add(b, " ", 1);
  mgo_buf_addstr(b, k);
  mgo_buf_add(b, "=", 1);
  if (needs_quotes(v))
    add_quoted(b, v);
  else
    mgo_buf_addstr(b, v);
}

/* Appends the key/value pairs of a NULL-terminated argument list. */
static void add_fields(struct mgo_buf *b, va_list ap)
{
  for (;;) {
    const char *k = va_arg(ap, const char *);
    if (!k)
      break;
    const char *v = va_arg(ap, const char *);
    add_field(b, k, v ? v : "", 0);
  }
}

void mgo_log(enum mgo_log_level lvl, const char *msg, ...)
{
  if (!mgo_log_enabled(lvl))
    return;
  char ts[40];
  mgo_clock_format_now(NULL, 3, ts, sizeof ts);

  struct mgo_buf b = MGO_BUF_INIT(LOG_LINE_MAX);
  if (log_fmt == MGO_LOG_JSON)
    mgo_buf_add(&b, "{", 1);
  add_field(&b, "ts", ts, 1);
  add_field(&b, "level", level_names[lvl], 0);
  add_field(&b, "msg", msg, 0);
  va_list ap;
  va_start(ap, msg);
  add_fields(&b, ap);
  va_end(ap);
  if (log_trace_id[0] != '\0') {
    add_field(&b, "trace_id", log_trace_id, 0);
    add_field(&b, "span_id", log_span_id, 0);
  }
  if (log_fmt == MGO_LOG_JSON)
    mgo_buf_add(&b, "}", 1);
  mgo_buf_add(&b, "\n", 1);

  pthread_mutex_lock(&log_lock);
  FILE *out = log_out ? log_out : stderr;
  fwrite(mgo_buf_str(&b), 1, b.len, out);
  fflush(out);
  pthread_mutex_unlock(&log_lock);
  mgo_buf_free(&b);
}
