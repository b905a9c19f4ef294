/* PackStream codec and chunker edge cases beyond the shared vectors: limits, schemas, getters, builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bolt_chunk.h"
#include "bolt_test_util.h"
#include "mgo_err.h"
#include "packstream.h"

static int decode_hex(const char *hex, enum ps_schema schema, const struct ps_limits *lim,
                      struct bolt_value **out)
{
  size_t len = 0;
  uint8_t *b = tu_unhex(hex, &len);
  char err[128];
  int rc = ps_decode(b, len, schema, lim, out, NULL, err, sizeof(err));
  free(b);
  return rc;
}

static void test_integer_round_trip_all_widths(void **state)
{
  (void) state;
  const int64_t samples[] = {0,
                             -1,
                             -16,
                             -17,
                             127,
                             128,
                             -128,
                             -129,
                             32767,
                             32768,
                             -32768,
                             -32769,
                             INT32_MAX,
                             INT32_MIN,
                             (int64_t) INT32_MAX + 1,
                             (int64_t) INT32_MIN - 1,
                             INT64_MAX,
                             INT64_MIN};
  const size_t widths[] = {1, 1, 1, 2, 1, 3, 2, 3, 3, 5, 3, 5, 5, 5, 9, 9, 9, 9};
  for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
    struct mgo_buf out = MGO_BUF_INIT(64);
    assert_int_equal(ps_write_int(&out, samples[i]), MGO_OK);
    assert_int_equal(out.len, widths[i]);
    struct bolt_value *v = NULL;
    assert_int_equal(ps_decode((const uint8_t *) out.p, out.len, PS_SCHEMA_NONE, NULL, &v, NULL, NULL, 0),
                     MGO_OK);
    int64_t got = 0;
    assert_int_equal(bolt_value_as_int(v, &got), MGO_OK);
    assert_true(got == samples[i]);
    bolt_value_free(v);
    mgo_buf_free(&out);
  }
}

static void test_depth_limit(void **state)
{
  (void) state;
  char hex[2 * 100 + 3];
  for (int i = 0; i < 100; i++)
    memcpy(hex + 2 * i, "91", 2);
  memcpy(hex + 200, "C0", 3);
  struct bolt_value *v = NULL;
  assert_int_equal(decode_hex(hex, PS_SCHEMA_NONE, NULL, &v), MGO_ETOOBIG);
  assert_null(v);
  struct ps_limits lim = {.max_depth = 200, .max_elements = 1000};
  assert_int_equal(decode_hex(hex, PS_SCHEMA_NONE, &lim, &v), MGO_OK);
  bolt_value_free(v);
}

static void test_element_limit_before_allocation(void **state)
{
  (void) state;
  struct ps_limits lim = {.max_depth = 8, .max_elements = 3};
  struct bolt_value *v = NULL;
  assert_int_equal(decode_hex("94010203", PS_SCHEMA_NONE, &lim, &v), MGO_EPARSE); /* 4 items, 3 present */
  assert_int_equal(decode_hex("9401020304", PS_SCHEMA_NONE, &lim, &v), MGO_ETOOBIG);
  assert_int_equal(decode_hex("920102", PS_SCHEMA_NONE, &lim, &v), MGO_OK);
  bolt_value_free(v);
  /* A 2^31-1 item list announced in 5 bytes is refused without allocating. */
  assert_int_equal(decode_hex("D67FFFFFFF", PS_SCHEMA_NONE, NULL, &v), MGO_EPARSE);
  assert_int_equal(decode_hex("D6FFFFFFFF", PS_SCHEMA_NONE, NULL, &v), MGO_EPARSE); /* above 2^31-1 */
  assert_int_equal(decode_hex("DAFFFFFF00", PS_SCHEMA_NONE, NULL, &v), MGO_EPARSE);
}

static void test_malformed_inputs(void **state)
{
  (void) state;
  const char *bad[] = {"",       "D1",       "D100",   "CC05AA",     "A1",     "A181",
                       "A18161", "B1",       "DC",     "DC01",       "DD0001", "A1C001",
                       "81FF",   "83EDA080", "82C0AF", "84F4908080", "CB0102", "9191919191"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct bolt_value *v = NULL;
    int rc = decode_hex(bad[i], PS_SCHEMA_NONE, NULL, &v);
    if (rc != MGO_EPARSE)
      fail_msg("%s: %s, want EPARSE", bad[i], mgo_errname(rc));
    assert_null(v);
  }
  /* Legacy DC/DD structure markers decode. */
  struct bolt_value *v = NULL;
  assert_int_equal(decode_hex("DC01580C", PS_SCHEMA_NONE, NULL, &v), MGO_OK);
  assert_int_equal(bolt_struct_tag(v), 0x58);
  bolt_value_free(v);
}

