/*
 * check_rules.c - each rule condition (and its negation) and each action,
 * judged through the engine with a fixed GeoIP table (fakegeo.h).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fakegeo.h"
#include "policy.h"
#include "rules.h"
#include "testpolicy.h"
#include "unit.h"

#define GB      "203.0.113.9"   /* GB, AS64500, not trusted */
#define NG      "203.0.113.200" /* NG, AS64501 */
#define US      "198.51.100.7"  /* US, AS64502 */
#define NOWHERE "100.64.1.1"    /* not in the database: "--" */
#define BROKEN  "100.64.0.66"   /* the lookup fails */
#define TRUSTED "192.0.2.7"

/* One condition against one set of facts: does the rule fire? */
struct row {
	struct tp_cond cond;
	const char *client, *helo, *login, *sender, *rcpt;
	int want; /* 1 the rule decides, 0 it does not, -1 temporary failure */
};

#define L(...) {__VA_ARGS__, NULL}, false

static const struct row rows[] = {
    /* network */
    {{"network", L("203.0.113.0/24")}, GB, "h", NULL, "<a@b.example>", "<x@example.net>", 1},
    {{"network", L("203.0.113.0/24")}, US, "h", NULL, "<a@b.example>", "<x@example.net>", 0},
    {{"not_network", L("203.0.113.0/24")}, US, "h", NULL, "<a@b.example>", "<x@example.net>", 1},
    {{"not_network", L("203.0.113.0/24")}, GB, "h", NULL, "<a@b.example>", "<x@example.net>", 0},
    {{"network", L("::ffff:203.0.113.0/120")}, "::ffff:203.0.113.9", "h", NULL, "<a@b.example>",
	"<x@example.net>", 1},
    /* country, the unknown token, negation, lookup failure */
    {{"country", L("GB", "FR")}, GB, "h", NULL, "<>", "<x@example.net>", 1},
    {{"country", L("GB", "FR")}, NG, "h", NULL, "<>", "<x@example.net>", 0},
    {{"not_country", L("GB")}, NG, "h", NULL, "<>", "<x@example.net>", 1},
    {{"not_country", L("GB")}, GB, "h", NULL, "<>", "<x@example.net>", 0},
    {{"country", L("--")}, NOWHERE, "h", NULL, "<>", "<x@example.net>", 1},
    {{"country", L("--")}, "2001:db8::1", "h", NULL, "<>", "<x@example.net>", 1},
    {{"country", L("--")}, US, "h", NULL, "<>", "<x@example.net>", 0},
    {{"not_country", L("--")}, NOWHERE, "h", NULL, "<>", "<x@example.net>", 0},
    {{"country", L("GB")}, BROKEN, "h", NULL, "<>", "<x@example.net>", -1},
    {{"not_country", L("GB")}, BROKEN, "h", NULL, "<>", "<x@example.net>", -1},
    /* asn */
    {{"asn", L("64500", "AS64502")}, US, "h", NULL, "<>", "<x@example.net>", 1},
    {{"asn", L("64500")}, NG, "h", NULL, "<>", "<x@example.net>", 0},
    {{"not_asn", L("64500")}, NG, "h", NULL, "<>", "<x@example.net>", 1},
    {{"not_asn", L("64500")}, GB, "h", NULL, "<>", "<x@example.net>", 0},
    {{"asn", L("64500")}, BROKEN, "h", NULL, "<>", "<x@example.net>", -1},
    /* "--": a client the database does not list; no number names it */
    {{"asn", L("--")}, NOWHERE, "h", NULL, "<>", "<x@example.net>", 1},
    {{"asn", L("--")}, US, "h", NULL, "<>", "<x@example.net>", 0},
    {{"asn", L("64500")}, NOWHERE, "h", NULL, "<>", "<x@example.net>", 0},
    {{"not_asn", L("--")}, NOWHERE, "h", NULL, "<>", "<x@example.net>", 0},
    /* helo: exact or ".suffix", no case */
    {{"helo", L("mx.example.net")}, GB, "MX.Example.NET", NULL, "<>", "<x@example.net>", 1},
    {{"helo", L(".dyn.example")}, GB, "a.b.dyn.example", NULL, "<>", "<x@example.net>", 1},
    {{"helo", L(".dyn.example")}, GB, "dyn.example", NULL, "<>", "<x@example.net>", 0},
    {{"not_helo", L(".dyn.example")}, GB, "mx.example.net", NULL, "<>", "<x@example.net>", 1},
    /* authenticated (a boolean) */
    {{"authenticated", {NULL}, true}, GB, "h", "alice", "<>", "<x@example.net>", 1},
    {{"authenticated", {NULL}, true}, GB, "h", NULL, "<>", "<x@example.net>", 0},
    {{"authenticated", {NULL}, false}, GB, "h", NULL, "<>", "<x@example.net>", 1},
    {{"authenticated", {NULL}, false}, GB, "h", "", "<>", "<x@example.net>", 1},
    /* login: exact, byte for byte */
    {{"login", L("alice", "bob@example.com")}, GB, "h", "alice", "<>", "<x@example.net>", 1},
    {{"login", L("alice")}, GB, "h", "Alice", "<>", "<x@example.net>", 0},
    {{"login", L("bob@example.com")}, GB, "h", "bob@example.com", "<>", "<x@example.net>", 1},
    {{"not_login", L("alice")}, GB, "h", "bob", "<>", "<x@example.net>", 1},
    {{"not_login", L("alice")}, GB, "h", "alice", "<>", "<x@example.net>", 0},
    /* sender: address, @domain, <> */
    {{"sender", L("a@b.example")}, GB, "h", NULL, "<A@B.example>", "<x@example.net>", 1},
    {{"sender", L("@b.example")}, GB, "h", NULL, "<z@b.example>", "<x@example.net>", 1},
    {{"sender", L("@b.example")}, GB, "h", NULL, "<z@c.b.example>", "<x@example.net>", 0},
    {{"sender", L("<>")}, GB, "h", NULL, "<>", "<x@example.net>", 1},
    {{"not_sender", L("<>")}, GB, "h", NULL, "<>", "<x@example.net>", 0},
    {{"not_sender", L("@b.example")}, GB, "h", NULL, "<z@c.example>", "<x@example.net>", 1},
    /* recipient_domain */
    {{"recipient_domain", L("example.net")}, GB, "h", NULL, "<>", "<x@example.net>", 1},
    {{"recipient_domain", L(".example.net")}, GB, "h", NULL, "<>", "<x@a.example.net>", 1},
    {{"recipient_domain", L("example.net")}, GB, "h", NULL, "<>", "<x@example.org>", 0},
    {{"not_recipient_domain", L("example.net")}, GB, "h", NULL, "<>", "<x@example.org>", 1},
    /* every list of domains takes the same names: UTF-8, A-labels, a trailing dot (issue 11) */
    {{"sender", L("@example.org.")}, GB, "h", NULL, "<z@example.org>", "<x@example.net>", 1},
    {{"sender", L("Z@Example.ORG.")}, GB, "h", NULL, "<z@example.org>", "<x@example.net>", 1},
    {{"sender",
	 L("@b\xc3\xbc"
	   "cher.example")},
	GB, "h", NULL, "<z@xn--bcher-kva.example>", "<x@example.net>", 1},
    {{"sender", L("@xn--bcher-kva.example")}, GB, "h", NULL,
	"<z@b\xc3\xbc"
	"cher.example>",
	"<x@example.net>", 1},
    {{"sender", L("\"z\"@example.org")}, GB, "h", NULL, "<z@example.org>", "<x@example.net>", 1},
    {{"recipient_domain",
	 L("b\xc3\xbc"
	   "cher.example")},
	GB, "h", NULL, "<>", "<x@xn--bcher-kva.example>", 1},
    {{"recipient_domain",
	 L(".B\xc3\xbc"
	   "cher.example.")},
	GB, "h", NULL, "<>", "<x@a.xn--bcher-kva.example>", 1},
    {{"helo",
	 L("b\xc3\xbc"
	   "cher.example")},
	GB, "xn--bcher-kva.example", NULL, "<>", "<x@example.net>", 1},
    {{"helo", L("xn--bcher-kva.example")}, GB,
	"B\xc3\xbc"
	"cher.example",
	NULL, "<>", "<x@example.net>", 1},
    {{"helo", L("mx.example.net.")}, GB, "mx.example.net", NULL, "<>", "<x@example.net>", 1},
    {{"helo", L("mx.example.net")}, GB, "mx.example.net.", NULL, "<>", "<x@example.net>", 1},
    /* recipient_local (a boolean) */
    {{"recipient_local", {NULL}, true}, GB, "h", NULL, "<>", "<x@example.com>", 1},
    {{"recipient_local", {NULL}, true}, GB, "h", NULL, "<>", "<x@example.net>", 0},
    {{"recipient_local", {NULL}, false}, GB, "h", NULL, "<>", "<x@example.net>", 1},
};

