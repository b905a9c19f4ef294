/* Internals of src/s3 shared by its files, the unit tests, the integration driver and the fuzz target.
 *
 * s3_query.c: the canonical query string and the request URL (pure). s3_xml.c: a minimal extractor for the
 * few S3 answers this client reads (pure; never reads past len, malformed or truncated input is MGO_EPARSE).
 * s3_req.c: one signed request over a curl easy handle. s3.c: the operations of s3.h.
 *
 * Ownership: callers own every buffer passed in; nothing here keeps a pointer after returning.
 * Thread-safety: all functions are reentrant. */
#ifndef MGO_S3_INTERNAL_H
#define MGO_S3_INTERNAL_H

#include "mgo_buf.h"
#include "s3.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_MAX_PARTS 10000
#define S3_MIN_PART ((size_t) 5 << 20)
#define S3_DEFAULT_PART ((size_t) 16 << 20)
#define S3_MAX_PART ((size_t) 5 << 30)
#define S3_MAX_XML ((size_t) 8 << 20) /* ceiling of any XML answer kept in memory */

struct s3_qparam {
  const char *key;
  const char *value; /* NULL or "" both give "key=" */
};

/* Bucket names: 3-63 characters of [a-z0-9.-], starting and ending with a letter or digit. */
bool s3_bucket_valid(const char *bucket);
/* Canonical query: keys sorted (byte order), keys and values AWS-encoded, "k=v" joined by '&'. Appends to
 * out (which is not reset). MGO_ETOOBIG when a value does not fit. */
int s3_canonical_query(const struct s3_qparam *q, size_t n, struct mgo_buf *out);
/* The request URL for key (NULL: the bucket itself) and query. MGO_ECONFIG on a bad endpoint or bucket. */
int s3_build_url(const struct s3_config *cfg, const char *key, const struct s3_qparam *q, size_t n,
                 struct mgo_buf *out);

/* XML. s3_xml_find: the next element <tag> at or after *pos in xml[0..len); val and vlen receive its raw
 * content, and *pos moves past its end tag. MGO_ENOTFOUND when there is none, MGO_EPARSE when it is not
 * closed. */
int s3_xml_find(const char *xml, size_t len, size_t *pos, const char *tag, const char **val, size_t *vlen);
/* Entity-decodes text (&amp; &lt; &gt; &quot; &apos; &#N; &#xH;) into out. MGO_EPARSE on markup or a bad
 * entity, MGO_ETOOBIG when out is too small. */
int s3_xml_text(const char *v, size_t vlen, char *out, size_t outsz);
/* The decoded text of the first <tag> in xml; MGO_ENOTFOUND / MGO_EPARSE / MGO_ETOOBIG. */
int s3_xml_get(const char *xml, size_t len, const char *tag, char *out, size_t outsz);
/* An <Error> document: fills err->code and err->message. MGO_EPARSE when xml is not one. */
int s3_xml_error(const char *xml, size_t len, struct s3_error *err);
/* InitiateMultipartUploadResult's UploadId. */
int s3_xml_upload_id(const char *xml, size_t len, char *out, size_t outsz);

struct s3_list_page {
  bool truncated;
  char next_token[1024]; /* NextContinuationToken when truncated */
  bool stopped;          /* the callback returned false */
  size_t count;          /* objects passed to the callback */
};
/* One ListBucketResult page: calls cb per <Contents>. */
int s3_xml_list(const char *xml, size_t len, s3_list_fn cb, void *ctx, struct s3_list_page *page);
/* The Value of the tag whose Key is key in a Tagging document ("" when absent). */
int s3_xml_tag_value(const char *xml, size_t len, const char *key, char *out, size_t outsz);
/* Number of <Upload> entries of a ListMultipartUploadsResult. */
int s3_xml_count_uploads(const char *xml, size_t len, size_t *count);
/* Appends s with & < > " ' escaped. */
int s3_xml_escape(const char *s, struct mgo_buf *out);
/* The CompleteMultipartUpload body for parts etags[0..n) (part numbers 1..n). */
int s3_complete_body(const char (*etags)[80], size_t n, struct mgo_buf *out);

/* One request. The body is either none, mem (hashed, its SHA-256 sent as x-amz-content-sha256) or the file
 * range fd[off, off+len) sent as UNSIGNED-PAYLOAD and hashed into up_hash when set. The answer goes to
 * out_fd (2xx bodies only; hashed into down_hash) or to resp (bounded by S3_MAX_XML). */
struct s3_req {
  const char *method; /* GET PUT POST DELETE HEAD */
  const char *key;    /* NULL: the bucket */
  const struct s3_qparam *query;
  size_t nquery;
  const char *headers[4]; /* extra "Name: value" lines, NULL-terminated early */
  const char *mem;
  size_t mem_len;
  int in_fd; /* -1: no file body */
  off_t in_off;
  uint64_t in_len;
  void *up_hash; /* EVP_MD_CTX * or NULL */
  int out_fd;    /* -1: answer into resp */
  void *down_hash;
  s3_progress_fn progress;
  void *pctx;
  uint64_t prog_base, prog_total; /* progress reported as prog_base + bytes of this request */
  struct mgo_buf resp;
  void *conn; /* s3_conn_new() to reuse across requests (its connections stay open), NULL: a fresh one */
  /* filled by s3_req_run */
  long status;
  uint64_t done; /* body bytes sent or received */
  char etag[80];
  char meta_sha256[S3_SHA256_HEX];
  uint64_t content_length;
  bool has_length;
  int local_rc; /* a failure inside a callback (write error, cancel) */
};

void s3_req_init(struct s3_req *r, const char *method, const char *key);
/* A connection (a curl easy handle) several sequential requests of one operation share; NULL on failure. */
void *s3_conn_new(void);
void s3_conn_free(void *conn);
/* Runs r; MGO_OK for a 2xx answer, else the mapped error with *err filled (secret scrubbed). */
int s3_req_run(const struct s3_config *cfg, struct s3_req *r, struct s3_error *err);
void s3_req_free(struct s3_req *r);
/* Maps an S3 error code and HTTP status to MGO_*. */
int s3_map_error(const char *code, long status);
/* Replaces every occurrence of secret in s by "***". */
void s3_scrub(char *s, size_t sz, const char *secret);

/* For tests: s3_list with a page size (max-keys; 0: the server's default). */
int s3_list_paged(const struct s3_config *cfg, const char *prefix, int max_keys, s3_list_fn cb, void *ctx,
                  struct s3_error *err);
/* For tests: the number of multipart uploads in progress under prefix (ListMultipartUploads). */
int s3_count_uploads(const struct s3_config *cfg, const char *prefix, size_t *count, struct s3_error *err);

#endif
