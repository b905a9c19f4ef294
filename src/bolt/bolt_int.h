/* Internals shared by the files of the Bolt library; not part of the public API. */
#ifndef MGO_BOLT_INT_H
#define MGO_BOLT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "bolt.h"

/* One transport: a TCP socket, optionally wrapped in TLS. All waits are bounded by an absolute deadline on
 * the system monotonic clock (milliseconds, mgo_clock_mono_ms(NULL)). Errors fill err[errsz] and return
 * MGO_*. */
struct bolt_io {
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
};

void bolt__io_init(struct bolt_io *io);
int bolt__io_connect(struct bolt_io *io, const char *host, uint16_t port, int64_t deadline, char *err,
                     size_t errsz);
int bolt__io_start_tls(struct bolt_io *io, enum bolt_tls mode, const char *ca_file, const char *server_name,
                       int64_t deadline, char *err, size_t errsz);
int bolt__io_send(struct bolt_io *io, const void *p, size_t n, int64_t deadline, char *err, size_t errsz);
/* Reads at least one byte; MGO_ECLOSED on orderly EOF. */
int bolt__io_recv(struct bolt_io *io, void *p, size_t cap, size_t *got, int64_t deadline, char *err,
                  size_t errsz);
void bolt__io_close(struct bolt_io *io);

/* bolt_connect() over an already connected stream socket (plain, non-blocking), for tests and fuzzing;
 * takes ownership of fd. opts->host is only used in messages. */
int bolt__connect_fd(struct bolt_conn **conn, const struct bolt_opts *opts, int fd);

/* The 16 proposal bytes of the handshake for a set of BOLT_V_* flags (exposed for tests). */
void bolt__build_proposals(unsigned versions, uint8_t out[16]);

#endif
