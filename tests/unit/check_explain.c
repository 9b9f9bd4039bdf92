/*
 * check_explain.c - what --explain shows about GeoIP, through a fixture
 * provider plugged into a loaded policy: country and ASN in text and
 * JSON, "not in database", and a failed lookup that tempfails the rule.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "explain.h"
#include "policy.h"
#include "unit.h"

#define FIXTURE TEST_SRCDIR "/ops/geo-rules.conf"

/* fixture_lookup - 203.0.113.0/24 is DE/AS64500, 198.51.100.66 fails, others unlisted */
static int fixture_lookup(void *ctx, const struct ipaddr *addr, struct geo_info *out)
{
	char text[IPADDR_STRLEN];

	(void)ctx;
	ipaddr_format(addr, text, sizeof(text));
	if (strcmp(text, "198.51.100.66") == 0)
		return -1;
	if (strncmp(text, "203.0.113.", 10) == 0) {
		snprintf(out->country, sizeof(out->country), "DE");
		out->asn = 64500;
		out->status = 0;
	} else {
		snprintf(out->country, sizeof(out->country), "%s", GEO_COUNTRY_UNKNOWN);
		out->asn = 0;
		out->status = 1;
	}
	return 0;
}

static const struct geo_provider fixture = {fixture_lookup, NULL, true, true};

/*
 * load_fixture - the fixture, plus a geoip key naming the test database
 * (written by tests/geoip/make-mmdb.pl): a country rule needs one to load.
 * The lookups then go to the fixture provider instead.
 */
static struct config *load_fixture(struct conf_errors *errs)
{
	char path[64];
	struct config *cfg;
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/rm-explain-XXXXXX");
	ck_assert((fd = mkstemp(path)) >= 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fprintf(fp, "@include \"%s\"\ngeoip = { country_db = \"%s/country.mmdb\"; };\n", FIXTURE,
	    TEST_GEOIPDIR);
	fclose(fp);
	cfg = conf_load(path, errs);
	unlink(path);
	return cfg;
}

/* run - explain argv against the fixture configuration; output in *text */
static int run(bool json, char **text, int argc, char *const *argv)
{
	struct conf_errors errs = {0};
	struct config *cfg = load_fixture(&errs);
	size_t len;
	FILE *out;
	int rc;

	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	conf_errors_free(&errs);
	cfg->policy->geo = &fixture;
	out = open_memstream(text, &len);
	rc = explain_policy(cfg->policy, NULL, argc, argv, json, out, out);
	fclose(out);
	conf_free(cfg);
	return rc;
}

#define WANT(text, s) ck_assert_msg(strstr(text, s) != NULL, "want \"%s\" in:\n%s", s, text)

START_TEST(test_country_shown_and_used)
{
	char *const argv[] = {"client=203.0.113.5", "rcpt=bob@example.net"};
	char *text;

	ck_assert_int_eq(run(false, &text, 2, argv), EXPLAIN_REFUSED);
	WANT(text, "geoip        country=DE asn=64500\n");
	WANT(text, "  rule       no-de (reason: rule)\n");
	WANT(text, " country=DE asn=64500 action=reject");
	free(text);
}
END_TEST

START_TEST(test_country_json)
{
	char *const argv[] = {"client=203.0.113.5", "rcpt=bob@example.net"};
	char *text;

	ck_assert_int_eq(run(true, &text, 2, argv), EXPLAIN_REFUSED);
	WANT(text, "\"geoip\": {\"country\": \"DE\", \"asn\": 64500, \"status\": \"found\"}");
	free(text);
}
END_TEST

START_TEST(test_not_in_database)
{
	char *const argv[] = {"client=192.0.2.9", "rcpt=bob@example.com"};
	char *text;

	ck_assert_int_eq(run(false, &text, 2, argv), EXPLAIN_ACCEPTED);
	WANT(text, "geoip        country=-- asn=0 (not in database)\n");
	free(text);
}
END_TEST

/* A broken lookup is a temporary failure, and explain says where. */
START_TEST(test_lookup_failure)
{
	char *const argv[] = {"client=198.51.100.66", "rcpt=bob@example.net"};
	char *text;

	ck_assert_int_eq(run(false, &text, 2, argv), EXPLAIN_REFUSED);
	WANT(text, "geoip        lookup failed\n");
	WANT(text, "  verdict    tempfail\n");
	WANT(text, "no-de                    lookup failed\n");
	WANT(text, "reason: lookup-failure");
	free(text);
	ck_assert_int_eq(run(true, &text, 2, argv), EXPLAIN_REFUSED);
	WANT(text, "\"status\": \"failed\"");
	WANT(text, "{\"rule\": \"no-de\", \"result\": \"failed\"}");
	free(text);
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("geoip");

	tcase_add_test(tc, test_country_shown_and_used);
	tcase_add_test(tc, test_country_json);
	tcase_add_test(tc, test_not_in_database);
	tcase_add_test(tc, test_lookup_failure);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(explain_suite)
