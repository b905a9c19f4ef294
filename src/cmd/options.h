/* Command-line and environment options of the memgraph-operator binary.
 *
 * Every `run` flag --some-flag has an environment variable MGO_SOME_FLAG; the flag wins over the
 * environment, which wins over the default. Durations accept "500ms", "30s", "2m", "1h" or plain seconds.
 *
 * Ownership: strings in struct mgo_options point into argv, the environment or static defaults (never
 * freed). Thread-safety: parse once in main() before starting threads. */
#ifndef MGO_OPTIONS_H
#define MGO_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mgo_log.h"

enum mgo_command {
  MGO_CMD_NONE,
  MGO_CMD_VERSION,
  MGO_CMD_RUN,
  MGO_CMD_AGENT,
  MGO_CMD_AGENT_SERVE,
  MGO_CMD_HELP
};

struct mgo_options {
  enum mgo_command command;
  const char *kubeconfig;  /* NULL: KUBECONFIG, then in-cluster, then ~/.kube/config */
  const char *namespace;   /* NULL = all namespaces */
  long workers;            /* default 16 */
  long resync_interval_ms; /* default 30 s */
  const char *http_addr;   /* default 0.0.0.0 */
  long http_port;          /* default 8080; 0 = pick a free port */
  bool leader_elect;       /* default true */
  const char *lease_namespace;
  const char *lease_name;
  char identity[256]; /* default "<hostname>-<pid>" */
  long lease_duration_ms, renew_deadline_ms, retry_period_ms;
  long bolt_timeout_ms; /* default 5 s */
  const char *operator_image;
  enum mgo_log_level log_level;
  enum mgo_log_format log_format;
  bool once; /* connect, report, exit */
  /* agent subcommand */
  const char *data_dir;
  const char *marker_dir;
  long replication_port;        /* default 10000: the fence file's SET REPLICATION ROLE TO REPLICA port */
  const char *instructions_dir; /* default /etc/memgraph-operator/agent (the ConfigMap <cluster>-agent) */
  const char *pod_name;         /* default $POD_NAME, else "" */
  const char *termination_log;  /* default /dev/termination-log: the init step's one-line outcome */
  /* agent serve (the sidecar) */
  const char *listen;     /* default 0.0.0.0:9787 */
  const char *token_file; /* required: the bearer token (a Secret volume file) */
  const char *cluster;    /* the pod's MemgraphCluster: turns on the isolated-MAIN check (agent_fence.h) */
};

/* Fills o from argv and the environment. Returns 0, or -1 after writing a message naming the bad option
 * into err. */
int mgo_options_parse(int argc, char **argv, struct mgo_options *o, char *err, size_t errsz);
void mgo_options_usage(FILE *out);
/* Parses a duration ("500ms", "30s", "2m", "1h", or plain seconds) into milliseconds; -1 when invalid or
 * not positive. */
long mgo_parse_duration_ms(const char *s);

#endif
