/* Flags and environment of memgraph-operator, from one table: each flag --x-y also reads MGO_X_Y. */
#include "options.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_build.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "operator.h"

enum opt_kind { K_STR, K_NS, K_LONG, K_DURATION, K_BOOL, K_IDENTITY, K_LEVEL, K_FORMAT, K_FLAG, K_HELP };

struct opt_def {
  const char *name; /* flag without "--"; the env name is MGO_ + upper snake */
  enum opt_kind kind;
  size_t offset;
  long min, max; /* K_LONG / K_DURATION bounds (ms for durations) */
  const char *help;
};

#define OFF(field) offsetof(struct mgo_options, field)
static const struct opt_def defs[] = {
    {"kubeconfig", K_STR, OFF(kubeconfig), 0, 0,
     "kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)"},
    {"namespace", K_NS, OFF(namespace), 0, 0, "watch one namespace (default: all)"},
    {"workers", K_LONG, OFF(workers), 1, 64, "reconcile workers (default 16)"},
    {"resync-interval", K_DURATION, OFF(resync_interval_ms), 1000, 86400000, "informer resync (default 30s)"},
    {"http-addr", K_STR, OFF(http_addr), 0, 0, "HTTP listen address (default 0.0.0.0)"},
    {"http-port", K_LONG, OFF(http_port), 0, 65535, "HTTP port (default 8080; 0 picks a free one, logged)"},
    {"leader-elect", K_BOOL, OFF(leader_elect), 0, 0, "take part in leader election (default true)"},
    {"lease-namespace", K_STR, OFF(lease_namespace), 0, 0,
     "Lease namespace (default memgraph-operator-system)"},
    {"lease-name", K_STR, OFF(lease_name), 0, 0, "Lease name (default memgraph-operator)"},
    {"identity", K_IDENTITY, OFF(identity), 0, 0, "holder identity (default <hostname>-<pid>)"},
    {"lease-duration", K_DURATION, OFF(lease_duration_ms), 1000, 3600000, "lease duration (default 15s)"},
    {"renew-deadline", K_DURATION, OFF(renew_deadline_ms), 1000, 3600000, "renew deadline (default 10s)"},
    {"retry-period", K_DURATION, OFF(retry_period_ms), 100, 3600000, "election retry period (default 2s)"},
    {"bolt-timeout", K_DURATION, OFF(bolt_timeout_ms), 100, 600000,
     "Bolt connect/query deadline (default 5s)"},
    {"operator-image", K_STR, OFF(operator_image), 0, 0, "image of the pods' agent init container"},
    {"log-level", K_LEVEL, OFF(log_level), 0, 0, "debug|info|warn|error (default info)"},
    {"log-format", K_FORMAT, OFF(log_format), 0, 0, "logfmt|json (default logfmt)"},
    {"data-dir", K_STR, OFF(data_dir), 0, 0, "agent: Memgraph data directory"},
    {"marker-dir", K_STR, OFF(marker_dir), 0, 0, "agent: operator marker directory"},
    {"replication-port", K_LONG, OFF(replication_port), 1, 65535,
     "agent: the port of the fence's SET REPLICATION ROLE TO REPLICA (default 10000)"},
    {"instructions-dir", K_STR, OFF(instructions_dir), 0, 0,
     "agent: the operator's instructions (default " MGO_AGENT_INSTRUCTIONS_DIR ")"},
    {"pod-name", K_STR, OFF(pod_name), 0, 0, "agent: this pod's name (default $POD_NAME)"},
    {"termination-log", K_STR, OFF(termination_log), 0, 0,
     "agent: where the outcome line goes (default /dev/termination-log)"},
    {"listen", K_STR, OFF(listen), 0, 0, "agent serve: ADDR:PORT to listen on (default 0.0.0.0:9787)"},
    {"token-file", K_STR, OFF(token_file), 0, 0, "agent serve: file holding the API's bearer token"},
    {"cluster", K_STR, OFF(cluster), 0, 0, "agent serve: the pod's MemgraphCluster (isolated-MAIN check)"},
    {"once", K_FLAG, OFF(once), 0, 0, "connect, report, exit"},
    {"help", K_HELP, 0, 0, 0, "this help"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

void mgo_options_usage(FILE *out)
{
  fputs("usage: memgraph-operator version\n"
        "       memgraph-operator run [options]\n"
        "       memgraph-operator agent --data-dir DIR --marker-dir DIR\n"
        "                               [--instructions-dir DIR] [--pod-name NAME] [--termination-log PATH]\n"
        "       memgraph-operator agent serve --data-dir DIR --token-file FILE [--listen ADDR:PORT]\n"
        "                                     [--cluster NAME]\n"
        "options (each also as environment variable MGO_<NAME>, e.g. --http-port = MGO_HTTP_PORT):\n",
        out);
  for (size_t i = 0; i < NDEFS; i++)
    fprintf(out, "  --%-18s %s\n", defs[i].name, defs[i].help);
}

long mgo_parse_duration_ms(const char *s)
{
  char *end = NULL;
  double v;
  double unit = 1000;
  if (s == NULL || !isdigit((unsigned char) s[0]))
    return -1;
  v = strtod(s, &end);
  if (strcmp(end, "ms") == 0)
    unit = 1;
  else if (strcmp(end, "m") == 0)
    unit = 60000;
  else if (strcmp(end, "h") == 0)
    unit = 3600000;
  else if (strcmp(end, "s") != 0 && end[0] != '\0')
    return -1;
  v *= unit;
  return v >= 1 && v < 1e12 ? (long) v : -1;
}

static int parse_bool(const char *s, bool *out)
{
  if (s == NULL || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
    *out = true;
  else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
    *out = false;
  else
    return -1;
  return 0;
}

static int parse_long(const char *s, long min, long max, long *out)
{
  char *end = NULL;
  long v = s != NULL ? strtol(s, &end, 10) : 0;
  if (s == NULL || s[0] == '\0' || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

static int set_value(struct mgo_options *o, const struct opt_def *d, const char *arg)
{
  char *field = (char *) o + d->offset;
  long ms;
  switch (d->kind) {
  case K_STR:
    *(const char **) (void *) field = arg;
    return arg != NULL ? 0 : -1;
  case K_NS:
    *(const char **) (void *) field = arg != NULL && arg[0] != '\0' ? arg : NULL;
    return 0;
  case K_LONG:
    return parse_long(arg, d->min, d->max, (long *) (void *) field);
  case K_DURATION:
    ms = mgo_parse_duration_ms(arg);
    if (ms < d->min || ms > d->max)
      return -1;
    *(long *) (void *) field = ms;
    return 0;
  case K_BOOL:
    return parse_bool(arg, (bool *) (void *) field);
  case K_IDENTITY:
    return arg == NULL || arg[0] == '\0' || mgo_strlcpy(o->identity, arg, sizeof(o->identity)) != MGO_OK ? -1
                                                                                                         : 0;
  case K_LEVEL:
    return mgo_log_parse_level(arg, &o->log_level) == MGO_OK ? 0 : -1;
  case K_FORMAT:
    return mgo_log_parse_format(arg, &o->log_format) == MGO_OK ? 0 : -1;
  case K_FLAG:
    o->once = true;
    return 0;
  default:
    o->command = MGO_CMD_HELP;
    return 0;
  }
}

static void env_name(const char *flag, char *dst, size_t dstsz)
{
  size_t n = mgo_snprintf(dst, dstsz, "MGO_%s", flag) == MGO_OK ? strlen(dst) : 0;
  for (size_t i = 4; i < n; i++) {
    if (dst[i] == '-')
      dst[i] = '_';
    else
      dst[i] = (char) toupper((unsigned char) dst[i]);
  }
}

static int bad(char *err, size_t errsz, const char *what, const char *value)
{
  mgo_snprintf(err, errsz, "invalid %s: %s", what, value ? value : "(missing)");
  return -1;
}

/* The operator's own defaults (src/controller) are the only source of default values. */
static void set_defaults(struct mgo_options *o)
{
  char host[200] = "unknown";
  struct mgo_operator_config d;
  mgo_operator_config_default(&d);
  memset(o, 0, sizeof(*o));
  o->workers = d.workers;
  o->resync_interval_ms = d.resync_interval_ms;
  o->http_addr = d.http_addr;
  o->http_port = d.http_port;
  o->leader_elect = d.leader_elect;
  o->lease_namespace = d.lease_namespace;
  o->lease_name = d.lease_name;
  o->lease_duration_ms = d.lease_duration_ms;
  o->renew_deadline_ms = d.renew_deadline_ms;
  o->retry_period_ms = d.retry_period_ms;
  o->bolt_timeout_ms = d.bolt_timeout_ms;
  o->operator_image = d.operator_image;
  o->log_level = MGO_LOG_INFO;
  o->log_format = MGO_LOG_LOGFMT;
  o->data_dir = "/var/lib/memgraph/mg_data";
  o->marker_dir = "/var/lib/memgraph/operator";
  o->replication_port = 10000;
  o->instructions_dir = MGO_AGENT_INSTRUCTIONS_DIR;
  o->pod_name = getenv("POD_NAME") != NULL ? getenv("POD_NAME") : "";
  o->termination_log = "/dev/termination-log";
  o->listen = "0.0.0.0:9787";
  (void) gethostname(host, sizeof(host) - 1);
  (void) mgo_snprintf(o->identity, sizeof(o->identity), "%s-%ld", host, (long) getpid());
}

static int apply_env(struct mgo_options *o, char *err, size_t errsz)
{
  for (size_t i = 0; i < NDEFS; i++) {
    char name[64];
    const char *v;
    if (defs[i].kind == K_HELP || defs[i].kind == K_FLAG || defs[i].offset == OFF(data_dir) ||
        defs[i].offset == OFF(marker_dir) || defs[i].offset == OFF(instructions_dir) ||
        defs[i].offset == OFF(replication_port) || defs[i].offset == OFF(pod_name) ||
        defs[i].offset == OFF(termination_log) || defs[i].offset == OFF(listen) ||
        defs[i].offset == OFF(token_file) || defs[i].offset == OFF(cluster))
      continue;
    env_name(defs[i].name, name, sizeof(name));
    v = getenv(name);
    if (v != NULL && v[0] != '\0' && set_value(o, &defs[i], v) != 0)
      return bad(err, errsz, name, v);
  }
  return 0;
}

static int apply_flags(int argc, char **argv, int first, struct mgo_options *o, char *err, size_t errsz)
{
  struct option longs[NDEFS + 1];
  memset(longs, 0, sizeof(longs));
  for (size_t i = 0; i < NDEFS; i++) {
    int has_arg = defs[i].kind == K_BOOL ? optional_argument : required_argument;
    if (defs[i].kind == K_FLAG || defs[i].kind == K_HELP)
      has_arg = no_argument;
    longs[i] = (struct option){defs[i].name, has_arg, NULL, 256 + (int) i};
  }
  optind = first;
  opterr = 0;
  for (;;) {
    int opt = getopt_long(argc, argv, "", longs, NULL);
    if (opt == -1)
      break;
    if (opt < 256 || opt >= 256 + (int) NDEFS)
      return bad(err, errsz, "option", argv[optind - 1]);
    if (set_value(o, &defs[opt - 256], optarg) != 0) {
      char what[64];
      (void) mgo_snprintf(what, sizeof(what), "--%s", defs[opt - 256].name);
      return bad(err, errsz, what, optarg);
    }
  }
  if (optind < argc)
    return bad(err, errsz, "argument", argv[optind]);
  return 0;
}

int mgo_options_parse(int argc, char **argv, struct mgo_options *o, char *err, size_t errsz)
{
  static const struct {
    const char *word;
    enum mgo_command cmd;
  } commands[] = {{"version", MGO_CMD_VERSION}, {"run", MGO_CMD_RUN},     {"agent", MGO_CMD_AGENT},
                  {"help", MGO_CMD_HELP},       {"--help", MGO_CMD_HELP}, {"-h", MGO_CMD_HELP}};
  set_defaults(o);
  if (argc < 2)
    return bad(err, errsz, "command", NULL);
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(argv[1], commands[i].word) == 0)
      o->command = commands[i].cmd;
  }
  if (o->command == MGO_CMD_NONE)
    return bad(err, errsz, "command", argv[1]);
  if (o->command == MGO_CMD_AGENT && argc > 2 && strcmp(argv[2], "serve") == 0)
    o->command = MGO_CMD_AGENT_SERVE;
  if (apply_env(o, err, errsz) != 0 ||
      apply_flags(argc, argv, o->command == MGO_CMD_AGENT_SERVE ? 3 : 2, o, err, errsz) != 0)
    return -1;
  if (o->command == MGO_CMD_AGENT_SERVE && (o->token_file == NULL || o->token_file[0] == '\0'))
    return bad(err, errsz, "--token-file (required by agent serve)", NULL);
  if (o->renew_deadline_ms >= o->lease_duration_ms)
    return bad(err, errsz, "--renew-deadline (must be shorter than --lease-duration)", "");
  return 0;
}
