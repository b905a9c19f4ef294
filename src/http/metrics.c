#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_err.h"

struct series {
  char *labels;
  double value;     /* counter/gauge value, histogram sum */
  unsigned long n;  /* histogram count */
  unsigned long *b; /* histogram per-bucket counts (non-cumulative) */
  struct series *next;
};

struct mgo_metric_family {
  char *name;
  char *help;
  enum mgo_metric_type type;
  double *buckets;
  size_t nbuckets;
  struct series *series;
  struct mgo_metric_family *next;
  pthread_mutex_t *lock; /* the registry's lock */
};

struct mgo_metrics {
  pthread_mutex_t lock;
  struct mgo_metric_family *head, *tail;
};

struct mgo_metrics *mgo_metrics_new(void)
{
  struct mgo_metrics *m = calloc(1, sizeof *m);
  if (m)
    pthread_mutex_init(&m->lock, NULL);
  return m;
}

static void series_free(struct series *s)
{
  free(s->labels);
  free(s->b);
  free(s);
}

void mgo_metrics_free(struct mgo_metrics *m)
{
  if (!m)
    return;
  struct mgo_metric_family *f = m->head;
  while (f) {
    struct mgo_metric_family *nf = f->next;
    struct series *s = f->series;
    while (s) {
      struct series *ns = s->next;
      series_free(s);
      s = ns;
    }
    free(f->name);
    free(f->help);
    free(f->buckets);
    free(f);
    f = nf;
  }
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static int valid_metric_name(const char *s)
{
  if (!*s || (*s >= '0' && *s <= '9'))
    return 0;
  for (; *s; s++) {
    int ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
             *s == ':';
    if (!ok)
      return 0;
  }
  return 1;
}

static struct mgo_metric_family *family_new(const char *name, const char *help, enum mgo_metric_type type,
                                            const double *buckets, size_t nbuckets)
{
  struct mgo_metric_family *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->name = strdup(name);
  f->help = strdup(help);
  f->type = type;
  if (type == MGO_METRIC_HISTOGRAM && nbuckets > 0) {
    f->buckets = malloc(nbuckets * sizeof *buckets);
    if (f->buckets) {
      memcpy(f->buckets, buckets, nbuckets * sizeof *buckets);
      f->nbuckets = nbuckets;
    }
  }
  if (!f->name || !f->help || (type == MGO_METRIC_HISTOGRAM && nbuckets > 0 && !f->buckets)) {
    free(f->name);
    free(f->help);
    free(f->buckets);
    free(f);
    return NULL;
  }
  return f;
}

struct mgo_metric_family *mgo_metrics_family(struct mgo_metrics *m, const char *name, const char *help,
                                             enum mgo_metric_type type, const double *buckets,
                                             size_t nbuckets)
{
  if (!valid_metric_name(name))
    return NULL;
  pthread_mutex_lock(&m->lock);
  struct mgo_metric_family *f = m->head;
  while (f && strcmp(f->name, name) != 0)
    f = f->next;
  if (!f) {
    f = family_new(name, help, type, buckets, nbuckets);
    if (f) {
      f->lock = &m->lock;
      if (m->tail)
        m->tail->next = f;
      else
        m->head = f;
      m->tail = f;
    }
  }
  pthread_mutex_unlock(&m->lock);
  return f;
}

static int append_escaped(char *out, size_t outsz, size_t *pos, const char *v)
{
  for (; *v; v++) {
    const char *rep = NULL;
    char one[2] = {*v, '\0'};
    if (*v == '\\')
      rep = "\\\\";
    else if (*v == '"')
      rep = "\\\"";
    else if (*v == '\n')
      rep = "\\n";
    else
      rep = one;
    size_t n = strlen(rep);
    if (*pos + n >= outsz)
      return MGO_ETOOBIG;
    memcpy(out + *pos, rep, n);
    *pos += n;
  }
  out[*pos] = '\0';
  return MGO_OK;
}

int mgo_metric_labels(char *out, size_t outsz, ...)
{
  size_t pos = 0;
  int rc = MGO_OK;
  va_list ap;
  if (outsz == 0)
    return MGO_ETOOBIG;
  out[0] = '\0';
  va_start(ap, outsz);
  for (const char *k = va_arg(ap, const char *); k && rc == MGO_OK; k = va_arg(ap, const char *)) {
    const char *v = va_arg(ap, const char *);
    rc = mgo_snprintf(out + pos, outsz - pos, "%s%s=\"", pos ? "," : "", k);
    if (rc == MGO_OK) {
      pos += strlen(out + pos);
      rc = append_escaped(out, outsz, &pos, v ? v : "");
    }
    if (rc == MGO_OK)
      rc = mgo_snprintf(out + pos, outsz - pos, "\"");
    if (rc == MGO_OK)
      pos++;
  }
  va_end(ap);
  if (rc != MGO_OK)
    out[0] = '\0';
  return rc;
}

/* Called with the registry lock held. */
static struct series *series_get(struct mgo_metric_family *f, const char *labels, int create)
{
  struct series *s = f->series;
  while (s && strcmp(s->labels, labels) != 0)
    s = s->next;
  if (s || !create)
    return s;
  s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->labels = strdup(labels);
  if (f->type == MGO_METRIC_HISTOGRAM)
    s->b = calloc(f->nbuckets + 1, sizeof *s->b);
  if (!s->labels || (f->type == MGO_METRIC_HISTOGRAM && !s->b)) {
    series_free(s);
    return NULL;
  }
  s->next = f->series;
  f->series = s;
  return s;
}

static int update(struct mgo_metric_family *f, const char *labels, double v, int op)
{
  pthread_mutex_lock(f->lock);
  struct series *s = series_get(f, labels, 1);
  if (s) {
    if (op == 0)
      s->value += v;
    else
      s->value = v;
  }
  pthread_mutex_unlock(f->lock);
  return s ? MGO_OK : MGO_ENOMEM;
}

int mgo_metric_add(struct mgo_metric_family *f, const char *labels, double v)
{
  if (f->type == MGO_METRIC_HISTOGRAM || (f->type == MGO_METRIC_COUNTER && v < 0))
    return MGO_EINVAL;
  return update(f, labels, v, 0);
}

int mgo_metric_set(struct mgo_metric_family *f, const char *labels, double v)
{
  if (f->type != MGO_METRIC_GAUGE)
    return MGO_EINVAL;
  return update(f, labels, v, 1);
}

int mgo_metric_observe(struct mgo_metric_family *f, const char *labels, double v)
{
  if (f->type != MGO_METRIC_HISTOGRAM)
    return MGO_EINVAL;
  pthread_mutex_lock(f->lock);
  struct series *s = series_get(f, labels, 1);
  if (s) {
    size_t i = 0;
    while (i < f->nbuckets && v > f->buckets[i])
      i++;
    s->b[i]++;
    s->n++;
    s->value += v;
  }
  pthread_mutex_unlock(f->lock);
  return s ? MGO_OK : MGO_ENOMEM;
}

int mgo_metric_touch(struct mgo_metric_family *f, const char *labels)
{
  pthread_mutex_lock(f->lock);
  struct series *s = series_get(f, labels, 1);
  pthread_mutex_unlock(f->lock);
  return s ? MGO_OK : MGO_ENOMEM;
}

int mgo_metric_get(struct mgo_metric_family *f, const char *labels, double *out)
{
  pthread_mutex_lock(f->lock);
  struct series *s = series_get(f, labels, 0);
  if (s)
    *out = s->value;
  pthread_mutex_unlock(f->lock);
  return s ? MGO_OK : MGO_ENOTFOUND;
}

/* Removes the series whose labels equal pattern (exact) or contain it (!exact). */
static void remove_where(struct mgo_metric_family *f, const char *pattern, int exact)
{
  struct series **pp = &f->series;
  while (*pp) {
    struct series *s = *pp;
    int match = exact ? strcmp(s->labels, pattern) == 0 : strstr(s->labels, pattern) != NULL;
    if (match) {
      *pp = s->next;
      series_free(s);
    } else {
      pp = &s->next;
    }
  }
}

void mgo_metric_remove(struct mgo_metric_family *f, const char *labels)
{
  pthread_mutex_lock(f->lock);
  remove_where(f, labels, 1);
  pthread_mutex_unlock(f->lock);
}

void mgo_metric_remove_matching(struct mgo_metrics *m, const char *fragment)
{
  pthread_mutex_lock(&m->lock);
  for (struct mgo_metric_family *f = m->head; f; f = f->next)
    remove_where(f, fragment, 0);
  pthread_mutex_unlock(&m->lock);
}

static const char *type_name(enum mgo_metric_type t)
{
  return t == MGO_METRIC_COUNTER ? "counter" : t == MGO_METRIC_GAUGE ? "gauge" : "histogram";
}

static int render_number(struct mgo_buf *out, double v)
{
  if (isinf(v))
    return mgo_buf_addstr(out, v > 0 ? "+Inf" : "-Inf");
  if (isnan(v))
    return mgo_buf_addstr(out, "NaN");
  return mgo_buf_printf(out, "%.17g", v);
}

static int render_sample(struct mgo_buf *out, const char *name, const char *suffix, const char *labels,
                         const char *extra, double v)
{
  int has = labels[0] != '\0';
  int rc = mgo_buf_printf(out, "%s%s", name, suffix);
  if (rc == MGO_OK && (has || extra))
    rc = mgo_buf_printf(out, "{%s%s%s}", labels, has && extra ? "," : "", extra ? extra : "");
  if (rc == MGO_OK)
    rc = mgo_buf_add(out, " ", 1);
  if (rc == MGO_OK)
    rc = render_number(out, v);
  if (rc == MGO_OK)
    rc = mgo_buf_add(out, "\n", 1);
  return rc;
}

static int render_histogram(struct mgo_buf *out, const struct mgo_metric_family *f, const struct series *s)
{
  unsigned long cum = 0;
  char le[64];
  int rc = MGO_OK;
  for (size_t i = 0; i <= f->nbuckets && rc == MGO_OK; i++) {
    cum += s->b[i];
    if (i < f->nbuckets)
      mgo_snprintf(le, sizeof le, "le=\"%.17g\"", f->buckets[i]);
    else
      mgo_strlcpy(le, "le=\"+Inf\"", sizeof le);
    rc = render_sample(out, f->name, "_bucket", s->labels, le, (double) cum);
  }
  if (rc == MGO_OK)
    rc = render_sample(out, f->name, "_sum", s->labels, NULL, s->value);
  if (rc == MGO_OK)
    rc = render_sample(out, f->name, "_count", s->labels, NULL, (double) s->n);
  return rc;
}

static int render_family(struct mgo_buf *out, const struct mgo_metric_family *f)
{
  int rc = mgo_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, type_name(f->type));
  for (const struct series *s = f->series; s && rc == MGO_OK; s = s->next) {
    if (f->type == MGO_METRIC_HISTOGRAM)
      rc = render_histogram(out, f, s);
    else
      rc = render_sample(out, f->name, "", s->labels, NULL, s->value);
  }
  return rc;
}

int mgo_metrics_render(struct mgo_metrics *m, struct mgo_buf *out)
{
  int rc = MGO_OK;
  pthread_mutex_lock(&m->lock);
  for (const struct mgo_metric_family *f = m->head; f && rc == MGO_OK; f = f->next)
    rc = render_family(out, f);
  pthread_mutex_unlock(&m->lock);
  return rc;
}
