/* check_addr.c - RFC 5321 path parsing and routing-trick detection */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "unit.h"

#define M    ADDR_MAILBOX
#define NUL  ADDR_NULL
#define ND   ADDR_NODOMAIN
#define PCT  ADDR_TRICK_PERCENT
#define BANG ADDR_TRICK_BANG
#define QAT  ADDR_TRICK_QUOTED_AT
#define SR   ADDR_TRICK_SOURCE_ROUTE
#define MAT  ADDR_TRICK_MULTI_AT

/*
 * One row per form. local/domain are checked for MAILBOX and NODOMAIN;
 * ip (the literal's address as ipaddr_format prints it) is NULL unless the
 * domain is a literal.
 */
struct addr_case {
	const char *in;
	enum addr_kind kind;
	const char *local;
	const char *domain;
	const char *ip;
	unsigned tricks;
};

static const struct addr_case cases[] = {
    /* Plain forms, with and without brackets, blanks, case, trailing dot. */
    {"<user@example.com>", M, "user", "example.com", NULL, 0},
    {"user@example.com", M, "user", "example.com", NULL, 0},
    {"<User@Example.COM>", M, "User", "example.com", NULL, 0},
    {"  <user@example.com>  ", M, "user", "example.com", NULL, 0},
    {"\t<user@example.com>\t", M, "user", "example.com", NULL, 0},
    {"< user@example.com >", M, "user", "example.com", NULL, 0},
    {"  user@example.com", M, "user", "example.com", NULL, 0},
    {"<user@example.com.>", M, "user", "example.com", NULL, 0},
    {"user@EXAMPLE.Com.", M, "user", "example.com", NULL, 0},
    {"<first.last@sub.example.com>", M, "first.last", "sub.example.com", NULL, 0},
    {"<user+tag@example.com>", M, "user+tag", "example.com", NULL, 0},
    {"<o'brien@example.com>", M, "o'brien", "example.com", NULL, 0},
    {"<a#$&*/=?^_`{|}~-z@example.com>", M, "a#$&*/=?^_`{|}~-z", "example.com", NULL, 0},
    {"<x@a-b.example>", M, "x", "a-b.example", NULL, 0},
    {"<x@123.example>", M, "x", "123.example", NULL, 0},
    {"<x@localhost>", M, "x", "localhost", NULL, 0},
    {"<x@xn--bcher-kva.example>", M, "x", "xn--bcher-kva.example", NULL, 0},

    /* The null path and paths without a domain. */
    {"<>", NUL, "", "", NULL, 0},
    {"< >", NUL, "", "", NULL, 0},
    {"  <>  ", NUL, "", "", NULL, 0},
    {"<postmaster>", ND, "postmaster", "", NULL, 0},
    {"<Postmaster>", ND, "Postmaster", "", NULL, 0},
    {"postmaster", ND, "postmaster", "", NULL, 0},
    {"<user>", ND, "user", "", NULL, 0},
    {"<first.last>", ND, "first.last", "", NULL, 0},
    {"<\"john doe\">", ND, "john doe", "", NULL, 0},

    /* Quoted local parts: quotes and backslash escapes decoded. */
    {"<\"john doe\"@example.com>", M, "john doe", "example.com", NULL, 0},
    {"<\"user\"@example.com>", M, "user", "example.com", NULL, 0},
    {"<\"a\\\"b\"@example.com>", M, "a\"b", "example.com", NULL, 0},
    {"<\"a\\\\b\"@example.com>", M, "a\\b", "example.com", NULL, 0},
    {"<\"\\a\\b\\c\"@example.com>", M, "abc", "example.com", NULL, 0},
    {"<\"a<b>c\"@example.com>", M, "a<b>c", "example.com", NULL, 0},
    {"<\"a.\"@example.com>", M, "a.", "example.com", NULL, 0},
    {"<\"a b\".c@example.com>", M, "a b.c", "example.com", NULL, 0},

    /* Domain literals: domain holds the (lower-cased) text inside []. */
    {"<user@[192.0.2.1]>", M, "user", "192.0.2.1", "192.0.2.1", 0},
    {"user@[192.0.2.1]", M, "user", "192.0.2.1", "192.0.2.1", 0},
    {"<user@[IPv6:2001:db8::1]>", M, "user", "ipv6:2001:db8::1", "2001:db8::1", 0},
    {"<user@[ipv6:2001:DB8::1]>", M, "user", "ipv6:2001:db8::1", "2001:db8::1", 0},
    {"<user@[IPv6:::1]>", M, "user", "ipv6:::1", "::1", 0},
    {"<user@[IPv6:::ffff:192.0.2.1]>", M, "user", "ipv6:::ffff:192.0.2.1", "192.0.2.1", 0},
    {"<user@[IPv6:2001:db8::192.0.2.1]>", M, "user", "ipv6:2001:db8::192.0.2.1",
	"2001:db8::c000:201", 0},

    /* Source routes: the final domain counts, the route is a trick. */
    {"<@a.example,@b.example:user@c.example>", M, "user", "c.example", NULL, SR},
    {"<@local.example:user@remote.example>", M, "user", "remote.example", NULL, SR},
    {"@local.example:user@remote.example", M, "user", "remote.example", NULL, SR},
    {"<@LOCAL.example.:user@Remote.Example.>", M, "user", "remote.example", NULL, SR},
    {"<@[192.0.2.1]:user@example.com>", M, "user", "example.com", NULL, SR},
    {"<@[IPv6:2001:db8::1],@b.example:user@example.com>", M, "user", "example.com", NULL, SR},
    {"<@a.example:user@[192.0.2.9]>", M, "user", "192.0.2.9", "192.0.2.9", SR},

    /* Internationalised domains come out as lower-case A-labels. */
    {"<user@b\xc3\xbc"
     "cher.example>",
	M, "user", "xn--bcher-kva.example", NULL, 0},
    {"<user@XN--BCHER-KVA.Example>", M, "user", "xn--bcher-kva.example", NULL, 0},
    {"<user@B\xc3\xbc"
     "cher.Example.>",
	M, "user", "xn--bcher-kva.example", NULL, 0},
    {"<user@m\xc3\xbcnchen.xn--bcher-kva.example>", M, "user",
	"xn--mnchen-3ya.xn--bcher-kva.example", NULL, 0},
    {"<j\xc3\xb6rg@example.com>", M, "j\xc3\xb6rg", "example.com", NULL, 0},
    {"<\"\xc3\xbc ber\"@example.com>", M, "\xc3\xbc ber", "example.com", NULL, 0},
    {"<\xf0\x9f\x98\x80@example.com>", M, "\xf0\x9f\x98\x80", "example.com", NULL, 0},
    {"<\xf4\x8f\xbf\xbf>", ND, "\xf4\x8f\xbf\xbf", "", NULL, 0},

    /* Routing tricks, with a domain. */
    {"<user%remote.example@local.example>", M, "user%remote.example", "local.example", NULL, PCT},
    {"user%remote.example@local.example", M, "user%remote.example", "local.example", NULL, PCT},
    {"<remote.example!user@local.example>", M, "remote.example!user", "local.example", NULL, BANG},
    {"<\"user@remote.example\"@local.example>", M, "user@remote.example", "local.example", NULL,
	QAT},
    {"<user@remote.example@local.example>", M, "user@remote.example", "local.example", NULL, MAT},
    {"user@remote.example@local.example", M, "user@remote.example", "local.example", NULL, MAT},
    {"<a@b@c@local.example>", M, "a@b@c", "local.example", NULL, MAT},
    {"<\"user%remote.example\"@local.example>", M, "user%remote.example", "local.example", NULL,
	PCT},
    {"<\"a!b\"@local.example>", M, "a!b", "local.example", NULL, BANG},
    {"<\"user\"@remote.example@local.example>", M, "user@remote.example", "local.example", NULL,
	MAT},
    {"<\"u@r.example\"@x@local.example>", M, "u@r.example@x", "local.example", NULL, QAT | MAT},
    {"<\"user\\@remote.example\"@local.example>", M, "user@remote.example", "local.example", NULL,
	QAT},
    {"<@local.example:user%remote.example@local.example>", M, "user%remote.example",
	"local.example", NULL, SR | PCT},
    {"<a!b%c@local.example>", M, "a!b%c", "local.example", NULL, PCT | BANG},
    {"<user%remote.example@[192.0.2.1]>", M, "user%remote.example", "192.0.2.1", "192.0.2.1", PCT},
    {"<USER%Remote.Example@LOCAL.EXAMPLE.>", M, "USER%Remote.Example", "local.example", NULL, PCT},

    /* Routing tricks without a domain. */
    {"<user%remote.example>", ND, "user%remote.example", "", NULL, PCT},
    {"user%remote.example", ND, "user%remote.example", "", NULL, PCT},
    {"<remote.example!user>", ND, "remote.example!user", "", NULL, BANG},
    {"remote!user", ND, "remote!user", "", NULL, BANG},
    {"<\"user@remote.example\">", ND, "user@remote.example", "", NULL, QAT},
    {"<\"user%remote.example\">", ND, "user%remote.example", "", NULL, PCT},

};

