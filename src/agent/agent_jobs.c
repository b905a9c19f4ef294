/* Upload jobs on worker threads (see agent_jobs.h). */
#include "agent_jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "agent_snap.h"
#include "mgo_buf.h"
#include "mgo_err.h"

enum job_state { JOB_RUNNING, JOB_COMPLETED, JOB_FAILED };

struct job {
  struct agent_jobs *owner;
  char id[AGENT_JOB_ID_LEN + 1];
  char file[AGENT_FILE_NAME_MAX + 1];
  char *key;
  enum job_state state;
  bool cancel;
  uint64_t done, total, size;
  struct s3_put_result res;
  struct s3_error err;
  int rc;
  int64_t started_ns, finished_ns;
  /* only while running, touched by the worker alone */
  struct agent_upload_spec spec;
  int fd, ca_fd;
};

struct agent_jobs {
  pthread_mutex_t lock;
  const char *data_dir;
  const struct agent_s3_ops *ops;
  const struct mgo_clock *clock;
  struct job *running;
  pthread_t worker;
  bool worker_joinable;
  bool shut;
  struct job *finished[AGENT_JOBS_KEEP]; /* ring, oldest replaced first */
  size_t next;
  agent_job_notify_fn notify;
  void *notify_ctx;
};

void agent_jobs_set_notify(struct agent_jobs *j, agent_job_notify_fn fn, void *ctx)
{
  j->notify = fn;
  j->notify_ctx = ctx;
}

static void wipe_str(char **s)
{
  if (*s != NULL) {
    OPENSSL_cleanse(*s, strlen(*s));
    free(*s);
    *s = NULL;
  }
}

void agent_upload_spec_clear(struct agent_upload_spec *s)
{
  wipe_str(&s->endpoint);
  wipe_str(&s->region);
  wipe_str(&s->bucket);
  wipe_str(&s->key);
  wipe_str(&s->access_key);
  wipe_str(&s->secret_key);
  wipe_str(&s->session_token);
  wipe_str(&s->ca_pem);
  OPENSSL_cleanse(s, sizeof(*s));
}

int agent_jobs_new(struct agent_jobs **out, const char *data_dir, const struct agent_s3_ops *ops,
                   const struct mgo_clock *clock)
{
  struct agent_jobs *j = calloc(1, sizeof(*j));
  if (j == NULL)
    return MGO_ENOMEM;
  if (pthread_mutex_init(&j->lock, NULL) != 0) {
    free(j);
    return MGO_ESYS;
  }
  j->data_dir = data_dir;
  j->ops = ops;
  j->clock = mgo_clock_or_system(clock);
  *out = j;
  return MGO_OK;
}

static void job_free(struct job *job)
{
  if (job == NULL)
    return;
  agent_upload_spec_clear(&job->spec);
  if (job->fd >= 0)
    (void) close(job->fd);
  if (job->ca_fd >= 0)
    (void) close(job->ca_fd);
  free(job->key);
  free(job);
}

void agent_jobs_shutdown(struct agent_jobs *j)
{
  bool join;
  (void) pthread_mutex_lock(&j->lock);
  j->shut = true;
  if (j->running != NULL)
    j->running->cancel = true;
  join = j->worker_joinable;
  j->worker_joinable = false;
  (void) pthread_mutex_unlock(&j->lock);
  if (join)
    (void) pthread_join(j->worker, NULL);
}

void agent_jobs_free(struct agent_jobs *j)
{
  if (j == NULL)
    return;
  agent_jobs_shutdown(j);
  for (size_t i = 0; i < AGENT_JOBS_KEEP; i++)
    job_free(j->finished[i]);
  (void) pthread_mutex_destroy(&j->lock);
  free(j);
}

static bool on_progress(void *ctx, uint64_t done, uint64_t total)
{
  struct job *job = ctx;
  bool go;
  (void) pthread_mutex_lock(&job->owner->lock);
  job->done = done;
  job->total = total;
  go = !job->cancel;
  (void) pthread_mutex_unlock(&job->owner->lock);
  return go;
}

/* The CA PEM as an anonymous in-memory file, so the uploader can read it by path without a disk write. */
static int ca_memfd(const char *pem)
{
  size_t len = strlen(pem), off = 0;
  int fd = memfd_create("agent-ca", MFD_CLOEXEC);
  while (fd >= 0 && off < len) {
    ssize_t w = write(fd, pem + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      (void) close(fd);
      return -1;
    }
    off += (size_t) w;
  }
  return fd;
}

