#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mgo_buf.h"
#include "mgo_err.h"

enum {
  OPT_KUBECONFIG = 256,
  OPT_NAMESPACE,
  OPT_LEADER_ELECT,
  OPT_LEASE_NAMESPACE,
  OPT_LEASE_NAME,
  OPT_IDENTITY,
  OPT_LEASE_DURATION,
  OPT_RENEW_DEADLINE,
  OPT_RETRY_PERIOD,
  OPT_LOG_LEVEL,
  OPT_LOG_FORMAT,
  OPT_ONCE,
  OPT_HELP
};

static const struct option long_opts[] = {{"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
                                          {"namespace", required_argument, NULL, OPT_NAMESPACE},
                                          {"leader-elect", optional_argument, NULL, OPT_LEADER_ELECT},
                                          {"lease-namespace", required_argument, NULL, OPT_LEASE_NAMESPACE},
                                          {"lease-name", required_argument, NULL, OPT_LEASE_NAME},
                                          {"identity", required_argument, NULL, OPT_IDENTITY},
                                          {"lease-duration", required_argument, NULL, OPT_LEASE_DURATION},
                                          {"renew-deadline", required_argument, NULL, OPT_RENEW_DEADLINE},
                                          {"retry-period", required_argument, NULL, OPT_RETRY_PERIOD},
                                          {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
                                          {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
                                          {"once", no_argument, NULL, OPT_ONCE},
                                          {"help", no_argument, NULL, OPT_HELP},
                                          {NULL, 0, NULL, 0}};

void mgo_options_usage(FILE *out)
{
  fputs("usage: memgraph-operator version\n"
        "       memgraph-operator run [options]\n"
        "  --kubeconfig PATH         kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
        "  --namespace NS            watch one namespace (env MGO_NAMESPACE; default all)\n"
        "  --leader-elect[=BOOL]     take part in leader election (default true)\n"
        "  --lease-namespace NS      Lease namespace (env MGO_LEASE_NAMESPACE; default "
        "memgraph-operator-system)\n"
        "  --lease-name NAME         Lease name (default memgraph-operator)\n"
        "  --identity ID             holder identity (env MGO_IDENTITY; default <hostname>-<pid>)\n"
        "  --lease-duration S, --renew-deadline S, --retry-period S   election timing (15, 10, 2)\n"
        "  --log-level debug|info|warn|error, --log-format logfmt|json (env MGO_LOG_LEVEL, MGO_LOG_FORMAT)\n"
        "  --once                    connect, report, exit\n",
        out);
}

static const char *env_or(const char *name, const char *def)
{
  const char *v = getenv(name);
  return v && v[0] ? v : def;
}

static int parse_bool(const char *s, bool *out)
{
  if (!s || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
    *out = true;
  else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
    *out = false;
  else
    return -1;
  return 0;
}

static int parse_seconds(const char *s, long *out)
{
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (!s[0] || *end || v <= 0 || v > 3600)
    return -1;
  *out = v;
  return 0;
}

static void set_defaults(struct mgo_options *o)
{
  memset(o, 0, sizeof(*o));
  o->namespace = env_or("MGO_NAMESPACE", NULL);
  o->leader_elect = true;
  o->lease_namespace = env_or("MGO_LEASE_NAMESPACE", "memgraph-operator-system");
  o->lease_name = "memgraph-operator";
  o->lease_duration_s = 15;
  o->renew_deadline_s = 10;
  o->retry_period_s = 2;
  o->log_level = MGO_LOG_INFO;
  o->log_format = MGO_LOG_LOGFMT;
  const char *id = env_or("MGO_IDENTITY", NULL);
  char host[200] = "unknown";
  gethostname(host, sizeof(host) - 1);
  if (id)
    mgo_strlcpy(o->identity, id, sizeof(o->identity));
  else
    mgo_snprintf(o->identity, sizeof(o->identity), "%s-%ld", host, (long) getpid());
}

static int bad(char *err, size_t errsz, const char *what, const char *value)
{
  mgo_snprintf(err, errsz, "invalid %s: %s", what, value ? value : "(missing)");
  return -1;
}

/* Applies one parsed option. */
static int apply_option(struct mgo_options *o, int opt, const char *arg, char *err, size_t errsz)
{
  switch (opt) {
  case OPT_KUBECONFIG:
    o->kubeconfig = arg;
    return 0;
  case OPT_NAMESPACE:
    o->namespace = arg[0] ? arg : NULL;
    return 0;
  case OPT_LEADER_ELECT:
    return parse_bool(arg, &o->leader_elect) ? bad(err, errsz, "--leader-elect", arg) : 0;
  case OPT_LEASE_NAMESPACE:
    o->lease_namespace = arg;
    return 0;
  case OPT_LEASE_NAME:
    o->lease_name = arg;
    return 0;
  case OPT_IDENTITY:
    return mgo_strlcpy(o->identity, arg, sizeof(o->identity)) || !arg[0] ? bad(err, errsz, "--identity", arg)
                                                                         : 0;
  case OPT_LEASE_DURATION:
    return parse_seconds(arg, &o->lease_duration_s) ? bad(err, errsz, "--lease-duration", arg) : 0;
  case OPT_RENEW_DEADLINE:
    return parse_seconds(arg, &o->renew_deadline_s) ? bad(err, errsz, "--renew-deadline", arg) : 0;
  case OPT_RETRY_PERIOD:
    return parse_seconds(arg, &o->retry_period_s) ? bad(err, errsz, "--retry-period", arg) : 0;
  case OPT_LOG_LEVEL:
    return mgo_log_parse_level(arg, &o->log_level) ? bad(err, errsz, "--log-level", arg) : 0;
  case OPT_LOG_FORMAT:
    return mgo_log_parse_format(arg, &o->log_format) ? bad(err, errsz, "--log-format", arg) : 0;
  case OPT_ONCE:
    o->once = true;
    return 0;
  case OPT_HELP:
    o->command = MGO_CMD_HELP;
    return 0;
  default:
    return bad(err, errsz, "option", arg);
  }
}

static int parse_env_logging(struct mgo_options *o, char *err, size_t errsz)
{
  const char *lvl = env_or("MGO_LOG_LEVEL", NULL);
  const char *fmt = env_or("MGO_LOG_FORMAT", NULL);
  if (lvl && mgo_log_parse_level(lvl, &o->log_level))
    return bad(err, errsz, "MGO_LOG_LEVEL", lvl);
  if (fmt && mgo_log_parse_format(fmt, &o->log_format))
    return bad(err, errsz, "MGO_LOG_FORMAT", fmt);
  return 0;
}

int mgo_options_parse(int argc, char **argv, struct mgo_options *o, char *err, size_t errsz)
{
  set_defaults(o);
  if (argc < 2)
    return bad(err, errsz, "command", NULL);
  if (strcmp(argv[1], "version") == 0)
    o->command = MGO_CMD_VERSION;
  else if (strcmp(argv[1], "run") == 0)
    o->command = MGO_CMD_RUN;
  else if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    o->command = MGO_CMD_HELP;
  else
    return bad(err, errsz, "command", argv[1]);
  if (parse_env_logging(o, err, errsz))
    return -1;
  optind = 2;
  opterr = 0;
  for (;;) {
    int opt = getopt_long(argc, argv, "", long_opts, NULL);
    if (opt == -1)
      break;
    if (opt == '?' || opt == ':')
      return bad(err, errsz, "option", argv[optind - 1]);
    if (apply_option(o, opt, optarg, err, errsz))
      return -1;
  }
  if (optind < argc)
    return bad(err, errsz, "argument", argv[optind]);
  if (o->renew_deadline_s >= o->lease_duration_s)
    return bad(err, errsz, "--renew-deadline (must be shorter than --lease-duration)", "");
  return 0;
}
