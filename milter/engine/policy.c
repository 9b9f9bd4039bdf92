/* policy.c - the relay policy engine: facts in, verdict out */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "addr.h"
#include "domain.h"
#include "geo.h"
#include "idn.h"
#include "isotime.h"
#include "limits.h"
#include "policy.h"
#include "rules.h"
#include "users.h"

/* policy_new - an empty policy with the default replies */
struct policy *policy_new(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->authenticated_relay = true;
	p->no_client = NO_CLIENT_UNTRUSTED; /* a client we cannot place is an outsider */
	if (reply_set(&p->relay_denied, 550, "5.7.1", "<%r>: Relay access denied") < 0 ||
	    reply_set(&p->routing_denied, 550, "5.7.1",
		"<%r>: Relay access denied: sender-routed address") < 0 ||
	    reply_set(&p->invalid_rcpt, 501, "5.1.3", "<%r>: Bad recipient address syntax") < 0) {
		policy_free(p);
		return NULL;
	}
	return p;
}

/* policy_free - free a policy and everything it owns */
void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	domainset_free(p->local_domains);
	netset_free(p->trusted_networks);
	netset_free(p->own_addresses);
	users_free(p->users);
	reply_clear(&p->relay_denied);
	reply_clear(&p->routing_denied);
	reply_clear(&p->invalid_rcpt);
	free(p->sender_origin);
	for (size_t i = 0; i < p->nrules; i++)
		rule_free_contents(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->nlimits; i++)
		limit_free_contents(&p->limits[i]);
	free(p->limits);
	free(p);
}

/*
 * literal_is_own - does user@[addr] name this server? Only in the form
 * the MTA itself treats as local: [IPv6:::ffff:a.b.c.d] is not the IPv4
 * address to Postfix (it goes to smtp), and the wildcard address a
 * listener binds (Sendmail passes 0.0.0.0 as {daemon_addr}) is nobody's.
 */
static bool literal_is_own(const struct policy *p, const struct facts *f, const struct addr *a)
{
	const struct ipaddr *ip = &a->literal_ip;
	const struct ipaddr *mta = f->mta_addrs;
	size_t n = f->nmta_addrs;

	if ((a->literal_v6 && ip->family != IPADDR_V6) || ipaddr_unspecified(ip))
		return false;
	if (netset_contains(p->own_addresses, ip))
		return true;
	if (f->mta_addrs_get != NULL)
		mta = f->mta_addrs_get(f->get_arg, &n);
	for (size_t i = 0; i < n; i++)
		if (ipaddr_equal(&mta[i], ip))
			return true;
	return false;
}

/* addr_is_local - does one parsed address point to this server? */
static bool addr_is_local(const struct policy *p, const struct facts *f, const struct addr *a)
{
	if (a->tricks != 0 && !p->allow_routing_tricks)
		return false;
	switch (a->kind) {
	case ADDR_NODOMAIN:
		/* "postmaster", "user": the MTA qualifies it with its own domain */
		return true;
	case ADDR_MAILBOX:
		if (a->literal)
			return literal_is_own(p, f, a);
		return domainset_contains(p->local_domains, a->domain, strlen(a->domain));
	case ADDR_NULL:
	case ADDR_INVALID:
		break;
	}
	return false;
}

/*
 * rcpt_mta_resolve - the MTA's resolution of the recipient ({rcpt_addr}),
 * asked and parsed at the decision's first need (a local path, or the
 * view for rules and limits): a path that is not local is not local
 * whatever the MTA makes of it. Most often it is the path as sent, and
 * one parse serves both.
 */
