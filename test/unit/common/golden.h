/* Golden-file comparison for unit tests.
 *
 * mgo_test_golden_json(rel, obj) serializes obj with sorted keys and indent 2 and compares it byte for byte
 * with $MGO_SOURCE_DIR/<rel> (a trailing newline in the file is ignored). With MGO_UPDATE_GOLDEN=1 the file
 * is rewritten first; review the change with git diff. A missing or different file fails the running cmocka
 * test with the path and the produced JSON.
 *
 * Ownership: obj is borrowed. Thread-safety: call from the test's thread only. */
#ifndef MGO_TEST_GOLDEN_H
#define MGO_TEST_GOLDEN_H

#include <jansson.h>

void mgo_test_golden_json(const char *rel, const json_t *obj);

#endif