/* decide - one recipient through a policy */
static void decide(const struct policy *p, const char *client, const char *helo, const char *login,
    const char *sender, const char *rcpt, struct verdict *v)
{
	struct ipaddr ip;
	struct facts f = {0};

	ck_assert(ipaddr_parse(client, &ip) == 0);
	f.client = &ip;
	f.helo = helo;
	f.login = login;
	f.sender = sender;
	f.rcpt = rcpt;
	policy_decide(p, &f, v, NULL);
}

START_TEST(test_condition)
{
	const struct row *r = &rows[_i];
	struct policy *p = tp_policy();
	struct verdict v;
	int got;

	p->geo = &fakegeo;
	tp_rule(p, "r", ACTION_REJECT, "554 5.7.1 hit", &r->cond, 1);
	decide(p, r->client, r->helo, r->login, r->sender, r->rcpt, &v);
	got = strcmp(v.rule, "r") != 0 ? 0 : v.action == ACTION_TEMPFAIL ? -1 : 1;
	ck_assert_msg(got == r->want,
	    "row %d %s%s%s client %s: got %d (rule=%s reason=%s), want %d", _i, r->cond.key,
	    r->cond.items[0] ? " " : "", r->cond.items[0] ? r->cond.items[0] : "", r->client, got,
	    v.rule, v.reason, r->want);
	if (got == 1)
		ck_assert(v.code == 554 && strcmp(v.text, "hit") == 0);
	if (got == -1)
		ck_assert(v.code == 451 && strcmp(v.reason, "lookup-failure") == 0);
	policy_free(p);
}
END_TEST

