/* An Events recorder (events.k8s.io/v1) that aggregates repeats.
 *
 * k8s_event_record() creates an Event about an involved object. When the same (object uid or kind/ns/name,
 * type, reason, action, note) was recorded less than aggregate_window_ms ago, it instead merge-patches the
 * existing Event's series {count, lastObservedTime} (count starts at 2 on the first repeat), so a flapping
 * condition produces one Event object with a growing count, not thousands. If the earlier Event is gone
 * (404), a new one is created.
 *
 * Ownership: the recorder borrows the client; options' strings are copied. involved is borrowed.
 * Thread-safety: k8s_event_record() may be called from any thread; the aggregation table is locked only
 * around lookups, never during API calls. The table is bounded (max_tracked; the oldest entries go first). */
#ifndef K8S_EVENTS_H
#define K8S_EVENTS_H

#include <jansson.h>

#include "k8s_client.h"
#include "mgo_clock.h"

struct k8s_event_recorder_opts {
  const char *reporting_controller; /* e.g. "memgraph.com/memgraph-operator" (required) */
  const char *reporting_instance;   /* e.g. the operator identity (required, at most 128 bytes) */
  long aggregate_window_ms;         /* default 600000 (10 min) */
  int max_tracked;                  /* default 4096 */
  const struct mgo_clock *clock;    /* the window and timestamps; borrowed; NULL = mgo_clock_system() */
};

struct k8s_event_recorder;

int k8s_event_recorder_new(struct k8s_client *c, const struct k8s_event_recorder_opts *opts,
                           struct k8s_event_recorder **out);
void k8s_event_recorder_free(struct k8s_event_recorder *r);

/* type is "Normal" or "Warning"; reason CamelCase (e.g. "Failover"); action what was done (e.g. "Promote");
 * note the human message (truncated to 1 KiB). involved must have apiVersion, kind and metadata.name (and
 * metadata.namespace for namespaced objects; cluster-scoped objects get their Events in "default").
 * *aggregated (may be NULL) tells whether an existing Event was patched. */
int k8s_event_record(struct k8s_event_recorder *r, const json_t *involved, const char *type,
                     const char *reason, const char *action, const char *note, bool *aggregated,
                     struct k8s_status *st);

#endif
