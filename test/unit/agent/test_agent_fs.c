/* The agent's instructions and re-seed (src/agent/agent_fs.h) on real temporary directories: parsing, the
 * wipe (nested directories, symbolic links pointing outside, a symlinked data directory), idempotency per
 * token, refusal of bad tokens and pod names, and the atomic marker. */
#include <dirent.h>
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
#include "cluster.h"
#include "mgo_buf.h"
#include "mgo_err.h"

struct tmp {
  char root[PATH_MAX];
  char data[PATH_MAX];
  char marker[PATH_MAX];
  char instr[PATH_MAX];
  char outside[PATH_MAX];
};

static void path(char *dst, const char *a, const char *b)
{
  assert_int_equal(mgo_snprintf(dst, PATH_MAX, "%s/%s", a, b), MGO_OK);
}

static void mkdir_ok(const char *p)
{
  assert_int_equal(mkdir(p, 0755), 0);
}

static void write_text(const char *p, const char *text)
{
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
  assert_int_equal(close(fd), 0);
}

static void read_text(const char *p, char *buf, size_t bufsz)
{
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  assert_true(fd >= 0);
  n = read(fd, buf, bufsz - 1);
  assert_true(n >= 0);
  buf[n] = '\0';
  close(fd);
}

static bool exists(const char *p)
{
  struct stat st;
  return lstat(p, &st) == 0;
}

