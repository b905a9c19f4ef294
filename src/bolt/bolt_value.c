#include "bolt_value.h"

#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"

static struct bolt_value *value_new(enum bolt_type t)
{
  struct bolt_value *v = calloc(1, sizeof(*v));
  if (v)
    v->type = t;
  return v;
}

struct bolt_value *bolt_value_null(void)
{
  return value_new(BOLT_NULL);
}

struct bolt_value *bolt_value_bool(bool b)
{
  struct bolt_value *v = value_new(BOLT_BOOL);
  if (v)
    v->u.boolean = b;
  return v;
}

struct bolt_value *bolt_value_int(int64_t i)
{
  struct bolt_value *v = value_new(BOLT_INT);
  if (v)
    v->u.integer = i;
  return v;
}

struct bolt_value *bolt_value_float(double d)
{
  struct bolt_value *v = value_new(BOLT_FLOAT);
  if (v)
    v->u.real = d;
  return v;
}

static struct bolt_value *value_new_text(enum bolt_type t, const void *p, size_t len)
{
  struct bolt_value *v = value_new(t);
  if (!v)
    return NULL;
  v->u.str.data = malloc(len + 1);
  if (!v->u.str.data) {
    free(v);
    return NULL;
  }
  if (len)
    memcpy(v->u.str.data, p, len);
  v->u.str.data[len] = '\0';
  v->u.str.len = len;
  return v;
}

struct bolt_value *bolt_value_string(const char *s)
{
  return value_new_text(BOLT_STRING, s, strlen(s));
}

struct bolt_value *bolt_value_stringn(const char *s, size_t len)
{
  return value_new_text(BOLT_STRING, s, len);
}

struct bolt_value *bolt_value_bytes(const void *p, size_t len)
{
  return value_new_text(BOLT_BYTES, p, len);
}

struct bolt_value *bolt_value_list(void)
{
  return value_new(BOLT_LIST);
}

struct bolt_value *bolt_value_map(void)
{
  return value_new(BOLT_MAP);
}

struct bolt_value *bolt_value_struct(uint8_t tag, size_t nfields)
{
  struct bolt_value *v = value_new(BOLT_STRUCT);
  if (!v)
    return NULL;
  v->u.structure.tag = tag;
  if (nfields == 0)
    return v;
  v->u.structure.fields = calloc(nfields, sizeof(struct bolt_value));
  if (!v->u.structure.fields) {
    free(v);
    return NULL;
  }
  v->u.structure.len = nfields;
  return v;
}

/* Moves the contents of *val into *dst (dst must be cleared) and frees the shell. */
static void value_move(struct bolt_value *dst, struct bolt_value *val)
{
  *dst = *val;
  free(val);
}

int bolt_list_push(struct bolt_value *list, struct bolt_value *val)
{
  if (!val)
    return MGO_ENOMEM;
  if (!list || list->type != BOLT_LIST) {
    bolt_value_free(val);
    return MGO_EINVAL;
  }
  size_t n = list->u.list.len;
  if (n == list->u.list.cap) {
    size_t cap = n ? 2 * n : 4;
    struct bolt_value *items = realloc(list->u.list.items, cap * sizeof(*items));
    if (!items) {
      bolt_value_free(val);
      return MGO_ENOMEM;
    }
    list->u.list.items = items;
    list->u.list.cap = cap;
  }
  value_move(&list->u.list.items[n], val);
  list->u.list.len = n + 1;
  return MGO_OK;
}

static struct bolt_map_entry *map_find(const struct bolt_value *map, const char *key, size_t key_len)
{
  for (size_t i = 0; i < map->u.map.len; i++) {
    struct bolt_map_entry *e = &map->u.map.entries[i];
    if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
      return e;
  }
  return NULL;
}

static int map_append(struct bolt_value *map, const char *key, size_t key_len, struct bolt_value *val)
{
  size_t n = map->u.map.len;
  char *k = malloc(key_len + 1);
  struct bolt_map_entry *entries = map->u.map.entries;
  if (k && n == map->u.map.cap) {
    size_t cap = n ? 2 * n : 4;
    struct bolt_map_entry *grown = realloc(entries, cap * sizeof(*entries));
    entries = grown; /* on failure the old array stays owned by map */
    if (grown) {
      map->u.map.entries = grown;
      map->u.map.cap = cap;
    }
  }
  if (!k || !entries) {
    free(k);
    bolt_value_free(val);
    return MGO_ENOMEM;
  }
  memcpy(k, key, key_len);
  k[key_len] = '\0';
  entries[n].key = k;
  entries[n].key_len = key_len;
  value_move(&entries[n].value, val);
  map->u.map.len = n + 1;
  return MGO_OK;
}

