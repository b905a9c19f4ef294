/* Unit tests for the choice of the pod that takes a backup's snapshot (src/backup/backup_target.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backup_target.h"
#include "mgo_err.h"

#define MAXI 4
#define M MGO_ROLE_MAIN
#define R MGO_ROLE_REPLICA
#define U MGO_ROLE_UNKNOWN
enum { PREFER = BACKUP_TARGET_PREFER_REPLICA, MAIN = BACKUP_TARGET_MAIN };

static const struct {
  const char *what;
  int target;
  struct backup_instance in[MAXI];
  const char *pod; /* NULL: MGO_ENOTFOUND */
  const char *reason;
} CASES[] = {
    {"prefer: the in-sync replica",
     PREFER,
     {{"db-0", M, true, false, 3, 7, 2}, {"db-1", R, true, true, 3, 7, 2}},
     "db-1",
     "replica db-1 is healthy and in sync"},
    {"prefer: the lowest ordinal (numerically)",
     PREFER,
     {{"db-10", R, true, true, 3, 8, 0},
      {"db-0", M, true, false, 3, 8, 0},
      {"db-2", R, true, true, 3, 8, 0},
      {"db-11", R, true, true, 3, 8, 0}},
     "db-2",
     "replica db-2 is healthy and in sync"},
    {"prefer: unhealthy and out-of-sync replicas are skipped",
     PREFER,
     {{"db-0", M, true, false, 3, 7, 2},
      {"db-1", R, false, true, 3, 7, 2},
      {"db-2", R, true, false, 3, 7, 2},
      {"db-3", R, true, true, 3, 7, 2}},
     "db-3",
     "replica db-3 is healthy and in sync"},
    {"prefer: a replica older than 3.7.2 is skipped",
     PREFER,
     {{"db-0", M, true, false, 3, 7, 1}, {"db-1", R, true, true, 3, 7, 1}, {"db-2", R, true, true, 4, 0, 0}},
     "db-2",
     "replica db-2 is healthy and in sync"},
    {"prefer: only old replicas, the MAIN",
     PREFER,
     {{"db-0", M, true, false, 3, 7, 1}, {"db-1", R, true, true, 3, 7, 1}, {"db-2", R, true, true, 3, 6, 9}},
     "db-0",
     "the MAIN db-0: the in-sync replicas run Memgraph older than 3.7.2, which cannot snapshot on a replica"},
    {"prefer: no healthy in-sync replica, the MAIN",
     PREFER,
     {{"db-1", R, false, true, 3, 8, 0},
      {"db-0", M, true, false, 3, 8, 0},
      {"db-2", R, true, false, 3, 8, 0}},
     "db-0",
     "the MAIN db-0: no healthy in-sync replica"},
    {"prefer: a lone MAIN",
     PREFER,
     {{"db-0", M, true, false, 3, 8, 0}},
     "db-0",
     "the MAIN db-0: no healthy in-sync replica"},
    {"prefer: an unknown role is no replica",
     PREFER,
     {{"db-0", M, true, false, 3, 8, 0}, {"db-1", U, true, true, 3, 8, 0}},
     "db-0",
     "the MAIN db-0: no healthy in-sync replica"},
    {"main: the MAIN even with good replicas",
     MAIN,
     {{"db-1", R, true, true, 3, 8, 0}, {"db-0", M, true, false, 3, 8, 0}},
     "db-0",
     "the MAIN db-0 (target Main)"},
    {"main: an old MAIN is fine",
     MAIN,
     {{"db-0", M, true, false, 2, 0, 0}},
     "db-0",
     "the MAIN db-0 (target Main)"},
    {"no MAIN",
     MAIN,
     {{"db-1", R, true, true, 3, 8, 0}},
     NULL,
     "no MAIN to snapshot: no healthy instance has the MAIN role"},
    {"no MAIN, prefer replica: refused too",
     PREFER,
     {{"db-1", R, true, true, 3, 8, 0}},
     NULL,
     "no MAIN to snapshot: no healthy instance has the MAIN role"},
    {"an unhealthy MAIN is no MAIN",
     PREFER,
     {{"db-0", M, false, false, 3, 8, 0}, {"db-1", R, true, true, 3, 8, 0}},
     NULL,
     "no MAIN to snapshot: no healthy instance has the MAIN role"},
    {"no instances",
     PREFER,
     {{NULL, 0, false, false, 0, 0, 0}},
     NULL,
     "no MAIN to snapshot: no healthy instance has the MAIN role"},
    {"two MAINs",
     PREFER,
     {{"db-0", M, true, false, 3, 8, 0}, {"db-1", R, true, true, 3, 8, 0}, {"db-2", M, true, false, 3, 8, 0}},
     NULL,
     "2 healthy MAINs (db-0, db-2): no snapshot while the cluster is split"},
    {"two MAINs, one unhealthy: the healthy one",
     MAIN,
     {{"db-0", M, false, false, 3, 8, 0}, {"db-2", M, true, false, 3, 8, 0}},
     "db-2",
     "the MAIN db-2 (target Main)"},
    {"names without an ordinal come last",
     PREFER,
     {{"db-0", M, true, false, 3, 8, 0},
      {"odd", R, true, true, 3, 8, 0},
      {"db-x", R, true, true, 3, 8, 0},
      {"db-7", R, true, true, 3, 8, 0}},
     "db-7",
     "replica db-7 is healthy and in sync"},
    {"names without an ordinal, by name",
     PREFER,
     {{"db-0", M, true, false, 3, 8, 0}, {"odd", R, true, true, 3, 8, 0}, {"db-x", R, true, true, 3, 8, 0}},
     "db-x",
     "replica db-x is healthy and in sync"},
};

