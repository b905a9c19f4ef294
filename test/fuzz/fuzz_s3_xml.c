/* libFuzzer target: the S3 client's XML extractor (src/s3/s3_xml.c) on arbitrary answers: the error
 * document, InitiateMultipartUploadResult, ListBucketResult pages, Tagging and ListMultipartUploadsResult.
 * The input is not NUL-terminated (a copy without terminator), so any read past len is caught by ASan. Every
 * call must return MGO_OK or an error code; a listed key must be NUL-terminated within its field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"
#include "s3_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool check_object(void *ctx, const struct s3_object *o)
{
  (void) ctx;
  if (memchr(o->key, '\0', sizeof(o->key)) == NULL || memchr(o->etag, '\0', sizeof(o->etag)) == NULL)
    abort();
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *x = malloc(size ? size : 1);
  if (!x)
    return 0;
  memcpy(x, data, size);
  struct s3_error err;
  struct s3_list_page page;
  char out[1024], small[S3_SHA256_HEX];
  size_t n = 0;
  memset(&err, 0, sizeof(err));
  int rcs[] = {
      s3_xml_error(x, size, &err),
      s3_xml_upload_id(x, size, out, sizeof(out)),
      s3_xml_list(x, size, check_object, NULL, &page),
      s3_xml_tag_value(x, size, "sha256", small, sizeof(small)),
      s3_xml_count_uploads(x, size, &n),
  };
  for (size_t i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++)
    if (rcs[i] > 0 || rcs[i] <= MGO_ERR_LAST)
      abort();
  if (memchr(err.code, '\0', sizeof(err.code)) == NULL ||
      memchr(err.message, '\0', sizeof(err.message)) == NULL)
    abort();
  free(x);
  return 0;
}
