/* Filling struct rec_instance (the pure topology decision's input) from live Memgraph answers. */
#include <stdlib.h>
#include <string.h>

#include "mg_rec.h"
#include "mgo_buf.h"
#include "mgo_err.h"

enum rec_replica_state mg_rec_state(enum mg_replica_status s)
{
  switch (s) {
  case MG_RS_READY:
    return REC_RS_READY;
  case MG_RS_REPLICATING:
    return REC_RS_REPLICATING;
  case MG_RS_RECOVERY:
    return REC_RS_RECOVERY;
  case MG_RS_INVALID:
    return REC_RS_INVALID;
  case MG_RS_DIVERGED:
    return REC_RS_DIVERGED;
  default:
    return REC_RS_UNKNOWN;
  }
}

static void fill_one(const struct mg_replica *src, struct rec_registration *dst)
{
  memset(dst, 0, sizeof(*dst));
  mgo_strlcpy(dst->name, src->name, sizeof(dst->name));
  mgo_strlcpy(dst->address, src->socket_address, sizeof(dst->address));
  dst->mode = src->mode_known ? src->mode : MGO_MODE_ASYNC;
  dst->has_data_info = src->has_data_info && src->has_default_db;
  dst->state = dst->has_data_info ? mg_rec_state(src->default_db.status) : REC_RS_UNKNOWN;
  dst->ts = dst->has_data_info && src->default_db.has_ts ? src->default_db.ts : 0;
  dst->behind = dst->has_data_info && src->default_db.has_behind ? src->default_db.behind : 0;
}

int mg_rec_fill_registrations(const struct mg_replicas *r, struct rec_instance *inst)
{
  inst->n_registrations = 0;
  inst->replicas_known = false;
  for (size_t i = 0; i < r->n; i++) {
    if (r->r[i].truncated)
      continue;
    if (inst->n_registrations == MGO_MAX_INSTANCES)
      return MGO_ETOOBIG;
    fill_one(&r->r[i], &inst->registrations[inst->n_registrations++]);
  }
  inst->replicas_known = true;
  return MGO_OK;
}

static enum rec_data data_of(const struct mg_storage_info *si);

int mg_rec_show_replicas(struct mg_conn *c, struct rec_registration *regs, size_t max, size_t *n,
                         struct mg_error *err)
{
  struct mg_replicas *reps = malloc(sizeof(*reps));
  int rc;

  *n = 0;
  if (reps == NULL)
    return MGO_ENOMEM;
  rc = mg_show_replicas(c, reps, err);
  for (size_t i = 0; rc == MGO_OK && i < reps->n; i++) {
    if (reps->r[i].truncated)
      continue;
    if (*n == max) {
      rc = MGO_ETOOBIG;
      if (err) {
        err->rc = rc;
        err->cls = MG_ERR_BAD_RESULT;
        mgo_snprintf(err->detail, sizeof(err->detail), "SHOW REPLICAS: %zu rows, room for %zu", reps->n, max);
      }
      break;
    }
    fill_one(&reps->r[i], &regs[(*n)++]);
  }
  free(reps);
  return rc;
}

int mg_rec_has_data(struct mg_conn *c, enum rec_data *data, struct mg_error *err)
{
  struct mg_storage_info si;
  int rc = mg_show_storage_info(c, &si, err);

  *data = rc == MGO_OK ? data_of(&si) : REC_DATA_UNKNOWN;
  return rc;
}

int mg_rec_execute(struct mg_conn *c, const struct rec_action *a, struct mg_error *err)
{
  switch (a->type) {
  case REC_ACT_PROMOTE:
    return mg_set_role_main(c, err);
  case REC_ACT_DEMOTE:
    return mg_set_role_replica(c, a->port, err);
  case REC_ACT_REGISTER:
    return mg_register_replica(c, a->replica, a->mode, a->address, err);
  case REC_ACT_DROP:
    return mg_drop_replica(c, a->replica, err);
  default:
    break;
  }
  if (err) {
    memset(err, 0, sizeof(*err));
    err->rc = MGO_EINVAL;
    err->cls = MG_ERR_INVALID_ARG;
    mgo_snprintf(err->detail, sizeof(err->detail), "%s is not a Bolt action", rec_action_type_name(a->type));
  }
  return MGO_EINVAL;
}

int mg_rec_action_cypher(const struct rec_action *a, char *dst, size_t dstsz)
{
  switch (a->type) {
  case REC_ACT_PROMOTE:
    return mg_cypher_set_main(dst, dstsz);
  case REC_ACT_DEMOTE:
    return mg_cypher_set_replica(dst, dstsz, a->port);
  case REC_ACT_REGISTER:
    return mg_cypher_register(dst, dstsz, a->replica, a->mode, a->address);
  case REC_ACT_DROP:
    return mg_cypher_drop(dst, dstsz, a->replica);
  default:
    return MGO_EINVAL;
  }
}

