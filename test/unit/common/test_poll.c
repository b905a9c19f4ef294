#include "test_poll.h"

#include <time.h>

#include "mgo_clock.h"

bool tu_poll_until(bool (*cond)(void *arg), void *arg, long timeout_ms)
{
  int64_t deadline = mgo_clock_mono_ms(NULL) + timeout_ms;
  for (;;) {
    if (cond(arg))
      return true;
    if (mgo_clock_mono_ms(NULL) >= deadline)
      return false;
    struct timespec pause = {0, 1000 * 1000}; /* between polls only: the verdict is cond's */
    nanosleep(&pause, NULL);
  }
}
