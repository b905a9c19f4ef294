/* Test helper: the observed-state notation of the topology tables (see test_topology.c). */
#include "notation.h"
#include "mgo_buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- the notation ----------------------------------------------------------------------------- */

enum mgo_repl_mode notation_mode(char c)
{
  return c == 'S' ? MGO_MODE_SYNC : c == 'X' ? MGO_MODE_STRICT_SYNC : MGO_MODE_ASYNC;
}

static enum rec_replica_state state_of(const char *s)
{
  enum rec_replica_state state = rec_replica_state_named(s);
  if (state == REC_RS_UNKNOWN)
    fail_msg("unknown replica state %s", s);
  return state;
}

static void parse_registration(const struct mgo_cluster *c, char *spec, struct rec_instance *in)
{
  struct rec_registration *r = &in->registrations[in->n_registrations++];
  char *save = NULL;
  char *who = strtok_r(spec, ":", &save);
  char *mode = strtok_r(NULL, ":", &save);
  char *state = strtok_r(NULL, ":", &save);
  char pod[MGO_NAME_MAX];

  assert_non_null(state);
  memset(r, 0, sizeof(*r));
  if (who[0] >= '0' && who[0] <= '9') {
    mgo_name_pod(c, atoi(who), pod, sizeof(pod));
    mgo_replica_name(pod, r->name, sizeof(r->name));
    mgo_name_replica_address(c, atoi(who), r->address, sizeof(r->address));
  } else {
    mgo_strlcpy(r->name, who, sizeof(r->name));
    snprintf(r->address, sizeof(r->address), "%s:10000", who);
  }
  r->mode = notation_mode(mode[0]);
  r->state = state_of(state);
  r->has_data_info = true;
  for (char *opt = strtok_r(NULL, ":", &save); opt != NULL; opt = strtok_r(NULL, ":", &save)) {
    if (strcmp(opt, "nodata") == 0)
      r->has_data_info = false;
    else if (strcmp(opt, "badaddr") == 0)
      mgo_strlcpy(r->address, "10.0.0.9:10000", sizeof(r->address));
    else
      r->behind = atoll(opt);
  }
}

static void parse_label(const char *v, struct rec_instance *in)
{
  in->label_role = MGO_ROLE_UNKNOWN;
  in->label_readable = false;
  if (strcmp(v, "main") == 0) {
    in->label_role = MGO_ROLE_MAIN;
    in->label_readable = true;
  } else if (strcmp(v, "replica") == 0) {
    in->label_role = MGO_ROLE_REPLICA;
    in->label_readable = true;
  } else if (strcmp(v, "replica-") == 0) {
    in->label_role = MGO_ROLE_REPLICA;
  }
}

/* last=<A|S|X>[:<behind>]: how the lost MAIN last listed it (in sync when behind is 0). */
static void parse_last(const char *v, struct rec_instance *in)
{
  in->last_registered = true;
  in->last_mode = notation_mode(v[0]);
  in->last_behind = v[1] == ':' ? atoll(v + 2) : 0;
  in->last_in_sync = in->last_behind == 0;
}

