/* Test helper: builds clusters and observed states from the compact notation of the topology tables.
 * Cluster "mg" in namespace "db" with default spec apart from the arguments. Failing input fails the
 * running cmocka test. */
#ifndef MGO_TEST_NOTATION_H
#define MGO_TEST_NOTATION_H

#include "cluster.h"
#include "topology.h"

enum mgo_repl_mode notation_mode(char c); /* 'A', 'S' SYNC, 'X' STRICT_SYNC */
void notation_cluster(struct mgo_cluster *c, int instances, int sync, char sync_mode, char mode,
                      const char *recorded);
/* Instances separated by "|"; a segment starting with "@" holds global flags (see notation.c). */
void notation_observed(const struct mgo_cluster *c, const char *text, struct rec_observed *obs);
/* Applies the spec flags of the "@" segment of text to c (after notation_cluster). */
void notation_spec(struct mgo_cluster *c, const char *text);

#endif
