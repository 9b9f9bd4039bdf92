/*
 * check_geoip.c - lookups in real MaxMind DB files written at test time by
 * tests/geoip/make-mmdb.pl (country.mmdb, asn.mmdb, corrupt.mmdb in
 * TEST_GEOIPDIR), and a configuration that opens them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "geoip.h"
#include "policy.h"
#include "rules.h"
#include "testpolicy.h"
#include "unit.h"
#include "verdict_log.h"

#define DB(name) TEST_GEOIPDIR "/" name

struct row {
	const char *client;
	const char *country;
	unsigned asn;
	int country_status, asn_status;
};

static const struct row rows[] = {
    {"203.0.113.9", "GB", 64500, 0, 0},
    {"::ffff:203.0.113.9", "GB", 64500, 0, 0},
    {"203.0.113.200", "NG", 64501, 0, 0},
    /* only registered_country: the fallback */
    {"198.51.100.7", "US", 64502, 0, 0},
    /* located in DE, represents US: the location counts */
    {"198.51.100.200", "DE", 64502, 0, 0},
    {"2001:db8:2::25", "FR", 4200000000u, 0, 0},
    /* listed without any country */
    {"2001:db8:3::1", "--", 0, 1, 1},
    /* private and unlisted addresses: the unknown token */
    {"10.1.2.3", "--", 0, 1, 1},
    {"192.0.2.1", "--", 0, 1, 1},
    {"::1", "--", 0, 1, 1},
};

static struct geoip *open_both(void)
{
	struct geoip *g = geoip_new();
	char err[600];