static void target_table(void **state)
{
  (void) state;
  for (size_t c = 0; c < sizeof(CASES) / sizeof(CASES[0]); c++) {
    size_t n = 0;
    struct backup_choice out;
    while (n < MAXI && CASES[c].in[n].pod != NULL)
      n++;
    int rc = backup_pick_target(CASES[c].in, n, (enum backup_target) CASES[c].target, &out);
    if (strcmp(out.reason, CASES[c].reason) != 0)
      fail_msg("%s: reason \"%s\", want \"%s\"", CASES[c].what, out.reason, CASES[c].reason);
    if (CASES[c].pod == NULL) {
      assert_int_equal(rc, MGO_ENOTFOUND);
      continue;
    }
    assert_int_equal(rc, MGO_OK);
    assert_string_equal(CASES[c].in[out.index].pod, CASES[c].pod);
    assert_int_equal(out.on_replica, CASES[c].in[out.index].role == MGO_ROLE_REPLICA);
  }
}

static void versions_and_arguments(void **state)
{
  (void) state;
  assert_false(backup_replica_can_snapshot(3, 7, 1));
  assert_true(backup_replica_can_snapshot(3, 7, 2));
  assert_true(backup_replica_can_snapshot(3, 7, 10));
  assert_true(backup_replica_can_snapshot(3, 8, 0));
  assert_true(backup_replica_can_snapshot(4, 0, 0));
  assert_false(backup_replica_can_snapshot(3, 6, 99));
  assert_false(backup_replica_can_snapshot(2, 99, 99));
  assert_false(backup_replica_can_snapshot(0, 0, 0)); /* unknown version */
  struct backup_choice out;
  struct backup_instance one = {"db-0", MGO_ROLE_MAIN, true, false, 3, 8, 0};
  assert_int_equal(backup_pick_target(NULL, 1, BACKUP_TARGET_MAIN, &out), MGO_EINVAL);
  assert_int_equal(backup_pick_target(&one, 1, (enum backup_target) 7, &out), MGO_EINVAL);
  assert_string_equal(out.reason, "invalid arguments");
  assert_int_equal(backup_pick_target(&one, 1, BACKUP_TARGET_MAIN, NULL), MGO_EINVAL);
  one.pod = NULL;
  assert_int_equal(backup_pick_target(&one, 1, BACKUP_TARGET_MAIN, &out), MGO_OK);
  assert_string_equal(out.reason, "the MAIN ? (target Main)");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(target_table),
      cmocka_unit_test(versions_and_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
