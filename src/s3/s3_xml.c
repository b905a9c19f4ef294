/* A minimal XML extractor for S3 answers (see s3_internal.h). It is not a general parser: it finds named
 * elements by their start and end tags, which is enough for the flat documents S3 returns (no element
 * nests another of its own name). Every read is bounded by len; whatever does not close is MGO_EPARSE. */
#include "mgo_err.h"
#include "s3_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *memfind(const char *h, size_t hlen, const char *n, size_t nlen)
{
  if (nlen == 0 || hlen < nlen)
    return NULL;
  for (size_t i = 0; i + nlen <= hlen; i++)
    if (h[i] == n[0] && memcmp(h + i, n, nlen) == 0)
      return h + i;
  return NULL;
}

/* The position of the '>' closing a start tag beginning at s, or NULL. */
static const char *tag_end(const char *s, const char *end)
{
  const char *gt = memchr(s, '>', (size_t) (end - s));
  return gt;
}

int s3_xml_find(const char *xml, size_t len, size_t *pos, const char *tag, const char **val, size_t *vlen)
{
  char open[72], close[72];
  size_t tl = strlen(tag);
  if (tl == 0 || tl > 64 || *pos > len)
    return MGO_EINVAL;
  mgo_snprintf(open, sizeof(open), "<%s", tag);
  mgo_snprintf(close, sizeof(close), "</%s>", tag);
  const char *end = xml + len;
  for (const char *p = xml + *pos; p < end;) {
    const char *s = memfind(p, (size_t) (end - p), open, tl + 1);
    if (!s)
      return MGO_ENOTFOUND;
    const char *after = s + tl + 1;
    if (after >= end)
      return MGO_EPARSE;
    if (*after != '>' && *after != '/' && *after != ' ' && *after != '\t' && *after != '\r' &&
        *after != '\n') {
      p = after; /* a longer name sharing the prefix */
      continue;
    }
    const char *gt = tag_end(after, end);
    if (!gt)
      return MGO_EPARSE;
    if (gt[-1] == '/') { /* <tag/> */
      *val = gt + 1;
      *vlen = 0;
      *pos = (size_t) (gt + 1 - xml);
      return MGO_OK;
    }
    const char *c = memfind(gt + 1, (size_t) (end - gt - 1), close, tl + 3);
    if (!c)
      return MGO_EPARSE;
    *val = gt + 1;
    *vlen = (size_t) (c - gt - 1);
    *pos = (size_t) (c + tl + 3 - xml);
    return MGO_OK;
  }
  return MGO_ENOTFOUND;
}

/* Appends the UTF-8 encoding of code point cp. */
static int put_utf8(unsigned long cp, char *out, size_t outsz, size_t *o)
{
  unsigned char b[4];
  size_t n;
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return MGO_EPARSE;
  if (cp < 0x80) {
    b[0] = (unsigned char) cp, n = 1;
  } else if (cp < 0x800) {
    b[0] = (unsigned char) (0xC0 | (cp >> 6)), b[1] = (unsigned char) (0x80 | (cp & 0x3F)), n = 2;
  } else if (cp < 0x10000) {
    b[0] = (unsigned char) (0xE0 | (cp >> 12)), b[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
    b[2] = (unsigned char) (0x80 | (cp & 0x3F)), n = 3;
  } else {
    b[0] = (unsigned char) (0xF0 | (cp >> 18)), b[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F)), b[3] = (unsigned char) (0x80 | (cp & 0x3F)), n = 4;
  }
  if (*o + n >= outsz)
    return MGO_ETOOBIG;
  memcpy(out + *o, b, n);
  *o += n;
  return MGO_OK;
}

/* Decodes the entity starting at v[0] == '&'; *used receives its length. */
static int entity(const char *v, size_t vlen, char *out, size_t outsz, size_t *o, size_t *used)
{
  static const struct {
    const char *name;
    char c;
  } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
  const char *semi = memchr(v, ';', vlen < 12 ? vlen : 12);
  if (!semi)
    return MGO_EPARSE;
  *used = (size_t) (semi - v) + 1;
  for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
    if (strlen(named[i].name) == *used - 1 && memcmp(v + 1, named[i].name, *used - 1) == 0) {
      if (*o + 1 >= outsz)
        return MGO_ETOOBIG;
      out[(*o)++] = named[i].c;
      return MGO_OK;
    }
  }
  if (*used < 4 || v[1] != '#')
    return MGO_EPARSE;
  char num[12] = "";
  bool hexa = v[2] == 'x' || v[2] == 'X';
  size_t start = hexa ? 3 : 2;
  if (*used - 1 <= start)
    return MGO_EPARSE;
  memcpy(num, v + start, *used - 1 - start);
  char *endp = NULL;
  unsigned long cp = strtoul(num, &endp, hexa ? 16 : 10);
  if (!endp || *endp != '\0' || num[0] == '-' || num[0] == '+' || num[0] == ' ')
    return MGO_EPARSE;
  return put_utf8(cp, out, outsz, o);
}

