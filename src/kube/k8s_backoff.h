/* Exponential backoff with jitter, for reconnects and retries.
 *
 * delay(attempt) = min(base * 2^attempt, max); with jitter j (0..1) the delay actually used is drawn
 * uniformly from [delay * (1 - j), delay], so many clients restarted together spread out.
 * Ownership: caller-allocated value struct. Thread-safety: one struct per thread (the seed is per struct). */
#ifndef K8S_BACKOFF_H
#define K8S_BACKOFF_H

struct k8s_backoff {
  long base_ms;
  long max_ms;
  double jitter;    /* 0 = none, 0.5 = up to half the delay removed */
  unsigned attempt; /* failures so far */
  unsigned seed;    /* rand_r() state */
};

/* The un-jittered delay for a given attempt (0-based), overflow-safe. */
long k8s_backoff_delay_ms(long base_ms, long max_ms, unsigned attempt);
void k8s_backoff_init(struct k8s_backoff *b, long base_ms, long max_ms, double jitter, unsigned seed);
/* The delay to wait now; counts one more attempt. */
long k8s_backoff_next(struct k8s_backoff *b);
void k8s_backoff_reset(struct k8s_backoff *b);

#endif
