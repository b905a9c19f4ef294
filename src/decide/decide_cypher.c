/* Cypher for the Bolt actions of a plan. Nothing from outside the operator reaches a query unchecked:
 * names are either plain identifiers or backtick-quoted, addresses are checked character by character,
 * ports are integers. */
#include "mgo_buf.h"
#include "mgo_err.h"
#include "topology.h"

#include <ctype.h>
#include <string.h>

static bool plain_identifier(const char *s)
{
  if (!(isalpha((unsigned char) s[0]) || s[0] == '_'))
    return false;
  for (const char *p = s + 1; *p != '\0'; p++) {
    if (!(isalnum((unsigned char) *p) || *p == '_'))
      return false;
  }
  return true;
}

/* `name` with every backtick doubled (memgraph.md section 1). */
static int quoted_identifier(const char *s, char *dst, size_t dstsz)
{
  struct mgo_buf b = MGO_BUF_INIT(dstsz - 1);
  int rc = mgo_buf_addstr(&b, "`");
  for (const char *p = s; rc == MGO_OK && *p != '\0'; p++)
    rc = *p == '`' ? mgo_buf_addstr(&b, "``") : mgo_buf_add(&b, p, 1);
  if (rc == MGO_OK)
    rc = mgo_buf_addstr(&b, "`");
  if (rc == MGO_OK)
    rc = mgo_strlcpy(dst, mgo_buf_str(&b), dstsz);
  mgo_buf_free(&b);
  return rc;
}

static int identifier(const char *s, char *dst, size_t dstsz)
{
  if (s[0] == '\0' || dstsz < 3)
    return MGO_EINVAL;
  if (plain_identifier(s))
    return mgo_strlcpy(dst, s, dstsz);
  return quoted_identifier(s, dst, dstsz);
}

/* "<host>:<port>", host of letters, digits, dots and dashes, port 1..65535. */
static bool safe_address(const char *addr)
{
  const char *colon = strchr(addr, ':');
  long port = 0;

  if (colon == NULL || colon == addr || strchr(colon + 1, ':') != NULL || colon[1] == '\0')
    return false;
  for (const char *p = addr; p < colon; p++) {
    if (!(isalnum((unsigned char) *p) || *p == '.' || *p == '-'))
      return false;
  }
  for (const char *p = colon + 1; *p != '\0'; p++) {
    if (!isdigit((unsigned char) *p) || port > 65535)
      return false;
    port = port * 10 + (*p - '0');
  }
  return port >= 1 && port <= 65535;
}

int rec_action_cypher(const struct rec_action *a, char *dst, size_t dstsz)
{
  char name[2 * MGO_NAME_MAX + 3];

  switch (a->type) {
  case REC_ACT_PROMOTE:
    return mgo_strlcpy(dst, "SET REPLICATION ROLE TO MAIN", dstsz);
  case REC_ACT_DEMOTE:
    if (a->port < 1 || a->port > 65535)
      return MGO_EINVAL;
    return mgo_snprintf(dst, dstsz, "SET REPLICATION ROLE TO REPLICA WITH PORT %d", (int) a->port);
  case REC_ACT_DROP:
    if (identifier(a->replica, name, sizeof(name)) != MGO_OK)
      return MGO_EINVAL;
    return mgo_snprintf(dst, dstsz, "DROP REPLICA %s", name);
  case REC_ACT_REGISTER:
    if (!plain_identifier(a->replica) || !safe_address(a->address))
      return MGO_EINVAL;
    return mgo_snprintf(dst, dstsz, "REGISTER REPLICA %s %s TO \"%s\"", a->replica,
                        mgo_repl_mode_name(a->mode), a->address);
  default:
    return MGO_EINVAL;
  }
}
