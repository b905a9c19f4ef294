/* Bolt message framing (bolt.md §2), free of I/O so it runs in event loops, unit tests and fuzzers alike.
 *
 * Writer: bolt_chunk_write() appends one message as chunks of at most 65535 bytes plus the 00 00 end marker.
 * Reader: a struct bolt_dechunker is fed whatever bytes arrived; it reassembles one message at a time into
 * its own bounded buffer, skips NOOP chunks (00 00 between messages) and refuses messages above max_message.
 *
 * Ownership: the dechunker is caller-allocated; bolt_dechunker_free() releases its buffer. The message
 * returned by bolt_dechunker_message() is borrowed until the next feed or free.
 * Thread-safety: none; one dechunker belongs to one connection. */
#ifndef MGO_BOLT_CHUNK_H
#define MGO_BOLT_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "mgo_buf.h"

#define BOLT_MAX_CHUNK 65535u

int bolt_chunk_write(struct mgo_buf *out, const uint8_t *msg, size_t len);

struct bolt_dechunker {
  struct mgo_buf msg;  /* the message being reassembled (max = the message size cap) */
  uint8_t header[2];   /* a chunk header split across feeds */
  unsigned header_len; /* bytes of header[] filled */
  size_t chunk_left;   /* payload bytes still expected in the current chunk */
  int complete;        /* a whole message sits in msg */
  unsigned long noops; /* NOOP chunks skipped so far (for tests and keep-alive accounting) */
};

void bolt_dechunker_init(struct bolt_dechunker *d, size_t max_message);
void bolt_dechunker_free(struct bolt_dechunker *d);

/* Consumes bytes from [p, p + n) and sets *used to how many it took. Returns MGO_OK when a complete message
 * is ready (read it with bolt_dechunker_message(); the next feed starts a new one; unconsumed input stays
 * with the caller), MGO_EAGAIN when all input was consumed and more is needed, MGO_ETOOBIG when the message
 * exceeds max_message (the stream is then unusable), MGO_ENOMEM on allocation failure. */
int bolt_dechunker_feed(struct bolt_dechunker *d, const uint8_t *p, size_t n, size_t *used);

/* The complete message (borrowed). */
const uint8_t *bolt_dechunker_message(const struct bolt_dechunker *d, size_t *len);

#endif
