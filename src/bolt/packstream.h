/* PackStream v1: encoding a struct bolt_value tree to bytes and decoding bytes back, with no I/O.
 *
 * Encoding always uses the smallest form (bolt.md §3.2) and never emits the legacy DC/DD structure
 * markers. Decoding accepts every width, trusts no length and stops with MGO_EPARSE (malformed input:
 * reserved marker, truncation, non-string key, invalid UTF-8, wrong structure shape) or MGO_ETOOBIG (a limit
 * in struct ps_limits was hit), writing a one-line reason into the caller's err buffer.
 *
 * Structure checking: with schema PS_SCHEMA_NONE any tag and any field count is accepted (a generic codec).
 * With PS_SCHEMA_BOLT4 / PS_SCHEMA_BOLT5 the value tags of bolt.md §4 are checked against the negotiated
 * major version: field count, field types, the tags allowed (F/f only before 5, I/i only in 5), and unknown
 * tags are rejected.
 *
 * Ownership: ps_decode() hands a new tree to the caller (bolt_value_free()). ps_encode() appends to the
 * caller's buffer. Thread-safety: all functions are reentrant; no global state. */
#ifndef MGO_BOLT_PACKSTREAM_H
#define MGO_BOLT_PACKSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "bolt_value.h"
#include "mgo_buf.h"

enum ps_schema { PS_SCHEMA_NONE = 0, PS_SCHEMA_BOLT4 = 4, PS_SCHEMA_BOLT5 = 5 };

struct ps_limits {
  unsigned max_depth;  /* nesting of lists/maps/structures; the top value is depth 1 */
  size_t max_elements; /* values in the whole tree (each item, key/value pair and field counts) */
};

#define PS_DEFAULT_MAX_DEPTH 64u
#define PS_DEFAULT_MAX_ELEMENTS (1u << 20)

/* Fills the defaults above. */
void ps_limits_default(struct ps_limits *lim);

/* Decodes exactly one value from [p, p + len). *consumed (may be NULL) receives the bytes used; trailing
 * bytes are allowed (the caller decides whether they are an error). lim NULL = defaults. err may be NULL. */
int ps_decode(const uint8_t *p, size_t len, enum ps_schema schema, const struct ps_limits *lim,
              struct bolt_value **out, size_t *consumed, char *err, size_t errsz);

/* Decodes one Bolt message: a structure whose tag is a message tag (not checked here) and whose fields are
 * values (checked against schema). The message must fill [p, p + len) exactly. */
int ps_decode_message(const uint8_t *p, size_t len, enum ps_schema schema, const struct ps_limits *lim,
                      struct bolt_value **out, char *err, size_t errsz);

/* Appends the encoding of v. MGO_EINVAL for values that cannot be encoded (a structure with more than 15
 * fields, a tag above 0x7F, sizes above 2^31-1, nesting deeper than PS_DEFAULT_MAX_DEPTH); MGO_ETOOBIG when
 * out's ceiling is reached. On failure out may hold a partial encoding: reset it. */
int ps_encode(struct mgo_buf *out, const struct bolt_value *v);

/* Writers for building messages without a tree (all smallest-form). */
int ps_write_null(struct mgo_buf *out);
int ps_write_bool(struct mgo_buf *out, int b);
int ps_write_int(struct mgo_buf *out, int64_t i);
int ps_write_float(struct mgo_buf *out, double d);
int ps_write_string(struct mgo_buf *out, const char *s, size_t len);
int ps_write_bytes(struct mgo_buf *out, const void *p, size_t len);
int ps_write_list_header(struct mgo_buf *out, size_t n);
int ps_write_map_header(struct mgo_buf *out, size_t n);
int ps_write_struct_header(struct mgo_buf *out, uint8_t tag, size_t nfields);

/* True when [p, p+len) is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int ps_utf8_valid(const uint8_t *p, size_t len);

#endif
