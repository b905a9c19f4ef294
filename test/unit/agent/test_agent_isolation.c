/* The isolated-MAIN check of the agent (src/agent/agent_isolation.h): the decision as a table, the timing,
 * and one check at a time through fake ports (local role, API server, peers, fence) on an injected time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_isolation.h"
#include "mgo_buf.h"
#include "mgo_err.h"

/* ---- the decision ------------------------------------------------------------------------------------- */

#define MAIN MGO_ROLE_MAIN
#define REPLICA MGO_ROLE_REPLICA
#define UNKNOWN MGO_ROLE_UNKNOWN

static void the_decision_table(void **state)
{
  /* clang-format off */
  static const struct {
    const char *what;
    struct agent_iso_view v;
    enum agent_iso_verdict want;
  } cases[] = {
    {"a replica is not guarded", {.role = REPLICA, .unconfirmed_ms = 99999, .bound_ms = 500, .instances = 3,
     .failover_enabled = true, .armed = true}, AGENT_ISO_NOT_MAIN},
    {"a silent Memgraph is not guarded", {.role = UNKNOWN, .bound_ms = 500, .instances = 3}, AGENT_ISO_NOT_MAIN},
    {"the record names this pod", {.role = MAIN, .record_read = true, .instances = 3}, AGENT_ISO_CONFIRMED},
    {"the record names another pod", {.role = MAIN, .record_read = true, .named_other = true, .instances = 1},
     AGENT_ISO_FENCE_RECORD},
    {"unconfirmed within the bound", {.role = MAIN, .unconfirmed_ms = 499, .bound_ms = 500, .instances = 3,
     .failover_enabled = true, .armed = true}, AGENT_ISO_WAIT},
    {"unconfirmed for the bound: ask", {.role = MAIN, .unconfirmed_ms = 500, .bound_ms = 500, .instances = 3,
     .failover_enabled = true, .armed = true}, AGENT_ISO_ASK_PEERS},
    {"one instance: nobody takes over", {.role = MAIN, .unconfirmed_ms = 9000, .bound_ms = 500,
     .instances = 1, .failover_enabled = true, .armed = true}, AGENT_ISO_ALONE},
    {"failover off: nobody takes over", {.role = MAIN, .unconfirmed_ms = 9000, .bound_ms = 500,
     .instances = 3, .failover_enabled = false, .armed = true}, AGENT_ISO_ALONE},
    {"never read since start", {.role = MAIN, .unconfirmed_ms = 9000, .bound_ms = 500, .instances = 3,
     .failover_enabled = true, .armed = false}, AGENT_ISO_UNARMED},
    {"a peer answers as MAIN", {.role = MAIN, .unconfirmed_ms = 900, .bound_ms = 500, .instances = 3,
     .failover_enabled = true, .armed = true, .peers_asked = true, .peers_answered = 2, .peers_main = 1},
     AGENT_ISO_FENCE_PEER},
    {"a peer answers as REPLICA", {.role = MAIN, .unconfirmed_ms = 900, .bound_ms = 500, .instances = 3,
     .failover_enabled = true, .armed = true, .peers_asked = true, .peers_answered = 1}, AGENT_ISO_KEEP},
    {"no peer answers", {.role = MAIN, .unconfirmed_ms = 900, .bound_ms = 500, .instances = 3,
     .failover_enabled = true, .armed = true, .peers_asked = true}, AGENT_ISO_FENCE_ALONE},
  };
  /* clang-format on */
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    enum agent_iso_verdict got = agent_iso_decide(&cases[i].v);
    if (got != cases[i].want)
      fail_msg("%s: got %s, want %s", cases[i].what, agent_iso_verdict_name(got),
               agent_iso_verdict_name(cases[i].want));
  }
  assert_true(agent_iso_verdict_fences(AGENT_ISO_FENCE_ALONE));
  assert_false(agent_iso_verdict_fences(AGENT_ISO_KEEP));
  assert_string_equal(agent_iso_verdict_name((enum agent_iso_verdict) 99), "Unknown");
}

/* The bound, the interval and the peers' budget end before the operator may fail over. */
static void the_timing_ends_before_the_failover_delay(void **state)
{
  static const int delays[] = {0, 1, 2, 5, 15, 60, 3600};
  (void) state;
  for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
    struct agent_iso_timing t = agent_iso_timing(delays[i]);
    int64_t delay_ms = (int64_t) (delays[i] < 1 ? 1 : delays[i]) * 1000;
    assert_true(t.interval_ms >= 100 && t.interval_ms <= 2000);
    /* the bound, then a check's wait, its API request, its peers and a refused fence's tries */
    assert_true(t.bound_ms + 2 * t.interval_ms + t.peers_ms + t.fence_ms < delay_ms);
  }
  assert_int_equal(agent_iso_timing(15).bound_ms, 7500);
  assert_int_equal(agent_iso_timing(15).interval_ms, 1875);
  assert_int_equal(agent_iso_timing(1).interval_ms, 125);
}

