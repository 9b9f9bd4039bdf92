/* limits.c - which rate limits apply to an accepted recipient, and what the store says of them */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decimal.h"
#include "limits.h"
#include "users.h"

static const char *const per_names[PER_N] = {
    [PER_LOGIN] = "login",
    [PER_CLIENT] = "client",
    [PER_SENDER] = "sender",
    [PER_SENDER_DOMAIN] = "sender_domain",
};

static const char *const count_names[COUNT_N] = {
    [COUNT_RECIPIENTS] = "recipients",
    [COUNT_MESSAGES] = "messages",
    [COUNT_COUNTRIES] = "countries",
    [COUNT_NETWORKS] = "networks",
};

const char *limit_per_name(enum limit_per per)
{
	return per < PER_N ? per_names[per] : NULL;
}

const char *limit_count_name(enum limit_count count)
{
	return count < COUNT_N ? count_names[count] : NULL;
}

/*
 * key_put - "kind:" and value into buf. A key too long for buf ends in a
 * hash of the whole, so two long keys that share a beginning stay apart.
 */
static void key_put(char *buf, size_t len, const char *kind, const char *value, size_t vlen)
{
	size_t klen = strlen(kind), room = len - 1 - klen;
	uint64_t h = 1469598103934665603ULL;

	memcpy(buf, kind, klen);
	if (vlen <= room) {
		memcpy(buf + klen, value, vlen);
		buf[klen + vlen] = 0;
		return;
	}
	for (size_t i = 0; i < vlen; i++)
		h = (h ^ (unsigned char)value[i]) * 1099511628211ULL;
	memcpy(buf + klen, value, room - 17);
	snprintf(buf + klen + room - 17, 18, "#%016llx", (unsigned long long)h);
}

/* network_of - the address with every bit past prefix cleared */
static struct ipaddr network_of(const struct ipaddr *a, unsigned prefix)
{
	struct ipaddr n = *a;
	unsigned bytes = a->family == IPADDR_V4 ? 4 : 16, i = prefix / 8;

	if (i >= bytes)
		return n;
	n.bytes[i] &= (uint8_t)(0xff00u >> (prefix % 8));
	memset(n.bytes + i + 1, 0, bytes - i - 1);
	return n;
}

/* network_text - "192.0.2.0/24" into buf (IPADDR_STRLEN + 4 bytes at least); no printf */
static void network_text(const struct ipaddr *a, unsigned prefix, char *buf)
{
	struct ipaddr n = network_of(a, prefix);
	char *p;

	ipaddr_format(&n, buf, IPADDR_STRLEN);
	p = buf + strlen(buf);
	*p++ = '/';
	*decimal_put(p, prefix) = 0;
}

/* limit_client_key - "client:" and the client's network */
void limit_client_key(const struct ipaddr *a, unsigned prefix, char *buf, size_t len)
{
	char net[IPADDR_STRLEN + 8];

	network_text(a, prefix, net);
	key_put(buf, len, "client:", net, strlen(net));
}

/* put - append s at pos, cut to the buffer; the new length */
static size_t put(char *buf, size_t pos, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n > len - 1 - pos)
		n = len - 1 - pos;
	memcpy(buf + pos, s, n);
	buf[pos + n] = 0;
	return pos + n;
}

/*
 * limit_sender_key - the MAIL FROM as one key: lower case throughout, so
 * that Alice@ and alice@ share a count (a sender cannot dodge its limit by
 * changing case); an address we cannot parse counts as written.
 */
bool limit_sender_key(const struct addr *s, const char *raw, bool domain_only, char *buf,
    size_t len)
{
	char text[ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 2];
	size_t n;

	if (domain_only) {
		if (s->kind != ADDR_MAILBOX)
			return false; /* <>, a bare user: no domain to count */
		key_put(buf, len, "sender_domain:", s->domain, strlen(s->domain));
		return true;
	}
	if (s->kind == ADDR_NULL)
		n = put(text, 0, sizeof(text), "<>");
	else if (s->kind == ADDR_MAILBOX)
		n = put(text, put(text, put(text, 0, sizeof(text), s->local), sizeof(text), "@"),
		    sizeof(text), s->domain);
	else if (s->kind == ADDR_NODOMAIN)
		n = put(text, 0, sizeof(text), s->local);
	else
		n = put(text, 0, sizeof(text), raw ? raw : "");
	for (size_t i = 0; i < n; i++)
		if (text[i] >= 'A' && text[i] <= 'Z')
			text[i] = (char)(text[i] + 'a' - 'A');
	key_put(buf, len, "sender:", text, n);
	return true;
}

