/* The objects and patches `kubectl memgraph` sends, the checks on what it reads back, and its error lines.
 *
 * Ownership: functions returning json_t * return a new reference the caller json_decref()s (NULL on
 * allocation failure or, where err is taken, on a refused input with the reason in err). Inputs are
 * borrowed; strings returned as const char * are borrowed from the input object. Text goes into caller
 * buffers or is appended to a caller's struct mgo_buf. Thread-safety: pure functions. */
#ifndef KMG_OBJECTS_H
#define KMG_OBJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_path.h"
#include "k8s_status.h"
#include "mgo_buf.h"

extern const struct k8s_resource KMG_RES_CLUSTERS, KMG_RES_BACKUPS;

/* {"spec":{"switchover":{"targetOrdinal":ordinal}}}. */
json_t *kmg_switchover_patch(long ordinal);

/* status.lastFailover.time of cluster (borrowed; NULL when there is none). */
const char *kmg_last_failover_time(const json_t *cluster);

/* True when cluster's status.lastFailover is a switchover to target_pod recorded after the one whose time
 * was prev_time (NULL: there was none), i.e. the switchover asked for has completed. */
bool kmg_switchover_done(const json_t *cluster, const char *target_pod, const char *prev_time);

/* A MemgraphBackup {metadata.name: name, spec.cluster: cluster, spec.target: target (omitted when NULL)}. */
json_t *kmg_backup_object(const char *name, const char *cluster, const char *target);

/* The newest (by metadata.creationTimestamp, then name) item of a MemgraphBackup List whose spec.cluster
 * is cluster; borrowed from list; NULL when there is none. */
const json_t *kmg_newest_backup(const json_t *list, const char *cluster);

/* True when a MemgraphBackup's status.phase is Completed or Failed. */
bool kmg_backup_finished(const json_t *backup);

/* One or two lines describing a MemgraphBackup's outcome: "backup B Completed: pod P (replica), 1.2 MiB,
 * 40 vertices, 1 edges, s3://bucket/key, sha256 ..." or "backup B Failed after N attempts: source/code:
 * message", appended to out. */
int kmg_format_backup_result(const json_t *backup, struct mgo_buf *out);

/* A new MemgraphCluster named new_name with source's spec (without bootstrap and switchover) and
 * spec.bootstrap.restore.backup = backup, in source's namespace. NULL with a reason in err when source has
 * no spec. */
json_t *kmg_restore_object(const json_t *source, const char *new_name, const char *backup, char *err,
                           size_t errsz);

/* Copy of obj without metadata.managedFields (for -o output and reports). New reference. */
json_t *kmg_strip_managed_fields(const json_t *obj);

/* One line for a failed API call: verb ("get", "patch", ...), resource ("memgraphclusters"), ns and name
 * (NULL for a collection) say what was attempted, rc/st what happened. For example:
 *   memgraphcluster "mg" not found in namespace "db"
 *   forbidden: you cannot patch memgraphclusters in namespace "db" (RBAC): <API server message>
 *   cannot reach the API server: <transport message> */
void kmg_api_error(int rc, const struct k8s_status *st, const char *verb, const char *resource,
                   const char *ns, const char *name, char *out, size_t outsz);

/* Human size: "512 B", "1.2 KiB", "3.4 MiB", "5.6 GiB". */
void kmg_format_bytes(int64_t bytes, char *out, size_t outsz);

#endif
