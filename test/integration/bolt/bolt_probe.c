/* bolt_probe: drives the C Bolt client for the pytest integration tests (Neo4j, the Memgraph emulator).
 *
 *   bolt_probe --host H --port P [--user U --password W] [--versions 5.2,4.4,...] [--fetch-size N]
 *              [--connect-timeout-ms N] [--query-timeout-ms N] [--tls verify|insecure] [--ca FILE]
 *              [--server-name NAME] [--user-agent UA]
 *
 * Connects, prints one JSON line describing the outcome, then reads commands from stdin, one per line,
 * fields separated by TABs, and answers each with one JSON line:
 *   run <params-json> <query> [max-rows]   run a query; rows, fields, summary; with max-rows, DISCARD after
 *   begin | commit | rollback | reset      transactions and reset
 * Values are written in the notation of bolt-vectors.json ($int, $float, $bytes, $struct). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bolt.h"
#include "bolt_int.h"
#include "bolt_test_util.h"
#include "mgo_clock.h"
#include "mgo_err.h"

static json_t *value_to_json(const struct bolt_value *v);

static json_t *float_to_json(double d)
{
  char buf[64];
  snprintf(buf, sizeof(buf), "%.17g", d);
  if (d != d)
    snprintf(buf, sizeof(buf), "nan");
  else if (d > 1.7976931348623157e308)
    snprintf(buf, sizeof(buf), "inf");
  else if (d < -1.7976931348623157e308)
    snprintf(buf, sizeof(buf), "-inf");
  return json_pack("{s:s}", "$float", buf);
}

static json_t *int_to_json(int64_t i)
{
  const int64_t limit = 9007199254740991LL; /* 2^53 - 1 */
  if (i >= -limit && i <= limit)
    return json_integer(i);
  char buf[32];
  snprintf(buf, sizeof(buf), "%lld", (long long) i);
  return json_pack("{s:s}", "$int", buf);
}

static json_t *struct_to_json(const struct bolt_value *v)
{
  char tag[8];
  snprintf(tag, sizeof(tag), "0x%02X", v->u.structure.tag);
  json_t *fields = json_array();
  for (size_t i = 0; i < v->u.structure.len; i++)
    json_array_append_new(fields, value_to_json(&v->u.structure.fields[i]));
  return json_pack("{s:{s:s,s:o}}", "$struct", "tag", tag, "fields", fields);
}

static json_t *value_to_json(const struct bolt_value *v)
{
  json_t *j;
  char *hex;
  switch (bolt_value_type(v)) {
  case BOLT_NULL:
    return json_null();
  case BOLT_BOOL:
    return json_boolean(v->u.boolean);
  case BOLT_INT:
    return int_to_json(v->u.integer);
  case BOLT_FLOAT:
    return float_to_json(v->u.real);
  case BOLT_STRING:
    return json_stringn(v->u.str.data, v->u.str.len);
  case BOLT_BYTES:
    hex = tu_hex((const uint8_t *) v->u.str.data, v->u.str.len);
    j = json_pack("{s:s}", "$bytes", hex);
    free(hex);
    return j;
  case BOLT_LIST:
    j = json_array();
    for (size_t i = 0; i < v->u.list.len; i++)
      json_array_append_new(j, value_to_json(&v->u.list.items[i]));
    return j;
  case BOLT_MAP:
    j = json_object();
    for (size_t i = 0; i < v->u.map.len; i++)
      json_object_set_new(j, v->u.map.entries[i].key, value_to_json(&v->u.map.entries[i].value));
    return j;
  case BOLT_STRUCT:
    return struct_to_json(v);
  }
  return json_null();
}

static json_t *error_json(const struct bolt_conn *c)
{
  const struct bolt_error *e = bolt_error(c);
  static const char *const classes[] = {"none", "client", "transient", "database", "local"};
  return json_pack("{s:s,s:s,s:s,s:s,s:s}", "rc", mgo_errname(e->rc), "code", e->code, "message", e->message,
                   "class", classes[e->klass], "detail", e->detail);
}

static void emit(json_t *j, const struct bolt_conn *c, int rc, int64_t t0)
{
  json_object_set_new(j, "rc", json_string(mgo_errname(rc)));
  json_object_set_new(j, "state", json_string(bolt_state_name(bolt_state(c))));
  json_object_set_new(j, "elapsed_ms", json_integer(mgo_clock_mono_ms(NULL) - t0));
  if (rc < 0)
    json_object_set_new(j, "error", error_json(c));
  char *s = json_dumps(j, JSON_COMPACT);
  printf("%s\n", s);
  fflush(stdout);
  free(s);
  json_decref(j);
}

static int consume_rows(struct bolt_result *r, long max_rows, json_t *out)
{
  json_t *rows = json_array();
  json_object_set_new(out, "rows", rows);
  const struct bolt_value *row = NULL;
  int rc;
  while ((max_rows < 0 || (long) json_array_size(rows) < max_rows) && (rc = bolt_result_next(r, &row)) == 1)
    json_array_append_new(rows, value_to_json(row));
  if (max_rows >= 0 && (long) json_array_size(rows) >= max_rows)
    rc = bolt_result_discard(r);
  json_object_set_new(out, "pulls", json_integer((json_int_t) bolt_result_pulls(r)));
  if (rc >= 0) {
    json_object_set_new(out, "summary", value_to_json(bolt_result_summary(r)));
    rc = MGO_OK;
  }
  return rc;
}

