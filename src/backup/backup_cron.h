/* Cron schedules for backups (a MemgraphCluster's spec.backup.schedule), always in UTC.
 *
 * Syntax: five fields separated by blanks, "minute hour day-of-month month day-of-week", each a '*' or a
 * comma-separated list of items "v", "a-b", "* /n" (without the blank) or "a-b/n". Ranges are 0-59, 0-23,
 * 1-31, 1-12 (or JAN-DEC) and 0-7 (or SUN-SAT; 0 and 7 are both Sunday); names are case-insensitive. A step
 * needs '*' or a range before it ("5/10" is refused rather than guessed at). The macros @yearly (@annually),
 * @monthly, @weekly, @daily (@midnight) and @hourly stand for their usual five fields; @reboot is refused.
 *
 * Days follow Vixie cron: when the day-of-month and the day-of-week fields are both restricted (neither
 * begins with '*'), a day matches when EITHER matches ("0 0 13 * FRI" is every 13th and every Friday);
 * when either begins with '*' (including "* /2"), both must match.
 *
 * Ownership: struct backup_cron is caller-allocated plain data (copy it freely); the detail text goes into
 * the caller's buffer. Thread-safety: pure functions; no clock is read, no time zone consulted. */
#ifndef BACKUP_CRON_H
#define BACKUP_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct backup_cron {
  uint64_t minutes;   /* bit m: minute m (0-59) */
  uint32_t hours;     /* bit h: hour h (0-23) */
  uint32_t days;      /* bit d: day of month d (1-31) */
  uint16_t months;    /* bit m: month m (1-12) */
  uint8_t weekdays;   /* bit w: weekday w (0-6, Sunday = 0; a 7 in the expression sets bit 0) */
  bool days_star;     /* the day-of-month field begins with '*' (Vixie's DOM_STAR) */
  bool weekdays_star; /* the day-of-week field begins with '*' (Vixie's DOW_STAR) */
};

/* The longest expression accepted, in bytes. */
#define BACKUP_CRON_MAX 256
/* How far backup_cron_next() looks ahead: 9 years, so that "0 0 29 2 *" is found across 2100 (not a leap
 * year: the gap between two Feb 29ths is then 8 years). */
#define BACKUP_CRON_HORIZON_DAYS 3294 /* 9 * 366 */

/* Parses expr into *out. MGO_EINVAL when it is not a valid expression (NULL and longer than
 * BACKUP_CRON_MAX included), with a sentence saying what to fix in detail, e.g.
 * "field 2 (hour): 24 is out of range 0-23" or "expected 5 fields, got 6"; *out is then zeroed. detail may
 * be NULL (detailsz 0); it is "" on success. */
int backup_cron_parse(const char *expr, struct backup_cron *out, char *detail, size_t detailsz);

/* Whether the minute containing t (Unix seconds, UTC; the seconds are ignored) matches. */
bool backup_cron_matches(const struct backup_cron *c, int64_t t);

/* The first matching minute strictly after `after` (Unix seconds, UTC), seconds zeroed; -1 when none falls
 * within BACKUP_CRON_HORIZON_DAYS (a date that never exists, like "0 0 30 2 *") or when after is before 1970
 * or after the year 9999. */
int64_t backup_cron_next(const struct backup_cron *c, int64_t after);

#endif
