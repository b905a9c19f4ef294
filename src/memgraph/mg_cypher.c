/* Names, addresses and the Cypher texts of the replication queries. Nothing from outside reaches a query
 * unchecked: names are checked character by character and backtick-quoted, addresses are checked before
 * they go into a string literal, ports are integers (memgraph.md section 1). */
#include <string.h>

#include "mg.h"
#include "mgo_buf.h"
#include "mgo_err.h"

static bool is_alpha(char ch)
{
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(char ch)
{
  return ch >= '0' && ch <= '9';
}

bool mg_name_is_safe(const char *name)
{
  size_t n;

  if (name == NULL || !(is_alpha(name[0]) || name[0] == '_'))
    return false;
  for (n = 1; name[n] != '\0'; n++) {
    if (!(is_alpha(name[n]) || is_digit(name[n]) || name[n] == '_'))
      return false;
  }
  return n < MGO_NAME_MAX;
}

bool mg_name_is_droppable(const char *name)
{
  size_t n;

  if (name == NULL || name[0] == '\0')
    return false;
  for (n = 0; name[n] != '\0'; n++) {
    char ch = name[n];
    if (!(is_alpha(ch) || is_digit(ch) || ch == '_' || ch == '.' || ch == '-'))
      return false;
  }
  return n < MGO_NAME_MAX;
}

/* Port: 1..65535, decimal digits only, no leading zero. */
static int parse_port(const char *s, uint16_t *port)
{
  long v = 0;
  size_t n = 0;

  if (s[0] == '0')
    return MGO_EINVAL;
  for (; s[n] != '\0'; n++) {
    if (!is_digit(s[n]) || n >= 5)
      return MGO_EINVAL;
    v = v * 10 + (s[n] - '0');
  }
  if (n == 0 || v < 1 || v > 65535)
    return MGO_EINVAL;
  if (port)
    *port = (uint16_t) v;
  return MGO_OK;
}

int mg_address_check(const char *address, char *host, size_t hostsz, uint16_t *port)
{
  const char *colon;
  size_t hostlen;

  if (address == NULL)
    return MGO_EINVAL;
  colon = strchr(address, ':');
  if (colon == NULL || colon == address || strchr(colon + 1, ':') != NULL)
    return MGO_EINVAL;
  hostlen = (size_t) (colon - address);
  if (hostlen >= MGO_DNS_NAME_MAX || address[0] == '-' || address[0] == '.')
    return MGO_EINVAL;
  for (size_t i = 0; i < hostlen; i++) {
    char ch = address[i];
    if (!(is_alpha(ch) || is_digit(ch) || ch == '.' || ch == '-'))
      return MGO_EINVAL;
  }
  if (parse_port(colon + 1, port) != MGO_OK)
    return MGO_EINVAL;
  if (host == NULL)
    return MGO_OK;
  if (hostsz <= hostlen)
    return MGO_ETOOBIG;
  memcpy(host, address, hostlen);
  host[hostlen] = '\0';
  return MGO_OK;
}

/* The keyword of a mode (the one name table of mgo_repl.h); NULL for a value outside the enum. */
static const char *mode_keyword(enum mgo_repl_mode mode)
{
  for (const struct mgo_enum_name *e = mgo_repl_mode_names; e->name != NULL; e++) {
    if (e->value == (int) mode)
      return e->name;
  }
  return NULL;
}

/* The checked names contain no backtick, so quoting needs no escaping. */
int mg_cypher_register(char *dst, size_t dstsz, const char *name, enum mgo_repl_mode mode,
                       const char *address)
{
  const char *kw = mode_keyword(mode);

  if (dst == NULL || dstsz == 0 || kw == NULL || !mg_name_is_safe(name))
    return MGO_EINVAL;
  if (mg_address_check(address, NULL, 0, NULL) != MGO_OK)
    return MGO_EINVAL;
  return mgo_snprintf(dst, dstsz, "REGISTER REPLICA `%s` %s TO \"%s\"", name, kw, address);
}

int mg_cypher_drop(char *dst, size_t dstsz, const char *name)
{
  if (dst == NULL || dstsz == 0 || !mg_name_is_droppable(name))
    return MGO_EINVAL;
  return mgo_snprintf(dst, dstsz, "DROP REPLICA `%s`", name);
}

int mg_cypher_set_main(char *dst, size_t dstsz)
{
  if (dst == NULL || dstsz == 0)
    return MGO_EINVAL;
  return mgo_strlcpy(dst, "SET REPLICATION ROLE TO MAIN", dstsz);
}

int mg_cypher_set_replica(char *dst, size_t dstsz, int port)
{
  if (dst == NULL || dstsz == 0 || port < 1 || port > 65535)
    return MGO_EINVAL;
  return mgo_snprintf(dst, dstsz, "SET REPLICATION ROLE TO REPLICA WITH PORT %d", port);
}

int mg_cypher_canary_write(char *dst, size_t dstsz, int64_t seq, int64_t ts_ms)
{
  if (dst == NULL || dstsz == 0 || seq < 0 || ts_ms < 0)
    return MGO_EINVAL;
  return mgo_snprintf(dst, dstsz, "MERGE (c:" MG_CANARY_LABEL ") SET c.seq = %lld, c.ts = %lld",
                      (long long) seq, (long long) ts_ms);
}
