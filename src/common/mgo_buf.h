/* A growable byte buffer with a mandatory ceiling.
 *
 * Every buffer that holds data from the network has a maximum size chosen by its user, so a hostile or
 * broken peer cannot make the process allocate without bound. The contents are always NUL-terminated
 * (the terminator is not counted in len), so text can be handed to C string functions safely.
 *
 * Ownership: the struct is caller-allocated (usually inside another struct). mgo_buf_free() releases the
 * memory; mgo_buf_take() hands it to the caller (who free()s it) and leaves the buffer empty.
 * Thread-safety: none; one buffer belongs to one thread at a time. */
#ifndef MGO_BUF_H
#define MGO_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct mgo_buf {
  char *p;    /* NULL until the first append; then always NUL-terminated */
  size_t len; /* bytes used, terminator excluded */
  size_t cap; /* bytes allocated */
  size_t max; /* ceiling for len; appends beyond it fail with MGO_ETOOBIG */
};

#define MGO_BUF_INIT(maxbytes)                                                                               \
  {                                                                                                          \
    NULL, 0, 0, (maxbytes)                                                                                   \
  }

void mgo_buf_init(struct mgo_buf *b, size_t max);
/* Appends n bytes. MGO_ETOOBIG past max (nothing appended), MGO_ENOMEM on allocation failure. */
int mgo_buf_add(struct mgo_buf *b, const void *data, size_t n);
int mgo_buf_addstr(struct mgo_buf *b, const char *s);
/* Appends formatted text (vsnprintf semantics, always bounded). */
int mgo_buf_printf(struct mgo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mgo_buf_vprintf(struct mgo_buf *b, const char *fmt, va_list ap);
/* Appends s as a quoted JSON string: '"' and '\\' escaped, '\n' as \\n, other control characters as \\u00XX,
 * the rest as is (also valid logfmt quoting). MGO_ETOOBIG, MGO_ENOMEM. */
int mgo_buf_add_json_string(struct mgo_buf *b, const char *s);
/* Removes the first n bytes (n > len clears the buffer). */
void mgo_buf_consume(struct mgo_buf *b, size_t n);
/* Empties the buffer but keeps its memory. */
void mgo_buf_reset(struct mgo_buf *b);
/* Returns the contents ("" for an empty buffer); borrowed, valid until the next call on b. */
const char *mgo_buf_str(const struct mgo_buf *b);
/* Transfers the memory to the caller (free() it); *len receives the length if non-NULL. Never NULL:
 * an empty buffer yields a fresh "" (or NULL only when that allocation fails). */
char *mgo_buf_take(struct mgo_buf *b, size_t *len);
void mgo_buf_free(struct mgo_buf *b);

/* Copies src into dst (size dstsz > 0), always NUL-terminating. Returns MGO_ETOOBIG when truncated. */
int mgo_strlcpy(char *dst, const char *src, size_t dstsz);
/* snprintf into a fixed buffer; returns MGO_ETOOBIG when the output was truncated. */
int mgo_snprintf(char *dst, size_t dstsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
