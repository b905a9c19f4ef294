/* OTLP/JSON (opentelemetry-proto's JSON mapping): an ExportTraceServiceRequest of one resource and one scope.
 * Ids are lower-case hex, enums integers, 64-bit integers decimal strings. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace_int.h"

#define SCOPE_NAME "memgraph-operator"

static json_t *int64_string(int64_t v)
{
  char buf[24];
  (void) snprintf(buf, sizeof(buf), "%" PRId64, v);
  return json_string(buf);
}

static json_t *kv_string(const char *key, const char *value)
{
  return json_pack("{s:s, s:{s:s}}", "key", key, "value", "stringValue", value);
}

static json_t *attr_json(const struct mgo_span_attr *a)
{
  switch (a->type) {
  case MGO_ATTR_INT:
    return json_pack("{s:s, s:{s:o}}", "key", a->key, "value", "intValue", int64_string(a->i));
  case MGO_ATTR_BOOL:
    return json_pack("{s:s, s:{s:b}}", "key", a->key, "value", "boolValue", a->b);
  default:
    return kv_string(a->key, a->s != NULL ? a->s : "");
  }
}

static json_t *hex_of(const uint8_t *id, size_t n)
{
  char buf[33];
  mgo_trace__hex(id, n < 16 ? n : 16, buf);
  return json_string(buf);
}

static json_t *status_json(const struct mgo_span *s)
{
  json_t *st = json_pack("{s:i}", "code", (int) s->status);
  if (st != NULL && s->status_message != NULL)
    (void) json_object_set_new(st, "message", json_string(s->status_message));
  return st;
}

static json_t *span_json(const struct mgo_span *s)
{
  json_t *attrs = json_array();
  json_t *o;
  for (size_t i = 0; attrs != NULL && i < s->nattrs; i++)
    (void) json_array_append_new(attrs, attr_json(&s->attrs[i]));
  o = json_pack("{s:o, s:o, s:s, s:i, s:o, s:o, s:o, s:o}", "traceId", hex_of(s->trace_id, 16), "spanId",
                hex_of(s->span_id, 8), "name", s->name, "kind", (int) s->kind, "startTimeUnixNano",
                int64_string(s->start_ns), "endTimeUnixNano", int64_string(s->end_ns), "attributes", attrs,
                "status", status_json(s));
  if (o != NULL && s->has_parent)
    (void) json_object_set_new(o, "parentSpanId", hex_of(s->parent_span_id, 8));
  if (o != NULL && s->dropped_attrs > 0)
    (void) json_object_set_new(o, "droppedAttributesCount", json_integer(s->dropped_attrs));
  return o;
}

static json_t *resource_json(const struct mgo_trace_config *cfg)
{
  json_t *attrs = json_array();
  if (attrs == NULL)
    return NULL;
  (void) json_array_append_new(attrs, kv_string("service.name", cfg->service_name));
  for (size_t i = 0; i < cfg->nresource; i++) {
    if (strcmp(cfg->resource[i].key, "service.name") != 0)
      (void) json_array_append_new(attrs, kv_string(cfg->resource[i].key, cfg->resource[i].value));
  }
  return json_pack("{s:o}", "attributes", attrs);
}

json_t *mgo_trace_encode(const struct mgo_trace_config *cfg, const char *scope_version,
                         struct mgo_span *const *spans, size_t n)
{
  json_t *arr = json_array();
  for (size_t i = 0; arr != NULL && i < n; i++) {
    json_t *s = span_json(spans[i]);
    if (s == NULL || json_array_append_new(arr, s) != 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return json_pack("{s:[{s:o, s:[{s:{s:s, s:s}, s:o}]}]}", "resourceSpans", "resource", resource_json(cfg),
                   "scopeSpans", "scope", "name", SCOPE_NAME, "version", scope_version ? scope_version : "",
                   "spans", arr);
}
