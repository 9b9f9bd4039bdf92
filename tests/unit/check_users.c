/*
 * check_users.c - per-login settings: the users table, sender ownership in
 * its three settings (and the null sender choice), relay = false, and the
 * per-login country limit, through the engine with a fixed GeoIP table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fakegeo.h"
#include "policy.h"
#include "testpolicy.h"
#include "unit.h"
#include "users.h"

#define GB      "203.0.113.9"   /* GB */
#define NG      "203.0.113.200" /* NG */
#define NOWHERE "100.64.1.1"    /* not listed: "--" */
#define BROKEN  "100.64.0.66"   /* lookup fails */
#define TRUSTED "192.0.2.7"

/* users_policy - alice (GB, NG), bob, a login that is an address, bulk (no relay) */
static struct policy *users_policy(enum sender_ownership so)
{
	struct policy *p = tp_policy();
	struct user *u;
	const char *why = NULL;

	p->geo = &fakegeo;
	p->sender_ownership = so;
	p->no_client = NO_CLIENT_TRUSTED; /* the no-client rows judge a local submission */
	ck_assert_ptr_nonnull(p->users = users_new());
	ck_assert_ptr_nonnull(u = users_add(p->users, "alice", &why));
	ck_assert(users_add_sender(p->users, u, "alice@example.com", &why) == 0);
	ck_assert(users_add_sender(p->users, u, "@example.org", &why) == 0);
	ck_assert(users_add_country(u, "GB", &why) == 0);
	ck_assert(users_add_country(u, "NG", &why) == 0);
	ck_assert_ptr_nonnull(u = users_add(p->users, "bob", &why));
	ck_assert(users_add_sender(p->users, u, "Bob@Example.COM", &why) == 0);
	ck_assert(users_add_sender(p->users, u, "@example.org", &why) == 0);
	ck_assert_ptr_nonnull(u = users_add(p->users, "carol@example.net", &why));
	ck_assert(users_add_sender(p->users, u, "carol@bücher.example", &why) == 0);
	ck_assert(users_add_country(u, "--", &why) == 0);
	ck_assert_ptr_nonnull(u = users_add(p->users, "bulk", &why));
	ck_assert(users_add_sender(p->users, u, "@bulk.example", &why) == 0);
	u->relay = false;
	users_finish(p->users);
	return p;
}

static void decide(const struct policy *p, const char *client, const char *login,
    const char *sender, const char *rcpt, struct verdict *v)
{
	struct ipaddr ip;
	struct geo_cache gc = {0};
	struct facts f = {.geo = &gc};

	if (client != NULL) {
		ck_assert(ipaddr_parse(client, &ip) == 0);
		f.client = &ip;
	}
	f.login = login;
	f.sender = sender;
	f.rcpt = rcpt;
	policy_decide(p, &f, v, NULL);
}

/* The table itself: hashed lookups, exact logins, ownership by address and domain. */
START_TEST(test_table)
{
	struct policy *p = users_policy(SENDER_OWNERSHIP_OFF);
	const struct user *alice = users_find(p->users, "alice");
	const struct user *bob = users_find(p->users, "bob");
	struct user *u;
	struct addr a;
	const char *why = NULL;

	ck_assert_ptr_nonnull(alice);
	ck_assert_ptr_null(users_find(p->users, "Alice"));
	ck_assert_ptr_null(users_find(p->users, "alice "));
	ck_assert_ptr_nonnull(users_find(p->users, "carol@example.net"));
	ck_assert_uint_eq(users_count(p->users), 4);
	addr_parse("<ALICE@example.COM>", &a);
	ck_assert(users_owns(p->users, alice, &a) && !users_owns(p->users, bob, &a));
	addr_parse("<anyone@example.org>", &a);
	ck_assert(users_owns(p->users, alice, &a) && users_owns(p->users, bob, &a));
	addr_parse("<x@sub.example.org>", &a);
	ck_assert(!users_owned(p->users, &a));
	addr_parse("<carol@xn--bcher-kva.example>", &a);
	ck_assert(users_owns(p->users, users_find(p->users, "carol@example.net"), &a));
	addr_parse("<>", &a);
	ck_assert(!users_owned(p->users, &a));
	ck_assert(users_country_ok(alice, "NG") && !users_country_ok(alice, "US") &&
	    !users_country_ok(alice, "--") && users_country_ok(bob, "US"));
	/* refused patterns and duplicates */
	u = users_get(p->users, "dave", &why);
	ck_assert(users_add_sender(p->users, u, "dave", &why) < 0);
	ck_assert(users_add_sender(p->users, u, "@", &why) < 0);
	ck_assert(users_add_sender(p->users, u, "a%b@example.com", &why) < 0);
	ck_assert(users_add_sender(p->users, u, "x@[192.0.2.1]", &why) < 0);
	ck_assert(users_add_country(u, "gb", &why) < 0);
	ck_assert_ptr_null(users_add(p->users, "alice", &why));
	ck_assert_str_eq(why, "login listed twice");
	ck_assert_ptr_eq(users_get(p->users, "alice", &why), alice);
	policy_free(p);
}
END_TEST

