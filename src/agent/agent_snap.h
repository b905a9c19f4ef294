/* Memgraph's snapshot directory <data_dir>/snapshots as the agent sees it: open one snapshot file safely,
 * list them newest first, hash a file.
 *
 * Library-style: nothing here prints. Functions return MGO_OK or a negative MGO_* code and describe a failure
 * in the caller's detail buffer. Ownership: agent_list_snapshots() allocates *out (the caller free()s it).
 * Thread-safety: no shared state. */
#ifndef MGO_AGENT_SNAP_H
#define MGO_AGENT_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "agent_fs.h"

#define AGENT_SNAPSHOTS_DIR "snapshots"
#define AGENT_WAL_DIR "wal"
#define AGENT_SNAPSHOTS_MAX 4096 /* entries listed at most */

struct agent_snapshot {
  char name[AGENT_FILE_NAME_MAX + 1];
  uint64_t size;
  int64_t mtime_ns;
};

/* Opens <data_dir>/snapshots/<name> read-only with O_NOFOLLOW into *fd and gives its size. MGO_EINVAL when
 * name is not a plain file name (agent_file_name_valid) or the entry is a symbolic link or not a regular
 * file, MGO_ENOTFOUND when it (or the snapshots directory) does not exist, MGO_ESYS otherwise. */
int agent_open_snapshot(const char *data_dir, const char *name, int *fd, uint64_t *size, char *detail,
                        size_t detailsz);

/* The regular files with plain names in <data_dir>/snapshots, newest modification time first (ties: by name).
 * A missing directory gives MGO_OK with *n 0 (*out NULL). MGO_ETOOBIG over AGENT_SNAPSHOTS_MAX entries. */
int agent_list_snapshots(const char *data_dir, struct agent_snapshot **out, size_t *n, char *detail,
                         size_t detailsz);

/* SHA-256 (lower-case hex) and size of what fd holds, read from its current offset to the end. */
int agent_sha256_fd(int fd, char hex[65], uint64_t *size);

#endif
