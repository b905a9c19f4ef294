/* Names of scheduled backups and S3 keys (see backup_names.h). */
#include "backup_names.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backup_civil.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#define STAMP_LEN 14                                         /* YYYYMMDDHHMMSS */
#define HASH_LEN 8                                           /* hex digits of the FNV-1a hash */
#define CUT_LEN (BACKUP_NAME_LEN - STAMP_LEN - HASH_LEN - 2) /* 39: what is kept of a long cluster name */
#define QUOTE_MAX 64                                         /* bytes of a bad value quoted in a detail */
#define LAST_TIME INT64_C(253402300799)                      /* 9999-12-31T23:59:59Z */

static int fail(char *detail, size_t detailsz, char *dst, size_t dstsz, int rc, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int fail(char *detail, size_t detailsz, char *dst, size_t dstsz, int rc, const char *fmt, ...)
{
  va_list ap;
  if (dst != NULL && dstsz > 0)
    dst[0] = '\0';
  if (detail != NULL && detailsz > 0) {
    va_start(ap, fmt);
    (void) vsnprintf(detail, detailsz, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static void clear(char *s, size_t sz)
{
  if (s != NULL && sz > 0)
    s[0] = '\0';
}

static bool lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static uint32_t fnv1a(const char *s)
{
  uint32_t h = 2166136261u;
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char) *s) * 16777619u;
  return h;
}

/* A DNS subdomain name; the detail names what is wrong. */
static int check_cluster_name(const char *c, char *detail, size_t detailsz)
{
  size_t n = c != NULL ? strnlen(c, BACKUP_CLUSTER_LEN + 1) : 0;
  if (n == 0)
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "the cluster name is empty");
  if (n > BACKUP_CLUSTER_LEN)
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "the cluster name is longer than %d characters",
                BACKUP_CLUSTER_LEN);
  for (size_t i = 0; i < n; i++) {
    if (!lower_alnum(c[i]) && c[i] != '-' && c[i] != '.')
      return fail(detail, detailsz, NULL, 0, MGO_EINVAL,
                  "the cluster name \"%.*s\" has a character 0x%02x at position %zu: use lowercase letters, "
                  "digits, '-' and '.'",
                  QUOTE_MAX, c, (unsigned char) c[i], i + 1);
  }
  if (!lower_alnum(c[0]) || !lower_alnum(c[n - 1]))
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL,
                "the cluster name \"%.*s\" must begin and end with a lowercase letter or a digit", QUOTE_MAX,
                c);
  return MGO_OK;
}

int backup_scheduled_name(const char *cluster, int64_t t, char *dst, size_t dstsz, char *detail,
                          size_t detailsz)
{
  struct backup_civil cv;
  char stamp[STAMP_LEN + 1];
  int rc = check_cluster_name(cluster, detail, detailsz);
  if (rc != MGO_OK) {
    clear(dst, dstsz);
    return rc;
  }
  if (t < 0 || t > LAST_TIME)
    return fail(detail, detailsz, dst, dstsz, MGO_EINVAL, "time %lld is outside the years 1970-9999",
                (long long) t);
  backup_civil_from_unix(t, &cv);
  (void) mgo_snprintf(stamp, sizeof(stamp), "%04d%02d%02d%02d%02d%02d", (int) cv.year, cv.month, cv.day,
                      cv.hour, cv.minute, cv.second);
  size_t n = strlen(cluster);
  if (n + 1 + STAMP_LEN <= BACKUP_NAME_LEN)
    rc = mgo_snprintf(dst, dstsz, "%s-%s", cluster, stamp);
  else {
    int cut = CUT_LEN;
    while (cut > 0 && !lower_alnum(cluster[cut - 1]))
      cut--; /* a cut name ends like a name: "db-.-x" would not be a valid DNS subdomain */
    rc = mgo_snprintf(dst, dstsz, "%.*s-%08x-%s", cut, cluster, (unsigned) fnv1a(cluster), stamp);
  }
  if (rc != MGO_OK)
    return fail(detail, detailsz, dst, dstsz, rc, "the name does not fit in %zu bytes", dstsz);
  clear(detail, detailsz);
  return MGO_OK;
}

/* One component of a key (what names it in the detail): not empty, not "." or "..", printable ASCII
 * without spaces, and without '/' unless slashes (the prefix: then no leading '/', no "//", no "." or ".."
 * segment; the caller has dropped a trailing '/'). n is the component's length. */
