/* Command-line parsing of `kubectl memgraph` (the kubectl-memgraph plugin binary).
 *
 * Grammar: kubectl-memgraph COMMAND ARGS... [FLAGS...]; flags may come before, between or after the
 * positional arguments, as `--flag value` or `--flag=value` (`-n value`, `-n=value`, `-o value` too); `--`
 * ends the flags. kubectl passes a plugin every argument after its name unchanged, so these are the flags a
 * user types after `kubectl memgraph`.
 *
 * Global flags (every command): --kubeconfig PATH, --context NAME, -n/--namespace NS, -h/--help. Other flags
 * are accepted only by the commands they belong to (an option for another command is an error that names
 * the command), so a typo never silently does something else.
 *
 * Ownership: strings in struct kmg_args point into argv (never freed); the command table and
 * kmg_usage_text() are static. Errors go into the caller's err buffer (one line, no trailing newline).
 * Thread-safety: pure functions. */
#ifndef KMG_ARGS_H
#define KMG_ARGS_H

#include <stdbool.h>
#include <stddef.h>

enum kmg_command {
  KMG_CMD_NONE,
  KMG_CMD_HELP,
  KMG_CMD_VERSION,
  KMG_CMD_STATUS,
  KMG_CMD_SWITCHOVER,
  KMG_CMD_BACKUP,
  KMG_CMD_FENCE,
  KMG_CMD_UNFENCE,
  KMG_CMD_HIBERNATE,
  KMG_CMD_RESUME,
  KMG_CMD_PAUSE,
  KMG_CMD_UNPAUSE,
  KMG_CMD_RESTORE,
  KMG_CMD_REPORT,
  KMG_CMD_LOGS,
  KMG_CMD_PREVIEW
};

enum kmg_output { KMG_OUT_TEXT, KMG_OUT_JSON, KMG_OUT_YAML };

#define KMG_MAX_POS 2
#define KMG_DEFAULT_TIMEOUT_MS 300000L

struct kmg_args {
  enum kmg_command command;
  const char *command_name; /* as typed; NULL when none */
  const char *kubeconfig;   /* NULL: $KUBECONFIG, then ~/.kube/config */
  const char *context;      /* NULL: current-context */
  const char *namespace;    /* NULL: the context's namespace, else "default" */
  enum kmg_output output;   /* -o json|yaml (status, backup, restore, report) */
  const char *pos[KMG_MAX_POS];
  int npos;
  long to_ordinal;          /* switchover --to; -1 when not given */
  const char *into;         /* restore --into */
  bool wait;                /* backup --wait */
  long timeout_ms;          /* --timeout (switchover, backup --wait, report), default 5 min */
  const char *operator_url; /* report --operator-url http://host:port */
  const char *file;         /* report --file PATH (default memgraph-report-<name>.tar) */
  const char *backup_name;  /* backup --name */
  const char *target;       /* backup --target PreferReplica|Main */
  const char *container;    /* logs -c/--container, default memgraph */
  long tail_lines;          /* logs --tail N; -1 = all */
  bool previous;            /* logs -p/--previous */
  bool follow;              /* logs --follow: stream until the container's run ends or Ctrl-C */
  const char *filename;     /* preview -f/--filename: the changed MemgraphCluster (YAML or JSON) */
};

/* Fills a from argv[1..argc-1]. Returns MGO_OK, or MGO_EINVAL with a one-line message in err (an unknown
 * command, a missing or extra argument, an unknown flag or one the command does not take, a bad value).
 * No command at all, or -h/--help, gives command KMG_CMD_HELP. */
int kmg_args_parse(int argc, char *const *argv, struct kmg_args *a, char *err, size_t errsz);

/* Parses "500ms", "30s", "2m", "1h" or plain seconds into milliseconds. MGO_EINVAL when not a positive
 * duration of at most 24 h. */
int kmg_parse_duration_ms(const char *s, long *out_ms);

/* The usage text (static, several lines, ends with a newline). */
const char *kmg_usage_text(void);

#endif