/* One sender-ownership case: setting, client, login, sender -> verdict. */
struct own_row {
	enum sender_ownership so;
	bool null_reject;
	const char *client, *login, *sender, *rcpt;
	enum action want;
	int code;
	const char *rule, *reason, *text;
};

#define OFF  SENDER_OWNERSHIP_OFF
#define AUTH SENDER_OWNERSHIP_AUTHENTICATED
#define ALL  SENDER_OWNERSHIP_EVERYONE
#define RA   ACTION_ACCEPT
#define RR   ACTION_REJECT

static const struct own_row own_rows[] = {
    /* off: anyone may use anything */
    {OFF, false, GB, "bob", "<alice@example.com>", "<x@example.net>", RA, 250, "authenticated",
	"authenticated", NULL},
    {OFF, false, GB, NULL, "<alice@example.com>", "<x@example.com>", RA, 250, "local-domain",
	"local", NULL},
    /* authenticated: a login uses only its own addresses, for every recipient */
    {AUTH, false, GB, "alice", "<alice@example.com>", "<x@example.net>", RA, 250, "authenticated",
	"authenticated", NULL},
    {AUTH, false, GB, "alice", "<Alice@EXAMPLE.com>", "<x@example.net>", RA, 250, "authenticated",
	"authenticated", NULL},
    {AUTH, false, GB, "alice", "<anyone@example.org>", "<x@example.net>", RA, 250, "authenticated",
	"authenticated", NULL},
    {AUTH, false, GB, "bob", "<alice@example.com>", "<x@example.net>", RR, 553, "sender-ownership",
	"sender-not-owned", "<alice@example.com>: Sender address rejected: not owned by user bob"},
    {AUTH, false, GB, "bob", "<alice@example.com>", "<x@example.com>", RR, 553, "sender-ownership",
	"sender-not-owned", NULL},
    {AUTH, false, TRUSTED, "bob", "<alice@example.com>", "<x@example.net>", RR, 553,
	"sender-ownership", "sender-not-owned", NULL},
    {AUTH, false, GB, "nobody", "<nobody@example.com>", "<x@example.net>", RR, 553,
	"sender-ownership", "sender-not-owned",
	"<nobody@example.com>: Sender address rejected: not owned by user nobody"},
    {AUTH, false, GB, "alice", "<alice@sub.example.org>", "<x@example.net>", RR, 553,
	"sender-ownership", "sender-not-owned", NULL},
    {AUTH, false, GB, "alice", "<alice>", "<x@example.net>", RR, 553, "sender-ownership",
	"sender-not-owned", NULL},
    /* ... an unauthenticated client is not checked */
    {AUTH, false, GB, NULL, "<alice@example.com>", "<x@example.com>", RA, 250, "local-domain",
	"local", NULL},
    /* the null sender from an authenticated client: allowed, or refused */
    {AUTH, false, GB, "alice", "<>", "<x@example.net>", RA, 250, "authenticated", "authenticated",
	NULL},
    {AUTH, true, GB, "alice", "<>", "<x@example.net>", RR, 553, "sender-ownership", "null-sender",
	"<>: Sender address rejected: not owned by user alice"},
    {ALL, true, GB, NULL, "<>", "<x@example.com>", RA, 250, "local-domain", "local", NULL},
    /* everyone: an outside, unauthenticated client may not use an owned address */
    {ALL, false, GB, NULL, "<alice@example.com>", "<x@example.com>", RR, 553, "sender-ownership",
	"sender-not-owned", "<alice@example.com>: Sender address rejected: not logged in"},
    {ALL, false, GB, NULL, "<someone@example.org>", "<x@example.com>", RR, 553, "sender-ownership",
	"sender-not-owned", NULL},
    {ALL, false, GB, NULL, "<stranger@example.net>", "<x@example.com>", RA, 250, "local-domain",
	"local", NULL},
    {ALL, false, TRUSTED, NULL, "<alice@example.com>", "<x@example.net>", RA, 250,
	"trusted-network", "trusted", NULL},
    {ALL, false, NULL, NULL, "<alice@example.com>", "<x@example.net>", RA, 250, "trusted-network",
	"no-client", NULL},
    {ALL, false, GB, "bob", "<bob@example.com>", "<x@example.net>", RA, 250, "authenticated",
	"authenticated", NULL},
    {ALL, false, GB, "bob", "<alice@example.com>", "<x@example.net>", RR, 553, "sender-ownership",
	"sender-not-owned", NULL},
    /* an @ inside a quoted local part does not hide the owned domain */
    {ALL, false, GB, NULL, "<\"bob@x\"@example.org>", "<x@example.com>", RR, 553,
	"sender-ownership", "sender-not-owned", NULL},
    /* a sender we cannot parse cannot be shown unowned: refused in "everyone" */
    {ALL, false, GB, NULL, "<unterminated@example.org", "<x@example.com>", RR, 553,
	"sender-ownership", "sender-unverifiable",
	"<<unterminated@example.org>: Sender address rejected: cannot tell who owns it"},
    {AUTH, false, GB, NULL, "<unterminated@example.org", "<x@example.com>", RA, 250, "local-domain",
	"local", NULL},
    /* a bare sender the MTA qualifies with an origin we do not know: refused in "everyone" */
    {ALL, false, GB, NULL, "<alice>", "<x@example.com>", RR, 553, "sender-ownership",
	"sender-unverifiable", "<alice>: Sender address rejected: cannot tell who owns it"},
    {ALL, false, GB, NULL, "<\"alice\">", "<x@example.com>", RR, 553, "sender-ownership",
	"sender-unverifiable", NULL},
    {AUTH, false, GB, "alice", "<alice>", "<x@example.net>", RR, 553, "sender-ownership",
	"sender-not-owned", NULL},
};

