/* The `agent` subcommand: the init step of every Memgraph pod (the StatefulSet's operator-agent init
 * container), run before Memgraph starts. It will honour the fence and re-seed markers of issue 5; today
 * it checks its directories and exits 0 so pods start. Returns the process exit code. */
#ifndef MGO_AGENT_H
#define MGO_AGENT_H

#include "options.h"

int mgo_agent(const struct mgo_options *opts);

#endif
