/* conf_rules.c - rules = ( { name; conditions...; action; reply; dry_run; }, ... ) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_loader.h"
#include "limits.h"
#include "rules.h"
#include "steps.h"

/* parse_action - a rule's action word */
static int parse_action(const char *v, enum action *out)
{
	static const enum action all[] = {ACTION_ACCEPT, ACTION_REJECT, ACTION_TEMPFAIL,
	    ACTION_CONTINUE};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(v, action_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -1;
}

/* warn_networks - a network condition that covers a large part of the Internet */
static void warn_networks(struct loader *ld, const config_setting_t *s, const struct rule *rule,
    const char **items, size_t n, const char *what)
{
	const char *why;

	for (size_t i = 0; i < n; i++)
		if ((why = ld_network_risk(items[i])) != NULL)
			conf_warn(ld->errs, ld_file(ld, s), (int)config_setting_source_line(s),
			    "%s \"%s\": network: \"%s\": %s", what, rule->name, items[i], why);
}

/*
 * ld_load_cond - one condition of a rule or a limit (what: "rule", "limit"),
 * compiled through the rules' table row: limits are scoped by the very
 * predicates rules use
 */
void ld_load_cond(struct loader *ld, const config_setting_t *s, struct rule *rule, const char *what)
{
	const char *key = config_setting_name(s), **items = NULL;
	char(*nums)[24] = NULL;
	const struct cond_type *type;
	struct cond_value v = {0};
	struct cond *c;
	const char *why = NULL;
	size_t bad_item = 0;
	bool negate;

	if ((type = cond_type_find(key, &negate)) == NULL) {
		ld_bad(ld, s, "%s \"%s\": unknown key \"%s\"", what, rule->name, key);
		return;
	}
	if (!ld_type_ok(s, type->wants_list ? CONFIG_TYPE_LIST : CONFIG_TYPE_BOOL)) {
		ld_bad(ld, s, "%s \"%s\": %s must be %s", what, rule->name, key,
		    ld_type_name(type->wants_list ? CONFIG_TYPE_LIST : CONFIG_TYPE_BOOL));
		return;
	}
	v.is_list = type->wants_list;
	if (v.is_list) {
		v.n = (size_t)config_setting_length(s);
		if (v.n == 0) {
			ld_bad(ld, s, "%s \"%s\": %s: empty list", what, rule->name, key);
			return;
		}
		/* Integers (asn = [ 64500 ]) are handed to the row as their decimal text. */
		items = calloc(v.n, sizeof(char *));
		nums = calloc(v.n, sizeof(*nums));
		if (items == NULL || nums == NULL) {
			/* a rule must never lose a condition: that widens what it matches */
			ld_bad(ld, s, "%s \"%s\": %s: out of memory", what, rule->name, key);
			goto out;
		}
		for (size_t i = 0; i < v.n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			int t = config_setting_type(e);

			if (t == CONFIG_TYPE_STRING)
				items[i] = config_setting_get_string(e);
			else if (ld_int_wrapped(ld, e)) {
				ld_bad(ld, e,
				    "%s \"%s\": %s: an integer beyond 2147483647 is cut to 32 "
				    "bits by libconfig: write it as a string (\"AS4200000000\")",
				    what, rule->name, key);
				goto out;
			} else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
				snprintf(nums[i], sizeof(nums[i]), "%lld",
				    config_setting_get_int64(e));
				items[i] = nums[i];
			} else {
				ld_bad(ld, e, "%s \"%s\": %s: each element must be a string", what,
				    rule->name, key);
				goto out;
			}
		}
	} else
		v.flag = config_setting_get_bool(s);
	v.items = items;
	c = &rule->conds[rule->nconds];
	memset(c, 0, sizeof(*c));
	c->type = type;
	c->negate = negate;
	if (type->compile(c, &v, &why, &bad_item) < 0) {
		const config_setting_t *at =
		    v.is_list ? config_setting_get_elem(s, (unsigned)bad_item) : s;

		ld_bad(ld, at ? at : s, "%s \"%s\": %s: %s%s%s%s", what, rule->name, key,
		    v.is_list ? "\"" : "", v.is_list ? items[bad_item] : "",
		    v.is_list ? "\": " : "", why);
		type->free(c);
	} else {
		rule->nconds++;
		if (strcmp(type->name, "network") == 0 && !negate)
			warn_networks(ld, s, rule, items, v.n, what);
		if (type->lookup)
			ld_need_geo(ld, s, strcmp(type->name, "asn") != 0, "%s \"%s\": %s", what,
			    rule->name, key);
	}
out:
	free(items);
	free(nums);
}

/* The keys of a rule group that are not conditions. */
static const char *const rule_keys[] = {"name", "action", "reply", "dry_run", NULL};

/* conf_rule_keys - NULL-terminated names of a rule's own keys (for docs tests) */
const char *const *conf_rule_keys(void)
{
	return rule_keys;
}

