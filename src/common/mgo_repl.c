/* The one name table of each replication enum and the lookups every module uses (see mgo_repl.h). */
#include "mgo_repl.h"

#include <stddef.h>

const struct mgo_enum_name mgo_repl_mode_names[] = {
    {"ASYNC", MGO_MODE_ASYNC}, {"SYNC", MGO_MODE_SYNC}, {"STRICT_SYNC", MGO_MODE_STRICT_SYNC}, {NULL, 0}};

const struct mgo_enum_name mgo_role_names[] = {
    {"main", MGO_ROLE_MAIN}, {"replica", MGO_ROLE_REPLICA}, {NULL, 0}};

/* ASCII lower case, as an int so nothing narrows. */
static int ascii_lower(char ch)
{
  return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static bool same_char(char table, char text, enum mgo_name_case cs)
{
  switch (cs) {
  case MGO_CASE_LOWER:
    return ascii_lower(table) == (int) text;
  case MGO_CASE_ANY:
    return ascii_lower(table) == ascii_lower(text);
  default:
    return table == text;
  }
}

static bool spelled(const char *name, const char *s, enum mgo_name_case cs)
{
  size_t i = 0;
  for (; name[i] != '\0' && s[i] != '\0'; i++) {
    if (!same_char(name[i], s[i], cs))
      return false;
  }
  return name[i] == '\0' && s[i] == '\0';
}

const struct mgo_enum_name *mgo_enum_lookup(const struct mgo_enum_name *table, const char *s,
                                            enum mgo_name_case cs)
{
  for (; s != NULL && table->name != NULL; table++) {
    if (spelled(table->name, s, cs))
      return table;
  }
  return NULL;
}

/* The name of value in table; fallback when the table has none. */
static const char *name_of(const struct mgo_enum_name *table, int value, const char *fallback)
{
  for (; table->name != NULL; table++) {
    if (table->value == value)
      return table->name;
  }
  return fallback;
}

const char *mgo_repl_mode_name(enum mgo_repl_mode m)
{
  return name_of(mgo_repl_mode_names, (int) m, "ASYNC");
}

enum mgo_repl_mode mgo_repl_mode_named(const char *name)
{
  enum mgo_repl_mode m = MGO_MODE_ASYNC;
  (void) mgo_repl_mode_parse(name, MGO_CASE_EXACT, &m);
  return m;
}

bool mgo_repl_mode_parse(const char *s, enum mgo_name_case cs, enum mgo_repl_mode *out)
{
  const struct mgo_enum_name *e = mgo_enum_lookup(mgo_repl_mode_names, s, cs);
  if (e == NULL)
    return false;
  *out = (enum mgo_repl_mode) e->value;
  return true;
}

const char *mgo_role_name(enum mgo_role r)
{
  return name_of(mgo_role_names, (int) r, "unknown");
}

enum mgo_role mgo_role_named(const char *s, enum mgo_name_case cs)
{
  const struct mgo_enum_name *e = mgo_enum_lookup(mgo_role_names, s, cs);
  return e != NULL ? (enum mgo_role) e->value : MGO_ROLE_UNKNOWN;
}