/* ---- one check through fake ports --------------------------------------------------------------------- */

struct fake {
  enum mgo_role role;
  int role_rc;
  int record_rc;
  struct agent_iso_record record;
  enum mgo_role peer[4];
  int peer_rc[4];
  int peer_calls;
  long peer_timeout_ms;
  int fences;
  int fence_rc;
  int fence_refusals; /* the first this many fences fail (a commit holds the lock), then fence_rc applies */
  long paused_ms;     /* total asked of pause */
  int pause_rc;
  bool demoted_in_pause; /* someone else demotes the local Memgraph while the agent waits */
};

static int f_local_role(void *arg, enum mgo_role *role)
{
  struct fake *f = arg;
  *role = f->role;
  return f->role_rc;
}

static int f_read_record(void *arg, struct agent_iso_record *out)
{
  struct fake *f = arg;
  if (f->record_rc == MGO_OK)
    *out = f->record;
  return f->record_rc;
}

static int f_peer_role(void *arg, const char *peer, long timeout_ms, enum mgo_role *role)
{
  struct fake *f = arg;
  int i = peer[strlen(peer) - 1] - '0'; /* "mg-1" .. */
  f->peer_calls++;
  f->peer_timeout_ms = timeout_ms;
  *role = f->peer[i];
  return f->peer_rc[i];
}

static int f_fence(void *arg)
{
  struct fake *f = arg;
  f->fences++;
  if (f->fence_refusals > 0) {
    f->fence_refusals--;
    return MGO_EFAILURE;
  }
  if (f->fence_rc == MGO_OK)
    f->role = MGO_ROLE_REPLICA;
  return f->fence_rc;
}

static int f_pause(void *arg, long ms)
{
  struct fake *f = arg;
  f->paused_ms += ms;
  if (f->demoted_in_pause)
    f->role = MGO_ROLE_REPLICA;
  return f->pause_rc;
}

static struct agent_iso_ops ops_of(struct fake *f)
{
  return (struct agent_iso_ops){.arg = f,
                                .local_role = f_local_role,
                                .read_record = f_read_record,
                                .peer_role = f_peer_role,
                                .fence = f_fence,
                                .pause = f_pause};
}

/* mg-0 is the MAIN of 3 with failoverDelaySec 4 (bound 2000 ms, peers 500 ms); the peers are REPLICAs. */
static void fake_init(struct fake *f)
{
  memset(f, 0, sizeof(*f));
  f->role = MGO_ROLE_MAIN;
  f->record = (struct agent_iso_record){
      .instances = 3, .failover_enabled = true, .failover_delay_sec = 4, .n_peers = 2};
  (void) mgo_strlcpy(f->record.current_main, "mg-0", sizeof(f->record.current_main));
  (void) mgo_strlcpy(f->record.peers[0], "mg-1", sizeof(f->record.peers[0]));
  (void) mgo_strlcpy(f->record.peers[1], "mg-2", sizeof(f->record.peers[1]));
  f->peer[1] = f->peer[2] = MGO_ROLE_REPLICA;
}

static enum agent_iso_verdict check_at(struct agent_iso *iso, struct fake *f, int64_t now_ms)
{
  struct agent_iso_ops ops = ops_of(f);
  struct agent_iso_outcome o;
  assert_int_equal(agent_iso_check(iso, &ops, now_ms, &o), MGO_OK);
  assert_true(o.next_check_ms >= 100);
  assert_int_equal(o.fenced, agent_iso_verdict_fences(o.verdict) && f->fence_rc == MGO_OK);
  return o.verdict;
}

/* mg-0 confirmed as the MAIN at time 0 (fake_init's cluster). */
static void confirmed_main(struct fake *f, struct agent_iso *iso)
{
  fake_init(f);
  agent_iso_init(iso, "mg-0", 0);
  assert_int_equal(check_at(iso, f, 0), AGENT_ISO_CONFIRMED);
}

static void an_isolated_main_is_fenced_after_the_bound(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  confirmed_main(&f, &iso);
  f.record_rc = MGO_EIO;                       /* the API server is gone */
  f.peer_rc[1] = f.peer_rc[2] = MGO_ETIMEDOUT; /* and so are the peers */
  assert_int_equal(check_at(&iso, &f, 1999), AGENT_ISO_WAIT);
  assert_int_equal(f.peer_calls, 0);
  assert_int_equal(check_at(&iso, &f, 2000), AGENT_ISO_FENCE_ALONE);
  assert_int_equal(f.peer_calls, 2);
  assert_int_equal(f.peer_timeout_ms, 250); /* the peers' 500 ms shared by two */
  assert_int_equal(f.fences, 1);
  /* demoted: nothing more to guard, and never promoted by the agent */
  assert_int_equal(check_at(&iso, &f, 2200), AGENT_ISO_NOT_MAIN);
  assert_int_equal(f.fences, 1);
  assert_int_equal(f.role, MGO_ROLE_REPLICA);
}

