/* The file-system side of the `agent` subcommand: read the operator's instructions for this pod and carry out
 * a re-seed (wipe the Memgraph data directory once per token). docs/agent.md describes the contract.
 *
 * Instructions: the file <instructions_dir>/<pod_name> (a key of the ConfigMap <cluster>-agent mounted by the
 * StatefulSet), lines "key=value". The keys are "reseed=<token>" and "restore=<token>" (token
 * [A-Za-z0-9-]{1,64}) with the restore's parameters restore.endpoint, restore.region, restore.bucket,
 * restore.key, restore.file (a plain snapshot file name), restore.size (decimal), restore.sha256 (64 hex
 * digits) and restore.forcePathStyle (true|false, default false); agent_restore.h carries a restore out.
 * Unknown keys are reported back (the caller logs them) and otherwise ignored; a malformed line, a bad token
 * or value, a repeated key, a restore.* key without restore (or restore without all its parameters), reseed
 * and restore together, or a file over AGENT_INSTRUCTIONS_MAX bytes is an error, so nothing is touched on a
 * doubtful request.
 *
 * Re-seed: when <marker_dir>/reseed.done does not hold the token, every entry inside data_dir is removed
 * (depth first, with openat/unlinkat on directory descriptors opened with O_NOFOLLOW: symbolic links are
 * removed, never followed; data_dir itself stays; a directory on another file system (a mount point) is an
 * error, never entered), the removals are made durable (fsync of data_dir), then the token is written to
 * reseed.done atomically (temporary file, fsync, rename, fsync of marker_dir; marker_dir is created when
 * missing). When the marker already holds the token nothing is touched, so a restarted container never wipes
 * twice for one request.
 *
 * Library-style: nothing here prints or exits. Every function returns MGO_OK or a negative MGO_* code and, on
 * failure, writes what failed (the path and strerror) into the caller's detail buffer.
 * Ownership: all results go into caller-provided structs and buffers; nothing is allocated for the caller.
 * Thread-safety: no global state (the functions use only descriptors they open and close themselves). */
#ifndef MGO_AGENT_FS_H
#define MGO_AGENT_FS_H

#include <stdbool.h>
#include <stddef.h>

#define AGENT_TOKEN_MAX 64          /* characters of a re-seed token */
#define AGENT_INSTRUCTIONS_MAX 4096 /* bytes of an instructions file */
#define AGENT_MARKER_FILE "reseed.done"
#define AGENT_RESTORE_MARKER_FILE "restore.done"
#define AGENT_FILE_NAME_MAX 255 /* a snapshot file name: [A-Za-z0-9_.-]{1,255}, not "." or ".." */
#define AGENT_WIPE_MAX_DEPTH 64 /* nesting below data_dir; deeper is refused (MGO_ETOOBIG) */

/* A restore request: download s3://bucket/key to <data_dir>/snapshots/<file> before Memgraph starts. */
struct agent_restore_spec {
  char token[AGENT_TOKEN_MAX + 1];
  char endpoint[512];
  char region[64];
  char bucket[256];
  char key[1024];
  char file[AGENT_FILE_NAME_MAX + 1];
  unsigned long long size;
  char sha256[65]; /* lower-case hex */
  bool force_path_style;
};

struct agent_instructions {
  bool found;                      /* the file exists (false: nothing to do) */
  bool reseed;                     /* a reseed=<token> line was present */
  char token[AGENT_TOKEN_MAX + 1]; /* the token when reseed */
  bool restore;                    /* a complete restore request was present (never together with reseed) */
  struct agent_restore_spec rs;    /* its parameters when restore */
  size_t unknown;                  /* lines with a key other than "reseed" */
  char unknown_keys[256];          /* their keys, comma separated (truncated with "..." when long) */
};

enum agent_reseed_outcome {
  AGENT_RESEED_WIPED,       /* data_dir emptied and the marker written */
  AGENT_RESEED_ALREADY_DONE /* the marker already held the token: nothing touched */
};

struct agent_reseed_result {
  enum agent_reseed_outcome outcome;
  size_t removed; /* entries removed, counted at every depth (files, directories, symbolic links, ...) */
};

/* True when token matches [A-Za-z0-9-]{1,64}. */
bool agent_token_valid(const char *token);

