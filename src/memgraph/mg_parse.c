/* Pure parsers of the result shapes in memgraph.md section 2 and 10.2. Columns are found by name; values
 * of unexpected types are reported (required columns) or ignored (optional details), never trusted. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mg_int.h"
#include "mgo_buf.h"
#include "mgo_err.h"

void mg__err_clear(struct mg_error *err)
{
  if (err == NULL)
    return;
  memset(err, 0, sizeof(*err));
}

int mg__err_local(struct mg_error *err, int rc, enum mg_err_class cls, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  if (err != NULL) {
    mg__err_clear(err);
    err->rc = rc;
    err->cls = cls;
    /* clang-tidy 14 reports this va_list as uninitialized only when it checks several files in one run */
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
  }
  va_end(ap);
  return rc;
}

long mg__column(const struct bolt_value *fields, const char *name)
{
  size_t n = bolt_value_type(fields) == BOLT_LIST ? bolt_value_len(fields) : 0;

  for (size_t i = 0; i < n; i++) {
    const char *s = NULL;
    if (bolt_value_as_string(bolt_list_at(fields, i), &s, NULL) == MGO_OK && strcmp(s, name) == 0)
      return (long) i;
  }
  return -1;
}

bool mg__copy_string(const struct bolt_value *v, char *dst, size_t dstsz, bool *truncated)
{
  const char *s = NULL;

  if (bolt_value_as_string(v, &s, NULL) != MGO_OK)
    return false;
  if (mgo_strlcpy(dst, s, dstsz) != MGO_OK && truncated)
    *truncated = true;
  return true;
}

/* ---- versions ---------------------------------------------------------------------------------------- */

static int read_number(const char **p, int *out)
{
  int v = 0;
  int digits = 0;

  while (**p >= '0' && **p <= '9') {
    if (++digits > 6)
      return MGO_EPARSE;
    v = v * 10 + (**p - '0');
    (*p)++;
  }
  if (digits == 0)
    return MGO_EPARSE;
  *out = v;
  return MGO_OK;
}

int mg_parse_version(const char *s, struct mg_version *out)
{
  const char *p = s ? s : "";
  int parts[3] = {0, 0, 0};

  memset(out, 0, sizeof(*out));
  mgo_strlcpy(out->raw, p, sizeof(out->raw));
  if (*p == 'v' || *p == 'V')
    p++;
  if (read_number(&p, &parts[0]) != MGO_OK || *p++ != '.' || read_number(&p, &parts[1]) != MGO_OK)
    return MGO_EPARSE;
  if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
    p++;
    if (read_number(&p, &parts[2]) != MGO_OK)
      return MGO_EPARSE;
  }
  if (parts[0] == 0 && parts[1] == 0 && parts[2] == 0)
    return MGO_EPARSE;
  out->major = parts[0];
  out->minor = parts[1];
  out->patch = parts[2];
  return MGO_OK;
}

bool mg_version_known(const struct mg_version *v)
{
  return v != NULL && (v->major != 0 || v->minor != 0 || v->patch != 0);
}

bool mg_version_at_least(const struct mg_version *v, int major, int minor, int patch)
{
  if (!mg_version_known(v))
    return false;
  if (v->major != major)
    return v->major > major;
  if (v->minor != minor)
    return v->minor > minor;
  return v->patch >= patch;
}

/* ---- single-value results ---------------------------------------------------------------------------- */

/* The string in column `name` of the first row. */
static int first_string(const struct bolt_value *fields, const struct bolt_value *rows, const char *name,
                        const char **out, struct mg_error *err)
{
  long col = mg__column(fields, name);
  const struct bolt_value *cell;

  if (col < 0)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "no column '%s' in the result", name);
  if (bolt_value_type(rows) != BOLT_LIST || bolt_value_len(rows) == 0)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "no row in the result");
  cell = bolt_list_at(bolt_list_at(rows, 0), (size_t) col);
  if (bolt_value_as_string(cell, out, NULL) != MGO_OK)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "column '%s' is %s, expected String", name,
                         bolt_type_name(bolt_value_type(cell)));
  return MGO_OK;
}