static void rcpt_mta_resolve(struct rule_ctx *ctx)
{
	const struct facts *f = ctx->facts;
	const char *mta;

	if (ctx->rcpt_mta_asked)
		return;
	ctx->rcpt_mta_asked = true;
	mta = f->rcpt_mta_get != NULL ? f->rcpt_mta_get(f->get_arg) : f->rcpt_mta;
	ctx->has_rcpt_mta = mta != NULL && *mta != 0;
	if (!ctx->has_rcpt_mta)
		return;
	ctx->rcpt_mta_same =
	    (ctx->rcpt->kind == ADDR_MAILBOX || ctx->rcpt->kind == ADDR_NODOMAIN) &&
	    addr_same_path(f->rcpt, mta);
	if (ctx->rcpt_mta_same)
		ctx->rcpt_mta = ctx->rcpt;
	else
		addr_parse(mta, &ctx->rcpt_mta_parsed);
}

/* sendmail_local - Sendmail names a local delivery by the bare user, mailer "local" */
static bool sendmail_local(const struct facts *f, const struct addr *mta)
{
	const char *mailer;

	if (mta->kind != ADDR_NODOMAIN)
		return false;
	mailer = f->rcpt_mailer_get != NULL ? f->rcpt_mailer_get(f->get_arg) : f->rcpt_mailer;
	return mailer != NULL && strcmp(mailer, "local") == 0 && mta->tricks == 0;
}

/*
 * rcpt_is_local - the raw recipient is local, and so is the MTA's own
 * resolution of it when the MTA sent one: an address that looks local to
 * one layer and remote to the next is a relay attempt.
 */
static bool rcpt_is_local(const struct policy *p, struct rule_ctx *ctx)
{
	const struct facts *f = ctx->facts;

	if (!addr_is_local(p, f, ctx->rcpt))
		return false;
	/*
	 * A bare "user" needs the check as much as any: Postfix qualifies it
	 * with $myorigin, which need not be a local domain of ours.
	 */
	rcpt_mta_resolve(ctx);
	if (!ctx->has_rcpt_mta)
		return true;
	/* the MTA's form is the path as sent, so its parse is ctx->rcpt's: local too */
	if (ctx->rcpt->kind == ADDR_MAILBOX && ctx->rcpt_mta_same)
		return true;
	if (ctx->rcpt_mta->kind == ADDR_NODOMAIN)
		return sendmail_local(f, ctx->rcpt_mta);
	return addr_is_local(p, f, ctx->rcpt_mta);
}

/*
 * trick_form - a routing trick's target as one more form of the recipient:
 * the part of the local part that names a host (after the last '%' or
 * '@', before the first '!'). Anything there that is not a domain makes
 * the destination unknown.
 */
static void trick_form(struct rule_ctx *ctx, struct addr_view *v, const char *host, size_t len)
{
	struct addr *t;
	const char *why;

	if (ctx->ntricks >= TRICKS_MAX || v->n >= VIEW_MAX) {
		v->unknown = true;
		return;
	}
	t = &ctx->rcpt_trick[ctx->ntricks];
	memset(t, 0, sizeof(*t));
	if (len == 0 || idn_to_ascii(host, len, t->domain, sizeof(t->domain), &why) < 0 ||
	    domain_check(t->domain, strlen(t->domain)) != NULL) {
		v->unknown = true;
		return;
	}
	t->kind = ADDR_MAILBOX;
	ctx->ntricks++;
	v->form[v->n++] = t;
}

/* trick_forms - the targets of the tricks in one form's local part */
static void trick_forms(struct rule_ctx *ctx, struct addr_view *v, const struct addr *a)
{
	const char *l = a->local, *p;

	if ((p = strrchr(l, '%')) != NULL)
		trick_form(ctx, v, p + 1, strlen(p + 1));
	if ((p = strrchr(l, '@')) != NULL)
		trick_form(ctx, v, p + 1, strcspn(p + 1, "%"));
	if ((p = strchr(l, '!')) != NULL)
		trick_form(ctx, v, l, (size_t)(p - l));
}

/*
 * view_add - one form of an address for the domain conditions to judge;
 * with routing tricks not allowed, also where its tricks lead
 */
static inline __attribute__((always_inline)) void view_add(struct rule_ctx *ctx,
    struct addr_view *v, const struct addr *a, bool allow_tricks)
{
	bool tricks = a->tricks != 0 && !allow_tricks;

