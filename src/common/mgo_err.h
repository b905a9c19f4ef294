/* Error codes shared by every library in the project.
 *
 * Functions return MGO_OK (0) on success and a negative code otherwise. The codes, their names and their
 * messages come from one X-macro table so they never drift apart. Richer detail (a server's message, the
 * Kubernetes Status, a parse position) is kept next to the object that failed; see each module's header.
 *
 * Ownership: mgo_strerror() and mgo_errname() return pointers to static strings; never free them.
 * Thread-safety: all functions here are pure and thread-safe. */
#ifndef MGO_ERR_H
#define MGO_ERR_H

#define MGO_ERRORS(X)                                                                                        \
  X(EAGAIN, -1, "would block or needs more data; call again")                                                \
  X(ENOMEM, -2, "out of memory")                                                                             \
  X(EINVAL, -3, "invalid argument")                                                                          \
  X(ETOOBIG, -4, "input exceeds its size limit")                                                             \
  X(EPARSE, -5, "malformed input")                                                                           \
  X(EPROTO, -6, "protocol violation by the peer")                                                            \
  X(ETIMEDOUT, -7, "deadline exceeded")                                                                      \
  X(ECONNECT, -8, "cannot connect")                                                                          \
  X(EIO, -9, "connection failed while sending or receiving")                                                 \
  X(ECLOSED, -10, "connection closed by the peer")                                                           \
  X(ETLS, -11, "TLS failure (handshake, certificate or verification)")                                       \
  X(EAUTH, -12, "authentication failed")                                                                     \
  X(ESTATE, -13, "call not allowed in the object's current state")                                           \
  X(ECONFIG, -14, "invalid configuration")                                                                   \
  X(ENOTFOUND, -15, "not found")                                                                             \
  X(ECONFLICT, -16, "conflict")                                                                              \
  X(EGONE, -17, "resource version too old (gone)")                                                           \
  X(EFORBIDDEN, -18, "forbidden")                                                                            \
  X(EUNAUTHORIZED, -19, "unauthorized")                                                                      \
  X(EINVALIDOBJ, -20, "object rejected as invalid")                                                          \
  X(ESERVER, -21, "server error")                                                                            \
  X(EHTTP, -22, "unexpected HTTP status")                                                                    \
  X(EFAILURE, -23, "the server answered with a failure")                                                     \
  X(ENOVERSION, -24, "no common protocol version")                                                           \
  X(ECANCELED, -25, "operation canceled")                                                                    \
  X(EEXIST, -26, "already exists")                                                                           \
  X(EUNSUPPORTED, -27, "not supported")                                                                      \
  X(ESYS, -28, "system call failed")

#define MGO_ERR_ENUM_ENTRY(name, val, msg) MGO_##name = (val),
enum mgo_err { MGO_OK = 0, MGO_ERRORS(MGO_ERR_ENUM_ENTRY) MGO_ERR_LAST = -29 };
#undef MGO_ERR_ENUM_ENTRY

/* Human-readable message for rc ("unknown error" for codes outside the table). */
const char *mgo_strerror(int rc);
/* Symbolic name for rc, e.g. "EPROTO" ("OK" for 0), for logs and tests. */
const char *mgo_errname(int rc);

#endif