/* Runs on the worker thread: the upload, then the job moves to the finished ring. */
static int run_upload(struct job *job)
{
  struct agent_upload_spec *s = &job->spec;
  struct s3_config cfg;
  char path[64], ca_path[64];

  memset(&cfg, 0, sizeof(cfg));
  cfg.endpoint = s->endpoint;
  cfg.region = s->region;
  cfg.bucket = s->bucket;
  cfg.access_key = s->access_key;
  cfg.secret_key = s->secret_key;
  cfg.session_token = s->session_token;
  cfg.force_path_style = s->force_path_style;
  if (s->ca_pem != NULL) {
    job->ca_fd = ca_memfd(s->ca_pem);
    if (job->ca_fd < 0) {
      (void) mgo_strlcpy(job->err.message, "cannot hold the CA PEM in memory", sizeof(job->err.message));
      return MGO_ESYS;
    }
    (void) mgo_snprintf(ca_path, sizeof(ca_path), "/proc/self/fd/%d", job->ca_fd);
    cfg.ca_file = ca_path;
  }
  (void) mgo_snprintf(path, sizeof(path), "/proc/self/fd/%d", job->fd);
  return job->owner->ops->put_file(&cfg, s->key, path, s->part_size, on_progress, job, &job->res, &job->err);
}

static void *worker_main(void *arg)
{
  struct job *job = arg;
  struct agent_jobs *j = job->owner;
  int rc = run_upload(job);
  struct job *evicted;
  struct agent_job_event ev;

  agent_upload_spec_clear(&job->spec); /* the credentials go as soon as they are no longer needed */
  (void) close(job->fd);
  job->fd = -1;
  if (job->ca_fd >= 0)
    (void) close(job->ca_fd);
  job->ca_fd = -1;
  (void) pthread_mutex_lock(&j->lock);
  job->rc = rc;
  job->state = rc == MGO_OK ? JOB_COMPLETED : JOB_FAILED;
  if (rc == MGO_OK)
    job->done = job->total = job->size = job->res.size;
  job->finished_ns = mgo_clock_wall_ns(j->clock);
  if (j->notify != NULL) { /* before the job is published as finished, so it cannot be evicted meanwhile */
    ev = (struct agent_job_event){job->id, job->file, job->key, rc == MGO_OK, rc, &job->res, &job->err};
    j->notify(j->notify_ctx, &ev);
  }
  evicted = j->finished[j->next];
  j->finished[j->next] = job;
  j->next = (j->next + 1) % AGENT_JOBS_KEEP;
  j->running = NULL;
  (void) pthread_mutex_unlock(&j->lock);
  job_free(evicted);
  return NULL;
}

static void new_id(char id[AGENT_JOB_ID_LEN + 1])
{
  static const char digits[] = "0123456789abcdef";
  unsigned char raw[AGENT_JOB_ID_LEN / 2];
  if (RAND_bytes(raw, (int) sizeof(raw)) != 1) { /* never expected; ids need only be unique, not secret */
    uint64_t t = (uint64_t) mgo_clock_mono_ns(NULL) ^ ((uint64_t) getpid() << 40);
    for (size_t i = 0; i < sizeof(raw); i++)
      raw[i] = (unsigned char) (t >> (8 * (i % 8))) ^ (unsigned char) (i * 31U);
  }
  for (size_t i = 0; i < sizeof(raw); i++) {
    id[2 * i] = digits[raw[i] >> 4];
    id[2 * i + 1] = digits[raw[i] & 15];
  }
  id[AGENT_JOB_ID_LEN] = '\0';
}

/* With the lock held: refuses while busy or shut down; joins the thread of the previous (finished) job. */
static int check_idle(struct agent_jobs *j, char running[AGENT_JOB_ID_LEN + 1], char *detail, size_t detailsz)
{
  if (j->shut) {
    (void) mgo_snprintf(detail, detailsz, "the agent is shutting down");
    return MGO_ESTATE;
  }
  if (j->running != NULL) {
    (void) mgo_strlcpy(running, j->running->id, AGENT_JOB_ID_LEN + 1);
    (void) mgo_snprintf(detail, detailsz, "another upload is running (one at a time per agent)");
    return MGO_ECONFLICT;
  }
  if (j->worker_joinable) { /* it has set running to NULL: only its return is left */
    (void) pthread_join(j->worker, NULL);
    j->worker_joinable = false;
  }
  return MGO_OK;
}

static struct job *job_new(struct agent_jobs *j, struct agent_upload_spec *spec)
{
  struct job *job = calloc(1, sizeof(*job));
  if (job == NULL)
    return NULL;
  job->key = strdup(spec->key != NULL ? spec->key : "");
  if (job->key == NULL) {
    free(job);
    return NULL;
  }
  job->owner = j;
  job->fd = job->ca_fd = -1;
  (void) mgo_strlcpy(job->file, spec->file, sizeof(job->file));
  new_id(job->id);
  job->spec = *spec; /* takes over the strings */
  memset(spec, 0, sizeof(*spec));
  return job;
}

