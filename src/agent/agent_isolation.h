/* The isolated-MAIN check of the agent sidecar (`agent serve`, docs/fencing.md "An isolated MAIN fences
 * itself"): a MAIN that cannot confirm it is still the chosen one demotes itself before the operator may fail
 * over away from it.
 *
 * Each check: ask the local Memgraph its role; on a MAIN, read the MemgraphCluster from the API server.
 *   - the record names another pod as status.currentMain           -> fence ("the record names X")
 *   - the record names this pod (or none yet)                       -> confirmed
 *   - unreadable for less than the bound                            -> wait
 *   - unreadable for the bound: ask every peer's Memgraph its role
 *       a peer answers MAIN                                         -> fence (someone else was promoted)
 *       a peer answers REPLICA                                      -> keep (only the API server is away)
 *       no peer answers                                             -> fence (isolated)
 * A single-instance cluster, or one with spec.failover.enabled false, has no one to fail over to and is
 * never fenced for isolation; an agent that has
 * not read the record once since it started (RBAC or egress not allowed yet) does not fence for isolation
 * either: it cannot tell that from a partition, and says so in its log. "Fence" = SET REPLICATION ROLE TO
 * REPLICA: writes on every kept connection are refused from then on; the operator promotes the instance
 * again once it is confirmed the chosen MAIN (docs/fencing.md).
 *
 * Timing (agent_iso_timing): bound = failoverDelaySec / 2, one check every bound / 4 (100 ms .. 2 s), the API
 * request bounded by one interval, every peer asked within failoverDelaySec / 8 in all, a refused fence tried
 * again for half an interval; so a MAIN is fenced at most 15/16 of failoverDelaySec after its last
 * confirmation, and the operator fails over no earlier than failoverDelaySec after the MAIN stopped
 * answering.
 *
 * Pure except agent_iso_check(), which reaches the pod's Memgraph, the API server and the peers only through
 * struct agent_iso_ops (unit tests pass fakes). Nothing here prints: agent_iso_check() returns what it did
 * and why. Ownership: all strings are caller-owned; struct agent_iso holds no pointers. */
#ifndef MGO_AGENT_ISOLATION_H
#define MGO_AGENT_ISOLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgo_repl.h"

#define AGENT_ISO_NAME_MAX 64
#define AGENT_ISO_MAX_PEERS 32

/* ---- the decision ------------------------------------------------------------------------------------- */

enum agent_iso_verdict {
  AGENT_ISO_NOT_MAIN,     /* not a MAIN (or it did not answer): nothing to guard */
  AGENT_ISO_CONFIRMED,    /* the record names this pod, or no MAIN yet */
  AGENT_ISO_WAIT,         /* unconfirmed, within the bound */
  AGENT_ISO_ASK_PEERS,    /* unconfirmed for the bound: the peers decide */
  AGENT_ISO_KEEP,         /* a peer answers as a REPLICA: only the API server is out of reach */
  AGENT_ISO_ALONE,        /* one instance, or failover off: nobody can take over */
  AGENT_ISO_UNARMED,      /* the record was never read since start: cannot tell isolation from config */
  AGENT_ISO_FENCE_RECORD, /* the record names another MAIN */
  AGENT_ISO_FENCE_PEER,   /* a peer answers as MAIN */
  AGENT_ISO_FENCE_ALONE   /* no peer answers and the API server does not either: isolated */
};

struct agent_iso_view {
  enum mgo_role role;     /* the local Memgraph's; MGO_ROLE_UNKNOWN when it did not answer */
  bool record_read;       /* the API server answered with the MemgraphCluster now */
  bool named_other;       /* ... and its status.currentMain is another pod */
  bool armed;             /* the record was read at least once since start */
  int64_t unconfirmed_ms; /* since the record last confirmed this pod */
  int64_t bound_ms;       /* agent_iso_timing */
  int instances;          /* spec.instances as last read */
  bool failover_enabled;  /* spec.failover.enabled as last read */
  bool peers_asked;       /* the fields below are filled */
  int peers_answered;     /* peers whose Memgraph answered SHOW REPLICATION ROLE */
  int peers_main;         /* ... as MAIN */
};

enum agent_iso_verdict agent_iso_decide(const struct agent_iso_view *v);
bool agent_iso_verdict_fences(enum agent_iso_verdict v);
const char *agent_iso_verdict_name(enum agent_iso_verdict v); /* static */

struct agent_iso_timing {
  int64_t bound_ms;    /* unconfirmed this long: the peers decide */
  int64_t interval_ms; /* between two checks */
  int64_t peers_ms;    /* all peers asked within this */
  int64_t fence_ms;    /* a refused fence is tried again for this long (half an interval) */
};

/* From spec.replication.failoverDelaySec (>= 1; smaller values count as 1). */
struct agent_iso_timing agent_iso_timing(int failover_delay_sec);

/* ---- one check ---------------------------------------------------------------------------------------- */

struct agent_iso_record {
  char current_main[AGENT_ISO_NAME_MAX]; /* "" when none recorded */
  int instances;
  bool failover_enabled;
  int failover_delay_sec;
  char peers[AGENT_ISO_MAX_PEERS][256]; /* the other pods' Bolt host names (pod DNS), instances - 1 of them */
  int n_peers;
};

struct agent_iso_ops {
  void *arg;
  /* The local Memgraph's role; non-zero when it did not answer. */
  int (*local_role)(void *arg, enum mgo_role *role);
  /* GET of the MemgraphCluster; non-zero when the API server did not answer with it. */
  int (*read_record)(void *arg, struct agent_iso_record *out);
  /* A peer's Memgraph's role within timeout_ms; non-zero when it did not answer. */
  int (*peer_role)(void *arg, const char *peer, long timeout_ms, enum mgo_role *role);
  /* SET REPLICATION ROLE TO REPLICA on the local Memgraph; non-zero on failure. */
  int (*fence)(void *arg);
  /* Waits ms before the fence is tried again; non-zero when the agent stops (no more tries). Optional:
   * without it a refused fence is tried again only at the next check. */
  int (*pause)(void *arg, long ms);
};

/* A MAIN refuses its demotion ("Couldn't set role to replica!") while a commit holds its replication-state
 * lock (Memgraph 3.0+; a SYNC commit holds it until its replicas answer). The fence is then tried again every
 * AGENT_ISO_FENCE_RETRY_MS for agent_iso_timing's fence_ms, for as long as the local Memgraph still answers
 * MAIN. */
#define AGENT_ISO_FENCE_RETRY_MS 20

struct agent_iso {
  char pod[AGENT_ISO_NAME_MAX];
  bool armed;
  int64_t confirmed_ms; /* monotonic; when the record last confirmed this pod (or the role was not MAIN) */
  struct agent_iso_record last; /* the record as last read */
};

/* Starts the check for pod (the agent's own pod name) at monotonic time now_ms. */
void agent_iso_init(struct agent_iso *iso, const char *pod, int64_t now_ms);

struct agent_iso_outcome {
  enum agent_iso_verdict verdict;
  bool fenced;           /* the fence query was sent and succeeded */
  int fence_rc;          /* its result when a fence was decided (the last try's) */
  int fence_attempts;    /* fence queries sent in this check */
  int64_t next_check_ms; /* wait this long before the next check */
  char why[256];         /* one line for the log */
};

/* One check at monotonic time now_ms (see the top of this file). Returns MGO_OK or MGO_EINVAL. */
int agent_iso_check(struct agent_iso *iso, const struct agent_iso_ops *ops, int64_t now_ms,
                    struct agent_iso_outcome *out);

#endif
