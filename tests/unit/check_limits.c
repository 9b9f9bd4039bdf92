/*
 * check_limits.c - rate limits end to end below the milter: a configuration
 * loaded by the daemon's own loader, the engine's limits step, and the
 * embedded store on an injected clock (no test sleeps for a window).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "limits.h"
#include "memory.h"
#include "policy.h"
#include "store.h"
#include "unit.h"

static int64_t now_ms = 1700000000000LL;

static int64_t test_clock(void *arg)
{
	(void)arg;
	return now_ms;
}

/* load - a configuration from text (GeoIP: the test database) */
static struct config *load(const char *text)
{
	struct conf_errors errs = {0};
	struct config *cfg;
	char path[64];
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "/tmp/rm-limits-XXXXXX");
	ck_assert((fd = mkstemp(path)) >= 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	fprintf(fp,
	    "local_domains = [ \"example.com\" ];\ntrusted_networks = [ \"192.0.2.0/24\" ];\n"
	    "geoip = { country_db = \"%s/country.mmdb\"; };\n%s\n",
	    TEST_GEOIPDIR, text);
	fclose(fp);
	cfg = conf_load(path, &errs);
	ck_assert_msg(cfg != NULL, "load: %s", errs.n ? errs.msgs[0] : "?");
	conf_errors_free(&errs);
	unlink(path);
	return cfg;
}

/* A transaction as the callbacks carry it. */
struct tx {
	struct config *cfg;
	struct store *store;
	struct ipaddr client;
	struct geo_cache geo;
	struct facts f;
	struct limit_keys keys; /* the transaction's, as the daemon keeps them */
	struct verdict v;
};

static void tx_open(struct tx *t, struct config *cfg, struct store *store, const char *client,
    const char *login, const char *from)
{
	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->store = store;
	ck_assert(ipaddr_parse(client, &t->client) == 0);
	t->f.client = &t->client;
	t->f.helo = "client.example.net";
	t->f.login = login;
	t->f.sender = from;
	t->f.geo = &t->geo;
	t->f.store = store;
	limit_keys_reset(&t->keys);
	t->f.keys = &t->keys;
}

/* tx_rcpt - judge one recipient and carry the transaction on, as the daemon does */
static const struct verdict *tx_rcpt(struct tx *t, const char *rcpt)
{
	t->f.rcpt = rcpt;
	t->f.now = (time_t)(now_ms / 1000);
	policy_decide(t->cfg->policy, &t->f, &t->v, NULL);
	if (t->v.action == ACTION_ACCEPT || t->v.dry_run)
		t->f.rcpts_accepted++;
	t->f.msgs_counted = t->v.msgs_counted;
	return &t->v;
}

/* tx_new_message - the next MAIL FROM on the same connection */
static void tx_new_message(struct tx *t)
{
	t->f.rcpts_accepted = 0;
	t->f.msgs_counted = 0;
	limit_keys_reset(&t->keys);
}

