/* Names of scheduled MemgraphBackup objects and the S3 keys of their snapshots.
 *
 * Object name: "<cluster>-<YYYYMMDDHHMMSS>" (the schedule's UTC time), at most BACKUP_NAME_LEN characters so
 * it is also a label value. A cluster name too long for that is cut to its first 39 characters (without a
 * trailing '-' or '.') followed by '-' and 8 hex digits of a hash (FNV-1a, 32 bits) of the whole name, so
 * two long names with the same beginning still give different backup names.
 *
 * S3 key: "<prefix>/<namespace>/<cluster>/<backup-name>/<snapshot-file>", or without "<prefix>/" when the
 * prefix is empty. Every component is checked: not empty, not "." or "..", printable ASCII without spaces
 * (0x21-0x7e), no '/' inside namespace, cluster, backup name and file. The prefix may contain '/' between
 * segments (not at its start, not "//", no "." or ".." segment); one trailing '/' is dropped.
 * backup_key_under_cluster() is what retention checks before deleting an object: only keys below the
 * cluster's own "<prefix>/<namespace>/<cluster>/" are ever touched.
 *
 * Ownership: results go into caller buffers (dst, detail); inputs are borrowed for the call.
 * Thread-safety: pure functions. */
#ifndef BACKUP_NAMES_H
#define BACKUP_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_NAME_LEN 63     /* the longest object name made: a label value's limit */
#define BACKUP_KEY_LEN 1024    /* S3's limit on a key, in bytes */
#define BACKUP_CLUSTER_LEN 253 /* a Kubernetes object name's limit (DNS subdomain) */

/* The scheduled backup's name for cluster at t (Unix seconds UTC, years 1970-9999) into dst (size
 * BACKUP_NAME_LEN + 1 always suffices). cluster must be a DNS subdomain name (lowercase letters, digits, '-'
 * and '.', beginning and ending with a letter or digit, at most BACKUP_CLUSTER_LEN). MGO_EINVAL with a
 * detail for a bad cluster name or time, MGO_ETOOBIG when dst is too small; dst is "" on error. detail may
 * be NULL (detailsz 0); it is "" on success. */
int backup_scheduled_name(const char *cluster, int64_t t, char *dst, size_t dstsz, char *detail,
                          size_t detailsz);

/* "<prefix>/<namespace>/<cluster>/" (or "<namespace>/<cluster>/" for an empty or NULL prefix) into dst.
 * MGO_EINVAL with a detail for a bad component, MGO_ETOOBIG when dst is too small or the result is longer
 * than BACKUP_KEY_LEN; dst is "" on error. */
int backup_cluster_prefix(const char *prefix, const char *ns, const char *cluster, char *dst, size_t dstsz,
                          char *detail, size_t detailsz);

/* The snapshot's key "<prefix>/<namespace>/<cluster>/<backup>/<file>" into dst (BACKUP_KEY_LEN + 1 always
 * suffices). Errors as backup_cluster_prefix(). */
int backup_s3_key(const char *prefix, const char *ns, const char *cluster, const char *backup,
                  const char *file, char *dst, size_t dstsz, char *detail, size_t detailsz);

/* True only when key lies strictly below backup_cluster_prefix(prefix, ns, cluster) and everything after it
 * is made of valid segments (not empty, not "." or "..", printable ASCII without spaces). False for invalid
 * components, NULL, the prefix itself, and a neighbour's keys ("db-2/..." is not under "db/"). */
bool backup_key_under_cluster(const char *prefix, const char *ns, const char *cluster, const char *key);

#endif
