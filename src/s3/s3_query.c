/* AWS percent-encoding, the canonical query string and request URLs (see s3_internal.h). Pure code. */
#include "mgo_err.h"
#include "s3_internal.h"

#include <stdlib.h>
#include <string.h>

static bool unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

int s3_uri_encode(const char *s, bool keep_slash, char *out, size_t outsz)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  if (!s || !out || outsz == 0)
    return MGO_EINVAL;
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    if (unreserved(*p) || (keep_slash && *p == '/')) {
      if (o + 1 >= outsz)
        goto toobig;
      out[o++] = (char) *p;
    } else {
      if (o + 3 >= outsz)
        goto toobig;
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return MGO_OK;
toobig:
  out[0] = '\0';
  return MGO_ETOOBIG;
}

bool s3_bucket_valid(const char *bucket)
{
  size_t n = bucket ? strlen(bucket) : 0;
  if (n < 3 || n > 63)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = bucket[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '.' && c != '-')
      return false;
    if (!alnum && (i == 0 || i == n - 1))
      return false;
  }
  return true;
}

static int qparam_cmp(const void *a, const void *b)
{
  const struct s3_qparam *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  if (c)
    return c;
  return strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

/* Appends the AWS encoding of s (no slash kept). */
static int add_encoded(struct mgo_buf *out, const char *s)
{
  char enc[3 * 1024 + 1];
  int rc = s3_uri_encode(s, false, enc, sizeof(enc));
  return rc ? rc : mgo_buf_addstr(out, enc);
}

int s3_canonical_query(const struct s3_qparam *q, size_t n, struct mgo_buf *out)
{
  struct s3_qparam sorted[16];
  if (n > sizeof(sorted) / sizeof(sorted[0]))
    return MGO_EINVAL;
  if (n == 0)
    return MGO_OK;
  memcpy(sorted, q, n * sizeof(*q));
  qsort(sorted, n, sizeof(*sorted), qparam_cmp);
  for (size_t i = 0; i < n; i++) {
    int rc = i ? mgo_buf_addstr(out, "&") : MGO_OK;
    if (!rc)
      rc = add_encoded(out, sorted[i].key);
    if (!rc)
      rc = mgo_buf_addstr(out, "=");
    if (!rc)
      rc = add_encoded(out, sorted[i].value ? sorted[i].value : "");
    if (rc)
      return rc;
  }
  return MGO_OK;
}

/* Splits "scheme://host[:port][/]" into its scheme ("http://" kept) and host part. */
static int split_endpoint(const char *ep, const char **host, size_t *scheme_len, size_t *host_len)
{
  const char *sep = ep ? strstr(ep, "://") : NULL;
  if (!sep)
    return MGO_ECONFIG;
  *scheme_len = (size_t) (sep - ep) + 3;
  *host = sep + 3;
  *host_len = strcspn(*host, "/?#");
  if (*host_len == 0 || (*host)[*host_len] == '?' || (*host)[*host_len] == '#')
    return MGO_ECONFIG;
  if ((*host)[*host_len] == '/' && (*host)[*host_len + 1] != '\0')
    return MGO_ECONFIG; /* an endpoint with a path is not supported */
  return MGO_OK;
}

int s3_build_url(const struct s3_config *cfg, const char *key, const struct s3_qparam *q, size_t n,
                 struct mgo_buf *out)
{
  const char *host;
  size_t slen, hlen;
  char path[3 * 1024 + 1] = "";
  if (!s3_bucket_valid(cfg->bucket) || split_endpoint(cfg->endpoint, &host, &slen, &hlen))
    return MGO_ECONFIG;
  if (key && (key[0] == '\0' || strlen(key) > 1024))
    return MGO_EINVAL;
  if (key && s3_uri_encode(key, true, path, sizeof(path)))
    return MGO_ETOOBIG;
  int rc = mgo_buf_add(out, cfg->endpoint, slen);
  if (!rc && !cfg->force_path_style)
    rc = mgo_buf_printf(out, "%s.", cfg->bucket);
  if (!rc)
    rc = mgo_buf_add(out, host, hlen);
  if (!rc && cfg->force_path_style)
    rc = mgo_buf_printf(out, "/%s", cfg->bucket);
  if (!rc && (key || !cfg->force_path_style))
    rc = mgo_buf_printf(out, "/%s", path);
  if (!rc && n > 0)
    rc = mgo_buf_addstr(out, "?");
  if (!rc)
    rc = s3_canonical_query(q, n, out);
  return rc;
}
