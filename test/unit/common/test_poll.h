/* Waiting for a condition in unit tests without sleeping as synchronisation: poll a predicate until it
 * holds or a real-time deadline passes, then assert on the result (and on the effect itself).
 *
 * Ownership: nothing is allocated. Thread-safety: the predicate runs on the calling thread; it must read
 * shared state safely (atomics or the component's own getters). */
#ifndef MGO_TEST_POLL_H
#define MGO_TEST_POLL_H

#include <stdbool.h>

/* Calls cond(arg) until it returns true (→ true) or timeout_ms of real time passed (→ false), yielding the
 * processor for about a millisecond between calls. */
bool tu_poll_until(bool (*cond)(void *arg), void *arg, long timeout_ms);

#endif
