#include "mgo_buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"

void mgo_buf_init(struct mgo_buf *b, size_t max)
{
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

static int buf_reserve(struct mgo_buf *b, size_t extra)
{
  if (extra > b->max || b->len > b->max - extra)
    return MGO_ETOOBIG;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return MGO_OK;
  size_t ncap = b->cap ? b->cap : 64;
  while (ncap < need)
    ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
  char *np = realloc(b->p, ncap);
  if (!np)
    return MGO_ENOMEM;
  b->p = np;
  b->cap = ncap;
  return MGO_OK;
}

int mgo_buf_add(struct mgo_buf *b, const void *data, size_t n)
{
  int rc = buf_reserve(b, n);
  if (rc != MGO_OK)
    return rc;
  if (n)
    memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
  return MGO_OK;
}

int mgo_buf_addstr(struct mgo_buf *b, const char *s)
{
  return mgo_buf_add(b, s, strlen(s));
}

static bool needs_json_escape(unsigned char c)
{
  return c == '"' || c == '\\' || c < 0x20;
}

int mgo_buf_add_json_string(struct mgo_buf *b, const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  int rc = mgo_buf_add(b, "\"", 1);
  while (rc == MGO_OK && *p != '\0') {
    const unsigned char *run = p;
    while (*p != '\0' && !needs_json_escape(*p))
      p++;
    if (p > run)
      rc = mgo_buf_add(b, run, (size_t) (p - run));
    if (rc != MGO_OK || *p == '\0')
      break;
    if (*p == '"' || *p == '\\') {
      char esc[2] = {'\\', (char) *p};
      rc = mgo_buf_add(b, esc, 2);
    } else if (*p == '\n') {
      rc = mgo_buf_add(b, "\\n", 2);
    } else {
      rc = mgo_buf_printf(b, "\\u%04x", *p);
    }
    p++;
  }
  return rc == MGO_OK ? mgo_buf_add(b, "\"", 1) : rc;
}

int mgo_buf_vprintf(struct mgo_buf *b, const char *fmt, va_list ap)
{
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  if (n < 0)
    return MGO_EINVAL;
  int rc = buf_reserve(b, (size_t) n);
  if (rc != MGO_OK)
    return rc;
  vsnprintf(b->p + b->len, (size_t) n + 1, fmt, ap);
  b->len += (size_t) n;
  return MGO_OK;
}

int mgo_buf_printf(struct mgo_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = mgo_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void mgo_buf_consume(struct mgo_buf *b, size_t n)
{
  if (n >= b->len) {
    mgo_buf_reset(b);
    return;
  }
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
  b->p[b->len] = '\0';
}

void mgo_buf_reset(struct mgo_buf *b)
{
  b->len = 0;
  if (b->p)
    b->p[0] = '\0';
}

const char *mgo_buf_str(const struct mgo_buf *b)
{
  return b->p ? b->p : "";
}

char *mgo_buf_take(struct mgo_buf *b, size_t *len)
{
  char *p = b->p ? b->p : strdup("");
  if (len)
    *len = b->p ? b->len : 0;
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}

void mgo_buf_free(struct mgo_buf *b)
{
  free(b->p);
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
}

int mgo_strlcpy(char *dst, const char *src, size_t dstsz)
{
  size_t n = strlen(src);
  if (dstsz == 0)
    return MGO_ETOOBIG;
  size_t c = n < dstsz - 1 ? n : dstsz - 1;
  memcpy(dst, src, c);
  dst[c] = '\0';
  return c == n ? MGO_OK : MGO_ETOOBIG;
}

int mgo_snprintf(char *dst, size_t dstsz, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(dst, dstsz, fmt, ap);
  va_end(ap);
  if (n < 0)
    return MGO_EINVAL;
  return (size_t) n < dstsz ? MGO_OK : MGO_ETOOBIG;
}
