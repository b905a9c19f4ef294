/* Unit tests for the cron schedules of backups (src/backup/backup_cron.c) and the civil calendar under
 * them (backup_civil.c): tables of expressions with the next run after a given time, tables of invalid
 * expressions with their exact details, and a seeded random loop checking next() against matches() and a
 * minute-by-minute search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "backup_civil.h"
#include "backup_cron.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"

static int64_t at(const char *rfc3339)
{
  int64_t ms = 0;
  assert_int_equal(mgo_time_parse_rfc3339(rfc3339, &ms), MGO_OK);
  return ms / 1000;
}

static struct backup_cron parsed(const char *expr)
{
  struct backup_cron c;
  char detail[200];
  int rc = backup_cron_parse(expr, &c, detail, sizeof(detail));
  if (rc != MGO_OK)
    fail_msg("\"%s\": %s", expr, detail);
  assert_string_equal(detail, "");
  return c;
}

/* Expected values computed independently (a Python brute force over datetime, hand-checked). */
static const struct {
  const char *expr, *after, *next; /* next NULL: no run within the horizon */
} NEXT[] = {
    {"* * * * *", "2026-12-02T03:04:05Z", "2026-12-02T03:05:00Z"},
    {"* * * * *", "2026-12-02T03:04:00Z", "2026-12-02T03:05:00Z"},
    {"30 * * * *", "2026-12-02T03:04:05Z", "2026-12-02T03:30:00Z"},
    {"30 * * * *", "2026-12-02T03:30:00Z", "2026-12-02T04:30:00Z"},
    {"0 0 * * *", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"},
    {"*/15 * * * *", "2026-12-02T03:04:00Z", "2026-12-02T03:15:00Z"},
    {"*/15 * * * *", "2026-12-02T03:45:00Z", "2026-12-02T04:00:00Z"},
    {"10-20/5 * * * *", "2026-12-02T03:16:00Z", "2026-12-02T03:20:00Z"},
    {"10-20/5 * * * *", "2026-12-02T03:20:00Z", "2026-12-02T04:10:00Z"},
    {"5,10,50 * * * *", "2026-12-02T03:11:00Z", "2026-12-02T03:50:00Z"},
    {"0 9-17/4 * * *", "2026-12-02T10:00:00Z", "2026-12-02T13:00:00Z"},
    {"0 9-17/4 * * *", "2026-12-02T17:00:00Z", "2026-12-03T09:00:00Z"},
    {"15 2,14 * * *", "2026-12-02T14:15:00Z", "2026-12-03T02:15:00Z"},
    {"0 0 31 * *", "2026-04-15T00:00:00Z", "2026-05-31T00:00:00Z"},
    {"0 0 31 * *", "2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z"},
    {"0 0 30 * *", "2026-01-30T12:00:00Z", "2026-03-30T00:00:00Z"},
    {"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
    {"0 0 29 2 *", "2028-02-28T23:59:00Z", "2028-02-29T00:00:00Z"},
    {"0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
    {"0 0 28 2 *", "2099-03-01T00:00:00Z", "2100-02-28T00:00:00Z"},
    {"0 0 * * 0", "2026-12-02T03:04:05Z", "2026-12-06T00:00:00Z"},
    {"0 0 * * 7", "2026-12-02T03:04:05Z", "2026-12-06T00:00:00Z"},
    {"0 0 * * sun", "2026-12-02T03:04:05Z", "2026-12-06T00:00:00Z"},
    {"0 0 * * 5-7", "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z"},
    {"0 0 * * 5-7", "2026-12-06T00:00:00Z", "2026-12-11T00:00:00Z"},
    {"0 0 * * FRI-SAT", "2026-12-02T03:04:05Z", "2026-12-04T00:00:00Z"},
    {"0 0 13 * FRI", "2026-12-02T03:04:05Z", "2026-12-04T00:00:00Z"},
    {"0 0 13 * FRI", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z"},
    {"0 0 13 * 5", "2026-12-13T00:00:00Z", "2026-12-18T00:00:00Z"},
    {"0 0 */2 * FRI", "2026-12-02T03:04:05Z", "2026-12-11T00:00:00Z"},
    {"0 0 * 2 1", "2026-12-02T03:04:05Z", "2027-02-01T00:00:00Z"},
    {"0 0 1 * MON-FRI", "2026-12-02T03:04:05Z", "2026-12-03T00:00:00Z"},
    {"0 0 1 JAN,jul *", "2026-12-02T03:04:05Z", "2027-01-01T00:00:00Z"},
    {"0 0 1 Jan,JUL *", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"},
    {"0 0 1 feb-apr/2 *", "2026-12-02T03:04:05Z", "2027-02-01T00:00:00Z"},
    {"59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
    {"0 12 * * mon-fri", "2026-12-04T12:00:00Z", "2026-12-07T12:00:00Z"},
    {"@yearly", "2026-12-02T03:04:05Z", "2027-01-01T00:00:00Z"},
    {"@annually", "2026-12-02T03:04:05Z", "2027-01-01T00:00:00Z"},
    {"@monthly", "2026-12-02T03:04:05Z", "2027-01-01T00:00:00Z"},
    {"@weekly", "2026-12-02T03:04:05Z", "2026-12-06T00:00:00Z"},
    {"@daily", "2026-12-02T03:04:05Z", "2026-12-03T00:00:00Z"},
    {"@midnight", "2026-12-02T03:04:05Z", "2026-12-03T00:00:00Z"},
    {"@hourly", "2026-12-02T03:04:05Z", "2026-12-02T04:00:00Z"},
    {"@hourly", "2026-12-02T03:59:59Z", "2026-12-02T04:00:00Z"},
    {"0 0 30 2 *", "2026-12-02T03:04:05Z", NULL},
    {"0 0 31 4,6,9,11 *", "2026-12-02T03:04:05Z", NULL},
    {"0 0 1 1 *", "1970-01-01T00:00:00Z", "1971-01-01T00:00:00Z"},
    {"*/1 * * * *", "2026-12-02T03:04:05Z", "2026-12-02T03:05:00Z"},
    {"0-59/30 */6 * * *", "2026-12-02T03:04:05Z", "2026-12-02T06:00:00Z"},
    {"@HOURLY", "2026-12-02T03:04:05Z", "2026-12-02T04:00:00Z"},
    {"  0\t0  *  *  *  ", "2026-12-02T03:04:05Z", "2026-12-03T00:00:00Z"},
};

static void next_runs(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(NEXT) / sizeof(NEXT[0]); i++) {
    struct backup_cron c = parsed(NEXT[i].expr);
    int64_t got = backup_cron_next(&c, at(NEXT[i].after));
    char text[40] = "none";
    if (got >= 0)
      assert_int_equal(mgo_time_format_rfc3339(got * 1000000000, 0, text, sizeof(text)), MGO_OK);
    if (strcmp(text, NEXT[i].next != NULL ? NEXT[i].next : "none") != 0)
      fail_msg("\"%s\" after %s: got %s, want %s", NEXT[i].expr, NEXT[i].after, text,
               NEXT[i].next != NULL ? NEXT[i].next : "none");
    if (got >= 0)
      assert_true(backup_cron_matches(&c, got));
  }
}

static void out_of_range_times_have_no_next_run(void **state)
{
  (void) state;
  struct backup_cron c = parsed("* * * * *");
  assert_int_equal(backup_cron_next(&c, -1), -1);
  assert_int_equal(backup_cron_next(&c, INT64_MAX), -1);
  assert_int_equal(backup_cron_next(&c, at("9999-12-31T23:58:59Z")), at("9999-12-31T23:59:00Z"));
  assert_int_equal(backup_cron_next(&c, 0), 60);
}

static void fields_become_bit_sets(void **state)
{
  (void) state;
  struct backup_cron c = parsed("0-59/20 1,3 31 DEC 7");
  assert_int_equal(c.minutes, (UINT64_C(1) << 0) | (UINT64_C(1) << 20) | (UINT64_C(1) << 40));
  assert_int_equal(c.hours, (1u << 1) | (1u << 3));
  assert_int_equal(c.days, 1u << 31);
  assert_int_equal(c.months, 1u << 12);
  assert_int_equal(c.weekdays, 1u); /* 7 is Sunday */
  assert_false(c.days_star);
  assert_false(c.weekdays_star);
  c = parsed("* * */2 * *");
  assert_true(c.days_star); /* Vixie: a field beginning with '*' counts as unrestricted for the OR rule */
  assert_true(c.weekdays_star);
  assert_int_equal(c.weekdays, 0x7f);
  assert_int_equal(c.months, 0x1ffe);
  c = parsed("* * * * 0-7");
  assert_int_equal(c.weekdays, 0x7f);
}

static const struct {
  const char *expr, *detail;
} BAD[] = {
    {"", "expected 5 fields, got 0"},
    {" \t ", "expected 5 fields, got 0"},
    {"* * * *", "expected 5 fields, got 4"},
    {"* * * * * *", "expected 5 fields, got 6"},
    {"0 0 * * * extra words", "expected 5 fields, got 7"},
    {"0 24 * * *", "field 2 (hour): 24 is out of range 0-23"},
    {"60 * * * *", "field 1 (minute): 60 is out of range 0-59"},
    {"* * 0 * *", "field 3 (day-of-month): 0 is out of range 1-31"},
    {"* * 32 * *", "field 3 (day-of-month): 32 is out of range 1-31"},
    {"* * * 0 *", "field 4 (month): 0 is out of range 1-12"},
    {"* * * 13 *", "field 4 (month): 13 is out of range 1-12"},
    {"* * * * 8", "field 5 (day-of-week): 8 is out of range 0-7"},
    {"99999999999 * * * *", "field 1 (minute): 99999999999 is out of range 0-59"},
    {"0 1-24 * * *", "field 2 (hour): 24 is out of range 0-23"},
    {"* * * FOO *", "field 4 (month): \"FOO\" is not a number or a month name (JAN-DEC)"},
    {"* * * January *", "field 4 (month): \"January\" is not a number or a month name (JAN-DEC)"},
    {"* * * * FRIDAY", "field 5 (day-of-week): \"FRIDAY\" is not a number or a weekday name (SUN-SAT)"},
    {"* * * MON *", "field 4 (month): \"MON\" is not a number or a month name (JAN-DEC)"},
    {"x * * * *", "field 1 (minute): \"x\" is not a number"},
    {"JAN * * * *", "field 1 (minute): \"JAN\" is not a number"},
    {"* * SUN * *", "field 3 (day-of-month): \"SUN\" is not a number"},
    {"** * * * *", "field 1 (minute): \"**\" is not a number"},
    {"*-5 * * * *", "field 1 (minute): \"*\" is not a number"},
    {"1-2-3 * * * *", "field 1 (minute): \"2-3\" is not a number"},
    {"-5 * * * *", "field 1 (minute): a range needs a value on both sides of '-'"},
    {"5- * * * *", "field 1 (minute): a range needs a value on both sides of '-'"},
    {"*/0 * * * *", "field 1 (minute): step 0 must be at least 1"},
    {"*/x * * * *", "field 1 (minute): step \"x\" is not a number"},
    {"*/ * * * *", "field 1 (minute): step \"\" is not a number"},
    {"*/5/2 * * * *", "field 1 (minute): step \"5/2\" is not a number"},
    {"5/10 * * * *", "field 1 (minute): 5/10 needs a range before the step: write 5-59/10 or */10"},
    {"0 3/2 * * *", "field 2 (hour): 3/2 needs a range before the step: write 3-23/2 or */2"},
    {"30-10 * * * *", "field 1 (minute): range 30-10 goes backwards: write it low-high"},
    {"0 0 * * SAT-SUN", "field 5 (day-of-week): range SAT-SUN goes backwards: write it low-high"},
    {"1,,2 * * * *", "field 1 (minute): empty item in the list \"1,,2\""},
    {"1, * * * *", "field 1 (minute): empty item in the list \"1,\""},
    {",1 * * * *", "field 1 (minute): empty item in the list \",1\""},
    {"@reboot",
     "unknown macro \"@reboot\": use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"},
    {"@every 5m", "unknown macro \"@every\": use @yearly, @annually, @monthly, @weekly, @daily, @midnight or "
                  "@hourly"},
    {"@daily 5", "@daily takes no fields after it"},
    {"0 0 * * *\n", "character 0x0a at position 10 is not allowed"},
    {"0 0 * * \xc3\xa9", "character 0xc3 at position 9 is not allowed"},
    {NULL, "no schedule given"},
};

static void invalid_expressions_say_what_to_fix(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
    struct backup_cron c;
    char detail[200] = "untouched";
    memset(&c, 0xff, sizeof(c));
    int rc = backup_cron_parse(BAD[i].expr, &c, detail, sizeof(detail));
    if (rc != MGO_EINVAL || strcmp(detail, BAD[i].detail) != 0)
      fail_msg("\"%s\": rc %d, detail \"%s\", want \"%s\"", BAD[i].expr ? BAD[i].expr : "(null)", rc, detail,
               BAD[i].detail);
    assert_int_equal(c.minutes | c.hours | c.days | c.months | c.weekdays, 0);
  }
}

static void long_expressions_and_small_details(void **state)
{
  (void) state;
  struct backup_cron c;
  char expr[BACKUP_CRON_MAX + 2], detail[200], small[12];
  memset(expr, ' ', sizeof(expr));
  memcpy(expr, "0 0 * * *", 9);
  expr[BACKUP_CRON_MAX] = '\0'; /* exactly the limit: blanks after the fields are fine */
  assert_int_equal(backup_cron_parse(expr, &c, detail, sizeof(detail)), MGO_OK);
  expr[BACKUP_CRON_MAX] = ' ';
  expr[BACKUP_CRON_MAX + 1] = '\0';
  assert_int_equal(backup_cron_parse(expr, &c, detail, sizeof(detail)), MGO_EINVAL);
  assert_string_equal(detail, "longer than 256 characters");
  assert_int_equal(backup_cron_parse("0 24 * * *", &c, small, sizeof(small)), MGO_EINVAL);
  assert_string_equal(small, "field 2 (ho"); /* truncated, still terminated */
  assert_int_equal(backup_cron_parse("0 24 * * *", &c, NULL, 0), MGO_EINVAL);
  assert_int_equal(backup_cron_parse("@daily", &c, NULL, 0), MGO_OK);
}

static void vixie_day_rule(void **state)
{
  (void) state;
  /* both restricted: either matches. 2026-12-04 is a Friday, 2026-12-13 a Sunday */
  struct backup_cron c = parsed("0 0 13 * FRI");
  assert_true(backup_cron_matches(&c, at("2026-12-04T00:00:00Z")));
  assert_true(backup_cron_matches(&c, at("2026-12-13T00:00:59Z")));
  assert_false(backup_cron_matches(&c, at("2026-12-12T00:00:00Z")));
  assert_false(backup_cron_matches(&c, at("2026-12-13T00:01:00Z")));
  /* day-of-week '*': only the day of month counts; day-of-month beginning with '*': both must match */
  c = parsed("0 0 13 * *");
  assert_false(backup_cron_matches(&c, at("2026-12-04T00:00:00Z")));
  c = parsed("0 0 */2 * FRI");
  assert_false(backup_cron_matches(&c, at("2026-12-04T00:00:00Z"))); /* Friday, even day */
  assert_true(backup_cron_matches(&c, at("2026-12-11T00:00:00Z")));  /* Friday, odd day */
  assert_false(backup_cron_matches(&c, at("2026-12-13T00:00:00Z"))); /* odd day, Sunday */
}

/* A deterministic generator (xorshift64*), so a failure repeats. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
  rnd_state ^= rnd_state >> 12;
  rnd_state ^= rnd_state << 25;
  rnd_state ^= rnd_state >> 27;
  return (unsigned) ((rnd_state * UINT64_C(2685821657736338717)) >> 33) % n;
}

static void random_item(struct mgo_buf *b, unsigned lo, unsigned hi)
{
  unsigned a = lo + rnd(hi - lo + 1), z = a + rnd(hi - a + 1);
  switch (rnd(6)) {
  case 0:
    assert_int_equal(mgo_buf_addstr(b, "*"), MGO_OK);
    break;
  case 1:
    assert_int_equal(mgo_buf_printf(b, "*/%u", 1 + rnd(hi - lo + 2)), MGO_OK);
    break;
  case 2:
    assert_int_equal(mgo_buf_printf(b, "%u-%u", a, z), MGO_OK);
    break;
  case 3:
    assert_int_equal(mgo_buf_printf(b, "%u-%u/%u", a, z, 1 + rnd(7)), MGO_OK);
    break;
  default:
    assert_int_equal(mgo_buf_printf(b, "%u", a), MGO_OK);
    break;
  }
}

static void random_expression(struct mgo_buf *b)
{
  static const unsigned lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
  mgo_buf_reset(b);
  for (int f = 0; f < 5; f++) {
    unsigned items = 1 + rnd(3);
    for (unsigned i = 0; i < items; i++) {
      if (i > 0)
        assert_int_equal(mgo_buf_addstr(b, ","), MGO_OK);
      random_item(b, lo[f], hi[f]);
    }
    assert_int_equal(mgo_buf_addstr(b, f < 4 ? " " : ""), MGO_OK);
  }
}

/* For random valid expressions and times: next(t) > t, on a whole minute, matching, and no minute in
 * between matches (checked minute by minute over the last two days before it). */
static void random_expressions_agree_with_matches(void **state)
{
  (void) state;
  struct mgo_buf b = MGO_BUF_INIT(512);
  for (int round = 0; round < 3000; round++) {
    random_expression(&b);
    struct backup_cron c = parsed(mgo_buf_str(&b));
    int64_t t = (int64_t) rnd(1u << 31) * 2 + rnd(2), n = backup_cron_next(&c, t);
    if (n == -1) {
      assert_int_equal(c.days_star || c.weekdays_star, true); /* only the AND rule can make days vanish */
      continue;
    }
    if (n <= t || n % 60 != 0 || !backup_cron_matches(&c, n))
      fail_msg("\"%s\" after %lld: next %lld", mgo_buf_str(&b), (long long) t, (long long) n);
    for (int64_t m = n - 60; m > t && m > n - 2 * 86400; m -= 60) {
      if (backup_cron_matches(&c, m))
        fail_msg("\"%s\" after %lld: %lld matches before next %lld", mgo_buf_str(&b), (long long) t,
                 (long long) m, (long long) n);
    }
  }
  mgo_buf_free(&b);
}

static void civil_agrees_with_gmtime(void **state)
{
  (void) state;
  for (int i = 0; i < 20000; i++) {
    int64_t t = (int64_t) rnd(1u << 31) * 180 - INT64_C(100000000000); /* years about -1200 to 11000 */
    struct backup_civil cv;
    struct tm tm;
    time_t tt = (time_t) t;
    assert_non_null(gmtime_r(&tt, &tm));
    backup_civil_from_unix(t, &cv);
    assert_int_equal(cv.year, tm.tm_year + 1900);
    assert_int_equal(cv.month, tm.tm_mon + 1);
    assert_int_equal(cv.day, tm.tm_mday);
    assert_int_equal(cv.hour, tm.tm_hour);
    assert_int_equal(cv.minute, tm.tm_min);
    assert_int_equal(cv.second, tm.tm_sec);
    assert_int_equal(cv.weekday, tm.tm_wday);
    assert_int_equal(backup_unix_from_civil(&cv), t);
  }
  assert_int_equal(backup_days_in_month(2100, 2), 28);
  assert_int_equal(backup_days_in_month(2000, 2), 29);
  assert_int_equal(backup_days_in_month(2028, 2), 29);
  assert_int_equal(backup_days_in_month(2026, 4), 30);
  assert_int_equal(backup_days_in_month(2026, 13), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(next_runs),
      cmocka_unit_test(out_of_range_times_have_no_next_run),
      cmocka_unit_test(fields_become_bit_sets),
      cmocka_unit_test(invalid_expressions_say_what_to_fix),
      cmocka_unit_test(long_expressions_and_small_details),
      cmocka_unit_test(vixie_day_rule),
      cmocka_unit_test(random_expressions_agree_with_matches),
      cmocka_unit_test(civil_agrees_with_gmtime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
