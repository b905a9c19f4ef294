/* Error classification over every error text of memgraph.md (sections 1, 2.2, 3, 4.2, 4.3, 5, 6, 10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mg.h"

#define CE "Memgraph.ClientError.MemgraphError.MemgraphError"
#define TE "Memgraph.TransientError.MemgraphError.MemgraphError"
#define DE "Memgraph.DatabaseError.MemgraphError.MemgraphError"
#define UNAUTH "Memgraph.ClientError.Security.Unauthenticated"
#define REPL_PREFIX "Replication Exception: "
#define REPL_SUFFIX " Check the status of the replicas using 'SHOW REPLICAS' query."

struct class_case {
  const char *code;
  const char *message;
  enum mg_err_class cls;
};

static const struct class_case cases[] = {
    /* 6.1 / 6.2 */
    {CE, "Couldn't set replication role to main!", MG_ERR_ALREADY_MAIN},
    {CE, "Couldn't set role to replica!", MG_ERR_ALREADY_REPLICA},
    {CE, "Can't set role manually on instance with coordinator server port.", MG_ERR_HA_MANAGED},
    /* 4.2 REGISTER REPLICA, v2.21 - v3.4.x: one text for every cause */
    {CE, "Replica can't register another replica!", MG_ERR_NOT_MAIN},
    {CE, "Couldn't register replica mg_1.", MG_ERR_UNKNOWN_REGISTER_FAILURE},
    {CE, "Couldn't register replica REP1.", MG_ERR_UNKNOWN_REGISTER_FAILURE},
    /* 4.2, v3.5.0+: Error: N */
    {CE, "Couldn't register replica mg_1. Error: 0", MG_ERR_NOT_MAIN},
    {CE, "Couldn't register replica mg_1. Error: 1", MG_ERR_NAME_EXISTS},
    {CE, "Couldn't register replica mg_1. Error: 2", MG_ERR_ENDPOINT_EXISTS},
    {CE, "Couldn't register replica mg_1. Error: 3", MG_ERR_DIVERGED},
    {CE, "Couldn't register replica mg_1. Error: 4", MG_ERR_PERSIST_FAILED},
    {CE, "Couldn't register replica mg_1. Error: 5", MG_ERR_UNREACHABLE},
    {CE, "Couldn't register replica mg_1. Error: 6", MG_ERR_NO_ACCESS},
    {CE, "Couldn't register replica mg_1. Error: 7", MG_ERR_UNKNOWN_REGISTER_FAILURE},
    {CE, "Couldn't register replica mg_1. Error: -1", MG_ERR_UNKNOWN_REGISTER_FAILURE},
    {CE, "Couldn't register replica mg_1. Error: x", MG_ERR_UNKNOWN_REGISTER_FAILURE},
    {CE, "Couldn't register replica a. Error: 1. Error: 5", MG_ERR_NAME_EXISTS},
    {CE, "Can't register replica manually on instance with coordinator server port.", MG_ERR_HA_MANAGED},
    {CE,
     "Couldn't register replica mg_1 because a database is in analytical storage mode. Switch every database "
     "back to IN_MEMORY_TRANSACTIONAL and retry.",
     MG_ERR_ANALYTICAL_MODE},
    /* 4.3 DROP REPLICA */
    {CE, "Replica can't unregister a replica!", MG_ERR_NOT_MAIN},
    {CE,
     "Replica can't unregister a replica! Please rerun the query on main in order to unregister a replica "
     "from "
     "the cluster.",
     MG_ERR_NOT_MAIN},
    {CE, "Couldn't unregister the replica mg_9.", MG_ERR_REPLICA_NOT_FOUND},
    {CE, "Failed to unregister the replica mg_9.", MG_ERR_REPLICA_NOT_FOUND},
    {CE, "Couldn't get unique access to replication state!", MG_ERR_NO_ACCESS},
    {CE,
     "Failed to unregister replica due to lack of unique access over the cluster state. Please try again "
     "later "
     "on.",
     MG_ERR_NO_ACCESS},
    {CE, "Can't drop replica manually on instance with coordinator server port.", MG_ERR_HA_MANAGED},
    {CE, "Couldn't unregister replica mg_1 because a database is in analytical storage mode. Switch ...",
     MG_ERR_ANALYTICAL_MODE},
    /* 2.2 SHOW REPLICAS on a REPLICA */
    {CE, "Replica can't show registered replicas (it shouldn't have any)!", MG_ERR_NOT_MAIN},
    {CE, "Show replicas query should only be run on the main instance.", MG_ERR_NOT_MAIN},
    /* 5 commit-time replication failures, v2.21 - v3.9 */
    {CE, REPL_PREFIX "At least one SYNC replica has not confirmed committing last transaction." REPL_SUFFIX,
     MG_ERR_SYNC_REPLICA_FAILED},
    {CE,
     REPL_PREFIX
     "At least one STRICT_SYNC replica has not confirmed committing last transaction. Transaction "
     "will be aborted on all instances." REPL_SUFFIX,
     MG_ERR_STRICT_SYNC_ABORTED},
    /* 5, v3.10+: FormatReplicationError */
    {CE,
     REPL_PREFIX
     "Failed to replicate to SYNC replica 'mg_1': replica is not reachable or not in sync with the "
     "main. Replica will be recovered automatically. Transaction is still committed on the main "
     "instance and other alive replicas." REPL_SUFFIX,
     MG_ERR_SYNC_REPLICA_FAILED},
    {CE,
     REPL_PREFIX
     "Failed to replicate to SYNC replicas 'a' and 'b': replicas are not reachable or not in sync "
     "with the main. Replicas will be recovered automatically. Transaction is still committed on "
     "the main instance and other alive replicas." REPL_SUFFIX,
     MG_ERR_SYNC_REPLICA_FAILED},
    {CE,
     REPL_PREFIX
     "Failed to replicate to SYNC replica 'a': RPC timeout while replicating. Consider increasing "
     "the replication timeout or lowering deltas_batch_progress_size. Replica will be recovered "
     "automatically. Transaction is still committed on the main instance and other alive "
     "replicas." REPL_SUFFIX,
     MG_ERR_SYNC_REPLICA_FAILED},
    {CE,
     REPL_PREFIX "Failed to replicate to STRICT_SYNC replica 'mg_2': replica has diverged from main. Replica "
                 "will be recovered automatically. Transaction was aborted on all instances." REPL_SUFFIX,
     MG_ERR_STRICT_SYNC_ABORTED},
    {CE,
     REPL_PREFIX
     "Failed to replicate to STRICT_SYNC replicas 'a', 'b' and 'c': failed to obtain RPC lock "
     "(another transaction is in progress). Replicas will be recovered automatically. Transaction "
     "was aborted on all instances." REPL_SUFFIX,
     MG_ERR_STRICT_SYNC_ABORTED},
    {CE,
     REPL_PREFIX
     "Failed to replicate to SYNC replica 'x': RPC communication error. Replica will be recovered "
     "automatically. Transaction is still committed on the main instance and other alive "
     "replicas." REPL_SUFFIX,
     MG_ERR_SYNC_REPLICA_FAILED},
    /* 6.3 writes on a REPLICA, HA main not writable, [main] commit after demotion */
    {CE, "Write query forbidden on the replica!", MG_ERR_WRITE_ON_REPLICA},
    {CE,
     "Write queries are forbidden on the replica instance. Replica instances accept only read queries, while "
     "the main instance accepts read and write queries. Please retry your query on the main instance.",
     MG_ERR_WRITE_ON_REPLICA},
    {CE, "Query forbidden on the replica!", MG_ERR_WRITE_ON_REPLICA},
    {CE, "Cannot commit because instance is not main anymore.", MG_ERR_WRITE_ON_REPLICA},
    {CE,
     "Write query forbidden on the main! Coordinator needs to enable writing on main by sending RPC message.",
     MG_ERR_HA_MANAGED},
    {CE,
     "Write queries currently forbidden on the main instance. Either the cluster is in read-only mode, or a "
     "new "
     "main instance is being set up. Please retry the query later on if this is transient.",
     MG_ERR_HA_MANAGED},
    /* 1 explicit transactions, ports, addresses */
    {CE, "Replication clause not allowed in multicommand transactions.", MG_ERR_EXPLICIT_TX},
    {CE,
     "Managing replication is not allowed in multicommand transactions. Replication queries change the "
     "cluster "
     "state and cannot be rolled back, so run them outside of explicit transactions. For more details, visit "
     "https://memgraph.com/docs/clustering/replication.",
     MG_ERR_EXPLICIT_TX},
    {CE, "Replica must set a port!", MG_ERR_INVALID_QUERY},
    {CE, "Main can't set a port!", MG_ERR_INVALID_QUERY},
    {CE, "Port must be an integer literal!", MG_ERR_INVALID_QUERY},
    {CE, "Port number invalid!", MG_ERR_INVALID_QUERY},
    {CE, "Invalid socket address!", MG_ERR_INVALID_QUERY},
    {CE,
     "Invalid socket address. The socket address must be a string defining the address and port, delimited "
     "by "
     "a single colon. The address must be valid and the port must be an integer.",
     MG_ERR_INVALID_QUERY},
    {CE, "Socket address should be a string literal!", MG_ERR_INVALID_QUERY},
    /* 10.1 snapshots */
    {TE, "Nothing has been written since the last snapshot.", MG_ERR_SNAPSHOT_NOTHING_NEW},
    {TE, "Nothing has been written since the last snapshot", MG_ERR_SNAPSHOT_NOTHING_NEW},
    {TE, "Failed to create a snapshot. Replica instances are not allowed to create them.",
     MG_ERR_SNAPSHOT_ON_REPLICA},
    {TE, "Failed to create a snapshot. Replica instances are not allowed to create them",
     MG_ERR_SNAPSHOT_ON_REPLICA},
    {TE, "Another snapshot creation is already in progress.", MG_ERR_SNAPSHOT_IN_PROGRESS},
    {TE, "Another snapshot creation is already in progress", MG_ERR_SNAPSHOT_IN_PROGRESS},
    {TE, "Failed to create snapshot. The current snapshot needs to be aborted.", MG_ERR_TRANSIENT},
    /* 3 classes by code */
    {UNAUTH, "Authentication failure", MG_ERR_AUTH},
    {UNAUTH, "", MG_ERR_AUTH},
    {CE, "Authentication failure", MG_ERR_AUTH},
    {TE, "Cannot resolve conflicting transactions.", MG_ERR_TRANSIENT},
    {DE, "Unexpected error", MG_ERR_OTHER},
    {CE, "line 1:1 mismatched input 'FOO' expecting ...", MG_ERR_OTHER},
    {"", "", MG_ERR_OTHER},
    {NULL, NULL, MG_ERR_OTHER},
    {"garbage", "Couldn't set replication role to main", MG_ERR_OTHER},
    /* texts only match where the reference says: no substring matches for prefixes */
    {CE, "Something: Couldn't set replication role to main!", MG_ERR_OTHER},
    {CE, "couldn't set replication role to main!", MG_ERR_OTHER},
};