static void parse_flag(const struct mgo_cluster *c, char *tok, struct rec_instance *in, bool *reg_uid_set,
                       bool *reg_restarts_set)
{
  if (strcmp(tok, "empty") == 0)
    in->data = REC_DATA_EMPTY;
  else if (strcmp(tok, "unk") == 0)
    in->data = REC_DATA_UNKNOWN;
  else if (strcmp(tok, "notready") == 0)
    in->pod_ready = false;
  else if (strcmp(tok, "term") == 0)
    in->pod_terminating = true;
  else if (strcmp(tok, "crashed") == 0)
    in->crashed = true;
  else if (strcmp(tok, "norepl") == 0)
    in->replicas_known = false;
  else if (strcmp(tok, "noreg") == 0)
    *reg_uid_set = true; /* stays "" */
  else if (strncmp(tok, "v=", 2) == 0)
    assert_int_equal(rec_parse_version(tok + 2, &in->version_major, &in->version_minor, &in->version_patch),
                     0);
  else if (strncmp(tok, "ts=", 3) == 0)
    in->last_known_ts = atoll(tok + 3);
  else if (strncmp(tok, "uid=", 4) == 0)
    mgo_strlcpy(in->pod_uid, tok + 4, sizeof(in->pod_uid));
  else if (strncmp(tok, "restarts=", 9) == 0)
    in->restart_count = atoi(tok + 9);
  else if (strncmp(tok, "reg-uid=", 8) == 0 && (*reg_uid_set = true))
    mgo_strlcpy(in->registered_pod_uid, tok + 8, sizeof(in->registered_pod_uid));
  else if (strncmp(tok, "reg-restarts=", 13) == 0 && (*reg_restarts_set = true))
    in->registered_restart_count = atoi(tok + 13);
  else if (strncmp(tok, "lbl=", 4) == 0)
    parse_label(tok + 4, in);
  else if (strncmp(tok, "reg=", 4) == 0)
    parse_registration(c, tok + 4, in);
  else if (strncmp(tok, "last=", 5) == 0)
    parse_last(tok + 5, in);
  else if (strcmp(tok, "regdiv") == 0)
    in->register_diverged = true;
  else if (strcmp(tok, "wasmain") == 0)
    in->acted_as_main = true;
  else if (strcmp(tok, "graced") == 0)
    in->recently_healthy = true;
  else if (strcmp(tok, "podready") == 0)
    in->pod_ready = true;
  else if (strcmp(tok, "lately-replica") == 0)
    in->recently_replica = true;
  else if (strncmp(tok, "invalid-for=", 12) == 0)
    in->invalid_for_ms = atoll(tok + 12);
  else if (strcmp(tok, "reseedheld") == 0) {
    in->reseed_held = true;
    in->reseeds = 3;
  } else if (strcmp(tok, "old") == 0)
    in->outdated = true;
  else
    fail_msg("unknown flag %s", tok);
}

