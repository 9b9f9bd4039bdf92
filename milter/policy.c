/* policy.c - the relay policy engine: facts in, verdict out */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
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
	p->no_client = NO_CLIENT_TRUSTED;
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
	for (size_t i = 0; i < p->nrules; i++)
		rule_free_contents(&p->rules[i]);
	free(p->rules);
	free(p);
}

/* action_name - the configuration word for an action */
const char *action_name(enum action action)
{
	switch (action) {
	case ACTION_ACCEPT:
		return "accept";
	case ACTION_REJECT:
		return "reject";
	case ACTION_TEMPFAIL:
		return "tempfail";
	case ACTION_CONTINUE:
		return "continue";
	}
	return "?";
}

/* literal_is_own - does user@[addr] name this server? */
static bool literal_is_own(const struct policy *p, const struct facts *f, const struct ipaddr *ip)
{
	if (netset_contains(p->own_addresses, ip))
		return true;
	for (size_t i = 0; i < f->nmta_addrs; i++)
		if (ipaddr_equal(&f->mta_addrs[i], ip))
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
			return literal_is_own(p, f, &a->literal_ip);
		return domainset_contains(p->local_domains, a->domain, strlen(a->domain));
	case ADDR_NULL:
	case ADDR_INVALID:
		break;
	}
	return false;
}

/*
 * rcpt_is_local - the raw recipient is local, and so is the MTA's own
 * resolution of it when the MTA sent one: an address that looks local to
 * one layer and remote to the next is a relay attempt.
 */
