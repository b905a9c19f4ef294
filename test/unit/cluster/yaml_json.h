/* Test helper: loads the first YAML document of a file as jansson JSON (plain scalars that look like
 * integers, booleans or null get those types; quoted scalars stay strings). Caller owns the result;
 * NULL on error. Not thread-safe concerns: pure apart from reading the file. */
#ifndef MGO_TEST_YAML_JSON_H
#define MGO_TEST_YAML_JSON_H

#include <jansson.h>

json_t *test_yaml_file_to_json(const char *path);
/* Reads "$MGO_SOURCE_DIR/<rel>" (or ./<rel>) as YAML. */
json_t *test_yaml_source_file(const char *rel);

#endif
