/* Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics.
 *
 * A candidate tries every retry period to become the holder: it creates the Lease, or takes it over when the
 * holder field is empty or the record has not changed for lease_duration as observed by this process
 * (observations use the local monotonic clock, never the remote timestamps, so clock skew does not matter).
 * Every write is a PUT carrying the observed resourceVersion, so two candidates can never both win: the
 * loser gets 409 and keeps waiting. The leader renews every retry period; if it cannot renew for
 * renew_deadline (which must be shorter than lease_duration) or sees another holder, it has lost: the
 * leading flag drops at once and on_lost is called, before any other candidate can take over. On
 * k8s_leader_stop() a leader releases the Lease by clearing holderIdentity (and setting a 1 s duration),
 * so a successor acquires immediately.
 *
 * Time: observations, the renew deadline, retry periods and the written timestamps follow opts.clock
 * (NULL = the system clock). With a fake clock, a test advances it and calls k8s_leader_kick() so the
 * elector thread re-checks its wait at once.
 *
 * Ownership: the elector borrows the client; strings in the options are copied.
 * Thread-safety: one thread per elector runs the loop; k8s_leader_is_leader() may be called from any
 * thread (atomic); callbacks run on the elector thread. */
#ifndef K8S_LEASE_H
#define K8S_LEASE_H

#include <stdbool.h>

#include "k8s_client.h"
#include "mgo_clock.h"

struct k8s_leader_opts {
  const char *lease_namespace;
  const char *lease_name;
  const char *identity;
  long lease_duration_ms; /* default 15000 */
  long renew_deadline_ms; /* default 10000 */
  long retry_period_ms;   /* default 2000 */
  void (*on_started_leading)(void *arg);
  void (*on_lost)(void *arg);                             /* lost while running (not called on stop) */
  void (*on_new_leader)(void *arg, const char *identity); /* holder changed ("" = released) */
  void (*on_error)(void *arg, int rc, const struct k8s_status *st); /* API failures, for logging */
  void *arg;
  const struct mgo_clock *clock; /* borrowed, must outlive the elector; NULL = mgo_clock_system() */
};

struct k8s_leader;

int k8s_leader_new(struct k8s_client *c, const struct k8s_leader_opts *opts, struct k8s_leader **out);
int k8s_leader_start(struct k8s_leader *le);
bool k8s_leader_is_leader(struct k8s_leader *le);
/* True once the elector thread has ended (stopped or lost). */
bool k8s_leader_done(struct k8s_leader *le);
/* Wakes the elector thread to re-check its clock (after a fake clock moved). Thread-safe. */
void k8s_leader_kick(struct k8s_leader *le);
/* Stops the loop, releases the Lease if held, joins the thread. Idempotent. */
void k8s_leader_stop(struct k8s_leader *le);
void k8s_leader_free(struct k8s_leader *le);

/* One acquire-or-renew attempt (what the loop does each retry period); *leading tells the outcome. For
 * tests and for callers that drive their own loop. */
int k8s_leader_try(struct k8s_leader *le, bool *leading, struct k8s_status *st);
/* Releases the Lease if this elector holds it (what stop does). */
int k8s_leader_release(struct k8s_leader *le, struct k8s_status *st);

#endif
