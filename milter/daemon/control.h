/* control.h - the control socket: status, unlock and reset of limit keys, and explain's peek */
#ifndef RM_CONTROL_H
#define RM_CONTROL_H

#include <stdio.h>

struct store;
struct control;

/*
 * The protocol, one request a connection: a line "COMMAND SELECTOR=VALUE",
 * answered by lines and a last line "ok ..." or "error: ...".
 *   status  login=L | client=ADDR[/LEN] | sender=ADDR | sender_domain=D | key=KEY
 *   unlock  (the same): lift the key's locks
 *   reset   (the same): forget the key's counts (its locks stay)
 *   peek N, then N lines of hex-encoded checks: --explain's read-only store
 */
#define CONTROL_LINE_MAX 4096

/*
 * control_open - create the unix socket at path (0600), owned by user when
 * the daemon will drop to one; a stale socket nobody answers on is
 * replaced, a live one is not. NULL after logging why.
 */
struct control *control_open(const char *path, const char *user);

/* control_start - answer requests from a thread of its own, on store */
int control_start(struct control *c, struct store *store);

/* control_stop - stop answering and remove the socket */
void control_stop(struct control *c);

/*
 * control_handle - answer one request line into out (the server's work,
 * separate from the socket for the unit tests)
 */
void control_handle(struct store *store, const char *line, FILE *in, FILE *out);

/*
 * control_run - relay-milter --control: send "COMMAND SELECTOR=VALUE" to
 * the socket at path, print the answer; 0 when it ends in "ok"
 */
int control_run(const char *path, int argc, char **argv, FILE *out, FILE *err);

/*
 * control_peek_store - a store that asks the daemon at path (peek) and
 * never counts: --explain's view of the running daemon's counts
 */
struct store *control_peek_store(const char *path);

#endif
