/* The restore instructions (agent_parse_instructions with restore.* keys) and the restore step
 * (src/agent/agent_restore.h) with a fake downloader on real temporary directories: marker present → skip,
 * durability files present → refuse, mismatch or failure → no file left and an error, success → file and
 * marker. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_fs.h"
#include "agent_restore.h"
#include "agent_snap.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#define CONTENT "memgraph snapshot bytes\n"

/* ---- the fake downloader ----------------------------------------------------------------------------------
 */

static struct {
  int calls;
  int rc;              /* what it returns */
  const char *content; /* what it writes to path (NULL: nothing) */
  bool leave_part;     /* also leaves path.part behind */
  char key[256], path[PATH_MAX], access_key[64];
  uint64_t expect_size;
} fake;

static int fake_get(const struct s3_config *cfg, const char *key, const char *path, uint64_t expect_size,
                    const char *expect_sha256, struct s3_put_result *res, struct s3_error *err)
{
  (void) expect_sha256;
  fake.calls++;
  (void) mgo_strlcpy(fake.key, key, sizeof(fake.key));
  (void) mgo_strlcpy(fake.path, path, sizeof(fake.path));
  (void) mgo_strlcpy(fake.access_key, cfg->access_key, sizeof(fake.access_key));
  fake.expect_size = expect_size;
  if (fake.leave_part) {
    char part[PATH_MAX];
    (void) mgo_snprintf(part, sizeof(part), "%s.part", path);
    int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
  }
  if (fake.content != NULL) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, fake.content, strlen(fake.content)), (ssize_t) strlen(fake.content));
    close(fd);
  }
  memset(res, 0, sizeof(*res));
  if (fake.rc != MGO_OK) {
    err->http_status = 403;
    (void) mgo_strlcpy(err->code, "AccessDenied", sizeof(err->code));
    (void) mgo_strlcpy(err->message, "Access Denied", sizeof(err->message));
  }
  return fake.rc;
}

static const struct agent_s3_ops fake_ops = {NULL, fake_get};
static const struct agent_restore_creds creds = {"AKIDEXAMPLE", "SECRETEXAMPLE", NULL};

/* ---- fixture ----------------------------------------------------------------------------------------------
 */

struct tmp {
  char root[PATH_MAX], data[PATH_MAX], marker[PATH_MAX];
  struct agent_restore_spec rs;
};

static void path(char *dst, const char *a, const char *b)
{
  assert_int_equal(mgo_snprintf(dst, PATH_MAX, "%s/%s", a, b), MGO_OK);
}

static bool exists(const char *p)
{
  struct stat st;
  return lstat(p, &st) == 0;
}

static void write_text(const char *p, const char *text)
{
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
  assert_int_equal(close(fd), 0);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) ftw;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
  struct tmp *t = calloc(1, sizeof(*t));
  char p[PATH_MAX];
  uint64_t size = 0;
  int fd;
  assert_non_null(t);
  assert_int_equal(mgo_strlcpy(t->root, "/tmp/mgo-restore-test.XXXXXX", sizeof(t->root)), MGO_OK);
  assert_non_null(mkdtemp(t->root));
  path(t->data, t->root, "mg_data");
  path(t->marker, t->root, "operator");
  path(p, t->root, "expected");
  write_text(p, CONTENT);
  fd = open(p, O_RDONLY | O_CLOEXEC);
  assert_int_equal(agent_sha256_fd(fd, t->rs.sha256, &size), MGO_OK);
  close(fd);
  t->rs.size = size;
  (void) mgo_strlcpy(t->rs.token, "restore-1", sizeof(t->rs.token));
  (void) mgo_strlcpy(t->rs.endpoint, "http://127.0.0.1:9000", sizeof(t->rs.endpoint));
  (void) mgo_strlcpy(t->rs.region, "us-east-1", sizeof(t->rs.region));
  (void) mgo_strlcpy(t->rs.bucket, "backups", sizeof(t->rs.bucket));
  (void) mgo_strlcpy(t->rs.key, "demo/snap_1", sizeof(t->rs.key));
  (void) mgo_strlcpy(t->rs.file, "snap_1", sizeof(t->rs.file));
  memset(&fake, 0, sizeof(fake));
  fake.content = CONTENT;
  *state = t;
  return 0;
}

