/* JSON → YAML (exact text, and the strings that must stay strings) and the ustar writer (headers, checksum,
 * padding, long names, refused names). */
#include "kmg_tar.h"
#include "kmg_yaml.h"
#include "mgo_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_yaml_text(void **state)
{
  (void) state;
  json_t *v =
      json_loads("{\"metadata\":{\"name\":\"mg\",\"annotations\":{\"memgraph.io/hibernation\":\"on\","
                 "\"memgraph.io/fencedInstances\":\"[\\\"mg-1\\\"]\"}},\"spec\":{\"instances\":3,\"ok\":true,"
                 "\"ratio\":0.5,\"none\":null,\"tags\":[\"a\",\"10\"],\"empty\":{},\"list\":[]}}",
                 JSON_PRESERVE_ORDER, NULL);
  assert_non_null(v);
  struct mgo_buf out = MGO_BUF_INIT(4096);
  char err[128] = "";
  assert_int_equal(kmg_json_to_yaml(v, &out, err, sizeof(err)), MGO_OK);
  assert_string_equal(mgo_buf_str(&out), "metadata:\n"
                                         "  name: mg\n"
                                         "  annotations:\n"
                                         "    memgraph.io/hibernation: \"on\"\n"
                                         "    memgraph.io/fencedInstances: '[\"mg-1\"]'\n"
                                         "spec:\n"
                                         "  instances: 3\n"
                                         "  ok: true\n"
                                         "  ratio: 0.5\n"
                                         "  none: null\n"
                                         "  tags:\n"
                                         "  - a\n"
                                         "  - \"10\"\n"
                                         "  empty: {}\n"
                                         "  list: []\n");
  mgo_buf_free(&out);
  json_decref(v);
}

static void test_yaml_quoting(void **state)
{
  (void) state;
  static const char *const quoted[] = {"",   "on",   "Off", "yes",  "NO",   "true", "null",  "~",
                                       "10", "-3.5", "1e3", "0x1F", "0o17", ".inf", "1_000", "y"};
  static const char *const plain[] = {"mg-1",  "memgraph/memgraph:3.12.0", "Running", "3/3", "onward",
                                      "1 SYNC"};
  for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++) {
    if (!kmg_yaml_needs_quotes(quoted[i])) {
      fail_msg("\"%s\" should be quoted", quoted[i]);
    }
  }
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
    if (kmg_yaml_needs_quotes(plain[i])) {
      fail_msg("\"%s\" should be plain", plain[i]);
    }
  }
}

static void test_yaml_limit(void **state)
{
  (void) state;
  json_t *v = json_pack("{s:s}", "k", "a value longer than the buffer's ceiling");
  struct mgo_buf out = MGO_BUF_INIT(8);
  char err[128] = "";
  assert_int_equal(kmg_json_to_yaml(v, &out, err, sizeof(err)), MGO_ETOOBIG);
  assert_non_null(strstr(err, "YAML output failed"));
  mgo_buf_free(&out);
  json_decref(v);
}

static void test_yaml_load_types(void **state)
{
  (void) state;
  static const char text[] = "a: 3\nb: \"3\"\nc: true\nd: ~\ne: 1.5\nf: on\ng: [x, -2]\nh:\n  k: ''\n"
                             "i: &anchor {z: 1}\nj: *anchor\n";
  json_t *v = NULL;
  char err[128] = "";
  assert_int_equal(kmg_yaml_load(text, sizeof(text) - 1, &v, err, sizeof(err)), MGO_OK);
  char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"a\":3,\"b\":\"3\",\"c\":true,\"d\":null,\"e\":1.5,\"f\":\"on\",\"g\":[\"x\",-2],"
                         "\"h\":{\"k\":\"\"},\"i\":{\"z\":1},\"j\":{\"z\":1}}");
  free(s);
  json_decref(v);
  assert_int_equal(kmg_yaml_load("a: [1,\n", 7, &v, err, sizeof(err)), MGO_EPARSE);
  assert_null(v);
  assert_non_null(strstr(err, "line 2"));
}

