/* Classification of Memgraph FAILURE answers by the exact texts of memgraph.md (sections 1, 2.2, 4.2, 4.3,
 * 5, 6, 10), then by the code's second dotted part (section 3). */
#include <stdlib.h>
#include <string.h>

#include "mg.h"

struct text_rule {
  const char *text;
  bool prefix; /* true: message starts with text; false: message contains text */
  enum mg_err_class cls;
};

/* Order matters only where texts overlap: the specific ones come first. */
static const struct text_rule rules[] = {
    /* 6.1 / 6.2 role changes */
    {"Couldn't set replication role to main!", true, MG_ERR_ALREADY_MAIN},
    {"Couldn't set role to replica!", true, MG_ERR_ALREADY_REPLICA},
    /* 4.2 / 4.3 / 2.2 run on a REPLICA */
    {"Replica can't register another replica!", true, MG_ERR_NOT_MAIN},
    {"Replica can't unregister a replica!", true, MG_ERR_NOT_MAIN},
    {"Replica can't show registered replicas", true, MG_ERR_NOT_MAIN},
    {"Show replicas query should only be run on the main instance.", true, MG_ERR_NOT_MAIN},
    /* HA-managed instance (set role, register, drop) */
    {"manually on instance with coordinator server port.", false, MG_ERR_HA_MANAGED},
    {"Write query forbidden on the main!", true, MG_ERR_HA_MANAGED},
    {"Write queries currently forbidden on the main instance.", true, MG_ERR_HA_MANAGED},
    /* [main] analytical storage mode */
    {"because a database is in analytical storage mode.", false, MG_ERR_ANALYTICAL_MODE},
    /* 4.3 DROP REPLICA */
    {"Couldn't unregister the replica ", true, MG_ERR_REPLICA_NOT_FOUND},
    {"Failed to unregister the replica ", true, MG_ERR_REPLICA_NOT_FOUND},
    {"Couldn't get unique access to replication state!", true, MG_ERR_NO_ACCESS},
    {"Failed to unregister replica due to lack of unique access", true, MG_ERR_NO_ACCESS},
    /* 6.3 writes on a REPLICA, [main] commit after demotion */
    {"Write query forbidden on the replica!", true, MG_ERR_WRITE_ON_REPLICA},
    {"Write queries are forbidden on the replica instance.", true, MG_ERR_WRITE_ON_REPLICA},
    {"Query forbidden on the replica!", true, MG_ERR_WRITE_ON_REPLICA},
    {"Cannot commit because instance is not main anymore.", true, MG_ERR_WRITE_ON_REPLICA},
    /* 1 explicit transactions, ports, addresses */
    {"Replication clause not allowed in multicommand transactions.", true, MG_ERR_EXPLICIT_TX},
    {"Managing replication is not allowed in multicommand transactions.", true, MG_ERR_EXPLICIT_TX},
    {"Replica must set a port!", true, MG_ERR_INVALID_QUERY},
    {"Main can't set a port!", true, MG_ERR_INVALID_QUERY},
    {"Port must be an integer literal!", true, MG_ERR_INVALID_QUERY},
    {"Port number invalid!", true, MG_ERR_INVALID_QUERY},
    {"Invalid socket address", true, MG_ERR_INVALID_QUERY},
    {"Socket address should be a string literal!", true, MG_ERR_INVALID_QUERY},
    /* 10.1 snapshots (with or without the final period, 3.8+) */
    {"Nothing has been written since the last snapshot", true, MG_ERR_SNAPSHOT_NOTHING_NEW},
    {"Failed to create a snapshot. Replica instances are not allowed", true, MG_ERR_SNAPSHOT_ON_REPLICA},
    {"Another snapshot creation is already in progress", true, MG_ERR_SNAPSHOT_IN_PROGRESS},
    /* 3 authentication */
    {"Authentication failure", true, MG_ERR_AUTH},
};

static bool rule_matches(const struct text_rule *r, const char *msg)
{
  if (r->prefix)
    return strncmp(msg, r->text, strlen(r->text)) == 0;
  return strstr(msg, r->text) != NULL;
}

/* "Couldn't register replica <name>." (< 3.5) or "... Error: N" (3.5+), memgraph.md 4.2. */
static enum mg_err_class register_failure(const char *msg)
{
  static const enum mg_err_class by_code[] = {MG_ERR_NOT_MAIN, MG_ERR_NAME_EXISTS,    MG_ERR_ENDPOINT_EXISTS,
                                              MG_ERR_DIVERGED, MG_ERR_PERSIST_FAILED, MG_ERR_UNREACHABLE,
                                              MG_ERR_NO_ACCESS};
  const char *tag = strstr(msg, ". Error: ");
  char *end = NULL;
  long n;

