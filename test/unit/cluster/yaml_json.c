#include "yaml_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static json_t *plain_scalar(const char *s)
{
  char *end = NULL;
  long long v;

  if (strcmp(s, "true") == 0)
    return json_true();
  if (strcmp(s, "false") == 0)
    return json_false();
  if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || s[0] == '\0')
    return json_null();
  v = strtoll(s, &end, 10);
  if (end != s && *end == '\0')
    return json_integer(v);
  return json_string(s);
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth)
{
  json_t *out = NULL;
  if (node == NULL || depth > 64)
    return NULL;
  if (node->type == YAML_SCALAR_NODE) {
    const char *s = (const char *) node->data.scalar.value;
    return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s) : json_string(s);
  }
  if (node->type == YAML_SEQUENCE_NODE) {
    out = json_array();
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++)
      json_array_append_new(out, convert(doc, yaml_document_get_node(doc, *it), depth + 1));
    return out;
  }
  out = json_object();
  for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    json_object_set_new(out, (const char *) k->data.scalar.value,
                        convert(doc, yaml_document_get_node(doc, p->value), depth + 1));
  }
  return out;
}

json_t *test_yaml_file_to_json(const char *path)
{
  FILE *f = fopen(path, "rb");
  yaml_parser_t parser;
  yaml_document_t doc;
  json_t *out = NULL;

  if (f == NULL)
    return NULL;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  if (yaml_parser_load(&parser, &doc)) {
    out = convert(&doc, yaml_document_get_root_node(&doc), 0);
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  fclose(f);
  return out;
}

json_t *test_yaml_source_file(const char *rel)
{
  char path[1024];
  const char *root = getenv("MGO_SOURCE_DIR");
  snprintf(path, sizeof(path), "%s/%s", root != NULL ? root : ".", rel);
  return test_yaml_file_to_json(path);
}