	if (a->kind == ADDR_MAILBOX && v->n < VIEW_MAX)
		v->form[v->n++] = a;
	else if (a->kind == ADDR_MAILBOX || !(a->kind == ADDR_NODOMAIN && tricks))
		v->unknown = true; /* a bare "remote!user" still has its bang target */
	if (tricks && (a->kind == ADDR_MAILBOX || a->kind == ADDR_NODOMAIN))
		trick_forms(ctx, v, a);
}

/*
 * rule_rcpt_view - the recipient as the core judges it: the form sent and
 * the MTA's resolution, both, worked out at the first condition that asks
 * (recipient_domain; most decisions never do). A bare "user" counts only through the MTA's
 * qualified form; without one its domain is unknown. Sendmail's bare
 * local user agrees with the form sent and adds nothing.
 */
const struct addr_view *rule_rcpt_view(struct rule_ctx *ctx)
{
	const struct addr *sent = ctx->rcpt;
	struct addr_view *v = &ctx->rcpt_view;
	bool mta, bare = sent->kind == ADDR_NODOMAIN && sent->tricks == 0;

	if (ctx->rcpt_viewed)
		return v;
	ctx->rcpt_viewed = true;
	rcpt_mta_resolve(ctx);
	mta = ctx->has_rcpt_mta;
	v->n = 0;
	v->unknown = false;
	ctx->ntricks = 0;
	if (mta && sendmail_local(ctx->facts, ctx->rcpt_mta)) {
		if (!bare) /* a local user of the MTA's own has no domain to judge */
			view_add(ctx, v, sent, ctx->allow_tricks);
		return v;
	}
	if (!(mta && bare))
		view_add(ctx, v, sent, ctx->allow_tricks);
	if (mta)
		view_add(ctx, v, ctx->rcpt_mta, ctx->allow_tricks);
	return v;
}

/* client_trusted - is the client inside the trusted networks? */
static bool client_trusted(const struct policy *p, const struct facts *f)
{
	if (f->client == NULL)
		return p->no_client == NO_CLIENT_TRUSTED;
	return netset_contains(p->trusted_networks, f->client);
}

static bool authenticated(const struct facts *f)
{
	return f->login != NULL && f->login[0] != 0;
}

/*
 * strip_brackets - the path without surrounding <>, at most max bytes of
 * it, for reply texts: where it starts in s, and its length in *n
 */
static const char *strip_brackets(const char *s, size_t max, size_t *n)
{
	size_t len;

	if (s == NULL)
		s = "";
	while (*s == ' ')
		s++;
	len = strlen(s);
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	*n = len < max ? len : max;
	return s;
}

/*
 * append_run - n bytes of s (no NUL among them), printable ASCII only (the
 * text goes back over SMTP: anything else becomes '?'), as many as fit
 */
static size_t append_run(char *out, size_t pos, size_t len, const char *s, size_t n)
{
	size_t i = 0;

	if (n > len - 1 - pos)
		n = len - 1 - pos;
#ifdef __SSE2__
	/* 16 bytes a step; the last step overlaps the one before (same bytes, same result) */
	if (n >= 16) {
		for (;; i += 16) {
			size_t at = i + 16 <= n ? i : n - 16;
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
			__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x1f)),
			    _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));

			_mm_storeu_si128((__m128i *)(void *)(out + pos + at),
			    _mm_or_si128(_mm_and_si128(ok, x),
				_mm_andnot_si128(ok, _mm_set1_epi8('?'))));
			if (at + 16 >= n)
				break;
		}
		i = n;
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[pos + i] = (char)(c - 0x20u < 0x5fu ? c : '?');
	}
	pos += n;
	out[pos] = 0;
	return pos;
}

