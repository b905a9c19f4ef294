/* Text tables for kubectl-memgraph (kmg_table.h). */
#include "kmg_table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"

int kmg_table_init(struct kmg_table *t, int ncols, const char *const *headers)
{
  memset(t, 0, sizeof(*t));
  if (ncols < 1 || ncols > KMG_TABLE_COLS) {
    return MGO_EINVAL;
  }
  t->cells = calloc(KMG_TABLE_ROWS + 1, sizeof(*t->cells));
  if (t->cells == NULL) {
    return MGO_ENOMEM;
  }
  t->ncols = ncols;
  kmg_table_add(t, headers);
  return MGO_OK;
}

void kmg_table_add(struct kmg_table *t, const char *const *cells)
{
  if (t->cells == NULL) {
    return;
  }
  if (t->nrows > KMG_TABLE_ROWS) {
    t->dropped++;
    return;
  }
  for (int c = 0; c < t->ncols; c++) {
    const char *v = cells[c] && cells[c][0] ? cells[c] : "-";
    mgo_strlcpy(t->cells[t->nrows][c], v, KMG_CELL_MAX);
  }
  t->nrows++;
}

int kmg_table_render(const struct kmg_table *t, const char *indent, struct mgo_buf *out)
{
  size_t width[KMG_TABLE_COLS] = {0};
  for (size_t r = 0; r < t->nrows; r++) {
    for (int c = 0; c < t->ncols; c++) {
      size_t n = strlen(t->cells[r][c]);
      width[c] = n > width[c] ? n : width[c];
    }
  }
  int rc = MGO_OK;
  for (size_t r = 0; r < t->nrows && rc == MGO_OK; r++) {
    rc = mgo_buf_addstr(out, indent);
    for (int c = 0; c < t->ncols && rc == MGO_OK; c++) {
      bool last = c == t->ncols - 1;
      rc = last ? mgo_buf_addstr(out, t->cells[r][c])
                : mgo_buf_printf(out, "%-*s  ", (int) width[c], t->cells[r][c]);
    }
    rc = rc == MGO_OK ? mgo_buf_addstr(out, "\n") : rc;
  }
  if (rc == MGO_OK && t->dropped > 0) {
    rc = mgo_buf_printf(out, "%s(%zu more rows not shown)\n", indent, t->dropped);
  }
  return rc;
}

void kmg_table_free(struct kmg_table *t)
{
  free(t->cells);
  t->cells = NULL;
}
