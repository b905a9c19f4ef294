/* Unit tests for backup object names and S3 keys (src/backup/backup_names.c). Expected hashes are FNV-1a
 * (32 bits) computed independently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backup_names.h"
#include "mgo_clock.h"
#include "mgo_err.h"

#define T INT64_C(1796180645) /* 2026-12-02T03:04:05Z */

static const struct {
  const char *cluster;
  int64_t t;
  const char *name;
} NAMES[] = {
    {"db", T, "db-20261202030405"},
    {"my.graph-1", 0, "my.graph-1-19700101000000"},
    {"db", INT64_C(253402300799), "db-99991231235959"},
    {"db", INT64_C(951782400), "db-20000229000000"},
    /* 48 characters: exactly 63 without shortening */
    {"dddddddddddddddddddddddddddddddddddddddddddddddd", T,
     "dddddddddddddddddddddddddddddddddddddddddddddddd-20261202030405"},
    /* 49: cut to 39, then the hash of the whole name */
    {"dddddddddddddddddddddddddddddddddddddddddddddddde", T,
     "ddddddddddddddddddddddddddddddddddddddd-f11d2e60-20261202030405"},
    {"my-very-long-cluster-name-for-the-production-graph-database", T,
     "my-very-long-cluster-name-for-the-produ-e6d2a08d-20261202030405"},
    /* a cut ending in ".-" loses them */
    {"ccccccccccccccccccccccccccccccccccccc.-tailtailtailtail", T,
     "ccccccccccccccccccccccccccccccccccccc-6324e98f-20261202030405"},
};

static void scheduled_names(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(NAMES) / sizeof(NAMES[0]); i++) {
    char name[BACKUP_NAME_LEN + 1], detail[200] = "x";
    assert_int_equal(
        backup_scheduled_name(NAMES[i].cluster, NAMES[i].t, name, sizeof(name), detail, sizeof(detail)),
        MGO_OK);
    assert_string_equal(name, NAMES[i].name);
    assert_string_equal(detail, "");
    assert_true(strlen(name) <= BACKUP_NAME_LEN);
  }
}

static void long_names_stay_distinct(void **state)
{
  (void) state;
  char a[BACKUP_NAME_LEN + 1], b[BACKUP_NAME_LEN + 1], cluster[BACKUP_CLUSTER_LEN + 1];
  memset(cluster, 'a', BACKUP_CLUSTER_LEN);
  cluster[BACKUP_CLUSTER_LEN] = '\0';
  assert_int_equal(backup_scheduled_name(cluster, T, a, sizeof(a), NULL, 0), MGO_OK);
  assert_int_equal(strlen(a), BACKUP_NAME_LEN);
  cluster[BACKUP_CLUSTER_LEN - 1] = 'b';
  assert_int_equal(backup_scheduled_name(cluster, T, b, sizeof(b), NULL, 0), MGO_OK);
  assert_string_not_equal(a, b);
  assert_int_equal(memcmp(a, b, 39), 0);
}

static const struct {
  const char *cluster;
  int64_t t;
  const char *detail;
} BAD_NAMES[] = {
    {"", T, "the cluster name is empty"},
    {NULL, T, "the cluster name is empty"},
    {"DB", T,
     "the cluster name \"DB\" has a character 0x44 at position 1: use lowercase letters, digits, '-' and "
     "'.'"},
    {"db_1", T,
     "the cluster name \"db_1\" has a character 0x5f at position 3: use lowercase letters, digits, '-' "
     "and '.'"},
    {"-db", T, "the cluster name \"-db\" must begin and end with a lowercase letter or a digit"},
    {"db.", T, "the cluster name \"db.\" must begin and end with a lowercase letter or a digit"},
    {"db", -1, "time -1 is outside the years 1970-9999"},
    {"db", INT64_C(253402300800), "time 253402300800 is outside the years 1970-9999"},
};

