/* Where the API server is and how to authenticate to it: kubeconfig files and in-cluster configuration.
 *
 * Supported kubeconfig fields: current-context (or an explicit context), the context's
 * cluster/user/namespace, cluster.server, certificate-authority / certificate-authority-data,
 * insecure-skip-tls-verify (honoured only when literally true), tls-server-name; user.token, user.tokenFile,
 * client-certificate(-data), client-key(-data). exec and auth-provider plugins are refused with
 * MGO_EUNSUPPORTED. Relative file paths are resolved against the kubeconfig's directory. When KUBECONFIG
 * lists several files, the first one that exists is used (no merging).
 *
 * Every failure returns an MGO_* code (MGO_ECONFIG for a malformed or incomplete file, MGO_EPARSE for invalid
 * YAML, MGO_ESYS for an unreadable file) and writes a one-line explanation naming the file, and where
 * possible the line and the field, into err.
 *
 * Ownership: a loaded struct k8s_config owns all its strings and blobs; release with k8s_config_free(), which
 * also leaves it zeroed (safe to free twice). Thread-safety: loading functions use no global state except
 * getenv(); a loaded config is read-only and may be shared by threads. */
#ifndef K8S_CONFIG_H
#define K8S_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct k8s_config {
  char *server;     /* "https://host:port", no trailing slash */
  char *namespace;  /* the context's namespace or the in-cluster namespace; NULL when unknown */
  char *context;    /* name of the kubeconfig context used; NULL in-cluster */
  char *token;      /* static bearer token, or NULL */
  char *token_file; /* bearer token file, re-read by the client whenever its mtime/size changes */
  char *ca_file;
  unsigned char *ca_data; /* PEM bytes decoded from certificate-authority-data */
  size_t ca_len;
  char *cert_file;
  unsigned char *cert_data;
  size_t cert_len;
  char *key_file;
  unsigned char *key_data;
  size_t key_len;
  char *tls_server_name;
  bool insecure_skip_tls_verify;
};

/* Overridable in-cluster locations (tests point them at temporary files). NULL fields take the defaults:
 * /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace} and the environment variables
 * KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT. */
struct k8s_in_cluster_paths {
  const char *token_file;
  const char *ca_file;
  const char *namespace_file;
  const char *host; /* overrides KUBERNETES_SERVICE_HOST */
  const char *port; /* overrides KUBERNETES_SERVICE_PORT */
};

/* Parses kubeconfig text (len bytes). base_dir resolves relative paths (NULL: current directory); context
 * NULL means current-context; source names the file in error messages. */
int k8s_config_parse_kubeconfig(const char *text, size_t len, const char *source, const char *base_dir,
                                const char *context, struct k8s_config *cfg, char *err, size_t errsz);

/* Loads a kubeconfig file. path NULL means $KUBECONFIG, then $HOME/.kube/config. */
int k8s_config_load_kubeconfig(const char *path, const char *context, struct k8s_config *cfg, char *err,
                               size_t errsz);

/* In-cluster configuration from the service-account mount. paths may be NULL. */
int k8s_config_in_cluster(const struct k8s_in_cluster_paths *paths, struct k8s_config *cfg, char *err,
                          size_t errsz);

/* The usual precedence: an explicit kubeconfig path, else $KUBECONFIG, else in-cluster when
 * KUBERNETES_SERVICE_HOST is set, else $HOME/.kube/config. */
int k8s_config_load_auto(const char *kubeconfig_path, struct k8s_config *cfg, char *err, size_t errsz);

/* Reads a bearer token file (trailing whitespace trimmed). MGO_ECONFIG when empty, MGO_ESYS when unreadable.
 */
int k8s_config_read_token(const char *path, char **out, char *err, size_t errsz);

void k8s_config_free(struct k8s_config *cfg);

/* Decodes standard base64 (whitespace ignored, padding optional). *out is malloc'ed and NUL-terminated (the
 * terminator is not counted in *outlen); MGO_EPARSE on any other character. */
int k8s_base64_decode(const char *in, unsigned char **out, size_t *outlen);

#endif
