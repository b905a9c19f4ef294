/* Unit tests: kubeconfig parsing (contexts, token, certificates, CA as data or file, malformed input with
 * clear messages), base64, and in-cluster configuration with overridden paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "k8s_config.h"
#include "mgo_err.h"

/* "-----BEGIN CERTIFICATE-----\nTEST\n" base64-encoded, standing in for PEM data. */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClRFU1QK"

static const char two_contexts[] = "apiVersion: v1\n"
                                   "kind: Config\n"
                                   "current-context: dev\n"
                                   "clusters:\n"
                                   "- name: c1\n"
                                   "  cluster:\n"
                                   "    server: https://127.0.0.1:6443/\n"
                                   "    certificate-authority-data: " CA_B64 "\n"
                                   "- name: c2\n"
                                   "  cluster:\n"
                                   "    server: https://10.0.0.1:443\n"
                                   "    certificate-authority: pki/ca.crt\n"
                                   "    insecure-skip-tls-verify: false\n"
                                   "users:\n"
                                   "- name: tok\n"
                                   "  user:\n"
                                   "    token: abc.def\n"
                                   "- name: cert\n"
                                   "  user:\n"
                                   "    client-certificate-data: " CA_B64 "\n"
                                   "    client-key: /abs/key.pem\n"
                                   "contexts:\n"
                                   "- name: dev\n"
                                   "  context: {cluster: c1, user: tok, namespace: team-a}\n"
                                   "- name: prod\n"
                                   "  context:\n"
                                   "    cluster: c2\n"
                                   "    user: cert\n";

static int parse(const char *text, const char *context, struct k8s_config *cfg, char *err, size_t errsz)
{
  return k8s_config_parse_kubeconfig(text, strlen(text), "test.yaml", "/etc/kube", context, cfg, err, errsz);
}

static void test_current_context_with_token_and_ca_data(void **state)
{
  (void) state;
  struct k8s_config cfg;
  char err[256] = "";
  assert_int_equal(parse(two_contexts, NULL, &cfg, err, sizeof(err)), MGO_OK);
  assert_string_equal(cfg.server, "https://127.0.0.1:6443"); /* trailing slash dropped */
  assert_string_equal(cfg.context, "dev");
  assert_string_equal(cfg.namespace, "team-a");
  assert_string_equal(cfg.token, "abc.def");
  assert_null(cfg.token_file);
  assert_int_equal(cfg.ca_len, strlen("-----BEGIN CERTIFICATE-----\nTEST\n"));
  assert_memory_equal(cfg.ca_data, "-----BEGIN CERTIFICATE-----\nTEST\n", cfg.ca_len);
  assert_null(cfg.ca_file);
  assert_false(cfg.insecure_skip_tls_verify);
  k8s_config_free(&cfg);
  k8s_config_free(&cfg); /* safe twice */
}

static void test_explicit_context_with_cert_and_relative_ca_file(void **state)
{
  (void) state;
  struct k8s_config cfg;
  char err[256] = "";
  assert_int_equal(parse(two_contexts, "prod", &cfg, err, sizeof(err)), MGO_OK);
  assert_string_equal(cfg.server, "https://10.0.0.1:443");
  assert_string_equal(cfg.ca_file, "/etc/kube/pki/ca.crt"); /* relative to the kubeconfig's directory */
  assert_non_null(cfg.cert_data);
  assert_string_equal(cfg.key_file, "/abs/key.pem");
  assert_null(cfg.token);
  assert_null(cfg.namespace);
  k8s_config_free(&cfg);
}

static void expect_error(const char *text, const char *context, int want_rc, const char *want_substring)
{
  struct k8s_config cfg;
  char err[256] = "";
  int rc = parse(text, context, &cfg, err, sizeof(err));
  if (rc != want_rc || !strstr(err, want_substring))
    fail_msg("want %s containing \"%s\", got %s: \"%s\"", mgo_errname(want_rc), want_substring,
             mgo_errname(rc), err);
  assert_null(cfg.server); /* nothing leaks out of a failed parse */
}

static void test_missing_references(void **state)
{
  (void) state;
  expect_error(two_contexts, "staging", MGO_ECONFIG, "contexts entry \"staging\" not found");
  expect_error("clusters: []\ncontexts: []\n", NULL, MGO_ECONFIG, "no current-context");
  expect_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: nope}\n", NULL, MGO_ECONFIG,
               "clusters entry \"nope\" not found");
  expect_error("current-context: x\ncontexts:\n- name: x\n  context: {user: u}\n", NULL, MGO_ECONFIG,
               "names no cluster");
  expect_error(
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n"
      "  cluster: {server: https://h}\n",
      NULL, MGO_ECONFIG, "users entry \"u\" not found");
}