static void bad_scheduled_names(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(BAD_NAMES) / sizeof(BAD_NAMES[0]); i++) {
    char name[BACKUP_NAME_LEN + 1] = "x", detail[200];
    assert_int_equal(backup_scheduled_name(BAD_NAMES[i].cluster, BAD_NAMES[i].t, name, sizeof(name), detail,
                                           sizeof(detail)),
                     MGO_EINVAL);
    assert_string_equal(detail, BAD_NAMES[i].detail);
    assert_string_equal(name, "");
  }
  char long_name[BACKUP_CLUSTER_LEN + 2], name[16], detail[200];
  memset(long_name, 'a', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  assert_int_equal(backup_scheduled_name(long_name, T, name, sizeof(name), detail, sizeof(detail)),
                   MGO_EINVAL);
  assert_string_equal(detail, "the cluster name is longer than 253 characters");
  assert_int_equal(backup_scheduled_name("db", T, name, sizeof(name), detail, sizeof(detail)), MGO_ETOOBIG);
  assert_string_equal(name, "");
  assert_string_equal(detail, "the name does not fit in 16 bytes");
}

static const struct {
  const char *prefix, *ns, *cluster, *backup, *file, *key; /* key NULL: error, then detail */
  const char *detail;
} KEYS[] = {
    {"backups", "prod", "db", "db-20261202030405", "snapshot.bin",
     "backups/prod/db/db-20261202030405/snapshot.bin", NULL},
    {"", "prod", "db", "b", "f", "prod/db/b/f", NULL},
    {NULL, "prod", "db", "b", "f", "prod/db/b/f", NULL},
    {"team/graph/backups", "prod", "db", "b", "f", "team/graph/backups/prod/db/b/f", NULL},
    {"backups/", "prod", "db", "b", "f", "backups/prod/db/b/f", NULL},
    {"a.b/..c/x..", "ns", "db", "b", "f.", "a.b/..c/x../ns/db/b/f.", NULL},
    {"/backups", "prod", "db", "b", "f", NULL, "the prefix must not begin with '/'"},
    {"/", "prod", "db", "b", "f", NULL, "the prefix must not begin with '/'"},
    {"a//b", "prod", "db", "b", "f", NULL, "the prefix must not contain \"//\""},
    {"backups//", "prod", "db", "b", "f", NULL, "the prefix must not contain \"//\""},
    {"a/../b", "prod", "db", "b", "f", NULL, "the prefix must not contain a \".\" or \"..\" segment"},
    {"./b", "prod", "db", "b", "f", NULL, "the prefix must not contain a \".\" or \"..\" segment"},
    {"a b", "prod", "db", "b", "f", NULL,
     "the prefix has a character 0x20 at position 2: only printable ASCII without spaces is allowed"},
    {"p", "", "db", "b", "f", NULL, "the namespace is empty"},
    {"p", NULL, "db", "b", "f", NULL, "the namespace is empty"},
    {"p", "a/b", "db", "b", "f", NULL, "the namespace \"a/b\" must not contain '/'"},
    {"p", "ns", "..", "b", "f", NULL, "the cluster must not be \".\" or \"..\""},
    {"p", "ns", "", "b", "f", NULL, "the cluster is empty"},
    {"p", "ns", "db", ".", "f", NULL, "the backup name must not be \".\" or \"..\""},
    {"p", "ns", "db", "b/c", "f", NULL, "the backup name \"b/c\" must not contain '/'"},
    {"p", "ns", "db", "b", "", NULL, "the snapshot file is empty"},
    {"p", "ns", "db", "b", "dir/f", NULL, "the snapshot file \"dir/f\" must not contain '/'"},
    {"p", "ns", "db", "b", "f\x7f", NULL,
     "the snapshot file has a character 0x7f at position 2: only printable ASCII without spaces is allowed"},
    {"p", "ns", "db", "b", "\xc3\xa9", NULL,
     "the snapshot file has a character 0xc3 at position 1: only printable ASCII without spaces is allowed"},
};

static void s3_keys(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
    char key[BACKUP_KEY_LEN + 1] = "x", detail[200] = "x";
    int rc = backup_s3_key(KEYS[i].prefix, KEYS[i].ns, KEYS[i].cluster, KEYS[i].backup, KEYS[i].file, key,
                           sizeof(key), detail, sizeof(detail));
    if (KEYS[i].key != NULL) {
      if (rc != MGO_OK)
        fail_msg("case %zu: %s", i, detail);
      assert_string_equal(key, KEYS[i].key);
      assert_string_equal(detail, "");
      assert_true(backup_key_under_cluster(KEYS[i].prefix, KEYS[i].ns, KEYS[i].cluster, key));
    } else {
      assert_int_equal(rc, MGO_EINVAL);
      assert_string_equal(key, "");
      if (strcmp(detail, KEYS[i].detail) != 0)
        fail_msg("case %zu: detail \"%s\", want \"%s\"", i, detail, KEYS[i].detail);
    }
  }
}

