/* redis_keys.c - the Redis key names of a principal's counters, locks and index */
#include <stdlib.h>
#include <string.h>

#include "redis_keys.h"

void rkbuf_init(struct rkbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void rkbuf_free(struct rkbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void rkbuf_add(struct rkbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap =
		    b->cap ? b->cap : 2048; /* a decision of seven checks: one allocation */
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* must_escape - bytes that would end the hash tag, hide in redis-cli, or clash with the escape */
static int must_escape(unsigned char c)
{
	return c <= ' ' || c == 0x7f || c == '%' || c == '{' || c == '}';
}

void rk_escape(struct rkbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		const unsigned char *run = p;

		while (*p != '\0' && !must_escape(*p))
			p++;
		rkbuf_add(b, (const char *)run, (size_t)(p - run));
		if (*p == '\0')
			break;
		char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		rkbuf_add(b, e, sizeof(e));
	}
}

/* hexval - one hex digit, or -1 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void rk_unescape(char *s, size_t *len)
{
	size_t i = 0, o = 0;

	while (i < *len) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < *len && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			s[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else
			s[o++] = s[i++];
	}
	*len = o;
	s[o] = '\0';
}

void rk_base(struct rkbuf *b, const char *prefix, const char *principal)
{
	rkbuf_add(b, prefix, strlen(prefix));
	rkbuf_add(b, "{", 1);
	rk_escape(b, principal);
	rkbuf_add(b, "}:", 2);
}