/* Each action, with its default reply and with a reply of its own. */
START_TEST(test_actions)
{
	static const struct tp_cond outside = {"not_network", {"192.0.2.0/24", NULL}, false};
	static const struct tp_cond bulk = {"login", {"bulk", NULL}, false};
	struct policy *p = tp_policy();
	struct verdict v;

	tp_rule(p, "audit", ACTION_CONTINUE, NULL, &outside, 1);
	tp_rule(p, "bulk-later", ACTION_TEMPFAIL, NULL, &bulk, 1);
	tp_rule(p, "partners", ACTION_ACCEPT, NULL,
	    &(struct tp_cond){"network", {"203.0.113.0/25", NULL}, false}, 1);
	tp_rule(p, "spammers", ACTION_REJECT, NULL,
	    &(struct tp_cond){"network", {"203.0.113.128/25", NULL}, false}, 1);
	/* accept: this recipient, even to a remote domain */
	decide(p, GB, "h", NULL, "<>", "<x@example.net>", &v);
	ck_assert(v.action == ACTION_ACCEPT && v.code == 250 && strcmp(v.rule, "partners") == 0);
	/* reject with the default reply */
	decide(p, NG, "h", NULL, "<>", "<x@example.com>", &v);
	ck_assert(v.action == ACTION_REJECT && v.code == 550 && strcmp(v.rule, "spammers") == 0);
	ck_assert_str_eq(v.text, "<x@example.com>: Relay access denied");
	/* tempfail with the default reply */
	decide(p, US, "h", "bulk", "<>", "<x@example.net>", &v);
	ck_assert(
	    v.action == ACTION_TEMPFAIL && v.code == 451 && strcmp(v.rule, "bulk-later") == 0);
	ck_assert_str_eq(v.ecode, "4.7.1");
	/* continue: logged in the trace, judging goes on to the core */
	{
		struct trace t;
		struct ipaddr ip;
		struct facts f = {0};

		ipaddr_parse(US, &ip);
		f.client = &ip;
		f.sender = "<>";
		f.rcpt = "<x@example.com>";
		policy_decide(p, &f, &v, &t);
		ck_assert(v.action == ACTION_ACCEPT && strcmp(v.rule, "local-domain") == 0);
		ck_assert(
		    t.n >= 1 && strcmp(t.steps[0].rule, "audit") == 0 && t.steps[0].result == 1);
	}
	policy_free(p);
	/* replies of their own */
	p = tp_policy();
	tp_rule(p, "no", ACTION_REJECT, "554 5.7.1 Not from %c to %r", &bulk, 1);
	tp_rule(p, "later", ACTION_TEMPFAIL, "452 4.3.2 Busy", &outside, 1);
	decide(p, GB, "h", "bulk", "<>", "<x@example.net>", &v);
	ck_assert_str_eq(v.text, "Not from 203.0.113.9 to x@example.net");
	ck_assert_int_eq(v.code, 554);
	decide(p, GB, "h", NULL, "<>", "<x@example.net>", &v);
	ck_assert(v.code == 452 && strcmp(v.ecode, "4.3.2") == 0 && strcmp(v.text, "Busy") == 0);
	policy_free(p);
}
END_TEST