static void test_schema_per_version(void **state)
{
  (void) state;
  struct bolt_value *v = NULL;
  const char *node4 = "B34E019186506572736F6EA1846E616D6585416C696365";
  const char *node5 = "B44E019186506572736F6EA1846E616D6585416C6963658131";
  assert_int_equal(decode_hex(node4, PS_SCHEMA_BOLT4, NULL, &v), MGO_OK);
  bolt_value_free(v);
  assert_int_equal(decode_hex(node4, PS_SCHEMA_BOLT5, NULL, &v), MGO_EPARSE);
  assert_int_equal(decode_hex(node5, PS_SCHEMA_BOLT4, NULL, &v), MGO_EPARSE);
  assert_int_equal(decode_hex(node5, PS_SCHEMA_BOLT5, NULL, &v), MGO_OK);
  bolt_value_free(v);
  const char *dt_utc = "B349CA5BC07975CA1C4B9ABEC90E10", *dt_legacy = "B346CA5BC08785CA1C4B9ABEC90E10";
  assert_int_equal(decode_hex(dt_utc, PS_SCHEMA_BOLT4, NULL, &v), MGO_EPARSE);
  assert_int_equal(decode_hex(dt_legacy, PS_SCHEMA_BOLT5, NULL, &v), MGO_EPARSE);
  assert_int_equal(decode_hex("B1440A", PS_SCHEMA_BOLT5, NULL, &v), MGO_OK); /* Date */
  bolt_value_free(v);
  assert_int_equal(decode_hex("B14481", PS_SCHEMA_BOLT5, NULL, &v), MGO_EPARSE);     /* Date with a string */
  assert_int_equal(decode_hex("B2440A0A", PS_SCHEMA_BOLT5, NULL, &v), MGO_EPARSE);   /* two fields */
  assert_int_equal(decode_hex("B1010A", PS_SCHEMA_BOLT5, NULL, &v), MGO_EPARSE);     /* unknown tag */
  assert_int_equal(decode_hex("91B2440A0A", PS_SCHEMA_BOLT4, NULL, &v), MGO_EPARSE); /* nested */
  /* A message's own tag is not a value tag, but its fields are checked. */
  size_t len = 0;
  uint8_t *b = tu_unhex("B17191B2440A0A", &len);
  assert_int_equal(ps_decode_message(b, len, PS_SCHEMA_BOLT5, NULL, &v, NULL, 0), MGO_EPARSE);
  free(b);
  b = tu_unhex("B17191B1440A", &len);
  assert_int_equal(ps_decode_message(b, len, PS_SCHEMA_BOLT5, NULL, &v, NULL, 0), MGO_OK);
  bolt_value_free(v);
  free(b);
  b = tu_unhex("B17191B1440A00", &len);
  assert_int_equal(ps_decode_message(b, len, PS_SCHEMA_BOLT5, NULL, &v, NULL, 0), MGO_EPARSE); /* trailing */
  free(b);
}

static void test_duplicate_keys_in_a_large_map(void **state)
{
  (void) state;
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  ps_write_map_header(&out, 100);
  for (int i = 0; i < 100; i++) {
    char key[8];
    snprintf(key, sizeof(key), "k%d", i % 10);
    ps_write_string(&out, key, strlen(key));
    ps_write_int(&out, i);
  }
  struct bolt_value *v = NULL;
  assert_int_equal(ps_decode((const uint8_t *) out.p, out.len, PS_SCHEMA_NONE, NULL, &v, NULL, NULL, 0),
                   MGO_OK);
  assert_int_equal(bolt_value_len(v), 10);
  int64_t got = 0;
  assert_int_equal(bolt_map_get_int(v, "k3", &got), MGO_OK);
  assert_int_equal(got, 93);
  bolt_value_free(v);
  mgo_buf_free(&out);
}

static void test_getters_and_builders(void **state)
{
  (void) state;
  struct bolt_value *m = bolt_value_map();
  assert_int_equal(bolt_map_put(m, "role", bolt_value_string("main")), MGO_OK);
  assert_int_equal(bolt_map_put(m, "n", bolt_value_int(3)), MGO_OK);
  assert_int_equal(bolt_map_put(m, "n", bolt_value_int(4)), MGO_OK); /* replaces */
  struct bolt_value *l = bolt_value_list();
  assert_int_equal(bolt_list_push(l, bolt_value_float(1.5)), MGO_OK);
  assert_int_equal(bolt_map_put(m, "l", l), MGO_OK);
  assert_int_equal(bolt_map_put(m, "x", NULL), MGO_ENOMEM);
  assert_int_equal(bolt_list_push(m, bolt_value_null()), MGO_EINVAL); /* not a list; value freed */
  const char *s = NULL;
  int64_t i = 0;
  double d = 0;
  assert_int_equal(bolt_map_get_string(m, "role", &s), MGO_OK);
  assert_string_equal(s, "main");
  assert_int_equal(bolt_map_get_int(m, "n", &i), MGO_OK);
  assert_int_equal(i, 4);
  assert_int_equal(bolt_map_get_int(m, "role", &i), MGO_EINVAL);
  assert_int_equal(bolt_map_get_int(m, "missing", &i), MGO_EINVAL);
  assert_int_equal(bolt_value_as_float(bolt_list_at(bolt_map_get(m, "l"), 0), &d), MGO_OK);
  assert_true(d == 1.5);
  assert_null(bolt_list_at(bolt_map_get(m, "l"), 1));
  assert_null(bolt_map_get(NULL, "x"));
  assert_int_equal(bolt_value_type(NULL), BOLT_NULL);
  assert_string_equal(bolt_type_name(BOLT_MAP), "Map");
  struct bolt_value *c = bolt_value_clone(m);
  assert_true(bolt_value_equal(c, m));
  bolt_map_put(c, "n", bolt_value_int(5));
  assert_false(bolt_value_equal(c, m));
  bolt_value_free(c);
  struct bolt_value *st = bolt_value_struct(BOLT_TAG_DATE, 1);
  assert_int_equal(bolt_struct_set(st, 0, bolt_value_int(7905)), MGO_OK);
  assert_int_equal(bolt_struct_set(st, 1, bolt_value_int(1)), MGO_EINVAL);
  assert_int_equal(bolt_struct_tag(st), BOLT_TAG_DATE);
  bolt_value_free(st);
  bolt_value_free(m);
}

