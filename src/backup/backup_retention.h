/* Which MemgraphBackup objects (and their S3 snapshots) a retention policy deletes.
 *
 * Rules, for the backups of one cluster:
 *  - Pending and running backups are never deleted.
 *  - Completed backups, newest first: the newest is never deleted, whatever the policy; each other one is
 *    deleted when it is beyond the `count` newest (count > 0) or completed before now - max_age_days days
 *    (max_age_days > 0).
 *  - Failed backups, newest first: the newest K are kept, K = count when count > 0, otherwise
 *    BACKUP_RETENTION_FAILED_KEEP; the others are deleted, so failures never pile up (not even while every
 *    run fails). A failed backup older than the oldest completed backup kept is deleted too: it lies outside
 *    the window the policy keeps. So a recent failure (newer than the last success, or between kept
 *    successes) stays visible; one that later successes have pushed out of the window goes with them.
 *  - A backup's time is its completed_at (when it finished, success or failure), or its created_at when
 *    completed_at is 0. Equal times are ordered by name: the greater name counts as the newer (scheduled
 *    names end in their UTC time, so this is their order).
 *
 * Ownership: the items (and their names) are borrowed for the call; the indices go into the caller's array.
 * Thread-safety: pure function (it allocates a scratch array, freed before it returns). */
#ifndef BACKUP_RETENTION_H
#define BACKUP_RETENTION_H

#include <stddef.h>
#include <stdint.h>

enum backup_phase { BACKUP_PENDING, BACKUP_RUNNING, BACKUP_COMPLETED, BACKUP_FAILED };

struct backup_item {
  const char *name; /* object name; NULL is ordered as "" */
  enum backup_phase phase;
  int64_t completed_at; /* Unix seconds UTC, 0 if not finished */
  int64_t created_at;   /* Unix seconds UTC */
};

struct backup_policy {
  unsigned count;        /* completed backups kept (0: no count limit) */
  unsigned max_age_days; /* completed backups kept at most this long (0: no age limit) */
};

/* Failed backups kept when the policy has no count. */
#define BACKUP_RETENTION_FAILED_KEEP 3u

/* Writes into del[] the indices into items[] of the backups to delete, in increasing order, and their
 * number into *ndel. delcap >= n always suffices; MGO_ETOOBIG when more are to be deleted than delcap (the
 * first delcap are written). MGO_EINVAL for NULL arguments (items and del may be NULL when n is 0) or an
 * unknown phase, MGO_ENOMEM when the scratch array cannot be allocated; *ndel is 0 for those two. */
int backup_retention(const struct backup_item *items, size_t n, const struct backup_policy *policy,
                     int64_t now, size_t *del, size_t delcap, size_t *ndel);

#endif
