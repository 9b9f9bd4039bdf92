/* addr.c - RFC 5321 paths as clients (and attackers) write them */

/*
 * The parser works on [s, e) spans of the caller's string, never past the
 * NUL, and writes only through bounded appends into struct addr. Anything
 * it cannot explain is ADDR_INVALID, which the policy never treats as
 * local: being strict here can only refuse mail, never relay it.
 *
 * Routing tricks are recorded, not refused: whether "user%remote@local"
 * is an attack or a site's legacy habit is the policy's decision.
 */
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "domain.h"
#include "idn.h"

#define ADDR_LITERAL_MAX 64 /* "IPv6:" + the longest IPv6 text, with room */

/* addr_fail - mark out invalid with a static reason; returns ADDR_INVALID */
static enum addr_kind addr_fail(struct addr *out, const char *why)
{
	memset(out, 0, sizeof(*out));
	out->kind = ADDR_INVALID;
	out->error = why;
	return ADDR_INVALID;
}

/*
 * addr_clear - an empty result. The text buffers are emptied, not zeroed:
 * every reader stops at their NUL, and zeroing 500 bytes twice per
 * recipient was the parser's largest cost.
 */
static void addr_clear(struct addr *out)
{
	out->kind = ADDR_INVALID;
	out->local[0] = '\0';
	out->domain[0] = '\0';
	out->literal = false;
	memset(&out->literal_ip, 0, sizeof(out->literal_ip));
	out->literal_v6 = false;
	out->tricks = 0;
	out->error = NULL;
}

/* addr_is_space - the blanks a client may put around a path */
static int addr_is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* addr_is_ctl - C0 controls and DEL: never valid anywhere in a path */
static int addr_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* atext: RFC 5321 atext, plus UTF-8 bytes (RFC 6531 SMTPUTF8) */
static const unsigned char atext[256] = {
    ['a' ... 'z'] = 1,
    ['A' ... 'Z'] = 1,
    ['0' ... '9'] = 1,
    [0x80 ... 0xff] = 1,
    ['!'] = 1,
    ['#'] = 1,
    ['$'] = 1,
    ['%'] = 1,
    ['&'] = 1,
    ['\''] = 1,
    ['*'] = 1,
    ['+'] = 1,
    ['-'] = 1,
    ['/'] = 1,
    ['='] = 1,
    ['?'] = 1,
    ['^'] = 1,
    ['_'] = 1,
    ['`'] = 1,
    ['{'] = 1,
    ['|'] = 1,
    ['}'] = 1,
    ['~'] = 1,
};

/* addr_is_atext - RFC 5321 atext, plus UTF-8 bytes */
static int addr_is_atext(unsigned char c)
{
	return atext[c];
}

