/* The `kubectl memgraph status` summary: what a person reads at a glance, built from the MemgraphCluster
 * JSON (spec, status, annotations), the cluster's pods and the namespace's MemgraphBackups.
 *
 * Layout (docs/kubectl-plugin.md shows an example): a header of "Key: value" lines (cluster, a health line,
 * phase, MAIN, image, counts, the plugin's annotations when set), the instances table (pod, role,
 * replication mode, replica state, behind, ready, version, restarts, notes), the conditions table, the last
 * failover, and the backups (schedule, retention, the newest MemgraphBackup, last successful/failed).
 *
 * Ownership: every input is borrowed; text is appended to the caller's buffer. Thread-safety: pure (reads no
 * clock: the caller passes now_ms). */
#ifndef KMG_STATUS_H
#define KMG_STATUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mgo_buf.h"

struct kmg_status_input {
  const json_t *cluster; /* the MemgraphCluster (required) */
  const json_t *pods;    /* a PodList of the cluster's pods, or NULL */
  const json_t *backups; /* a MemgraphBackupList of the namespace, or NULL */
  int64_t now_ms;        /* wall time, for "5m ago" */
};

/* The health line's text: "OK", "DEGRADED: <reason>: <message>", "FAILED: <message>", "UNKNOWN: ...",
 * followed by notes such as "(reconcile paused)". */
void kmg_health_line(const json_t *cluster, char *out, size_t outsz);

/* "5s", "3m", "2h", "4d": how long ago ts (RFC 3339) was at now_ms; "?" when ts is not a time. */
void kmg_format_age(const char *ts, int64_t now_ms, char *out, size_t outsz);

/* Appends the whole summary to out. MGO_EINVAL when in->cluster is not an object; MGO_ETOOBIG/MGO_ENOMEM
 * from the buffer. */
int kmg_format_status(const struct kmg_status_input *in, struct mgo_buf *out);

#endif
