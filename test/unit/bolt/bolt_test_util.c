#include "bolt_test_util.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "mgo_clock.h"

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

uint8_t *tu_unhex(const char *hex, size_t *len)
{
  size_t n = strlen(hex);
  if (n % 2)
    return NULL;
  uint8_t *out = malloc(n / 2 + 1);
  for (size_t i = 0; out && i < n / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(out);
      return NULL;
    }
    out[i] = (uint8_t) (hi << 4 | lo);
  }
  *len = n / 2;
  return out;
}

char *tu_hex(const uint8_t *p, size_t len)
{
  char *s = malloc(2 * len + 1);
  for (size_t i = 0; s && i < len; i++)
    snprintf(s + 2 * i, 3, "%02X", p[i]);
  if (s)
    s[2 * len] = '\0';
  return s;
}

uint8_t *tu_hex_parts(const json_t *parts, size_t *len)
{
  size_t total = 0, cap = 1 << 16;
  uint8_t *out = malloc(cap);
  size_t i;
  const json_t *part;
  json_array_foreach(parts, i, part)
  {
    const char *hex =
        json_is_string(part) ? json_string_value(part) : json_string_value(json_object_get(part, "repeat"));
    size_t count = json_is_string(part) ? 1 : (size_t) json_integer_value(json_object_get(part, "count"));
    size_t n = 0;
    uint8_t *b = tu_unhex(hex, &n);
    for (size_t k = 0; k < count; k++) {
      while (total + n > cap)
        out = realloc(out, cap *= 2);
      memcpy(out + total, b, n);
      total += n;
    }
    free(b);
  }
  *len = total;
  return out;
}

json_t *tu_load_vectors(void)
{
  const char *path = MGO_BOLT_VECTORS;
  json_error_t jerr;
  json_t *j = json_load_file(path, 0, &jerr);
  if (!j)
    fprintf(stderr, "cannot load the Bolt vectors from %s: %s\n", path, jerr.text);
  return j;
}

static struct bolt_value *tagged_to_value(const char *tag, const json_t *arg);

struct bolt_value *tu_json_to_value(const json_t *j)
{
  struct bolt_value *v = NULL;
  size_t i;
  const char *key;
  json_t *item;
  switch (json_typeof(j)) {
  case JSON_NULL:
    return bolt_value_null();
  case JSON_TRUE:
    return bolt_value_bool(true);
  case JSON_FALSE:
    return bolt_value_bool(false);
  case JSON_INTEGER:
    return bolt_value_int(json_integer_value(j));
  case JSON_STRING:
    return bolt_value_stringn(json_string_value(j), json_string_length(j));
  case JSON_ARRAY:
    v = bolt_value_list();
    json_array_foreach(j, i, item)
    {
      if (bolt_list_push(v, tu_json_to_value(item)) != 0) {
        bolt_value_free(v);
        return NULL;
      }
    }
    return v;
  case JSON_OBJECT:
    if (json_object_size(j) == 1) {
      key = json_object_iter_key(json_object_iter((json_t *) j));
      if (key[0] == '$')
        return tagged_to_value(key, json_object_get(j, key));
    }
    v = bolt_value_map();
    json_object_foreach((json_t *) j, key, item)
    {
      if (bolt_map_put(v, key, tu_json_to_value(item)) != 0) {
        bolt_value_free(v);
        return NULL;
      }
    }
    return v;
  default:
    return NULL;
  }
}

static struct bolt_value *repeat_to_value(const char *tag, const json_t *arg)
{
  size_t count = (size_t) json_integer_value(json_object_get(arg, "count"));
  if (strcmp(tag, "$str_repeat") == 0) {
    const char *unit = json_string_value(json_object_get(arg, "unit"));
    size_t ulen = strlen(unit);
    char *s = malloc(ulen * count + 1);
    for (size_t k = 0; k < count; k++)
      memcpy(s + k * ulen, unit, ulen);
    struct bolt_value *v = bolt_value_stringn(s, ulen * count);
    free(s);
    return v;
  }
  if (strcmp(tag, "$bytes_repeat") == 0) {
    size_t ulen = 0;
    uint8_t *unit = tu_unhex(json_string_value(json_object_get(arg, "unit_hex")), &ulen);
    uint8_t *b = malloc(ulen * count + 1);
    for (size_t k = 0; k < count; k++)
      memcpy(b + k * ulen, unit, ulen);
    struct bolt_value *v = bolt_value_bytes(b, ulen * count);
    free(unit);
    free(b);
    return v;
  }
  struct bolt_value *v = bolt_value_list();
  for (size_t k = 0; k < count; k++)
    bolt_list_push(v, tu_json_to_value(json_object_get(arg, "item")));
  return v;
}