/* True when name is a plain file name: [A-Za-z0-9_.-]{1,255}, not "." or "..". */
bool agent_file_name_valid(const char *name);

/* Parses the text of an instructions file (len bytes, need not be NUL-terminated) into *out (found is set to
 * true). MGO_EPARSE for a line without '=' or with an empty key, MGO_EINVAL for a bad or repeated value, an
 * incomplete restore or reseed together with restore; detail says which line or key. */
int agent_parse_instructions(const char *text, size_t len, struct agent_instructions *out, char *detail,
                             size_t detailsz);

/* Reads <dir>/<pod_name> (following the symbolic links a ConfigMap volume is made of). A missing dir or file
 * gives MGO_OK with out->found false. When dir exists, pod_name must be a plain name ([A-Za-z0-9.-], not "."
 * or "..", at most 253 characters): MGO_EINVAL otherwise. MGO_ETOOBIG over AGENT_INSTRUCTIONS_MAX bytes,
 * MGO_ESYS on an I/O error, and the errors of agent_parse_instructions(). */
int agent_read_instructions(const char *dir, const char *pod_name, struct agent_instructions *out,
                            char *detail, size_t detailsz);

/* Removes every entry inside data_dir, as described above; *removed counts them (also on failure: what was
 * removed before it). A missing data_dir is empty (MGO_OK, 0). MGO_ESYS on an I/O error or when data_dir is
 * a symbolic link or not a directory, MGO_EUNSUPPORTED for a mount point inside it, MGO_ETOOBIG when nested
 * deeper than AGENT_WIPE_MAX_DEPTH. */
int agent_wipe_dir(const char *data_dir, size_t *removed, char *detail, size_t detailsz);

/* Whether <marker_dir>/<name> holds exactly token, and the atomic write of it: what agent_marker_holds() and
 * agent_marker_write() do for reseed.done, for any plain marker file name (restore.done). */
int agent_marker_holds_named(const char *marker_dir, const char *name, const char *token, bool *done,
                             char *detail, size_t detailsz);
int agent_marker_write_named(const char *marker_dir, const char *name, const char *token, char *detail,
                             size_t detailsz);

/* Whether <marker_dir>/reseed.done holds exactly token (one trailing newline allowed). A missing file or
 * directory is "no" (MGO_OK, *done false); MGO_ESYS on another I/O error. */
int agent_marker_holds(const char *marker_dir, const char *token, bool *done, char *detail, size_t detailsz);

/* Writes token and a newline to <marker_dir>/reseed.done atomically, creating marker_dir (not its parents)
 * when missing. MGO_ESYS on failure; a failed write leaves the previous marker in place. */
int agent_marker_write(const char *marker_dir, const char *token, char *detail, size_t detailsz);

/* Writes content to <marker_dir>/<name> atomically (temporary file, fsync, rename, fsync of marker_dir),
 * creating marker_dir (not its parents) when missing. MGO_EINVAL for an invalid name, MGO_ESYS on an I/O
 * error (the previous file is then left in place). */
int agent_file_write_atomic(const char *marker_dir, const char *name, const char *content, char *detail,
                            size_t detailsz);

/* The fence: <marker_dir>/AGENT_FENCE_FILE holds the one line "SET REPLICATION ROLE TO REPLICA WITH PORT
 * <replication_port>", which Memgraph runs as its --init-file after recovering data and replication state and
 * before its Bolt server binds (src/memgraph.cpp, InitFromCypherlFile). Every instance so starts as a REPLICA
 * that refuses writes: a restarted MAIN, a new or re-seeded pod; the operator promotes the one it chose. On
 * an instance that is a REPLICA already the line fails, which Memgraph logs and ignores. MGO_EINVAL for a
 * port outside 1..65535, else as agent_file_write_atomic(). */
#define AGENT_FENCE_FILE "fence.cypherl"
int agent_write_fence(const char *marker_dir, long replication_port, char *detail, size_t detailsz);

/* The re-seed as a whole: MGO_EINVAL for an invalid token; otherwise agent_marker_holds(), then
 * agent_wipe_dir() and agent_marker_write() unless the marker already holds the token. */
int agent_reseed(const char *data_dir, const char *marker_dir, const char *token,
                 struct agent_reseed_result *res, char *detail, size_t detailsz);

#endif
