/* check_policy.c - the engine's verdicts, one row per case */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "rules.h"
#include "unit.h"

/* make_policy - the sample policy, built without the configuration loader */
static struct policy *make_policy(void)
{
	static const char *const domains[] = {"example.com", ".example.com",
	    "xn--bcher-kva.example", NULL};
	static const char *const nets[] = {"127.0.0.0/8", "::1/128", "192.0.2.0/24",
	    "2001:db8:1::/48", NULL};
	struct policy *p = policy_new();
	const char *why;

	p->local_domains = domainset_new();
	p->trusted_networks = netset_new();
	p->own_addresses = netset_new();
	for (const char *const *d = domains; *d; d++)
		ck_assert(domainset_add(p->local_domains, *d, &why) == 0);
	for (const char *const *n = nets; *n; n++)
		ck_assert(netset_add(p->trusted_networks, *n, &why) == 0);
	ck_assert(netset_add(p->own_addresses, "198.51.100.25", &why) == 0);
	domainset_finish(p->local_domains);
	netset_finish(p->trusted_networks);
	netset_finish(p->own_addresses);
	p->no_client =
	    NO_CLIENT_TRUSTED; /* the no-client row judges no_client_address = "trusted" */
	return p;
}

struct row {
	const char *client; /* NULL: no client address */
	const char *login;
	const char *rcpt;
	const char *rcpt_mta;
	const char *mailer;
	enum action want;
	int code;
	const char *rule;
	const char *reason;
};

#define OUT "203.0.113.9" /* an untrusted client */

