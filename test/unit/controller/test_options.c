/* memgraph-operator flags: defaults, MGO_* environment, flag over environment, durations, bad values. */
#include "options.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const ENV[] = {"MGO_NAMESPACE",       "MGO_WORKERS",       "MGO_HTTP_PORT",
                                  "MGO_HTTP_ADDR",       "MGO_LEADER_ELECT",  "MGO_BOLT_TIMEOUT",
                                  "MGO_RESYNC_INTERVAL", "MGO_IDENTITY",      "MGO_LOG_FORMAT",
                                  "MGO_KUBECONFIG",      "MGO_OPERATOR_IMAGE"};

static int clear_env(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(ENV) / sizeof(ENV[0]); i++)
    unsetenv(ENV[i]);
  return 0;
}

static int parse(struct mgo_options *o, char *err, size_t errsz, int argc, char **argv)
{
  return mgo_options_parse(argc, argv, o, err, errsz);
}

static void defaults(void **state)
{
  char *argv[] = {"memgraph-operator", "run"};
  struct mgo_options o;
  char err[256] = "";
  (void) state;
  assert_int_equal(parse(&o, err, sizeof(err), 2, argv), 0);
  assert_int_equal(o.command, MGO_CMD_RUN);
  assert_null(o.namespace);
  assert_null(o.kubeconfig);
  assert_int_equal(o.workers, 16);
  assert_int_equal(o.resync_interval_ms, 30000);
  assert_string_equal(o.http_addr, "0.0.0.0");
  assert_int_equal(o.http_port, 8080);
  assert_true(o.leader_elect);
  assert_string_equal(o.lease_namespace, "memgraph-operator-system");
  assert_string_equal(o.lease_name, "memgraph-operator");
  assert_int_equal(o.bolt_timeout_ms, 5000);
  assert_int_equal(o.lease_duration_ms, 15000);
  assert_int_equal(o.log_format, MGO_LOG_LOGFMT);
}

static void env_then_flags(void **state)
{
  char *argv[] = {
      "memgraph-operator", "run", "--workers",        "2", "--http-port=0", "--leader-elect=false",
      "--lease-duration",  "4",   "--renew-deadline", "3"};
  struct mgo_options o;
  char err[256] = "";
  (void) state;
  setenv("MGO_NAMESPACE", "db", 1);
  setenv("MGO_WORKERS", "8", 1);
  setenv("MGO_BOLT_TIMEOUT", "1500ms", 1);
  setenv("MGO_RESYNC_INTERVAL", "2m", 1);
  setenv("MGO_LOG_FORMAT", "json", 1);
  setenv("MGO_OPERATOR_IMAGE", "example/memgraph-operator:1", 1);
  assert_int_equal(parse(&o, err, sizeof(err), 10, argv), 0);
  assert_string_equal(o.namespace, "db");
  assert_int_equal(o.workers, 2); /* the flag wins */
  assert_int_equal(o.http_port, 0);
  assert_false(o.leader_elect);
  assert_int_equal(o.bolt_timeout_ms, 1500);
  assert_int_equal(o.resync_interval_ms, 120000);
  assert_int_equal(o.lease_duration_ms, 4000); /* plain numbers are seconds */
  assert_int_equal(o.log_format, MGO_LOG_JSON);
  assert_string_equal(o.operator_image, "example/memgraph-operator:1");
}

static void bad_values_name_the_option(void **state)
{
  char *bad_port[] = {"memgraph-operator", "run", "--http-port", "70000"};
  char *bad_flag[] = {"memgraph-operator", "run", "--no-such-flag"};
  char *bad_lease[] = {"memgraph-operator", "run", "--renew-deadline", "20s"};
  struct mgo_options o;
  char err[256] = "";
  (void) state;
  assert_int_equal(parse(&o, err, sizeof(err), 4, bad_port), -1);
  assert_non_null(strstr(err, "--http-port"));
  assert_int_equal(parse(&o, err, sizeof(err), 3, bad_flag), -1);
  assert_string_equal(err, "invalid option: --no-such-flag");
  assert_int_equal(parse(&o, err, sizeof(err), 4, bad_lease), -1);
  setenv("MGO_WORKERS", "zero", 1);
  char *plain[] = {"memgraph-operator", "run"};
  assert_int_equal(parse(&o, err, sizeof(err), 2, plain), -1);
  assert_non_null(strstr(err, "MGO_WORKERS"));
}

