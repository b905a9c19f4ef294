/* The batching exporter: a bounded ring of ended spans, one thread that sends them in batches as OTLP/JSON
 * over HTTP (libcurl), counters for what was exported and what was dropped. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "trace_int.h"

void mgo_trace__enqueue(struct mgo_tracer *t, struct mgo_span *s)
{
  bool dropped = false;
  pthread_mutex_lock(&t->lock);
  if (t->stopping) {
    t->stats.dropped_shutdown++;
    dropped = true;
  } else if (t->n == t->cfg.queue_size) {
    t->stats.dropped_queue_full++;
    dropped = true;
  } else {
    t->ring[(t->head + t->n) % t->cfg.queue_size] = s;
    t->n++;
    if (t->n == t->cfg.batch_size)
      pthread_cond_signal(&t->wake);
  }
  pthread_mutex_unlock(&t->lock);
  if (dropped)
    mgo_trace__span_free(s);
}

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
  (void) p;
  (void) arg;
  return size * n;
}

/* POST body to url; MGO_OK for a 2xx answer. */
static int curl_send(struct mgo_tracer *t, const char *body, size_t len, long timeout_ms, char *err,
                     size_t errsz)
{
  CURL *h = t->curl;
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
  char errbuf[CURL_ERROR_SIZE] = "";
  long code = 0;
  CURLcode cc;
  if (hdrs == NULL)
    return MGO_ENOMEM;
  curl_easy_setopt(h, CURLOPT_URL, t->cfg.url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hdrs);
  if (cc != CURLE_OK) {
    (void) mgo_snprintf(err, errsz, "POST %s: %s", t->cfg.url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    return cc == CURLE_OPERATION_TIMEDOUT ? MGO_ETIMEDOUT : MGO_ECONNECT;
  }
  if (code < 200 || code > 299) {
    (void) mgo_snprintf(err, errsz, "POST %s: HTTP %ld", t->cfg.url, code);
    return MGO_EHTTP;
  }
  return MGO_OK;
}

/* Encodes and sends one batch (outside the lock), then counts it and frees its spans. */
static void export_batch(struct mgo_tracer *t, struct mgo_span **batch, size_t k, long timeout_ms)
{
  char err[256] = "";
  size_t len = 0;
  char *body = mgo_trace_encode(&t->cfg, t->opts.scope_version, batch, k, &len);
  int rc = MGO_ENOMEM;
  if (body != NULL && t->opts.send != NULL)
    rc = t->opts.send(t->opts.send_arg, t->cfg.url, body, len, timeout_ms, err, sizeof(err));
  else if (body != NULL)
    rc = curl_send(t, body, len, timeout_ms, err, sizeof(err));
  else
    (void) mgo_strlcpy(err, "encoding the spans: out of memory or too large", sizeof(err));
  free(body);
  pthread_mutex_lock(&t->lock);
  if (rc == MGO_OK) {
    t->stats.exported += k;
  } else {
    t->stats.dropped_export += k;
    t->stats.failed_exports++;
    (void) mgo_strlcpy(t->stats.last_error, err[0] ? err : mgo_strerror(rc), sizeof(t->stats.last_error));
  }
  pthread_mutex_unlock(&t->lock);
  for (size_t i = 0; i < k; i++)
    mgo_trace__span_free(batch[i]);
}

static size_t take_batch(struct mgo_tracer *t, struct mgo_span **batch)
{
  size_t k = t->n < t->cfg.batch_size ? t->n : t->cfg.batch_size;
  for (size_t i = 0; i < k; i++) {
    batch[i] = t->ring[t->head];
    t->head = (t->head + 1) % t->cfg.queue_size;
  }
  t->n -= k;
  return k;
}

/* With the lock held: what is queued at the shutdown deadline is dropped. */
static void drop_queued(struct mgo_tracer *t)
{
  while (t->n > 0) {
    mgo_trace__span_free(t->ring[t->head]);
    t->head = (t->head + 1) % t->cfg.queue_size;
    t->n--;
    t->stats.dropped_shutdown++;
  }
}

static bool should_wait(const struct mgo_tracer *t)
{
  return !t->stopping && t->n < t->cfg.batch_size && t->flush_requests == t->flushes_done;
}

static void *exporter_main(void *arg)
{
  struct mgo_tracer *t = arg;
  struct mgo_span **batch = calloc(t->cfg.batch_size, sizeof(struct mgo_span *));
  pthread_mutex_lock(&t->lock);
  for (;;) {
    int64_t due = mgo_clock_mono_ms(NULL) + t->cfg.schedule_delay_ms;
    long timeout = t->cfg.export_timeout_ms;
    size_t k;
    while (should_wait(t) && mgo_clock_mono_ms(NULL) < due)
      (void) mgo_clock_cond_wait_until(NULL, &t->wake, &t->lock, due);
    if (t->n == 0 || batch == NULL) {
      t->flushes_done = t->flush_requests;
      pthread_cond_broadcast(&t->idle);
      if (t->stopping)
        break;
      continue;
    }
    if (t->stopping) {
      int64_t left = t->stop_deadline_ms - mgo_clock_mono_ms(NULL);
      if (left <= 0) {
        drop_queued(t);
        continue;
      }
      timeout = left < timeout ? (long) left : timeout;
    }
    k = take_batch(t, batch);
    pthread_mutex_unlock(&t->lock);
    export_batch(t, batch, k, timeout);
    pthread_mutex_lock(&t->lock);
  }
  if (batch == NULL)
    drop_queued(t);
  pthread_mutex_unlock(&t->lock);
  free(batch);
  return NULL;
}

static void tracer_release(struct mgo_tracer *t)
{
  if (t->curl != NULL)
    curl_easy_cleanup(t->curl);
  pthread_cond_destroy(&t->wake);
  pthread_cond_destroy(&t->idle);
  pthread_mutex_destroy(&t->lock);
  free(t->ring);
  free(t);
}

int mgo_tracer_new(const struct mgo_trace_config *cfg, const struct mgo_tracer_opts *opts,
                   struct mgo_tracer **out, char *err, size_t errsz)
{
  struct mgo_tracer *t;
  *out = NULL;
  if (cfg->url[0] == '\0')
    return MGO_OK;
  t = calloc(1, sizeof(*t));
  if (t == NULL)
    return MGO_ENOMEM;
  t->cfg = *cfg;
  if (t->cfg.queue_size == 0)
    t->cfg.queue_size = 2048;
  if (t->cfg.batch_size == 0 || t->cfg.batch_size > t->cfg.queue_size)
    t->cfg.batch_size = t->cfg.queue_size;
  if (opts != NULL)
    t->opts = *opts;
  pthread_mutex_init(&t->lock, NULL);
  (void) mgo_clock_cond_init(&t->wake);
  (void) mgo_clock_cond_init(&t->idle);
  t->ring = calloc(t->cfg.queue_size, sizeof(struct mgo_span *));
  if (t->ring == NULL) {
    tracer_release(t);
    return MGO_ENOMEM;
  }
  if (t->opts.send == NULL &&
      (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (t->curl = curl_easy_init()) == NULL)) {
    (void) mgo_strlcpy(err, "libcurl initialisation failed", errsz);
    tracer_release(t);
    return MGO_ESYS;
  }
  if (pthread_create(&t->thread, NULL, exporter_main, t) != 0) {
    (void) mgo_strlcpy(err, "cannot start the exporter thread", errsz);
    tracer_release(t);
    return MGO_ESYS;
  }
  *out = t;
  return MGO_OK;
}

int mgo_tracer_flush(struct mgo_tracer *t, long deadline_ms)
{
  int64_t deadline = mgo_clock_mono_ms(NULL) + deadline_ms;
  unsigned mine;
  int rc = MGO_OK;
  if (t == NULL)
    return MGO_OK;
  pthread_mutex_lock(&t->lock);
  mine = ++t->flush_requests;
  pthread_cond_signal(&t->wake);
  while ((int) (t->flushes_done - mine) < 0 && rc == MGO_OK) {
    if (mgo_clock_mono_ms(NULL) >= deadline)
      rc = MGO_ETIMEDOUT;
    else
      (void) mgo_clock_cond_wait_until(NULL, &t->idle, &t->lock, deadline);
  }
  pthread_mutex_unlock(&t->lock);
  return rc;
}

void mgo_tracer_free(struct mgo_tracer *t, long deadline_ms)
{
  if (t == NULL)
    return;
  pthread_mutex_lock(&t->lock);
  t->stopping = true;
  t->stop_deadline_ms = mgo_clock_mono_ms(NULL) + deadline_ms;
  pthread_cond_signal(&t->wake);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->thread, NULL);
  tracer_release(t);
}

void mgo_tracer_stats(struct mgo_tracer *t, struct mgo_trace_stats *out)
{
  memset(out, 0, sizeof(*out));
  if (t == NULL)
    return;
  pthread_mutex_lock(&t->lock);
  *out = t->stats;
  pthread_mutex_unlock(&t->lock);
}
