/* Golden text files for the plugin's unit tests: kmg_test_golden_text(rel, text) compares text byte for byte
 * with $MGO_SOURCE_DIR/<rel>; MGO_UPDATE_GOLDEN=1 rewrites the file first (review with git diff). A missing
 * or different file fails the running cmocka test with the produced text. kmg_test_load_json(rel) reads a
 * JSON fixture (the caller owns the result; fails the test when unreadable). */
#ifndef KMG_TEST_GOLDEN_H
#define KMG_TEST_GOLDEN_H

#include <jansson.h>

void kmg_test_golden_text(const char *rel, const char *text);
json_t *kmg_test_load_json(const char *rel);

#endif
