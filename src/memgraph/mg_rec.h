/* The typed queries in the shapes of the decision's input (struct rec_instance, src/decide/topology.h): what
 * the Memgraph port's real backend (mg_port.c) runs. The observer of an instance is mgo_mg_observe()
 * (mg_port.h), the same for the operator and the integration probe.
 *
 * Ownership: everything is caller-allocated; nothing is kept. Thread-safety: as the connection (one thread
 * at a time); the pure functions are thread-safe. Library code: nothing is logged. */
#ifndef MGO_MEMGRAPH_MG_REC_H
#define MGO_MEMGRAPH_MG_REC_H

#include "mg.h"
#include "topology.h"

/* data_info status -> topology's replica state (same values; UNKNOWN for anything else). */
enum rec_replica_state mg_rec_state(enum mg_replica_status s);

/* Copies the rows of SHOW REPLICAS into inst->registrations (n_registrations, replicas_known = true).
 * Per row: state/ts/behind come from data_info.memgraph (has_data_info false for data_info {} or a missing
 * "memgraph" entry, then state UNKNOWN and ts/behind 0); a sync_mode this library does not know becomes
 * ASYNC (so a mode mismatch leads to drop + re-register). Rows whose name did not fit are skipped.
 * Returns MGO_OK, or MGO_ETOOBIG when more than MGO_MAX_INSTANCES rows (the first ones are kept and
 * replicas_known is false, so the decision does not act on a partial list). */
int mg_rec_fill_registrations(const struct mg_replicas *r, struct rec_instance *inst);

/* SHOW REPLICAS into a caller array (the shape mg_port.h uses): up to max rows, *n set;
 * MGO_ETOOBIG when there were more (the first max are filled). */
int mg_rec_show_replicas(struct mg_conn *c, struct rec_registration *regs, size_t max, size_t *n,
                         struct mg_error *err);
/* SHOW STORAGE INFO as the decision's data presence. */
int mg_rec_has_data(struct mg_conn *c, enum rec_data *data, struct mg_error *err);

/* Runs a Bolt action of a plan with the typed queries: PROMOTE (mg_set_role_main), DEMOTE
 * (mg_set_role_replica with a->port), REGISTER (mg_register_replica with a->replica, a->mode, a->address:
 * STRICT_SYNC refused below 3.5), DROP (mg_drop_replica with a->replica). Any other action type:
 * MGO_EINVAL (MG_ERR_INVALID_ARG), nothing sent. Errors and classes as for those functions. */
int mg_rec_execute(struct mg_conn *c, const struct rec_action *a, struct mg_error *err);

/* The exact Cypher text mg_rec_execute sends for a Bolt action, built by the same mg_cypher_* functions
 * (for logs and tests): PROMOTE "SET REPLICATION ROLE TO MAIN", DEMOTE "SET REPLICATION ROLE TO REPLICA WITH
 * PORT <port>", REGISTER "REGISTER REPLICA `<name>` <MODE> TO \"<address>\"", DROP "DROP REPLICA `<name>`".
 * Writes into the caller's dst (nothing allocated). Returns MGO_OK, MGO_EINVAL for any other action type or
 * for input mg_rec_execute would refuse before sending (unsafe name, address or port), or MGO_ETOOBIG. The
 * STRICT_SYNC version check of mg_rec_execute needs the connection and is not made here. Pure. */
int mg_rec_action_cypher(const struct rec_action *a, char *dst, size_t dstsz);

#endif
