/* The `run` subcommand: connect to the API server, report, take part in leader election, wait for
 * SIGTERM/SIGINT, shut down gracefully (releasing the Lease). Returns the process exit code: 0 after a
 * graceful stop, 1 on a start-up failure or when leadership was lost. */
#ifndef MGO_RUN_H
#define MGO_RUN_H

#include "options.h"

int mgo_run(const struct mgo_options *opts, const char *version);

#endif
