/* The Bolt connection: handshake, login, requests and the client-side state machine (bolt.md §1, §5, §6). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bolt_chunk.h"
#include "bolt_int.h"
#include "mgo_buf.h"
#include "mgo_clock.h"
#include "mgo_err.h"
#include "packstream.h"

enum {
  MSG_HELLO = 0x01,
  MSG_GOODBYE = 0x02,
  MSG_RESET = 0x0F,
  MSG_RUN = 0x10,
  MSG_BEGIN = 0x11,
  MSG_COMMIT = 0x12,
  MSG_ROLLBACK = 0x13,
  MSG_DISCARD = 0x2F,
  MSG_PULL = 0x3F,
  MSG_LOGON = 0x6A,
  MSG_SUCCESS = 0x70,
  MSG_RECORD = 0x71,
  MSG_IGNORED = 0x7E,
  MSG_FAILURE = 0x7F
};

#define DEFAULT_USER_AGENT "memgraph-operator/0.1"
#define DEFAULT_MAX_MESSAGE ((size_t) 16 * 1024 * 1024)
#define MAX_REQUEST ((size_t) 64 * 1024 * 1024)

struct bolt_result {
  struct bolt_conn *conn;
  struct bolt_value *run_meta;
  struct bolt_value *summary;
  struct bolt_value *row;
  int open;       /* RUN succeeded and the summary has not been read yet */
  int batch_open; /* a PULL/DISCARD was sent and its summary is still to come */
  int has_more;   /* the server holds more rows after the current batch */
  size_t pulls;   /* PULL requests sent for this result */
};

struct bolt_conn {
  struct bolt_io io;
  struct bolt_opts opts; /* strings below are owned copies */
  enum bolt_state state;
  unsigned version;
  enum ps_schema schema;
  struct ps_limits limits;
  struct bolt_error err;
  struct bolt_dechunker dechunker;
  uint8_t in[16384];
  size_t in_off, in_len;
  struct mgo_buf out;     /* framed requests waiting to be sent */
  struct mgo_buf scratch; /* one request being encoded */
  unsigned pending;       /* requests sent whose summary has not been read */
  struct bolt_value *server_info;
  struct bolt_result result;
};

/* ------------------------------------------------------------------------------------------------------ */
/* Errors and state                                                                                       */

static void set_local_error(struct bolt_conn *c, int rc, const char *detail)
{
  memset(&c->err, 0, sizeof(c->err));
  c->err.rc = rc;
  c->err.klass = BOLT_ERR_LOCAL;
  mgo_strlcpy(c->err.detail, detail, sizeof(c->err.detail));
}