/*
 * A rule whose lookup fails decides no more than its action could: a
 * log-only rule nothing (it used to answer 451 to all mail, trusted
 * clients and local recipients included), an accept rule does not accept.
 */
START_TEST(test_failed_lookup_bounded_by_action)
{
	static const struct tp_cond country = {"country", {"GB", NULL}, false};
	struct policy *p = tp_policy();
	struct verdict v;

	p->geo = &fakegeo;
	tp_rule(p, "audit-gb", ACTION_CONTINUE, NULL, &country, 1);
	decide(p, BROKEN, "h", NULL, "<>", "<x@example.com>", &v);
	ck_assert_msg(v.action == ACTION_ACCEPT && strcmp(v.rule, "local-domain") == 0,
	    "continue rule, local recipient: got %s rule=%s", action_name(v.action), v.rule);
	decide(p, BROKEN, "h", NULL, "<>", "<x@example.net>", &v);
	ck_assert_msg(v.action == ACTION_REJECT && strcmp(v.rule, "default-deny") == 0,
	    "continue rule, relay attempt: got %s rule=%s", action_name(v.action), v.rule);
	policy_free(p);
	p = tp_policy();
	p->geo = &fakegeo;
	tp_rule(p, "partners-gb", ACTION_ACCEPT, NULL, &country, 1);
	decide(p, BROKEN, "h", NULL, "<>", "<x@example.net>", &v);
	ck_assert_msg(v.action == ACTION_REJECT && strcmp(v.rule, "default-deny") == 0,
	    "accept rule: got %s rule=%s", action_name(v.action), v.rule);
	decide(p, BROKEN, "h", NULL, "<>", "<x@example.com>", &v);
	ck_assert(v.action == ACTION_ACCEPT && strcmp(v.rule, "local-domain") == 0);
	policy_free(p);
}
END_TEST

/*
 * A condition that rules the client out spares the lookup: an
 * unauthenticated client never needs the database for
 * "authenticated = true; country = [...]".
 */
START_TEST(test_lookup_only_when_needed)
{
	static const struct tp_cond conds[] = {{"authenticated", {NULL}, true},
	    {"country", {"KP", NULL}, false}};
	struct policy *p = tp_policy();
	struct verdict v;

	p->geo = &fakegeo;
	tp_rule(p, "sanctioned", ACTION_REJECT, NULL, conds, 2);
	decide(p, BROKEN, "h", NULL, "<>", "<x@example.com>", &v);
	ck_assert(v.action == ACTION_ACCEPT && strcmp(v.rule, "local-domain") == 0);
	decide(p, BROKEN, "h", "alice", "<>", "<x@example.com>", &v);
	ck_assert(v.action == ACTION_TEMPFAIL && strcmp(v.rule, "sanctioned") == 0);
	policy_free(p);
}
END_TEST

