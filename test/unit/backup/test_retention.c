/* Unit tests for backup retention (src/backup/backup_retention.c): tables of backups, a policy and the
 * names deleted. Times are days before NOW (fractions allowed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backup_retention.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#define NOW INT64_C(1796169600) /* 2026-12-02T00:00:00Z */
#define AGO(days) (NOW - (int64_t) ((days) *86400.0))
#define MAXB 8

enum { P = BACKUP_PENDING, R = BACKUP_RUNNING, C = BACKUP_COMPLETED, F = BACKUP_FAILED };

struct tcase {
  const char *what;
  struct backup_policy policy;
  struct {
    const char *name;
    int phase;
    double done_ago;    /* days; < 0: completed_at 0 */
    double created_ago; /* days */
  } b[MAXB];
  const char *deleted; /* names, space-separated, in item order */
};

static const struct tcase CASES[] = {
    {"no backups", {1, 1}, {{NULL, 0, 0, 0}}, ""},
    {"pending and running are never candidates, however old",
     {1, 1},
     {{"p", P, -1, 400}, {"r", R, -1, 300}, {"p2", P, -1, 200}},
     ""},
    {"count keeps the newest completed",
     {2, 0},
     {{"c4", C, 4, 4}, {"c1", C, 1, 1}, {"c3", C, 3, 3}, {"c2", C, 2, 2}},
     "c4 c3"},
    {"count 1", {1, 0}, {{"c1", C, 1, 1}, {"c2", C, 2, 2}}, "c2"},
    {"no limits keep every completed",
     {0, 0},
     {{"c1", C, 1, 1}, {"c2", C, 200, 200}, {"c3", C, 900, 900}},
     ""},
    {"max age", {0, 7}, {{"c1", C, 1, 1}, {"c2", C, 5, 5}, {"c3", C, 8, 8}, {"c4", C, 30, 30}}, "c3 c4"},
    {"exactly max age is kept", {0, 7}, {{"c1", C, 1, 1}, {"c2", C, 7, 7}}, ""},
    {"the newest completed survives its age", {0, 7}, {{"old", C, 30, 30}}, ""},
    {"the newest completed survives its age, the older goes",
     {0, 7},
     {{"old", C, 30, 30}, {"older", C, 40, 40}},
     "older"},
    {"count and age together",
     {2, 7},
     {{"c1", C, 1, 1}, {"c2", C, 2, 2}, {"c3", C, 3, 3}, {"c4", C, 10, 10}},
     "c3 c4"},
    {"age by completion, not creation", {0, 7}, {{"c1", C, 1, 1}, {"slow", C, 6, 9}}, ""},
    {"completed_at 0 falls back on created_at", {0, 7}, {{"c1", C, 1, 1}, {"c2", C, -1, 9}}, "c2"},
    {"ties: the greater name is the newer",
     {1, 0},
     {{"db-20261201000000", C, 1, 1}, {"db-20261201000001", C, 1, 1}},
     "db-20261201000000"},
    {"pending and running beside the count",
     {1, 0},
     {{"p", P, -1, 0}, {"c1", C, 1, 1}, {"r", R, -1, 9}, {"c2", C, 2, 2}},
     "c2"},
    {"failures without any success: the 3 newest stay",
     {0, 0},
     {{"f1", F, 1, 1}, {"f2", F, 2, 2}, {"f3", F, 3, 3}, {"f4", F, 4, 4}, {"f5", F, 5, 5}},
     "f4 f5"},
    {"failures without any success, count 1", {1, 0}, {{"f1", F, 1, 1}, {"f2", F, 2, 2}}, "f2"},
    {"failures without any success are not aged out", {0, 7}, {{"f1", F, 30, 30}, {"f2", F, 31, 31}}, ""},
    {"failures after the last success: count of them stay",
     {2, 0},
     {{"f1", F, 0.5, 0.5}, {"f2", F, 0.7, 0.7}, {"f3", F, 0.9, 0.9}, {"c1", C, 1, 1}, {"c2", C, 2, 2}},
     "f3"},
    {"a failure between kept successes stays",
     {3, 0},
     {{"c1", C, 1, 1}, {"f", F, 1.5, 1.5}, {"c2", C, 2, 2}, {"c3", C, 3, 3}},
     ""},
    {"a failure older than every kept success goes",
     {2, 0},
     {{"c1", C, 1, 1}, {"c2", C, 2, 2}, {"f", F, 2.5, 2.5}, {"c3", C, 3, 3}},
     "f c3"},
    {"a failure before the only success goes", {0, 0}, {{"c1", C, 1, 1}, {"f", F, 2, 2}}, "f"},
    {"a failure pushed out of the age window goes",
     {0, 7},
     {{"c1", C, 1, 1}, {"c2", C, 10, 10}, {"f", F, 5, 5}},
     "c2 f"},
    {"a failure after an old last success stays", {0, 7}, {{"c1", C, 20, 20}, {"f1", F, 10, 10}}, ""},
    {"a failure at the same time as the oldest kept success: by name",
     {1, 0},
     {{"a", F, 1, 1}, {"b", C, 1, 1}, {"c", F, 1, 1}},
     "a"},
    {"failed with completed_at 0 is timed by creation",
     {1, 0},
     {{"c1", C, 1, 1}, {"f", F, -1, 0.5}, {"g", F, -1, 2}},
     "g"},
};

