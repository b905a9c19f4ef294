/* The value model shared by PackStream and the Bolt client: a tree of struct bolt_value.
 *
 * A value is one of the PackStream types: null, boolean, integer, float, bytes, string, list, map, or a
 * structure (a tag byte plus fields). Graph and temporal types (Node, Date, Duration, Point2D …) are
 * structures; their tags are listed in enum bolt_tag and their field layouts in bolt.md §4. The struct is
 * public so callers can walk a tree directly, but the getters below are the easy way: they check types and
 * never crash on NULL or on a value of the wrong kind.
 *
 * Ownership: a non-const `struct bolt_value *` returned by a constructor or by the decoder belongs to the
 * caller, who releases it (and everything below it) with bolt_value_free(). Functions that take a
 * `struct bolt_value *val` argument to insert (bolt_list_push, bolt_map_put, bolt_struct_set) take ownership
 * of val in every case, also on failure, and accept val == NULL (a failed constructor) by returning
 * MGO_ENOMEM, so calls can be chained without checking each constructor. Const pointers returned by getters
 * are borrowed from the tree they came from.
 * Thread-safety: a tree is plain data; concurrent readers are safe, a writer needs exclusive access. */
#ifndef MGO_BOLT_VALUE_H
#define MGO_BOLT_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bolt_type {
  BOLT_NULL = 0,
  BOLT_BOOL,
  BOLT_INT,
  BOLT_FLOAT,
  BOLT_BYTES,
  BOLT_STRING,
  BOLT_LIST,
  BOLT_MAP,
  BOLT_STRUCT
};

/* Structure tags of values (not messages; message tags live in bolt_proto.h). */
enum bolt_tag {
  BOLT_TAG_NODE = 0x4E,                     /* 'N' id, labels, properties [, element_id] */
  BOLT_TAG_RELATIONSHIP = 0x52,             /* 'R' id, start, end, type, properties [, 3 element ids] */
  BOLT_TAG_UNBOUND_RELATIONSHIP = 0x72,     /* 'r' id, type, properties [, element_id] */
  BOLT_TAG_PATH = 0x50,                     /* 'P' nodes, unbound relationships, indices */
  BOLT_TAG_DATE = 0x44,                     /* 'D' days since 1970-01-01 */
  BOLT_TAG_TIME = 0x54,                     /* 'T' nanoseconds since midnight, offset seconds */
  BOLT_TAG_LOCAL_TIME = 0x74,               /* 't' nanoseconds since midnight */
  BOLT_TAG_LOCAL_DATE_TIME = 0x64,          /* 'd' seconds, nanoseconds */
  BOLT_TAG_DATE_TIME = 0x49,                /* 'I' UTC seconds, nanoseconds, offset seconds (5.x) */
  BOLT_TAG_DATE_TIME_ZONE_ID = 0x69,        /* 'i' UTC seconds, nanoseconds, zone id (5.x) */
  BOLT_TAG_LEGACY_DATE_TIME = 0x46,         /* 'F' local seconds, nanoseconds, offset seconds (< 5) */
  BOLT_TAG_LEGACY_DATE_TIME_ZONE_ID = 0x66, /* 'f' local seconds, nanoseconds, zone id (< 5) */
  BOLT_TAG_DURATION = 0x45,                 /* 'E' months, days, seconds, nanoseconds */
  BOLT_TAG_POINT_2D = 0x58,                 /* 'X' srid, x, y */
  BOLT_TAG_POINT_3D = 0x59                  /* 'Y' srid, x, y, z */
};

struct bolt_map_entry;

struct bolt_value {
  enum bolt_type type;
  union {
    bool boolean;
    int64_t integer;
    double real;
    struct {
      char *data; /* always NUL-terminated (also for bytes); len excludes the terminator */
      size_t len;
    } str; /* BOLT_STRING and BOLT_BYTES */
    struct {
      struct bolt_value *items;
      size_t len;
      size_t cap; /* allocated items (builders grow geometrically) */
    } list;
    struct {
      struct bolt_map_entry *entries; /* wire order; keys unique (on duplicates the last one won) */
      size_t len;
      size_t cap;
    } map;
    struct {
      uint8_t tag;
      struct bolt_value *fields;
      size_t len;
    } structure;
  } u;
};