/* addr_is_qtext - RFC 5321 qtextSMTP (printable but '"' and '\'), plus UTF-8 */
static int addr_is_qtext(unsigned char c)
{
	return (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') || c >= 0x80;
}

/*
 * The common path is plain ASCII: "<user@example.org>". Its fast paths
 * below accept only input whose full parse could not fail or note a
 * trick, and produce what the full parse would; anything else goes the
 * full way, which alone gives the reasons.
 */
enum {
	PLAIN_OTHER, /* anything else: the full parse judges it */
	PLAIN_ATEXT, /* ASCII atext that is no routing character */
	PLAIN_DOT,   /* '.' */
};

static const unsigned char plain_class[256] = {
    ['a' ... 'z'] = PLAIN_ATEXT,
    ['A' ... 'Z'] = PLAIN_ATEXT,
    ['0' ... '9'] = PLAIN_ATEXT,
    ['#'] = PLAIN_ATEXT,
    ['$'] = PLAIN_ATEXT,
    ['&'] = PLAIN_ATEXT,
    ['\''] = PLAIN_ATEXT,
    ['*'] = PLAIN_ATEXT,
    ['+'] = PLAIN_ATEXT,
    ['-'] = PLAIN_ATEXT,
    ['/'] = PLAIN_ATEXT,
    ['='] = PLAIN_ATEXT,
    ['?'] = PLAIN_ATEXT,
    ['^'] = PLAIN_ATEXT,
    ['_'] = PLAIN_ATEXT,
    ['`'] = PLAIN_ATEXT,
    ['{'] = PLAIN_ATEXT,
    ['|'] = PLAIN_ATEXT,
    ['}'] = PLAIN_ATEXT,
    ['~'] = PLAIN_ATEXT,
    ['.'] = PLAIN_DOT,
};

/*
 * addr_local_fast - a Dot-string of atext with no routing character,
 * copied whole; false sends it to addr_parse_local
 */
static bool addr_local_fast(const char *s, const char *e, struct addr *out)
{
	size_t n = (size_t)(e - s);

	if (n == 0 || n > ADDR_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char k = plain_class[(unsigned char)s[i]];

		if (k != PLAIN_ATEXT && (k != PLAIN_DOT || s[i - 1] == '.'))
			return false; /* s[0] is no dot: i > 0 here */
	}
	memcpy(out->local, s, n);
	out->local[n] = '\0';
	return true;
}

/*
 * The bytes of an LDH name, lower-cased: letters and digits lower-cased,
 * '-' and '.' as themselves, anything else 0. Every byte that needs a
 * second look ('-', '.', or not LDH) is at most '.', so one compare a byte
 * finds them.
 */
static const unsigned char ldh_lower[256] = {
    ['-'] = '-',
    ['.'] = '.',
    ['0'] = '0',
    ['1'] = '1',
    ['2'] = '2',
    ['3'] = '3',
    ['4'] = '4',
    ['5'] = '5',
    ['6'] = '6',
    ['7'] = '7',
    ['8'] = '8',
    ['9'] = '9',
    ['A'] = 'a',
    ['B'] = 'b',
    ['C'] = 'c',
    ['D'] = 'd',
    ['E'] = 'e',
    ['F'] = 'f',
    ['G'] = 'g',
    ['H'] = 'h',
    ['I'] = 'i',
    ['J'] = 'j',
    ['K'] = 'k',
    ['L'] = 'l',
    ['M'] = 'm',
    ['N'] = 'n',
    ['O'] = 'o',
    ['P'] = 'p',
    ['Q'] = 'q',
    ['R'] = 'r',
    ['S'] = 's',
    ['T'] = 't',
    ['U'] = 'u',
    ['V'] = 'v',
    ['W'] = 'w',
    ['X'] = 'x',
    ['Y'] = 'y',
    ['Z'] = 'z',
    ['a'] = 'a',
    ['b'] = 'b',
    ['c'] = 'c',
    ['d'] = 'd',
    ['e'] = 'e',
    ['f'] = 'f',
    ['g'] = 'g',
    ['h'] = 'h',
    ['i'] = 'i',
    ['j'] = 'j',
    ['k'] = 'k',
    ['l'] = 'l',
    ['m'] = 'm',
    ['n'] = 'n',
    ['o'] = 'o',
    ['p'] = 'p',
    ['q'] = 'q',
    ['r'] = 'r',
    ['s'] = 's',
    ['t'] = 't',
    ['u'] = 'u',
    ['v'] = 'v',
    ['w'] = 'w',
    ['x'] = 'x',
    ['y'] = 'y',
    ['z'] = 'z',
};

/*
 * addr_domain_fast - an LDH name as idn_to_ascii and domain_check accept
 * it (labels of 1-63 bytes, no hyphen at either end, 253 bytes at most,
 * no trailing dot), lower-cased into dom in one pass; false sends it the
 * full way
 */
static bool addr_domain_fast(const char *s, const char *e, char *dom)
{
	size_t n = (size_t)(e - s), start = 0;

	if (n == 0 || n > DOMAIN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = ldh_lower[(unsigned char)s[i]];

		dom[i] = (char)c;
		if (c > '.')
			continue;
		if (c == '.') {
			if (i == start || i - start > DOMAIN_LABEL_MAX || dom[i - 1] == '-')
				return false;
			start = i + 1;
		} else if (c != '-' || i == start) {
			return false;
		}
	}
	if (n == start || n - start > DOMAIN_LABEL_MAX || dom[n - 1] == '-')
		return false;
	dom[n] = '\0';
	return true;
}

/*
 * addr_parse_fast - "local@domain", in angle brackets or not, with a plain
 * local part and an LDH domain: no control byte, quote, blank, route or
 * trick can be in it, so the full parse would find this '@' the last one
 * and give the same result
 */
static bool addr_parse_fast(const char *s, const char *e, struct addr *out)
{
	const char *at;

	if (e - s >= 2 && *s == '<' && e[-1] == '>') {
		s++;
		e--;
	}
	if ((at = memchr(s, '@', (size_t)(e - s))) == NULL || !addr_local_fast(s, at, out) ||
	    !addr_domain_fast(at + 1, e, out->domain))
		return false;
	out->kind = ADDR_MAILBOX;
	return true;
}

/*
 * addr_utf8_ok - well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF. SMTPUTF8 lets 8-bit bytes into
 * local parts; malformed ones must not reach logs and lookups.
 */
static int addr_utf8_ok(const char *s, const char *e)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = (const unsigned char *)e;
	unsigned char lo, hi;
	size_t i, n;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 1;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 2;
			if (*p == 0xe0)
				lo = 0xa0; /* overlong */
			else if (*p == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 3;
			if (*p == 0xf0)
				lo = 0x90; /* overlong */
			else if (*p == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return 0;
		}
		if ((size_t)(end - p) <= n)
			return 0;
		if (p[1] < lo || p[1] > hi)
			return 0;
		for (i = 2; i <= n; i++)
			if (p[i] < 0x80 || p[i] > 0xbf)
				return 0;
		p += n + 1;
	}
	return 1;
}