int s3_xml_text(const char *v, size_t vlen, char *out, size_t outsz)
{
  size_t o = 0;
  if (outsz == 0)
    return MGO_ETOOBIG;
  out[0] = '\0';
  for (size_t i = 0; i < vlen;) {
    int rc = MGO_OK;
    if (v[i] == '<' || v[i] == '\0') {
      rc = MGO_EPARSE;
    } else if (v[i] == '&') {
      size_t used = 0;
      rc = entity(v + i, vlen - i, out, outsz, &o, &used);
      i += used;
    } else if (o + 1 >= outsz) {
      rc = MGO_ETOOBIG;
    } else {
      out[o++] = v[i++];
    }
    if (rc) {
      out[0] = '\0';
      return rc;
    }
  }
  out[o] = '\0';
  return MGO_OK;
}

int s3_xml_get(const char *xml, size_t len, const char *tag, char *out, size_t outsz)
{
  const char *v;
  size_t vlen, pos = 0;
  int rc = s3_xml_find(xml, len, &pos, tag, &v, &vlen);
  return rc ? rc : s3_xml_text(v, vlen, out, outsz);
}

/* The content of the document element <root>...</root> (after an optional prolog). */
static int root(const char *xml, size_t len, const char *name, const char **body, size_t *blen)
{
  size_t pos = 0;
  int rc = s3_xml_find(xml, len, &pos, name, body, blen);
  return rc == MGO_ENOTFOUND ? MGO_EPARSE : rc;
}

int s3_xml_error(const char *xml, size_t len, struct s3_error *err)
{
  const char *b;
  size_t blen;
  int rc = root(xml, len, "Error", &b, &blen);
  if (rc)
    return rc;
  rc = s3_xml_get(b, blen, "Code", err->code, sizeof(err->code));
  if (rc == MGO_ETOOBIG || rc == MGO_ENOTFOUND)
    err->code[0] = '\0', rc = rc == MGO_ENOTFOUND ? MGO_EPARSE : MGO_OK;
  if (rc)
    return rc;
  int mrc = s3_xml_get(b, blen, "Message", err->message, sizeof(err->message));
  if (mrc == MGO_ETOOBIG) { /* keep a readable prefix: decode what fits */
    const char *v;
    size_t vlen, pos = 0;
    if (s3_xml_find(b, blen, &pos, "Message", &v, &vlen) == MGO_OK)
      s3_xml_text(v, vlen < sizeof(err->message) / 2 ? vlen : sizeof(err->message) / 2, err->message,
                  sizeof(err->message));
  }
  return mrc == MGO_EPARSE ? MGO_EPARSE : MGO_OK;
}

int s3_xml_upload_id(const char *xml, size_t len, char *out, size_t outsz)
{
  const char *b;
  size_t blen;
  int rc = root(xml, len, "InitiateMultipartUploadResult", &b, &blen);
  if (!rc)
    rc = s3_xml_get(b, blen, "UploadId", out, outsz);
  if (!rc && out[0] == '\0')
    rc = MGO_EPARSE;
  return rc == MGO_ENOTFOUND ? MGO_EPARSE : rc;
}

static int parse_u64(const char *s, uint64_t *v)
{
  char *end = NULL;
  if (s[0] < '0' || s[0] > '9')
    return MGO_EPARSE;
  unsigned long long x = strtoull(s, &end, 10);
  if (!end || *end != '\0')
    return MGO_EPARSE;
  *v = x;
  return MGO_OK;
}

/* One <Contents> element into obj. Key and Size are required. */
static int list_entry(const char *v, size_t vlen, struct s3_object *obj)
{
  char size[32];
  memset(obj, 0, sizeof(*obj));
  int rc = s3_xml_get(v, vlen, "Key", obj->key, sizeof(obj->key));
  if (!rc)
    rc = s3_xml_get(v, vlen, "Size", size, sizeof(size));
  if (!rc)
    rc = parse_u64(size, &obj->size);
  int orc = s3_xml_get(v, vlen, "LastModified", obj->last_modified, sizeof(obj->last_modified));
  if (!rc && orc != MGO_OK && orc != MGO_ENOTFOUND)
    rc = orc;
  orc = s3_xml_get(v, vlen, "ETag", obj->etag, sizeof(obj->etag));
  if (!rc && orc != MGO_OK && orc != MGO_ENOTFOUND)
    rc = orc;
  return rc == MGO_ENOTFOUND || rc == MGO_ETOOBIG ? MGO_EPARSE : rc;
}