static void cluster_prefixes_and_sizes(void **state)
{
  (void) state;
  char dst[BACKUP_KEY_LEN + 1], small[10], detail[200], file[BACKUP_KEY_LEN];
  assert_int_equal(backup_cluster_prefix("backups", "prod", "db", dst, sizeof(dst), detail, sizeof(detail)),
                   MGO_OK);
  assert_string_equal(dst, "backups/prod/db/");
  assert_int_equal(backup_cluster_prefix("", "prod", "db", dst, sizeof(dst), NULL, 0), MGO_OK);
  assert_string_equal(dst, "prod/db/");
  assert_int_equal(
      backup_cluster_prefix("backups", "prod", "db", small, sizeof(small), detail, sizeof(detail)),
      MGO_ETOOBIG);
  assert_string_equal(small, "");
  assert_string_equal(detail, "the key would be longer than 9 bytes");
  assert_int_equal(backup_cluster_prefix("backups", "prod", "db", NULL, 0, detail, sizeof(detail)),
                   MGO_EINVAL);
  assert_string_equal(detail, "no buffer for the key");
  /* S3's limit: 1024 bytes */
  memset(file, 'f', sizeof(file) - 1);
  file[sizeof(file) - 1] = '\0';
  assert_int_equal(backup_s3_key("p", "ns", "db", "b", file, dst, sizeof(dst), detail, sizeof(detail)),
                   MGO_ETOOBIG);
  assert_string_equal(detail, "the key would be longer than 1024 bytes");
  file[1024 - strlen("p/ns/db/b/")] = '\0';
  assert_int_equal(backup_s3_key("p", "ns", "db", "b", file, dst, sizeof(dst), detail, sizeof(detail)),
                   MGO_OK);
  assert_int_equal(strlen(dst), 1024);
}

static const struct {
  const char *prefix, *key;
  bool under;
} UNDER[] = {
    {"backups", "backups/prod/db/db-1/snap", true},
    {"backups", "backups/prod/db/x", true},
    {"backups", "backups/prod/db/db-1/", false}, /* a "directory" marker, not a snapshot */
    {"backups", "backups/prod/db/", false},      /* the prefix itself */
    {"backups", "backups/prod/db", false},
    {"backups", "backups/prod/db-2/db-1/snap", false}, /* a neighbour whose name begins the same */
    {"backups", "backups/prod/dbx/snap", false},
    {"backups", "backups/other/db/snap", false},
    {"backups", "other/prod/db/snap", false},
    {"backups", "prod/db/snap", false},
    {"backups", "backups/prod/db/../other/snap", false},
    {"backups", "backups/prod/db/./snap", false},
    {"backups", "backups/prod/db//snap", false},
    {"backups", "backups/prod/db/a b", false},
    {"", "prod/db/db-1/snap", true},
    {"", "x/prod/db/db-1/snap", false},
    {"backups/", "backups/prod/db/db-1/snap", true},
    {"/backups", "/backups/prod/db/db-1/snap", false}, /* an invalid prefix matches nothing */
    {"backups", NULL, false},
    {"backups", "", false},
};

static void keys_under_the_cluster(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(UNDER) / sizeof(UNDER[0]); i++) {
    if (backup_key_under_cluster(UNDER[i].prefix, "prod", "db", UNDER[i].key) != UNDER[i].under)
      fail_msg("\"%s\" under \"%s\"/prod/db: want %d", UNDER[i].key ? UNDER[i].key : "(null)",
               UNDER[i].prefix, UNDER[i].under);
  }
  assert_false(backup_key_under_cluster("backups", "prod", "", "backups/prod//x"));
  assert_false(backup_key_under_cluster("backups", "prod", "..", "backups/prod/../x"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(scheduled_names),
      cmocka_unit_test(long_names_stay_distinct),
      cmocka_unit_test(bad_scheduled_names),
      cmocka_unit_test(s3_keys),
      cmocka_unit_test(cluster_prefixes_and_sizes),
      cmocka_unit_test(keys_under_the_cluster),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
