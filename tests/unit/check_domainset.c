/* check_domainset.c - domains: exact and subdomain entries, case, trailing dots */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "domainset.h"
#include "unit.h"

static const char *const entries[] = {"example.com", ".example.com", "Example.ORG.",
    ".sub.example.net", "xn--bcher-kva.example", "a.b.c.d.e", NULL};

static const struct {
	const char *domain;
	bool want;
} lookups[] = {
    {"example.com", true},
    {"EXAMPLE.COM", true},
    {"example.com.", true},
    {"mail.example.com", true},
    {"a.b.example.com", true},
    {"example.com..", false},
    {"notexample.com", false},
    {"com", false},
    {"example.org", true},
    {"mail.example.org", false}, /* no ".example.org" entry */
    {"sub.example.net", false},  /* ".sub.example.net" is for subdomains only */
    {"x.sub.example.net", true},
    {"example.net", false},
    {"xn--bcher-kva.example", true},
    {"XN--BCHER-KVA.EXAMPLE.", true},
    {"a.b.c.d.e", true},
    {"b.c.d.e", false},
    {"", false},
    {".", false},
    {"example.co", false},
    {"example.comm", false},
};

static struct domainset *build(void)
{
	struct domainset *s = domainset_new();
	const char *why;

	for (const char *const *e = entries; *e; e++)
		ck_assert_msg(domainset_add(s, *e, &why) == 0, "add %s: %s", *e, why);
	domainset_finish(s);
	return s;
}

START_TEST(test_lookup)
{
	struct domainset *s = build();
	const char *d = lookups[_i].domain;
	bool got = domainset_contains(s, d, strlen(d));

	ck_assert_msg(got == lookups[_i].want, "\"%s\": got %d, want %d", d, got, lookups[_i].want);
	domainset_free(s);
}
END_TEST

static const struct {
	const char *text;
	bool ok;
} syntax[] = {
    {"example.com", true},
    {".example.com", true},
    {"localhost", true},
    {"a-b.example", true},
    {"1.example", true},
    {"example.com.", true},
    {"", false},
    {".", false},
    {"..example", false},
    {"exa mple.com", false},
    {"-a.example", false},
    {"a-.example", false},
    {"a..example", false},
    {"under_score.example", false},
    {"exämple.com", false},
    {"[192.0.2.1]", false},
    {"@example.com", false},
    {"example.com/24", false},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", false},
};

START_TEST(test_syntax)
{
	struct domainset *s = domainset_new();
	const char *why = NULL;
	int rc = domainset_add(s, syntax[_i].text, &why);

	ck_assert_msg((rc == 0) == syntax[_i].ok, "\"%s\": got %s, want %s", syntax[_i].text,
	    rc == 0 ? "accepted" : why, syntax[_i].ok ? "accepted" : "refused");
	domainset_free(s);
}
END_TEST

/* Long names: 253 octets is the limit, and the limit holds on lookup too. */
START_TEST(test_lengths)
{
	char name[300];
	struct domainset *s = domainset_new();
	const char *why;
	size_t n = 0;

	while (n + 64 <= 253) {
		memset(name + n, 'a', 63);
		name[n + 63] = '.';
		n += 64;
	}
	memcpy(name + n, "example", 7); /* 192 + 7 = 199 */
	name[n + 7] = 0;
	ck_assert_int_eq(domainset_add(s, name, &why), 0);
	memset(name, 'b', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	ck_assert_int_eq(domainset_add(s, name, &why), -1);
	domainset_finish(s);
	ck_assert(!domainset_contains(s, name, strlen(name)));
	domainset_free(s);
}
END_TEST

/* Many entries: every one is found, near misses are not, growth keeps working. */
START_TEST(test_many)
{
	enum {
		N = 50000
	};
	struct domainset *s = domainset_new();
	char name[64];
	const char *why;

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "%sd%d.example", i % 2 ? "." : "", i);
		ck_assert_int_eq(domainset_add(s, name, &why), 0);
	}
	domainset_finish(s);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		ck_assert_msg(domainset_contains(s, name, strlen(name)) == (i % 2 == 0), "%s",
		    name);
		snprintf(name, sizeof(name), "x.d%d.example", i);
		ck_assert_msg(domainset_contains(s, name, strlen(name)) == (i % 2 == 1), "%s",
		    name);
	}
	ck_assert(!domainset_contains(s, "d50000.example", 14));
	ck_assert_uint_eq(domainset_count(s), N);
	domainset_free(s);
}
END_TEST

static Suite *domainset_suite(void)
{
	Suite *s = suite_create("domainset");
	TCase *tc = tcase_create("domainset");

	tcase_add_loop_test(tc, test_lookup, 0, sizeof(lookups) / sizeof(lookups[0]));
	tcase_add_loop_test(tc, test_syntax, 0, sizeof(syntax) / sizeof(syntax[0]));
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(domainset_suite)