static unsigned long long octal_field(const char *p, size_t n)
{
  char tmp[16] = "";
  memcpy(tmp, p, n < sizeof(tmp) - 1 ? n : sizeof(tmp) - 1);
  return strtoull(tmp, NULL, 8);
}

static void check_header(const unsigned char *h, const char *name, const char *prefix, size_t size)
{
  assert_memory_equal(h + 257,
                      "ustar\0"
                      "00",
                      8);
  assert_string_equal((const char *) h, name);
  assert_string_equal((const char *) h + 345, prefix);
  assert_int_equal(octal_field((const char *) h + 124, 12), size);
  assert_int_equal(octal_field((const char *) h + 100, 8), 0644);
  assert_int_equal(h[156], '0');
  unsigned sum = 0;
  for (size_t i = 0; i < KMG_TAR_BLOCK; i++) {
    sum += (i >= 148 && i < 156) ? ' ' : h[i];
  }
  assert_int_equal(octal_field((const char *) h + 148, 8), sum);
}

static void test_tar_layout(void **state)
{
  (void) state;
  struct mgo_buf tar = MGO_BUF_INIT(1 << 20);
  char err[256] = "";
  char longname[200];
  memset(longname, 'd', 120);
  mgo_strlcpy(longname + 120, "/file-with-a-name.txt", sizeof(longname) - 120);
  assert_int_equal(kmg_tar_add(&tar, "r/a.txt", "hello", 5, 1700000000, err, sizeof(err)), MGO_OK);
  assert_int_equal(kmg_tar_add(&tar, "r/empty", "", 0, 1700000000, err, sizeof(err)), MGO_OK);
  assert_int_equal(kmg_tar_add(&tar, longname, "x", 1, 0, err, sizeof(err)), MGO_OK);
  assert_int_equal(kmg_tar_finish(&tar), MGO_OK);
  assert_int_equal(tar.len, 512 * (2 + 1 + 2 + 2));
  const unsigned char *p = (const unsigned char *) tar.p;
  check_header(p, "r/a.txt", "", 5);
  assert_memory_equal(p + 512, "hello", 5);
  assert_int_equal(octal_field((const char *) p + 136, 12), 1700000000);
  check_header(p + 1024, "r/empty", "", 0);
  longname[120] = '\0';
  check_header(p + 1536, "file-with-a-name.txt", longname, 1);
  for (size_t i = 512 * 5; i < tar.len; i++) {
    assert_int_equal(p[i], 0);
  }
  mgo_buf_free(&tar);
}

static void test_tar_refusals(void **state)
{
  (void) state;
  struct mgo_buf tar = MGO_BUF_INIT(600);
  char err[256] = "";
  assert_int_equal(kmg_tar_add(&tar, "", "x", 1, 0, err, sizeof(err)), MGO_EINVAL);
  assert_int_equal(kmg_tar_add(&tar, "/etc/passwd", "x", 1, 0, err, sizeof(err)), MGO_EINVAL);
  assert_int_equal(kmg_tar_add(&tar, "a/../b", "x", 1, 0, err, sizeof(err)), MGO_EINVAL);
  char huge[300];
  memset(huge, 'a', sizeof(huge) - 1);
  huge[sizeof(huge) - 1] = '\0';
  assert_int_equal(kmg_tar_add(&tar, huge, "x", 1, 0, err, sizeof(err)), MGO_EINVAL);
  assert_non_null(strstr(err, "too long"));
  /* a file that does not fit leaves no half entry behind */
  assert_int_equal(kmg_tar_add(&tar, "big", "0123456789", 10, 0, err, sizeof(err)), MGO_ETOOBIG);
  assert_int_equal(tar.len, 0);
  mgo_buf_free(&tar);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_yaml_text),    cmocka_unit_test(test_yaml_quoting),
      cmocka_unit_test(test_yaml_limit),   cmocka_unit_test(test_tar_layout),
      cmocka_unit_test(test_tar_refusals), cmocka_unit_test(test_yaml_load_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
