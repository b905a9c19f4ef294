/* Command-line and environment options of the memgraph-operator binary.
 * Ownership: strings in struct mgo_options point into argv, the environment or static defaults (never freed).
 * Thread-safety: parse once in main() before starting threads. */
#ifndef MGO_OPTIONS_H
#define MGO_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "mgo_log.h"

enum mgo_command { MGO_CMD_NONE, MGO_CMD_VERSION, MGO_CMD_RUN, MGO_CMD_HELP };

struct mgo_options {
  enum mgo_command command;
  const char *kubeconfig; /* --kubeconfig; NULL: KUBECONFIG, then in-cluster, then ~/.kube/config */
  const char *namespace;  /* --namespace / MGO_NAMESPACE; NULL = all namespaces */
  bool leader_elect;      /* --leader-elect=true|false, default true */
  const char *lease_namespace;
  const char *lease_name;
  char identity[256]; /* --identity / MGO_IDENTITY, default "<hostname>-<pid>" */
  long lease_duration_s, renew_deadline_s, retry_period_s;
  enum mgo_log_level log_level;
  enum mgo_log_format log_format;
  bool once; /* connect, report, exit */
};

/* Fills o from argv and the environment. Returns 0, or -1 after writing a message naming the bad option
 * into err. */
int mgo_options_parse(int argc, char **argv, struct mgo_options *o, char *err, size_t errsz);
void mgo_options_usage(FILE *out);

#endif