START_TEST(test_ownership)
{
	const struct own_row *r = &own_rows[_i];
	struct policy *p = users_policy(r->so);
	struct verdict v;

	p->null_sender_reject = r->null_reject;
	decide(p, r->client, r->login, r->sender, r->rcpt, &v);
	ck_assert_msg(v.action == r->want && v.code == r->code && strcmp(v.rule, r->rule) == 0 &&
		strcmp(v.reason, r->reason) == 0,
	    "row %d %s as %s: got %s %d rule=%s reason=%s, want %s %d rule=%s reason=%s", _i,
	    r->sender, r->login ? r->login : "-", action_name(v.action), v.code, v.rule, v.reason,
	    action_name(r->want), r->code, r->rule, r->reason);
	if (r->text != NULL)
		ck_assert_str_eq(v.text, r->text);
	if (v.action == ACTION_REJECT && r->code == 553)
		ck_assert_str_eq(v.ecode, "5.7.1");
	policy_free(p);
}
END_TEST

/* A rule runs before the ownership check: it may accept or refuse first. */
/*
 * MAIL FROM:<alice> is delivered as alice@$myorigin: with sender_origin
 * set it is judged as that address, and {mail_addr} counts as well.
 */
START_TEST(test_sender_origin)
{
	static const struct {
		enum sender_ownership so;
		const char *login, *sender, *mail_addr, *origin;
		enum action want;
		const char *reason;
	} cases[] = {
	    {SENDER_OWNERSHIP_EVERYONE, NULL, "<alice>", NULL, "example.com", ACTION_REJECT,
		"sender-not-owned"},
	    {SENDER_OWNERSHIP_EVERYONE, NULL, "<alice>", "alice", "example.com", ACTION_REJECT,
		"sender-not-owned"},
	    {SENDER_OWNERSHIP_EVERYONE, NULL, "<carol>", NULL, "example.com", ACTION_ACCEPT,
		"local"},
	    {SENDER_OWNERSHIP_EVERYONE, NULL, "<x@example.net>", "alice@example.com", NULL,
		ACTION_REJECT, "sender-not-owned"},
	    {SENDER_OWNERSHIP_EVERYONE, NULL, "<>", "", NULL, ACTION_ACCEPT, "local"},
	    {SENDER_OWNERSHIP_AUTHENTICATED, "alice", "<alice>", NULL, "example.com", ACTION_ACCEPT,
		"authenticated"},
	    {SENDER_OWNERSHIP_AUTHENTICATED, "bob", "<alice>", NULL, "example.com", ACTION_REJECT,
		"sender-not-owned"},
	    {SENDER_OWNERSHIP_AUTHENTICATED, "alice", "<alice@example.com>", "bob@example.com",
		NULL, ACTION_REJECT, "sender-not-owned"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = users_policy(cases[i].so);
		struct ipaddr ip;
		struct geo_cache gc = {0};
		struct facts f = {.geo = &gc};
		struct verdict v;

		if (cases[i].origin != NULL)
			p->sender_origin = strdup(cases[i].origin);
		ck_assert(ipaddr_parse(GB, &ip) == 0);
		f.client = &ip;
		f.login = cases[i].login;
		f.sender = cases[i].sender;
		f.sender_mta = cases[i].mail_addr;
		f.rcpt = cases[i].login ? "<x@example.net>" : "<x@example.com>";
		policy_decide(p, &f, &v, NULL);
		ck_assert_msg(v.action == cases[i].want && strcmp(v.reason, cases[i].reason) == 0,
		    "case %zu %s as %s (mail_addr %s, origin %s): got %s reason=%s, want %s "
		    "reason=%s",
		    i, cases[i].sender, cases[i].login ? cases[i].login : "-",
		    cases[i].mail_addr ? cases[i].mail_addr : "-",
		    cases[i].origin ? cases[i].origin : "-", action_name(v.action), v.reason,
		    action_name(cases[i].want), cases[i].reason);
		policy_free(p);
	}
}
END_TEST

START_TEST(test_rules_first)
{
	static const struct tp_cond c = {"login", {"bob", NULL}, false};
	struct policy *p = users_policy(SENDER_OWNERSHIP_AUTHENTICATED);
	struct verdict v;

	tp_rule(p, "bob-anything", ACTION_ACCEPT, NULL, &c, 1);
	decide(p, GB, "bob", "<alice@example.com>", "<x@example.net>", &v);
	ck_assert(v.action == ACTION_ACCEPT && strcmp(v.rule, "bob-anything") == 0);
	/* dry-run: the refusal is reported, not enforced */
	p->dry_run = true;
	decide(p, GB, "alice", "<bob@example.com>", "<x@example.net>", &v);
	ck_assert(
	    v.action == ACTION_REJECT && v.dry_run && strcmp(v.rule, "sender-ownership") == 0);
	policy_free(p);
}
END_TEST

/* Per-login relay rights and countries. */
struct relay_row {
	const char *client, *login, *rcpt;
	enum action want;
	int code;
	const char *rule, *reason, *text;
};

static const struct relay_row relay_rows[] = {
    /* alice may relay from GB and NG only */
    {GB, "alice", "<x@example.net>", RA, 250, "authenticated", "authenticated", NULL},
    {NG, "alice", "<x@example.net>", RA, 250, "authenticated", "authenticated", NULL},
    {"198.51.100.7", "alice", "<x@example.net>", RR, 550, "authenticated", "login-country",
	"<x@example.net>: Relay access denied: login alice may not relay from US"},
    {NOWHERE, "alice", "<x@example.net>", RR, 550, "authenticated", "login-country",
	"<x@example.net>: Relay access denied: login alice may not relay from --"},
    /* a lookup failure is a temporary failure, never a guess */
    {BROKEN, "alice", "<x@example.net>", ACTION_TEMPFAIL, 451, "authenticated", "lookup-failure",
	NULL},
    /* local recipients and trusted networks do not depend on the login */
    {"198.51.100.7", "alice", "<x@example.com>", RA, 250, "local-domain", "local", NULL},
    {BROKEN, "alice", "<x@example.com>", RA, 250, "local-domain", "local", NULL},
    {TRUSTED, "alice", "<x@example.net>", RA, 250, "trusted-network", "trusted", NULL},
    /* carol may relay only from unlisted (private) addresses: "--" */
    {NOWHERE, "carol@example.net", "<x@example.net>", RA, 250, "authenticated", "authenticated",
	NULL},
    {GB, "carol@example.net", "<x@example.net>", RR, 550, "authenticated", "login-country", NULL},
    /* bob: no limits; bulk: no relaying at all */
    {BROKEN, "bob", "<x@example.net>", RA, 250, "authenticated", "authenticated", NULL},
    {GB, "bulk", "<x@example.net>", RR, 550, "authenticated", "login-no-relay",
	"<x@example.net>: Relay access denied: login bulk may not relay"},
    {GB, "bulk", "<x@example.com>", RA, 250, "local-domain", "local", NULL},
    {TRUSTED, "bulk", "<x@example.net>", RA, 250, "trusted-network", "trusted", NULL},
    /* a login not listed keeps the plain authenticated relay */
    {GB, "zed", "<x@example.net>", RA, 250, "authenticated", "authenticated", NULL},
    /* a bad recipient is still a bad recipient */
    {GB, "bulk", "<not an address>", RR, 501, "default-deny", "invalid-address", NULL},
};

START_TEST(test_relay_limits)
{
	const struct relay_row *r = &relay_rows[_i];
	struct policy *p = users_policy(SENDER_OWNERSHIP_OFF);
	struct verdict v;

	decide(p, r->client, r->login, "<>", r->rcpt, &v);
	ck_assert_msg(v.action == r->want && v.code == r->code && strcmp(v.rule, r->rule) == 0 &&
		strcmp(v.reason, r->reason) == 0,
	    "row %d %s from %s: got %s %d rule=%s reason=%s, want %s %d rule=%s reason=%s", _i,
	    r->login, r->client, action_name(v.action), v.code, v.rule, v.reason,
	    action_name(r->want), r->code, r->rule, r->reason);
	if (r->text != NULL)
		ck_assert_str_eq(v.text, r->text);
	policy_free(p);
}
END_TEST

/* authenticated_relay = false: relay = true does not give it back. */
START_TEST(test_relay_off)
{
	struct policy *p = users_policy(SENDER_OWNERSHIP_OFF);
	struct verdict v;

	p->authenticated_relay = false;
	decide(p, GB, "alice", "<>", "<x@example.net>", &v);
	ck_assert(v.action == ACTION_REJECT && strcmp(v.reason, "denied") == 0);
	policy_free(p);
}
END_TEST

/* With a database, every decision carries the client's country and ASN. */
START_TEST(test_geo_always_looked_up)
{
	struct policy *p = users_policy(SENDER_OWNERSHIP_OFF);
	struct ipaddr ip;
	struct geo_cache gc = {0};
	struct facts f = {.geo = &gc};
	struct verdict v;

	ipaddr_parse(NG, &ip);
	f.client = &ip;
	f.rcpt = "<x@example.com>";
	policy_decide(p, &f, &v, NULL);
	ck_assert(gc.done && strcmp(gc.info.country, "NG") == 0 && gc.info.asn == 64501);
	policy_free(p);
}
END_TEST

/* users and users_file load into one table; a login's lines add up. */
START_TEST(test_config)
{
	static const char text[] =
	    "users = ( { login = \"alice\"; senders = [ \"@example.org\" ]; },\n"
	    "  { login = \"bulk\"; relay = false; } );\n"
	    "users_file = \"" TEST_SRCDIR "/conf/lists/users.txt\";\n"
	    "sender_ownership = \"authenticated\";\n"
	    "null_sender_authenticated = \"reject\";\n";
	struct conf_errors errs = {0};
	const struct users *set;
	struct config *cfg;
	struct addr a;
	char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/rm-users-XXXXXX");
	ck_assert((fd = mkstemp(path)) >= 0);
	fchmod(fd, 0644);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	cfg = conf_load(path, &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	conf_errors_free(&errs);
	set = cfg->policy->users;
	ck_assert_uint_eq(users_count(set), 4);
	ck_assert(cfg->policy->sender_ownership == SENDER_OWNERSHIP_AUTHENTICATED &&
	    cfg->policy->null_sender_reject);
	ck_assert(!users_find(set, "bulk")->relay);
	addr_parse("<x@example.org>", &a);
	ck_assert(users_owns(set, users_find(set, "alice"), &a));
	addr_parse("<alice.smith@example.com>", &a);
	ck_assert(users_owns(set, users_find(set, "alice"), &a));
	addr_parse("<z@bob.example>", &a);
	ck_assert(users_owns(set, users_find(set, "bob@example.com"), &a));
	addr_parse("<bob@example.com>", &a);
	ck_assert(users_owns(set, users_find(set, "bob@example.com"), &a));
	addr_parse("<support@example.com>", &a);
	ck_assert(users_owns(set, users_find(set, "shared"), &a));
	ck_assert(!users_owns(set, users_find(set, "alice"), &a));
	conf_free(cfg);
	unlink(path);
}
END_TEST

static Suite *users_suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("users");

	tcase_add_test(tc, test_table);
	tcase_add_loop_test(tc, test_ownership, 0, sizeof(own_rows) / sizeof(own_rows[0]));
	tcase_add_test(tc, test_sender_origin);
	tcase_add_test(tc, test_rules_first);
	tcase_add_loop_test(tc, test_relay_limits, 0, sizeof(relay_rows) / sizeof(relay_rows[0]));
	tcase_add_test(tc, test_relay_off);
	tcase_add_test(tc, test_geo_always_looked_up);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(users_suite)
