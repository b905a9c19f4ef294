/* mg_probe: drives the memgraph module (mg.h, mg_rec.h) for the pytest integration tests.
 *
 *   mg_probe --host H --port P [--user U --password W] [--connect-timeout-ms N] [--query-timeout-ms N]
 *            [--tls verify|insecure] [--ca FILE] [--server-name NAME]
 *
 * Prints {"ready": true}, then reads commands from stdin, one per line, fields separated by TABs, and
 * answers each with one JSON line holding "rc" (MGO_* name), "cls", "code", "message", "detail" and the
 * command's result:
 *   version | role | replicas | storage | has_data | promote | demote <port> | register <name> <MODE> <addr>
 *   drop <name> | snapshot | snapshots | exec <query> | observe (mg_port.h, the operator's observer) |
 *   disconnect | connects
 *   act <promote|demote|register|drop|label> [port | name MODE addr | name]   (mg_rec_execute)
 *   rec_replicas <max> | rec_has_data                                           (mg_rec.h shapes) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "mg_port.h"
#include "mg_rec.h"
#include "mgo_err.h"

/* enum mg_data (Memgraph's own view of SHOW STORAGE INFO); the decision's enum rec_data has rec_data_name. */
static const char *const mg_data_names[] = {"unknown", "empty", "present"};

static json_t *answer(int rc, const struct mg_error *e)
{
  return json_pack("{s:s,s:s,s:s,s:s,s:s}", "rc", mgo_errname(rc), "cls", mg_err_class_name(e->cls), "code",
                   e->code, "message", e->message, "detail", e->detail);
}

static json_t *db_json(const struct mg_db_info *d)
{
  json_t *j = json_pack("{s:s,s:s,s:s}", "db", d->db, "status", mg_replica_status_name(d->status),
                        "status_raw", d->status_raw);
  json_object_set_new(j, "ts", d->has_ts ? json_integer(d->ts) : json_null());
  json_object_set_new(j, "behind", d->has_behind ? json_integer(d->behind) : json_null());
  return j;
}

static json_t *replica_json(const struct mg_replica *r)
{
  json_t *dbs = json_array();
  for (size_t i = 0; i < r->n_dbs; i++)
    json_array_append_new(dbs, db_json(&r->dbs[i]));
  json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:o}", "name", r->name, "socket_address",
                        r->socket_address, "mode", r->mode_known ? mgo_repl_mode_name(r->mode) : r->mode_raw,
                        "mode_known", r->mode_known, "has_system_info", r->has_system_info, "has_data_info",
                        r->has_data_info, "has_default_db", r->has_default_db, "dbs", dbs);
  json_object_set_new(j, "memgraph", r->has_default_db ? db_json(&r->default_db) : json_null());
  return j;
}

static json_t *cmd_replicas(struct mg_conn *c)
{
  struct mg_replicas *reps = calloc(1, sizeof(*reps));
  struct mg_error e = {.rc = MGO_OK};
  int rc = reps ? mg_show_replicas(c, reps, &e) : MGO_ENOMEM;
  json_t *out = answer(rc, &e);
  json_t *list = json_array();
  for (size_t i = 0; reps && i < reps->n; i++)
    json_array_append_new(list, replica_json(&reps->r[i]));
  json_object_set_new(out, "replicas", list);
  free(reps);
  return out;
}

static json_t *cmd_version(struct mg_conn *c)
{
  struct mg_version v;
  struct mg_error e = {.rc = MGO_OK};
  int rc = mg_show_version(c, &v, &e);
  json_t *out = answer(rc, &e);
  json_object_set_new(
      out, "version",
      json_pack("{s:i,s:i,s:i,s:s}", "major", v.major, "minor", v.minor, "patch", v.patch, "raw", v.raw));
  return out;
}

static json_t *cmd_role(struct mg_conn *c)
{
  enum mgo_role role;
  struct mg_error e = {.rc = MGO_OK};
  int rc = mg_show_role(c, &role, &e);
  json_t *out = answer(rc, &e);
  json_object_set_new(out, "role", json_string(mgo_role_name(role)));
  return out;
}