/* expand_value - the text one %-escape stands for, *n bytes; buf holds what is formatted */
static const char *expand_value(char esc, const struct facts *f, char *buf, size_t len, size_t *n)
{
	const char *val;

	switch (esc) {
	case 'r':
		return strip_brackets(f->rcpt, len - 1, n);
	case 's':
		return strip_brackets(f->sender, len - 1, n);
	case 'l':
		val = f->login ? f->login : "";
		break;
	case 'c':
		val = f->client ? ipaddr_format(f->client, buf, len) : "unknown";
		break;
	default:
		return NULL;
	}
	*n = strlen(val);
	return val;
}

/* expand - fill v->text from a reply template; only escapes used cost anything */
static void expand(const struct reply *r, const struct facts *f, struct verdict *v)
{
	char buf[300];
	const char *t = r->text ? r->text : "";
	size_t pos = 0;

	v->text[0] = 0;
	for (; *t; t++) {
		const char *val = NULL;
		size_t n;

		if (*t == '%' && t[1] != 0 &&
		    (val = expand_value(t[1], f, buf, sizeof(buf), &n)) != NULL)
			t++;
		else if (*t == '%' && t[1] == '%') {
			val = "%"; /* "%%" is one percent sign */
			n = 1;
			t++;
		} else {
			/* any other byte, a lone "%" and an unknown "%x" stand for themselves:
			 * the text up to the next "%" goes in one run */
			n = *t == '%' ? 1 : (size_t)(strchrnul(t, '%') - t);
			pos = append_run(v->text, pos, sizeof(v->text), t, n);
			t += n - 1;
			continue;
		}
		pos = append_run(v->text, pos, sizeof(v->text), val, n);
	}
	v->code = r->code;
	memcpy(v->ecode, r->ecode, sizeof(v->ecode));
}

/* step_label - the name a step goes by: a rule's or a limit's own, or the step's */
static const char *step_label(const struct policy *p, enum step step, int index)
{
	if (step == STEP_RULE)
		return p->rules[index].name;
	if (step == STEP_RATE_LIMIT && index >= 0)
		return p->limits[index].rule.name;
	return step_name(step);
}

/*
 * set_verdict - fill the verdict for the deciding step: a built-in step,
 * STEP_RULE with the index of the configured rule, or STEP_RATE_LIMIT
 * with the index of the limit (-1: the store could not answer)
 */
static void set_verdict(struct verdict *v, enum action action, const struct reply *r,
    const struct facts *f, const struct policy *p, enum step step, int rule, enum reason why)
{
	/*
	 * A refusal is what its reply code says: a configured 4xx reply (say,
	 * relay_denied_reply = "451 4.7.1 ...") is a tempfail, so the MTA sends
	 * the very reply the log names.
	 */
	if (action != ACTION_ACCEPT && r != NULL)
		action = r->code / 100 == 4 ? ACTION_TEMPFAIL : ACTION_REJECT;
	v->action = action;
	v->step = step;
	v->rule_index = step == STEP_RULE ? rule : -1;
	v->limit_index = step == STEP_RATE_LIMIT ? rule : -1;
	v->rule = step_label(p, step, rule);
	v->why = why;
	v->reason = reason_name(why);
	if (action == ACTION_ACCEPT) {
		v->code = 250;
		memcpy(v->ecode, "2.1.5", sizeof("2.1.5"));
		memcpy(v->text, "Recipient ok", sizeof("Recipient ok"));
	} else
		expand(r, f, v);
}

/* trace_add - remember a tried step for --explain (every one fits: see facts.h) */
static void trace_add(struct trace *t, const struct policy *p, enum step step, int rule, int result)
{
	struct trace_step *s;

	if (t == NULL || t->n >= sizeof(t->steps) / sizeof(t->steps[0]))
		return;
	s = &t->steps[t->n++];
	s->step = step;
	s->rule_index = step == STEP_RULE || step == STEP_RATE_LIMIT ? rule : -1;
	s->rule = step_label(p, step, rule);
	s->result = result;
}

