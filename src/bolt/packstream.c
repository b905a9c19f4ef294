#include "packstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"

/* Markers (bolt.md §3.1). Size-prefixed families are ordered tiny/8/16/32 so one writer serves them all. */
enum {
  PS_NULL = 0xC0,
  PS_FLOAT = 0xC1,
  PS_FALSE = 0xC2,
  PS_TRUE = 0xC3,
  PS_INT8 = 0xC8,
  PS_INT16 = 0xC9,
  PS_INT32 = 0xCA,
  PS_INT64 = 0xCB,
  PS_BYTES8 = 0xCC,
  PS_STRING8 = 0xD0,
  PS_LIST8 = 0xD4,
  PS_MAP8 = 0xD8,
  PS_STRUCT8 = 0xDC,
  PS_STRUCT16 = 0xDD
};

#define PS_MAX_SIZE 0x7FFFFFFFu
#define PS_MAX_STRUCT_FIELDS 15u

void ps_limits_default(struct ps_limits *lim)
{
  lim->max_depth = PS_DEFAULT_MAX_DEPTH;
  lim->max_elements = PS_DEFAULT_MAX_ELEMENTS;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Encoding                                                                                               */

static int put_be(struct mgo_buf *out, uint8_t marker, uint64_t v, unsigned width)
{
  uint8_t b[9];
  b[0] = marker;
  for (unsigned i = 0; i < width; i++)
    b[1 + i] = (uint8_t) (v >> (8 * (width - 1 - i)));
  return mgo_buf_add(out, b, 1 + width);
}

int ps_write_null(struct mgo_buf *out)
{
  return put_be(out, PS_NULL, 0, 0);
}

int ps_write_bool(struct mgo_buf *out, int b)
{
  return put_be(out, b ? PS_TRUE : PS_FALSE, 0, 0);
}

int ps_write_int(struct mgo_buf *out, int64_t i)
{
  if (i >= -16 && i <= 127)
    return put_be(out, (uint8_t) i, 0, 0);
  if (i >= INT8_MIN && i <= INT8_MAX)
    return put_be(out, PS_INT8, (uint64_t) i, 1);
  if (i >= INT16_MIN && i <= INT16_MAX)
    return put_be(out, PS_INT16, (uint64_t) i, 2);
  if (i >= INT32_MIN && i <= INT32_MAX)
    return put_be(out, PS_INT32, (uint64_t) i, 4);
  return put_be(out, PS_INT64, (uint64_t) i, 8);
}

int ps_write_float(struct mgo_buf *out, double d)
{
  uint64_t bits;
  memcpy(&bits, &d, sizeof(bits));
  return put_be(out, PS_FLOAT, bits, 8);
}

/* tiny_base is the 0-15 form (0 when the family has none, i.e. bytes); wide_base the 8-bit-size marker. */
static int write_size(struct mgo_buf *out, uint8_t tiny_base, uint8_t wide_base, size_t n)
{
  if (n > PS_MAX_SIZE)
    return MGO_EINVAL;
  if (tiny_base && n < 16)
    return put_be(out, (uint8_t) (tiny_base + n), 0, 0);
  if (n <= 0xFF)
    return put_be(out, wide_base, n, 1);
  if (n <= 0xFFFF)
    return put_be(out, (uint8_t) (wide_base + 1), n, 2);
  return put_be(out, (uint8_t) (wide_base + 2), n, 4);
}

int ps_write_string(struct mgo_buf *out, const char *s, size_t len)
{
  int rc = write_size(out, 0x80, PS_STRING8, len);
  if (rc != MGO_OK)
    return rc;
  return mgo_buf_add(out, s, len);
}

int ps_write_bytes(struct mgo_buf *out, const void *p, size_t len)
{
  int rc = write_size(out, 0, PS_BYTES8, len);
  if (rc != MGO_OK)
    return rc;
  return mgo_buf_add(out, p, len);
}

int ps_write_list_header(struct mgo_buf *out, size_t n)
{
  return write_size(out, 0x90, PS_LIST8, n);
}

int ps_write_map_header(struct mgo_buf *out, size_t n)
{
  return write_size(out, 0xA0, PS_MAP8, n);
}

int ps_write_struct_header(struct mgo_buf *out, uint8_t tag, size_t nfields)
{
  if (nfields > PS_MAX_STRUCT_FIELDS || tag > 0x7F)
    return MGO_EINVAL;
  uint8_t b[2] = {(uint8_t) (0xB0 + nfields), tag};
  return mgo_buf_add(out, b, 2);
}

static int encode_value(struct mgo_buf *out, const struct bolt_value *v, unsigned depth);

static int encode_items(struct mgo_buf *out, const struct bolt_value *items, size_t n, unsigned depth)
{
  for (size_t i = 0; i < n; i++) {
    int rc = encode_value(out, &items[i], depth);
    if (rc != MGO_OK)
      return rc;
  }
  return MGO_OK;
}

static int encode_map(struct mgo_buf *out, const struct bolt_value *v, unsigned depth)
{
  int rc = ps_write_map_header(out, v->u.map.len);
  for (size_t i = 0; rc == MGO_OK && i < v->u.map.len; i++) {
    const struct bolt_map_entry *e = &v->u.map.entries[i];
    rc = ps_write_string(out, e->key, e->key_len);
    if (rc == MGO_OK)
      rc = encode_value(out, &e->value, depth);
  }
  return rc;
}

static int encode_value(struct mgo_buf *out, const struct bolt_value *v, unsigned depth)
{
  int rc;
  if (depth >= PS_DEFAULT_MAX_DEPTH)
    return MGO_EINVAL;
  switch (v->type) {
  case BOLT_NULL:
    return ps_write_null(out);
  case BOLT_BOOL:
    return ps_write_bool(out, v->u.boolean);
  case BOLT_INT:
    return ps_write_int(out, v->u.integer);
  case BOLT_FLOAT:
    return ps_write_float(out, v->u.real);
  case BOLT_STRING:
    return ps_write_string(out, v->u.str.data, v->u.str.len);
  case BOLT_BYTES:
    return ps_write_bytes(out, v->u.str.data, v->u.str.len);
  case BOLT_LIST:
    rc = ps_write_list_header(out, v->u.list.len);
    return rc != MGO_OK ? rc : encode_items(out, v->u.list.items, v->u.list.len, depth + 1);
  case BOLT_MAP:
    return encode_map(out, v, depth + 1);
  case BOLT_STRUCT:
    rc = ps_write_struct_header(out, v->u.structure.tag, v->u.structure.len);
    return rc != MGO_OK ? rc : encode_items(out, v->u.structure.fields, v->u.structure.len, depth + 1);
  }
  return MGO_EINVAL;
}

int ps_encode(struct mgo_buf *out, const struct bolt_value *v)
{
  if (!out || !v)
    return MGO_EINVAL;
  return encode_value(out, v, 0);
}

/* ------------------------------------------------------------------------------------------------------ */
/* UTF-8                                                                                                  */

static size_t utf8_seq_len(const uint8_t *p, size_t avail)
{
  uint8_t c = p[0];
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4;
  else
    return 0;
  if (c == 0xE0)
    lo = 0xA0; /* overlong */
  else if (c == 0xED)
    hi = 0x9F; /* surrogates */
  else if (c == 0xF0)
    lo = 0x90; /* overlong */
  else if (c == 0xF4)
    hi = 0x8F; /* above U+10FFFF */
  if (avail < n || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  }
  return n;
}

int ps_utf8_valid(const uint8_t *p, size_t len)
{
  size_t i = 0;
  while (i < len) {
    size_t n = utf8_seq_len(p + i, len - i);
    if (n == 0)
      return 0;
    i += n;
  }
  return 1;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Decoding                                                                                               */

struct reader {
  const uint8_t *start, *p, *end;
  enum ps_schema schema;
  struct ps_limits lim;
  size_t elements;
  unsigned unchecked_depth; /* structures at this depth are messages, not values: no schema check */
  char *err;
  size_t errsz;
};

static int fail(struct reader *r, int rc, const char *why)
{
  if (r->err && r->errsz)
    snprintf(r->err, r->errsz, "%s at offset %zu", why, (size_t) (r->p - r->start));
  return rc;
}

static size_t remaining(const struct reader *r)
{
  return (size_t) (r->end - r->p);
}

static int read_be(struct reader *r, unsigned width, uint64_t *out)
{
  if (remaining(r) < width)
    return fail(r, MGO_EPARSE, "truncated value");
  uint64_t v = 0;
  for (unsigned i = 0; i < width; i++)
    v = (v << 8) | r->p[i];
  r->p += width;
  *out = v;
  return MGO_OK;
}

static int read_signed(struct reader *r, unsigned width, int64_t *out)
{
  uint64_t u;
  int rc = read_be(r, width, &u);
  if (rc != MGO_OK)
    return rc;
  unsigned shift = 64 - 8 * width;
  /* Sign-extend through a signed shift of the value placed in the top bits (well defined for int64). */
  *out = width == 8 ? (int64_t) u : ((int64_t) (u << shift)) >> shift;
  return MGO_OK;
}

/* Reads the size that follows a "wide" marker; widths 1, 2, 4. */
static int read_size(struct reader *r, unsigned width, size_t *out)
{
  uint64_t v;
  int rc = read_be(r, width, &v);
  if (rc != MGO_OK)
    return rc;
  if (v > PS_MAX_SIZE)
    return fail(r, MGO_EPARSE, "size above 2^31-1");
  *out = (size_t) v;
  return MGO_OK;
}

static int count_elements(struct reader *r, size_t n)
{
  if (n > r->lim.max_elements || r->elements > r->lim.max_elements - n)
    return fail(r, MGO_ETOOBIG, "too many elements");
  r->elements += n;
  return MGO_OK;
}

static int decode_text(struct reader *r, enum bolt_type t, size_t n, struct bolt_value *out)
{
  if (remaining(r) < n)
    return fail(r, MGO_EPARSE, "length exceeds available bytes");
  if (t == BOLT_STRING && !ps_utf8_valid(r->p, n))
    return fail(r, MGO_EPARSE, "invalid UTF-8");
  char *s = malloc(n + 1);
  if (!s)
    return fail(r, MGO_ENOMEM, "out of memory");
  memcpy(s, r->p, n);
  s[n] = '\0';
  r->p += n;
  out->type = t;
  out->u.str.data = s;
  out->u.str.len = n;
  return MGO_OK;
}

static int decode_value(struct reader *r, unsigned depth, struct bolt_value *out);

/* Decodes n values into a fresh array; every item needs at least one byte, checked before allocating. */
static int decode_items(struct reader *r, size_t n, unsigned depth, struct bolt_value **items)
{
  *items = NULL;
  if (n == 0)
    return MGO_OK;
  if (remaining(r) < n)
    return fail(r, MGO_EPARSE, "missing items");
  int rc = count_elements(r, n);
  if (rc != MGO_OK)
    return rc;
  struct bolt_value *arr = calloc(n, sizeof(*arr));
  if (!arr)
    return fail(r, MGO_ENOMEM, "out of memory");
  *items = arr; /* the caller's value owns it from here, also on error (cleared items are null) */
  for (size_t i = 0; i < n; i++) {
    rc = decode_value(r, depth + 1, &arr[i]);
    if (rc != MGO_OK)
      return rc;
  }
  return MGO_OK;
}

static int decode_list(struct reader *r, size_t n, unsigned depth, struct bolt_value *out)
{
  out->type = BOLT_LIST;
  int rc = decode_items(r, n, depth, &out->u.list.items);
  out->u.list.len = out->u.list.cap = out->u.list.items ? n : 0;
  return rc;
}

static int is_string_marker(uint8_t m)
{
  return (m & 0xF0) == 0x80 || (m >= PS_STRING8 && m <= PS_STRING8 + 2);
}

static int decode_key(struct reader *r, unsigned depth, struct bolt_map_entry *e)
{
  if (remaining(r) == 0)
    return fail(r, MGO_EPARSE, "missing map entries");
  if (!is_string_marker(r->p[0]))
    return fail(r, MGO_EPARSE, "non-string map key");
  struct bolt_value key = {0};
  int rc = decode_value(r, depth + 1, &key);
  if (rc != MGO_OK)
    return rc;
  e->key = key.u.str.data;
  e->key_len = key.u.str.len;
  return MGO_OK;
}

struct key_ref {
  const struct bolt_map_entry *e;
  size_t index;
};

static int key_ref_cmp(const void *a, const void *b)
{
  const struct key_ref *x = a, *y = b;
  size_t n = x->e->key_len < y->e->key_len ? x->e->key_len : y->e->key_len;
  int c = memcmp(x->e->key, y->e->key, n);
  if (c != 0)
    return c;
  if (x->e->key_len != y->e->key_len)
    return x->e->key_len < y->e->key_len ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/* Duplicate keys: the last one wins (bolt.md §3.2). Sorting references keeps this O(n log n) for large
 * maps; the surviving entries keep their wire order. */
static int map_drop_duplicates(struct reader *r, struct bolt_value *map)
{
  size_t n = map->u.map.len;
  struct bolt_map_entry *entries = map->u.map.entries;
  struct key_ref *refs = calloc(n, sizeof(*refs));
  if (!refs)
    return fail(r, MGO_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    refs[i].e = &entries[i];
    refs[i].index = i;
  }
  qsort(refs, n, sizeof(*refs), key_ref_cmp);
  bool *drop = calloc(n, sizeof(*drop));
  if (!drop) {
    free(refs);
    return fail(r, MGO_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i + 1 < n; i++) {
    const struct bolt_map_entry *a = refs[i].e, *b = refs[i + 1].e;
    if (a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0)
      drop[refs[i].index] = true;
  }
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (drop[i]) {
      free(entries[i].key);
      bolt_value_clear(&entries[i].value);
      continue;
    }
    entries[kept++] = entries[i];
  }
  map->u.map.len = kept;
  free(drop);
  free(refs);
  return MGO_OK;
}

static int decode_map(struct reader *r, size_t n, unsigned depth, struct bolt_value *out)
{
  out->type = BOLT_MAP;
  if (n == 0)
    return MGO_OK;
  if (remaining(r) / 2 < n)
    return fail(r, MGO_EPARSE, "missing map entries");
  int rc = count_elements(r, n);
  if (rc != MGO_OK)
    return rc;
  out->u.map.entries = calloc(n, sizeof(struct bolt_map_entry));
  if (!out->u.map.entries)
    return fail(r, MGO_ENOMEM, "out of memory");
  out->u.map.len = out->u.map.cap = n; /* zeroed entries clear safely if decoding stops early */
  for (size_t i = 0; i < n; i++) {
    rc = decode_key(r, depth, &out->u.map.entries[i]);
    if (rc == MGO_OK)
      rc = decode_value(r, depth + 1, &out->u.map.entries[i].value);
    if (rc != MGO_OK)
      return rc;
  }
  return n > 1 ? map_drop_duplicates(r, out) : MGO_OK;
}

/* Value structures per major version (bolt.md §4). Field type codes: i integer, f float, s string, l list,
 * m map. An empty layout means "not valid in this version". */
struct struct_shape {
  uint8_t tag;
  const char *name;
  const char *bolt4;
  const char *bolt5;
};

static const struct struct_shape struct_shapes[] = {
    {BOLT_TAG_NODE, "Node", "ilm", "ilms"},
    {BOLT_TAG_RELATIONSHIP, "Relationship", "iiism", "iiismsss"},
    {BOLT_TAG_UNBOUND_RELATIONSHIP, "UnboundRelationship", "ism", "isms"},
    {BOLT_TAG_PATH, "Path", "lll", "lll"},
    {BOLT_TAG_DATE, "Date", "i", "i"},
    {BOLT_TAG_TIME, "Time", "ii", "ii"},
    {BOLT_TAG_LOCAL_TIME, "LocalTime", "i", "i"},
    {BOLT_TAG_LOCAL_DATE_TIME, "LocalDateTime", "ii", "ii"},
    {BOLT_TAG_DATE_TIME, "DateTime", "", "iii"},
    {BOLT_TAG_DATE_TIME_ZONE_ID, "DateTimeZoneId", "", "iis"},
    {BOLT_TAG_LEGACY_DATE_TIME, "legacy DateTime", "iii", ""},
    {BOLT_TAG_LEGACY_DATE_TIME_ZONE_ID, "legacy DateTimeZoneId", "iis", ""},
    {BOLT_TAG_DURATION, "Duration", "iiii", "iiii"},
    {BOLT_TAG_POINT_2D, "Point2D", "iff", "iff"},
    {BOLT_TAG_POINT_3D, "Point3D", "ifff", "ifff"},
};

static int field_type_ok(char code, const struct bolt_value *v)
{
  switch (code) {
  case 'i':
    return v->type == BOLT_INT;
  case 'f':
    return v->type == BOLT_FLOAT;
  case 's':
    return v->type == BOLT_STRING;
  case 'l':
    return v->type == BOLT_LIST;
  case 'm':
    return v->type == BOLT_MAP;
  default:
    return 0;
  }
}

static int check_struct_schema(struct reader *r, const struct bolt_value *st)
{
  char why[96];
  if (r->schema == PS_SCHEMA_NONE)
    return MGO_OK;
  const struct struct_shape *shape = NULL;
  for (size_t i = 0; i < sizeof(struct_shapes) / sizeof(struct_shapes[0]); i++) {
    if (struct_shapes[i].tag == st->u.structure.tag)
      shape = &struct_shapes[i];
  }
  if (!shape) {
    snprintf(why, sizeof(why), "unknown structure tag 0x%02X", st->u.structure.tag);
    return fail(r, MGO_EPARSE, why);
  }
  const char *layout = r->schema == PS_SCHEMA_BOLT5 ? shape->bolt5 : shape->bolt4;
  if (layout[0] == '\0') {
    snprintf(why, sizeof(why), "%s is not valid in Bolt %d", shape->name, (int) r->schema);
    return fail(r, MGO_EPARSE, why);
  }
  if (strlen(layout) != st->u.structure.len) {
    snprintf(why, sizeof(why), "%s has %zu fields, Bolt %d wants %zu", shape->name, st->u.structure.len,
             (int) r->schema, strlen(layout));
    return fail(r, MGO_EPARSE, why);
  }
  for (size_t i = 0; i < st->u.structure.len; i++) {
    if (!field_type_ok(layout[i], &st->u.structure.fields[i])) {
      snprintf(why, sizeof(why), "%s field %zu has the wrong type", shape->name, i);
      return fail(r, MGO_EPARSE, why);
    }
  }
  return MGO_OK;
}

static int decode_struct(struct reader *r, size_t n, unsigned depth, struct bolt_value *out)
{
  uint64_t tag;
  int rc = read_be(r, 1, &tag);
  if (rc != MGO_OK)
    return fail(r, MGO_EPARSE, "missing structure tag");
  out->type = BOLT_STRUCT;
  out->u.structure.tag = (uint8_t) tag;
  if (n > 0 && remaining(r) < n)
    return fail(r, MGO_EPARSE, "missing structure fields");
  rc = decode_items(r, n, depth, &out->u.structure.fields);
  out->u.structure.len = out->u.structure.fields ? n : 0;
  if (rc != MGO_OK)
    return rc;
  if (depth == r->unchecked_depth)
    return MGO_OK;
  return check_struct_schema(r, out);
}

/* Strings, bytes, lists, maps and structures: reads the size (tiny nibble or 1/2/4 bytes), then the body. */
static int decode_sized(struct reader *r, uint8_t m, unsigned depth, struct bolt_value *out)
{
  size_t n = 0;
  int rc = MGO_OK;
  uint8_t hi = m & 0xF0;
  if (hi == 0x80 || hi == 0x90 || hi == 0xA0 || hi == 0xB0)
    n = m & 0x0F;
  else if (m == PS_STRUCT8 || m == PS_STRUCT16)
    rc = read_size(r, m == PS_STRUCT8 ? 1 : 2, &n);
  else
    rc = read_size(r, 1u << ((m - 0xCC) & 3), &n);
  if (rc != MGO_OK)
    return rc;
  if (hi == 0x80 || (m >= 0xD0 && m <= 0xD2))
    return decode_text(r, BOLT_STRING, n, out);
  if (m >= 0xCC && m <= 0xCE)
    return decode_text(r, BOLT_BYTES, n, out);
  if (depth >= r->lim.max_depth)
    return fail(r, MGO_ETOOBIG, "nesting too deep");
  if (hi == 0x90 || (m >= 0xD4 && m <= 0xD6))
    return decode_list(r, n, depth, out);
  if (hi == 0xA0 || (m >= 0xD8 && m <= 0xDA))
    return decode_map(r, n, depth, out);
  return decode_struct(r, n, depth, out);
}

static int is_reserved(uint8_t m)
{
  return (m >= 0xC4 && m <= 0xC7) || m == 0xCF || m == 0xD3 || m == 0xD7 || m == 0xDB ||
         (m >= 0xDE && m <= 0xEF);
}

static int decode_scalar(struct reader *r, uint8_t m, struct bolt_value *out)
{
  uint64_t bits;
  int rc;
  switch (m) {
  case PS_NULL:
    out->type = BOLT_NULL;
    return MGO_OK;
  case PS_TRUE:
  case PS_FALSE:
    out->type = BOLT_BOOL;
    out->u.boolean = m == PS_TRUE;
    return MGO_OK;
  case PS_FLOAT:
    rc = read_be(r, 8, &bits);
    if (rc == MGO_OK) {
      out->type = BOLT_FLOAT;
      memcpy(&out->u.real, &bits, sizeof(bits));
    }
    return rc;
  default: /* PS_INT8 .. PS_INT64 */
    rc = read_signed(r, 1u << (m - PS_INT8), &out->u.integer);
    if (rc == MGO_OK)
      out->type = BOLT_INT;
    return rc;
  }
}

/* out must be zeroed (a null value). On error out may hold a partial tree; the caller clears it. */
static int decode_value(struct reader *r, unsigned depth, struct bolt_value *out)
{
  uint64_t m;
  int rc = read_be(r, 1, &m);
  if (rc != MGO_OK)
    return rc;
  if (m < 0x80 || m >= 0xF0) {
    out->type = BOLT_INT;
    out->u.integer = m >= 0xF0 ? (int64_t) m - 256 : (int64_t) m; /* tiny negative -16..-1 */
    return MGO_OK;
  }
  if (is_reserved((uint8_t) m)) {
    r->p--;
    return fail(r, MGO_EPARSE, "reserved marker");
  }
  if ((m >= 0xC0 && m <= 0xC3) || (m >= PS_INT8 && m <= PS_INT64))
    return decode_scalar(r, (uint8_t) m, out);
  return decode_sized(r, (uint8_t) m, depth, out);
}

static int decode_root(struct reader *r, struct bolt_value **out, size_t *consumed)
{
  int rc = count_elements(r, 1);
  if (rc != MGO_OK)
    return rc;
  struct bolt_value *v = calloc(1, sizeof(*v));
  if (!v)
    return fail(r, MGO_ENOMEM, "out of memory");
  rc = decode_value(r, 1, v);
  if (rc != MGO_OK) {
    bolt_value_free(v);
    return rc;
  }
  *out = v;
  if (consumed)
    *consumed = (size_t) (r->p - r->start);
  return MGO_OK;
}

static void reader_init(struct reader *r, const uint8_t *p, size_t len, enum ps_schema schema,
                        const struct ps_limits *lim, char *err, size_t errsz)
{
  memset(r, 0, sizeof(*r));
  r->start = r->p = p;
  r->end = p + len;
  r->schema = schema;
  if (lim)
    r->lim = *lim;
  else
    ps_limits_default(&r->lim);
  r->err = err;
  r->errsz = errsz;
  if (err && errsz)
    err[0] = '\0';
}

int ps_decode(const uint8_t *p, size_t len, enum ps_schema schema, const struct ps_limits *lim,
              struct bolt_value **out, size_t *consumed, char *err, size_t errsz)
{
  struct reader r;
  if (!out || (!p && len))
    return MGO_EINVAL;
  *out = NULL;
  reader_init(&r, p, len, schema, lim, err, errsz);
  return decode_root(&r, out, consumed);
}

int ps_decode_message(const uint8_t *p, size_t len, enum ps_schema schema, const struct ps_limits *lim,
                      struct bolt_value **out, char *err, size_t errsz)
{
  struct reader r;
  if (!out || (!p && len))
    return MGO_EINVAL;
  *out = NULL;
  reader_init(&r, p, len, schema, lim, err, errsz);
  r.unchecked_depth = 1;
  if (len == 0 || (p[0] & 0xF0) != 0xB0)
    return fail(&r, MGO_EPARSE, "message is not a structure");
  size_t used = 0;
  int rc = decode_root(&r, out, &used);
  if (rc == MGO_OK && used != len) {
    bolt_value_free(*out);
    *out = NULL;
    return fail(&r, MGO_EPARSE, "trailing bytes after the message");
  }
  return rc;
}
