/* Parsing of the agent's instructions: reseed=<token>, restore=<token> and the restore.* parameters (see
 * agent_fs.h and docs/agent.md "The ConfigMap contract"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_fs.h"
#include "mgo_buf.h"
#include "mgo_err.h"

enum value_kind { V_TOKEN, V_TEXT, V_FILE, V_SIZE, V_SHA256, V_BOOL };

struct key_def {
  const char *key;
  size_t offset; /* in struct agent_instructions */
  size_t cap;    /* buffer size for text values */
  enum value_kind kind;
  bool required; /* for a restore */
};

#define RS(field) offsetof(struct agent_instructions, rs) + offsetof(struct agent_restore_spec, field)
#define RSCAP(field) sizeof(((struct agent_restore_spec *) NULL)->field)
static const struct key_def restore_keys[] = {
    {"restore", RS(token), RSCAP(token), V_TOKEN, true},
    {"restore.endpoint", RS(endpoint), RSCAP(endpoint), V_TEXT, true},
    {"restore.region", RS(region), RSCAP(region), V_TEXT, true},
    {"restore.bucket", RS(bucket), RSCAP(bucket), V_TEXT, true},
    {"restore.key", RS(key), RSCAP(key), V_TEXT, true},
    {"restore.file", RS(file), RSCAP(file), V_FILE, true},
    {"restore.size", RS(size), 0, V_SIZE, true},
    {"restore.sha256", RS(sha256), RSCAP(sha256), V_SHA256, true},
    {"restore.forcePathStyle", RS(force_path_style), 0, V_BOOL, false},
};
#define NKEYS (sizeof(restore_keys) / sizeof(restore_keys[0]))
static const struct key_def reseed_key = {"reseed", offsetof(struct agent_instructions, token),
                                          AGENT_TOKEN_MAX + 1, V_TOKEN, false};

struct parse {
  struct agent_instructions *out;
  unsigned seen; /* bit i: restore_keys[i] was given */
  int lineno;
  char *detail;
  size_t detailsz;
};

bool agent_file_name_valid(const char *name)
{
  size_t n = name != NULL ? strlen(name) : 0;
  if (n == 0 || n > AGENT_FILE_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = name[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
          ch == '_' || ch == '.'))
      return false;
  }
  return true;
}

/* Appends key (len bytes, non-printable bytes as '?') to the comma-separated list, "..." once it is full. */
static void note_unknown(struct agent_instructions *out, const char *key, size_t len)
{
  size_t have = strlen(out->unknown_keys);
  size_t room = sizeof(out->unknown_keys) - 4; /* keep space for "..." and the NUL */
  out->unknown++;
  if (have >= 3 && strcmp(out->unknown_keys + have - 3, "...") == 0)
    return;
  if (have + (have > 0) + len > room) {
    (void) mgo_strlcpy(out->unknown_keys + have, "...", sizeof(out->unknown_keys) - have);
    return;
  }
  if (have > 0)
    out->unknown_keys[have++] = ',';
  for (size_t i = 0; i < len; i++) {
    char ch = key[i];
    if ((unsigned char) ch < 0x20 || (unsigned char) ch >= 0x7f)
      ch = '?';
    out->unknown_keys[have++] = ch;
  }
  out->unknown_keys[have] = '\0';
}

static int bad_value(struct parse *p, const char *key, const char *why)
{
  (void) mgo_snprintf(p->detail, p->detailsz, "instructions line %d: %s %s", p->lineno, key, why);
  return MGO_EINVAL;
}

/* Checks a NUL-terminated value v (no NUL inside, printable ASCII) against its kind and stores it. */
static int store_value(struct parse *p, const struct key_def *d, const char *v, size_t vlen)
{
  char *field = (char *) p->out + d->offset;
  char *end = NULL;

  switch (d->kind) {
  case V_TOKEN:
    return agent_token_valid(v) ? mgo_strlcpy(field, v, d->cap)
                                : bad_value(p, d->key,
                                            "token must match "
                                            "[A-Za-z0-9-]{1,64}");
  case V_FILE:
    return agent_file_name_valid(v) ? mgo_strlcpy(field, v, d->cap)
                                    : bad_value(p, d->key, "must be a plain file name [A-Za-z0-9_.-]{1,255}");
  case V_TEXT:
    return vlen < d->cap ? mgo_strlcpy(field, v, d->cap) : bad_value(p, d->key, "is too long");
  case V_SIZE:
    if (v[0] < '0' || v[0] > '9' || vlen > 20)
      return bad_value(p, d->key, "must be a decimal number of bytes");
    *(unsigned long long *) (void *) field = strtoull(v, &end, 10);
    return *end == '\0' && *(unsigned long long *) (void *) field != UINT64_MAX
               ? MGO_OK
               : bad_value(p, d->key, "must be a decimal number of bytes");
  case V_SHA256:
    if (vlen != 64 || strspn(v, "0123456789abcdefABCDEF") != 64)
      return bad_value(p, d->key, "must be 64 hex digits");
    for (size_t i = 0; i < 64; i++)
      field[i] = (char) (v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i]);
    field[64] = '\0';
    return MGO_OK;
  default:
    if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
      return bad_value(p, d->key, "must be true or false");
    *(bool *) (void *) field = strcmp(v, "true") == 0;
    return MGO_OK;
  }
}

