/* Transport for the Bolt client: non-blocking TCP with poll() deadlines, optional TLS through OpenSSL. */
#include "bolt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mgo_clock.h"
#include "mgo_err.h"

void bolt__io_init(struct bolt_io *io)
{
  io->fd = -1;
  io->ctx = NULL;
  io->ssl = NULL;
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline, char *err, size_t errsz)
{
  for (;;) {
    int64_t left = deadline - mgo_clock_mono_ms(NULL);
    if (left <= 0) {
      snprintf(err, errsz, "deadline exceeded waiting for the server");
      return MGO_ETIMEDOUT;
    }
    struct pollfd pfd = {.fd = fd, .events = events, .revents = 0};
    int n = poll(&pfd, 1, left > 60000 ? 60000 : (int) left);
    if (n > 0)
      return MGO_OK; /* errors and hang-ups surface in the following read or write */
    if (n < 0 && errno != EINTR) {
      snprintf(err, errsz, "poll: %s", strerror(errno));
      return MGO_EIO;
    }
  }
}

static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fd_out, char *err, size_t errsz)
{
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    snprintf(err, errsz, "socket: %s", strerror(errno));
    return MGO_ECONNECT;
  }
  int rc = MGO_OK;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      snprintf(err, errsz, "connect: %s", strerror(errno));
      rc = MGO_ECONNECT;
    } else {
      rc = wait_fd(fd, POLLOUT, deadline, err, errsz);
    }
  }
  int soerr = 0;
  socklen_t len = sizeof(soerr);
  if (rc == MGO_OK && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)) {
    snprintf(err, errsz, "connect: %s", strerror(soerr ? soerr : errno));
    rc = MGO_ECONNECT;
  }
  if (rc != MGO_OK) {
    close(fd);
    return rc;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  *fd_out = fd;
  return MGO_OK;
}

int bolt__io_connect(struct bolt_io *io, const char *host, uint16_t port, int64_t deadline, char *err,
                     size_t errsz)
{
  char service[8];
  snprintf(service, sizeof(service), "%u", (unsigned) port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(host, service, &hints, &res);
  if (gai != 0) {
    snprintf(err, errsz, "cannot resolve %s: %s", host, gai_strerror(gai));
    return MGO_ECONNECT;
  }
  int rc = MGO_ECONNECT;
  for (const struct addrinfo *ai = res; ai && rc != MGO_OK && rc != MGO_ETIMEDOUT; ai = ai->ai_next)
    rc = connect_one(ai, deadline, &io->fd, err, errsz);
  freeaddrinfo(res);
  if (rc == MGO_ETIMEDOUT)
    snprintf(err, errsz, "connect to %s:%u timed out", host, (unsigned) port);
  return rc;
}

static void tls_error(char *err, size_t errsz, const char *what, SSL *ssl)
{
  char detail[200] = "";
  unsigned long e = ERR_get_error();
  if (e)
    ERR_error_string_n(e, detail, sizeof(detail));
  long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK)
    snprintf(err, errsz, "%s: certificate verification failed: %s", what,
             X509_verify_cert_error_string(verify));
  else
    snprintf(err, errsz, "%s: %s", what, detail[0] ? detail : "TLS failure");
  ERR_clear_error();
}

/* Waits as SSL asks (WANT_READ / WANT_WRITE) or reports the failure. ret is the SSL_* call's result. */
static int tls_wait(struct bolt_io *io, int ret, int64_t deadline, const char *what, char *err, size_t errsz)
{
  int e = SSL_get_error(io->ssl, ret);
  if (e == SSL_ERROR_WANT_READ)
    return wait_fd(io->fd, POLLIN, deadline, err, errsz);
  if (e == SSL_ERROR_WANT_WRITE)
    return wait_fd(io->fd, POLLOUT, deadline, err, errsz);
  if (e == SSL_ERROR_ZERO_RETURN) {
    snprintf(err, errsz, "%s: the server closed the TLS session", what);
    return MGO_ECLOSED;
  }
  if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    snprintf(err, errsz, "%s: connection lost (%s)", what, errno ? strerror(errno) : "EOF");
    return errno ? MGO_EIO : MGO_ECLOSED;
  }
  tls_error(err, errsz, what, io->ssl);
  return MGO_ETLS;
}

static int tls_configure(struct bolt_io *io, enum bolt_tls mode, const char *ca_file, const char *name,
                         char *err, size_t errsz)
{
  io->ctx = SSL_CTX_new(TLS_client_method());
  if (!io->ctx || !SSL_CTX_set_min_proto_version(io->ctx, TLS1_2_VERSION)) {
    tls_error(err, errsz, "TLS setup", NULL);
    return MGO_ETLS;
  }
  if (mode == BOLT_TLS_VERIFY) {
    SSL_CTX_set_verify(io->ctx, SSL_VERIFY_PEER, NULL);
    int ok = ca_file ? SSL_CTX_load_verify_locations(io->ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(io->ctx);
    if (!ok) {
      tls_error(err, errsz, "loading the CA bundle", NULL);
      return MGO_ETLS;
    }
  } else {
    SSL_CTX_set_verify(io->ctx, SSL_VERIFY_NONE, NULL);
  }
  io->ssl = SSL_new(io->ctx);
  if (!io->ssl || !SSL_set_fd(io->ssl, io->fd)) {
    tls_error(err, errsz, "TLS setup", NULL);
    return MGO_ETLS;
  }
  unsigned char addr[16];
  int is_ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
  if (!is_ip)
    SSL_set_tlsext_host_name(io->ssl, name); /* SNI is for names only (RFC 6066) */
  if (mode != BOLT_TLS_VERIFY)
    return MGO_OK;
  int ok =
      is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(io->ssl), name) : SSL_set1_host(io->ssl, name);
  if (!ok) {
    tls_error(err, errsz, "setting the expected server name", NULL);
    return MGO_ETLS;
  }
  return MGO_OK;
}