static size_t count_entries(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  size_t n = 0;
  DIR *d;
  struct dirent *e;
  assert_true(fd >= 0);
  d = fdopendir(fd);
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
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
  assert_non_null(t);
  assert_int_equal(mgo_strlcpy(t->root, "/tmp/mgo-agent-test.XXXXXX", sizeof(t->root)), MGO_OK);
  assert_non_null(mkdtemp(t->root));
  path(t->data, t->root, "mg_data");
  path(t->marker, t->root, "operator");
  path(t->instr, t->root, "instructions");
  path(t->outside, t->root, "outside");
  mkdir_ok(t->data);
  mkdir_ok(t->instr);
  mkdir_ok(t->outside);
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

/* A Memgraph-like data directory (memgraph.md §8.3) plus links: 11 entries at every depth. */
static size_t populate(const struct tmp *t)
{
  char p[PATH_MAX], q[PATH_MAX];
  path(p, t->data, "snapshots");
  mkdir_ok(p);
  path(q, p, "20250101000000000000_timestamp_12");
  write_text(q, "snap");
  path(p, t->data, "wal");
  mkdir_ok(p);
  path(q, p, "20250101000000000000_current");
  write_text(q, "wal");
  path(p, t->data, "replication");
  mkdir_ok(p);
  path(q, p, "state.json");
  write_text(q, "{\"role\":\"replica\"}");
  path(p, t->data, "databases");
  mkdir_ok(p);
  path(p, t->data, "databases/x");
  mkdir_ok(p);
  path(p, t->data, "databases/x/y");
  mkdir_ok(p);
  path(p, t->data, ".old");
  mkdir_ok(p);
  /* links pointing outside: the links go, their targets stay */
  path(p, t->outside, "keep");
  write_text(p, "precious");
  path(p, t->data, "link-to-outside-dir");
  assert_int_equal(symlink(t->outside, p), 0);
  path(q, t->outside, "keep");
  path(p, t->data, "link-to-outside-file");
  assert_int_equal(symlink(q, p), 0);
  /* snapshots + 1 file, wal + 1 file, replication + state.json, databases/x/y, .old, 2 links */
  return 12;
}

static void test_token_validity(void **state)
{
  char long_ok[AGENT_TOKEN_MAX + 1], too_long[AGENT_TOKEN_MAX + 2];
  (void) state;
  memset(long_ok, 'a', AGENT_TOKEN_MAX);
  long_ok[AGENT_TOKEN_MAX] = '\0';
  memset(too_long, 'a', AGENT_TOKEN_MAX + 1);
  too_long[AGENT_TOKEN_MAX + 1] = '\0';
  assert_true(agent_token_valid("0b1c6f9e-2d4a-4c1e-9a55-6f1d2e3c4b5a"));
  assert_true(agent_token_valid("x"));
  assert_true(agent_token_valid(long_ok));
  assert_false(agent_token_valid(too_long));
  assert_false(agent_token_valid(""));
  assert_false(agent_token_valid(NULL));
  assert_false(agent_token_valid("a b"));
  assert_false(agent_token_valid("a_b"));
  assert_false(agent_token_valid("../x"));
  assert_false(agent_token_valid("a\n"));
}

static void test_parse(void **state)
{
  struct agent_instructions in;
  char detail[256] = "";
  static const char ok[] = "\nfence=yes\r\nreseed=abc-123\r\n\nfuture=1";
  (void) state;
  assert_int_equal(agent_parse_instructions(ok, strlen(ok), &in, detail, sizeof(detail)), MGO_OK);
  assert_true(in.found && in.reseed);
  assert_string_equal(in.token, "abc-123");
  assert_int_equal(in.unknown, 2);
  assert_string_equal(in.unknown_keys, "fence,future");

  assert_int_equal(agent_parse_instructions("", 0, &in, detail, sizeof(detail)), MGO_OK);
  assert_true(in.found);
  assert_false(in.reseed);

  assert_int_equal(agent_parse_instructions("reseed", 6, &in, detail, sizeof(detail)), MGO_EPARSE);
  assert_non_null(strstr(detail, "line 1"));
  assert_int_equal(agent_parse_instructions("a=1\n=x", 6, &in, detail, sizeof(detail)), MGO_EPARSE);
  assert_non_null(strstr(detail, "line 2"));
  assert_int_equal(agent_parse_instructions("reseed=", 7, &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_parse_instructions("reseed=a b", 10, &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_parse_instructions("reseed=a/../b", 13, &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_parse_instructions("reseed=a\0b", 10, &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_parse_instructions("reseed=a\nreseed=a", 17, &in, detail, sizeof(detail)),
                   MGO_EINVAL);
  assert_non_null(strstr(detail, "twice"));
  {
    char text[128];
    assert_int_equal(mgo_strlcpy(text, "reseed=", sizeof(text)), MGO_OK);
    memset(text + 7, 'a', sizeof(text) - 8);
    text[sizeof(text) - 1] = '\0';
    assert_int_equal(agent_parse_instructions(text, 7 + AGENT_TOKEN_MAX + 1, &in, detail, sizeof(detail)),
                     MGO_EINVAL);
    assert_int_equal(agent_parse_instructions(text, 7 + AGENT_TOKEN_MAX, &in, detail, sizeof(detail)),
                     MGO_OK);
    assert_int_equal(strlen(in.token), AGENT_TOKEN_MAX);
  }
}

static void test_unknown_keys_truncated(void **state)
{
  struct agent_instructions in;
  char text[4096] = "", detail[128];
  size_t n = 0;
  (void) state;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(mgo_snprintf(text + n, sizeof(text) - n, "key%03d=v\n", i), MGO_OK);
    n += strlen(text + n);
  }
  assert_int_equal(agent_parse_instructions(text, n, &in, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(in.unknown, 100);
  assert_true(strlen(in.unknown_keys) < sizeof(in.unknown_keys));
  assert_non_null(strstr(in.unknown_keys, "key000,key001"));
  assert_string_equal(in.unknown_keys + strlen(in.unknown_keys) - 3, "...");
}

static void test_read_instructions(void **state)
{
  struct tmp *t = *state;
  struct agent_instructions in;
  char detail[256], p[PATH_MAX], q[PATH_MAX], big[AGENT_INSTRUCTIONS_MAX + 10];

  /* missing directory, missing file: nothing to do */
  path(p, t->root, "no-such-dir");
  assert_int_equal(agent_read_instructions(p, "mg-1", &in, detail, sizeof(detail)), MGO_OK);
  assert_false(in.found);
  /* (a pod template without the volume has no POD_NAME either) */
  assert_int_equal(agent_read_instructions(p, "", &in, detail, sizeof(detail)), MGO_OK);
  assert_false(in.found);
  assert_int_equal(agent_read_instructions(t->instr, "mg-1", &in, detail, sizeof(detail)), MGO_OK);
  assert_false(in.found);

  /* laid out like a ConfigMap volume: <key> -> ..data/<key> */
  path(p, t->instr, "..data");
  mkdir_ok(p);
  path(q, p, "mg-1");
  write_text(q, "reseed=uid-1\n");
  path(p, t->instr, "mg-1");
  assert_int_equal(symlink("..data/mg-1", p), 0);
  assert_int_equal(agent_read_instructions(t->instr, "mg-1", &in, detail, sizeof(detail)), MGO_OK);
  assert_true(in.found && in.reseed);
  assert_string_equal(in.token, "uid-1");
  /* another pod's key is not ours */
  assert_int_equal(agent_read_instructions(t->instr, "mg-2", &in, detail, sizeof(detail)), MGO_OK);
  assert_false(in.found);

  /* pod names that are not plain names never reach the file system */
  assert_int_equal(agent_read_instructions(t->instr, "", &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_read_instructions(t->instr, NULL, &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_read_instructions(t->instr, "..", &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_read_instructions(t->instr, "../mg-1", &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_read_instructions(t->instr, "$(POD_NAME)", &in, detail, sizeof(detail)), MGO_EINVAL);

  /* too large, and invalid content */
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  path(p, t->instr, "mg-3");
  write_text(p, big);
  assert_int_equal(agent_read_instructions(t->instr, "mg-3", &in, detail, sizeof(detail)), MGO_ETOOBIG);
  path(p, t->instr, "mg-4");
  write_text(p, "reseed=$(rm -rf /)\n");
  assert_int_equal(agent_read_instructions(t->instr, "mg-4", &in, detail, sizeof(detail)), MGO_EINVAL);
  assert_false(in.reseed);
  /* a directory where the file should be is an error, not "nothing to do" */
  path(p, t->instr, "mg-5");
  mkdir_ok(p);
  assert_int_equal(agent_read_instructions(t->instr, "mg-5", &in, detail, sizeof(detail)), MGO_ESYS);
}

static void test_wipe_nested_keeps_link_targets(void **state)
{
  struct tmp *t = *state;
  char detail[256] = "", p[PATH_MAX], text[64];
  size_t removed = 0, want = populate(t);

  assert_int_equal(agent_wipe_dir(t->data, &removed, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(removed, want);
  assert_true(exists(t->data));
  assert_int_equal(count_entries(t->data), 0);
  path(p, t->outside, "keep");
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "precious");
  assert_int_equal(count_entries(t->outside), 1);
  /* wiping an empty directory removes nothing */
  assert_int_equal(agent_wipe_dir(t->data, &removed, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(removed, 0);
}

static void test_wipe_missing_and_symlinked_data_dir(void **state)
{
  struct tmp *t = *state;
  char detail[256] = "", p[PATH_MAX], q[PATH_MAX];
  size_t removed = 99;

  path(p, t->root, "absent");
  assert_int_equal(agent_wipe_dir(p, &removed, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(removed, 0);
  /* data_dir itself a symbolic link: refused, the target keeps its content */
  path(q, t->outside, "keep");
  write_text(q, "precious");
  path(p, t->root, "data-link");
  assert_int_equal(symlink(t->outside, p), 0);
  assert_int_equal(agent_wipe_dir(p, &removed, detail, sizeof(detail)), MGO_ESYS);
  assert_non_null(strstr(detail, p));
  assert_true(exists(q));
  /* a regular file is not a data directory */
  assert_int_equal(agent_wipe_dir(q, &removed, detail, sizeof(detail)), MGO_ESYS);
  assert_true(exists(q));
}

static void test_wipe_depth_limit(void **state)
{
  struct tmp *t = *state;
  char detail[512] = "", p[PATH_MAX];
  size_t removed = 0;

  assert_int_equal(mgo_strlcpy(p, t->data, sizeof(p)), MGO_OK);
  for (int i = 0; i < AGENT_WIPE_MAX_DEPTH + 2; i++) {
    assert_int_equal(mgo_strlcpy(p + strlen(p), "/d", sizeof(p) - strlen(p)), MGO_OK);
    mkdir_ok(p);
  }
  assert_int_equal(agent_wipe_dir(t->data, &removed, detail, sizeof(detail)), MGO_ETOOBIG);
  assert_non_null(strstr(detail, "nested too deep"));
}

static void test_reseed_once_per_token(void **state)
{
  struct tmp *t = *state;
  struct agent_reseed_result res;
  char detail[256] = "", p[PATH_MAX], text[128];
  size_t want = populate(t);

  assert_int_equal(agent_reseed(t->data, t->marker, "uid-1", &res, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(res.outcome, AGENT_RESEED_WIPED);
  assert_int_equal(res.removed, want);
  assert_int_equal(count_entries(t->data), 0);
  path(p, t->marker, AGENT_MARKER_FILE);
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "uid-1\n");

  /* Memgraph writes again; the container restarts with the same instructions: nothing is wiped */
  path(p, t->data, "wal");
  mkdir_ok(p);
  assert_int_equal(agent_reseed(t->data, t->marker, "uid-1", &res, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(res.outcome, AGENT_RESEED_ALREADY_DONE);
  assert_int_equal(res.removed, 0);
  assert_true(exists(p));

  /* a new request (the next pod incarnation's UID) wipes again */
  assert_int_equal(agent_reseed(t->data, t->marker, "uid-2", &res, detail, sizeof(detail)), MGO_OK);
  assert_int_equal(res.outcome, AGENT_RESEED_WIPED);
  assert_int_equal(res.removed, 1);
  assert_false(exists(p));
  path(p, t->marker, AGENT_MARKER_FILE);
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "uid-2\n");
}

static void test_reseed_bad_token_touches_nothing(void **state)
{
  struct tmp *t = *state;
  struct agent_reseed_result res;
  char detail[256] = "";
  (void) populate(t);
  assert_int_equal(agent_reseed(t->data, t->marker, "../../etc", &res, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_reseed(t->data, t->marker, "", &res, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(count_entries(t->data), 7); /* top level: 5 directories + 2 links, as populated */
  assert_false(exists(t->marker));
}

static void test_marker_prefix_or_longer_is_not_done(void **state)
{
  struct tmp *t = *state;
  char detail[256], p[PATH_MAX];
  bool done = true;

  mkdir_ok(t->marker);
  path(p, t->marker, AGENT_MARKER_FILE);
  assert_int_equal(agent_marker_holds(t->marker, "uid-1", &done, detail, sizeof(detail)), MGO_OK);
  assert_false(done);
  write_text(p, "uid-10\n");
  assert_int_equal(agent_marker_holds(t->marker, "uid-1", &done, detail, sizeof(detail)), MGO_OK);
  assert_false(done);
  write_text(p, "uid");
  assert_int_equal(agent_marker_holds(t->marker, "uid-1", &done, detail, sizeof(detail)), MGO_OK);
  assert_false(done);
  write_text(p, "uid-1");
  assert_int_equal(agent_marker_holds(t->marker, "uid-1", &done, detail, sizeof(detail)), MGO_OK);
  assert_true(done);
  write_text(p, "uid-1\n\n");
  assert_int_equal(agent_marker_holds(t->marker, "uid-1", &done, detail, sizeof(detail)), MGO_OK);
  assert_false(done);
}

/* The fence Memgraph runs as --init-file: one line, the pod's replication port; rewritten on every start; a
 * bad port writes nothing. */
static void test_fence_file(void **state)
{
  struct tmp *t = *state;
  char detail[256] = "", p[PATH_MAX], text[128];

  assert_int_equal(agent_write_fence(t->marker, 10000, detail, sizeof(detail)), MGO_OK);
  path(p, t->marker, AGENT_FENCE_FILE);
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "SET REPLICATION ROLE TO REPLICA WITH PORT 10000\n");
  assert_int_equal(agent_write_fence(t->marker, 12345, detail, sizeof(detail)), MGO_OK);
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "SET REPLICATION ROLE TO REPLICA WITH PORT 12345\n");
  assert_int_equal(agent_write_fence(t->marker, 0, detail, sizeof(detail)), MGO_EINVAL);
  assert_int_equal(agent_write_fence(t->marker, 65536, detail, sizeof(detail)), MGO_EINVAL);
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "SET REPLICATION ROLE TO REPLICA WITH PORT 12345\n");
  /* the path the StatefulSet gives Memgraph as --init-file is this file under the marker directory */
  assert_string_equal(MGO_FENCE_FILE, MGO_MARKER_DIR "/" AGENT_FENCE_FILE);
}

static void test_marker_written_atomically(void **state)
{
  struct tmp *t = *state;
  char detail[256] = "", p[PATH_MAX], tmp[PATH_MAX], text[128];
  struct stat before, after;
  int old_fd;
  ssize_t n;

  /* marker_dir is created when missing */
  assert_int_equal(agent_marker_write(t->marker, "uid-1", detail, sizeof(detail)), MGO_OK);
  path(p, t->marker, AGENT_MARKER_FILE);
  path(tmp, t->marker, AGENT_MARKER_FILE ".tmp");
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "uid-1\n");
  assert_false(exists(tmp));

  /* The new marker replaces the old file by rename (a new inode): a reader holding the old file still sees
   * the whole old token, never a truncated or half-written one. A temporary file left by an interrupted run
   * is replaced. */
  assert_int_equal(stat(p, &before), 0);
  old_fd = open(p, O_RDONLY | O_CLOEXEC);
  assert_true(old_fd >= 0);
  write_text(tmp, "garbage");
  assert_int_equal(agent_marker_write(t->marker, "uid-2", detail, sizeof(detail)), MGO_OK);
  assert_int_equal(stat(p, &after), 0);
  assert_true(before.st_ino != after.st_ino);
  n = pread(old_fd, text, sizeof(text) - 1, 0);
  assert_true(n >= 0);
  text[n] = '\0';
  assert_string_equal(text, "uid-1\n");
  close(old_fd);
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "uid-2\n");
  assert_false(exists(tmp));

  /* invalid token: refused, marker unchanged */
  assert_int_equal(agent_marker_write(t->marker, "a b", detail, sizeof(detail)), MGO_EINVAL);
  read_text(p, text, sizeof(text));
  assert_string_equal(text, "uid-2\n");
  /* marker_dir under a missing parent: an error, nothing created */
  path(p, t->root, "no/such/marker");
  assert_int_equal(agent_marker_write(p, "uid-3", detail, sizeof(detail)), MGO_ESYS);
  assert_non_null(strstr(detail, "mkdir"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_validity),
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_unknown_keys_truncated),
      cmocka_unit_test_setup_teardown(test_read_instructions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wipe_nested_keeps_link_targets, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wipe_missing_and_symlinked_data_dir, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wipe_depth_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reseed_once_per_token, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reseed_bad_token_touches_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_marker_prefix_or_longer_is_not_done, setup, teardown),
      cmocka_unit_test_setup_teardown(test_marker_written_atomically, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fence_file, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
