/* Spans: ids, sampling, the thread's current span, attributes and status. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "trace_int.h"

static _Thread_local struct mgo_span *current;

/* getrandom() bytes, fetched 256 at a time per thread (one system call per ~20 spans, not per id). */
static int system_random(void *arg, uint8_t *buf, size_t n)
{
  static _Thread_local uint8_t pool[256];
  static _Thread_local size_t pos, end;
  (void) arg;
  while (n > 0) {
    size_t take;
    if (pos == end) {
      ssize_t r = getrandom(pool, sizeof(pool), 0);
      if (r <= 0)
        return MGO_ESYS;
      pos = 0;
      end = (size_t) r;
    }
    take = n < end - pos ? n : end - pos;
    memcpy(buf, pool + pos, take);
    memset(pool + pos, 0, take); /* no byte is handed out twice */
    pos += take;
    buf += take;
    n -= take;
  }
  return MGO_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0)
      return false;
  }
  return true;
}

/* A random id that is not all zero (the spec's invalid id). */
static int new_id(const struct mgo_tracer *t, uint8_t *id, size_t n)
{
  int (*rnd)(void *, uint8_t *, size_t) = t->opts.random_bytes ? t->opts.random_bytes : system_random;
  for (int attempt = 0; attempt < 4; attempt++) {
    if (rnd(t->opts.random_arg, id, n) == MGO_OK && !all_zero(id, n))
      return MGO_OK;
  }
  return MGO_ESYS;
}

void mgo_trace__hex(const uint8_t *id, size_t n, char *dst)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    dst[2 * i] = digits[id[i] >> 4];
    dst[2 * i + 1] = digits[id[i] & 15];
  }
  dst[2 * n] = '\0';
}

/* TraceIdRatioBased: the trace id's last 8 bytes, as an integer, below ratio * 2^63 (after a shift). */
static bool ratio_samples(const uint8_t trace_id[16], double ratio)
{
  uint64_t x = 0;
  if (ratio >= 1.0)
    return true;
  for (int i = 8; i < 16; i++)
    x = (x << 8) | trace_id[i];
  return (double) (x >> 1) < ratio * 9223372036854775808.0;
}

static bool root_sampled(const struct mgo_tracer *t, const uint8_t trace_id[16])
{
  switch (t->cfg.sampler) {
  case MGO_SAMPLER_ALWAYS_OFF:
  case MGO_SAMPLER_PARENT_ALWAYS_OFF:
    return false;
  case MGO_SAMPLER_RATIO:
  case MGO_SAMPLER_PARENT_RATIO:
    return ratio_samples(trace_id, t->cfg.ratio);
  default:
    return true;
  }
}

static void make_current(struct mgo_span *s)
{
  current = s;
  if (s != NULL)
    mgo_log_set_trace(s->trace_hex, s->span_hex);
  else
    mgo_log_set_trace(NULL, NULL);
}

static struct mgo_span *start(struct mgo_tracer *t, const uint8_t *trace_id, const struct mgo_span *parent,
                              const char *name, enum mgo_span_kind kind)
{
  struct mgo_span *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NULL;
  s->tracer = t;
  memcpy(s->trace_id, trace_id, sizeof(s->trace_id));
  if (new_id(t, s->span_id, sizeof(s->span_id)) != MGO_OK) {
    free(s);
    return NULL;
  }
  if (parent != NULL) {
    memcpy(s->parent_span_id, parent->span_id, sizeof(s->parent_span_id));
    s->has_parent = true;
  }
  mgo_trace__hex(s->trace_id, sizeof(s->trace_id), s->trace_hex);
  mgo_trace__hex(s->span_id, sizeof(s->span_id), s->span_hex);
  (void) mgo_strlcpy(s->name, name, sizeof(s->name));
  s->kind = kind;
  s->start_ns = mgo_clock_wall_ns(t->opts.clock);
  s->prev = current;
  make_current(s);
  return s;
}

struct mgo_span *mgo_span_root(struct mgo_tracer *t, const char *name, enum mgo_span_kind kind)
{
  uint8_t trace_id[16];
  if (t == NULL || new_id(t, trace_id, sizeof(trace_id)) != MGO_OK || !root_sampled(t, trace_id))
    return NULL;
  return start(t, trace_id, NULL, name, kind);
}

