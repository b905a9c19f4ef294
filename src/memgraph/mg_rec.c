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
