#include "k8s_config.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s_yaml.h"
#include "mgo_buf.h"
#include "mgo_err.h"

#define KUBECONFIG_MAX ((size_t) 4 * 1024 * 1024)
#define SMALL_FILE_MAX ((size_t) 1 * 1024 * 1024)
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void k8s_config_free(struct k8s_config *cfg)
{
  free(cfg->server);
  free(cfg->namespace);
  free(cfg->context);
  free(cfg->token);
  free(cfg->token_file);
  free(cfg->ca_file);
  free(cfg->ca_data);
  free(cfg->cert_file);
  free(cfg->cert_data);
  free(cfg->key_file);
  free(cfg->key_data);
  free(cfg->tls_server_name);
  memset(cfg, 0, sizeof(*cfg));
}

static int b64_value(unsigned char ch)
{
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

int k8s_base64_decode(const char *in, unsigned char **out, size_t *outlen)
{
  size_t n = strlen(in);
  unsigned char *dst = malloc(n / 4 * 3 + 4);
  if (!dst)
    return MGO_ENOMEM;
  size_t len = 0, pad = 0;
  unsigned acc = 0, bits = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char) in[i];
    int v = b64_value(ch);
    if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
      continue;
    if (ch == '=') {
      pad++;
      continue;
    }
    if (v < 0 || pad > 0) {
      free(dst);
      return MGO_EPARSE;
    }
    acc = (acc << 6) | (unsigned) v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      dst[len++] = (unsigned char) (acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (pad > 2 || bits >= 6) {
    free(dst);
    return MGO_EPARSE;
  }
  dst[len] = '\0';
  *out = dst;
  *outlen = len;
  return MGO_OK;
}

/* Reads a whole (small) file. MGO_ESYS with errno text, MGO_ETOOBIG past max. */
static int read_file(const char *path, size_t max, char **out, size_t *outlen, char *err, size_t errsz)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    mgo_snprintf(err, errsz, "%s: %s", path, strerror(errno));
    return MGO_ESYS;
  }
  struct mgo_buf b = MGO_BUF_INIT(max);
  char chunk[4096];
  int rc = MGO_OK;
  size_t n;
  while (rc == MGO_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    rc = mgo_buf_add(&b, chunk, n);
  if (rc == MGO_OK && ferror(f))
    rc = MGO_ESYS;
  fclose(f);
  if (rc != MGO_OK) {
    mgo_snprintf(err, errsz, "%s: %s", path, rc == MGO_ETOOBIG ? "file too large" : "read error");
    mgo_buf_free(&b);
    return rc;
  }
  *out = mgo_buf_take(&b, outlen);
  return *out ? MGO_OK : MGO_ENOMEM;
}

/* Finds the entry named name in a kubeconfig list (clusters/users/contexts) and returns its inner object
 * (entry[field]); NULL when absent. */
static json_t *named_entry(json_t *root, const char *list, const char *name, const char *field)
{
  json_t *arr = json_object_get(root, list);
  size_t i;
  json_t *item;
  json_array_foreach(arr, i, item)
  {
    const char *n = json_string_value(json_object_get(item, "name"));
    if (n && strcmp(n, name) == 0)
      return json_object_get(item, field);
  }
  return NULL;
}

struct kc_ctx {
  const char *source;
  const char *base_dir;
  char *err;
  size_t errsz;
};

static int kc_fail(struct kc_ctx *k, int rc, const char *what)
{
  mgo_snprintf(k->err, k->errsz, "kubeconfig %s: %s", k->source, what);
  return rc;
}

/* A string field, or NULL. A field that exists but is not a scalar is an error. */
static int kc_string(struct kc_ctx *k, json_t *obj, const char *field, const char **out)
{
  json_t *v = json_object_get(obj, field);
  *out = NULL;
  if (!v)
    return MGO_OK;
  if (!json_is_string(v)) {
    char what[160];
    mgo_snprintf(what, sizeof(what), "field \"%s\" must be a string", field);
    return kc_fail(k, MGO_ECONFIG, what);
  }
  *out = json_string_value(v);
  return MGO_OK;
}

