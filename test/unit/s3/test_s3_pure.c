/* The pure parts of src/s3: AWS percent-encoding, the canonical query, URLs, the XML extractor and the
 * CompleteMultipartUpload body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mgo_err.h"
#include "s3_internal.h"

#include <string.h>

static void test_uri_encode(void **state)
{
  (void) state;
  static const struct {
    const char *in;
    bool slash;
    const char *out;
  } t[] = {
      {"a b", true, "a%20b"},
      {"A-Z_a.z~09", true, "A-Z_a.z~09"},
      {"dir/sub/file", true, "dir/sub/file"},
      {"dir/sub", false, "dir%2Fsub"},
      {"a+b=c", true, "a%2Bb%3Dc"},
      {"\xc3\xa9t\xc3\xa9", true, "%C3%A9t%C3%A9"},
      {"%*?&#", true, "%25%2A%3F%26%23"},
      {"", true, ""},
  };
  char out[64];
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    assert_int_equal(s3_uri_encode(t[i].in, t[i].slash, out, sizeof(out)), MGO_OK);
    assert_string_equal(out, t[i].out);
  }
  assert_int_equal(s3_uri_encode("a b", true, out, 5), MGO_ETOOBIG); /* needs 6 */
  assert_int_equal(s3_uri_encode("a b", true, out, 6), MGO_OK);
}

static void test_canonical_query(void **state)
{
  (void) state;
  struct mgo_buf b = MGO_BUF_INIT(4096);
  struct s3_qparam q[] = {{"uploadId", "x/y+z"},
                          {"partNumber", "3"},
                          {"uploads", NULL},
                          {"prefix", "a b~"},
                          {"continuation-token", "1=="}};
  assert_int_equal(s3_canonical_query(q, 5, &b), MGO_OK);
  assert_string_equal(mgo_buf_str(&b),
                      "continuation-token=1%3D%3D&partNumber=3&prefix=a%20b~&uploadId=x%2Fy%2Bz&uploads=");
  mgo_buf_reset(&b);
  struct s3_qparam one[] = {{"uploads", ""}};
  assert_int_equal(s3_canonical_query(one, 1, &b), MGO_OK);
  assert_string_equal(mgo_buf_str(&b), "uploads=");
  mgo_buf_free(&b);
}