/*
 * limit_login_key - "login:" and the login in ASCII lower case: many SASL
 * back ends (Cyrus sasldb, LDAP, SQL with a case-blind collation) let
 * Alice, ALICE and alice log in as one account, and each spelling must not
 * get a quota (or escape a lock) of its own. Merging two real logins that
 * differ only in case can only count more, never less.
 */
void limit_login_key(const char *login, char *buf, size_t len)
{
	size_t n = strlen(login);

	key_put(buf, len, "login:", login, n);
	for (char *p = buf + 6; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 'a' - 'A');
}

/*
 * counted_sender - the sender as the MTA will deliver it: a bare
 * MAIL FROM:<user> is user@$myorigin to Postfix, so it counts (and its
 * domain counts) under the qualified form the rules judge too (with
 * sender_origin set, or {mail_addr} qualified)
 */
static const struct addr *counted_sender(struct rule_ctx *ctx)
{
	const struct addr *s = rule_sender(ctx);
	const struct addr_view *v;

	if (s->kind != ADDR_NODOMAIN)
		return s;
	v = rule_sender_view(ctx);
	for (size_t i = 0; i < v->n; i++)
		if (v->form[i]->kind == ADDR_MAILBOX)
			return v->form[i];
	return s; /* no sender_origin: counted as sent, and no domain to count */
}

/* limit_principal - the key this decision is counted under, if it has one */
bool limit_principal(const struct limit *l, struct rule_ctx *ctx, char *buf, size_t len)
{
	const struct facts *f = ctx->facts;

	switch (l->per) {
	case PER_LOGIN:
		if (f->login == NULL || f->login[0] == 0)
			return false;
		limit_login_key(f->login, buf, len);
		return true;
	case PER_CLIENT:
		if (f->client == NULL)
			return false;
		limit_client_key(f->client,
		    f->client->family == IPADDR_V4 ? l->prefix_v4 : l->prefix_v6, buf, len);
		return true;
	case PER_SENDER:
	case PER_SENDER_DOMAIN:
		return limit_sender_key(counted_sender(ctx), f->sender, l->per == PER_SENDER_DOMAIN,
		    buf, len);
	case PER_N:
		break;
	}
	return false;
}

/*
 * memo_member - what a distinct count sees of this decision: the client's
 * country ("--" for an address no database lists) or network, once per
 * transaction. 1, 0 when there is nothing to count (no client), -1 when
 * the lookup failed.
 */
static int memo_member(const struct limit *l, struct rule_ctx *ctx, struct limit_keys *km,
    const char **member)
{
	const struct geo_info *g;

	if (ctx->facts->client == NULL)
		return 0;
	if (l->count == COUNT_NETWORKS) {
		if (!km->network_done)
			network_text(ctx->facts->client,
			    ctx->facts->client->family == IPADDR_V4 ? 24 : 48, km->network);
		km->network_done = true;
		*member = km->network;
		return 1;
	}
	g = rule_geo(ctx);
	if (g->country_status < 0)
		return -1;
	*member = g->country; /* the geo cache outlives the store call */
	return 1;
}

/* check_for - the store's view of one applicable limit */
static void check_for(const struct limit *l, const struct limit_seen *seen, const char *member,
    struct store_check *c)
{
	c->principal = seen->principal;
	c->limit = l->rule.name;
	c->kind =
	    l->count == COUNT_COUNTRIES || l->count == COUNT_NETWORKS ? STORE_DISTINCT : STORE_SUM;
	c->member = member;
	c->add = 1;
	c->max = seen->max;
	c->window = l->window;
	c->lock = l->lock;
	c->dry_run = l->rule.dry_run;
}

