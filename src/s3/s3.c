/* The operations of s3.h over s3_req_run (s3_req.c).
 *
 * Where the SHA-256 is stored.
 *   The hash is computed while the file streams, so it is only known once the body is sent; user metadata
 *   (x-amz-meta-*) must be given before the body, and hashing the file first would read it twice (a whole
 *   extra pass over a multi-GiB snapshot; measured in bench/results/agent-upload.md). So after the PUT, or
 *   after CompleteMultipartUpload, the hash goes into the object's tag set with PutObjectTagging (tag
 *   "sha256"), which AWS S3 and versitygw (posix backend: PutObjectTagging / GetObjectTagging, stored with
 *   the object; HeadObject answers x-amz-tagging-count) both implement. A companion "<key>.sha256" object
 *   would show up in listings and could outlive or lag its object. When tagging fails, the just written
 *   object is deleted (best effort) and the error returned, so a successful s3_put_file always leaves a hash
 *   behind. Credentials need s3:PutObjectTagging and s3:GetObjectTagging next to Put/GetObject.
 *   s3_head returns x-amz-meta-sha256 when present (objects written by other tools), else the "sha256" tag.
 *
 * Memory: a multipart upload holds one 80-byte ETag per part (at most 10000) and the CompleteMultipartUpload
 * body; file data only ever passes through curl's own buffer (CURLOPT_READFUNCTION over pread). */
