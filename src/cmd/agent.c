#include "agent.h"

#include <sys/stat.h>

#include "mgo_log.h"

/* Markers are honoured by issue 5 (failover fencing, automatic re-seed); until then there is nothing to
 * do before Memgraph starts. */
int mgo_agent(const struct mgo_options *opts)
{
  struct stat st;
  mgo_log_setup(opts->log_level, opts->log_format, NULL);
  const char *markers = stat(opts->marker_dir, &st) == 0 ? "present" : "absent";
  mgo_log(MGO_LOG_INFO, "agent: nothing to do before Memgraph starts", "data_dir", opts->data_dir,
          "marker_dir", opts->marker_dir, "markers", markers, (char *) NULL);
  return 0;
}
