/* Command-line parsing of kubectl-memgraph: a command table and a flag table (see kmg_args.h). */
#include "kmg_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"

/* Flag bits: which commands take which flags. */
enum {
  F_OUTPUT = 1 << 0,
  F_TO = 1 << 1,
  F_INTO = 1 << 2,
  F_WAIT = 1 << 3,
  F_TIMEOUT = 1 << 4,
  F_OPURL = 1 << 5,
  F_FILE = 1 << 6,
  F_NAME = 1 << 7,
  F_TARGET = 1 << 8,
  F_CONTAINER = 1 << 9,
  F_TAIL = 1 << 10,
  F_PREVIOUS = 1 << 11,
  F_FILENAME = 1 << 12,
  F_FOLLOW = 1 << 13,
  F_GLOBAL = 1 << 15
};

struct command_def {
  const char *name;
  enum kmg_command cmd;
  int min_pos, max_pos;
  unsigned flags;
  const char *synopsis; /* for "needs ..." messages */
};

static const struct command_def COMMANDS[] = {
    {"status", KMG_CMD_STATUS, 1, 1, F_OUTPUT, "status NAME [-o json|yaml]"},
    {"switchover", KMG_CMD_SWITCHOVER, 1, 1, F_TO | F_TIMEOUT, "switchover NAME --to ORDINAL [--timeout 5m]"},
    {"backup", KMG_CMD_BACKUP, 1, 1, F_OUTPUT | F_WAIT | F_TIMEOUT | F_NAME | F_TARGET,
     "backup NAME [--name BACKUP] [--target PreferReplica|Main] [--wait [--timeout 5m]]"},
    {"fence", KMG_CMD_FENCE, 2, 2, 0, "fence NAME INSTANCE|'*'"},
    {"unfence", KMG_CMD_UNFENCE, 1, 2, 0, "unfence NAME [INSTANCE]"},
    {"hibernate", KMG_CMD_HIBERNATE, 1, 1, 0, "hibernate NAME"},
    {"resume", KMG_CMD_RESUME, 1, 1, 0, "resume NAME"},
    {"pause", KMG_CMD_PAUSE, 1, 1, 0, "pause NAME"},
    {"unpause", KMG_CMD_UNPAUSE, 1, 1, 0, "unpause NAME"},
    {"restore", KMG_CMD_RESTORE, 1, 1, F_INTO | F_OUTPUT, "restore BACKUP --into NEW"},
    {"report", KMG_CMD_REPORT, 1, 1, F_OUTPUT | F_OPURL | F_FILE | F_TIMEOUT,
     "report NAME [--file PATH] [--operator-url URL] [-o json|yaml]"},
    {"logs", KMG_CMD_LOGS, 1, 2, F_CONTAINER | F_TAIL | F_PREVIOUS | F_FOLLOW,
     "logs NAME [INSTANCE] [-c CONTAINER] [--tail N] [-p] [--follow]"},
    {"preview", KMG_CMD_PREVIEW, 1, 1, F_FILENAME, "preview NAME -f CHANGED.yaml"},
    {"version", KMG_CMD_VERSION, 0, 0, 0, "version"},
    {"help", KMG_CMD_HELP, 0, 1, 0, "help"},
};

enum flag_id {
  FL_KUBECONFIG,
  FL_CONTEXT,
  FL_NAMESPACE,
  FL_HELP,
  FL_OUTPUT,
  FL_TO,
  FL_INTO,
  FL_WAIT,
  FL_TIMEOUT,
  FL_OPURL,
  FL_FILE,
  FL_NAME,
  FL_TARGET,
  FL_CONTAINER,
  FL_TAIL,
  FL_PREVIOUS,
  FL_FILENAME,
  FL_FOLLOW
};

struct flag_def {
  const char *name; /* long name without "--" */
  char short_name;  /* 0 when none */
  bool has_value;
  unsigned bit;
  enum flag_id id;
};