/* AS numbers outside 1..4294967295 are refused, and "--" is the only unknown. */
START_TEST(test_asn_range)
{
	static const char *const bad[] = {"0", "AS0", "as0", "4294967296", "AS4294967296", "-1",
	    "-5", "99999999999999999999999", "0x100000000", "AS", ""};
	static const char *const good[] = {"1", "AS1", "64500", "AS4200000000", "4294967295", "--"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *items[] = {bad[i], NULL};
		struct cond_value v = {.is_list = true, .items = items, .n = 1};
		struct cond c = {0};
		const char *why = NULL;
		size_t item = 0;
		bool neg;

		c.type = cond_type_find("asn", &neg);
		ck_assert_msg(c.type->compile(&c, &v, &why, &item) < 0,
		    "asn \"%s\": got accepted, want refused", bad[i]);
		c.type->free(&c);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *items[] = {good[i], NULL};
		struct cond_value v = {.is_list = true, .items = items, .n = 1};
		struct cond c = {0};
		const char *why = NULL;
		size_t item = 0;
		bool neg;

		c.type = cond_type_find("asn", &neg);
		ck_assert_msg(c.type->compile(&c, &v, &why, &item) == 0, "asn \"%s\": got %s",
		    good[i], why);
		c.type->free(&c);
	}
}
END_TEST

/* A sender pattern that could never match a parsed sender is refused. */
START_TEST(test_sender_refused)
{
	static const char *const bad[] = {"@[192.0.2.1]", "a@[192.0.2.1]", "@", "a@",
	    "@exa mple.com", "@example\xe3\x80\x82\x63om", /* U+3002 then "com" */
	    "@example..com", "a@b@", "plain"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *items[] = {bad[i], NULL};
		struct cond_value v = {.is_list = true, .items = items, .n = 1};
		struct cond c = {0};
		const char *why = NULL;
		size_t item = 0;
		bool neg;

		c.type = cond_type_find("sender", &neg);
		ck_assert_msg(c.type->compile(&c, &v, &why, &item) < 0,
		    "sender \"%s\": got accepted, want refused", bad[i]);
		c.type->free(&c);
	}
}
END_TEST

/*
 * A condition judges an address as the core does: the form sent and the
 * MTA's resolution both, and a routing trick is never surely local. Doubt
 * keeps an accept rule from matching and lets a reject rule match.
 */
struct view_row {
	enum action action;
	struct tp_cond cond;
	const char *login, *sender, *rcpt, *rcpt_mta, *mailer, *origin;
	int want; /* 1 the rule decides, 0 it does not */
};

#define PCT "<user%remote.test@example.com>"

static const struct view_row view_rows[] = {
    /* the issue's open relay: Postfix resolves the percent hack to smtp */
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", PCT, "user@remote.test",
	"smtp", NULL, 0},
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", PCT, NULL, NULL, NULL, 0},
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", PCT, PCT, "local", NULL, 0},
    {ACTION_ACCEPT, {"not_recipient_domain", L("remote.test")}, NULL, "<>", PCT, "user@remote.test",
	"smtp", NULL, 0},
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", "<x@example.com>",
	"x@example.net", "smtp", NULL, 0},
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", "<x@example.com>",
	"x@example.com", "local", NULL, 1},
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", "<x@example.com>", "x",
	"local", NULL, 1},
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", "<x>", "x@example.com",
	"local", NULL, 1},
    {ACTION_ACCEPT, {"recipient_domain", L("example.com")}, NULL, "<>", "<x>", NULL, NULL, NULL, 0},
    {ACTION_ACCEPT, {"not_recipient_domain", L("example.net")}, NULL, "<>", "<x>", NULL, NULL, NULL,
	0},
    /* a reject rule still stops a logged-in user who writes the same forms */
    {ACTION_REJECT, {"recipient_domain", L("remote.test")}, "alice", "<>", PCT, "user@remote.test",
	"smtp", NULL, 1},
    {ACTION_REJECT, {"recipient_domain", L("remote.test")}, "alice", "<>", PCT, NULL, NULL, NULL,
	1},
    {ACTION_REJECT, {"not_recipient_domain", L("example.com")}, "alice", "<>", PCT,
	"user@remote.test", "smtp", NULL, 1},
    {ACTION_REJECT, {"recipient_domain", L("remote.test")}, "alice", "<>", "<x@example.com>",
	"x@example.com", "local", NULL, 0},
    /* ... where each trick leads counts, and only that: other domains are not matched */
    {ACTION_REJECT, {"recipient_domain", L("other.test")}, "alice", "<>", PCT, "user@remote.test",
	"smtp", NULL, 0},
    {ACTION_REJECT, {"recipient_domain", L("other.test")}, "alice", "<>", PCT, NULL, NULL, NULL, 0},
    {ACTION_REJECT, {"recipient_domain", L("remote.test")}, "alice", "<>",
	"<remote.test!user@example.com>", NULL, NULL, NULL, 1},
    {ACTION_REJECT, {"recipient_domain", L("remote.test")}, "alice", "<>",
	"<\"user@remote.test\"@example.com>", NULL, NULL, NULL, 1},
    {ACTION_REJECT, {"recipient_domain", L("remote.test")}, "alice", "<>", "<remote.test!user>",
	NULL, NULL, NULL, 1},
    {ACTION_REJECT, {"recipient_domain", L("other.test")}, "alice", "<>", "<user%@example.com>",
	NULL, NULL, NULL, 1},
    {ACTION_ACCEPT, {"recipient_domain", L("remote.test")}, NULL, "<>",
	"<remote.test!user@example.com>", NULL, NULL, NULL, 0},
    /* an unqualified sender is judged as the MTA will deliver it */
    {ACTION_ACCEPT, {"sender", L("@example.com")}, NULL, "<alice>", "<x@example.net>", NULL, NULL,
	NULL, 0},
    {ACTION_ACCEPT, {"not_sender", L("@example.net")}, NULL, "<alice>", "<x@example.net>", NULL,
	NULL, NULL, 0},
    {ACTION_ACCEPT, {"sender", L("@example.com")}, NULL, "<alice>", "<x@example.net>", NULL, NULL,
	"example.com", 1},
    {ACTION_ACCEPT, {"sender", L("@example.com")}, NULL, "<alice>", "<x@example.net>", NULL, NULL,
	"example.org", 0},
    {ACTION_REJECT, {"sender", L("@example.org")}, NULL, "<alice>", "<x@example.net>", NULL, NULL,
	"example.org", 1},
    {ACTION_REJECT, {"sender", L("alice@example.org")}, NULL, "<alice>", "<x@example.net>", NULL,
	NULL, NULL, 1},
    {ACTION_ACCEPT, {"not_sender", L("@example.net")}, NULL, "<unterminated@example.org",
	"<x@example.net>", NULL, NULL, NULL, 0},
    {ACTION_REJECT, {"sender", L("@example.net")}, NULL, "<unterminated@example.org",
	"<x@example.net>", NULL, NULL, NULL, 1},
};

