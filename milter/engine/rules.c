/* rules.c - the condition table and the evaluation of ordered rules */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
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

/* compile_domains - a list of domains ("example.com", ".example.com") */
static int compile_domains(struct cond *c, const struct cond_value *v, const char **why,
    size_t *item)
{
	if ((c->domains = domainset_new()) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (domainset_add(c->domains, v->items[i], why) < 0) {
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

/* compile_senders - addresses, "@domain", or "<>" for the null sender */
static int compile_senders(struct cond *c, const struct cond_value *v, const char **why,
    size_t *item)
{
	for (size_t i = 0; i < v->n; i++) {
		const char *s = v->items[i], *at = strrchr(s, '@');

		if (strcmp(s, "<>") == 0)
			continue;
		if (at == NULL || !domain_valid(at + 1, strlen(at + 1))) {
			*why = "expected an address, @domain or <>";
			*item = i;
			return -1;
		}
	}
	return compile_strings(c, v, why, item);
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

/* compile_asns - AS numbers, written 64500 or "AS64500" */
static int compile_asns(struct cond *c, const struct cond_value *v, const char **why, size_t *item)
{
	if ((c->numbers = calloc(v->n ? v->n : 1, sizeof(*c->numbers))) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < v->n; i++) {
		const char *s = v->items[i];
		char *end;

		if (strncasecmp(s, "AS", 2) == 0)
			s += 2;
		if (*s < '0' || *s > '9' || strlen(s) > 10 ||
		    (c->numbers[i] = strtoul(s, &end, 10)) > 4294967295UL || *end != 0) {
			*why = "expected an AS number";
			*item = i;
			return -1;
		}
		c->nnumbers++;
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

static int match_sender(const struct cond *c, struct rule_ctx *ctx)
{
	for (size_t i = 0; i < c->nstrings; i++)
		if (sender_matches(c->strings[i], rule_sender(ctx)))
			return 1;
	return 0;
}

static int match_rcpt_domain(const struct cond *c, struct rule_ctx *ctx)
{
	const struct addr *r = ctx->rcpt;

	return r->kind == ADDR_MAILBOX && !r->literal &&
	    domainset_contains(c->domains, r->domain, strlen(r->domain));
}

static int match_rcpt_local(const struct cond *c, struct rule_ctx *ctx)
{
	return ctx->rcpt_local == c->flag;
}

/* match_helo - exact name, or ".suffix" for any name below it; no case */
static int match_helo(const struct cond *c, struct rule_ctx *ctx)
{
	const char *helo = ctx->facts->helo;
	size_t hl;

	if (helo == NULL)
		return 0;
	hl = strlen(helo);
	for (size_t i = 0; i < c->nstrings; i++) {
		const char *p = c->strings[i];
		size_t pl = strlen(p);

		if (p[0] == '.' ? hl > pl && strcasecmp(helo + hl - pl, p) == 0 :
				  strcasecmp(helo, p) == 0)
			return 1;
	}
	return 0;
}

/* rule_sender - parse MAIL FROM once per decision, and only when asked */
const struct addr *rule_sender(struct rule_ctx *ctx)
{
	if (!ctx->sender_parsed) {
		addr_parse(ctx->facts->sender ? ctx->facts->sender : "<>", &ctx->sender);
		ctx->sender_parsed = true;
	}
	return &ctx->sender;
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

static int match_asn(const struct cond *c, struct rule_ctx *ctx)
{
	const struct geo_info *g = rule_geo(ctx);

	if (g->asn_status < 0)
		return -1;
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
    {"helo", STAGE_HELO, true, false, compile_strings, match_helo, free_cond},
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

/* cond_holds - one condition, negation applied; a failure counts as holding */
static bool cond_holds(const struct cond *c, struct rule_ctx *ctx, bool *failed)
{
	int m = c->type->match(c, ctx);

	if (m < 0) {
		*failed = true;
		return true;
	}
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
	bool failed = false;

	for (size_t i = 0; i < rule->nconds; i++) {
		const struct cond *c = &rule->conds[i];

		if (!c->type->lookup && !cond_holds(c, ctx, &failed))
			return 0;
	}
	for (size_t i = 0; i < rule->nconds; i++) {
		const struct cond *c = &rule->conds[i];

		if (c->type->lookup && !cond_holds(c, ctx, &failed))
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