static const struct flag_def FLAGS[] = {
    {"kubeconfig", 0, true, F_GLOBAL, FL_KUBECONFIG},
    {"context", 0, true, F_GLOBAL, FL_CONTEXT},
    {"namespace", 'n', true, F_GLOBAL, FL_NAMESPACE},
    {"help", 'h', false, F_GLOBAL, FL_HELP},
    {"output", 'o', true, F_OUTPUT, FL_OUTPUT},
    {"to", 0, true, F_TO, FL_TO},
    {"into", 0, true, F_INTO, FL_INTO},
    {"wait", 0, false, F_WAIT, FL_WAIT},
    {"timeout", 0, true, F_TIMEOUT, FL_TIMEOUT},
    {"operator-url", 0, true, F_OPURL, FL_OPURL},
    {"file", 0, true, F_FILE, FL_FILE},
    {"name", 0, true, F_NAME, FL_NAME},
    {"target", 0, true, F_TARGET, FL_TARGET},
    {"container", 'c', true, F_CONTAINER, FL_CONTAINER},
    {"tail", 0, true, F_TAIL, FL_TAIL},
    {"previous", 'p', false, F_PREVIOUS, FL_PREVIOUS},
    {"filename", 'f', true, F_FILENAME, FL_FILENAME},
    {"follow", 0, false, F_FOLLOW, FL_FOLLOW},
};

static const char USAGE[] =
    "Usage: kubectl memgraph COMMAND [ARGS] [FLAGS]\n"
    "\n"
    "Commands:\n"
    "  status NAME [-o json|yaml]         health, MAIN, instances, last failover, backups\n"
    "  switchover NAME --to ORDINAL       make pod NAME-ORDINAL the MAIN and wait for it [--timeout 5m]\n"
    "  backup NAME [--wait]               create a MemgraphBackup [--name B] [--target PreferReplica|Main]\n"
    "  fence NAME INSTANCE|'*'            add an instance (pod name or ordinal) to "
    "memgraph.io/fencedInstances\n"
    "  unfence NAME [INSTANCE]            remove it (without INSTANCE: every instance)\n"
    "  hibernate NAME | resume NAME       memgraph.io/hibernation=on | off\n"
    "  pause NAME | unpause NAME          memgraph.io/reconcile=paused | removed\n"
    "  restore BACKUP --into NEW          new cluster with the source's spec, bootstrapped from BACKUP\n"
    "  report NAME [--file PATH]          a .tar of the cluster, pods, Events, backups [--operator-url URL]\n"
    "  logs NAME [INSTANCE]               Memgraph's log of an instance (default: the MAIN) [--tail N] [-p]\n"
    "                                     [--follow]\n"
    "  preview NAME -f CHANGED.yaml       what applying the change would do: refusals, restarts and their "
    "order\n"
    "  version\n"
    "\n"
    "Global flags: --kubeconfig PATH, --context NAME, -n/--namespace NS (default: the context's namespace)\n";

const char *kmg_usage_text(void)
{
  return USAGE;
}

static const struct command_def *find_command(const char *name)
{
  for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++) {
    if (strcmp(COMMANDS[i].name, name) == 0) {
      return &COMMANDS[i];
    }
  }
  return NULL;
}

/* The flag named by arg ("--name[=v]", "-x[=v]"); *inline_value points after '=' when present. */
static const struct flag_def *find_flag(const char *arg, const char **inline_value)
{
  const char *eq = strchr(arg, '=');
  size_t n = eq ? (size_t) (eq - arg) : strlen(arg);
  *inline_value = eq ? eq + 1 : NULL;
  for (size_t i = 0; i < sizeof(FLAGS) / sizeof(FLAGS[0]); i++) {
    const struct flag_def *f = &FLAGS[i];
    bool long_match =
        n > 2 && arg[1] == '-' && strlen(f->name) == n - 2 && strncmp(arg + 2, f->name, n - 2) == 0;
    bool short_match = n == 2 && arg[1] != '-' && f->short_name != 0 && arg[1] == f->short_name;
    if (long_match || short_match) {
      return f;
    }
  }
  return NULL;
}