static int teardown(void **state)
{
  struct tmp *t = *state;
  (void) nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(t);
  return 0;
}

static int run(struct tmp *t, struct agent_restore_result *res, char *detail, size_t detailsz)
{
  return agent_restore(t->data, t->marker, &t->rs, &creds, &fake_ops, res, detail, detailsz);
}

static void snapshot_path(const struct tmp *t, const char *name, char *out)
{
  char dir[PATH_MAX];
  path(dir, t->data, AGENT_SNAPSHOTS_DIR);
  path(out, dir, name);
}

/* ---- instructions -----------------------------------------------------------------------------------------
 */

#define SHA "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"
#define RESTORE_TEXT                                                                                         \
  "restore=tok-7\nrestore.endpoint=https://s3.eu-west-1.amazonaws.com\nrestore.region=eu-west-1\n"           \
  "restore.bucket=backups\nrestore.key=ns/demo/20240101_snap\nrestore.file=20240101_snap\n"                  \
  "restore.size=12345\nrestore.sha256=" SHA "\n"

static int parse(const char *text, struct agent_instructions *in, char *detail, size_t detailsz)
{
  return agent_parse_instructions(text, strlen(text), in, detail, detailsz);
}

static void test_parse_restore(void **state)
{
  struct agent_instructions in;
  char detail[256] = "";
  (void) state;
  assert_int_equal(parse(RESTORE_TEXT "restore.forcePathStyle=true\n", &in, detail, sizeof(detail)), MGO_OK);
  assert_true(in.restore);
  assert_false(in.reseed);
  assert_string_equal(in.rs.token, "tok-7");
  assert_string_equal(in.rs.endpoint, "https://s3.eu-west-1.amazonaws.com");
  assert_string_equal(in.rs.region, "eu-west-1");
  assert_string_equal(in.rs.bucket, "backups");
  assert_string_equal(in.rs.key, "ns/demo/20240101_snap");
  assert_string_equal(in.rs.file, "20240101_snap");
  assert_true(in.rs.size == 12345);
  assert_string_equal(in.rs.sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  assert_true(in.rs.force_path_style);
  assert_int_equal(parse(RESTORE_TEXT, &in, detail, sizeof(detail)), MGO_OK);
  assert_false(in.rs.force_path_style);
}

static void test_parse_restore_refused(void **state)
{
  static const struct {
    const char *text, *detail;
  } cases[] = {
      {"restore=tok-7\n", "without restore.endpoint"},
      {"restore.endpoint=http://x\n", "without restore\n"},
      {RESTORE_TEXT "reseed=uid-1\n", "both"},
      {"reseed=uid-1\n" RESTORE_TEXT, "both"},
      {RESTORE_TEXT "restore.size=1\n", "twice"},
      {RESTORE_TEXT "restore=tok-8\n", "twice"},
      {"restore.size=-1\n" RESTORE_TEXT, "decimal"},
      {"restore.size=12a\n" RESTORE_TEXT, "decimal"},
      {"restore.size=\n" RESTORE_TEXT, "decimal"},
      {"restore.size=99999999999999999999999\n" RESTORE_TEXT, "decimal"},
      {"restore.sha256=abc\n" RESTORE_TEXT, "64 hex"},
      {"restore.sha256=" SHA "0\n" RESTORE_TEXT, "64 hex"},
      {"restore.sha256=g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n" RESTORE_TEXT,
       "64 hex"},
      {"restore.file=../x\n" RESTORE_TEXT, "plain file name"},
      {"restore.file=a/b\n" RESTORE_TEXT, "plain file name"},
      {"restore.file=..\n" RESTORE_TEXT, "plain file name"},
      {"restore=a b\n", "token"},
      {"restore.forcePathStyle=yes\n" RESTORE_TEXT, "true or false"},
      {"restore.key=a\tb\n" RESTORE_TEXT, "control"},
  };
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct agent_instructions in;
    char detail[256] = "", want[64];
    int rc = parse(cases[i].text, &in, detail, sizeof(detail));
    (void) mgo_strlcpy(want, cases[i].detail, sizeof(want));
    if (want[strlen(want) - 1] == '\n') /* "without restore" exactly: the key itself is missing */
      want[strlen(want) - 1] = '\0';
    if (rc != MGO_EINVAL || strstr(detail, want) == NULL)
      fail_msg("case %zu: rc %s detail \"%s\", want EINVAL and \"%s\"", i, mgo_errname(rc), detail, want);
    assert_false(in.restore);
    assert_false(in.reseed);
  }
}

