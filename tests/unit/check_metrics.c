/* check_metrics.c - counters, dry-run counts per rule, Prometheus text */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "metrics.h"
#include "policy.h"
#include "snapshot.h"
#include "steps.h"
#include "testpolicy.h"
#include "unit.h"

#define FIXTURE TEST_SRCDIR "/ops/dry-rules.conf"

/* decide - one recipient of an outside client through the fixture's policy */
static void decide(struct config *cfg, const char *client, const char *helo, const char *rcpt,
    struct verdict *v)
{
	const struct policy *p = cfg->policy;
	struct ipaddr ip;
	struct facts f;

	ck_assert(ipaddr_parse(client, &ip) == 0);
	memset(&f, 0, sizeof(f));
	f.client = &ip;
	f.helo = helo;
	f.sender = "<a@example.org>";
	f.rcpt = rcpt;
	policy_decide(p, &f, v, NULL);
	/* mapped on first use, as the daemon does before it installs a configuration */
	if (cfg->rule_ids == NULL)
		cfg->rule_ids = metrics_rule_ids(p);
	metrics_decision(v, cfg->rule_ids);
}

/* load - the fixture, failing the test with its errors */
static struct config *load(const char *path)
{
	struct conf_errors errs = {0};
	struct config *cfg = conf_load(path, &errs);

	ck_assert_msg(cfg != NULL, "%s: %s", path, errs.n ? errs.msgs[0] : "?");
	conf_errors_free(&errs);
	return cfg;
}

START_TEST(test_counts_by_rule_and_reason)
{
	struct config *cfg = load(FIXTURE);
	struct verdict v;

	metrics_reset();
	decide(cfg, "203.0.113.9", "mx.example.net", "<bob@example.com>", &v);
	decide(cfg, "203.0.113.9", "mx.example.net", "<x@example.net>", &v);
	decide(cfg, "192.0.2.7", "mx.example.net", "<x@example.net>", &v);
	ck_assert_uint_eq(metrics_rule_count("local-domain", ACTION_ACCEPT, false), 1);
	ck_assert_uint_eq(metrics_rule_count("default-deny", ACTION_REJECT, false), 1);
	ck_assert_uint_eq(metrics_rule_count("trusted-network", ACTION_ACCEPT, false), 1);
	ck_assert_uint_eq(metrics_reason_count("denied"), 1);
	ck_assert_uint_eq(metrics_reason_count("trusted"), 1);
	ck_assert_uint_eq(metrics_reason_count("local"), 1);
	ck_assert_uint_eq(metrics_reason_count("sender-not-owned"), 0);
	conf_free(cfg);
}
END_TEST

/*
 * A dry_run rule is counted as a would-be refusal and decides nothing: the
 * outsider's relay attempt is still refused by default-deny, and the local
 * recipient still accepted.
 */
START_TEST(test_rule_dry_run_counted_not_obeyed)
{
	struct config *cfg = load(FIXTURE);
	struct verdict v;

	metrics_reset();
	decide(cfg, "203.0.113.9", "h.dyn.example.net", "<bob@example.com>", &v);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	ck_assert_str_eq(v.dry_rule, "trial-helo");
	ck_assert_int_eq(v.dry_action, ACTION_REJECT);
	decide(cfg, "203.0.113.9", "h.dyn.example.net", "<x@example.net>", &v);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert(!v.dry_run);
	ck_assert_str_eq(v.rule, "default-deny");
	ck_assert_str_eq(v.dry_rule, "trial-helo");
	decide(cfg, "203.0.113.9", "mx.example.net", "<bob@example.com>", &v);
	ck_assert(v.dry_rule == NULL);
	ck_assert_uint_eq(metrics_rule_count("trial-helo", ACTION_REJECT, true), 2);
	ck_assert_uint_eq(metrics_rule_count("trial-helo", ACTION_REJECT, false), 0);
	ck_assert_uint_eq(metrics_rule_count("default-deny", ACTION_REJECT, false), 1);
	conf_free(cfg);
}
END_TEST

/* mode = "dry-run": the deciding refusal is counted as not enforced */
START_TEST(test_mode_dry_run_counted)
{
	struct config *cfg = load(FIXTURE);
	struct verdict v;

	metrics_reset();
	cfg->policy->dry_run = true;
	decide(cfg, "203.0.113.9", "mx.example.net", "<x@example.net>", &v);
	ck_assert(v.action == ACTION_REJECT && v.dry_run);
	ck_assert_uint_eq(metrics_rule_count("default-deny", ACTION_REJECT, true), 1);
	ck_assert_uint_eq(metrics_rule_count("default-deny", ACTION_REJECT, false), 0);
	conf_free(cfg);
}
END_TEST

/* contains - the text has this exact line */
static int contains(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return 1;
	return 0;
}

