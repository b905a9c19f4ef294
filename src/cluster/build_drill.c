/* The restore drill's scratch pod (docs/backup.md): the cluster's own pod template, so the drill restores
 * with exactly the image, flags and init step a real restore would use, but with emptyDir volumes instead of
 * claims, without the agent sidecar, never restarted, and labelled so that no Service of the cluster selects
 * it. */
#include "cluster_build.h"

#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"

int mgo_name_drill_pod(const struct mgo_cluster *c, char *dst, size_t dstsz)
{
  return mgo_snprintf(dst, dstsz, "%s-drill", c->name);
}

/* Keeps only the memgraph container (the sidecar serves uploads: a drill makes none). */
static void only_memgraph(json_t *spec)
{
  json_t *containers = json_object_get(spec, "containers");
  for (size_t i = json_array_size(containers); i > 0; i--) {
    const char *name = json_string_value(json_object_get(json_array_get(containers, i - 1), "name"));
    if (name == NULL || strcmp(name, "memgraph") != 0)
      json_array_remove(containers, i - 1);
  }
}

static int drill_spec(json_t *spec)
{
  json_t *vols = json_object_get(spec, "volumes");
  only_memgraph(spec);
  for (size_t i = json_array_size(vols); i > 0; i--) { /* the tokens are for the sidecar only */
    const char *name = json_string_value(json_object_get(json_array_get(vols, i - 1), "name"));
    if (name != NULL &&
        (strcmp(name, MGO_AGENT_TOKEN_VOLUME) == 0 || strcmp(name, MGO_AGENT_API_VOLUME) == 0))
      json_array_remove(vols, i - 1);
  }
  if (!json_is_array(vols) ||
      json_array_append_new(vols, json_pack("{s:s, s:{}}", "name", "data", "emptyDir")) != 0 ||
      json_array_append_new(vols, json_pack("{s:s, s:{}}", "name", "logs", "emptyDir")) != 0)
    return MGO_ENOMEM;
  return json_object_set_new(spec, "restartPolicy", json_string("Never")) == 0 ? MGO_OK : MGO_ENOMEM;
}

int mgo_build_drill_pod(const struct mgo_cluster *c, const struct mgo_build_opts *opts, const char *backup,
                        json_t **out)
{
  char name[MGO_NAME_MAX + 8];
  json_t *sts = NULL, *spec;
  int rc = backup != NULL && backup[0] != '\0' ? mgo_name_drill_pod(c, name, sizeof(name)) : MGO_EINVAL;

  *out = NULL;
  if (rc == MGO_OK)
    rc = mgo_build_statefulset(c, opts, &sts);
  if (rc != MGO_OK)
    return rc;
  spec = json_deep_copy(json_object_get(json_object_get(json_object_get(sts, "spec"), "template"), "spec"));
  json_decref(sts);
  rc = spec != NULL ? drill_spec(spec) : MGO_ENOMEM;
  if (rc == MGO_OK)
    *out = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s}, s:o}, s:o}", "apiVersion",
                     "v1", "kind", "Pod", "metadata", "name", name, "namespace", c->namespace_, "labels",
                     MGO_LABEL_NAME, "memgraph-drill", MGO_LABEL_INSTANCE, c->name, MGO_LABEL_MANAGED_BY,
                     "memgraph-operator", MGO_LABEL_COMPONENT, "restore-drill", "annotations",
                     MGO_DRILL_BACKUP_ANNOTATION, backup, "ownerReferences", mgo_cluster_owner_refs(c),
                     "spec", spec);
  else
    json_decref(spec);
  return *out != NULL ? MGO_OK : rc != MGO_OK ? rc : MGO_ENOMEM;
}
