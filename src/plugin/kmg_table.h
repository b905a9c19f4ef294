/* A text table with columns as wide as their widest cell, two spaces apart (the `kubectl get` look).
 *
 * Ownership: a struct kmg_table is caller-allocated, initialised with kmg_table_init() and released with
 * kmg_table_free(); cells are copied (each cut to KMG_CELL_MAX - 1 bytes). Rows beyond KMG_TABLE_ROWS are
 * dropped and counted in `dropped`. Thread-safety: one table belongs to one thread. */
#ifndef KMG_TABLE_H
#define KMG_TABLE_H

#include <stddef.h>

#include "mgo_buf.h"

#define KMG_TABLE_COLS 10
#define KMG_TABLE_ROWS 128
#define KMG_CELL_MAX 96

struct kmg_table {
  int ncols;
  size_t nrows; /* including the header row */
  size_t dropped;
  char (*cells)[KMG_TABLE_COLS][KMG_CELL_MAX]; /* KMG_TABLE_ROWS + 1 rows, calloc'ed */
};

/* The header row is the ncols (<= KMG_TABLE_COLS) strings of headers. MGO_ENOMEM / MGO_EINVAL. */
int kmg_table_init(struct kmg_table *t, int ncols, const char *const *headers);
/* Appends a row of t->ncols cells (NULL cells print as "-"). */
void kmg_table_add(struct kmg_table *t, const char *const *cells);
/* Appends the table to out, each line prefixed with indent. */
int kmg_table_render(const struct kmg_table *t, const char *indent, struct mgo_buf *out);
void kmg_table_free(struct kmg_table *t);

#endif
