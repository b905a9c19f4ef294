/* The process's one clock: monotonic time for durations and deadlines, wall time for timestamps, behind an
 * injectable interface so components with timing logic can be driven by a fake clock in tests.
 *
 * A component that decides things by time (delays, backoff, periods, expiry windows) takes an optional
 * `const struct mgo_clock *` in its options; NULL means mgo_clock_system(). Every function here that takes
 * a clock accepts NULL for the system clock. Code that only bounds real I/O (poll() deadlines on sockets)
 * uses the system clock directly: mgo_clock_mono_ms(NULL).
 *
 * Waiting: a thread that sleeps on a condition variable until a deadline of the injected clock uses
 * mgo_clock_cond_init() and mgo_clock_cond_wait_until(). The wait itself is real (the remaining time of the
 * injected clock, waited on the real monotonic clock), and the caller re-checks the injected clock when it
 * returns; so after advancing a fake clock a test wakes the waiter with the component's kick function
 * (which broadcasts its condition variable) instead of sleeping.
 *
 * Ownership: mgo_clock_system() returns a static object (never free it). A struct mgo_clock handed to a
 * component is borrowed and must outlive it. struct mgo_fake_clock is caller-allocated; formatting
 * functions write into caller buffers.
 * Thread-safety: the system clock and the formatting functions are safe from any thread; a fake clock may be
 * read, set and advanced from any thread at once (one mutex). */
#ifndef MGO_CLOCK_H
#define MGO_CLOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct mgo_clock {
  int64_t (*mono_ns)(void *arg); /* monotonic nanoseconds (arbitrary origin, never goes back) */
  int64_t (*wall_ns)(void *arg); /* nanoseconds since the Unix epoch, UTC */
  void *arg;
  /* Waits ns (a fake advances its time instead). Optional: NULL waits in real time (nanosleep). */
  void (*sleep_ns)(void *arg, int64_t ns);
};

/* CLOCK_MONOTONIC and CLOCK_REALTIME. Static; never NULL. */
const struct mgo_clock *mgo_clock_system(void);
/* c, or the system clock when c is NULL. */
const struct mgo_clock *mgo_clock_or_system(const struct mgo_clock *c);

int64_t mgo_clock_mono_ns(const struct mgo_clock *c);
int64_t mgo_clock_mono_ms(const struct mgo_clock *c);
int64_t mgo_clock_wall_ns(const struct mgo_clock *c);
int64_t mgo_clock_wall_ms(const struct mgo_clock *c);
/* Waits ms milliseconds on c (its sleep_ns, or real time when it has none); nothing when ms <= 0. */
void mgo_clock_sleep_ms(const struct mgo_clock *c, long ms);

/* Initializes a condition variable that times out on the real monotonic clock (what
 * mgo_clock_cond_wait_until() expects). 0 or a pthread error number. */
int mgo_clock_cond_init(pthread_cond_t *cond);
/* With mutex held: waits on cond until signalled or until deadline_ms on c's monotonic clock, measured as
 * the remaining time waited in real time. Returns at once when the deadline already passed. MGO_OK when
 * woken (possibly spuriously), MGO_ETIMEDOUT when the remaining time ran out; either way the caller
 * re-checks its condition and c. */
int mgo_clock_cond_wait_until(const struct mgo_clock *c, pthread_cond_t *cond, pthread_mutex_t *mutex,
                              int64_t deadline_ms);

/* RFC 3339 UTC timestamps: "2006-01-02T15:04:05Z" (frac_digits 0), ".000Z" (3, what logs use) or
 * ".000000Z" (6, a Kubernetes MicroTime); other frac_digits values are MGO_EINVAL. MGO_ETOOBIG when dst is
 * too small (32 bytes always suffice); dst is then "" (if dstsz > 0). */
int mgo_time_format_rfc3339(int64_t wall_ns, int frac_digits, char *dst, size_t dstsz);
/* The same for c's current wall time. */
int mgo_clock_format_now(const struct mgo_clock *c, int frac_digits, char *dst, size_t dstsz);
/* Parses an RFC 3339 UTC timestamp ("2006-01-02T15:04:05Z", optionally with a fraction of any length, kept
 * to milliseconds) into milliseconds since the Unix epoch. MGO_EINVAL when text is NULL or not one (other
 * offsets than "Z" included); *wall_ms is then untouched. Pure: reads no clock. */
int mgo_time_parse_rfc3339(const char *text, int64_t *wall_ms);

/* A clock for tests that moves only when told to (or by what mgo_clock_sleep_ms() waits on it). Pass
 * &fc->clock (or mgo_fake_clock_get(fc)) to components. Both times advance together; the wall time can also
 * be set on its own. */
struct mgo_fake_clock {
  struct mgo_clock clock;
  pthread_mutex_t lock;
  int64_t mono_ns;
  int64_t wall_ns;
};

/* Starts the clock at the given monotonic and wall times (milliseconds). */
void mgo_fake_clock_init(struct mgo_fake_clock *fc, int64_t mono_ms, int64_t wall_ms);
void mgo_fake_clock_destroy(struct mgo_fake_clock *fc);
const struct mgo_clock *mgo_fake_clock_get(struct mgo_fake_clock *fc);
/* Moves both times forward (negative values are ignored: a monotonic clock never goes back). */
void mgo_fake_clock_advance_ms(struct mgo_fake_clock *fc, int64_t ms);
void mgo_fake_clock_advance_ns(struct mgo_fake_clock *fc, int64_t ns);
/* Sets the wall time only (a wall clock may jump, in both directions). */
void mgo_fake_clock_set_wall_ms(struct mgo_fake_clock *fc, int64_t wall_ms);

#endif
