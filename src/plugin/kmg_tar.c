/* A minimal ustar writer (kmg_tar.h). */
#include "kmg_tar.h"

#include <string.h>

#include "mgo_err.h"

struct ustar_header {
  char name[100];
  char mode[8];
  char uid[8];
  char gid[8];
  char size[12];
  char mtime[12];
  char chksum[8];
  char typeflag;
  char linkname[100];
  char magic[6];
  char version[2];
  char uname[32];
  char gname[32];
  char devmajor[8];
  char devminor[8];
  char prefix[155];
  char pad[12];
};

_Static_assert(sizeof(struct ustar_header) == KMG_TAR_BLOCK, "ustar header is one block");

/* Writes v as width-1 octal digits and a NUL. */
static void octal(char *dst, size_t width, uint64_t v)
{
  dst[width - 1] = '\0';
  for (size_t i = width - 1; i > 0; i--) {
    dst[i - 1] = (char) ('0' + (v & 7));
    v >>= 3;
  }
}

static int split_name(struct ustar_header *h, const char *name, char *err, size_t errsz)
{
  size_t n = strlen(name);
  if (n == 0 || name[0] == '/' || strstr(name, "..") != NULL) {
    mgo_snprintf(err, errsz, "tar: refused entry name \"%s\"", name);
    return MGO_EINVAL;
  }
  if (n <= sizeof(h->name)) {
    memcpy(h->name, name, n);
    return MGO_OK;
  }
  /* the last '/' that leaves a prefix <= 155 bytes and a name <= 100 bytes */
  for (size_t i = n; i > 0; i--) {
    if (name[i - 1] == '/' && i - 1 <= sizeof(h->prefix) && n - i <= sizeof(h->name) && n - i > 0) {
      memcpy(h->prefix, name, i - 1);
      memcpy(h->name, name + i, n - i);
      return MGO_OK;
    }
  }
  mgo_snprintf(err, errsz, "tar: entry name too long (%zu bytes): %s", n, name);
  return MGO_EINVAL;
}

static void checksum(struct ustar_header *h)
{
  memset(h->chksum, ' ', sizeof(h->chksum));
  const unsigned char *p = (const unsigned char *) h;
  unsigned sum = 0;
  for (size_t i = 0; i < sizeof(*h); i++) {
    sum += p[i];
  }
  octal(h->chksum, 7, sum); /* six digits, NUL, and the space that stays */
}

int kmg_tar_add(struct mgo_buf *tar, const char *name, const void *data, size_t len, int64_t mtime_s,
                char *err, size_t errsz)
{
  struct ustar_header h;
  memset(&h, 0, sizeof(h));
  int rc = split_name(&h, name, err, errsz);
  if (rc != MGO_OK) {
    return rc;
  }
  octal(h.mode, sizeof(h.mode), 0644);
  octal(h.uid, sizeof(h.uid), 0);
  octal(h.gid, sizeof(h.gid), 0);
  octal(h.size, sizeof(h.size), len);
  octal(h.mtime, sizeof(h.mtime), mtime_s > 0 ? (uint64_t) mtime_s : 0);
  h.typeflag = '0';
  memcpy(h.magic, "ustar", 6);
  memcpy(h.version, "00", 2);
  memcpy(h.uname, "root", 4);
  memcpy(h.gname, "root", 4);
  checksum(&h);
  static const char zeros[KMG_TAR_BLOCK];
  size_t pad = (KMG_TAR_BLOCK - len % KMG_TAR_BLOCK) % KMG_TAR_BLOCK;
  size_t before = tar->len;
  rc = mgo_buf_add(tar, &h, sizeof(h));
  rc = rc == MGO_OK && len > 0 ? mgo_buf_add(tar, data, len) : rc;
  rc = rc == MGO_OK && pad > 0 ? mgo_buf_add(tar, zeros, pad) : rc;
  if (rc != MGO_OK) {
    tar->len = before; /* no half entry */
    if (tar->p != NULL) {
      tar->p[before] = '\0';
    }
    mgo_snprintf(err, errsz, "tar: %s: %s", name, mgo_strerror(rc));
  }
  return rc;
}

int kmg_tar_finish(struct mgo_buf *tar)
{
  static const char zeros[2 * KMG_TAR_BLOCK];
  return mgo_buf_add(tar, zeros, sizeof(zeros));
}
