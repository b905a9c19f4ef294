/* Restore of a snapshot from S3 before Memgraph starts (see agent_restore.h). */
#include "agent_restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_snap.h"
#include "mgo_buf.h"
#include "mgo_err.h"

static int sys_fail(char *detail, size_t detailsz, const char *what, const char *path, int err)
{
  char buf[128];
  (void) mgo_snprintf(detail, detailsz, "%s %s: %s", what, path, strerror_r(err, buf, sizeof(buf)));
  return MGO_ESYS;
}

/* Whether directory sub of dfd is absent or empty; leftover (may be NULL) is removed from it first. */
static int check_empty(int dfd, const char *sub, const char *leftover, char *detail, size_t detailsz)
{
  struct stat st;
  struct dirent *e;
  DIR *d;
  int fd, rc = MGO_OK;

  if (fstatat(dfd, sub, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? MGO_OK : sys_fail(detail, detailsz, "stat", sub, errno);
  if (!S_ISDIR(st.st_mode)) {
    (void) mgo_snprintf(detail, detailsz, "%s/ is not a directory: refusing to restore over it", sub);
    return MGO_EEXIST;
  }
  fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sys_fail(detail, detailsz, "open", sub, errno);
  if (leftover != NULL && unlinkat(fd, leftover, 0) != 0 && errno != ENOENT) {
    rc = sys_fail(detail, detailsz, "unlink leftover download in", sub, errno);
    (void) close(fd);
    return rc;
  }
  d = fdopendir(fd);
  if (d == NULL) {
    rc = sys_fail(detail, detailsz, "opendir", sub, errno);
    (void) close(fd);
    return rc;
  }
  while (rc == MGO_OK && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    (void) mgo_snprintf(
        detail, detailsz,
        "the data directory holds durability files (%s/%.200s): a restore never overwrites data", sub,
        e->d_name);
    rc = MGO_EEXIST;
  }
  (void) closedir(d);
  return rc;
}

/* Creates data_dir (when missing) and checks that it holds no snapshot and no WAL file; *dfd is opened. */
static int prepare_data_dir(const char *data_dir, const char *file, int *dfd, char *detail, size_t detailsz)
{
  char part[AGENT_FILE_NAME_MAX + 8];
  int rc;

  (void) mgo_snprintf(part, sizeof(part), "%s.part", file);
  if (mkdir(data_dir, 0750) != 0 && errno != EEXIST)
    return sys_fail(detail, detailsz, "mkdir", data_dir, errno);
  *dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (*dfd < 0)
    return sys_fail(detail, detailsz, "open (a directory, not a symbolic link)", data_dir, errno);
  rc = check_empty(*dfd, AGENT_SNAPSHOTS_DIR, part, detail, detailsz);
  if (rc == MGO_OK)
    rc = check_empty(*dfd, AGENT_WAL_DIR, NULL, detail, detailsz);
  if (rc == MGO_OK && mkdirat(*dfd, AGENT_SNAPSHOTS_DIR, 0750) != 0 && errno != EEXIST)
    rc = sys_fail(detail, detailsz, "mkdir", AGENT_SNAPSHOTS_DIR, errno);
  if (rc != MGO_OK) {
    (void) close(*dfd);
    *dfd = -1;
  }
  return rc;
}

/* Reads the downloaded file back: size and SHA-256 must be the expected ones; then fsync of it and its
 * directories. */
static int verify_file(int dfd, const struct agent_restore_spec *rs, struct agent_restore_result *res,
                       char *detail, size_t detailsz)
{
  int sfd = openat(dfd, AGENT_SNAPSHOTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int fd = sfd >= 0 ? openat(sfd, rs->file, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC) : -1;
  int rc = fd >= 0 ? agent_sha256_fd(fd, res->sha256, &res->size) : MGO_ESYS;

  if (fd < 0)
    (void) sys_fail(detail, detailsz, "open downloaded snapshot", rs->file, errno);
  else if (rc != MGO_OK)
    (void) sys_fail(detail, detailsz, "read downloaded snapshot", rs->file, errno);
  else if (res->size != rs->size || strcmp(res->sha256, rs->sha256) != 0) {
    (void) mgo_snprintf(detail, detailsz,
                        "downloaded %s does not match: %llu bytes with sha256 %s, expected %llu bytes with "
                        "sha256 %s",
                        rs->file, (unsigned long long) res->size, res->sha256, rs->size, rs->sha256);
    rc = MGO_ECONFLICT;
  } else if (fsync(fd) != 0 || fsync(sfd) != 0 || fsync(dfd) != 0) {
    rc = sys_fail(detail, detailsz, "fsync downloaded snapshot", rs->file, errno);
  }
  if (fd >= 0)
    (void) close(fd);
  if (sfd >= 0)
    (void) close(sfd);
  return rc;
}

/* Removes <data_dir>/snapshots/<file> and its .part after a failure. */
static void remove_download(int dfd, const char *file)
{
  char part[AGENT_FILE_NAME_MAX + 8];
  int sfd = openat(dfd, AGENT_SNAPSHOTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0)
    return;
  (void) mgo_snprintf(part, sizeof(part), "%s.part", file);
  (void) unlinkat(sfd, file, 0);
  (void) unlinkat(sfd, part, 0);
  (void) fsync(sfd);
  (void) close(sfd);
}

static int download(const char *data_dir, const struct agent_restore_spec *rs,
                    const struct agent_restore_creds *creds, const struct agent_s3_ops *ops,
                    struct agent_restore_result *res, char *detail, size_t detailsz)
{
  struct s3_config cfg;
  struct s3_put_result got;
  char path[PATH_MAX];
  int rc;

  memset(&cfg, 0, sizeof(cfg));
  cfg.endpoint = rs->endpoint;
  cfg.region = rs->region;
  cfg.bucket = rs->bucket;
  cfg.access_key = creds->access_key;
  cfg.secret_key = creds->secret_key;
  cfg.session_token =
      creds->session_token != NULL && creds->session_token[0] != '\0' ? creds->session_token : NULL;
  cfg.force_path_style = rs->force_path_style;
  if (mgo_snprintf(path, sizeof(path), "%s/" AGENT_SNAPSHOTS_DIR "/%s", data_dir, rs->file) != MGO_OK)
    return sys_fail(detail, detailsz, "download to", data_dir, ENAMETOOLONG);
  memset(&got, 0, sizeof(got));
  rc = ops->get_file(&cfg, rs->key, path, rs->size, rs->sha256, &got, &res->err);
  if (rc != MGO_OK)
    (void) mgo_snprintf(detail, detailsz, "download of s3://%s/%s failed: %s (HTTP %ld%s%s%s%s)", rs->bucket,
                        rs->key, mgo_errname(rc), res->err.http_status, res->err.code[0] ? ", " : "",
                        res->err.code, res->err.message[0] ? ": " : "", res->err.message);
  return rc;
}

int agent_restore(const char *data_dir, const char *marker_dir, const struct agent_restore_spec *rs,
                  const struct agent_restore_creds *creds, const struct agent_s3_ops *ops,
                  struct agent_restore_result *res, char *detail, size_t detailsz)
{
  bool done = false;
  int dfd = -1, rc;

  memset(res, 0, sizeof(*res));
  if (!agent_token_valid(rs->token) || !agent_file_name_valid(rs->file)) {
    (void) mgo_snprintf(detail, detailsz, "invalid restore token or file name");
    return MGO_EINVAL;
  }
  if (creds->access_key == NULL || creds->access_key[0] == '\0' || creds->secret_key == NULL ||
      creds->secret_key[0] == '\0') {
    (void) mgo_snprintf(detail, detailsz,
                        "restore without S3 credentials (MGO_RESTORE_ACCESS_KEY_ID, "
                        "MGO_RESTORE_SECRET_ACCESS_KEY)");
    return MGO_EINVAL;
  }
  rc = agent_marker_holds_named(marker_dir, AGENT_RESTORE_MARKER_FILE, rs->token, &done, detail, detailsz);
  if (rc != MGO_OK || done) {
    res->outcome = AGENT_RESTORE_ALREADY_DONE;
    return rc;
  }
  rc = prepare_data_dir(data_dir, rs->file, &dfd, detail, detailsz);
  if (rc != MGO_OK)
    return rc;
  rc = download(data_dir, rs, creds, ops, res, detail, detailsz);
  if (rc == MGO_OK)
    rc = verify_file(dfd, rs, res, detail, detailsz);
  if (rc == MGO_OK)
    rc = agent_marker_write_named(marker_dir, AGENT_RESTORE_MARKER_FILE, rs->token, detail, detailsz);
  if (rc != MGO_OK)
    remove_download(dfd, rs->file);
  else
    res->outcome = AGENT_RESTORE_RESTORED;
  (void) close(dfd);
  return rc;
}
