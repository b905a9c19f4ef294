#include "k8s_yaml.h"

#include <stdbool.h>
#include <string.h>
#include <yaml.h>

#include "mgo_buf.h"
#include "mgo_err.h"

#define YAML_MAX_DEPTH 64

struct yaml_ctx {
  yaml_parser_t parser;
  char *err;
  size_t errsz;
};

static int parser_error(struct yaml_ctx *y)
{
  const char *problem = y->parser.problem ? y->parser.problem : "invalid YAML";
  mgo_snprintf(y->err, y->errsz, "line %zu column %zu: %s", y->parser.problem_mark.line + 1,
               y->parser.problem_mark.column + 1, problem);
  return MGO_EPARSE;
}

static int next_event(struct yaml_ctx *y, yaml_event_t *ev)
{
  if (!yaml_parser_parse(&y->parser, ev))
    return parser_error(y);
  return MGO_OK;
}

static int parse_node(struct yaml_ctx *y, yaml_event_t *ev, int depth, json_t **out);

/* Reads children until the closing event; mappings alternate key scalar / value node. */
static int parse_children(struct yaml_ctx *y, json_t *parent, int depth)
{
  bool is_map = json_is_object(parent);
  for (;;) {
    yaml_event_t ev;
    int rc = next_event(y, &ev);
    if (rc != MGO_OK)
      return rc;
    if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return MGO_OK;
    }
    char *key = NULL;
    if (is_map) {
      if (ev.type != YAML_SCALAR_EVENT) {
        mgo_snprintf(y->err, y->errsz, "line %zu: mapping keys must be plain scalars",
                     ev.start_mark.line + 1);
        yaml_event_delete(&ev);
        return MGO_EPARSE;
      }
      key = strndup((const char *) ev.data.scalar.value, ev.data.scalar.length);
      yaml_event_delete(&ev);
      rc = key ? next_event(y, &ev) : MGO_ENOMEM;
      if (rc != MGO_OK) {
        free(key);
        return rc;
      }
    }
    json_t *child = NULL;
    rc = parse_node(y, &ev, depth + 1, &child);
    if (rc == MGO_OK) {
      int jrc = is_map ? json_object_set_new(parent, key, child) : json_array_append_new(parent, child);
      rc = jrc == 0 ? MGO_OK : MGO_ENOMEM;
    }
    free(key);
    if (rc != MGO_OK)
      return rc;
  }
}

/* Consumes ev (always deleted) and everything belonging to it. */
static int parse_node(struct yaml_ctx *y, yaml_event_t *ev, int depth, json_t **out)
{
  yaml_event_type_t type = ev->type;
  size_t line = ev->start_mark.line + 1;
  if (type == YAML_SCALAR_EVENT)
    *out = json_stringn((const char *) ev->data.scalar.value, ev->data.scalar.length);
  yaml_event_delete(ev);
  if (type == YAML_SCALAR_EVENT)
    return *out ? MGO_OK : MGO_EPARSE;
  if (type == YAML_ALIAS_EVENT) {
    mgo_snprintf(y->err, y->errsz, "line %zu: YAML aliases are not supported", line);
    return MGO_EPARSE;
  }
  if (type != YAML_MAPPING_START_EVENT && type != YAML_SEQUENCE_START_EVENT) {
    mgo_snprintf(y->err, y->errsz, "line %zu: unexpected YAML structure", line);
    return MGO_EPARSE;
  }
  if (depth > YAML_MAX_DEPTH) {
    mgo_snprintf(y->err, y->errsz, "line %zu: nesting deeper than %d levels", line, YAML_MAX_DEPTH);
    return MGO_EPARSE;
  }
  json_t *node = type == YAML_MAPPING_START_EVENT ? json_object() : json_array();
  int rc = node ? parse_children(y, node, depth) : MGO_ENOMEM;
  if (rc != MGO_OK) {
    json_decref(node);
    return rc;
  }
  *out = node;
  return MGO_OK;
}

/* Skips STREAM_START and DOCUMENT_START; returns the first event of the document's root node. An empty
 * stream yields MGO_EPARSE. */
static int root_event(struct yaml_ctx *y, yaml_event_t *ev)
{
  for (;;) {
    int rc = next_event(y, ev);
    if (rc != MGO_OK)
      return rc;
    if (ev->type != YAML_STREAM_START_EVENT && ev->type != YAML_DOCUMENT_START_EVENT)
      break;
    yaml_event_delete(ev);
  }
  if (ev->type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(ev);
    mgo_snprintf(y->err, y->errsz, "the file is empty");
    return MGO_EPARSE;
  }
  return MGO_OK;
}

int k8s__yaml_to_json(const char *text, size_t len, json_t **out, char *err, size_t errsz)
{
  struct yaml_ctx y = {.err = err, .errsz = errsz};
  *out = NULL;
  if (!yaml_parser_initialize(&y.parser))
    return MGO_ENOMEM;
  yaml_parser_set_input_string(&y.parser, (const unsigned char *) text, len);
  yaml_event_t ev;
  int rc = root_event(&y, &ev);
  json_t *root = NULL;
  if (rc == MGO_OK)
    rc = parse_node(&y, &ev, 0, &root);
  if (rc == MGO_OK) {
    rc = next_event(&y, &ev); /* DOCUMENT_END */
    if (rc == MGO_OK)
      yaml_event_delete(&ev);
  }
  if (rc == MGO_OK) {
    memset(&ev, 0, sizeof(ev));
    rc = next_event(&y, &ev);
    if (rc == MGO_OK && ev.type != YAML_STREAM_END_EVENT) {
      mgo_snprintf(err, errsz, "line %zu: more than one YAML document", ev.start_mark.line + 1);
      rc = MGO_EPARSE;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&y.parser);
  if (rc != MGO_OK) {
    json_decref(root);
    return rc;
  }
  *out = root;
  return MGO_OK;
}