struct mgo_span *mgo_span_child(const char *name, enum mgo_span_kind kind)
{
  struct mgo_span *parent = current;
  if (parent == NULL)
    return NULL;
  return start(parent->tracer, parent->trace_id, parent, name, kind);
}

struct mgo_span *mgo_span_current(void)
{
  return current;
}

static char *copy_text(const char *v)
{
  size_t n = v != NULL ? strnlen(v, MGO_SPAN_TEXT_MAX - 1) : 0;
  char *s = malloc(n + 1);
  if (s != NULL) {
    if (n > 0)
      memcpy(s, v, n);
    s[n] = '\0';
  }
  return s;
}

/* The attribute slot of key (its old value released), or NULL when the span is full. */
static struct mgo_span_attr *slot(struct mgo_span *s, const char *key)
{
  for (size_t i = 0; i < s->nattrs; i++) {
    if (strcmp(s->attrs[i].key, key) == 0) {
      free(s->attrs[i].s);
      s->attrs[i].s = NULL;
      return &s->attrs[i];
    }
  }
  if (s->nattrs >= MGO_SPAN_ATTRS_MAX) {
    s->dropped_attrs++;
    return NULL;
  }
  s->attrs[s->nattrs].key = key;
  return &s->attrs[s->nattrs++];
}

void mgo_span_set_str(struct mgo_span *s, const char *key, const char *value)
{
  struct mgo_span_attr *a = s != NULL ? slot(s, key) : NULL;
  if (a == NULL)
    return;
  a->type = MGO_ATTR_STRING;
  a->s = copy_text(value);
}

void mgo_span_set_int(struct mgo_span *s, const char *key, int64_t value)
{
  struct mgo_span_attr *a = s != NULL ? slot(s, key) : NULL;
  if (a == NULL)
    return;
  a->type = MGO_ATTR_INT;
  a->i = value;
}

void mgo_span_set_bool(struct mgo_span *s, const char *key, bool value)
{
  struct mgo_span_attr *a = s != NULL ? slot(s, key) : NULL;
  if (a == NULL)
    return;
  a->type = MGO_ATTR_BOOL;
  a->b = value;
}

void mgo_span_set_error(struct mgo_span *s, const char *fmt, ...)
{
  char msg[MGO_SPAN_TEXT_MAX];
  va_list ap;
  if (s == NULL)
    return;
  va_start(ap, fmt);
  (void) vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  free(s->status_message);
  s->status_message = copy_text(msg);
  s->status = MGO_SPAN_ERROR;
}

void mgo_span_set_ok(struct mgo_span *s)
{
  if (s == NULL)
    return;
  free(s->status_message);
  s->status_message = NULL;
  s->status = MGO_SPAN_OK;
}

void mgo_trace__span_free(struct mgo_span *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->nattrs; i++)
    free(s->attrs[i].s);
  free(s->status_message);
  free(s);
}

void mgo_span_end(struct mgo_span *s)
{
  if (s == NULL)
    return;
  s->end_ns = mgo_clock_wall_ns(s->tracer->opts.clock);
  if (current == s)
    make_current(s->prev);
  s->prev = NULL;
  mgo_trace__enqueue(s->tracer, s);
}

static bool is_keyword_char(char c)
{
  return (c >= 'A' && c <= 'Z') || c == '_';
}

void mgo_trace_statement_kind(const char *query, char *dst, size_t dstsz)
{
  const char *p = query != NULL ? query : "";
  size_t n = 0;
  if (dstsz == 0)
    return;
  for (int words = 0; words < 3; words++) {
    const char *w;
    while (*p == ' ' || *p == '\t' || *p == '\n')
      p++;
    w = p;
    while (is_keyword_char(*p))
      p++;
    if (p == w || (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != ';'))
      break; /* not a keyword (a name, a literal): nothing of the data goes out */
    if (n > 0 && n + 1 < dstsz)
      dst[n++] = ' ';
    for (; w < p && n + 1 < dstsz; w++)
      dst[n++] = *w;
  }
  dst[n] = '\0';
}
