/* ipaddr.c - IPv4/IPv6 addresses as the engine sees them */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ipaddr.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* set_v6 - store 16 bytes, folding ::ffff:a.b.c.d into plain IPv4 */
static void set_v6(struct ipaddr *out, const uint8_t *b)
{
	memset(out, 0, sizeof(*out));
	if (memcmp(b, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		out->family = IPADDR_V4;
		memcpy(out->bytes, b + 12, 4);
	} else {
		out->family = IPADDR_V6;
		memcpy(out->bytes, b, 16);
	}
}

/* ipaddr_parse - parse a bare IPv4 or IPv6 address */
int ipaddr_parse(const char *text, struct ipaddr *out)
{
	uint8_t b[16];

	if (text == NULL)
		return -1;
	if (inet_pton(AF_INET, text, b) == 1) {
		memset(out, 0, sizeof(*out));
		out->family = IPADDR_V4;
		memcpy(out->bytes, b, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, b) == 1) {
		set_v6(out, b);
		return 0;
	}
	return -1;
}

/* ipaddr_from_sockaddr - convert AF_INET/AF_INET6 */
int ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out)
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		memset(out, 0, sizeof(*out));
		out->family = IPADDR_V4;
		memcpy(out->bytes, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		set_v6(out, sin6->sin6_addr.s6_addr);
		return 0;
	}
	return -1;
}

/* put_uint - decimal digits of v at p; the end */
char *ipaddr_put_uint(char *p, unsigned v)
{
	char tmp[10];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/*
 * ipaddr_format - text form into buf. IPv4 is written here: inet_ntop
 * goes through sprintf, and the decision line and the limits' keys format
 * a client for every recipient
 */
const char *ipaddr_format(const struct ipaddr *addr, char *buf, size_t len)
{
	int af = addr->family == IPADDR_V4 ? AF_INET : AF_INET6;

	if (af == AF_INET && len >= 16) {
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			p = ipaddr_put_uint(p, addr->bytes[i]);
			*p++ = i < 3 ? '.' : 0;
		}
		return buf;
	}
	if (inet_ntop(af, addr->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* ipaddr_equal - same family and same address */
bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	size_t n = a->family == IPADDR_V4 ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

/* ipaddr_unspecified - every byte zero, in either family */
bool ipaddr_unspecified(const struct ipaddr *addr)
{
	size_t n = addr->family == IPADDR_V4 ? 4 : 16;

	for (size_t i = 0; i < n; i++)
		if (addr->bytes[i] != 0)
			return false;
	return true;
}