static json_t *cmd_storage(struct mg_conn *c)
{
  struct mg_storage_info si;
  struct mg_error e = {.rc = MGO_OK};
  int rc = mg_show_storage_info(c, &si, &e);
  json_t *out = answer(rc, &e);
  json_object_set_new(out, "storage",
                      json_pack("{s:I,s:I,s:s,s:s,s:s,s:i}", "vertex_count", (json_int_t) si.vertex_count,
                                "edge_count", (json_int_t) si.edge_count, "memory_res", si.memory_res,
                                "storage_mode", si.storage_mode, "name", si.name, "n_keys", (int) si.n_keys));
  return out;
}

static json_t *cmd_has_data(struct mg_conn *c)
{
  enum mg_data d;
  struct mg_error e = {.rc = MGO_OK};
  int rc = mg_has_data(c, &d, &e);
  json_t *out = answer(rc, &e);
  json_object_set_new(out, "data", json_string(mg_data_names[d]));
  return out;
}

static json_t *cmd_snapshot(struct mg_conn *c)
{
  char path[512];
  bool nothing_new = false;
  struct mg_error e = {.rc = MGO_OK};
  int rc = mg_create_snapshot(c, path, sizeof(path), &nothing_new, &e);
  json_t *out = answer(rc, &e);
  json_object_set_new(out, "path", json_string(path));
  json_object_set_new(out, "nothing_new", json_boolean(nothing_new));
  return out;
}

static json_t *cmd_snapshots(struct mg_conn *c)
{
  struct mg_snapshots *s = calloc(1, sizeof(*s));
  struct mg_error e = {.rc = MGO_OK};
  int rc = s ? mg_show_snapshots(c, s, &e) : MGO_ENOMEM;
  json_t *out = answer(rc, &e);
  json_t *list = json_array();
  for (size_t i = 0; s && i < s->n; i++)
    json_array_append_new(list, json_pack("{s:s,s:I,s:s,s:b}", "path", s->s[i].path, "timestamp",
                                          (json_int_t) s->s[i].timestamp, "size", s->s[i].size,
                                          "next_scheduled", s->s[i].next_scheduled));
  json_object_set_new(out, "snapshots", list);
  free(s);
  return out;
}

/* What the observer learnt of this probe's connection (its version), as the operator keeps per pod. */
static struct mgo_mg_seen probe_seen;

/* The operator's observer (mg_port.h) on this connection, then its data query. */
static json_t *cmd_observe(struct mg_conn *c)
{
  struct rec_instance *inst = calloc(1, sizeof(*inst));
  struct mgo_mg_conn *pc = NULL;
  int rc = inst ? mgo_mg_memgraph_wrap(c, &pc) : MGO_ENOMEM;
  json_t *out, *regs = json_array();
  if (rc == MGO_OK) {
    (void) mgo_mg_observe(&mgo_mg_memgraph_ops, pc, &probe_seen, inst, &rc);
    (void) mgo_mg_observe_data(&mgo_mg_memgraph_ops, pc, inst);
  }
  out = json_pack("{s:s}", "rc", mgo_errname(rc));
  for (size_t i = 0; inst && i < inst->n_registrations; i++) {
    const struct rec_registration *g = &inst->registrations[i];
    json_array_append_new(regs, json_pack("{s:s,s:s,s:s,s:b,s:i,s:I,s:I}", "name", g->name, "address",
                                          g->address, "mode", mgo_repl_mode_name(g->mode), "has_data_info",
                                          g->has_data_info, "state", (int) g->state, "ts", (json_int_t) g->ts,
                                          "behind", (json_int_t) g->behind));
  }
  if (inst)
    json_object_set_new(out, "observed",
                        json_pack("{s:b,s:s,s:[i,i,i],s:s,s:b,s:o,s:s}", "reachable", inst->reachable, "role",
                                  mgo_role_name(inst->role), "version", inst->version_major,
                                  inst->version_minor, inst->version_patch, "data", rec_data_name(inst->data),
                                  "replicas_known", inst->replicas_known, "registrations", regs, "last_error",
                                  inst->last_error));
  else
    json_decref(regs);
  if (pc != NULL)
    mgo_mg_memgraph_ops.close(pc);
  free(inst);
  return out;
}