static const struct reply default_reject = {550, "5.7.1", "<%r>: Relay access denied"};
static const struct reply default_tempfail = {451, "4.7.1", "<%r>: Try again later"};
static const struct reply lookup_failed = {451, "4.3.0", "<%r>: Temporary lookup failure"};

/* note_dry - a dry_run rule matched: remember the first, decide nothing */
static void note_dry(struct verdict *v, const struct policy *p, size_t i, enum action action)
{
	if (v->dry_rule == NULL) {
		v->dry_rule_index = (int)i;
		v->dry_rule = p->rules[i].name;
		v->dry_action = action;
	}
}

/* note_continued - a matching "continue" rule: it logs, it does not decide */
static void note_continued(struct verdict *v, size_t i)
{
	if (v->ncontinued < POLICY_RULES_MAX)
		v->continued[v->ncontinued++] = (uint16_t)i;
}

/* run_rules - the configured rules, in order; 1 when one decided */
static int run_rules(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		int m = rule_match(r, ctx);

		trace_add(trace, p, STEP_RULE, (int)i, m);
		/*
		 * A rule that cannot be judged decides no more than its action
		 * could: a log-only rule nothing, an accept rule does not accept
		 * (the rest of the policy judges), a refusal becomes a temporary one.
		 */
		if (m < 0 && (r->action == ACTION_CONTINUE || r->action == ACTION_ACCEPT))
			continue;
		if (m < 0) {
			if (r->dry_run) {
				note_dry(v, p, i, ACTION_TEMPFAIL);
				continue;
			}
			set_verdict(v, ACTION_TEMPFAIL, &lookup_failed, ctx->facts, p, STEP_RULE,
			    (int)i, REASON_LOOKUP_FAILURE);
			v->dry_run = p->dry_run;
			return 1;
		}
		if (m == 0)
			continue;
		if (r->action == ACTION_CONTINUE) {
			note_continued(v, i);
			continue;
		}
		if (r->dry_run) {
			note_dry(v, p, i, r->action);
			continue;
		}
		set_verdict(v, r->action,
		    r->reply.code                  ? &r->reply :
			r->action == ACTION_REJECT ? &default_reject :
						     &default_tempfail,
		    ctx->facts, p, STEP_RULE, (int)i, REASON_RULE);
		v->dry_run = r->action != ACTION_ACCEPT && p->dry_run;
		return 1;
	}
	return 0;
}

static const struct reply not_owned = {553, "5.7.1",
    "<%s>: Sender address rejected: not owned by user %l"};
static const struct reply not_logged_in = {553, "5.7.1",
    "<%s>: Sender address rejected: not logged in"};
static const struct reply unverifiable_reply = {553, "5.7.1",
    "<%s>: Sender address rejected: cannot tell who owns it"};

/* owned_by_login - the login owns every form of the sender, and each is known */
static bool owned_by_login(const struct policy *p, const struct facts *f, const struct addr_view *v)
{
	const struct user *u = users_find(p->users, f->login);

	if (v->unknown || v->n == 0)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (!users_owns(p->users, u, v->form[i]))
			return false;
	return true;
}

/*
 * outsider_sender - may an unauthenticated outsider use this sender? NULL
 * yes, else the refusal: an owned form is not his, and a form we cannot
 * parse or qualify we cannot prove unowned (the MTA may read it otherwise)
 */
static const struct reply *outsider_sender(const struct policy *p, const struct addr_view *v,
    enum reason *why)
{
	bool owned = false, unverifiable = v->unknown;

	for (size_t i = 0; i < v->n; i++) {
		unverifiable |= v->form[i]->kind == ADDR_INVALID;
		owned |= users_owned(p->users, v->form[i]);
	}
	if (unverifiable) {
		*why = REASON_SENDER_UNVERIFIABLE;
		return &unverifiable_reply;
	}
	return owned ? &not_logged_in : NULL;
}

