#include "golden.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgo_buf.h"

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  struct mgo_buf b = MGO_BUF_INIT((size_t) 64 * 1024 * 1024);
  char chunk[4096];
  size_t n;
  if (f == NULL)
    return NULL;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    mgo_buf_add(&b, chunk, n);
  fclose(f);
  return mgo_buf_take(&b, NULL);
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fprintf(f, "%s\n", text);
  fclose(f);
}

void mgo_test_golden_json(const char *rel, const json_t *obj)
{
  const char *root = getenv("MGO_SOURCE_DIR");
  const char *update = getenv("MGO_UPDATE_GOLDEN");
  char path[1024];
  char *got = json_dumps(obj, JSON_SORT_KEYS | JSON_INDENT(2));
  char *want;
  size_t len;

  assert_non_null(got);
  mgo_snprintf(path, sizeof(path), "%s/%s", root ? root : ".", rel);
  if (update != NULL && strcmp(update, "1") == 0)
    write_file(path, got);
  want = read_file(path);
  if (want == NULL)
    fail_msg("missing golden file %s (run with MGO_UPDATE_GOLDEN=1)", path);
  len = strlen(want);
  if (len > 0 && want[len - 1] == '\n')
    want[len - 1] = '\0';
  if (strcmp(got, want) != 0)
    fail_msg("%s differs from the output below; regenerate with MGO_UPDATE_GOLDEN=1 and review the diff:\n%s",
             path, got);
  free(got);
  free(want);
}