int kmg_parse_duration_ms(const char *s, long *out_ms)
{
  if (s == NULL || *s == '\0') {
    return MGO_EINVAL;
  }
  errno = 0;
  char *end = NULL;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || v <= 0) {
    return MGO_EINVAL;
  }
  double mult = 1000;
  if (strcmp(end, "ms") == 0) {
    mult = 1;
  } else if (strcmp(end, "m") == 0) {
    mult = 60000;
  } else if (strcmp(end, "h") == 0) {
    mult = 3600000;
  } else if (strcmp(end, "s") != 0 && *end != '\0') {
    return MGO_EINVAL;
  }
  double ms = v * mult;
  if (ms < 1 || ms > 86400000.0) {
    return MGO_EINVAL;
  }
  *out_ms = (long) ms;
  return MGO_OK;
}

static int parse_long(const char *s, long min, long *out)
{
  errno = 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min) {
    return MGO_EINVAL;
  }
  *out = v;
  return MGO_OK;
}

static int set_output(struct kmg_args *a, const char *v)
{
  if (strcmp(v, "json") == 0) {
    a->output = KMG_OUT_JSON;
  } else if (strcmp(v, "yaml") == 0) {
    a->output = KMG_OUT_YAML;
  } else {
    return MGO_EINVAL;
  }
  return MGO_OK;
}

static int set_flag(struct kmg_args *a, enum flag_id id, const char *v)
{
  switch (id) {
  case FL_KUBECONFIG:
    a->kubeconfig = v;
    return MGO_OK;
  case FL_CONTEXT:
    a->context = v;
    return MGO_OK;
  case FL_NAMESPACE:
    a->namespace = v;
    return *v ? MGO_OK : MGO_EINVAL;
  case FL_HELP:
    a->command = KMG_CMD_HELP;
    return MGO_OK;
  case FL_OUTPUT:
    return set_output(a, v);
  case FL_TO:
    return parse_long(v, 0, &a->to_ordinal);
  case FL_INTO:
    a->into = v;
    return *v ? MGO_OK : MGO_EINVAL;
  case FL_WAIT:
    a->wait = true;
    return MGO_OK;
  case FL_TIMEOUT:
    return kmg_parse_duration_ms(v, &a->timeout_ms);
  case FL_OPURL:
    a->operator_url = v;
    return strncmp(v, "http://", 7) == 0 ? MGO_OK : MGO_EINVAL;
  case FL_FILE:
    a->file = v;
    return *v ? MGO_OK : MGO_EINVAL;
  case FL_NAME:
    a->backup_name = v;
    return *v ? MGO_OK : MGO_EINVAL;
  case FL_TARGET:
    a->target = v;
    return strcmp(v, "PreferReplica") == 0 || strcmp(v, "Main") == 0 ? MGO_OK : MGO_EINVAL;
  case FL_CONTAINER:
    a->container = v;
    return *v ? MGO_OK : MGO_EINVAL;
  case FL_TAIL:
    return parse_long(v, 0, &a->tail_lines);
  case FL_PREVIOUS:
    a->previous = true;
    return MGO_OK;
  case FL_FILENAME:
    a->filename = v;
    return *v ? MGO_OK : MGO_EINVAL;
  case FL_FOLLOW:
    a->follow = true;
    return MGO_OK;
  }
  return MGO_EINVAL;
}

struct parse_state {
  struct kmg_args *a;
  const struct command_def *cmd;
  const struct flag_def *seen[32]; /* flags given, checked against the command at the end */
  size_t nseen;
  char *err;
  size_t errsz;
};

