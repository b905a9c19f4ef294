/* A minimal POSIX ustar writer into memory, for `kubectl memgraph report` (plain, uncompressed .tar: the
 * project links neither libarchive nor zlib).
 *
 * Each regular file is a 512-byte header (name, mode 0644, uid/gid 0, size and mtime in octal, typeflag
 * '0', magic "ustar\0" "00", owner "root") followed by its bytes padded to 512; kmg_tar_finish() appends the
 * two zero blocks that end an archive. Names longer than 100 bytes are split into prefix (up to 155) and
 * name at a '/'; longer ones are refused.
 *
 * Ownership: the archive is built in the caller's struct mgo_buf (its max bounds the archive); data is
 * borrowed for the call. Errors: MGO_EINVAL (name empty, absolute, with "..", or too long; with a message
 * in err), MGO_ETOOBIG / MGO_ENOMEM from the buffer. Thread-safety: pure. */
#ifndef KMG_TAR_H
#define KMG_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "mgo_buf.h"

#define KMG_TAR_BLOCK 512

int kmg_tar_add(struct mgo_buf *tar, const char *name, const void *data, size_t len, int64_t mtime_s,
                char *err, size_t errsz);
int kmg_tar_finish(struct mgo_buf *tar);

#endif