/*
 * run_sender_ownership - may this client use this MAIL FROM? Judged per
 * recipient (the milter answers at RCPT), after the configured rules (so a
 * rule can still accept or refuse first) and before the built-in core (so
 * a forged sender is refused even for a local recipient, as Postfix's
 * reject_sender_login_mismatch does). An authenticated client may use only
 * the addresses its login owns; the null sender is allowed unless
 * null_sender_authenticated = "reject". With "everyone", an unauthenticated
 * client outside the trusted networks may not use an owned address. The
 * sender is judged in every form the MTA may deliver (sender_view).
 */
static int run_sender_ownership(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	const struct facts *f = ctx->facts;
	const struct reply *r = NULL;
	enum reason reason = REASON_SENDER_NOT_OWNED;

	if (p->sender_ownership == SENDER_OWNERSHIP_OFF)
		return 0;
	if (authenticated(f)) {
		if (rule_sender(ctx)->kind == ADDR_NULL) {
			if (p->null_sender_reject) {
				r = &not_owned;
				reason = REASON_NULL_SENDER;
			}
		} else if (!owned_by_login(p, f, rule_sender_view(ctx)))
			r = &not_owned;
	} else if (p->sender_ownership == SENDER_OWNERSHIP_EVERYONE && !client_trusted(p, f))
		r = outsider_sender(p, rule_sender_view(ctx), &reason);
	trace_add(trace, p, STEP_SENDER_OWNERSHIP, -1, r != NULL);
	if (r == NULL)
		return 0;
	set_verdict(v, ACTION_REJECT, r, f, p, STEP_SENDER_OWNERSHIP, -1, reason);
	v->dry_run = p->dry_run;
	return 1;
}

/* A login's own reason not to relay, held until the trusted-network step. */
struct login_refusal {
	enum action action;
	struct reply reply;
	enum reason why;
	bool refused;
};

/* refuse - remember why the login did not grant relaying */
static void refuse(struct login_refusal *r, enum action action, int code, const char *ecode,
    char *text, enum reason why)
{
	r->action = action;
	r->reply.code = code;
	snprintf(r->reply.ecode, sizeof(r->reply.ecode), "%s", ecode);
	r->reply.text = text;
	r->why = why;
	r->refused = true;
}

/*
 * login_may_relay - the per-user limits on authenticated relaying: 1 the
 * login may relay, 0 it may not (r says why), -1 the GeoIP lookup that
 * would tell failed. A refused login still relays from a trusted network:
 * the network is trusted whoever logs in there.
 */
static int login_may_relay(const struct policy *p, struct rule_ctx *ctx, struct login_refusal *r,
    char *tmpl, size_t len)
{
	const struct user *u = users_find(p->users, ctx->facts->login);
	const struct geo_info *g;

	if (u == NULL)
		return 1;
	if (!u->relay) {
		snprintf(tmpl, len, "<%%r>: Relay access denied: login %%l may not relay");
		refuse(r, ACTION_REJECT, 550, "5.7.1", tmpl, REASON_LOGIN_NO_RELAY);
		return 0;
	}
	if (u->ncountries == 0)
		return 1;
	g = rule_geo(ctx);
	if (g->country_status < 0) {
		snprintf(tmpl, len, "<%%r>: Temporary lookup failure");
		refuse(r, ACTION_TEMPFAIL, 451, "4.3.0", tmpl, REASON_LOOKUP_FAILURE);
		return -1;
	}
	if (users_country_ok(u, g->country))
		return 1;
	snprintf(tmpl, len, "<%%r>: Relay access denied: login %%l may not relay from %s",
	    g->country);
	refuse(r, ACTION_REJECT, 550, "5.7.1", tmpl, REASON_LOGIN_COUNTRY);
	return 0;
}