#include "mgo_err.h"
#include "s3_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void hex_digest(EVP_MD_CTX *md, char out[S3_SHA256_HEX])
{
  unsigned char d[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex(md, d, &n);
  for (size_t i = 0; i < 32; i++)
    mgo_snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void set_err(struct s3_error *err, const char *msg)
{
  if (err) {
    memset(err, 0, sizeof(*err));
    mgo_strlcpy(err->message, msg, sizeof(err->message));
  }
}

int s3_delete(const struct s3_config *cfg, const char *key, struct s3_error *err)
{
  struct s3_req r;
  s3_req_init(&r, "DELETE", key);
  int rc = s3_req_run(cfg, &r, err);
  if (rc == MGO_ENOTFOUND && err && strcmp(err->code, "NoSuchBucket") != 0)
    rc = MGO_OK;
  s3_req_free(&r);
  return rc;
}

/* PutObjectTagging sha256=<hex> (defined with the multipart upload below). */
static int put_hash_tag(const struct s3_config *cfg, const char *key, const char *sha, void *conn,
                        struct s3_error *err);

static int put_single(const struct s3_config *cfg, const char *key, int fd, uint64_t size,
                      s3_progress_fn progress, void *pctx, struct s3_put_result *res, struct s3_error *err)
{
  struct s3_req r;
  int rc;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
    EVP_MD_CTX_free(md);
    return MGO_ENOMEM;
  }
  s3_req_init(&r, "PUT", key);
  r.in_fd = fd, r.in_len = size, r.up_hash = md;
  r.progress = progress, r.pctx = pctx, r.prog_total = size;
  rc = s3_req_run(cfg, &r, err);
  hex_digest(md, res->sha256);
  EVP_MD_CTX_free(md);
  if (!rc) {
    mgo_strlcpy(res->etag, r.etag, sizeof(res->etag));
    rc = put_hash_tag(cfg, key, res->sha256, NULL, err);
    if (rc)
      s3_delete(cfg, key, NULL); /* never leave an object without its hash */
  }
  if (!rc && progress)
    (void) progress(pctx, size, size); /* done: too late to cancel */
  s3_req_free(&r);
  return rc;
}

struct mpu {
  const struct s3_config *cfg;
  const char *key;
  int fd;
  uint64_t size;
  size_t part;
  size_t nparts;
  char upload_id[512];
  char (*etags)[80];
  EVP_MD_CTX *md;
  s3_progress_fn progress;
  void *pctx;
  void *conn; /* shared by every request of the upload */
};

static int mpu_create(struct mpu *m, struct s3_error *err)
{
  struct s3_qparam q[] = {{"uploads", ""}};
  struct s3_req r;
  s3_req_init(&r, "POST", m->key);
  r.conn = m->conn;
  r.query = q, r.nquery = 1;
  int rc = s3_req_run(m->cfg, &r, err);
  if (!rc &&
      (rc = s3_xml_upload_id(r.resp.p ? r.resp.p : "", r.resp.len, m->upload_id, sizeof(m->upload_id))))
    set_err(err, "CreateMultipartUpload: no UploadId in the answer");
  s3_req_free(&r);
  return rc;
}

static int mpu_part(struct mpu *m, size_t i, struct s3_error *err)
{
  char num[16];
  struct s3_qparam q[] = {{"partNumber", num}, {"uploadId", m->upload_id}};
  struct s3_req r;
  uint64_t off = (uint64_t) i * m->part;
  mgo_snprintf(num, sizeof(num), "%zu", i + 1);
  s3_req_init(&r, "PUT", m->key);
  r.conn = m->conn;
  r.query = q, r.nquery = 2;
  r.in_fd = m->fd, r.in_off = (off_t) off, r.up_hash = m->md;
  r.in_len = m->size - off < m->part ? m->size - off : m->part;
  int rc = s3_req_run(m->cfg, &r, err);
  if (!rc && r.etag[0] == '\0') {
    set_err(err, "UploadPart: no ETag in the answer");
    rc = MGO_EPARSE;
  }
  if (!rc)
    mgo_strlcpy(m->etags[i], r.etag, sizeof(m->etags[i]));
  s3_req_free(&r);
  if (!rc && m->progress && !m->progress(m->pctx, off + r.in_len, m->size)) {
    set_err(err, "canceled");
    rc = MGO_ECANCELED;
  }
  return rc;
}

static int mpu_complete(struct mpu *m, struct s3_put_result *res, struct s3_error *err)
{
  struct s3_qparam q[] = {{"uploadId", m->upload_id}};
  struct s3_req r;
  struct mgo_buf body = MGO_BUF_INIT((size_t) S3_MAX_PARTS * 200 + 256);
  int rc = s3_complete_body((const char(*)[80]) m->etags, m->nparts, &body);
  if (rc)
    return rc;
  s3_req_init(&r, "POST", m->key);
  r.conn = m->conn;
  r.query = q, r.nquery = 1;
  r.mem = body.p, r.mem_len = body.len;
  rc = s3_req_run(m->cfg, &r, err);
  const char *x = r.resp.p ? r.resp.p : "";
  if (!rc && s3_xml_error(x, r.resp.len, err) == MGO_OK) /* a 200 that carries an error */
    rc = s3_map_error(err->code, r.status) == MGO_EHTTP ? MGO_EFAILURE : s3_map_error(err->code, r.status);
  else if (!rc && s3_xml_get(x, r.resp.len, "ETag", res->etag, sizeof(res->etag)) != MGO_OK) {
    set_err(err, "CompleteMultipartUpload: the answer does not parse");
    rc = MGO_EPARSE;
  }
  s3_req_free(&r);
  mgo_buf_free(&body);
  return rc;
}

/* Best effort; the first error stays what the caller gets, with a note when the abort failed too. */
static void mpu_abort(struct mpu *m, struct s3_error *err)
{
  struct s3_qparam q[] = {{"uploadId", m->upload_id}};
  struct s3_req r;
  struct s3_error e2;
  s3_req_init(&r, "DELETE", m->key);
  r.conn = m->conn;
  r.query = q, r.nquery = 1;
  int rc = s3_req_run(m->cfg, &r, &e2);
  if (rc && rc != MGO_ENOTFOUND && err) {
    size_t n = strlen(err->message);
    mgo_snprintf(err->message + n, sizeof(err->message) - n, " (AbortMultipartUpload failed too: %s)",
                 mgo_strerror(rc));
  }
  s3_req_free(&r);
}

static void md5_base64(const char *p, size_t n, char *out, size_t outsz)
{
  unsigned char d[16];
  unsigned int dl = 0;
  EVP_Digest(p, n, d, &dl, EVP_md5(), NULL);
  if (outsz >= 25)
    EVP_EncodeBlock((unsigned char *) out, d, 16);
}

static int put_hash_tag(const struct s3_config *cfg, const char *key, const char *sha, void *conn,
                        struct s3_error *err)
{
  char body[256], md5[32], hdr[64];
  struct s3_qparam q[] = {{"tagging", ""}};
  struct s3_req r;
  mgo_snprintf(body, sizeof(body),
               "<Tagging><TagSet><Tag><Key>sha256</Key><Value>%s</Value></Tag></TagSet></Tagging>", sha);
  md5_base64(body, strlen(body), md5, sizeof(md5));
  mgo_snprintf(hdr, sizeof(hdr), "Content-MD5: %s", md5);
  s3_req_init(&r, "PUT", key);
  r.query = q, r.nquery = 1;
  r.mem = body, r.mem_len = strlen(body);
  r.headers[0] = hdr;
  r.conn = conn;
  int rc = s3_req_run(cfg, &r, err);
  s3_req_free(&r);
  return rc;
}

static int mpu_run(struct mpu *m, struct s3_put_result *res, struct s3_error *err)
{
  int rc = mpu_create(m, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < m->nparts && !rc; i++)
    rc = mpu_part(m, i, err);
  if (!rc) {
    hex_digest(m->md, res->sha256);
    rc = mpu_complete(m, res, err);
  }
  if (rc) {
    mpu_abort(m, err);
    return rc;
  }
  res->parts = (int) m->nparts;
  rc = put_hash_tag(m->cfg, m->key, res->sha256, m->conn, err);
  if (rc)
    s3_delete(m->cfg, m->key, NULL); /* never leave an object without its hash */
  return rc;
}

static int put_multipart(const struct s3_config *cfg, const char *key, int fd, uint64_t size, size_t part,
                         s3_progress_fn progress, void *pctx, struct s3_put_result *res, struct s3_error *err)
{
  struct mpu m = {.cfg = cfg,
                  .key = key,
                  .fd = fd,
                  .size = size,
                  .part = part,
                  .nparts = (size_t) ((size + part - 1) / part),
                  .progress = progress,
                  .pctx = pctx};
  if (m.nparts > S3_MAX_PARTS) {
    set_err(err, "the file needs more than 10000 parts");
    return MGO_ETOOBIG;
  }
  m.etags = calloc(m.nparts, sizeof(*m.etags));
  m.md = EVP_MD_CTX_new();
  m.conn = s3_conn_new();
  int rc = !m.etags || !m.md || !m.conn || !EVP_DigestInit_ex(m.md, EVP_sha256(), NULL) ? MGO_ENOMEM : MGO_OK;
  if (rc)
    set_err(err, "out of memory");
  else
    rc = mpu_run(&m, res, err);
  EVP_MD_CTX_free(m.md);
  s3_conn_free(m.conn);
  free(m.etags);
  return rc;
}

/* The part size to use: at least 5 MiB, at most 5 GiB, and large enough for 10000 parts. */
static size_t choose_part(size_t asked, uint64_t size)
{
  uint64_t part = asked ? asked : S3_DEFAULT_PART;
  if (part < S3_MIN_PART)
    part = S3_MIN_PART;
  if (part > S3_MAX_PART)
    part = S3_MAX_PART;
  uint64_t need = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
  if (part < need)
    part = (need + (1u << 20) - 1) & ~(uint64_t) ((1u << 20) - 1);
  return (size_t) part;
}

int s3_put_file(const struct s3_config *cfg, const char *key, const char *path, size_t part_size,
                s3_progress_fn progress, void *pctx, struct s3_put_result *res, struct s3_error *err)
{
  struct stat st;
  if (!cfg || !key || !path || !res) {
    set_err(err, "invalid argument");
    return MGO_EINVAL;
  }
  memset(res, 0, sizeof(*res));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    set_err(err, "cannot open the file");
    if (fd >= 0)
      close(fd);
    return fd < 0 && errno == ENOENT ? MGO_ENOTFOUND : MGO_ESYS;
  }
  uint64_t size = (uint64_t) st.st_size;
  size_t part = choose_part(part_size, size);
  int rc;
  if (size <= part)
    rc = put_single(cfg, key, fd, size, progress, pctx, res, err);
  else
    rc = put_multipart(cfg, key, fd, size, part, progress, pctx, res, err);
  if (!rc)
    res->size = size;
  close(fd);
  return rc;
}

