/* k8s_itest: a command-line driver of the src/kube library for the pytest integration tests.
 *
 * Usage (the kubeconfig comes from $KUBECONFIG; env MGO_ITEST_TIMEOUT_MS, MGO_ITEST_CONNECT_TIMEOUT_MS and
 * MGO_ITEST_MAX_RESPONSE tune the client):
 *   k8s_itest get PATH | create PATH JSON | update PATH JSON | patch PATH JSON
 *   k8s_itest apply PATH JSON MANAGER [force]
 *   k8s_itest delete PATH [uid=U] [rv=R] [propagation=P]
 *   k8s_itest list PATH [limit=N] [label=SEL] [field=SEL] [all]
 *   k8s_itest path GROUP VERSION PLURAL NAMESPACED(0|1) NS NAME SUBRESOURCE   ("-" for empty)
 *   k8s_itest config [KUBECONFIG]
 *   k8s_itest informer GROUP VERSION PLURAL NS     (JSON lines until stdin closes; "stats" on stdin prints
 * stats) k8s_itest watch PATH RV                        (one watch request; JSON line per event, then the
 * result) k8s_itest events INVOLVED_JSON TYPE REASON ACTION NOTE COUNT Every command prints one JSON result
 * line: {"rc": "OK"|"ENOTFOUND"|..., "code": HTTP, "reason", "message", "body", ...}. The exit code is 0 when
 * the command ran (whatever the API said), 2 on usage errors. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_events.h"
#include "k8s_informer.h"
#include "k8s_watch.h"
#include "mgo_err.h"

static long env_long(const char *name, long def)
{
  const char *v = getenv(name);
  return v && v[0] ? strtol(v, NULL, 10) : def;
}

static int print_result(int rc, const struct k8s_status *st, json_t *body, json_t *extra)
{
  json_t *out = json_pack("{s:s, s:I, s:s, s:s}", "rc", mgo_errname(rc), "code", (json_int_t) st->code,
                          "reason", st->reason, "message", st->message);
  json_object_set_new(out, "body", body ? body : json_null());
  if (extra)
    json_object_update(out, extra);
  json_decref(extra);
  char *s = json_dumps(out, JSON_COMPACT);
  printf("%s\n", s);
  fflush(stdout);
  free(s);
  json_decref(out);
  return 0;
}

static struct k8s_client *open_client(void)
{
  struct k8s_config cfg;
  char err[512] = "";
  int rc = k8s_config_load_auto(NULL, &cfg, err, sizeof(err));
  if (rc != MGO_OK) {
    struct k8s_status st = {0};
    mgo_strlcpy(st.message, err, sizeof(st.message));
    print_result(rc, &st, NULL, json_pack("{s:s}", "stage", "config"));
    return NULL;
  }
  struct k8s_client_opts o = {.connect_timeout_ms = env_long("MGO_ITEST_CONNECT_TIMEOUT_MS", 5000),
                              .request_timeout_ms = env_long("MGO_ITEST_TIMEOUT_MS", 30000),
                              .max_response = (size_t) env_long("MGO_ITEST_MAX_RESPONSE", 0)};
  struct k8s_client *c = NULL;
  struct k8s_status st;
  rc = k8s_client_new(&cfg, &o, &c, &st);
  k8s_config_free(&cfg);
  if (rc != MGO_OK)
    print_result(rc, &st, NULL, json_pack("{s:s}", "stage", "client"));
  return c;
}

static json_t *parse_arg_json(const char *s)
{
  json_error_t e;
  json_t *v = json_loads(s, 0, &e);
  if (!v)
    fprintf(stderr, "k8s_itest: bad JSON argument: %s\n", e.text);
  return v;
}

/* "key=value" arguments after the fixed ones. */
static const char *kv(int argc, char **argv, int from, const char *key)
{
  size_t n = strlen(key);
  for (int i = from; i < argc; i++) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=')
      return argv[i] + n + 1;
  }
  return NULL;
}

static bool flag(int argc, char **argv, int from, const char *name)
{
  for (int i = from; i < argc; i++) {
    if (strcmp(argv[i], name) == 0)
      return true;
  }
  return false;
}

static json_t *request_counts(struct k8s_client *c)
{
  json_t *o = json_object();
  for (int v = 0; v < K8S_VERB_COUNT; v++)
    json_object_set_new(o, k8s_verb_name((enum k8s_verb) v),
                        json_integer((json_int_t) k8s_client_request_count(c, (enum k8s_verb) v)));
  return json_pack("{s:o}", "requests", o);
}