/* rule_setting - the rule's own keys (not conditions); false if s is a condition */
static bool rule_setting(struct loader *ld, const config_setting_t *s, struct rule *rule,
    const config_setting_t **reply)
{
	const char *key = config_setting_name(s);

	if (strcmp(key, "name") == 0 || strcmp(key, "action") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			ld_bad(ld, s, "rule \"%s\": %s must be a string", rule->name, key);
		return true;
	}
	if (strcmp(key, "reply") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			ld_bad(ld, s, "rule \"%s\": reply must be a string", rule->name);
		else
			*reply = s;
		return true;
	}
	if (strcmp(key, "dry_run") == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			ld_bad(ld, s, "rule \"%s\": dry_run must be true or false", rule->name);
		else
			rule->dry_run = config_setting_get_bool(s);
		return true;
	}
	return false;
}

/* load_rule_reply - a rule's reply must fit its action */
static void load_rule_reply(struct loader *ld, const config_setting_t *s, struct rule *rule)
{
	const char *why;

	if (rule->action != ACTION_REJECT && rule->action != ACTION_TEMPFAIL) {
		ld_bad(ld, s, "rule \"%s\": a reply needs action \"reject\" or \"tempfail\"",
		    rule->name);
		return;
	}
	if (reply_parse(config_setting_get_string(s), &rule->reply, &why) < 0)
		ld_bad(ld, s, "rule \"%s\": reply: %s", rule->name, why);
	else if (rule->reply.code / 100 != (rule->action == ACTION_REJECT ? 5 : 4))
		ld_bad(ld, s, "rule \"%s\": reply code %d does not fit action \"%s\" (%s)",
		    rule->name, rule->reply.code, action_name(rule->action),
		    rule->action == ACTION_REJECT ? "5xx" : "4xx");
}

/*
 * ld_name_taken - is a name used by a rule, a limit or a built-in step?
 * They share one namespace: the decision line's rule= names any of them.
 */
bool ld_name_taken(const struct loader *ld, const char *name)
{
	const struct policy *p = ld->cfg->policy;

	if (step_find(name) != STEP_RULE)
		return true;
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].name != NULL && strcmp(p->rules[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < p->nlimits; i++)
		if (p->limits[i].rule.name != NULL && strcmp(p->limits[i].rule.name, name) == 0)
			return true;
	return false;
}

/* load_rule - one { name = ...; conditions...; action = ...; } group */
static void load_rule(struct loader *ld, const config_setting_t *g, struct rule *rule)
{
	const config_setting_t *name = config_setting_get_member(g, "name");
	const config_setting_t *action = config_setting_get_member(g, "action");
	const config_setting_t *reply = NULL;
	int n = config_setting_length(g);
	char fallback[32];

	snprintf(fallback, sizeof(fallback), "#%u", config_setting_index(g) + 1);
	if (name != NULL && config_setting_type(name) == CONFIG_TYPE_STRING &&
	    config_setting_get_string(name)[0] != 0) {
		if ((rule->name = strdup(config_setting_get_string(name))) == NULL) {
			ld_bad(ld, name, "rule \"%s\": out of memory",
			    config_setting_get_string(name));
			return;
		}
		if (ld_name_taken(ld, rule->name))
			ld_bad(ld, name, "rule \"%s\": name used twice (or by a built-in rule)",
			    rule->name);
	} else {
		ld_bad(ld, g, "rule %s: needs a name", fallback);
		if ((rule->name = strdup(fallback)) == NULL)
			return;
	}
	if (action == NULL)
		ld_bad(ld, g, "rule \"%s\": needs an action", rule->name);
	else if (config_setting_type(action) == CONFIG_TYPE_STRING &&
	    parse_action(config_setting_get_string(action), &rule->action) < 0)
		ld_bad(ld, action,
		    "rule \"%s\": action \"%s\": expected accept, reject, tempfail or continue",
		    rule->name, config_setting_get_string(action));
	if ((rule->conds = calloc((size_t)n + 1, sizeof(*rule->conds))) == NULL) {
		/* without its conditions the rule would match every message */
		ld_bad(ld, g, "rule \"%s\": out of memory", rule->name);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);

		if (!rule_setting(ld, s, rule, &reply))
			ld_load_cond(ld, s, rule, "rule");
	}
	if (reply != NULL)
		load_rule_reply(ld, reply, rule);
}

void load_rules(struct loader *ld, const config_setting_t *s)
{
	struct policy *p = ld->cfg->policy;
	int n = config_setting_length(s);

	if (n > POLICY_RULES_MAX) {
		ld_bad(ld, s,
		    "rules: %d rules, at most %d (the rules are tried in order for every "
		    "recipient: put long lists in the tables they name)",
		    n, POLICY_RULES_MAX);
		return;
	}
	if ((p->rules = calloc((size_t)n + 1, sizeof(*p->rules))) == NULL) {
		ld_bad(ld, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			ld_bad(ld, g, "rules: each rule must be a group { ... }");
			continue;
		}
		load_rule(ld, g, &p->rules[p->nrules]);
		ld_check_rule(ld, g, &p->rules[p->nrules]);
		p->nrules++;
	}
}
