/* Every vector of test/data/bolt-vectors.json, both directions: PackStream values, messages,
 * chunked streams, handshake proposals, invalid inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bolt_chunk.h"
#include "bolt_int.h"
#include "bolt_test_util.h"
#include "mgo_err.h"
#include "packstream.h"

static json_t *vectors;
static int checked; /* vectors checked, reported at the end */

static int setup(void **state)
{
  (void) state;
  vectors = tu_load_vectors();
  return vectors ? 0 : -1;
}

static int teardown(void **state)
{
  (void) state;
  json_decref(vectors);
  printf("bolt vectors checked: %d\n", checked);
  return 0;
}

static void assert_hex_equal(const char *name, const uint8_t *got, size_t got_len, const uint8_t *want,
                             size_t want_len)
{
  if (got_len == want_len && memcmp(got, want, got_len) == 0)
    return;
  char *g = tu_hex(got, got_len > 200 ? 200 : got_len), *w = tu_hex(want, want_len > 200 ? 200 : want_len);
  fail_msg("%s: encoded %s, want %s", name, g, w);
}

/* The schema a structure vector belongs to, judged from its name; NONE for non-structures. */
static void schemas_for(const char *name, const struct bolt_value *v, int *try4, int *try5)
{
  *try4 = *try5 = 0;
  if (v->type != BOLT_STRUCT || v->u.structure.len == 0)
    return;
  int v5 = strstr(name, "v5") || strstr(name, "5.x");
  int v4 = strstr(name, "v4") || strstr(name, "legacy");
  *try4 = !v5;
  *try5 = !v4;
}

static void check_packstream(const json_t *vec, const uint8_t *bytes, size_t len, int is_message)
{
  const char *name = json_string_value(json_object_get(vec, "name"));
  struct bolt_value *want = tu_json_to_value(json_object_get(vec, "value"));
  assert_non_null(want);
  if (!json_is_true(json_object_get(vec, "decode_only"))) {
    struct mgo_buf out = MGO_BUF_INIT(1 << 24);
    assert_int_equal(ps_encode(&out, want), MGO_OK);
    assert_hex_equal(name, (const uint8_t *) out.p, out.len, bytes, len);
    mgo_buf_free(&out);
  }
  struct bolt_value *got = NULL;
  size_t used = 0;
  char err[128];
  int rc = ps_decode(bytes, len, PS_SCHEMA_NONE, NULL, &got, &used, err, sizeof(err));
  if (rc != MGO_OK)
    fail_msg("%s: decode failed: %s", name, err);
  assert_int_equal(used, len);
  if (!bolt_value_equal(got, want))
    fail_msg("%s: decoded value differs", name);
  int try4, try5;
  schemas_for(name, want, &try4, &try5);
  if (is_message)
    try4 = try5 = 0; /* a message tag is not a value tag: checked in check_message */
  bolt_value_free(got);
  for (int s = 4; s <= 5; s++) {
    if ((s == 4 && !try4) || (s == 5 && !try5))
      continue;
    rc = ps_decode(bytes, len, (enum ps_schema) s, NULL, &got, &used, err, sizeof(err));
    if (rc != MGO_OK)
      fail_msg("%s: decode with the Bolt %d schema failed: %s", name, s, err);
    bolt_value_free(got);
  }
  bolt_value_free(want);
}

static void check_message(const json_t *vec, const uint8_t *bytes, size_t len)
{
  const char *name = json_string_value(json_object_get(vec, "name"));
  check_packstream(vec, bytes, len, 1);
  size_t flen = 0;
  uint8_t *frame = tu_unhex(json_string_value(json_object_get(vec, "frame_hex")), &flen);
  struct mgo_buf out = MGO_BUF_INIT(1 << 24);
  assert_int_equal(bolt_chunk_write(&out, bytes, len), MGO_OK);
  assert_hex_equal(name, (const uint8_t *) out.p, out.len, frame, flen);
  mgo_buf_free(&out);
  struct bolt_value *msg = NULL;
  char err[128];
  if (ps_decode_message(bytes, len, PS_SCHEMA_NONE, NULL, &msg, err, sizeof(err)) != MGO_OK)
    fail_msg("%s: message decode failed: %s", name, err);
  bolt_value_free(msg);
  const char *bolt = json_string_value(json_object_get(vec, "bolt"));
  enum ps_schema schema = bolt && strncmp(bolt, "5", 1) == 0 ? PS_SCHEMA_BOLT5 : PS_SCHEMA_BOLT4;
  if (ps_decode_message(bytes, len, schema, NULL, &msg, err, sizeof(err)) != MGO_OK)
    fail_msg("%s: message decode with the Bolt %d schema failed: %s", name, (int) schema, err);
  bolt_value_free(msg);
  free(frame);
}

