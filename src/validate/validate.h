/* Live validation, the pure parts (docs/validation.md): when the replication canary runs or is skipped,
 * how its read-backs judge each replica, the status.validation block, the ReplicationLagAcceptable
 * condition and which Events a run raises. No I/O and no clock reads: times are parameters.
 *
 * The canary is one node under the reserved label _MemgraphOperatorCanary (MG_CANARY_LABEL), written on the
 * MAIN (sequence number and timestamp) and read back on every replica; a replica's lag is the time from the
 * write's acknowledgement to the first read that sees it.
 *
 * Status writes (no write storms): a replication test (every canary.intervalSec, and after a registration)
 * writes status.validation with its timestamps; a lag measurement (every canary.lagIntervalSec) updates the
 * metrics and writes status only when a result a reader acts on changed (a replica's health, lag within the
 * threshold or not, the skip reason). A healthy cluster at the defaults: one status write per 5 minutes.
 *
 * Ownership: structs are caller-allocated; val_build_status() returns a new JSON object the caller owns.
 * Thread-safety: pure functions. */
#ifndef MGO_VALIDATE_H
#define MGO_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

enum val_run {
  VAL_RUN_NONE, /* nothing due */
  VAL_RUN_LAG,  /* a lag measurement: metrics, status only on a change */
  VAL_RUN_TEST  /* a replication test: recorded in status.validation */
};

/* Why the canary may not run now; reason "" when it may. */
struct val_skip {
  char reason[48]; /* CamelCase: FailoverInProgress, MainUnavailable, ... */
  char message[192];
};

/* What the step knows about the cluster this pass (from the plan and the operator's memory). */
struct val_state {
  bool hibernated;
  bool stopped;         /* the plan stopped (unsafe situation) */
  bool main_change;     /* a failover or switchover is planned or in progress */
  bool main_available;  /* MainAvailable is True */
  bool main_fenced;     /* the MAIN is fenced by the user (memgraph.io/fencedInstances) */
  bool registering;     /* the plan registers or drops replicas now */
  size_t replicas;      /* instances besides the MAIN */
  const char *main_pod; /* the plan's MAIN ("" when none) */
};

/* The reason the canary is skipped, or reason "" (canary may write). */
void val_skip_reason(const struct val_state *st, struct val_skip *out);

struct val_schedule_input {
  bool enabled;         /* spec.validation.canary.enabled */
  int64_t now_ms;       /* wall ms */
  int64_t last_test_ms; /* status.validation.lastReplicationTest (wall ms), 0 = never */
  int64_t last_lag_ms;  /* the last canary run of this operator process (wall ms), 0 = none */
  int32_t test_interval_sec;
  int32_t lag_interval_sec;
  bool test_requested; /* a replica was registered since the last test */
};

struct val_schedule {
  enum val_run run;
  int64_t next_ms; /* wall ms when the next run is due (when run is NONE), else 0 */
};

/* What is due now. A test falls due after test_interval_sec (or at once when requested, or never run); a lag
 * measurement after lag_interval_sec since the last run of either kind. */
struct val_schedule val_schedule(const struct val_schedule_input *in);

/* One replica's read-back. */
struct val_replica {
  char name[MGO_NAME_MAX]; /* pod name */
  bool seen;               /* a read saw the canary's new sequence number before the deadline */
  int64_t lag_ms;          /* acknowledgement -> first read that saw it; valid when seen */
  char error[160];         /* why it is not healthy ("" when seen) */
};

/* One canary run. */
struct val_outcome {
  bool written;          /* the MAIN acknowledged the write */
  char write_error[192]; /* why not ("" when written) */
  bool recreated;        /* the node was missing or edited and was written anew */
  char recreate_why[96]; /* what was wrong with it */
  int64_t deadline_ms;   /* how long the read-backs waited at most */
  size_t n;
  struct val_replica r[MGO_MAX_INSTANCES];
};

struct val_summary {
  bool healthy;       /* written, and every replica saw it */
  bool lag_ok;        /* healthy, and every lag <= max_lag_ms */
  int64_t max_lag_ms; /* the largest lag seen (-1 when no replica saw it) */
  size_t n_healthy;
  char message[256];     /* the test's outcome, for status and Events */
  char lag_message[256]; /* ReplicationLagAcceptable's message */
};

void val_summarize(const struct val_outcome *o, int32_t max_lag_ms, struct val_summary *out);

struct val_status_input {
  const struct val_outcome *o; /* NULL: no run this pass (only a skip to record) */
  const struct val_summary *s; /* with o */
  const struct val_skip *skip; /* reason "" or NULL: not skipped */
  enum val_run run;            /* what o is */
  const char *now;             /* RFC 3339 */
  const json_t *old;           /* the current status.validation, or NULL */
};

/* The new status.validation: lastConnectivityTest (now), lastReplicationTest (now after a test, else kept),
 * replicationLagMs, allReplicasHealthy, replicas[] {name, healthy, lagMs, lastTestTime, message}, skipped
 * (while skipped). Without a run, the old results are kept and only skipped changes. NULL on ENOMEM. */
json_t *val_build_status(const struct val_status_input *in);

/* True when status.validation changed in a way a reader acts on (health, the replica set, lag within the
 * threshold or not, the skip reason), ignoring timestamps and lag values: a lag measurement writes only
 * then. lag_ok_before/now: ReplicationLagAcceptable before and now. */
bool val_results_changed(const json_t *old, const json_t *now, bool lag_ok_before, bool lag_ok_now);

enum val_event {
  VAL_EVENT_PASSED = 1u << 0,  /* ReplicationTestPassed (Normal): healthy again after a failure */
  VAL_EVENT_FAILED = 1u << 1,  /* ReplicationTestFailed (Warning): a replica did not see the canary */
  VAL_EVENT_HIGH_LAG = 1u << 2 /* HighReplicationLag (Warning): lag went above the threshold */
};

/* The Events of a run, from the previous results (status) and this one. Each is raised on the transition
 * only, so a lasting failure does not repeat its Event every minute. */
unsigned val_events(bool was_healthy, bool was_lag_ok, const struct val_summary *now);

#endif