static struct store *new_store(void)
{
	struct store *s = memory_store_new(1000, test_clock, NULL);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* ASSERT_VERDICT - v is evaluated once: it is often the decision itself */
#define ASSERT_VERDICT(v, act, cd, name, why) \
	assert_verdict((v), (act), (cd), (name), (why), __LINE__)
static void assert_verdict(const struct verdict *v, enum action act, int code, const char *name,
    const char *why, int line)
{
	ck_assert_msg(v->action == act && v->code == code && strcmp(v->rule, name) == 0 &&
		strcmp(v->reason, why) == 0,
	    "line %d: got %s %d rule=%s reason=%s, want %s %d %s %s", line, action_name(v->action),
	    v->code, v->rule, v->reason, action_name(act), code, name, why);
}

static const char *const login_hour =
    "limits = ( { name = \"login-hour\"; per = \"login\"; count = \"recipients\"; max = 5; "
    "window = \"1h\"; recipient_local = false; } );";

/* Exactly max accepted recipients, then 451 4.7.1; local mail is outside the scope. */
START_TEST(test_recipients_exact)
{
	struct config *cfg = load(login_hour);
	struct store *s = new_store();
	struct tx t;
	char rcpt[64];

	tx_open(&t, cfg, s, "203.0.113.9", "alice", "<alice@example.com>");
	for (int i = 1; i <= 8; i++) {
		snprintf(rcpt, sizeof(rcpt), "<r%d@example.net>", i);
		tx_rcpt(&t, rcpt);
		if (i <= 5)
			ASSERT_VERDICT(&t.v, ACTION_ACCEPT, 250, "authenticated", "authenticated");
		else
			ASSERT_VERDICT(&t.v, ACTION_TEMPFAIL, 451, "login-hour", "rate-limit");
	}
	ck_assert_str_eq(t.v.ecode, "4.7.1");
	ck_assert_str_eq(t.v.text, "<r8@example.net>: Rate limit exceeded, try again later");
	ck_assert_uint_eq(t.v.nlimits, 1);
	ck_assert_str_eq(t.v.limits[0].principal, "login:alice");
	ck_assert_uint_eq(t.v.limits[0].result.count, 5); /* refusals are not counted */
	tx_rcpt(&t, "<bob@example.com>");
	ASSERT_VERDICT(&t.v, ACTION_ACCEPT, 250, "local-domain", "local");
	ck_assert_uint_eq(t.v.nlimits, 0);
	/* another login has its own count */
	tx_open(&t, cfg, s, "203.0.113.9", "bob", "<bob@example.com>");
	ASSERT_VERDICT(tx_rcpt(&t, "<x@example.net>"), ACTION_ACCEPT, 250, "authenticated",
	    "authenticated");
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* A refused recipient is never counted, and a limit never accepts what the policy refused. */
START_TEST(test_refused_not_counted)
{
	struct config *cfg = load("limits = ( { name = \"unauth\"; per = \"client\"; "
				  "authenticated = false; count = \"recipients\"; max = 2; "
				  "window = \"10m\"; } );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "198.51.100.9", NULL, "<x@example.org>");
	for (int i = 0; i < 5; i++)
		ASSERT_VERDICT(tx_rcpt(&t, "<v@example.net>"), ACTION_REJECT, 550, "default-deny",
		    "denied");
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.com>"), ACTION_ACCEPT, 250, "local-domain", "local");
	ck_assert_uint_eq(t.v.limits[0].result.count, 1);
	ck_assert_str_eq(t.v.limits[0].principal, "client:198.51.100.9/32");
	ASSERT_VERDICT(tx_rcpt(&t, "<b@example.com>"), ACTION_ACCEPT, 250, "local-domain", "local");
	ASSERT_VERDICT(tx_rcpt(&t, "<c@example.com>"), ACTION_TEMPFAIL, 451, "unauth",
	    "rate-limit");
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* The rolling window: the count frees up slot by slot, never all at once on the hour. */
START_TEST(test_window_rolls)
{
	struct config *cfg = load(login_hour);
	struct store *s = new_store();
	struct tx t;

	now_ms = 1700000000000LL;
	tx_open(&t, cfg, s, "203.0.113.9", "roll", "<roll@example.com>");
	for (int i = 0; i < 5; i++) {
		ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_ACCEPT, 250, "authenticated",
		    "authenticated");
		now_ms += 60 * 1000; /* one a minute */
	}
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "login-hour",
	    "rate-limit");
	/* an hour after the first: still counted (never over-admit at the boundary) */
	now_ms = 1700000000000LL + 3600 * 1000;
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "login-hour",
	    "rate-limit");
	/* a slot later the first has left the window, the others not */
	now_ms += 3600 * 1000 / STORE_SLOTS + 1000;
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_ACCEPT, 250, "authenticated",
	    "authenticated");
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "login-hour",
	    "rate-limit");
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* count = "messages": a transaction is counted once, at its first accepted recipient. */
START_TEST(test_messages)
{
	struct config *cfg = load("limits = ( { name = \"msgs\"; per = \"login\"; count = "
				  "\"messages\"; max = 2; window = \"24h\"; } );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "203.0.113.9", "m", "<m@example.com>");
	for (int m = 0; m < 2; m++) {
		tx_new_message(&t);
		for (int i = 0; i < 4; i++)
			ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_ACCEPT, 250,
			    "authenticated", "authenticated");
	}
	tx_new_message(&t);
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "msgs", "rate-limit");
	ck_assert_uint_eq(t.v.limits[0].result.count, 2);
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* A login from a third country is locked; the lock holds until it ends or is lifted. */
START_TEST(test_countries_lock)
{
	struct config *cfg = load("limits = ( { name = \"travel\"; per = \"login\"; count = "
				  "\"countries\"; max = 2; window = \"6h\"; lock = \"24h\"; } );");
	struct store *s = new_store();
	struct tx t;

	now_ms = 1700000000000LL;
	tx_open(&t, cfg, s, "203.0.113.9", "trav", "<t@example.com>"); /* GB */
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_ACCEPT, 250, "authenticated",
	    "authenticated");
	tx_open(&t, cfg, s, "203.0.113.200", "trav", "<t@example.com>"); /* NG */
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_ACCEPT, 250, "authenticated",
	    "authenticated");
	tx_open(&t, cfg, s, "198.51.100.9", "trav", "<t@example.com>"); /* US */
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_TEMPFAIL, 451, "travel",
	    "rate-limit");
	ck_assert(t.v.limits[0].result.lock_started && t.v.limits[0].result.first_exceeded);
	ASSERT_VERDICT(tx_rcpt(&t, "<bob@example.com>"), ACTION_TEMPFAIL, 451, "travel", "locked");
	ck_assert_msg(strstr(t.v.text, "locked until") != NULL, "%s", t.v.text);
	ck_assert(!t.v.limits[0].result.lock_started); /* once, not per recipient */
	/* from home, still locked; after 24 h free again */
	tx_open(&t, cfg, s, "203.0.113.9", "trav", "<t@example.com>");
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_TEMPFAIL, 451, "travel", "locked");
	now_ms += 24LL * 3600 * 1000 + 1000;
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_ACCEPT, 250, "authenticated",
	    "authenticated");
	/* an operator lifts a lock at once */
	tx_open(&t, cfg, s, "203.0.113.200", "trav", "<t@example.com>");
	tx_rcpt(&t, "<a@example.net>");
	tx_open(&t, cfg, s, "198.51.100.9", "trav", "<t@example.com>");
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_TEMPFAIL, 451, "travel",
	    "rate-limit");
	ck_assert_int_eq(s->ops->unlock(s, "login:trav"), 1);
	tx_open(&t, cfg, s, "203.0.113.9", "trav", "<t@example.com>");
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_ACCEPT, 250, "authenticated",
	    "authenticated");
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* count = "networks": distinct /24s; a client inside a known one is no new network. */
START_TEST(test_networks)
{
	struct config *cfg = load("limits = ( { name = \"spread\"; per = \"login\"; count = "
				  "\"networks\"; max = 2; window = \"1h\"; } );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "198.51.100.1", "n", "<n@example.com>");
	ck_assert_int_eq(tx_rcpt(&t, "<a@example.net>")->action, ACTION_ACCEPT);
	tx_open(&t, cfg, s, "198.51.100.200", "n", "<n@example.com>");
	ck_assert_int_eq(tx_rcpt(&t, "<a@example.net>")->action, ACTION_ACCEPT);
	tx_open(&t, cfg, s, "203.0.113.9", "n", "<n@example.com>");
	ck_assert_int_eq(tx_rcpt(&t, "<a@example.net>")->action, ACTION_ACCEPT);
	tx_open(&t, cfg, s, "2001:db8::1", "n", "<n@example.com>");
	ASSERT_VERDICT(tx_rcpt(&t, "<a@example.net>"), ACTION_TEMPFAIL, 451, "spread",
	    "rate-limit");
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* The keys of each "per": IPv6 by /64 by default, senders lower-cased, absent keys not counted. */
START_TEST(test_principals)
{
	struct config *cfg = load(
	    "limits = ( { name = \"c\"; per = \"client\"; count = \"recipients\"; max = 100; "
	    "window = \"1h\"; }, { name = \"c24\"; per = \"client\"; prefix_v4 = 24; prefix_v6 = 48; "
	    "count = \"recipients\"; max = 100; window = \"1h\"; }, { name = \"s\"; per = "
	    "\"sender\"; count = \"recipients\"; max = 100; window = \"1h\"; }, { name = \"d\"; "
	    "per = \"sender_domain\"; count = \"recipients\"; max = 100; window = \"1h\"; }, "
	    "{ name = \"l\"; per = \"login\"; count = \"recipients\"; max = 100; window = \"1h\"; "
	    "} );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "2001:db8:1:2:3:4:5:6", NULL, "<Alice@Example.COM>");
	tx_rcpt(&t, "<bob@example.com>");
	ck_assert_uint_eq(t.v.nlimits, 4); /* no login: "l" does not apply */
	ck_assert_str_eq(t.v.limits[0].principal, "client:2001:db8:1:2::/64");
	ck_assert_str_eq(t.v.limits[1].principal, "client:2001:db8:1::/48");
	ck_assert_str_eq(t.v.limits[2].principal, "sender:alice@example.com");
	ck_assert_str_eq(t.v.limits[3].principal, "sender_domain:example.com");
	tx_open(&t, cfg, s, "192.0.2.77", "carol", "<>");
	tx_rcpt(&t, "<bob@example.com>");
	ck_assert_uint_eq(t.v.nlimits, 4); /* <> has no domain */
	ck_assert_str_eq(t.v.limits[0].principal, "client:192.0.2.77/32");
	ck_assert_str_eq(t.v.limits[1].principal, "client:192.0.2.0/24");
	ck_assert_str_eq(t.v.limits[2].principal, "sender:<>");
	ck_assert_str_eq(t.v.limits[3].principal, "login:carol");
	/* the next recipient uses the transaction's keys: the same, the second grouping too */
	tx_rcpt(&t, "<dave@example.com>");
	ck_assert_uint_eq(t.v.nlimits, 4);
	ck_assert_str_eq(t.v.limits[0].principal, "client:192.0.2.77/32");
	ck_assert_str_eq(t.v.limits[1].principal, "client:192.0.2.0/24");
	ck_assert_str_eq(t.v.limits[3].principal, "login:carol");
	/* without the transaction's keys (--explain) each decision makes its own */
	t.f.keys = NULL;
	tx_rcpt(&t, "<erin@example.com>");
	ck_assert_uint_eq(t.v.nlimits, 4);
	ck_assert_str_eq(t.v.limits[0].principal, "client:192.0.2.77/32");
	ck_assert_str_eq(t.v.limits[1].principal, "client:192.0.2.0/24");
	ck_assert_ptr_eq(t.v.limits[3].principal, t.v.limits[3].own);
	ck_assert_str_eq(t.v.limits[3].principal, "login:carol");
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* Exemptions through conditions and per-login overrides (0 exempts). */
START_TEST(test_exemptions_overrides)
{
	struct config *cfg =
	    load("limits = ( { name = \"cap\"; per = \"login\"; not_login = [ \"list\" ]; "
		 "count = \"recipients\"; max = 2; window = \"1h\"; }, { name = \"day\"; per = "
		 "\"login\"; count = \"recipients\"; max = 2; window = \"24h\"; } );\n"
		 "users = ( { login = \"big\"; limits = { cap = 4; day = 0; }; }, "
		 "{ login = \"list\"; limits = { day = 3; }; } );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "203.0.113.9", "big", "<big@example.com>");
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "cap", "rate-limit");
	ck_assert(t.v.limits[1].exempt);
	tx_open(&t, cfg, s, "203.0.113.9", "list", "<list@example.com>");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "day", "rate-limit");
	ck_assert_uint_eq(t.v.nlimits, 1); /* "cap" is not in scope for "list" */
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* dry_run: counted and reported, never enforced, never locking; a reject action and reply. */
START_TEST(test_dry_run_and_reply)
{
	struct config *cfg =
	    load("limits = ( { name = \"trial\"; per = \"login\"; count = \"recipients\"; max = 1; "
		 "window = \"1h\"; dry_run = true; lock = \"1h\"; }, { name = \"hard\"; per = "
		 "\"login\"; count = \"recipients\"; max = 3; window = \"1h\"; action = "
		 "\"reject\"; reply = \"550 5.7.1 <%r>: Daily quota used up\"; } );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "203.0.113.9", "d", "<d@example.com>");
	ck_assert_int_eq(tx_rcpt(&t, "<r1@example.net>")->action, ACTION_ACCEPT);
	tx_rcpt(&t, "<r2@example.net>");
	ASSERT_VERDICT(&t.v, ACTION_TEMPFAIL, 451, "trial", "rate-limit");
	ck_assert(t.v.dry_run && !t.v.limits[0].result.lock_started);
	tx_rcpt(&t, "<r3@example.net>");
	ck_assert(t.v.dry_run);
	ck_assert_uint_eq(t.v.limits[0].result.count, 3); /* counted all the same */
	ASSERT_VERDICT(tx_rcpt(&t, "<r4@example.net>"), ACTION_REJECT, 550, "hard", "rate-limit");
	ck_assert_str_eq(t.v.text, "<r4@example.net>: Daily quota used up");
	ck_assert(!t.v.dry_run);
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* max_recipients_per_message: recipient 101 gets 452 4.5.3; limits never see it. */
START_TEST(test_max_rcpts)
{
	struct config *cfg = load("max_recipients_per_message = 100;");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "192.0.2.1", NULL, "<h@example.com>");
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(tx_rcpt(&t, "<u@example.net>")->action, ACTION_ACCEPT);
	ASSERT_VERDICT(tx_rcpt(&t, "<u@example.net>"), ACTION_TEMPFAIL, 452, "recipient-limit",
	    "too-many-recipients");
	ck_assert_str_eq(t.v.ecode, "4.5.3");
	tx_new_message(&t);
	ck_assert_int_eq(tx_rcpt(&t, "<u@example.net>")->action, ACTION_ACCEPT);
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* A store that cannot answer: the safe answer is a temporary refusal. */
static int broken_decide(struct store *s, const struct store_check *c, size_t n, bool commit,
    struct store_result *out)
{
	(void)s, (void)c, (void)n, (void)commit, (void)out;
	return -1;
}

START_TEST(test_store_failure)
{
	static const struct store_ops broken_ops = {broken_decide, NULL, NULL, NULL, NULL, NULL};
	struct store broken = {&broken_ops};
	struct config *cfg = load(login_hour);
	struct tx t;

	tx_open(&t, cfg, &broken, "203.0.113.9", "alice", "<alice@example.com>");
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "rate-limit",
	    "store-failure");
	ck_assert_str_eq(t.v.ecode, "4.3.0");
	/* outside every limit's scope the store is not asked */
	ASSERT_VERDICT(tx_rcpt(&t, "<bob@example.com>"), ACTION_ACCEPT, 250, "local-domain",
	    "local");
	conf_free(cfg);
}
END_TEST

/* peek (--explain) reports without counting. */
START_TEST(test_peek)
{
	struct config *cfg = load(login_hour);
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "203.0.113.9", "p", "<p@example.com>");
	t.f.peek = true;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	ck_assert_uint_eq(t.v.limits[0].result.count, 0);
	t.f.peek = false;
	tx_rcpt(&t, "<r@example.net>");
	ck_assert_uint_eq(t.v.limits[0].result.count, 1);
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* A reload that changes max keeps the count: the key names no parameter. */
START_TEST(test_changed_limit_keeps_history)
{
	struct config *a = load(login_hour), *b;
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, a, s, "203.0.113.9", "h", "<h@example.com>");
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	conf_free(a);
	b = load("limits = ( { name = \"login-hour\"; per = \"login\"; count = \"recipients\"; "
		 "max = 7; window = \"2h\"; recipient_local = false; } );");
	tx_open(&t, b, s, "203.0.113.9", "h", "<h@example.com>");
	ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	ck_assert_uint_eq(t.v.limits[0].result.count, 6);
	ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "login-hour",
	    "rate-limit");
	s->ops->free(s);
	conf_free(b);
}
END_TEST

/* A recipient the policy refuses in the middle of a message does not make it count twice. */
START_TEST(test_message_counted_once)
{
	struct config *cfg = load("limits = ( { name = \"msgs\"; per = \"client\"; count = "
				  "\"messages\"; max = 5; window = \"1h\"; } );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "198.51.100.7", NULL, "<x@example.org>");
	ck_assert_int_eq(tx_rcpt(&t, "<a@example.com>")->action, ACTION_ACCEPT);
	ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_REJECT);
	ck_assert_int_eq(tx_rcpt(&t, "<b@example.com>")->action, ACTION_ACCEPT);
	ck_assert_uint_eq(t.v.nlimits, 0); /* the message is counted already */
	tx_new_message(&t);
	tx_rcpt(&t, "<c@example.com>");
	ck_assert_uint_eq(t.v.limits[0].result.count, 2);
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/* Keys a client cannot vary: the login's case, a bare sender's qualification. */
START_TEST(test_keys_not_dodged)
{
	struct config *cfg =
	    load("sender_origin = \"example.com\";\nlimits = ( { name = \"l\"; per = \"login\"; "
		 "count = \"recipients\"; max = 2; window = \"1h\"; }, { name = \"d\"; per = "
		 "\"sender_domain\"; count = \"recipients\"; max = 100; window = \"1h\"; } );");
	struct store *s = new_store();
	struct tx t;

	tx_open(&t, cfg, s, "203.0.113.9", "Bob", "<spammer>");
	ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	ck_assert_str_eq(t.v.limits[0].principal, "login:bob");
	ck_assert_str_eq(t.v.limits[1].principal, "sender_domain:example.com");
	tx_open(&t, cfg, s, "203.0.113.9", "BOB", "<spammer>");
	ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "l", "rate-limit");
	s->ops->free(s);
	conf_free(cfg);
}
END_TEST

/*
 * A reload that shortens a window: an admission made under the long window
 * (in one of its wide slots) still counts for as long as it is within the
 * new window, never less.
 */
START_TEST(test_shortened_window)
{
	struct config *day = load("limits = ( { name = \"w\"; per = \"login\"; count = "
				  "\"recipients\"; max = 1; window = \"24h\"; } );");
	struct config *hour = load("limits = ( { name = \"w\"; per = \"login\"; count = "
				   "\"recipients\"; max = 1; window = \"1h\"; } );");
	struct store *s = new_store();
	struct tx t;

	/* 14 minutes into a 15-minute slot of the 24 h grid */
	now_ms = (1700000000000LL / 900000 + 1) * 900000 + 14 * 60000;
	tx_open(&t, day, s, "203.0.113.9", "w", "<w@example.com>");
	ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	now_ms += 50 * 60000; /* 50 minutes later, under the 1 h window */
	tx_open(&t, hour, s, "203.0.113.9", "w", "<w@example.com>");
	ASSERT_VERDICT(tx_rcpt(&t, "<r@example.net>"), ACTION_TEMPFAIL, 451, "w", "rate-limit");
	now_ms += 11 * 60000; /* 61 minutes after it: gone */
	ck_assert_int_eq(tx_rcpt(&t, "<r@example.net>")->action, ACTION_ACCEPT);
	s->ops->free(s);
	conf_free(day);
	conf_free(hour);
}
END_TEST

static Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_recipients_exact);
	tcase_add_test(tc, test_refused_not_counted);
	tcase_add_test(tc, test_window_rolls);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_countries_lock);
	tcase_add_test(tc, test_networks);
	tcase_add_test(tc, test_principals);
	tcase_add_test(tc, test_exemptions_overrides);
	tcase_add_test(tc, test_dry_run_and_reply);
	tcase_add_test(tc, test_max_rcpts);
	tcase_add_test(tc, test_store_failure);
	tcase_add_test(tc, test_peek);
	tcase_add_test(tc, test_changed_limit_keeps_history);
	tcase_add_test(tc, test_message_counted_once);
	tcase_add_test(tc, test_keys_not_dodged);
	tcase_add_test(tc, test_shortened_window);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(limits_suite)
