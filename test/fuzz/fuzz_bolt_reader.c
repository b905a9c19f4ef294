/* libFuzzer target: the message reader as the client runs it: the dechunker fed in pieces whose sizes come
 * from the input, each complete message decoded as a Bolt 5 message with a small size cap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bolt_chunk.h"
#include "mgo_err.h"
#include "packstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_message(const struct bolt_dechunker *d, enum ps_schema schema)
{
  size_t len = 0;
  const uint8_t *msg = bolt_dechunker_message(d, &len);
  if (!msg || len == 0 || len > 4096)
    abort(); /* a complete message is never empty and never above the cap */
  struct ps_limits lim = {.max_depth = 32, .max_elements = 4096};
  struct bolt_value *v = NULL;
  char err[128];
  if (ps_decode_message(msg, len, schema, &lim, &v, err, sizeof(err)) == MGO_OK)
    bolt_value_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  size_t step = (size_t) data[0] + 1;
  enum ps_schema schema = data[1] & 1 ? PS_SCHEMA_BOLT5 : PS_SCHEMA_BOLT4;
  data += 2;
  size -= 2;
  struct bolt_dechunker d;
  bolt_dechunker_init(&d, 4096);
  size_t off = 0;
  while (off < size) {
    size_t n = size - off < step ? size - off : step, used = 0;
    int rc = bolt_dechunker_feed(&d, data + off, n, &used);
    if (used > n)
      abort();
    off += used;
    if (rc == MGO_OK)
      decode_message(&d, schema);
    else if (rc != MGO_EAGAIN)
      break;
  }
  bolt_dechunker_free(&d);
  return 0;
}