static bool unreachable(int rc)
{
  return rc != MGO_OK && rc != MGO_EFAILURE && rc != MGO_EPARSE && rc != MGO_ETOOBIG &&
         rc != MGO_EUNSUPPORTED;
}

/* Keeps the first failure in *first / err and the instance's last_error. */
static void note_failure(struct rec_instance *inst, const struct mg_error *e, int rc, int *first,
                         struct mg_error *err)
{
  if (*first != MGO_OK)
    return;
  *first = rc;
  if (err)
    *err = *e;
  mgo_snprintf(inst->last_error, sizeof(inst->last_error), "%s: %s", mg_err_class_name(e->cls),
               e->message[0] ? e->message : e->detail);
}

static int observe_replicas(struct mg_conn *c, struct rec_instance *inst, struct mg_error *e)
{
  struct mg_replicas *reps = malloc(sizeof(*reps));
  int rc;

  if (reps == NULL) {
    e->rc = MGO_ENOMEM;
    e->cls = MG_ERR_OTHER;
    mgo_strlcpy(e->detail, "out of memory", sizeof(e->detail));
    return MGO_ENOMEM;
  }
  rc = mg_show_replicas(c, reps, e);
  if (rc == MGO_OK) {
    rc = mg_rec_fill_registrations(reps, inst);
    if (rc != MGO_OK) {
      e->rc = rc;
      e->cls = MG_ERR_BAD_RESULT;
      mgo_strlcpy(e->detail, "SHOW REPLICAS: more registrations than instances", sizeof(e->detail));
    }
  }
  free(reps);
  return rc;
}

static enum rec_data data_of(const struct mg_storage_info *si)
{
  switch (mg_storage_data(si)) {
  case MG_DATA_EMPTY:
    return REC_DATA_EMPTY;
  case MG_DATA_PRESENT:
    return REC_DATA_PRESENT;
  default:
    return REC_DATA_UNKNOWN;
  }
}

static void reset_view(struct rec_instance *inst)
{
  inst->reachable = false;
  inst->role = MGO_ROLE_UNKNOWN;
  inst->data = REC_DATA_UNKNOWN;
  inst->replicas_known = false;
  inst->n_registrations = 0;
  inst->last_error[0] = '\0';
}

/* Role, data and (on a MAIN) registrations; the first failure is kept. */
static int observe_state(struct mg_conn *c, struct rec_instance *inst, int *first, struct mg_error *err)
{
  struct mg_error e;
  struct mg_storage_info si;
  int rc = mg_show_role(c, &inst->role, &e);

  if (rc != MGO_OK)
    note_failure(inst, &e, rc, first, err);
  if (unreachable(rc))
    return rc;
  rc = mg_show_storage_info(c, &si, &e);
  if (rc != MGO_OK)
    note_failure(inst, &e, rc, first, err);
  if (unreachable(rc))
    return rc;
  inst->data = rc == MGO_OK ? data_of(&si) : REC_DATA_UNKNOWN;
  if (inst->role != MGO_ROLE_MAIN)
    return MGO_OK;
  rc = observe_replicas(c, inst, &e);
  if (rc != MGO_OK)
    note_failure(inst, &e, rc, first, err);
  return unreachable(rc) ? rc : MGO_OK;
}

/* SHOW VERSION unless this connection already knows it; the first failure is kept. */
static int observe_version(struct mg_conn *c, struct rec_instance *inst, int *first, struct mg_error *err)
{
  struct mg_error e;
  struct mg_version v = *mg_conn_version(c);
  int rc = MGO_OK;

  if (!mg_version_known(&v) || !mg_conn_connected(c))
    rc = mg_show_version(c, &v, &e);
  if (rc != MGO_OK)
    note_failure(inst, &e, rc, first, err);
  inst->version_major = v.major;
  inst->version_minor = v.minor;
  inst->version_patch = v.patch;
  return rc;
}

int mg_rec_observe(struct mg_conn *c, struct rec_instance *inst, struct mg_error *err)
{
  int first = MGO_OK;
  unsigned connects;

  reset_view(inst);
  if (err)
    memset(err, 0, sizeof(*err));
  if (unreachable(observe_version(c, inst, &first, err)))
    return first;
  inst->reachable = true;
  connects = mg_conn_connects(c);
  if (unreachable(observe_state(c, inst, &first, err))) {
    inst->reachable = false;
    inst->replicas_known = false;
    return first;
  }
  /* a reconnect during the queries (the instance restarted): its version may have changed too */
  if (mg_conn_connects(c) != connects && unreachable(observe_version(c, inst, &first, err)))
    inst->reachable = false;
  return first;
}