/* Copies a path field, making a relative path absolute against base_dir. */
static int kc_path(struct kc_ctx *k, json_t *obj, const char *field, char **out)
{
  const char *v;
  int rc = kc_string(k, obj, field, &v);
  if (rc != MGO_OK || !v || !v[0])
    return rc;
  struct mgo_buf b = MGO_BUF_INIT(4096);
  if (v[0] != '/' && k->base_dir && k->base_dir[0])
    rc = mgo_buf_printf(&b, "%s/", k->base_dir);
  if (rc == MGO_OK)
    rc = mgo_buf_addstr(&b, v);
  if (rc != MGO_OK) {
    mgo_buf_free(&b);
    return kc_fail(k, rc, "file path too long");
  }
  *out = mgo_buf_take(&b, NULL);
  return *out ? MGO_OK : MGO_ENOMEM;
}

static int kc_data(struct kc_ctx *k, json_t *obj, const char *field, unsigned char **out, size_t *outlen)
{
  const char *v;
  int rc = kc_string(k, obj, field, &v);
  if (rc != MGO_OK || !v)
    return rc;
  rc = k8s_base64_decode(v, out, outlen);
  if (rc == MGO_EPARSE) {
    char what[160];
    mgo_snprintf(what, sizeof(what), "field \"%s\" is not valid base64", field);
    return kc_fail(k, MGO_ECONFIG, what);
  }
  return rc;
}

static int kc_dup(const char *s, char **out)
{
  if (!s)
    return MGO_OK;
  *out = strdup(s);
  return *out ? MGO_OK : MGO_ENOMEM;
}

static int kc_cluster(struct kc_ctx *k, json_t *cluster, struct k8s_config *cfg)
{
  const char *server, *insecure, *sni;
  int rc = kc_string(k, cluster, "server", &server);
  if (rc != MGO_OK)
    return rc;
  if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0))
    return kc_fail(k, MGO_ECONFIG, "cluster.server must be an http(s):// URL");
  size_t n = strlen(server);
  while (n > 0 && server[n - 1] == '/')
    n--;
  cfg->server = strndup(server, n);
  if (!cfg->server)
    return MGO_ENOMEM;
  rc = kc_string(k, cluster, "insecure-skip-tls-verify", &insecure);
  if (rc == MGO_OK && insecure && strcmp(insecure, "true") != 0 && strcmp(insecure, "false") != 0)
    return kc_fail(k, MGO_ECONFIG, "cluster.insecure-skip-tls-verify must be true or false");
  cfg->insecure_skip_tls_verify = insecure && strcmp(insecure, "true") == 0;
  if (rc == MGO_OK)
    rc = kc_string(k, cluster, "tls-server-name", &sni);
  if (rc == MGO_OK)
    rc = kc_dup(sni, &cfg->tls_server_name);
  if (rc == MGO_OK)
    rc = kc_path(k, cluster, "certificate-authority", &cfg->ca_file);
  if (rc == MGO_OK)
    rc = kc_data(k, cluster, "certificate-authority-data", &cfg->ca_data, &cfg->ca_len);
  return rc;
}

static int kc_user(struct kc_ctx *k, json_t *user, struct k8s_config *cfg)
{
  if (json_object_get(user, "exec") || json_object_get(user, "auth-provider"))
    return kc_fail(k, MGO_EUNSUPPORTED,
                   "user.exec and user.auth-provider credential plugins are not supported");
  if (json_object_get(user, "username") || json_object_get(user, "password"))
    return kc_fail(k, MGO_EUNSUPPORTED, "basic authentication (username/password) is not supported");
  const char *token;
  int rc = kc_string(k, user, "token", &token);
  if (rc == MGO_OK)
    rc = kc_dup(token, &cfg->token);
  if (rc == MGO_OK)
    rc = kc_path(k, user, "tokenFile", &cfg->token_file);
  if (rc == MGO_OK)
    rc = kc_path(k, user, "client-certificate", &cfg->cert_file);
  if (rc == MGO_OK)
    rc = kc_data(k, user, "client-certificate-data", &cfg->cert_data, &cfg->cert_len);
  if (rc == MGO_OK)
    rc = kc_path(k, user, "client-key", &cfg->key_file);
  if (rc == MGO_OK)
    rc = kc_data(k, user, "client-key-data", &cfg->key_data, &cfg->key_len);
  if (rc != MGO_OK)
    return rc;
  bool has_cert = cfg->cert_file || cfg->cert_data;
  bool has_key = cfg->key_file || cfg->key_data;
  if (has_cert != has_key)
    return kc_fail(k, MGO_ECONFIG, "a client certificate needs a client key and vice versa");
  return MGO_OK;
}

