/* JSON → YAML text (libyaml's emitter), for `-o yaml` and the report's files.
 *
 * Objects become block mappings (keys in the JSON's order), arrays block sequences (empty ones flow: {} and
 * []), numbers, booleans and null plain scalars. Strings are plain unless YAML would read them back as
 * something else (true/false/yes/no/on/off/null/~, numbers, empty) or they need quoting anyway, in which
 * case they are double-quoted: `memgraph.io/hibernation: "on"` stays a string.
 *
 * Ownership: v is borrowed; the text is appended to the caller's buffer (bounded by its max). Errors:
 * MGO_ETOOBIG when out's ceiling is reached, MGO_ENOMEM, MGO_EINVAL when the emitter refuses (message in
 * err). Thread-safety: reentrant. */
#ifndef KMG_YAML_H
#define KMG_YAML_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mgo_buf.h"

int kmg_json_to_yaml(const json_t *v, struct mgo_buf *out, char *err, size_t errsz);

/* YAML text (the first document) → JSON, typed as YAML 1.2's core schema reads plain scalars: null, "~" or
 * empty → null, true/false → booleans, integers and decimals → numbers, everything else and every quoted
 * scalar → string; aliases are followed (nesting capped at 64). *out is a new reference. MGO_EPARSE with
 * "line L column C: problem" in err, MGO_ENOMEM. */
int kmg_yaml_load(const char *text, size_t len, json_t **out, char *err, size_t errsz);

/* True when a plain scalar s would be resolved by a YAML 1.1/1.2 reader as a non-string. */
bool kmg_yaml_needs_quotes(const char *s);

#endif
