/* Civil calendar arithmetic (see backup_civil.h); the two conversions are Howard Hinnant's, public domain:
 * http://howardhinnant.github.io/date_algorithms.html */
#include "backup_civil.h"

#define SECS_PER_DAY INT64_C(86400)

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t backup_days_from_civil(int64_t year, int month, int day)
{
  int64_t y = month <= 2 ? year - 1 : year;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;                                                 /* [0, 399] */
  int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                         /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, struct backup_civil *out)
{
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;                                      /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
  out->day = (int) (doy - (153 * mp + 2) / 5 + 1);
  out->month = (int) (mp < 10 ? mp + 3 : mp - 9);
  out->year = yoe + era * 400 + (out->month <= 2 ? 1 : 0);
}

void backup_civil_from_unix(int64_t t, struct backup_civil *out)
{
  int64_t days = floor_div(t, SECS_PER_DAY);
  int64_t secs = t - days * SECS_PER_DAY;
  civil_from_days(days, out);
  out->hour = (int) (secs / 3600);
  out->minute = (int) (secs / 60 % 60);
  out->second = (int) (secs % 60);
  out->weekday = (int) (days + 4 - floor_div(days + 4, 7) * 7); /* 1970-01-01 was a Thursday (4) */
}

int64_t backup_unix_from_civil(const struct backup_civil *c)
{
  return backup_days_from_civil(c->year, c->month, c->day) * SECS_PER_DAY + (int64_t) c->hour * 3600 +
         (int64_t) c->minute * 60 + c->second;
}

bool backup_is_leap_year(int64_t year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int backup_days_in_month(int64_t year, int month)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && backup_is_leap_year(year))
    return 29;
  return month >= 1 && month <= 12 ? days[month - 1] : 0;
}