/* fsyncs the directory holding path. */
static int sync_dir(const char *path)
{
  char tmp[4096];
  if (mgo_strlcpy(tmp, path, sizeof(tmp)))
    return MGO_ETOOBIG;
  int dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return MGO_ESYS;
  int rc = fsync(dfd) == 0 ? MGO_OK : MGO_ESYS;
  close(dfd);
  return rc;
}

/* Checks the downloaded size and hash; fills res. */
static int get_check(struct s3_req *r, EVP_MD_CTX *md, uint64_t expect_size, const char *expect_sha256,
                     struct s3_put_result *res, struct s3_error *err)
{
  res->size = r->done;
  hex_digest(md, res->sha256);
  mgo_strlcpy(res->etag, r->etag, sizeof(res->etag));
  if (expect_size != UINT64_MAX && expect_size != r->done) {
    set_err(err, "the object's size differs from the expected one");
    return MGO_ECONFLICT;
  }
  if (expect_sha256 && strcasecmp(expect_sha256, res->sha256) != 0) {
    set_err(err, "the object's SHA-256 differs from the expected one");
    return MGO_ECONFLICT;
  }
  return MGO_OK;
}

static int get_into(const struct s3_config *cfg, const char *key, int fd, uint64_t expect_size,
                    const char *expect_sha256, struct s3_put_result *res, struct s3_error *err)
{
  struct s3_req r;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
    EVP_MD_CTX_free(md);
    set_err(err, "out of memory");
    return MGO_ENOMEM;
  }
  s3_req_init(&r, "GET", key);
  r.out_fd = fd, r.down_hash = md;
  int rc = s3_req_run(cfg, &r, err);
  if (!rc)
    rc = get_check(&r, md, expect_size, expect_sha256, res, err);
  if (!rc && fsync(fd) != 0) {
    set_err(err, "fsync failed");
    rc = MGO_ESYS;
  }
  EVP_MD_CTX_free(md);
  s3_req_free(&r);
  return rc;
}