static int to_int(const char *s)
{
  char *end = NULL;
  long v = strtol(s, &end, 10);
  return end != s && *end == '\0' && v >= -1000000 && v <= 1000000 ? (int) v : -1;
}

static bool parse_mode(const char *s, enum mgo_repl_mode *m)
{
  return mgo_repl_mode_parse(s, MGO_CASE_EXACT, m);
}

static json_t *cmd_action(struct mg_conn *c, char **f, int n)
{
  struct mg_error e = {.rc = MGO_OK};
  enum mgo_repl_mode mode = MGO_MODE_ASYNC;
  size_t rows = 0;
  int rc = MGO_EINVAL;
  memset(&e, 0, sizeof(e));
  if (strcmp(f[0], "promote") == 0)
    rc = mg_set_role_main(c, &e);
  else if (strcmp(f[0], "demote") == 0 && n == 2)
    rc = mg_set_role_replica(c, to_int(f[1]), &e);
  else if (strcmp(f[0], "register") == 0 && n == 4 && parse_mode(f[2], &mode))
    rc = mg_register_replica(c, f[1], mode, f[3], &e);
  else if (strcmp(f[0], "drop") == 0 && n == 2)
    rc = mg_drop_replica(c, f[1], &e);
  else if (strcmp(f[0], "exec") == 0 && n == 2)
    rc = mg_exec(c, f[1], &rows, &e);
  else
    snprintf(e.detail, sizeof(e.detail), "unknown command or arguments: %s", f[0]);
  json_t *out = answer(rc, &e);
  json_object_set_new(out, "rows", json_integer((json_int_t) rows));
  return out;
}

static json_t *cmd_act(struct mg_conn *c, char **f, int n)
{
  struct rec_action a;
  struct mg_error e = {.rc = MGO_OK};
  memset(&a, 0, sizeof(a));
  a.type = REC_ACT_LABEL;
  if (n >= 2 && strcmp(f[1], "promote") == 0)
    a.type = REC_ACT_PROMOTE;
  if (n == 3 && strcmp(f[1], "demote") == 0) {
    a.type = REC_ACT_DEMOTE;
    a.port = to_int(f[2]);
  }
  if (n >= 3 && (strcmp(f[1], "drop") == 0 || strcmp(f[1], "register") == 0)) {
    a.type = strcmp(f[1], "drop") == 0 ? REC_ACT_DROP : REC_ACT_REGISTER;
    snprintf(a.replica, sizeof(a.replica), "%s", f[2]);
  }
  if (n == 5 && a.type == REC_ACT_REGISTER) {
    parse_mode(f[3], &a.mode);
    snprintf(a.address, sizeof(a.address), "%s", f[4]);
  }
  return answer(mg_rec_execute(c, &a, &e), &e);
}

static json_t *cmd_rec_replicas(struct mg_conn *c, char **f, int n)
{
  struct rec_registration regs[8];
  size_t got = 0;
  struct mg_error e = {.rc = MGO_OK};
  size_t max = n == 2 && to_int(f[1]) >= 0 && to_int(f[1]) <= 8 ? (size_t) to_int(f[1]) : 8;
  json_t *out = answer(mg_rec_show_replicas(c, regs, max, &got, &e), &e);
  json_t *list = json_array();
  for (size_t i = 0; i < got; i++)
    json_array_append_new(list,
                          json_pack("{s:s,s:s,s:s,s:i}", "name", regs[i].name, "address", regs[i].address,
                                    "mode", mgo_repl_mode_name(regs[i].mode), "state", (int) regs[i].state));
  json_object_set_new(out, "registrations", list);
  return out;
}