/* A 300-character restore.file and an unknown restore.* key (ignored, like every unknown key). */
static void test_parse_restore_edges(void **state)
{
  struct agent_instructions in;
  char text[2048], detail[256] = "";
  (void) state;
  (void) mgo_snprintf(text, sizeof(text), "restore.file=%0300d\n" RESTORE_TEXT, 0);
  assert_int_equal(parse(text, &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(parse(RESTORE_TEXT "restore.future=1\n", &in, detail, sizeof(detail)), MGO_OK);
  assert_true(in.restore);
  assert_int_equal(in.unknown, 1);
  assert_string_equal(in.unknown_keys, "restore.future");
}

/* ---- restore ----------------------------------------------------------------------------------------------
 */

static void test_restore_success_then_skip(void **state)
{
  struct tmp *t = *state;
  struct agent_restore_result res;
  char detail[512] = "", p[PATH_MAX];
  bool done = false;

  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(res.outcome, AGENT_RESTORE_RESTORED);
  assert_int_equal(fake.calls, 1);
  assert_string_equal(fake.key, "demo/snap_1");
  assert_string_equal(fake.access_key, "AKIDEXAMPLE");
  assert_true(fake.expect_size == t->rs.size);
  snapshot_path(t, "snap_1", p);
  assert_string_equal(fake.path, p);
  assert_true(exists(p));
  assert_true(res.size == strlen(CONTENT));
  assert_string_equal(res.sha256, t->rs.sha256);
  assert_int_equal(agent_marker_holds_named(t->marker, AGENT_RESTORE_MARKER_FILE, "restore-1", &done, detail,
                                            sizeof(detail)),
                   MGO_OK);
  assert_true(done);
  assert_null(strstr(detail, "SECRETEXAMPLE"));

  /* a restarted container: the marker holds the token, nothing is downloaded again (the file now exists) */
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(res.outcome, AGENT_RESTORE_ALREADY_DONE);
  assert_int_equal(fake.calls, 1);
}

static void test_restore_marker_present_skips(void **state)
{
  struct tmp *t = *state;
  struct agent_restore_result res;
  char detail[512] = "";
  assert_int_equal(
      agent_marker_write_named(t->marker, AGENT_RESTORE_MARKER_FILE, "restore-1", detail, sizeof(detail)),
      MGO_OK);
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(res.outcome, AGENT_RESTORE_ALREADY_DONE);
  assert_int_equal(fake.calls, 0);
  assert_false(exists(t->data));
}

static void test_restore_refuses_durability_files(void **state)
{
  struct tmp *t = *state;
  struct agent_restore_result res;
  char detail[512] = "", p[PATH_MAX], q[PATH_MAX];

  assert_int_equal(mkdir(t->data, 0755), 0);
  path(p, t->data, AGENT_WAL_DIR);
  assert_int_equal(mkdir(p, 0755), 0);
  path(q, p, "wal_0001");
  write_text(q, "wal");
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_EEXIST);
  assert_non_null(strstr(detail, "wal/wal_0001"));
  assert_int_equal(fake.calls, 0);
  assert_true(exists(q));
  path(p, t->data, AGENT_SNAPSHOTS_DIR);
  assert_false(exists(p));

  /* wal/ empty, but a snapshot of its own */
  assert_int_equal(unlink(q), 0);
  assert_int_equal(mkdir(p, 0755), 0);
  snapshot_path(t, "older_snapshot", q);
  write_text(q, "old");
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_EEXIST);
  assert_int_equal(fake.calls, 0);
  assert_true(exists(q));

  /* snapshots is a file, not a directory */
  assert_int_equal(unlink(q), 0);
  assert_int_equal(rmdir(p), 0);
  write_text(p, "x");
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_EEXIST);
  assert_int_equal(fake.calls, 0);
}

