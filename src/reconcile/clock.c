/* Monotonic instants as written in status (RFC 3339 UTC), over the clock of src/common/mgo_clock.h: a
 * restarted operator reads them back onto its own monotonic clock. */
#include "reconcile.h"

#include "mgo_err.h"

void op_format_mono_ms(const struct mgo_clock *clock, int64_t mono_ms, char *dst, size_t dstsz)
{
  int64_t wall = mgo_clock_wall_ms(clock) - (mgo_clock_mono_ms(clock) - mono_ms);
  if (mgo_time_format_rfc3339(wall * 1000000, 3, dst, dstsz) != MGO_OK && dstsz > 0)
    dst[0] = '\0';
}

int op_mono_from_rfc3339(const struct mgo_clock *clock, const char *text, int64_t *mono_ms)
{
  int64_t wall;
  int rc = mgo_time_parse_rfc3339(text, &wall);
  if (rc != MGO_OK)
    return rc;
  *mono_ms = op_mono_from_wall_ms(clock, wall);
  return MGO_OK;
}

int64_t op_mono_from_wall_ms(const struct mgo_clock *clock, int64_t wall_ms)
{
  return mgo_clock_mono_ms(clock) - (mgo_clock_wall_ms(clock) - wall_ms);
}