static void cmd_run(struct bolt_conn *c, char *args)
{
  int64_t t0 = mgo_clock_mono_ms(NULL);
  char *params_text = strtok(args, "\t");
  char *query = strtok(NULL, "\t");
  char *max_rows = strtok(NULL, "\t");
  json_t *out = json_pack("{s:s}", "cmd", "run");
  json_error_t jerr;
  json_t *pj = params_text ? json_loads(params_text, 0, &jerr) : NULL;
  struct bolt_value *params = pj ? tu_json_to_value(pj) : NULL;
  json_decref(pj);
  if (!params || !query) {
    json_object_set_new(out, "usage", json_string("run<TAB>params-json<TAB>query[<TAB>max-rows]"));
    emit(out, c, MGO_EINVAL, t0);
    bolt_value_free(params);
    return;
  }
  struct bolt_result *r = NULL;
  int rc = bolt_run(c, query, params, &r);
  bolt_value_free(params);
  if (rc == MGO_OK) {
    json_object_set_new(out, "fields", value_to_json(bolt_result_fields(r)));
    rc = consume_rows(r, max_rows ? strtol(max_rows, NULL, 10) : -1, out);
  }
  emit(out, c, rc, t0);
}

static void run_command(struct bolt_conn *c, char *line)
{
  int64_t t0 = mgo_clock_mono_ms(NULL);
  char *tab = strchr(line, '\t');
  if (tab)
    *tab++ = '\0';
  int rc = MGO_EINVAL;
  if (strcmp(line, "run") == 0) {
    cmd_run(c, tab ? tab : (char *) "");
    return;
  }
  if (strcmp(line, "begin") == 0)
    rc = bolt_begin(c);
  else if (strcmp(line, "commit") == 0)
    rc = bolt_commit(c);
  else if (strcmp(line, "rollback") == 0)
    rc = bolt_rollback(c);
  else if (strcmp(line, "reset") == 0)
    rc = bolt_reset(c);
  emit(json_pack("{s:s}", "cmd", line), c, rc, t0);
}

static unsigned parse_versions(const char *s)
{
  unsigned v = 0;
  v |= strstr(s, "5.2") ? BOLT_V5_2 : 0;
  v |= strstr(s, "4.4") ? BOLT_V4_4 : 0;
  v |= strstr(s, "4.3") ? BOLT_V4_3 : 0;
  v |= strstr(s, "4.2") ? BOLT_V4_2 : 0;
  v |= strstr(s, "4.1") ? BOLT_V4_1 : 0;
  return v;
}

static int parse_args(int argc, char **argv, struct bolt_opts *o)
{
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (strcmp(k, "--host") == 0)
      o->host = v;
    else if (strcmp(k, "--port") == 0)
      o->port = (uint16_t) strtoul(v, NULL, 10);
    else if (strcmp(k, "--user") == 0) {
      o->user = v;
      o->auth = BOLT_AUTH_BASIC;
    } else if (strcmp(k, "--password") == 0)
      o->password = v;
    else if (strcmp(k, "--versions") == 0)
      o->versions = parse_versions(v);
    else if (strcmp(k, "--fetch-size") == 0)
      o->fetch_size = strtol(v, NULL, 10);
    else if (strcmp(k, "--connect-timeout-ms") == 0)
      o->connect_timeout_ms = (int) strtol(v, NULL, 10);
    else if (strcmp(k, "--query-timeout-ms") == 0)
      o->query_timeout_ms = (int) strtol(v, NULL, 10);
    else if (strcmp(k, "--tls") == 0)
      o->tls = strcmp(v, "verify") == 0 ? BOLT_TLS_VERIFY : BOLT_TLS_INSECURE_NO_VERIFY_TESTS_ONLY;
    else if (strcmp(k, "--ca") == 0)
      o->tls_ca_file = v;
    else if (strcmp(k, "--server-name") == 0)
      o->tls_server_name = v;
    else if (strcmp(k, "--user-agent") == 0)
      o->user_agent = v;
    else
      return -1;
  }
  return argc % 2 == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
  struct bolt_opts o;
  bolt_opts_default(&o);
  o.host = "127.0.0.1";
  if (parse_args(argc, argv, &o) != 0) {
    fprintf(stderr, "usage: see the comment at the top of bolt_probe.c\n");
    return 2;
  }
  int64_t t0 = mgo_clock_mono_ms(NULL);
  struct bolt_conn *c = NULL;
  int rc = bolt_connect(&c, &o);
  json_t *hello = json_pack("{s:s}", "cmd", "connect");
  unsigned v = bolt_version(c);
  char version[16];
  snprintf(version, sizeof(version), "%u.%u", v >> 8, v & 0xFF);
  json_object_set_new(hello, "version", json_string(version));
  json_object_set_new(hello, "server", value_to_json(bolt_server_info(c)));
  emit(hello, c, rc, t0);
  char *line = NULL;
  size_t cap = 0;
  while (rc == MGO_OK && getline(&line, &cap, stdin) >= 0) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0])
      run_command(c, line);
  }
  free(line);
  bolt_close(c);
  return 0;
}