int bolt__io_start_tls(struct bolt_io *io, enum bolt_tls mode, const char *ca_file, const char *server_name,
                       int64_t deadline, char *err, size_t errsz)
{
  int rc = tls_configure(io, mode, ca_file, server_name, err, errsz);
  while (rc == MGO_OK) {
    ERR_clear_error();
    int ret = SSL_connect(io->ssl);
    if (ret == 1)
      return MGO_OK;
    rc = tls_wait(io, ret, deadline, "TLS handshake", err, errsz);
    if (rc == MGO_ECLOSED || rc == MGO_EIO)
      rc = MGO_ETLS;
  }
  return rc;
}

/* SSL_write() writes to the socket with write(), which raises SIGPIPE on a closed peer. Block it in this
 * thread for the call and swallow a pending one, so the library never kills its host process. */
static int tls_write_nosigpipe(SSL *ssl, const void *p, int n)
{
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending_before;
  sigpending(&pending_before);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int ret = SSL_write(ssl, p, n);
  sigset_t pending;
  sigpending(&pending);
  if (sigismember(&pending, SIGPIPE) && !sigismember(&pending_before, SIGPIPE)) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return ret;
}

static int send_some(struct bolt_io *io, const uint8_t *p, size_t n, size_t *sent, int64_t deadline,
                     char *err, size_t errsz)
{
  *sent = 0;
  if (io->ssl) {
    ERR_clear_error();
    int ret = tls_write_nosigpipe(io->ssl, p, n > 1 << 30 ? 1 << 30 : (int) n);
    if (ret > 0) {
      *sent = (size_t) ret;
      return MGO_OK;
    }
    return tls_wait(io, ret, deadline, "TLS write", err, errsz);
  }
  ssize_t w = send(io->fd, p, n, MSG_NOSIGNAL);
  if (w >= 0) {
    *sent = (size_t) w;
    return MGO_OK;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return wait_fd(io->fd, POLLOUT, deadline, err, errsz);
  if (errno == EINTR)
    return MGO_OK;
  snprintf(err, errsz, "send: %s", strerror(errno));
  return errno == EPIPE || errno == ECONNRESET ? MGO_ECLOSED : MGO_EIO;
}

int bolt__io_send(struct bolt_io *io, const void *p, size_t n, int64_t deadline, char *err, size_t errsz)
{
  const uint8_t *b = p;
  while (n > 0) {
    size_t sent = 0;
    int rc = send_some(io, b, n, &sent, deadline, err, errsz);
    if (rc != MGO_OK)
      return rc;
    b += sent;
    n -= sent;
  }
  return MGO_OK;
}

static int recv_plain(struct bolt_io *io, void *p, size_t cap, size_t *got, int64_t deadline, char *err,
                      size_t errsz)
{
  for (;;) {
    ssize_t r = recv(io->fd, p, cap, 0);
    if (r > 0) {
      *got = (size_t) r;
      return MGO_OK;
    }
    if (r == 0) {
      snprintf(err, errsz, "the server closed the connection");
      return MGO_ECLOSED;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      snprintf(err, errsz, "recv: %s", strerror(errno));
      return errno == ECONNRESET ? MGO_ECLOSED : MGO_EIO;
    }
    int rc = wait_fd(io->fd, POLLIN, deadline, err, errsz);
    if (rc != MGO_OK)
      return rc;
  }
}

int bolt__io_recv(struct bolt_io *io, void *p, size_t cap, size_t *got, int64_t deadline, char *err,
                  size_t errsz)
{
  *got = 0;
  if (!io->ssl)
    return recv_plain(io, p, cap, got, deadline, err, errsz);
  for (;;) {
    ERR_clear_error();
    int ret = SSL_read(io->ssl, p, cap > 1 << 30 ? 1 << 30 : (int) cap);
    if (ret > 0) {
      *got = (size_t) ret;
      return MGO_OK;
    }
    int rc = tls_wait(io, ret, deadline, "TLS read", err, errsz);
    if (rc != MGO_OK)
      return rc;
  }
}

void bolt__io_close(struct bolt_io *io)
{
  SSL_free(io->ssl);
  io->ssl = NULL;
  SSL_CTX_free(io->ctx);
  io->ctx = NULL;
  if (io->fd >= 0)
    close(io->fd);
  io->fd = -1;
}
