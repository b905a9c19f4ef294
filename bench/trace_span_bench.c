/* The CPU cost of tracing inside the operator process, without a control plane: N passes of one root span and
 * K child spans with the attributes the real spans carry (bench/run-trace-span-bench.sh builds and runs it).
 *   record: the worker's cost per span (start, attributes, end, queue), the exporter encoding concurrently
 * with a sender that accepts everything total:  the same, then waiting for the exporter to encode every span
 * (record + encode, per span) Prints one markdown table row per measure. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mgo_err.h"
#include "trace.h"

static int accept_all(void *arg, const char *url, const char *body, size_t len, long timeout_ms, char *err,
                      size_t errsz)
{
  (void) arg, (void) url, (void) body, (void) len, (void) timeout_ms, (void) err, (void) errsz;
  return MGO_OK;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void one_pass(struct mgo_tracer *t, int children)
{
  struct mgo_span *root = mgo_span_root(t, "reconcile", MGO_SPAN_INTERNAL);
  mgo_span_set_str(root, "cluster", "bench/mg");
  for (int j = 0; j < children; j++) {
    struct mgo_span *c = mgo_span_child("bolt SHOW REPLICATION ROLE", MGO_SPAN_CLIENT);
    mgo_span_set_str(c, "db.system.name", "memgraph");
    mgo_span_set_str(c, "db.operation.name", "SHOW REPLICATION ROLE");
    mgo_span_set_str(c, "server.address", "10.0.0.7");
    mgo_span_set_int(c, "server.port", 7687);
    mgo_span_end(c);
  }
  mgo_span_set_str(root, "result", "success");
  mgo_span_end(root);
}

static double run(int passes, int children, int wait_export)
{
  struct mgo_trace_config cfg = {.sampler = MGO_SAMPLER_ALWAYS_ON,
                                 .ratio = 1.0,
                                 .queue_size = 1 << 22,
                                 .batch_size = 512,
                                 .schedule_delay_ms = 1000,
                                 .export_timeout_ms = 1000};
  struct mgo_tracer_opts opts = {.send = accept_all, .scope_version = "bench"};
  struct mgo_tracer *t = NULL;
  struct mgo_trace_stats st;
  double t0, dt;
  (void) snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:1/v1/traces");
  (void) snprintf(cfg.service_name, sizeof(cfg.service_name), "memgraph-operator");
  if (mgo_tracer_new(&cfg, &opts, &t, NULL, 0) != MGO_OK || t == NULL)
    exit(1);
  t0 = now_s();
  for (int i = 0; i < passes; i++)
    one_pass(t, children);
  if (wait_export && mgo_tracer_flush(t, 600000) != MGO_OK)
    exit(1);
  dt = now_s() - t0;
  mgo_tracer_stats(t, &st);
  if (wait_export && st.exported != (uint64_t) passes * (uint64_t) (children + 1))
    exit(1);
  mgo_tracer_free(t, 600000);
  return dt / ((double) passes * (children + 1)) * 1e6;
}

int main(int argc, char **argv)
{
  int passes = argc > 1 ? atoi(argv[1]) : 100000;
  int children = argc > 2 ? atoi(argv[2]) : 17;
  double record = run(passes, children, 0);
  double total = run(passes, children, 1);
  printf("| %d passes × %d spans | %.2f | %.2f | %.0f |\n", passes, children + 1, record, total,
         total * (children + 1));
  return 0;
}
