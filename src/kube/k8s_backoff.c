#include "k8s_backoff.h"

#include <stdlib.h>

long k8s_backoff_delay_ms(long base_ms, long max_ms, unsigned attempt)
{
  if (base_ms <= 0)
    return 0;
  long d = base_ms;
  for (unsigned i = 0; i < attempt && d < max_ms; i++)
    d = d > max_ms / 2 ? max_ms : d * 2;
  return d < max_ms ? d : max_ms;
}

void k8s_backoff_init(struct k8s_backoff *b, long base_ms, long max_ms, double jitter, unsigned seed)
{
  b->base_ms = base_ms;
  b->max_ms = max_ms;
  b->jitter = jitter < 0 ? 0 : (jitter > 1 ? 1 : jitter);
  b->attempt = 0;
  b->seed = seed;
}

long k8s_backoff_next(struct k8s_backoff *b)
{
  long d = k8s_backoff_delay_ms(b->base_ms, b->max_ms, b->attempt);
  if (b->attempt < 64)
    b->attempt++;
  if (b->jitter <= 0 || d <= 0)
    return d;
  double r = (double) rand_r(&b->seed) / ((double) RAND_MAX + 1.0);
  return d - (long) ((double) d * b->jitter * r);
}

void k8s_backoff_reset(struct k8s_backoff *b)
{
  b->attempt = 0;
}