/* Hostile and malformed input: always INVALID, with this reason, never a crash. */
struct addr_bad_case {
	const char *in;
	const char *error;
};

static const struct addr_bad_case bad_cases[] = {
    {"", "empty address"},
    {"   ", "empty address"},
    {"<", "unbalanced angle bracket"},
    {">", "unbalanced angle bracket"},
    {"<a@b.example", "unbalanced angle bracket"},
    {"a@b.example>", "unbalanced angle bracket"},
    {"<<a@b.example>>", "stray angle bracket"},
    {"<<a@b.example>", "stray angle bracket"},
    {"<a@b.example>>", "stray angle bracket"},
    {"<<>>", "stray angle bracket"},
    {"<a@b.example><c@d.example>", "stray angle bracket"},
    {"@", "empty domain"},
    {"<@>", "empty domain"},
    {"a@", "empty domain"},
    {"<a@>", "empty domain"},
    {"@b", "source route without ':'"},
    {"<@b.example>", "source route without ':'"},
    {"<@b.example:>", "source route without a domain"},
    {"<@b.example:user>", "source route without a domain"},
    {"<@b.example,user@c.example>", "malformed source route"},
    {"<@,@b.example:user@c.example>", "empty domain"},
    {"<@b.example;user@c.example>", "invalid character in domain"},
    {"<@b_x.example:user@c.example>", "underscore in domain"},
    {"<@[300.1.1.1]:user@c.example>", "invalid IPv4 address in domain literal"},
    {"<@[1.2.3.4:user@c.example>", "unbalanced '[' in domain literal"},
    {"<a@@b.example>", "local part ends with a separator"},
    {"<@@b.example>", "invalid character in domain"},
    {"<\"unterminated@example.com>", "unbalanced quote"},
    {"<\"a\"b@example.com>", "text after quoted string"},
    {"<a\"b\"@example.com>", "quoted string inside a word"},
    {"<\"a\\>", "unbalanced quote"},
    {"<\"a\\\">", "unbalanced quote"},
    {"\"", "unbalanced quote"},
    {"\"\"", "empty local part"},
    {"<\"\"@example.com>", "empty local part"},
    {"<a..b@example.com>", "empty word in local part"},
    {"<.a@example.com>", "empty word in local part"},
    {"<a.@example.com>", "local part ends with a separator"},
    {"<a b@example.com>", "invalid character in local part"},
    {"<a\\b@example.com>", "invalid character in local part"},
    {"<a:b@example.com>", "invalid character in local part"},
    {"<(comment)a@example.com>", "invalid character in local part"},
    {"<a@exa mple.com>", "invalid character in domain"},
    {"<a@example..com>", "empty label in domain"},
    {"<a@.example.com>", "empty label in domain"},
    {"<a@.>", "empty domain"},
    {"<a@example.com..>", "empty label in domain"},
    {"<a@-example.com>", "domain label starts or ends with a hyphen"},
    {"<a@example-.com>", "domain label starts or ends with a hyphen"},
    {"<a@ex_ample.com>", "underscore in domain"},
    {"<a@ex%ample.com>", "invalid character in domain"},
    {"<a@local.example!remote>", "invalid character in domain"},
    {"<a@b.example,c@d.example>", "invalid character in local part"},
    {"<a@\"example.com\">", "invalid character in domain"},
    {"<a@example.com\\>", "invalid character in domain"},
    {"<a@\xff\xfe.example>", "invalid UTF-8 in address"},
    {"<a@b\xc3.example>", "invalid UTF-8 in address"},
    /*
     * No UTS #46 mapping (issue 11): the MTA makes none, so what only the
     * mapping would turn into a name is refused, never local. Capital
     * U-label, not NFC, symbol, ideographic full stop, fullwidth letters,
     * soft hyphen, zero-width space.
     */
    {"<user@B\xc3\x9c"
     "CHER.EXAMPLE>",
	"string contains a disallowed character"},
    {"<user@bu\xcc\x88"
     "cher.example>",
	"string is not in Unicode NFC format"},
    {"<user@\xe2\x98\x83.example>", "string contains a disallowed character"},
    {"<user@\xe4\xbe\x8b\xe3\x81\x88\xe3\x80\x82\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88>",
	"string contains a disallowed character"},
    {"<user@\xef\xbc\xa1\xef\xbc\xa2.example>", "string contains a disallowed character"},
    {"<user@exa\xc2\xadmple.com>", "string contains a disallowed character"},
    {"<a@\xe2\x80\x8b.example>", "string contains a disallowed character"},
    {"<a@loc\xe2\x80\x8d"
     "al.example>",
	"string contains a forbidden context-j character"},
    /* Malformed UTF-8: truncated, stray continuation, overlong, surrogate, > U+10FFFF. */
    {"<j\xc3rg@example.com>", "invalid UTF-8 in address"},
    {"<j\xc3>", "invalid UTF-8 in address"},
    {"<\x80user@example.com>", "invalid UTF-8 in address"},
    {"<\xc0\xafuser@example.com>", "invalid UTF-8 in address"},
    {"<\xe0\x80\xafuser@example.com>", "invalid UTF-8 in address"},
    {"<\xed\xa0\x80@example.com>", "invalid UTF-8 in address"},
    {"<\xf4\x90\x80\x80@example.com>", "invalid UTF-8 in address"},
    {"<\xf8\x88\x80\x80\x80@example.com>", "invalid UTF-8 in address"},
    {"<\"a\xff\"@example.com>", "invalid UTF-8 in address"},
    {"<a@example.com\xe2\x98>", "invalid UTF-8 in address"},
    {"<a\r\n@example.com>", "control character in address"},
    {"<a@example.com>\r\n", "control character in address"},
    {"<a\x01"
     "b@example.com>",
	"control character in address"},
    {"<\"a\x7f\"@example.com>", "control character in address"},
    {"<\"a\\\x01\"@example.com>", "control character in address"},
    {"<a@example.com\x1b>", "control character in address"},
    {"<a@exa\tmple.com>", "control character in address"},
    {"<a@[300.1.1.1]>", "invalid IPv4 address in domain literal"},
    {"<a@[IPv6:zz]>", "invalid IPv6 address in domain literal"},
    {"<a@[IPv6:]>", "invalid IPv6 address in domain literal"},
    {"<a@[1.2.3]>", "invalid IPv4 address in domain literal"},
    {"<a@[01.2.3.4]>", "invalid IPv4 address in domain literal"},
    {"<a@[2001:db8::1]>", "unsupported domain literal (IPv6 needs the IPv6: tag)"},
    {"<a@[IPv6:192.0.2.1]>", "invalid IPv6 address in domain literal"},
    {"<a@[IPv6:2001:db8::1%eth0]>", "invalid IPv6 address in domain literal"},
    {"<a@[tag:content]>", "unsupported domain literal (IPv6 needs the IPv6: tag)"},
    {"<a@[]>", "empty domain literal"},
    {"<a@[>", "unbalanced '[' in domain literal"},
    {"<a@]>", "invalid character in domain"},
    {"<a@[1.2.3.4>", "unbalanced '[' in domain literal"},
    {"<a@1.2.3.4]>", "invalid character in domain"},
    {"<a@[1.2.3.4]x>", "text after domain literal"},
    {"<a@[1.2.3.4].>", "text after domain literal"},
    {"<a@[[1.2.3.4]]>", "text after domain literal"},
    {"<a@x[1.2.3.4]>", "invalid character in domain"},
    {"<a@[ 1.2.3.4]>", "invalid IPv4 address in domain literal"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))