struct bolt_map_entry {
  char *key; /* NUL-terminated UTF-8 */
  size_t key_len;
  struct bolt_value value;
};

/* Constructors: each returns a new heap value, or NULL when memory runs out. */
struct bolt_value *bolt_value_null(void);
struct bolt_value *bolt_value_bool(bool b);
struct bolt_value *bolt_value_int(int64_t i);
struct bolt_value *bolt_value_float(double d);
struct bolt_value *bolt_value_string(const char *s);
struct bolt_value *bolt_value_stringn(const char *s, size_t len);
struct bolt_value *bolt_value_bytes(const void *p, size_t len);
struct bolt_value *bolt_value_list(void);
struct bolt_value *bolt_value_map(void);
/* A structure with nfields fields, all null until set with bolt_struct_set(). */
struct bolt_value *bolt_value_struct(uint8_t tag, size_t nfields);

/* Builders; each takes ownership of val (see the ownership note above). MGO_EINVAL on a container of the
 * wrong type or an index out of range, MGO_ENOMEM when val is NULL or memory runs out. */
int bolt_list_push(struct bolt_value *list, struct bolt_value *val);
/* Replaces the value of an existing key. */
int bolt_map_put(struct bolt_value *map, const char *key, struct bolt_value *val);
int bolt_struct_set(struct bolt_value *st, size_t index, struct bolt_value *val);

/* Getters. All accept NULL and values of any type. */
enum bolt_type bolt_value_type(const struct bolt_value *v); /* BOLT_NULL for NULL */
const char *bolt_type_name(enum bolt_type t);               /* "Integer", "Map" …, static */
/* Number of items, entries, fields or bytes; 0 for scalars. */
size_t bolt_value_len(const struct bolt_value *v);
/* Map lookup by key; NULL when v is not a map or has no such key. */
const struct bolt_value *bolt_map_get(const struct bolt_value *map, const char *key);
/* List item or structure field i; NULL when out of range or of the wrong type. */
const struct bolt_value *bolt_list_at(const struct bolt_value *list, size_t i);
const struct bolt_value *bolt_struct_field(const struct bolt_value *st, size_t i);
/* Structure tag, or 0 when v is not a structure. */
uint8_t bolt_struct_tag(const struct bolt_value *v);

/* Typed reads: MGO_OK and *out set, or MGO_EINVAL (out untouched) when v is NULL or of another type.
 * as_string returns a borrowed NUL-terminated pointer (len may be NULL); as_float accepts integers too. */
int bolt_value_as_bool(const struct bolt_value *v, bool *out);
int bolt_value_as_int(const struct bolt_value *v, int64_t *out);
int bolt_value_as_float(const struct bolt_value *v, double *out);
int bolt_value_as_string(const struct bolt_value *v, const char **out, size_t *len);
int bolt_value_as_bytes(const struct bolt_value *v, const uint8_t **out, size_t *len);
/* Shortcuts for the common case "string/int under a key of a map". */
int bolt_map_get_string(const struct bolt_value *map, const char *key, const char **out);
int bolt_map_get_int(const struct bolt_value *map, const char *key, int64_t *out);

/* Deep equality; maps compare as sets of entries, floats bit for bit (so NaN equals the same NaN). */
bool bolt_value_equal(const struct bolt_value *a, const struct bolt_value *b);
/* Deep copy; NULL on allocation failure. */
struct bolt_value *bolt_value_clone(const struct bolt_value *v);

/* Frees v and everything below it. NULL is fine. */
void bolt_value_free(struct bolt_value *v);
/* Frees what v owns and makes it null, without freeing v itself (for values embedded in other structs). */
void bolt_value_clear(struct bolt_value *v);

#endif
