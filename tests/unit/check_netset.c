/* check_netset.c - networks: parsing, membership, merging, IPv4-mapped clients */
#include <check.h>
#include <stdio.h>

#include "netset.h"
#include "unit.h"

static struct netset *build(const char *const *entries)
{
	struct netset *s = netset_new();
	const char *why;

	for (; *entries; entries++)
		ck_assert_msg(netset_add(s, *entries, &why) == 0, "add %s: %s", *entries, why);
	netset_finish(s);
	return s;
}

static bool has(const struct netset *s, const char *addr)
{
	struct ipaddr a;

	ck_assert_msg(ipaddr_parse(addr, &a) == 0, "parse %s", addr);
	return netset_contains(s, &a);
}

static const char *const nets[] = {"127.0.0.0/8", "::1/128", "192.0.2.0/24", "198.51.100.7",
    "2001:db8::/32", "10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/32", NULL};

static const struct {
	const char *addr;
	bool want;
} membership[] = {
    {"127.0.0.1", true},
    {"127.255.255.255", true},
    {"128.0.0.0", false},
    {"126.255.255.255", false},
    {"::1", true},
    {"::2", false},
    {"192.0.2.0", true},
    {"192.0.2.255", true},
    {"192.0.3.0", false},
    {"198.51.100.7", true},
    {"198.51.100.8", false},
    {"198.51.100.6", false},
    {"2001:db8::1", true},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
    {"2001:db9::", false},
    {"2001:db7:ffff::", false},
    {"::ffff:192.0.2.7", true}, /* IPv4-mapped matches the IPv4 entry */
    {"::ffff:203.0.113.1", false},
    {"10.200.1.1", true},
    {"0.0.0.0", true},
    {"0.0.0.1", false},
    {"255.255.255.255", false},
    {"::", false},
};

START_TEST(test_membership)
{
	struct netset *s = build(nets);
	bool got = has(s, membership[_i].addr);

	ck_assert_msg(got == membership[_i].want, "%s: got %d, want %d", membership[_i].addr, got,
	    membership[_i].want);
	netset_free(s);
}
END_TEST

static const struct {
	const char *text;
	bool ok;
} syntax[] = {
    {"192.0.2.0/24", true},
    {"192.0.2.1", true},
    {"0.0.0.0/0", true},
    {"::/0", true},
    {"2001:db8::/32", true},
    {"::ffff:192.0.2.0/120", true},
    {"192.0.2.1/24", false}, /* host bits set */
    {"192.0.2.0/33", false},
    {"192.0.2.0/", false},
    {"192.0.2.0/-1", false},
    {"192.0.2.0/24x", false},
    {"192.0.2.0/ 24", false},
    {"192.0.2", false},
    {"300.0.0.0/8", false},
    {"", false},
    {"/8", false},
    {"2001:db8::/129", false},
    {"2001:db8::1/32", false},
    {"example.com", false},
    {"192.0.2.0/024", true},
    {"::ffff:192.0.2.0/64", false},
    {"1.2.3.4/8/8", false},
};

START_TEST(test_syntax)
{
	struct netset *s = netset_new();
	const char *why = NULL;
	int rc = netset_add(s, syntax[_i].text, &why);

	ck_assert_msg((rc == 0) == syntax[_i].ok, "\"%s\": got %s, want %s", syntax[_i].text,
	    rc == 0 ? "accepted" : why, syntax[_i].ok ? "accepted" : "refused");
	if (rc < 0)
		ck_assert_ptr_nonnull(why);
	netset_free(s);
}
END_TEST

/* Adjacent and overlapping ranges merge without losing or gaining addresses. */
START_TEST(test_merge)
{
	static const char *const parts[] = {"192.0.2.0/25", "192.0.2.128/25", "192.0.2.64/26",
	    "203.0.113.0/24", "203.0.113.5", "::/1", "8000::/1", NULL};
	struct netset *s = build(parts);

	ck_assert(has(s, "192.0.2.0") && has(s, "192.0.2.127") && has(s, "192.0.2.128"));
	ck_assert(has(s, "192.0.2.255") && !has(s, "192.0.3.0") && !has(s, "192.0.1.255"));
	ck_assert(has(s, "203.0.113.200") && !has(s, "203.0.114.0"));
	ck_assert(has(s, "::") && has(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert_uint_eq(netset_count(s), 7);
	netset_free(s);
}
END_TEST

/* A large random set agrees with a brute-force check. */
START_TEST(test_against_bruteforce)
{
	enum {
		N = 2000,
		Q = 20000
	};
	static uint32_t first[N], last[N];
	struct netset *s = netset_new();
	uint32_t seed = 12345;

	for (int i = 0; i < N; i++) {
		struct ipaddr a = {.family = IPADDR_V4};
		unsigned prefix = 8 + (seed >> 7) % 25;
		uint32_t mask, v;

		seed = seed * 1103515245u + 12345u;
		mask = prefix == 32 ? UINT32_MAX : ~(UINT32_MAX >> prefix);
		v = seed & mask;
		first[i] = v;
		last[i] = v | ~mask;
		a.bytes[0] = v >> 24, a.bytes[1] = v >> 16, a.bytes[2] = v >> 8, a.bytes[3] = v;
		ck_assert_int_eq(netset_add_addr(s, &a, prefix), 0);
		seed = seed * 1103515245u + 12345u;
	}
	netset_finish(s);
	for (int q = 0; q < Q; q++) {
		struct ipaddr a = {.family = IPADDR_V4};
		bool want = false;
		uint32_t v;

		seed = seed * 1103515245u + 12345u;
		v = q % 2 ? seed : first[seed % N] + (seed >> 20) % 3 - 1;
		for (int i = 0; i < N && !want; i++)
			want = v >= first[i] && v <= last[i];
		a.bytes[0] = v >> 24, a.bytes[1] = v >> 16, a.bytes[2] = v >> 8, a.bytes[3] = v;
		ck_assert_msg(netset_contains(s, &a) == want, "query %08x: got %d, want %d", v,
		    !want, want);
	}
	netset_free(s);
}
END_TEST

START_TEST(test_empty_and_null)
{
	struct netset *s = netset_new();
	struct ipaddr a;

	netset_finish(s);
	ipaddr_parse("192.0.2.1", &a);
	ck_assert(!netset_contains(s, &a));
	ck_assert(!netset_contains(NULL, &a));
	ck_assert(!netset_contains(s, NULL));
	netset_free(s);
}
END_TEST

static Suite *netset_suite(void)
{
	Suite *s = suite_create("netset");
	TCase *tc = tcase_create("netset");

	tcase_add_loop_test(tc, test_membership, 0, sizeof(membership) / sizeof(membership[0]));
	tcase_add_loop_test(tc, test_syntax, 0, sizeof(syntax) / sizeof(syntax[0]));
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_against_bruteforce);
	tcase_add_test(tc, test_empty_and_null);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(netset_suite)