/* addr_lower - ASCII lower-case in place */
static void addr_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* addr_note_trick - record the routing characters of one local-part byte */
static void addr_note_trick(unsigned char c, int quoted, unsigned *tricks)
{
	if (c == '%')
		*tricks |= ADDR_TRICK_PERCENT;
	else if (c == '!')
		*tricks |= ADDR_TRICK_BANG;
	else if (c == '@')
		*tricks |= quoted ? ADDR_TRICK_QUOTED_AT : ADDR_TRICK_MULTI_AT;
}

/* addr_parse_literal - "[a.b.c.d]" or "[IPv6:...]" between s and e */
static const char *addr_parse_literal(const char *s, const char *e, char *dom, struct ipaddr *ip,
    bool *tagged_v6)
{
	char text[ADDR_LITERAL_MAX + 1];
	const char *close, *body;
	size_t n;
	int v6;

	/* The caller saw '['; the literal must end at the first ']', at e. */
	close = memchr(s + 1, ']', (size_t)(e - s) - 1);
	if (close == NULL)
		return "unbalanced '[' in domain literal";
	if (close + 1 != e)
		return "text after domain literal";
	n = (size_t)(close - s) - 1;
	if (memchr(s + 1, '[', n) != NULL)
		return "stray '[' in domain literal";
	if (n == 0)
		return "empty domain literal";
	if (n > ADDR_LITERAL_MAX)
		return "domain literal too long";
	memcpy(text, s + 1, n);
	text[n] = '\0';
	v6 = n >= 5 && strncasecmp(text, "IPv6:", 5) == 0;
	*tagged_v6 = v6 != 0;
	body = v6 ? text + 5 : text;

	/*
	 * RFC 5321 4.1.3: an IPv6 literal carries the tag, an IPv4 one has no
	 * tag. Refuse the crossings, so "[IPv6:1.2.3.4]" and "[::1]" cannot
	 * mean something else to the MTA than to us.
	 */
	if (!v6 && strchr(body, ':') != NULL)
		return "unsupported domain literal (IPv6 needs the IPv6: tag)";
	if (v6 && (strchr(body, ':') == NULL || ipaddr_parse(body, ip) != 0))
		return "invalid IPv6 address in domain literal";
	if (!v6 && ipaddr_parse(body, ip) != 0)
		return "invalid IPv4 address in domain literal";
	memcpy(dom, text, n + 1);
	addr_lower(dom);
	return NULL;
}

/* addr_parse_domain - a name or a literal between s and e into dom */
static const char *addr_parse_domain(const char *s, const char *e, char *dom, bool *literal,
    struct ipaddr *ip, bool *tagged_v6)
{
	const char *why = NULL;

