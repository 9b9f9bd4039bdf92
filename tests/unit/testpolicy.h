/* testpolicy.h - build policies and rules for unit tests without the loader */
#ifndef RM_TESTPOLICY_H
#define RM_TESTPOLICY_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "rules.h"

/* tp_policy - local example.com (+ subdomains), trusted 192.0.2.0/24 and ::1 */
static __attribute__((unused)) struct policy *tp_policy(void)
{
	struct policy *p = policy_new();
	const char *why;

	p->local_domains = domainset_new();
	p->trusted_networks = netset_new();
	p->own_addresses = netset_new();
	ck_assert(domainset_add(p->local_domains, "example.com", &why) == 0);
	ck_assert(domainset_add(p->local_domains, ".example.com", &why) == 0);
	ck_assert(netset_add(p->trusted_networks, "192.0.2.0/24", &why) == 0);
	ck_assert(netset_add(p->trusted_networks, "::1", &why) == 0);
	domainset_finish(p->local_domains);
	netset_finish(p->trusted_networks);
	netset_finish(p->own_addresses);
	return p;
}

/* One condition: a key ("country", "not_asn", ...) and a list or a flag. */
struct tp_cond {
	const char *key;
	const char *items[4]; /* NULL-terminated; empty: a boolean condition */
	bool flag;
};

/* tp_rule - append a rule; reply may be NULL (the action's default) */
static __attribute__((unused)) void tp_rule(struct policy *p, const char *name, enum action action,
    const char *reply, const struct tp_cond *conds, size_t n)
{
	struct rule *r;
	const char *why = NULL;

	p->rules = realloc(p->rules, (p->nrules + 1) * sizeof(*p->rules));
	ck_assert_ptr_nonnull(p->rules);
	r = &p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	r->action = action;
	if (reply != NULL)
		ck_assert_msg(reply_parse(reply, &r->reply, &why) == 0, "reply %s: %s", reply, why);
	r->conds = calloc(n + 1, sizeof(*r->conds));
	for (size_t i = 0; i < n; i++) {
		struct cond_value v = {0};
		struct cond *c = &r->conds[r->nconds];
		size_t bad = 0;
		bool negate;

		c->type = cond_type_find(conds[i].key, &negate);
		ck_assert_msg(c->type != NULL, "unknown condition %s", conds[i].key);
		c->negate = negate;
		v.is_list = c->type->wants_list;
		v.flag = conds[i].flag;
		v.items = conds[i].items;
		while (v.is_list && conds[i].items[v.n] != NULL)
			v.n++;
		ck_assert_msg(c->type->compile(c, &v, &why, &bad) == 0, "compile %s: %s",
		    conds[i].key, why);
		r->nconds++;
	}
}

#endif
