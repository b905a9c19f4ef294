/* Internal: the table that maps every scalar and free-form field of spec to struct mgo_cluster_spec,
 * with its default. mgo_cluster_parse() is driven by it, and the unit tests compare its defaults with
 * the CRD's. Shared between the files of the cluster library and its tests only.
 * Thread-safety: the table is constant. */
#ifndef MGO_CLUSTER_FIELDS_H
#define MGO_CLUSTER_FIELDS_H

#include "mgo_repl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mgo__field_kind {
  MGO__F_I32,
  MGO__F_I64,
  MGO__F_BOOL,
  MGO__F_STR,  /* char array of size bytes; allowed values in names when non-NULL */
  MGO__F_ENUM, /* C enum stored as int; names maps the API strings to values (struct mgo_enum_name) */
  MGO__F_OBJ,  /* json_t * (object), deep-copied */
  MGO__F_ARR,  /* json_t * (array), deep-copied */
};

struct mgo__cluster_field {
  const char *path;                  /* dotted path below .spec, e.g. "replication.port" */
  size_t offset;                     /* inside struct mgo_cluster_spec */
  size_t size;                       /* MGO__F_STR only */
  int64_t def_int;                   /* default (or "unset" value) of I32/I64/BOOL/ENUM */
  const char *def_str;               /* default of STR */
  const struct mgo_enum_name *names; /* NULL-name terminated */
  enum mgo__field_kind kind;
  bool crd_default; /* true when the CRD declares a default (then def_* must equal it) */
};

extern const struct mgo__cluster_field mgo__cluster_fields[];
extern const size_t mgo__cluster_nfields;

struct mgo_cluster_errs;
/* Appends one problem (field is a full path such as "spec.instances"); counts it as dropped when full. */
void mgo__cluster_err_add(struct mgo_cluster_errs *errs, const char *field, const char *message);

#endif