#define NBAD   (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* kind_name - printable addr_kind for failure messages */
static const char *kind_name(enum addr_kind kind)
{
	switch (kind) {
	case ADDR_MAILBOX:
		return "MAILBOX";
	case ADDR_NULL:
		return "NULL";
	case ADDR_NODOMAIN:
		return "NODOMAIN";
	case ADDR_INVALID:
		return "INVALID";
	}
	return "?";
}

/* show - quote a test input, control and 8-bit bytes escaped */
static const char *show(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s != '\0' && n + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return buf;
}

/* parse_dirty - parse into a struct full of garbage, as a caller's stack is */
static enum addr_kind parse_dirty(const char *in, struct addr *a)
{
	memset(a, 0xa5, sizeof(*a));
	return addr_parse(in, a);
}

/* check_terminated - local and domain end with a NUL inside their arrays */
static void check_terminated(const char *what, const struct addr *a)
{
	ck_assert_msg(memchr(a->local, '\0', sizeof(a->local)) != NULL,
	    "input %s: got unterminated local, want NUL-terminated", what);
	ck_assert_msg(memchr(a->domain, '\0', sizeof(a->domain)) != NULL,
	    "input %s: got unterminated domain, want NUL-terminated", what);
}

START_TEST(test_addr_bad)
{
	const struct addr_bad_case *c = &bad_cases[_i];
	char in[512];
	struct addr a;

	show(c->in, in, sizeof(in));
	parse_dirty(c->in, &a);
	check_terminated(in, &a);
	ck_assert_msg(a.kind == ADDR_INVALID,
	    "input %s: got kind %s (local \"%s\" domain \"%s\"), want INVALID", in,
	    kind_name(a.kind), a.local, a.domain);
	ck_assert_msg(a.error != NULL && strcmp(a.error, c->error) == 0,
	    "input %s: got error \"%s\", want \"%s\"", in, a.error ? a.error : "(none)", c->error);
	ck_assert_msg(a.local[0] == '\0' && a.domain[0] == '\0' && a.tricks == 0 && !a.literal,
	    "input %s: got leftovers (local \"%s\" domain \"%s\" tricks 0x%02x), want none", in,
	    a.local, a.domain, a.tricks);
}
END_TEST