__attribute__((format(printf, 3, 4))) static int local_error(struct bolt_conn *c, int rc, const char *fmt,
                                                             ...)
{
  char detail[sizeof(c->err.detail)];
  va_list ap;
  va_start(ap, fmt);
  /* The analyzer misses va_start just above (it flags mgo_log.c the same way). */
  vsnprintf(detail, sizeof(detail), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
  va_end(ap);
  set_local_error(c, rc, detail);
  return rc;
}

/* A transport error, timeout or protocol violation: the stream position is lost for good. */
__attribute__((format(printf, 3, 4))) static int defunct(struct bolt_conn *c, int rc, const char *fmt, ...)
{
  char detail[sizeof(c->err.detail)];
  va_list ap;
  va_start(ap, fmt);
  /* The analyzer misses va_start just above (it flags mgo_log.c the same way). */
  vsnprintf(detail, sizeof(detail), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
  va_end(ap);
  set_local_error(c, rc, detail);
  c->state = BOLT_STATE_DEFUNCT;
  c->result.open = 0;
  bolt__io_close(&c->io);
  return rc;
}

static int io_failed(struct bolt_conn *c, int rc, const char *what, const char *detail)
{
  return defunct(c, rc, "%s: %s", what, detail);
}

enum bolt_error_class bolt_classify_code(const char *code)
{
  const char *dot = code ? strchr(code, '.') : NULL;
  if (!dot)
    return BOLT_ERR_DATABASE;
  dot++;
  if (strncmp(dot, "ClientError.", 12) == 0)
    return BOLT_ERR_CLIENT;
  if (strncmp(dot, "TransientError.", 15) == 0)
    return BOLT_ERR_TRANSIENT;
  return BOLT_ERR_DATABASE;
}

/* Copies a FAILURE's code and message into c->err. */
static int server_failure(struct bolt_conn *c, const struct bolt_value *meta, const char *request)
{
  const char *code = "", *message = "";
  memset(&c->err, 0, sizeof(c->err));
  bolt_map_get_string(meta, "code", &code);
  bolt_map_get_string(meta, "message", &message);
  c->err.rc = MGO_EFAILURE;
  c->err.klass = bolt_classify_code(code);
  mgo_strlcpy(c->err.code, code, sizeof(c->err.code));
  mgo_strlcpy(c->err.message, message, sizeof(c->err.message));
  snprintf(c->err.detail, sizeof(c->err.detail), "the server answered %s with FAILURE", request);
  return MGO_EFAILURE;
}

static int state_error(struct bolt_conn *c, const char *call)
{
  return local_error(c, MGO_ESTATE, "%s not allowed in state %s", call, bolt_state_name(c->state));
}

/* ------------------------------------------------------------------------------------------------------ */
/* Requests                                                                                               */

/* Frames the message in c->scratch and queues it. */
static int queue_scratch(struct bolt_conn *c)
{
  int rc = bolt_chunk_write(&c->out, (const uint8_t *) c->scratch.p, c->scratch.len);
  mgo_buf_reset(&c->scratch);
  if (rc != MGO_OK)
    return local_error(c, rc, "request too large to queue");
  c->pending++;
  return MGO_OK;
}

static int queue_empty(struct bolt_conn *c, uint8_t tag)
{
  int rc = ps_write_struct_header(&c->scratch, tag, 0);
  return rc == MGO_OK ? queue_scratch(c) : local_error(c, rc, "encoding failed");
}

/* PULL or DISCARD {n} (qid -1 = the last result, the default). */
static int queue_stream(struct bolt_conn *c, uint8_t tag, long n)
{
  int rc = ps_write_struct_header(&c->scratch, tag, 1);
  if (rc == MGO_OK)
    rc = ps_write_map_header(&c->scratch, 1);
  if (rc == MGO_OK)
    rc = ps_write_string(&c->scratch, "n", 1);
  if (rc == MGO_OK)
    rc = ps_write_int(&c->scratch, n);
  return rc == MGO_OK ? queue_scratch(c) : local_error(c, rc, "encoding failed");
}

static int flush(struct bolt_conn *c, int64_t deadline)
{
  char why[200];
  int rc = bolt__io_send(&c->io, c->out.p, c->out.len, deadline, why, sizeof(why));
  mgo_buf_reset(&c->out);
  if (rc != MGO_OK)
    return io_failed(c, rc, "sending", why);
  return MGO_OK;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Responses                                                                                              */

static int fill_input(struct bolt_conn *c, int64_t deadline, const char *waiting_for)
{
  char why[200];
  size_t got = 0;
  int rc = bolt__io_recv(&c->io, c->in, sizeof(c->in), &got, deadline, why, sizeof(why));
  if (rc == MGO_ETIMEDOUT)
    return defunct(c, rc, "deadline exceeded waiting for the answer to %s", waiting_for);
  if (rc != MGO_OK)
    return io_failed(c, rc, waiting_for, why);
  c->in_off = 0;
  c->in_len = got;
  return MGO_OK;
}

/* Checks the shape of a response message: SUCCESS/FAILURE {map}, RECORD [list], IGNORED. */
static int check_response(const struct bolt_value *msg)
{
  uint8_t tag = bolt_struct_tag(msg);
  size_t n = bolt_value_len(msg);
  const struct bolt_value *f0 = bolt_struct_field(msg, 0);
  if (tag == MSG_SUCCESS || tag == MSG_FAILURE)
    return n == 1 && bolt_value_type(f0) == BOLT_MAP;
  if (tag == MSG_RECORD)
    return n == 1 && bolt_value_type(f0) == BOLT_LIST;
  return tag == MSG_IGNORED && n == 0;
}

/* Reads the next response message (a new tree for the caller). */
static int read_message(struct bolt_conn *c, int64_t deadline, const char *waiting_for,
                        struct bolt_value **msg)
{
  int rc = MGO_EAGAIN;
  while (rc == MGO_EAGAIN) {
    if (c->in_off == c->in_len) {
      rc = fill_input(c, deadline, waiting_for);
      if (rc != MGO_OK)
        return rc;
    }
    size_t used = 0;
    rc = bolt_dechunker_feed(&c->dechunker, c->in + c->in_off, c->in_len - c->in_off, &used);
    c->in_off += used;
  }
  if (rc != MGO_OK)
    return defunct(c, rc, "reading the answer to %s: %s", waiting_for, mgo_strerror(rc));
  size_t len = 0;
  const uint8_t *p = bolt_dechunker_message(&c->dechunker, &len);
  char why[160];
  rc = ps_decode_message(p, len, c->schema, &c->limits, msg, why, sizeof(why));
  if (rc != MGO_OK)
    return defunct(c, rc == MGO_ETOOBIG ? rc : MGO_EPROTO, "malformed answer to %s: %s", waiting_for, why);
  if (!check_response(*msg)) {
    uint8_t tag = bolt_struct_tag(*msg);
    bolt_value_free(*msg);
    *msg = NULL;
    return defunct(c, MGO_EPROTO, "unexpected message 0x%02X answering %s", tag, waiting_for);
  }
  if (c->pending == 0) { /* every request gets one summary; anything beyond that was never asked for */
    bolt_value_free(*msg);
    *msg = NULL;
    return defunct(c, MGO_EPROTO, "unsolicited message while waiting for %s", waiting_for);
  }
  return MGO_OK;
}

/* Moves field 0 out of a message and frees the rest. */
static struct bolt_value *take_field0(struct bolt_value *msg)
{
  struct bolt_value *v = calloc(1, sizeof(*v));
  if (v) {
    *v = msg->u.structure.fields[0];
    memset(&msg->u.structure.fields[0], 0, sizeof(*v));
  }
  bolt_value_free(msg);
  return v;
}

/* Reads one summary. SUCCESS → MGO_OK (*meta set if meta != NULL), FAILURE → MGO_EFAILURE with c->err
 * filled, IGNORED → MGO_ECANCELED. RECORD here is a protocol violation. */
static int read_summary(struct bolt_conn *c, int64_t deadline, const char *request, struct bolt_value **meta)
{
  struct bolt_value *msg = NULL;
  int rc = read_message(c, deadline, request, &msg);
  if (rc != MGO_OK)
    return rc;
  uint8_t tag = bolt_struct_tag(msg);
  if (tag == MSG_RECORD) {
    bolt_value_free(msg);
    return defunct(c, MGO_EPROTO, "unexpected RECORD answering %s", request);
  }
  c->pending--;
  if (tag == MSG_IGNORED) {
    bolt_value_free(msg);
    return MGO_ECANCELED;
  }
  if (tag == MSG_FAILURE) {
    rc = server_failure(c, bolt_struct_field(msg, 0), request);
    bolt_value_free(msg);
    return rc;
  }
  if (meta)
    *meta = take_field0(msg);
  else
    bolt_value_free(msg);
  return MGO_OK;
}

/* Sends RESET and reads every outstanding answer (records dropped, pipelined requests IGNORED), ending with
 * the RESET's SUCCESS. Keeps c->err as it was unless RESET itself fails. */
static int reset_and_drain(struct bolt_conn *c, int64_t deadline)
{
  struct bolt_error saved = c->err;
  int rc = queue_empty(c, MSG_RESET);
  if (rc == MGO_OK)
    rc = flush(c, deadline);
  while (rc == MGO_OK && c->pending > 0) {
    struct bolt_value *msg = NULL;
    rc = read_message(c, deadline, "RESET", &msg);
    if (rc != MGO_OK)
      break;
    uint8_t tag = bolt_struct_tag(msg);
    bolt_value_free(msg);
    if (tag == MSG_RECORD)
      continue;
    c->pending--;
    if (c->pending == 0 && tag != MSG_SUCCESS)
      rc = defunct(c, MGO_EPROTO, "RESET was not answered with SUCCESS");
  }
  if (rc != MGO_OK)
    return rc;
  c->err = saved;
  c->state = BOLT_STATE_READY;
  c->result.open = 0;
  c->result.batch_open = 0;
  return MGO_OK;
}

/* After a FAILURE (c->err filled): drain the IGNORED answers, RESET, and return the failure's code. */
static int recover(struct bolt_conn *c, int rc_failure, int64_t deadline)
{
  c->state = BOLT_STATE_FAILED;
  c->result.open = 0;
  int rc = reset_and_drain(c, deadline);
  return rc == MGO_OK ? rc_failure : rc;
}

/* Handles a summary result for a simple request (BEGIN, COMMIT …): on success moves to next_state. */
static int simple_request(struct bolt_conn *c, uint8_t tag, const char *name, enum bolt_state next_state)
{
  int64_t deadline = mgo_clock_mono_ms(NULL) + c->opts.query_timeout_ms;
  int rc = MGO_OK;
  if (tag == MSG_BEGIN) {
    rc = ps_write_struct_header(&c->scratch, tag, 1);
    if (rc == MGO_OK)
      rc = ps_write_map_header(&c->scratch, 0);
    rc = rc == MGO_OK ? queue_scratch(c) : local_error(c, rc, "encoding failed");
  } else {
    rc = queue_empty(c, tag);
  }
  if (rc == MGO_OK)
    rc = flush(c, deadline);
  if (rc == MGO_OK)
    rc = read_summary(c, deadline, name, NULL);
  if (rc == MGO_EFAILURE)
    return recover(c, rc, deadline);
  if (rc == MGO_ECANCELED)
    return defunct(c, MGO_EPROTO, "%s was IGNORED outside a failure", name);
  if (rc == MGO_OK)
    c->state = next_state;
  return rc;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Handshake and login                                                                                    */

static const struct {
  unsigned flag;
  uint8_t major, minor;
} known_versions[] = {
    {BOLT_V5_2, 5, 2}, {BOLT_V4_4, 4, 4}, {BOLT_V4_3, 4, 3}, {BOLT_V4_2, 4, 2}, {BOLT_V4_1, 4, 1},
};

static void put_slot(uint8_t *slot, uint8_t range, uint8_t minor, uint8_t major)
{
  slot[0] = 0;
  slot[1] = range;
  slot[2] = minor;
  slot[3] = major;
}

/* Fills the 16 proposal bytes: 5.2; then 4.4..4.2 as one range (servers from 4.3 on understand ranges);
 * then each remaining 4.x exactly, since servers before 4.3 do not (bolt.md §1.2). */
void bolt__build_proposals(unsigned versions, uint8_t out[16])
{
  size_t slot = 0;
  memset(out, 0, 16);
  if (versions & BOLT_V5_2)
    put_slot(out + 4 * slot++, 0, 2, 5);
  unsigned high = versions & BOLT_V4_4 ? 4 : versions & BOLT_V4_3 ? 3 : versions & BOLT_V4_2 ? 2 : 0;
  unsigned low = high;
  while (low > 2 && (versions & (BOLT_V4_1 << (low - 2))))
    low--;
  if (high)
    put_slot(out + 4 * slot++, (uint8_t) (high - low), (uint8_t) high, 4);
  for (unsigned minor = low ? low - 1 : 4; minor >= 1 && slot < 4; minor--) {
    if (versions & (BOLT_V4_1 << (minor - 1)))
      put_slot(out + 4 * slot++, 0, (uint8_t) minor, 4);
  }
}

static int read_exact(struct bolt_conn *c, uint8_t *dst, size_t n, int64_t deadline)
{
  size_t have = 0;
  while (have < n) {
    if (c->in_off == c->in_len) {
      char why[200];
      size_t got = 0;
      int rc = bolt__io_recv(&c->io, c->in, sizeof(c->in), &got, deadline, why, sizeof(why));
      if (rc == MGO_ECLOSED)
        return defunct(c, MGO_ENOVERSION,
                       "the server closed the connection during the handshake "
                       "(no common Bolt version)");
      if (rc != MGO_OK)
        return io_failed(c, rc, "handshake", why);
      c->in_off = 0;
      c->in_len = got;
    }
    size_t take = c->in_len - c->in_off < n - have ? c->in_len - c->in_off : n - have;
    memcpy(dst + have, c->in + c->in_off, take);
    have += take;
    c->in_off += take;
  }
  return MGO_OK;
}

static int handshake(struct bolt_conn *c, int64_t deadline)
{
  uint8_t hello[20] = {0x60, 0x60, 0xB0, 0x17};
  bolt__build_proposals(c->opts.versions, hello + 4);
  char why[200];
  int rc = bolt__io_send(&c->io, hello, sizeof(hello), deadline, why, sizeof(why));
  if (rc != MGO_OK)
    return io_failed(c, rc, "handshake", why);
  uint8_t reply[4] = {0};
  rc = read_exact(c, reply, 4, deadline);
  if (rc != MGO_OK)
    return rc;
  if (memcmp(reply, "HTTP", 4) == 0)
    return defunct(c, MGO_ENOVERSION, "the peer is an HTTP server, not a Bolt server");
  if (reply[0] == 0x15 && reply[1] == 0x03) /* a TLS alert record */
    return defunct(c, MGO_ENOVERSION, "the peer answered with a TLS alert: it expects TLS");
  for (size_t i = 0; i < sizeof(known_versions) / sizeof(known_versions[0]); i++) {
    if (reply[0] == 0 && reply[1] == 0 && reply[2] == known_versions[i].minor &&
        reply[3] == known_versions[i].major && (c->opts.versions & known_versions[i].flag)) {
      c->version = (unsigned) known_versions[i].major << 8 | known_versions[i].minor;
      c->schema = known_versions[i].major == 5 ? PS_SCHEMA_BOLT5 : PS_SCHEMA_BOLT4;
      return MGO_OK;
    }
  }
  if (memcmp(reply, "\0\0\0\0", 4) == 0)
    return defunct(c, MGO_ENOVERSION, "the server supports none of the offered Bolt versions");
  return defunct(c, MGO_ENOVERSION, "the server chose an unoffered version %02X %02X %02X %02X", reply[0],
                 reply[1], reply[2], reply[3]);
}

static int write_kv(struct mgo_buf *b, const char *key, const char *val)
{
  int rc = ps_write_string(b, key, strlen(key));
  return rc == MGO_OK ? ps_write_string(b, val, strlen(val)) : rc;
}

/* The auth entries (scheme, principal, credentials): 1 or 3 map entries. */
static size_t auth_entries(const struct bolt_conn *c)
{
  return c->opts.auth == BOLT_AUTH_BASIC ? 3 : 1;
}

static int write_auth(struct bolt_conn *c)
{
  if (c->opts.auth != BOLT_AUTH_BASIC)
    return write_kv(&c->scratch, "scheme", "none");
  int rc = write_kv(&c->scratch, "scheme", "basic");
  if (rc == MGO_OK)
    rc = write_kv(&c->scratch, "principal", c->opts.user ? c->opts.user : "");
  if (rc == MGO_OK)
    rc = write_kv(&c->scratch, "credentials", c->opts.password ? c->opts.password : "");
  return rc;
}

/* 4.x: HELLO carries the auth. 5.x: HELLO {user_agent}, then LOGON {auth} (bolt.md §8). */
static int queue_hello(struct bolt_conn *c)
{
  int with_auth = c->version < 0x0500;
  int rc = ps_write_struct_header(&c->scratch, MSG_HELLO, 1);
  if (rc == MGO_OK)
    rc = ps_write_map_header(&c->scratch, 1 + (with_auth ? auth_entries(c) : 0));
  if (rc == MGO_OK)
    rc = write_kv(&c->scratch, "user_agent", c->opts.user_agent);
  if (rc == MGO_OK && with_auth)
    rc = write_auth(c);
  return rc == MGO_OK ? queue_scratch(c) : local_error(c, rc, "encoding HELLO failed");
}

static int queue_logon(struct bolt_conn *c)
{
  int rc = ps_write_struct_header(&c->scratch, MSG_LOGON, 1);
  if (rc == MGO_OK)
    rc = ps_write_map_header(&c->scratch, auth_entries(c));
  if (rc == MGO_OK)
    rc = write_auth(c);
  return rc == MGO_OK ? queue_scratch(c) : local_error(c, rc, "encoding LOGON failed");
}

/* Sends one login message and reads its answer. A FAILURE here ends the connection (servers close it). */
static int login_step(struct bolt_conn *c, int is_logon, int64_t deadline)
{
  const char *name = is_logon ? "LOGON" : "HELLO";
  int rc = is_logon ? queue_logon(c) : queue_hello(c);
  if (rc == MGO_OK)
    rc = flush(c, deadline);
  struct bolt_value *meta = NULL;
  if (rc == MGO_OK)
    rc = read_summary(c, deadline, name, &meta);
  if (rc == MGO_EFAILURE) {
    int auth = strstr(c->err.code, ".Security.") != NULL;
    c->err.rc = auth ? MGO_EAUTH : MGO_EFAILURE;
    c->state = BOLT_STATE_DEFUNCT;
    bolt__io_close(&c->io);
    return c->err.rc;
  }
  if (rc == MGO_ECANCELED)
    return defunct(c, MGO_EPROTO, "%s was IGNORED", name);
  if (rc != MGO_OK)
    return rc;
  if (is_logon && bolt_value_len(meta) == 0) {
    bolt_value_free(meta); /* Neo4j answers LOGON with {}: keep HELLO's server and connection_id */
    return MGO_OK;
  }
  bolt_value_free(c->server_info);
  c->server_info = meta;
  return MGO_OK;
}

static int login(struct bolt_conn *c, int64_t deadline)
{
  int rc = login_step(c, 0, deadline);
  if (rc == MGO_OK && c->version >= 0x0501)
    rc = login_step(c, 1, deadline);
  return rc;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Connection lifecycle                                                                                   */

void bolt_opts_default(struct bolt_opts *opts)
{
  memset(opts, 0, sizeof(*opts));
  opts->port = 7687;
  opts->user_agent = DEFAULT_USER_AGENT;
  opts->versions = BOLT_V_ALL;
  opts->connect_timeout_ms = 5000;
  opts->query_timeout_ms = 30000;
  opts->fetch_size = -1;
  opts->max_message = DEFAULT_MAX_MESSAGE;
}

static int dup_opt(const char **dst, const char *src)
{
  *dst = NULL;
  if (!src)
    return MGO_OK;
  *dst = strdup(src);
  return *dst ? MGO_OK : MGO_ENOMEM;
}

static int copy_opts(struct bolt_conn *c, const struct bolt_opts *o)
{
  c->opts = *o;
  int rc = dup_opt(&c->opts.host, o->host);
  if (rc == MGO_OK)
    rc = dup_opt(&c->opts.user_agent, o->user_agent ? o->user_agent : DEFAULT_USER_AGENT);
  if (rc == MGO_OK)
    rc = dup_opt(&c->opts.user, o->user);
  if (rc == MGO_OK)
    rc = dup_opt(&c->opts.password, o->password);
  if (rc == MGO_OK)
    rc = dup_opt(&c->opts.tls_ca_file, o->tls_ca_file);
  if (rc == MGO_OK)
    rc = dup_opt(&c->opts.tls_server_name, o->tls_server_name ? o->tls_server_name : o->host);
  return rc == MGO_OK ? rc : local_error(c, rc, "out of memory");
}

static int check_opts(struct bolt_conn *c, const struct bolt_opts *o)
{
  if (!o->host || !o->host[0])
    return local_error(c, MGO_EINVAL, "no host given");
  if ((o->versions & BOLT_V_ALL) == 0 || (o->versions & ~BOLT_V_ALL))
    return local_error(c, MGO_EINVAL, "versions must be a non-empty set of BOLT_V_* flags");
  if (o->connect_timeout_ms <= 0 || o->query_timeout_ms <= 0)
    return local_error(c, MGO_EINVAL, "timeouts must be positive");
  if (o->fetch_size == 0 || o->fetch_size < -1)
    return local_error(c, MGO_EINVAL, "fetch_size must be -1 (all) or positive");
  if (o->max_message < 1024)
    return local_error(c, MGO_EINVAL, "max_message below 1024 bytes");
  if (o->auth == BOLT_AUTH_BASIC && !o->user)
    return local_error(c, MGO_EINVAL, "basic auth needs a user");
  return MGO_OK;
}

static int open_transport(struct bolt_conn *c, int64_t deadline)
{
  char why[256];
  int rc = bolt__io_connect(&c->io, c->opts.host, c->opts.port, deadline, why, sizeof(why));
  if (rc == MGO_OK && c->opts.tls != BOLT_TLS_OFF)
    rc = bolt__io_start_tls(&c->io, c->opts.tls, c->opts.tls_ca_file, c->opts.tls_server_name, deadline, why,
                            sizeof(why));
  if (rc != MGO_OK)
    return defunct(c, rc, "%s", why);
  return MGO_OK;
}

/* Allocates the connection and validates/copies the options; the transport is opened by the caller. */
static int conn_new(struct bolt_conn **conn, const struct bolt_opts *opts)
{
  struct bolt_conn *c = calloc(1, sizeof(*c));
  *conn = c;
  if (!c)
    return MGO_ENOMEM;
  bolt__io_init(&c->io);
  c->state = BOLT_STATE_DEFUNCT;
  c->result.conn = c;
  ps_limits_default(&c->limits);
  if (!opts)
    return local_error(c, MGO_EINVAL, "no options");
  int rc = check_opts(c, opts);
  if (rc == MGO_OK)
    rc = copy_opts(c, opts);
  if (rc != MGO_OK)
    return rc;
  bolt_dechunker_init(&c->dechunker, c->opts.max_message);
  mgo_buf_init(&c->out, MAX_REQUEST);
  mgo_buf_init(&c->scratch, MAX_REQUEST);
  c->state = BOLT_STATE_DISCONNECTED;
  return MGO_OK;
}

/* Handshake and login on an open transport. */
static int conn_start(struct bolt_conn *c, int64_t deadline)
{
  int rc = handshake(c, deadline);
  if (rc == MGO_OK)
    rc = login(c, deadline);
  if (rc == MGO_ETIMEDOUT)
    snprintf(c->err.detail, sizeof(c->err.detail), "connecting to %s:%u: deadline of %d ms exceeded",
             c->opts.host, (unsigned) c->opts.port, c->opts.connect_timeout_ms);
  if (rc == MGO_OK) {
    c->state = BOLT_STATE_READY;
    memset(&c->err, 0, sizeof(c->err));
  }
  return rc;
}

int bolt_connect(struct bolt_conn **conn, const struct bolt_opts *opts)
{
  int rc = conn_new(conn, opts);
  if (rc != MGO_OK)
    return rc;
  int64_t deadline = mgo_clock_mono_ms(NULL) + (*conn)->opts.connect_timeout_ms;
  rc = open_transport(*conn, deadline);
  return rc == MGO_OK ? conn_start(*conn, deadline) : rc;
}

int bolt__connect_fd(struct bolt_conn **conn, const struct bolt_opts *opts, int fd)
{
  int rc = conn_new(conn, opts);
  if (rc != MGO_OK) {
    close(fd);
    return rc;
  }
  (*conn)->io.fd = fd;
  return conn_start(*conn, mgo_clock_mono_ms(NULL) + (*conn)->opts.connect_timeout_ms);
}

static void result_clear(struct bolt_result *r)
{
  bolt_value_free(r->run_meta);
  bolt_value_free(r->summary);
  bolt_value_free(r->row);
  r->run_meta = r->summary = r->row = NULL;
  r->open = r->batch_open = r->has_more = 0;
  r->pulls = 0;
}

void bolt_close(struct bolt_conn *c)
{
  if (!c)
    return;
  if (c->state != BOLT_STATE_DEFUNCT && c->state != BOLT_STATE_DISCONNECTED && c->io.fd >= 0) {
    int timeout = c->opts.query_timeout_ms < 1000 ? c->opts.query_timeout_ms : 1000;
    if (queue_empty(c, MSG_GOODBYE) == MGO_OK)
      flush(c, mgo_clock_mono_ms(NULL) + timeout); /* best effort: the server closes without answering */
  }
  bolt__io_close(&c->io);
  result_clear(&c->result);
  bolt_value_free(c->server_info);
  bolt_dechunker_free(&c->dechunker);
  mgo_buf_free(&c->out);
  mgo_buf_free(&c->scratch);
  free((char *) c->opts.host);
  free((char *) c->opts.user_agent);
  free((char *) c->opts.user);
  free((char *) c->opts.password);
  free((char *) c->opts.tls_ca_file);
  free((char *) c->opts.tls_server_name);
  free(c);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Queries                                                                                                */

static int queue_run(struct bolt_conn *c, const char *query, const struct bolt_value *params)
{
  int rc = ps_write_struct_header(&c->scratch, MSG_RUN, 3);
  if (rc == MGO_OK)
    rc = ps_write_string(&c->scratch, query, strlen(query));
  if (rc == MGO_OK)
    rc = params ? ps_encode(&c->scratch, params) : ps_write_map_header(&c->scratch, 0);
  if (rc == MGO_OK)
    rc = ps_write_map_header(&c->scratch, 0);
  if (rc != MGO_OK) {
    mgo_buf_reset(&c->scratch);
    return local_error(c, rc, "cannot encode the query or its parameters: %s", mgo_strerror(rc));
  }
  return queue_scratch(c);
}

int bolt_run(struct bolt_conn *c, const char *query, const struct bolt_value *params,
             struct bolt_result **result)
{
  if (!c || !query || !result)
    return c ? local_error(c, MGO_EINVAL, "bolt_run: NULL argument") : MGO_EINVAL;
  if (c->state != BOLT_STATE_READY && c->state != BOLT_STATE_TX_READY)
    return state_error(c, "bolt_run");
  if (params && params->type != BOLT_MAP)
    return local_error(c, MGO_EINVAL, "parameters must be a map");
  result_clear(&c->result);
  int64_t deadline = mgo_clock_mono_ms(NULL) + c->opts.query_timeout_ms;
  int rc = queue_run(c, query, params);
  if (rc == MGO_OK)
    rc = queue_stream(c, MSG_PULL, c->opts.fetch_size);
  if (rc == MGO_OK)
    rc = flush(c, deadline);
  if (rc == MGO_OK)
    rc = read_summary(c, deadline, "RUN", &c->result.run_meta);
  if (rc == MGO_EFAILURE)
    return recover(c, rc, deadline);
  if (rc == MGO_ECANCELED)
    return defunct(c, MGO_EPROTO, "RUN was IGNORED outside a failure");
  if (rc != MGO_OK)
    return rc;
  c->result.open = 1;
  c->result.batch_open = 1;
  c->result.pulls = 1;
  c->state = c->state == BOLT_STATE_TX_READY ? BOLT_STATE_TX_STREAMING : BOLT_STATE_STREAMING;
  *result = &c->result;
  return MGO_OK;
}

static int result_usable(struct bolt_result *r, const char *call)
{
  struct bolt_conn *c = r->conn;
  if (c->state != BOLT_STATE_STREAMING && c->state != BOLT_STATE_TX_STREAMING && !r->summary)
    return state_error(c, call);
  return MGO_OK;
}

/* A batch ended with SUCCESS: either more rows wait on the server or the result is complete. */
static void batch_done(struct bolt_result *r, struct bolt_value *meta)
{
  bool more = false;
  bolt_value_as_bool(bolt_map_get(meta, "has_more"), &more);
  r->batch_open = 0;
  r->has_more = more;
  if (more) {
    bolt_value_free(meta);
    return;
  }
  r->summary = meta;
  r->open = 0;
  struct bolt_conn *c = r->conn;
  c->state = c->state == BOLT_STATE_TX_STREAMING ? BOLT_STATE_TX_READY : BOLT_STATE_READY;
}

/* Reads one message of the open batch: 1 = a row in r->row, 0 = the batch ended, < 0 = error. */
static int read_batch_message(struct bolt_result *r, int64_t deadline, const char *request)
{
  struct bolt_conn *c = r->conn;
  struct bolt_value *msg = NULL;
  int rc = read_message(c, deadline, request, &msg);
  if (rc != MGO_OK)
    return rc;
  uint8_t tag = bolt_struct_tag(msg);
  if (tag == MSG_RECORD) {
    r->row = take_field0(msg);
    return r->row ? 1 : local_error(c, MGO_ENOMEM, "out of memory");
  }
  c->pending--;
  if (tag == MSG_SUCCESS) {
    batch_done(r, take_field0(msg));
    return 0;
  }
  if (tag == MSG_IGNORED) {
    bolt_value_free(msg);
    return defunct(c, MGO_EPROTO, "%s was IGNORED outside a failure", request);
  }
  rc = server_failure(c, bolt_struct_field(msg, 0), request);
  bolt_value_free(msg);
  return recover(c, rc, deadline);
}

int bolt_result_next(struct bolt_result *r, const struct bolt_value **row)
{
  if (!r || !row)
    return MGO_EINVAL;
  int rc = result_usable(r, "bolt_result_next");
  if (rc != MGO_OK)
    return rc;
  struct bolt_conn *c = r->conn;
  bolt_value_free(r->row);
  r->row = NULL;
  *row = NULL;
  int64_t deadline = mgo_clock_mono_ms(NULL) + c->opts.query_timeout_ms;
  while (r->open) {
    if (!r->batch_open) {
      rc = queue_stream(c, MSG_PULL, c->opts.fetch_size);
      if (rc == MGO_OK)
        rc = flush(c, deadline);
      if (rc != MGO_OK)
        return rc;
      r->batch_open = 1;
      r->pulls++;
    }
    rc = read_batch_message(r, deadline, "PULL");
    if (rc == 1)
      *row = r->row;
    if (rc != 0)
      return rc;
  }
  return 0;
}

struct bolt_value *bolt_result_take_row(struct bolt_result *r)
{
  if (!r)
    return NULL;
  struct bolt_value *row = r->row;
  r->row = NULL;
  return row;
}

int bolt_result_discard(struct bolt_result *r)
{
  if (!r)
    return MGO_EINVAL;
  int rc = result_usable(r, "bolt_result_discard");
  if (rc != MGO_OK)
    return rc;
  struct bolt_conn *c = r->conn;
  bolt_value_free(r->row);
  r->row = NULL;
  int64_t deadline = mgo_clock_mono_ms(NULL) + c->opts.query_timeout_ms;
  while (r->open) {
    if (!r->batch_open) {
      rc = queue_stream(c, MSG_DISCARD, -1);
      if (rc == MGO_OK)
        rc = flush(c, deadline);
      if (rc != MGO_OK)
        return rc;
      r->batch_open = 1;
    }
    rc = read_batch_message(r, deadline, "DISCARD");
    bolt_value_free(r->row);
    r->row = NULL;
    if (rc < 0)
      return rc;
  }
  return MGO_OK;
}

const struct bolt_value *bolt_result_fields(const struct bolt_result *r)
{
  return r ? bolt_map_get(r->run_meta, "fields") : NULL;
}

long bolt_result_field_index(const struct bolt_result *r, const char *name)
{
  const struct bolt_value *fields = bolt_result_fields(r);
  for (size_t i = 0; name && i < bolt_value_len(fields); i++) {
    const char *s = NULL;
    if (bolt_value_as_string(bolt_list_at(fields, i), &s, NULL) == MGO_OK && strcmp(s, name) == 0)
      return (long) i;
  }
  return -1;
}

const struct bolt_value *bolt_result_run_metadata(const struct bolt_result *r)
{
  return r ? r->run_meta : NULL;
}

const struct bolt_value *bolt_result_summary(const struct bolt_result *r)
{
  return r ? r->summary : NULL;
}

size_t bolt_result_pulls(const struct bolt_result *r)
{
  return r ? r->pulls : 0;
}

const struct bolt_value *bolt_result_notifications(const struct bolt_result *r)
{
  const struct bolt_value *n = r ? bolt_map_get(r->summary, "notifications") : NULL;
  return bolt_value_type(n) == BOLT_LIST ? n : NULL;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Transactions and reset                                                                                 */

int bolt_begin(struct bolt_conn *c)
{
  if (!c)
    return MGO_EINVAL;
  if (c->state != BOLT_STATE_READY)
    return state_error(c, "bolt_begin");
  return simple_request(c, MSG_BEGIN, "BEGIN", BOLT_STATE_TX_READY);
}

int bolt_commit(struct bolt_conn *c)
{
  if (!c)
    return MGO_EINVAL;
  if (c->state != BOLT_STATE_TX_READY)
    return state_error(c, "bolt_commit");
  return simple_request(c, MSG_COMMIT, "COMMIT", BOLT_STATE_READY);
}

int bolt_rollback(struct bolt_conn *c)
{
  if (!c)
    return MGO_EINVAL;
  if (c->state != BOLT_STATE_TX_READY)
    return state_error(c, "bolt_rollback");
  return simple_request(c, MSG_ROLLBACK, "ROLLBACK", BOLT_STATE_READY);
}

int bolt_reset(struct bolt_conn *c)
{
  if (!c)
    return MGO_EINVAL;
  if (c->state == BOLT_STATE_DEFUNCT || c->state == BOLT_STATE_DISCONNECTED)
    return state_error(c, "bolt_reset");
  result_clear(&c->result);
  return reset_and_drain(c, mgo_clock_mono_ms(NULL) + c->opts.query_timeout_ms);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Introspection                                                                                          */

enum bolt_state bolt_state(const struct bolt_conn *c)
{
  return c ? c->state : BOLT_STATE_DEFUNCT;
}

const char *bolt_state_name(enum bolt_state s)
{
  static const char *const names[] = {"DISCONNECTED", "READY",  "STREAMING", "TX_READY",
                                      "TX_STREAMING", "FAILED", "DEFUNCT"};
  if ((unsigned) s >= sizeof(names) / sizeof(names[0]))
    return "UNKNOWN";
  return names[s];
}

const struct bolt_error *bolt_error(const struct bolt_conn *c)
{
  static const struct bolt_error none = {MGO_ENOMEM, BOLT_ERR_LOCAL, "", "", "no connection object"};
  return c ? &c->err : &none;
}

unsigned bolt_version(const struct bolt_conn *c)
{
  return c ? c->version : 0;
}

const struct bolt_value *bolt_server_info(const struct bolt_conn *c)
{
  return c ? c->server_info : NULL;
}
