/* Result parsing: versions, SHOW REPLICATION ROLE, SHOW REPLICAS (every shape of memgraph.md 2.2), SHOW
 * STORAGE INFO, SHOW SNAPSHOTS, built as Bolt values; wrong shapes must give errors, never crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mg.h"
#include "mg_test_util.h"
#include "mgo_err.h"

#define REPLICAS_HEADER "['name','socket_address','sync_mode','system_info','data_info']"

/* ---- versions ---- */

struct version_case {
  const char *text;
  int rc, major, minor, patch;
};

static void test_versions(void **state)
{
  (void) state;
  static const struct version_case cases[] = {
      {"3.12.0", MGO_OK, 3, 12, 0},      {"2.21.0-open-source", MGO_OK, 2, 21, 0},
      {"3.5.1+12~abc", MGO_OK, 3, 5, 1}, {"3.5.1+12~abc-open-source", MGO_OK, 3, 5, 1},
      {"v3.7.2", MGO_OK, 3, 7, 2},       {"3.10", MGO_OK, 3, 10, 0},
      {"3.10.", MGO_OK, 3, 10, 0},       {"10.200.3000", MGO_OK, 10, 200, 3000},
      {"", MGO_EPARSE, 0, 0, 0},         {"garbage", MGO_EPARSE, 0, 0, 0},
      {"3", MGO_EPARSE, 0, 0, 0},        {"3.", MGO_EPARSE, 0, 0, 0},
      {".1.2", MGO_EPARSE, 0, 0, 0},     {"-3.1.2", MGO_EPARSE, 0, 0, 0},
      {"0.0.0", MGO_EPARSE, 0, 0, 0},    {"99999999999.1.1", MGO_EPARSE, 0, 0, 0},
      {"3.x.1", MGO_EPARSE, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mg_version v;
    int rc = mg_parse_version(cases[i].text, &v);
    assert_int_equal(rc, cases[i].rc);
    assert_int_equal(v.major, cases[i].major);
    assert_int_equal(v.minor, cases[i].minor);
    assert_int_equal(v.patch, cases[i].patch);
    assert_string_equal(v.raw, cases[i].text);
  }
  struct mg_version v;
  assert_int_equal(mg_parse_version(NULL, &v), MGO_EPARSE);
  assert_false(mg_version_known(&v));
  assert_false(mg_version_at_least(&v, 0, 0, 0));
  assert_int_equal(mg_parse_version("3.5.0", &v), MGO_OK);
  assert_true(mg_version_at_least(&v, 3, 5, 0));
  assert_true(mg_version_at_least(&v, 2, 22, 0));
  assert_false(mg_version_at_least(&v, 3, 5, 1));
  assert_false(mg_version_at_least(&v, 3, 10, 0));
  assert_false(mg_version_at_least(&v, 4, 0, 0));
}

static int parse_version_result(const char *fields, const char *rows, struct mg_version *v,
                                struct mg_error *e)
{
  struct bolt_value *f = mt_value(fields);
  struct bolt_value *r = mt_value(rows);
  int rc = mg_parse_version_result(f, r, v, e);
  bolt_value_free(f);
  bolt_value_free(r);
  return rc;
}

static void test_version_result(void **state)
{
  (void) state;
  struct mg_version v;
  struct mg_error e;
  assert_int_equal(parse_version_result("['version']", "[['2.21.0-open-source']]", &v, &e), MGO_OK);
  assert_int_equal(v.minor, 21);
  assert_string_equal(v.raw, "2.21.0-open-source");
  assert_int_equal(e.cls, MG_ERR_NONE);
  assert_int_equal(parse_version_result("['version']", "[[3]]", &v, &e), MGO_EPARSE);
  assert_int_equal(e.cls, MG_ERR_BAD_RESULT);
  assert_int_equal(parse_version_result("['ver']", "[['3.1.0']]", &v, &e), MGO_EPARSE);
  assert_int_equal(parse_version_result("['version']", "[]", &v, &e), MGO_EPARSE);
  assert_int_equal(parse_version_result("['version']", "[['nope']]", &v, &e), MGO_EPARSE);
  assert_string_equal(v.raw, "nope");
  assert_int_equal(parse_version_result("['version']", "[[]]", &v, NULL), MGO_EPARSE);
}

/* ---- role ---- */

static int parse_role(const char *fields, const char *rows, enum mgo_role *role)
{
  struct bolt_value *f = mt_value(fields);
  struct bolt_value *r = mt_value(rows);
  struct mg_error e;
  int rc = mg_parse_role(f, r, role, &e);
  bolt_value_free(f);
  bolt_value_free(r);
  assert_int_equal(e.rc, rc);
  return rc;
}

static void test_role(void **state)
{
  (void) state;
  enum mgo_role role;
  assert_int_equal(parse_role("['replication role']", "[['main']]", &role), MGO_OK);
  assert_int_equal(role, MGO_ROLE_MAIN);
  assert_int_equal(parse_role("['replication role']", "[['replica']]", &role), MGO_OK);
  assert_int_equal(role, MGO_ROLE_REPLICA);
  assert_int_equal(parse_role("['x','replication role']", "[[1,'REPLICA']]", &role), MGO_OK);
  assert_int_equal(role, MGO_ROLE_REPLICA);
  assert_int_equal(parse_role("['replication role']", "[['coordinator']]", &role), MGO_EPARSE);
  assert_int_equal(role, MGO_ROLE_UNKNOWN);
  assert_int_equal(parse_role("['replication role']", "[[null]]", &role), MGO_EPARSE);
  assert_int_equal(parse_role("['replication role']", "[[{'a':1}]]", &role), MGO_EPARSE);
  assert_int_equal(parse_role("['replication role']", "[]", &role), MGO_EPARSE);
  assert_int_equal(parse_role("['replication_role']", "[['main']]", &role), MGO_EPARSE);
  assert_int_equal(parse_role("'not a list'", "[['main']]", &role), MGO_EPARSE);
  assert_int_equal(parse_role("['replication role']", "{'a':1}", &role), MGO_EPARSE);
  assert_int_equal(parse_role("['replication role']", "[7]", &role), MGO_EPARSE);
}

/* ---- SHOW REPLICAS ---- */

static int parse_replicas(const char *fields, const char *rows, struct mg_replicas *out, struct mg_error *e)
{
  struct bolt_value *f = mt_value(fields);
  struct bolt_value *r = mt_value(rows);
  assert_non_null(f);
  assert_non_null(r);
  int rc = mg_parse_replicas(f, r, out, e);
  bolt_value_free(f);
  bolt_value_free(r);
  return rc;
}

static void test_replicas_v221_live(void **state)
{
  struct mg_replicas *out = *state;
  struct mg_error e;
  /* A killed replica on v2.21: the live RPC failed (memgraph.md 2.2). */
  assert_int_equal(parse_replicas(REPLICAS_HEADER,
                                  "[['REP1','172.17.0.3:10000','sync',null,"
                                  "{'memgraph':{'ts':0,'behind':0,'status':'invalid'}}],"
                                  "['REP2','172.17.0.4:10000','async',null,"
                                  "{'memgraph':{'behind':0,'status':'ready','ts':0}}]]",
                                  out, &e),
                   MGO_OK);
  assert_int_equal(e.rc, MGO_OK);
  assert_int_equal(out->n, 2);
  const struct mg_replica *r = mg_replicas_find(out, "REP1");
  assert_non_null(r);
  assert_string_equal(r->socket_address, "172.17.0.3:10000");
  assert_true(r->mode_known);
  assert_int_equal(r->mode, MGO_MODE_SYNC);
  assert_string_equal(r->mode_raw, "sync");
  assert_false(r->has_system_info);
  assert_true(r->has_data_info);
  assert_true(r->has_default_db);
  assert_int_equal(r->n_dbs, 1);
  assert_string_equal(r->default_db.db, "memgraph");
  assert_true(r->default_db.has_ts);
  assert_true(r->default_db.has_behind);
  assert_int_equal(r->default_db.ts, 0);
  assert_int_equal(r->default_db.status, MG_RS_INVALID);
  assert_string_equal(r->default_db.status_raw, "invalid");
  r = mg_replicas_find(out, "REP2");
  assert_non_null(r);
  assert_int_equal(r->mode, MGO_MODE_ASYNC);
  assert_int_equal(r->default_db.status, MG_RS_READY);
  assert_null(mg_replicas_find(out, "rep1"));
  assert_null(mg_replicas_find(out, NULL));
}

static void test_replicas_v3_cached(void **state)
{
  struct mg_replicas *out = *state;
  struct mg_error e;
  /* 3.1+: a killed replica keeps its last known ts, then falls behind. */
  assert_int_equal(parse_replicas(REPLICAS_HEADER,
                                  "[['mg_1','mg-1.mg-hl.db.svc:10000','sync',null,"
                                  "{'memgraph':{'behind':-3,'status':'invalid','ts':6}}]]",
                                  out, &e),
                   MGO_OK);
  assert_int_equal(out->n, 1);
  assert_int_equal(out->r[0].default_db.ts, 6);
  assert_int_equal(out->r[0].default_db.behind, -3);
  assert_int_equal(out->r[0].default_db.status, MG_RS_INVALID);
  assert_string_equal(out->r[0].socket_address, "mg-1.mg-hl.db.svc:10000");
}

static void test_replicas_failed_but_listed(void **state)
{
  struct mg_replicas *out = *state;
  struct mg_error e;
  /* ERROR_ACCEPTING_MAIN quirk: listed with data_info {} (memgraph.md 4.2). */
  assert_int_equal(parse_replicas(REPLICAS_HEADER, "[['mg_2','mg-2:10000','async',null,{}]]", out, &e),
                   MGO_OK);
  assert_int_equal(out->n, 1);
  assert_false(out->r[0].has_data_info);
  assert_false(out->r[0].has_default_db);
  assert_int_equal(out->r[0].n_dbs, 0);
  assert_int_equal(out->r[0].default_db.status, MG_RS_UNKNOWN);
}

static void test_replicas_licensed(void **state)
{
  struct mg_replicas *out = *state;
  struct mg_error e;
  /* With a licence: system_info is a map (behind null), several databases. */
  assert_int_equal(parse_replicas(REPLICAS_HEADER,
                                  "[['r1','10.0.0.1:10000','strict_sync',"
                                  "{'ts':5,'behind':null,'status':'recovery'},"
                                  "{'memgraph':{'behind':0,'status':'ready','ts':9},"
                                  "'tenant':{'behind':-2,'status':'recovery','ts':4}}]]",
                                  out, &e),
                   MGO_OK);
  const struct mg_replica *r = &out->r[0];
  assert_true(r->mode_known);
  assert_int_equal(r->mode, MGO_MODE_STRICT_SYNC);
  assert_true(r->has_system_info);
  assert_true(r->system_info.has_ts);
  assert_int_equal(r->system_info.ts, 5);
  assert_int_equal(r->system_info.status, MG_RS_RECOVERY);
  assert_int_equal(r->n_dbs, 2);
  assert_int_equal(r->default_db.ts, 9);
  assert_int_equal(r->default_db.status, MG_RS_READY);
  for (size_t i = 0; i < r->n_dbs; i++) {
    if (strcmp(r->dbs[i].db, "tenant") == 0) {
      assert_int_equal(r->dbs[i].behind, -2);
      assert_int_equal(r->dbs[i].status, MG_RS_RECOVERY);
    }
  }
}

static void test_replicas_missing_default_db_and_unknowns(void **state)
{
  struct mg_replicas *out = *state;
  struct mg_error e;
  assert_int_equal(
      parse_replicas(REPLICAS_HEADER,
                     "[['a','h:1','semi_sync',null,{'other':{'behind':0,'status':'ready','ts':1}}],"
                     "['b','h:2','async',null,{'memgraph':{'behind':0,'status':'weird','ts':1}}],"
                     "['c','h:3','async',null,{'memgraph':{'status':'diverged'}}],"
                     "['d','h:4','sync',null,{'memgraph':{'status':'replicating','ts':3,'behind':-1}}]]",
                     out, &e),
      MGO_OK);
  assert_int_equal(out->n, 4);
  assert_false(out->r[0].mode_known);
  assert_string_equal(out->r[0].mode_raw, "semi_sync");
  assert_true(out->r[0].has_data_info);
  assert_false(out->r[0].has_default_db);
  assert_int_equal(out->r[0].default_db.status, MG_RS_UNKNOWN);
  assert_int_equal(out->r[1].default_db.status, MG_RS_UNKNOWN);
  assert_string_equal(out->r[1].default_db.status_raw, "weird");
  assert_int_equal(out->r[2].default_db.status, MG_RS_DIVERGED);
  assert_false(out->r[2].default_db.has_ts);
  assert_false(out->r[2].default_db.has_behind);
  assert_int_equal(out->r[3].default_db.status, MG_RS_REPLICATING);
  assert_string_equal(mg_replica_status_name(MG_RS_DIVERGED), "diverged");
  assert_string_equal(mg_replica_status_name((enum mg_replica_status) 99), "unknown");
}

static void test_replicas_shuffled_columns(void **state)
{
  struct mg_replicas *out = *state;
  struct mg_error e;
  assert_int_equal(
      parse_replicas("['data_info','sync_mode','extra','name','system_info','socket_address']",
                     "[[{'memgraph':{'behind':-1,'status':'recovery','ts':2}},'async',42,'x',null,"
                     "'x.svc:10000']]",
                     out, &e),
      MGO_OK);
  assert_string_equal(out->r[0].name, "x");
  assert_string_equal(out->r[0].socket_address, "x.svc:10000");
  assert_int_equal(out->r[0].mode, MGO_MODE_ASYNC);
  assert_int_equal(out->r[0].default_db.behind, -1);
  /* system_info column absent altogether: tolerated. */
  assert_int_equal(
      parse_replicas("['name','socket_address','sync_mode','data_info']", "[['y','h:1','sync',{}]]", out, &e),
      MGO_OK);
  assert_false(out->r[0].has_system_info);
  /* no rows: the header alone. */
  assert_int_equal(parse_replicas(REPLICAS_HEADER, "[]", out, &e), MGO_OK);
  assert_int_equal(out->n, 0);
}

struct bad_case {
  const char *fields;
  const char *rows;
  int rc;
};

static void test_replicas_wrong_types(void **state)
{
  struct mg_replicas *out = *state;
  static const struct bad_case cases[] = {
      {REPLICAS_HEADER, "[[1,'h:1','sync',null,{}]]", MGO_EPARSE},
      {REPLICAS_HEADER, "[['a',null,'sync',null,{}]]", MGO_EPARSE},
      {REPLICAS_HEADER, "[['a','h:1',0,null,{}]]", MGO_EPARSE},
      {REPLICAS_HEADER, "[['a','h:1']]", MGO_EPARSE},
      {REPLICAS_HEADER, "[7]", MGO_EPARSE},
      {REPLICAS_HEADER, "[null]", MGO_EPARSE},
      {REPLICAS_HEADER, "{'name':'a'}", MGO_EPARSE},
      {"['name','socket_address','sync_mode','system_info']", "[]", MGO_EPARSE},
      {"[1,2,3,4,5]", "[]", MGO_EPARSE},
      {"null", "[]", MGO_EPARSE},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mg_error e;
    assert_int_equal(parse_replicas(cases[i].fields, cases[i].rows, out, &e), cases[i].rc);
    assert_int_equal(e.cls, MG_ERR_BAD_RESULT);
    assert_true(e.detail[0] != '\0');
  }
  /* Odd types inside the optional maps: tolerated, reported as unknown. */
  struct mg_error e;
  assert_int_equal(
      parse_replicas(REPLICAS_HEADER,
                     "[['a','h:1','sync','licence?','not a map'],"
                     "['b','h:2','sync',[1],{'memgraph':'ready'}],"
                     "['c','h:3','sync',{'ts':'x','status':3},{'memgraph':{'ts':'1','behind':1.5,"
                     "'status':7}}],['d','h:4','sync',{},[{'memgraph':{}}]]]",
                     out, &e),
      MGO_OK);
  assert_int_equal(out->n, 4);
  assert_false(out->r[0].has_system_info);
  assert_false(out->r[0].has_data_info);
  assert_false(out->r[1].has_system_info);
  assert_false(out->r[1].has_data_info);
  assert_true(out->r[2].has_system_info);
  assert_false(out->r[2].system_info.has_ts);
  assert_int_equal(out->r[2].system_info.status, MG_RS_UNKNOWN);
  assert_true(out->r[2].has_default_db);
  assert_false(out->r[2].default_db.has_ts);
  assert_false(out->r[2].default_db.has_behind);
  assert_int_equal(out->r[2].default_db.status, MG_RS_UNKNOWN);
  assert_string_equal(out->r[2].default_db.status_raw, "");
  assert_false(out->r[3].has_data_info);
}

static void test_replicas_limits(void **state)
{
  struct mg_replicas *out = *state;
  struct mg_error e;
  char rows[16384] = "[";
  size_t len = 1;
  for (int i = 0; i < MG_MAX_REPLICAS + 1; i++)
    len += (size_t) snprintf(rows + len, sizeof(rows) - len, "%s['r%d','h:%d','async',null,{}]", i ? "," : "",
                             i, i + 1);
  snprintf(rows + len, sizeof(rows) - len, "]");
  assert_int_equal(parse_replicas(REPLICAS_HEADER, rows, out, &e), MGO_ETOOBIG);
  assert_int_equal(out->n, MG_MAX_REPLICAS);
  assert_string_equal(out->r[MG_MAX_REPLICAS - 1].name, "r63");

  /* A name longer than the field: kept truncated and flagged; never found by name. */
  char longname[200];
  memset(longname, 'n', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  char row[512];
  snprintf(row, sizeof(row), "[['%s','h:1','sync',null,{}],['ok','h:2','sync',null,{}]]", longname);
  assert_int_equal(parse_replicas(REPLICAS_HEADER, row, out, &e), MGO_OK);
  assert_true(out->r[0].truncated);
  assert_false(out->r[1].truncated);
  assert_int_equal(strlen(out->r[0].name), MGO_NAME_MAX - 1);
  assert_null(mg_replicas_find(out, out->r[0].name));
  assert_non_null(mg_replicas_find(out, "ok"));

  /* More databases than MG_MAX_DBS: counted. */
  char dbs[4096] = "[['m','h:1','sync',null,{";
  len = strlen(dbs);
  for (int i = 0; i < MG_MAX_DBS + 3; i++)
    len += (size_t) snprintf(dbs + len, sizeof(dbs) - len, "%s'db%d':{'ts':%d,'behind':0,'status':'ready'}",
                             i ? "," : "", i, i);
  snprintf(dbs + len, sizeof(dbs) - len, ",'memgraph':{'ts':77,'behind':0,'status':'ready'}}]]");
  assert_int_equal(parse_replicas(REPLICAS_HEADER, dbs, out, &e), MGO_OK);
  assert_int_equal(out->r[0].n_dbs, MG_MAX_DBS);
  assert_int_equal(out->r[0].dbs_dropped, 4);
  assert_true(out->r[0].has_default_db);
  assert_int_equal(out->r[0].default_db.ts, 77);
}

/* ---- SHOW STORAGE INFO ---- */

static int parse_storage(const char *fields, const char *rows, struct mg_storage_info *si)
{
  struct bolt_value *f = mt_value(fields);
  struct bolt_value *r = mt_value(rows);
  struct mg_error e;
  assert_non_null(f);
  assert_non_null(r);
  int rc = mg_parse_storage_info(f, r, si, &e);
  bolt_value_free(f);
  bolt_value_free(r);
  return rc;
}

static void test_storage_info(void **state)
{
  (void) state;
  struct mg_storage_info si;
  assert_int_equal(parse_storage("['storage info','value']",
                                 "[['name','memgraph'],['vertex_count',0],['edge_count',0],"
                                 "['average_degree',0.0],['vm_max_map_count',262144],"
                                 "['memory_res','43.16MiB'],['peak_memory_res','44.00MiB'],"
                                 "['unreleased_delta_objects',0],['disk_usage','1.2KiB'],"
                                 "['memory_tracked','43.16MiB'],['allocation_limit','14.26GiB'],"
                                 "['global_isolation_level','SNAPSHOT_ISOLATION'],"
                                 "['session_isolation_level',''],['next_session_isolation_level',''],"
                                 "['storage_mode','IN_MEMORY_TRANSACTIONAL']]",
                                 &si),
                   MGO_OK);
  assert_int_equal(si.n_keys, 15);
  assert_string_equal(si.name, "memgraph");
  assert_string_equal(si.memory_res, "43.16MiB");
  assert_string_equal(si.allocation_limit, "14.26GiB");
  assert_string_equal(si.storage_mode, "IN_MEMORY_TRANSACTIONAL");
  assert_int_equal(mg_storage_data(&si), MG_DATA_EMPTY);

  assert_int_equal(parse_storage("['value','storage info']",
                                 "[[3,'vertex_count'],[0,'edge_count'],[1.5,'average_degree'],"
                                 "[123,'memory_res'],['HOT','state'],[null,null]]",
                                 &si),
                   MGO_OK);
  assert_int_equal(si.vertex_count, 3);
  assert_string_equal(si.memory_res, "123");
  assert_true(si.average_degree > 1.4 && si.average_degree < 1.6);
  assert_int_equal(mg_storage_data(&si), MG_DATA_PRESENT);

  assert_int_equal(parse_storage("['storage info','value']", "[['vertex_count',0],['edge_count',2]]", &si),
                   MGO_OK);
  assert_int_equal(mg_storage_data(&si), MG_DATA_PRESENT);

  assert_int_equal(parse_storage("['storage info','value']", "[['vertex_count','0'],['edge_count',2]]", &si),
                   MGO_EPARSE);
  assert_int_equal(mg_storage_data(&si), MG_DATA_UNKNOWN);
  assert_int_equal(parse_storage("['storage info','value']", "[['vertex_count',1]]", &si), MGO_EPARSE);
  assert_int_equal(parse_storage("['key','value']", "[['vertex_count',1],['edge_count',2]]", &si),
                   MGO_EPARSE);
  assert_int_equal(parse_storage("['storage info','value']", "[1,[2],null]", &si), MGO_EPARSE);
  assert_int_equal(mg_storage_data(NULL), MG_DATA_UNKNOWN);
}

/* ---- SHOW SNAPSHOTS ---- */

static void test_snapshots(void **state)
{
  (void) state;
  struct mg_snapshots s;
  struct mg_error e;
  struct bolt_value *f = mt_value("['path','timestamp','creation_time','size']");
  struct bolt_value *r =
      mt_value("[['/d/snapshots/20261122040000000000_timestamp_12',12,'2026-11-22 04:00:00','1.1KiB'],"
               "['/d/snapshots',0,'2026-11-22 04:05:00','0B']]");
  assert_int_equal(mg_parse_snapshots(f, r, &s, &e), MGO_OK);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.s[0].timestamp, 12);
  assert_false(s.s[0].next_scheduled);
  assert_string_equal(s.s[0].size, "1.1KiB");
  assert_true(s.s[1].next_scheduled);
  bolt_value_free(r);

  r = mt_value("[[1,12,'t','s']]");
  assert_int_equal(mg_parse_snapshots(f, r, &s, &e), MGO_EPARSE);
  assert_int_equal(e.cls, MG_ERR_BAD_RESULT);
  bolt_value_free(r);
  r = mt_value("[['/p_timestamp_1','12',null,null]]");
  assert_int_equal(mg_parse_snapshots(f, r, &s, &e), MGO_EPARSE);
  bolt_value_free(r);
  r = mt_value("[]");
  assert_int_equal(mg_parse_snapshots(f, r, &s, &e), MGO_OK);
  assert_int_equal(s.n, 0);
  bolt_value_free(r);
  bolt_value_free(f);

  f = mt_value("['timestamp','path']");
  r = mt_value("[[7,'/s/x_timestamp_7']]");
  assert_int_equal(mg_parse_snapshots(f, r, &s, &e), MGO_OK);
  assert_string_equal(s.s[0].path, "/s/x_timestamp_7");
  assert_string_equal(s.s[0].creation_time, "");
  bolt_value_free(r);
  bolt_value_free(f);
}

/* ---- random shapes: every parser must answer (MGO_OK or an error), never crash or leak ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (unsigned) (rng_state >> 33) % n;
}

static const char *const words[] = {
    "name",       "socket_address", "sync_mode", "system_info",      "data_info", "memgraph",  "ts",
    "behind",     "status",         "ready",     "invalid",          "sync",      "async",     "strict_sync",
    "main",       "replica",        "version",   "3.12.0",           "path",      "timestamp", "vertex_count",
    "edge_count", "storage info",   "value",     "replication role", ""};

static struct bolt_value *random_value(int depth)
{
  unsigned kind = rnd(depth > 3 ? 5 : 8);
  struct bolt_value *v = NULL;
  switch (kind) {
  case 0:
    return bolt_value_null();
  case 1:
    return bolt_value_int((int64_t) rnd(7) - 3);
  case 2:
    return bolt_value_string(words[rnd(sizeof(words) / sizeof(words[0]))]);
  case 3:
    return bolt_value_float(0.5);
  case 4:
    return bolt_value_bool(rnd(2) == 1);
  case 5:
  case 6:
    v = bolt_value_list();
    for (unsigned i = rnd(6); i > 0; i--)
      bolt_list_push(v, random_value(depth + 1));
    return v;
  default:
    v = bolt_value_map();
    for (unsigned i = rnd(5); i > 0; i--)
      bolt_map_put(v, words[rnd(sizeof(words) / sizeof(words[0]))], random_value(depth + 1));
    return v;
  }
}

static void test_random_shapes(void **state)
{
  struct mg_replicas *reps = *state;
  struct mg_error e;
  struct mg_version v;
  struct mg_storage_info si;
  struct mg_snapshots *snaps = calloc(1, sizeof(*snaps));
  enum mgo_role role;
  assert_non_null(snaps);
  for (int i = 0; i < 3000; i++) {
    struct bolt_value *fields = i % 3 == 0 ? mt_value(REPLICAS_HEADER) : random_value(0);
    struct bolt_value *rows = random_value(0);
    int rc = mg_parse_replicas(fields, rows, reps, &e);
    assert_true(rc == MGO_OK || rc == MGO_EPARSE || rc == MGO_ETOOBIG);
    assert_int_equal(e.rc, rc);
    rc = mg_parse_storage_info(fields, rows, &si, &e);
    assert_true(rc == MGO_OK || rc == MGO_EPARSE);
    rc = mg_parse_snapshots(fields, rows, snaps, &e);
    assert_true(rc == MGO_OK || rc == MGO_EPARSE);
    rc = mg_parse_role(fields, rows, &role, &e);
    assert_true(rc == MGO_OK || rc == MGO_EPARSE);
    rc = mg_parse_version_result(fields, rows, &v, NULL);
    assert_true(rc == MGO_OK || rc == MGO_EPARSE);
    bolt_value_free(fields);
    bolt_value_free(rows);
  }
  free(snaps);
}

static int alloc_replicas(void **state)
{
  *state = calloc(1, sizeof(struct mg_replicas));
  return *state ? 0 : -1;
}

static int free_replicas(void **state)
{
  free(*state);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_versions),
      cmocka_unit_test(test_version_result),
      cmocka_unit_test(test_role),
      cmocka_unit_test_setup_teardown(test_replicas_v221_live, alloc_replicas, free_replicas),
      cmocka_unit_test_setup_teardown(test_replicas_v3_cached, alloc_replicas, free_replicas),
      cmocka_unit_test_setup_teardown(test_replicas_failed_but_listed, alloc_replicas, free_replicas),
      cmocka_unit_test_setup_teardown(test_replicas_licensed, alloc_replicas, free_replicas),
      cmocka_unit_test_setup_teardown(test_replicas_missing_default_db_and_unknowns, alloc_replicas,
                                      free_replicas),
      cmocka_unit_test_setup_teardown(test_replicas_shuffled_columns, alloc_replicas, free_replicas),
      cmocka_unit_test_setup_teardown(test_replicas_wrong_types, alloc_replicas, free_replicas),
      cmocka_unit_test_setup_teardown(test_replicas_limits, alloc_replicas, free_replicas),
      cmocka_unit_test_setup_teardown(test_random_shapes, alloc_replicas, free_replicas),
      cmocka_unit_test(test_storage_info),
      cmocka_unit_test(test_snapshots),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