/*
 * memo_principal - limit_principal, once per kind of key and transaction:
 * seen points to the transaction's copy when there is one that outlives
 * the decision (keep), else gets its own. The client's key is kept for
 * the first grouping asked; another grouping is worked out each time.
 */
static bool memo_principal(const struct limit *l, struct rule_ctx *ctx, struct limit_keys *km,
    bool keep, struct limit_seen *seen)
{
	signed char *st = &km->state[l->per];

	if (*st != 0 && l->per == PER_CLIENT &&
	    (km->prefix_v4 != l->prefix_v4 || km->prefix_v6 != l->prefix_v6)) {
		seen->principal = seen->own;
		return limit_principal(l, ctx, seen->own, sizeof(seen->own));
	}
	if (*st == 0) {
		*st = limit_principal(l, ctx, km->key[l->per], LIMIT_PRINCIPAL_MAX) ? 1 : -1;
		if (l->per == PER_CLIENT) {
			km->prefix_v4 = l->prefix_v4;
			km->prefix_v6 = l->prefix_v6;
		}
	}
	if (*st < 0)
		return false;
	if (keep)
		seen->principal = km->key[l->per];
	else
		seen->principal = strcpy(seen->own, km->key[l->per]);
	return true;
}

void limit_masks_make(struct limit_masks *m, const struct limit *limits, size_t n)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n && i < LIMITS_MAX; i++) {
		m->per[limits[i].per] |= 1ULL << i;
		if (limits[i].count == COUNT_MESSAGES)
			m->messages |= 1ULL << i;
	}
}

/*
 * candidates - the limits that may count this decision: not those of a
 * kind of key it lacks (no login, no client address), nor a "messages"
 * limit that counts its transaction already
 */
static uint64_t candidates(const struct limit_set *set, const struct facts *f)
{
	struct limit_masks own;
	const struct limit_masks *m = set->masks;
	uint64_t c = set->n >= 64 ? UINT64_MAX : (1ULL << set->n) - 1;

	if (m == NULL) {
		limit_masks_make(&own, set->limits, set->n);
		m = &own;
	}
	if (f->login == NULL || f->login[0] == 0)
		c &= ~m->per[PER_LOGIN];
	if (f->client == NULL)
		c &= ~m->per[PER_CLIENT];
	return c & ~(m->messages & f->msgs_counted);
}

/*
 * limit_applies - 1 when limit i counts this recipient (seen and, for a
 * distinct count, member filled), 0 when it does not, -1 when a lookup it
 * needs failed. An exempt login is noted (for --explain) but not counted.
 * Only for the candidates: the limits whose key the decision has.
 */
static int limit_applies(const struct limit *l, size_t i, struct rule_ctx *ctx,
    const struct user *u, struct limit_seen *seen, const char **member, struct limit_keys *km)
{
	const struct limit_override *o;
	int m;

	if ((m = rule_match(&l->rule, ctx)) <= 0)
		return m;
	if (!memo_principal(l, ctx, km, ctx->facts->keys != NULL, seen))
		return 0;
	if ((l->count == COUNT_COUNTRIES || l->count == COUNT_NETWORKS) &&
	    (m = memo_member(l, ctx, km, member)) <= 0)
		return m;
	o = users_override(u, (int)i);
	seen->limit = (uint16_t)i;
	seen->max = o != NULL ? o->max : l->max;
	seen->exempt = o != NULL && o->max == 0;
	memset(&seen->result, 0, sizeof(seen->result));
	return 1;
}

/*
 * limits_collect - every limit that counts this recipient, into v->limits
 * and checks (exempt ones are in v->limits only); the number of checks,
 * or -1 with *failed the limit whose lookup failed.
 */
static int limits_collect(const struct limit_set *set, struct rule_ctx *ctx, struct verdict *v,
    struct store_check *checks, size_t *map, struct limit_keys *km, int *failed)
{
	const char *login = ctx->facts->login;
	const struct user *u = login != NULL && *login ? users_find(set->users, login) : NULL;
	size_t n = 0;

