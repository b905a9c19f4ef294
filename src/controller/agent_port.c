/* The real agent port (ports.h): the pods' operator-agent HTTP API over libcurl, and the real S3 port over
 * src/s3. Requests to an agent carry credentials in their body: curl's verbose output stays off and neither
 * the body nor the token is ever logged. */
#include "controller_int.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_build.h"
#include "mgo_buf.h"
#include "mgo_err.h"
#include "s3.h"

#define AGENT_TIMEOUT_MS 10000L
#define AGENT_MAX_ANSWER ((size_t) 64 * 1024)

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
  struct mgo_buf *b = arg;
  return mgo_buf_add(b, data, size * n) == MGO_OK ? size * n : 0;
}

/* An IPv4 or IPv6 literal as the pod status gives it, and nothing else: it becomes part of a URL. */
static bool ip_ok(const char *ip)
{
  size_t n = strlen(ip);
  return n > 0 && n < 64 && strspn(ip, "0123456789abcdefABCDEF.:") == n;
}

static int http_rc(CURLcode cc, long status)
{
  if (cc == CURLE_OPERATION_TIMEDOUT)
    return MGO_ETIMEDOUT;
  if (cc == CURLE_COULDNT_CONNECT)
    return MGO_ECONNECT;
  if (cc != CURLE_OK)
    return MGO_EIO;
  if (status >= 200 && status < 300)
    return MGO_OK;
  return status == 401 || status == 403 ? MGO_EAUTH
         : status == 404                ? MGO_ENOTFOUND
         : status == 409                ? MGO_ECONFLICT
         : status == 400                ? MGO_EINVAL
                                        : MGO_EHTTP;
}

/* One request: method, path, optional JSON body; *out the parsed answer (new reference) when it is JSON. */
static int agent_call(const char *ip, const char *token, const char *method, const char *path,
                      const char *body, json_t **out, char *err, size_t errsz)
{
  char url[256], auth[128];
  struct mgo_buf answer;
  struct curl_slist *hdr = NULL;
  CURL *h;
  CURLcode cc;
  long status = 0;
  int rc;

  *out = NULL;
  if (!ip_ok(ip) ||
      mgo_snprintf(url, sizeof(url), strchr(ip, ':') != NULL ? "http://[%s]:%d%s" : "http://%s:%d%s", ip,
                   MGO_AGENT_PORT, path) != MGO_OK ||
      mgo_snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token) != MGO_OK)
    return MGO_EINVAL;
  h = curl_easy_init();
  if (h == NULL)
    return MGO_ENOMEM;
  mgo_buf_init(&answer, AGENT_MAX_ANSWER);
  hdr = curl_slist_append(hdr, auth);
  hdr = curl_slist_append(hdr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, AGENT_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  if (body != NULL)
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  rc = http_rc(cc, status);
  if (answer.len > 0)
    *out = json_loadb(mgo_buf_str(&answer), answer.len, 0, NULL);
  if (rc != MGO_OK)
    (void) mgo_snprintf(err, errsz, "agent %s %s: %s", method, path,
                        cc != CURLE_OK ? curl_easy_strerror(cc)
                        : json_string_value(json_object_get(*out, "error"))
                            ? json_string_value(json_object_get(*out, "error"))
                            : "unexpected answer");
  OPENSSL_cleanse(auth, sizeof(auth));
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
  mgo_buf_free(&answer);
  return rc;
}

static int ap_upload(void *arg, const char *ip, const char *token, const json_t *request, char *id,
                     size_t idsz, char *err, size_t errsz)
{
  char *body = json_dumps(request, JSON_COMPACT);
  json_t *out = NULL;
  int rc;
  (void) arg;
  if (body == NULL)
    return MGO_ENOMEM;
  rc = agent_call(ip, token, "POST", "/v1/uploads", body, &out, err, errsz);
  OPENSSL_cleanse(body, strlen(body));
  free(body);
  if (rc == MGO_OK && json_string_value(json_object_get(out, "id")) == NULL)
    rc = MGO_EPROTO;
  if (rc == MGO_OK)
    rc = mgo_strlcpy(id, json_string_value(json_object_get(out, "id")), idsz);
  else if (rc == MGO_ECONFLICT && json_string_value(json_object_get(out, "running")) != NULL)
    (void) mgo_strlcpy(id, json_string_value(json_object_get(out, "running")), idsz);
  json_decref(out);
  return rc;
}

static int ap_job(void *arg, const char *ip, const char *token, const char *id, json_t **out, char *err,
                  size_t errsz)
{
  char path[128];
  (void) arg;
  *out = NULL;
  if (strspn(id, "0123456789abcdefABCDEF-") != strlen(id) ||
      mgo_snprintf(path, sizeof(path), "/v1/uploads/%s", id) != MGO_OK)
    return MGO_EINVAL;
  return agent_call(ip, token, "GET", path, NULL, out, err, errsz);
}

static int ap_cancel(void *arg, const char *ip, const char *token, const char *id, char *err, size_t errsz)
{
  char path[128];
  json_t *out = NULL;
  int rc;
  (void) arg;
  if (strspn(id, "0123456789abcdefABCDEF-") != strlen(id) ||
      mgo_snprintf(path, sizeof(path), "/v1/uploads/%s", id) != MGO_OK)
    return MGO_EINVAL;
  rc = agent_call(ip, token, "DELETE", path, NULL, &out, err, errsz);
  json_decref(out);
  return rc;
}

void op_agent_port_init(struct op_agent_port *port)
{
  *port = (struct op_agent_port){.arg = NULL, .upload = ap_upload, .job = ap_job, .cancel = ap_cancel};
}

static int s3p_delete(void *arg, const struct s3_config *cfg, const char *key, struct s3_error *err)
{
  (void) arg;
  return s3_delete(cfg, key, err);
}

static int s3p_head(void *arg, const struct s3_config *cfg, const char *key, uint64_t *size, char sha256[65],
                    struct s3_error *err)
{
  (void) arg;
  return s3_head(cfg, key, size, sha256, err);
}

void op_s3_port_init(struct op_s3_port *port)
{
  *port = (struct op_s3_port){.arg = NULL, .delete_object = s3p_delete, .head = s3p_head};
}
