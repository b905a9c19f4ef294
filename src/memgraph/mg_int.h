/* Internal helpers shared by the files of the memgraph module (not part of the public API). Ownership and
 * thread-safety as in mg.h: a struct mg_conn and its tables belong to one thread at a time. */
#ifndef MGO_MEMGRAPH_MG_INT_H
#define MGO_MEMGRAPH_MG_INT_H

#include "mg.h"

struct mg_conn {
  struct bolt_opts bopts; /* strings point to the copies below */
  char *host, *user, *password, *ca, *sni, *ua;
  struct bolt_conn *bolt;
  unsigned connects;
  struct mg_version version; /* cached for the current connection */
  struct mg_error last;      /* outcome of the last call (mg_conn_last_error) */
};

/* One answered query. */
struct mg__table {
  struct bolt_value *fields; /* owned copy of the column names */
  struct bolt_value *rows;   /* owned list of rows */
  size_t nrows;              /* rows seen (also those not kept) */
  bool sync_warning;         /* a SyncReplicationFailure notification ([main]) */
  bool deadline_hit;         /* the whole query took longer than query_timeout_ms */
  char warning[256];
};

enum mg__run_flags { MG__READ_ONLY = 1 };

/* Resets err to "success" (err may be NULL). */
void mg__err_clear(struct mg_error *err);
/* Fills err with a local failure and returns rc (err may be NULL). */
int mg__err_local(struct mg_error *err, int rc, enum mg_err_class cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Index of a column by name in a list of strings, or -1. */
long mg__column(const struct bolt_value *fields, const char *name);
/* Copies a string value into dst; false when v is not a string. *truncated is set when it did not fit. */
bool mg__copy_string(const struct bolt_value *v, char *dst, size_t dstsz, bool *truncated);

/* Runs query on c (connecting first when needed) and fills t; the outcome is in c->last. The caller frees
 * t with mg__table_free() in every case. */
int mg__run_query(struct mg_conn *c, const char *query, unsigned flags, struct mg__table *t);
void mg__table_free(struct mg__table *t);
/* Ends a public call: c->last.rc = rc, a copy to *err when err is not NULL; returns rc. */
int mg__done(struct mg_conn *c, int rc, struct mg_error *err);

#endif
