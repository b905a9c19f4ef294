/* Cron expressions in UTC (see backup_cron.h): a parser into bit sets, and a day-by-day search for the
 * next matching minute over the civil calendar of backup_civil.h. */
#include "backup_cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "backup_civil.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#define NFIELDS 5
#define QUOTE_MAX 20                     /* bytes of a bad token quoted in a detail */
#define LAST_AFTER INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define SATURATED 100000                 /* a number this large is out of every range */

struct span {
  const char *p;
  size_t n;
};

struct field_def {
  const char *name;
  int lo, hi;
  const char *const *names; /* 3-letter names of lo, lo+1, ... (NULL: numbers only) */
  const char *names_hint;
};

static const char *const MONTHS[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
                                     "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const WEEKDAYS[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const struct field_def FIELDS[NFIELDS] = {
    {"minute", 0, 59, NULL, NULL},
    {"hour", 0, 23, NULL, NULL},
    {"day-of-month", 1, 31, NULL, NULL},
    {"month", 1, 12, MONTHS, "a month name (JAN-DEC)"},
    {"day-of-week", 0, 7, WEEKDAYS, "a weekday name (SUN-SAT)"},
};

static const struct {
  const char *name;
  const char *expr;
} MACROS[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

/* The field being parsed, for the detail's "field N (name): " prefix. */
struct fparse {
  int index;
  const struct field_def *def;
  char *detail;
  size_t detailsz;
};

static int fail(char *detail, size_t detailsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *detail, size_t detailsz, const char *fmt, ...)
{
  va_list ap;
  if (detail != NULL && detailsz > 0) {
    va_start(ap, fmt);
    (void) vsnprintf(detail, detailsz, fmt, ap);
    va_end(ap);
  }
  return MGO_EINVAL;
}

static int ffail(const struct fparse *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ffail(const struct fparse *f, const char *fmt, ...)
{
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  (void) vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return fail(f->detail, f->detailsz, "field %d (%s): %s", f->index + 1, f->def->name, msg);
}

static int quote_len(struct span s)
{
  return (int) (s.n < QUOTE_MAX ? s.n : QUOTE_MAX);
}

static bool all_digits(struct span s)
{
  for (size_t i = 0; i < s.n; i++) {
    if (s.p[i] < '0' || s.p[i] > '9')
      return false;
  }
  return s.n > 0;
}

/* A decimal number, saturated at SATURATED (so "99999999999" is simply out of range). */
static int number_of(struct span s)
{
  int v = 0;
  for (size_t i = 0; i < s.n && v < SATURATED; i++)
    v = v * 10 + (s.p[i] - '0');
  return v < SATURATED ? v : SATURATED;
}

static int name_value(const struct field_def *def, struct span s)
{
  if (def->names == NULL || s.n != 3)
    return -1;
  for (int i = 0; def->names[i] != NULL; i++) {
    if (strncasecmp(def->names[i], s.p, 3) == 0)
      return def->lo + i;
  }
  return -1;
}

/* One value of the field: a number within its range, or one of its names. */
static int parse_value(const struct fparse *f, struct span s, int *v)
{
  *v = 0;
  if (s.n == 0)
    return ffail(f, "a range needs a value on both sides of '-'");
  if (!all_digits(s)) {
    *v = name_value(f->def, s);
    if (*v >= 0)
      return MGO_OK;
    if (f->def->names != NULL)
      return ffail(f, "\"%.*s\" is not a number or %s", quote_len(s), s.p, f->def->names_hint);
    return ffail(f, "\"%.*s\" is not a number", quote_len(s), s.p);
  }
  *v = number_of(s);
  if (*v < f->def->lo || *v > f->def->hi)
    return ffail(f, "%.*s is out of range %d-%d", quote_len(s), s.p, f->def->lo, f->def->hi);
  return MGO_OK;
}

static const char *find_char(struct span s, char ch)
{
  return s.n > 0 ? memchr(s.p, ch, s.n) : NULL;
}

/* The range of an item without its step: "*", "a-b" or "a" (lo == hi). */
static int parse_base(const struct fparse *f, struct span s, int *lo, int *hi)
{
  const char *dash = find_char(s, '-');
  int rc;
  if (s.n == 1 && s.p[0] == '*') {
    *lo = f->def->lo;
    *hi = f->def->hi;
    return MGO_OK;
  }
  if (dash == NULL) {
    rc = parse_value(f, s, lo);
    *hi = *lo;
    return rc;
  }
  struct span a = {s.p, (size_t) (dash - s.p)}, b = {dash + 1, s.n - (size_t) (dash - s.p) - 1};
  if ((rc = parse_value(f, a, lo)) != MGO_OK || (rc = parse_value(f, b, hi)) != MGO_OK)
    return rc;
  if (*lo > *hi)
    return ffail(f, "range %.*s goes backwards: write it low-high", quote_len(s), s.p);
  return MGO_OK;
}

/* One item of a list: "*", "v", "a-b", "* /n" or "a-b/n", added to *bits. */
static int parse_item(const struct fparse *f, struct span s, uint64_t *bits)
{
  const char *slash = find_char(s, '/');
  struct span base = s;
  int lo, hi, step = 1, rc;
  if (slash != NULL) {
    struct span st = {slash + 1, s.n - (size_t) (slash - s.p) - 1};
    base.n = (size_t) (slash - s.p);
    if (!all_digits(st))
      return ffail(f, "step \"%.*s\" is not a number", quote_len(st), st.p);
    step = number_of(st);
    if (step == 0)
      return ffail(f, "step 0 must be at least 1");
  }
  if ((rc = parse_base(f, base, &lo, &hi)) != MGO_OK)
    return rc;
  if (slash != NULL && find_char(base, '-') == NULL && !(base.n == 1 && base.p[0] == '*'))
    return ffail(f, "%.*s needs a range before the step: write %d-%d/%d or */%d", quote_len(s), s.p, lo,
                 f->def->hi, step, step);
  for (int v = lo; v <= hi && v >= 0 && v < 64; v += step)
    *bits |= UINT64_C(1) << (f->def->hi == 7 && v == 7 ? 0 : v); /* day-of-week 7 is Sunday */
  return MGO_OK;
}

/* A comma-separated list of items. */
static int parse_field(const struct fparse *f, struct span s, uint64_t *bits)
{
  size_t start = 0;
  *bits = 0;
  for (size_t i = 0; i <= s.n; i++) {
    if (i < s.n && s.p[i] != ',')
      continue;
    struct span item = {s.p + start, i - start};
    if (item.n == 0)
      return ffail(f, "empty item in the list \"%.*s\"", quote_len(s), s.p);
    int rc = parse_item(f, item, bits);
    if (rc != MGO_OK)
      return rc;
    start = i + 1;
  }
  return MGO_OK;
}

static bool is_blank(char c)
{
  return c == ' ' || c == '\t';
}

/* Splits expr at blanks into at most NFIELDS + 1 spans; *count is the number of fields found (all of them,
 * for the "got N" of the detail). MGO_EINVAL on a character that is neither blank nor printable ASCII. */
static int split_fields(const char *expr, struct span *out, int *count, char *detail, size_t detailsz)
{
  *count = 0;
  for (size_t i = 0; expr[i] != '\0';) {
    if (is_blank(expr[i])) {
      i++;
      continue;
    }
    size_t start = i;
    for (; expr[i] != '\0' && !is_blank(expr[i]); i++) {
      unsigned char c = (unsigned char) expr[i];
      if (c < 0x21 || c > 0x7e)
        return fail(detail, detailsz, "character 0x%02x at position %zu is not allowed", c, i + 1);
    }
    if (*count < NFIELDS)
      out[*count] = (struct span){expr + start, i - start};
    (*count)++;
  }
  return MGO_OK;
}

static const char *macro_expr(struct span s)
{
  for (size_t i = 0; i < sizeof(MACROS) / sizeof(MACROS[0]); i++) {
    if (strlen(MACROS[i].name) == s.n && strncasecmp(MACROS[i].name, s.p, s.n) == 0)
      return MACROS[i].expr;
  }
  return NULL;
}

static int parse_fields(const struct span *f, struct backup_cron *out, char *detail, size_t detailsz)
{
  uint64_t bits[NFIELDS];
  for (int i = 0; i < NFIELDS; i++) {
    struct fparse fp = {i, &FIELDS[i], detail, detailsz};
    int rc = parse_field(&fp, f[i], &bits[i]);
    if (rc != MGO_OK)
      return rc;
  }
  out->minutes = bits[0];
  out->hours = (uint32_t) bits[1];
  out->days = (uint32_t) bits[2];
  out->months = (uint16_t) bits[3];
  out->weekdays = (uint8_t) bits[4];
  out->days_star = f[2].p[0] == '*';
  out->weekdays_star = f[4].p[0] == '*';
  return MGO_OK;
}

static int parse_expr(const char *expr, struct backup_cron *out, char *detail, size_t detailsz)
{
  struct span f[NFIELDS];
  int n, rc;
  if (expr == NULL)
    return fail(detail, detailsz, "no schedule given");
  if (strnlen(expr, BACKUP_CRON_MAX + 1) > BACKUP_CRON_MAX)
    return fail(detail, detailsz, "longer than %d characters", BACKUP_CRON_MAX);
  if ((rc = split_fields(expr, f, &n, detail, detailsz)) != MGO_OK)
    return rc;
  if (n >= 1 && f[0].p[0] == '@') {
    const char *m = macro_expr(f[0]);
    if (m == NULL)
      return fail(
          detail, detailsz,
          "unknown macro \"%.*s\": use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly",
          quote_len(f[0]), f[0].p);
    if (n > 1)
      return fail(detail, detailsz, "%.*s takes no fields after it", quote_len(f[0]), f[0].p);
    return parse_expr(m, out, detail, detailsz);
  }
  if (n != NFIELDS)
    return fail(detail, detailsz, "expected 5 fields, got %d", n);
  return parse_fields(f, out, detail, detailsz);
}

int backup_cron_parse(const char *expr, struct backup_cron *out, char *detail, size_t detailsz)
{
  if (detail != NULL && detailsz > 0)
    detail[0] = '\0';
  memset(out, 0, sizeof(*out));
  int rc = parse_expr(expr, out, detail, detailsz);
  if (rc != MGO_OK)
    memset(out, 0, sizeof(*out));
  return rc;
}

static bool bit(uint64_t set, int i)
{
  return (set >> i & 1) != 0;
}

static bool day_matches(const struct backup_cron *c, const struct backup_civil *cv)
{
  bool dom = bit(c->days, cv->day), dow = bit(c->weekdays, cv->weekday);
  if (!bit(c->months, cv->month))
    return false;
  if (c->days_star || c->weekdays_star)
    return dom && dow;
  return dom || dow;
}

bool backup_cron_matches(const struct backup_cron *c, int64_t t)
{
  struct backup_civil cv;
  backup_civil_from_unix(t, &cv);
  return bit(c->minutes, cv.minute) && bit(c->hours, cv.hour) && day_matches(c, &cv);
}

/* The first matching minute of the day at or after minute `from` (0-1439), or -1. */
static int first_in_day(const struct backup_cron *c, int from)
{
  for (int h = from / 60; h < 24; h++) {
    if (!bit(c->hours, h))
      continue;
    for (int m = h == from / 60 ? from % 60 : 0; m < 60; m++) {
      if (bit(c->minutes, m))
        return h * 60 + m;
    }
  }
  return -1;
}

int64_t backup_cron_next(const struct backup_cron *c, int64_t after)
{
  if (after < 0 || after > LAST_AFTER)
    return -1;
  int64_t t = after - after % 60 + 60, day = t / 86400;
  int from = (int) (t % 86400 / 60);
  for (int64_t i = 0; i <= BACKUP_CRON_HORIZON_DAYS; i++, day++, from = 0) {
    struct backup_civil cv;
    backup_civil_from_unix(day * INT64_C(86400), &cv);
    if (!day_matches(c, &cv))
      continue;
    int m = first_in_day(c, from);
    if (m >= 0)
      return day * 86400 + (int64_t) m * 60;
  }
  return -1;
}