static int cmd_simple(struct k8s_client *c, int argc, char **argv)
{
  const char *verb = argv[1], *path = argv[2];
  struct k8s_status st;
  json_t *out = NULL, *arg = NULL;
  int rc;
  if (strcmp(verb, "get") == 0) {
    rc = k8s_get(c, path, &out, &st);
    return print_result(rc, &st, out, request_counts(c));
  }
  if (strcmp(verb, "delete") == 0) {
    struct k8s_delete_opts o = {.precondition_uid = kv(argc, argv, 3, "uid"),
                                .precondition_resource_version = kv(argc, argv, 3, "rv"),
                                .propagation_policy = kv(argc, argv, 3, "propagation")};
    rc = k8s_delete(c, path, &o, &out, &st);
    return print_result(rc, &st, out, NULL);
  }
  if (strcmp(verb, "list") == 0) {
    const char *limit = kv(argc, argv, 3, "limit");
    struct k8s_list_opts o = {.label_selector = kv(argc, argv, 3, "label"),
                              .field_selector = kv(argc, argv, 3, "field"),
                              .limit = limit ? strtol(limit, NULL, 10) : 0};
    rc = flag(argc, argv, 3, "all") ? k8s_list_all(c, path, &o, &out, &st) : k8s_list(c, path, &o, &out, &st);
    return print_result(rc, &st, out, request_counts(c));
  }
  if (argc < 4 || !(arg = parse_arg_json(argv[3])))
    return 2;
  if (strcmp(verb, "create") == 0)
    rc = k8s_create(c, path, arg, &out, &st);
  else if (strcmp(verb, "update") == 0)
    rc = k8s_update(c, path, arg, &out, &st);
  else if (strcmp(verb, "patch") == 0)
    rc = k8s_merge_patch(c, path, arg, &out, &st);
  else if (strcmp(verb, "apply") == 0 && argc >= 5)
    rc = k8s_apply(c, path, arg, argv[4], flag(argc, argv, 5, "force"), &out, &st);
  else
    rc = k8s_status_local(&st, MGO_EINVAL, "unknown command");
  json_decref(arg);
  return print_result(rc, &st, out, NULL);
}

static const char *dash(const char *s)
{
  return strcmp(s, "-") == 0 ? NULL : s;
}

static int cmd_path(int argc, char **argv)
{
  if (argc < 9)
    return 2;
  struct k8s_resource res = {dash(argv[2]) ? argv[2] : "", argv[3], argv[4], strcmp(argv[5], "1") == 0};
  char path[K8S_PATH_MAX];
  struct k8s_status st = {0};
  int rc = k8s_path(path, sizeof(path), &res, dash(argv[6]), dash(argv[7]), dash(argv[8]));
  return print_result(rc, &st, rc == MGO_OK ? json_string(path) : NULL, NULL);
}

static int cmd_config(int argc, char **argv)
{
  struct k8s_config cfg;
  char err[512] = "";
  struct k8s_status st = {0};
  int rc = argc >= 3 ? k8s_config_load_kubeconfig(argv[2], NULL, &cfg, err, sizeof(err))
                     : k8s_config_load_auto(NULL, &cfg, err, sizeof(err));
  mgo_strlcpy(st.message, err, sizeof(st.message));
  json_t *body = NULL;
  if (rc == MGO_OK) {
    body =
        json_pack("{s:s?, s:s?, s:s?, s:b, s:b, s:b, s:b}", "server", cfg.server, "namespace", cfg.namespace,
                  "context", cfg.context, "has_token", cfg.token != NULL || cfg.token_file != NULL, "has_ca",
                  cfg.ca_file != NULL || cfg.ca_data != NULL, "has_cert",
                  cfg.cert_file != NULL || cfg.cert_data != NULL, "insecure", cfg.insecure_skip_tls_verify);
    k8s_config_free(&cfg);
  }
  return print_result(rc, &st, body, NULL);
}

static int print_event(void *arg, const struct k8s_watch_event *ev)
{
  (void) arg;
  char key[512] = "";
  const char *rv = NULL;
  if (ev->object) {
    k8s_object_key(ev->object, key, sizeof(key));
    rv = json_string_value(json_object_get(json_object_get(ev->object, "metadata"), "resourceVersion"));
  }
  json_t *line = json_pack("{s:s, s:s, s:s?, s:s}", "event", k8s_watch_type_name(ev->type), "key", key, "rv",
                           rv, "rc", mgo_errname(ev->rc));
  char *s = json_dumps(line, JSON_COMPACT);
  printf("%s\n", s);
  fflush(stdout);
  free(s);
  json_decref(line);
  return MGO_OK;
}

static int cmd_watch(struct k8s_client *c, int argc, char **argv)
{
  if (argc < 4)
    return 2;
  char rv[K8S_RV_MAX] = "";
  struct k8s_watch_opts o = {.resource_version = argv[3],
                             .timeout_seconds = env_long("MGO_ITEST_WATCH_S", 5),
                             .allow_bookmarks = true};
  struct k8s_status st;
  int rc = k8s_watch(c, argv[2], &o, print_event, NULL, rv, sizeof(rv), &st);
  return print_result(rc, &st, NULL, json_pack("{s:s}", "last_rv", rv));
}

static void emit_obj_line(const char *what, const json_t *obj)
{
  char key[512] = "";
  k8s_object_key(obj, key, sizeof(key));
  const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  json_t *line = json_pack("{s:s, s:s, s:s?}", "event", what, "key", key, "rv", rv);
  char *s = json_dumps(line, JSON_COMPACT);
  printf("%s\n", s);
  fflush(stdout);
  free(s);
  json_decref(line);
}

