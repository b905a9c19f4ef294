#include "k8s_watch.h"

#include <string.h>

#include "k8s_client_internal.h"
#include "mgo_err.h"

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR", "DECODE_ERROR"};

const char *k8s_watch_type_name(enum k8s_watch_type type)
{
  return type <= K8S_WATCH_DECODE_ERROR ? type_names[type] : "UNKNOWN";
}

void k8s_watch_decoder_init(struct k8s_watch_decoder *d, size_t max_line)
{
  mgo_buf_init(&d->line, max_line ? max_line : K8S_WATCH_MAX_LINE);
  d->discarding = false;
}

void k8s_watch_decoder_free(struct k8s_watch_decoder *d)
{
  mgo_buf_free(&d->line);
}

size_t k8s_watch_decoder_pending(const struct k8s_watch_decoder *d)
{
  return d->line.len;
}

int k8s_watch_parse_line(const char *line, size_t len, struct k8s_watch_event *ev)
{
  ev->object = NULL;
  ev->rc = MGO_OK;
  json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
  const char *type = json_string_value(json_object_get(root, "type"));
  json_t *obj = json_object_get(root, "object");
  int found = -1;
  for (int i = 0; type && i <= K8S_WATCH_ERROR; i++) {
    if (strcmp(type, type_names[i]) == 0)
      found = i;
  }
  if (found < 0 || !json_is_object(obj)) {
    json_decref(root);
    return MGO_EPARSE;
  }
  ev->type = (enum k8s_watch_type) found;
  ev->object = json_incref(obj);
  json_decref(root);
  return MGO_OK;
}

static bool is_blank(const char *p, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
      return false;
  }
  return true;
}

static int emit_decode_error(int err, k8s_watch_event_fn *cb, void *arg)
{
  struct k8s_watch_event ev = {.type = K8S_WATCH_DECODE_ERROR, .object = NULL, .rc = err};
  return cb(arg, &ev);
}

/* Decodes one complete line and hands it to cb. */
static int emit_line(const char *line, size_t len, k8s_watch_event_fn *cb, void *arg)
{
  if (is_blank(line, len))
    return MGO_OK;
  struct k8s_watch_event ev;
  int rc = k8s_watch_parse_line(line, len, &ev);
  if (rc != MGO_OK)
    return emit_decode_error(rc, cb, arg);
  rc = cb(arg, &ev);
  json_decref(ev.object);
  return rc;
}

/* Handles one segment (bytes up to, not including, a newline, or the chunk's tail when complete is false). */
static int feed_segment(struct k8s_watch_decoder *d, const char *seg, size_t n, bool complete,
                        k8s_watch_event_fn *cb, void *arg)
{
  int rc = MGO_OK;
  if (d->discarding) {
    d->discarding = !complete;
    return MGO_OK;
  }
  if (mgo_buf_add(&d->line, seg, n) != MGO_OK) {
    mgo_buf_reset(&d->line);
    d->discarding = !complete;
    return emit_decode_error(MGO_ETOOBIG, cb, arg);
  }
  if (complete) {
    rc = emit_line(d->line.p ? d->line.p : "", d->line.len, cb, arg);
    mgo_buf_reset(&d->line);
  }
  return rc;
}

int k8s_watch_decoder_feed(struct k8s_watch_decoder *d, const char *data, size_t len, k8s_watch_event_fn *cb,
                           void *arg)
{
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t) (nl - data) : len;
    int rc = feed_segment(d, data, n, nl != NULL, cb, arg);
    if (rc != MGO_OK)
      return rc;
    size_t used = n + (nl ? 1 : 0);
    data += used;
    len -= used;
  }
  return MGO_OK;
}

struct watch_run {
  struct k8s_watch_decoder dec;
  k8s_watch_event_fn *cb;
  void *arg;
  int (*tick)(void *arg);
  char *last_rv;
  size_t rvsz;
  struct k8s_status *st;
};

static void track_rv(struct watch_run *w, const json_t *obj)
{
  const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
  if (rv && rv[0])
    mgo_strlcpy(w->last_rv, rv, w->rvsz);
}

