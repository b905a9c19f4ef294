/* SHOW REPLICAS (memgraph.md 2.2): name, socket_address, sync_mode, system_info, data_info, matched by
 * column name. The nested maps are read defensively: a value of an odd type becomes "unknown", never a
 * crash; only the three string columns are required. */
#include <string.h>

#include "mg_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

/* data_info.<db>.status as Memgraph prints it; the one table for both directions. */
static const char *const status_names[] = {
    [MG_RS_UNKNOWN] = "unknown",   [MG_RS_READY] = "ready",     [MG_RS_REPLICATING] = "replicating",
    [MG_RS_RECOVERY] = "recovery", [MG_RS_INVALID] = "invalid", [MG_RS_DIVERGED] = "diverged"};

static enum mg_replica_status parse_status(const char *s)
{
  for (size_t i = MG_RS_READY; s != NULL && i < sizeof(status_names) / sizeof(status_names[0]); i++) {
    if (strcmp(s, status_names[i]) == 0)
      return (enum mg_replica_status) i;
  }
  return MG_RS_UNKNOWN;
}

const char *mg_replica_status_name(enum mg_replica_status s)
{
  if ((size_t) s >= sizeof(status_names) / sizeof(status_names[0]))
    return "unknown";
  return status_names[s];
}

/* Memgraph prints sync_mode in lower case ("strict_sync"). */
static bool parse_mode(const char *s, enum mgo_repl_mode *mode)
{
  return mgo_repl_mode_parse(s, MGO_CASE_LOWER, mode);
}

static void parse_db(const char *db, const struct bolt_value *v, struct mg_db_info *out)
{
  const char *status = NULL;

  memset(out, 0, sizeof(*out));
  mgo_strlcpy(out->db, db, sizeof(out->db));
  out->has_ts = bolt_map_get_int(v, "ts", &out->ts) == MGO_OK;
  out->has_behind = bolt_map_get_int(v, "behind", &out->behind) == MGO_OK;
  if (bolt_map_get_string(v, "status", &status) == MGO_OK)
    mgo_strlcpy(out->status_raw, status, sizeof(out->status_raw));
  out->status = parse_status(status);
}

static void parse_data_info(const struct bolt_value *v, struct mg_replica *r)
{
  size_t n = bolt_value_type(v) == BOLT_MAP ? v->u.map.len : 0;

  r->default_db.status = MG_RS_UNKNOWN;
  for (size_t i = 0; i < n; i++) {
    const struct bolt_map_entry *e = &v->u.map.entries[i];
    struct mg_db_info db;
    if (bolt_value_type(&e->value) != BOLT_MAP)
      continue;
    parse_db(e->key, &e->value, &db);
    r->has_data_info = true;
    if (strcmp(e->key, "memgraph") == 0) {
      r->has_default_db = true;
      r->default_db = db;
    }
    if (r->n_dbs < MG_MAX_DBS)
      r->dbs[r->n_dbs++] = db;
    else
      r->dbs_dropped++;
  }
}

static void parse_system_info(const struct bolt_value *v, struct mg_replica *r)
{
  const char *status = NULL;

  if (bolt_value_type(v) != BOLT_MAP)
    return;
  r->has_system_info = true;
  r->system_info.has_ts = bolt_map_get_int(v, "ts", &r->system_info.ts) == MGO_OK;
  if (bolt_map_get_string(v, "status", &status) == MGO_OK)
    r->system_info.status = parse_status(status);
}

struct rep_cols {
  long name, addr, mode, sys, data;
};

static int parse_row(const struct bolt_value *row, const struct rep_cols *c, struct mg_replica *r, size_t i,
                     struct mg_error *err)
{
  const char *mode = NULL;

  memset(r, 0, sizeof(*r));
  if (!mg__copy_string(bolt_list_at(row, (size_t) c->name), r->name, sizeof(r->name), &r->truncated))
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "SHOW REPLICAS row %zu: name is not a string",
                         i);
  if (!mg__copy_string(bolt_list_at(row, (size_t) c->addr), r->socket_address, sizeof(r->socket_address),
                       &r->truncated))
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT,
                         "SHOW REPLICAS row %zu: socket_address is not a string", i);
  if (bolt_value_as_string(bolt_list_at(row, (size_t) c->mode), &mode, NULL) != MGO_OK)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT,
                         "SHOW REPLICAS row %zu: sync_mode is not a string", i);
  mgo_strlcpy(r->mode_raw, mode, sizeof(r->mode_raw));
  r->mode_known = parse_mode(mode, &r->mode);
  if (c->sys >= 0)
    parse_system_info(bolt_list_at(row, (size_t) c->sys), r);
  parse_data_info(bolt_list_at(row, (size_t) c->data), r);
  return MGO_OK;
}

int mg_parse_replicas(const struct bolt_value *fields, const struct bolt_value *rows, struct mg_replicas *out,
                      struct mg_error *err)
{
  struct rep_cols c = {mg__column(fields, "name"), mg__column(fields, "socket_address"),
                       mg__column(fields, "sync_mode"), mg__column(fields, "system_info"),
                       mg__column(fields, "data_info")};
  size_t n = bolt_value_type(rows) == BOLT_LIST ? bolt_value_len(rows) : 0;

  out->n = 0;
  if (c.name < 0 || c.addr < 0 || c.mode < 0 || c.data < 0)
    return mg__err_local(
        err, MGO_EPARSE, MG_ERR_BAD_RESULT,
        "SHOW REPLICAS: missing one of the columns name, socket_address, sync_mode, data_info");
  if (rows != NULL && bolt_value_type(rows) != BOLT_LIST)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "SHOW REPLICAS: rows are not a list");
  for (size_t i = 0; i < n; i++) {
    if (out->n == MG_MAX_REPLICAS)
      return mg__err_local(err, MGO_ETOOBIG, MG_ERR_BAD_RESULT, "SHOW REPLICAS: %zu rows, only %d kept", n,
                           MG_MAX_REPLICAS);
    int rc = parse_row(bolt_list_at(rows, i), &c, &out->r[out->n], i, err);
    if (rc != MGO_OK)
      return rc;
    out->n++;
  }
  mg__err_clear(err);
  return MGO_OK;
}

const struct mg_replica *mg_replicas_find(const struct mg_replicas *r, const char *name)
{
  for (size_t i = 0; r != NULL && name != NULL && i < r->n; i++) {
    if (!r->r[i].truncated && strcmp(r->r[i].name, name) == 0)
      return &r->r[i];
  }
  return NULL;
}
