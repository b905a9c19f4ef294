/* Internal helpers shared by the files of the memgraph module (not part of the public API). */
#ifndef MGO_MEMGRAPH_MG_INT_H
#define MGO_MEMGRAPH_MG_INT_H

#include "mg.h"

/* Resets err to "success" (err may be NULL). */
void mg__err_clear(struct mg_error *err);
/* Fills err with a local failure and returns rc (err may be NULL). */
int mg__err_local(struct mg_error *err, int rc, enum mg_err_class cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Index of a column by name in a list of strings, or -1. */
long mg__column(const struct bolt_value *fields, const char *name);
/* Copies a string value into dst; false when v is not a string. *truncated is set when it did not fit. */
bool mg__copy_string(const struct bolt_value *v, char *dst, size_t dstsz, bool *truncated);

#endif