/* run_core - the built-in policy: local, authenticated, trusted, else deny */
static void run_core(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	const struct facts *f = ctx->facts;
	const struct addr *rcpt = ctx->rcpt;
	struct login_refusal login_refused = {0};
	char tmpl[128];
	int m;

	trace_add(trace, p, STEP_LOCAL_DOMAIN, -1, ctx->rcpt_local);
	if (ctx->rcpt_local) {
		set_verdict(v, ACTION_ACCEPT, NULL, f, p, STEP_LOCAL_DOMAIN, -1, REASON_LOCAL);
		return;
	}
	m = p->authenticated_relay && authenticated(f) ?
	    login_may_relay(p, ctx, &login_refused, tmpl, sizeof(tmpl)) :
	    0;
	trace_add(trace, p, STEP_AUTHENTICATED, -1, m);
	if (m == 1) {
		set_verdict(v, ACTION_ACCEPT, NULL, f, p, STEP_AUTHENTICATED, -1,
		    REASON_AUTHENTICATED);
		return;
	}
	m = client_trusted(p, f);
	trace_add(trace, p, STEP_TRUSTED_NETWORK, -1, m);
	if (m) {
		set_verdict(v, ACTION_ACCEPT, NULL, f, p, STEP_TRUSTED_NETWORK, -1,
		    f->client ? REASON_TRUSTED : REASON_NO_CLIENT);
		return;
	}
	trace_add(trace, p, STEP_DEFAULT_DENY, -1, 1);
	if (rcpt->kind == ADDR_INVALID || rcpt->kind == ADDR_NULL)
		set_verdict(v, ACTION_REJECT, &p->invalid_rcpt, f, p, STEP_DEFAULT_DENY, -1,
		    REASON_INVALID_ADDRESS);
	else if (login_refused.refused)
		set_verdict(v, login_refused.action, &login_refused.reply, f, p, STEP_AUTHENTICATED,
		    -1, login_refused.why);
	else if (rcpt->tricks != 0 && !p->allow_routing_tricks)
		set_verdict(v, ACTION_REJECT, &p->routing_denied, f, p, STEP_DEFAULT_DENY, -1,
		    REASON_ROUTING_TRICK);
	else
		set_verdict(v, ACTION_REJECT, &p->relay_denied, f, p, STEP_DEFAULT_DENY, -1,
		    REASON_DENIED);
	v->dry_run = p->dry_run;
}

/* verdict_start - a verdict that has decided nothing yet (no full memset: it is large) */
static void verdict_start(struct verdict *v)
{
	v->action = ACTION_ACCEPT;
	v->code = 0;
	v->ecode[0] = 0;
	v->text[0] = 0;
	v->step = STEP_RULE;
	v->rule_index = -1;
	v->rule = NULL;
	v->why = REASON_DENIED;
	v->reason = NULL;
	v->dry_run = false;
	v->dry_rule_index = -1;
	v->dry_rule = NULL;
	v->dry_action = ACTION_ACCEPT;
	v->rcpt_local = false;
	v->geo_lookup = false;
	v->ncontinued = 0;
	v->limit_index = -1;
	v->msgs_counted = 0;
	v->nlimits = 0;
}

static const struct reply too_many = {452, "4.5.3", "<%r>: Too many recipients"};
static const struct reply rate_tempfail = {451, "4.7.1",
    "<%r>: Rate limit exceeded, try again later"};
static const struct reply rate_reject = {550, "5.7.1", "<%r>: Rate limit exceeded"};
static const struct reply store_failed = {451, "4.3.0",
    "<%r>: Temporary failure counting recipients, try again later"};

/* limit_reply - the reply a limit refuses with: its own, else its action's */
static const struct reply *limit_reply(const struct limit *l)
{
	if (l->rule.reply.code != 0)
		return &l->rule.reply;
	return l->rule.action == ACTION_REJECT ? &rate_reject : &rate_tempfail;
}

/* locked_reply - a lock is always temporary, and says when it ends */
static void locked_reply(struct reply *r, char *tmpl, size_t len, int64_t until)
{
	char stamp[ISOTIME_LEN];

	snprintf(tmpl, len, "<%%r>: Rate limit exceeded, sending locked until %s",
	    isotime(until, stamp, sizeof(stamp)));
	r->code = 451;
	memcpy(r->ecode, "4.7.1", sizeof("4.7.1"));
	r->text = tmpl;
}

