/* Unit tests for the clock module: the system clock's monotony, the fake clock, deadline waits and the
 * RFC 3339 formatting shared by logs, Leases and Events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgo_clock.h"
#include "mgo_err.h"

/* 2006-01-02T15:04:05.123456789Z */
#define REF_WALL_NS (INT64_C(1136214245) * 1000000000 + 123456789)

static void test_system_clock(void **state)
{
  (void) state;
  assert_ptr_equal(mgo_clock_or_system(NULL), mgo_clock_system());
  int64_t a = mgo_clock_mono_ns(NULL), b = mgo_clock_mono_ns(mgo_clock_system());
  assert_true(b >= a);
  assert_true(mgo_clock_mono_ms(NULL) >= a / 1000000);
  assert_true(mgo_clock_wall_ms(NULL) > INT64_C(1600000000000)); /* after 2020 */
}

static void test_fake_clock_moves_only_when_told(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, 5000, 1136214245000);
  const struct mgo_clock *c = mgo_fake_clock_get(&fc);
  assert_ptr_equal(mgo_clock_or_system(c), c);
  assert_int_equal(mgo_clock_mono_ms(c), 5000);
  assert_int_equal(mgo_clock_wall_ms(c), 1136214245000);
  mgo_fake_clock_advance_ms(&fc, 250);
  mgo_fake_clock_advance_ns(&fc, 1500000);
  mgo_fake_clock_advance_ms(&fc, -100000); /* ignored: monotonic time never goes back */
  assert_int_equal(mgo_clock_mono_ns(c), INT64_C(5251500000));
  assert_int_equal(mgo_clock_wall_ms(c), 1136214245251);
  mgo_fake_clock_set_wall_ms(&fc, 1000);
  assert_int_equal(mgo_clock_wall_ms(c), 1000);
  assert_int_equal(mgo_clock_mono_ms(c), 5251); /* a wall-clock jump leaves the monotonic clock alone */
  mgo_fake_clock_destroy(&fc);
}

static void test_wait_until_follows_the_injected_clock(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, 1000, 0);
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cond;
  assert_int_equal(mgo_clock_cond_init(&cond), 0);
  pthread_mutex_lock(&m);
  /* a deadline the fake clock already reached returns at once, whatever the real time */
  assert_int_equal(mgo_clock_cond_wait_until(&fc.clock, &cond, &m, 1000), MGO_ETIMEDOUT);
  assert_int_equal(mgo_clock_cond_wait_until(&fc.clock, &cond, &m, 0), MGO_ETIMEDOUT);
  /* a deadline 1 ms ahead is waited for in real time, then reported as run out */
  assert_int_equal(mgo_clock_cond_wait_until(&fc.clock, &cond, &m, 1001), MGO_ETIMEDOUT);
  assert_int_equal(mgo_clock_cond_wait_until(NULL, &cond, &m, mgo_clock_mono_ms(NULL) + 1), MGO_ETIMEDOUT);
  pthread_mutex_unlock(&m);
  pthread_cond_destroy(&cond);
  mgo_fake_clock_destroy(&fc);
}

static void test_rfc3339_formats(void **state)
{
  (void) state;
  char ts[40];
  assert_int_equal(mgo_time_format_rfc3339(REF_WALL_NS, 0, ts, sizeof(ts)), MGO_OK);
  assert_string_equal(ts, "2006-01-02T15:04:05Z");
  assert_int_equal(mgo_time_format_rfc3339(REF_WALL_NS, 3, ts, sizeof(ts)), MGO_OK);
  assert_string_equal(ts, "2006-01-02T15:04:05.123Z");
  assert_int_equal(mgo_time_format_rfc3339(REF_WALL_NS, 6, ts, sizeof(ts)), MGO_OK);
  assert_string_equal(ts, "2006-01-02T15:04:05.123456Z");
  assert_int_equal(mgo_time_format_rfc3339(-1, 3, ts, sizeof(ts)), MGO_OK); /* just before the epoch */
  assert_string_equal(ts, "1969-12-31T23:59:59.999Z");
  assert_int_equal(mgo_time_format_rfc3339(REF_WALL_NS, 2, ts, sizeof(ts)), MGO_EINVAL);
  assert_string_equal(ts, "");
  char small[20];
  assert_int_equal(mgo_time_format_rfc3339(REF_WALL_NS, 0, small, sizeof(small)), MGO_ETOOBIG);
  assert_string_equal(small, "");
}

static void test_rfc3339_parses(void **state)
{
  (void) state;
  int64_t ms = 42;
  assert_int_equal(mgo_time_parse_rfc3339("2006-01-02T15:04:05Z", &ms), MGO_OK);
  assert_int_equal(ms, INT64_C(1136214245000));
  assert_int_equal(mgo_time_parse_rfc3339("2006-01-02T15:04:05.123456Z", &ms), MGO_OK);
  assert_int_equal(ms, INT64_C(1136214245123));
  assert_int_equal(mgo_time_parse_rfc3339("2026-12-02T03:04:05.5Z", &ms), MGO_OK);
  assert_int_equal(ms, INT64_C(1796180645500));
  assert_int_equal(mgo_time_parse_rfc3339("1970-01-01T00:00:00Z", &ms), MGO_OK);
  assert_int_equal(ms, 0);
  ms = 42;
  assert_int_equal(mgo_time_parse_rfc3339("2006-01-02T15:04:05+01:00", &ms), MGO_EINVAL);
  assert_int_equal(mgo_time_parse_rfc3339("2006-01-02T15:04:05", &ms), MGO_EINVAL);
  assert_int_equal(mgo_time_parse_rfc3339("2006-01-02T15:04:05Zjunk", &ms), MGO_EINVAL);
  assert_int_equal(mgo_time_parse_rfc3339("yesterday", &ms), MGO_EINVAL);
  assert_int_equal(mgo_time_parse_rfc3339(NULL, &ms), MGO_EINVAL);
  assert_int_equal(ms, 42);
}

static void test_format_now_reads_the_given_clock(void **state)
{
  (void) state;
  struct mgo_fake_clock fc;
  mgo_fake_clock_init(&fc, 0, REF_WALL_NS / 1000000);
  char ts[40];
  assert_int_equal(mgo_clock_format_now(&fc.clock, 6, ts, sizeof(ts)), MGO_OK);
  assert_string_equal(ts, "2006-01-02T15:04:05.123000Z");
  assert_int_equal(mgo_clock_format_now(NULL, 3, ts, sizeof(ts)), MGO_OK);
  assert_int_equal(strlen(ts), strlen("2006-01-02T15:04:05.123Z"));
  mgo_fake_clock_destroy(&fc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_system_clock),
      cmocka_unit_test(test_fake_clock_moves_only_when_told),
      cmocka_unit_test(test_wait_until_follows_the_injected_clock),
      cmocka_unit_test(test_rfc3339_formats),
      cmocka_unit_test(test_rfc3339_parses),
      cmocka_unit_test(test_format_now_reads_the_given_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