START_TEST(test_prometheus_text)
{
	struct config *cfg = load(FIXTURE);
	struct verdict v;
	char *text;

	metrics_reset();
	ck_assert(snapshot_install(cfg) == 0);
	metrics_add(METRICS_CONNECTIONS);
	metrics_add(METRICS_TRANSACTIONS);
	metrics_add(METRICS_RELOADS);
	metrics_geo(0);
	metrics_geo(-1);
	decide(cfg, "203.0.113.9", "h.dyn.example.net", "<x@example.net>", &v);
	text = metrics_format(NULL);
	ck_assert(text != NULL);
	ck_assert(contains(text, "relay_milter_connections_total 1"));
	ck_assert(contains(text, "relay_milter_transactions_total 1"));
	ck_assert(contains(text, "relay_milter_recipients_total{verdict=\"reject\"} 1"));
	ck_assert(contains(text, "relay_milter_recipients_total{verdict=\"accept\"} 0"));
	ck_assert(contains(text,
	    "relay_milter_rule_recipients_total{rule=\"default-deny\",verdict=\"reject\"} 1"));
	ck_assert(contains(text,
	    "relay_milter_rule_dry_run_total{rule=\"trial-helo\",verdict=\"reject\"} 1"));
	/* a rule of the running configuration is listed before it ever fires */
	ck_assert(contains(text,
	    "relay_milter_rule_recipients_total{rule=\"partners\",verdict=\"accept\"} 0"));
	ck_assert(contains(text,
	    "relay_milter_reason_recipients_total{reason=\"denied\",verdict=\"reject\"} 1"));
	ck_assert(contains(text, "relay_milter_dry_run_total{verdict=\"reject\"} 1"));
	ck_assert(contains(text, "relay_milter_geoip_lookups_total 2"));
	ck_assert(contains(text, "relay_milter_geoip_failures_total 1"));
	ck_assert(contains(text, "relay_milter_reloads_total 1"));
	ck_assert(contains(text, "# TYPE relay_milter_config_generation gauge"));
	ck_assert(strstr(text, "relay_milter_config_age_seconds ") != NULL);
	free(text);
	snapshot_clear();
}
END_TEST

/*
 * The metrics name steps and reasons from the engine's table only: every
 * reason label is a table entry and every entry is listed, and every rule
 * label is a built-in step or a rule of the running configuration.
 */
START_TEST(test_names_from_the_table)
{
	struct config *cfg = load(FIXTURE);
	char *text, *line, *save = NULL;
	bool listed[REASON_N] = {false};

	metrics_reset();
	ck_assert(snapshot_install(cfg) == 0);
	text = metrics_format(NULL);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		int r;

		if (sscanf(line, "relay_milter_reason_recipients_total{reason=\"%127[^\"]\"",
			name) == 1) {
			for (r = 0; r < REASON_N && strcmp(reason_name((enum reason)r), name) != 0;
			     r++)
				;
			ck_assert_msg(r < REASON_N, "reason \"%s\" is not in the table", name);
			listed[r] = true;
		}
		if (sscanf(line, "relay_milter_rule_recipients_total{rule=\"%127[^\"]\"", name) ==
		    1) {
			bool configured = false;

			for (size_t i = 0; i < cfg->policy->nrules; i++)
				configured |= strcmp(cfg->policy->rules[i].name, name) == 0;
			ck_assert_msg(configured || step_find(name) != STEP_RULE,
			    "rule \"%s\" is neither configured nor a built-in step", name);
		}
	}
	for (int r = 0; r < REASON_N; r++)
		ck_assert_msg(listed[r], "reason %s not listed", reason_name((enum reason)r));
	free(text);
	snapshot_clear();
}
END_TEST

/* A rule name with a quote or backslash stays one well-formed label value. */
START_TEST(test_label_escaping)
{
	struct verdict v = {.action = ACTION_REJECT,
	    .step = STEP_RULE,
	    .rule_index = 0,
	    .why = REASON_RULE,
	    .dry_rule_index = -1};
	struct policy *p = policy_new();
	unsigned *ids;
	char *text;

	metrics_reset();
	tp_rule(p, "a\"b\\c", ACTION_REJECT, NULL, NULL, 0);
	ids = metrics_rule_ids(p);
	metrics_decision(&v, ids);
	text = metrics_format(NULL);
	ck_assert(contains(text,
	    "relay_milter_rule_recipients_total{rule=\"a\\\"b\\\\c\",verdict=\"reject\"} 1"));
	free(text);
	free(ids);
	policy_free(p);
}
END_TEST

#define THREADS    8
#define PER_THREAD 100000

static unsigned *hammer_ids; /* the slots of rules r0, r1 and r2 */

/* hammer - many decisions under rules some threads share and some do not */
static void *hammer(void *arg)
{
	struct verdict v = {.action = ACTION_ACCEPT,
	    .step = STEP_RULE,
	    .why = REASON_LOCAL,
	    .dry_rule_index = -1};

	v.rule_index = (int)((size_t)arg % 3);
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_decision(&v, hammer_ids);
		metrics_add(METRICS_CONNECTIONS);
	}
	return NULL;
}

/* Lock-free, yet exact: no increment is lost, no name claimed twice. */
START_TEST(test_concurrent_counts_exact)
{
	pthread_t t[THREADS];
	unsigned long sum = 0;
	struct policy *p = policy_new();

	metrics_reset();
	tp_rule(p, "r0", ACTION_ACCEPT, NULL, NULL, 0);
	tp_rule(p, "r1", ACTION_ACCEPT, NULL, NULL, 0);
	tp_rule(p, "r2", ACTION_ACCEPT, NULL, NULL, 0);
	hammer_ids = metrics_rule_ids(p);
	for (long i = 0; i < THREADS; i++)
		ck_assert(pthread_create(&t[i], NULL, hammer, (void *)(size_t)i) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(metrics_counter_value(METRICS_CONNECTIONS), THREADS * PER_THREAD);
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%d", i);
		sum += metrics_rule_count(name, ACTION_ACCEPT, false);
	}
	ck_assert_uint_eq(sum, THREADS * PER_THREAD);
	ck_assert_uint_eq(metrics_reason_count("local"), THREADS * PER_THREAD);
	metrics_reset();
	free(hammer_ids);
	policy_free(p);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_counts_by_rule_and_reason);
	tcase_add_test(tc, test_rule_dry_run_counted_not_obeyed);
	tcase_add_test(tc, test_mode_dry_run_counted);
	tcase_add_test(tc, test_prometheus_text);
	tcase_add_test(tc, test_names_from_the_table);
	tcase_add_test(tc, test_label_escaping);
	tcase_add_test(tc, test_concurrent_counts_exact);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(metrics_suite)
