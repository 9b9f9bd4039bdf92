/*
 * check_reload.c - reload_now() over and over, as SIGUSR1 would: each good
 * file swaps verdicts, a broken one leaves the running verdicts in force,
 * a pinned snapshot keeps judging with the configuration it started with,
 * and nothing leaks (tests/ops/leak.sh runs this under valgrind).
 * RM_RELOADS sets the number of reloads (default 1000).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "metrics.h"
#include "policy.h"
#include "reload.h"
#include "snapshot.h"
#include "unit.h"

/* Two good configurations that disagree about example.net, and a broken one. */
static const char conf_a[] = "local_domains = [ \"example.com\" ];\n"
			     "trusted_networks = [ \"192.0.2.0/24\" ];\n";
static const char conf_b[] =
    "local_domains = [ \"example.com\", \"example.net\" ];\n"
    "trusted_networks = [ \"192.0.2.0/24\" ];\n"
    "rules = ( { name = \"r1\"; helo = [ \"x\" ]; action = \"reject\"; } );\n";
static const char conf_bad[] = "local_domains = [ \"example.com\" ];\n"
			       "trusted_networks = [ \"192.0.2.0/33\" ];\n";

/* put - rewrite the configuration file in place, as an administrator would */
static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert(fp != NULL);
	fputs(text, fp);
	ck_assert(fclose(fp) == 0);
	chmod(path, 0644);
}

/* judge - the verdict a snapshot gives an outsider relaying to example.net */
static enum action judge(const struct snapshot *snap)
{
	struct ipaddr ip;
	struct facts f;
	struct verdict v;

	ipaddr_parse("203.0.113.9", &ip);
	memset(&f, 0, sizeof(f));
	f.client = &ip;
	f.sender = "<a@example.org>";
	f.rcpt = "<bob@example.net>";
	policy_decide(snap->config->policy, &f, &v, NULL);
	return v.action;
}

/* current_verdict - judge with the current snapshot, pinned for the call */
static enum action current_verdict(void)
{
	struct snapshot *s = snapshot_acquire();
	enum action a;

	ck_assert(s != NULL);
	a = judge(s);
	snapshot_release(s);
	return a;
}

START_TEST(test_many_reloads)
{
	const char *env = getenv("RM_RELOADS");
	long n = env ? strtol(env, NULL, 10) : 1000;
	char dir[] = "/tmp/rm-reload.XXXXXX", path[64];
	struct snapshot *pinned = NULL;
	enum action pinned_want = ACTION_ACCEPT;
	unsigned long gen0, good = 0, failed = 0;

	ck_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/relay-milter.conf", dir);
	metrics_reset();
	put(path, conf_a);
	ck_assert(reload_now(path) == 0);
	gen0 = snapshot_generation();
	ck_assert_int_eq(current_verdict(), ACTION_REJECT);
	for (long i = 1; i <= n; i++) {
		int b = i % 2;
		enum action want = b ? ACTION_ACCEPT : ACTION_REJECT;

		if (i % 10 == 0) { /* a connection that began before this reload */
			snapshot_release(pinned);
			pinned = snapshot_acquire();
			pinned_want = current_verdict();
		}
		if (i % 50 == 0) { /* a broken file: refused, old verdicts stay */
			enum action before = current_verdict();

			put(path, conf_bad);
			ck_assert_int_eq(reload_now(path), -1);
			failed++;
			ck_assert_int_eq(current_verdict(), before);
		}
		put(path, b ? conf_b : conf_a);
		ck_assert_int_eq(reload_now(path), 0);
		good++;
		ck_assert_int_eq(current_verdict(), want);
		if (pinned != NULL)
			ck_assert_int_eq(judge(pinned), pinned_want);
	}
	snapshot_release(pinned);
	ck_assert_uint_eq(snapshot_generation(), gen0 + good);
	ck_assert_uint_eq(metrics_counter_value(METRICS_RELOADS), good + 1);
	ck_assert_uint_eq(metrics_counter_value(METRICS_RELOAD_FAILURES), failed);
	snapshot_clear();
	metrics_reset();
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("reload");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_many_reloads);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(reload_suite)
