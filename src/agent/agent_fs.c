/* Instructions and re-seed of the agent (see agent_fs.h for the contract). */
#include "agent_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgo_buf.h"
#include "mgo_err.h"

#define POD_NAME_MAX 253

static int fail_errno(char *detail, size_t detailsz, const char *what, const char *path, int err)
{
  char buf[128];
  const char *msg = strerror_r(err, buf, sizeof(buf)); /* GNU variant (_GNU_SOURCE) */
  (void) mgo_snprintf(detail, detailsz, "%s %s: %s", what, path, msg);
  return MGO_ESYS;
}

static int fail_msg(char *detail, size_t detailsz, int rc, const char *what, const char *path)
{
  (void) mgo_snprintf(detail, detailsz, "%s: %s", path, what);
  return rc;
}

bool agent_token_valid(const char *token)
{
  size_t n = 0;
  if (token == NULL)
    return false;
  for (const char *p = token; *p != '\0'; p++, n++) {
    char ch = *p;
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    if (!ok || n >= AGENT_TOKEN_MAX)
      return false;
  }
  return n >= 1;
}

static bool pod_name_valid(const char *name)
{
  size_t n = name != NULL ? strlen(name) : 0;
  if (n == 0 || n > POD_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = name[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
          ch == '.'))
      return false;
  }
  return true;
}

/* Reads at most max bytes of fd into buf; *n gets the count. MGO_ETOOBIG when there is more. */
static int read_all(int fd, char *buf, size_t max, size_t *n)
{
  size_t have = 0;
  for (;;) {
    char extra;
    ssize_t r = have < max ? read(fd, buf + have, max - have) : read(fd, &extra, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return MGO_ESYS;
    if (r == 0)
      break;
    if (have >= max)
      return MGO_ETOOBIG;
    have += (size_t) r;
  }
  *n = have;
  return MGO_OK;
}

int agent_read_instructions(const char *dir, const char *pod_name, struct agent_instructions *out,
                            char *detail, size_t detailsz)
{
  char text[AGENT_INSTRUCTIONS_MAX];
  size_t n = 0;
  int dfd, fd, rc, err;

  memset(out, 0, sizeof(*out));
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) /* no instructions volume (a pod template from before it existed): nothing to do */
    return errno == ENOENT ? MGO_OK : fail_errno(detail, detailsz, "open", dir, errno);
  if (!pod_name_valid(pod_name)) {
    (void) close(dfd);
    return fail_msg(detail, detailsz, MGO_EINVAL, "not a valid pod name", pod_name ? pod_name : "(none)");
  }
  fd = openat(dfd, pod_name, O_RDONLY | O_CLOEXEC | O_NOCTTY); /* follows the volume's ..data links */
  err = errno;
  (void) close(dfd);
  if (fd < 0 && err == ENOENT)
    return MGO_OK;
  if (fd < 0)
    return fail_errno(detail, detailsz, "open instructions in", dir, err);
  rc = read_all(fd, text, sizeof(text), &n);
  err = errno;
  (void) close(fd);
  if (rc == MGO_ETOOBIG)
    return fail_msg(detail, detailsz, rc, "instructions larger than 4096 bytes", pod_name);
  if (rc != MGO_OK)
    return fail_errno(detail, detailsz, "read instructions in", dir, err);
  return agent_parse_instructions(text, n, out, detail, detailsz);
}

/* ---- wipe ------------------------------------------------------------------------------------------------
 */

struct wipe {
  dev_t dev;      /* data_dir's file system: never left */
  size_t removed; /* entries removed so far */
  char path[PATH_MAX];
  size_t pathlen; /* path names the directory being wiped, for messages only */
  char *detail;
  size_t detailsz;
};

static void path_push(struct wipe *w, const char *name, size_t *saved)
{
  *saved = w->pathlen;
  if (w->pathlen < sizeof(w->path) - 1)
    (void) mgo_snprintf(w->path + w->pathlen, sizeof(w->path) - w->pathlen, "/%s", name);
  w->pathlen = strlen(w->path);
}

static void path_pop(struct wipe *w, size_t saved)
{
  w->pathlen = saved;
  w->path[saved] = '\0';
}

static int wipe_dir_fd(struct wipe *w, int dfd, int depth);