/* IsTruncated and NextContinuationToken of a page. */
static int list_trailer(const char *b, size_t blen, struct s3_list_page *page)
{
  char trunc[8];
  int rc = s3_xml_get(b, blen, "IsTruncated", trunc, sizeof(trunc));
  if (rc == MGO_ENOTFOUND)
    return MGO_OK;
  if (rc)
    return MGO_EPARSE;
  if (strcmp(trunc, "true") != 0 && strcmp(trunc, "false") != 0)
    return MGO_EPARSE;
  page->truncated = strcmp(trunc, "true") == 0;
  if (!page->truncated)
    return MGO_OK;
  rc = s3_xml_get(b, blen, "NextContinuationToken", page->next_token, sizeof(page->next_token));
  return rc || page->next_token[0] == '\0' ? MGO_EPARSE : MGO_OK;
}

int s3_xml_list(const char *xml, size_t len, s3_list_fn cb, void *ctx, struct s3_list_page *page)
{
  const char *b, *v;
  size_t blen, vlen, pos = 0;
  struct s3_object obj;
  memset(page, 0, sizeof(*page));
  int rc = root(xml, len, "ListBucketResult", &b, &blen);
  if (!rc)
    rc = list_trailer(b, blen, page);
  while (!rc && (rc = s3_xml_find(b, blen, &pos, "Contents", &v, &vlen)) == MGO_OK) {
    rc = list_entry(v, vlen, &obj);
    if (rc)
      break;
    page->count++;
    if (cb && !cb(ctx, &obj)) {
      page->stopped = true;
      return MGO_OK;
    }
  }
  return rc == MGO_ENOTFOUND ? MGO_OK : rc;
}

int s3_xml_tag_value(const char *xml, size_t len, const char *key, char *out, size_t outsz)
{
  const char *b, *v;
  size_t blen, vlen, pos = 0;
  char k[128];
  out[0] = '\0';
  int rc = root(xml, len, "Tagging", &b, &blen);
  while (!rc && (rc = s3_xml_find(b, blen, &pos, "Tag", &v, &vlen)) == MGO_OK) {
    rc = s3_xml_get(v, vlen, "Key", k, sizeof(k));
    if (rc == MGO_ETOOBIG)
      rc = MGO_OK, k[0] = '\0';
    if (rc)
      break;
    if (strcmp(k, key) == 0) {
      rc = s3_xml_get(v, vlen, "Value", out, outsz);
      break;
    }
  }
  return rc == MGO_ENOTFOUND ? MGO_OK : rc;
}

int s3_xml_count_uploads(const char *xml, size_t len, size_t *count)
{
  const char *b, *v;
  size_t blen, vlen, pos = 0;
  *count = 0;
  int rc = root(xml, len, "ListMultipartUploadsResult", &b, &blen);
  while (!rc && (rc = s3_xml_find(b, blen, &pos, "Upload", &v, &vlen)) == MGO_OK)
    (*count)++;
  return rc == MGO_ENOTFOUND ? MGO_OK : rc;
}

int s3_xml_escape(const char *s, struct mgo_buf *out)
{
  int rc = MGO_OK;
  for (const char *p = s; *p && !rc; p++) {
    switch (*p) {
    case '&':
      rc = mgo_buf_addstr(out, "&amp;");
      break;
    case '<':
      rc = mgo_buf_addstr(out, "&lt;");
      break;
    case '>':
      rc = mgo_buf_addstr(out, "&gt;");
      break;
    case '"':
      rc = mgo_buf_addstr(out, "&quot;");
      break;
    case '\'':
      rc = mgo_buf_addstr(out, "&apos;");
      break;
    default:
      rc = mgo_buf_add(out, p, 1);
      break;
    }
  }
  return rc;
}

int s3_complete_body(const char (*etags)[80], size_t n, struct mgo_buf *out)
{
  int rc = mgo_buf_addstr(out, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
  for (size_t i = 0; i < n && !rc; i++) {
    rc = mgo_buf_printf(out, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
    if (!rc)
      rc = s3_xml_escape(etags[i], out);
    if (!rc)
      rc = mgo_buf_addstr(out, "</ETag></Part>");
  }
  if (!rc)
    rc = mgo_buf_addstr(out, "</CompleteMultipartUpload>");
  return rc;
}