static void durations(void **state)
{
  (void) state;
  assert_int_equal(mgo_parse_duration_ms("30s"), 30000);
  assert_int_equal(mgo_parse_duration_ms("250ms"), 250);
  assert_int_equal(mgo_parse_duration_ms("1.5s"), 1500);
  assert_int_equal(mgo_parse_duration_ms("1h"), 3600000);
  assert_int_equal(mgo_parse_duration_ms("7"), 7000);
  assert_int_equal(mgo_parse_duration_ms("0s"), -1);
  assert_int_equal(mgo_parse_duration_ms("-1s"), -1);
  assert_int_equal(mgo_parse_duration_ms("5x"), -1);
  assert_int_equal(mgo_parse_duration_ms(""), -1);
}

static void agent_command(void **state)
{
  char *argv[] = {"memgraph-operator", "agent", "--data-dir=/d", "--marker-dir=/m"};
  struct mgo_options o;
  char err[256] = "";
  (void) state;
  assert_int_equal(parse(&o, err, sizeof(err), 4, argv), 0);
  assert_int_equal(o.command, MGO_CMD_AGENT);
  assert_string_equal(o.data_dir, "/d");
  assert_string_equal(o.marker_dir, "/m");
  assert_string_equal(o.instructions_dir, "/etc/memgraph-operator/agent");
  assert_string_equal(o.pod_name, "mg-1");
}

static void agent_instructions_flags(void **state)
{
  char *argv[] = {"memgraph-operator", "agent", "--instructions-dir=/i", "--pod-name=mg-2"};
  struct mgo_options o;
  char err[256] = "";
  (void) state;
  assert_int_equal(parse(&o, err, sizeof(err), 4, argv), 0);
  assert_string_equal(o.instructions_dir, "/i");
  assert_string_equal(o.pod_name, "mg-2"); /* the flag wins over $POD_NAME */
  unsetenv("POD_NAME");
  assert_int_equal(parse(&o, err, sizeof(err), 2, argv), 0);
  assert_string_equal(o.pod_name, "");
}

static void agent_serve_command(void **state)
{
  char *argv[] = {"memgraph-operator", "agent",           "serve",
                  "--data-dir=/d",     "--token-file=/t", "--listen=10.0.0.7:9787"};
  char *no_token[] = {"memgraph-operator", "agent", "serve", "--data-dir=/d"};
  char *init[] = {"memgraph-operator", "agent", "--termination-log=/tl"};
  struct mgo_options o;
  char err[256] = "";
  (void) state;
  assert_int_equal(parse(&o, err, sizeof(err), 6, argv), 0);
  assert_int_equal(o.command, MGO_CMD_AGENT_SERVE);
  assert_string_equal(o.data_dir, "/d");
  assert_string_equal(o.token_file, "/t");
  assert_string_equal(o.listen, "10.0.0.7:9787");
  assert_int_equal(parse(&o, err, sizeof(err), 5, argv), 0);
  assert_string_equal(o.listen, "0.0.0.0:9787");
  assert_int_equal(parse(&o, err, sizeof(err), 4, no_token), -1);
  assert_non_null(strstr(err, "--token-file"));
  assert_int_equal(parse(&o, err, sizeof(err), 3, init), 0);
  assert_int_equal(o.command, MGO_CMD_AGENT);
  assert_string_equal(o.termination_log, "/tl");
  assert_int_equal(parse(&o, err, sizeof(err), 2, init), 0);
  assert_string_equal(o.termination_log, "/dev/termination-log");
}

static int pod_name_env(void **state)
{
  clear_env(state);
  setenv("POD_NAME", "mg-1", 1);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(defaults, clear_env),
      cmocka_unit_test_setup(env_then_flags, clear_env),
      cmocka_unit_test_setup(bad_values_name_the_option, clear_env),
      cmocka_unit_test(durations),
      cmocka_unit_test_setup(agent_command, pod_name_env),
      cmocka_unit_test_setup(agent_instructions_flags, pod_name_env),
      cmocka_unit_test_setup(agent_serve_command, pod_name_env),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
