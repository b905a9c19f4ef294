/* The registry of per-cluster state (struct op_cluster), keyed "namespace/name". */
#include "controller_int.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

static struct op_cluster *find_locked(struct mgo_operator *op, const char *key, size_t *idx)
{
  for (size_t i = 0; i < op->nclusters; i++) {
    if (strcmp(op->clusters[i]->key, key) == 0) {
      if (idx != NULL)
        *idx = i;
      return op->clusters[i];
    }
  }
  return NULL;
}

/* Room for one more entry (the array grows by doubling). */
static bool reserve_locked(struct mgo_operator *op)
{
  size_t cap = op->cap ? op->cap * 2 : 16;
  struct op_cluster **grown;
  if (op->nclusters < op->cap)
    return true;
  grown = realloc(op->clusters, cap * sizeof(struct op_cluster *));
  if (grown == NULL)
    return false;
  op->clusters = grown;
  op->cap = cap;
  return true;
}

struct op_cluster *op_cluster_get(struct mgo_operator *op, const char *key)
{
  struct op_cluster *cs;
  pthread_mutex_lock(&op->lock);
  cs = find_locked(op, key, NULL);
  if (cs == NULL && reserve_locked(op)) {
    cs = calloc(1, sizeof(*cs));
    if (cs != NULL) {
      (void) mgo_strlcpy(cs->key, key, sizeof(cs->key));
      op->clusters[op->nclusters++] = cs;
    }
  }
  pthread_mutex_unlock(&op->lock);
  return cs;
}

static void free_entry(struct mgo_operator *op, struct op_cluster *cs)
{
  op_cluster_close(cs, op->mg);
  json_decref(cs->snapshot);
  json_decref(cs->last_written);
  free(cs);
}

void op_cluster_forget(struct mgo_operator *op, const char *key)
{
  size_t idx = 0;
  char fragment[OP_KEY_MAX + 16];
  struct op_cluster *cs;

  pthread_mutex_lock(&op->lock);
  cs = find_locked(op, key, &idx);
  if (cs != NULL)
    op->clusters[idx] = op->clusters[--op->nclusters];
  pthread_mutex_unlock(&op->lock);
  if (cs == NULL)
    return;
  free_entry(op, cs);
  (void) mgo_snprintf(fragment, sizeof(fragment), "cluster=\"%s\"", key);
  mgo_metric_remove_matching(op->metrics_reg, fragment);
  mgo_log(MGO_LOG_INFO, "cluster forgotten (deleted)", "cluster", key, (char *) NULL);
}

void op_registry_free(struct mgo_operator *op)
{
  for (size_t i = 0; i < op->nclusters; i++)
    free_entry(op, op->clusters[i]);
  free(op->clusters);
  op->clusters = NULL;
  op->nclusters = op->cap = 0;
}