static void parse_instance(const struct mgo_cluster *c, char *text, struct rec_instance *in)
{
  char *save = NULL;
  char *ord = strtok_r(text, " ", &save);
  char *kind = strtok_r(NULL, " ", &save);
  bool reg_uid_set = false, reg_restarts_set = false;

  memset(in, 0, sizeof(*in));
  in->ordinal = atoi(ord);
  mgo_name_pod(c, in->ordinal, in->pod, sizeof(in->pod));
  snprintf(in->pod_uid, sizeof(in->pod_uid), "u%d", in->ordinal);
  in->pod_exists = kind[0] != '-';
  in->reachable = kind[0] == 'M' || kind[0] == 'R';
  in->pod_ready = in->reachable;
  in->role = kind[0] == 'M' ? MGO_ROLE_MAIN : kind[0] == 'R' ? MGO_ROLE_REPLICA : MGO_ROLE_UNKNOWN;
  in->label_role = in->role;
  in->label_readable = in->reachable;
  in->version_major = in->reachable ? 3 : 0; /* SHOW VERSION needs an answer */
  in->version_minor = in->reachable ? 12 : 0;
  in->data = REC_DATA_PRESENT;
  in->replicas_known = in->role == MGO_ROLE_MAIN;
  in->last_known_ts = -1;
  for (char *tok = strtok_r(NULL, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
    parse_flag(c, tok, in, &reg_uid_set, &reg_restarts_set);
  if (!reg_uid_set)
    mgo_strlcpy(in->registered_pod_uid, in->pod_uid, sizeof(in->registered_pod_uid));
  if (!reg_restarts_set)
    in->registered_restart_count = in->restart_count;
}

/* "@ down=<ms> fenced=<pod> approved resuming initializing" (observation) and "noauto delay=<s>
 * async[=<lag>] manual switch=<n> supervised hibernate fenceall userfence=<pod>" (spec): the observation half
 * when obs is set, the spec half when c is set. */
static bool parse_obs_flag(const char *tok, struct rec_observed *obs)
{
  if (strncmp(tok, "down=", 5) == 0)
    obs->main_unavailable_ms = atoll(tok + 5);
  else if (strncmp(tok, "fenced=", 7) == 0)
    mgo_strlcpy(obs->fenced_main, tok + 7, sizeof(obs->fenced_main));
  else if (strcmp(tok, "approved") == 0)
    obs->main_update_approved = true;
  else if (strcmp(tok, "resuming") == 0)
    obs->resuming = true;
  else if (strcmp(tok, "initializing") == 0)
    obs->initializing = true;
  else
    return false;
  return true;
}

static bool parse_spec_flag(const char *tok, struct mgo_cluster *c)
{
  if (strcmp(tok, "noauto") == 0)
    c->spec.failover.enabled = false;
  else if (strncmp(tok, "delay=", 6) == 0)
    c->spec.failover.failover_delay_sec = atoi(tok + 6);
  else if (strncmp(tok, "async", 5) == 0) {
    c->spec.failover.allow_async_promotion = true;
    c->spec.failover.max_async_lag = tok[5] == '=' ? atoll(tok + 6) : 0;
  } else if (strcmp(tok, "manual") == 0)
    c->spec.failover.reseed_policy = MGO_RESEED_MANUAL;
  else if (strncmp(tok, "switch=", 7) == 0)
    c->spec.switchover_target_ordinal = atoi(tok + 7);
  else if (strcmp(tok, "supervised") == 0)
    c->spec.update_strategy = MGO_UPDATE_SUPERVISED;
  else if (strcmp(tok, "hibernate") == 0)
    c->ops.hibernate = true;
  else if (strcmp(tok, "fenceall") == 0)
    c->ops.fence_all = true;
  else if (strncmp(tok, "userfence=", 10) == 0)
    mgo_strlcpy(c->ops.fenced[c->ops.n_fenced++], tok + 10, MGO_NAME_MAX);
  else
    return false;
  return true;
}

/* "@ down=<ms> fenced=<pod> approved resuming initializing" (observation) and "noauto delay=<s>
 * async[=<lag>] manual switch=<n> supervised hibernate fenceall userfence=<pod>" (spec). Exactly one of obs
 * and c is set: that half is applied, the other only checked. */
static void parse_global(char *text, struct rec_observed *obs, struct mgo_cluster *c)
{
  struct rec_observed scratch_obs;
  struct mgo_cluster scratch_c;
  char *save = NULL;
  memset(&scratch_obs, 0, sizeof(scratch_obs));
  memset(&scratch_c, 0, sizeof(scratch_c));
  for (char *tok = strtok_r(text, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
    bool known = parse_obs_flag(tok, obs != NULL ? obs : &scratch_obs) ||
                 parse_spec_flag(tok, c != NULL ? c : &scratch_c);
    if (!known)
      fail_msg("unknown global flag %s", tok);
  }
}

void notation_observed(const struct mgo_cluster *c, const char *text, struct rec_observed *obs)
{
  char buf[1024];
  char *save = NULL;
  mgo_strlcpy(buf, text, sizeof(buf));
  memset(obs, 0, sizeof(*obs));
  for (char *part = strtok_r(buf, "|", &save); part != NULL; part = strtok_r(NULL, "|", &save)) {
    while (*part == ' ')
      part++;
    if (part[0] == '@')
      parse_global(part + 1, obs, NULL);
    else
      parse_instance(c, part, &obs->inst[obs->n++]);
  }
}

void notation_spec(struct mgo_cluster *c, const char *text)
{
  char buf[1024];
  char *save = NULL;
  mgo_strlcpy(buf, text, sizeof(buf));
  for (char *part = strtok_r(buf, "|", &save); part != NULL; part = strtok_r(NULL, "|", &save)) {
    while (*part == ' ')
      part++;
    if (part[0] == '@')
      parse_global(part + 1, NULL, c);
  }
}

void notation_cluster(struct mgo_cluster *c, int instances, int sync, char sync_mode, char mode,
                      const char *recorded)
{
  memset(c, 0, sizeof(*c));
  mgo_cluster_spec_defaults(&c->spec);
  mgo_strlcpy(c->name, "mg", sizeof(c->name));
  mgo_strlcpy(c->namespace_, "db", sizeof(c->namespace_));
  mgo_strlcpy(c->recorded_main, recorded, sizeof(c->recorded_main));
  c->spec.instances = instances;
  c->spec.replication.sync_replicas = sync;
  c->spec.replication.sync_mode = notation_mode(sync_mode);
  c->spec.replication.mode = notation_mode(mode);
}