static json_t *cmd_rec_has_data(struct mg_conn *c)
{
  enum rec_data d;
  struct mg_error e = {.rc = MGO_OK};
  json_t *out = answer(mg_rec_has_data(c, &d, &e), &e);
  json_object_set_new(out, "data", json_string(rec_data_name(d)));
  return out;
}

static json_t *dispatch(struct mg_conn *c, char **f, int n)
{
  static const struct {
    const char *name;
    json_t *(*fn)(struct mg_conn *);
  } simple[] = {{"version", cmd_version},     {"role", cmd_role},         {"replicas", cmd_replicas},
                {"storage", cmd_storage},     {"has_data", cmd_has_data}, {"snapshot", cmd_snapshot},
                {"snapshots", cmd_snapshots}, {"observe", cmd_observe}};
  for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
    if (strcmp(f[0], simple[i].name) == 0)
      return simple[i].fn(c);
  }
  if (strcmp(f[0], "act") == 0)
    return cmd_act(c, f, n);
  if (strcmp(f[0], "rec_replicas") == 0)
    return cmd_rec_replicas(c, f, n);
  if (strcmp(f[0], "rec_has_data") == 0)
    return cmd_rec_has_data(c);
  if (strcmp(f[0], "disconnect") == 0) {
    mg_conn_disconnect(c);
    return json_pack("{s:s}", "rc", "OK");
  }
  if (strcmp(f[0], "connects") == 0)
    return json_pack("{s:s,s:i,s:b}", "rc", "OK", "connects", (int) mg_conn_connects(c), "connected",
                     mg_conn_connected(c));
  return cmd_action(c, f, n);
}

static int split(char *line, char **f, int max)
{
  int n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *p = line; n < max;) {
    f[n++] = p;
    p = strchr(p, '\t');
    if (p == NULL)
      break;
    *p++ = '\0';
  }
  return n;
}

static void emit(json_t *j)
{
  char *s = json_dumps(j, JSON_COMPACT);
  printf("%s\n", s ? s : "{\"rc\":\"ENOMEM\"}");
  fflush(stdout);
  free(s);
  json_decref(j);
}

int main(int argc, char **argv)
{
  struct mg_conn_opts o;
  struct mg_conn *c = NULL;
  char line[8192];

  mg_conn_opts_default(&o);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--host") == 0)
      o.host = argv[i + 1];
    else if (strcmp(argv[i], "--port") == 0)
      o.port = (uint16_t) to_int(argv[i + 1]);
    else if (strcmp(argv[i], "--user") == 0)
      o.user = argv[i + 1];
    else if (strcmp(argv[i], "--password") == 0)
      o.password = argv[i + 1];
    else if (strcmp(argv[i], "--connect-timeout-ms") == 0)
      o.connect_timeout_ms = to_int(argv[i + 1]);
    else if (strcmp(argv[i], "--query-timeout-ms") == 0)
      o.query_timeout_ms = to_int(argv[i + 1]);
    else if (strcmp(argv[i], "--tls") == 0)
      o.tls = strcmp(argv[i + 1], "verify") == 0 ? BOLT_TLS_VERIFY : BOLT_TLS_INSECURE_NO_VERIFY_TESTS_ONLY;
    else if (strcmp(argv[i], "--ca") == 0)
      o.tls_ca_file = argv[i + 1];
    else if (strcmp(argv[i], "--server-name") == 0)
      o.tls_server_name = argv[i + 1];
  }
  if (mg_conn_new(&c, &o) != MGO_OK) {
    fprintf(stderr, "mg_probe: bad options\n");
    return 2;
  }
  emit(json_pack("{s:b}", "ready", 1));
  while (fgets(line, sizeof(line), stdin) != NULL) {
    char *f[6];
    int n = split(line, f, 6);
    if (f[0][0] != '\0')
      emit(dispatch(c, f, n));
  }
  mg_conn_free(c);
  return 0;
}
