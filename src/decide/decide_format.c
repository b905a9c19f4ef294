/* Text forms of decisions (logs, tests) and the version parser the observer feeds the decision with. */
#include "topology.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#include <ctype.h>
#include <string.h>

const char *rec_action_type_name(enum rec_action_type t)
{
  static const char *const names[] = {
      [REC_ACT_STOP] = "stop",
      [REC_ACT_EVENT] = "event",
      [REC_ACT_RECORD_MAIN] = "record_main",
      [REC_ACT_PROMOTE] = "promote",
      [REC_ACT_DEMOTE] = "demote",
      [REC_ACT_DROP] = "drop",
      [REC_ACT_REGISTER] = "register",
      [REC_ACT_RECORD_REGISTRATION] = "record_registration",
      [REC_ACT_RESEED] = "reseed",
      [REC_ACT_DELETE_POD] = "delete_pod",
      [REC_ACT_KILL_POD] = "kill_pod",
      [REC_ACT_LABEL] = "label",
      [REC_ACT_CONDITION] = "condition",
      [REC_ACT_PHASE] = "phase",
      [REC_ACT_REQUEUE] = "requeue",
  };
  if ((unsigned) t >= sizeof(names) / sizeof(names[0]) || names[t] == NULL)
    return "unknown";
  return names[t];
}

/* data_info.<db>.status as Memgraph and status.instanceStatuses[].replicaState spell it: the one table. */
static const char *const replica_state_names[] = {
    [REC_RS_UNKNOWN] = "unknown",   [REC_RS_READY] = "ready",     [REC_RS_REPLICATING] = "replicating",
    [REC_RS_RECOVERY] = "recovery", [REC_RS_INVALID] = "invalid", [REC_RS_DIVERGED] = "diverged"};

const char *rec_replica_state_name(enum rec_replica_state s)
{
  return (unsigned) s < sizeof(replica_state_names) / sizeof(replica_state_names[0]) ? replica_state_names[s]
                                                                                     : "unknown";
}

enum rec_replica_state rec_replica_state_named(const char *name)
{
  for (size_t i = REC_RS_READY;
       name != NULL && i < sizeof(replica_state_names) / sizeof(replica_state_names[0]); i++) {
    if (strcmp(name, replica_state_names[i]) == 0)
      return (enum rec_replica_state) i;
  }
  return REC_RS_UNKNOWN;
}

const char *rec_data_name(enum rec_data d)
{
  return d == REC_DATA_PRESENT ? "present" : d == REC_DATA_EMPTY ? "empty" : "unknown";
}

static const char *cond_status_name(enum rec_cond_status s)
{
  return s == REC_COND_TRUE ? "True" : s == REC_COND_FALSE ? "False" : "Unknown";
}

int rec_action_format(const struct rec_action *a, char *dst, size_t dstsz)
{
  const char *type = rec_action_type_name(a->type);
  switch (a->type) {
  case REC_ACT_DEMOTE:
    return mgo_snprintf(dst, dstsz, "%s %s port=%d %s", type, a->pod, (int) a->port, a->reason);
  case REC_ACT_DROP:
  case REC_ACT_RESEED:
    return mgo_snprintf(dst, dstsz, "%s %s %s %s", type, a->pod, a->replica, a->reason);
  case REC_ACT_REGISTER:
    return mgo_snprintf(dst, dstsz, "%s %s %s %s %s %s", type, a->pod, a->replica,
                        mgo_repl_mode_name(a->mode), a->address, a->reason);
  case REC_ACT_LABEL:
    return mgo_snprintf(dst, dstsz, "%s %s %s%s", type, a->pod, mgo_role_name(a->role),
                        a->readable ? " readable" : "");
  case REC_ACT_CONDITION:
    return mgo_snprintf(dst, dstsz, "%s %s=%s %s", type, a->cond_type, cond_status_name(a->cond_status),
                        a->reason);
  case REC_ACT_PHASE:
    return mgo_snprintf(dst, dstsz, "%s %s", type, a->phase);
  case REC_ACT_REQUEUE:
    return mgo_snprintf(dst, dstsz, "%s %d", type, (int) a->after_sec);
  case REC_ACT_STOP:
  case REC_ACT_EVENT:
    return mgo_snprintf(dst, dstsz, "%s %s", type, a->reason);
  default:
    return mgo_snprintf(dst, dstsz, "%s %s %s", type, a->pod, a->reason);
  }
}

static int parse_number(const char **p, int *out)
{
  long v = 0;
  if (!isdigit((unsigned char) **p))
    return MGO_EPARSE;
  for (; isdigit((unsigned char) **p); (*p)++) {
    v = v * 10 + (**p - '0');
    if (v > 100000)
      return MGO_EPARSE;
  }
  *out = (int) v;
  return MGO_OK;
}

int rec_parse_version(const char *s, int *major, int *minor, int *patch)
{
  const char *p = s;
  int parts[3] = {0, 0, 0};

  if (s == NULL)
    return MGO_EPARSE;
  for (int i = 0; i < 3; i++) {
    if (parse_number(&p, &parts[i]) != MGO_OK)
      return MGO_EPARSE;
    if (i < 2 && *p++ != '.')
      return MGO_EPARSE;
  }
  if (*p != '\0' && *p != '-' && *p != '+')
    return MGO_EPARSE;
  *major = parts[0];
  *minor = parts[1];
  *patch = parts[2];
  return MGO_OK;
}
