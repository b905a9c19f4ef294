/* Internal interface between the client and the watch stream (not for other modules). */
#ifndef K8S_CLIENT_INTERNAL_H
#define K8S_CLIENT_INTERNAL_H

#include "k8s_client.h"

/* Receives each chunk of a 2xx streaming body; a non-MGO_OK return stops the stream with that code. */
typedef int k8s__stream_data_fn(void *arg, const char *data, size_t len);
/* Called about once a second while the stream is open; non-zero stops it with MGO_ECANCELED. */
typedef int k8s__stream_tick_fn(void *arg);

/* Performs a streaming request with a total deadline of timeout_ms. A non-2xx answer is buffered (bounded)
 * and parsed into st like any other call. Returns MGO_OK when the server ended the stream normally. */
int k8s__stream(struct k8s_client *c, const struct k8s_request *req, long timeout_ms,
                k8s__stream_data_fn *on_data, k8s__stream_tick_fn *on_tick, void *arg, struct k8s_status *st);

#endif
