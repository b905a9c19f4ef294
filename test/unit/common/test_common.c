/* Unit tests for the shared error table, bounded buffer and logger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"
#include "mgo_repl.h"

static void test_err_names_and_messages(void **state)
{
  (void) state;
  assert_string_equal(mgo_errname(MGO_OK), "OK");
  assert_string_equal(mgo_errname(MGO_EPROTO), "EPROTO");
  assert_string_equal(mgo_strerror(MGO_ETOOBIG), "input exceeds its size limit");
  assert_string_equal(mgo_errname(-999), "EUNKNOWN");
  assert_string_equal(mgo_strerror(-999), "unknown error");
}

static void test_buf_ceiling(void **state)
{
  (void) state;
  struct mgo_buf b = MGO_BUF_INIT(8);
  assert_int_equal(mgo_buf_add(&b, "12345", 5), MGO_OK);
  assert_int_equal(mgo_buf_add(&b, "6789", 4), MGO_ETOOBIG);
  assert_string_equal(mgo_buf_str(&b), "12345"); /* a refused append changes nothing */
  assert_int_equal(mgo_buf_printf(&b, "%d", 678), MGO_OK);
  assert_int_equal(b.len, 8);
  assert_int_equal(mgo_buf_printf(&b, "x"), MGO_ETOOBIG);
  mgo_buf_consume(&b, 3);
  assert_string_equal(mgo_buf_str(&b), "45678");
  size_t len = 0;
  char *p = mgo_buf_take(&b, &len);
  assert_string_equal(p, "45678");
  assert_int_equal(len, 5);
  assert_null(b.p);
  free(p);
  mgo_buf_free(&b);
}

static void test_buf_json_string(void **state)
{
  struct mgo_buf b = MGO_BUF_INIT(64);
  (void) state;
  assert_int_equal(mgo_buf_add_json_string(&b, "a\"b\\c\nd\te\x01 \xc3\xa9"), MGO_OK);
  assert_string_equal(mgo_buf_str(&b), "\"a\\\"b\\\\c\\nd\\u0009e\\u0001 \xc3\xa9\"");
  mgo_buf_reset(&b);
  assert_int_equal(mgo_buf_add_json_string(&b, ""), MGO_OK);
  assert_string_equal(mgo_buf_str(&b), "\"\"");
  mgo_buf_free(&b);
  struct mgo_buf tiny = MGO_BUF_INIT(4);
  assert_int_equal(mgo_buf_add_json_string(&tiny, "abcdef"), MGO_ETOOBIG);
  mgo_buf_free(&tiny);
}

static void test_buf_grows_past_initial_capacity(void **state)
{
  (void) state;
  struct mgo_buf b = MGO_BUF_INIT(1 << 20);
  for (int i = 0; i < 10000; i++)
    assert_int_equal(mgo_buf_add(&b, "ab", 2), MGO_OK);
  assert_int_equal(b.len, 20000);
  assert_int_equal(strlen(mgo_buf_str(&b)), 20000);
  mgo_buf_free(&b);
}

static void test_bounded_copies(void **state)
{
  (void) state;
  char small[4];
  assert_int_equal(mgo_strlcpy(small, "abc", sizeof small), MGO_OK);
  assert_int_equal(mgo_strlcpy(small, "abcdef", sizeof small), MGO_ETOOBIG);
  assert_string_equal(small, "abc");
  assert_int_equal(mgo_snprintf(small, sizeof small, "%d", 12345), MGO_ETOOBIG);
  assert_string_equal(small, "123");
}

static void test_log_logfmt_and_json_escape(void **state)
{
  (void) state;
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  mgo_log_setup(MGO_LOG_INFO, MGO_LOG_LOGFMT, f);
  mgo_log(MGO_LOG_DEBUG, "hidden", NULL);
  mgo_log(MGO_LOG_INFO, "replica registered", "pod", "demo-1", "err", "say \"hi\"", NULL);
  mgo_log_setup(MGO_LOG_INFO, MGO_LOG_JSON, f);
  mgo_log(MGO_LOG_WARN, "x", "k", "a\nb", NULL);
  fclose(f);
  assert_null(strstr(text, "hidden"));
  assert_non_null(strstr(text, "level=info msg=\"replica registered\" pod=demo-1 err=\"say \\\"hi\\\"\"\n"));
  assert_non_null(strstr(text, "\"level\":\"warn\",\"msg\":\"x\",\"k\":\"a\\nb\"}\n"));
  free(text);
  mgo_log_setup(MGO_LOG_INFO, MGO_LOG_LOGFMT, NULL);
}

/* One table per replication enum: names round-trip, and each caller's spelling reads through the same table.
 */
static void test_repl_names(void **state)
{
  enum mgo_repl_mode m = MGO_MODE_SYNC;
  (void) state;
  assert_string_equal(mgo_repl_mode_name(MGO_MODE_STRICT_SYNC), "STRICT_SYNC");
  assert_string_equal(mgo_repl_mode_name((enum mgo_repl_mode) 9), "ASYNC");
  assert_int_equal(mgo_repl_mode_named("STRICT_SYNC"), MGO_MODE_STRICT_SYNC);
  assert_int_equal(mgo_repl_mode_named("strict_sync"), MGO_MODE_ASYNC);
  assert_true(mgo_repl_mode_parse("strict_sync", MGO_CASE_LOWER, &m));
  assert_int_equal(m, MGO_MODE_STRICT_SYNC);
  assert_false(mgo_repl_mode_parse("SYNC", MGO_CASE_LOWER, &m));
  assert_false(mgo_repl_mode_parse("semi_sync", MGO_CASE_LOWER, &m));
  assert_false(mgo_repl_mode_parse(NULL, MGO_CASE_ANY, &m));
  assert_int_equal(m, MGO_MODE_STRICT_SYNC);
  assert_string_equal(MGO_SYNC_MODE_NAMES[0].name, "SYNC");
  assert_string_equal(MGO_SYNC_MODE_NAMES[1].name, "STRICT_SYNC");
  assert_null(MGO_SYNC_MODE_NAMES[2].name);
  assert_string_equal(mgo_role_name(MGO_ROLE_MAIN), "main");
  assert_string_equal(mgo_role_name(MGO_ROLE_REPLICA), "replica");
  assert_string_equal(mgo_role_name(MGO_ROLE_UNKNOWN), "unknown");
  assert_int_equal(mgo_role_named("main", MGO_CASE_EXACT), MGO_ROLE_MAIN);
  assert_int_equal(mgo_role_named("MAIN", MGO_CASE_EXACT), MGO_ROLE_UNKNOWN);
  assert_int_equal(mgo_role_named("MAIN", MGO_CASE_ANY), MGO_ROLE_MAIN);
  assert_int_equal(mgo_role_named("Replica", MGO_CASE_ANY), MGO_ROLE_REPLICA);
  assert_int_equal(mgo_role_named("mains", MGO_CASE_ANY), MGO_ROLE_UNKNOWN);
  assert_int_equal(mgo_role_named("unknown", MGO_CASE_ANY), MGO_ROLE_UNKNOWN);
  assert_int_equal(mgo_role_named(NULL, MGO_CASE_ANY), MGO_ROLE_UNKNOWN);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_err_names_and_messages),
      cmocka_unit_test(test_buf_ceiling),
      cmocka_unit_test(test_buf_json_string),
      cmocka_unit_test(test_buf_grows_past_initial_capacity),
      cmocka_unit_test(test_bounded_copies),
      cmocka_unit_test(test_log_logfmt_and_json_escape),
      cmocka_unit_test(test_repl_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