START_TEST(test_addr_table)
{
	const struct addr_case *c = &cases[_i];
	char in[512], ipbuf[IPADDR_STRLEN];
	struct addr a;
	enum addr_kind kind;

	show(c->in, in, sizeof(in));
	kind = parse_dirty(c->in, &a);
	check_terminated(in, &a);
	ck_assert_msg(kind == a.kind, "input %s: got return %s, want out->kind %s", in,
	    kind_name(kind), kind_name(a.kind));
	ck_assert_msg(a.kind == c->kind, "input %s: got kind %s (%s), want %s", in,
	    kind_name(a.kind), a.error ? a.error : "no error", kind_name(c->kind));
	ck_assert_msg(a.error == NULL, "input %s: got error \"%s\", want none", in, a.error);
	ck_assert_msg(strcmp(a.local, c->local) == 0, "input %s: got local \"%s\", want \"%s\"", in,
	    a.local, c->local);
	ck_assert_msg(strcmp(a.domain, c->domain) == 0, "input %s: got domain \"%s\", want \"%s\"",
	    in, a.domain, c->domain);
	ck_assert_msg(a.tricks == c->tricks, "input %s: got tricks 0x%02x, want 0x%02x", in,
	    a.tricks, c->tricks);
	ck_assert_msg(a.literal == (c->ip != NULL), "input %s: got literal %d, want %d", in,
	    a.literal, c->ip != NULL);
	if (c->ip != NULL) {
		ipaddr_format(&a.literal_ip, ipbuf, sizeof(ipbuf));
		ck_assert_msg(strcmp(ipbuf, c->ip) == 0, "input %s: got literal ip %s, want %s", in,
		    ipbuf, c->ip);
	}
}
END_TEST

