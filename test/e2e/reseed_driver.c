/* reseed_driver: calls op_reseed_request() (src/reconcile/reseed.h) once, for
 * test/e2e/test_agent_reseed.py.
 *
 * Usage: reseed_driver POD POD_UID < cluster.json
 *   cluster.json is the MemgraphCluster object as the API server returns it (kubectl get mgc NAME -o json);
 * the kubeconfig comes from $KUBECONFIG. Prints one JSON line {"rc": "OK"|..., "deleted": bool, "code": HTTP,
 *   "reason", "message"} and exits 0 when the call ran, 2 on usage or setup errors. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster.h"
#include "k8s_client.h"
#include "k8s_config.h"
#include "mgo_err.h"
#include "controller_int.h"
#include "reseed.h"

static bool always(void *arg)
{
  (void) arg;
  return true;
}

int main(int argc, char **argv)
{
  struct k8s_config cfg;
  struct k8s_client *client = NULL;
  struct k8s_status st;
  struct mgo_cluster c;
  json_error_t jerr;
  json_t *obj, *out;
  char err[512] = "";
  char *line;
  bool deleted = false;
  int rc;

  if (argc != 3) {
    fputs("usage: reseed_driver POD POD_UID < cluster.json\n", stderr);
    return 2;
  }
  obj = json_loadf(stdin, 0, &jerr);
  if (obj == NULL || mgo_cluster_parse(obj, &c, NULL) != MGO_OK) {
    fprintf(stderr, "reseed_driver: not a MemgraphCluster on stdin: %s\n", obj ? "parse failed" : jerr.text);
    json_decref(obj);
    return 2;
  }
  json_decref(obj);
  if (k8s_config_load_auto(NULL, &cfg, err, sizeof(err)) != MGO_OK) {
    fprintf(stderr, "reseed_driver: kubeconfig: %s\n", err);
    mgo_cluster_free(&c);
    return 2;
  }
  rc = k8s_client_new(&cfg, NULL, &client, &st);
  k8s_config_free(&cfg);
  if (rc != MGO_OK) {
    fprintf(stderr, "reseed_driver: client: %s %s\n", mgo_errname(rc), st.message);
    mgo_cluster_free(&c);
    return 2;
  }
  {
    /* the runtime's real Kubernetes port, without caches or Events (the re-seed needs neither) */
    struct op_kube_impl impl = {.client = client, .may_act = always, .may_act_arg = NULL};
    struct op_kube_port kube;
    op_kube_port_init(&kube, &impl);
    rc = op_reseed_request(&kube, &c, argv[1], argv[2], &deleted, &st);
  }
  out = json_pack("{s:s, s:b, s:I, s:s, s:s}", "rc", mgo_errname(rc), "deleted", deleted, "code",
                  (json_int_t) st.code, "reason", st.reason, "message", st.message);
  line = json_dumps(out, JSON_COMPACT);
  printf("%s\n", line);
  free(line);
  json_decref(out);
  k8s_client_free(client);
  mgo_cluster_free(&c);
  return 0;
}