	*literal = false;
	*tagged_v6 = false;
	if (s >= e)
		return "empty domain";
	if (*s == '[') {
		*literal = true;
		return addr_parse_literal(s, e, dom, ip, tagged_v6);
	}
	/* idn_to_ascii strips one trailing dot, lower-cases, converts U-labels. */
	if (idn_to_ascii(s, (size_t)(e - s), dom, ADDR_DOMAIN_MAX + 1, &why) != 0)
		return why != NULL ? why : "invalid domain";
	return domain_check(dom, strlen(dom));
}

/* addr_parse_route - skip "@a,@b:" (validating each hop); *sp moves past ':' */
static const char *addr_parse_route(const char **sp, const char *e)
{
	char hop[ADDR_DOMAIN_MAX + 1];
	struct ipaddr ip;
	const char *s = *sp;
	const char *why;
	const char *end;
	bool literal, v6;

	for (;;) {
		if (s >= e || *s != '@')
			return "malformed source route";
		s++;
		end = s;
		if (end < e && *end == '[') {
			/* A literal may hold ':' itself: it ends at its ']'. */
			while (end < e && *end != ']')
				end++;
			if (end < e)
				end++;
		} else {
			while (end < e && *end != ',' && *end != ':')
				end++;
		}
		if ((why = addr_parse_domain(s, end, hop, &literal, &ip, &v6)) != NULL)
			return why;
		if (end >= e)
			return "source route without ':'";
		s = end + 1;
		if (*end == ':')
			break;
		if (*end != ',')
			return "malformed source route";
	}
	*sp = s;
	return NULL;
}

/* addr_last_at - find the last '@' outside quotes; refuse unbalanced quotes */
static const char *addr_last_at(const char *s, const char *e, const char **at)
{
	int quoted = 0;

	*at = NULL;
	for (; s < e; s++) {
		if (quoted) {
			if (*s == '\\' && s + 1 < e)
				s++;
			else if (*s == '"')
				quoted = 0;
		} else if (*s == '"') {
			quoted = 1;
		} else if (*s == '@') {
			*at = s;
		} else if (*s == '<' || *s == '>') {
			return "stray angle bracket";
		}
	}
	return quoted ? "unbalanced quote" : NULL;
}

/* addr_append - add one byte to the decoded local part, within bounds */
static const char *addr_append(struct addr *out, size_t *n, char c)
{
	if (*n >= ADDR_LOCAL_MAX)
		return "local part too long";
	out->local[(*n)++] = c;
	out->local[*n] = '\0';
	return NULL;
}

/*
 * addr_parse_local - decode a local part: RFC 5321 Dot-string or
 * Quoted-string, and, to see through tricks, RFC 822 word sequences joined
 * by '.' or '@' ("user"@remote@local). Quotes and escapes are removed.
 */
static const char *addr_parse_local(const char *s, const char *e, struct addr *out)
{
	enum {
		WANT_WORD,
		IN_ATOM,
		AFTER_QUOTE
	} state = WANT_WORD;
	const char *why;
	size_t n = 0;
	unsigned char c;

	out->local[0] = '\0';
	while (s < e) {
		c = (unsigned char)*s++;
		if (c == '"') {
			if (state != WANT_WORD)
				return "quoted string inside a word";
			for (;;) {
				if (s >= e)
					return "unbalanced quote";
				c = (unsigned char)*s++;
				if (c == '"')
					break;
				if (c == '\\') {
					if (s >= e)
						return "unbalanced quote";
					c = (unsigned char)*s++;
					if (c < 0x20 || c > 0x7e)
						return "invalid escape in quoted string";
				} else if (!addr_is_qtext(c)) {
					return "invalid character in quoted string";
				}
				addr_note_trick(c, 1, &out->tricks);
				if ((why = addr_append(out, &n, (char)c)) != NULL)
					return why;
			}
			state = AFTER_QUOTE;
		} else if (c == '.' || c == '@') {
			if (state == WANT_WORD)
				return c == '.' ? "empty word in local part" :
						  "empty word before '@'";
			addr_note_trick(c, 0, &out->tricks);
			if ((why = addr_append(out, &n, (char)c)) != NULL)
				return why;
			state = WANT_WORD;
		} else if (addr_is_atext(c)) {
			if (state == AFTER_QUOTE)
				return "text after quoted string";
			addr_note_trick(c, 0, &out->tricks);
			if ((why = addr_append(out, &n, (char)c)) != NULL)
				return why;
			state = IN_ATOM;
		} else {
			return "invalid character in local part";
		}
	}
	if (state == WANT_WORD)
		return n == 0 ? "empty local part" : "local part ends with a separator";
	if (n == 0)
		return "empty local part";
	return NULL;
}

