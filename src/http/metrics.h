/* A small Prometheus metrics registry (text exposition format 0.0.4).
 *
 * A registry holds metric families (counter, gauge, histogram); each family holds series identified by a
 * label string such as `cluster="default/demo",pod="demo-0"` built with mgo_metric_labels(), which escapes
 * values. Series are created on first use and can be removed (e.g. when a cluster is deleted).
 *
 * Ownership: mgo_metrics_new() returns a registry the caller frees with mgo_metrics_free(), which also frees
 * its families. mgo_metrics_family() returns a borrowed pointer owned by the registry, valid until
 * mgo_metrics_free(). Thread-safety: every function may be called concurrently from any thread. */
#ifndef MGO_METRICS_H
#define MGO_METRICS_H

#include <stddef.h>

#include "mgo_buf.h"

enum mgo_metric_type { MGO_METRIC_COUNTER, MGO_METRIC_GAUGE, MGO_METRIC_HISTOGRAM };

struct mgo_metrics;
struct mgo_metric_family;

#define MGO_METRIC_LABELS_MAX 512

struct mgo_metrics *mgo_metrics_new(void);
void mgo_metrics_free(struct mgo_metrics *m);

/* Returns the family called name, creating it on first call (later calls return the same family and ignore
 * help/type/buckets). buckets: ascending upper bounds for histograms (copied; +Inf is implicit), NULL
 * otherwise. NULL on allocation failure or when name is not a valid metric name. */
struct mgo_metric_family *mgo_metrics_family(struct mgo_metrics *m, const char *name, const char *help,
                                             enum mgo_metric_type type, const double *buckets,
                                             size_t nbuckets);

/* Builds a label string from key/value pairs ending with NULL, escaping values (\\, \", \n).
 * MGO_ETOOBIG when it does not fit in out (out is then empty). */
int mgo_metric_labels(char *out, size_t outsz, ...) __attribute__((sentinel));

/* labels may be "" (no labels). Counters only grow: a negative add is ignored with MGO_EINVAL. */
int mgo_metric_add(struct mgo_metric_family *f, const char *labels, double v);
int mgo_metric_set(struct mgo_metric_family *f, const char *labels, double v);
int mgo_metric_observe(struct mgo_metric_family *f, const char *labels, double v);
/* Creates the series at zero when it does not exist (any type: a histogram with 0 samples); leaves an
 * existing one as it is. */
int mgo_metric_touch(struct mgo_metric_family *f, const char *labels);
/* Reads a counter/gauge value (histograms: the sum); MGO_ENOTFOUND if the series does not exist. */
int mgo_metric_get(struct mgo_metric_family *f, const char *labels, double *out);
/* Removes one series; removing a missing series is not an error. */
void mgo_metric_remove(struct mgo_metric_family *f, const char *labels);
/* Removes every series whose label string contains the given fragment (e.g. `cluster="ns/name"`). */
void mgo_metric_remove_matching(struct mgo_metrics *m, const char *fragment);

/* Appends the whole registry in Prometheus text format, families in registration order. */
int mgo_metrics_render(struct mgo_metrics *m, struct mgo_buf *out);

#endif