/* Only our own leftover <file>.part is removed; empty snapshots/ and wal/ and other entries are fine. */
static void test_restore_over_leftover_part(void **state)
{
  struct tmp *t = *state;
  struct agent_restore_result res;
  char detail[512] = "", p[PATH_MAX];

  assert_int_equal(mkdir(t->data, 0755), 0);
  path(p, t->data, AGENT_WAL_DIR);
  assert_int_equal(mkdir(p, 0755), 0);
  path(p, t->data, AGENT_SNAPSHOTS_DIR);
  assert_int_equal(mkdir(p, 0755), 0);
  snapshot_path(t, "snap_1.part", p);
  write_text(p, "half");
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_OK);
  assert_false(exists(p));
  assert_int_equal(fake.calls, 1);
}

static void test_restore_mismatch_leaves_nothing(void **state)
{
  struct tmp *t = *state;
  struct agent_restore_result res;
  char detail[512] = "", p[PATH_MAX];
  bool done = true;

  fake.content = "not the snapshot\n"; /* a downloader that claims success */
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_ECONFLICT);
  assert_non_null(strstr(detail, "does not match"));
  snapshot_path(t, "snap_1", p);
  assert_false(exists(p));
  assert_int_equal(agent_marker_holds_named(t->marker, AGENT_RESTORE_MARKER_FILE, "restore-1", &done, detail,
                                            sizeof(detail)),
                   MGO_OK);
  assert_false(done);

  /* same size, other bytes */
  fake.content = "memgraph snapshot bytes!";
  assert_int_equal(strlen(fake.content), strlen(CONTENT));
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_ECONFLICT);
  assert_false(exists(p));
}

static void test_restore_download_failure_leaves_nothing(void **state)
{
  struct tmp *t = *state;
  struct agent_restore_result res;
  char detail[512] = "", p[PATH_MAX];

  fake.rc = MGO_EAUTH;
  fake.leave_part = true;
  fake.content = "partial";
  assert_int_equal(run(t, &res, detail, sizeof(detail)), MGO_EAUTH);
  assert_int_equal(res.err.http_status, 403);
  assert_string_equal(res.err.code, "AccessDenied");
  assert_non_null(strstr(detail, "AccessDenied"));
  assert_null(strstr(detail, "SECRETEXAMPLE"));
  assert_null(strstr(detail, "AKIDEXAMPLE"));
  snapshot_path(t, "snap_1", p);
  assert_false(exists(p));
  snapshot_path(t, "snap_1.part", p);
  assert_false(exists(p));
  path(p, t->marker, AGENT_RESTORE_MARKER_FILE);
  assert_false(exists(p));
}

static void test_restore_needs_credentials(void **state)
{
  struct tmp *t = *state;
  struct agent_restore_result res;
  struct agent_restore_creds none = {"AK", "", NULL};
  char detail[512] = "";
  assert_int_equal(agent_restore(t->data, t->marker, &t->rs, &none, &fake_ops, &res, detail, sizeof(detail)),
                   MGO_EINVAL);
  assert_non_null(strstr(detail, "MGO_RESTORE_SECRET_ACCESS_KEY"));
  assert_int_equal(fake.calls, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_restore),
      cmocka_unit_test(test_parse_restore_refused),
      cmocka_unit_test(test_parse_restore_edges),
      cmocka_unit_test_setup_teardown(test_restore_success_then_skip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore_marker_present_skips, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore_refuses_durability_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore_over_leftover_part, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore_mismatch_leaves_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore_download_failure_leaves_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore_needs_credentials, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