static void test_malformed_values(void **state)
{
  (void) state;
  static const char head[] = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n";
  char text[1024];
  snprintf(text, sizeof(text), "%sclusters:\n- name: c\n  cluster: {server: ftp://h}\n", head);
  expect_error(text, NULL, MGO_ECONFIG, "must be an http(s):// URL");
  snprintf(text, sizeof(text), "%sclusters:\n- name: c\n  cluster: {server: [a, b]}\n", head);
  expect_error(text, NULL, MGO_ECONFIG, "field \"server\" must be a string");
  snprintf(text, sizeof(text),
           "%sclusters:\n- name: c\n  cluster: {server: https://h, certificate-authority-data: '***'}\n",
           head);
  expect_error(text, NULL, MGO_ECONFIG, "\"certificate-authority-data\" is not valid base64");
  snprintf(text, sizeof(text),
           "%sclusters:\n- name: c\n  cluster: {server: https://h, insecure-skip-tls-verify: yes}\n", head);
  expect_error(text, NULL, MGO_ECONFIG, "insecure-skip-tls-verify must be true or false");
  snprintf(text, sizeof(text),
           "%sclusters:\n- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user: {exec: "
           "{command: x}}\n",
           head);
  expect_error(text, NULL, MGO_EUNSUPPORTED, "credential plugins are not supported");
  snprintf(text, sizeof(text),
           "%sclusters:\n- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user: {client-key: "
           "k.pem}\n",
           head);
  expect_error(text, NULL, MGO_ECONFIG, "client certificate needs a client key");
}

static void test_insecure_only_when_true(void **state)
{
  (void) state;
  static const char text[] =
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
      "clusters:\n- name: c\n  cluster: {server: 'https://h:1', insecure-skip-tls-verify: true}\n";
  struct k8s_config cfg;
  char err[256] = "";
  assert_int_equal(parse(text, NULL, &cfg, err, sizeof(err)), MGO_OK);
  assert_true(cfg.insecure_skip_tls_verify);
  k8s_config_free(&cfg);
}

static void test_invalid_yaml(void **state)
{
  (void) state;
  expect_error("", NULL, MGO_EPARSE, "the file is empty");
  expect_error("clusters: [\n", NULL, MGO_EPARSE, "line ");
  expect_error("a: b\n  c: d: e\n", NULL, MGO_EPARSE, "line 2");
  expect_error("a: &x 1\nb: *x\n", NULL, MGO_EPARSE, "aliases are not supported");
  expect_error("a: 1\n---\nb: 2\n", NULL, MGO_EPARSE, "more than one YAML document");
  expect_error("- just\n- a list\n", NULL, MGO_ECONFIG, "top level must be a mapping");
  expect_error("\t\x01\x02garbage", NULL, MGO_EPARSE, "line 1");
  char deep[71];
  memset(deep, '[', 70);
  deep[70] = '\0';
  expect_error(deep, NULL, MGO_EPARSE, "nesting deeper");
}

static void test_base64(void **state)
{
  (void) state;
  unsigned char *out = NULL;
  size_t len = 0;
  assert_int_equal(k8s_base64_decode("aGVsbG8=", &out, &len), MGO_OK);
  assert_int_equal(len, 5);
  assert_string_equal((char *) out, "hello");
  free(out);
  assert_int_equal(k8s_base64_decode("aGVs\nbG8", &out, &len), MGO_OK); /* no padding, a line break */
  assert_string_equal((char *) out, "hello");
  free(out);
  assert_int_equal(k8s_base64_decode("", &out, &len), MGO_OK);
  assert_int_equal(len, 0);
  free(out);
  assert_int_equal(k8s_base64_decode("aGVsbG8=x", &out, &len), MGO_EPARSE); /* data after padding */
  assert_int_equal(k8s_base64_decode("a", &out, &len), MGO_EPARSE);         /* dangling 6 bits */
  assert_int_equal(k8s_base64_decode("a-b_", &out, &len), MGO_EPARSE);      /* URL alphabet */
}

static char tmpdir[] = "/tmp/mgo-k8s-config-XXXXXX";

static void write_file(const char *name, const char *content)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(content, f);
  fclose(f);
}

static void remove_file(const char *name)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  unlink(path);
}