static int check_component(const char *what, const char *s, size_t n, bool slashes, char *detail,
                           size_t detailsz)
{
  if (n == 0)
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "the %s is empty", what);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c < 0x21 || c > 0x7e)
      return fail(
          detail, detailsz, NULL, 0, MGO_EINVAL,
          "the %s has a character 0x%02x at position %zu: only printable ASCII without spaces is allowed",
          what, c, i + 1);
    if (c == '/' && !slashes)
      return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "the %s \"%.*s\" must not contain '/'", what,
                  (int) (n < QUOTE_MAX ? n : QUOTE_MAX), s);
  }
  if (s[0] == '/')
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "the %s must not begin with '/'", what);
  for (size_t start = 0, i = 0; i <= n; i++) {
    if (i < n && s[i] != '/')
      continue;
    size_t len = i - start;
    if (len == 0)
      return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "the %s must not contain \"//\"", what);
    if ((len == 1 && s[start] == '.') || (len == 2 && s[start] == '.' && s[start + 1] == '.'))
      return fail(detail, detailsz, NULL, 0, MGO_EINVAL,
                  slashes ? "the %s must not contain a \".\" or \"..\" segment"
                          : "the %s must not be \".\" or \"..\"",
                  what);
    start = i + 1;
  }
  return MGO_OK;
}

static size_t len_of(const char *s)
{
  return s != NULL ? strnlen(s, BACKUP_KEY_LEN + 1) : 0;
}

/* Appends "<prefix>/<ns>/<cluster>/" to b after checking each component. */
static int add_cluster_prefix(struct mgo_buf *b, const char *prefix, const char *ns, const char *cluster,
                              char *detail, size_t detailsz)
{
  size_t np = len_of(prefix);
  int rc;
  if (np > 0 && prefix[0] == '/')
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "the prefix must not begin with '/'");
  if (np > 0 && prefix[np - 1] == '/')
    np--;
  if (np > 0 && (rc = check_component("prefix", prefix, np, true, detail, detailsz)) != MGO_OK)
    return rc;
  if ((rc = check_component("namespace", ns, len_of(ns), false, detail, detailsz)) != MGO_OK ||
      (rc = check_component("cluster", cluster, len_of(cluster), false, detail, detailsz)) != MGO_OK)
    return rc;
  if (np > 0 && (mgo_buf_add(b, prefix, np) != MGO_OK || mgo_buf_addstr(b, "/") != MGO_OK))
    return MGO_ETOOBIG;
  return mgo_buf_printf(b, "%s/%s/", ns, cluster);
}

/* Copies b into dst (after rc from building it); MGO_ETOOBIG when it does not fit. Frees b. */
static int deliver(struct mgo_buf *b, int rc, char *dst, size_t dstsz, char *detail, size_t detailsz)
{
  size_t limit = dstsz - 1 < BACKUP_KEY_LEN ? dstsz - 1 : BACKUP_KEY_LEN; /* dstsz > 0 */
  if (rc == MGO_OK && mgo_strlcpy(dst, mgo_buf_str(b), dstsz) != MGO_OK)
    rc = MGO_ETOOBIG;
  mgo_buf_free(b);
  if (rc == MGO_ETOOBIG)
    return fail(detail, detailsz, dst, dstsz, rc, "the key would be longer than %zu bytes", limit);
  if (rc == MGO_ENOMEM)
    return fail(detail, detailsz, dst, dstsz, rc, "out of memory");
  if (rc != MGO_OK) {
    clear(dst, dstsz);
    return rc;
  }
  clear(detail, detailsz);
  return MGO_OK;
}

int backup_cluster_prefix(const char *prefix, const char *ns, const char *cluster, char *dst, size_t dstsz,
                          char *detail, size_t detailsz)
{
  struct mgo_buf b = MGO_BUF_INIT(BACKUP_KEY_LEN);
  if (dst == NULL || dstsz == 0)
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "no buffer for the key");
  return deliver(&b, add_cluster_prefix(&b, prefix, ns, cluster, detail, detailsz), dst, dstsz, detail,
                 detailsz);
}

int backup_s3_key(const char *prefix, const char *ns, const char *cluster, const char *backup,
                  const char *file, char *dst, size_t dstsz, char *detail, size_t detailsz)
{
  struct mgo_buf b = MGO_BUF_INIT(BACKUP_KEY_LEN);
  int rc;
  if (dst == NULL || dstsz == 0)
    return fail(detail, detailsz, NULL, 0, MGO_EINVAL, "no buffer for the key");
  rc = add_cluster_prefix(&b, prefix, ns, cluster, detail, detailsz);
  if (rc == MGO_OK)
    rc = check_component("backup name", backup, len_of(backup), false, detail, detailsz);
  if (rc == MGO_OK)
    rc = check_component("snapshot file", file, len_of(file), false, detail, detailsz);
  if (rc == MGO_OK)
    rc = mgo_buf_printf(&b, "%s/%s", backup, file);
  return deliver(&b, rc, dst, dstsz, detail, detailsz);
}

bool backup_key_under_cluster(const char *prefix, const char *ns, const char *cluster, const char *key)
{
  char base[BACKUP_KEY_LEN + 1];
  size_t n, nk = len_of(key);
  if (key == NULL || nk > BACKUP_KEY_LEN)
    return false;
  if (backup_cluster_prefix(prefix, ns, cluster, base, sizeof(base), NULL, 0) != MGO_OK)
    return false;
  n = strlen(base);
  if (nk <= n || strncmp(key, base, n) != 0)
    return false;
  return check_component("key", key + n, nk - n, true, NULL, 0) == MGO_OK && key[nk - 1] != '/';
}
