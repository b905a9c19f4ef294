/* The HTTP API of the agent's sidecar (`agent serve`), as a pure request handler: method, path,
 * Authorization header and body in, status and body out. agent_http.h puts it behind libmicrohttpd; unit
 * tests call it directly. docs/agent.md "The sidecar's HTTP API" is the contract.
 *
 *   GET    /healthz               200 "ok" (no authentication)
 *   POST   /v1/uploads            202 {"id"}; 400 invalid request, 404 no such snapshot, 409
 * {"error","running"} GET    /v1/uploads/{id}       200 the job (agent_jobs.h); 404 unknown id DELETE
 * /v1/uploads/{id}       202 cancel requested (running), 200 already finished; 404 unknown id GET
 * /v1/snapshots          200 {"snapshots":[{"name","size","mtime"}]} newest first
 *
 * Every other request needs "Authorization: Bearer <token>", where the token is the content of the token file
 * (trailing whitespace removed). The file is stat()ed on every request and re-read when its device, inode,
 * size or modification time changed (a rotated Secret volume swaps a symbolic link: a new inode); while it is
 * unreadable or empty every request is refused. Tokens are compared as SHA-256 digests with CRYPTO_memcmp, so
 * the comparison takes the same time whatever the token. 401 otherwise, with no hint at the reason.
 * Errors are JSON {"error": "..."}; bodies over AGENT_API_BODY_MAX bytes are refused (413, by the caller).
 *
 * Library-style: nothing here prints, and neither the token nor any credential is ever put in a reply.
 * Ownership: agent_api_new() returns an object freed by agent_api_free(); token_file, data_dir and jobs are
 * borrowed. A reply's body is the caller's (mgo_buf_free). Thread-safety: agent_api_handle() may run on
 * several threads at once (the token cache has its own mutex; jobs are thread-safe). */
#ifndef MGO_AGENT_API_H
#define MGO_AGENT_API_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_jobs.h"
#include "mgo_buf.h"

#define AGENT_API_BODY_MAX ((size_t) 64 * 1024)
#define AGENT_API_TOKEN_MAX 4096 /* bytes of the token file */
#define AGENT_API_PART_MIN ((size_t) 5 * 1024 * 1024)
#define AGENT_API_PART_MAX ((size_t) 5 * 1024 * 1024 * 1024)

struct agent_api;

struct agent_api_reply {
  unsigned int status;
  const char *content_type; /* static */
  struct mgo_buf body;
};

/* Reads the token file once: MGO_ESYS / MGO_EINVAL (empty) when it cannot be used, with detail. */
int agent_api_new(struct agent_api **out, const char *token_file, const char *data_dir,
                  struct agent_jobs *jobs, char *detail, size_t detailsz);
void agent_api_free(struct agent_api *a);

/* Whether authorization (the header's value, NULL when absent) carries the current token. */
bool agent_api_authorized(struct agent_api *a, const char *authorization);

/* Handles one request; *r is filled (r->body initialized here). body may be NULL when len is 0. */
void agent_api_handle(struct agent_api *a, const char *method, const char *url, const char *authorization,
                      const char *body, size_t len, struct agent_api_reply *r);

/* Makes jansson allocate through functions that wipe (OPENSSL_cleanse) every block when it is freed, so
 * credentials parsed from request bodies do not linger in freed memory. Process-wide: call once, before any
 * other jansson use (agent serve's main). Afterwards memory jansson hands out (json_dumps) must be released
 * with jansson's free function, never free(); this module only renders through json_dump_callback. */
void agent_api_use_wiping_json_allocator(void);

#endif
