/* hostport.h - "HOST:PORT", "[V6]:PORT" and libmilter's "PORT@HOST", parsed one way */
#ifndef RM_HOSTPORT_H
#define RM_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define HOSTPORT_HOST_MAX 255

struct hostport {
	char host[HOSTPORT_HOST_MAX + 1]; /* without brackets; "" when absent */
	unsigned port;                    /* 0 when absent */
	bool has_port;
	bool bracketed; /* written "[...]" */
};

/* How a caller's syntax differs from the plain "HOST:PORT". */
#define HOSTPORT_PORT_OPTIONAL 0x1 /* "HOST", "[V6]" and a bare IPv6 address too */
#define HOSTPORT_PORT_ZERO     0x2 /* port 0 is allowed: "pick a free one" */
#define HOSTPORT_MILTER        0x4 /* libmilter's order: "PORT" or "PORT@HOST" */

/*
 * hostport_parse - split text into host and port. Strict: the port is
 * decimal 1-65535 (0 too with HOSTPORT_PORT_ZERO) with nothing after it, a
 * host with a colon must be bracketed (except a bare IPv6 address under
 * HOSTPORT_PORT_OPTIONAL), and nothing is looked up. 0, or -1 with *why.
 */
int hostport_parse(const char *text, unsigned flags, struct hostport *out, const char **why);

/* A numeric listening address, ready for bind(2). */
struct hostport_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool v6;
};

/*
 * hostport_listen - "127.0.0.1:9899" or "[::1]:9899" into a socket address:
 * numeric only (no DNS at start-up), IPv6 bracketed, port 0 picks a free
 * one. 0, or -1 with *why.
 */
int hostport_listen(const char *text, struct hostport_addr *out, const char **why);

#endif
