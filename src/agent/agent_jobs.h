/* Upload jobs of the agent's sidecar (`agent serve`): one snapshot file of <data_dir>/snapshots at a time is
 * uploaded to S3 on a worker thread through the seam of agent_s3.h; the last AGENT_JOBS_KEEP finished jobs
 * stay queryable.
 *
 * A job's S3 credentials (and CA PEM) live only in its struct agent_upload_spec, in memory, until the upload
 * ends; then they are wiped (OPENSSL_cleanse) and freed. They never appear in a job's JSON. The file is
 * opened once, when the job starts (agent_open_snapshot: O_NOFOLLOW, regular file), and the uploader reads
 * that same open file through /proc/self/fd/<n>, so a file swapped afterwards is never uploaded. A CA PEM is
 * handed to the uploader the same way, as a memfd, so nothing is written to disk.
 *
 * Ownership: agent_jobs_new() returns an object freed by agent_jobs_free() (which cancels a running upload
 * and waits for it). JSON results are new references the caller json_decref()s. Thread-safety: all functions
 * may be called from any thread (one mutex); the uploader runs on the job's own thread. */
#ifndef MGO_AGENT_JOBS_H
#define MGO_AGENT_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent_fs.h"
#include "agent_s3.h"
#include "mgo_clock.h"

#define AGENT_JOB_ID_LEN 32 /* hex digits */
#define AGENT_JOBS_KEEP 16  /* finished jobs kept */

/* What POST /v1/uploads asks for. Strings are heap copies owned by the spec (NULL when absent). */
struct agent_upload_spec {
  char file[AGENT_FILE_NAME_MAX + 1];
  char *endpoint, *region, *bucket, *key;
  char *access_key, *secret_key, *session_token; /* secrets */
  char *ca_pem;                                  /* NULL: the system trust store */
  bool force_path_style;
  size_t part_size; /* 0: the uploader's default */
};

/* Wipes (OPENSSL_cleanse) and frees every string of s and zeroes it. */
void agent_upload_spec_clear(struct agent_upload_spec *s);

struct agent_jobs;

/* data_dir and ops are borrowed; clock may be NULL (system clock). */
int agent_jobs_new(struct agent_jobs **out, const char *data_dir, const struct agent_s3_ops *ops,
                   const struct mgo_clock *clock);
void agent_jobs_free(struct agent_jobs *j);

/* What a finished job reports to the notify callback (never a credential). Strings borrowed for the call. */
struct agent_job_event {
  const char *id, *file, *key;
  bool completed; /* false: failed */
  int rc;         /* MGO_OK or the uploader's error */
  const struct s3_put_result *res;
  const struct s3_error *err;
};
typedef void (*agent_job_notify_fn)(void *ctx, const struct agent_job_event *ev);

/* Sets a callback run on the worker thread when a job finishes (for logs), with the jobs' lock held: it must
 * not call agent_jobs_*(). Call before the first start. */
void agent_jobs_set_notify(struct agent_jobs *j, agent_job_notify_fn fn, void *ctx);

/* Starts an upload. Always takes over *spec (cleared on return, whatever the result). id receives the new
 * job's id. MGO_EINVAL for a bad file name, a symbolic link or not a regular file, MGO_ENOTFOUND when the
 * file does not exist, MGO_ECONFLICT while another upload runs (running receives its id), MGO_ESTATE after
 * agent_jobs_shutdown(), MGO_ESYS / MGO_ENOMEM otherwise; detail says why. */
int agent_jobs_start(struct agent_jobs *j, struct agent_upload_spec *spec, char id[AGENT_JOB_ID_LEN + 1],
                     char running[AGENT_JOB_ID_LEN + 1], char *detail, size_t detailsz);

/* The job's JSON (see docs/agent.md); MGO_ENOTFOUND for an unknown id. */
int agent_jobs_get(struct agent_jobs *j, const char *id, json_t **out);

/* Asks a running job to stop (its progress callback then returns false) and gives its JSON; *was_running
 * says whether it was still running. MGO_ENOTFOUND for an unknown id. */
int agent_jobs_cancel(struct agent_jobs *j, const char *id, bool *was_running, json_t **out);

/* Cancels a running upload, waits for it to end and refuses new ones (SIGTERM). */
void agent_jobs_shutdown(struct agent_jobs *j);

#endif
