/* The sidecar's HTTP server: agent_api_handle() behind libmicrohttpd. Request bodies are collected up to
 * AGENT_API_BODY_MAX bytes (413 beyond, without reading further when Content-Length says so) and wiped
 * (OPENSSL_cleanse) once handled, since they carry S3 credentials.
 *
 * Ownership: agent_http_start() returns a server stopped and freed by agent_http_stop(); api is borrowed and
 * must outlive it. Thread-safety: requests are handled on libmicrohttpd's internal thread. */
#ifndef MGO_AGENT_HTTP_H
#define MGO_AGENT_HTTP_H

#include <stddef.h>

#include "agent_api.h"

#define AGENT_HTTP_DEFAULT_PORT 9787

struct agent_http;

/* Splits "ADDR:PORT", "[IPv6]:PORT", "ADDR" (port AGENT_HTTP_DEFAULT_PORT) or ":PORT" (address 0.0.0.0) into
 * a numeric address and a port (0-65535; 0 picks a free one). MGO_EINVAL for anything else. */
int agent_http_parse_listen(const char *listen, char *addr, size_t addrsz, int *port);

/* Listens on listen (see above); *port receives the bound port. err gets a message on failure. */
int agent_http_start(struct agent_http **out, const char *listen, struct agent_api *api, int *port, char *err,
                     size_t errsz);
void agent_http_stop(struct agent_http *h);

#endif
