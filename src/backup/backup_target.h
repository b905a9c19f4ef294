/* Which pod of a cluster takes a backup's snapshot (CREATE SNAPSHOT), from spec.backup.target.
 *
 *  - There must be exactly one healthy MAIN, whatever the target: without one the replicas' "in sync" is not
 *    known to be current ("no MAIN to snapshot"), and with two (a split) neither is trusted.
 *  - Main: the MAIN.
 *  - PreferReplica: the healthy, in-sync replica with the lowest ordinal (the number after the pod name's
 *    last '-'; names without one come after, ordered by name) whose Memgraph allows CREATE SNAPSHOT on a
 *    replica, i.e. 3.7.2 or later (earlier versions answer "Replica instances are not allowed to create
 *    them"; memgraph/memgraph#3420, documented in memgraph/documentation#1495). Otherwise the MAIN, and the
 *    reason says why.
 *
 * Ownership: the instances (and their pod names) are borrowed for the call; struct backup_choice is
 * caller-allocated and holds its reason text. Thread-safety: pure function. */
#ifndef BACKUP_TARGET_H
#define BACKUP_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "mgo_repl.h"

enum backup_target { BACKUP_TARGET_PREFER_REPLICA, BACKUP_TARGET_MAIN };

struct backup_instance {
  const char *pod;
  enum mgo_role role; /* as observed */
  bool healthy;       /* reachable and answering */
  bool in_sync;       /* replicas: registered on the MAIN and in sync with it */
  int major, minor, patch;
};

/* The first version that lets a replica create snapshots. */
#define BACKUP_REPLICA_SNAPSHOT_MAJOR 3
#define BACKUP_REPLICA_SNAPSHOT_MINOR 7
#define BACKUP_REPLICA_SNAPSHOT_PATCH 2

struct backup_choice {
  size_t index;     /* into the instances (MGO_OK only) */
  bool on_replica;  /* the chosen pod is a replica */
  char reason[256]; /* why this pod, or why none */
};

/* Whether Memgraph major.minor.patch may run CREATE SNAPSHOT on a replica. */
bool backup_replica_can_snapshot(int major, int minor, int patch);

/* Picks the pod for target among in[0..n). MGO_OK with out->index; MGO_ENOTFOUND when no pod may take it
 * (out->reason says why); MGO_EINVAL for NULL arguments (in may be NULL when n is 0) or an unknown target. */
int backup_pick_target(const struct backup_instance *in, size_t n, enum backup_target target,
                       struct backup_choice *out);

#endif