/* repeat - a malloc'd string: prefix, n copies of c, suffix */
static char *repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + n + ls + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, lp);
	memset(s + lp, c, n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

/* expect_kind - parse s and compare the kind; returns the parse for more checks */
static void expect_kind(const char *what, const char *s, enum addr_kind want, struct addr *a)
{
	parse_dirty(s, a);
	check_terminated(what, a);
	ck_assert_msg(a->kind == want, "input %s: got kind %s (%s), want %s", what,
	    kind_name(a->kind), a->error ? a->error : "no error", kind_name(want));
}

START_TEST(test_addr_local_length)
{
	struct addr a;
	char *s;

	s = repeat("<", 'x', 64, "@example.com>");
	expect_kind("<64 x @example.com>", s, ADDR_MAILBOX, &a);
	ck_assert_msg(strlen(a.local) == 64, "input <64 x>: got local length %zu, want 64",
	    strlen(a.local));
	free(s);
	s = repeat("<", 'x', ADDR_LOCAL_MAX, "@example.com>");
	expect_kind("<ADDR_LOCAL_MAX x @example.com>", s, ADDR_MAILBOX, &a);
	free(s);
	s = repeat("<", 'x', ADDR_LOCAL_MAX + 1, "@example.com>");
	expect_kind("<ADDR_LOCAL_MAX+1 x @example.com>", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("<", 'x', ADDR_LOCAL_MAX + 1, ">");
	expect_kind("<ADDR_LOCAL_MAX+1 x>", s, ADDR_INVALID, &a);
	free(s);
	/* Escapes shrink when decoded: 256 escaped bytes still fit. */
	s = repeat("<\"", 'y', ADDR_LOCAL_MAX, "\"@example.com>");
	expect_kind("<\"ADDR_LOCAL_MAX y\"@example.com>", s, ADDR_MAILBOX, &a);
	free(s);
	s = repeat("<\"", 'y', ADDR_LOCAL_MAX + 1, "\"@example.com>");
	expect_kind("<\"ADDR_LOCAL_MAX+1 y\"@example.com>", s, ADDR_INVALID, &a);
	free(s);
}
END_TEST

/* label_domain - "x@" then n labels of length len joined by dots, then tail */
static char *label_domain(size_t labels, size_t len, const char *tail)
{
	size_t i, n = 0, size = 3 + labels * (len + 1) + strlen(tail) + 2;
	char *s = malloc(size);

	ck_assert_ptr_nonnull(s);
	n += (size_t)snprintf(s, size, "<x@");
	for (i = 0; i < labels; i++) {
		memset(s + n, 'a' + (char)(i % 26), len);
		n += len;
		if (i + 1 < labels)
			s[n++] = '.';
	}
	snprintf(s + n, size - n, "%s>", tail);
	return s;
}

START_TEST(test_addr_domain_length)
{
	struct addr a;
	char *s;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253: the longest name. */
	s = label_domain(3, 63, ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	expect_kind("253-char domain", s, ADDR_MAILBOX, &a);
	ck_assert_msg(strlen(a.domain) == 253, "input 253-char domain: got length %zu, want 253",
	    strlen(a.domain));
	free(s);
	s = label_domain(3, 63, ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
	expect_kind("253-char domain with trailing dot", s, ADDR_MAILBOX, &a);
	free(s);
	s = label_domain(3, 63, ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	expect_kind("254-char domain", s, ADDR_INVALID, &a);
	free(s);
	s = label_domain(1, 63, ".example");
	expect_kind("63-char label", s, ADDR_MAILBOX, &a);
	free(s);
	s = label_domain(1, 64, ".example");
	expect_kind("64-char label", s, ADDR_INVALID, &a);
	free(s);
	s = label_domain(200, 1, "");
	expect_kind("200 labels (399 chars)", s, ADDR_INVALID, &a);
	free(s);
}
END_TEST

START_TEST(test_addr_input_length)
{
	struct addr a;
	char *s, *raw;

	/* Exactly ADDR_INPUT_MAX bytes (blank padding) is still parsed. */
	s = repeat("", ' ', ADDR_INPUT_MAX - 15, "<a@example.com>");
	ck_assert_uint_eq(strlen(s), ADDR_INPUT_MAX);
	expect_kind("ADDR_INPUT_MAX bytes", s, ADDR_MAILBOX, &a);
	free(s);
	s = repeat("", ' ', ADDR_INPUT_MAX - 14, "<a@example.com>");
	expect_kind("ADDR_INPUT_MAX+1 bytes", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("<", 'a', 5000, "@example.com>");
	expect_kind("5000-char local part", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("<a@", 'b', 5000, ".example>");
	expect_kind("5000-char domain", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("<a@", '.', 3000, ">");
	expect_kind("3000 dots", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("<\"", '\\', 3000, "\"@example.com>");
	expect_kind("3000 backslashes in quotes", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("", '<', 5000, "");
	expect_kind("5000 '<'", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("", '@', 4000, "");
	expect_kind("4000 '@'", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("", '"', 4001, "");
	expect_kind("4001 '\"'", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("<a", '@', 1000, "b.example>");
	expect_kind("a@@@...b.example", s, ADDR_INVALID, &a);
	free(s);
	s = repeat("", 'a', 1 << 20, "");
	expect_kind("1 MiB of 'a'", s, ADDR_INVALID, &a);
	free(s);

	/*
	 * A buffer with no NUL at all, exactly one byte longer than the limit:
	 * refused after reading at most ADDR_INPUT_MAX + 1 bytes (ASan would
	 * report any read past the end).
	 */
	raw = malloc(ADDR_INPUT_MAX + 1);
	ck_assert_ptr_nonnull(raw);
	memset(raw, 'a', ADDR_INPUT_MAX + 1);
	expect_kind("NUL-less buffer", raw, ADDR_INVALID, &a);
	free(raw);
}
END_TEST

START_TEST(test_addr_many_routes)
{
	struct addr a;
	char *s;
	size_t i, n = 0, size = 600 * 4 + 32;

	/* 600 hops "@a," is long but legal; the final mailbox decides. */
	s = malloc(size);
	ck_assert_ptr_nonnull(s);
	s[n++] = '<';
	for (i = 0; i < 600; i++) {
		memcpy(s + n, "@a,", 3);
		n += 3;
	}
	s[n - 1] = ':';
	snprintf(s + n, size - n, "u@b.example>");
	expect_kind("600-hop source route", s, ADDR_MAILBOX, &a);
	ck_assert_msg(a.tricks == ADDR_TRICK_SOURCE_ROUTE && strcmp(a.domain, "b.example") == 0,
	    "input 600-hop route: got tricks 0x%02x domain %s, want 0x08 b.example", a.tricks,
	    a.domain);
	free(s);
}
END_TEST

START_TEST(test_addr_null_input)
{
	struct addr a;

	memset(&a, 0xa5, sizeof(a));
	ck_assert_msg(addr_parse(NULL, &a) == ADDR_INVALID && a.error != NULL,
	    "input NULL: got kind %s, want INVALID", kind_name(a.kind));
	check_terminated("NULL", &a);
}
END_TEST

static const struct {
	unsigned tricks;
	const char *name;
} trick_names[] = {
    {0, ""},
    {ADDR_TRICK_PERCENT, "percent"},
    {ADDR_TRICK_BANG, "bang"},
    {ADDR_TRICK_QUOTED_AT, "quoted-at"},
    {ADDR_TRICK_SOURCE_ROUTE, "source-route"},
    {ADDR_TRICK_MULTI_AT, "multi-at"},
    {ADDR_TRICK_PERCENT | ADDR_TRICK_MULTI_AT, "percent"},
    {ADDR_TRICK_SOURCE_ROUTE | ADDR_TRICK_MULTI_AT, "source-route"},
    {0x100, ""},
};

START_TEST(test_addr_trick_name)
{
	const char *got = addr_trick_name(trick_names[_i].tricks);

	ck_assert_msg(strcmp(got, trick_names[_i].name) == 0,
	    "input 0x%02x: got \"%s\", want \"%s\"", trick_names[_i].tricks, got,
	    trick_names[_i].name);
}
END_TEST

/* addr_suite - every path form, the limits, and the trick names */
/* The MTA's form is reused only when it is the path as sent, letter for letter. */
START_TEST(test_same_path)
{
	ck_assert(addr_same_path("<a@example.com>", "a@example.com"));
	ck_assert(addr_same_path("<user>", "user"));
	ck_assert(!addr_same_path("<a@example.com>", "A@example.com"));
	ck_assert(!addr_same_path("<a@example.com>", "a@example.co"));
	ck_assert(!addr_same_path("<a@example.com>", "a@example.com>"));
	ck_assert(!addr_same_path("a@example.com", "a@example.com")); /* no brackets: parse both */
	ck_assert(!addr_same_path("<a@example.com> ", "a@example.com"));
	ck_assert(!addr_same_path("<x%y@example.com>", "x@y"));
	ck_assert(!addr_same_path(NULL, "a"));
	ck_assert(!addr_same_path("<a>", NULL));
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("forms");

	tcase_add_loop_test(tc, test_addr_table, 0, (int)NCASES);
	tcase_add_test(tc, test_same_path);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_loop_test(tc, test_addr_bad, 0, (int)NBAD);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_addr_local_length);
	tcase_add_test(tc, test_addr_domain_length);
	tcase_add_test(tc, test_addr_input_length);
	tcase_add_test(tc, test_addr_many_routes);
	tcase_add_test(tc, test_addr_null_input);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_addr_trick_name, 0,
	    (int)(sizeof(trick_names) / sizeof(trick_names[0])));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(addr_suite)