/* trace_limits - every limit that applied, and whether it refused */
static void trace_limits(struct trace *trace, const struct policy *p, const struct verdict *v)
{
	for (size_t i = 0; i < v->nlimits; i++)
		trace_add(trace, p, STEP_RATE_LIMIT, v->limits[i].limit,
		    v->limits[i].result.status != STORE_OK);
}

/*
 * run_limits - an accepted recipient may still be one too many for its
 * message, or over a rate limit: the limits refuse, they never accept
 */
static void run_limits(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	const struct limit_set set = {p->limits, p->nlimits, &p->limit_masks, p->max_rcpts,
	    p->users};
	struct limit_refusal r;
	struct reply locked;
	const struct reply *reply;
	char tmpl[128];
	enum step step = STEP_RATE_LIMIT;

	if (!limits_judge(&set, ctx, v, &r)) {
		trace_limits(trace, p, v);
		return;
	}
	trace_limits(trace, p, v);
	if (r.why == REASON_TOO_MANY_RECIPIENTS) {
		step = STEP_RECIPIENT_LIMIT;
		reply = &too_many;
		trace_add(trace, p, step, -1, 1);
	} else if (r.why == REASON_STORE_FAILURE)
		reply = &store_failed;
	else if (r.why == REASON_LOOKUP_FAILURE)
		reply = &lookup_failed;
	else if (r.why == REASON_LOCKED) {
		locked_reply(&locked, tmpl, sizeof(tmpl), r.until);
		reply = &locked;
	} else
		reply = limit_reply(&p->limits[r.limit]);
	set_verdict(v, ACTION_TEMPFAIL, reply, ctx->facts, p, step, r.limit, r.why);
	v->dry_run = r.dry_run || p->dry_run;
}

/* decide - the steps in order: rules, sender ownership, the built-in core */
static void decide(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	if (run_rules(p, ctx, v, trace))
		return;
	if (run_sender_ownership(p, ctx, v, trace))
		return;
	run_core(p, ctx, v, trace);
}

/* policy_decide - judge one recipient */
void policy_decide(const struct policy *p, const struct facts *f, struct verdict *v,
    struct trace *trace)
{
	struct addr rcpt;
	struct rule_ctx ctx;

	verdict_start(v);
	v->msgs_counted = f->msgs_counted; /* a refused recipient leaves them as they were */
	if (trace != NULL)
		trace->n = 0;
	addr_parse(f->rcpt ? f->rcpt : "", &rcpt);
	ctx.facts = f;
	ctx.rcpt = &rcpt;
	ctx.rcpt_mta = &ctx.rcpt_mta_parsed;
	ctx.rcpt_mta_same = false;
	ctx.rcpt_mta_asked = false; /* rcpt_mta_resolve */
	ctx.rcpt_viewed = false;    /* rule_rcpt_view */
	ctx.allow_tricks = p->allow_routing_tricks;
	ctx.sender_origin = p->sender_origin;
	ctx.sender_parsed = false;
	ctx.geo = p->geo;
	ctx.geo_lookup = false;
	ctx.local_geo.done = false;
	ctx.geo_cache = f->geo != NULL ? f->geo : &ctx.local_geo;
	ctx.rcpt_local = rcpt_is_local(p, &ctx);
	v->rcpt_local = ctx.rcpt_local;
	/* With a database configured every decision logs country and asn; the
	 * cache is the connection's, so this is one lookup per client. */
	if (p->geo != NULL)
		rule_geo(&ctx);
	decide(p, &ctx, v, trace);
	if (v->action == ACTION_ACCEPT && (p->max_rcpts != 0 || p->nlimits != 0))
		run_limits(p, &ctx, v, trace);
	v->geo_lookup = ctx.geo_lookup;
}
