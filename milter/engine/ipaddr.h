/* ipaddr.h - IPv4/IPv6 addresses as the engine sees them */
#ifndef RM_IPADDR_H
#define RM_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/*
 * One address. IPv4 lives in bytes[0..3]; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is always stored as IPv4, so every table and rule sees
 * one form of a client whatever the MTA passed.
 */
struct ipaddr {
	uint8_t family; /* IPADDR_V4 or IPADDR_V6 */
	uint8_t bytes[16];
};

#define IPADDR_V4     4
#define IPADDR_V6     6
#define IPADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* ipaddr_parse - parse a bare IPv4 or IPv6 address; 0 on success, -1 otherwise */
int ipaddr_parse(const char *text, struct ipaddr *out);

/* ipaddr_from_sockaddr - convert AF_INET/AF_INET6; -1 for any other family */
int ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out);

/* ipaddr_format - text form into buf (at least IPADDR_STRLEN bytes) */
const char *ipaddr_format(const struct ipaddr *addr, char *buf, size_t len);

/* ipaddr_equal - same family and same address */
bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b);

/* ipaddr_unspecified - 0.0.0.0 or ::, the wildcard a listener binds: nobody's address */
bool ipaddr_unspecified(const struct ipaddr *addr);

#endif
