/* A tiny HTTP/1.1 server on 127.0.0.1 running in a thread, for unit tests of the Kubernetes client.
 * It reads one request at a time (headers, and discards a Content-Length body), remembers the request line
 * and the Authorization header, and lets the test's serve callback write any answer, well-formed or not.
 * Ownership: struct fake_http is caller-allocated; fake_http_stop() joins the thread and closes the socket.
 * Thread-safety: counters are atomic; last_request/last_auth are written by the server thread only and are
 * meant to be read after the client call returned. */
#ifndef FAKE_HTTP_H
#define FAKE_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Answers one request on fd; returns false when the connection must be closed. */
typedef bool fake_http_serve_fn(void *arg, int fd, const char *request_line);

struct fake_http {
  int listen_fd;
  int port;
  atomic_int connections;
  atomic_int requests;
  atomic_bool stop;
  atomic_int conn_fd; /* the connection being served, -1 when none (stop() shuts it down) */
  pthread_t thread;
  char last_request[1024]; /* "GET /path?query HTTP/1.1" */
  char last_auth[256];     /* the Authorization header's value */
  char last_body[65536];   /* the request body (truncated to fit), NUL-terminated */
  fake_http_serve_fn *serve;
  void *arg;
};

void fake_http_start(struct fake_http *f, fake_http_serve_fn *serve, void *arg);
void fake_http_stop(struct fake_http *f);
/* Binds a listening loopback socket on a free port. */
int fake_http_listen(int *port);

void fake_http_send(int fd, const char *p, size_t n);
void fake_http_respond(int fd, int code, const char *body, size_t len);
/* Starts a chunked 200 answer; then fake_http_chunk() per chunk and fake_http_end_chunks(). */
void fake_http_chunked_head(int fd);
void fake_http_chunk(int fd, const char *data);
void fake_http_end_chunks(int fd);
/* Blocks until the peer closes fd (true) or the server stops (false): a server that never answers. */
bool fake_http_wait_closed(struct fake_http *f, int fd);

#endif
