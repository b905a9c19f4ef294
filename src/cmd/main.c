/* memgraph-operator: subcommand dispatch only. Flags live in options.c, `run` in run.c (which starts the
 * runtime of src/controller), `agent` in agent.c. */
#include <stdio.h>

#include "agent.h"
#include "options.h"
#include "run.h"

#ifndef MGO_VERSION
#define MGO_VERSION "0.0.0-dev"
#endif

int main(int argc, char **argv)
{
  struct mgo_options opts;
  char err[256] = "";
  if (mgo_options_parse(argc, argv, &opts, err, sizeof(err)) != 0) {
    fprintf(stderr, "memgraph-operator: %s\n", err);
    mgo_options_usage(stderr);
    return 2;
  }
  switch (opts.command) {
  case MGO_CMD_VERSION:
    printf("memgraph-operator %s\n", MGO_VERSION);
    return 0;
  case MGO_CMD_RUN:
    return mgo_run(&opts, MGO_VERSION);
  case MGO_CMD_AGENT:
  case MGO_CMD_AGENT_SERVE:
    return mgo_agent(&opts);
  default:
    mgo_options_usage(stdout);
    return 0;
  }
}