static void inf_add(void *arg, const json_t *obj)
{
  (void) arg;
  emit_obj_line("add", obj);
}

static void inf_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
  (void) arg;
  emit_obj_line(old_obj == new_obj ? "resync" : "update", new_obj);
}

static void inf_delete(void *arg, const json_t *obj)
{
  (void) arg;
  emit_obj_line("delete", obj);
}

static void inf_error(void *arg, const char *what, int rc, const struct k8s_status *st)
{
  (void) arg;
  json_t *line = json_pack("{s:s, s:s, s:s, s:I, s:s}", "event", "error", "what", what, "rc", mgo_errname(rc),
                           "code", (json_int_t) st->code, "message", st->message);
  char *s = json_dumps(line, JSON_COMPACT);
  printf("%s\n", s);
  fflush(stdout);
  free(s);
  json_decref(line);
}

static void print_stats(struct k8s_informer *inf, struct k8s_client *c)
{
  struct k8s_informer_stats s;
  char rv[K8S_RV_MAX];
  k8s_informer_get_stats(inf, &s);
  k8s_informer_resource_version(inf, rv, sizeof(rv));
  json_t *line =
      json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:b}", "event", "stats", "list_requests",
                (json_int_t) k8s_client_request_count(c, K8S_VERB_LIST), "lists", (json_int_t) s.lists,
                "watches", (json_int_t) s.watches, "gone", (json_int_t) s.gone, "watch_errors",
                (json_int_t) s.watch_errors, "events", (json_int_t) s.events, "size",
                (json_int_t) k8s_informer_size(inf), "rv", rv, "synced", k8s_informer_has_synced(inf));
  char *str = json_dumps(line, JSON_COMPACT);
  printf("%s\n", str);
  fflush(stdout);
  free(str);
  json_decref(line);
}

static int cmd_informer(struct k8s_client *c, int argc, char **argv)
{
  if (argc < 6)
    return 2;
  struct k8s_resource res = {dash(argv[2]) ? argv[2] : "", argv[3], argv[4], true};
  struct k8s_informer_opts o = {.resource = &res,
                                .namespace = dash(argv[5]),
                                .resync_ms = env_long("MGO_ITEST_RESYNC_MS", 0),
                                .page_size = env_long("MGO_ITEST_PAGE", 0),
                                .watch_timeout_s = env_long("MGO_ITEST_WATCH_S", 0),
                                .backoff_base_ms = 100,
                                .backoff_max_ms = 1000};
  struct k8s_informer_handlers h = {inf_add, inf_update, inf_delete, inf_error, NULL};
  struct k8s_informer *inf = NULL;
  int rc = k8s_informer_new(c, &o, &h, &inf);
  if (rc == MGO_OK)
    rc = k8s_informer_start(inf);
  if (rc == MGO_OK && k8s_informer_wait_synced(inf, 30000) == MGO_OK)
    print_stats(inf, c);
  char line[256];
  while (rc == MGO_OK && fgets(line, sizeof(line), stdin)) {
    if (strncmp(line, "stats", 5) == 0)
      print_stats(inf, c);
  }
  k8s_informer_free(inf);
  struct k8s_status st = {0};
  return print_result(rc, &st, NULL, NULL);
}

static int cmd_events(struct k8s_client *c, int argc, char **argv)
{
  if (argc < 8)
    return 2;
  json_t *involved = parse_arg_json(argv[2]);
  if (!involved)
    return 2;
  struct k8s_event_recorder_opts o = {.reporting_controller = "memgraph.io/memgraph-operator",
                                      .reporting_instance = "k8s-itest"};
  struct k8s_event_recorder *r = NULL;
  struct k8s_status st = {0};
  int rc = k8s_event_recorder_new(c, &o, &r);
  json_t *flags = json_array();
  long n = strtol(argv[7], NULL, 10);
  for (long i = 0; rc == MGO_OK && i < n; i++) {
    bool aggregated = false;
    rc = k8s_event_record(r, involved, argv[3], argv[4], argv[5], argv[6], &aggregated, &st);
    json_array_append_new(flags, json_boolean(aggregated));
  }
  k8s_event_recorder_free(r);
  json_decref(involved);
  return print_result(rc, &st, NULL, json_pack("{s:o}", "aggregated", flags));
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return 2;
  if (strcmp(argv[1], "path") == 0)
    return cmd_path(argc, argv);
  if (strcmp(argv[1], "config") == 0)
    return cmd_config(argc, argv);
  if (argc < 3)
    return 2;
  struct k8s_client *c = open_client();
  if (!c)
    return 0;
  int rc;
  if (strcmp(argv[1], "informer") == 0)
    rc = cmd_informer(c, argc, argv);
  else if (strcmp(argv[1], "watch") == 0)
    rc = cmd_watch(c, argc, argv);
  else if (strcmp(argv[1], "events") == 0)
    rc = cmd_events(c, argc, argv);
  else
    rc = cmd_simple(c, argc, argv);
  k8s_client_free(c);
  return rc;
}
