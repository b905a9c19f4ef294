/* Snapshot files of the data directory (see agent_snap.h). */
#include "agent_snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mgo_buf.h"
#include "mgo_err.h"

static int sys_fail(char *detail, size_t detailsz, const char *what, const char *path, int err)
{
  char buf[128];
  (void) mgo_snprintf(detail, detailsz, "%s %s: %s", what, path, strerror_r(err, buf, sizeof(buf)));
  return err == ENOENT ? MGO_ENOTFOUND : MGO_ESYS;
}

int agent_open_snapshot(const char *data_dir, const char *name, int *fd, uint64_t *size, char *detail,
                        size_t detailsz)
{
  char dir[PATH_MAX];
  struct stat st;
  int dfd, f, err;

  *fd = -1;
  if (!agent_file_name_valid(name)) {
    (void) mgo_snprintf(detail, detailsz, "file must be a plain snapshot file name ([A-Za-z0-9_.-]{1,255})");
    return MGO_EINVAL;
  }
  if (mgo_snprintf(dir, sizeof(dir), "%s/" AGENT_SNAPSHOTS_DIR, data_dir) != MGO_OK)
    return sys_fail(detail, detailsz, "open", data_dir, ENAMETOOLONG);
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return sys_fail(detail, detailsz, "open", dir, errno);
  f = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  err = errno;
  (void) close(dfd);
  if (f < 0 && (err == ELOOP || err == EMLINK)) {
    (void) mgo_snprintf(detail, detailsz, "%s is a symbolic link, not a snapshot file", name);
    return MGO_EINVAL;
  }
  if (f < 0)
    return sys_fail(detail, detailsz, "open snapshot", name, err);
  if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
    (void) close(f);
    (void) mgo_snprintf(detail, detailsz, "%s is not a regular file", name);
    return MGO_EINVAL;
  }
  *fd = f;
  *size = (uint64_t) st.st_size;
  return MGO_OK;
}

static int newest_first(const void *a, const void *b)
{
  const struct agent_snapshot *x = a, *y = b;
  if (x->mtime_ns != y->mtime_ns)
    return x->mtime_ns > y->mtime_ns ? -1 : 1;
  return strcmp(y->name, x->name); /* Memgraph's names start with a timestamp: later name first */
}

/* Adds the entry name of dfd to the list when it is a regular file with a plain name. */
static int add_entry(int dfd, const char *name, struct agent_snapshot *list, size_t *n)
{
  struct stat st;
  if (!agent_file_name_valid(name) || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISREG(st.st_mode))
    return MGO_OK;
  if (*n >= AGENT_SNAPSHOTS_MAX)
    return MGO_ETOOBIG;
  (void) mgo_strlcpy(list[*n].name, name, sizeof(list[*n].name));
  list[*n].size = (uint64_t) st.st_size;
  list[*n].mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  (*n)++;
  return MGO_OK;
}

int agent_list_snapshots(const char *data_dir, struct agent_snapshot **out, size_t *n, char *detail,
                         size_t detailsz)
{
  char dir[PATH_MAX];
  struct agent_snapshot *list;
  struct dirent *e;
  DIR *d;
  int dfd, rc = MGO_OK;

  *out = NULL;
  *n = 0;
  if (mgo_snprintf(dir, sizeof(dir), "%s/" AGENT_SNAPSHOTS_DIR, data_dir) != MGO_OK)
    return sys_fail(detail, detailsz, "open", data_dir, ENAMETOOLONG);
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return errno == ENOENT ? MGO_OK : sys_fail(detail, detailsz, "open", dir, errno);
  d = fdopendir(dfd);
  list = calloc(AGENT_SNAPSHOTS_MAX, sizeof(*list));
  if (d == NULL || list == NULL) {
    rc = d == NULL ? sys_fail(detail, detailsz, "opendir", dir, errno) : MGO_ENOMEM;
    free(list);
    if (d != NULL)
      (void) closedir(d);
    else
      (void) close(dfd);
    return rc;
  }
  while (rc == MGO_OK && (e = readdir(d)) != NULL)
    rc = add_entry(dirfd(d), e->d_name, list, n);
  (void) closedir(d);
  if (rc != MGO_OK) {
    (void) mgo_snprintf(detail, detailsz, "%s: more than %d snapshot files", dir, AGENT_SNAPSHOTS_MAX);
    free(list);
    *n = 0;
    return rc;
  }
  qsort(list, *n, sizeof(*list), newest_first);
  *out = list;
  return MGO_OK;
}

int agent_sha256_fd(int fd, char hex[65], uint64_t *size)
{
  static const char digits[] = "0123456789abcdef";
  unsigned char buf[65536], md[32];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? MGO_OK : MGO_ENOMEM;

  *size = 0;
  while (rc == MGO_OK) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      rc = MGO_ESYS;
    else if (r == 0)
      break;
    else if (EVP_DigestUpdate(ctx, buf, (size_t) r) != 1)
      rc = MGO_ENOMEM;
    else
      *size += (uint64_t) r;
  }
  if (rc == MGO_OK && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
    rc = MGO_ENOMEM;
  EVP_MD_CTX_free(ctx);
  for (size_t i = 0; rc == MGO_OK && i < 32; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[rc == MGO_OK ? 64 : 0] = '\0';
  return rc;
}
