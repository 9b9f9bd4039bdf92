/* ipaddr.c - IPv4/IPv6 addresses as the engine sees them */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "decimal.h"
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

/*
 * parse_v4 - the dotted quad inet_pton accepts in its strictest form (four
 * decimal bytes, no leading zero), without its per-call overhead; false
 * for anything else, which then goes to inet_pton itself
 */
static bool parse_v4(const char *s, uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = (unsigned)(unsigned char)*s - '0', d;

		if (v > 9)
			return false;
		if ((d = (unsigned)(unsigned char)*++s - '0') <= 9) {
			if (v == 0)
				return false; /* a leading zero */
			v = v * 10 + d;
			if ((d = (unsigned)(unsigned char)*++s - '0') <= 9) {
				v = v * 10 + d;
				if (v > 255 || (unsigned)(unsigned char)*++s - '0' <= 9)
					return false;
			}
		}
		b[i] = (uint8_t)v;
		if (*s++ != (i < 3 ? '.' : '\0'))
			return false;
	}
	return true;
}

/* ipaddr_parse - parse a bare IPv4 or IPv6 address */
int ipaddr_parse(const char *text, struct ipaddr *out)
{
	uint8_t b[16];

	if (text == NULL)
		return -1;
	if (parse_v4(text, b) || inet_pton(AF_INET, text, b) == 1) {
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

/* put_v4 - dotted quad of b[0..3]; returns the end */
static char *put_v4(char *p, const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		p = decimal_put(p, b[i]);
	}
	return p;
}

/* put_hex - a 16-bit group in lower-case hex, no leading zeros */
static char *put_hex(char *p, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && (v >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hex[(v >> shift) & 0xf];
	return p;
}

/* zero_run - the longest run of zero groups (the first of equals), 2 or more */
static void zero_run(const unsigned *w, int *base, int *len)
{
	int cur = -1, n = 0;

	*base = -1;
	*len = 0;
	for (int i = 0; i <= 8; i++) {
		if (i < 8 && w[i] == 0) {
			if (cur < 0)
				cur = i;
			n = i - cur + 1;
			continue;
		}
		if (cur >= 0 && n > *len) {
			*base = cur;
			*len = n;
		}
		cur = -1;
	}
	if (*len < 2)
		*base = -1;
}

/*
 * put_v6 - the text inet_ntop writes (RFC 5952 compression, ::a.b.c.d
 * for an IPv4-compatible address), without its sprintf per group
 */
static char *put_v6(char *p, const uint8_t *b)
{
	unsigned w[8];
	int base, len;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	zero_run(w, &base, &len);
	for (int i = 0; i < 8; i++) {
		if (base >= 0 && i >= base && i < base + len) {
			if (i == base)
				*p++ = ':';
			continue;
		}
		if (i != 0)
			*p++ = ':';
		if (i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff)))
			return put_v4(p, b + 12);
		p = put_hex(p, w[i]);
	}
	if (base >= 0 && base + len == 8)
		*p++ = ':';
	return p;
}

/* ipaddr_format - text form into buf: once per connection, so no printf */
const char *ipaddr_format(const struct ipaddr *addr, char *buf, size_t len)
{
	int af = addr->family == IPADDR_V4 ? AF_INET : AF_INET6;
	char *end;

	if (len >= IPADDR_STRLEN) {
		end = af == AF_INET ? put_v4(buf, addr->bytes) : put_v6(buf, addr->bytes);
		*end = 0;
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