static struct bolt_value *tagged_to_value(const char *tag, const json_t *arg)
{
  if (strcmp(tag, "$int") == 0)
    return bolt_value_int(strtoll(json_string_value(arg), NULL, 10));
  if (strcmp(tag, "$float") == 0)
    return bolt_value_float(strtod(json_string_value(arg), NULL)); /* strtod reads inf, -inf, nan, -0.0 */
  if (strcmp(tag, "$bytes") == 0) {
    size_t n = 0;
    uint8_t *b = tu_unhex(json_string_value(arg), &n);
    struct bolt_value *v = bolt_value_bytes(b, n);
    free(b);
    return v;
  }
  if (strcmp(tag, "$struct") == 0) {
    const json_t *fields = json_object_get(arg, "fields");
    uint8_t t = (uint8_t) strtoul(json_string_value(json_object_get(arg, "tag")), NULL, 16);
    struct bolt_value *v = bolt_value_struct(t, json_array_size(fields));
    for (size_t i = 0; v && i < json_array_size(fields); i++)
      bolt_struct_set(v, i, tu_json_to_value(json_array_get(fields, i)));
    return v;
  }
  return repeat_to_value(tag, arg);
}

/* ------------------------------------------------------------------------------------------------------ */

static int read_exact_timeout(int fd, uint8_t *p, size_t n, int timeout_ms)
{
  size_t have = 0;
  while (have < n) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0)
      return -1;
    ssize_t r = recv(fd, p + have, n - have, 0);
    if (r <= 0)
      return -1;
    have += (size_t) r;
  }
  return 0;
}

/* A frozen peer: answers nothing for up to ms, swallowing what the client sends, and ends early once the
 * client hung up (so a client that gave up on its deadline does not keep the script waiting). */
static void stay_silent(int fd, int ms)
{
  int64_t until = mgo_clock_mono_ms(NULL) + ms;
  uint8_t sink[512];
  for (int64_t left = ms; left > 0; left = until - mgo_clock_mono_ms(NULL)) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int n = poll(&pfd, 1, (int) left);
    if (n < 0 && errno != EINTR)
      return;
    if (n > 0 && recv(fd, sink, sizeof(sink), 0) <= 0)
      return;
  }
}

static int run_step(struct tu_server *s, int fd, const struct tu_step *st)
{
  size_t n = 0;
  uint8_t *want = st->hex ? tu_unhex(st->hex, &n) : NULL;
  int rc = 0;
  if (st->kind == TU_SEND) {
    rc = send(fd, want, n, MSG_NOSIGNAL) == (ssize_t) n ? 0 : -1;
  } else if (st->kind == TU_EXPECT) {
    uint8_t *got = calloc(1, n + 1);
    rc = read_exact_timeout(fd, got, n, 5000);
    if (rc == 0 && memcmp(got, want, n) != 0) {
      char *h = tu_hex(got, n);
      snprintf(s->why, sizeof(s->why), "expected %s, got %s", st->hex, h);
      free(h);
      rc = -1;
    } else if (rc != 0) {
      snprintf(s->why, sizeof(s->why), "expected %s, got EOF/timeout", st->hex);
    }
    free(got);
  } else if (st->kind == TU_SILENT_MS) {
    stay_silent(fd, st->ms);
  } else {
    shutdown(fd, SHUT_RDWR);
  }
  free(want);
  return rc;
}

static void *server_main(void *arg)
{
  struct tu_server *s = arg;
  struct pollfd pfd = {.fd = s->listen_fd, .events = POLLIN};
  if (poll(&pfd, 1, 10000) <= 0) {
    snprintf(s->why, sizeof(s->why), "no client connected");
    s->failed_step = 0;
    return NULL;
  }
  int fd = accept(s->listen_fd, NULL, NULL);
  for (size_t i = 0; fd >= 0 && i < s->nsteps; i++) {
    if (run_step(s, fd, &s->steps[i]) != 0) {
      s->failed_step = (int) i;
      break;
    }
  }
  if (fd >= 0)
    close(fd);
  return NULL;
}

int tu_server_start(struct tu_server *s, const struct tu_step *steps, size_t nsteps)
{
  memset(s, 0, sizeof(*s));
  s->steps = steps;
  s->nsteps = nsteps;
  s->failed_step = -1;
  s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  if (bind(s->listen_fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(s->listen_fd, 4) != 0 ||
      getsockname(s->listen_fd, (struct sockaddr *) &a, &alen) != 0)
    return -1;
  s->port = ntohs(a.sin_port);
  return pthread_create(&s->thread, NULL, server_main, s);
}

int tu_server_join(struct tu_server *s)
{
  pthread_join(s->thread, NULL);
  close(s->listen_fd);
  if (s->failed_step >= 0)
    fprintf(stderr, "fake server: step %d failed: %s\n", s->failed_step, s->why);
  return s->failed_step;
}
