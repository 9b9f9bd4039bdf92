/* addr.h - RFC 5321 paths as clients (and attackers) write them */
#ifndef RM_ADDR_H
#define RM_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"

#define ADDR_LOCAL_MAX  256  /* decoded local part; RFC 5321 allows 64 */
#define ADDR_DOMAIN_MAX 255  /* A-label form, no trailing dot */
#define ADDR_INPUT_MAX  4096 /* longer input is refused as malformed */

enum addr_kind {
	ADDR_MAILBOX,  /* local@domain (or local@[literal]) */
	ADDR_NULL,     /* <> */
	ADDR_NODOMAIN, /* <postmaster>, <user>: no domain at all */
	ADDR_INVALID,  /* cannot be parsed: never local */
};

/* Routing tricks: the local part still routes somewhere else. */
#define ADDR_TRICK_PERCENT      0x01 /* user%remote@local */
#define ADDR_TRICK_BANG         0x02 /* remote!user@local, remote!user */
#define ADDR_TRICK_QUOTED_AT    0x04 /* "user@remote"@local */
#define ADDR_TRICK_SOURCE_ROUTE 0x08 /* @local:user@remote */
#define ADDR_TRICK_MULTI_AT     0x10 /* user@remote@local */

struct addr {
	enum addr_kind kind;
	char local[ADDR_LOCAL_MAX + 1];   /* unquoted, escapes removed */
	char domain[ADDR_DOMAIN_MAX + 1]; /* lower case, A-labels, no trailing dot;
	                                     for a literal the text inside [] */
	bool literal;                     /* domain was [a.b.c.d] or [IPv6:...] */
	struct ipaddr literal_ip;         /* valid when literal */
	bool literal_v6;                  /* written [IPv6:...]: literal_ip holds IPv4 when
	                                     that was ::ffff:a.b.c.d, which the MTA does not
	                                     call its own IPv4 address */
	unsigned tricks;                  /* ADDR_TRICK_* bits */
	const char *error;                /* static reason when ADDR_INVALID */
};

/*
 * addr_parse - parse a MAIL FROM or RCPT TO path: with or without angle
 * brackets, ESMTP parameters already removed. Never reads past the NUL,
 * never writes past struct addr. Returns out->kind.
 */
enum addr_kind addr_parse(const char *text, struct addr *out);

/*
 * addr_same_path - is mta exactly the path raw names, written without its
 * angle brackets (as the MTA's {rcpt_addr} and {mail_addr} usually are)?
 * Then a valid parse of raw is the parse of mta too, and need not be redone.
 */
bool addr_same_path(const char *raw, const char *mta);

/* addr_trick_name - short name of the first trick bit set ("percent", ...) */
const char *addr_trick_name(unsigned tricks);

#endif