static void an_api_server_outage_alone_does_not_fence(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  confirmed_main(&f, &iso);
  f.record_rc = MGO_EIO;
  f.peer_rc[1] = MGO_ETIMEDOUT; /* one peer away, the other answers as REPLICA */
  assert_int_equal(check_at(&iso, &f, 5000), AGENT_ISO_KEEP);
  assert_int_equal(check_at(&iso, &f, 9000), AGENT_ISO_KEEP);
  assert_int_equal(f.fences, 0);
  f.record_rc = MGO_OK; /* back: confirmed, the bound starts again */
  assert_int_equal(check_at(&iso, &f, 9100), AGENT_ISO_CONFIRMED);
  f.record_rc = MGO_EIO;
  assert_int_equal(check_at(&iso, &f, 11000), AGENT_ISO_WAIT);
}

static void a_peer_promoted_meanwhile_fences_the_old_main(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  confirmed_main(&f, &iso);
  f.record_rc = MGO_EIO;
  f.peer[2] = MGO_ROLE_MAIN;
  assert_int_equal(check_at(&iso, &f, 2500), AGENT_ISO_FENCE_PEER);
  assert_int_equal(f.fences, 1);
}

static void the_record_naming_another_main_fences_at_once(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  fake_init(&f);
  agent_iso_init(&iso, "mg-0", 0);
  (void) mgo_strlcpy(f.record.current_main, "mg-1", sizeof(f.record.current_main));
  assert_int_equal(check_at(&iso, &f, 0), AGENT_ISO_FENCE_RECORD);
  assert_int_equal(f.fences, 1);
  assert_int_equal(f.peer_calls, 0);
}

static void no_recorded_main_yet_is_no_reason_to_fence(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  fake_init(&f);
  f.record.current_main[0] = '\0';
  agent_iso_init(&iso, "mg-0", 0);
  assert_int_equal(check_at(&iso, &f, 0), AGENT_ISO_CONFIRMED);
  assert_int_equal(f.fences, 0);
}

static void an_agent_that_never_read_the_record_does_not_fence(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  fake_init(&f);
  f.record_rc = MGO_EFORBIDDEN; /* RBAC missing */
  f.peer_rc[1] = f.peer_rc[2] = MGO_ETIMEDOUT;
  agent_iso_init(&iso, "mg-0", 0);
  assert_int_equal(check_at(&iso, &f, 0), AGENT_ISO_WAIT);
  assert_int_equal(check_at(&iso, &f, 60000), AGENT_ISO_UNARMED);
  assert_int_equal(f.peer_calls, 0);
  assert_int_equal(f.fences, 0);
}

static void a_replica_keeps_the_clock_fresh(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  confirmed_main(&f, &iso);
  f.role = MGO_ROLE_REPLICA;
  f.record_rc = MGO_EIO;
  assert_int_equal(check_at(&iso, &f, 60000), AGENT_ISO_NOT_MAIN);
  f.role = MGO_ROLE_MAIN; /* promoted now: the bound counts from the last check as a replica */
  assert_int_equal(check_at(&iso, &f, 60100), AGENT_ISO_WAIT);
  assert_int_equal(f.fences, 0);
}

static void a_failed_fence_is_reported_and_tried_again(void **state)
{
  struct fake f;
  struct agent_iso iso;
  (void) state;
  confirmed_main(&f, &iso);
  f.record_rc = MGO_EIO;
  f.peer_rc[1] = f.peer_rc[2] = MGO_ETIMEDOUT;
  f.fence_rc = MGO_EIO;
  assert_int_equal(check_at(&iso, &f, 2000), AGENT_ISO_FENCE_ALONE);
  f.fence_rc = MGO_OK;
  assert_int_equal(check_at(&iso, &f, 2600), AGENT_ISO_FENCE_ALONE);
  assert_int_equal(f.fences, 250 / AGENT_ISO_FENCE_RETRY_MS + 1 + 1); /* the first check's tries, then one */
}

/* mg-0 confirmed at 0, then cut off from the API server and its peers; its Memgraph refuses the first
 * `refusals` demotions (a commit holds the replication-state lock). */