int mg_parse_version_result(const struct bolt_value *fields, const struct bolt_value *rows,
                            struct mg_version *out, struct mg_error *err)
{
  const char *s = NULL;
  int rc = first_string(fields, rows, "version", &s, err);

  if (rc != MGO_OK) {
    memset(out, 0, sizeof(*out));
    return rc;
  }
  if (mg_parse_version(s, out) != MGO_OK)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "unreadable version '%s'", out->raw);
  mg__err_clear(err);
  return MGO_OK;
}

int mg_parse_role(const struct bolt_value *fields, const struct bolt_value *rows, enum mgo_role *out,
                  struct mg_error *err)
{
  const char *s = NULL;
  int rc = first_string(fields, rows, "replication role", &s, err);

  *out = MGO_ROLE_UNKNOWN;
  if (rc != MGO_OK || s == NULL)
    return rc != MGO_OK ? rc : mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "no replication role");
  *out = mgo_role_named(s, MGO_CASE_ANY);
  if (*out == MGO_ROLE_UNKNOWN)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "unknown replication role '%.64s'", s);
  mg__err_clear(err);
  return MGO_OK;
}

/* ---- SHOW STORAGE INFO ------------------------------------------------------------------------------- */

/* A size or label: strings as they are, integers in decimal, anything else "". */
static void copy_text(const struct bolt_value *v, char *dst, size_t dstsz)
{
  int64_t i = 0;

  dst[0] = '\0';
  if (mg__copy_string(v, dst, dstsz, NULL))
    return;
  if (bolt_value_as_int(v, &i) == MGO_OK)
    mgo_snprintf(dst, dstsz, "%lld", (long long) i);
}

static void storage_key(struct mg_storage_info *si, const char *key, const struct bolt_value *v)
{
  struct {
    const char *key;
    char *dst;
    size_t sz;
  } texts[] = {{"name", si->name, sizeof(si->name)},
               {"memory_res", si->memory_res, sizeof(si->memory_res)},
               {"peak_memory_res", si->peak_memory_res, sizeof(si->peak_memory_res)},
               {"disk_usage", si->disk_usage, sizeof(si->disk_usage)},
               {"memory_tracked", si->memory_tracked, sizeof(si->memory_tracked)},
               {"allocation_limit", si->allocation_limit, sizeof(si->allocation_limit)},
               {"storage_mode", si->storage_mode, sizeof(si->storage_mode)}};

  if (strcmp(key, "vertex_count") == 0)
    si->has_vertex_count = bolt_value_as_int(v, &si->vertex_count) == MGO_OK;
  else if (strcmp(key, "edge_count") == 0)
    si->has_edge_count = bolt_value_as_int(v, &si->edge_count) == MGO_OK;
  else if (strcmp(key, "average_degree") == 0)
    bolt_value_as_float(v, &si->average_degree);
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    if (strcmp(key, texts[i].key) == 0)
      copy_text(v, texts[i].dst, texts[i].sz);
  }
}

int mg_parse_storage_info(const struct bolt_value *fields, const struct bolt_value *rows,
                          struct mg_storage_info *out, struct mg_error *err)
{
  long kcol = mg__column(fields, "storage info");
  long vcol = mg__column(fields, "value");
  size_t n = bolt_value_type(rows) == BOLT_LIST ? bolt_value_len(rows) : 0;

  memset(out, 0, sizeof(*out));
  if (kcol < 0 || vcol < 0)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT,
                         "SHOW STORAGE INFO: no 'storage info'/'value' column");
  for (size_t i = 0; i < n; i++) {
    const struct bolt_value *row = bolt_list_at(rows, i);
    const char *key = NULL;
    if (bolt_value_as_string(bolt_list_at(row, (size_t) kcol), &key, NULL) != MGO_OK)
      continue;
    storage_key(out, key, bolt_list_at(row, (size_t) vcol));
    out->n_keys++;
  }
  if (!out->has_vertex_count || !out->has_edge_count)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT,
                         "SHOW STORAGE INFO: no integer vertex_count/edge_count");
  mg__err_clear(err);
  return MGO_OK;
}