/* addr_parse - parse a MAIL FROM or RCPT TO path */
enum addr_kind addr_parse(const char *text, struct addr *out)
{
	const char *s, *e, *at, *why, *p;
	size_t len;

	addr_clear(out);
	if (text == NULL)
		return addr_fail(out, "no address");
	len = strnlen(text, ADDR_INPUT_MAX + 1);
	if (len > ADDR_INPUT_MAX)
		return addr_fail(out, "address too long");

	s = text;
	e = text + len;
	while (s < e && addr_is_space((unsigned char)*s))
		s++;
	while (e > s && addr_is_space((unsigned char)e[-1]))
		e--;
	if (addr_parse_fast(s, e, out))
		return ADDR_MAILBOX;
	/* control bytes first, then UTF-8: the reasons stay as they were */
	for (p = s; p < e && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f; p++)
		;
	if (p < e) {
		for (; p < e; p++)
			if (addr_is_ctl((unsigned char)*p))
				return addr_fail(out, "control character in address");
		if (!addr_utf8_ok(s, e))
			return addr_fail(out, "invalid UTF-8 in address");
	}

	if (s < e && *s == '<') {
		if (e - s < 2 || e[-1] != '>')
			return addr_fail(out, "unbalanced angle bracket");
		s++;
		e--;
		/* Tolerate "< user@example >": blanks cannot change the meaning. */
		while (s < e && addr_is_space((unsigned char)*s))
			s++;
		while (e > s && addr_is_space((unsigned char)e[-1]))
			e--;
		if (s == e) {
			out->kind = ADDR_NULL;
			return ADDR_NULL;
		}
	} else if (s < e && e[-1] == '>') {
		return addr_fail(out, "unbalanced angle bracket");
	}
	if (s == e)
		return addr_fail(out, "empty address");

	/* A source route: only the final mailbox counts (RFC 5321 C). */
	if (*s == '@') {
		if ((why = addr_parse_route(&s, e)) != NULL)
			return addr_fail(out, why);
		out->tricks |= ADDR_TRICK_SOURCE_ROUTE;
	}
	if ((why = addr_last_at(s, e, &at)) != NULL)
		return addr_fail(out, why);

	if (at == NULL) {
		/* Routes lead to a mailbox; "@a:user" has none. */
		if (out->tricks & ADDR_TRICK_SOURCE_ROUTE)
			return addr_fail(out, "source route without a domain");
		if ((why = addr_parse_local(s, e, out)) != NULL)
			return addr_fail(out, why);
		out->kind = ADDR_NODOMAIN;
		return ADDR_NODOMAIN;
	}
	if ((why = addr_parse_local(s, at, out)) != NULL)
		return addr_fail(out, why);
	if ((why = addr_parse_domain(at + 1, e, out->domain, &out->literal, &out->literal_ip,
		 &out->literal_v6)) != NULL)
		return addr_fail(out, why);
	out->kind = ADDR_MAILBOX;
	return ADDR_MAILBOX;
}

/* addr_trick_name - short name of the first trick bit set */
const char *addr_trick_name(unsigned tricks)
{
	if (tricks & ADDR_TRICK_PERCENT)
		return "percent";
	if (tricks & ADDR_TRICK_BANG)
		return "bang";
	if (tricks & ADDR_TRICK_QUOTED_AT)
		return "quoted-at";
	if (tricks & ADDR_TRICK_SOURCE_ROUTE)
		return "source-route";
	if (tricks & ADDR_TRICK_MULTI_AT)
		return "multi-at";
	return "";
}

/* addr_same_path - is mta the path raw names, written without its angle brackets? */
bool addr_same_path(const char *raw, const char *mta)
{
	size_t n;

	if (raw == NULL || mta == NULL || raw[0] != '<')
		return false;
	n = strlen(mta);
	return strncmp(raw + 1, mta, n) == 0 && raw[n + 1] == '>' && raw[n + 2] == '\0';
}
