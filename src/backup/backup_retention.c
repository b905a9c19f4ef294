/* Retention of backups (see backup_retention.h): sort by phase and age, then walk each phase newest first. */
#include "backup_retention.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"

#define SECS_PER_DAY INT64_C(86400)

struct ranked {
  size_t index;
  int64_t when;
  const char *name;
  enum backup_phase phase;
  bool del;
};

static int64_t when_of(const struct backup_item *b)
{
  return b->completed_at != 0 ? b->completed_at : b->created_at;
}

/* Negative when a is newer than b. */
static int newer_first(const struct ranked *a, const struct ranked *b)
{
  if (a->when != b->when)
    return a->when > b->when ? -1 : 1;
  return -strcmp(a->name, b->name);
}

/* Completed, then failed, then the rest; newest first within each; then by index (stable). */
static int compare(const void *pa, const void *pb)
{
  const struct ranked *a = pa, *b = pb;
  static const int order[] = {
      [BACKUP_COMPLETED] = 0, [BACKUP_FAILED] = 1, [BACKUP_PENDING] = 2, [BACKUP_RUNNING] = 2};
  int c = order[a->phase] - order[b->phase];
  if (c == 0 && a->phase != BACKUP_PENDING && a->phase != BACKUP_RUNNING)
    c = newer_first(a, b);
  if (c == 0)
    c = a->index < b->index ? -1 : a->index > b->index;
  return c;
}

static int compare_index(const void *pa, const void *pb)
{
  const struct ranked *a = pa, *b = pb;
  return a->index < b->index ? -1 : a->index > b->index;
}

static bool known_phase(enum backup_phase p)
{
  return p == BACKUP_PENDING || p == BACKUP_RUNNING || p == BACKUP_COMPLETED || p == BACKUP_FAILED;
}

/* Marks r[].del over the sorted array (completed ones first, so the oldest kept one is known before the
 * failed ones are looked at). */
static void decide(struct ranked *r, size_t n, const struct backup_policy *p, int64_t now)
{
  int64_t cutoff = now - (int64_t) p->max_age_days * SECS_PER_DAY;
  unsigned keep_failed = p->count > 0 ? p->count : BACKUP_RETENTION_FAILED_KEEP;
  const struct ranked *oldest_kept = NULL;
  size_t rank_completed = 0, rank_failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (r[i].phase == BACKUP_COMPLETED) {
      bool too_old = p->max_age_days > 0 && r[i].when < cutoff;
      r[i].del = rank_completed > 0 && ((p->count > 0 && rank_completed >= p->count) || too_old);
      if (!r[i].del)
        oldest_kept = &r[i];
      rank_completed++;
    } else if (r[i].phase == BACKUP_FAILED) {
      bool outside = oldest_kept != NULL && newer_first(oldest_kept, &r[i]) < 0;
      r[i].del = rank_failed >= keep_failed || outside;
      rank_failed++;
    }
  }
}

int backup_retention(const struct backup_item *items, size_t n, const struct backup_policy *policy,
                     int64_t now, size_t *del, size_t delcap, size_t *ndel)
{
  if (ndel == NULL)
    return MGO_EINVAL;
  *ndel = 0;
  if (policy == NULL || (n > 0 && (items == NULL || (del == NULL && delcap > 0))))
    return MGO_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (!known_phase(items[i].phase))
      return MGO_EINVAL;
  }
  if (n == 0)
    return MGO_OK;
  struct ranked *r = calloc(n, sizeof(*r));
  if (r == NULL)
    return MGO_ENOMEM;
  for (size_t i = 0; i < n; i++)
    r[i] = (struct ranked){i, when_of(&items[i]), items[i].name != NULL ? items[i].name : "", items[i].phase,
                           false};
  qsort(r, n, sizeof(*r), compare);
  decide(r, n, policy, now);
  qsort(r, n, sizeof(*r), compare_index);
  int rc = MGO_OK;
  for (size_t i = 0; i < n; i++) {
    if (!r[i].del)
      continue;
    if (*ndel == delcap) {
      rc = MGO_ETOOBIG;
      break;
    }
    del[(*ndel)++] = r[i].index;
  }
  free(r);
  return rc;
}
