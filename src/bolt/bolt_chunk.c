#include "bolt_chunk.h"

#include <string.h>

#include "mgo_err.h"

int bolt_chunk_write(struct mgo_buf *out, const uint8_t *msg, size_t len)
{
  size_t off = 0;
  while (off < len) {
    size_t n = len - off > BOLT_MAX_CHUNK ? BOLT_MAX_CHUNK : len - off;
    uint8_t hdr[2] = {(uint8_t) (n >> 8), (uint8_t) n};
    int rc = mgo_buf_add(out, hdr, 2);
    if (rc == MGO_OK)
      rc = mgo_buf_add(out, msg + off, n);
    if (rc != MGO_OK)
      return rc;
    off += n;
  }
  static const uint8_t end[2] = {0, 0};
  return mgo_buf_add(out, end, 2);
}

void bolt_dechunker_init(struct bolt_dechunker *d, size_t max_message)
{
  memset(d, 0, sizeof(*d));
  mgo_buf_init(&d->msg, max_message);
}

void bolt_dechunker_free(struct bolt_dechunker *d)
{
  mgo_buf_free(&d->msg);
  memset(d, 0, sizeof(*d));
}

/* A complete 2-byte header: 0 ends the message (or is a NOOP when nothing is pending). Returns MGO_OK when a
 * message just completed, MGO_EAGAIN otherwise. */
static int on_header(struct bolt_dechunker *d)
{
  size_t n = ((size_t) d->header[0] << 8) | d->header[1];
  d->header_len = 0;
  if (n > 0) {
    d->chunk_left = n;
    return MGO_EAGAIN;
  }
  if (d->msg.len == 0) {
    d->noops++;
    return MGO_EAGAIN;
  }
  d->complete = 1;
  return MGO_OK;
}

int bolt_dechunker_feed(struct bolt_dechunker *d, const uint8_t *p, size_t n, size_t *used)
{
  size_t off = 0;
  int rc = MGO_EAGAIN;
  if (d->complete) {
    mgo_buf_reset(&d->msg);
    d->complete = 0;
  }
  while (off < n && rc == MGO_EAGAIN) {
    if (d->chunk_left == 0) {
      d->header[d->header_len++] = p[off++];
      if (d->header_len == 2)
        rc = on_header(d);
      continue;
    }
    size_t take = n - off < d->chunk_left ? n - off : d->chunk_left;
    int add = mgo_buf_add(&d->msg, p + off, take);
    if (add != MGO_OK) {
      *used = off;
      return add;
    }
    off += take;
    d->chunk_left -= take;
  }
  *used = off;
  return rc;
}

const uint8_t *bolt_dechunker_message(const struct bolt_dechunker *d, size_t *len)
{
  *len = d->complete ? d->msg.len : 0;
  return d->complete ? (const uint8_t *) d->msg.p : NULL;
}