	for (uint64_t todo = candidates(set, ctx->facts); todo != 0; todo &= todo - 1) {
		size_t i = (size_t)__builtin_ctzll(todo); /* in order: the verdict lists them so */
		const struct limit *l = &set->limits[i];
		struct limit_seen *seen = &v->limits[v->nlimits];
		const char *member = NULL;
		int m = limit_applies(l, i, ctx, u, seen, &member, km);

		if (m < 0 && !l->rule.dry_run) {
			*failed = (int)i;
			return -1;
		}
		if (m <= 0)
			continue;
		v->nlimits++;
		if (seen->exempt)
			continue;
		check_for(l, seen, member, &checks[n]);
		map[n++] = v->nlimits - 1;
	}
	return (int)n;
}

/* refuses - does this answer refuse the recipient? */
static bool refuses(const struct store_result *r)
{
	return r->status != STORE_OK;
}

/*
 * limits_answer - the store's answers into the verdict, and the refusal
 * if any: the first limit in force that refused, else the first dry_run
 * one (logged as dry_run=yes, let through). An admitted recipient marks
 * the "messages" limits that now count its transaction.
 */
static int limits_answer(const struct limit_set *set, struct verdict *v,
    const struct store_check *checks, const struct store_result *res, const size_t *map, size_t n,
    struct limit_refusal *r)
{
	int enforced = -1, dry = -1;

	for (size_t k = 0; k < n; k++) {
		v->limits[map[k]].result = res[k];
		if (!refuses(&res[k]))
			continue;
		if (!checks[k].dry_run && enforced < 0)
			enforced = (int)k;
		else if (checks[k].dry_run && dry < 0)
			dry = (int)k;
	}
	if (enforced < 0)
		for (size_t k = 0; k < n; k++) {
			size_t i = v->limits[map[k]].limit;

			if (set->limits[i].count == COUNT_MESSAGES)
				v->msgs_counted |= 1ULL << i;
		}
	if (enforced < 0 && dry < 0)
		return 0;
	{
		size_t k = (size_t)(enforced >= 0 ? enforced : dry);

		r->limit = v->limits[map[k]].limit;
		r->why = res[k].status == STORE_LOCKED ? REASON_LOCKED : REASON_RATE_LIMIT;
		r->until = res[k].until;
		r->dry_run = enforced < 0;
	}
	return 1;
}

/* limits_judge - see limits.h */
int limits_judge(const struct limit_set *set, struct rule_ctx *ctx, struct verdict *v,
    struct limit_refusal *r)
{
	struct store_check checks[LIMITS_MAX];
	struct store_result res[LIMITS_MAX];
	size_t map[LIMITS_MAX];
	struct limit_keys own, *km = ctx->facts->keys;
	int n, failed = -1;

	v->msgs_counted = ctx->facts->msgs_counted;
	v->nlimits = 0;
	r->dry_run = false;
	r->until = 0;
	if (set->max_rcpts != 0 && ctx->facts->rcpts_accepted >= set->max_rcpts) {
		r->why = REASON_TOO_MANY_RECIPIENTS;
		r->limit = -1;
		return 1;
	}
	if (set->n == 0 || ctx->facts->store == NULL)
		return 0;
	if (km == NULL)
		limit_keys_reset(km = &own);
	if ((n = limits_collect(set, ctx, v, checks, map, km, &failed)) < 0) {
		r->why = REASON_LOOKUP_FAILURE;
		r->limit = failed;
		return 1;
	}
	if (n == 0)
		return 0;
	if (store_decide(ctx->facts->store, checks, (size_t)n, !ctx->facts->peek, res) < 0) {
		r->why = REASON_STORE_FAILURE;
		r->limit = -1;
		return 1;
	}
	return limits_answer(set, v, checks, res, map, (size_t)n, r);
}

/* limit_free_contents - the scope's conditions, name and reply */
void limit_free_contents(struct limit *l)
{
	rule_free_contents(&l->rule);
}
