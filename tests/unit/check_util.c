/* check_util.c - the shared helpers: host:port forms, JSON strings, domain syntax, line files */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decimal.h"
#include "domain.h"
#include "hostport.h"
#include "json.h"
#include "linefile.h"
#include "unit.h"

/* The /metrics listener: numeric ADDRESS:PORT only, port 0 allowed. */
static const struct {
	const char *text;
	int ok;
} listens[] = {
    {"127.0.0.1:9899", 1},
    {"[::1]:9899", 1},
    {"0.0.0.0:0", 1},
    {"127.0.0.1:65535", 1},
    {"localhost:9899", 0},
    {"127.0.0.1", 0},
    {"127.0.0.1:", 0},
    {"127.0.0.1:65536", 0},
    {"127.0.0.1:99x", 0},
    {"::1:9899", 0},
    {"[::1]9899", 0},
    {"[127.0.0.1]:9899", 0},
    {":9899", 0},
    {"127.0.0.1:-1", 0},
    {"", 0},
};

START_TEST(test_listen_parse)
{
	struct hostport_addr l;
	const char *why = NULL;
	int got = hostport_listen(listens[_i].text, &l, &why) == 0;

	ck_assert_msg(got == listens[_i].ok, "\"%s\": got %s, want %s", listens[_i].text,
	    got ? "ok" : "error", listens[_i].ok ? "ok" : "error");
	if (!got)
		ck_assert(why != NULL);
}
END_TEST

/* The same parser in each caller's syntax: got host and port, or an error. */
static const struct {
	const char *text;
	unsigned flags;
	const char *host; /* NULL: an error */
	unsigned port;
} forms[] = {
    /* relay-probe targets: the port is optional, a bare IPv6 address has none */
    {"mx.example.net", HOSTPORT_PORT_OPTIONAL, "mx.example.net", 0},
    {"mx.example.net:2525", HOSTPORT_PORT_OPTIONAL, "mx.example.net", 2525},
    {"[::1]", HOSTPORT_PORT_OPTIONAL, "::1", 0},
    {"[::1]:25", HOSTPORT_PORT_OPTIONAL, "::1", 25},
    {"::1", HOSTPORT_PORT_OPTIONAL, "::1", 0},
    {"127.0.0.1:0", HOSTPORT_PORT_OPTIONAL, NULL, 0},
    {"127.0.0.1:65536", HOSTPORT_PORT_OPTIONAL, NULL, 0},
    {"[]", HOSTPORT_PORT_OPTIONAL, NULL, 0},
    {"[::1]x", HOSTPORT_PORT_OPTIONAL, NULL, 0},
    {"", HOSTPORT_PORT_OPTIONAL, NULL, 0},
    /* libmilter's inet: and inet6: sockets */
    {"8894@127.0.0.1", HOSTPORT_MILTER, "127.0.0.1", 8894},
    {"8894@::1", HOSTPORT_MILTER, "::1", 8894},
    {"8894", HOSTPORT_MILTER, "", 8894},
    {"8894@", HOSTPORT_MILTER, NULL, 0},
    {"0@127.0.0.1", HOSTPORT_MILTER, NULL, 0},
    {"x@127.0.0.1", HOSTPORT_MILTER, NULL, 0},
    {"70000@127.0.0.1", HOSTPORT_MILTER, NULL, 0},
    /* plain HOST:PORT: the port is required */
    {"127.0.0.1:25", 0, "127.0.0.1", 25},
    {"127.0.0.1", 0, NULL, 0},
    {"::1", 0, NULL, 0},
};

START_TEST(test_hostport_forms)
{
	struct hostport hp;
	const char *why = NULL;
	int rc = hostport_parse(forms[_i].text, forms[_i].flags, &hp, &why);

	if (forms[_i].host == NULL) {
		ck_assert_msg(rc < 0, "\"%s\": got %s:%u, want an error", forms[_i].text, hp.host,
		    hp.port);
		ck_assert(why != NULL);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\": got an error (%s), want %s", forms[_i].text, why,
	    forms[_i].host);
	ck_assert_str_eq(hp.host, forms[_i].host);
	ck_assert_uint_eq(hp.port, forms[_i].port);
}
END_TEST