static void names_of(const struct tcase *t, const size_t *del, size_t ndel, char *out, size_t outsz)
{
  struct mgo_buf b = MGO_BUF_INIT(512);
  for (size_t i = 0; i < ndel; i++)
    assert_int_equal(mgo_buf_printf(&b, "%s%s", i > 0 ? " " : "", t->b[del[i]].name), MGO_OK);
  assert_int_equal(mgo_strlcpy(out, mgo_buf_str(&b), outsz), MGO_OK);
  mgo_buf_free(&b);
}

static void retention_table(void **state)
{
  (void) state;
  for (size_t c = 0; c < sizeof(CASES) / sizeof(CASES[0]); c++) {
    const struct tcase *t = &CASES[c];
    struct backup_item items[MAXB];
    size_t n = 0, del[MAXB], ndel = 99;
    char got[256];
    for (; n < MAXB && t->b[n].name != NULL; n++) {
      items[n] =
          (struct backup_item){t->b[n].name, (enum backup_phase) t->b[n].phase,
                               t->b[n].done_ago < 0 ? 0 : AGO(t->b[n].done_ago), AGO(t->b[n].created_ago)};
    }
    assert_int_equal(backup_retention(items, n, &t->policy, NOW, del, MAXB, &ndel), MGO_OK);
    for (size_t i = 1; i < ndel; i++)
      assert_true(del[i - 1] < del[i]);
    names_of(t, del, ndel, got, sizeof(got));
    if (strcmp(got, t->deleted) != 0)
      fail_msg("%s: deleted \"%s\", want \"%s\"", t->what, got, t->deleted);
  }
}

static void bad_arguments(void **state)
{
  (void) state;
  struct backup_policy pol = {1, 0};
  struct backup_item items[3] = {
      {"c1", BACKUP_COMPLETED, AGO(1), AGO(1)},
      {"c2", BACKUP_COMPLETED, AGO(2), AGO(2)},
      {"c3", BACKUP_COMPLETED, AGO(3), AGO(3)},
  };
  size_t del[3], ndel = 99;
  assert_int_equal(backup_retention(NULL, 0, &pol, NOW, NULL, 0, &ndel), MGO_OK);
  assert_int_equal(ndel, 0);
  assert_int_equal(backup_retention(items, 3, &pol, NOW, del, 1, &ndel), MGO_ETOOBIG);
  assert_int_equal(ndel, 1);
  assert_int_equal(del[0], 1);
  assert_int_equal(backup_retention(items, 3, &pol, NOW, NULL, 0, &ndel), MGO_ETOOBIG);
  assert_int_equal(ndel, 0);
  assert_int_equal(backup_retention(items, 3, NULL, NOW, del, 3, &ndel), MGO_EINVAL);
  assert_int_equal(backup_retention(NULL, 3, &pol, NOW, del, 3, &ndel), MGO_EINVAL);
  assert_int_equal(backup_retention(items, 3, &pol, NOW, NULL, 3, &ndel), MGO_EINVAL);
  assert_int_equal(backup_retention(items, 3, &pol, NOW, del, 3, NULL), MGO_EINVAL);
  items[2].phase = (enum backup_phase) 42;
  assert_int_equal(backup_retention(items, 3, &pol, NOW, del, 3, &ndel), MGO_EINVAL);
  assert_int_equal(ndel, 0);
  items[2].phase = BACKUP_COMPLETED;
  items[0].name = NULL; /* ordered as "" */
  items[1].completed_at = items[0].completed_at;
  assert_int_equal(backup_retention(items, 3, &pol, NOW, del, 3, &ndel), MGO_OK);
  assert_int_equal(ndel, 2);
  assert_int_equal(del[0], 0);
  assert_int_equal(del[1], 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(retention_table),
      cmocka_unit_test(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
