#include "k8s_status.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"

#define EXCERPT_MAX 200

void k8s_status_clear(struct k8s_status *st)
{
  st->code = 0;
  st->reason[0] = '\0';
  st->cause[0] = '\0';
  st->message[0] = '\0';
}

int k8s_status_rc(long http_code)
{
  if (http_code >= 200 && http_code < 300)
    return MGO_OK;
  switch (http_code) {
  case 400:
  case 422:
    return MGO_EINVALIDOBJ;
  case 401:
    return MGO_EUNAUTHORIZED;
  case 403:
    return MGO_EFORBIDDEN;
  case 404:
    return MGO_ENOTFOUND;
  case 409:
    return MGO_ECONFLICT;
  case 410:
    return MGO_EGONE;
  case 504:
    return MGO_ETIMEDOUT;
  case 429:
    return MGO_ESERVER;
  default:
    break;
  }
  if (http_code >= 500 && http_code < 600)
    return MGO_ESERVER;
  return MGO_EHTTP;
}

/* Copies at most EXCERPT_MAX bytes of an untrusted body into dst, replacing anything unprintable. */
static void body_excerpt(char *dst, size_t dstsz, const char *body, size_t len)
{
  size_t n = len < EXCERPT_MAX ? len : EXCERPT_MAX;
  if (n > dstsz - 1)
    n = dstsz - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char) body[i];
    char out = '?';
    if (ch >= 0x20 && ch < 0x7f)
      out = (char) ch;
    dst[i] = out;
  }
  dst[n] = '\0';
}

int k8s_status_from_json(struct k8s_status *st, const void *obj)
{
  const json_t *o = obj;
  const char *kind = json_string_value(json_object_get(o, "kind"));
  if (!json_is_object(o) || !kind || strcmp(kind, "Status") != 0)
    return MGO_EPARSE;
  const char *reason = json_string_value(json_object_get(o, "reason"));
  const char *message = json_string_value(json_object_get(o, "message"));
  json_t *code = json_object_get(o, "code");
  const char *cause = json_string_value(
      json_object_get(json_array_get(json_object_get(json_object_get(o, "details"), "causes"), 0), "reason"));
  mgo_strlcpy(st->reason, reason ? reason : "", sizeof(st->reason));
  mgo_strlcpy(st->cause, cause ? cause : "", sizeof(st->cause));
  mgo_strlcpy(st->message, message ? message : "", sizeof(st->message));
  if (st->code == 0 && json_is_integer(code))
    st->code = (long) json_integer_value(code);
  return MGO_OK;
}

int k8s_status_from_response(struct k8s_status *st, long http_code, const char *body, size_t len)
{
  k8s_status_clear(st);
  st->code = http_code;
  int rc = k8s_status_rc(http_code);
  if (!body || len == 0)
    return rc;
  json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
  int prc = o ? k8s_status_from_json(st, o) : MGO_EPARSE;
  json_decref(o);
  if (prc != MGO_OK && rc != MGO_OK)
    body_excerpt(st->message, sizeof(st->message), body, len);
  return rc;
}

int k8s_status_local(struct k8s_status *st, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  k8s_status_clear(st);
  /* the analyzer loses track of va_start across the clear() call above (false positive) */
  vsnprintf(st->message, sizeof(st->message), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(ap);
  return rc;
}
