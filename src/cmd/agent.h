/* The `agent` subcommand: the init step of every Memgraph pod (the StatefulSet's operator-agent init
 * container), run before Memgraph starts. It reads this pod's instructions from the operator (the ConfigMap
 * <cluster>-agent, key <pod name>) and carries out a requested re-seed: the data directory is wiped once per
 * request token (agent_fs.h, docs/agent.md). It logs one line saying what it did. Returns the process exit
 * code: 0, or 1 when the instructions are unreadable or invalid or any I/O fails (the init container then
 * fails visibly and Memgraph does not start). */
#ifndef MGO_AGENT_H
#define MGO_AGENT_H

#include "options.h"

int mgo_agent(const struct mgo_options *opts);

#endif