	ck_assert_ptr_nonnull(g);
	ck_assert_msg(geoip_open_country(g, DB("country.mmdb"), err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(geoip_open_asn(g, DB("asn.mmdb"), err, sizeof(err)) == 0, "%s", err);
	return g;
}

START_TEST(test_lookup)
{
	const struct row *r = &rows[_i];
	struct geoip *g = open_both();
	struct geo_info info;
	struct ipaddr ip;

	ck_assert(ipaddr_parse(r->client, &ip) == 0);
	ck_assert_int_eq(geoip_lookup(g, &ip, &info), 0);
	ck_assert_msg(strcmp(info.country, r->country) == 0 && info.asn == r->asn &&
		info.country_status == r->country_status && info.asn_status == r->asn_status,
	    "%s: got %s AS%u (%d/%d), want %s AS%u (%d/%d)", r->client, info.country, info.asn,
	    info.country_status, info.asn_status, r->country, r->asn, r->country_status,
	    r->asn_status);
	geoip_free(g);
}
END_TEST

/* A database that opens but whose lookups fail: a temporary failure, never "no match". */
START_TEST(test_corrupt)
{
	static const struct tp_cond country = {"country", {"GB", NULL}, false};
	static const struct tp_cond asn = {"asn", {"64500", NULL}, false};
	struct geoip *g = geoip_new();
	struct policy *p = tp_policy();
	struct geo_info info;
	struct ipaddr ip;
	struct geo_cache gc = {0};
	struct facts f = {.geo = &gc};
	struct verdict v;
	char err[600];

	ck_assert_msg(geoip_open_country(g, DB("corrupt.mmdb"), err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(geoip_open_asn(g, DB("asn.mmdb"), err, sizeof(err)) == 0, "%s", err);
	ipaddr_parse("203.0.113.9", &ip);
	geoip_lookup(g, &ip, &info);
	ck_assert_int_eq(info.country_status, -1);
	ck_assert_int_eq(info.asn_status, 0); /* the ASN database is fine */
	ck_assert_int_eq(info.status, -1);
	p->geo = geoip_provider(g);
	tp_rule(p, "by-country", ACTION_REJECT, NULL, &country, 1);
	f.client = &ip;
	f.sender = "<>";
	f.rcpt = "<x@example.net>";
	policy_decide(p, &f, &v, NULL);
	ck_assert(v.action == ACTION_TEMPFAIL && v.code == 451 &&
	    strcmp(v.rule, "by-country") == 0 && strcmp(v.reason, "lookup-failure") == 0);
	/* an ASN rule is still judged */
	rule_free_contents(&p->rules[0]);
	p->nrules = 0;
	tp_rule(p, "by-asn", ACTION_ACCEPT, NULL, &asn, 1);
	gc.done = false;
	policy_decide(p, &f, &v, NULL);
	ck_assert(v.action == ACTION_ACCEPT && strcmp(v.rule, "by-asn") == 0);
	policy_free(p);
	geoip_free(g);
}
END_TEST

/* Files that are not MaxMind DBs, or the wrong kind, are refused at open. */
START_TEST(test_open_errors)
{
	struct geoip *g = geoip_new();
	char err[600];

	ck_assert(geoip_open_country(g, DB("missing.mmdb"), err, sizeof(err)) < 0);
	ck_assert_str_eq(err, DB("missing.mmdb") ": cannot open: No such file or directory");
	ck_assert(geoip_open_country(g, TEST_SRCDIR "/geoip/make-mmdb.pl", err, sizeof(err)) < 0);
	ck_assert_ptr_nonnull(strstr(err, "not a usable MaxMind DB file"));
	ck_assert(geoip_open_country(g, DB("asn.mmdb"), err, sizeof(err)) < 0);
	ck_assert_ptr_nonnull(strstr(err, "is a \"GeoLite2-ASN\" database"));
	ck_assert(geoip_open_asn(g, DB("country.mmdb"), err, sizeof(err)) < 0);
	ck_assert(!geoip_provider(g)->has_country && !geoip_provider(g)->has_asn);
	geoip_free(g);
}
END_TEST

/* A City-layout database (here under DB-IP's type name) gives the same country. */
START_TEST(test_city_layout)
{
	struct geoip *g = geoip_new();
	struct geo_info info;
	struct ipaddr ip;
	char err[600];

	ck_assert_msg(geoip_open_country(g, DB("city.mmdb"), err, sizeof(err)) == 0, "%s", err);
	ipaddr_parse("203.0.113.200", &ip);
	ck_assert_int_eq(geoip_lookup(g, &ip, &info), 0);
	ck_assert_str_eq(info.country, "GB");
	ck_assert(info.country_status == 0 && info.asn == 0 && info.asn_status == 1);
	geoip_free(g);
}
END_TEST

/* An IPv6 client in an IPv4-only database is not listed, not an error. */
START_TEST(test_ipv6_lookup_in_ipv4_database)
{
	struct geoip *g = geoip_new();
	struct geo_info info;
	struct ipaddr ip;
	char err[600];

	ck_assert_msg(geoip_open_country(g, DB("v4only.mmdb"), err, sizeof(err)) == 0, "%s", err);
	ipaddr_parse("2001:db8:2::25", &ip);
	ck_assert_int_eq(geoip_lookup(g, &ip, &info), 0);
	ck_assert(strcmp(info.country, "--") == 0 && info.country_status == 1);
	ipaddr_parse("::ffff:203.0.113.9", &ip);
	geoip_lookup(g, &ip, &info);
	ck_assert(strcmp(info.country, "GB") == 0 && info.country_status == 0);
	geoip_free(g);
}
END_TEST

/* counting - the real lookup, counted */
static int lookups;

static int counting_lookup(void *ctx, const struct ipaddr *addr, struct geo_info *out)
{
	lookups++;
	return geoip_lookup(ctx, addr, out);
}

/*
 * With a database configured, every decision carries country and asn in
 * its log line, and the client is looked up once however many recipients
 * follow (the caller keeps facts.geo, as the callbacks do per connection).
 */
START_TEST(test_logged_once)
{
	struct geoip *g = open_both();
	struct geo_provider counting = *geoip_provider(g);
	struct policy *p = tp_policy();
	struct ipaddr ip;
	struct geo_cache gc = {0};
	struct facts f = {.geo = &gc};
	struct verdict v;
	struct logline line;

	counting.lookup = counting_lookup;
	p->geo = &counting;
	ipaddr_parse("203.0.113.200", &ip);
	f.client = &ip;
	f.sender = "<>";
	lookups = 0;
	for (int i = 0; i < 3; i++) {
		f.rcpt = i == 1 ? "<x@example.net>" : "<x@example.com>";
		policy_decide(p, &f, &v, NULL);
		verdict_format(&line, LOGLINE_KV, "Q1", &f, &v, p);
		ck_assert_msg(strstr(line.buf, " country=NG asn=64501 ") != NULL, "%s", line.buf);
	}
	ck_assert_int_eq(lookups, 1);
	/* a broken database says so in the line */
	geoip_free(g);
	g = geoip_new();
	ck_assert(geoip_open_country(g, DB("corrupt.mmdb"), line.buf, 100) == 0);
	counting = *geoip_provider(g);
	gc.done = false;
	policy_decide(p, &f, &v, NULL);
	verdict_format(&line, LOGLINE_KV, "Q2", &f, &v, p);
	ck_assert_msg(strstr(line.buf, " country=error action=") != NULL, "%s", line.buf);
	/* no database: neither key */
	p->geo = NULL;
	gc.done = false;
	policy_decide(p, &f, &v, NULL);
	verdict_format(&line, LOGLINE_KV, "Q3", &f, &v, p);
	ck_assert_msg(strstr(line.buf, "country=") == NULL && strstr(line.buf, "asn=") == NULL,
	    "%s", line.buf);
	policy_free(p);
	geoip_free(g);
}
END_TEST

/* write_conf - a temporary configuration file */
static void write_conf(char *path, size_t len, const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, len, "/tmp/rm-geoip-XXXXXX");
	ck_assert((fd = mkstemp(path)) >= 0);
	fchmod(fd, 0644);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
}

/* The loader opens both files; decisions then carry real lookups. */
START_TEST(test_config)
{
	static const char text[] =
	    "local_domains = [ \"example.com\" ];\n"
	    "geoip = { country_db = \"" DB("country.mmdb") "\"; asn_db = \"" DB(
		"asn.mmdb") "\"; };\n"
			    "users = ( { login = \"alice\"; countries = [ \"GB\" ]; } );\n"
			    "rules = ( { name = \"partners\"; asn = [ 64502 ]; action = \"accept\"; } );\n";
	struct conf_errors errs = {0};
	struct config *cfg;
	struct ipaddr ip;
	struct geo_cache gc = {0};
	struct facts f = {.geo = &gc};
	struct verdict v;
	char path[64];

	write_conf(path, sizeof(path), text);
	cfg = conf_load(path, &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	conf_errors_free(&errs); /* the warnings of an accept rule on asn alone */
	ck_assert(
	    cfg->policy->geo != NULL && cfg->policy->geo->has_country && cfg->policy->geo->has_asn);
	ipaddr_parse("198.51.100.7", &ip);
	f.client = &ip;
	f.sender = "<>";
	f.rcpt = "<x@example.net>";
	policy_decide(cfg->policy, &f, &v, NULL);
	ck_assert(v.action == ACTION_ACCEPT && strcmp(v.rule, "partners") == 0);
	ipaddr_parse("203.0.113.200", &ip);
	gc.done = false;
	f.login = "alice";
	policy_decide(cfg->policy, &f, &v, NULL);
	ck_assert(v.action == ACTION_REJECT && strcmp(v.reason, "login-country") == 0);
	ck_assert_str_eq(v.text,
	    "<x@example.net>: Relay access denied: login alice may not relay "
	    "from NG");
	conf_free(cfg);
	unlink(path);
}
END_TEST

/* copy_file - from to to, whole; 0 or -1 */
static int copy_file(const char *from, const char *to)
{
	char buf[4096];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;
	int rc = in != NULL && out != NULL ? 0 : -1;

	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	return rc;
}

/*
 * A database rewritten in place under the daemon (cp over it, truncate,
 * anything but a rename) must not kill it with SIGBUS: lookups keep the
 * answers of the file as it was opened, until the next reload. Check runs
 * each test in a child, so a crash fails the test rather than the suite.
 */
START_TEST(test_rewritten_in_place)
{
	char path[] = "/tmp/check_geoip.XXXXXX", err[600];
	struct geo_info info;
	struct geoip *g = geoip_new();
	struct ipaddr ip;
	FILE *fp;
	int fd;

	ck_assert((fd = mkstemp(path)) >= 0);
	close(fd);
	ck_assert(copy_file(DB("country.mmdb"), path) == 0);
	ck_assert_msg(geoip_open_country(g, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert(ipaddr_parse("203.0.113.200", &ip) == 0);
	ck_assert(geoip_lookup(g, &ip, &info) == 0 && strcmp(info.country, "NG") == 0);
	/* truncate: the pages under a mapping of the file would be gone */
	ck_assert(truncate(path, 0) == 0);
	ck_assert(geoip_lookup(g, &ip, &info) == 0 && strcmp(info.country, "NG") == 0);
	/* cp of another file over it: still the answers of the file that was opened */
	ck_assert((fp = fopen(path, "wb")) != NULL);
	for (int i = 0; i < 4096; i++)
		fputc(0xff, fp);
	ck_assert(fclose(fp) == 0);
	ck_assert(geoip_lookup(g, &ip, &info) == 0 && strcmp(info.country, "NG") == 0);
	ck_assert(ipaddr_parse("203.0.113.9", &ip) == 0);
	ck_assert(geoip_lookup(g, &ip, &info) == 0 && strcmp(info.country, "GB") == 0);
	geoip_free(g);
	unlink(path);
}
END_TEST

/* Not a regular file: refused at once (a FIFO would hang the load). */
START_TEST(test_not_regular)
{
	struct geoip *g = geoip_new();
	char err[600];

	ck_assert(geoip_open_country(g, TEST_GEOIPDIR, err, sizeof(err)) < 0);
	ck_assert_str_eq(err, TEST_GEOIPDIR ": cannot open: not a regular file");
	geoip_free(g);
}
END_TEST

static Suite *geoip_suite(void)
{
	Suite *s = suite_create("geoip");
	TCase *tc = tcase_create("geoip");

	tcase_add_loop_test(tc, test_lookup, 0, sizeof(rows) / sizeof(rows[0]));
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_city_layout);
	tcase_add_test(tc, test_ipv6_lookup_in_ipv4_database);
	tcase_add_test(tc, test_logged_once);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_rewritten_in_place);
	tcase_add_test(tc, test_not_regular);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(geoip_suite)
