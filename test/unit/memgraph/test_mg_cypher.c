/* Names, addresses and query texts (injection attempts must be refused), and the connection's local
 * refusals and transport errors (no server needed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mg.h"
#include "mgo_err.h"

struct name_case {
  const char *name;
  bool safe;
  bool droppable;
};

static const struct name_case names[] = {
    {"mg_1", true, true},
    {"_x", true, true},
    {"A", true, true},
    {"REP1", true, true},
    {"replica", true, true},
    {"mg-1", false, true},
    {"mg.1", false, true},
    {"1mg", false, true},
    {"", false, false},
    {"a` DROP REPLICA b", false, false},
    {"a`", false, false},
    {"`a`", false, false},
    {"a``b", false, false},
    {"a b", false, false},
    {"a\"b", false, false},
    {"a'b", false, false},
    {"a\nb", false, false},
    {"a\rb", false, false},
    {"a\tb", false, false},
    {"a;b", false, false},
    {"a/*x*/", false, false},
    {"a\\b", false, false},
    {"caf\xc3\xa9", false, false},
    {"\xe2\x80\x8b", false, false},
    {"a:b", false, false},
    {"a}b", false, false},
    {"$param", false, false},
    {"a123456789012345678901234567890123456789012345678901234567890bc", true, true},   /* 63 chars */
    {"a1234567890123456789012345678901234567890123456789012345678901bc", false, false} /* 64 */
};

static void test_names(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (mg_name_is_safe(names[i].name) != names[i].safe)
      fail_msg("name %zu '%s': safe %d", i, names[i].name, !names[i].safe);
    if (mg_name_is_droppable(names[i].name) != names[i].droppable)
      fail_msg("name %zu '%s': droppable %d", i, names[i].name, !names[i].droppable);
  }
  assert_false(mg_name_is_safe(NULL));
  assert_false(mg_name_is_droppable(NULL));
}

struct addr_case {
  const char *addr;
  int rc;
  const char *host;
  uint16_t port;
};

static const struct addr_case addrs[] = {
    {"mg-1.mg-hl.db.svc:10000", MGO_OK, "mg-1.mg-hl.db.svc", 10000},
    {"127.0.0.1:10000", MGO_OK, "127.0.0.1", 10000},
    {"h:1", MGO_OK, "h", 1},
    {"h:65535", MGO_OK, "h", 65535},
    {"h:65536", MGO_EINVAL, NULL, 0},
    {"h:0", MGO_EINVAL, NULL, 0},
    {"h:010", MGO_EINVAL, NULL, 0},
    {"h:+10", MGO_EINVAL, NULL, 0},
    {"h:-10", MGO_EINVAL, NULL, 0},
    {"h:1e3", MGO_EINVAL, NULL, 0},
    {"h:100000", MGO_EINVAL, NULL, 0},
    {"h:", MGO_EINVAL, NULL, 0},
    {"h", MGO_EINVAL, NULL, 0},
    {":10000", MGO_EINVAL, NULL, 0},
    {"", MGO_EINVAL, NULL, 0},
    {"::1:10000", MGO_EINVAL, NULL, 0},
    {"[::1]:10000", MGO_EINVAL, NULL, 0},
    {"h:1:2", MGO_EINVAL, NULL, 0},
    {"-h:10", MGO_EINVAL, NULL, 0},
    {".h:10", MGO_EINVAL, NULL, 0},
    {"h\":10000\" DROP REPLICA x //:1", MGO_EINVAL, NULL, 0},
    {"h\":1", MGO_EINVAL, NULL, 0},
    {"h':1", MGO_EINVAL, NULL, 0},
    {"h\\:1", MGO_EINVAL, NULL, 0},
    {"h h:1", MGO_EINVAL, NULL, 0},
    {"h\n:1", MGO_EINVAL, NULL, 0},
    {"h:1\n", MGO_EINVAL, NULL, 0},
    {"h:1 ", MGO_EINVAL, NULL, 0},
    {"h_x:1", MGO_EINVAL, NULL, 0},
    {"h\xc3\xa9:1", MGO_EINVAL, NULL, 0},
    {"h`:1", MGO_EINVAL, NULL, 0},
};

static void test_addresses(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
    char host[64] = "unset";
    uint16_t port = 0;
    int rc = mg_address_check(addrs[i].addr, host, sizeof(host), &port);
    if (rc != addrs[i].rc)
      fail_msg("address %zu '%s': rc %d", i, addrs[i].addr, rc);
    if (rc == MGO_OK) {
      assert_string_equal(host, addrs[i].host);
      assert_int_equal(port, addrs[i].port);
    }
  }
  assert_int_equal(mg_address_check(NULL, NULL, 0, NULL), MGO_EINVAL);
  assert_int_equal(mg_address_check("h:1", NULL, 0, NULL), MGO_OK);
  char small[3];
  assert_int_equal(mg_address_check("host:1", small, sizeof(small), NULL), MGO_ETOOBIG);
}

