/* kubectl-memgraph's argument parsing as a table: argv → command, positionals, flags, or the error line. */
#include "kmg_args.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define MAXARGS 12

struct row {
  const char *argv[MAXARGS]; /* after the program name, NULL-terminated */
  int rc;
  enum kmg_command cmd;
  const char *pos0, *pos1;
  const char *err_has; /* substring of the error line */
};

static int parse(const struct row *r, struct kmg_args *a, char *err, size_t errsz)
{
  char *argv[MAXARGS + 1] = {"kubectl-memgraph"};
  int argc = 1;
  for (int i = 0; i < MAXARGS && r->argv[i]; i++) {
    argv[argc++] = (char *) r->argv[i];
  }
  return kmg_args_parse(argc, argv, a, err, errsz);
}

static void test_table(void **state)
{
  (void) state;
  static const struct row rows[] = {
      {{NULL}, MGO_OK, KMG_CMD_HELP, NULL, NULL, NULL},
      {{"--help"}, MGO_OK, KMG_CMD_HELP, NULL, NULL, NULL},
      {{"status", "mg", "-h"}, MGO_OK, KMG_CMD_HELP, NULL, NULL, NULL},
      {{"status", "mg"}, MGO_OK, KMG_CMD_STATUS, "mg", NULL, NULL},
      {{"-n", "db", "status", "mg", "-o", "yaml"}, MGO_OK, KMG_CMD_STATUS, "mg", NULL, NULL},
      {{"status", "--namespace=db", "mg", "-o=json"}, MGO_OK, KMG_CMD_STATUS, "mg", NULL, NULL},
      {{"status"}, MGO_EINVAL, 0, NULL, NULL, "usage: kubectl memgraph status NAME"},
      {{"status", "a", "b"}, MGO_EINVAL, 0, NULL, NULL, "unexpected argument \"b\""},
      {{"status", "mg", "-o", "wide"}, MGO_EINVAL, 0, NULL, NULL, "invalid value for --output"},
      {{"status", "mg", "--to", "1"}, MGO_EINVAL, 0, NULL, NULL, "status does not take --to"},
      {{"frobnicate", "mg"}, MGO_EINVAL, 0, NULL, NULL, "unknown command \"frobnicate\""},
      {{"status", "mg", "--bogus"}, MGO_EINVAL, 0, NULL, NULL, "unknown flag --bogus"},
      {{"status", "mg", "-n"}, MGO_EINVAL, 0, NULL, NULL, "flag -n needs a value"},
      {{"switchover", "mg", "--to", "2"}, MGO_OK, KMG_CMD_SWITCHOVER, "mg", NULL, NULL},
      {{"switchover", "mg"}, MGO_EINVAL, 0, NULL, NULL, "switchover NAME --to ORDINAL"},
      {{"switchover", "mg", "--to", "-1"}, MGO_EINVAL, 0, NULL, NULL, "invalid value for --to"},
      {{"switchover", "mg", "--to", "x"}, MGO_EINVAL, 0, NULL, NULL, "invalid value for --to"},
      {{"switchover", "mg", "--to=1", "--timeout", "90s"}, MGO_OK, KMG_CMD_SWITCHOVER, "mg", NULL, NULL},
      {{"backup", "mg", "--wait", "--name", "b1"}, MGO_OK, KMG_CMD_BACKUP, "mg", NULL, NULL},
      {{"backup", "mg", "--wait=yes"}, MGO_EINVAL, 0, NULL, NULL, "--wait takes no value"},
      {{"backup", "mg", "--target", "Replica"}, MGO_EINVAL, 0, NULL, NULL, "invalid value for --target"},
      {{"fence", "mg", "1"}, MGO_OK, KMG_CMD_FENCE, "mg", "1", NULL},
      {{"fence", "mg", "*"}, MGO_OK, KMG_CMD_FENCE, "mg", "*", NULL},
      {{"fence", "mg"}, MGO_EINVAL, 0, NULL, NULL, "fence NAME INSTANCE"},
      {{"unfence", "mg"}, MGO_OK, KMG_CMD_UNFENCE, "mg", NULL, NULL},
      {{"unfence", "mg", "mg-1"}, MGO_OK, KMG_CMD_UNFENCE, "mg", "mg-1", NULL},
      {{"hibernate", "mg"}, MGO_OK, KMG_CMD_HIBERNATE, "mg", NULL, NULL},
      {{"resume", "mg"}, MGO_OK, KMG_CMD_RESUME, "mg", NULL, NULL},
      {{"pause", "mg"}, MGO_OK, KMG_CMD_PAUSE, "mg", NULL, NULL},
      {{"unpause", "mg", "--wait"}, MGO_EINVAL, 0, NULL, NULL, "unpause does not take --wait"},
      {{"restore", "b1", "--into", "mg2"}, MGO_OK, KMG_CMD_RESTORE, "b1", NULL, NULL},
      {{"restore", "b1"}, MGO_EINVAL, 0, NULL, NULL, "restore BACKUP --into NEW"},
      {{"report", "mg", "--operator-url", "http://127.0.0.1:8080"}, MGO_OK, KMG_CMD_REPORT, "mg", NULL, NULL},
      {{"report", "mg", "--operator-url", "ftp://x"}, MGO_EINVAL, 0, NULL, NULL, "--operator-url"},
      {{"logs", "mg", "0", "--tail", "10", "-p"}, MGO_OK, KMG_CMD_LOGS, "mg", "0", NULL},
      {{"logs", "mg", "--", "-1"}, MGO_OK, KMG_CMD_LOGS, "mg", "-1", NULL},
      {{"logs", "mg", "--follow"}, MGO_OK, KMG_CMD_LOGS, "mg", NULL, NULL},
      {{"status", "mg", "--follow"}, MGO_EINVAL, 0, NULL, NULL, "status does not take --follow"},
      {{"preview", "mg", "-f", "x.yaml"}, MGO_OK, KMG_CMD_PREVIEW, "mg", NULL, NULL},
      {{"preview", "mg"}, MGO_EINVAL, 0, NULL, NULL, "preview NAME -f CHANGED.yaml"},
      {{"version"}, MGO_OK, KMG_CMD_VERSION, NULL, NULL, NULL},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    struct kmg_args a;
    char err[256] = "";
    int rc = parse(&rows[i], &a, err, sizeof(err));
    if (rc != rows[i].rc || (rc == MGO_OK && a.command != rows[i].cmd)) {
      fail_msg("row %zu (%s %s): rc %d command %d, err \"%s\"", i, rows[i].argv[0] ? rows[i].argv[0] : "",
               rows[i].argv[1] ? rows[i].argv[1] : "", rc, a.command, err);
    }
    if (rc != MGO_OK && strstr(err, rows[i].err_has) == NULL) {
      fail_msg("row %zu: error \"%s\" lacks \"%s\"", i, err, rows[i].err_has);
    }
    if (rc == MGO_OK && rows[i].pos0) {
      assert_string_equal(a.pos[0], rows[i].pos0);
    }
    if (rc == MGO_OK && rows[i].pos1) {
      assert_string_equal(a.pos[1], rows[i].pos1);
    }
  }
}