/* Removes the entry name of directory dfd (a directory with everything inside it). */
static int wipe_entry(struct wipe *w, int dfd, const char *name, int depth)
{
  struct stat st, opened;
  size_t saved;
  int sub, rc = MGO_OK;

  path_push(w, name, &saved);
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    rc = fail_errno(w->detail, w->detailsz, "stat", w->path, errno);
  } else if (!S_ISDIR(st.st_mode)) { /* files, symbolic links (the link, not its target), fifos, ... */
    if (unlinkat(dfd, name, 0) != 0)
      rc = fail_errno(w->detail, w->detailsz, "unlink", w->path, errno);
  } else if (st.st_dev != w->dev) {
    rc = fail_msg(w->detail, w->detailsz, MGO_EUNSUPPORTED, "another file system is mounted here: not wiped",
                  w->path);
  } else if (depth >= AGENT_WIPE_MAX_DEPTH) {
    rc = fail_msg(w->detail, w->detailsz, MGO_ETOOBIG, "nested too deep: not wiped", w->path);
  } else if ((sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
    rc = fail_errno(w->detail, w->detailsz, "open", w->path, errno);
  } else if (fstat(sub, &opened) != 0 || opened.st_dev != st.st_dev || opened.st_ino != st.st_ino) {
    (void) close(sub); /* replaced between the stat and the open: someone else is writing here */
    rc = fail_msg(w->detail, w->detailsz, MGO_ESYS, "changed while being wiped", w->path);
  } else if ((rc = wipe_dir_fd(w, sub, depth + 1)) == MGO_OK && unlinkat(dfd, name, AT_REMOVEDIR) != 0) {
    rc = fail_errno(w->detail, w->detailsz, "rmdir", w->path, errno);
  }
  if (rc == MGO_OK)
    w->removed++;
  path_pop(w, saved);
  return rc;
}

/* Empties the directory dfd (consumed). Passes repeat until one finds nothing, because readdir() need not
 * return entries of a directory that changes while it is read. */
static int wipe_dir_fd(struct wipe *w, int dfd, int depth)
{
  DIR *d = fdopendir(dfd);
  int rc = MGO_OK;
  size_t seen = 1;

  if (d == NULL) {
    rc = fail_errno(w->detail, w->detailsz, "opendir", w->path, errno);
    (void) close(dfd);
    return rc;
  }
  while (rc == MGO_OK && seen > 0) {
    seen = 0;
    rewinddir(d);
    for (;;) {
      struct dirent *e;
      errno = 0;
      e = readdir(d);
      if (e == NULL) {
        if (errno != 0)
          rc = fail_errno(w->detail, w->detailsz, "readdir", w->path, errno);
        break;
      }
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      seen++;
      rc = wipe_entry(w, dirfd(d), e->d_name, depth);
      if (rc != MGO_OK)
        break;
    }
  }
  (void) closedir(d);
  return rc;
}

int agent_wipe_dir(const char *data_dir, size_t *removed, char *detail, size_t detailsz)
{
  struct wipe w;
  struct stat st;
  int fd, dfd, rc;

  memset(&w, 0, sizeof(w));
  w.detail = detail;
  w.detailsz = detailsz;
  *removed = 0;
  if (mgo_strlcpy(w.path, data_dir, sizeof(w.path)) != MGO_OK)
    return fail_msg(detail, detailsz, MGO_ETOOBIG, "path too long", data_dir);
  w.pathlen = strlen(w.path);
  fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return MGO_OK;
  if (fd < 0)
    return fail_errno(detail, detailsz, "open (a directory, not a symbolic link)", data_dir, errno);
  if (fstat(fd, &st) != 0 || (dfd = dup(fd)) < 0) {
    rc = fail_errno(detail, detailsz, "open", data_dir, errno);
    (void) close(fd);
    return rc;
  }
  w.dev = st.st_dev;
  rc = wipe_dir_fd(&w, dfd, 0);
  *removed = w.removed;
  if (rc == MGO_OK && fsync(fd) != 0) /* the removals are durable before the marker says they happened */
    rc = fail_errno(detail, detailsz, "fsync", data_dir, errno);
  (void) close(fd);
  return rc;
}

/* ---- marker -------------------------------------------------------------------------------------------- */

int agent_marker_holds(const char *marker_dir, const char *token, bool *done, char *detail, size_t detailsz)
{
  return agent_marker_holds_named(marker_dir, AGENT_MARKER_FILE, token, done, detail, detailsz);
}

int agent_marker_holds_named(const char *marker_dir, const char *name, const char *token, bool *done,
                             char *detail, size_t detailsz)
{
  char path[PATH_MAX];
  char text[AGENT_TOKEN_MAX + 2];
  size_t n = 0;
  int fd, rc, err;

  *done = false;
  if (mgo_snprintf(path, sizeof(path), "%s/%s", marker_dir, name) != MGO_OK)
    return fail_msg(detail, detailsz, MGO_ETOOBIG, "path too long", marker_dir);
  fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return errno == ENOENT ? MGO_OK : fail_errno(detail, detailsz, "open", path, errno);
  rc = read_all(fd, text, sizeof(text), &n);
  err = errno;
  (void) close(fd);
  if (rc == MGO_ETOOBIG) /* longer than any token: not ours, so not done */
    return MGO_OK;
  if (rc != MGO_OK)
    return fail_errno(detail, detailsz, "read", path, err);
  if (n > 0 && text[n - 1] == '\n')
    n--;
  *done = n == strlen(token) && memcmp(text, token, n) == 0;
  return MGO_OK;
}

static int write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    buf += w;
    len -= (size_t) w;
  }
  return 0;
}

