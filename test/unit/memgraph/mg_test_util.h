/* Test helpers for the memgraph module: Bolt values written as JSON text (built with the Bolt value API),
 * so result shapes from memgraph.md can be written down as they appear there. */
#ifndef MGO_MG_TEST_UTIL_H
#define MGO_MG_TEST_UTIL_H

#include "bolt_value.h"

/* JSON text -> a new bolt value (null, bool, integer, real, string, list, map); NULL on bad JSON. The
 * caller frees it with bolt_value_free(). Single quotes are accepted for strings to keep tables short. */
struct bolt_value *mt_value(const char *json);

#endif