static void test_values(void **state)
{
  (void) state;
  struct kmg_args a;
  char err[256];
  char *argv[] = {"k", "--kubeconfig", "/k", "--context=c1", "switchover", "mg", "--to",
                  "2", "-n",           "db", "--timeout",    "2m"};
  assert_int_equal(kmg_args_parse(12, argv, &a, err, sizeof(err)), MGO_OK);
  assert_string_equal(a.kubeconfig, "/k");
  assert_string_equal(a.context, "c1");
  assert_string_equal(a.namespace, "db");
  assert_int_equal(a.to_ordinal, 2);
  assert_int_equal(a.timeout_ms, 120000);
  char *argv2[] = {"k", "logs", "mg"};
  assert_int_equal(kmg_args_parse(3, argv2, &a, err, sizeof(err)), MGO_OK);
  assert_string_equal(a.container, "memgraph");
  assert_int_equal(a.tail_lines, -1);
  assert_int_equal(a.timeout_ms, KMG_DEFAULT_TIMEOUT_MS);
  assert_null(a.namespace);
}

static void test_durations(void **state)
{
  (void) state;
  static const struct {
    const char *in;
    int rc;
    long ms;
  } rows[] = {{"500ms", MGO_OK, 500}, {"30s", MGO_OK, 30000}, {"2m", MGO_OK, 120000}, {"1h", MGO_OK, 3600000},
              {"45", MGO_OK, 45000},  {"1.5s", MGO_OK, 1500}, {"0", MGO_EINVAL, 0},   {"-3s", MGO_EINVAL, 0},
              {"3d", MGO_EINVAL, 0},  {"", MGO_EINVAL, 0},    {"25h", MGO_EINVAL, 0}, {"s", MGO_EINVAL, 0}};
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    long ms = -1;
    assert_int_equal(kmg_parse_duration_ms(rows[i].in, &ms), rows[i].rc);
    if (rows[i].rc == MGO_OK) {
      assert_int_equal(ms, rows[i].ms);
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_durations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
