#include "fake_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void fake_http_send(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return;
    p += w;
    n -= (size_t) w;
  }
}

void fake_http_respond(int fd, int code, const char *body, size_t len)
{
  char head[256];
  int n =
      snprintf(head, sizeof(head),
               "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", code, len);
  fake_http_send(fd, head, (size_t) n);
  fake_http_send(fd, body, len);
}

void fake_http_chunked_head(int fd)
{
  static const char head[] =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  fake_http_send(fd, head, sizeof(head) - 1);
}

void fake_http_chunk(int fd, const char *data)
{
  char head[32];
  int n = snprintf(head, sizeof(head), "%zx\r\n", strlen(data));
  fake_http_send(fd, head, (size_t) n);
  fake_http_send(fd, data, strlen(data));
  fake_http_send(fd, "\r\n", 2);
}

void fake_http_end_chunks(int fd)
{
  fake_http_send(fd, "0\r\n\r\n", 5);
}

bool fake_http_wait_closed(struct fake_http *f, int fd)
{
  char buf[256];
  while (!atomic_load(&f->stop)) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) > 0 && recv(fd, buf, sizeof(buf), 0) <= 0)
      return true;
  }
  return false;
}

static void copy_header(const char *head, const char *name, char *dst, size_t dstsz)
{
  const char *h = strstr(head, name);
  if (!h)
    return;
  h += strlen(name);
  size_t n = strcspn(h, "\r");
  snprintf(dst, dstsz, "%.*s", (int) n, h);
}

/* Reads a Content-Length body (after the have bytes already received past the head, which start at rest). */
static bool read_body(struct fake_http *f, int fd, const char *head, const char *rest, size_t have)
{
  const char *cl = strstr(head, "Content-Length: ");
  size_t body = cl ? (size_t) strtoul(cl + 16, NULL, 10) : 0;
  size_t keep = sizeof(f->last_body) - 1;
  size_t stored = have < keep ? have : keep;
  memcpy(f->last_body, rest, stored);
  while (have < body) {
    char buf[4096];
    size_t want = body - have < sizeof(buf) ? body - have : sizeof(buf);
    ssize_t n = recv(fd, buf, want, 0);
    if (n <= 0)
      return false;
    size_t take = stored + (size_t) n <= keep ? (size_t) n : keep - stored;
    memcpy(f->last_body + stored, buf, take);
    stored += take;
    have += (size_t) n;
  }
  f->last_body[stored] = '\0';
  return true;
}

/* Reads one request's head. Returns false on EOF or an oversized head. */
static bool read_request(struct fake_http *f, int fd)
{
  char buf[16384];
  size_t len = 0;
  while (len < sizeof(buf) - 1) {
    ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
    if (r <= 0)
      return false;
    len += (size_t) r;
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
      continue;
    size_t line = strcspn(buf, "\r");
    snprintf(f->last_request, sizeof(f->last_request), "%.*s", (int) line, buf);
    copy_header(buf, "Authorization: ", f->last_auth, sizeof(f->last_auth));
    return read_body(f, fd, buf, end + 4, len - (size_t) (end + 4 - buf));
  }
  return false;
}

static void *fake_main(void *arg)
{
  struct fake_http *f = arg;
  while (!atomic_load(&f->stop)) {
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0)
      break;
    atomic_fetch_add(&f->connections, 1);
    atomic_store(&f->conn_fd, fd);
    while (!atomic_load(&f->stop) && read_request(f, fd)) {
      atomic_fetch_add(&f->requests, 1);
      if (!f->serve(f->arg, fd, f->last_request))
        break;
    }
    atomic_store(&f->conn_fd, -1);
    close(fd);
  }
  return NULL;
}

int fake_http_listen(int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof(a);
  if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(fd, 8) != 0) {
    perror("fake_http_listen");
    abort();
  }
  getsockname(fd, (struct sockaddr *) &a, &alen);
  *port = ntohs(a.sin_port);
  return fd;
}

void fake_http_start(struct fake_http *f, fake_http_serve_fn *serve, void *arg)
{
  memset(f, 0, sizeof(*f));
  f->serve = serve;
  f->arg = arg;
  atomic_store(&f->conn_fd, -1);
  f->listen_fd = fake_http_listen(&f->port);
  pthread_create(&f->thread, NULL, fake_main, f);
}

void fake_http_stop(struct fake_http *f)
{
  atomic_store(&f->stop, true);
  shutdown(f->listen_fd, SHUT_RDWR);
  int conn = atomic_load(&f->conn_fd);
  if (conn >= 0)
    shutdown(conn, SHUT_RDWR); /* a client that failed its test may still hold a keep-alive connection */
  pthread_join(f->thread, NULL);
  close(f->listen_fd);
}