static void test_urls(void **state)
{
  (void) state;
  struct mgo_buf b = MGO_BUF_INIT(4096);
  struct s3_config c = {.endpoint = "http://127.0.0.1:7070", .bucket = "bkt", .force_path_style = true};
  struct s3_qparam q[] = {{"tagging", ""}};
  assert_int_equal(s3_build_url(&c, "d/a b.tar", q, 1, &b), MGO_OK);
  assert_string_equal(mgo_buf_str(&b), "http://127.0.0.1:7070/bkt/d/a%20b.tar?tagging=");
  mgo_buf_reset(&b);
  assert_int_equal(s3_build_url(&c, NULL, NULL, 0, &b), MGO_OK);
  assert_string_equal(mgo_buf_str(&b), "http://127.0.0.1:7070/bkt");
  mgo_buf_reset(&b);
  c.force_path_style = false;
  c.endpoint = "https://s3.eu-west-1.amazonaws.com/";
  assert_int_equal(s3_build_url(&c, "k", NULL, 0, &b), MGO_OK);
  assert_string_equal(mgo_buf_str(&b), "https://bkt.s3.eu-west-1.amazonaws.com/k");
  mgo_buf_free(&b);
  const char *bad[] = {"ab",
                       "Upper",
                       "a_b",
                       "-ab",
                       "ab-",
                       NULL,
                       "0123456789012345678901234567890123456789012345678901234567890123"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_false(s3_bucket_valid(bad[i]));
  assert_true(s3_bucket_valid("my.bucket-1"));
  c.bucket = "Bad_Bucket";
  assert_int_equal(s3_build_url(&c, "k", NULL, 0, &b), MGO_ECONFIG);
  mgo_buf_free(&b);
}

static void test_xml_error(void **state)
{
  (void) state;
  const char *x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
      "<Message>The request signature &amp; &lt;b&gt; &quot;x&quot; &apos;y&apos; &#233;&#x41;</Message>"
      "<RequestId>1</RequestId></Error>";
  struct s3_error e;
  memset(&e, 0, sizeof(e));
  assert_int_equal(s3_xml_error(x, strlen(x), &e), MGO_OK);
  assert_string_equal(e.code, "SignatureDoesNotMatch");
  assert_string_equal(e.message, "The request signature & <b> \"x\" 'y' \xc3\xa9"
                                 "A");
  assert_int_equal(s3_map_error(e.code, 403), MGO_EAUTH);
  assert_int_equal(s3_map_error("NoSuchBucket", 404), MGO_ENOTFOUND);
  assert_int_equal(s3_map_error("", 404), MGO_ENOTFOUND);
  assert_int_equal(s3_map_error("InternalError", 500), MGO_EHTTP);
  assert_int_equal(s3_xml_error("<Error><Code>X</Code>", 21, &e), MGO_EPARSE); /* truncated */
  assert_int_equal(s3_xml_error("<html>oops</html>", 17, &e), MGO_EPARSE);
}

static void test_xml_upload_id(void **state)
{
  (void) state;
  const char *x = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/"
                  "2006-03-01/\"><Bucket>b</Bucket><Key>k</Key><UploadId>abc&amp;def</UploadId>"
                  "</InitiateMultipartUploadResult>";
  char id[64];
  assert_int_equal(s3_xml_upload_id(x, strlen(x), id, sizeof(id)), MGO_OK);
  assert_string_equal(id, "abc&def");
  for (size_t n = 0; n < strlen(x); n++) /* every truncation fails cleanly */
    assert_int_equal(s3_xml_upload_id(x, n, id, sizeof(id)), MGO_EPARSE);
  const char *empty = "<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>";
  assert_int_equal(s3_xml_upload_id(empty, strlen(empty), id, sizeof(id)), MGO_EPARSE);
}

struct seen {
  int n;
  char keys[4][64];
  uint64_t sizes[4];
};

static bool collect(void *ctx, const struct s3_object *o)
{
  struct seen *s = ctx;
  if (s->n < 4) {
    mgo_strlcpy(s->keys[s->n], o->key, sizeof(s->keys[s->n]));
    s->sizes[s->n] = o->size;
  }
  s->n++;
  return true;
}

static const char *const LIST =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>b</Name><Prefix>p/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><IsTruncated>true</"
    "IsTruncated>"
    "<Contents><Key>p/a &amp; b</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
    "<ETag>&quot;e1&quot;</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>p/&lt;x&gt;</Key><Size>0</Size></Contents>"
    "<Contents><Key>p/\xc3\xa9t\xc3\xa9 &apos;q&apos;</Key><Size>25165824</Size></Contents>"
    "<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>";

static void test_xml_list(void **state)
{
  (void) state;
  struct seen s = {0};
  struct s3_list_page page;
  assert_int_equal(s3_xml_list(LIST, strlen(LIST), collect, &s, &page), MGO_OK);
  assert_int_equal(s.n, 3);
  assert_string_equal(s.keys[0], "p/a & b");
  assert_string_equal(s.keys[1], "p/<x>");
  assert_string_equal(s.keys[2], "p/\xc3\xa9t\xc3\xa9 'q'");
  assert_int_equal(s.sizes[0], 10);
  assert_int_equal(s.sizes[2], 25165824);
  assert_true(page.truncated);
  assert_string_equal(page.next_token, "tok+/=");
  for (size_t n = 0; n < strlen(LIST); n++) { /* truncated answers: an error, never a crash */
    memset(&s, 0, sizeof(s));
    assert_int_equal(s3_xml_list(LIST, n, collect, &s, &page), MGO_EPARSE);
  }
  const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
  assert_int_equal(s3_xml_list(last, strlen(last), NULL, NULL, &page), MGO_OK);
  assert_false(page.truncated);
  const char *bad[] = {
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",   /* no token */
      "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>", /* no size */
      "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a&amp</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key><b>x</b></Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>&#0;</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(s3_xml_list(bad[i], strlen(bad[i]), collect, &s, &page), MGO_EPARSE);
}

static void test_xml_tagging(void **state)
{
  (void) state;
  const char *x = "<Tagging><TagSet><Tag><Key>other</Key><Value>1</Value></Tag><Tag><Key>sha256</Key>"
                  "<Value>abc</Value></Tag></TagSet></Tagging>";
  char v[S3_SHA256_HEX];
  assert_int_equal(s3_xml_tag_value(x, strlen(x), "sha256", v, sizeof(v)), MGO_OK);
  assert_string_equal(v, "abc");
  const char *none = "<Tagging><TagSet/></Tagging>";
  assert_int_equal(s3_xml_tag_value(none, strlen(none), "sha256", v, sizeof(v)), MGO_OK);
  assert_string_equal(v, "");
  size_t n = 9;
  const char *up = "<ListMultipartUploadsResult><Upload><Key>a</Key></Upload><Upload><Key>b</Key></Upload>"
                   "</ListMultipartUploadsResult>";
  assert_int_equal(s3_xml_count_uploads(up, strlen(up), &n), MGO_OK);
  assert_int_equal(n, 2);
}

static void test_complete_body(void **state)
{
  (void) state;
  char etags[2][80] = {"\"a&b\"", "<x>'"};
  struct mgo_buf b = MGO_BUF_INIT(4096);
  assert_int_equal(s3_complete_body((const char(*)[80]) etags, 2, &b), MGO_OK);
  assert_string_equal(mgo_buf_str(&b),
                      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Part><PartNumber>1</PartNumber><ETag>&quot;a&amp;b&quot;</ETag></Part>"
                      "<Part><PartNumber>2</PartNumber><ETag>&lt;x&gt;&apos;</ETag></Part>"
                      "</CompleteMultipartUpload>");
  mgo_buf_free(&b);
}

static void test_scrub(void **state)
{
  (void) state;
  char s[64] = "key s3cr3t and s3cr3ts3cr3t";
  s3_scrub(s, sizeof(s), "s3cr3t");
  assert_string_equal(s, "key *** and ******");
  char t[16] = "***";
  s3_scrub(t, sizeof(t), "***"); /* terminates */
  assert_string_equal(t, "***");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uri_encode),    cmocka_unit_test(test_canonical_query),
      cmocka_unit_test(test_urls),          cmocka_unit_test(test_xml_error),
      cmocka_unit_test(test_xml_upload_id), cmocka_unit_test(test_xml_list),
      cmocka_unit_test(test_xml_tagging),   cmocka_unit_test(test_complete_body),
      cmocka_unit_test(test_scrub),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