/* Feeds the stream in pieces of `step` bytes and compares the reassembled messages. */
static void dechunk_and_compare(const char *name, const uint8_t *bytes, size_t len, const json_t *msgs,
                                size_t step)
{
  struct bolt_dechunker d;
  bolt_dechunker_init(&d, 1 << 20);
  size_t off = 0, next = 0, noops_want = 0;
  for (size_t i = 0; i < json_array_size(msgs); i++)
    noops_want += json_is_null(json_array_get(msgs, i));
  while (off < len) {
    size_t n = len - off < step ? len - off : step, used = 0;
    int rc = bolt_dechunker_feed(&d, bytes + off, n, &used);
    off += used;
    if (rc == MGO_EAGAIN)
      continue;
    assert_int_equal(rc, MGO_OK);
    while (json_is_null(json_array_get(msgs, next)))
      next++;
    struct bolt_value *want = tu_json_to_value(json_array_get(msgs, next++));
    size_t mlen = 0;
    const uint8_t *m = bolt_dechunker_message(&d, &mlen);
    if (mlen != want->u.str.len || memcmp(m, want->u.str.data, mlen) != 0)
      fail_msg("%s: message %zu differs (step %zu)", name, next - 1, step);
    bolt_value_free(want);
  }
  while (json_is_null(json_array_get(msgs, next)))
    next++;
  assert_int_equal(next, json_array_size(msgs));
  assert_int_equal(d.noops, noops_want);
  bolt_dechunker_free(&d);
}

static void check_chunked(const json_t *vec, const uint8_t *bytes, size_t len)
{
  const char *name = json_string_value(json_object_get(vec, "name"));
  const json_t *msgs = json_object_get(json_object_get(vec, "value"), "messages");
  dechunk_and_compare(name, bytes, len, msgs, len);
  dechunk_and_compare(name, bytes, len, msgs, 1);
  dechunk_and_compare(name, bytes, len, msgs, 7);
  int has_noop = 0;
  for (size_t i = 0; i < json_array_size(msgs); i++)
    has_noop |= json_is_null(json_array_get(msgs, i));
  if (json_is_true(json_object_get(vec, "decode_only")) || has_noop)
    return;
  struct mgo_buf out = MGO_BUF_INIT(1 << 24);
  for (size_t i = 0; i < json_array_size(msgs); i++) {
    struct bolt_value *m = tu_json_to_value(json_array_get(msgs, i));
    assert_int_equal(bolt_chunk_write(&out, (const uint8_t *) m->u.str.data, m->u.str.len), MGO_OK);
    bolt_value_free(m);
  }
  assert_hex_equal(name, (const uint8_t *) out.p, out.len, bytes, len);
  mgo_buf_free(&out);
}

/* Handshake vectors: where the proposals are ones this client would make, the bytes must match. The client
 * implements 5.2 and 4.1-4.4 only, so it offers no 1.0 slot (the recommended vector's last slot). */
static void check_handshake(const json_t *vec, const uint8_t *bytes, size_t len)
{
  const char *name = json_string_value(json_object_get(vec, "name"));
  assert_int_equal(len, 20);
  uint8_t mine[16];
  if (strstr(name, "recommended C client")) {
    bolt__build_proposals(BOLT_V_ALL, mine);
    assert_memory_equal(mine, bytes + 4, 12);
    assert_memory_equal(mine + 12, "\0\0\0\0", 4);
  } else if (strstr(name, "4.4 exact, then 4.1")) {
    bolt__build_proposals(BOLT_V4_4 | BOLT_V4_1, mine);
    assert_memory_equal(mine, bytes + 4, 16);
  } else {
    assert_memory_equal(bytes, "\x60\x60\xB0\x17", 4);
  }
}

static void test_vectors(void **state)
{
  (void) state;
  const json_t *list = json_object_get(vectors, "vectors");
  assert_true(json_array_size(list) > 100);
  size_t i;
  const json_t *vec;
  json_array_foreach(list, i, vec)
  {
    const char *kind = json_string_value(json_object_get(vec, "kind"));
    size_t len = 0;
    uint8_t *bytes = tu_unhex(json_string_value(json_object_get(vec, "hex")), &len);
    assert_non_null(bytes);
    if (strcmp(kind, "packstream") == 0)
      check_packstream(vec, bytes, len, 0);
    else if (strcmp(kind, "message") == 0)
      check_message(vec, bytes, len);
    else if (strcmp(kind, "chunked") == 0)
      check_chunked(vec, bytes, len);
    else if (strcmp(kind, "handshake") == 0)
      check_handshake(vec, bytes, len);
    else
      fail_msg("unknown vector kind %s", kind);
    free(bytes);
    checked++;
  }
}

static void test_large_vectors(void **state)
{
  (void) state;
  size_t i;
  const json_t *vec;
  json_array_foreach(json_object_get(vectors, "large_vectors"), i, vec)
  {
    size_t len = 0;
    uint8_t *bytes = tu_hex_parts(json_object_get(vec, "hex_parts"), &len);
    const char *kind = json_string_value(json_object_get(vec, "kind"));
    if (strcmp(kind, "packstream") == 0)
      check_packstream(vec, bytes, len, 0);
    else
      check_chunked(vec, bytes, len);
    free(bytes);
    checked++;
  }
}

static void test_invalid_vectors(void **state)
{
  (void) state;
  size_t i;
  const json_t *vec;
  json_array_foreach(json_object_get(vectors, "invalid_packstream"), i, vec)
  {
    const char *name = json_string_value(json_object_get(vec, "name"));
    size_t len = 0;
    uint8_t *bytes = tu_unhex(json_string_value(json_object_get(vec, "hex")), &len);
    struct bolt_value *v = (struct bolt_value *) 1;
    char err[128];
    int rc = ps_decode(bytes, len, PS_SCHEMA_NONE, NULL, &v, NULL, err, sizeof(err));
    if (rc != MGO_EPARSE)
      fail_msg("%s: decode returned %s, want EPARSE", name, mgo_errname(rc));
    assert_null(v);
    assert_true(strlen(err) > 0);
    free(bytes);
    checked++;
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_large_vectors),
      cmocka_unit_test(test_invalid_vectors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
