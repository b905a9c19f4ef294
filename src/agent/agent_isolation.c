/* The isolated-MAIN check of the agent sidecar (see agent_isolation.h). */
#include "agent_isolation.h"

#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"

/* ---- the decision ------------------------------------------------------------------------------------- */

static enum agent_iso_verdict unconfirmed(const struct agent_iso_view *v)
{
  if (v->unconfirmed_ms < v->bound_ms)
    return AGENT_ISO_WAIT;
  if (!v->armed)
    return AGENT_ISO_UNARMED;
  if (v->instances <= 1 || !v->failover_enabled)
    return AGENT_ISO_ALONE;
  if (!v->peers_asked)
    return AGENT_ISO_ASK_PEERS;
  if (v->peers_main > 0)
    return AGENT_ISO_FENCE_PEER;
  return v->peers_answered > 0 ? AGENT_ISO_KEEP : AGENT_ISO_FENCE_ALONE;
}

enum agent_iso_verdict agent_iso_decide(const struct agent_iso_view *v)
{
  if (v->role != MGO_ROLE_MAIN)
    return AGENT_ISO_NOT_MAIN;
  if (v->record_read)
    return v->named_other ? AGENT_ISO_FENCE_RECORD : AGENT_ISO_CONFIRMED;
  return unconfirmed(v);
}

bool agent_iso_verdict_fences(enum agent_iso_verdict v)
{
  return v == AGENT_ISO_FENCE_RECORD || v == AGENT_ISO_FENCE_PEER || v == AGENT_ISO_FENCE_ALONE;
}

