/* libFuzzer target: the whole client state machine against a hostile server. The input is everything the
 * server says (handshake reply, then chunked messages), delivered through a socketpair and followed by EOF;
 * the client connects, runs queries in batches, uses a transaction, resets and closes. Any outcome is fine
 * except a crash, a leak, a hang or a state outside the documented ones. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bolt.h"
#include "bolt_int.h"
#include "mgo_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct bolt_conn *c, const char *query, int discard_early)
{
  struct bolt_result *r = NULL;
  if (bolt_run(c, query, NULL, &r) != MGO_OK)
    return;
  const struct bolt_value *row = NULL;
  int n = 0;
  while (bolt_result_next(r, &row) == 1) {
    if (bolt_value_type(row) != BOLT_LIST)
      abort();
    if (discard_early && ++n == 2) {
      bolt_result_discard(r);
      break;
    }
  }
  bolt_result_summary(r);
}

static void exercise(struct bolt_conn *c)
{
  drain(c, "RETURN 1", 0);
  if (bolt_begin(c) == MGO_OK) {
    drain(c, "UNWIND range(1, 5) AS i RETURN i", 1);
    bolt_commit(c);
  }
  bolt_reset(c);
  drain(c, "SHOW REPLICATION ROLE", 0);
  if (bolt_state(c) > BOLT_STATE_DEFUNCT)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 100000)
    return 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return 0;
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  size_t off = 1; /* the first byte picks the client's options */
  while (off < size) {
    ssize_t w = write(sv[1], data + off, size - off);
    if (w <= 0)
      break;
    off += (size_t) w;
  }
  shutdown(sv[1], SHUT_WR);
  struct bolt_opts o;
  bolt_opts_default(&o);
  o.host = "fuzz";
  o.versions = data[0] & 1 ? BOLT_V_ALL : BOLT_V4_4 | BOLT_V4_1;
  o.auth = data[0] & 2 ? BOLT_AUTH_BASIC : BOLT_AUTH_NONE;
  o.user = "u";
  o.password = "p";
  o.fetch_size = data[0] & 4 ? 2 : -1;
  o.max_message = 4096;
  o.connect_timeout_ms = 200;
  o.query_timeout_ms = 200;
  struct bolt_conn *c = NULL;
  if (bolt__connect_fd(&c, &o, sv[0]) == MGO_OK)
    exercise(c);
  bolt_close(c);
  close(sv[1]);
  return 0;
}