int agent_jobs_start(struct agent_jobs *j, struct agent_upload_spec *spec, char id[AGENT_JOB_ID_LEN + 1],
                     char running[AGENT_JOB_ID_LEN + 1], char *detail, size_t detailsz)
{
  struct job *job = NULL;
  uint64_t size = 0;
  int fd = -1, rc;

  id[0] = running[0] = '\0';
  (void) pthread_mutex_lock(&j->lock);
  rc = check_idle(j, running, detail, detailsz);
  if (rc == MGO_OK)
    rc = agent_open_snapshot(j->data_dir, spec->file, &fd, &size, detail, detailsz);
  if (rc == MGO_OK && (job = job_new(j, spec)) == NULL)
    rc = MGO_ENOMEM;
  if (rc == MGO_OK) {
    job->fd = fd;
    job->size = job->total = size;
    job->started_ns = mgo_clock_wall_ns(j->clock);
    rc = pthread_create(&j->worker, NULL, worker_main, job) == 0 ? MGO_OK : MGO_ESYS;
    if (rc != MGO_OK)
      (void) mgo_snprintf(detail, detailsz, "cannot start the upload thread");
  }
  if (rc == MGO_OK) {
    j->running = job;
    j->worker_joinable = true;
    (void) mgo_strlcpy(id, job->id, AGENT_JOB_ID_LEN + 1);
  }
  (void) pthread_mutex_unlock(&j->lock);
  if (rc != MGO_OK) {
    if (job != NULL)
      job_free(job); /* closes fd */
    else if (fd >= 0)
      (void) close(fd);
  }
  agent_upload_spec_clear(spec);
  return rc;
}

/* With the lock held: the job with this id, running or finished. */
static struct job *find(struct agent_jobs *j, const char *id)
{
  if (id == NULL)
    return NULL;
  if (j->running != NULL && strcmp(j->running->id, id) == 0)
    return j->running;
  for (size_t i = 0; i < AGENT_JOBS_KEEP; i++) {
    if (j->finished[i] != NULL && strcmp(j->finished[i]->id, id) == 0)
      return j->finished[i];
  }
  return NULL;
}

static json_t *time_json(int64_t ns)
{
  char ts[40];
  if (ns == 0 || mgo_time_format_rfc3339(ns, 0, ts, sizeof(ts)) != MGO_OK)
    return json_null();
  return json_string(ts);
}

static json_t *error_json(const struct job *job)
{
  if (job->state != JOB_FAILED)
    return json_null();
  return json_pack("{s:I,s:s,s:s,s:s}", "httpStatus", (json_int_t) job->err.http_status, "code",
                   job->err.code[0] != '\0' ? job->err.code : mgo_errname(job->rc), "message",
                   job->err.message[0] != '\0' ? job->err.message : mgo_strerror(job->rc), "agentError",
                   mgo_errname(job->rc));
}

/* With the lock held. Only what is not secret: never the spec. */
static json_t *job_json(const struct job *job)
{
  static const char *const states[] = {"running", "completed", "failed"};
  bool ok = job->state == JOB_COMPLETED;
  json_t *o = json_pack(
      "{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "id", job->id, "state", states[job->state],
      "file", job->file, "key", job->key, "bytesDone", (json_int_t) job->done, "bytesTotal",
      (json_int_t) job->total, "size", (json_int_t) job->size, "sha256",
      ok ? json_string(job->res.sha256) : json_null(), "etag", ok ? json_string(job->res.etag) : json_null(),
      "parts", ok ? json_integer(job->res.parts) : json_null(), "error", error_json(job), "startedAt",
      time_json(job->started_ns), "finishedAt", time_json(job->finished_ns), "cancelRequested", job->cancel);
  return o;
}

int agent_jobs_get(struct agent_jobs *j, const char *id, json_t **out)
{
  struct job *job;
  int rc = MGO_ENOTFOUND;
  *out = NULL;
  (void) pthread_mutex_lock(&j->lock);
  job = find(j, id);
  if (job != NULL) {
    *out = job_json(job);
    rc = *out != NULL ? MGO_OK : MGO_ENOMEM;
  }
  (void) pthread_mutex_unlock(&j->lock);
  return rc;
}

int agent_jobs_cancel(struct agent_jobs *j, const char *id, bool *was_running, json_t **out)
{
  struct job *job;
  int rc = MGO_ENOTFOUND;
  *out = NULL;
  *was_running = false;
  (void) pthread_mutex_lock(&j->lock);
  job = find(j, id);
  if (job != NULL) {
    *was_running = job->state == JOB_RUNNING;
    if (*was_running)
      job->cancel = true;
    *out = job_json(job);
    rc = *out != NULL ? MGO_OK : MGO_ENOMEM;
  }
  (void) pthread_mutex_unlock(&j->lock);
  return rc;
}
