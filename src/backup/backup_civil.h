/* Civil (proleptic Gregorian) calendar arithmetic in UTC for the backup module, without the C library's
 * time zone functions: Unix seconds to year/month/day/hour/minute/second/weekday and back. Howard Hinnant's
 * days_from_civil / civil_from_days algorithms; exact far beyond the years 0-9999 the callers keep to
 * (tested against gmtime_r from about -1200 to 11000), not meant for times near the int64 limits.
 *
 * Ownership: results go into caller structs; nothing is allocated. Thread-safety: pure functions. */
#ifndef BACKUP_CIVIL_H
#define BACKUP_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

struct backup_civil {
  int64_t year;
  int month;   /* 1-12 */
  int day;     /* 1-31 */
  int hour;    /* 0-23 */
  int minute;  /* 0-59 */
  int second;  /* 0-59 */
  int weekday; /* 0-6, Sunday = 0 */
};

/* Days since 1970-01-01 of the civil date (month 1-12, day 1-31; not range-checked). */
int64_t backup_days_from_civil(int64_t year, int month, int day);
/* The UTC civil time of t (Unix seconds; negative is before 1970). */
void backup_civil_from_unix(int64_t t, struct backup_civil *out);
/* Unix seconds of a civil time (fields not range-checked; weekday ignored). */
int64_t backup_unix_from_civil(const struct backup_civil *c);
bool backup_is_leap_year(int64_t year);
/* 28-31 (month 1-12). */
int backup_days_in_month(int64_t year, int month);

#endif