int s3_get_file(const struct s3_config *cfg, const char *key, const char *path, uint64_t expect_size,
                const char *expect_sha256, struct s3_put_result *res, struct s3_error *err)
{
  char part[4096];
  struct s3_put_result scratch;
  if (!res)
    res = &scratch;
  memset(res, 0, sizeof(*res));
  if (!cfg || !key || !path || mgo_snprintf(part, sizeof(part), "%s.part", path)) {
    set_err(err, "invalid argument");
    return MGO_EINVAL;
  }
  int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    set_err(err, "cannot create the .part file");
    return MGO_ESYS;
  }
  int rc = get_into(cfg, key, fd, expect_size, expect_sha256, res, err);
  if (close(fd) != 0 && !rc) {
    set_err(err, "close failed");
    rc = MGO_ESYS;
  }
  if (!rc && rename(part, path) != 0) {
    set_err(err, "rename failed");
    rc = MGO_ESYS;
  }
  if (rc)
    unlink(part);
  else
    rc = sync_dir(path);
  return rc;
}

static int get_hash_tag(const struct s3_config *cfg, const char *key, char sha256[S3_SHA256_HEX],
                        struct s3_error *err)
{
  struct s3_qparam q[] = {{"tagging", ""}};
  struct s3_req r;
  struct s3_error e;
  s3_req_init(&r, "GET", key);
  r.query = q, r.nquery = 1;
  int rc = s3_req_run(cfg, &r, &e);
  if (rc == MGO_EHTTP && strcmp(e.code, "NotImplemented") == 0) {
    rc = MGO_OK; /* a server without object tags: no stored hash */
    memset(&e, 0, sizeof(e));
  } else if (!rc && s3_xml_tag_value(r.resp.p ? r.resp.p : "", r.resp.len, "sha256", sha256, S3_SHA256_HEX)) {
    set_err(&e, "GetObjectTagging: the answer does not parse");
    sha256[0] = '\0';
    rc = MGO_EPARSE;
  }
  if (err)
    *err = e;
  s3_req_free(&r);
  return rc;
}

