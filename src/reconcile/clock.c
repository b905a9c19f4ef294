/* The clock port's system implementation and the time formats written in status. */
#include "reconcile.h"

#include <string.h>
#include <time.h>

#include "mgo_buf.h"
#include "mgo_err.h"

static int64_t read_ms(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t system_mono_ms(void *arg)
{
  (void) arg;
  return read_ms(CLOCK_MONOTONIC);
}

static int64_t system_wall_ms(void *arg)
{
  (void) arg;
  return read_ms(CLOCK_REALTIME);
}

const struct op_clock *op_clock_system(void)
{
  static const struct op_clock system_clock = {system_mono_ms, system_wall_ms, NULL};
  return &system_clock;
}

int64_t op_mono_ms(const struct op_clock *clock)
{
  return clock->mono_ms(clock->arg);
}

int64_t op_wall_ms(const struct op_clock *clock)
{
  return clock->wall_ms(clock->arg);
}

/* "YYYY-MM-DDTHH:MM:SS" of a wall instant into dst. */
static void format_seconds(int64_t wall_ms, char *dst, size_t dstsz)
{
  time_t t = (time_t) (wall_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  if (strftime(dst, dstsz, "%Y-%m-%dT%H:%M:%S", &tm) == 0 && dstsz > 0)
    dst[0] = '\0';
}

void op_now(const struct op_clock *clock, char *dst, size_t dstsz)
{
  char secs[32];
  format_seconds(op_wall_ms(clock), secs, sizeof(secs));
  (void) mgo_snprintf(dst, dstsz, "%sZ", secs);
}

void op_format_mono_ms(const struct op_clock *clock, int64_t mono_ms, char *dst, size_t dstsz)
{
  int64_t wall = op_wall_ms(clock) - (op_mono_ms(clock) - mono_ms);
  char secs[32];
  format_seconds(wall, secs, sizeof(secs));
  (void) mgo_snprintf(dst, dstsz, "%s.%03dZ", secs, (int) (wall % 1000));
}

int op_mono_from_rfc3339(const struct op_clock *clock, const char *text, int64_t *mono_ms)
{
  struct tm tm;
  const char *rest;
  int64_t wall, frac = 0, scale = 1000;
  memset(&tm, 0, sizeof(tm));
  rest = text != NULL ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (rest == NULL)
    return MGO_EINVAL;
  if (*rest == '.') {
    for (rest++; *rest >= '0' && *rest <= '9'; rest++) {
      if (scale > 1) {
        scale /= 10;
        frac += (*rest - '0') * scale;
      }
    }
  }
  if (strcmp(rest, "Z") != 0)
    return MGO_EINVAL;
  wall = (int64_t) timegm(&tm) * 1000 + frac;
  *mono_ms = op_mono_ms(clock) - (op_wall_ms(clock) - wall);
  return MGO_OK;
}
