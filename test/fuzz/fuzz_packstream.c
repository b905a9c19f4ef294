/* libFuzzer target: the PackStream decoder. The first byte picks the structure schema (none, Bolt 4,
 * Bolt 5) and tight limits; a decoded value is re-encoded and decoded again, and must compare equal. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "packstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  enum ps_schema schemas[3] = {PS_SCHEMA_NONE, PS_SCHEMA_BOLT4, PS_SCHEMA_BOLT5};
  enum ps_schema schema = schemas[data[0] % 3];
  struct ps_limits lim = {.max_depth = 32, .max_elements = 4096};
  struct bolt_value *v = NULL;
  size_t used = 0;
  char err[128];
  int rc = ps_decode(data + 1, size - 1, schema, &lim, &v, &used, err, sizeof(err));
  if (rc != MGO_OK) {
    if (v)
      abort(); /* a failed decode hands out nothing */
    return 0;
  }
  struct mgo_buf out = MGO_BUF_INIT(1 << 24);
  if (ps_encode(&out, v) == MGO_OK) {
    struct bolt_value *again = NULL;
    if (ps_decode((const uint8_t *) out.p, out.len, PS_SCHEMA_NONE, NULL, &again, NULL, NULL, 0) != MGO_OK)
      abort();
    if (!bolt_value_equal(v, again))
      abort();
    bolt_value_free(again);
  }
  mgo_buf_free(&out);
  bolt_value_free(v);
  return 0;
}
