/* The `agent` subcommand: the init step of every Memgraph pod (the StatefulSet's operator-agent init
 * container), run before Memgraph starts. It reads this pod's instructions from the operator (the ConfigMap
 * <cluster>-agent, key <pod name>) and carries out a requested re-seed: the data directory is wiped once per
 * request token (agent_fs.h), or a requested restore: a snapshot is downloaded from S3 into an empty data
 * directory once per token (agent_restore.h, docs/agent.md). It logs one line saying what it did and writes a
 * one-line summary to --termination-log (the snapshot Memgraph recovers from, or the error). Returns the
 * process exit code: 0, or 1 when the instructions are unreadable or invalid or any I/O fails (the init
 * container then fails visibly and Memgraph does not start). */
#ifndef MGO_AGENT_H
#define MGO_AGENT_H

#include "options.h"

int mgo_agent(const struct mgo_options *opts);

/* `agent serve` (MGO_CMD_AGENT_SERVE, also reached through mgo_agent()): the sidecar's HTTP API
 * (src/agent/agent_api.h) until SIGTERM/SIGINT. Returns 0 after a clean stop, 1 when it cannot start. */
int mgo_agent_serve(const struct mgo_options *opts);

#endif
