/* The replication vocabulary shared by the CRD layer (src/cluster), the Memgraph client (src/memgraph) and
 * the decisions: the two enums, their one name table each, and the name sizes both sides use.
 *
 * Spellings: the CRD and status write modes upper case ("SYNC") and roles lower case ("main", also the
 * memgraph.io/role label); Memgraph prints sync_mode in lower case ("strict_sync") and the replication role
 * in either case. The lookups take the spelling the caller reads (enum mgo_name_case), so every caller uses
 * the same table.
 *
 * Ownership: every returned name is a static string; never free it. Thread-safety: constant tables, pure
 * functions. */
#ifndef MGO_REPL_H
#define MGO_REPL_H

#include <stdbool.h>

#define MGO_NAME_MAX 64      /* Kubernetes DNS label (63) + NUL */
#define MGO_DNS_NAME_MAX 254 /* DNS subdomain (253) + NUL */
#define MGO_ADDR_MAX 320     /* "<pod>.<svc>.<ns>.svc.<domain>:<port>" */
#define MGO_BOLT_PORT 7687

enum mgo_repl_mode { MGO_MODE_ASYNC, MGO_MODE_SYNC, MGO_MODE_STRICT_SYNC };
enum mgo_role { MGO_ROLE_UNKNOWN, MGO_ROLE_MAIN, MGO_ROLE_REPLICA };

/* One entry of a name table; tables end with a NULL name. */
struct mgo_enum_name {
  const char *name;
  int value;
};

/* How a text is compared with a table's spelling. */
enum mgo_name_case {
  MGO_CASE_EXACT, /* byte for byte */
  MGO_CASE_LOWER, /* the table's spelling in lower case, byte for byte (Memgraph's sync_mode) */
  MGO_CASE_ANY    /* ASCII case-insensitive */
};

/* "ASYNC", "SYNC", "STRICT_SYNC" (the CRD's replication.mode enum), in this order. */
extern const struct mgo_enum_name mgo_repl_mode_names[];
/* The synchronous modes only (the CRD's replication.syncMode enum): the table without its first entry. */
#define MGO_SYNC_MODE_NAMES (&mgo_repl_mode_names[1])
/* "main", "replica" (the memgraph.io/role label values). */
extern const struct mgo_enum_name mgo_role_names[];

/* The entry of table spelled s (compared as cs); NULL for NULL or a text not in the table. */
const struct mgo_enum_name *mgo_enum_lookup(const struct mgo_enum_name *table, const char *s,
                                            enum mgo_name_case cs);

const char *mgo_repl_mode_name(enum mgo_repl_mode m); /* "ASYNC", "SYNC", "STRICT_SYNC"; ASYNC otherwise */
/* The inverse of mgo_repl_mode_name (as status records it); MGO_MODE_ASYNC for NULL or another text. */
enum mgo_repl_mode mgo_repl_mode_named(const char *name);
/* A mode spelled as cs reads it; false (and *out untouched) for NULL or another text. */
bool mgo_repl_mode_parse(const char *s, enum mgo_name_case cs, enum mgo_repl_mode *out);

const char *mgo_role_name(enum mgo_role r); /* "main", "replica", "unknown" */
/* A role spelled as cs reads it; MGO_ROLE_UNKNOWN for NULL or another text. */
enum mgo_role mgo_role_named(const char *s, enum mgo_name_case cs);

#endif
