/* JSON text to Bolt values for the memgraph unit tests. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mg_test_util.h"
#include "mgo_err.h"

static struct bolt_value *from_json(const json_t *j);

static struct bolt_value *from_array(const json_t *j)
{
  struct bolt_value *list = bolt_value_list();
  size_t i;
  json_t *item;

  json_array_foreach(j, i, item)
  {
    if (bolt_list_push(list, from_json(item)) != MGO_OK) {
      bolt_value_free(list);
      return NULL;
    }
  }
  return list;
}

static struct bolt_value *from_object(const json_t *j)
{
  struct bolt_value *map = bolt_value_map();
  const char *key;
  json_t *item;

  json_object_foreach((json_t *) j, key, item)
  {
    if (bolt_map_put(map, key, from_json(item)) != MGO_OK) {
      bolt_value_free(map);
      return NULL;
    }
  }
  return map;
}

static struct bolt_value *from_json(const json_t *j)
{
  switch (json_typeof(j)) {
  case JSON_NULL:
    return bolt_value_null();
  case JSON_TRUE:
    return bolt_value_bool(true);
  case JSON_FALSE:
    return bolt_value_bool(false);
  case JSON_INTEGER:
    return bolt_value_int(json_integer_value(j));
  case JSON_REAL:
    return bolt_value_float(json_real_value(j));
  case JSON_STRING:
    return bolt_value_stringn(json_string_value(j), json_string_length(j));
  case JSON_ARRAY:
    return from_array(j);
  case JSON_OBJECT:
    return from_object(j);
  }
  return NULL;
}

struct bolt_value *mt_value(const char *text)
{
  char *copy = strdup(text);
  json_error_t e;
  json_t *j;
  struct bolt_value *v;

  if (copy == NULL)
    return NULL;
  for (char *p = copy; *p != '\0'; p++) {
    if (*p == '\'')
      *p = '"';
  }
  j = json_loads(copy, JSON_DECODE_ANY, &e);
  free(copy);
  if (j == NULL)
    return NULL;
  v = from_json(j);
  json_decref(j);
  return v;
}