/* One flag at argv[*i]; consumes its value (argv[*i + 1]) when it has one and it is not inline. */
static int take_flag(struct parse_state *ps, int argc, char *const *argv, int *i)
{
  const char *arg = argv[*i];
  const char *value = NULL;
  const struct flag_def *f = find_flag(arg, &value);
  if (f == NULL) {
    mgo_snprintf(ps->err, ps->errsz, "unknown flag %s", arg);
    return MGO_EINVAL;
  }
  if (f->has_value && value == NULL) {
    if (*i + 1 >= argc) {
      mgo_snprintf(ps->err, ps->errsz, "flag %s needs a value", arg);
      return MGO_EINVAL;
    }
    value = argv[++*i];
  } else if (!f->has_value && value != NULL) {
    mgo_snprintf(ps->err, ps->errsz, "flag --%s takes no value", f->name);
    return MGO_EINVAL;
  }
  if (set_flag(ps->a, f->id, value ? value : "") != MGO_OK) {
    mgo_snprintf(ps->err, ps->errsz, "invalid value for --%s: \"%s\"", f->name, value ? value : "");
    return MGO_EINVAL;
  }
  if (ps->nseen < sizeof(ps->seen) / sizeof(ps->seen[0])) {
    ps->seen[ps->nseen++] = f;
  }
  return MGO_OK;
}

static int take_positional(struct parse_state *ps, const char *arg)
{
  if (ps->cmd == NULL) {
    ps->cmd = find_command(arg);
    ps->a->command_name = arg;
    if (ps->cmd == NULL) {
      mgo_snprintf(ps->err, ps->errsz, "unknown command \"%s\" (see kubectl memgraph --help)", arg);
      return MGO_EINVAL;
    }
    return MGO_OK;
  }
  if (ps->a->npos >= ps->cmd->max_pos) {
    mgo_snprintf(ps->err, ps->errsz, "unexpected argument \"%s\"; usage: kubectl memgraph %s", arg,
                 ps->cmd->synopsis);
    return MGO_EINVAL;
  }
  ps->a->pos[ps->a->npos++] = arg;
  return MGO_OK;
}

static int check_command(struct parse_state *ps)
{
  const struct command_def *c = ps->cmd;
  for (size_t i = 0; i < ps->nseen; i++) {
    if (ps->seen[i]->bit != F_GLOBAL && (c->flags & ps->seen[i]->bit) == 0) {
      mgo_snprintf(ps->err, ps->errsz, "%s does not take --%s; usage: kubectl memgraph %s", c->name,
                   ps->seen[i]->name, c->synopsis);
      return MGO_EINVAL;
    }
  }
  bool missing_to = c->cmd == KMG_CMD_SWITCHOVER && ps->a->to_ordinal < 0;
  bool missing_into = c->cmd == KMG_CMD_RESTORE && ps->a->into == NULL;
  bool missing_file = c->cmd == KMG_CMD_PREVIEW && ps->a->filename == NULL;
  if (ps->a->npos < c->min_pos || missing_to || missing_into || missing_file) {
    mgo_snprintf(ps->err, ps->errsz, "usage: kubectl memgraph %s", c->synopsis);
    return MGO_EINVAL;
  }
  ps->a->command = c->cmd;
  return MGO_OK;
}

static void defaults(struct kmg_args *a)
{
  memset(a, 0, sizeof(*a));
  a->to_ordinal = -1;
  a->timeout_ms = KMG_DEFAULT_TIMEOUT_MS;
  a->tail_lines = -1;
  a->container = "memgraph";
}

int kmg_args_parse(int argc, char *const *argv, struct kmg_args *a, char *err, size_t errsz)
{
  defaults(a);
  struct parse_state ps = {.a = a, .err = err, .errsz = errsz};
  bool flags_done = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int rc = MGO_OK;
    if (!flags_done && strcmp(arg, "--") == 0) {
      flags_done = true;
    } else if (!flags_done && arg[0] == '-' && arg[1] != '\0') {
      rc = take_flag(&ps, argc, argv, &i);
    } else {
      rc = take_positional(&ps, arg);
    }
    if (rc != MGO_OK) {
      return rc;
    }
  }
  if (a->command == KMG_CMD_HELP || ps.cmd == NULL) {
    a->command = KMG_CMD_HELP;
    return MGO_OK;
  }
  return check_command(&ps);
}