const char *agent_iso_verdict_name(enum agent_iso_verdict v)
{
  static const char *const names[] = {
      [AGENT_ISO_NOT_MAIN] = "NotMain",       [AGENT_ISO_CONFIRMED] = "Confirmed",
      [AGENT_ISO_WAIT] = "Unconfirmed",       [AGENT_ISO_ASK_PEERS] = "AskPeers",
      [AGENT_ISO_KEEP] = "PeersAnswer",       [AGENT_ISO_ALONE] = "SingleInstance",
      [AGENT_ISO_UNARMED] = "NeverConfirmed", [AGENT_ISO_FENCE_RECORD] = "RecordNamesAnother",
      [AGENT_ISO_FENCE_PEER] = "PeerIsMain",  [AGENT_ISO_FENCE_ALONE] = "Isolated",
  };
  if ((unsigned) v >= sizeof(names) / sizeof(names[0]) || names[v] == NULL)
    return "Unknown";
  return names[v];
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

struct agent_iso_timing agent_iso_timing(int failover_delay_sec)
{
  int64_t delay_ms = (int64_t) (failover_delay_sec < 1 ? 1 : failover_delay_sec) * 1000;
  struct agent_iso_timing t = {.bound_ms = delay_ms / 2, .peers_ms = delay_ms / 8};
  t.interval_ms = clamp(t.bound_ms / 4, 100, 2000);
  t.fence_ms = t.interval_ms / 2;
  return t;
}

/* ---- one check ---------------------------------------------------------------------------------------- */

void agent_iso_init(struct agent_iso *iso, const char *pod, int64_t now_ms)
{
  memset(iso, 0, sizeof(*iso));
  (void) mgo_strlcpy(iso->pod, pod != NULL ? pod : "", sizeof(iso->pod));
  iso->confirmed_ms = now_ms;
  iso->last.instances = 0;
  iso->last.failover_delay_sec = 15; /* the CRD's default until the record says otherwise */
}

/* Asks every peer within the timing's peer budget; fills the view's peer fields. */
static void ask_peers(const struct agent_iso *iso, const struct agent_iso_ops *ops, int64_t budget_ms,
                      struct agent_iso_view *v)
{
  int n = iso->last.n_peers;
  long each = (long) (n > 0 ? budget_ms / n : budget_ms);
  v->peers_asked = true;
  for (int i = 0; i < n; i++) {
    enum mgo_role role = MGO_ROLE_UNKNOWN;
    if (ops->peer_role(ops->arg, iso->last.peers[i], each < 50 ? 50 : each, &role) != MGO_OK)
      continue;
    v->peers_answered++;
    if (role == MGO_ROLE_MAIN)
      v->peers_main++;
  }
}

static void explain(const struct agent_iso *iso, const struct agent_iso_view *v,
                    struct agent_iso_outcome *out)
{
  switch (out->verdict) {
  case AGENT_ISO_FENCE_RECORD:
    (void) mgo_snprintf(out->why, sizeof(out->why), "the MemgraphCluster names %s as the MAIN, not %s",
                        iso->last.current_main, iso->pod);
    break;
  case AGENT_ISO_FENCE_PEER:
    (void) mgo_snprintf(out->why, sizeof(out->why),
                        "not confirmed by the API server for %lld ms and %d peer(s) answer as MAIN",
                        (long long) v->unconfirmed_ms, v->peers_main);
    break;
  case AGENT_ISO_FENCE_ALONE:
    (void) mgo_snprintf(out->why, sizeof(out->why),
                        "not confirmed by the API server for %lld ms and none of %d peer(s) answers",
                        (long long) v->unconfirmed_ms, iso->last.n_peers);
    break;
  case AGENT_ISO_KEEP:
    (void) mgo_snprintf(out->why, sizeof(out->why),
                        "not confirmed by the API server for %lld ms; %d of %d peer(s) answer as REPLICA",
                        (long long) v->unconfirmed_ms, v->peers_answered, iso->last.n_peers);
    break;
  case AGENT_ISO_UNARMED:
    (void) mgo_strlcpy(out->why,
                       "the MemgraphCluster was never read since start (RBAC, egress to the API server?): "
                       "an isolated MAIN cannot be told apart, not fencing",
                       sizeof(out->why));
    break;
  default:
    (void) mgo_strlcpy(out->why, agent_iso_verdict_name(out->verdict), sizeof(out->why));
  }
}

/* The fence, tried again while the local Memgraph refuses it but still answers MAIN (a commit holds its
 * replication-state lock), every AGENT_ISO_FENCE_RETRY_MS for at most budget_ms. */
static void fence(const struct agent_iso_ops *ops, int64_t budget_ms, struct agent_iso_outcome *out)
{
  for (int64_t waited = 0;; waited += AGENT_ISO_FENCE_RETRY_MS) {
    enum mgo_role role = MGO_ROLE_UNKNOWN;
    out->fence_attempts++;
    out->fence_rc = ops->fence(ops->arg);
    out->fenced = out->fence_rc == MGO_OK;
    if (out->fenced || ops->pause == NULL || waited + AGENT_ISO_FENCE_RETRY_MS > budget_ms)
      return;
    if (ops->pause(ops->arg, AGENT_ISO_FENCE_RETRY_MS) != MGO_OK)
      return;
    if (ops->local_role(ops->arg, &role) != MGO_OK || role != MGO_ROLE_MAIN)
      return;
  }
}

int agent_iso_check(struct agent_iso *iso, const struct agent_iso_ops *ops, int64_t now_ms,
                    struct agent_iso_outcome *out)
{
  struct agent_iso_view v = {.role = MGO_ROLE_UNKNOWN};
  struct agent_iso_record rec;
  struct agent_iso_timing t;

  if (iso == NULL || ops == NULL || out == NULL || ops->local_role == NULL || ops->read_record == NULL ||
      ops->peer_role == NULL || ops->fence == NULL)
    return MGO_EINVAL;
  memset(out, 0, sizeof(*out));
  if (ops->local_role(ops->arg, &v.role) != MGO_OK)
    v.role = MGO_ROLE_UNKNOWN;
  memset(&rec, 0, sizeof(rec));
  if (v.role == MGO_ROLE_MAIN && ops->read_record(ops->arg, &rec) == MGO_OK) {
    iso->last = rec;
    iso->armed = true;
    v.record_read = true;
    v.named_other = rec.current_main[0] != '\0' && strcmp(rec.current_main, iso->pod) != 0;
  }
  if (v.role != MGO_ROLE_MAIN || (v.record_read && !v.named_other))
    iso->confirmed_ms = now_ms;
  t = agent_iso_timing(iso->last.failover_delay_sec);
  v.armed = iso->armed;
  v.unconfirmed_ms = now_ms - iso->confirmed_ms;
  v.bound_ms = t.bound_ms;
  v.instances = iso->last.instances;
  v.failover_enabled = iso->last.failover_enabled;
  out->verdict = agent_iso_decide(&v);
  if (out->verdict == AGENT_ISO_ASK_PEERS) {
    ask_peers(iso, ops, t.peers_ms, &v);
    out->verdict = agent_iso_decide(&v);
  }
  explain(iso, &v, out);
  out->next_check_ms = t.interval_ms;
  if (agent_iso_verdict_fences(out->verdict))
    fence(ops, t.fence_ms, out);
  return MGO_OK;
}