static void test_classification_table(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    enum mg_err_class got = mg_classify_error(cases[i].code, cases[i].message);
    if (got != cases[i].cls)
      fail_msg("case %zu '%s': got %s, want %s", i, cases[i].message ? cases[i].message : "(null)",
               mg_err_class_name(got), mg_err_class_name(cases[i].cls));
  }
}

static void test_names_and_retry(void **state)
{
  (void) state;
  assert_string_equal(mg_err_class_name(MG_ERR_NONE), "NONE");
  assert_string_equal(mg_err_class_name(MG_ERR_ALREADY_MAIN), "ALREADY_MAIN");
  assert_string_equal(mg_err_class_name(MG_ERR_UNKNOWN_REGISTER_FAILURE), "UNKNOWN_REGISTER_FAILURE");
  assert_string_equal(mg_err_class_name(MG_ERR_STRICT_SYNC_ABORTED), "STRICT_SYNC_ABORTED");
  assert_string_equal(mg_err_class_name(MG_ERR_BAD_RESULT), "BAD_RESULT");
  assert_string_equal(mg_err_class_name((enum mg_err_class) 1000), "UNKNOWN");
  /* every class in the enum has its own name */
  for (int i = MG_ERR_NONE; i <= MG_ERR_BAD_RESULT; i++) {
    assert_string_not_equal(mg_err_class_name((enum mg_err_class) i), "UNKNOWN");
    for (int j = MG_ERR_NONE; j < i; j++)
      assert_string_not_equal(mg_err_class_name((enum mg_err_class) i),
                              mg_err_class_name((enum mg_err_class) j));
  }
  assert_true(mg_err_retryable(MG_ERR_NO_ACCESS));
  assert_true(mg_err_retryable(MG_ERR_TIMEOUT));
  assert_true(mg_err_retryable(MG_ERR_CONNECTION));
  assert_true(mg_err_retryable(MG_ERR_TRANSIENT));
  assert_false(mg_err_retryable(MG_ERR_ALREADY_MAIN));
  assert_false(mg_err_retryable(MG_ERR_DIVERGED));
  assert_false(mg_err_retryable(MG_ERR_INVALID_ARG));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_classification_table),
      cmocka_unit_test(test_names_and_retry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