static void test_load_file_token_file_relative(void **state)
{
  (void) state;
  assert_non_null(mkdtemp(tmpdir));
  write_file("kc", "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                   "clusters:\n- name: c\n  cluster: {server: 'https://h:1', certificate-authority: ca.pem}\n"
                   "users:\n- name: u\n  user: {tokenFile: tok}\n");
  char path[512], want[600];
  snprintf(path, sizeof(path), "%s/kc", tmpdir);
  struct k8s_config cfg;
  char err[256] = "";
  assert_int_equal(k8s_config_load_kubeconfig(path, NULL, &cfg, err, sizeof(err)), MGO_OK);
  snprintf(want, sizeof(want), "%s/tok", tmpdir);
  assert_string_equal(cfg.token_file, want);
  snprintf(want, sizeof(want), "%s/ca.pem", tmpdir);
  assert_string_equal(cfg.ca_file, want);
  k8s_config_free(&cfg);
  /* KUBECONFIG lists: the first existing file wins */
  char list[1200];
  snprintf(list, sizeof(list), "%s/missing:%s", tmpdir, path);
  setenv("KUBECONFIG", list, 1);
  assert_int_equal(k8s_config_load_kubeconfig(NULL, NULL, &cfg, err, sizeof(err)), MGO_OK);
  assert_string_equal(cfg.server, "https://h:1");
  k8s_config_free(&cfg);
  snprintf(list, sizeof(list), "%s/missing", tmpdir);
  setenv("KUBECONFIG", list, 1);
  assert_int_equal(k8s_config_load_kubeconfig(NULL, NULL, &cfg, err, sizeof(err)), MGO_ECONFIG);
  assert_non_null(strstr(err, "no such file"));
  unsetenv("KUBECONFIG");
  snprintf(path, sizeof(path), "%s/nope", tmpdir);
  assert_int_equal(k8s_config_load_kubeconfig(path, NULL, &cfg, err, sizeof(err)), MGO_ESYS);
  assert_non_null(strstr(err, "No such file or directory"));
  remove_file("kc");
}

static void test_in_cluster(void **state)
{
  (void) state;
  char tok[512], ca[512], ns[512];
  snprintf(tok, sizeof(tok), "%s/token", tmpdir);
  snprintf(ca, sizeof(ca), "%s/ca.crt", tmpdir);
  snprintf(ns, sizeof(ns), "%s/namespace", tmpdir);
  struct k8s_in_cluster_paths p = {
      .token_file = tok, .ca_file = ca, .namespace_file = ns, .host = "10.96.0.1", .port = "443"};
  struct k8s_config cfg;
  char err[256] = "";
  assert_int_equal(k8s_config_in_cluster(&p, &cfg, err, sizeof(err)), MGO_ESYS); /* no token yet */
  assert_non_null(strstr(err, "token"));
  write_file("token", "eyJhbGciOi.payload.sig\n");
  write_file("namespace", "memgraph-operator-system\n");
  assert_int_equal(k8s_config_in_cluster(&p, &cfg, err, sizeof(err)), MGO_OK);
  assert_string_equal(cfg.server, "https://10.96.0.1:443");
  assert_string_equal(cfg.token_file, tok); /* re-read by the client on rotation */
  assert_string_equal(cfg.ca_file, ca);
  assert_string_equal(cfg.namespace, "memgraph-operator-system");
  k8s_config_free(&cfg);
  char *t = NULL;
  assert_int_equal(k8s_config_read_token(tok, &t, err, sizeof(err)), MGO_OK);
  assert_string_equal(t, "eyJhbGciOi.payload.sig");
  free(t);
  write_file("token", "\n");
  assert_int_equal(k8s_config_read_token(tok, &t, err, sizeof(err)), MGO_ECONFIG);
  assert_non_null(strstr(err, "empty"));
  p.host = "fd00::1";
  write_file("token", "x");
  assert_int_equal(k8s_config_in_cluster(&p, &cfg, err, sizeof(err)), MGO_OK);
  assert_string_equal(cfg.server, "https://[fd00::1]:443");
  k8s_config_free(&cfg);
  p.port = "44x3";
  assert_int_equal(k8s_config_in_cluster(&p, &cfg, err, sizeof(err)), MGO_ECONFIG);
  assert_non_null(strstr(err, "not a port number"));
  remove_file("token");
  remove_file("namespace");
  rmdir(tmpdir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_current_context_with_token_and_ca_data),
      cmocka_unit_test(test_explicit_context_with_cert_and_relative_ca_file),
      cmocka_unit_test(test_missing_references),
      cmocka_unit_test(test_malformed_values),
      cmocka_unit_test(test_insecure_only_when_true),
      cmocka_unit_test(test_invalid_yaml),
      cmocka_unit_test(test_base64),
      cmocka_unit_test(test_load_file_token_file_relative),
      cmocka_unit_test(test_in_cluster),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