static void isolated_main(struct fake *f, struct agent_iso *iso, int refusals)
{
  confirmed_main(f, iso);
  f->record_rc = MGO_EIO;
  f->peer_rc[1] = f->peer_rc[2] = MGO_ETIMEDOUT;
  f->fence_refusals = refusals;
}

/* One check at now_ms into *o. */
static void check_into(struct agent_iso *iso, struct fake *f, int64_t now_ms, struct agent_iso_outcome *o)
{
  struct agent_iso_ops ops = ops_of(f);
  assert_int_equal(agent_iso_check(iso, &ops, now_ms, o), MGO_OK);
}

/* A commit holding the replication-state lock makes Memgraph refuse the demotion: tried again every
 * AGENT_ISO_FENCE_RETRY_MS within the check, until it succeeds. */
static void a_fence_refused_while_a_commit_holds_the_lock_is_tried_again_at_once(void **state)
{
  struct fake f;
  struct agent_iso iso;
  struct agent_iso_outcome o;
  (void) state;
  isolated_main(&f, &iso, 3);
  check_into(&iso, &f, 2000, &o);
  assert_int_equal(o.verdict, AGENT_ISO_FENCE_ALONE);
  assert_true(o.fenced);
  assert_int_equal(o.fence_attempts, 4);
  assert_int_equal(f.paused_ms, 3 * AGENT_ISO_FENCE_RETRY_MS);
  assert_int_equal(f.role, MGO_ROLE_REPLICA);
}

/* Refused throughout: the tries stay within half a check interval (failoverDelaySec 4: 250 ms), then the
 * next check decides again. */
static void a_fence_refused_throughout_stops_trying_within_the_interval(void **state)
{
  struct fake f;
  struct agent_iso iso;
  struct agent_iso_outcome o;
  (void) state;
  isolated_main(&f, &iso, 1000);
  check_into(&iso, &f, 2000, &o);
  assert_false(o.fenced);
  assert_int_equal(o.fence_rc, MGO_EFAILURE);
  assert_int_equal(o.fence_attempts, 250 / AGENT_ISO_FENCE_RETRY_MS + 1);
  assert_int_equal(f.paused_ms, 250 / AGENT_ISO_FENCE_RETRY_MS * AGENT_ISO_FENCE_RETRY_MS);
  assert_int_equal(o.next_check_ms, 500);
}

/* No more tries once the local Memgraph is no longer MAIN (someone demoted it), or the agent stops. */
static void fence_tries_stop_when_the_main_is_gone_or_the_agent_stops(void **state)
{
  struct fake f;
  struct agent_iso iso;
  struct agent_iso_outcome o;
  (void) state;
  isolated_main(&f, &iso, 1000);
  f.pause_rc = MGO_ECANCELED;
  check_into(&iso, &f, 2000, &o);
  assert_int_equal(o.fence_attempts, 1);
  f.pause_rc = MGO_OK;
  f.demoted_in_pause = true;
  check_into(&iso, &f, 2100, &o);
  assert_int_equal(o.fence_attempts, 1);
  assert_int_equal(f.paused_ms, 2 * AGENT_ISO_FENCE_RETRY_MS);
}

static void missing_ports_are_refused(void **state)
{
  struct fake f;
  struct agent_iso iso;
  struct agent_iso_ops ops;
  struct agent_iso_outcome o;
  (void) state;
  fake_init(&f);
  ops = ops_of(&f);
  ops.fence = NULL;
  agent_iso_init(&iso, "mg-0", 0);
  assert_int_equal(agent_iso_check(&iso, &ops, 0, &o), MGO_EINVAL);
  assert_int_equal(agent_iso_check(NULL, &ops, 0, &o), MGO_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_decision_table),
      cmocka_unit_test(the_timing_ends_before_the_failover_delay),
      cmocka_unit_test(an_isolated_main_is_fenced_after_the_bound),
      cmocka_unit_test(an_api_server_outage_alone_does_not_fence),
      cmocka_unit_test(a_peer_promoted_meanwhile_fences_the_old_main),
      cmocka_unit_test(the_record_naming_another_main_fences_at_once),
      cmocka_unit_test(no_recorded_main_yet_is_no_reason_to_fence),
      cmocka_unit_test(an_agent_that_never_read_the_record_does_not_fence),
      cmocka_unit_test(a_replica_keeps_the_clock_fresh),
      cmocka_unit_test(a_failed_fence_is_reported_and_tried_again),
      cmocka_unit_test(a_fence_refused_while_a_commit_holds_the_lock_is_tried_again_at_once),
      cmocka_unit_test(a_fence_refused_throughout_stops_trying_within_the_interval),
      cmocka_unit_test(fence_tries_stop_when_the_main_is_gone_or_the_agent_stops),
      cmocka_unit_test(missing_ports_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
