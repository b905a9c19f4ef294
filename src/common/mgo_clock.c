#include "mgo_clock.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "mgo_buf.h"
#include "mgo_err.h"

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)

static int64_t read_clock_ns(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t) ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t system_mono_ns(void *arg)
{
  (void) arg;
  return read_clock_ns(CLOCK_MONOTONIC);
}

static int64_t system_wall_ns(void *arg)
{
  (void) arg;
  return read_clock_ns(CLOCK_REALTIME);
}

static const struct mgo_clock system_clock = {.mono_ns = system_mono_ns, .wall_ns = system_wall_ns};

const struct mgo_clock *mgo_clock_system(void)
{
  return &system_clock;
}

const struct mgo_clock *mgo_clock_or_system(const struct mgo_clock *c)
{
  return c ? c : &system_clock;
}

int64_t mgo_clock_mono_ns(const struct mgo_clock *c)
{
  c = mgo_clock_or_system(c);
  return c->mono_ns(c->arg);
}

int64_t mgo_clock_mono_ms(const struct mgo_clock *c)
{
  return mgo_clock_mono_ns(c) / NS_PER_MS;
}

void mgo_clock_sleep_ms(const struct mgo_clock *c, long ms)
{
  struct timespec ts;
  if (ms <= 0)
    return;
  c = mgo_clock_or_system(c);
  if (c->sleep_ns != NULL) {
    c->sleep_ns(c->arg, (int64_t) ms * NS_PER_MS);
    return;
  }
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

int64_t mgo_clock_wall_ns(const struct mgo_clock *c)
{
  c = mgo_clock_or_system(c);
  return c->wall_ns(c->arg);
}

int64_t mgo_clock_wall_ms(const struct mgo_clock *c)
{
  return mgo_clock_wall_ns(c) / NS_PER_MS;
}

int mgo_clock_cond_init(pthread_cond_t *cond)
{
  pthread_condattr_t attr;
  int rc = pthread_condattr_init(&attr);
  if (rc != 0)
    return rc;
  rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (rc == 0)
    rc = pthread_cond_init(cond, &attr);
  pthread_condattr_destroy(&attr);
  return rc;
}

int mgo_clock_cond_wait_until(const struct mgo_clock *c, pthread_cond_t *cond, pthread_mutex_t *mutex,
                              int64_t deadline_ms)
{
  int64_t left_ms = deadline_ms - mgo_clock_mono_ms(c);
  if (left_ms <= 0)
    return MGO_ETIMEDOUT;
  int64_t until_ns = read_clock_ns(CLOCK_MONOTONIC) + left_ms * NS_PER_MS;
  struct timespec ts = {.tv_sec = (time_t) (until_ns / NS_PER_S), .tv_nsec = (long) (until_ns % NS_PER_S)};
  return pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT ? MGO_ETIMEDOUT : MGO_OK;
}

/* Splits nanoseconds since the epoch into whole seconds and the nanoseconds past them (>= 0). */
static void split_ns(int64_t wall_ns, time_t *secs, long *nanos)
{
  int64_t s = wall_ns / NS_PER_S, rest = wall_ns % NS_PER_S;
  if (rest < 0) {
    s--;
    rest += NS_PER_S;
  }
  *secs = (time_t) s;
  *nanos = (long) rest;
}

static int fail_format(char *dst, size_t dstsz, int rc)
{
  if (dstsz > 0)
    dst[0] = '\0';
  return rc;
}

int mgo_time_format_rfc3339(int64_t wall_ns, int frac_digits, char *dst, size_t dstsz)
{
  if (frac_digits != 0 && frac_digits != 3 && frac_digits != 6)
    return fail_format(dst, dstsz, MGO_EINVAL);
  time_t secs;
  long nanos;
  struct tm tm;
  split_ns(wall_ns, &secs, &nanos);
  if (gmtime_r(&secs, &tm) == NULL)
    return fail_format(dst, dstsz, MGO_EINVAL);
  char base[32];
  if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    return fail_format(dst, dstsz, MGO_ETOOBIG);
  int rc;
  if (frac_digits == 0)
    rc = mgo_snprintf(dst, dstsz, "%sZ", base);
  else if (frac_digits == 3)
    rc = mgo_snprintf(dst, dstsz, "%s.%03ldZ", base, nanos / 1000000);
  else
    rc = mgo_snprintf(dst, dstsz, "%s.%06ldZ", base, nanos / 1000);
  return rc == MGO_OK ? MGO_OK : fail_format(dst, dstsz, rc);
}

int mgo_clock_format_now(const struct mgo_clock *c, int frac_digits, char *dst, size_t dstsz)
{
  return mgo_time_format_rfc3339(mgo_clock_wall_ns(c), frac_digits, dst, dstsz);
}

int mgo_time_parse_rfc3339(const char *text, int64_t *wall_ms)
{
  struct tm tm;
  const char *rest;
  int64_t frac = 0, scale = 1000;
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
  *wall_ms = (int64_t) timegm(&tm) * 1000 + frac;
  return MGO_OK;
}

static int64_t fake_read(struct mgo_fake_clock *fc, const int64_t *field)
{
  pthread_mutex_lock(&fc->lock);
  int64_t v = *field;
  pthread_mutex_unlock(&fc->lock);
  return v;
}

static int64_t fake_mono_ns(void *arg)
{
  struct mgo_fake_clock *fc = arg;
  return fake_read(fc, &fc->mono_ns);
}

static int64_t fake_wall_ns(void *arg)
{
  struct mgo_fake_clock *fc = arg;
  return fake_read(fc, &fc->wall_ns);
}

static void fake_sleep_ns(void *arg, int64_t ns)
{
  mgo_fake_clock_advance_ns(arg, ns);
}

void mgo_fake_clock_init(struct mgo_fake_clock *fc, int64_t mono_ms, int64_t wall_ms)
{
  fc->clock = (struct mgo_clock){
      .mono_ns = fake_mono_ns, .wall_ns = fake_wall_ns, .arg = fc, .sleep_ns = fake_sleep_ns};
  pthread_mutex_init(&fc->lock, NULL);
  fc->mono_ns = mono_ms * NS_PER_MS;
  fc->wall_ns = wall_ms * NS_PER_MS;
}

void mgo_fake_clock_destroy(struct mgo_fake_clock *fc)
{
  pthread_mutex_destroy(&fc->lock);
}

const struct mgo_clock *mgo_fake_clock_get(struct mgo_fake_clock *fc)
{
  return &fc->clock;
}

void mgo_fake_clock_advance_ns(struct mgo_fake_clock *fc, int64_t ns)
{
  if (ns <= 0)
    return;
  pthread_mutex_lock(&fc->lock);
  fc->mono_ns += ns;
  fc->wall_ns += ns;
  pthread_mutex_unlock(&fc->lock);
}

void mgo_fake_clock_advance_ms(struct mgo_fake_clock *fc, int64_t ms)
{
  mgo_fake_clock_advance_ns(fc, ms * NS_PER_MS);
}

void mgo_fake_clock_set_wall_ms(struct mgo_fake_clock *fc, int64_t wall_ms)
{
  pthread_mutex_lock(&fc->lock);
  fc->wall_ns = wall_ms * NS_PER_MS;
  pthread_mutex_unlock(&fc->lock);
}
