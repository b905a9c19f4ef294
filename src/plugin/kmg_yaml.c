/* JSON → YAML through libyaml's emitter (kmg_yaml.h). */
#include "kmg_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "mgo_err.h"

#define MAX_DEPTH 64

struct sink {
  struct mgo_buf *out;
  int rc;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
  struct sink *s = data;
  if (s->rc == MGO_OK) {
    s->rc = mgo_buf_add(s->out, buffer, size);
  }
  return s->rc == MGO_OK;
}

static bool looks_numeric(const char *s)
{
  char *end = NULL;
  (void) strtod(s, &end);
  if (end != s && *end == '\0') {
    return true;
  }
  /* 0x1F, 0o17, 1_000, .inf, .nan */
  return (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) || strcasecmp(s, ".inf") == 0 ||
         strcasecmp(s, "-.inf") == 0 || strcasecmp(s, ".nan") == 0 ||
         (isdigit((unsigned char) s[0]) && strchr(s, '_'));
}

bool kmg_yaml_needs_quotes(const char *s)
{
  static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"};
  if (*s == '\0') {
    return true;
  }
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
    if (strcasecmp(s, words[i]) == 0) {
      return true;
    }
  }
  return looks_numeric(s);
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
  return yaml_emitter_emit(e, ev) ? MGO_OK : MGO_EINVAL;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, bool quoted)
{
  yaml_event_t ev;
  yaml_scalar_style_t style = quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) text, (int) strlen(text), 1, 1, style)) {
    return MGO_ENOMEM;
  }
  return emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, const json_t *v, int depth);

static int emit_object(yaml_emitter_t *e, const json_t *v, int depth)
{
  yaml_event_t ev;
  yaml_mapping_style_t style = json_object_size(v) == 0 ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE;
  yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, style);
  int rc = emit(e, &ev);
  const char *key;
  const json_t *item;
  json_object_foreach((json_t *) v, key, item)
  {
    rc = rc == MGO_OK ? emit_scalar(e, key, kmg_yaml_needs_quotes(key)) : rc;
    rc = rc == MGO_OK ? emit_value(e, item, depth + 1) : rc;
  }
  yaml_mapping_end_event_initialize(&ev);
  return rc == MGO_OK ? emit(e, &ev) : rc;
}

static int emit_array(yaml_emitter_t *e, const json_t *v, int depth)
{
  yaml_event_t ev;
  yaml_sequence_style_t style =
      json_array_size(v) == 0 ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE;
  yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, style);
  int rc = emit(e, &ev);
  size_t i;
  const json_t *item;
  json_array_foreach(v, i, item)
  {
    rc = rc == MGO_OK ? emit_value(e, item, depth + 1) : rc;
  }
  yaml_sequence_end_event_initialize(&ev);
  return rc == MGO_OK ? emit(e, &ev) : rc;
}

static int emit_number(yaml_emitter_t *e, const json_t *v)
{
  char text[64];
  if (json_is_integer(v)) {
    mgo_snprintf(text, sizeof(text), "%lld", (long long) json_integer_value(v));
  } else {
    mgo_snprintf(text, sizeof(text), "%.17g", json_real_value(v));
  }
  return emit_scalar(e, text, false);
}

static int emit_value(yaml_emitter_t *e, const json_t *v, int depth)
{
  if (depth > MAX_DEPTH) {
    return MGO_ETOOBIG;
  }
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return emit_object(e, v, depth);
  case JSON_ARRAY:
    return emit_array(e, v, depth);
  case JSON_STRING:
    return emit_scalar(e, json_string_value(v), kmg_yaml_needs_quotes(json_string_value(v)));
  case JSON_INTEGER:
  case JSON_REAL:
    return emit_number(e, v);
  case JSON_TRUE:
    return emit_scalar(e, "true", false);
  case JSON_FALSE:
    return emit_scalar(e, "false", false);
  default:
    return emit_scalar(e, "null", false);
  }
}