/* One "key=value" line (eq points at the '='). */
static int parse_pair(struct parse *p, const char *line, const char *eq, size_t n)
{
  size_t klen = (size_t) (eq - line), vlen = n - klen - 1;
  char value[1100];
  bool reseed = klen == 6 && memcmp(line, "reseed", 6) == 0;
  const struct key_def *d = NULL;
  size_t i;
  int rc;

  for (i = 0; i < NKEYS && !reseed; i++) {
    if (strlen(restore_keys[i].key) == klen && memcmp(line, restore_keys[i].key, klen) == 0) {
      d = &restore_keys[i];
      break;
    }
  }
  if (!reseed && d == NULL) {
    note_unknown(p->out, line, klen);
    return MGO_OK;
  }
  if (reseed)
    d = &reseed_key;
  if ((reseed && p->out->reseed) || (!reseed && (p->seen & (1U << i))))
    return bad_value(p, d->key, "given twice");
  if (vlen >= sizeof(value))
    return bad_value(p, d->key, "is too long");
  for (size_t k = 0; k < vlen; k++) {
    if ((unsigned char) eq[1 + k] < 0x20 || (unsigned char) eq[1 + k] >= 0x7f)
      return bad_value(p, d->key, "holds a control or non-ASCII byte");
  }
  memcpy(value, eq + 1, vlen);
  value[vlen] = '\0';
  rc = store_value(p, d, value, vlen);
  if (rc != MGO_OK)
    return rc == MGO_ETOOBIG ? bad_value(p, d->key, "is too long") : MGO_EINVAL;
  if (reseed)
    p->out->reseed = true;
  else
    p->seen |= 1U << i;
  return MGO_OK;
}

/* After the last line: a restore must be complete, and never together with a re-seed. */
static int check_restore(struct parse *p)
{
  if (p->seen == 0)
    return MGO_OK;
  for (size_t i = 0; i < NKEYS; i++) {
    if (restore_keys[i].required && !(p->seen & (1U << i))) {
      (void) mgo_snprintf(p->detail, p->detailsz, "instructions: restore request without %s",
                          restore_keys[i].key);
      memset(&p->out->rs, 0, sizeof(p->out->rs));
      return MGO_EINVAL;
    }
  }
  if (p->out->reseed) {
    (void) mgo_snprintf(p->detail, p->detailsz, "instructions: reseed and restore both requested");
    memset(&p->out->rs, 0, sizeof(p->out->rs));
    return MGO_EINVAL;
  }
  p->out->restore = true;
  return MGO_OK;
}

int agent_parse_instructions(const char *text, size_t len, struct agent_instructions *out, char *detail,
                             size_t detailsz)
{
  struct parse p = {out, 0, 0, detail, detailsz};
  size_t pos = 0;
  int rc = MGO_OK;

  memset(out, 0, sizeof(*out));
  out->found = true;
  while (pos < len) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl != NULL ? (size_t) (nl - line) : len - pos;
    const char *eq;

    pos += n + (nl != NULL);
    p.lineno++;
    if (n > 0 && line[n - 1] == '\r')
      n--;
    if (n == 0)
      continue;
    eq = memchr(line, '=', n);
    if (eq == NULL || eq == line) {
      (void) mgo_snprintf(detail, detailsz, "instructions line %d: not key=value", p.lineno);
      rc = MGO_EPARSE;
      break;
    }
    rc = parse_pair(&p, line, eq, n);
    if (rc != MGO_OK)
      break;
  }
  if (rc == MGO_OK)
    rc = check_restore(&p);
  if (rc != MGO_OK) { /* nothing half-parsed is left for a caller that ignores rc */
    memset(out->token, 0, sizeof(out->token));
    memset(&out->rs, 0, sizeof(out->rs));
    out->reseed = out->restore = false;
  }
  return rc;
}
