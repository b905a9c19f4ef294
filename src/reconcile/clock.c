/* Monotonic instants as written in status (RFC 3339 UTC), over the clock of src/common/mgo_clock.h: a
 * restarted operator reads them back onto its own monotonic clock. */
#include "reconcile.h"

#include <string.h>
#include <time.h>

#include "mgo_err.h"

void op_format_mono_ms(const struct mgo_clock *clock, int64_t mono_ms, char *dst, size_t dstsz)
{
  int64_t wall = mgo_clock_wall_ms(clock) - (mgo_clock_mono_ms(clock) - mono_ms);
  if (mgo_time_format_rfc3339(wall * 1000000, 3, dst, dstsz) != MGO_OK && dstsz > 0)
    dst[0] = '\0';
}

int op_wall_ms_from_rfc3339(const char *text, int64_t *wall_ms)
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
  *wall_ms = wall;
  return MGO_OK;
}

int op_mono_from_rfc3339(const struct mgo_clock *clock, const char *text, int64_t *mono_ms)
{
  int64_t wall;
  int rc = op_wall_ms_from_rfc3339(text, &wall);
  if (rc == MGO_OK)
    *mono_ms = mgo_clock_mono_ms(clock) - (mgo_clock_wall_ms(clock) - wall);
  return rc;
}
