/* An S3 client over libcurl's CURLOPT_AWS_SIGV4 (curl 7.88 on Debian 12): upload a file (single PUT or a
 * multipart upload streamed from disk in constant memory), download a file with size and SHA-256 checks,
 * list, head and delete objects under a prefix.
 *
 * Because curl 7.88 signs only what it is given, this module builds itself: the x-amz-content-sha256 header
 * (UNSIGNED-PAYLOAD for file bodies, the SHA-256 of small XML bodies), the canonical query string (sorted
 * keys, AWS percent-encoding, "key=" for empty values) and the percent-encoded key path.
 *
 * Errors: MGO_OK or a negative MGO_* code; on failure *err is filled: the HTTP status, S3's error Code and
 * Message from the XML body (e.g. "SignatureDoesNotMatch", "NoSuchBucket"), or curl's text for transport
 * failures. Credentials never appear in err, in logs or in anything this module returns.
 * MGO_EAUTH: InvalidAccessKeyId / SignatureDoesNotMatch / AccessDenied; MGO_ENOTFOUND: NoSuchBucket /
 * NoSuchKey / 404; MGO_ECONNECT / MGO_ETIMEDOUT / MGO_EIO: transport; MGO_EHTTP: other statuses;
 * MGO_EPARSE: a 2xx answer that does not parse; MGO_ECANCELED: the progress callback returned false (a
 * multipart upload is then aborted); MGO_ECONFLICT: a downloaded file's size or SHA-256 differs from what
 * was expected, or the file to upload changed while it was read; MGO_EEXIST: s3_create_bucket on an
 * existing bucket; MGO_ESYS: a local file operation failed.
 *
 * Ownership: every struct here is caller-owned; strings in s3_config are borrowed for the duration of a
 * call. Thread-safety: calls are independent (each uses its own curl easy handle); call s3_global_init()
 * once from main() before threads start. */
#ifndef MGO_S3_H
#define MGO_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_SHA256_HEX 65 /* 64 hex digits + NUL */

struct s3_config {
  const char *endpoint; /* "http://127.0.0.1:7070" or "https://s3.eu-west-1.amazonaws.com" */
  const char *region;   /* "us-east-1" */
  const char *bucket;
  const char *access_key;
  const char *secret_key;
  const char *session_token; /* NULL or a temporary credential's token */
  bool force_path_style;     /* endpoint/bucket/key instead of bucket.endpoint/key */
  const char *ca_file;       /* NULL: the system trust store */
  long connect_timeout_ms;   /* 0: 5000 */
  long low_speed_timeout_s;  /* abort when under 1 KiB/s for this long; 0: 30 */
};

struct s3_error {
  long http_status; /* 0 when no answer came */
  char code[64];    /* S3's <Code> or "" */
  char message[256];
};

struct s3_object {
  char key[1024];
  uint64_t size;
  char last_modified[40]; /* as S3 gives it, ISO 8601 */
  char etag[80];
};

/* Progress of an upload or download, called at most once per part / 8 MiB. Return false to cancel: a
 * single PUT or a download stops at the next 8 MiB, a multipart upload after the current part. */
typedef bool (*s3_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct s3_put_result {
  uint64_t size;
  char sha256[S3_SHA256_HEX]; /* of the whole file, computed while streaming */
  char etag[80];
  int parts; /* 0 for a single PUT */
};

void s3_global_init(void);

/* Uploads path to key. Files up to part_size go in one PUT; larger ones as a multipart upload of part_size
 * parts (0: 16 MiB; minimum 5 MiB) that is aborted on any failure. The SHA-256 is stored with the object
 * (see the implementation notes in s3.c) and returned in *res. */
int s3_put_file(const struct s3_config *cfg, const char *key, const char *path, size_t part_size,
                s3_progress_fn progress, void *pctx, struct s3_put_result *res, struct s3_error *err);

/* Downloads key into path (created 0600, replaced atomically through path.part). When expect_size is not
 * UINT64_MAX or expect_sha256 is not NULL, a mismatch removes the file and returns MGO_ECONFLICT. */
int s3_get_file(const struct s3_config *cfg, const char *key, const char *path, uint64_t expect_size,
                const char *expect_sha256, struct s3_put_result *res, struct s3_error *err);

/* Lists objects under prefix (all pages); cb returns false to stop early. */
typedef bool (*s3_list_fn)(void *ctx, const struct s3_object *obj);
int s3_list(const struct s3_config *cfg, const char *prefix, s3_list_fn cb, void *ctx, struct s3_error *err);

/* Size and stored SHA-256 ("" when none) of key. MGO_ENOTFOUND when it does not exist. */
int s3_head(const struct s3_config *cfg, const char *key, uint64_t *size, char sha256[S3_SHA256_HEX],
            struct s3_error *err);

/* Deletes key; deleting a missing key is MGO_OK (S3 semantics). */
int s3_delete(const struct s3_config *cfg, const char *key, struct s3_error *err);

/* Creates cfg->bucket (a LocationConstraint outside us-east-1). MGO_EEXIST when it exists already. */
int s3_create_bucket(const struct s3_config *cfg, struct s3_error *err);

/* Pure helpers, exposed for tests. AWS percent-encoding of s (RFC 3986 unreserved kept; '/' kept when
 * keep_slash). MGO_ETOOBIG when out is too small. */
int s3_uri_encode(const char *s, bool keep_slash, char *out, size_t outsz);

#endif