static void test_encoder_refuses_unencodable(void **state)
{
  (void) state;
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  struct bolt_value *st = bolt_value_struct(0x58, 16);
  assert_int_equal(ps_encode(&out, st), MGO_EINVAL);
  bolt_value_free(st);
  st = bolt_value_struct(0x80, 0);
  assert_int_equal(ps_encode(&out, st), MGO_EINVAL);
  bolt_value_free(st);
  struct mgo_buf tiny = MGO_BUF_INIT(4);
  struct bolt_value *s = bolt_value_string("longer than four");
  assert_int_equal(ps_encode(&tiny, s), MGO_ETOOBIG);
  bolt_value_free(s);
  mgo_buf_free(&tiny);
  mgo_buf_free(&out);
}

static void test_chunker_edges(void **state)
{
  (void) state;
  /* Writer: exactly 65535 is one chunk; 65536 is two; empty is just the end marker. */
  uint8_t *big = calloc(1, 65536);
  struct mgo_buf out = MGO_BUF_INIT(1 << 20);
  assert_int_equal(bolt_chunk_write(&out, big, 65535), MGO_OK);
  assert_int_equal(out.len, 2 + 65535 + 2);
  mgo_buf_reset(&out);
  assert_int_equal(bolt_chunk_write(&out, big, 65536), MGO_OK);
  assert_int_equal(out.len, 2 + 65535 + 2 + 1 + 2);
  assert_memory_equal(out.p + 2 + 65535, "\x00\x01", 2);
  mgo_buf_reset(&out);
  assert_int_equal(bolt_chunk_write(&out, big, 0), MGO_OK);
  assert_int_equal(out.len, 2);
  /* Reader: size cap. */
  struct bolt_dechunker d;
  bolt_dechunker_init(&d, 100);
  mgo_buf_reset(&out);
  bolt_chunk_write(&out, big, 101);
  size_t used = 0;
  assert_int_equal(bolt_dechunker_feed(&d, (const uint8_t *) out.p, out.len, &used), MGO_ETOOBIG);
  bolt_dechunker_free(&d);
  /* Reader: NOOPs, a message, and the start of the next one in one feed. */
  bolt_dechunker_init(&d, 100);
  size_t len = 0;
  uint8_t *s = tu_unhex("00000000000201020000000301", &len);
  assert_int_equal(bolt_dechunker_feed(&d, s, len, &used), MGO_OK);
  assert_int_equal(used, 10);
  assert_int_equal(d.noops, 2);
  size_t mlen = 0;
  const uint8_t *m = bolt_dechunker_message(&d, &mlen);
  assert_int_equal(mlen, 2);
  assert_memory_equal(m, "\x01\x02", 2);
  assert_int_equal(bolt_dechunker_feed(&d, s + used, len - used, &used), MGO_EAGAIN);
  assert_null(bolt_dechunker_message(&d, &mlen));
  assert_int_equal(bolt_dechunker_feed(&d, (const uint8_t *) "\x02\x03\x00\x00", 4, &used), MGO_OK);
  m = bolt_dechunker_message(&d, &mlen);
  assert_int_equal(mlen, 3);
  assert_int_equal(bolt_dechunker_feed(&d, NULL, 0, &used), MGO_EAGAIN);
  free(s);
  bolt_dechunker_free(&d);
  mgo_buf_free(&out);
  free(big);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_integer_round_trip_all_widths),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_element_limit_before_allocation),
      cmocka_unit_test(test_malformed_inputs),
      cmocka_unit_test(test_schema_per_version),
      cmocka_unit_test(test_duplicate_keys_in_a_large_map),
      cmocka_unit_test(test_getters_and_builders),
      cmocka_unit_test(test_encoder_refuses_unencodable),
      cmocka_unit_test(test_chunker_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