/* Creates marker_dir when missing and makes its creation durable (fsync of the parent). */
static int ensure_marker_dir(const char *marker_dir, char *detail, size_t detailsz)
{
  char parent[PATH_MAX];
  char *slash;
  int fd, rc = MGO_OK;

  if (mkdir(marker_dir, 0755) != 0)
    return errno == EEXIST ? MGO_OK : fail_errno(detail, detailsz, "mkdir", marker_dir, errno);
  if (mgo_strlcpy(parent, marker_dir, sizeof(parent)) != MGO_OK)
    return fail_msg(detail, detailsz, MGO_ETOOBIG, "path too long", marker_dir);
  slash = strrchr(parent, '/');
  if (slash == parent)
    slash[1] = '\0';
  else if (slash != NULL)
    *slash = '\0';
  else
    (void) mgo_strlcpy(parent, ".", sizeof(parent));
  fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0)
    rc = fail_errno(detail, detailsz, "fsync", parent, errno);
  if (fd >= 0)
    (void) close(fd);
  return rc;
}

int agent_marker_write(const char *marker_dir, const char *token, char *detail, size_t detailsz)
{
  return agent_marker_write_named(marker_dir, AGENT_MARKER_FILE, token, detail, detailsz);
}

int agent_marker_write_named(const char *marker_dir, const char *name, const char *token, char *detail,
                             size_t detailsz)
{
  char line[AGENT_TOKEN_MAX + 2];

  if (!agent_token_valid(token))
    return fail_msg(detail, detailsz, MGO_EINVAL, "invalid token", marker_dir);
  (void) mgo_snprintf(line, sizeof(line), "%s\n", token);
  return agent_file_write_atomic(marker_dir, name, line, detail, detailsz);
}

int agent_file_write_atomic(const char *marker_dir, const char *name, const char *content, char *detail,
                            size_t detailsz)
{
  const char *line = content;
  char tmp[AGENT_FILE_NAME_MAX + 8];
  int dfd, fd, rc;

  if (!agent_file_name_valid(name) || mgo_snprintf(tmp, sizeof(tmp), "%s.tmp", name) != MGO_OK)
    return fail_msg(detail, detailsz, MGO_EINVAL, "invalid marker name", name);
  rc = ensure_marker_dir(marker_dir, detail, detailsz);
  if (rc != MGO_OK)
    return rc;
  dfd = open(marker_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return fail_errno(detail, detailsz, "open", marker_dir, errno);
  if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT) { /* left by an interrupted earlier run */
    rc = fail_errno(detail, detailsz, "unlink temporary marker in", marker_dir, errno);
    (void) close(dfd);
    return rc;
  }
  fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    rc = fail_errno(detail, detailsz, "create temporary marker in", marker_dir, errno);
  } else {
    if (write_all(fd, line, strlen(line)) != 0)
      rc = fail_errno(detail, detailsz, "write temporary marker in", marker_dir, errno);
    else if (fsync(fd) != 0)
      rc = fail_errno(detail, detailsz, "fsync temporary marker in", marker_dir, errno);
    if (close(fd) != 0 && rc == MGO_OK)
      rc = fail_errno(detail, detailsz, "close temporary marker in", marker_dir, errno);
    if (rc == MGO_OK && renameat(dfd, tmp, dfd, name) != 0)
      rc = fail_errno(detail, detailsz, "rename temporary marker in", marker_dir, errno);
    if (rc == MGO_OK && fsync(dfd) != 0)
      rc = fail_errno(detail, detailsz, "fsync", marker_dir, errno);
    if (rc != MGO_OK)
      (void) unlinkat(dfd, tmp, 0);
  }
  (void) close(dfd);
  return rc;
}

int agent_write_fence(const char *marker_dir, long replication_port, char *detail, size_t detailsz)
{
  char line[96];
  if (replication_port < 1 || replication_port > 65535)
    return fail_msg(detail, detailsz, MGO_EINVAL, "replication port out of range", "fence");
  (void) mgo_snprintf(line, sizeof(line), "SET REPLICATION ROLE TO REPLICA WITH PORT %ld\n",
                      replication_port);
  return agent_file_write_atomic(marker_dir, AGENT_FENCE_FILE, line, detail, detailsz);
}

int agent_reseed(const char *data_dir, const char *marker_dir, const char *token,
                 struct agent_reseed_result *res, char *detail, size_t detailsz)
{
  bool done = false;
  int rc;

  memset(res, 0, sizeof(*res));
  if (!agent_token_valid(token))
    return fail_msg(detail, detailsz, MGO_EINVAL, "reseed token must match [A-Za-z0-9-]{1,64}", "token");
  rc = agent_marker_holds(marker_dir, token, &done, detail, detailsz);
  if (rc != MGO_OK)
    return rc;
  if (done) {
    res->outcome = AGENT_RESEED_ALREADY_DONE;
    return MGO_OK;
  }
  rc = agent_wipe_dir(data_dir, &res->removed, detail, detailsz);
  if (rc == MGO_OK)
    rc = agent_marker_write(marker_dir, token, detail, detailsz);
  if (rc == MGO_OK)
    res->outcome = AGENT_RESEED_WIPED;
  return rc;
}
