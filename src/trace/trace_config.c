/* The tracer's configuration from the standard OTEL_* environment variables. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "trace.h"

#define DEFAULT_SERVICE "memgraph-operator"

/* clang-format off */
static const struct { const char *name; enum mgo_sampler s; } samplers[] = {
    {"always_on", MGO_SAMPLER_ALWAYS_ON},
    {"always_off", MGO_SAMPLER_ALWAYS_OFF},
    {"traceidratio", MGO_SAMPLER_RATIO},
    {"parentbased_always_on", MGO_SAMPLER_PARENT_ALWAYS_ON},
    {"parentbased_always_off", MGO_SAMPLER_PARENT_ALWAYS_OFF},
    {"parentbased_traceidratio", MGO_SAMPLER_PARENT_RATIO},
};
/* clang-format on */

static int bad(char *err, size_t errsz, const char *fmt, const char *what)
{
  if (err != NULL)
    (void) mgo_snprintf(err, errsz, fmt, what);
  return MGO_ECONFIG;
}

static const char *env(const char *(*getenv_fn)(const char *), const char *name)
{
  const char *v = getenv_fn(name);
  return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The traces URL: the signal-specific variable as is, else the base with "v1/traces" appended. */
static int endpoint_url(struct mgo_trace_config *cfg, const char *(*getenv_fn)(const char *), char *err,
                        size_t errsz)
{
  const char *traces = env(getenv_fn, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const char *base = env(getenv_fn, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const char *url = traces != NULL ? traces : base;
  int rc;
  if (url == NULL)
    return MGO_OK;
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
    return bad(err, errsz, "OTLP endpoint %s: not an http:// or https:// URL", url);
  if (traces != NULL)
    rc = mgo_strlcpy(cfg->url, traces, sizeof(cfg->url));
  else
    rc = mgo_snprintf(cfg->url, sizeof(cfg->url), "%s%sv1/traces", base,
                      base[strlen(base) - 1] == '/' ? "" : "/");
  return rc == MGO_OK ? MGO_OK : bad(err, errsz, "OTLP endpoint %.64s...: too long", url);
}

static int parse_sampler(struct mgo_trace_config *cfg, const char *(*getenv_fn)(const char *), char *err,
                         size_t errsz)
{
  const char *name = env(getenv_fn, "OTEL_TRACES_SAMPLER");
  const char *arg = env(getenv_fn, "OTEL_TRACES_SAMPLER_ARG");
  bool found = name == NULL;
  for (size_t i = 0; name != NULL && i < sizeof(samplers) / sizeof(samplers[0]); i++) {
    if (strcmp(name, samplers[i].name) == 0) {
      cfg->sampler = samplers[i].s;
      found = true;
    }
  }
  if (!found)
    return bad(err, errsz,
               "OTEL_TRACES_SAMPLER=%s: not one of always_on, always_off, traceidratio, "
               "parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
               name);
  if (arg != NULL && (cfg->sampler == MGO_SAMPLER_RATIO || cfg->sampler == MGO_SAMPLER_PARENT_RATIO)) {
    char *end;
    errno = 0;
    cfg->ratio = strtod(arg, &end);
    if (errno != 0 || *end != '\0' || !(cfg->ratio >= 0.0 && cfg->ratio <= 1.0))
      return bad(err, errsz, "OTEL_TRACES_SAMPLER_ARG=%s: not a ratio between 0 and 1", arg);
  }
  return MGO_OK;
}

/* A positive integer variable (ms or a count) into *out, which keeps its default when unset. */
static int positive(const char *(*getenv_fn)(const char *), const char *name, long max, long *out, char *err,
                    size_t errsz)
{
  const char *v = env(getenv_fn, name);
  char *end;
  long n;
  if (v == NULL)
    return MGO_OK;
  errno = 0;
  n = strtol(v, &end, 10);
  if (errno != 0 || *end != '\0' || n <= 0 || n > max)
    return bad(err, errsz, "%s: not a positive integer in range", name);
  *out = n;
  return MGO_OK;
}

static int parse_sizes(struct mgo_trace_config *cfg, const char *(*getenv_fn)(const char *), char *err,
                       size_t errsz)
{
  long queue = 2048, batch = 512, delay = 5000, timeout = 10000;
  int rc = positive(getenv_fn, "OTEL_BSP_MAX_QUEUE_SIZE", 1 << 20, &queue, err, errsz);
  if (rc == MGO_OK)
    rc = positive(getenv_fn, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1 << 20, &batch, err, errsz);
  if (rc == MGO_OK)
    rc = positive(getenv_fn, "OTEL_BSP_SCHEDULE_DELAY", 3600000, &delay, err, errsz);
  if (rc == MGO_OK)
    rc = positive(getenv_fn, "OTEL_EXPORTER_OTLP_TIMEOUT", 3600000, &timeout, err, errsz);
  if (rc == MGO_OK)
    rc = positive(getenv_fn, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 3600000, &timeout, err, errsz);
  cfg->queue_size = (size_t) queue;
  cfg->batch_size = (size_t) (batch < queue ? batch : queue);
  cfg->schedule_delay_ms = delay;
  cfg->export_timeout_ms = timeout;
  return rc;
}

static int hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char) tolower((unsigned char) c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* [p, end) percent-decoded and trimmed into dst. MGO_EPARSE for a bad escape, MGO_ETOOBIG. */
static int decode(const char *p, const char *end, char *dst, size_t dstsz)
{
  size_t n = 0;
  while (p < end && isspace((unsigned char) *p))
    p++;
  while (end > p && isspace((unsigned char) end[-1]))
    end--;
  for (; p < end; p++) {
    int c = (unsigned char) *p;
    if (c == '%') {
      int hi = end - p > 2 ? hex_digit(p[1]) : -1, lo = end - p > 2 ? hex_digit(p[2]) : -1;
      if (hi < 0 || lo < 0)
        return MGO_EPARSE;
      c = hi * 16 + lo;
      p += 2;
    }
    if (n + 1 >= dstsz)
      return MGO_ETOOBIG;
    dst[n++] = (char) c;
  }
  dst[n] = '\0';
  return MGO_OK;
}

static int parse_entry(struct mgo_trace_config *cfg, const char *p, const char *end, char *err, size_t errsz)
{
  const char *eq = memchr(p, '=', (size_t) (end - p));
  struct mgo_trace_kv *kv = &cfg->resource[cfg->nresource];
  if (eq == NULL)
    return bad(err, errsz, "OTEL_RESOURCE_ATTRIBUTES: an entry without '=' (%s)", "key=value expected");
  if (cfg->nresource >= MGO_TRACE_RESOURCE_MAX)
    return bad(err, errsz, "OTEL_RESOURCE_ATTRIBUTES: more than %s entries", "16");
  if (decode(p, eq, kv->key, sizeof(kv->key)) != MGO_OK || kv->key[0] == '\0' ||
      decode(eq + 1, end, kv->value, sizeof(kv->value)) != MGO_OK)
    return bad(err, errsz, "OTEL_RESOURCE_ATTRIBUTES: %s",
               "an empty key, a bad %-escape or a value too long");
  cfg->nresource++;
  return MGO_OK;
}

int mgo_trace_parse_resource(struct mgo_trace_config *cfg, const char *text, char *err, size_t errsz)
{
  const char *p = text;
  while (p != NULL && *p != '\0') {
    const char *comma = strchr(p, ',');
    const char *end = comma != NULL ? comma : p + strlen(p);
    int rc = parse_entry(cfg, p, end, err, errsz);
    if (rc != MGO_OK)
      return rc;
    p = comma != NULL ? comma + 1 : NULL;
  }
  return MGO_OK;
}

static bool is_true(const char *v)
{
  return v != NULL && strcasecmp(v, "true") == 0;
}

int mgo_trace_config_from_env(struct mgo_trace_config *cfg, const char *(*getenv_fn)(const char *name),
                              char *err, size_t errsz)
{
  const char *service = env(getenv_fn, "OTEL_SERVICE_NAME");
  const char *resource = env(getenv_fn, "OTEL_RESOURCE_ATTRIBUTES");
  int rc;
  memset(cfg, 0, sizeof(*cfg));
  cfg->sampler = MGO_SAMPLER_PARENT_ALWAYS_ON;
  cfg->ratio = 1.0;
  if (err != NULL && errsz > 0)
    err[0] = '\0';
  rc = parse_sizes(cfg, getenv_fn, err, errsz);
  if (rc == MGO_OK)
    rc = parse_sampler(cfg, getenv_fn, err, errsz);
  if (rc == MGO_OK && resource != NULL)
    rc = mgo_trace_parse_resource(cfg, resource, err, errsz);
  (void) mgo_strlcpy(cfg->service_name, DEFAULT_SERVICE, sizeof(cfg->service_name));
  for (size_t i = 0; i < cfg->nresource; i++) {
    if (strcmp(cfg->resource[i].key, "service.name") == 0)
      (void) mgo_strlcpy(cfg->service_name, cfg->resource[i].value, sizeof(cfg->service_name));
  }
  if (service != NULL)
    (void) mgo_strlcpy(cfg->service_name, service, sizeof(cfg->service_name));
  if (rc == MGO_OK && !is_true(env(getenv_fn, "OTEL_SDK_DISABLED")))
    rc = endpoint_url(cfg, getenv_fn, err, errsz);
  if (rc != MGO_OK)
    cfg->url[0] = '\0';
  return rc;
}