/* json_valid - a strict check that s is one JSON string literal of valid UTF-8 */
static int json_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p++ != '"')
		return 0;
	for (; *p && *p != '"'; p++) {
		if (*p < 0x20)
			return 0;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!p[i] || !strchr("0123456789abcdef", p[i]))
						return 0;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p))
				return 0;
		} else if (*p >= 0x80) {
			/* only well-formed sequences may pass through unescaped */
			int n = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : *p >= 0xc2 ? 1 : -1;

			if (n < 0 || *p > 0xf4)
				return 0;
			for (int i = 1; i <= n; i++)
				if ((p[i] & 0xc0) != 0x80)
					return 0;
			if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
			    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
				return 0;
			p += n;
		}
	}
	return *p == '"' && p[1] == 0;
}

/* write_to_string - json_write's output, as one string */
static char *write_to_string(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	json_write(fp, s);
	fclose(fp);
	return buf;
}

static const struct {
	const char *in;
	const char *want;
} jsons[] = {
    {"plain", "\"plain\""}, {"q\"b\\", "\"q\\\"b\\\\\""},
    {"tab\there\n", "\"tab\\u0009here\\u000a\""}, {"del\x7f", "\"del\\u007f\""},
    {"caf\xc3\xa9", "\"caf\xc3\xa9\""},                       /* valid UTF-8 kept */
    {"\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\""},             /* 4 bytes */
    {"bad\xff", "\"bad\\ufffd\""},                            /* never valid */
    {"\xc3", "\"\\ufffd\""},                                  /* cut sequence */
    {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                       /* overlong */
    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* surrogate */
    {"\x80x", "\"\\ufffdx\""},                                /* stray continuation */
    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* above U+10FFFF */
};

START_TEST(test_json_escapes)
{
	char *got = write_to_string(jsons[_i].in);

	ck_assert_str_eq(got, jsons[_i].want);
	ck_assert_msg(json_valid(got), "not valid JSON: %s", got);
	free(got);
}
END_TEST

/* Every byte, in every position, gives a literal that parses. */
START_TEST(test_json_always_parses)
{
	char in[8], *got;

	for (unsigned a = 1; a < 256; a++) {
		for (unsigned b = 0; b < 256; b += 7) {
			snprintf(in, sizeof(in), "%c%c%c", a, b ? b : 'x', 0xa9);
			got = write_to_string(in);
			ck_assert_msg(json_valid(got), "bytes %02x %02x: %s", a, b, got);
			free(got);
		}
	}
}
END_TEST

/* json_escape into a small buffer stops between whole escapes. */
START_TEST(test_json_escape_bounded)
{
	char out[8];
	size_t used;
	size_t n = json_escape(out, sizeof(out), "ab\"\xff", &used);

	ck_assert_uint_eq(n, 4); /* "ab\"" fits, \ufffd does not */
	ck_assert_str_eq(out, "ab\\\"");
	ck_assert_uint_eq(used, 3);
	json_escape(out, sizeof(out), "abc", &used);
	ck_assert_uint_eq(used, 3);
}
END_TEST

static const struct {
	const char *name;
	const char *why; /* NULL: valid */
} domains[] = {
    {"example.com", NULL},
    {"Example.COM", NULL},
    {"a-b.c", NULL},
    {"xn--bcher-kva.example", NULL},
    {"", "empty label in domain"},
    {"a..b", "empty label in domain"},
    {"a.", "empty label in domain"},
    {"-a.b", "domain label starts or ends with a hyphen"},
    {"a-.b", "domain label starts or ends with a hyphen"},
    {"a_b.c", "underscore in domain"},
    {"a b.c", "invalid character in domain"},
    {"caf\xc3\xa9.fr", "invalid character in domain"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	"domain label longer than 63 characters"},
};

START_TEST(test_domain_check)
{
	const char *why = domain_check(domains[_i].name, strlen(domains[_i].name));

	if (domains[_i].why == NULL)
		ck_assert_msg(why == NULL, "%s: %s", domains[_i].name, why);
	else
		ck_assert_msg(why != NULL && strcmp(why, domains[_i].why) == 0,
		    "%s: got %s, want %s", domains[_i].name, why ? why : "valid", domains[_i].why);
}
END_TEST

/* One trailing dot is allowed by domain_valid, as in "example.com." */
START_TEST(test_domain_valid_trailing_dot)
{
	ck_assert(domain_valid("example.com.", 12));
	ck_assert(!domain_valid("example.com..", 13));
	ck_assert(!domain_valid(".", 1));
	ck_assert(!domain_valid("", 0));
}
END_TEST

struct seen {
	char lines[8][64];
	int lineno[8];
	int n;
};

static void collect(void *ctx, int lineno, char *line, const char *why)
{
	struct seen *s = ctx;

	snprintf(s->lines[s->n], sizeof(s->lines[0]), "%s", why ? why : line);
	s->lineno[s->n++] = lineno;
}

/* Comments and blanks go, CRLF too; a long line or a NUL is reported at its line. */
START_TEST(test_linefile)
{
	char path[] = "/tmp/rm-linefile-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "# comment\n\n  a.example  # why\r\nb\tc\nnul\0byte\n"
				   "0123456789012345678901234567890123456789\nlast";
	struct seen s = {0};

	ck_assert(fd >= 0);
	ck_assert(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fd);
	ck_assert_int_eq(linefile_read(path, 32, collect, &s), 0);
	unlink(path);
	ck_assert_int_eq(s.n, 5);
	ck_assert(strcmp(s.lines[0], "a.example") == 0 && s.lineno[0] == 3);
	ck_assert(strcmp(s.lines[1], "b\tc") == 0 && s.lineno[1] == 4);
	ck_assert(
	    strcmp(s.lines[2], "line too long or contains a NUL byte") == 0 && s.lineno[2] == 5);
	ck_assert(
	    strcmp(s.lines[3], "line too long or contains a NUL byte") == 0 && s.lineno[3] == 6);
	ck_assert(strcmp(s.lines[4], "last") == 0 && s.lineno[4] == 7);
	ck_assert_int_eq(linefile_read("/nonexistent/list", 32, collect, &s), LINEFILE_OPEN);
}
END_TEST

/* decimal_put: every digit count, both ends of the range, no NUL written */
START_TEST(test_decimal_put)
{
	static const struct {
		uint64_t v;
		const char *want;
	} t[] = {{0, "0"}, {7, "7"}, {10, "10"}, {4294967295ULL, "4294967295"},
	    {4294967296ULL, "4294967296"}, {UINT64_MAX, "18446744073709551615"}};
	char buf[DECIMAL_MAX + 2];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		char *end = decimal_put(buf, t[i].v);

		ck_assert_int_eq((int)(end - buf), (int)strlen(t[i].want));
		ck_assert_int_eq(*end, 'x');
		*end = 0;
		ck_assert_str_eq(buf, t[i].want);
	}
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_loop_test(tc, test_listen_parse, 0, sizeof(listens) / sizeof(listens[0]));
	tcase_add_loop_test(tc, test_hostport_forms, 0, sizeof(forms) / sizeof(forms[0]));
	tcase_add_loop_test(tc, test_json_escapes, 0, sizeof(jsons) / sizeof(jsons[0]));
	tcase_add_test(tc, test_json_always_parses);
	tcase_add_test(tc, test_json_escape_bounded);
	tcase_add_test(tc, test_decimal_put);
	tcase_add_loop_test(tc, test_domain_check, 0, sizeof(domains) / sizeof(domains[0]));
	tcase_add_test(tc, test_domain_valid_trailing_dot);
	tcase_add_test(tc, test_linefile);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(util_suite)