  if (tag == NULL)
    return MG_ERR_UNKNOWN_REGISTER_FAILURE;
  tag += strlen(". Error: ");
  if (*tag < '0' || *tag > '9')
    return MG_ERR_UNKNOWN_REGISTER_FAILURE;
  n = strtol(tag, &end, 10);
  if (n < 0 || n >= (long) (sizeof(by_code) / sizeof(by_code[0])))
    return MG_ERR_UNKNOWN_REGISTER_FAILURE;
  return by_code[n];
}

/* Section 5: "Replication Exception: ..." for SYNC and STRICT_SYNC, <= 3.9 and the 3.10+ shape. */
static enum mg_err_class replication_failure(const char *msg)
{
  if (strstr(msg, "Transaction was aborted on all instances") != NULL ||
      strstr(msg, "Transaction will be aborted on all instances") != NULL ||
      strstr(msg, "STRICT_SYNC replica") != NULL)
    return MG_ERR_STRICT_SYNC_ABORTED;
  if (strstr(msg, "SYNC replica") != NULL ||
      strstr(msg, "Transaction is still committed on the main instance") != NULL)
    return MG_ERR_SYNC_REPLICA_FAILED;
  return MG_ERR_NONE;
}

/* Second dotted part of the code: ClientError, TransientError, DatabaseError; Security means auth. */
static enum mg_err_class by_code(const char *code)
{
  if (strstr(code, ".Security.Unauthenticated") != NULL)
    return MG_ERR_AUTH;
  if (bolt_classify_code(code) == BOLT_ERR_TRANSIENT)
    return MG_ERR_TRANSIENT;
  return MG_ERR_OTHER;
}

enum mg_err_class mg_classify_error(const char *code, const char *message)
{
  const char *msg = message ? message : "";
  enum mg_err_class cls;

  if (strncmp(msg, "Couldn't register replica ", strlen("Couldn't register replica ")) == 0 &&
      strstr(msg, "analytical storage mode") == NULL)
    return register_failure(msg);
  if (strncmp(msg, "Replication Exception:", strlen("Replication Exception:")) == 0 ||
      strncmp(msg, "Failed to replicate to ", strlen("Failed to replicate to ")) == 0) {
    cls = replication_failure(msg);
    if (cls != MG_ERR_NONE)
      return cls;
  }
  for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
    if (rule_matches(&rules[i], msg))
      return rules[i].cls;
  }
  return by_code(code ? code : "");
}

const char *mg_err_class_name(enum mg_err_class cls)
{
  static const char *const names[] = {"NONE",
                                      "ALREADY_MAIN",
                                      "ALREADY_REPLICA",
                                      "NOT_MAIN",
                                      "NAME_EXISTS",
                                      "ENDPOINT_EXISTS",
                                      "DIVERGED",
                                      "PERSIST_FAILED",
                                      "UNREACHABLE",
                                      "NO_ACCESS",
                                      "UNKNOWN_REGISTER_FAILURE",
                                      "REPLICA_NOT_FOUND",
                                      "ANALYTICAL_MODE",
                                      "HA_MANAGED",
                                      "SYNC_REPLICA_FAILED",
                                      "STRICT_SYNC_ABORTED",
                                      "WRITE_ON_REPLICA",
                                      "EXPLICIT_TX",
                                      "INVALID_QUERY",
                                      "SNAPSHOT_NOTHING_NEW",
                                      "SNAPSHOT_ON_REPLICA",
                                      "SNAPSHOT_IN_PROGRESS",
                                      "AUTH",
                                      "TRANSIENT",
                                      "OTHER",
                                      "INVALID_ARG",
                                      "UNSUPPORTED",
                                      "CONNECTION",
                                      "TIMEOUT",
                                      "BAD_RESULT"};
  if ((size_t) cls >= sizeof(names) / sizeof(names[0]))
    return "UNKNOWN";
  return names[cls];
}

bool mg_err_retryable(enum mg_err_class cls)
{
  return cls == MG_ERR_NO_ACCESS || cls == MG_ERR_TRANSIENT || cls == MG_ERR_CONNECTION ||
         cls == MG_ERR_TIMEOUT || cls == MG_ERR_SNAPSHOT_IN_PROGRESS;
}