START_TEST(test_resolved_view)
{
	const struct view_row *r = &view_rows[_i];
	struct policy *p = tp_policy();
	struct ipaddr ip;
	struct facts f = {0};
	struct verdict v;

	tp_rule(p, "r", r->action, NULL, &r->cond, 1);
	if (r->origin != NULL)
		p->sender_origin = strdup(r->origin);
	ck_assert(ipaddr_parse(GB, &ip) == 0);
	f.client = &ip;
	f.login = r->login;
	f.sender = r->sender;
	f.rcpt = r->rcpt;
	f.rcpt_mta = r->rcpt_mta;
	f.rcpt_mailer = r->mailer;
	policy_decide(p, &f, &v, NULL);
	ck_assert_msg((strcmp(v.rule, "r") == 0) == (r->want == 1),
	    "row %d %s %s %s sender %s rcpt %s mta %s: got rule=%s %s reason=%s, want the "
	    "rule %s",
	    _i, action_name(r->action), r->cond.key, r->cond.items[0], r->sender, r->rcpt,
	    r->rcpt_mta ? r->rcpt_mta : "-", v.rule, action_name(v.action), v.reason,
	    r->want ? "to decide" : "not to decide");
	/* whatever the rules did, an untrusted outsider never relays a trick */
	if (r->login == NULL && strcmp(r->rcpt, PCT) == 0)
		ck_assert_msg(v.action != ACTION_ACCEPT || strcmp(v.rule, "r") == 0,
		    "row %d: got %s by %s", _i, action_name(v.action), v.rule);
	policy_free(p);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, test_condition, 0, sizeof(rows) / sizeof(rows[0]));
	tcase_add_test(tc, test_actions);
	tcase_add_test(tc, test_lookup_only_when_needed);
	tcase_add_test(tc, test_failed_lookup_bounded_by_action);
	tcase_add_test(tc, test_asn_range);
	tcase_add_test(tc, test_sender_refused);
	tcase_add_loop_test(tc, test_resolved_view, 0, sizeof(view_rows) / sizeof(view_rows[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(rules_suite)