/* Looks up a named entry, failing with a message that names what is missing. */
static int kc_lookup(struct kc_ctx *k, json_t *root, const char *list, const char *name, const char *field,
                     json_t **out)
{
  *out = named_entry(root, list, name, field);
  if (json_is_object(*out))
    return MGO_OK;
  char what[256];
  mgo_snprintf(what, sizeof(what), "%s entry \"%s\" not found (or has no %s map)", list, name, field);
  return kc_fail(k, MGO_ECONFIG, what);
}

static int kc_resolve(struct kc_ctx *k, json_t *root, const char *context, struct k8s_config *cfg)
{
  const char *ctx_name = context;
  int rc = MGO_OK;
  if (!json_is_object(root))
    return kc_fail(k, MGO_ECONFIG, "top level must be a mapping");
  if (!ctx_name)
    rc = kc_string(k, root, "current-context", &ctx_name);
  if (rc != MGO_OK)
    return rc;
  if (!ctx_name || !ctx_name[0])
    return kc_fail(k, MGO_ECONFIG, "no current-context set and no context given");
  json_t *ctx, *cluster, *user;
  const char *cluster_name, *user_name, *ns;
  rc = kc_lookup(k, root, "contexts", ctx_name, "context", &ctx);
  if (rc == MGO_OK)
    rc = kc_string(k, ctx, "cluster", &cluster_name);
  if (rc == MGO_OK)
    rc = kc_string(k, ctx, "user", &user_name);
  if (rc == MGO_OK)
    rc = kc_string(k, ctx, "namespace", &ns);
  if (rc != MGO_OK)
    return rc;
  if (!cluster_name)
    return kc_fail(k, MGO_ECONFIG, "the context names no cluster");
  rc = kc_lookup(k, root, "clusters", cluster_name, "cluster", &cluster);
  if (rc == MGO_OK)
    rc = kc_cluster(k, cluster, cfg);
  if (rc == MGO_OK && user_name) {
    rc = kc_lookup(k, root, "users", user_name, "user", &user);
    if (rc == MGO_OK)
      rc = kc_user(k, user, cfg);
  }
  if (rc == MGO_OK)
    rc = kc_dup(ns, &cfg->namespace);
  if (rc == MGO_OK)
    rc = kc_dup(ctx_name, &cfg->context);
  return rc;
}

int k8s_config_parse_kubeconfig(const char *text, size_t len, const char *source, const char *base_dir,
                                const char *context, struct k8s_config *cfg, char *err, size_t errsz)
{
  struct kc_ctx k = {source ? source : "(memory)", base_dir, err, errsz};
  memset(cfg, 0, sizeof(*cfg));
  char yerr[200] = "";
  json_t *root = NULL;
  int rc = k8s__yaml_to_json(text, len, &root, yerr, sizeof(yerr));
  if (rc != MGO_OK) {
    kc_fail(&k, rc, yerr);
    return rc;
  }
  rc = kc_resolve(&k, root, context, cfg);
  json_decref(root);
  if (rc != MGO_OK)
    k8s_config_free(cfg);
  return rc;
}

/* The first existing file of a colon-separated KUBECONFIG list (or the single path). */
static int pick_kubeconfig(const char *path, char *dst, size_t dstsz, char *err, size_t errsz)
{
  if (path)
    return mgo_strlcpy(dst, path, dstsz);
  const char *list = getenv("KUBECONFIG");
  if (!list || !list[0]) {
    const char *home = getenv("HOME");
    return mgo_snprintf(dst, dstsz, "%s/.kube/config", home ? home : "");
  }
  const char *p = list;
  while (*p) {
    size_t n = strcspn(p, ":");
    if (n > 0 && n < dstsz) {
      memcpy(dst, p, n);
      dst[n] = '\0';
      struct stat sb;
      if (stat(dst, &sb) == 0)
        return MGO_OK;
    }
    p += n + (p[n] == ':');
  }
  mgo_snprintf(err, errsz, "KUBECONFIG=%s: no such file", list);
  return MGO_ECONFIG;
}