enum mg_data mg_storage_data(const struct mg_storage_info *si)
{
  if (si == NULL || !si->has_vertex_count || !si->has_edge_count)
    return MG_DATA_UNKNOWN;
  return si->vertex_count + si->edge_count > 0 ? MG_DATA_PRESENT : MG_DATA_EMPTY;
}

/* ---- SHOW SNAPSHOTS ---------------------------------------------------------------------------------- */

struct snap_cols {
  long path, ts, time, size;
};

static int snapshot_row(const struct bolt_value *row, const struct snap_cols *c, struct mg_snapshot *s,
                        size_t i, struct mg_error *err)
{
  memset(s, 0, sizeof(*s));
  if (!mg__copy_string(bolt_list_at(row, (size_t) c->path), s->path, sizeof(s->path), NULL))
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "SHOW SNAPSHOTS row %zu: path is not a string",
                         i);
  if (bolt_value_as_int(bolt_list_at(row, (size_t) c->ts), &s->timestamp) != MGO_OK)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT,
                         "SHOW SNAPSHOTS row %zu: timestamp is not an integer", i);
  if (c->time >= 0)
    copy_text(bolt_list_at(row, (size_t) c->time), s->creation_time, sizeof(s->creation_time));
  if (c->size >= 0)
    copy_text(bolt_list_at(row, (size_t) c->size), s->size, sizeof(s->size));
  /* 2.22-3.4 add a row for the next periodic snapshot: the directory, timestamp 0 (memgraph.md 10.2). */
  s->next_scheduled = s->timestamp == 0 && strstr(s->path, "_timestamp_") == NULL;
  return MGO_OK;
}

int mg_parse_snapshots(const struct bolt_value *fields, const struct bolt_value *rows,
                       struct mg_snapshots *out, struct mg_error *err)
{
  struct snap_cols c = {mg__column(fields, "path"), mg__column(fields, "timestamp"),
                        mg__column(fields, "creation_time"), mg__column(fields, "size")};
  size_t n = bolt_value_type(rows) == BOLT_LIST ? bolt_value_len(rows) : 0;

  memset(out, 0, sizeof(*out));
  if (c.path < 0 || c.ts < 0)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "SHOW SNAPSHOTS: no 'path'/'timestamp' column");
  for (size_t i = 0; i < n; i++) {
    if (out->n == MG_MAX_SNAPSHOTS) {
      out->dropped = n - i;
      break;
    }
    int rc = snapshot_row(bolt_list_at(rows, i), &c, &out->s[out->n], i, err);
    if (rc != MGO_OK)
      return rc;
    out->n++;
  }
  mg__err_clear(err);
  return MGO_OK;
}

/* ---- the replication canary -------------------------------------------------------------------------- */

/* The integer in column col of row, or -1 when it is not an integer. */
static int64_t int_cell(const struct bolt_value *row, long col)
{
  int64_t v = -1;
  if (bolt_value_as_int(bolt_list_at(row, (size_t) col), &v) != MGO_OK)
    return -1;
  return v;
}

int mg_parse_canary(const struct bolt_value *fields, const struct bolt_value *rows, struct mg_canary *out,
                    struct mg_error *err)
{
  long seq = mg__column(fields, "seq"), ts = mg__column(fields, "ts");
  long nprops = mg__column(fields, "nprops"), nlabels = mg__column(fields, "nlabels");
  const struct bolt_value *row;

  memset(out, 0, sizeof(*out));
  if (seq < 0 || ts < 0 || nprops < 0 || nlabels < 0)
    return mg__err_local(err, MGO_EPARSE, MG_ERR_BAD_RESULT, "canary: no seq/ts/nprops/nlabels column");
  out->nodes = bolt_value_type(rows) == BOLT_LIST ? bolt_value_len(rows) : 0;
  if (out->nodes == 1) {
    row = bolt_list_at(rows, 0);
    out->seq = int_cell(row, seq);
    out->ts_ms = int_cell(row, ts);
    out->well_formed =
        out->seq >= 0 && out->ts_ms >= 0 && int_cell(row, nprops) == 2 && int_cell(row, nlabels) == 1;
  }
  mg__err_clear(err);
  return MGO_OK;
}
