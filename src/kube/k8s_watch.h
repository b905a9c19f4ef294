/* Watch streams: an incremental line decoder (pure, no I/O) and a single watch request on top of it.
 *
 * The decoder consumes arbitrary chunks of a watch body (one JSON object per line), keeps only the unfinished
 * tail of the current line, and scans every byte once. A line longer than max_line is discarded up to its
 * newline and reported as a K8S_WATCH_DECODE_ERROR with rc MGO_ETOOBIG; a line that is not a valid watch
 * event is reported as K8S_WATCH_DECODE_ERROR with MGO_EPARSE. Decoding continues after both.
 *
 * k8s_watch() runs one GET ...?watch=1 request (never with sendInitialEvents) and delivers events until the
 * server ends the stream. It tracks the newest resourceVersion seen (including bookmarks) in the caller's
 * buffer, so the caller can resume from it. Higher-level reconnect and relist logic lives in the informer.
 *
 * Ownership: an event's object is borrowed for the duration of the callback; json_incref() it to keep it.
 * Thread-safety: a decoder belongs to one thread; k8s_watch() blocks its calling thread and calls the
 * callbacks on it. */
#ifndef K8S_WATCH_H
#define K8S_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "k8s_client.h"
#include "mgo_buf.h"

#define K8S_WATCH_MAX_LINE ((size_t) 8 * 1024 * 1024)
#define K8S_RV_MAX 64

enum k8s_watch_type {
  K8S_WATCH_ADDED,
  K8S_WATCH_MODIFIED,
  K8S_WATCH_DELETED,
  K8S_WATCH_BOOKMARK,
  K8S_WATCH_ERROR,       /* the server sent an ERROR event; object is a Status */
  K8S_WATCH_DECODE_ERROR /* a malformed or oversized line; object is NULL, rc says why */
};

struct k8s_watch_event {
  enum k8s_watch_type type;
  json_t *object; /* borrowed */
  int rc;         /* MGO_OK, or the decode error */
};

/* Returns MGO_OK to continue; anything else stops decoding/the stream and is returned to the caller. */
typedef int k8s_watch_event_fn(void *arg, const struct k8s_watch_event *ev);

struct k8s_watch_decoder {
  struct mgo_buf line; /* the unfinished line */
  bool discarding;     /* inside an oversized line, skipping to its newline */
};

void k8s_watch_decoder_init(struct k8s_watch_decoder *d, size_t max_line);
/* Feeds len bytes; calls cb for each complete line. Returns MGO_OK or the first non-MGO_OK cb result. */
int k8s_watch_decoder_feed(struct k8s_watch_decoder *d, const char *data, size_t len, k8s_watch_event_fn *cb,
                           void *arg);
/* Bytes held for an unfinished line. */
size_t k8s_watch_decoder_pending(const struct k8s_watch_decoder *d);
void k8s_watch_decoder_free(struct k8s_watch_decoder *d);

/* Parses one line into ev (ev->object is a new reference the caller must json_decref()). MGO_EPARSE when the
 * line is not {"type": <known type>, "object": {...}}. */
int k8s_watch_parse_line(const char *line, size_t len, struct k8s_watch_event *ev);
const char *k8s_watch_type_name(enum k8s_watch_type type);

struct k8s_watch_opts {
  const char *label_selector;
  const char *field_selector;
  const char *resource_version; /* resume point; NULL/"" = start now (server sends the current state) */
  long timeout_seconds;         /* server-side stream lifetime, default 300 */
  bool allow_bookmarks;
  size_t max_line; /* default K8S_WATCH_MAX_LINE */
  /* Called about once a second on the watching thread; non-zero stops the stream with MGO_ECANCELED. */
  int (*tick)(void *arg);
};

/* One watch request on path (a collection path from k8s_path()). last_rv (rvsz bytes, may start empty) is
 * updated with every event's resourceVersion. Returns:
 *   MGO_OK         the server closed the stream normally (resume from last_rv),
 *   MGO_EGONE      the resourceVersion is too old (HTTP 410 or an ERROR event with code 410): relist,
 *   MGO_EPARSE     a malformed or oversized line arrived, or the stream ended inside a line (delivered to cb
 *                  first as K8S_WATCH_DECODE_ERROR): relist, events may be lost,
 *   MGO_ECANCELED  tick asked to stop, or any other MGO_* from the request or from cb. */
int k8s_watch(struct k8s_client *c, const char *path, const struct k8s_watch_opts *opts,
              k8s_watch_event_fn *cb, void *arg, char *last_rv, size_t rvsz, struct k8s_status *st);

#endif