int bolt_map_put(struct bolt_value *map, const char *key, struct bolt_value *val)
{
  if (!val)
    return MGO_ENOMEM;
  if (!map || map->type != BOLT_MAP || !key) {
    bolt_value_free(val);
    return MGO_EINVAL;
  }
  size_t key_len = strlen(key);
  struct bolt_map_entry *e = map_find(map, key, key_len);
  if (!e)
    return map_append(map, key, key_len, val);
  bolt_value_clear(&e->value);
  value_move(&e->value, val);
  return MGO_OK;
}

int bolt_struct_set(struct bolt_value *st, size_t index, struct bolt_value *val)
{
  if (!val)
    return MGO_ENOMEM;
  if (!st || st->type != BOLT_STRUCT || index >= st->u.structure.len) {
    bolt_value_free(val);
    return MGO_EINVAL;
  }
  bolt_value_clear(&st->u.structure.fields[index]);
  value_move(&st->u.structure.fields[index], val);
  return MGO_OK;
}

enum bolt_type bolt_value_type(const struct bolt_value *v)
{
  return v ? v->type : BOLT_NULL;
}

const char *bolt_type_name(enum bolt_type t)
{
  static const char *const names[] = {"Null",   "Boolean", "Integer", "Float",    "Bytes",
                                      "String", "List",    "Map",     "Structure"};
  if ((unsigned) t >= sizeof(names) / sizeof(names[0]))
    return "Unknown";
  return names[t];
}

size_t bolt_value_len(const struct bolt_value *v)
{
  if (!v)
    return 0;
  switch (v->type) {
  case BOLT_STRING:
  case BOLT_BYTES:
    return v->u.str.len;
  case BOLT_LIST:
    return v->u.list.len;
  case BOLT_MAP:
    return v->u.map.len;
  case BOLT_STRUCT:
    return v->u.structure.len;
  default:
    return 0;
  }
}

const struct bolt_value *bolt_map_get(const struct bolt_value *map, const char *key)
{
  if (!map || map->type != BOLT_MAP || !key)
    return NULL;
  struct bolt_map_entry *e = map_find(map, key, strlen(key));
  return e ? &e->value : NULL;
}

const struct bolt_value *bolt_list_at(const struct bolt_value *list, size_t i)
{
  if (!list || list->type != BOLT_LIST || i >= list->u.list.len)
    return NULL;
  return &list->u.list.items[i];
}

const struct bolt_value *bolt_struct_field(const struct bolt_value *st, size_t i)
{
  if (!st || st->type != BOLT_STRUCT || i >= st->u.structure.len)
    return NULL;
  return &st->u.structure.fields[i];
}

uint8_t bolt_struct_tag(const struct bolt_value *v)
{
  return v && v->type == BOLT_STRUCT ? v->u.structure.tag : 0;
}

int bolt_value_as_bool(const struct bolt_value *v, bool *out)
{
  if (!v || v->type != BOLT_BOOL)
    return MGO_EINVAL;
  *out = v->u.boolean;
  return MGO_OK;
}

int bolt_value_as_int(const struct bolt_value *v, int64_t *out)
{
  if (!v || v->type != BOLT_INT)
    return MGO_EINVAL;
  *out = v->u.integer;
  return MGO_OK;
}

int bolt_value_as_float(const struct bolt_value *v, double *out)
{
  if (v && v->type == BOLT_INT) {
    *out = (double) v->u.integer;
    return MGO_OK;
  }
  if (!v || v->type != BOLT_FLOAT)
    return MGO_EINVAL;
  *out = v->u.real;
  return MGO_OK;
}

int bolt_value_as_string(const struct bolt_value *v, const char **out, size_t *len)
{
  if (!v || v->type != BOLT_STRING)
    return MGO_EINVAL;
  *out = v->u.str.data;
  if (len)
    *len = v->u.str.len;
  return MGO_OK;
}

int bolt_value_as_bytes(const struct bolt_value *v, const uint8_t **out, size_t *len)
{
  if (!v || v->type != BOLT_BYTES)
    return MGO_EINVAL;
  *out = (const uint8_t *) v->u.str.data;
  *len = v->u.str.len;
  return MGO_OK;
}

int bolt_map_get_string(const struct bolt_value *map, const char *key, const char **out)
{
  return bolt_value_as_string(bolt_map_get(map, key), out, NULL);
}

int bolt_map_get_int(const struct bolt_value *map, const char *key, int64_t *out)
{
  return bolt_value_as_int(bolt_map_get(map, key), out);
}

