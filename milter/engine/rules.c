/* rules.c - the condition table and the evaluation of ordered rules */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idn.h"
#include "geo.h"
#include "rules.h"

/* --- helpers shared by the rows --- */

static void free_cond(struct cond *c)
{
	netset_free(c->nets);
	domainset_free(c->domains);
	for (size_t i = 0; i < c->nstrings; i++)
		free(c->strings[i]);
	free(c->strings);
	free(c->numbers);
}

/* compile_flag - a boolean condition */
static int compile_flag(struct cond *c, const struct cond_value *v, const char **why, size_t *item)
{
	(void)why;
	(void)item;
	c->flag = v->flag;
	return 0;
}

/* compile_nets - a list of networks */
static int compile_nets(struct cond *c, const struct cond_value *v, const char **why, size_t *item)
{
	if ((c->nets = netset_new()) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (netset_add(c->nets, v->items[i], why) < 0) {
			*item = i;
			return -1;
		}
	}
	if (netset_finish(c->nets) < 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* compile_domains - a list of domains ("example.com", ".example.com"), UTF-8 or A-labels */
static int compile_domains(struct cond *c, const struct cond_value *v, const char **why,
    size_t *item)
{
	if ((c->domains = domainset_new()) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (domainset_add_name(c->domains, v->items[i], why) < 0) {
			*item = i;
			return -1;
		}
	}
	domainset_finish(c->domains);
	return 0;
}

/* compile_strings - a list of words, kept as written */
static int compile_strings(struct cond *c, const struct cond_value *v, const char **why,
    size_t *item)
{
	if ((c->strings = calloc(v->n ? v->n : 1, sizeof(char *))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i][0] == 0) {
			*why = "empty string";
			*item = i;
			return -1;
		}
		if ((c->strings[i] = strdup(v->items[i])) == NULL) {
			*why = "out of memory";
			return -1;
		}
		c->nstrings++;
	}
	return 0;
}

/*
 * sender_pattern - "local@domain" or "@domain" in the form a parsed
 * sender compares with (local part unquoted, domain in lower-case A-labels,
 * no trailing dot), into out; NULL, or why it could never match
 */
static const char *sender_pattern(const char *s, char *out, size_t len)
{
	char probe[ADDR_DOMAIN_MAX + 8];
	struct addr a;
	bool whole = s[0] == '@';

	if (whole) {
		if (strlen(s) > ADDR_DOMAIN_MAX + 1)
			return "domain too long";
		snprintf(probe, sizeof(probe), "x%s", s);
		s = probe;
	}
	if (addr_parse(s, &a) != ADDR_MAILBOX || a.literal)
		return "expected an address, @domain or <>";
	if (whole)
		snprintf(out, len, "@%s", a.domain);
	else
		snprintf(out, len, "%s@%s", a.local, a.domain);
	return NULL;
}

/* compile_senders - addresses, "@domain", or "<>" for the null sender, normalised */
static int compile_senders(struct cond *c, const struct cond_value *v, const char **why,
    size_t *item)
{
	char norm[ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 2];

	if ((c->strings = calloc(v->n ? v->n : 1, sizeof(char *))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		const char *s = v->items[i];

		if (strcmp(s, "<>") != 0 &&
		    (*why = sender_pattern(s, norm, sizeof(norm))) != NULL) {
			*item = i;
			return -1;
		}
		if ((c->strings[i] = strdup(strcmp(s, "<>") == 0 ? s : norm)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		c->nstrings++;
	}
	return 0;
}

/* compile_helos - HELO names, exact or ".suffix", normalised as every list of domains is */
static int compile_helos(struct cond *c, const struct cond_value *v, const char **why, size_t *item)
{
	char ace[2 + 256];

	if ((c->strings = calloc(v->n ? v->n : 1, sizeof(char *))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		const char *s = v->items[i];
		int dot = s[0] == '.';

		ace[0] = '.';
		if (idn_to_ascii(s + dot, strlen(s + dot), ace + 1, sizeof(ace) - 1, why) < 0) {
			*item = i;
			return -1;
		}
		if ((c->strings[i] = strdup(ace + !dot)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		c->nstrings++;
	}
	return 0;
}

/* compile_countries - ISO 3166 alpha-2 codes, or "--" for unknown */
static int compile_countries(struct cond *c, const struct cond_value *v, const char **why,
    size_t *item)
{
	for (size_t i = 0; i < v->n; i++) {
		const char *s = v->items[i];

		if (strcmp(s, GEO_COUNTRY_UNKNOWN) != 0 &&
		    !(strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z')) {
			*why = "expected a two-letter upper-case country code or \"--\"";
			*item = i;
			return -1;
		}
	}
	return compile_strings(c, v, why, item);
}

/*
 * compile_asns - AS numbers 1 to 4294967295, written 64500 or "AS64500",
 * and "--" for a client the database does not list: that is its own
 * token, so no number (AS 0 least of all) can name it by accident
 */
static int compile_asns(struct cond *c, const struct cond_value *v, const char **why, size_t *item)
{
	if ((c->numbers = calloc(v->n ? v->n : 1, sizeof(*c->numbers))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		const char *s = v->items[i];
		unsigned long long n;
		char *end;

		if (strcmp(s, GEO_COUNTRY_UNKNOWN) == 0) {
			c->flag = true;
			continue;
		}
		if (strncasecmp(s, "AS", 2) == 0)
			s += 2;
		*item = i;
		n = strtoull(s, &end, 10);
		if (*s < '0' || *s > '9' || *end != 0) {
			*why = "expected an AS number";
			return -1;
		}
		if (n == 0 || n > 4294967295ULL) {
			*why = n == 0 ? "AS 0 is reserved (\"--\" names a client the database "
					"does not list)" :
					"out of range: AS numbers are 1 to 4294967295";
			return -1;
		}
		c->numbers[c->nnumbers++] = (unsigned long)n;
	}
	return 0;
}

/* --- match functions: 1 holds, 0 does not, -1 cannot tell --- */

static int match_network(const struct cond *c, struct rule_ctx *ctx)
{
	return ctx->facts->client != NULL && netset_contains(c->nets, ctx->facts->client);
}

static int match_authenticated(const struct cond *c, struct rule_ctx *ctx)
{
	const char *login = ctx->facts->login;

	return (login != NULL && login[0] != 0) == c->flag;
}

/* match_login - logins compare exactly as the MTA passes them */
static int match_login(const struct cond *c, struct rule_ctx *ctx)
{
	const char *login = ctx->facts->login;

	if (login == NULL || login[0] == 0)
		return 0;
	for (size_t i = 0; i < c->nstrings; i++)
		if (strcmp(c->strings[i], login) == 0)
			return 1;
	return 0;
}

/* sender_matches - one sender pattern against the parsed MAIL FROM */
static bool sender_matches(const char *pat, const struct addr *s)
{
	size_t llen;

	if (strcmp(pat, "<>") == 0)
		return s->kind == ADDR_NULL;
	if (s->kind != ADDR_MAILBOX)
		return false;
	if (pat[0] == '@')
		return strcasecmp(pat + 1, s->domain) == 0;
	llen = strlen(s->local);
	return strncasecmp(pat, s->local, llen) == 0 && pat[llen] == '@' &&
	    strcasecmp(pat + llen + 1, s->domain) == 0;
}

/* view_result - 1 every form holds, 0 none does and none is unknown, else unsure */
static int view_result(const struct addr_view *v, size_t held)
{
	if (!v->unknown && held == v->n)
		return v->n > 0 ? 1 : 0;
	if (!v->unknown && held == 0)
		return 0;
	return COND_UNSURE;
}

/* match_sender - the sender as the MTA will deliver it, every form of it */
static int match_sender(const struct cond *c, struct rule_ctx *ctx)
{
	const struct addr_view *v = rule_sender_view(ctx);
	size_t held = 0;

	for (size_t f = 0; f < v->n; f++) {
		for (size_t i = 0; i < c->nstrings; i++) {
			if (sender_matches(c->strings[i], v->form[f])) {
				held++;
				break;
			}
		}
	}
	return view_result(v, held);
}

/* match_rcpt_domain - the recipient's domain in every form the core judges */
static int match_rcpt_domain(const struct cond *c, struct rule_ctx *ctx)
{
	const struct addr_view *v = rule_rcpt_view(ctx);
	size_t held = 0;

	for (size_t f = 0; f < v->n; f++) {
		const struct addr *r = v->form[f];

		held += !r->literal && domainset_contains(c->domains, r->domain, strlen(r->domain));
	}
	return view_result(v, held);
}

static int match_rcpt_local(const struct cond *c, struct rule_ctx *ctx)
{
	return ctx->rcpt_local == c->flag;
}

/* match_helo - exact name, or ".suffix" for any name below it; no case; U-labels as A-labels */
static int match_helo(const struct cond *c, struct rule_ctx *ctx)
{
	const char *helo = ctx->facts->helo, *why;
	char ace[256];
	size_t hl;

	if (helo == NULL)
		return 0;
	hl = strlen(helo);
	for (size_t i = 0; i < hl; i++) {
		if ((unsigned char)helo[i] >= 0x80) {
			if (idn_to_ascii(helo, hl, ace, sizeof(ace), &why) < 0)
				return 0; /* not a name: matches no name */
			helo = ace;
			hl = strlen(ace);
			break;
		}
	}
	if (hl > 1 && helo[hl - 1] == '.')
		hl--; /* one trailing dot, as the patterns */
	for (size_t i = 0; i < c->nstrings; i++) {
		const char *p = c->strings[i];
		size_t pl = strlen(p);

		if (p[0] == '.' ? hl > pl && strncasecmp(helo + hl - pl, p, pl) == 0 :
				  hl == pl && strncasecmp(helo, p, pl) == 0)
			return 1;
	}
	return 0;
}

/* rule_sender - parse MAIL FROM once per decision, and only when asked */
const struct addr *rule_sender(struct rule_ctx *ctx)
{
	rule_sender_view(ctx);
	return &ctx->sender;
}

/* sender_form - one form of the sender, qualified as the MTA qualifies a bare one */
static void sender_form(struct rule_ctx *ctx, struct addr_view *v, const struct addr *a)
{
	struct addr *q = &ctx->sender_qualified[v->n];

	if (v->n >= VIEW_MAX)
		return;
	if (a->kind == ADDR_INVALID)
		v->unknown = true; /* what we cannot parse the MTA may still read */
	if (a->kind != ADDR_NODOMAIN) {
		v->form[v->n++] = a;
		return;
	}
	/* MAIL FROM:<alice>: Postfix delivers alice@$myorigin */
	if (ctx->sender_origin == NULL) {
		v->unknown = true;
		return;
	}
	*q = *a;
	q->kind = ADDR_MAILBOX;
	snprintf(q->domain, sizeof(q->domain), "%s", ctx->sender_origin);
	v->form[v->n++] = q;
}

/*
 * rule_sender_view - the MAIL FROM as sent and as the MTA passed it
 * ({mail_addr}), a bare name qualified with sender_origin; parsed once
 * per decision, and only when asked
 */
const struct addr_view *rule_sender_view(struct rule_ctx *ctx)
{
	const struct facts *f = ctx->facts;
	struct addr_view *v = &ctx->sender_view;
	const char *mta;

	if (ctx->sender_parsed)
		return v;
	mta = f->sender_mta_get != NULL ? f->sender_mta_get(f->get_arg) : f->sender_mta;
	ctx->sender_parsed = true;
	v->n = 0;
	v->unknown = false;
	addr_parse(ctx->facts->sender ? ctx->facts->sender : "<>", &ctx->sender);
	sender_form(ctx, v, &ctx->sender);
	/* Postfix passes "" for the null sender */
	if (mta != NULL && !(*mta == 0 && ctx->sender.kind == ADDR_NULL)) {
		if ((ctx->sender.kind == ADDR_MAILBOX || ctx->sender.kind == ADDR_NODOMAIN) &&
		    addr_same_path(ctx->facts->sender, mta))
			ctx->sender_mta = ctx->sender; /* one parse serves both forms */
		else
			addr_parse(mta, &ctx->sender_mta);
		sender_form(ctx, v, &ctx->sender_mta);
	}
	return v;
}

/* rule_geo - look the client up once; the cache's owner keeps the answer */
const struct geo_info *rule_geo(struct rule_ctx *ctx)
{
	if (geo_fill(ctx->geo_cache, ctx->geo, ctx->facts->client))
		ctx->geo_lookup = true;
	return &ctx->geo_cache->info;
}

static int match_country(const struct cond *c, struct rule_ctx *ctx)
{
	const struct geo_info *g = rule_geo(ctx);

	if (g->country_status < 0)
		return -1;
	for (size_t i = 0; i < c->nstrings; i++)
		if (strcmp(c->strings[i], g->country) == 0)
			return 1;
	return 0;
}

/* match_asn - a listed number, or "--" for a client not in the database */
static int match_asn(const struct cond *c, struct rule_ctx *ctx)
{
	const struct geo_info *g = rule_geo(ctx);

	if (g->asn_status < 0)
		return -1;
	if (g->asn_status > 0)
		return c->flag;
	for (size_t i = 0; i < c->nnumbers; i++)
		if (c->numbers[i] == g->asn)
			return 1;
	return 0;
}

/* The condition table: one row per condition a rule may name. */
static const struct cond_type cond_types[] = {
    {"network", STAGE_CONNECT, true, false, compile_nets, match_network, free_cond},
    {"country", STAGE_CONNECT, true, true, compile_countries, match_country, free_cond},
    {"asn", STAGE_CONNECT, true, true, compile_asns, match_asn, free_cond},
    {"helo", STAGE_HELO, true, false, compile_helos, match_helo, free_cond},
    {"authenticated", STAGE_MAIL, false, false, compile_flag, match_authenticated, free_cond},
    {"login", STAGE_MAIL, true, false, compile_strings, match_login, free_cond},
    {"sender", STAGE_MAIL, true, false, compile_senders, match_sender, free_cond},
    {"recipient_domain", STAGE_RCPT, true, false, compile_domains, match_rcpt_domain, free_cond},
    {"recipient_local", STAGE_RCPT, false, false, compile_flag, match_rcpt_local, free_cond},
};

#define NCOND_TYPES (sizeof(cond_types) / sizeof(cond_types[0]))

/* cond_type_find - the row for "name" or "not_name" */
const struct cond_type *cond_type_find(const char *key, bool *negate)
{
	*negate = strncmp(key, "not_", 4) == 0;
	if (*negate)
		key += 4;
	for (size_t i = 0; i < NCOND_TYPES; i++)
		if (strcmp(cond_types[i].name, key) == 0)
			return &cond_types[i];
	return NULL;
}

/* cond_type_names - every condition key, for documentation checks */
const char *const *cond_type_names(void)
{
	static const char *names[NCOND_TYPES + 1];

	for (size_t i = 0; i < NCOND_TYPES; i++)
		names[i] = cond_types[i].name;
	return names;
}

/*
 * cond_holds - one condition, negation applied; a failure counts as
 * holding, and so does an unsure answer when the rule refuses (never
 * when it accepts: doubt does not relay)
 */
static bool cond_holds(const struct cond *c, struct rule_ctx *ctx, bool refusing, bool *failed)
{
	int m = c->type->match(c, ctx);

	if (m < 0) {
		*failed = true;
		return true;
	}
	if (m == COND_UNSURE)
		return refusing;
	return (m == 1) != c->negate;
}

/*
 * rule_match - all conditions must hold. A condition that cannot be judged
 * makes the rule a temporary failure, unless another condition already
 * rules it out: "authenticated = true; country = [...]" never needs the
 * GeoIP database for an unauthenticated client.
 */
int rule_match(const struct rule *rule, struct rule_ctx *ctx)
{
	bool failed = false, refusing = rule->action != ACTION_ACCEPT;

	for (size_t i = 0; i < rule->nconds; i++) {
		const struct cond *c = &rule->conds[i];

		if (!c->type->lookup && !cond_holds(c, ctx, refusing, &failed))
			return 0;
	}
	for (size_t i = 0; i < rule->nconds; i++) {
		const struct cond *c = &rule->conds[i];

		if (c->type->lookup && !cond_holds(c, ctx, refusing, &failed))
			return 0;
	}
	return failed ? -1 : 1;
}

/* rule_free_contents - free what a rule owns */
void rule_free_contents(struct rule *rule)
{
	for (size_t i = 0; i < rule->nconds; i++)
		rule->conds[i].type->free(&rule->conds[i]);
	free(rule->conds);
	free(rule->name);
	reply_clear(&rule->reply);
}
