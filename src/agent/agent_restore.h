/* The restore step of the agent's init container: before Memgraph starts, download a snapshot from S3 into an
 * empty data directory, once per request token (docs/agent.md "Restore").
 *
 * agent_restore(): when <marker_dir>/restore.done holds the token, nothing happens
 * (AGENT_RESTORE_ALREADY_DONE: a restarted container never restores twice). Otherwise the data directory must
 * hold no durability files: snapshots/ and wal/ absent or empty (a "<file>.part" left in snapshots/ by an
 * interrupted download of this very file is removed first); anything else in them, or either one not being a
 * directory, is refused with MGO_EEXIST and nothing is touched — a restore never overwrites data. Other
 * entries of the data directory are left alone. The data directory and snapshots/ are created when missing,
 * the object is downloaded through ops->get_file() to <data_dir>/snapshots/<file>, then read back and checked
 * against the expected size and SHA-256 (MGO_ECONFLICT on a mismatch, whatever the downloader said), made
 * durable (fsync of the file and both directories) and the token is written to restore.done atomically. On
 * any failure no snapshot file (nor its .part) is left behind, so Memgraph never starts on a partial restore.
 *
 * Library-style: nothing here prints; MGO_OK or a negative MGO_* code, with detail (and res->err for S3
 * failures) saying what failed. Credentials are borrowed for the call and never copied into detail or res.
 * Thread-safety: no shared state. */
#ifndef MGO_AGENT_RESTORE_H
#define MGO_AGENT_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "agent_fs.h"
#include "agent_s3.h"

struct agent_restore_creds {
  const char *access_key;
  const char *secret_key;
  const char *session_token; /* NULL or "" when none */
};

enum agent_restore_outcome {
  AGENT_RESTORE_RESTORED,    /* the snapshot was downloaded, verified and the marker written */
  AGENT_RESTORE_ALREADY_DONE /* the marker already held the token: nothing touched */
};

struct agent_restore_result {
  enum agent_restore_outcome outcome;
  uint64_t size;
  char sha256[65];
  struct s3_error err; /* the S3 failure when the download failed */
};

int agent_restore(const char *data_dir, const char *marker_dir, const struct agent_restore_spec *rs,
                  const struct agent_restore_creds *creds, const struct agent_s3_ops *ops,
                  struct agent_restore_result *res, char *detail, size_t detailsz);

#endif