int s3_head(const struct s3_config *cfg, const char *key, uint64_t *size, char sha256[S3_SHA256_HEX],
            struct s3_error *err)
{
  struct s3_req r;
  sha256[0] = '\0';
  s3_req_init(&r, "HEAD", key);
  int rc = s3_req_run(cfg, &r, err);
  if (!rc && !r.has_length) {
    set_err(err, "HeadObject: no Content-Length");
    rc = MGO_EPARSE;
  }
  if (!rc) {
    *size = r.content_length;
    mgo_strlcpy(sha256, r.meta_sha256, S3_SHA256_HEX);
  }
  s3_req_free(&r);
  if (!rc && sha256[0] == '\0')
    rc = get_hash_tag(cfg, key, sha256, err);
  return rc;
}

/* One ListObjectsV2 page; token is "" for the first. */
struct list_call {
  const char *prefix;
  int max_keys;
  s3_list_fn cb;
  void *ctx;
  void *conn; /* shared by the pages */
};

static int list_page(const struct s3_config *cfg, const struct list_call *lc, const char *token,
                     struct s3_list_page *page, struct s3_error *err)
{
  char mk[16];
  struct s3_qparam q[4] = {{"list-type", "2"}, {"prefix", lc->prefix ? lc->prefix : ""}};
  size_t n = 2;
  struct s3_req r;
  if (lc->max_keys > 0) {
    mgo_snprintf(mk, sizeof(mk), "%d", lc->max_keys);
    q[n++] = (struct s3_qparam){"max-keys", mk};
  }
  if (token[0])
    q[n++] = (struct s3_qparam){"continuation-token", token};
  s3_req_init(&r, "GET", NULL);
  r.query = q, r.nquery = n;
  r.conn = lc->conn;
  int rc = s3_req_run(cfg, &r, err);
  if (!rc && (rc = s3_xml_list(r.resp.p ? r.resp.p : "", r.resp.len, lc->cb, lc->ctx, page)))
    set_err(err, "ListObjectsV2: the answer does not parse");
  s3_req_free(&r);
  return rc;
}

int s3_list_paged(const struct s3_config *cfg, const char *prefix, int max_keys, s3_list_fn cb, void *ctx,
                  struct s3_error *err)
{
  char token[1024] = "";
  struct s3_list_page *page = calloc(1, sizeof(*page));
  struct list_call lc = {prefix, max_keys, cb, ctx, s3_conn_new()};
  int rc = page && lc.conn ? MGO_OK : MGO_ENOMEM;
  if (!cfg || !cb)
    rc = MGO_EINVAL;
  while (!rc) {
    rc = list_page(cfg, &lc, token, page, err);
    if (rc || page->stopped || !page->truncated)
      break;
    if (strcmp(token, page->next_token) == 0) { /* a server that loops would make us loop */
      set_err(err, "ListObjectsV2: the same continuation token twice");
      rc = MGO_EPROTO;
      break;
    }
    mgo_strlcpy(token, page->next_token, sizeof(token));
  }
  free(page);
  s3_conn_free(lc.conn);
  return rc;
}

int s3_list(const struct s3_config *cfg, const char *prefix, s3_list_fn cb, void *ctx, struct s3_error *err)
{
  return s3_list_paged(cfg, prefix, 0, cb, ctx, err);
}

int s3_create_bucket(const struct s3_config *cfg, struct s3_error *err)
{
  char body[256] = "";
  struct s3_req r;
  if (cfg->region && strcmp(cfg->region, "us-east-1") != 0)
    mgo_snprintf(body, sizeof(body),
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                 cfg->region);
  s3_req_init(&r, "PUT", NULL);
  r.mem = body, r.mem_len = strlen(body);
  int rc = s3_req_run(cfg, &r, err);
  s3_req_free(&r);
  return rc;
}

int s3_count_uploads(const struct s3_config *cfg, const char *prefix, size_t *count, struct s3_error *err)
{
  struct s3_qparam q[] = {{"uploads", ""}, {"prefix", prefix ? prefix : ""}};
  struct s3_req r;
  s3_req_init(&r, "GET", NULL);
  r.query = q, r.nquery = 2;
  int rc = s3_req_run(cfg, &r, err);
  if (!rc && (rc = s3_xml_count_uploads(r.resp.p ? r.resp.p : "", r.resp.len, count)))
    set_err(err, "ListMultipartUploads: the answer does not parse");
  s3_req_free(&r);
  return rc;
}