int k8s_config_load_kubeconfig(const char *path, const char *context, struct k8s_config *cfg, char *err,
                               size_t errsz)
{
  char file[4096];
  memset(cfg, 0, sizeof(*cfg));
  int rc = pick_kubeconfig(path, file, sizeof(file), err, errsz);
  if (rc != MGO_OK)
    return rc;
  char *text = NULL;
  size_t len = 0;
  rc = read_file(file, KUBECONFIG_MAX, &text, &len, err, errsz);
  if (rc != MGO_OK)
    return rc;
  char dir[4096];
  mgo_strlcpy(dir, file, sizeof(dir));
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    mgo_strlcpy(dir, ".", sizeof(dir));
  rc = k8s_config_parse_kubeconfig(text, len, file, dir, context, cfg, err, errsz);
  free(text);
  return rc;
}

static const char *or_default(const char *v, const char *def)
{
  return v ? v : def;
}

/* The trimmed contents of a small file, or NULL (with err filled) when it cannot be read. */
static int read_trimmed(const char *path, char **out, char *err, size_t errsz)
{
  size_t len = 0;
  int rc = read_file(path, SMALL_FILE_MAX, out, &len, err, errsz);
  if (rc != MGO_OK)
    return rc;
  while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r' || (*out)[len - 1] == ' '))
    (*out)[--len] = '\0';
  return MGO_OK;
}

int k8s_config_read_token(const char *path, char **out, char *err, size_t errsz)
{
  int rc = read_trimmed(path, out, err, errsz);
  if (rc == MGO_OK && (*out)[0] == '\0') {
    free(*out);
    *out = NULL;
    mgo_snprintf(err, errsz, "%s: the token file is empty", path);
    rc = MGO_ECONFIG;
  }
  return rc;
}

static int in_cluster_server(const struct k8s_in_cluster_paths *p, struct k8s_config *cfg, char *err,
                             size_t errsz)
{
  const char *host = p->host ? p->host : getenv("KUBERNETES_SERVICE_HOST");
  const char *port = p->port ? p->port : getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !host[0] || !port || !port[0]) {
    mgo_snprintf(err, errsz, "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
    return MGO_ECONFIG;
  }
  if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5) {
    mgo_snprintf(err, errsz, "in-cluster: KUBERNETES_SERVICE_PORT is not a port number");
    return MGO_ECONFIG;
  }
  bool v6 = strchr(host, ':') != NULL;
  struct mgo_buf b = MGO_BUF_INIT(512);
  int rc = mgo_buf_printf(&b, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port);
  if (rc != MGO_OK) {
    mgo_buf_free(&b);
    mgo_snprintf(err, errsz, "in-cluster: KUBERNETES_SERVICE_HOST too long");
    return MGO_ECONFIG;
  }
  cfg->server = mgo_buf_take(&b, NULL);
  return cfg->server ? MGO_OK : MGO_ENOMEM;
}

int k8s_config_in_cluster(const struct k8s_in_cluster_paths *paths, struct k8s_config *cfg, char *err,
                          size_t errsz)
{
  static const struct k8s_in_cluster_paths none = {0};
  const struct k8s_in_cluster_paths *p = paths ? paths : &none;
  memset(cfg, 0, sizeof(*cfg));
  int rc = in_cluster_server(p, cfg, err, errsz);
  const char *token_file = or_default(p->token_file, SA_DIR "/token");
  char *probe = NULL;
  if (rc == MGO_OK)
    rc = k8s_config_read_token(token_file, &probe, err, errsz); /* fail early when the token is missing */
  free(probe);
  if (rc == MGO_OK)
    rc = kc_dup(token_file, &cfg->token_file);
  if (rc == MGO_OK)
    rc = kc_dup(or_default(p->ca_file, SA_DIR "/ca.crt"), &cfg->ca_file);
  if (rc == MGO_OK) {
    char nserr[8];
    if (read_trimmed(or_default(p->namespace_file, SA_DIR "/namespace"), &cfg->namespace, nserr,
                     sizeof(nserr)))
      cfg->namespace = NULL; /* optional */
  }
  if (rc != MGO_OK)
    k8s_config_free(cfg);
  return rc;
}

int k8s_config_load_auto(const char *kubeconfig_path, struct k8s_config *cfg, char *err, size_t errsz)
{
  const char *env = getenv("KUBECONFIG");
  const char *host = getenv("KUBERNETES_SERVICE_HOST");
  if (!kubeconfig_path && (!env || !env[0]) && host && host[0])
    return k8s_config_in_cluster(NULL, cfg, err, errsz);
  return k8s_config_load_kubeconfig(kubeconfig_path, NULL, cfg, err, errsz);
}
