/* The pod that takes a backup's snapshot (see backup_target.h). */
#include "backup_target.h"

#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"

#define NO_ORDINAL (-1L)

bool backup_replica_can_snapshot(int major, int minor, int patch)
{
  if (major != BACKUP_REPLICA_SNAPSHOT_MAJOR)
    return major > BACKUP_REPLICA_SNAPSHOT_MAJOR;
  if (minor != BACKUP_REPLICA_SNAPSHOT_MINOR)
    return minor > BACKUP_REPLICA_SNAPSHOT_MINOR;
  return patch >= BACKUP_REPLICA_SNAPSHOT_PATCH;
}

/* The number after the last '-' of a StatefulSet pod's name, or NO_ORDINAL. */
static long ordinal_of(const char *pod)
{
  const char *dash = pod != NULL ? strrchr(pod, '-') : NULL;
  long v = 0;
  if (dash == NULL || dash[1] == '\0' || strlen(dash + 1) > 9)
    return NO_ORDINAL;
  for (const char *p = dash + 1; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return NO_ORDINAL;
    v = v * 10 + (*p - '0');
  }
  return v;
}

/* Whether a should be preferred to b: the lower ordinal, then pods with one, then by name. */
static bool before(const struct backup_instance *a, const struct backup_instance *b)
{
  long oa = ordinal_of(a->pod), ob = ordinal_of(b->pod);
  if (oa != ob)
    return ob == NO_ORDINAL || (oa != NO_ORDINAL && oa < ob);
  return strcmp(a->pod != NULL ? a->pod : "", b->pod != NULL ? b->pod : "") < 0;
}

static const char *pod_of(const struct backup_instance *in)
{
  return in->pod != NULL ? in->pod : "?";
}

/* The one healthy MAIN into *main; MGO_ENOTFOUND with the reason when there is none or more than one. */
static int find_main(const struct backup_instance *in, size_t n, size_t *main, struct backup_choice *out)
{
  size_t count = 0, second = 0;
  for (size_t i = 0; i < n; i++) {
    if (in[i].role != MGO_ROLE_MAIN || !in[i].healthy)
      continue;
    if (count == 0)
      *main = i;
    else if (count == 1)
      second = i;
    count++;
  }
  if (count == 0) {
    (void) mgo_strlcpy(out->reason, "no MAIN to snapshot: no healthy instance has the MAIN role",
                       sizeof(out->reason));
    return MGO_ENOTFOUND;
  }
  if (count > 1) {
    (void) mgo_snprintf(out->reason, sizeof(out->reason),
                        "%zu healthy MAINs (%s, %s): no snapshot while the cluster is split", count,
                        pod_of(&in[*main]), pod_of(&in[second]));
    return MGO_ENOTFOUND;
  }
  return MGO_OK;
}

/* The preferred eligible replica into *best; false when none. *too_old counts the healthy in-sync replicas
 * whose version cannot snapshot. */
static bool find_replica(const struct backup_instance *in, size_t n, size_t *best, size_t *too_old)
{
  bool found = false;
  *too_old = 0;
  for (size_t i = 0; i < n; i++) {
    if (in[i].role != MGO_ROLE_REPLICA || !in[i].healthy || !in[i].in_sync)
      continue;
    if (!backup_replica_can_snapshot(in[i].major, in[i].minor, in[i].patch)) {
      (*too_old)++;
      continue;
    }
    if (!found || before(&in[i], &in[*best]))
      *best = i;
    found = true;
  }
  return found;
}

int backup_pick_target(const struct backup_instance *in, size_t n, enum backup_target target,
                       struct backup_choice *out)
{
  size_t main = 0, replica = 0, too_old = 0;
  if (out == NULL)
    return MGO_EINVAL;
  memset(out, 0, sizeof(*out));
  if ((in == NULL && n > 0) || (target != BACKUP_TARGET_PREFER_REPLICA && target != BACKUP_TARGET_MAIN)) {
    (void) mgo_strlcpy(out->reason, "invalid arguments", sizeof(out->reason));
    return MGO_EINVAL;
  }
  int rc = find_main(in, n, &main, out);
  if (rc != MGO_OK)
    return rc;
  out->index = main;
  if (target == BACKUP_TARGET_MAIN) {
    (void) mgo_snprintf(out->reason, sizeof(out->reason), "the MAIN %s (target Main)", pod_of(&in[main]));
    return MGO_OK;
  }
  if (find_replica(in, n, &replica, &too_old)) {
    out->index = replica;
    out->on_replica = true;
    (void) mgo_snprintf(out->reason, sizeof(out->reason), "replica %s is healthy and in sync",
                        pod_of(&in[replica]));
  } else if (too_old > 0) {
    (void) mgo_snprintf(out->reason, sizeof(out->reason),
                        "the MAIN %s: the in-sync replicas run Memgraph older than %d.%d.%d, which cannot "
                        "snapshot on a replica",
                        pod_of(&in[main]), BACKUP_REPLICA_SNAPSHOT_MAJOR, BACKUP_REPLICA_SNAPSHOT_MINOR,
                        BACKUP_REPLICA_SNAPSHOT_PATCH);
  } else {
    (void) mgo_snprintf(out->reason, sizeof(out->reason), "the MAIN %s: no healthy in-sync replica",
                        pod_of(&in[main]));
  }
  return MGO_OK;
}
