/* hostport.c - "HOST:PORT", "[V6]:PORT" and libmilter's "PORT@HOST", parsed one way */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "hostport.h"

/* parse_port - decimal, at most five digits, nothing after it */
static int parse_port(const char *s, size_t len, unsigned flags, unsigned *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535 || (v == 0 && !(flags & HOSTPORT_PORT_ZERO)))
		return -1;
	*port = v;
	return 0;
}

/* set_host - copy len bytes of host; it must not be empty */
static int set_host(struct hostport *out, const char *s, size_t len)
{
	if (len == 0 || len > HOSTPORT_HOST_MAX || memchr(s, 0, len) != NULL)
		return -1;
	memcpy(out->host, s, len);
	out->host[len] = 0;
	return 0;
}

/* set_port - the port after the host, when there is one */
static int set_port(struct hostport *out, const char *s, unsigned flags)
{
	if (parse_port(s, strlen(s), flags, &out->port) < 0)
		return -1;
	out->has_port = true;
	return 0;
}

/* parse_milter - "PORT" or "PORT@HOST", as libmilter's inet: and inet6: take them */
static int parse_milter(const char *text, unsigned flags, struct hostport *out)
{
	const char *at = strchr(text, '@');
	size_t plen = at ? (size_t)(at - text) : strlen(text);

	if (parse_port(text, plen, flags, &out->port) < 0)
		return -1;
	out->has_port = true;
	return at == NULL ? 0 : set_host(out, at + 1, strlen(at + 1));
}

/* parse_bracketed - "[HOST]" or "[HOST]:PORT" */
static int parse_bracketed(const char *text, unsigned flags, struct hostport *out)
{
	const char *close = strchr(text, ']');

	if (close == NULL || set_host(out, text + 1, (size_t)(close - text - 1)) < 0)
		return -1;
	out->bracketed = true;
	if (close[1] == 0)
		return flags & HOSTPORT_PORT_OPTIONAL ? 0 : -1;
	return close[1] == ':' ? set_port(out, close + 2, flags) : -1;
}

/* hostport_parse - split text into host and port */
int hostport_parse(const char *text, unsigned flags, struct hostport *out, const char **why)
{
	const char *colon;
	int rc;

	memset(out, 0, sizeof(*out));
	*why = flags & HOSTPORT_MILTER     ? "expected PORT or PORT@HOST" :
	    flags & HOSTPORT_PORT_OPTIONAL ? "expected HOST, HOST:PORT, [IPV6] or [IPV6]:PORT" :
					     "expected HOST:PORT or [IPV6]:PORT";
	if (flags & HOSTPORT_MILTER)
		rc = parse_milter(text, flags, out);
	else if (text[0] == '[')
		rc = parse_bracketed(text, flags, out);
	else if ((colon = strchr(text, ':')) != NULL && strchr(colon + 1, ':') == NULL)
		rc = set_host(out, text, (size_t)(colon - text)) < 0 ?
		    -1 :
		    set_port(out, colon + 1, flags);
	else if (flags & HOSTPORT_PORT_OPTIONAL) /* a name, IPv4, or a bare IPv6 address */
		rc = set_host(out, text, strlen(text));
	else
		rc = -1;
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* hostport_listen - a numeric listening address for bind(2) */
int hostport_listen(const char *text, struct hostport_addr *out, const char **why)
{
	struct hostport hp;

	memset(out, 0, sizeof(*out));
	*why = "expected \"ADDRESS:PORT\", e.g. \"127.0.0.1:9899\" or \"[::1]:9899\"";
	if (hostport_parse(text, HOSTPORT_PORT_ZERO, &hp, &(const char *){NULL}) < 0)
		return -1;
	if (hp.bracketed) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, hp.host, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)hp.port);
		out->len = sizeof(*s6);
		out->v6 = true;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, hp.host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)hp.port);
		out->len = sizeof(*s4);
	}
	return 0;
}
