/* What the span and exporter halves of mgo_trace share (not public). */
#ifndef MGO_TRACE_INT_H
#define MGO_TRACE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "trace.h"

struct mgo_tracer {
  struct mgo_trace_config cfg;
  struct mgo_tracer_opts opts;
  void *curl; /* the exporter thread's handle (opts.send NULL) */
  pthread_t thread;
  pthread_mutex_t lock; /* guards everything below */
  pthread_cond_t wake;  /* the exporter: a full batch, a flush or the stop */
  pthread_cond_t idle;  /* flushers: the queue was drained */
  struct mgo_span **ring;
  size_t head, n;
  bool stopping;
  unsigned flush_requests, flushes_done;
  int64_t stop_deadline_ms;
  struct mgo_trace_stats stats;
};

/* trace_export.c: queues an ended span (never waits); drops it when the queue is full. */
void mgo_trace__enqueue(struct mgo_tracer *t, struct mgo_span *s);
/* trace_span.c: n bytes as 2n lower-case hex digits and a NUL into dst. */
void mgo_trace__hex(const uint8_t *id, size_t n, char *dst);
/* trace_span.c: frees an ended span. */
void mgo_trace__span_free(struct mgo_span *s);

#endif
