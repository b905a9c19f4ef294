/* The outcome of one Kubernetes API call.
 *
 * Every client call fills a struct k8s_status: the HTTP code (0 when no response arrived), and the reason and
 * message of the Kubernetes Status object the server sent, when it sent one. For failures that never reached
 * the server (DNS, connect, TLS, timeout, oversized body) code is 0 and message holds the transport's
 * explanation. Bodies from the network are untrusted: garbage or truncated JSON never crashes, it only leaves
 * reason empty and puts a short, printable excerpt of the body into message.
 *
 * Ownership: plain value struct, caller-allocated, no heap memory. Thread-safety: pure functions. */
#ifndef K8S_STATUS_H
#define K8S_STATUS_H

#include <stddef.h>

#define K8S_REASON_MAX 64
#define K8S_MESSAGE_MAX 512

struct k8s_status {
  long code;                     /* HTTP status code; 0 when the request never got an answer */
  char reason[K8S_REASON_MAX];   /* Status.reason, e.g. "Conflict", "NotFound", "AlreadyExists" */
  char cause[K8S_REASON_MAX];    /* Status.details.causes[0].reason, e.g. "NamespaceTerminating"; "" = none */
  char message[K8S_MESSAGE_MAX]; /* Status.message, or a transport/parse explanation */
};

void k8s_status_clear(struct k8s_status *st);

/* Maps an HTTP status code to an MGO_* code: 2xx → MGO_OK, 404 → MGO_ENOTFOUND, 409 → MGO_ECONFLICT,
 * 410 → MGO_EGONE, 401 → MGO_EUNAUTHORIZED, 403 → MGO_EFORBIDDEN, 400/422 → MGO_EINVALIDOBJ,
 * 429 and 5xx → MGO_ESERVER, 504 → MGO_ETIMEDOUT, anything else → MGO_EHTTP. */
int k8s_status_rc(long http_code);

/* Fills st from an HTTP answer: code, and reason/message from the body when it is a Kubernetes Status
 * object (body need not be NUL-terminated). When the body is not a Status, message gets a printable excerpt
 * of it (non-printable bytes replaced). Returns k8s_status_rc(http_code). */
int k8s_status_from_response(struct k8s_status *st, long http_code, const char *body, size_t len);

/* Records a local failure (no HTTP answer): code 0, empty reason, message formatted from fmt. Returns rc. */
int k8s_status_local(struct k8s_status *st, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a Kubernetes Status JSON object (a watch ERROR event's object, or a response body) into st.
 * MGO_EPARSE when obj is not a Status. obj is a json_t * (declared void * to keep jansson out of this
 * header). */
int k8s_status_from_json(struct k8s_status *st, const void *obj);

#endif