/* Decoder callback: records the resourceVersion, turns ERROR and decode errors into stream results. */
static int on_event(void *arg, const struct k8s_watch_event *ev)
{
  struct watch_run *w = arg;
  if (ev->type == K8S_WATCH_ERROR) {
    struct k8s_status tmp = {0};
    k8s_status_from_json(&tmp, ev->object);
    int rc = tmp.code == 410 || strcmp(tmp.reason, "Expired") == 0 || strcmp(tmp.reason, "Gone") == 0
                 ? MGO_EGONE
                 : k8s_status_rc(tmp.code ? tmp.code : 500);
    int cbrc = w->cb(w->arg, ev);
    *w->st = tmp;
    return cbrc != MGO_OK ? cbrc : rc;
  }
  if (ev->type != K8S_WATCH_DECODE_ERROR)
    track_rv(w, ev->object);
  int rc = w->cb(w->arg, ev);
  if (rc == MGO_OK && ev->type == K8S_WATCH_DECODE_ERROR) {
    k8s_status_local(w->st, MGO_EPARSE, "watch stream: %s line",
                     ev->rc == MGO_ETOOBIG ? "oversized" : "malformed");
    rc = MGO_EPARSE;
  }
  return rc;
}

static int on_data(void *arg, const char *data, size_t len)
{
  struct watch_run *w = arg;
  return k8s_watch_decoder_feed(&w->dec, data, len, on_event, w);
}

static int on_tick(void *arg)
{
  struct watch_run *w = arg;
  return w->tick ? w->tick(w->arg) : 0;
}

static int watch_query(const struct k8s_watch_opts *o, const char *rv, struct mgo_buf *q)
{
  char timeout[32];
  mgo_snprintf(timeout, sizeof(timeout), "%ld", o->timeout_seconds > 0 ? o->timeout_seconds : 300);
  int rc = k8s_query_add(q, "watch", "1");
  rc = rc ? rc : k8s_query_add(q, "labelSelector", o->label_selector);
  rc = rc ? rc : k8s_query_add(q, "fieldSelector", o->field_selector);
  rc = rc ? rc : k8s_query_add(q, "resourceVersion", rv);
  rc = rc ? rc : k8s_query_add(q, "timeoutSeconds", timeout);
  if (o->allow_bookmarks)
    rc = rc ? rc : k8s_query_add(q, "allowWatchBookmarks", "true");
  return rc;
}

int k8s_watch(struct k8s_client *c, const char *path, const struct k8s_watch_opts *opts,
              k8s_watch_event_fn *cb, void *arg, char *last_rv, size_t rvsz, struct k8s_status *st)
{
  static const struct k8s_watch_opts defaults = {0};
  const struct k8s_watch_opts *o = opts ? opts : &defaults;
  const char *start_rv = last_rv[0] ? last_rv : o->resource_version;
  struct mgo_buf q = MGO_BUF_INIT(8192);
  int rc = watch_query(o, start_rv, &q);
  if (rc != MGO_OK) {
    mgo_buf_free(&q);
    return k8s_status_local(st, rc, "watch options too long");
  }
  struct watch_run w = {.cb = cb, .arg = arg, .tick = o->tick, .last_rv = last_rv, .rvsz = rvsz, .st = st};
  k8s_watch_decoder_init(&w.dec, o->max_line);
  struct k8s_request req = {.method = "GET", .verb = K8S_VERB_WATCH, .path = path, .query = mgo_buf_str(&q)};
  long server_timeout = o->timeout_seconds > 0 ? o->timeout_seconds : 300;
  rc = k8s__stream(c, &req, (server_timeout + 30) * 1000, on_data, on_tick, &w, st);
  if (rc == MGO_OK && k8s_watch_decoder_pending(&w.dec) > 0) /* the stream ended inside a line */
    rc = on_event(&w, &(struct k8s_watch_event){.type = K8S_WATCH_DECODE_ERROR, .rc = MGO_EPARSE});
  k8s_watch_decoder_free(&w.dec);
  mgo_buf_free(&q);
  return rc;
}
