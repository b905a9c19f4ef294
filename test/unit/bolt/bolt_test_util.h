/* Helpers for the Bolt unit tests: hex strings, the vector file, JSON → bolt_value, a scripted fake server.
 */
#ifndef MGO_BOLT_TEST_UTIL_H
#define MGO_BOLT_TEST_UTIL_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bolt_value.h"

/* Decodes hex (upper or lower case, no separators) into a new buffer (free()); NULL on bad input. */
uint8_t *tu_unhex(const char *hex, size_t *len);
/* Renders bytes as upper-case hex into a new string (free()). */
char *tu_hex(const uint8_t *p, size_t len);
/* Concatenates a large vector's hex_parts (strings and {"repeat", "count"} items). */
uint8_t *tu_hex_parts(const json_t *parts, size_t *len);

/* Loads test/data/bolt-vectors.json of this repository (CMake compiles its path in as MGO_BOLT_VECTORS);
 * NULL, after saying why on stderr, if it cannot be read. */
json_t *tu_load_vectors(void);
/* Converts a vector 'value' (bolt-vectors.json "value_encoding") to a bolt_value; NULL on unknown forms. */
struct bolt_value *tu_json_to_value(const json_t *j);

/* A scripted peer on 127.0.0.1: each step either expects bytes from the client (compared exactly), sends
 * bytes, stays silent (to test deadlines: up to ms, or until the client hangs up) or closes. It runs in its
 * own thread. */
enum tu_step_kind { TU_EXPECT, TU_SEND, TU_SILENT_MS, TU_CLOSE };
struct tu_step {
  enum tu_step_kind kind;
  const char *hex; /* for EXPECT/SEND */
  int ms;          /* for SILENT_MS: the longest the peer stays silent */
};
struct tu_server {
  int listen_fd;
  uint16_t port;
  const struct tu_step *steps;
  size_t nsteps;
  pthread_t thread;
  int failed_step; /* -1 when the whole script ran as written */
  char why[512];
};
/* Starts listening and serving the script for one client. */
int tu_server_start(struct tu_server *s, const struct tu_step *steps, size_t nsteps);
/* Waits for the script to finish; returns failed_step. */
int tu_server_join(struct tu_server *s);

#endif
