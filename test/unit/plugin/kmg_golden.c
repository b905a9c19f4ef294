/* Golden text files (kmg_golden.h). */
#include "kmg_golden.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgo_buf.h"

static void source_path(const char *rel, char *out, size_t outsz)
{
  const char *root = getenv("MGO_SOURCE_DIR");
  mgo_snprintf(out, outsz, "%s/%s", root ? root : ".", rel);
}

static char *read_all(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  struct mgo_buf b = MGO_BUF_INIT(16 * 1024 * 1024);
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    mgo_buf_add(&b, chunk, n);
  }
  fclose(f);
  return mgo_buf_take(&b, NULL);
}

void kmg_test_golden_text(const char *rel, const char *text)
{
  char path[1024];
  source_path(rel, path, sizeof(path));
  const char *update = getenv("MGO_UPDATE_GOLDEN");
  if (update != NULL && strcmp(update, "1") == 0) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
  }
  char *want = read_all(path);
  if (want == NULL) {
    fail_msg("golden file %s missing (MGO_UPDATE_GOLDEN=1 writes it); produced:\n%s", path, text);
  }
  int diff = strcmp(want, text);
  free(want);
  if (diff != 0) {
    fail_msg("%s differs (MGO_UPDATE_GOLDEN=1 rewrites it); produced:\n%s", path, text);
  }
}

json_t *kmg_test_load_json(const char *rel)
{
  char path[1024];
  source_path(rel, path, sizeof(path));
  json_error_t err;
  json_t *v = json_load_file(path, 0, &err);
  if (v == NULL) {
    fail_msg("%s: %s (line %d)", path, err.text, err.line);
  }
  return v;
}