static void test_cypher(void **state)
{
  (void) state;
  char q[512];
  assert_int_equal(mg_cypher_register(q, sizeof(q), "mg_1", MGO_MODE_SYNC, "mg-1.mg-hl.db.svc:10000"),
                   MGO_OK);
  assert_string_equal(q, "REGISTER REPLICA `mg_1` SYNC TO \"mg-1.mg-hl.db.svc:10000\"");
  assert_int_equal(mg_cypher_register(q, sizeof(q), "r", MGO_MODE_ASYNC, "h:2"), MGO_OK);
  assert_string_equal(q, "REGISTER REPLICA `r` ASYNC TO \"h:2\"");
  assert_int_equal(mg_cypher_register(q, sizeof(q), "r", MGO_MODE_STRICT_SYNC, "h:2"), MGO_OK);
  assert_string_equal(q, "REGISTER REPLICA `r` STRICT_SYNC TO \"h:2\"");
  assert_int_equal(mg_cypher_register(q, sizeof(q), "mg-1", MGO_MODE_SYNC, "h:2"), MGO_EINVAL);
  assert_int_equal(mg_cypher_register(q, sizeof(q), "a` DROP REPLICA b", MGO_MODE_SYNC, "h:2"), MGO_EINVAL);
  assert_int_equal(mg_cypher_register(q, sizeof(q), "r", MGO_MODE_SYNC, "h\" DROP REPLICA x //:2"),
                   MGO_EINVAL);
  assert_int_equal(mg_cypher_register(q, sizeof(q), "r", (enum mgo_repl_mode) 9, "h:2"), MGO_EINVAL);
  assert_int_equal(mg_cypher_register(q, 10, "r", MGO_MODE_SYNC, "h:2"), MGO_ETOOBIG);
  assert_int_equal(mg_cypher_drop(q, sizeof(q), "mg_1"), MGO_OK);
  assert_string_equal(q, "DROP REPLICA `mg_1`");
  assert_int_equal(mg_cypher_drop(q, sizeof(q), "mg-1"), MGO_OK);
  assert_string_equal(q, "DROP REPLICA `mg-1`");
  assert_int_equal(mg_cypher_drop(q, sizeof(q), "a` DROP REPLICA b"), MGO_EINVAL);
  assert_int_equal(mg_cypher_drop(q, sizeof(q), "a\nb"), MGO_EINVAL);
  assert_int_equal(mg_cypher_drop(q, sizeof(q), ""), MGO_EINVAL);
  assert_int_equal(mg_cypher_set_replica(q, sizeof(q), 10000), MGO_OK);
  assert_string_equal(q, "SET REPLICATION ROLE TO REPLICA WITH PORT 10000");
  assert_int_equal(mg_cypher_set_replica(q, sizeof(q), 0), MGO_EINVAL);
  assert_int_equal(mg_cypher_set_replica(q, sizeof(q), 65536), MGO_EINVAL);
  assert_int_equal(mg_cypher_set_replica(q, sizeof(q), -1), MGO_EINVAL);
  assert_int_equal(mg_cypher_set_main(q, sizeof(q)), MGO_OK);
  assert_string_equal(q, "SET REPLICATION ROLE TO MAIN");
  assert_int_equal(mg_cypher_set_main(q, 8), MGO_ETOOBIG);
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
static uint16_t closed_port(void)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

static void test_conn_local_refusals(void **state)
{
  (void) state;
  struct mg_conn_opts o;
  struct mg_conn *c = NULL;
  struct mg_error e;

  mg_conn_opts_default(&o);
  assert_int_equal(mg_conn_new(&c, &o), MGO_EINVAL);
  assert_null(c);
  o.host = "127.0.0.1";
  o.port = closed_port();
  o.connect_timeout_ms = 1000;
  assert_int_equal(mg_conn_new(&c, &o), MGO_OK);
  assert_false(mg_conn_connected(c));

  /* refused before anything is sent: no connection attempt */
  assert_int_equal(mg_register_replica(c, "a` DROP REPLICA b", MGO_MODE_SYNC, "h:1", &e), MGO_EINVAL);
  assert_int_equal(e.cls, MG_ERR_INVALID_ARG);
  assert_int_equal(mg_register_replica(c, "ok", MGO_MODE_SYNC, "h\":1", &e), MGO_EINVAL);
  assert_int_equal(mg_drop_replica(c, "x\ny", &e), MGO_EINVAL);
  assert_int_equal(mg_set_role_replica(c, 70000, &e), MGO_EINVAL);
  assert_int_equal(mg_exec(c, NULL, NULL, &e), MGO_EINVAL);
  assert_int_equal(mg_conn_connects(c), 0);

  /* nothing listens: a connection error, classified */
  enum mgo_role role;
  assert_int_equal(mg_show_role(c, &role, &e), MGO_ECONNECT);
  assert_int_equal(e.rc, MGO_ECONNECT);
  assert_int_equal(e.cls, MG_ERR_CONNECTION);
  assert_int_equal(role, MGO_ROLE_UNKNOWN);
  assert_true(strstr(e.detail, "connect") != NULL);
  assert_int_equal(mg_conn_connects(c), 1);
  /* STRICT_SYNC needs the version first: that query fails the same way */
  assert_int_equal(mg_register_replica(c, "ok", MGO_MODE_STRICT_SYNC, "h:1", &e), MGO_ECONNECT);
  assert_int_equal(e.cls, MG_ERR_CONNECTION);
  assert_false(mg_version_known(mg_conn_version(c)));
  /* err may be NULL: the outcome stays on the connection */
  assert_int_equal(mg_show_role(c, &role, NULL), MGO_ECONNECT);
  assert_int_equal(mg_conn_last_error(c)->rc, MGO_ECONNECT);
  assert_int_equal(mg_conn_last_error(c)->cls, MG_ERR_CONNECTION);
  assert_int_equal(mg_drop_replica(c, "a`b", NULL), MGO_EINVAL);
  assert_int_equal(mg_conn_last_error(c)->cls, MG_ERR_INVALID_ARG);
  assert_true(strstr(mg_conn_last_error(c)->detail, "droppable") != NULL);
  assert_null(mg_conn_last_error(NULL));
  mg_conn_disconnect(c);
  mg_conn_free(c);
  mg_conn_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_addresses),
      cmocka_unit_test(test_cypher),
      cmocka_unit_test(test_conn_local_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