static bool rcpt_is_local(const struct policy *p, const struct facts *f, const struct addr *raw)
{
	struct addr mta;

	if (!addr_is_local(p, f, raw))
		return false;
	/*
	 * A bare "user" needs the check as much as any: Postfix qualifies it
	 * with $myorigin, which need not be a local domain of ours.
	 */
	if (f->rcpt_mta == NULL || *f->rcpt_mta == 0)
		return true;
	/* Sendmail: local delivery names a bare user with mailer "local". */
	if (addr_parse(f->rcpt_mta, &mta) == ADDR_NODOMAIN)
		return f->rcpt_mailer != NULL && strcmp(f->rcpt_mailer, "local") == 0 &&
		    mta.tricks == 0;
	return addr_is_local(p, f, &mta);
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

/* strip_brackets - the path without surrounding <>, for reply texts */
static void strip_brackets(const char *s, char *out, size_t len)
{
	size_t n;

	if (s == NULL)
		s = "";
	while (*s == ' ')
		s++;
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* append_safe - copy printable ASCII only: the text goes back over SMTP */
static size_t append_safe(char *out, size_t pos, size_t len, const char *s)
{
	for (; s != NULL && *s && pos + 1 < len; s++)
		out[pos++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[pos] = 0;
	return pos;
}

/* expand_value - the text one %-escape stands for; buf holds what is formatted */
static const char *expand_value(char esc, const struct facts *f, char *buf, size_t len)
{
	switch (esc) {
	case 'r':
		strip_brackets(f->rcpt, buf, len);
		return buf;
	case 's':
		strip_brackets(f->sender, buf, len);
		return buf;
	case 'l':
		return f->login ? f->login : "";
	case 'c':
		return f->client ? ipaddr_format(f->client, buf, len) : "unknown";
	}
	return NULL;
}

/* expand - fill v->text from a reply template; only escapes used cost anything */
static void expand(const struct reply *r, const struct facts *f, struct verdict *v)
{
	char buf[300], one[2] = {0, 0};
	const char *t = r->text ? r->text : "";
	size_t pos = 0;

	v->text[0] = 0;
	for (; *t; t++) {
		const char *val = NULL;

		if (*t == '%' && t[1] != 0)
			val = expand_value(*++t, f, buf, sizeof(buf));
		if (val == NULL) {
			one[0] = *t; /* "%%" and unknown escapes stand for themselves */
			val = one;
		}
		pos = append_safe(v->text, pos, sizeof(v->text), val);
	}
	v->code = r->code;
	memcpy(v->ecode, r->ecode, sizeof(v->ecode));
}

/* set_verdict - fill the verdict; refusals from dry-run rules only pretend */
static void set_verdict(struct verdict *v, enum action action, const struct reply *r,
    const struct facts *f, const char *rule, const char *reason)
{
	v->action = action;
	v->rule = rule;
	v->reason = reason;
	if (action == ACTION_ACCEPT) {
		v->code = 250;
		memcpy(v->ecode, "2.1.5", sizeof("2.1.5"));
		memcpy(v->text, "Recipient ok", sizeof("Recipient ok"));
	} else
		expand(r, f, v);
}

/* trace_add - remember a tried rule for --explain */
static void trace_add(struct trace *t, const char *rule, int result)
{
	if (t != NULL && t->n < POLICY_TRACE_MAX) {
		t->steps[t->n].rule = rule;
		t->steps[t->n].result = result;
		t->n++;
	}
}

static const struct reply default_reject = {550, "5.7.1", "<%r>: Relay access denied"};
static const struct reply default_tempfail = {451, "4.7.1", "<%r>: Try again later"};
static const struct reply lookup_failed = {451, "4.3.0", "<%r>: Temporary lookup failure"};

/* note_dry - a dry_run rule matched: remember the first, decide nothing */
static void note_dry(struct verdict *v, const struct rule *r, enum action action)
{
	if (v->dry_rule == NULL) {
		v->dry_rule = r->name;
		v->dry_action = action;
	}
}

/* run_rules - the configured rules, in order; 1 when one decided */
static int run_rules(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];
		int m = rule_match(r, ctx);

		trace_add(trace, r->name, m);
		if (m < 0) {
			if (r->dry_run) {
				note_dry(v, r, ACTION_TEMPFAIL);
				continue;
			}
			set_verdict(v, ACTION_TEMPFAIL, &lookup_failed, ctx->facts, r->name,
			    "lookup-failure");
			v->dry_run = p->dry_run;
			return 1;
		}
		if (m == 0 || r->action == ACTION_CONTINUE)
			continue;
		if (r->dry_run) {
			note_dry(v, r, r->action);
			continue;
		}
		set_verdict(v, r->action,
		    r->reply.code ? &r->reply :
		    r->action == ACTION_REJECT ? &default_reject : &default_tempfail,
		    ctx->facts, r->name, "rule");
		v->dry_run = r->action != ACTION_ACCEPT && p->dry_run;
		return 1;
	}
	return 0;
}

static const struct reply not_owned = {553, "5.7.1",
    "<%s>: Sender address rejected: not owned by user %l"};
static const struct reply not_logged_in = {553, "5.7.1",
    "<%s>: Sender address rejected: not logged in"};
static const struct reply unverifiable = {553, "5.7.1",
    "<%s>: Sender address rejected: cannot tell who owns it"};

/*
 * run_sender_ownership - may this client use this MAIL FROM? Judged per
 * recipient (the milter answers at RCPT), after the configured rules (so a
 * rule can still accept or refuse first) and before the built-in core (so
 * a forged sender is refused even for a local recipient, as Postfix's
 * reject_sender_login_mismatch does). An authenticated client may use only
 * the addresses its login owns; the null sender is allowed unless
 * null_sender_authenticated = "reject". With "everyone", an unauthenticated
 * client outside the trusted networks may not use an owned address.
 */
static int run_sender_ownership(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	struct facts *f = ctx->facts;
	const struct reply *r = NULL;
	const char *reason = "sender-not-owned";

	if (p->sender_ownership == SENDER_OWNERSHIP_OFF)
		return 0;
	if (authenticated(f)) {
		if (rule_sender(ctx)->kind == ADDR_NULL) {
			if (p->null_sender_reject) {
				r = &not_owned;
				reason = "null-sender";
			}
		} else if (!users_owns(p->users, users_find(p->users, f->login), rule_sender(ctx)))
			r = &not_owned;
	} else if (p->sender_ownership == SENDER_OWNERSHIP_EVERYONE && !client_trusted(p, f)) {
		const struct addr *sender = rule_sender(ctx);

		/* what we cannot parse, we cannot prove unowned (the MTA may read it) */
		if (sender->kind == ADDR_INVALID) {
			r = &unverifiable;
			reason = "sender-unverifiable";
		} else if (users_owned(p->users, sender))
			r = &not_logged_in;
	}
	trace_add(trace, "sender-ownership", r != NULL);
	if (r == NULL)
		return 0;
	set_verdict(v, ACTION_REJECT, r, f, "sender-ownership", reason);
	v->dry_run = p->dry_run;
	return 1;
}

/* A login's own reason not to relay, held until the trusted-network step. */
struct login_refusal {
	enum action action;
	struct reply reply;
	const char *reason; /* NULL: none */
};

/* refuse - remember why the login did not grant relaying */
static void refuse(struct login_refusal *r, enum action action, int code, const char *ecode,
    char *text, const char *reason)
{
	r->action = action;
	r->reply.code = code;
	snprintf(r->reply.ecode, sizeof(r->reply.ecode), "%s", ecode);
	r->reply.text = text;
	r->reason = reason;
}

/*
 * login_may_relay - the per-user limits on authenticated relaying: 1 the
 * login may relay, 0 it may not (r says why), -1 the GeoIP lookup that
 * would tell failed. A refused login still relays from a trusted network:
 * the network is trusted whoever logs in there.
 */
static int login_may_relay(struct rule_ctx *ctx, struct login_refusal *r, char *tmpl,
    size_t len)
{
	const struct user *u = users_find(ctx->policy->users, ctx->facts->login);
	const struct geo_info *g;

	if (u == NULL)
		return 1;
	if (!u->relay) {
		snprintf(tmpl, len, "<%%r>: Relay access denied: login %%l may not relay");
		refuse(r, ACTION_REJECT, 550, "5.7.1", tmpl, "login-no-relay");
		return 0;
	}
	if (u->ncountries == 0)
		return 1;
	g = policy_geo(ctx);
	if (g->country_status < 0) {
		snprintf(tmpl, len, "<%%r>: Temporary lookup failure");
		refuse(r, ACTION_TEMPFAIL, 451, "4.3.0", tmpl, "lookup-failure");
		return -1;
	}
	if (users_country_ok(u, g->country))
		return 1;
	snprintf(tmpl, len, "<%%r>: Relay access denied: login %%l may not relay from %s",
	    g->country);
	refuse(r, ACTION_REJECT, 550, "5.7.1", tmpl, "login-country");
	return 0;
}

/* run_core - the built-in policy: local, authenticated, trusted, else deny */
static void run_core(const struct policy *p, struct rule_ctx *ctx, struct verdict *v,
    struct trace *trace)
{
	struct facts *f = ctx->facts;
	const struct addr *rcpt = ctx->rcpt;
	struct login_refusal login_refused = {0};
	char tmpl[128];
	int m;

	trace_add(trace, "local-domain", ctx->rcpt_local);
	if (ctx->rcpt_local) {
		set_verdict(v, ACTION_ACCEPT, NULL, f, "local-domain", "local");
		return;
	}
	m = p->authenticated_relay && authenticated(f) ?
	    login_may_relay(ctx, &login_refused, tmpl, sizeof(tmpl)) : 0;
	trace_add(trace, "authenticated", m);
	if (m == 1) {
		set_verdict(v, ACTION_ACCEPT, NULL, f, "authenticated", "authenticated");
		return;
	}
	m = client_trusted(p, f);
	trace_add(trace, "trusted-network", m);
	if (m) {
		set_verdict(v, ACTION_ACCEPT, NULL, f, "trusted-network",
		    f->client ? "trusted" : "no-client");
		return;
	}
	trace_add(trace, "default-deny", 1);
	if (rcpt->kind == ADDR_INVALID || rcpt->kind == ADDR_NULL)
		set_verdict(v, ACTION_REJECT, &p->invalid_rcpt, f, "default-deny", "invalid-address");
	else if (login_refused.reason != NULL)
		set_verdict(v, login_refused.action, &login_refused.reply, f, "authenticated",
		    login_refused.reason);
	else if (rcpt->tricks != 0 && !p->allow_routing_tricks)
		set_verdict(v, ACTION_REJECT, &p->routing_denied, f, "default-deny", "routing-trick");
	else
		set_verdict(v, ACTION_REJECT, &p->relay_denied, f, "default-deny", "denied");
	v->dry_run = p->dry_run;
}

/* policy_decide - judge one recipient */
void policy_decide(const struct policy *p, struct facts *f, struct verdict *v,
    struct trace *trace)
{
	struct addr rcpt;
	struct rule_ctx ctx;

	memset(v, 0, sizeof(*v));
	if (trace != NULL)
		trace->n = 0;
	addr_parse(f->rcpt ? f->rcpt : "", &rcpt);
	ctx.policy = p;
	ctx.facts = f;
	ctx.rcpt = &rcpt;
	ctx.sender_parsed = false;
	ctx.rcpt_local = rcpt_is_local(p, f, &rcpt);
	v->rcpt_local = ctx.rcpt_local;
	/* With a database configured every decision logs country and asn; the
	 * caller keeps f->geo between recipients, so this is once per client. */
	if (p->geo != NULL)
		policy_geo(&ctx);
	if (run_rules(p, &ctx, v, trace))
		return;
	if (run_sender_ownership(p, &ctx, v, trace))
		return;
	run_core(p, &ctx, v, trace);
}

/* reply_set - fill r from parts (text copied) */
int reply_set(struct reply *r, int code, const char *ecode, const char *text)
{
	char *copy = strdup(text ? text : "");

	if (copy == NULL)
		return -1;
	free(r->text);
	r->code = code;
	snprintf(r->ecode, sizeof(r->ecode), "%s", ecode ? ecode : "");
	r->text = copy;
	return 0;
}

void reply_clear(struct reply *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* ecode_valid - "C.SSS.DDD" (RFC 3463) whose class agrees with the reply code */
static bool ecode_valid(const char *s, size_t len, int code)
{
	size_t i = 0, part = 0, digits = 0;

	if (len < 5 || len > 11 || s[0] - '0' != code / 100)
		return false;
	for (; i < len; i++) {
		if (s[i] == '.') {
			if (digits == 0 || ++part > 2)
				return false;
			digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 3)
				return false;
		} else
			return false;
	}
	return part == 2 && digits > 0;
}

/* reply_parse - "550 5.7.1 text" into r */
int reply_parse(const char *text, struct reply *r, const char **why)
{
	const char *p = text, *ec = NULL;
	size_t eclen = 0;
	int code;

	if (!(p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
		p[2] <= '9' && (p[3] == ' ' || p[3] == 0))) {
		*why = "reply must start with a three-digit SMTP code (2xx-5xx)";
		return -1;
	}
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	p += 3;
	while (*p == ' ')
		p++;
	if (*p >= '2' && *p <= '5' && p[1] == '.') {
		ec = p;
		while (*p && *p != ' ')
			p++;
		eclen = (size_t)(p - ec);
		if (!ecode_valid(ec, eclen, code)) {
			*why = "malformed enhanced status code, or its class differs from the reply code";
			return -1;
		}
		while (*p == ' ')
			p++;
	}
	for (const char *c = p; *c; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
			*why = "reply text must be printable ASCII";
			return -1;
		}
	}
	if (reply_set(r, code, "", p) < 0) {
		*why = "out of memory";
		return -1;
	}
	if (ec != NULL) {
		memcpy(r->ecode, ec, eclen);
		r->ecode[eclen] = 0;
	} else
		snprintf(r->ecode, sizeof(r->ecode), "%d.7.1", code / 100);
	return 0;
}