static int emit_document(yaml_emitter_t *e, const json_t *v)
{
  yaml_event_t ev;
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  int rc = emit(e, &ev);
  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
  rc = rc == MGO_OK ? emit(e, &ev) : rc;
  rc = rc == MGO_OK ? emit_value(e, v, 0) : rc;
  yaml_document_end_event_initialize(&ev, 1);
  rc = rc == MGO_OK ? emit(e, &ev) : rc;
  yaml_stream_end_event_initialize(&ev);
  return rc == MGO_OK ? emit(e, &ev) : rc;
}

int kmg_json_to_yaml(const json_t *v, struct mgo_buf *out, char *err, size_t errsz)
{
  yaml_emitter_t e;
  struct sink s = {.out = out, .rc = MGO_OK};
  if (!yaml_emitter_initialize(&e)) {
    return MGO_ENOMEM;
  }
  yaml_emitter_set_output(&e, write_handler, &s);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, -1);
  int rc = emit_document(&e, v);
  if (rc == MGO_OK && !yaml_emitter_flush(&e)) {
    rc = MGO_EINVAL;
  }
  if (s.rc != MGO_OK) {
    rc = s.rc;
  }
  if (rc != MGO_OK) {
    mgo_snprintf(err, errsz, "YAML output failed: %s", e.problem ? e.problem : mgo_strerror(rc));
  }
  yaml_emitter_delete(&e);
  return rc;
}

/* A plain scalar's JSON value under the core schema. */
static json_t *plain_scalar(const char *s)
{
  if (*s == '\0' || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0) {
    return json_null();
  }
  if (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0) {
    return json_boolean(strcasecmp(s, "true") == 0);
  }
  char *end = NULL;
  errno = 0;
  long long i = strtoll(s, &end, 10);
  if (end != s && *end == '\0' && errno == 0) {
    return json_integer((json_int_t) i);
  }
  double d = strtod(s, &end);
  if (end != s && *end == '\0' && strspn(s, "0123456789.eE+-") == strlen(s)) { /* not hex, inf or nan */
    return json_real(d);
  }
  return json_string(s);
}

static json_t *node_to_json(yaml_document_t *doc, yaml_node_t *n, int depth);

static json_t *mapping_to_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
  json_t *obj = json_object();
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; obj != NULL && p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    json_t *v = node_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
    if (k == NULL || k->type != YAML_SCALAR_NODE || v == NULL ||
        json_object_set_new(obj, (const char *) k->data.scalar.value, v) != 0) {
      json_decref(obj);
      return NULL;
    }
  }
  return obj;
}

static json_t *node_to_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
  if (n == NULL || depth > MAX_DEPTH) {
    return NULL;
  }
  if (n->type == YAML_SCALAR_NODE) {
    const char *v = (const char *) n->data.scalar.value;
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(v) : json_string(v);
  }
  if (n->type == YAML_MAPPING_NODE) {
    return mapping_to_json(doc, n, depth);
  }
  json_t *arr = json_array();
  for (yaml_node_item_t *it = n->data.sequence.items.start; arr != NULL && it < n->data.sequence.items.top;
       it++) {
    json_t *v = node_to_json(doc, yaml_document_get_node(doc, *it), depth + 1);
    if (v == NULL || json_array_append_new(arr, v) != 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

int kmg_yaml_load(const char *text, size_t len, json_t **out, char *err, size_t errsz)
{
  yaml_parser_t p;
  yaml_document_t doc;
  *out = NULL;
  if (!yaml_parser_initialize(&p)) {
    return MGO_ENOMEM;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *) text, len);
  int rc = MGO_OK;
  if (!yaml_parser_load(&p, &doc)) {
    mgo_snprintf(err, errsz, "line %zu column %zu: %s", p.problem_mark.line + 1, p.problem_mark.column + 1,
                 p.problem ? p.problem : "invalid YAML");
    rc = MGO_EPARSE;
  } else {
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    *out = root ? node_to_json(&doc, root, 0) : NULL;
    if (*out == NULL) {
      mgo_snprintf(err, errsz, "%s",
                   root ? "unusable YAML (a non-scalar key, or nested too deep)" : "empty document");
      rc = MGO_EPARSE;
    }
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&p);
  return rc;
}