static const struct row rows[] = {
    /* 1. local domains, from anywhere */
    {OUT, NULL, "<bob@example.com>", NULL, NULL, ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "bob@example.com", NULL, NULL, ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "<Bob@EXAMPLE.COM.>", NULL, NULL, ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "<bob@mail.example.com>", NULL, NULL, ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "<postmaster>", NULL, NULL, ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "<bob@bücher.example>", NULL, NULL, ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "<bob@[198.51.100.25]>", NULL, NULL, ACTION_ACCEPT, 250, "local-domain", "local"},
    {"::ffff:203.0.113.9", NULL, "<a@example.com>", NULL, NULL, ACTION_ACCEPT, 250, "local-domain",
	"local"},
    /* 2. authenticated relay */
    {OUT, "alice", "<x@example.net>", NULL, NULL, ACTION_ACCEPT, 250, "authenticated",
	"authenticated"},
    {OUT, "alice", "<x%y@example.com>", NULL, NULL, ACTION_ACCEPT, 250, "authenticated",
	"authenticated"},
    /* 3. trusted networks, IPv4, IPv6 and IPv4-mapped */
    {"192.0.2.7", NULL, "<x@example.net>", NULL, NULL, ACTION_ACCEPT, 250, "trusted-network",
	"trusted"},
    {"::ffff:192.0.2.7", NULL, "<x@example.net>", NULL, NULL, ACTION_ACCEPT, 250, "trusted-network",
	"trusted"},
    {"2001:db8:1::5", NULL, "<x@example.net>", NULL, NULL, ACTION_ACCEPT, 250, "trusted-network",
	"trusted"},
    {"::1", NULL, "<x@example.net>", NULL, NULL, ACTION_ACCEPT, 250, "trusted-network", "trusted"},
    {NULL, NULL, "<x@example.net>", NULL, NULL, ACTION_ACCEPT, 250, "trusted-network", "no-client"},
    /* 4. everything else is refused */
    {OUT, NULL, "<x@example.net>", NULL, NULL, ACTION_REJECT, 550, "default-deny", "denied"},
    {OUT, "", "<x@example.net>", NULL, NULL, ACTION_REJECT, 550, "default-deny", "denied"},
    {"2001:db8:2::1", NULL, "<x@example.net>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"denied"},
    {"192.0.3.1", NULL, "<x@example.net>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"denied"},
    {OUT, NULL, "<x@notexample.com>", NULL, NULL, ACTION_REJECT, 550, "default-deny", "denied"},
    {OUT, NULL, "<x@[192.0.2.99]>", NULL, NULL, ACTION_REJECT, 550, "default-deny", "denied"},
    /* a literal is own only as the MTA treats it: Postfix sends these to smtp */
    {OUT, NULL, "<bob@[IPv6:::ffff:198.51.100.25]>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"denied"},
    {OUT, NULL, "<bob@[IPv6:::FFFF:c633:6419]>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"denied"},
    {OUT, NULL, "<bob@[0.0.0.0]>", NULL, NULL, ACTION_REJECT, 550, "default-deny", "denied"},
    {OUT, NULL, "<bob@[IPv6:::]>", NULL, NULL, ACTION_REJECT, 550, "default-deny", "denied"},
    /* no Unicode mapping the MTA does not make: these are not example.com */
    {OUT, NULL,
	"<bob@example\xe3\x80\x82"
	"com>",
	NULL, NULL, ACTION_REJECT, 501, "default-deny", "invalid-address"},
    {OUT, NULL,
	"<bob@example\xef\xbc\x8e"
	"com>",
	NULL, NULL, ACTION_REJECT, 501, "default-deny", "invalid-address"},
    {OUT, NULL, "<bob@\xef\xbd\x85xample.com>", NULL, NULL, ACTION_REJECT, 501, "default-deny",
	"invalid-address"},
    {OUT, NULL, "<bob@exa\xc2\xadmple.com>", NULL, NULL, ACTION_REJECT, 501, "default-deny",
	"invalid-address"},
    {OUT, NULL,
	"<bob@x.example\xe3\x80\x82"
	"com>",
	"bob@x.example\xe3\x80\x82"
	"com",
	"smtp", ACTION_REJECT, 501, "default-deny", "invalid-address"},
    /* unparseable recipients are never local */
    {OUT, NULL, "<x@exa mple.com>", NULL, NULL, ACTION_REJECT, 501, "default-deny",
	"invalid-address"},
    {OUT, NULL, "<>", NULL, NULL, ACTION_REJECT, 501, "default-deny", "invalid-address"},
    {OUT, NULL, "", NULL, NULL, ACTION_REJECT, 501, "default-deny", "invalid-address"},
    {OUT, NULL, NULL, NULL, NULL, ACTION_REJECT, 501, "default-deny", "invalid-address"},
    /* routing tricks: a distinct reply */
    {OUT, NULL, "<x%example.net@example.com>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"routing-trick"},
    {OUT, NULL, "<example.net!x@example.com>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"routing-trick"},
    {OUT, NULL, "<\"x@example.net\"@example.com>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"routing-trick"},
    {OUT, NULL, "<@example.com:x@example.net>", NULL, NULL, ACTION_REJECT, 550, "default-deny",
	"routing-trick"},
    {OUT, NULL, "<example.net!x>", NULL, NULL, ACTION_REJECT, 550, "default-deny", "routing-trick"},
    /* defence in depth: the MTA's resolution must agree */
    {OUT, NULL, "<x@example.com>", "x@example.com", "esmtp", ACTION_ACCEPT, 250, "local-domain",
	"local"},
    {OUT, NULL, "<x@example.com>", "x@example.net", "esmtp", ACTION_REJECT, 550, "default-deny",
	"denied"},
    {OUT, NULL, "<x@example.com>", "x", "local", ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "<x@example.com>", "x", "esmtp", ACTION_REJECT, 550, "default-deny", "denied"},
    {OUT, NULL, "<x@example.com>", "example.net!x", "local", ACTION_REJECT, 550, "default-deny",
	"denied"},
    /* a bare user too: Postfix qualifies it with $myorigin, which may be remote */
    {OUT, NULL, "<user>", "user@example.net", "smtp", ACTION_REJECT, 550, "default-deny", "denied"},
    {OUT, NULL, "<postmaster>", "postmaster@example.com", "local", ACTION_ACCEPT, 250,
	"local-domain", "local"},
    {OUT, NULL, "<user>", "user", "local", ACTION_ACCEPT, 250, "local-domain", "local"},
    {OUT, NULL, "<user>", "user", "esmtp", ACTION_REJECT, 550, "default-deny", "denied"},
};

START_TEST(test_core)
{
	const struct row *r = &rows[_i];
	struct policy *p = make_policy();
	struct ipaddr client;
	struct facts f = {0};
	struct verdict v;

	if (r->client != NULL) {
		ck_assert(ipaddr_parse(r->client, &client) == 0);
		f.client = &client;
	}
	f.login = r->login;
	f.sender = "<sender@example.org>";
	f.rcpt = r->rcpt;
	f.rcpt_mta = r->rcpt_mta;
	f.rcpt_mailer = r->mailer;
	policy_decide(p, &f, &v, NULL);
	ck_assert_msg(v.action == r->want && v.code == r->code && strcmp(v.rule, r->rule) == 0 &&
		strcmp(v.reason, r->reason) == 0,
	    "row %d rcpt %s from %s: got %s %d rule=%s reason=%s, want %s %d rule=%s reason=%s", _i,
	    r->rcpt, r->client ? r->client : "(none)", action_name(v.action), v.code, v.rule,
	    v.reason, action_name(r->want), r->code, r->rule, r->reason);
	policy_free(p);
}
END_TEST

/* The default reply names the recipient, and hostile bytes never reach SMTP. */
START_TEST(test_reply_text)
{
	struct policy *p = make_policy();
	struct ipaddr client;
	struct facts f = {0};
	struct verdict v;

	ipaddr_parse(OUT, &client);
	f.client = &client;
	f.rcpt = "<victim@example.net>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_str_eq(v.ecode, "5.7.1");
	ck_assert_str_eq(v.text, "<victim@example.net>: Relay access denied");
	f.rcpt = "<x%y@example.com>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_str_eq(v.text, "<x%y@example.com>: Relay access denied: sender-routed address");
	f.rcpt = "<a\r\n550 b@example.net>";
	policy_decide(p, &f, &v, NULL);
	for (const char *c = v.text; *c; c++)
		ck_assert_msg(*c >= 0x20 && *c < 0x7f, "control byte in \"%s\"", v.text);
	policy_free(p);
}
END_TEST

/* Every byte of a reply template that is not an escape reaches the client as written. */
START_TEST(test_reply_percent)
{
	struct policy *p = make_policy();
	struct ipaddr client;
	struct facts f = {0};
	struct verdict v;
	const char *why;

	ck_assert(reply_parse("550 5.7.1 50% off %x, 100%% %r %", &p->relay_denied, &why) == 0);
	ipaddr_parse(OUT, &client);
	f.client = &client;
	f.rcpt = "<victim@example.net>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_str_eq(v.text, "50% off %x, 100% victim@example.net %");
	policy_free(p);
}
END_TEST

/*
 * A refusal is what its reply says: a 4xx relay_denied_reply tempfails,
 * so the MTA sends the reply the log names (a reject with a 4xx reply
 * reached the client as Postfix's "550 5.7.1 Command rejected").
 */
START_TEST(test_reply_class_decides)
{
	struct policy *p = make_policy();
	struct ipaddr client;
	struct facts f = {0};
	struct verdict v;
	const char *why;

	ck_assert(reply_parse("451 4.7.1 <%r>: try later", &p->relay_denied, &why) == 0);
	ck_assert(reply_parse("450 4.1.3 <%r>: later", &p->invalid_rcpt, &why) == 0);
	ipaddr_parse(OUT, &client);
	f.client = &client;
	f.rcpt = "<victim@example.net>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_msg(v.action == ACTION_TEMPFAIL && v.code == 451, "got %s %d",
	    action_name(v.action), v.code);
	f.rcpt = "<not an address>";
	policy_decide(p, &f, &v, NULL);
	ck_assert(v.action == ACTION_TEMPFAIL && v.code == 450);
	policy_free(p);
}
END_TEST

/* Each recipient is judged on its own: order does not change any verdict. */
START_TEST(test_independent_recipients)
{
	static const char *const rcpts[] = {"<a@example.com>", "<b@example.net>", "<c@example.com>",
	    "<d@example.org>"};
	static const enum action want[] = {ACTION_ACCEPT, ACTION_REJECT, ACTION_ACCEPT,
	    ACTION_REJECT};
	struct policy *p = make_policy();
	struct ipaddr client;
	struct facts f = {0};
	struct verdict v;

	ipaddr_parse(OUT, &client);
	f.client = &client;
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < 4; k++) {
			int i = pass ? 3 - k : k;

			f.rcpt = rcpts[i];
			policy_decide(p, &f, &v, NULL);
			ck_assert_msg(v.action == want[i], "pass %d %s: got %s", pass, rcpts[i],
			    action_name(v.action));
		}
	}
	policy_free(p);
}
END_TEST

/* mta_get - the getter's side of test_literal_mta_getter: one address, each call counted */
static const struct ipaddr *mta_get(void *arg, size_t *n)
{
	static struct ipaddr mta;

	(*(int *)arg)++;
	ck_assert(ipaddr_parse("2001:db8::25", &mta) == 0);
	*n = 1;
	return &mta;
}

/* The MTA's own addresses asked on need: by an address literal, never by a domain. */
START_TEST(test_literal_mta_getter)
{
	struct policy *p = make_policy();
	struct ipaddr client;
	struct verdict v;
	struct facts f = {0};
	int asked = 0;

	ck_assert(ipaddr_parse(OUT, &client) == 0);
	f.client = &client;
	f.sender = "<a@example.org>";
	f.mta_addrs_get = mta_get;
	f.get_arg = &asked;
	f.rcpt = "<bob@example.org>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_int_eq(asked, 0);
	f.rcpt = "<bob@[IPv6:2001:db8::25]>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_int_eq(asked, 1);
	ck_assert_msg(v.action == ACTION_ACCEPT, "got %s %s", action_name(v.action), v.reason);
	f.rcpt = "<bob@[IPv6:2001:db8::26]>";
	policy_decide(p, &f, &v, NULL);
	ck_assert(v.action == ACTION_REJECT);
	policy_free(p);
}
END_TEST

/*
 * The MTA's own addresses ({daemon_addr}, {if_addr}) make user@[that]
 * local; the wildcard a listener binds (Sendmail sends 0.0.0.0) never does.
 */
START_TEST(test_literal_mta_addrs)
{
	static const struct {
		const char *mta, *rcpt;
		enum action want;
	} cases[] = {
	    {"198.51.100.80", "<bob@[198.51.100.80]>", ACTION_ACCEPT},
	    {"198.51.100.80", "<bob@[IPv6:::ffff:198.51.100.80]>", ACTION_REJECT},
	    {"2001:db8::25", "<bob@[IPv6:2001:db8::25]>", ACTION_ACCEPT},
	    {"0.0.0.0", "<bob@[0.0.0.0]>", ACTION_REJECT},
	    {"::", "<bob@[IPv6:::]>", ACTION_REJECT},
	    {"::", "<bob@[IPv6:0:0:0:0:0:0:0:0]>", ACTION_REJECT},
	    {"::ffff:0.0.0.0", "<bob@[0.0.0.0]>", ACTION_REJECT},
	};
	struct policy *p = make_policy();
	struct ipaddr client, mta;
	struct verdict v;

	ck_assert(ipaddr_parse(OUT, &client) == 0);
	{
		/* not even when own_addresses names the wildcard */
		const char *why;

		netset_free(p->own_addresses);
		p->own_addresses = netset_new();
		ck_assert(netset_add(p->own_addresses, "0.0.0.0", &why) == 0);
		ck_assert(netset_add(p->own_addresses, "::", &why) == 0);
		ck_assert(netset_add(p->own_addresses, "198.51.100.80", &why) == 0);
		netset_finish(p->own_addresses);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct facts f = {0};

		ck_assert(ipaddr_parse(cases[i].mta, &mta) == 0);
		f.client = &client;
		f.sender = "<a@example.org>";
		f.rcpt = cases[i].rcpt;
		f.mta_addrs = &mta;
		f.nmta_addrs = 1;
		policy_decide(p, &f, &v, NULL);
		ck_assert_msg(v.action == cases[i].want,
		    "%s with daemon_addr %s: got %s %s, want %s", cases[i].rcpt, cases[i].mta,
		    action_name(v.action), v.reason, action_name(cases[i].want));
	}
	policy_free(p);
}
END_TEST

/* A connection without a client address is an outsider unless configured otherwise. */
START_TEST(test_no_client_default)
{
	struct policy *p = policy_new();
	struct facts f = {0};
	struct verdict v;

	ck_assert_int_eq(p->no_client, NO_CLIENT_UNTRUSTED);
	f.sender = "<a@example.org>";
	f.rcpt = "<x@example.net>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_msg(v.action == ACTION_REJECT && strcmp(v.reason, "denied") == 0,
	    "no client, default policy: got %s reason=%s, want reject reason=denied",
	    action_name(v.action), v.reason);
	policy_free(p);
}
END_TEST

START_TEST(test_switches)
{
	struct policy *p = make_policy();
	struct ipaddr client;
	struct facts f = {0};
	struct verdict v;

	ipaddr_parse(OUT, &client);
	f.client = &client;
	/* authenticated relay off: a login alone is not enough */
	p->authenticated_relay = false;
	f.login = "alice";
	f.rcpt = "<x@example.net>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	/* no client address treated as untrusted */
	p->no_client = NO_CLIENT_UNTRUSTED;
	f.client = NULL;
	f.login = NULL;
	policy_decide(p, &f, &v, NULL);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	/* routing tricks allowed: judged by the domain after the last @ */
	p->allow_routing_tricks = true;
	f.client = &client;
	f.rcpt = "<x%y@example.com>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	/* ... but the MTA's rewritten form still has to be local */
	f.rcpt_mta = "x@y";
	policy_decide(p, &f, &v, NULL);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	/* dry-run: the refusal is reported, flagged, and not enforced */
	p->dry_run = true;
	f.rcpt_mta = NULL;
	f.rcpt = "<x@example.net>";
	policy_decide(p, &f, &v, NULL);
	ck_assert(v.action == ACTION_REJECT && v.dry_run);
	policy_free(p);
}
END_TEST

/*
 * A listener on every address reports {daemon_addr} 0.0.0.0 (Sendmail's
 * default, and our own .mc): that is no one's address, and user@[0.0.0.0]
 * or user@[IPv6:::] is not local because of it (found by fuzz_decide).
 * An own IPv4 address written as IPv6 is not local either: Postfix routes
 * user@[IPv6:::ffff:a.b.c.d] to smtp.
 */
START_TEST(test_wildcard_literal)
{
	static const char *const rcpts[] = {"<x@[0.0.0.0]>", "<x@[IPv6:::]>",
	    "<x@[IPv6:::ffff:198.51.100.30]>", "<x@[IPv6:::ffff:198.51.100.25]>"};
	struct policy *p = make_policy();
	struct ipaddr client, mta[3];
	struct facts f = {0};
	struct verdict v;

	ck_assert(ipaddr_parse(OUT, &client) == 0 && ipaddr_parse("0.0.0.0", &mta[0]) == 0 &&
	    ipaddr_parse("::", &mta[1]) == 0 && ipaddr_parse("198.51.100.30", &mta[2]) == 0);
	f.client = &client;
	f.mta_addrs = mta;
	f.nmta_addrs = 3;
	for (size_t i = 0; i < sizeof(rcpts) / sizeof(rcpts[0]); i++) {
		f.rcpt = rcpts[i];
		policy_decide(p, &f, &v, NULL);
		ck_assert_msg(v.action == ACTION_REJECT, "%s: got %s, want reject", f.rcpt,
		    action_name(v.action));
	}
	/* the MTA's real address still names it */
	f.rcpt = "<x@[198.51.100.30]>";
	policy_decide(p, &f, &v, NULL);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	policy_free(p);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_core, 0, sizeof(rows) / sizeof(rows[0]));
	tcase_add_test(tc, test_reply_text);
	tcase_add_test(tc, test_reply_percent);
	tcase_add_test(tc, test_reply_class_decides);
	tcase_add_test(tc, test_independent_recipients);
	tcase_add_test(tc, test_switches);
	tcase_add_test(tc, test_literal_mta_addrs);
	tcase_add_test(tc, test_literal_mta_getter);
	tcase_add_test(tc, test_no_client_default);
	tcase_add_test(tc, test_wildcard_literal);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(policy_suite)