/* Floats compare by bit pattern, so NaN equals the same NaN and -0.0 differs from 0.0. */
static uint64_t float_bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, sizeof(u));
  return u;
}

static bool map_equal(const struct bolt_value *a, const struct bolt_value *b)
{
  if (a->u.map.len != b->u.map.len)
    return false;
  for (size_t i = 0; i < a->u.map.len; i++) {
    const struct bolt_map_entry *e = &a->u.map.entries[i];
    const struct bolt_map_entry *f = map_find(b, e->key, e->key_len);
    if (!f || !bolt_value_equal(&e->value, &f->value))
      return false;
  }
  return true;
}

static bool items_equal(const struct bolt_value *a, const struct bolt_value *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (!bolt_value_equal(&a[i], &b[i]))
      return false;
  }
  return true;
}

bool bolt_value_equal(const struct bolt_value *a, const struct bolt_value *b)
{
  if (!a || !b)
    return a == b;
  if (a->type != b->type)
    return false;
  switch (a->type) {
  case BOLT_NULL:
    return true;
  case BOLT_BOOL:
    return a->u.boolean == b->u.boolean;
  case BOLT_INT:
    return a->u.integer == b->u.integer;
  case BOLT_FLOAT:
    return float_bits(a->u.real) == float_bits(b->u.real);
  case BOLT_STRING:
  case BOLT_BYTES:
    return a->u.str.len == b->u.str.len && memcmp(a->u.str.data, b->u.str.data, a->u.str.len) == 0;
  case BOLT_LIST:
    return a->u.list.len == b->u.list.len && items_equal(a->u.list.items, b->u.list.items, a->u.list.len);
  case BOLT_MAP:
    return map_equal(a, b);
  case BOLT_STRUCT:
    return a->u.structure.tag == b->u.structure.tag && a->u.structure.len == b->u.structure.len &&
           items_equal(a->u.structure.fields, b->u.structure.fields, a->u.structure.len);
  }
  return false;
}

static struct bolt_value *clone_container(const struct bolt_value *v)
{
  struct bolt_value *c = NULL;
  int rc = MGO_OK;
  if (v->type == BOLT_LIST) {
    c = bolt_value_list();
    for (size_t i = 0; c && rc == MGO_OK && i < v->u.list.len; i++)
      rc = bolt_list_push(c, bolt_value_clone(&v->u.list.items[i]));
  } else if (v->type == BOLT_MAP) {
    c = bolt_value_map();
    for (size_t i = 0; c && rc == MGO_OK && i < v->u.map.len; i++)
      rc = bolt_map_put(c, v->u.map.entries[i].key, bolt_value_clone(&v->u.map.entries[i].value));
  } else {
    c = bolt_value_struct(v->u.structure.tag, v->u.structure.len);
    for (size_t i = 0; c && rc == MGO_OK && i < v->u.structure.len; i++)
      rc = bolt_struct_set(c, i, bolt_value_clone(&v->u.structure.fields[i]));
  }
  if (rc != MGO_OK) {
    bolt_value_free(c);
    return NULL;
  }
  return c;
}

struct bolt_value *bolt_value_clone(const struct bolt_value *v)
{
  if (!v)
    return NULL;
  switch (v->type) {
  case BOLT_STRING:
  case BOLT_BYTES:
    return value_new_text(v->type, v->u.str.data, v->u.str.len);
  case BOLT_LIST:
  case BOLT_MAP:
  case BOLT_STRUCT:
    return clone_container(v);
  default: {
    struct bolt_value *c = value_new(v->type);
    if (c)
      *c = *v;
    return c;
  }
  }
}

void bolt_value_clear(struct bolt_value *v)
{
  if (!v)
    return;
  switch (v->type) {
  case BOLT_STRING:
  case BOLT_BYTES:
    free(v->u.str.data);
    break;
  case BOLT_LIST:
    for (size_t i = 0; i < v->u.list.len; i++)
      bolt_value_clear(&v->u.list.items[i]);
    free(v->u.list.items);
    break;
  case BOLT_MAP:
    for (size_t i = 0; i < v->u.map.len; i++) {
      free(v->u.map.entries[i].key);
      bolt_value_clear(&v->u.map.entries[i].value);
    }
    free(v->u.map.entries);
    break;
  case BOLT_STRUCT:
    for (size_t i = 0; i < v->u.structure.len; i++)
      bolt_value_clear(&v->u.structure.fields[i]);
    free(v->u.structure.fields);
    break;
  default:
    break;
  }
  memset(v, 0, sizeof(*v));
  v->type = BOLT_NULL;
}

void bolt_value_free(struct bolt_value *v)
{
  bolt_value_clear(v);
  free(v);
}
